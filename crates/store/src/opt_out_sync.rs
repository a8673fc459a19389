//! The opt-out sync switch (`salesforce_opt_out_sync`) and a survey's override of it
//! (`surveys.salesforce_opt_out_sync`).

use crate::{now_ms, Result, Store};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptOutSyncRow {
    pub org_id: String,
    pub enabled: bool,
    pub email_field: String,
    pub sms_field: Option<String>,
}

impl Store {
    /// The organization's switch as saved (None: never changed).
    pub async fn opt_out_sync(&self, org_id: &str) -> Result<Option<OptOutSyncRow>> {
        let row = sqlx::query(
            "SELECT org_id, enabled, email_field, sms_field FROM salesforce_opt_out_sync \
             WHERE org_id = $1",
        )
        .bind(org_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(OptOutSyncRow {
                org_id: r.try_get("org_id")?,
                enabled: crate::get_bool(&r, "enabled")?,
                email_field: r.try_get("email_field")?,
                sms_field: r.try_get("sms_field")?,
            })
        })
        .transpose()
    }

    pub async fn save_opt_out_sync(&self, s: &OptOutSyncRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO salesforce_opt_out_sync (org_id, enabled, email_field, sms_field, \
             updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id) DO UPDATE SET \
             enabled = excluded.enabled, email_field = excluded.email_field, \
             sms_field = excluded.sms_field, updated_at = excluded.updated_at",
        )
        .bind(&s.org_id)
        .bind(i64::from(s.enabled))
        .bind(&s.email_field)
        .bind(&s.sms_field)
        .bind(now_ms())
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// A survey's override: Some(on/off), or None to follow its organization.
    pub async fn survey_opt_out_sync(&self, org_id: &str, survey_id: &str) -> Result<Option<bool>> {
        let v: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT salesforce_opt_out_sync FROM surveys WHERE id = $1 AND org_id = $2",
        )
        .bind(survey_id)
        .bind(org_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(v.flatten().map(|v| v != 0))
    }

    pub async fn set_survey_opt_out_sync(
        &self,
        org_id: &str,
        survey_id: &str,
        value: Option<bool>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE surveys SET salesforce_opt_out_sync = $1 WHERE id = $2 AND org_id = $3",
        )
        .bind(value.map(i64::from))
        .bind(survey_id)
        .bind(org_id)
        .execute(self.writer())
        .await?;
        Ok(())
    }
}
