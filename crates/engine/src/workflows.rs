//! Workflows: per survey, an event, conditions and ordered tasks (Salesforce writes, directory
//! changes) whose field values are piped text or specified values, validated against describe
//! when saved. Only the owner edits; others may copy. Runs are read and retried from here.

use crate::{Actor, Error, FieldProblem, Result, Role, Sonde};
use salesforce::rest::{Field, SObjectDescribe};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use store::workflows::{RunRow, WorkflowRow};

/// What fires a workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    #[default]
    ResponseCreated,
    ResponseUpdated,
    IncompleteClosed,
    /// A notification from a linked Salesforce org (`salesforce_messages`): an Outbound
    /// Message or a Flow's HTTP callout to the workflow's endpoint.
    SalesforceMessage,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::ResponseCreated => "response_created",
            Event::ResponseUpdated => "response_updated",
            Event::IncompleteClosed => "incomplete_closed",
            Event::SalesforceMessage => "salesforce_message",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(Value::String(s.into())).ok()
    }
}

/// A field's value: piped text rendered per response, or a value given as is (RecordTypeId).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum FieldValue {
    Piped(String),
    Value(Value),
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Create,
    Update,
    Upsert,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Upsert => "upsert",
            Operation::Delete => "delete",
        }
    }
}

/// A task's fields by name, in the order they were entered: the editor and the API show them
/// back that way.
pub type FieldMap = indexmap::IndexMap<String, FieldValue>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceTask {
    pub connection_id: String,
    pub object: String,
    pub operation: Operation,
    /// Upsert: the external id field to match on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id_field: Option<String>,
    /// Update and delete: the record's id, usually piped (`${e://Field/sfCaseId}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    #[serde(default)]
    pub fields: FieldMap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryAction {
    UpsertContact,
    AddToList,
    Unsubscribe,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryTask {
    pub action: DirectoryAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_id: Option<String>,
    /// Contact fields (email, firstName, lastName, phone, language, extRef).
    #[serde(default)]
    pub fields: FieldMap,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Task {
    Salesforce(SalesforceTask),
    Directory(DirectoryTask),
    /// Send the survey to the person the event names (`triggered_sends`).
    Distribution(crate::triggered_sends::DistributionTask),
}

/// The body of create and replace.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkflowInput {
    pub name: String,
    #[serde(default)]
    pub event: Event,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub conditions: Option<survey::Condition>,
    #[serde(default)]
    pub tasks: Vec<Task>,
    /// Lets update, delete and upsert tasks pick their record by values a respondent could
    /// have chosen (an unsigned link parameter, an answer). Off, such runs fail instead.
    #[serde(default)]
    pub allow_unsigned_record_ids: bool,
    /// `salesforce_message`: the linked org whose messages fire it.
    #[serde(default)]
    pub connection_id: Option<String>,
    /// `salesforce_message`: the object its records are (`Contact`, `Case`, ...).
    #[serde(default)]
    pub object: Option<String>,
}

fn yes() -> bool {
    true
}

/// What is stored in `workflows.definition`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Definition {
    #[serde(default)]
    pub conditions: Option<survey::Condition>,
    pub tasks: Vec<Task>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_unsigned_record_ids: bool,
    /// What the last save warned about (accepted, but worth knowing), as shown then.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<FieldProblem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Workflow {
    pub id: String,
    pub survey_id: String,
    pub owner_id: String,
    pub name: String,
    pub event: Event,
    pub enabled: bool,
    pub conditions: Option<survey::Condition>,
    pub tasks: Vec<Task>,
    pub allow_unsigned_record_ids: bool,
    /// Saved, but worth knowing: retries that can duplicate a record, record ids a respondent
    /// could choose. Each names the field it is about, like a refusal's problems.
    pub warnings: Vec<FieldProblem>,
    /// `salesforce_message`: the linked org and the object of its records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// `salesforce_message`: where Salesforce sends its messages (an Outbound Message's
    /// endpoint URL, or a Flow's HTTP callout).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Workflow {
    pub(crate) fn from_row(row: &WorkflowRow) -> Result<Self> {
        let def: Definition = serde_json::from_str(&row.definition)?;
        Ok(Workflow {
            id: row.id.clone(),
            survey_id: row.survey_id.clone(),
            owner_id: row.owner_id.clone(),
            name: row.name.clone(),
            event: Event::parse(&row.event).unwrap_or_default(),
            enabled: row.enabled,
            conditions: def.conditions,
            tasks: def.tasks,
            allow_unsigned_record_ids: def.allow_unsigned_record_ids,
            warnings: def.warnings,
            connection_id: def.connection_id,
            object: def.object,
            endpoint_url: None,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl Workflow {
    /// The workflow as a save's input: what a copy, a move or an import starts from.
    pub fn input(&self) -> WorkflowInput {
        WorkflowInput {
            name: self.name.clone(),
            event: self.event,
            enabled: self.enabled,
            conditions: self.conditions.clone(),
            tasks: self.tasks.clone(),
            allow_unsigned_record_ids: self.allow_unsigned_record_ids,
            connection_id: self.connection_id.clone(),
            object: self.object.clone(),
        }
    }
}

/// One task's record in a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskRecord {
    pub index: usize,
    pub kind: String,
    /// pending | succeeded | failed | skipped
    pub status: String,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<bool>,
    /// Salesforce's error text (code: message), or the directory's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub id: String,
    pub workflow_id: String,
    /// The response that fired it; empty for a run fired by a Salesforce notification (see
    /// `notificationId`) or an opt-out's write-back (trigger `opt_out`).
    pub response_id: String,
    /// The Salesforce notification that fired it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_id: Option<String>,
    pub trigger: String,
    pub status: String,
    pub condition_met: Option<bool>,
    pub tasks: Vec<TaskRecord>,
    pub error: Option<String>,
    pub attempts: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
}

fn new_workflow_id() -> String {
    format!("WF_{}", store::ids::random_token(15))
}

impl Sonde {
    async fn workflow_row(&self, actor: &Actor, id: &str) -> Result<WorkflowRow> {
        let row = self
            .store
            .workflow(&actor.org_id, id)
            .await?
            .ok_or(Error::NotFound("workflow"))?;
        // Visible to whoever sees its survey.
        self.survey(actor, &row.survey_id)
            .await
            .map_err(|e| match e {
                Error::NotFound(_) => Error::NotFound("workflow"),
                other => other,
            })?;
        Ok(row)
    }

    pub async fn workflows(&self, actor: &Actor, survey_id: &str) -> Result<Vec<Workflow>> {
        let survey = self.survey(actor, survey_id).await?;
        self.store
            .workflows_of_survey(&actor.org_id, &survey.id)
            .await?
            .iter()
            .map(Workflow::from_row)
            .collect()
    }

    pub async fn workflow(&self, actor: &Actor, id: &str) -> Result<Workflow> {
        let row = self.workflow_row(actor, id).await?;
        self.with_endpoint(&actor.org_id, Workflow::from_row(&row)?)
            .await
    }

    pub async fn create_workflow(
        &self,
        actor: &Actor,
        survey_id: &str,
        input: WorkflowInput,
    ) -> Result<Workflow> {
        actor.require(Role::Editor)?;
        let survey = self.survey(actor, survey_id).await?;
        let warnings = self.validate_workflow(actor, &survey, &input).await?;
        let now = store::now_ms();
        let row = WorkflowRow {
            id: new_workflow_id(),
            org_id: actor.org_id.clone(),
            survey_id: survey.id.clone(),
            owner_id: actor.user_id.clone(),
            name: input.name.trim().to_string(),
            event: input.event.as_str().into(),
            enabled: input.enabled,
            definition: serde_json::to_string(&Definition {
                conditions: input.conditions,
                tasks: input.tasks,
                allow_unsigned_record_ids: input.allow_unsigned_record_ids,
                warnings,
                connection_id: input.connection_id,
                object: input.object,
            })?,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_workflow(&row).await?;
        self.with_endpoint(&actor.org_id, Workflow::from_row(&row)?)
            .await
    }

    fn ensure_owner(row: &WorkflowRow, actor: &Actor) -> Result<()> {
        if row.owner_id != actor.user_id {
            return Err(Error::Forbidden(format!(
                "only this workflow's owner can change it; make your own copy with POST /api/v1/workflows/{}/copy",
                row.id
            )));
        }
        Ok(())
    }

    pub async fn update_workflow(
        &self,
        actor: &Actor,
        id: &str,
        input: WorkflowInput,
    ) -> Result<Workflow> {
        actor.require(Role::Editor)?;
        let mut row = self.workflow_row(actor, id).await?;
        Self::ensure_owner(&row, actor)?;
        let survey = self.survey(actor, &row.survey_id).await?;
        let warnings = self.validate_workflow(actor, &survey, &input).await?;
        row.name = input.name.trim().to_string();
        row.event = input.event.as_str().into();
        row.enabled = input.enabled;
        row.definition = serde_json::to_string(&Definition {
            conditions: input.conditions,
            tasks: input.tasks,
            allow_unsigned_record_ids: input.allow_unsigned_record_ids,
            warnings,
            connection_id: input.connection_id,
            object: input.object,
        })?;
        row.updated_at = store::now_ms();
        self.store.update_workflow(&row).await?;
        self.with_endpoint(&actor.org_id, Workflow::from_row(&row)?)
            .await
    }

    pub async fn delete_workflow(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Role::Editor)?;
        let row = self.workflow_row(actor, id).await?;
        Self::ensure_owner(&row, actor)?;
        self.store.delete_workflow(&actor.org_id, id).await?;
        Ok(())
    }

    /// The caller's own copy, with every Salesforce task bound to `connection_id` (default:
    /// the caller's first linked org), validated like any save.
    pub async fn copy_workflow(
        &self,
        actor: &Actor,
        id: &str,
        connection_id: Option<&str>,
    ) -> Result<Workflow> {
        actor.require(Role::Editor)?;
        let source = self.workflow(actor, id).await?;
        let connection = match connection_id {
            Some(c) => Some(self.own_connection(actor, c).await?.id),
            None => self
                .store
                .connections_of_user(&actor.org_id, &actor.user_id)
                .await?
                .into_iter()
                .find(|c| c.status == "active")
                .map(|c| c.id),
        };
        let mut tasks = source.tasks.clone();
        for task in &mut tasks {
            if let Task::Salesforce(t) = task {
                t.connection_id = connection.clone().ok_or_else(|| {
                    Error::invalid("link a Salesforce org first: the copy's Salesforce tasks need one of your connections")
                })?;
            }
        }
        let input = WorkflowInput {
            name: format!("{} (copy)", source.name),
            tasks,
            // A copy listens to the copier's org, at an endpoint of its own.
            connection_id: source.connection_id.as_ref().and(connection.clone()),
            ..source.input()
        };
        self.create_workflow(actor, &source.survey_id, input).await
    }

    /// Checks a workflow against the org's describe; every problem names its field. What is
    /// accepted but worth knowing comes back as warnings, named the same way.
    pub(crate) async fn validate_workflow(
        &self,
        actor: &Actor,
        survey: &crate::surveys::Survey,
        input: &WorkflowInput,
    ) -> Result<Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        let signing_required = self.links_must_be_signed(&survey.id).await?;
        if input.name.trim().is_empty() {
            problems.push(problem("name", "give the workflow a name"));
        }
        if input.event == Event::SalesforceMessage {
            // Its notifications are recorded (and shown) with or without tasks.
            self.validate_message_trigger(actor, input, &mut problems)
                .await;
        } else if input.tasks.is_empty() {
            problems.push(problem("tasks", "add at least one task"));
        }
        // Piped text and conditions may name only what the survey has.
        problems.extend(crate::workflow_survey::survey_problems(
            input,
            &survey.definition,
        ));
        for (i, task) in input.tasks.iter().enumerate() {
            let at = format!("tasks[{i}]");
            match task {
                Task::Salesforce(t) => {
                    self.validate_salesforce_task(
                        actor,
                        &at,
                        t,
                        Some(&survey.definition),
                        &mut problems,
                        &mut warnings,
                    )
                    .await;
                    warnings.extend(crate::record_trust::unsigned_pick_warning(
                        &at,
                        t,
                        &survey.definition,
                        signing_required,
                        input.allow_unsigned_record_ids,
                    ));
                }
                Task::Directory(t) => {
                    self.validate_directory_task(actor, &at, t, &mut problems)
                        .await
                }
                Task::Distribution(t) => {
                    self.validate_distribution_task(
                        actor,
                        &at,
                        t,
                        &survey.definition,
                        &mut problems,
                        &mut warnings,
                    )
                    .await?
                }
            }
        }
        if problems.is_empty() {
            Ok(warnings)
        } else {
            // Problems may be the survey's, the org's or simply an empty choice: each names its
            // own; the message only counts them.
            let n = problems.len();
            Err(Error::invalid_fields(
                format!(
                    "the workflow was not saved: {n} problem{} to fix, each named by where it is",
                    if n == 1 { "" } else { "s" }
                ),
                problems,
            ))
        }
    }

    async fn validate_directory_task(
        &self,
        actor: &Actor,
        at: &str,
        t: &DirectoryTask,
        problems: &mut Vec<FieldProblem>,
    ) {
        const KNOWN: &[&str] = &[
            "email",
            "firstName",
            "lastName",
            "phone",
            "language",
            "extRef",
        ];
        for name in t.fields.keys() {
            if !KNOWN.contains(&name.as_str()) {
                problems.push(problem(
                    format!("{at}.fields.{name}"),
                    format!("not a contact field (known: {})", KNOWN.join(", ")),
                ));
            }
        }
        if !t.fields.contains_key("email") {
            problems.push(problem(
                format!("{at}.fields.email"),
                "map the contact's email: it identifies the contact",
            ));
        }
        if t.action == DirectoryAction::AddToList {
            match &t.list_id {
                None => problems.push(problem(
                    format!("{at}.listId"),
                    "no mailing list is chosen: pick the list to add the contact to",
                )),
                Some(id) => {
                    if self.mailing_list(actor, id).await.is_err() {
                        problems.push(problem(
                            format!("{at}.listId"),
                            format!("no mailing list {id}"),
                        ));
                    }
                }
            }
        }
    }

    /// Checks one Salesforce task against describe and, given the survey, that each piped
    /// value has a type its field takes.
    pub(crate) async fn validate_salesforce_task(
        &self,
        actor: &Actor,
        at: &str,
        t: &SalesforceTask,
        survey: Option<&survey::SurveyDefinition>,
        problems: &mut Vec<FieldProblem>,
        warnings: &mut Vec<FieldProblem>,
    ) {
        // An empty choice is the form's to fix, not something to ask Salesforce about.
        if t.connection_id.trim().is_empty() {
            problems.push(problem(
                format!("{at}.connectionId"),
                "no Salesforce org is chosen: pick one of your linked orgs (link one under Salesforce first)",
            ));
            return;
        }
        if self.own_connection(actor, &t.connection_id).await.is_err() {
            problems.push(problem(
                format!("{at}.connectionId"),
                "not one of your linked Salesforce orgs",
            ));
            return;
        }
        if t.object.trim().is_empty() {
            problems.push(problem(
                format!("{at}.object"),
                "no object is chosen: pick the Salesforce object this task writes",
            ));
            return;
        }
        let conn = match self.live_connection(&t.connection_id).await {
            Ok(c) => c,
            Err(e) => {
                problems.push(problem(format!("{at}.connectionId"), e.to_string()));
                return;
            }
        };
        let describe = match conn.describe(&t.object).await {
            Ok(d) => d,
            Err(e) if e.needs_reconnect() => {
                problems.push(problem(
                    format!("{at}.connectionId"),
                    format!("the Salesforce connection needs to be reconnected: {e}"),
                ));
                return;
            }
            Err(e) if e.is_retryable() || e.is_rate_limited() => {
                problems.push(problem(
                    format!("{at}.object"),
                    format!(
                        "Salesforce could not describe {} right now ({e}); try again",
                        t.object
                    ),
                ));
                return;
            }
            Err(_) => {
                problems.push(problem(
                    format!("{at}.object"),
                    format!(
                        "Salesforce has no object {} (or the linked user cannot see it)",
                        t.object
                    ),
                ));
                return;
            }
        };
        let (object_ok, verb) = match t.operation {
            Operation::Create => (describe.createable, "create"),
            Operation::Update => (describe.updateable, "update"),
            Operation::Upsert => (describe.createable && describe.updateable, "upsert"),
            Operation::Delete => (describe.deletable, "delete"),
        };
        if !object_ok {
            problems.push(problem(
                format!("{at}.object"),
                format!("the linked user cannot {verb} {} records", describe.name),
            ));
        }
        if matches!(t.operation, Operation::Update | Operation::Delete)
            && t.record_id.as_deref().is_none_or(|r| r.trim().is_empty())
        {
            problems.push(problem(
                format!("{at}.recordId"),
                format!("{verb} needs the record's id, e.g. ${{e://Field/sfRecordId}}"),
            ));
        }
        if t.operation == Operation::Delete {
            return;
        }
        if t.operation == Operation::Upsert {
            match t
                .external_id_field
                .as_deref()
                .map(|f| (f, describe.field(f)))
            {
                None => problems.push(problem(
                    format!("{at}.externalIdField"),
                    "upsert needs an external id field to match on",
                )),
                Some((f, None)) => problems.push(problem(
                    format!("{at}.externalIdField"),
                    format!("{} has no field {f}", describe.name),
                )),
                Some((f, Some(field))) => {
                    if !(field.external_id || field.id_lookup) {
                        problems.push(problem(
                            format!("{at}.externalIdField"),
                            format!("{f} is not an external id field"),
                        ));
                    } else if !t.fields.keys().any(|k| k.eq_ignore_ascii_case(f)) {
                        problems.push(problem(
                            format!("{at}.fields.{f}"),
                            "map the external id field: upsert matches on its value",
                        ));
                    }
                }
            }
        }
        for (name, value) in &t.fields {
            let path = format!("{at}.fields.{name}");
            let Some(field) = describe.field(name) else {
                problems.push(problem(
                    path,
                    format!("{} has no field {name}", describe.name),
                ));
                continue;
            };
            let writable = match t.operation {
                Operation::Update => field.updateable,
                _ => field.createable,
            };
            if !writable {
                problems.push(problem(
                    path.clone(),
                    format!(
                        "{name} is read-only for the linked user (not {}able)",
                        if t.operation == Operation::Update {
                            "update"
                        } else {
                            "create"
                        }
                    ),
                ));
                continue;
            }
            let constant = match value {
                FieldValue::Value(v) => Some(v.clone()),
                FieldValue::Piped(text) if !text.contains("${") => {
                    Some(Value::String(text.clone()))
                }
                FieldValue::Piped(text) => {
                    if let Some(msg) =
                        survey.and_then(|def| crate::workflow_survey::fit_problem(field, text, def))
                    {
                        problems.push(problem(path.clone(), msg));
                    }
                    None
                }
            };
            if let Some(v) = constant {
                if let Some(msg) = check_value(&describe, field, &v) {
                    problems.push(problem(path, msg));
                }
            }
        }
        if t.operation == Operation::Create {
            warnings.extend(crate::delivery::duplicate_warning(at, t, &describe));
        }
        if matches!(t.operation, Operation::Create | Operation::Upsert) {
            for f in describe.required_on_create() {
                if !t.fields.keys().any(|k| k.eq_ignore_ascii_case(&f.name)) {
                    problems.push(problem(
                        format!("{at}.fields.{}", f.name),
                        format!("{} is required on {} but not mapped", f.name, describe.name),
                    ));
                }
            }
        }
    }

    /// Newest first; `status` filters (succeeded, failed, skipped, queued, running).
    pub async fn workflow_runs(
        &self,
        actor: &Actor,
        id: &str,
        status: Option<&str>,
        limit: i64,
    ) -> Result<(Vec<Run>, BTreeMap<String, i64>)> {
        let wf = self.workflow_row(actor, id).await?;
        let rows = self
            .store
            .runs_of_workflow(&actor.org_id, &wf.id, status, limit.clamp(1, 1000))
            .await?;
        let mut runs = Vec::with_capacity(rows.len());
        for r in &rows {
            let attempts = self
                .store
                .job(&r.id)
                .await?
                .map(|j| j.attempts)
                .unwrap_or(0);
            runs.push(run_from(r, attempts)?);
        }
        let counts = self
            .store
            .run_counts(&actor.org_id, &wf.id)
            .await?
            .into_iter()
            .collect();
        Ok((runs, counts))
    }

    /// Queues a failed run again (after a fix such as relinking the org). Editors and admins
    /// only: a retried run writes to Salesforce again.
    pub async fn retry_run(&self, actor: &Actor, workflow_id: &str, run_id: &str) -> Result<Run> {
        actor.require(Role::Editor)?;
        let wf = self.workflow_row(actor, workflow_id).await?;
        let run = self
            .store
            .run_by_id(run_id)
            .await?
            .filter(|r| r.workflow_id == wf.id && r.org_id == actor.org_id)
            .ok_or(Error::NotFound("run"))?;
        if run.status != "failed" {
            return Err(Error::Conflict(format!(
                "only a failed run can be retried; this one is {}",
                run.status
            )));
        }
        let mut tasks: Vec<TaskRecord> = serde_json::from_str(&run.tasks)?;
        for t in &mut tasks {
            if t.status == "failed" {
                t.status = "pending".into();
            }
        }
        let tasks_json = serde_json::to_string(&tasks)?;
        self.store
            .update_run(&run.id, "queued", run.condition_met, &tasks_json, None)
            .await?;
        if !self
            .store
            .requeue_failed_job(&actor.org_id, &run.id)
            .await?
        {
            return Err(Error::Conflict("this run is already queued again".into()));
        }
        let row = self
            .store
            .run_by_id(run_id)
            .await?
            .ok_or(Error::NotFound("run"))?;
        run_from(&row, 0)
    }
}

pub(crate) fn run_from(r: &RunRow, attempts: i64) -> Result<Run> {
    Ok(Run {
        id: r.id.clone(),
        workflow_id: r.workflow_id.clone(),
        response_id: r.response_id.clone(),
        notification_id: r.notification_id.clone(),
        trigger: r.trigger.clone(),
        status: r.status.clone(),
        condition_met: r.condition_met,
        tasks: serde_json::from_str(&r.tasks)?,
        error: r.error.clone(),
        attempts,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

/// Whether a value given as is fits the field's type; the message names what is wrong.
pub(crate) fn check_value(describe: &SObjectDescribe, field: &Field, v: &Value) -> Option<String> {
    if v.is_null() {
        return (!field.nillable && field.kind != "boolean")
            .then(|| format!("{} cannot be empty", field.name));
    }
    let kind = field.kind.as_str();
    match kind {
        "boolean" => (!v.is_boolean() && !matches!(v.as_str(), Some("true" | "false")))
            .then(|| format!("{} is a checkbox: give true or false", field.name)),
        "double" | "int" | "currency" | "percent" => {
            let ok = v.is_number() || v.as_str().is_some_and(|s| s.trim().parse::<f64>().is_ok());
            (!ok).then(|| format!("{} is a number field: {v} is not a number", field.name))
        }
        "picklist" | "multipicklist" => {
            let s = v.as_str()?;
            let allowed: Vec<&str> = field
                .picklist_values
                .iter()
                .filter(|p| p.active)
                .map(|p| p.value.as_str())
                .collect();
            let bad: Vec<&str> = if kind == "multipicklist" {
                s.split(';').filter(|x| !allowed.contains(x)).collect()
            } else if allowed.contains(&s) {
                Vec::new()
            } else {
                vec![s]
            };
            (!bad.is_empty() && !allowed.is_empty()).then(|| {
                format!(
                    "{} does not allow {:?} (allowed: {})",
                    field.name,
                    bad.join(";"),
                    allowed.join(", ")
                )
            })
        }
        "reference" => {
            let s = v.as_str().unwrap_or("");
            if !(s.len() == 15 || s.len() == 18) || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Some(format!(
                    "{} needs a 15- or 18-character Salesforce id",
                    field.name
                ));
            }
            if field.name.eq_ignore_ascii_case("RecordTypeId")
                && !describe.record_type_infos.is_empty()
            {
                let known = describe.record_type_infos.iter().any(|r| {
                    r.available
                        && r.record_type_id
                            .as_deref()
                            .is_some_and(|id| id.get(..15) == s.get(..15))
                });
                if !known {
                    return Some(format!(
                        "{s} is not a record type of {} available to the linked user",
                        describe.name
                    ));
                }
            }
            None
        }
        _ => (!v.is_string()).then(|| format!("{} is a text field: give text", field.name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn describe() -> SObjectDescribe {
        serde_json::from_value(json!({
            "name": "Survey_Response__c",
            "fields": [
                {"name": "Channel__c", "type": "picklist", "createable": true, "nillable": true,
                 "picklistValues": [{"value": "Email", "active": true}, {"value": "Web", "active": true}]},
                {"name": "NPS_Score__c", "type": "double", "createable": true, "nillable": true},
                {"name": "RecordTypeId", "type": "reference", "createable": true, "nillable": true}
            ],
            "recordTypeInfos": [{"recordTypeId": "012000000000001AAA", "name": "NPS", "available": true}]
        }))
        .unwrap()
    }

    #[test]
    fn specified_values_are_checked_against_the_fields_type() {
        let d = describe();
        let f = |n: &str| d.field(n).unwrap();
        assert!(check_value(&d, f("Channel__c"), &json!("Web")).is_none());
        let msg = check_value(&d, f("Channel__c"), &json!("Fax")).unwrap();
        assert!(msg.contains("Channel__c") && msg.contains("Fax"), "{msg}");
        assert!(check_value(&d, f("NPS_Score__c"), &json!(7)).is_none());
        assert!(check_value(&d, f("NPS_Score__c"), &json!("high")).is_some());
        assert!(check_value(&d, f("RecordTypeId"), &json!("012000000000001")).is_none());
        assert!(check_value(&d, f("RecordTypeId"), &json!("012000000000009AAA")).is_some());
    }

    #[test]
    fn workflow_bodies_parse_in_the_documented_shape() {
        let input: WorkflowInput = serde_json::from_value(json!({
            "name": "w",
            "conditions": {"type": "any", "conditions": [{"type": "embedded_data", "field": "x", "op": "is_not_empty"}]},
            "tasks": [
                {"type": "salesforce", "connectionId": "SC_1", "object": "Case", "operation": "update",
                 "recordId": "${e://Field/sfCaseId}", "fields": {"Status": {"value": "Closed"}}},
                {"type": "directory", "action": "add_to_list", "listId": "CG_1",
                 "fields": {"email": {"piped": "${q://QID10/ChoiceTextEntryValue}"}}}
            ]
        }))
        .unwrap();
        assert_eq!(input.event, Event::ResponseCreated);
        assert!(input.enabled);
        assert_eq!(input.tasks.len(), 2);
        assert!(serde_json::from_value::<WorkflowInput>(
            json!({"name": "w", "tasks": [], "bogus": 1})
        )
        .is_err());
    }
}
