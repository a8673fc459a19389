//! What a survey's dashboard reads of its responses: the few columns it sums up, in keyset
//! pages over `responses_survey`, narrowed by start window, distribution and the Salesforce
//! records they are about (`response_records`).

use crate::responses::ResponseStatus;
use crate::{Result, Store};
use sqlx::Row;

/// Which responses a dashboard page reads.
#[derive(Debug, Clone, Default)]
pub struct DashboardRowFilter<'a> {
    /// Started at or after (ms).
    pub since: Option<i64>,
    /// Started before (ms).
    pub until: Option<i64>,
    pub distribution_id: Option<&'a str>,
    /// When not empty, only responses about one of these records (15-character keys, as
    /// `record_links::record_key` makes them).
    pub records: &'a [String],
}

/// One response as a dashboard reads it.
#[derive(Debug, Clone)]
pub struct DashboardRow {
    pub id: String,
    pub status: ResponseStatus,
    /// `survey::ResponseData` as JSON.
    pub data: String,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub survey_version: i64,
}

impl Store {
    /// Up to `limit` responses of the survey after `(started_at, id)`, in that order.
    pub async fn dashboard_rows(
        &self,
        org_id: &str,
        survey_id: &str,
        filter: &DashboardRowFilter<'_>,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<DashboardRow>> {
        let mut sql = String::from(
            "SELECT id, status, data, started_at, ended_at, survey_version FROM responses \
             WHERE org_id = $1 AND survey_id = $2 AND started_at >= $3 AND started_at < $4 \
             AND ($5 = '' OR distribution_id = $6) \
             AND (started_at > $7 OR (started_at = $8 AND id > $9))",
        );
        if !filter.records.is_empty() {
            // $11 is the organization again: each placeholder is bound once, in order.
            let keys: Vec<String> = (0..filter.records.len())
                .map(|i| format!("${}", 12 + i))
                .collect();
            sql.push_str(&format!(
                " AND id IN (SELECT response_id FROM response_records \
                 WHERE org_id = $11 AND record_key IN ({}))",
                keys.join(", ")
            ));
        }
        sql.push_str(" ORDER BY started_at, id LIMIT $10");
        let (after_t, after_id) = after.unwrap_or((i64::MIN, String::new()));
        let distribution = filter.distribution_id.unwrap_or("");
        let mut query = sqlx::query(&sql)
            .bind(org_id)
            .bind(survey_id)
            .bind(filter.since.unwrap_or(i64::MIN))
            .bind(filter.until.unwrap_or(i64::MAX))
            .bind(distribution)
            .bind(distribution)
            .bind(after_t)
            .bind(after_t)
            .bind(after_id)
            .bind(limit);
        if !filter.records.is_empty() {
            query = query.bind(org_id);
            for key in filter.records {
                query = query.bind(key);
            }
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get("status")?;
                Ok(DashboardRow {
                    id: row.try_get("id")?,
                    status: ResponseStatus::parse(&status).ok_or_else(|| {
                        crate::StoreError::Corrupt(format!("response status {status:?}"))
                    })?,
                    data: row.try_get("data")?,
                    started_at: row.try_get("started_at")?,
                    ended_at: row.try_get("ended_at")?,
                    survey_version: row.try_get("survey_version")?,
                })
            })
            .collect()
    }
}
