//! Failed sign-in counts per subject (an account, a client address), kept in the database so
//! that every node, and a restarted one, throttle alike. The policy (how many failures are
//! free, how the delay grows) is the engine's; this module counts and blocks atomically.

use crate::{Result, Store};
use sqlx::Row;

/// What the policy decides for one subject once an attempt was counted.
pub trait Delay: Sync {
    /// How long the subject waits after its `failures`-th failure, in milliseconds (0: none).
    fn after_failures(&self, failures: i64) -> i64;
}

/// An attempt counted, or refused because a subject is waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Counted,
    /// A subject waits until this time (ms since the epoch).
    Blocked {
        until: i64,
    },
}

impl Store {
    /// Counts an attempt against every subject, unless one of them is blocked now: then
    /// nothing is counted. Counting before the password is checked means that a burst of
    /// parallel guesses is cut off at the limit instead of all being checked; a sign-in that
    /// succeeds takes its count back ([`Store::sign_in_succeeded`]). Failures older than
    /// `forget_before` start over.
    pub async fn count_sign_in_attempt(
        &self,
        subjects: &[(&str, &dyn Delay)],
        now: i64,
        forget_before: i64,
    ) -> Result<Attempt> {
        let mut tx = self.begin().await?;
        for (subject, policy) in subjects {
            // The conflict update applies only while the subject is not blocked; a blocked one
            // returns no row and the whole attempt is rolled back.
            let row = sqlx::query(
                "INSERT INTO sign_in_throttle (subject, failures, last_failure_at, blocked_until) \
                 VALUES ($1, 1, $2, 0) \
                 ON CONFLICT (subject) DO UPDATE SET \
                   failures = CASE WHEN sign_in_throttle.last_failure_at < $3 THEN 1 \
                                   ELSE sign_in_throttle.failures + 1 END, \
                   last_failure_at = $2 \
                 WHERE sign_in_throttle.blocked_until <= $2 \
                 RETURNING failures",
            )
            .bind(*subject)
            .bind(now)
            .bind(forget_before)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                let until: i64 =
                    sqlx::query("SELECT blocked_until FROM sign_in_throttle WHERE subject = $1")
                        .bind(*subject)
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get("blocked_until")?;
                tx.rollback().await?;
                return Ok(Attempt::Blocked { until });
            };
            let failures: i64 = row.try_get("failures")?;
            let delay = policy.after_failures(failures);
            if delay > 0 {
                sqlx::query("UPDATE sign_in_throttle SET blocked_until = $1 WHERE subject = $2")
                    .bind(now + delay)
                    .bind(*subject)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(Attempt::Counted)
    }

    /// A sign-in succeeded: the account starts over, and the address gets back the attempt
    /// counted for it (an address is not cleared: one good account must not launder guesses
    /// at others).
    pub async fn sign_in_succeeded(&self, account: &str, address: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM sign_in_throttle WHERE subject = $1")
            .bind(account)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE sign_in_throttle SET failures = failures - 1 \
             WHERE subject = $1 AND failures > 0",
        )
        .bind(address)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets subjects whose last failure is older than `before` and that wait no more.
    pub async fn forget_sign_in_failures(&self, before: i64, now: i64) -> Result<u64> {
        Ok(sqlx::query(
            "DELETE FROM sign_in_throttle WHERE last_failure_at < $1 AND blocked_until <= $2",
        )
        .bind(before)
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected())
    }
}
