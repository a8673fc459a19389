//! The durable job queue: jobs are enqueued inside the caller's transaction (so a response and
//! the effects it triggers commit together), claimed in batches under a lease, and finished,
//! retried with backoff or failed for good. A crashed worker's lease runs out and the job is
//! claimed again.

use crate::{now_ms, Backend, Result, Store};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// A job to enqueue. `dedupe_key` names the effect: enqueuing it again is a no-op.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: String,
    pub org_id: String,
    pub kind: String,
    pub payload: String,
    pub dedupe_key: String,
    pub run_after: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: String,
    pub org_id: String,
    pub kind: String,
    pub payload: String,
    pub dedupe_key: String,
    pub status: String,
    /// Claims so far, this one included.
    pub attempts: i64,
    pub run_after: i64,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    /// The last change: for a job done or failed, when it finished.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, org_id, kind, payload, dedupe_key, status, attempts, run_after, \
                       lease_owner, lease_expires_at, last_error, created_at, updated_at";

fn job_from(row: &AnyRow) -> Result<Job> {
    Ok(Job {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        kind: row.try_get("kind")?,
        payload: row.try_get("payload")?,
        dedupe_key: row.try_get("dedupe_key")?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        run_after: row.try_get("run_after")?,
        lease_owner: row.try_get("lease_owner")?,
        lease_expires_at: row.try_get("lease_expires_at")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Counts of jobs by status, for tests and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub queued: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
}

impl Store {
    /// Enqueues within the caller's transaction. Returns false when a job with the same
    /// dedupe key already exists (nothing is written).
    pub async fn enqueue_job(tx: &mut Transaction<'_, Any>, job: &NewJob) -> Result<bool> {
        Ok(Self::enqueue_jobs(tx, std::slice::from_ref(job)).await? == 1)
    }

    /// Enqueues many jobs within the caller's transaction, several rows per statement (a
    /// distribution's send jobs, 500 at a time). A job whose dedupe key exists is skipped.
    pub async fn enqueue_jobs(tx: &mut Transaction<'_, Any>, jobs: &[NewJob]) -> Result<u64> {
        // 8 parameters a row; few enough per statement that binding stays cheap.
        const ROWS: usize = 32;
        let now = now_ms();
        let mut written = 0;
        for chunk in jobs.chunks(ROWS) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let p = i * 8;
                    format!(
                        "(${}, ${}, ${}, ${}, ${}, 'queued', 0, ${}, ${}, ${})",
                        p + 1,
                        p + 2,
                        p + 3,
                        p + 4,
                        p + 5,
                        p + 6,
                        p + 7,
                        p + 8
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO jobs (id, org_id, kind, payload, dedupe_key, status, attempts, \
                 run_after, created_at, updated_at) VALUES {} ON CONFLICT (dedupe_key) DO NOTHING",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for job in chunk {
                q = q
                    .bind(&job.id)
                    .bind(&job.org_id)
                    .bind(&job.kind)
                    .bind(&job.payload)
                    .bind(&job.dedupe_key)
                    .bind(job.run_after)
                    .bind(now)
                    .bind(now);
            }
            written += q.execute(&mut **tx).await?.rows_affected();
        }
        Ok(written)
    }

    /// Marks these claimed jobs done in one statement; answers those still held by `owner`
    /// (a job whose lease was lost is another worker's, and so is its outcome).
    pub async fn complete_jobs_in(
        tx: &mut Transaction<'_, Any>,
        ids: &[String],
        owner: &str,
    ) -> Result<std::collections::HashSet<String>> {
        let mut kept = std::collections::HashSet::new();
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
            let sql = format!(
                "UPDATE jobs SET status = 'done', lease_owner = NULL, lease_expires_at = NULL, \
                 last_error = NULL, updated_at = $1 WHERE lease_owner = $2 AND status = 'running' \
                 AND id IN ({}) RETURNING id",
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(now_ms()).bind(owner);
            for id in chunk {
                q = q.bind(id);
            }
            for row in q.fetch_all(&mut **tx).await? {
                kept.insert(row.try_get::<String, _>("id")?);
            }
        }
        Ok(kept)
    }

    /// Claims up to `limit` jobs of `kind` that are due, or whose lease has run out, for
    /// `owner` until now + `lease_ms`. Two claimers never get the same job: PostgreSQL skips
    /// rows another transaction has locked; SQLite has one writer at a time.
    ///
    /// Jobs whose lease ran out are claimed first, then queued ones, in two statements: one
    /// `WHERE` with both (an `OR`) made SQLite read every job of the kind ever written, done
    /// ones included, at each claim (29 ms at 100,000 jobs), where each half alone walks the
    /// `(kind, status, run_after)` index to the rows it takes.
    pub async fn claim_jobs(
        &self,
        kind: &str,
        owner: &str,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Vec<Job>> {
        let now = now_ms();
        let locking = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let mut tx = self.begin().await?;
        let mut jobs = Vec::new();
        for due in [
            "status = 'running' AND lease_expires_at < $5",
            "status = 'queued' AND run_after <= $5",
        ] {
            let left = limit - jobs.len() as i64;
            if left <= 0 {
                break;
            }
            let sql = format!(
                "UPDATE jobs SET status = 'running', lease_owner = $1, lease_expires_at = $2, \
                 attempts = attempts + 1, updated_at = $3 WHERE id IN (SELECT id FROM jobs \
                 WHERE kind = $4 AND {due} ORDER BY run_after, id LIMIT $6{locking}) \
                 RETURNING {COLUMNS}"
            );
            let rows = sqlx::query(&sql)
                .bind(owner)
                .bind(now + lease_ms)
                .bind(now)
                .bind(kind)
                .bind(now)
                .bind(left)
                .fetch_all(&mut *tx)
                .await?;
            for row in &rows {
                jobs.push(job_from(row)?);
            }
        }
        tx.commit().await?;
        jobs.sort_by(|a, b| (a.run_after, &a.id).cmp(&(b.run_after, &b.id)));
        Ok(jobs)
    }

    /// Keeps a claimed job's lease while it is still being worked (a long pull), so no other
    /// worker takes it; false when the lease was already lost.
    pub async fn renew_job_lease(&self, id: &str, owner: &str, until: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET lease_expires_at = $1, updated_at = $2 \
             WHERE id = $3 AND lease_owner = $4 AND status = 'running'",
        )
        .bind(until)
        .bind(now_ms())
        .bind(id)
        .bind(owner)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Keeps the leases of claimed jobs `ids` of `owner` until `until` (a batch still being
    /// worked); the jobs whose lease was lost meanwhile are not touched. Answers how many kept.
    pub async fn renew_job_leases(&self, ids: &[String], owner: &str, until: i64) -> Result<u64> {
        let mut kept = 0;
        // In slices, so the statement stays within every engine's bind limit.
        for slice in ids.chunks(500) {
            let marks: Vec<String> = (0..slice.len()).map(|i| format!("${}", i + 4)).collect();
            let sql = format!(
                "UPDATE jobs SET lease_expires_at = $1, updated_at = $2 \
                 WHERE lease_owner = $3 AND status = 'running' AND id IN ({})",
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(until).bind(now_ms()).bind(owner);
            for id in slice {
                q = q.bind(id);
            }
            kept += q.execute(self.writer()).await?.rows_affected();
        }
        Ok(kept)
    }

    /// Marks a claimed job done. False when the lease was lost meanwhile (another worker
    /// re-claimed it after expiry): the caller's result is then not the one that counts.
    pub async fn complete_job(&self, id: &str, owner: &str) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = Self::complete_job_in(&mut tx, id, owner).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// As [`Store::complete_job`], in the caller's transaction (a worker finishes a batch in one).
    pub async fn complete_job_in(
        tx: &mut Transaction<'_, Any>,
        id: &str,
        owner: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET status = 'done', lease_owner = NULL, lease_expires_at = NULL, \
             last_error = NULL, updated_at = $1 WHERE id = $2 AND lease_owner = $3 AND status = 'running'",
        )
        .bind(now_ms())
        .bind(id)
        .bind(owner)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts a claimed job back to run again at `run_after` (backoff chosen by the caller).
    /// `count_attempt = false` undoes the claim's attempt (e.g. the org's budget is paused).
    pub async fn retry_job(
        &self,
        id: &str,
        owner: &str,
        run_after: i64,
        error: &str,
        count_attempt: bool,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = Self::retry_job_in(&mut tx, id, owner, run_after, error, count_attempt).await?;
        tx.commit().await?;
        Ok(done)
    }

    pub async fn retry_job_in(
        tx: &mut Transaction<'_, Any>,
        id: &str,
        owner: &str,
        run_after: i64,
        error: &str,
        count_attempt: bool,
    ) -> Result<bool> {
        let undo = if count_attempt { 0 } else { 1 };
        let done = sqlx::query(
            "UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL, \
             run_after = $1, last_error = $2, attempts = attempts - $3, updated_at = $4 \
             WHERE id = $5 AND lease_owner = $6 AND status = 'running'",
        )
        .bind(run_after)
        .bind(error)
        .bind(undo as i64)
        .bind(now_ms())
        .bind(id)
        .bind(owner)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives up on a claimed job: it stays `failed` until someone retries it.
    pub async fn fail_job(&self, id: &str, owner: &str, error: &str) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = Self::fail_job_in(&mut tx, id, owner, error).await?;
        tx.commit().await?;
        Ok(done)
    }

    pub async fn fail_job_in(
        tx: &mut Transaction<'_, Any>,
        id: &str,
        owner: &str,
        error: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET status = 'failed', lease_owner = NULL, lease_expires_at = NULL, \
             last_error = $1, updated_at = $2 WHERE id = $3 AND lease_owner = $4 AND status = 'running'",
        )
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .bind(owner)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Queues a failed job again now, with a fresh attempt count.
    pub async fn requeue_failed_job(&self, org_id: &str, id: &str) -> Result<bool> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE jobs SET status = 'queued', attempts = 0, run_after = $1, updated_at = $2 \
             WHERE id = $3 AND org_id = $4 AND status = 'failed'",
        )
        .bind(now)
        .bind(now)
        .bind(id)
        .bind(org_id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts every running job of `kind` back in the queue, attempt not counted. Only for a
    /// single node starting up (SQLite: one server per file), whose earlier process died
    /// holding leases that would otherwise keep its work waiting until they expire.
    pub async fn release_all_leases(&self, kind: &str) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL, \
             attempts = attempts - 1, updated_at = $1 WHERE kind = $2 AND status = 'running'",
        )
        .bind(now_ms())
        .bind(kind)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// Moves a queued job (found by its dedupe key) to run at `run_after`; false when it is
    /// not queued (running, done, or not there).
    pub async fn reschedule_queued_job(
        tx: &mut Transaction<'_, Any>,
        dedupe_key: &str,
        run_after: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET run_after = $1, updated_at = $2 WHERE dedupe_key = $3 AND status = 'queued'",
        )
        .bind(run_after)
        .bind(now_ms())
        .bind(dedupe_key)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes a queued job (found by its dedupe key) whose effect is no longer wanted.
    pub async fn delete_queued_job(
        tx: &mut Transaction<'_, Any>,
        dedupe_key: &str,
    ) -> Result<bool> {
        let done = sqlx::query("DELETE FROM jobs WHERE dedupe_key = $1 AND status = 'queued'")
            .bind(dedupe_key)
            .execute(&mut **tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn job(&self, id: &str) -> Result<Option<Job>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(job_from).transpose()
    }

    pub async fn queue_counts(&self, kind: &str) -> Result<QueueCounts> {
        let rows =
            sqlx::query("SELECT status, COUNT(*) AS n FROM jobs WHERE kind = $1 GROUP BY status")
                .bind(kind)
                .fetch_all(self.pool())
                .await?;
        let mut c = QueueCounts::default();
        for row in rows {
            let status: String = row.try_get("status")?;
            let n: i64 = row.try_get("n")?;
            match status.as_str() {
                "queued" => c.queued = n,
                "running" => c.running = n,
                "done" => c.done = n,
                "failed" => c.failed = n,
                _ => {}
            }
        }
        Ok(c)
    }

    /// When the next queued job of `kind` is due (None: nothing queued).
    pub async fn next_job_due(&self, kind: &str) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT MIN(run_after) AS due FROM jobs WHERE kind = $1 AND status = 'queued'",
        )
        .bind(kind)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get::<Option<i64>, _>("due")?)
    }
}

pub fn job_id() -> String {
    crate::ids::ordered("JB_", 8)
}
