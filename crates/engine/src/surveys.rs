//! Surveys: create from the native JSON, import from Qualtrics `.qsf`, share, and who may see
//! or change what. Admins see all of their organization's surveys; others see the surveys they
//! own or collaborate on.

use crate::{Actor, Error, FieldProblem, Result, Role, Sonde};
use store::surveys::SurveyRow;
use survey::SurveyDefinition;

#[derive(Debug, Clone)]
pub struct Survey {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub definition: SurveyDefinition,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Survey {
    pub(crate) fn from_row(row: SurveyRow) -> Result<Self> {
        let definition: SurveyDefinition = serde_json::from_str(&row.definition)?;
        Ok(Self {
            id: row.id,
            owner_id: row.owner_id,
            name: row.name,
            definition,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A created survey and what the import or validation had to say about it.
#[derive(Debug)]
pub struct Created {
    pub survey: Survey,
    pub warnings: Vec<String>,
}

impl Sonde {
    pub async fn import_qsf(&self, actor: &Actor, text: &str) -> Result<Created> {
        actor.require(Role::Editor)?;
        let imported = survey::qsf::import(text).map_err(|e| {
            Error::invalid_fields(
                format!("not a valid .qsf file: {e}"),
                vec![FieldProblem {
                    field: format!("line {}, column {}", e.line, e.column),
                    message: e.message.clone(),
                }],
            )
        })?;
        let mut warnings = imported.warnings;
        warnings.extend(check(&imported.definition)?);
        self.insert_survey(actor, imported.definition, warnings)
            .await
    }

    pub async fn create_survey(&self, actor: &Actor, json: &str) -> Result<Created> {
        actor.require(Role::Editor)?;
        let definition = parse_native(json)?;
        let warnings = check(&definition)?;
        self.insert_survey(actor, definition, warnings).await
    }

    async fn insert_survey(
        &self,
        actor: &Actor,
        definition: SurveyDefinition,
        warnings: Vec<String>,
    ) -> Result<Created> {
        let json = serde_json::to_string(&definition)?;
        let row = self
            .store
            .create_survey(&actor.org_id, &actor.user_id, &definition.name, &json)
            .await?;
        Ok(Created {
            survey: Survey::from_row(row)?,
            warnings,
        })
    }

    /// Replaces the definition. Owners, collaborators (editor role and up) and admins may.
    pub async fn update_survey(&self, actor: &Actor, id: &str, json: &str) -> Result<Created> {
        let current = self.survey(actor, id).await?;
        actor.require(Role::Editor)?;
        let definition = parse_native(json)?;
        let warnings = check(&definition)?;
        let stored = serde_json::to_string(&definition)?;
        self.store
            .update_survey_definition(&actor.org_id, &current.id, &definition.name, &stored)
            .await?;
        Ok(Created {
            survey: self.survey(actor, id).await?,
            warnings,
        })
    }

    /// A survey the actor may see; anything else (another organization's, not shared) is
    /// "not found", so ids reveal nothing.
    pub async fn survey(&self, actor: &Actor, id: &str) -> Result<Survey> {
        let row = self
            .store
            .survey(&actor.org_id, id)
            .await?
            .ok_or(Error::NotFound("survey"))?;
        if actor.role != Role::Admin
            && row.owner_id != actor.user_id
            && !self.store.is_collaborator(&row.id, &actor.user_id).await?
        {
            return Err(Error::NotFound("survey"));
        }
        Survey::from_row(row)
    }

    pub async fn surveys(&self, actor: &Actor) -> Result<Vec<Survey>> {
        self.store
            .surveys_visible_to(&actor.org_id, &actor.user_id, actor.role == Role::Admin)
            .await?
            .into_iter()
            .map(Survey::from_row)
            .collect()
    }

    /// Shares a survey with a colleague in the same organization. Only its owner or an admin,
    /// and not an owner since made a viewer. Sharing lets the colleague see the survey; what
    /// they may do with it is their own role's (a viewer reads, an editor changes).
    pub async fn share_survey(&self, actor: &Actor, id: &str, email: &str) -> Result<()> {
        actor.require(Role::Editor)?;
        let survey = self.survey(actor, id).await?;
        if survey.owner_id != actor.user_id && actor.role != Role::Admin {
            return Err(Error::Forbidden(
                "only the survey's owner or an admin can share it".into(),
            ));
        }
        let colleague = self
            .store
            .user_by_email(email)
            .await?
            .filter(|u| u.org_id == actor.org_id)
            .ok_or(Error::NotFound("user"))?;
        self.store
            .add_collaborator(&survey.id, &colleague.id)
            .await?;
        Ok(())
    }

    /// The public anonymous link of a survey.
    pub fn anonymous_link(&self, survey_id: &str) -> String {
        format!("{}/s/{survey_id}", self.public_url())
    }
}

fn parse_native(json: &str) -> Result<SurveyDefinition> {
    survey::native::parse(json).map_err(|e| {
        Error::invalid_fields(
            format!("invalid survey definition: {e}"),
            vec![FieldProblem {
                field: if e.path.is_empty() {
                    format!("line {}, column {}", e.line, e.column)
                } else {
                    e.path.clone()
                },
                message: e.message.clone(),
            }],
        )
    })
}

/// Structural errors refuse the survey; lint findings come back as warnings.
fn check(definition: &SurveyDefinition) -> Result<Vec<String>> {
    match survey::validate::check_definition(definition) {
        Ok(warnings) => Ok(warnings.iter().map(|w| w.to_string()).collect()),
        Err(errors) => Err(Error::invalid_fields(
            "the survey definition has errors",
            errors
                .iter()
                .map(|e| FieldProblem {
                    field: if e.path.is_empty() {
                        format!("line {}, column {}", e.line, e.column)
                    } else {
                        e.path.clone()
                    },
                    message: e.message.clone(),
                })
                .collect(),
        )),
    }
}
