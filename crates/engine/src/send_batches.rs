//! Send jobs that hold a batch of recipients each, for email and text alike. The audience
//! writer queues one job per [`crate::distribution_sending::SEND_BATCH`] (or
//! [`crate::sms_sending::SMS_BATCH`]) recipients it decided to send to, in the transaction
//! that writes them; a sending lane claims one job, sends its recipients and finishes the job
//! in the transaction that records their outcomes. Those refused for now (a 4xx, a lost
//! connection) go into a new job of their own, due after the backoff of their attempts.
//!
//! One job per recipient was simpler, but it cost every recipient a queue row (four index
//! entries), a claim and a completion — as much database work as the recipient itself — and
//! the database writer is what a large distribution waits for.

use crate::distribution_audience::{backoff_ms, LEASE_MS};
use crate::Result;
use store::queue::{Job, NewJob};
use store::{Any, Store, Transaction};

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendBatch {
    #[serde(default)]
    recipients: Vec<String>,
}

/// Claims one due send job of `kind`: the job and the recipients it holds.
pub(crate) async fn claim_send_job(
    store: &Store,
    kind: &str,
    owner: &str,
) -> Result<Option<(Job, Vec<String>)>> {
    let job = store.claim_jobs(kind, owner, 1, LEASE_MS).await?.pop();
    Ok(job.map(|job| {
        let ids = recipients_of(&job);
        (job, ids)
    }))
}

/// The recipients a send job holds, in the order they were queued. A job queued before jobs
/// held batches (payload `{}`) is one recipient's, and bears its id.
fn recipients_of(job: &Job) -> Vec<String> {
    match serde_json::from_str::<SendBatch>(&job.payload) {
        Ok(batch) if !batch.recipients.is_empty() => batch.recipients,
        _ => vec![job.id.clone()],
    }
}

fn send_job(
    org_id: &str,
    kind: &str,
    ids: &[String],
    dedupe_key: String,
    run_after: i64,
) -> NewJob {
    let payload = serde_json::to_string(&SendBatch {
        recipients: ids.to_vec(),
    })
    .unwrap_or_default();
    NewJob {
        id: store::queue::job_id(),
        org_id: org_id.to_string(),
        kind: kind.to_string(),
        payload,
        dedupe_key,
        run_after,
    }
}

/// Queues send jobs of `kind` for recipients `ids`, `batch` each, in the caller's transaction.
pub(crate) async fn queue_send_jobs(
    tx: &mut Transaction<'_, Any>,
    org_id: &str,
    kind: &str,
    ids: &[String],
    batch: usize,
    run_after: i64,
) -> Result<()> {
    let jobs: Vec<NewJob> = ids
        .chunks(batch.max(1))
        .map(|chunk| {
            // A recipient is queued once, so its id makes the batch's key.
            let key = format!("send:{}", chunk[0]);
            send_job(org_id, kind, chunk, key, run_after)
        })
        .collect();
    Store::enqueue_jobs(tx, &jobs).await?;
    Ok(())
}

/// Finishes a claimed send job in the caller's transaction, queueing `retry` — recipients
/// refused for now, with the attempts each has had — as a job of their own after the backoff.
/// Answers false when the lease was lost meanwhile: then the job, and what its recipients
/// came to, are another worker's, and the caller records nothing.
pub(crate) async fn finish_send_job(
    tx: &mut Transaction<'_, Any>,
    job: &Job,
    owner: &str,
    retry: &[(String, i64)],
) -> Result<bool> {
    if !Store::complete_job_in(tx, &job.id, owner).await? {
        return Ok(false);
    }
    if let Some(attempts) = retry.iter().map(|(_, a)| *a).max() {
        let ids: Vec<String> = retry.iter().map(|(id, _)| id.clone()).collect();
        let run_after = store::now_ms() + backoff_ms(attempts);
        // The job is finished once (its lease guards it): its id keys the retry.
        let key = format!("retry:{}", job.id);
        let again = send_job(&job.org_id, &job.kind, &ids, key, run_after);
        Store::enqueue_jobs(tx, std::slice::from_ref(&again)).await?;
    }
    Ok(true)
}
