//! Surveys: create from the native JSON, import from Qualtrics `.qsf`, share, and who may see
//! or change what. Admins see all of their organization's surveys; others see the surveys they
//! own or collaborate on. An edit stores a new version (see `survey_versions`).

use crate::{Actor, Error, FieldProblem, Result, Role, Sonde};
use std::sync::Arc;
use store::surveys::{Publishing, SurveyRow, VersionSaved};
use survey::SurveyDefinition;

/// A survey with one version of its definition: the current one, or for a response in
/// progress the one it started on. Cheap to clone: the definition is shared.
#[derive(Debug, Clone)]
pub struct Survey {
    pub id: String,
    pub org_id: String,
    pub owner_id: String,
    pub name: String,
    pub version: i64,
    pub definition: Arc<SurveyDefinition>,
    pub created_at: i64,
    pub updated_at: i64,
    /// When it was archived (see `deletions`): closed to respondents, firing no workflow.
    pub archived_at: Option<i64>,
    /// A newer version not published yet (see `survey_lifecycle`).
    pub draft_version: Option<i64>,
    /// When it was first published; None while a draft.
    pub published_at: Option<i64>,
    /// When it was closed to respondents.
    pub closed_at: Option<i64>,
}

impl Survey {
    pub(crate) fn new(row: SurveyRow, definition: Arc<SurveyDefinition>) -> Self {
        Self {
            id: row.id,
            org_id: row.org_id,
            owner_id: row.owner_id,
            name: row.name,
            version: row.version,
            definition,
            created_at: row.created_at,
            updated_at: row.updated_at,
            archived_at: row.archived_at,
            draft_version: row.draft_version,
            published_at: row.published_at,
            closed_at: row.closed_at,
        }
    }

    /// Refuses what would record or send something for an archived survey.
    pub(crate) fn refuse_if_archived(&self, what: &str) -> Result<()> {
        match self.archived_at {
            Some(_) => Err(Error::Conflict(format!(
                "the survey \u{201c}{}\u{201d} is archived: restore it to {what}",
                self.name
            ))),
            None => Ok(()),
        }
    }
}

/// A created survey and what the import or validation had to say about it.
#[derive(Debug)]
pub struct Created {
    pub survey: Survey,
    pub warnings: Vec<String>,
}

/// A definition ready to store: checked, with its JSON and what the checks warned about.
pub(crate) struct Checked {
    definition: SurveyDefinition,
    json: String,
    warnings: Vec<String>,
}

impl Checked {
    /// The survey as stored from it: its newest version is this definition.
    pub(crate) fn into_created(self, row: SurveyRow) -> Created {
        let version = row.head_version();
        Created {
            survey: Survey {
                version,
                ..Survey::new(row, Arc::new(self.definition))
            },
            warnings: self.warnings,
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.definition.name
    }

    /// The JSON to store, taken out (it may be megabytes; the definition stays).
    pub(crate) fn take_json(&mut self) -> String {
        std::mem::take(&mut self.json)
    }
}

impl Sonde {
    /// Imports a Qualtrics export. The file is parsed and checked on a blocking thread (big
    /// ones two at a time) and dropped before the survey is stored.
    pub async fn import_qsf(&self, actor: &Actor, text: impl Into<String>) -> Result<Created> {
        actor.require(Role::Editor)?;
        let text = text.into();
        size_limit(".qsf file", text.len())?;
        let checked = self
            .definitions
            .heavy(text.len(), move || {
                let imported = survey::qsf::import(&text).map_err(|e| {
                    Error::invalid_fields(
                        format!("not a valid .qsf file: {e}"),
                        vec![FieldProblem {
                            field: format!("line {}, column {}", e.line, e.column),
                            message: e.message.clone(),
                        }],
                    )
                })?;
                drop(text);
                let mut warnings = imported.warnings;
                warnings.extend(check(&imported.definition)?);
                to_store(imported.definition, warnings)
            })
            .await??;
        self.insert_survey_as(actor, checked, Publishing::Now).await
    }

    /// A survey from its native JSON, published at once (what a script expects of the API).
    pub async fn create_survey(&self, actor: &Actor, json: impl Into<String>) -> Result<Created> {
        self.create_survey_as(actor, json, Publishing::Now).await
    }

    /// A survey published at once or kept as a draft until someone publishes it.
    pub async fn create_survey_as(
        &self,
        actor: &Actor,
        json: impl Into<String>,
        publishing: Publishing,
    ) -> Result<Created> {
        actor.require(Role::Editor)?;
        let checked = self.parse_and_check(json.into()).await?;
        self.insert_survey_as(actor, checked, publishing).await
    }

    pub(crate) async fn parse_and_check(&self, json: String) -> Result<Checked> {
        size_limit("the survey definition", json.len())?;
        self.definitions
            .heavy(json.len(), move || {
                let definition = parse_native(&json)?;
                drop(json);
                let warnings = check(&definition)?;
                to_store(definition, warnings)
            })
            .await?
    }

    async fn insert_survey_as(
        &self,
        actor: &Actor,
        checked: Checked,
        publishing: Publishing,
    ) -> Result<Created> {
        let row = self
            .store
            .create_survey(
                &actor.org_id,
                &actor.user_id,
                &checked.definition.name,
                checked.json,
                publishing,
            )
            .await?;
        // Not put in the cache: the first page view parses it (once), so surveys created but
        // never answered on this node hold no memory here.
        Ok(Created {
            survey: Survey::new(row, Arc::new(checked.definition)),
            warnings: checked.warnings,
        })
    }

    /// Replaces the definition with a new version, published at once (a script's `PUT`);
    /// responses in progress keep the version they started on. Owners, collaborators (editor
    /// role and up) and admins may.
    pub async fn update_survey(
        &self,
        actor: &Actor,
        id: &str,
        json: impl Into<String>,
    ) -> Result<Created> {
        self.update_survey_as(actor, id, json, Publishing::Now)
            .await
    }

    /// A new version published at once, or kept as the survey's draft (see
    /// `survey_lifecycle`).
    pub async fn update_survey_as(
        &self,
        actor: &Actor,
        id: &str,
        json: impl Into<String>,
        publishing: Publishing,
    ) -> Result<Created> {
        self.save_version(actor, id, json.into(), publishing, None)
            .await
    }

    /// Stores a new version, refused (409) when made from another head than the survey's.
    pub(crate) async fn save_version(
        &self,
        actor: &Actor,
        id: &str,
        json: String,
        publishing: Publishing,
        expected_head: Option<i64>,
    ) -> Result<Created> {
        let current = self.survey_row(actor, id).await?;
        actor.require(Role::Editor)?;
        let mut checked = self.parse_and_check(json).await?;
        let name = checked.name().to_string();
        let row = match self
            .store
            .save_survey_version(
                &actor.org_id,
                &current.id,
                &name,
                checked.take_json(),
                publishing,
                expected_head,
            )
            .await?
        {
            VersionSaved::Saved(row) => row,
            VersionSaved::NotFound => return Err(Error::NotFound("survey")),
            VersionSaved::Moved { head } => return Err(moved_on(head, expected_head)),
        };
        Ok(checked.into_created(row))
    }

    /// A survey the actor may see; anything else (another organization's, not shared) is
    /// "not found", so ids reveal nothing.
    pub async fn survey(&self, actor: &Actor, id: &str) -> Result<Survey> {
        let row = self.survey_row(actor, id).await?;
        self.survey_from_row(row).await
    }

    /// A survey at its newest version, its draft when it has one: what the builder shows.
    pub async fn survey_head(&self, actor: &Actor, id: &str) -> Result<Survey> {
        let row = self.survey_row(actor, id).await?;
        let version = row.head_version();
        let definition = self.definition(&row.id, version).await?;
        Ok(Survey {
            version,
            ..Survey::new(row, definition)
        })
    }

    pub(crate) async fn survey_row(&self, actor: &Actor, id: &str) -> Result<SurveyRow> {
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
        Ok(row)
    }

    /// The surveys the actor may see, archived ones aside.
    pub async fn surveys(&self, actor: &Actor) -> Result<Vec<Survey>> {
        self.surveys_listed(actor, false).await
    }

    /// The archived surveys the actor may see.
    pub async fn archived_surveys(&self, actor: &Actor) -> Result<Vec<Survey>> {
        self.surveys_listed(actor, true).await
    }

    async fn surveys_listed(&self, actor: &Actor, archived: bool) -> Result<Vec<Survey>> {
        let rows = self
            .store
            .surveys_visible_to(
                &actor.org_id,
                &actor.user_id,
                actor.role == Role::Admin,
                archived,
            )
            .await?;
        let mut surveys = Vec::with_capacity(rows.len());
        for row in rows {
            surveys.push(self.survey_from_row(row).await?);
        }
        Ok(surveys)
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

/// The refusal of a change made from `expected` once the survey is at `head`.
pub(crate) fn moved_on(head: i64, expected: Option<i64>) -> Error {
    Error::Conflict(format!(
        "the survey is at version {head} now, not {}: reload it and make the change again",
        expected.map_or_else(
            || "the one this change was made from".to_string(),
            |v| v.to_string()
        )
    ))
}

/// A whole definition or file over [`survey::limits::MAX_DEFINITION_BYTES`] is refused before
/// it is read.
fn size_limit(what: &str, bytes: usize) -> Result<()> {
    survey::limits::check_bytes(what, bytes).map_err(|e| {
        Error::invalid_fields(
            format!("{what} is too big"),
            vec![FieldProblem {
                field: what.to_string(),
                message: e.message,
            }],
        )
    })
}

fn to_store(definition: SurveyDefinition, warnings: Vec<String>) -> Result<Checked> {
    Ok(Checked {
        json: serde_json::to_string(&definition)?,
        definition,
        warnings,
    })
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
