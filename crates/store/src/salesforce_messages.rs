//! Endpoints of workflows fired by Salesforce messages, and the notifications they received
//! (`salesforce_endpoints`, `salesforce_notifications`).

use crate::{now_ms, Result, Store};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRow {
    pub token: String,
    pub workflow_id: String,
    pub org_id: String,
    /// Sealed.
    pub secret: String,
    pub created_at: i64,
}

fn endpoint_from(row: &AnyRow) -> Result<EndpointRow> {
    Ok(EndpointRow {
        token: row.try_get("token")?,
        workflow_id: row.try_get("workflow_id")?,
        org_id: row.try_get("org_id")?,
        secret: row.try_get("secret")?,
        created_at: row.try_get("created_at")?,
    })
}

const ENDPOINT_COLUMNS: &str = "token, workflow_id, org_id, secret, created_at";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRow {
    pub id: String,
    pub org_id: String,
    pub workflow_id: String,
    pub sf_org_id: String,
    pub notification_id: String,
    pub source: String,
    pub object: String,
    pub record_id: Option<String>,
    pub record: String,
    pub status: String,
    pub detail: Option<String>,
    pub duplicates: i64,
    pub received_at: i64,
    pub updated_at: i64,
    /// The run acting on it (none when its workflow has no tasks).
    pub run_id: Option<String>,
    /// The distribution that invited its recipient, once one did.
    pub distribution_id: Option<String>,
}

const NOTIFICATION_COLUMNS: &str = "id, org_id, workflow_id, sf_org_id, notification_id, source, \
     object, record_id, record, status, detail, duplicates, received_at, updated_at, run_id, \
     distribution_id";

/// A notification with what became of its invitation: the recipient's state, and why a
/// skipped one was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationOutcome {
    pub notification: NotificationRow,
    pub recipient_state: Option<String>,
    pub recipient_reason: Option<String>,
    pub recipient_detail: Option<String>,
}

fn notification_from(row: &AnyRow) -> Result<NotificationRow> {
    Ok(NotificationRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        workflow_id: row.try_get("workflow_id")?,
        sf_org_id: row.try_get("sf_org_id")?,
        notification_id: row.try_get("notification_id")?,
        source: row.try_get("source")?,
        object: row.try_get("object")?,
        record_id: row.try_get("record_id")?,
        record: row.try_get("record")?,
        status: row.try_get("status")?,
        detail: row.try_get("detail")?,
        duplicates: row.try_get("duplicates")?,
        received_at: row.try_get("received_at")?,
        updated_at: row.try_get("updated_at")?,
        run_id: row.try_get("run_id")?,
        distribution_id: row.try_get("distribution_id")?,
    })
}

impl Store {
    pub async fn insert_endpoint(&self, e: &EndpointRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO salesforce_endpoints ({ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (workflow_id) DO NOTHING"
        ))
        .bind(&e.token)
        .bind(&e.workflow_id)
        .bind(&e.org_id)
        .bind(&e.secret)
        .bind(e.created_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub async fn endpoint_of_workflow(&self, workflow_id: &str) -> Result<Option<EndpointRow>> {
        let row = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM salesforce_endpoints WHERE workflow_id = $1"
        ))
        .bind(workflow_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(endpoint_from).transpose()
    }

    /// Forgets a workflow's endpoint (moved to another org: the next read makes a new one).
    pub async fn delete_endpoint_of_workflow(&self, workflow_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM salesforce_endpoints WHERE workflow_id = $1")
            .bind(workflow_id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    pub async fn endpoint_by_token(&self, token: &str) -> Result<Option<EndpointRow>> {
        let row = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM salesforce_endpoints WHERE token = $1"
        ))
        .bind(token)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(endpoint_from).transpose()
    }

    /// Records a notification in the caller's transaction; answers false when this org sent
    /// one with this id before (then only its `duplicates` count goes up).
    pub async fn record_notification(
        tx: &mut Transaction<'_, Any>,
        n: &NotificationRow,
    ) -> Result<bool> {
        let done = sqlx::query(&format!(
            "INSERT INTO salesforce_notifications ({NOTIFICATION_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (sf_org_id, notification_id) DO NOTHING"
        ))
        .bind(&n.id)
        .bind(&n.org_id)
        .bind(&n.workflow_id)
        .bind(&n.sf_org_id)
        .bind(&n.notification_id)
        .bind(&n.source)
        .bind(&n.object)
        .bind(&n.record_id)
        .bind(&n.record)
        .bind(&n.status)
        .bind(&n.detail)
        .bind(n.duplicates)
        .bind(n.received_at)
        .bind(n.updated_at)
        .bind(&n.run_id)
        .bind(&n.distribution_id)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(true);
        }
        sqlx::query(
            "UPDATE salesforce_notifications SET duplicates = duplicates + 1, updated_at = $1 \
             WHERE sf_org_id = $2 AND notification_id = $3",
        )
        .bind(now_ms())
        .bind(&n.sf_org_id)
        .bind(&n.notification_id)
        .execute(&mut **tx)
        .await?;
        Ok(false)
    }

    /// The id of the notification this org sent with this id (or key).
    pub async fn notification_id_of(
        tx: &mut Transaction<'_, Any>,
        sf_org_id: &str,
        notification_id: &str,
    ) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM salesforce_notifications WHERE sf_org_id = $1 AND notification_id = $2",
        )
        .bind(sf_org_id)
        .bind(notification_id)
        .fetch_optional(&mut **tx)
        .await?)
    }

    /// How many notifications a workflow has recorded.
    pub async fn count_notifications(&self, workflow_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM salesforce_notifications WHERE workflow_id = $1",
        )
        .bind(workflow_id)
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn notification(&self, id: &str) -> Result<Option<NotificationRow>> {
        let row = sqlx::query(&format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM salesforce_notifications WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(notification_from).transpose()
    }

    /// What a run made of its notification: `status` (invited, excluded, done, failed), the
    /// words for it, and the distribution that invited its recipient, if one did.
    pub async fn set_notification_outcome(
        tx: &mut Transaction<'_, Any>,
        id: &str,
        status: &str,
        detail: Option<&str>,
        distribution_id: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE salesforce_notifications SET status = $1, detail = $2, \
             distribution_id = COALESCE($3, distribution_id), updated_at = $4 WHERE id = $5",
        )
        .bind(status)
        .bind(detail)
        .bind(distribution_id)
        .bind(now_ms())
        .bind(id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// A workflow's notifications, newest first, each with its invitation's outcome.
    pub async fn notifications_of_workflow(
        &self,
        org_id: &str,
        workflow_id: &str,
        limit: i64,
    ) -> Result<Vec<NotificationOutcome>> {
        let columns = NOTIFICATION_COLUMNS
            .split(", ")
            .map(|c| format!("n.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!(
            "SELECT {columns}, r.state AS recipient_state, r.reason AS recipient_reason, \
             r.detail AS recipient_detail FROM salesforce_notifications n \
             LEFT JOIN distribution_recipients r ON r.distribution_id = n.distribution_id \
             AND r.step = 0 \
             WHERE n.org_id = $1 AND n.workflow_id = $2 ORDER BY n.received_at DESC, n.id DESC \
             LIMIT $3"
        ))
        .bind(org_id)
        .bind(workflow_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(NotificationOutcome {
                    notification: notification_from(row)?,
                    recipient_state: row.try_get("recipient_state")?,
                    recipient_reason: row.try_get("recipient_reason")?,
                    recipient_detail: row.try_get("recipient_detail")?,
                })
            })
            .collect()
    }
}
