//! What the Salesforce panel keeps: its settings per linked Salesforce org
//! (`panel_settings`) and the distributions sent from it (`panel_sends`, with the records each
//! was launched on in `panel_send_records`).

use crate::{Any, Result, Store, Transaction};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelSettingsRow {
    pub org_id: String,
    /// 15 characters.
    pub sf_org_id: String,
    /// JSON, the engine's.
    pub exclusions: String,
    pub sender_user_id: Option<String>,
    pub updated_by: String,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelSendRow {
    pub distribution_id: String,
    pub org_id: String,
    pub sf_org_id: String,
    pub connection_id: String,
    /// `record`, `selected` or `campaign`.
    pub launched_from: String,
    /// The object launched on: `Contact`, `Lead` or `Campaign`.
    pub object: String,
    /// JSON, the engine's.
    pub counts: String,
    pub created_by: String,
    pub created_at: i64,
}

const SEND_COLUMNS: &str = "s.distribution_id, s.org_id, s.sf_org_id, s.connection_id, \
     s.launched_from, s.object, s.counts, s.created_by, s.created_at";

fn send_from(r: &AnyRow) -> Result<PanelSendRow> {
    Ok(PanelSendRow {
        distribution_id: r.try_get("distribution_id")?,
        org_id: r.try_get("org_id")?,
        sf_org_id: r.try_get("sf_org_id")?,
        connection_id: r.try_get("connection_id")?,
        launched_from: r.try_get("launched_from")?,
        object: r.try_get("object")?,
        counts: r.try_get("counts")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

impl Store {
    pub async fn panel_settings(
        &self,
        org_id: &str,
        sf_org_id: &str,
    ) -> Result<Option<PanelSettingsRow>> {
        let row = sqlx::query(
            "SELECT org_id, sf_org_id, exclusions, sender_user_id, updated_by, updated_at \
             FROM panel_settings WHERE org_id = $1 AND sf_org_id = $2",
        )
        .bind(org_id)
        .bind(sf_org_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(PanelSettingsRow {
                org_id: r.try_get("org_id")?,
                sf_org_id: r.try_get("sf_org_id")?,
                exclusions: r.try_get("exclusions")?,
                sender_user_id: r.try_get("sender_user_id")?,
                updated_by: r.try_get("updated_by")?,
                updated_at: r.try_get("updated_at")?,
            })
        })
        .transpose()
    }

    pub async fn save_panel_settings(&self, s: &PanelSettingsRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO panel_settings (org_id, sf_org_id, exclusions, sender_user_id, \
             updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (org_id, sf_org_id) DO UPDATE SET exclusions = excluded.exclusions, \
             sender_user_id = excluded.sender_user_id, updated_by = excluded.updated_by, \
             updated_at = excluded.updated_at",
        )
        .bind(&s.org_id)
        .bind(&s.sf_org_id)
        .bind(&s.exclusions)
        .bind(&s.sender_user_id)
        .bind(&s.updated_by)
        .bind(s.updated_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records a panel send and the records it was launched on, in the distribution's
    /// transaction.
    pub async fn insert_panel_send(
        tx: &mut Transaction<'_, Any>,
        s: &PanelSendRow,
        record_keys: &[String],
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO panel_sends (distribution_id, org_id, sf_org_id, connection_id, \
             launched_from, object, counts, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&s.distribution_id)
        .bind(&s.org_id)
        .bind(&s.sf_org_id)
        .bind(&s.connection_id)
        .bind(&s.launched_from)
        .bind(&s.object)
        .bind(&s.counts)
        .bind(&s.created_by)
        .bind(s.created_at)
        .execute(&mut **tx)
        .await?;
        for key in record_keys {
            sqlx::query(
                "INSERT INTO panel_send_records (org_id, record_key, distribution_id, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(&s.org_id)
            .bind(key)
            .bind(&s.distribution_id)
            .bind(s.created_at)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// The panel sends launched on a record (15 characters) whose distribution still exists,
    /// newest first.
    pub async fn panel_sends_on(
        &self,
        org_id: &str,
        record_key: &str,
        limit: i64,
    ) -> Result<Vec<PanelSendRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {SEND_COLUMNS} FROM panel_send_records r \
             JOIN panel_sends s ON s.distribution_id = r.distribution_id \
             JOIN distributions d ON d.id = s.distribution_id AND d.org_id = s.org_id \
             WHERE r.org_id = $1 AND r.record_key = $2 \
             ORDER BY s.created_at DESC, s.distribution_id DESC LIMIT $3"
        ))
        .bind(org_id)
        .bind(record_key)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(send_from).collect()
    }

    /// One panel send of the organization.
    pub async fn panel_send(
        &self,
        org_id: &str,
        distribution_id: &str,
    ) -> Result<Option<PanelSendRow>> {
        let row = sqlx::query(&format!(
            "SELECT {SEND_COLUMNS} FROM panel_sends s WHERE s.org_id = $1 AND s.distribution_id = $2"
        ))
        .bind(org_id)
        .bind(distribution_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(send_from).transpose()
    }

    /// Forgets a panel send whose scheduled distribution was deleted.
    pub async fn forget_panel_send(&self, org_id: &str, distribution_id: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM panel_send_records WHERE org_id = $1 AND distribution_id = $2")
            .bind(org_id)
            .bind(distribution_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM panel_sends WHERE org_id = $1 AND distribution_id = $2")
            .bind(org_id)
            .bind(distribution_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The organization's active links to a Salesforce org (15 characters), oldest first.
    pub async fn connections_to_org(
        &self,
        org_id: &str,
        sf_org_id: &str,
    ) -> Result<Vec<crate::connections::ConnectionRow>> {
        crate::connections::connections_to_org(self, org_id, sf_org_id).await
    }
}
