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
}

const NOTIFICATION_COLUMNS: &str = "id, org_id, workflow_id, sf_org_id, notification_id, source, \
     object, record_id, record, status, detail, duplicates, received_at, updated_at";

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
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
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

    /// A workflow's notifications, newest first.
    pub async fn notifications_of_workflow(
        &self,
        org_id: &str,
        workflow_id: &str,
        limit: i64,
    ) -> Result<Vec<NotificationRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM salesforce_notifications \
             WHERE org_id = $1 AND workflow_id = $2 ORDER BY received_at DESC, id DESC LIMIT $3"
        ))
        .bind(org_id)
        .bind(workflow_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(notification_from).collect()
    }
}
