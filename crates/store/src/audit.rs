//! The audit log's table: events are inserted inside the transaction of the act they record,
//! and read newest first per organization. Nothing here updates or deletes an event.

use crate::{Result, Store};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEventRow {
    pub id: String,
    pub org_id: String,
    /// None when the operator acted from the command line.
    pub actor_id: Option<String>,
    /// The actor's email when they acted.
    pub actor_email: String,
    pub action: String,
    pub subject_kind: String,
    pub subject_id: String,
    pub subject_label: String,
    /// A JSON object.
    pub detail: String,
    pub created_at: i64,
}

const COLUMNS: &str = "id, org_id, actor_id, actor_email, action, subject_kind, subject_id, \
                       subject_label, detail, created_at";

fn event_from(row: &AnyRow) -> Result<AuditEventRow> {
    Ok(AuditEventRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        actor_id: row.try_get("actor_id")?,
        actor_email: row.try_get("actor_email")?,
        action: row.try_get("action")?,
        subject_kind: row.try_get("subject_kind")?,
        subject_id: row.try_get("subject_id")?,
        subject_label: row.try_get("subject_label")?,
        detail: row.try_get("detail")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Which events a listing returns; empty filters select everything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    /// Listing is newest first by (created_at, id); `before` continues after that pair.
    pub before: Option<(i64, String)>,
    pub limit: i64,
}

impl Store {
    /// Records an event inside the caller's transaction: it commits, or rolls back, with the
    /// act it records. Its time is at least a millisecond after the organization's last event,
    /// so acts done one after another list in their order even within one millisecond.
    /// Returns the time recorded.
    pub async fn insert_audit_event(
        tx: &mut Transaction<'_, Any>,
        e: &AuditEventRow,
    ) -> Result<i64> {
        let last: Option<i64> =
            sqlx::query("SELECT MAX(created_at) AS last FROM audit_events WHERE org_id = $1")
                .bind(&e.org_id)
                .fetch_one(&mut **tx)
                .await?
                .try_get("last")?;
        let at = last.map_or(e.created_at, |l| e.created_at.max(l + 1));
        sqlx::query(&format!(
            "INSERT INTO audit_events ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&e.id)
        .bind(&e.org_id)
        .bind(&e.actor_id)
        .bind(&e.actor_email)
        .bind(&e.action)
        .bind(&e.subject_kind)
        .bind(&e.subject_id)
        .bind(&e.subject_label)
        .bind(&e.detail)
        .bind(at)
        .execute(&mut **tx)
        .await?;
        Ok(at)
    }

    /// The organization's events that the filter selects, newest first.
    pub async fn audit_events(
        &self,
        org_id: &str,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditEventRow>> {
        // Without a cursor, every event is before the end of time.
        let (before_t, before_id) = filter.before.clone().unwrap_or((i64::MAX, String::new()));
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM audit_events WHERE org_id = $1 \
             AND ($2 = '' OR action = $3) AND ($4 = '' OR subject_kind = $5) \
             AND ($6 = '' OR subject_id = $7) \
             AND (created_at < $8 OR (created_at = $9 AND id < $10)) \
             ORDER BY created_at DESC, id DESC LIMIT $11"
        ))
        .bind(org_id)
        .bind(text(&filter.action))
        .bind(text(&filter.action))
        .bind(text(&filter.subject_kind))
        .bind(text(&filter.subject_kind))
        .bind(text(&filter.subject_id))
        .bind(text(&filter.subject_id))
        .bind(before_t)
        .bind(before_t)
        .bind(before_id)
        .bind(filter.limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_from).collect()
    }
}
