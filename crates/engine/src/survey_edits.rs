//! The survey builder's changes (`survey::edit`), applied to a survey's newest definition (its
//! draft, see `survey_lifecycle`) and stored as its next version, checked like any definition;
//! respondents see them once the survey is published. A change made from an older
//! version than the current one (`expected_version`) is refused, so two people building one
//! survey do not silently undo each other.

use crate::surveys::{moved_on, Created};
use crate::{Actor, Error, FieldProblem, Result, Role, Sonde};
use store::surveys::Publishing;
use survey::edit::{apply, Edit};

/// What a change did: the survey as it now is, and the id of what it added.
pub struct Edited {
    pub created: Option<String>,
    pub survey: Created,
}

/// How often a change without `expected_version` is applied again after another change got
/// in first (each round one of them is stored, so this covers far more people at once than
/// build one survey).
const ATTEMPTS: usize = 20;

impl Sonde {
    pub async fn edit_survey(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: Option<i64>,
        edit: Edit,
    ) -> Result<Edited> {
        actor.require(Role::Editor)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let current = self.survey_head(actor, id).await?;
            if let Some(v) = expected_version {
                if v != current.version {
                    return Err(moved_on(current.version, Some(v)));
                }
            }
            let mut definition = (*current.definition).clone();
            let applied = apply(&mut definition, edit.clone()).map_err(|errors| {
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
            // Stored only if nobody stored another version since it was read: the change is
            // never applied over a definition it was not made on.
            match self
                .save_version(actor, id, json, Publishing::Draft, Some(current.version))
                .await
            {
                Ok(survey) => {
                    return Ok(Edited {
                        created: applied.created,
                        survey,
                    })
                }
                Err(Error::Conflict(_)) if expected_version.is_none() && attempt < ATTEMPTS => {}
                Err(e) => return Err(e),
            }
        }
    }
}
