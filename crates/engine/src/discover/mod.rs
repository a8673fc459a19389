//! The inbound connector ("Discover"): jobs pull feedback and conversations from a linked
//! Salesforce org (or a job's own Salesforce account) with SOQL into projects of documents,
//! redacted before anything is stored. `query` validates a job's query against the org, this
//! module keeps projects and jobs, `source` says what a job reads through, `runs` pulls
//! (through the durable queue, resumable), `schedules` queues runs of scheduled jobs when they
//! come due, `documents` turns rows into documents with `mapping`'s transforms and filter, and
//! `notices` mails run ends and credential reminders.

pub mod documents;
pub mod mapping;
pub mod notices;
pub mod pipeline;
pub mod query;
pub mod runs;
pub mod sample;
pub mod schedules;
pub mod source;
pub mod transport;

use crate::{Actor, Error, FieldProblem, Result, Role, Sonde};
use serde::{Deserialize, Serialize};
use store::discover::{JobRow, ProjectRow};

/// Attributes every document gets (the seed's defaults).
pub const FEEDBACK_PROVIDER: &str = "Salesforce";
pub const DEFAULT_SOURCE_VALUE: &str = "Salesforce";
pub const DEFAULT_FEEDBACK_TYPE: &str = "Operational Reporting";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub documents: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewProject {
    pub name: String,
}

/// What a job pulls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    /// One verbatim per record (a case's description, a survey comment).
    Feedback,
    /// LiveChatTranscript bodies, as turns.
    Chat,
    /// MessagingSession conversations (ConversationEntry rows), as turns.
    Messaging,
}

/// What happens to a document whose natural id is already in the project.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Duplicates {
    #[default]
    Skip,
    Replace,
    Update,
}

/// A job's settings, as the API takes and answers them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobSettings {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub project_id: String,
    /// A linked org of yours to read from; or `account`, one of the two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// The job's own Salesforce account (the OAuth password grant) instead of a linked org.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<source::JobAccount>,
    /// The REST API version the job reads at (`62.0`), one the org lists; default Sonde's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// The day the job's Salesforce credential stops working (`2026-12-31`): runs after it
    /// fail without calling Salesforce, and the owner is reminded before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub credential_expires_on: Option<chrono::NaiveDate>,
    /// How many days before the expiry the owner is reminded (1–100, default 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_days_before: Option<u32>,
    /// Emails when runs end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<notices::RunNotices>,
    /// Deleted records too (`queryAll`): their documents carry `deleted: true` (the others
    /// `deleted: false`), kept rather than removed so what was said stays searchable. A
    /// document already stored is marked only when the job replaces or updates duplicates,
    /// and an incremental run reads a deletion again only when it follows SystemModstamp.
    #[serde(default)]
    pub include_deleted: bool,
    /// Conditions on mapped attributes (after transforms, before redaction), all of which a
    /// row must pass to be stored; rows that do not are counted as `filtered`.
    #[serde(default)]
    pub filter: Vec<mapping::Filter>,
    pub data_type: DataType,
    pub soql: String,
    /// The date field that dates documents and drives incremental runs (default CreatedDate).
    #[serde(default)]
    pub date_field: Option<String>,
    /// The text of a feedback document (default: `Description`; chats read `Body`).
    #[serde(default)]
    pub text_field: Option<String>,
    /// How chat participants are told apart: auto, first_agent, first_client.
    #[serde(default)]
    #[schema(value_type = String)]
    pub participants: conversations::Classification,
    /// Built-in detectors applied before storing: card, iban, email, phone, ssn.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub redact: Vec<redaction::Detector>,
    /// Custom patterns: name → regular expression, masked as `[NAME]`.
    #[serde(default)]
    pub patterns: std::collections::BTreeMap<String, String>,
    /// Word substitutions, `phrase → replacement` (case-sensitive).
    #[serde(default)]
    pub substitutions: std::collections::BTreeMap<String, String>,
    /// Attributes from query fields: attribute name (case-sensitive) → a field path
    /// (`"Account.Name"`), a field transformed (`{"field": "Subject", "transform":
    /// "lowercase"}`: lowercase, uppercase, trim, date, number, `{"prefix": "…"}`) or a fixed
    /// value (`{"value": "Web"}`).
    #[serde(default)]
    pub mappings: std::collections::BTreeMap<String, mapping::Mapping>,
    #[serde(default)]
    pub source_value: Option<String>,
    #[serde(default)]
    pub feedback_type: Option<String>,
    /// Documents per run at most (conversations, not rows); none = all.
    #[serde(default)]
    pub record_limit: Option<u64>,
    /// Rows (COUNT()) from which a pull reads through Bulk API 2.0 instead of query/queryMore
    /// (default 10,000).
    #[serde(default)]
    pub bulk_threshold: Option<u64>,
    /// One date for every document instead of the date field's (which still drives
    /// incremental runs): a load of records whose own dates mean nothing to the analysis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub fixed_document_date: Option<chrono::NaiveDate>,
    #[serde(default)]
    pub duplicates: Duplicates,
    /// A cron expression for incremental runs (`0 0 * * * *`: hourly); none = on demand.
    #[serde(default)]
    pub schedule: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiscoverJob {
    pub id: String,
    #[serde(flatten)]
    pub settings: JobSettings,
    pub owner_id: String,
    pub created_at: String,
}

pub(crate) fn problem(field: &str, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
}

fn project_of(row: ProjectRow, documents: i64) -> Project {
    Project {
        id: row.id,
        name: row.name,
        created_at: crate::responses::rfc3339(row.created_at),
        documents,
    }
}

pub(crate) fn job_of(row: &JobRow) -> Result<DiscoverJob> {
    Ok(DiscoverJob {
        id: row.id.clone(),
        settings: serde_json::from_str(&row.settings)?,
        owner_id: row.owner_id.clone(),
        created_at: crate::responses::rfc3339(row.created_at),
    })
}

impl JobSettings {
    /// The redactor the job's rules make (refusals named by their field).
    pub(crate) fn redactor(&self) -> std::result::Result<redaction::Redactor, FieldProblem> {
        let substitutions = redaction::Substitutions::from_pairs(
            self.substitutions
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .map_err(|e| problem("substitutions", e.to_string()))?;
        let custom = self
            .patterns
            .iter()
            .map(|(name, pattern)| redaction::CustomPattern::new(name.clone(), pattern.clone()))
            .collect();
        redaction::Redactor::new(redaction::RedactionRules {
            detectors: self.redact.clone(),
            custom,
            substitutions,
        })
        .map_err(|e| problem("patterns", e.to_string()))
    }

    /// What the settings added for accounts, notices, filters and versions cannot hold, by
    /// field (checked without calling Salesforce).
    fn extension_problems(&self) -> Vec<FieldProblem> {
        let mut problems = Vec::new();
        if self.connection_id.is_some() == self.account.is_some() {
            problems.push(problem(
                "connectionId",
                "choose a linked org (connectionId) or enter the job's own Salesforce account (account), one of the two",
            ));
        }
        if let Some(days) = self.reminder_days_before {
            if !(1..=100).contains(&days) {
                problems.push(problem("reminderDaysBefore", "between 1 and 100 days"));
            }
        }
        if let Some(n) = &self.notify {
            problems.extend(n.problems());
        }
        for (i, f) in self.filter.iter().enumerate() {
            if let Some((field, message)) = f.problem(&self.mappings) {
                problems.push(problem(&format!("filter[{i}].{field}"), message));
            }
        }
        if self.api_version.as_deref().is_some_and(|v| {
            !v.trim_start_matches('v')
                .split_once('.')
                .is_some_and(|(a, b)| {
                    !a.is_empty()
                        && a.bytes().all(|c| c.is_ascii_digit())
                        && b.bytes().all(|c| c.is_ascii_digit())
                })
        }) {
            problems.push(problem("apiVersion", "a version such as 62.0"));
        }
        problems
    }

    /// The settings as kept and answered: an account says whether its secrets are kept (they
    /// themselves are never written out).
    pub(crate) fn as_stored(&self) -> JobSettings {
        let mut stored = self.clone();
        if let Some(a) = &mut stored.account {
            a.has_client_secret = a.client_secret.as_deref().is_some_and(|s| !s.is_empty());
            a.has_password = a.password.as_deref().is_some_and(|s| !s.is_empty());
        }
        stored
    }

    pub(crate) fn date_field(&self) -> &str {
        self.date_field.as_deref().unwrap_or("CreatedDate")
    }

    pub(crate) fn text_field(&self) -> &str {
        match (&self.text_field, self.data_type) {
            (Some(f), _) => f,
            (None, DataType::Chat) => "Body",
            (None, DataType::Messaging) => "Id",
            (None, DataType::Feedback) => "Description",
        }
    }
}

impl Sonde {
    pub async fn create_discover_project(&self, actor: &Actor, p: NewProject) -> Result<Project> {
        actor.require(Role::Editor)?;
        let name = p.name.trim();
        if name.is_empty() {
            return Err(Error::invalid_fields(
                "the project has no name",
                vec![problem("name", "name the project")],
            ));
        }
        if self
            .store
            .discover_projects(&actor.org_id)
            .await?
            .iter()
            .any(|p| p.name.eq_ignore_ascii_case(name))
        {
            return Err(Error::invalid_fields(
                "a project has that name",
                vec![problem("name", format!("{name:?} is taken"))],
            ));
        }
        let row = ProjectRow {
            id: store::ids::ordered("DP_", 12),
            org_id: actor.org_id.clone(),
            name: name.to_string(),
            created_by: actor.user_id.clone(),
            created_at: store::now_ms(),
        };
        self.store.insert_discover_project(&row).await?;
        Ok(project_of(row, 0))
    }

    pub async fn discover_projects(&self, actor: &Actor) -> Result<Vec<Project>> {
        let mut out = Vec::new();
        for row in self.store.discover_projects(&actor.org_id).await? {
            let n = self.store.discover_document_count(&row.id).await?;
            out.push(project_of(row, n));
        }
        Ok(out)
    }

    pub(crate) async fn discover_project_row(&self, actor: &Actor, id: &str) -> Result<ProjectRow> {
        self.store
            .discover_project(&actor.org_id, id)
            .await?
            .ok_or(Error::NotFound("project"))
    }

    /// A project's documents, newest first; `q` searches their text (every word).
    pub async fn discover_documents(
        &self,
        actor: &Actor,
        project_id: &str,
        q: Option<&str>,
        limit: i64,
    ) -> Result<Vec<documents::Document>> {
        let project = self.discover_project_row(actor, project_id).await?;
        self.store
            .discover_documents(&project.id, q, limit.clamp(1, 1000))
            .await?
            .iter()
            .map(documents::document_of)
            .collect()
    }

    /// Saves a new job after checking what can be checked without pulling: the project, the
    /// org (one of the caller's), the query (parsed, not summarising, its fields known to the
    /// org), the date field (a date in the query's object), the redaction rules, the schedule.
    pub async fn create_discover_job(
        &self,
        actor: &Actor,
        settings: JobSettings,
    ) -> Result<DiscoverJob> {
        actor.require(Role::Editor)?;
        let mut problems = Vec::new();
        if settings.name.trim().is_empty() {
            problems.push(problem("name", "name the job"));
        }
        if self
            .store
            .discover_project(&actor.org_id, &settings.project_id)
            .await?
            .is_none()
        {
            problems.push(problem("projectId", "not a project of your organization"));
        }
        if let Err(p) = settings.redactor() {
            problems.push(p);
        }
        if let Some(cron) = &settings.schedule {
            if let Err(e) = cron.parse::<cron::Schedule>() {
                problems.push(problem(
                    "schedule",
                    format!(
                        "{cron:?} is not a cron expression (sec min hour day month weekday): {e}"
                    ),
                ));
            }
        }
        if settings.record_limit == Some(0) {
            problems.push(problem("recordLimit", "at least 1, or none for all"));
        }
        problems.extend(settings.extension_problems());
        if problems.is_empty() {
            let checked = self
                .validate_discover_query(
                    actor,
                    &query::QueryToValidate {
                        connection_id: settings.connection_id.clone(),
                        account: settings.account.clone(),
                        api_version: settings.api_version.clone(),
                        soql: settings.soql.clone(),
                    },
                )
                .await?;
            match checked.error {
                Some(e) => {
                    let at = match (e.line, e.column) {
                        (Some(l), Some(c)) => format!("line {l}, column {c}: "),
                        _ => String::new(),
                    };
                    problems.push(problem("soql", format!("{at}{}", e.message)));
                }
                None if !checked
                    .date_fields
                    .iter()
                    .any(|f| f.eq_ignore_ascii_case(settings.date_field())) =>
                {
                    problems.push(problem(
                        "dateField",
                        format!(
                            "{} is not a date field the query can follow (offered: {})",
                            settings.date_field(),
                            checked.date_fields.join(", ")
                        ),
                    ));
                }
                None => {}
            }
        }
        if !problems.is_empty() {
            return Err(Error::invalid_fields("the job was not saved", problems));
        }
        let now = store::now_ms();
        let row = JobRow {
            id: store::ids::ordered("DJ_", 12),
            org_id: actor.org_id.clone(),
            project_id: settings.project_id.clone(),
            owner_id: actor.user_id.clone(),
            name: settings.name.trim().to_string(),
            connection_id: settings.connection_id.clone().unwrap_or_default(),
            settings: serde_json::to_string(&settings.as_stored())?,
            cursor: None,
            created_at: now,
            updated_at: now,
        };
        self.insert_discover_job_with_account(&row, settings.account.as_ref())
            .await?;
        job_of(&row)
    }

    pub async fn discover_jobs(&self, actor: &Actor) -> Result<Vec<DiscoverJob>> {
        self.store
            .discover_jobs(&actor.org_id)
            .await?
            .iter()
            .map(job_of)
            .collect()
    }

    pub(crate) async fn discover_job_row(&self, actor: &Actor, id: &str) -> Result<JobRow> {
        self.store
            .discover_job(&actor.org_id, id)
            .await?
            .ok_or(Error::NotFound("job"))
    }
}
