//! How a run reads its rows. COUNT() first (one call: it sizes the progress bar and picks the
//! way): query/queryMore, ordered by the date field and Id, when the pull is small; Bulk API
//! 2.0 when it is at least the job's threshold. Bulk results come unordered (Salesforce asks
//! for no ORDER BY there: it turns off PK chunking), so a Bulk pull's checkpoint is not a
//! position in the data but one in the job's results — its locator and the rows of that page
//! already kept — and a resumed run reads on from exactly there.

use super::runs::{Checkpoint, Progress, LEASE_MS};
use crate::{Error, Result, Sonde};
use futures::stream::BoxStream;
use futures::StreamExt;
use salesforce::bulk::{BulkResultsPage, BulkRow};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use soql::ast::{Expr, Function, FunctionCall, Query, SelectItem};
use std::collections::{HashSet, VecDeque};
use std::time::Duration;
use store::queue::Job;
use store::Store;

/// Rows a pull must reach for Bulk API 2.0 when the job names no threshold of its own.
pub const DEFAULT_BULK_THRESHOLD: u64 = 10_000;

/// Where a Bulk pull stands: its job, the locator of the results page being read (`None`: the
/// first), the rows of that page already kept, and where its window began (a pull whose job
/// has gone starts again from there; rows already kept are then read as unchanged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BulkAt {
    pub job: String,
    pub locator: Option<String>,
    pub skip: u64,
    pub from: i64,
}

/// `SELECT COUNT() FROM …` with the pull's filters: how many rows it will read.
pub(crate) fn count_query(q: &Query) -> Query {
    let mut c = q.clone();
    c.select = vec![SelectItem::Expr {
        expr: Expr::Call(FunctionCall {
            function: Function::Count,
            args: Vec::new(),
        }),
        alias: None,
    }];
    c.order_by.clear();
    c.limit = None;
    c.offset = None;
    c
}

/// The pull as a Bulk job runs it: no ORDER BY.
pub(crate) fn bulk_query(q: &Query) -> Query {
    let mut b = q.clone();
    b.order_by.clear();
    b
}

/// The way a run reads, and the rows it yields a page at a time.
pub(crate) enum Source {
    Rest(BoxStream<'static, salesforce::Result<Map<String, Value>>>),
    Bulk(Box<BulkReader>),
}

impl Source {
    /// The next `n` rows (fewer at the end; `None` when there are no more), with where a Bulk
    /// pull stands after them.
    pub(crate) async fn next_page(
        &mut self,
        n: usize,
    ) -> Result<Option<(Vec<Map<String, Value>>, Option<BulkAt>)>> {
        match self {
            Source::Rest(stream) => {
                let mut rows = Vec::with_capacity(n);
                while rows.len() < n {
                    match stream.next().await {
                        Some(row) => rows.push(row.map_err(Error::from)?),
                        None => break,
                    }
                }
                Ok((!rows.is_empty()).then_some((rows, None)))
            }
            Source::Bulk(reader) => Ok(reader
                .next_rows(n)
                .await?
                .map(|rows| (rows, Some(reader.at.clone())))),
        }
    }
}

/// Reads a completed Bulk job's results page after page, from a checkpoint on.
pub(crate) struct BulkReader {
    conn: salesforce::Connection,
    /// Where the next row returned stands (its page's locator, rows of it returned before).
    pub at: BulkAt,
    page: Option<BulkResultsPage>,
    /// Rows of the page at `at.locator` fetched and not yet returned (or skipped).
    pending: VecDeque<BulkRow>,
    /// Rows still to pass over at the start of the page (kept before a crash).
    to_skip: u64,
    finished: bool,
    /// Top-level columns Salesforce types as datetime: written as query/queryMore writes them.
    datetimes: HashSet<String>,
}

impl BulkReader {
    pub(crate) fn new(
        conn: salesforce::Connection,
        at: BulkAt,
        datetimes: HashSet<String>,
    ) -> Self {
        BulkReader {
            conn,
            to_skip: at.skip,
            at,
            page: None,
            pending: VecDeque::new(),
            finished: false,
            datetimes,
        }
    }

    async fn next_rows(&mut self, n: usize) -> Result<Option<Vec<Map<String, Value>>>> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n && !self.finished {
            if let Some(row) = self.pending.pop_front() {
                if self.to_skip > 0 {
                    self.to_skip -= 1;
                    continue;
                }
                self.at.skip += 1;
                out.push(self.row_map(&row));
                continue;
            }
            let page = match self.page.as_mut() {
                Some(p) => p,
                None => {
                    let p = self
                        .conn
                        .query_job_page(&self.at.job, self.at.locator.as_deref(), None)
                        .await
                        .map_err(Error::from)?;
                    self.page.insert(p)
                }
            };
            match page.next_rows().await.map_err(Error::from)? {
                Some(rows) => self.pending.extend(rows),
                None => {
                    // This page is done: the next row stands at the start of the next page.
                    match page.next_locator.take() {
                        Some(next) => {
                            self.at.locator = Some(next);
                            self.at.skip = 0;
                            self.to_skip = 0;
                            self.page = None;
                        }
                        None => self.finished = true,
                    }
                }
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }

    /// A CSV row as the JSON record query/queryMore would answer: empty is null, dotted
    /// columns nest (`Owner.Name` → `{"Owner": {"Name": …}}`), datetimes in `+0000` form.
    fn row_map(&self, row: &BulkRow) -> Map<String, Value> {
        let mut out = Map::new();
        for (column, value) in row.columns.iter().zip(&row.values) {
            let v = if value.is_empty() {
                Value::Null
            } else if self.datetimes.contains(&column.to_ascii_lowercase()) {
                Value::String(rest_datetime(value))
            } else {
                Value::String(value.clone())
            };
            let parts: Vec<&str> = column.split('.').collect();
            insert_path(&mut out, &parts, v);
        }
        out
    }
}

impl Sonde {
    /// A Bulk pull's reader: the checkpointed job when it is still there (a resumed run), or a
    /// new one — its id checkpointed at once, so a node killed while Salesforce works on it
    /// resumes that job instead of starting another — awaited with the lease renewed and an eye
    /// on a cancel. `None`: cancelled while waiting.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn open_bulk(
        &self,
        job: &Job,
        owner: &str,
        progress: &mut Progress,
        conn: &salesforce::Connection,
        q: &Query,
        pull_q: &Query,
        include_deleted: bool,
        mut at: BulkAt,
    ) -> Result<Option<BulkReader>> {
        let known = if at.job.is_empty() {
            false
        } else {
            match conn.query_job(&at.job).await {
                Ok(_) => true,
                // Gone (deleted, or its results expired): read the window again.
                Err(salesforce::Error::Permanent { status: 404, .. }) => false,
                Err(e) => return Err(e.into()),
            }
        };
        if !known {
            let created = conn
                .create_query_job(&bulk_query(pull_q).to_string(), include_deleted)
                .await
                .map_err(Error::from)?;
            at = BulkAt {
                job: created.id,
                locator: None,
                skip: 0,
                from: at.from,
            };
            let checkpoint: Option<Checkpoint> = progress
                .row
                .checkpoint
                .as_deref()
                .map(Checkpoint::parse)
                .transpose()?;
            let checkpoint = Checkpoint {
                last: checkpoint.and_then(|c| c.last),
                bulk: Some(at.clone()),
            };
            progress.row.checkpoint = Some(serde_json::to_string(&checkpoint)?);
            let mut tx = self.store.begin().await?;
            Store::update_discover_run(&mut tx, &progress.written()?).await?;
            tx.commit().await?;
        }
        let mut wait = Duration::from_millis(200);
        loop {
            let state = conn.query_job(&at.job).await.map_err(Error::from)?;
            match state.state.as_str() {
                "JobComplete" => break,
                "Failed" | "Aborted" => {
                    return Err(Error::invalid(format!(
                        "Salesforce's Bulk API job {} ended {}: {}",
                        at.job,
                        state.state,
                        state.error_message.unwrap_or_default()
                    )))
                }
                _ => {}
            }
            self.store
                .renew_job_lease(&job.id, owner, store::now_ms() + LEASE_MS)
                .await?;
            let run = self
                .store
                .discover_run(&job.org_id, &progress.row.id)
                .await?;
            if run.is_some_and(|r| r.cancel_requested) {
                let _ = conn.delete_query_job(&at.job).await;
                return Ok(None);
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(10));
        }
        let object = soql::analysis::queried_object(q).to_string();
        let describe = conn.describe(&object).await.map_err(Error::from)?;
        Ok(Some(BulkReader::new(
            conn.clone(),
            at,
            datetime_fields(&describe),
        )))
    }
}

/// Puts `v` at a dotted path, making the relationship objects on the way.
fn insert_path(map: &mut Map<String, Value>, parts: &[&str], v: Value) {
    match parts {
        [] => {}
        [last] => {
            map.insert((*last).to_string(), v);
        }
        [first, rest @ ..] => {
            let entry = map
                .entry((*first).to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(m) = entry {
                insert_path(m, rest, v);
            }
        }
    }
}

/// `2026-03-02T10:15:03.000Z` (Bulk CSV) as `2026-03-02T10:15:03.000+0000` (REST JSON).
fn rest_datetime(value: &str) -> String {
    match value.strip_suffix('Z') {
        Some(head) => format!("{head}+0000"),
        None => value.to_string(),
    }
}

/// The top-level datetime fields of a describe, lower-cased (Bulk columns match any case).
pub(crate) fn datetime_fields(describe: &salesforce::rest::SObjectDescribe) -> HashSet<String> {
    describe
        .fields
        .iter()
        .filter(|f| f.kind == "datetime")
        .map(|f| f.name.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_and_bulk_queries_drop_what_they_must() {
        let q = soql::parse(
            "SELECT Id, Body FROM LiveChatTranscript WHERE Status = 'Completed' ORDER BY CreatedDate, Id LIMIT 5",
        )
        .unwrap();
        assert_eq!(
            count_query(&q).to_string(),
            "SELECT COUNT() FROM LiveChatTranscript WHERE Status = 'Completed'"
        );
        assert!(!bulk_query(&q).to_string().contains("ORDER BY"));
    }

    #[test]
    fn bulk_datetimes_read_as_rest_writes_them() {
        assert_eq!(
            rest_datetime("2026-03-02T10:15:03.000Z"),
            "2026-03-02T10:15:03.000+0000"
        );
        assert_eq!(rest_datetime("2026-03-02"), "2026-03-02");
    }
}
