//! When the store cannot take a write for now — busy or locked by another writer, out of
//! space, unreachable — callers are told it is transient so they answer 503 or retry; a
//! connection left inside a dead transaction is never handed out again; and a real write
//! probe tells `/healthz` whether the store accepts writes at all.

use crate::{Store, StoreError};
use sqlx::error::DatabaseError;
use sqlx::Connection;
use std::time::{Duration, Instant};

/// How long the health probe may take before the store counts as unwritable. Load balancers
/// and orchestrators time health checks out after a second or a few; this answers sooner.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(1500);
/// How long the probe's write waits for another writer's lock (less than its deadline).
pub(crate) const PROBE_LOCK_WAIT: Duration = Duration::from_millis(1000);
/// A probe result is reused this long: health checks arriving together share one write.
const PROBE_REUSE: Duration = Duration::from_millis(250);
/// Below this much free space the data dir's disk counts as full. Small writes may still fit
/// then (SQLite reuses the space of a rolled-back transaction's log), but a response or an
/// import would not: the node should leave rotation before its writers fail.
pub const MIN_FREE_BYTES: u64 = 1024 * 1024;

impl StoreError {
    /// True when the same operation may succeed if tried again later: the database is busy
    /// or locked, a serializable transaction lost a race, the disk is full or failing, the
    /// pool has no free connection, or the server went away. Bad data and wrong queries are
    /// permanent.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Database(e) => is_transient(e),
            _ => false,
        }
    }
}

/// See [`StoreError::is_transient`].
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            if let Some(sqlite) = db.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
                sqlite_transient(sqlite.code().as_deref())
            } else if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                postgres_transient(pg.code())
            } else {
                false
            }
        }
        _ => false,
    }
}

/// SQLite reports extended result codes; the primary code is the low byte.
fn sqlite_transient(code: Option<&str>) -> bool {
    const BUSY: i64 = 5; // also BUSY_SNAPSHOT (517), BUSY_RECOVERY, BUSY_TIMEOUT
    const LOCKED: i64 = 6;
    const NOMEM: i64 = 7;
    const IOERR: i64 = 10;
    const FULL: i64 = 13;
    const PROTOCOL: i64 = 15;
    let Some(code) = code.and_then(|c| c.parse::<i64>().ok()) else {
        return false;
    };
    matches!(code & 0xff, BUSY | LOCKED | NOMEM | IOERR | FULL | PROTOCOL)
}

fn postgres_transient(sqlstate: &str) -> bool {
    matches!(
        sqlstate,
        // serialization_failure, deadlock_detected, lock_not_available (lock_timeout)
        "40001" | "40P01" | "55P03"
        // admin_shutdown, crash_shutdown, cannot_connect_now
        | "57P01" | "57P02" | "57P03"
    ) || sqlstate.starts_with("08") // connection exceptions
        || sqlstate.starts_with("53") // insufficient resources: disk full, out of memory, too many connections
        || sqlstate.starts_with("58") // system errors (I/O)
}

/// Decides on release whether a pooled connection may be handed out again. A transaction
/// whose COMMIT or ROLLBACK failed (SQLite rolls back by itself on SQLITE_FULL or an I/O
/// error, so the driver's ROLLBACK fails too) leaves the driver believing it is still inside
/// it: the next `begin` would open a savepoint in a dead or still-open transaction, and its
/// "commit" would only release that savepoint — acknowledged, never stored, and holding the
/// write lock. Such a connection is closed instead.
pub(crate) async fn fit_for_reuse(
    conn: &mut sqlx::AnyConnection,
    backend: crate::Backend,
) -> Result<bool, sqlx::Error> {
    if backend == crate::Backend::Sqlite {
        // SQLite's driver queues the rollback a dropped transaction leaves: the ping waits
        // behind it, so the transaction depth read next is the one after it. (PostgreSQL's
        // driver counts the rollback at once.)
        conn.ping().await?;
    }
    if conn.is_in_transaction() {
        tracing::warn!("discarding a database connection left inside a failed transaction");
        return Ok(false);
    }
    Ok(true)
}

/// The last probe, shared by every clone of a store.
#[derive(Default)]
pub(crate) struct ProbeState {
    last: tokio::sync::Mutex<Option<(Instant, Result<(), String>)>>,
}

impl Store {
    /// Whether the store accepts a write now: one row of `heartbeat` is rewritten through
    /// the probe's own connection, within [`PROBE_TIMEOUT`]. `Err` says why not, in words an
    /// operator can act on. One probe runs at a time; results are reused for a second.
    pub async fn probe_write(&self) -> Result<(), String> {
        let mut last = self.probe_state.last.lock().await;
        if let Some((at, result)) = last.as_ref() {
            if at.elapsed() < PROBE_REUSE {
                return result.clone();
            }
        }
        let result = match tokio::time::timeout(PROBE_TIMEOUT, self.heartbeat()).await {
            Ok(Ok(())) => self.enough_free_space(),
            Ok(Err(e)) => Err(format!("the database cannot be written: {e}")),
            Err(_) => Err(format!(
                "the database cannot be written: a write waited more than {} ms (another process holds the lock?)",
                PROBE_TIMEOUT.as_millis()
            )),
        };
        *last = Some((Instant::now(), result.clone()));
        result
    }

    /// On a data dir, whether its disk has room for more than the smallest writes.
    fn enough_free_space(&self) -> Result<(), String> {
        let Some(dir) = &self.data_dir else {
            return Ok(());
        };
        match free_bytes(dir) {
            Some(free) if free < MIN_FREE_BYTES => Err(format!(
                "the database cannot be written: the disk holding {} is full ({} KiB free)",
                dir.display(),
                free / 1024
            )),
            _ => Ok(()),
        }
    }

    async fn heartbeat(&self) -> Result<(), StoreError> {
        let mut tx = match self.backend {
            crate::Backend::Sqlite => self.probe_pool.begin_with("BEGIN IMMEDIATE").await?,
            crate::Backend::Postgres => self.probe_pool.begin().await?,
        };
        sqlx::query("UPDATE heartbeat SET beat_at = $1 WHERE id = 1")
            .bind(crate::now_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(unix)]
fn free_bytes(dir: &std::path::Path) -> Option<u64> {
    let s = rustix::fs::statvfs(dir).ok()?;
    Some(s.f_bavail.saturating_mul(s.f_frsize))
}

#[cfg(not(unix))]
fn free_bytes(_dir: &std::path::Path) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_codes_by_their_primary_byte() {
        for transient in ["5", "517", "261", "6", "13", "10", "778", "3338"] {
            assert!(sqlite_transient(Some(transient)), "{transient}");
        }
        for permanent in ["1", "19", "2067", "1555", "11", "8"] {
            assert!(!sqlite_transient(Some(permanent)), "{permanent}");
        }
        assert!(!sqlite_transient(None));
    }

    #[test]
    fn postgres_states_that_pass() {
        for transient in [
            "40001", "40P01", "55P03", "57P01", "08006", "53100", "53300",
        ] {
            assert!(postgres_transient(transient), "{transient}");
        }
        for permanent in ["23505", "42P01", "22P02", "42601"] {
            assert!(!postgres_transient(permanent), "{permanent}");
        }
    }
}
