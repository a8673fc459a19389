//! The survey builder's changes (`survey::edit`), applied to a survey's newest definition (its
//! draft, see `survey_lifecycle`) and stored as its next version, checked like any definition;
//! respondents see them once the survey is published. A change made from an older
//! version than the current one (`expected_version`) is refused, so two people building one
//! survey do not silently undo each other.

use crate::surveys::Created;
use crate::{Actor, Error, FieldProblem, Result, Role, Sonde};
use store::surveys::Publishing;
use survey::edit::{apply, Edit};

/// What a change did: the survey as it now is, and the id of what it added.
pub struct Edited {
    pub created: Option<String>,
    pub survey: Created,
}

impl Sonde {
    pub async fn edit_survey(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: Option<i64>,
        edit: Edit,
    ) -> Result<Edited> {
        actor.require(Role::Editor)?;
        let current = self.survey_head(actor, id).await?;
        if let Some(v) = expected_version {
            if v != current.version {
                return Err(Error::Conflict(format!(
                    "the survey is at version {} now, not {v}: reload it and make the change again",
                    current.version
                )));
            }
        }
        let mut definition = (*current.definition).clone();
        let applied = apply(&mut definition, edit).map_err(|errors| {
            Error::invalid_fields(
                "the change was refused",
                errors
                    .into_iter()
                    .map(|e| FieldProblem {
                        field: e.field,
                        message: e.message,
                    })
                    .collect(),
            )
        })?;
        let json = serde_json::to_string(&definition)?;
        let survey = self
            .update_survey_as(actor, id, json, Publishing::Draft)
            .await?;
        Ok(Edited {
            created: applied.created,
            survey,
        })
    }
}
