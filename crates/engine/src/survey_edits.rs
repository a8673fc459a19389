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

impl Sonde {
    pub async fn edit_survey(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: Option<i64>,
        edit: Edit,
    ) -> Result<Edited> {
        actor.require(Role::Editor)?;
        let read = self.survey_head(actor, id).await?;
        let stale = |head: i64| match expected_version {
            Some(v) if v != head => Err(moved_on(head, Some(v))),
            _ => Ok(()),
        };
        stale(read.version)?;
        // The survey is taken until the change is stored, so a change is always made on the
        // version it is stored after, and two at once are made one after the other rather
        // than one refused (a human's change is computed in milliseconds).
        let change = self
            .store
            .begin_survey_change(&actor.org_id, &read.id)
            .await?
            .ok_or(Error::NotFound("survey"))?;
        let head = change.survey.head_version();
        stale(head)?;
        let on = if head == read.version {
            read.definition.clone()
        } else {
            self.definition(&read.id, head).await?
        };
        let mut definition = (*on).clone();
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
        let mut checked = self
            .parse_and_check(serde_json::to_string(&definition)?)
            .await?;
        let name = checked.name().to_string();
        let row = change
            .finish(&name, checked.take_json(), Publishing::Draft)
            .await?;
        Ok(Edited {
            created: applied.created,
            survey: checked.into_created(row),
        })
    }
}
