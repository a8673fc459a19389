//! Signing keys of survey links, one per survey: the sealed secret and whether the survey
//! refuses link parameters that are not signed with it.

use crate::{Result, Store};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq)]
pub struct LinkKeyRow {
    pub survey_id: String,
    pub org_id: String,
    /// Sealed by the engine; never stored in the clear.
    pub secret: String,
    pub required: bool,
    pub created_at: i64,
    pub rotated_at: i64,
}

fn key_from(row: &AnyRow) -> Result<LinkKeyRow> {
    Ok(LinkKeyRow {
        survey_id: row.try_get("survey_id")?,
        org_id: row.try_get("org_id")?,
        secret: row.try_get("secret")?,
        required: crate::get_bool(row, "required")?,
        created_at: row.try_get("created_at")?,
        rotated_at: row.try_get("rotated_at")?,
    })
}

impl Store {
    /// The survey's key, for respondents' links (no organization scope: the survey id is the
    /// link's, as for the survey itself).
    pub async fn link_key(&self, survey_id: &str) -> Result<Option<LinkKeyRow>> {
        let row = sqlx::query(
            "SELECT survey_id, org_id, secret, required, created_at, rotated_at \
             FROM survey_link_keys WHERE survey_id = $1",
        )
        .bind(survey_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(key_from).transpose()
    }

    /// Inserts or replaces the survey's key (a rotation replaces the secret; `created_at`
    /// stays that of the first key).
    pub async fn save_link_key(&self, k: &LinkKeyRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO survey_link_keys (survey_id, org_id, secret, required, created_at, rotated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (survey_id) DO UPDATE SET secret = $3, required = $4, rotated_at = $6",
        )
        .bind(&k.survey_id)
        .bind(&k.org_id)
        .bind(&k.secret)
        .bind(i64::from(k.required))
        .bind(k.created_at)
        .bind(k.rotated_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
