//! Which Salesforce records a response is about (`response_records`): the ids its `sf…Id`
//! embedded data names, kept beside the response so a record's panel reads its responses
//! through an index. Written with the response in its transaction; responses stored before
//! the table existed are linked once by [`Store::backfill_response_records`].

use crate::responses::{response_from, ResponseRow, ResponseStatus, COLUMNS};
use crate::{Any, Result, Store, Transaction};
use sqlx::Row;

/// Ids per `IN (…)` list: well under both engines' bind limits.
const KEYS_PER_QUERY: usize = 500;
/// Responses linked per backfill step.
const BACKFILL_PAGE: i64 = 1_000;
const BACKFILL: &str = "response_records";

/// A response as a record's list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordResponseRow {
    pub id: String,
    pub survey_id: String,
    pub status: ResponseStatus,
    pub started_at: i64,
    pub ended_at: Option<i64>,
}

/// The first 15 characters of a Salesforce id (the 18-character form only adds a case
/// checksum), or None for anything that is not one.
pub fn record_key(id: &str) -> Option<&str> {
    let id = id.trim();
    let valid = (id.len() == 15 || id.len() == 18) && id.bytes().all(|b| b.is_ascii_alphanumeric());
    valid.then(|| &id[..15])
}

/// Whether an embedded data field names a Salesforce record: `sfContactId`, `sfLeadId`,
/// `sfAccountId`, `sfCaseId`, `sfSurveyId` and any other `sf…Id`.
pub fn is_record_field(name: &str) -> bool {
    name.len() > 4 && name.starts_with("sf") && name.ends_with("Id")
}

/// The records a response's data (its stored JSON) is about, each once.
pub fn record_keys_of(data: &str) -> Vec<String> {
    let Ok(d) = serde_json::from_str::<serde_json::Value>(data) else {
        return Vec::new();
    };
    let Some(embedded) = d.get("embedded_data").and_then(|e| e.as_object()) else {
        return Vec::new();
    };
    let mut keys: Vec<String> = embedded
        .iter()
        .filter(|(k, _)| is_record_field(k))
        .filter_map(|(_, v)| v.as_str().and_then(record_key).map(str::to_string))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

pub(crate) async fn link(tx: &mut Transaction<'_, Any>, r: &ResponseRow) -> Result<()> {
    for key in record_keys_of(&r.data) {
        sqlx::query(
            "INSERT INTO response_records (org_id, record_key, response_id, started_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(&r.org_id)
        .bind(&key)
        .bind(&r.id)
        .bind(r.started_at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub(crate) async fn relink(
    tx: &mut Transaction<'_, Any>,
    org_id: &str,
    id: &str,
    data: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM response_records WHERE org_id = $1 AND response_id = $2")
        .bind(org_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    for key in record_keys_of(data) {
        sqlx::query(
            "INSERT INTO response_records (org_id, record_key, response_id, started_at) \
             SELECT org_id, $1, id, started_at FROM responses WHERE org_id = $2 AND id = $3 \
             ON CONFLICT DO NOTHING",
        )
        .bind(&key)
        .bind(org_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// The organization's responses about any of these records (15-character ids), newest
    /// first, at most `limit`: what a list of them shows, not their data. The newest are
    /// picked from the index alone, then only those rows are read.
    pub async fn responses_about(
        &self,
        org_id: &str,
        keys: &[String],
        limit: i64,
    ) -> Result<Vec<RecordResponseRow>> {
        let mut found: Vec<RecordResponseRow> = Vec::new();
        for chunk in keys.chunks(KEYS_PER_QUERY) {
            let n = chunk.len();
            let sql = format!(
                "SELECT r.id, r.survey_id, r.status, r.started_at, r.ended_at FROM responses r \
                 JOIN (SELECT DISTINCT response_id, started_at FROM response_records \
                       WHERE org_id = $1 AND record_key IN ({}) \
                       ORDER BY started_at DESC, response_id DESC LIMIT ${}) newest \
                   ON r.id = newest.response_id \
                 WHERE r.org_id = $1 ORDER BY r.started_at DESC, r.id DESC",
                placeholders(2, n),
                n + 2
            );
            let mut q = sqlx::query(&sql).bind(org_id);
            for k in chunk {
                q = q.bind(k);
            }
            for row in q.bind(limit).fetch_all(self.pool()).await? {
                let status: String = row.try_get("status")?;
                found.push(RecordResponseRow {
                    id: row.try_get("id")?,
                    survey_id: row.try_get("survey_id")?,
                    status: ResponseStatus::parse(&status).ok_or_else(|| {
                        crate::StoreError::Corrupt(format!("response status {status:?}"))
                    })?,
                    started_at: row.try_get("started_at")?,
                    ended_at: row.try_get("ended_at")?,
                });
            }
        }
        if keys.len() > KEYS_PER_QUERY {
            // Each chunk was newest first; together they must be too, each response once.
            found.sort_by(|a, b| (b.started_at, &b.id).cmp(&(a.started_at, &a.id)));
            found.dedup_by(|a, b| a.id == b.id);
            found.truncate(limit.max(0) as usize);
        }
        Ok(found)
    }

    /// Links the responses stored before `response_records` existed, a page at a time, once:
    /// a marker row says it finished, so later start-ups skip it.
    pub(crate) async fn backfill_response_records(&self) -> Result<()> {
        let done = sqlx::query("SELECT done_through FROM store_backfills WHERE name = $1")
            .bind(BACKFILL)
            .fetch_optional(self.pool())
            .await?;
        if done.is_some() {
            return Ok(());
        }
        let mut after = String::new();
        loop {
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM responses WHERE id > $1 ORDER BY id LIMIT $2"
            ))
            .bind(&after)
            .bind(BACKFILL_PAGE)
            .fetch_all(self.pool())
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("id")?;
            let mut tx = self.begin().await?;
            for row in &rows {
                link(&mut tx, &response_from(row)?).await?;
            }
            tx.commit().await?;
        }
        sqlx::query(
            "INSERT INTO store_backfills (name, done_through, finished) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(BACKFILL)
        .bind(&after)
        .bind(crate::now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_is_about_the_records_its_sf_id_fields_name() {
        let data = r#"{"answers":{},"embedded_data":{"sfContactId":"0035g00000PaNeLAAA",
            "sfAccountId":"0015g00000AcMeA","sfCaseId":"not an id","Note":"0035g00000OtHeRAAA",
            "sfSurveyId":"0035g00000PaNeL"}}"#;
        assert_eq!(record_keys_of(data), ["0015g00000AcMeA", "0035g00000PaNeL"]);
        assert!(record_keys_of("not json").is_empty());
        assert!(!is_record_field("sfId"));
        assert!(is_record_field("sfOpportunityId"));
    }
}
