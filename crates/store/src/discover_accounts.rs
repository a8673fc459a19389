//! What inbound jobs add beyond their settings: a job's own Salesforce account's sealed
//! secrets (`discover_job_accounts`), a job read inside the transaction that ends its run,
//! and the jobs whose credential has an expiry date (the reminder's pass).

use crate::discover::{job_from, JobRow, JOB_COLUMNS};
use crate::{Result, Store};
use sqlx::{Any, Row, Transaction};

/// A job's own account's secrets, each sealed by the engine before it gets here.
#[derive(Clone, PartialEq, Eq)]
pub struct JobAccountSecretsRow {
    pub job_id: String,
    pub org_id: String,
    pub client_secret: String,
    pub password: String,
    pub updated_at: i64,
}

impl std::fmt::Debug for JobAccountSecretsRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobAccountSecretsRow")
            .field("job_id", &self.job_id)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Keeps a job's account secrets (replacing earlier ones), in the job's transaction.
    pub async fn put_discover_job_account(
        tx: &mut Transaction<'_, Any>,
        a: &JobAccountSecretsRow,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO discover_job_accounts (job_id, org_id, client_secret, password, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (job_id) DO UPDATE SET \
             client_secret = excluded.client_secret, password = excluded.password, \
             updated_at = excluded.updated_at",
        )
        .bind(&a.job_id)
        .bind(&a.org_id)
        .bind(&a.client_secret)
        .bind(&a.password)
        .bind(a.updated_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub async fn discover_job_account(&self, job_id: &str) -> Result<Option<JobAccountSecretsRow>> {
        let row = sqlx::query(
            "SELECT job_id, org_id, client_secret, password, updated_at \
             FROM discover_job_accounts WHERE job_id = $1",
        )
        .bind(job_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(JobAccountSecretsRow {
                job_id: r.try_get("job_id")?,
                org_id: r.try_get("org_id")?,
                client_secret: r.try_get("client_secret")?,
                password: r.try_get("password")?,
                updated_at: r.try_get("updated_at")?,
            })
        })
        .transpose()
    }

    /// A job by id, inside a transaction (the one that records its run's end).
    pub async fn discover_job_in(
        tx: &mut Transaction<'_, Any>,
        id: &str,
    ) -> Result<Option<JobRow>> {
        let row = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM discover_jobs WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        row.as_ref().map(job_from).transpose()
    }

    /// Replaces a job's settings (its account's non-secret parts and expiry).
    pub async fn set_discover_job_settings(
        tx: &mut Transaction<'_, Any>,
        id: &str,
        connection_id: &str,
        settings: &str,
        at: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE discover_jobs SET connection_id = $1, settings = $2, updated_at = $3 \
             WHERE id = $4",
        )
        .bind(connection_id)
        .bind(settings)
        .bind(at)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Every organization's jobs whose credential has an expiry date (the reminder's pass).
    pub async fn discover_jobs_with_credential_expiry(&self) -> Result<Vec<JobRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM discover_jobs \
             WHERE settings LIKE '%\"credentialExpiresOn\":\"%' ORDER BY id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(job_from).collect()
    }
}
