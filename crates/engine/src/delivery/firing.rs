//! What fires a run: a recorded response (`fire`), a Salesforce notification
//! (`fire_for_notification`) and an opt-out written back to Salesforce (`fire_opt_out`). Each
//! writes its job and its run together, in the transaction of the fact that caused it, and
//! nothing when the job's dedupe key was taken already.

use super::{pending_record, WORKFLOW_JOB};
use crate::workflows::{Event, Task, TaskRecord, Workflow};
use crate::Result;
use serde_json::Value;
use store::queue::NewJob;
use store::responses::ResponseRow;
use store::salesforce_messages::NotificationRow;
use store::workflows::RunRow;
use store::{Any, Store, Transaction};

/// The trigger of a run that writes an opt-out back to Salesforce.
pub const OPT_OUT_TRIGGER: &str = "opt_out";

/// A new run's id (its job has the same one).
pub(crate) fn run_id() -> String {
    format!("RN_{}", store::ids::random_token(20))
}

/// One run to queue: its job and its row.
struct NewRun<'a> {
    id: String,
    org_id: &'a str,
    workflow_id: &'a str,
    trigger: &'a str,
    tasks: &'a [Task],
    /// The job's payload (`runId` and `workflowId` are added).
    payload: Value,
    dedupe_key: String,
    response_id: &'a str,
    notification_id: Option<&'a str>,
    at: i64,
}

/// Writes the job and the run; false (and nothing written) when the dedupe key was taken.
async fn queue_run(tx: &mut Transaction<'_, Any>, r: NewRun<'_>) -> Result<bool> {
    let mut payload = r.payload;
    payload["runId"] = Value::String(r.id.clone());
    payload["workflowId"] = Value::String(r.workflow_id.to_string());
    let job = NewJob {
        id: r.id.clone(),
        org_id: r.org_id.to_string(),
        kind: WORKFLOW_JOB.into(),
        payload: payload.to_string(),
        dedupe_key: r.dedupe_key,
        run_after: 0,
    };
    if !Store::enqueue_job(tx, &job).await? {
        return Ok(false);
    }
    let tasks: Vec<TaskRecord> = r
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| pending_record(i, t))
        .collect();
    Store::insert_run(
        tx,
        &RunRow {
            id: r.id,
            org_id: r.org_id.to_string(),
            workflow_id: r.workflow_id.to_string(),
            response_id: r.response_id.to_string(),
            trigger: r.trigger.into(),
            status: "queued".into(),
            condition_met: None,
            tasks: serde_json::to_string(&tasks)?,
            error: None,
            created_at: r.at,
            updated_at: r.at,
            notification_id: r.notification_id.map(str::to_string),
        },
    )
    .await?;
    Ok(true)
}

/// Writes the runs and jobs a response fires, inside the response's transaction.
pub(crate) async fn fire(
    tx: &mut Transaction<'_, Any>,
    response: &ResponseRow,
    event: Event,
) -> Result<usize> {
    let workflows = Store::workflows_for_event(tx, &response.survey_id, event.as_str()).await?;
    let mut fired = 0;
    for w in workflows {
        let def: crate::workflows::Definition = serde_json::from_str(&w.definition)?;
        // An update may fire again; a creation or a close fires once per response.
        let dedupe_key = match event {
            Event::ResponseUpdated => format!(
                "wf:{}:{}:{}:{}",
                w.id,
                response.id,
                event.as_str(),
                response.updated_at
            ),
            _ => format!("wf:{}:{}:{}", w.id, response.id, event.as_str()),
        };
        let queued = queue_run(
            tx,
            NewRun {
                id: run_id(),
                org_id: &response.org_id,
                workflow_id: &w.id,
                trigger: event.as_str(),
                tasks: &def.tasks,
                payload: serde_json::json!({"responseId": response.id}),
                dedupe_key,
                response_id: &response.id,
                notification_id: None,
                at: store::now_ms(),
            },
        )
        .await?;
        fired += usize::from(queued);
    }
    Ok(fired)
}

/// Writes the run (and job) a new notification fires, inside the transaction recording it.
/// The notification row already names the run (`run_id`).
pub(crate) async fn fire_for_notification(
    tx: &mut Transaction<'_, Any>,
    workflow: &Workflow,
    n: &NotificationRow,
) -> Result<()> {
    let Some(id) = n.run_id.clone() else {
        return Ok(());
    };
    let event = Event::SalesforceMessage;
    queue_run(
        tx,
        NewRun {
            id,
            org_id: &n.org_id,
            workflow_id: &workflow.id,
            trigger: event.as_str(),
            tasks: &workflow.tasks,
            payload: serde_json::json!({"notificationId": n.id}),
            dedupe_key: format!("wf:{}:{}:{}", workflow.id, n.id, event.as_str()),
            response_id: "",
            notification_id: Some(&n.id),
            at: n.received_at,
        },
    )
    .await?;
    Ok(())
}

/// Queues the write of an opt-out to Salesforce, inside the opt-out's transaction: a run of
/// the invitation's workflow whose one task (in the job) updates the record's checkbox.
pub(crate) async fn fire_opt_out(
    tx: &mut Transaction<'_, Any>,
    w: &crate::opt_out_sync::OptOutWrite,
) -> Result<()> {
    let tasks = [Task::Salesforce(w.task.clone())];
    queue_run(
        tx,
        NewRun {
            id: run_id(),
            org_id: &w.org_id,
            workflow_id: &w.workflow_id,
            trigger: OPT_OUT_TRIGGER,
            tasks: &tasks,
            payload: serde_json::json!({"tasks": tasks}),
            dedupe_key: format!("optout:{}:{}", w.distribution_id, w.channel),
            response_id: "",
            notification_id: None,
            at: store::now_ms(),
        },
    )
    .await?;
    Ok(())
}
