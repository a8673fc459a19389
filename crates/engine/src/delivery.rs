//! Delivery: a recorded response fires its survey's workflows as jobs in the response's own
//! transaction; workers claim jobs in batches, group Salesforce writes by (connection, object,
//! operation) into sObject Collections calls of up to 200 records, and record every run.

use crate::responses::Response;
use crate::surveys::Survey;
use crate::workflows::{
    DirectoryAction, DirectoryTask, FieldValue, Operation, SalesforceTask, Task, TaskRecord,
    Workflow,
};
use crate::{Error, Result, Sonde};
use salesforce::rest::SObjectDescribe;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use store::queue::Job;
use store::workflows::RunRow;
use store::{Any, Store, Transaction};

mod distribution_task;
mod firing;
mod idempotency;
mod leases;
pub(crate) use firing::{fire, fire_for_notification, fire_opt_out, run_id, OPT_OUT_TRIGGER};
pub(crate) use idempotency::duplicate_warning;

/// The queue kind of workflow runs.
pub const WORKFLOW_JOB: &str = "workflow";
/// How long a worker may hold a batch before another may take it over (a crashed node's
/// work waits this long on PostgreSQL; a restarted SQLite node takes it back at once).
/// Jobs claimed at once: enough for five full collections calls per group under backlog.
pub const DEFAULT_BATCH: i64 = 1000;

/// What one pass of a worker did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DrainReport {
    pub claimed: usize,
    pub succeeded: usize,
    pub skipped: usize,
    pub failed: usize,
    pub retried: usize,
    pub deferred: usize,
}

impl DrainReport {
    fn add(&mut self, o: &DrainReport) {
        self.claimed += o.claimed;
        self.succeeded += o.succeeded;
        self.skipped += o.skipped;
        self.failed += o.failed;
        self.retried += o.retried;
        self.deferred += o.deferred;
    }
}

/// A task's record in a run before it is tried.
fn pending_record(index: usize, t: &Task) -> TaskRecord {
    TaskRecord {
        index,
        kind: match t {
            Task::Salesforce(s) => format!("salesforce.{}:{}", s.operation.as_str(), s.object),
            Task::Directory(_) => "directory".into(),
            Task::Distribution(d) => format!("distribution.{}", d.channel.as_str()),
        },
        status: "pending".into(),
        ..Default::default()
    }
}

#[derive(Clone)]
enum Outcome {
    Succeeded,
    Skipped,
    /// A distribution task excluded its recipient (the words say why): later tasks do not run.
    Excluded(String),
    Failed(String),
    Retry(String),
    Defer(i64, String),
}

/// The tasks a job carries itself (an opt-out's write-back).
#[derive(serde::Deserialize)]
struct JobTasks {
    tasks: Vec<Task>,
}

/// One claimed run being worked on.
struct Item {
    job: Job,
    run: RunRow,
    workflow: Arc<Workflow>,
    survey: Option<Arc<Survey>>,
    response: Option<Response>,
    contact: BTreeMap<String, String>,
    links: BTreeMap<String, String>,
    /// A notification's record (`${sf://…}`), by field name.
    record: BTreeMap<String, String>,
    condition_met: Option<bool>,
    tasks: Vec<TaskRecord>,
    outcome: Option<Outcome>,
}

impl Item {
    fn render(&self, text: &str) -> String {
        let Some(survey) = &self.survey else {
            return String::new();
        };
        let none = survey::ResponseData::default();
        let (data, metadata) = match &self.response {
            Some(r) => (&r.data, Some(&r.metadata)),
            // A notification's run: no response, its record instead.
            None => (&none, None),
        };
        let ctx = survey::piped::PipeContext {
            definition: &survey.definition,
            data,
            metadata,
            contact: &self.contact,
            links: &self.links,
            record: &self.record,
        };
        survey::piped::render(text, &ctx)
    }

    fn value_text(&self, v: &FieldValue) -> Value {
        match v {
            FieldValue::Piped(t) => Value::String(self.render(t)),
            FieldValue::Value(v) => v.clone(),
        }
    }
}

/// A record waiting for its call: (run, task, record body).
type Pending = (usize, usize, Value);

/// Key of a group of writes sent together.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct GroupKey {
    connection: String,
    object: String,
    operation: &'static str,
    external_id: Option<String>,
}

fn backoff_ms(base: i64, attempts: i64) -> i64 {
    let exp = (attempts - 1).clamp(0, 12) as u32;
    (base.max(1) * 2i64.pow(exp)).min(10 * 60_000)
}

/// The field that makes a create idempotent: an external id the task fills from the
/// response id, so a retried create becomes an update of the same record.
fn idempotency_field(t: &SalesforceTask, describe: &SObjectDescribe) -> Option<String> {
    t.fields.iter().find_map(|(name, v)| {
        let from_response = match v {
            FieldValue::Piped(text) => text.contains("ResponseID}"),
            FieldValue::Value(_) => false,
        };
        let field = describe.field(name)?;
        (from_response && field.external_id && field.createable).then(|| field.name.clone())
    })
}

/// Turns rendered text into the JSON Salesforce expects for the field's type.
fn coerce(describe: &SObjectDescribe, name: &str, v: Value) -> std::result::Result<Value, String> {
    let Some(field) = describe.field(name) else {
        return Err(format!("{} has no field {name}", describe.name));
    };
    let Value::String(s) = v else { return Ok(v) };
    let s = s.trim().to_string();
    if s.is_empty() {
        return Ok(Value::Null);
    }
    match field.kind.as_str() {
        "boolean" => Ok(Value::Bool(matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "1" | "yes" | "on"
        ))),
        "double" | "currency" | "percent" => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("{name}: {s:?} is not a number")),
        "int" => s
            .parse::<f64>()
            .map(|f| Value::from(f.round() as i64))
            .map_err(|_| format!("{name}: {s:?} is not a whole number")),
        _ => Ok(Value::String(s)),
    }
}

impl Sonde {
    /// Claims one batch of due runs and works them to an outcome. Tests call this (or
    /// [`Sonde::drain_workflows`]) to deliver deterministically; servers loop over it.
    pub async fn try_execute_workflows(&self, owner: &str, batch: i64) -> Result<DrainReport> {
        let jobs = self.claim_workflow_runs(owner, batch).await?;
        self.execute_workflow_runs(owner, jobs).await
    }

    /// Claims up to `batch` due runs for `owner` (leased for two minutes).
    pub async fn claim_workflow_runs(&self, owner: &str, batch: i64) -> Result<Vec<Job>> {
        Ok(self
            .store
            .claim_jobs(
                WORKFLOW_JOB,
                owner,
                batch,
                self.salesforce_settings().run_lease_ms,
            )
            .await?)
    }

    /// Works runs `owner` claimed to an outcome and records them.
    pub async fn execute_workflow_runs(&self, owner: &str, jobs: Vec<Job>) -> Result<DrainReport> {
        let mut report = DrainReport {
            claimed: jobs.len(),
            ..Default::default()
        };
        if jobs.is_empty() {
            return Ok(report);
        }
        let ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
        let lease_ms = self.salesforce_settings().run_lease_ms;
        leases::holding(&self.store, owner, &ids, lease_ms, async {
            let mut items = self.load_items(jobs).await?;
            self.run_stages(&mut items).await;
            self.finish_with_retries(owner, &items, &mut report, lease_ms)
                .await?;
            Ok(report)
        })
        .await
    }

    /// Works until nothing is due (runs put off to later stay queued).
    pub async fn drain_workflows(&self) -> Result<DrainReport> {
        let owner = format!("drain-{}", store::ids::random_token(8));
        let mut total = DrainReport::default();
        loop {
            let r = self.try_execute_workflows(&owner, DEFAULT_BATCH).await?;
            if r.claimed == 0 {
                return Ok(total);
            }
            total.add(&r);
        }
    }

    /// The server's worker loop: claims while there is work, naps when there is none.
    pub fn spawn_workflow_worker(&self) -> tokio::task::JoinHandle<()> {
        let sonde = self.clone();
        tokio::spawn(async move {
            let owner = format!("worker-{}", store::ids::random_token(8));
            loop {
                match sonde.try_execute_workflows(&owner, DEFAULT_BATCH).await {
                    Ok(r) if r.claimed > 0 => continue,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "workflow worker pass failed"),
                }
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
        })
    }

    async fn load_items(&self, jobs: Vec<Job>) -> Result<Vec<Item>> {
        let mut workflows: HashMap<String, Option<Arc<Workflow>>> = HashMap::new();
        let mut surveys: HashMap<String, Option<Arc<Survey>>> = HashMap::new();
        let mut items = Vec::with_capacity(jobs.len());
        for job in jobs {
            let Some(run) = self.store.run_by_id(&job.id).await? else {
                // A job without its run cannot be reported; nothing to do.
                let _ = self
                    .store
                    .fail_job(
                        &job.id,
                        job.lease_owner.as_deref().unwrap_or(""),
                        "run missing",
                    )
                    .await;
                continue;
            };
            let wf = match workflows.get(&run.workflow_id) {
                Some(w) => w.clone(),
                None => {
                    let w = self
                        .store
                        .workflow(&run.org_id, &run.workflow_id)
                        .await?
                        .map(|r| Workflow::from_row(&r))
                        .transpose()?
                        .map(Arc::new);
                    workflows.insert(run.workflow_id.clone(), w.clone());
                    w
                }
            };
            let Some(workflow) = wf else {
                let _ = self
                    .store
                    .fail_job(
                        &job.id,
                        job.lease_owner.as_deref().unwrap_or(""),
                        "workflow deleted",
                    )
                    .await;
                continue;
            };
            let workflow = if run.trigger == OPT_OUT_TRIGGER {
                // Its one task travels in the job, not in the workflow's definition.
                let asked: JobTasks = serde_json::from_str(&job.payload)?;
                Arc::new(Workflow {
                    tasks: asked.tasks,
                    conditions: None,
                    ..(*workflow).clone()
                })
            } else {
                workflow
            };
            let mut tasks: Vec<TaskRecord> = serde_json::from_str(&run.tasks).unwrap_or_default();
            if tasks.len() != workflow.tasks.len() {
                // The workflow was edited since the firing: its current tasks count.
                tasks = workflow
                    .tasks
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        tasks
                            .iter()
                            .find(|r| r.index == i && r.status == "succeeded")
                            .cloned()
                            .unwrap_or_else(|| pending_record(i, t))
                    })
                    .collect();
            }
            let mut item = Item {
                job,
                run,
                workflow,
                survey: None,
                response: None,
                contact: BTreeMap::new(),
                links: BTreeMap::new(),
                record: BTreeMap::new(),
                condition_met: None,
                tasks,
                outcome: None,
            };
            if item.run.response_id.is_empty() {
                // Fired by a notification (its record, not a response, is what tasks read) or
                // an opt-out (whose task is complete as it stands).
                if let Some(id) = item.run.notification_id.clone() {
                    match self.store.notification(&id).await? {
                        Some(n) => item.record = record_fields(&n.record),
                        None => {
                            item.outcome =
                                Some(Outcome::Failed("the notification was deleted".into()))
                        }
                    }
                }
                item.survey = self
                    .survey_of_run(&mut surveys, &item.run.org_id, &item.workflow.survey_id)
                    .await?;
                if item.survey.is_none() {
                    item.outcome = Some(Outcome::Failed("the survey was deleted".into()));
                }
                items.push(item);
                continue;
            }
            let row = self
                .store
                .response(&item.run.org_id, &item.run.response_id)
                .await?;
            let Some(row) = row else {
                item.outcome = Some(Outcome::Failed("the response was deleted".into()));
                items.push(item);
                continue;
            };
            let survey = self
                .survey_of_run(&mut surveys, &row.org_id, &row.survey_id)
                .await?;
            item.contact = self
                .contact_fields(&row.org_id, row.contact_id.as_deref())
                .await?;
            item.links = self.links(&row.survey_id, &row.org_id, row.contact_id.as_deref())?;
            let response = Response::from_row(row)?;
            if let Some(s) = &survey {
                let met = item.workflow.conditions.as_ref().is_none_or(|c| {
                    survey::condition::evaluate(
                        c,
                        &s.definition,
                        &response.data,
                        Some(&response.metadata),
                    )
                });
                item.condition_met = Some(met);
                if !met {
                    item.outcome = Some(Outcome::Skipped);
                }
            } else {
                item.outcome = Some(Outcome::Failed("the survey was deleted".into()));
            }
            item.survey = survey;
            item.response = Some(response);
            items.push(item);
        }
        Ok(items)
    }

    /// The survey a run reads, parsed once per batch.
    async fn survey_of_run(
        &self,
        surveys: &mut HashMap<String, Option<Arc<Survey>>>,
        org_id: &str,
        survey_id: &str,
    ) -> Result<Option<Arc<Survey>>> {
        if let Some(s) = surveys.get(survey_id) {
            return Ok(s.clone());
        }
        let s = match self.store.survey(org_id, survey_id).await? {
            Some(found) => Some(Arc::new(self.survey_from_row(found).await?)),
            None => None,
        };
        surveys.insert(survey_id.to_string(), s.clone());
        Ok(s)
    }

    /// Runs tasks in order: at each stage every run's next pending task is gathered, and
    /// Salesforce writes that can share a call are sent together.
    async fn run_stages(&self, items: &mut [Item]) {
        loop {
            let mut groups: BTreeMap<GroupKey, Vec<(usize, usize)>> = BTreeMap::new();
            let mut directory: Vec<(usize, usize)> = Vec::new();
            let mut distribution: Vec<(usize, usize)> = Vec::new();
            for (i, item) in items.iter_mut().enumerate() {
                if item.outcome.is_some() {
                    continue;
                }
                let Some(t) = item.tasks.iter().position(|r| r.status == "pending") else {
                    item.outcome = Some(Outcome::Succeeded);
                    continue;
                };
                match &item.workflow.tasks[t] {
                    Task::Salesforce(s) => groups
                        .entry(GroupKey {
                            connection: s.connection_id.clone(),
                            object: s.object.clone(),
                            operation: s.operation.as_str(),
                            external_id: s.external_id_field.clone(),
                        })
                        .or_default()
                        .push((i, t)),
                    Task::Directory(_) => directory.push((i, t)),
                    Task::Distribution(_) => distribution.push((i, t)),
                }
            }
            if groups.is_empty() && directory.is_empty() && distribution.is_empty() {
                return;
            }
            for (i, t) in directory {
                self.run_directory_task(&mut items[i], t).await;
            }
            if !distribution.is_empty() {
                self.run_distribution_tasks(items, distribution).await;
            }
            for (key, members) in groups {
                self.run_salesforce_group(items, &key, members).await;
            }
        }
    }

    async fn run_directory_task(&self, item: &mut Item, t: usize) {
        let Task::Directory(task) = item.workflow.tasks[t].clone() else {
            return;
        };
        item.tasks[t].attempts += 1;
        match self.directory_task(item, &task).await {
            Ok(id) => {
                item.tasks[t].status = "succeeded".into();
                item.tasks[t].record_id = Some(id);
                item.tasks[t].error = None;
            }
            // The store was busy, locked or full: the task stays pending and the run is tried
            // again with backoff, like a Salesforce call that may pass later.
            Err(e) if e.is_transient() => {
                let msg = format!(
                    "the database was unavailable ({}); trying again",
                    source_text(&e)
                );
                item.tasks[t].error = Some(msg.clone());
                item.outcome = Some(Outcome::Retry(format!("task {}: {msg}", t + 1)));
            }
            Err(e) => {
                let msg = e.to_string();
                item.tasks[t].status = "failed".into();
                item.tasks[t].error = Some(msg.clone());
                item.outcome = Some(Outcome::Failed(format!("task {}: {msg}", t + 1)));
            }
        }
    }

    async fn directory_task(&self, item: &Item, task: &DirectoryTask) -> Result<String> {
        let actor = self
            .owner_actor(&item.run.org_id, &item.workflow.owner_id)
            .await?;
        let mut body = Map::new();
        for (k, v) in &task.fields {
            let v = item.value_text(v);
            if !(v.is_null() || v.as_str() == Some("")) {
                body.insert(k.clone(), v);
            }
        }
        let list = match task.action {
            DirectoryAction::AddToList => task.list_id.as_deref(),
            _ => None,
        };
        let upsert = crate::directory::Upsert {
            actor: &actor,
            list_id: list,
            unsubscribe: task.action == DirectoryAction::Unsubscribe,
            source: crate::directory::OptOutSource::Workflow,
            detail: Some(format!("run {}", item.run.id)),
        };
        let (contact, _) = self.upsert_contact(&Value::Object(body), &upsert).await?;
        Ok(contact.id)
    }

    async fn run_salesforce_group(
        &self,
        items: &mut [Item],
        key: &GroupKey,
        members: Vec<(usize, usize)>,
    ) {
        let set_all = |items: &mut [Item], o: &Outcome| {
            for (i, _) in &members {
                items[*i].outcome = Some(o.clone());
            }
        };
        let conn = match self.usable_connection(&key.connection).await {
            Ok(c) => c,
            Err(o) => return set_all(items, &o),
        };
        let describe = match conn.describe(&key.object).await {
            Ok(d) => d,
            Err(e) => return self.call_failed(items, &members, &key.connection, e).await,
        };
        // Resolve each member's effective operation (a create becomes an upsert on an
        // external id filled from the response id) and build its record.
        let mut calls: BTreeMap<(Operation, Option<String>, bool), Vec<Pending>> = BTreeMap::new();
        for &(i, t) in &members {
            let Task::Salesforce(task) = &items[i].workflow.tasks[t] else {
                continue;
            };
            items[i].tasks[t].attempts += 1;
            let (op, ext, from_create) = match task.operation {
                Operation::Create => match idempotency_field(task, &describe) {
                    Some(f) => (Operation::Upsert, Some(f), true),
                    None => (Operation::Create, None, false),
                },
                op => (op, task.external_id_field.clone(), false),
            };
            let mut record = Map::new();
            let mut bad = items[i].response.as_ref().and_then(|r| {
                crate::record_trust::unsigned_pick(
                    task,
                    r,
                    items[i].workflow.allow_unsigned_record_ids,
                )
            });
            if matches!(op, Operation::Update | Operation::Delete) {
                let id = items[i].render(task.record_id.as_deref().unwrap_or(""));
                if id.trim().is_empty() && bad.is_none() {
                    bad = Some("the record id rendered empty for this response".to_string());
                }
                record.insert("Id".into(), Value::String(id.trim().to_string()));
            }
            if op != Operation::Delete {
                for (name, v) in &task.fields {
                    match coerce(&describe, name, items[i].value_text(v)) {
                        Ok(v) => {
                            record.insert(name.clone(), v);
                        }
                        Err(e) => bad = bad.or(Some(e)),
                    }
                }
            }
            if let Some(e) = bad {
                items[i].tasks[t].status = "failed".into();
                items[i].tasks[t].error = Some(e.clone());
                items[i].outcome = Some(Outcome::Failed(format!("task {}: {e}", t + 1)));
                continue;
            }
            calls
                .entry((op, ext, from_create))
                .or_default()
                .push((i, t, Value::Object(record)));
        }
        if let Some(entries) = calls.get_mut(&(Operation::Create, None, false)) {
            self.skip_already_created(&conn, &describe, items, entries)
                .await;
        }
        for ((op, ext, from_create), entries) in calls {
            for chunk in entries.chunks(salesforce::collections::MAX_RECORDS_PER_CALL) {
                let records: Vec<Value> = chunk.iter().map(|(_, _, r)| r.clone()).collect();
                let result = match op {
                    Operation::Create => conn.create_many(&key.object, &records, false).await,
                    Operation::Update => conn.update_many(&key.object, &records, false).await,
                    Operation::Upsert => {
                        conn.upsert_many(
                            &key.object,
                            ext.as_deref().unwrap_or("Id"),
                            &records,
                            false,
                        )
                        .await
                    }
                    Operation::Delete => {
                        let ids: Vec<String> = records
                            .iter()
                            .map(|r| r["Id"].as_str().unwrap_or("").to_string())
                            .collect();
                        conn.delete_many(&ids, false).await
                    }
                };
                let chunk_members: Vec<(usize, usize)> =
                    chunk.iter().map(|(i, t, _)| (*i, *t)).collect();
                match result {
                    Ok(results) => {
                        // A create sent as an upsert fails on a record that an earlier,
                        // interrupted attempt already wrote (e.g. a master-detail field cannot
                        // be updated). Those records exist: find them before calling it a failure.
                        let existing = match (&ext, from_create) {
                            (Some(field), true) if results.iter().any(|r| !r.success) => {
                                let values: Vec<String> = chunk
                                    .iter()
                                    .zip(&results)
                                    .filter(|(_, r)| !r.success)
                                    .filter_map(|((_, _, rec), _)| {
                                        rec.get(field).and_then(Value::as_str).map(str::to_string)
                                    })
                                    .collect();
                                self.existing_by_external_id(&conn, &key.object, field, &values)
                                    .await
                            }
                            _ => HashMap::new(),
                        };
                        for (((i, t), r), (_, _, sent)) in
                            chunk_members.into_iter().zip(results).zip(chunk)
                        {
                            let rec = &mut items[i].tasks[t];
                            let already = ext
                                .as_deref()
                                .and_then(|f| sent.get(f))
                                .and_then(Value::as_str)
                                .and_then(|v| existing.get(v));
                            if let (false, Some(id)) = (r.success, already) {
                                rec.status = "succeeded".into();
                                rec.record_id = Some(id.clone());
                                rec.created = Some(false);
                                rec.error = None;
                            } else if r.success {
                                rec.status = "succeeded".into();
                                rec.record_id = r.id;
                                rec.created = r.created;
                                rec.error = None;
                            } else {
                                let text = r
                                    .errors
                                    .iter()
                                    .map(|e| e.to_string())
                                    .collect::<Vec<_>>()
                                    .join("; ");
                                let retryable = r.errors.iter().any(|e| {
                                    matches!(
                                        e.code.as_str(),
                                        "UNABLE_TO_LOCK_ROW" | "SERVER_UNAVAILABLE"
                                    )
                                });
                                rec.error = Some(text.clone());
                                if retryable {
                                    items[i].outcome = Some(Outcome::Retry(text));
                                } else {
                                    rec.status = "failed".into();
                                    items[i].outcome =
                                        Some(Outcome::Failed(format!("task {}: {text}", t + 1)));
                                }
                            }
                        }
                    }
                    Err(e) => {
                        for &(i, t) in &chunk_members {
                            items[i].tasks[t].error = Some(e.to_string());
                        }
                        self.call_failed(items, &chunk_members, &key.connection, e)
                            .await;
                    }
                }
            }
        }
    }

    /// Record ids by external-id value, for the values that exist (one query; empty on error,
    /// which leaves the original failures standing).
    async fn existing_by_external_id(
        &self,
        conn: &salesforce::Connection,
        object: &str,
        field: &str,
        values: &[String],
    ) -> HashMap<String, String> {
        if values.is_empty() {
            return HashMap::new();
        }
        let quoted: Vec<String> = values
            .iter()
            .map(|v| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'")))
            .collect();
        let soql = format!(
            "SELECT Id, {field} FROM {object} WHERE {field} IN ({})",
            quoted.join(", ")
        );
        let rows: Vec<Value> =
            match futures::TryStreamExt::try_collect(conn.query::<Value>(&soql)).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(error = %e, "looking up already-written records failed");
                    return HashMap::new();
                }
            };
        rows.into_iter()
            .filter_map(|r| {
                Some((
                    r.get(field)?.as_str()?.to_string(),
                    r.get("Id")?.as_str()?.to_string(),
                ))
            })
            .collect()
    }

    /// The live connection to call through, or what its runs become when there is none to
    /// use now: removed or needing a relink (failed), paused or at the reserve of the org's
    /// daily API budget (waiting), the store unavailable (retried).
    async fn usable_connection(
        &self,
        connection_id: &str,
    ) -> std::result::Result<salesforce::Connection, Outcome> {
        let settings = self.salesforce_settings();
        let now = store::now_ms();
        let row = match self.store.connection_by_id(connection_id).await {
            Ok(Some(r)) => r,
            Ok(None) => {
                return Err(Outcome::Failed(
                    "the Salesforce connection was removed; choose another in the workflow".into(),
                ))
            }
            Err(e) => return Err(Outcome::Retry(e.to_string())),
        };
        if row.status != "active" {
            let why = row.last_error.clone().unwrap_or_else(|| row.status.clone());
            return Err(Outcome::Failed(format!(
                "the Salesforce connection needs to be reconnected ({why}): relink it, then retry the run"
            )));
        }
        if let Some(until) = row.paused_until.filter(|u| *u > now) {
            return Err(Outcome::Defer(
                until,
                "the org's API budget is paused".into(),
            ));
        }
        let conn = self
            .live_connection(connection_id)
            .await
            .map_err(|e| Outcome::Failed(e.to_string()))?;
        if let Some(why) = self.api_reserve_reached(&conn) {
            let until = now + settings.limit_pause_ms;
            let _ = self.store.pause_connection(&row.id, until, &why).await;
            return Err(Outcome::Defer(until, why));
        }
        Ok(conn)
    }

    /// A whole call failed: classify once for every run in it.
    async fn call_failed(
        &self,
        items: &mut [Item],
        members: &[(usize, usize)],
        connection_id: &str,
        e: salesforce::Error,
    ) {
        let text = e.to_string();
        let mut permanent = false;
        let outcome: Box<dyn Fn() -> Outcome> = if e.is_rate_limited() {
            let until = store::now_ms() + self.salesforce_settings().limit_pause_ms;
            let _ = self
                .store
                .pause_connection(connection_id, until, &text)
                .await;
            Box::new(move || Outcome::Defer(until, text.clone()))
        } else if e.needs_reconnect() {
            let _ = self
                .store
                .set_connection_status(connection_id, "reconnect", Some(&text))
                .await;
            self.forget_live(connection_id);
            permanent = true;
            Box::new(move || {
                Outcome::Failed(format!(
                    "the Salesforce connection needs to be reconnected ({text}): relink it, then retry the run"
                ))
            })
        } else if e.is_retryable()
            || matches!(
                e,
                salesforce::Error::Persist(_) | salesforce::Error::Protocol(_)
            )
        {
            Box::new(move || Outcome::Retry(text.clone()))
        } else {
            permanent = true;
            Box::new(move || Outcome::Failed(text.clone()))
        };
        for &(i, t) in members {
            if permanent {
                items[i].tasks[t].status = "failed".into();
            }
            items[i].outcome = Some(outcome());
        }
    }

    /// Records the batch, trying again while the store is only briefly unavailable: the
    /// work is done (Salesforce written), and forgetting it would redo it once the lease ran
    /// out. Gives up with the error after half the lease, so no other worker takes over runs
    /// whose outcome is still being recorded.
    async fn finish_with_retries(
        &self,
        owner: &str,
        items: &[Item],
        report: &mut DrainReport,
        lease_ms: i64,
    ) -> Result<()> {
        let deadline =
            std::time::Instant::now() + std::time::Duration::from_millis(lease_ms as u64 / 2);
        let mut pause = std::time::Duration::from_millis(250);
        loop {
            let mut counted = report.clone();
            match self.finish(owner, items, &mut counted).await {
                Ok(()) => {
                    *report = counted;
                    return Ok(());
                }
                Err(e) if e.is_transient() && std::time::Instant::now() + pause < deadline => {
                    tracing::warn!(error = %e, cause = %source_text(&e), "recording workflow runs failed; trying again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(std::time::Duration::from_secs(5));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Records every outcome of the batch in one transaction: one commit, not two per run.
    async fn finish(&self, owner: &str, items: &[Item], report: &mut DrainReport) -> Result<()> {
        let settings = self.salesforce_settings();
        let mut tx = self.store.begin().await?;
        for item in items {
            let tasks = serde_json::to_string(&item.tasks)?;
            let id = &item.job.id;
            let met = item.condition_met;
            match item.outcome.clone().unwrap_or(Outcome::Succeeded) {
                Outcome::Succeeded => {
                    Store::update_run_in(&mut tx, id, "succeeded", met, &tasks, None).await?;
                    Store::complete_job_in(&mut tx, id, owner).await?;
                    let invites = item
                        .workflow
                        .tasks
                        .iter()
                        .any(|t| matches!(t, Task::Distribution(_)));
                    if !invites {
                        notification_outcome(&mut tx, item, "done", None).await?;
                    }
                    report.succeeded += 1;
                }
                Outcome::Skipped => {
                    Store::update_run_in(&mut tx, id, "skipped", met, &tasks, None).await?;
                    Store::complete_job_in(&mut tx, id, owner).await?;
                    report.skipped += 1;
                }
                Outcome::Excluded(why) => {
                    Store::update_run_in(&mut tx, id, "skipped", met, &tasks, Some(&why)).await?;
                    Store::complete_job_in(&mut tx, id, owner).await?;
                    report.skipped += 1;
                }
                Outcome::Failed(msg) => {
                    Store::update_run_in(&mut tx, id, "failed", met, &tasks, Some(&msg)).await?;
                    Store::fail_job_in(&mut tx, id, owner, &msg).await?;
                    notification_outcome(&mut tx, item, "failed", Some(&msg)).await?;
                    report.failed += 1;
                }
                Outcome::Retry(msg) if item.job.attempts >= settings.max_attempts => {
                    let msg = format!("gave up after {} attempts: {msg}", item.job.attempts);
                    Store::update_run_in(&mut tx, id, "failed", met, &tasks, Some(&msg)).await?;
                    Store::fail_job_in(&mut tx, id, owner, &msg).await?;
                    notification_outcome(&mut tx, item, "failed", Some(&msg)).await?;
                    report.failed += 1;
                }
                Outcome::Retry(msg) => {
                    let at =
                        store::now_ms() + backoff_ms(settings.retry_base_ms, item.job.attempts);
                    Store::update_run_in(&mut tx, id, "retrying", met, &tasks, Some(&msg)).await?;
                    Store::retry_job_in(&mut tx, id, owner, at, &msg, true).await?;
                    report.retried += 1;
                }
                Outcome::Defer(until, msg) => {
                    Store::update_run_in(&mut tx, id, "waiting", met, &tasks, Some(&msg)).await?;
                    Store::retry_job_in(&mut tx, id, owner, until, &msg, false).await?;
                    report.deferred += 1;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// What a notification's run came to, on the notification (a response's run has none).
async fn notification_outcome(
    tx: &mut Transaction<'_, Any>,
    item: &Item,
    status: &str,
    detail: Option<&str>,
) -> Result<()> {
    if let Some(n) = &item.run.notification_id {
        Store::set_notification_outcome(tx, n, status, detail, None).await?;
    }
    Ok(())
}

/// A notification's record as piped text reads it: each field's value as text (numbers and
/// checkboxes as Salesforce writes them, nil as empty).
pub(crate) fn record_fields(record: &str) -> BTreeMap<String, String> {
    let fields: BTreeMap<String, Value> = serde_json::from_str(record).unwrap_or_default();
    fields
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (k, text)
        })
        .collect()
}

/// The cause under an error, for run records and logs (a transient store error's own text
/// only says to try again).
fn source_text(e: &Error) -> String {
    std::error::Error::source(e)
        .map(|s| s.to_string())
        .unwrap_or_default()
}

impl From<salesforce::Error> for Error {
    fn from(e: salesforce::Error) -> Self {
        Error::Internal(Box::new(e))
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
                {"name": "Response_Id__c", "type": "string", "createable": true, "externalId": true},
                {"name": "Survey_Name__c", "type": "string", "createable": true},
                {"name": "NPS_Score__c", "type": "double", "createable": true},
                {"name": "Count__c", "type": "int", "createable": true},
                {"name": "Done__c", "type": "boolean", "createable": true}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn rendered_text_becomes_the_fields_type() {
        let d = describe();
        assert_eq!(coerce(&d, "NPS_Score__c", json!("9")).unwrap(), json!(9.0));
        assert_eq!(coerce(&d, "Count__c", json!("3.0")).unwrap(), json!(3));
        assert_eq!(coerce(&d, "Done__c", json!("Yes")).unwrap(), json!(true));
        assert_eq!(
            coerce(&d, "NPS_Score__c", json!("  ")).unwrap(),
            Value::Null
        );
        assert!(coerce(&d, "NPS_Score__c", json!("nine"))
            .unwrap_err()
            .contains("NPS_Score__c"));
        assert!(coerce(&d, "Nope__c", json!("x")).is_err());
        assert_eq!(coerce(&d, "Count__c", json!(4)).unwrap(), json!(4));
    }

    #[test]
    fn a_create_keyed_by_the_response_id_is_idempotent() {
        let d = describe();
        let task = |field: &str, text: &str| SalesforceTask {
            connection_id: "SC_1".into(),
            object: "Survey_Response__c".into(),
            operation: Operation::Create,
            external_id_field: None,
            record_id: None,
            fields: [(field.to_string(), FieldValue::Piped(text.into()))].into(),
        };
        assert_eq!(
            idempotency_field(&task("Response_Id__c", "${rm://ResponseID}"), &d).as_deref(),
            Some("Response_Id__c")
        );
        assert_eq!(
            idempotency_field(&task("Response_Id__c", "fixed"), &d),
            None
        );
        // Not an external id: a plain create.
        assert_eq!(
            idempotency_field(&task("Survey_Name__c", "${rm://ResponseID}"), &d),
            None
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_ms(1000, 1), 1000);
        assert_eq!(backoff_ms(1000, 3), 4000);
        assert_eq!(backoff_ms(1000, 40), 600_000);
    }
}
