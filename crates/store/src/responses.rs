//! Response rows: answers and embedded data as JSON, the respondent's place in the flow, and
//! the status that moves from in progress to complete, or to incomplete when abandoned.

use crate::{now_ms, Result, Store};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseStatus {
    InProgress,
    Complete,
    Incomplete,
}

impl ResponseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "in_progress",
            Self::Complete => "complete",
            Self::Incomplete => "incomplete",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "in_progress" => Some(Self::InProgress),
            "complete" => Some(Self::Complete),
            "incomplete" => Some(Self::Incomplete),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResponseRow {
    pub id: String,
    pub org_id: String,
    pub survey_id: String,
    /// The survey version the response was started on (and is shown and checked against).
    pub survey_version: i64,
    pub contact_id: Option<String>,
    pub status: ResponseStatus,
    /// `survey::ResponseData` as JSON.
    pub data: String,
    /// `survey::flow::Cursor` as JSON while in progress.
    pub cursor: Option<String>,
    pub progress: i64,
    pub channel: String,
    pub started_at: i64,
    pub updated_at: i64,
    pub ended_at: Option<i64>,
    pub recorded_at: Option<i64>,
    pub expires_at: Option<i64>,
}

pub(crate) fn response_from(row: &AnyRow) -> Result<ResponseRow> {
    let status: String = row.try_get("status")?;
    Ok(ResponseRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        survey_id: row.try_get("survey_id")?,
        survey_version: row.try_get("survey_version")?,
        contact_id: row.try_get("contact_id")?,
        status: ResponseStatus::parse(&status)
            .ok_or_else(|| crate::StoreError::Corrupt(format!("response status {status:?}")))?,
        data: row.try_get("data")?,
        cursor: row.try_get("cursor")?,
        progress: row.try_get("progress")?,
        channel: row.try_get("channel")?,
        started_at: row.try_get("started_at")?,
        updated_at: row.try_get("updated_at")?,
        ended_at: row.try_get("ended_at")?,
        recorded_at: row.try_get("recorded_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

pub(crate) const COLUMNS: &str =
    "id, org_id, survey_id, contact_id, status, data, cursor, progress, channel, \
                       started_at, updated_at, ended_at, recorded_at, expires_at, survey_version";

/// The survey, status and start window of a [`ResponseFilter`], as `$1`…`$6`.
const SELECTED: &str = "org_id = $1 AND survey_id = $2 AND ($3 = '' OR status = $4) \
                        AND started_at >= $5 AND started_at < $6";

/// Which responses a listing returns.
#[derive(Debug, Clone, Default)]
pub struct ResponseFilter {
    pub status: Option<ResponseStatus>,
    /// Listing is ordered by (started_at, id); `after` continues after that pair.
    pub after: Option<(i64, String)>,
    pub limit: i64,
    /// Started at or after this moment (ms).
    pub started_from: Option<i64>,
    /// Started before this moment (ms).
    pub started_before: Option<i64>,
}

impl Store {
    /// Inserts within the caller's transaction, so whatever the response triggers can be
    /// written in the same commit.
    pub async fn insert_response(tx: &mut Transaction<'_, Any>, r: &ResponseRow) -> Result<()> {
        Self::insert_response_row(tx, r, "").await?;
        Ok(())
    }

    /// Inserts a response unless one with its id exists already (its first page submitted
    /// twice at once, the other submission first); false when it did.
    pub async fn insert_new_response(
        tx: &mut Transaction<'_, Any>,
        r: &ResponseRow,
    ) -> Result<bool> {
        Ok(Self::insert_response_row(tx, r, " ON CONFLICT (id) DO NOTHING").await? == 1)
    }

    async fn insert_response_row(
        tx: &mut Transaction<'_, Any>,
        r: &ResponseRow,
        on_conflict: &str,
    ) -> Result<u64> {
        let done = sqlx::query(&format!(
            "INSERT INTO responses ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15){on_conflict}"
        ))
        .bind(&r.id)
        .bind(&r.org_id)
        .bind(&r.survey_id)
        .bind(&r.contact_id)
        .bind(r.status.as_str())
        .bind(&r.data)
        .bind(&r.cursor)
        .bind(r.progress)
        .bind(&r.channel)
        .bind(r.started_at)
        .bind(r.updated_at)
        .bind(r.ended_at)
        .bind(r.recorded_at)
        .bind(r.expires_at)
        .bind(r.survey_version)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 1 {
            crate::record_links::link(tx, r).await?;
        }
        Ok(done.rows_affected())
    }

    /// Saves a page's progress or the finish. Only a response still in progress can change:
    /// returns false when it was already closed (a double submit, or closed as incomplete).
    pub async fn update_open_response(
        tx: &mut Transaction<'_, Any>,
        r: &ResponseRow,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE responses SET status = $1, data = $2, cursor = $3, progress = $4, updated_at = $5, \
             ended_at = $6, recorded_at = $7, expires_at = $8, survey_version = $9 \
             WHERE id = $10 AND status = 'in_progress'",
        )
        .bind(r.status.as_str())
        .bind(&r.data)
        .bind(&r.cursor)
        .bind(r.progress)
        .bind(r.updated_at)
        .bind(r.ended_at)
        .bind(r.recorded_at)
        .bind(r.expires_at)
        .bind(r.survey_version)
        .bind(&r.id)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces the data of a recorded (complete or incomplete) response, if it is still as the
    /// caller read it (`expected_data` and `expected_updated_at`): a compare-and-swap, so two
    /// changes made from one reading can never both succeed and one silently undo the other.
    /// In-progress responses belong to their respondent. Returns false when there is no such
    /// recorded response in that state (the caller reads again and retries).
    pub async fn update_recorded_response(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        id: &str,
        expected_data: &str,
        expected_updated_at: i64,
        data: &str,
        updated_at: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE responses SET data = $1, updated_at = $2 WHERE id = $3 AND org_id = $4 \
             AND status <> 'in_progress' AND data = $5 AND updated_at = $6",
        )
        .bind(data)
        .bind(updated_at)
        .bind(id)
        .bind(org_id)
        .bind(expected_data)
        .bind(expected_updated_at)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 1 {
            // Its record ids may be what changed.
            crate::record_links::relink(tx, org_id, id, data).await?;
        }
        Ok(done.rows_affected() == 1)
    }

    pub async fn response(&self, org_id: &str, id: &str) -> Result<Option<ResponseRow>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM responses WHERE id = $1 AND org_id = $2"
        ))
        .bind(id)
        .bind(org_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(response_from).transpose()
    }

    /// For respondent pages: the respondent holds the response id in their session cookie.
    pub async fn response_for_survey(
        &self,
        survey_id: &str,
        id: &str,
    ) -> Result<Option<ResponseRow>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM responses WHERE id = $1 AND survey_id = $2"
        ))
        .bind(id)
        .bind(survey_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(response_from).transpose()
    }

    pub async fn responses(
        &self,
        org_id: &str,
        survey_id: &str,
        filter: &ResponseFilter,
    ) -> Result<Vec<ResponseRow>> {
        let (after_t, after_id) = filter.after.clone().unwrap_or((i64::MIN, String::new()));
        let status = filter.status.map(|s| s.as_str()).unwrap_or("");
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM responses WHERE {SELECTED} \
             AND (started_at > $7 OR (started_at = $8 AND id > $9)) \
             ORDER BY started_at, id LIMIT $10"
        ))
        .bind(org_id)
        .bind(survey_id)
        .bind(status)
        .bind(status)
        .bind(filter.started_from.unwrap_or(i64::MIN))
        .bind(filter.started_before.unwrap_or(i64::MAX))
        .bind(after_t)
        .bind(after_t)
        .bind(after_id)
        .bind(filter.limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(response_from).collect()
    }

    /// How many responses the filter selects, every page of them (`after` and `limit` aside).
    pub async fn count_selected_responses(
        &self,
        org_id: &str,
        survey_id: &str,
        filter: &ResponseFilter,
    ) -> Result<i64> {
        let status = filter.status.map(|s| s.as_str()).unwrap_or("");
        let row = sqlx::query(&format!(
            "SELECT COUNT(*) AS n FROM responses WHERE {SELECTED}"
        ))
        .bind(org_id)
        .bind(survey_id)
        .bind(status)
        .bind(status)
        .bind(filter.started_from.unwrap_or(i64::MIN))
        .bind(filter.started_before.unwrap_or(i64::MAX))
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get("n")?)
    }

    pub async fn count_responses(&self, org_id: &str, survey_id: &str) -> Result<i64> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM responses WHERE org_id = $1 AND survey_id = $2")
                .bind(org_id)
                .bind(survey_id)
                .fetch_one(self.pool())
                .await?;
        Ok(row.try_get("n")?)
    }

    /// Closes every abandoned response whose window has passed; returns the closed ids so the
    /// engine can fire "incomplete response closed" for each, exactly once.
    pub async fn close_expired_responses(&self, now: i64) -> Result<Vec<ResponseRow>> {
        let rows = sqlx::query(&format!(
            "UPDATE responses SET status = 'incomplete', recorded_at = $1, cursor = NULL \
             WHERE status = 'in_progress' AND expires_at IS NOT NULL AND expires_at <= $2 \
             RETURNING {COLUMNS}"
        ))
        .bind(now)
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(response_from).collect()
    }

    /// As [`Store::close_expired_responses`], inside the caller's transaction so that the
    /// workflows the closing fires commit with it.
    pub async fn close_expired_responses_in(
        tx: &mut Transaction<'_, Any>,
        now: i64,
    ) -> Result<Vec<ResponseRow>> {
        let rows = sqlx::query(&format!(
            "UPDATE responses SET status = 'incomplete', recorded_at = $1, cursor = NULL \
             WHERE status = 'in_progress' AND expires_at IS NOT NULL AND expires_at <= $2 \
             RETURNING {COLUMNS}"
        ))
        .bind(now)
        .bind(now)
        .fetch_all(&mut **tx)
        .await?;
        rows.iter().map(response_from).collect()
    }

    pub fn now(&self) -> i64 {
        now_ms()
    }

    /// The survey versions its responses were answered under, newest first.
    pub async fn answered_versions(&self, org_id: &str, survey_id: &str) -> Result<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT DISTINCT survey_version FROM responses WHERE org_id = $1 AND survey_id = $2 \
             ORDER BY survey_version DESC",
        )
        .bind(org_id)
        .bind(survey_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get("survey_version")?))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids;

    fn response(id: &str, org: &str, survey: &str, channel: &str) -> ResponseRow {
        ResponseRow {
            id: id.into(),
            org_id: org.into(),
            survey_id: survey.into(),
            survey_version: 1,
            contact_id: None,
            status: ResponseStatus::Complete,
            data: "{}".into(),
            cursor: None,
            progress: 100,
            channel: channel.into(),
            started_at: 1,
            updated_at: 1,
            ended_at: Some(1),
            recorded_at: Some(1),
            expires_at: None,
        }
    }

    async fn count(store: &Store, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(store.pool())
            .await
            .unwrap()
    }

    /// Previews older versions stored as responses are removed by the migration that stops
    /// storing them: the personal link one claimed is free again, its queued run is gone with
    /// its job, and real responses (and runs that did run) stay.
    #[tokio::test]
    async fn the_migration_takes_stored_previews_out() {
        let dir = std::env::temp_dir().join(format!("sonde-store-{}", ids::random_token(10)));
        let mut stores = vec![Store::open_data_dir(&dir).await.unwrap()];
        if let Ok(url) = std::env::var("SONDE_TEST_POSTGRES_URL") {
            stores.push(Store::connect_fresh_schema(&url, "t").await.unwrap().0);
        }
        for store in stores {
            crate::migrate_before(&store, &dir, "20261220000001").await;
            let org = store.create_organization("Previews").await.unwrap();
            let user = store
                .create_user(
                    &org.id,
                    &format!("{}@example.com", ids::random_token(6)),
                    "x",
                    "editor",
                )
                .await
                .unwrap();
            // The schema as it was then (today's create_survey writes later columns).
            sqlx::query(
                "INSERT INTO surveys (id, org_id, owner_id, name, version, created_at, updated_at) \
                 VALUES ('SV_previews', $1, $2, 'S', 1, 1, 1)",
            )
            .bind(&org.id)
            .bind(&user.id)
            .execute(store.pool())
            .await
            .unwrap();
            let mut tx = store.begin().await.unwrap();
            for (id, channel) in [("R_preview", "preview"), ("R_real", "anonymous")] {
                Store::insert_response(&mut tx, &response(id, &org.id, "SV_previews", channel))
                    .await
                    .unwrap();
            }
            tx.commit().await.unwrap();
            sqlx::query(
                "INSERT INTO contacts (id, org_id, first_name, last_name, embedded_data, unsubscribed, \
                 created_at, updated_at) VALUES ('CID_1', $1, '', '', '{}', 0, 1, 1)",
            )
            .bind(&org.id)
            .execute(store.pool())
            .await
            .unwrap();
            let link = store
                .create_personal_link(&org.id, "SV_previews", "CID_1")
                .await
                .unwrap();
            let mut tx = store.begin().await.unwrap();
            assert!(
                Store::claim_personal_link(&mut tx, &link.token, "R_preview")
                    .await
                    .unwrap()
            );
            tx.commit().await.unwrap();
            sqlx::query(
                "INSERT INTO workflows (id, org_id, survey_id, owner_id, name, event, enabled, definition, \
                 created_at, updated_at) VALUES ('WF_1', $1, $2, $3, 'w', 'response_created', 1, '{}', 1, 1)",
            )
            .bind(&org.id)
            .bind("SV_previews")
            .bind(&user.id)
            .execute(store.pool())
            .await
            .unwrap();
            for (run, response, status) in [
                ("RN_queued", "R_preview", "queued"),
                ("RN_ran", "R_preview", "succeeded"),
                ("RN_real", "R_real", "queued"),
            ] {
                sqlx::query(
                    "INSERT INTO workflow_runs (id, org_id, workflow_id, response_id, trigger, status, \
                     tasks, created_at, updated_at) VALUES ($1, $2, 'WF_1', $3, 'response_created', $4, '[]', 1, 1)",
                )
                .bind(run)
                .bind(&org.id)
                .bind(response)
                .bind(status)
                .execute(store.pool())
                .await
                .unwrap();
                let job_status = if status == "queued" { "queued" } else { "done" };
                sqlx::query(
                    "INSERT INTO jobs (id, org_id, kind, payload, dedupe_key, status, attempts, run_after, \
                     created_at, updated_at) VALUES ($1, $2, 'workflow', '{}', $1, $3, 0, 0, 1, 1)",
                )
                .bind(run)
                .bind(&org.id)
                .bind(job_status)
                .execute(store.pool())
                .await
                .unwrap();
            }

            store.migrate().await.unwrap();
            assert_eq!(
                store.count_responses(&org.id, "SV_previews").await.unwrap(),
                1,
                "only the real response is left"
            );
            assert!(store
                .response(&org.id, "R_preview")
                .await
                .unwrap()
                .is_none());
            assert_eq!(
                store
                    .personal_link(&link.token)
                    .await
                    .unwrap()
                    .unwrap()
                    .response_id,
                None
            );
            assert_eq!(
                count(
                    &store,
                    "SELECT COUNT(*) FROM workflow_runs WHERE id = 'RN_queued'"
                )
                .await,
                0
            );
            assert_eq!(
                count(&store, "SELECT COUNT(*) FROM jobs WHERE id = 'RN_queued'").await,
                0
            );
            assert_eq!(
                count(
                    &store,
                    "SELECT COUNT(*) FROM workflow_runs WHERE id IN ('RN_ran', 'RN_real')"
                )
                .await,
                2
            );
            assert_eq!(
                count(
                    &store,
                    "SELECT COUNT(*) FROM jobs WHERE id IN ('RN_ran', 'RN_real')"
                )
                .await,
                2
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
