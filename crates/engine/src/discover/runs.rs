//! Runs of inbound jobs. Starting one writes the run and its queue job together; a worker
//! claims it and pulls page by page (query/queryMore, or Bulk API 2.0 for a large pull: see
//! `transport`), writing each page's documents with the run's counts and checkpoint in one
//! transaction, so a crash resumes after the last page kept and loses or doubles nothing. The pull is a window on the job's date field — from its
//! cursor less a lookback (rows committed late at the boundary are read again; unchanged ones
//! are not counted) up to the moment the run was started — ordered by that field and Id.

use super::pipeline::{self, Builder, BuiltPage};
use super::transport::{self, BulkAt, Source};
use super::{job_of, Duplicates};
use crate::{Actor, Error, Result, Role, Sonde};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use soql::analysis::FieldKind;
use soql::ast::{Direction, Expr, FieldPath, OrderItem, SelectItem};
use std::collections::HashMap;
use std::sync::Arc;
use store::discover::{OnDuplicate, RunRow, Written};
use store::queue::{Job, NewJob};
use store::Store;

pub const RUN_JOB_KIND: &str = "discover_run";
/// Documents written per transaction (and between two looks at a cancel).
const PAGE: usize = 500;
/// How far before the cursor an incremental run starts reading again.
const LOOKBACK_MS: i64 = 5 * 60_000;
/// A claimed run's lease; renewed after every page and while a Bulk job is awaited, so a node
/// killed mid-run hands its run to another (or to itself restarted) within this long.
pub(crate) const LEASE_MS: i64 = 30_000;
/// The window's end: none, in the form the window takes.
const UNBOUNDED: &str = "4000-01-01T00:00:00Z";
/// Warnings kept per run (the count of the rest is said).
const MAX_WARNINGS: usize = 200;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct DiscoverRunCounts {
    /// What COUNT() said the pull would read (the progress bar's whole), once asked.
    pub rows_expected: Option<u64>,
    /// How the rows are read: `query` (query/queryMore) or `bulk` (Bulk API 2.0).
    pub transport: Option<String>,
    pub rows_read: u64,
    pub documents_created: u64,
    pub documents_updated: u64,
    pub duplicates_skipped: u64,
    /// Rows read again exactly as stored (an incremental run's lookback).
    pub unchanged: u64,
    pub filtered: u64,
    pub redactions: u64,
    pub api_calls: u64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiscoverRun {
    pub id: String,
    pub job_id: String,
    /// queued, running, succeeded, failed, cancelled
    pub status: String,
    #[serde(flatten)]
    pub counts: DiscoverRunCounts,
    pub warnings: Vec<String>,
    pub error: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// Where a pull stands: the date field's value and the record Id of the last row kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Position {
    pub at: i64,
    pub id: String,
}

/// A run's checkpoint: the furthest row kept so far, and for a Bulk pull where in the job's
/// results it stands (its rows are unordered, so the furthest row alone says nothing of
/// which rows are still to come).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Checkpoint {
    pub last: Option<Position>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk: Option<BulkAt>,
}

impl Checkpoint {
    /// Reads a checkpoint, or the bare position earlier versions wrote.
    pub(crate) fn parse(text: &str) -> Result<Checkpoint> {
        match serde_json::from_str::<Checkpoint>(text) {
            Ok(c) => Ok(c),
            Err(_) => Ok(Checkpoint {
                last: Some(serde_json::from_str(text)?),
                bulk: None,
            }),
        }
    }
}

fn run_of(row: &RunRow) -> Result<DiscoverRun> {
    Ok(DiscoverRun {
        id: row.id.clone(),
        job_id: row.job_id.clone(),
        status: row.status.clone(),
        counts: serde_json::from_str(&row.counts)?,
        warnings: serde_json::from_str(&row.warnings)?,
        error: row.error.clone(),
        created_at: crate::responses::rfc3339(row.created_at),
        started_at: row.started_at.map(crate::responses::rfc3339),
        finished_at: row.finished_at.map(crate::responses::rfc3339),
    })
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A run's progress while it is worked, written back with each page.
pub(crate) struct Progress {
    pub(crate) row: RunRow,
    counts: DiscoverRunCounts,
    warnings: Vec<String>,
    dropped_warnings: usize,
}

impl Progress {
    pub(crate) fn warn(&mut self, w: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(w);
        } else {
            self.dropped_warnings += 1;
        }
    }

    pub(crate) fn written(&mut self) -> Result<RunRow> {
        let mut row = self.row.clone();
        row.counts = serde_json::to_string(&self.counts)?;
        let mut warnings = self.warnings.clone();
        if self.dropped_warnings > 0 {
            warnings.push(format!("… and {} more warnings", self.dropped_warnings));
        }
        row.warnings = serde_json::to_string(&warnings)?;
        Ok(row)
    }
}

impl Sonde {
    /// Starts a run of a job now: the run and its queue job in one transaction.
    pub async fn start_discover_run(&self, actor: &Actor, job_id: &str) -> Result<DiscoverRun> {
        actor.require(Role::Editor)?;
        let job = self.discover_job_row(actor, job_id).await?;
        if self
            .store
            .discover_runs_of_job(&job.id)
            .await?
            .iter()
            .any(|r| r.status == "queued" || r.status == "running")
        {
            return Err(Error::Conflict(
                "a run of this job is already queued or running; wait for it or cancel it".into(),
            ));
        }
        self.queue_discover_run(&job.org_id, &job.id, None)
            .await?
            .ok_or_else(|| Error::Conflict("the run was queued already".into()))
    }

    /// A run and its queue job in one transaction. `dedupe_key` names the moment a schedule
    /// came due: none is queued when a job with that key exists (this node or another fired
    /// it). Without one, the run's own id is the key.
    pub(crate) async fn queue_discover_run(
        &self,
        org_id: &str,
        job_id: &str,
        dedupe_key: Option<&str>,
    ) -> Result<Option<DiscoverRun>> {
        let now = store::now_ms();
        let row = RunRow {
            id: store::ids::ordered("DR_", 12),
            org_id: org_id.to_string(),
            job_id: job_id.to_string(),
            status: "queued".into(),
            counts: serde_json::to_string(&DiscoverRunCounts::default())?,
            warnings: "[]".into(),
            error: None,
            checkpoint: None,
            cancel_requested: false,
            created_at: now,
            started_at: None,
            finished_at: None,
        };
        let mut tx = self.store.begin().await?;
        Store::insert_discover_run(&mut tx, &row).await?;
        let queued = Store::enqueue_job(
            &mut tx,
            &NewJob {
                id: store::ids::ordered("JB_", 12),
                org_id: org_id.to_string(),
                kind: RUN_JOB_KIND.into(),
                payload: row.id.clone(),
                dedupe_key: dedupe_key
                    .map_or_else(|| format!("{RUN_JOB_KIND}:{}", row.id), str::to_string),
                run_after: now,
            },
        )
        .await?;
        if !queued {
            tx.rollback().await?;
            return Ok(None);
        }
        tx.commit().await?;
        run_of(&row).map(Some)
    }

    pub async fn discover_run(&self, actor: &Actor, id: &str) -> Result<DiscoverRun> {
        let row = self
            .store
            .discover_run(&actor.org_id, id)
            .await?
            .ok_or(Error::NotFound("run"))?;
        run_of(&row)
    }

    pub async fn discover_runs(&self, actor: &Actor, job_id: &str) -> Result<Vec<DiscoverRun>> {
        let job = self.discover_job_row(actor, job_id).await?;
        self.store
            .discover_runs_of_job(&job.id)
            .await?
            .iter()
            .map(run_of)
            .collect()
    }

    /// Asks a run to stop: a queued one never starts, a running one stops after its page.
    pub async fn cancel_discover_run(&self, actor: &Actor, id: &str) -> Result<DiscoverRun> {
        actor.require(Role::Editor)?;
        let run = self.discover_run(actor, id).await?;
        if !self
            .store
            .request_discover_cancel(&actor.org_id, id)
            .await?
        {
            return Err(Error::Conflict(format!(
                "the run has already {}",
                run.status
            )));
        }
        self.discover_run(actor, id).await
    }

    /// Works every due run (tests, `sonde` one-shots); how many were claimed.
    pub async fn drain_discover_runs(&self) -> Result<usize> {
        let owner = format!("drain-{}", store::ids::random_token(8));
        let mut claimed = 0;
        loop {
            let jobs = self
                .store
                .claim_jobs(RUN_JOB_KIND, &owner, 1, LEASE_MS)
                .await?;
            if jobs.is_empty() {
                return Ok(claimed);
            }
            for job in jobs {
                claimed += 1;
                self.work_discover_job(&job, &owner).await?;
            }
        }
    }

    /// The server's worker: one run at a time, naps when there is none.
    pub fn spawn_discover_worker(&self) -> tokio::task::JoinHandle<()> {
        let sonde = self.clone();
        tokio::spawn(async move {
            let owner = format!("worker-{}", store::ids::random_token(8));
            loop {
                match sonde
                    .store
                    .claim_jobs(RUN_JOB_KIND, &owner, 1, LEASE_MS)
                    .await
                {
                    Ok(jobs) if !jobs.is_empty() => {
                        for job in jobs {
                            if let Err(e) = sonde.work_discover_job(&job, &owner).await {
                                tracing::warn!(error = %e, "inbound run failed");
                            }
                        }
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "inbound worker pass failed"),
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        })
    }

    async fn work_discover_job(&self, job: &Job, owner: &str) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let run = Store::discover_run_in(&mut tx, &job.payload).await?;
        tx.commit().await?;
        let Some(run) = run else {
            self.store.complete_job(&job.id, owner).await?;
            return Ok(());
        };
        if matches!(run.status.as_str(), "succeeded" | "failed" | "cancelled") {
            self.store.complete_job(&job.id, owner).await?;
            return Ok(());
        }
        let mut progress = Progress {
            counts: serde_json::from_str(&run.counts)?,
            warnings: serde_json::from_str(&run.warnings)?,
            dropped_warnings: 0,
            row: run,
        };
        let outcome = self.pull(job, owner, &mut progress).await;
        let now = store::now_ms();
        progress.row.finished_at = Some(now);
        let cursor = match outcome {
            Ok(Pulled::Paused(why)) => {
                // Not a failure and not an attempt: the run waits for the budget to free up.
                let until = now + self.salesforce_settings().limit_pause_ms;
                progress.row.finished_at = None;
                progress.warn(format!(
                    "paused until {}: {why}",
                    crate::responses::rfc3339(until)
                ));
                let mut tx = self.store.begin().await?;
                Store::update_discover_run(&mut tx, &progress.written()?).await?;
                Store::retry_job_in(&mut tx, &job.id, owner, until, &why, false).await?;
                tx.commit().await?;
                return Ok(());
            }
            Ok(Pulled::Done(cursor)) => {
                progress.row.status = "succeeded".into();
                cursor
            }
            Ok(Pulled::Cancelled) => {
                progress.row.status = "cancelled".into();
                None
            }
            Err(e) if e.is_transient() && job.attempts < 5 => {
                // Salesforce or the store is busy: the run resumes from its checkpoint.
                progress.row.finished_at = None;
                let mut tx = self.store.begin().await?;
                Store::update_discover_run(&mut tx, &progress.written()?).await?;
                Store::retry_job_in(
                    &mut tx,
                    &job.id,
                    owner,
                    now + 30_000 * job.attempts,
                    &e.to_string(),
                    true,
                )
                .await?;
                tx.commit().await?;
                return Ok(());
            }
            Err(e) => {
                progress.row.status = "failed".into();
                progress.row.error = Some(e.to_string());
                None
            }
        };
        let mut tx = self.store.begin().await?;
        Store::update_discover_run(&mut tx, &progress.written()?).await?;
        super::notices::queue_run_notices(&mut tx, &progress.written()?).await?;
        if let Some(c) = cursor {
            Store::set_discover_cursor(
                &mut tx,
                &progress.row.job_id,
                &serde_json::to_string(&c)?,
                now,
            )
            .await?;
        }
        Store::complete_job_in(&mut tx, &job.id, owner).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn pull(&self, job: &Job, owner: &str, progress: &mut Progress) -> Result<Pulled> {
        if progress.row.cancel_requested {
            return Ok(Pulled::Cancelled);
        }
        let job_row = self
            .store
            .discover_job(&job.org_id, &progress.row.job_id)
            .await?
            .ok_or(Error::NotFound("job"))?;
        let settings = job_of(&job_row)?.settings;
        let redactor = settings
            .redactor()
            .map_err(|p| Error::invalid(format!("{}: {}", p.field, p.message)))?;
        let conn = self.job_connection(&job_row, &settings).await?;
        // Calls are counted on the connection; what this run adds (a resumed run adds to its
        // count so far). Other work on the same connection at the same time counts too.
        let calls_before = conn.budget().total_calls();
        let calls_so_far = progress.counts.api_calls;
        let started = *progress.row.started_at.get_or_insert(store::now_ms());
        progress.row.status = "running".into();
        let (q, date_field, kind) = pull_query(&conn, &settings).await?;
        // Resumed: after the last page kept. Incremental: the cursor less the lookback.
        let checkpoint = progress
            .row
            .checkpoint
            .as_deref()
            .map(Checkpoint::parse)
            .transpose()?
            .unwrap_or_default();
        let cursor: Option<Position> = job_row
            .cursor
            .as_deref()
            .map(serde_json::from_str)
            .transpose()?;
        let from = match (&checkpoint, &cursor) {
            (Checkpoint { bulk: Some(b), .. }, _) => b.from,
            (Checkpoint { last: Some(c), .. }, _) => c.at,
            (_, Some(c)) => c.at - LOOKBACK_MS,
            (_, None) => 0,
        };
        let pull_q = windowed(&q, &date_field, kind, from)?;
        if let Some(why) = self.api_reserve_reached(&conn) {
            return Ok(Pulled::Paused(why));
        }
        let run_id = progress.row.id.clone();
        let mut last = checkpoint.last.clone().or(cursor.clone());
        // Where a Bulk pull reads from: the checkpoint's job when resumed; a new one when a
        // fresh run's COUNT() reaches the threshold; none for query/queryMore.
        let bulk_at = match checkpoint.bulk {
            Some(at) => Some(at),
            None if progress.counts.rows_expected.is_none() => {
                let counted = salesforce::QueryOptions {
                    include_deleted: settings.include_deleted,
                    ..Default::default()
                };
                let n = conn
                    .count_with(&transport::count_query(&pull_q).to_string(), counted)
                    .await
                    .map_err(Error::from)?;
                progress.counts.rows_expected = Some(n);
                let threshold = settings
                    .bulk_threshold
                    .unwrap_or(transport::DEFAULT_BULK_THRESHOLD);
                // A record limit below the pull's size needs the oldest rows first, which only
                // the ordered query gives.
                let limited = settings.record_limit.is_some_and(|l| l < n);
                let bulk = n >= threshold && !limited;
                progress.counts.transport = Some(if bulk { "bulk" } else { "query" }.into());
                bulk.then(|| BulkAt {
                    job: String::new(),
                    locator: None,
                    skip: 0,
                    from,
                })
            }
            None => None,
        };
        let source = match bulk_at {
            Some(at) => match self
                .open_bulk(
                    job,
                    owner,
                    progress,
                    &conn,
                    &q,
                    &pull_q,
                    settings.include_deleted,
                    at,
                )
                .await?
            {
                Some(reader) => Source::Bulk(Box::new(reader)),
                None => return Ok(Pulled::Cancelled),
            },
            None => Source::Rest(super::source::rows(&conn, &settings, &pull_q.to_string())),
        };
        let on_duplicate = match settings.duplicates {
            Duplicates::Skip => OnDuplicate::Skip,
            Duplicates::Replace => OnDuplicate::Replace,
            Duplicates::Update => OnDuplicate::Update,
        };
        let limit = settings.record_limit;
        let builder = Arc::new(Builder {
            settings,
            redactor,
            org_id: job.org_id.clone(),
            job_id: job_row.id.clone(),
            run_id: run_id.clone(),
            job_name: job_row.name.clone(),
            load_date: started,
        });
        let bulk_job = match &source {
            Source::Bulk(reader) => Some(reader.at.job.clone()),
            Source::Rest(_) => None,
        };
        let mut pages = pipeline::spawn_pages(source, conn.clone(), builder, PAGE);
        while let Some(page) = pages.recv().await {
            let api_calls = calls_so_far + conn.budget().total_calls() - calls_before;
            let cancel_requested = self
                .keep_page(
                    job,
                    owner,
                    progress,
                    page?,
                    &mut last,
                    on_duplicate,
                    limit,
                    api_calls,
                )
                .await?;
            if cancel_requested {
                if let Some(id) = &bulk_job {
                    let _ = conn.delete_query_job(id).await;
                }
                return Ok(Pulled::Cancelled);
            }
            if let Some(why) = self.api_reserve_reached(&conn) {
                return Ok(Pulled::Paused(why));
            }
            if limit.is_some_and(|n| counts_kept(&progress.counts) >= n) {
                // What is past the limit is the next run's: the cursor stands at the last kept.
                break;
            }
        }
        if let Some(id) = bulk_job {
            // Its results are read: free the org's storage of them (best effort).
            let _ = conn.delete_query_job(&id).await;
        }
        progress.counts.api_calls = calls_so_far + conn.budget().total_calls() - calls_before;
        Ok(Pulled::Done(last))
    }

    /// Writes a built page with the run's counts and checkpoint in one transaction and renews
    /// the lease; whether a cancel has been asked for.
    #[allow(clippy::too_many_arguments)]
    async fn keep_page(
        &self,
        job: &Job,
        owner: &str,
        progress: &mut Progress,
        page: BuiltPage,
        last: &mut Option<Position>,
        on_duplicate: OnDuplicate,
        limit: Option<u64>,
        api_calls: u64,
    ) -> Result<bool> {
        let counts = &mut progress.counts;
        counts.rows_read += page.rows_read;
        counts.filtered += page.filtered;
        counts.redactions += page.redactions;
        counts.api_calls = api_calls;
        for w in page.warnings {
            progress.warn(w);
        }
        let mut tx = self.store.begin().await?;
        let room = limit.map(|n| n.saturating_sub(counts_kept(&progress.counts)));
        let written =
            Store::write_discover_documents(&mut tx, &page.docs, on_duplicate, room).await?;
        let counts = &mut progress.counts;
        let mut furthest: Option<(i64, String)> = None;
        for (w, position) in written.into_iter().zip(page.positions) {
            match w {
                Written::Created => counts.documents_created += 1,
                Written::Updated => counts.documents_updated += 1,
                Written::SkippedDuplicate => counts.duplicates_skipped += 1,
                Written::Unchanged => counts.unchanged += 1,
                Written::OverLimit => {
                    // Past the limit: neither kept nor passed, so the cursor stays before it.
                    counts.filtered += 1;
                    continue;
                }
            }
            if furthest.as_ref().is_none_or(|f| *f < position) {
                furthest = Some(position);
            }
        }
        if let Some((at, id)) = furthest {
            let p = Position { at, id };
            if last.as_ref().is_none_or(|l| (l.at, &l.id) < (p.at, &p.id)) {
                *last = Some(p);
            }
        }
        let checkpoint = Checkpoint {
            last: last.clone(),
            bulk: page.bulk_at,
        };
        progress.row.checkpoint = Some(serde_json::to_string(&checkpoint)?);
        Store::update_discover_run(&mut tx, &progress.written()?).await?;
        let now_run = Store::discover_run_in(&mut tx, &progress.row.id).await?;
        tx.commit().await?;
        self.store
            .renew_job_lease(&job.id, owner, store::now_ms() + LEASE_MS)
            .await?;
        Ok(now_run.is_some_and(|r| r.cancel_requested))
    }
}

/// The job's query as a pull sends it: Id, the date field and the text field selected,
/// ordered by the date field then Id (so a checkpoint is a position); with the date field's
/// kind read from the org's describe.
pub(crate) async fn pull_query(
    conn: &salesforce::Connection,
    settings: &super::JobSettings,
) -> Result<(soql::ast::Query, String, FieldKind)> {
    let mut q = super::query::parse_for_job(&settings.soql)?;
    let object = soql::analysis::queried_object(&q).to_string();
    let describe = conn.describe(&object).await.map_err(Error::from)?;
    let date_field = settings.date_field().to_string();
    let kind = match describe.field(&date_field).map(|f| f.kind.as_str()) {
        Some("date") => FieldKind::Date,
        Some("datetime") => FieldKind::DateTime,
        _ => {
            return Err(Error::invalid(format!(
                "{date_field} is not a date field of {object} in the org any more"
            )))
        }
    };
    for needed in ["Id", date_field.as_str(), settings.text_field()] {
        let selected = soql::analysis::selected_fields(&q)
            .iter()
            .any(|f| f.eq_ignore_ascii_case(needed));
        if !selected {
            q.select.push(SelectItem::Expr {
                expr: Expr::Field(FieldPath::parse_dotted(needed)),
                alias: None,
            });
        }
    }
    super::source::select_deleted_flag(&mut q, settings);
    q.order_by = [date_field.as_str(), "Id"]
        .iter()
        .map(|f| OrderItem {
            expr: Expr::Field(FieldPath::parse_dotted(f)),
            direction: Some(Direction::Asc),
            nulls: None,
        })
        .collect();
    Ok((q, date_field, kind))
}

/// The pull's window: from `from` on. No upper bound from this clock: the org's clock is the
/// one its timestamps follow, and a row written while the run reads is simply read (or read by
/// the next run).
fn windowed(
    q: &soql::ast::Query,
    date_field: &str,
    kind: FieldKind,
    from: i64,
) -> Result<soql::ast::Query> {
    soql::analysis::try_with_incremental_window(q, date_field, kind, &iso(from), UNBOUNDED)
        .map_err(|e| Error::invalid(e.to_string()))
}

/// Sessions asked about per ConversationEntry query: an `IN` list of 200 ids stays far
/// inside SOQL's length limit.
const SESSIONS_PER_QUERY: usize = 200;

/// The conversations of a page of messaging sessions, by the session's 15-character id: their
/// ConversationEntry rows read in one query per 200 sessions, grouped and ordered.
pub(crate) async fn conversation_entries(
    conn: &salesforce::Connection,
    sessions: &[Map<String, Value>],
) -> Result<HashMap<String, conversations::Conversation>> {
    let ids: Vec<String> = sessions
        .iter()
        .filter_map(|r| super::documents::field_text(r, "Id"))
        .filter(|id| id.chars().all(|c| c.is_ascii_alphanumeric()))
        .collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(SESSIONS_PER_QUERY) {
        let list: Vec<String> = chunk.iter().map(|id| format!("'{id}'")).collect();
        let soql = format!(
            "SELECT ConversationId, ActorType, ActorName, Message, EntryTime, EntryType \
             FROM ConversationEntry WHERE ConversationId IN ({}) ORDER BY EntryTime",
            list.join(", ")
        );
        let rows: Vec<Map<String, Value>> =
            futures::TryStreamExt::try_collect(conn.query::<Map<String, Value>>(&soql))
                .await
                .map_err(Error::from)?;
        let text = |r: &Map<String, Value>, f: &str| super::documents::field_text(r, f);
        let entries = rows.iter().map(|r| conversations::ConversationEntry {
            conversation_id: text(r, "ConversationId").unwrap_or_default(),
            actor_type: text(r, "ActorType").unwrap_or_default(),
            actor_name: text(r, "ActorName").unwrap_or_default(),
            message: text(r, "Message").unwrap_or_default(),
            entry_time: text(r, "EntryTime")
                .as_deref()
                .and_then(super::documents::salesforce_time)
                .and_then(chrono::DateTime::from_timestamp_millis),
            sequence: None,
            entry_type: text(r, "EntryType"),
        });
        for c in conversations::conversations_from_entries(entries) {
            let key = c.conversation_id[..c.conversation_id.len().min(15)].to_string();
            out.insert(key, c.conversation);
        }
    }
    Ok(out)
}

/// Documents a run has created or updated: what its record limit counts.
fn counts_kept(c: &DiscoverRunCounts) -> u64 {
    c.documents_created + c.documents_updated
}

pub(crate) enum Pulled {
    /// Every row read; where the next incremental run starts.
    Done(Option<Position>),
    Cancelled,
    /// The org's API budget is down to its reserve: resume later.
    Paused(String),
}
