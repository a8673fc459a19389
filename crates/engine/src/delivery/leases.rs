//! A batch of workflow runs keeps its claim while it is worked. Runs are claimed under a lease
//! (`SalesforceSettings::run_lease_ms`) so a worker that stops gives its runs back; a worker
//! that is only slow — Salesforce taking long over a big Collections call, a long backoff —
//! renews the lease every third of it, so no second worker (another node on PostgreSQL) takes
//! the same runs and writes their records twice.

use std::future::Future;
use std::time::Duration;
use store::Store;

/// Runs `work` while renewing the leases of `ids`, claimed by `owner`, every third of
/// `lease_ms`; answers what `work` answers.
pub(crate) async fn holding<T>(
    store: &Store,
    owner: &str,
    ids: &[String],
    lease_ms: i64,
    work: impl Future<Output = T>,
) -> T {
    let every = Duration::from_millis((lease_ms / 3).max(1) as u64);
    let renew = async {
        loop {
            tokio::time::sleep(every).await;
            match store
                .renew_job_leases(ids, owner, store::now_ms() + lease_ms)
                .await
            {
                Ok(kept) if (kept as usize) < ids.len() => tracing::warn!(
                    owner,
                    kept,
                    claimed = ids.len(),
                    "some workflow runs' leases were lost while being worked"
                ),
                Ok(_) => {}
                // The next renewal tries again; a lease lost meanwhile is then reported.
                Err(e) => {
                    tracing::warn!(error = %e, owner, "renewing workflow runs' leases failed")
                }
            }
        }
    };
    tokio::pin!(work);
    tokio::select! {
        out = &mut work => out,
        never = renew => never,
    }
}
