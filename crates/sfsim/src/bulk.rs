//! Bulk API 2.0 query jobs: create, poll, abort, delete, and CSV results paged by
//! `Sforce-Locator`, streamed in chunks so a million-row result never sits in one string.

use crate::error::ApiError;
use crate::ids::Id;
use crate::org::{OrgState, Session};
use crate::query::{self, Path, Plan};
use crate::rest::{parse_body, Reply, Req};
use crate::store::Store;
use crate::val;
use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

/// How long a job reports InProgress before JobComplete, so clients really poll.
const PROCESSING: std::time::Duration = std::time::Duration::from_millis(150);
/// Rows rendered per lock acquisition while streaming results.
const CHUNK: usize = 2000;
/// Results page size when neither the client (`maxRecords`) nor `/_sim/bulk` sets one.
pub const DEFAULT_PAGE_SIZE: usize = 100_000;

pub struct BulkJob {
    pub id: String,
    operation: String,
    object: String,
    query_text: String,
    created_by: Id,
    created_ms: i64,
    started: Instant,
    version: String,
    plan: Arc<Plan>,
    columns: Arc<Vec<Path>>,
    ids: Arc<Vec<Id>>,
    delimiter: char,
    line_ending: &'static str,
    delimiter_name: String,
    line_ending_name: String,
    aborted: bool,
}

impl BulkJob {
    fn state(&self) -> &'static str {
        if self.aborted {
            "Aborted"
        } else if self.started.elapsed() < PROCESSING {
            "InProgress"
        } else {
            "JobComplete"
        }
    }

    fn info(&self, detail: bool) -> Value {
        let mut v = json!({
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by.to18(),
            "createdDate": val::format_datetime(self.created_ms),
            "systemModstamp": val::format_datetime(self.created_ms),
            "state": self.state(),
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": self.version.parse::<f64>().unwrap_or(62.0),
            "lineEnding": self.line_ending_name,
            "columnDelimiter": self.delimiter_name,
        });
        if detail {
            v["jobType"] = json!("V2Query");
            v["numberRecordsProcessed"] = json!(if self.state() == "JobComplete" {
                self.ids.len()
            } else {
                0
            });
            v["retries"] = json!(0);
            v["totalProcessingTime"] = json!(PROCESSING.as_millis() as u64);
            v["query"] = json!(self.query_text);
        }
        v
    }
}

fn delimiter(name: &str) -> Option<char> {
    Some(match name {
        "COMMA" => ',',
        "TAB" => '\t',
        "PIPE" => '|',
        "SEMICOLON" => ';',
        "CARET" => '^',
        "BACKQUOTE" => '`',
        _ => return None,
    })
}

/// Routes `/jobs/query...`.
pub fn route(
    state: &Arc<OrgState>,
    s: &Session,
    req: &Req,
    store: &Store,
) -> Result<Reply, crate::error::RestError> {
    let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    match (req.method.as_str(), &segs[2..]) {
        ("POST", []) => Ok(create(state, s, req, store)?),
        ("GET", []) => {
            let jobs = state.jobs.lock();
            let records: Vec<Value> = jobs.values().map(|j| j.info(false)).collect();
            Ok(Reply::Json(
                200,
                json!({"done": true, "records": records, "nextRecordsUrl": null}),
            ))
        }
        ("GET", [id]) => {
            let jobs = state.jobs.lock();
            let j = jobs.get(*id).ok_or_else(job_not_found)?;
            Ok(Reply::Json(200, j.info(true)))
        }
        ("PATCH", [id]) => {
            let body = parse_body(&req.body)?;
            let mut jobs = state.jobs.lock();
            let j = jobs.get_mut(*id).ok_or_else(job_not_found)?;
            if body.get("state").and_then(Value::as_str) != Some("Aborted") {
                return Err(ApiError::bad("INVALIDJOBSTATE", "Invalid job state").into());
            }
            if j.state() == "JobComplete" {
                return Err(ApiError::bad(
                    "INVALIDJOBSTATE",
                    "Job is already complete and cannot be aborted",
                )
                .into());
            }
            j.aborted = true;
            Ok(Reply::Json(200, j.info(false)))
        }
        ("DELETE", [id]) => {
            let mut jobs = state.jobs.lock();
            jobs.remove(*id).ok_or_else(job_not_found)?;
            Ok(Reply::Empty(204))
        }
        ("GET", [id, "results"]) => results(state, req, id),
        _ => Err(ApiError::not_found().into()),
    }
}

fn job_not_found() -> ApiError {
    ApiError::new(404, "NOT_FOUND", "The requested resource does not exist")
}

fn create(state: &Arc<OrgState>, s: &Session, req: &Req, store: &Store) -> Result<Reply, ApiError> {
    let body = parse_body(&req.body)?;
    let operation = body.get("operation").and_then(Value::as_str).unwrap_or("");
    if operation != "query" && operation != "queryAll" {
        return Err(ApiError::bad(
            "INVALIDJOB",
            format!("Invalid operation: {operation}"),
        ));
    }
    let text = body
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let delim_name = body
        .get("columnDelimiter")
        .and_then(Value::as_str)
        .unwrap_or("COMMA")
        .to_string();
    let delim = delimiter(&delim_name).ok_or_else(|| {
        ApiError::bad(
            "INVALIDJOB",
            format!("Invalid column delimiter: {delim_name}"),
        )
    })?;
    let le_name = body
        .get("lineEnding")
        .and_then(Value::as_str)
        .unwrap_or("LF")
        .to_string();
    let line_ending = match le_name.as_str() {
        "LF" => "\n",
        "CRLF" => "\r\n",
        other => {
            return Err(ApiError::bad(
                "INVALIDJOB",
                format!("Invalid line ending: {other}"),
            ))
        }
    };
    if let Some(ct) = body.get("contentType").and_then(Value::as_str) {
        if ct != "CSV" {
            return Err(ApiError::bad(
                "INVALIDJOB",
                format!("Invalid content type: {ct}"),
            ));
        }
    }
    let now = state.clock.now_ms();
    let plan = query::compile(store, s, &text, now)?;
    let columns = query::csv_columns(&plan).map_err(|m| ApiError::bad("INVALIDJOB", m))?;
    let ids = query::matching(store, &plan, now, operation == "queryAll");
    let id = format!("7505g0000{}", crate::oauth::random_token(6));
    let job = BulkJob {
        id: id.clone(),
        operation: operation.to_string(),
        object: store.meta.objects[plan.oi].name.clone(),
        query_text: text,
        created_by: s.user,
        created_ms: now,
        started: Instant::now(),
        version: req.version.clone(),
        plan: Arc::new(plan),
        columns: Arc::new(columns),
        ids: Arc::new(ids),
        delimiter: delim,
        line_ending,
        delimiter_name: delim_name,
        line_ending_name: le_name,
        aborted: false,
    };
    let mut info = job.info(false);
    info["state"] = json!("UploadComplete");
    state.jobs.lock().insert(id, job);
    Ok(Reply::Json(200, info))
}

fn csv_field(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

fn results(state: &Arc<OrgState>, req: &Req, id: &str) -> Result<Reply, crate::error::RestError> {
    let (plan, columns, ids, delim, le, version, st) = {
        let jobs = state.jobs.lock();
        let j = jobs.get(id).ok_or_else(job_not_found)?;
        (
            j.plan.clone(),
            j.columns.clone(),
            j.ids.clone(),
            j.delimiter,
            j.line_ending,
            j.version.clone(),
            j.state(),
        )
    };
    if version != req.version {
        return Err(ApiError::new(409, "API_VERSION_MISMATCH", format!("This job was created in API version {version}; use the same version to get its results")).into());
    }
    if st != "JobComplete" {
        let status = if st == "InProgress" {
            "IN_PROGRESS"
        } else {
            "ABORTED"
        };
        return Err(ApiError::new(
            412,
            "JOB_NOT_COMPLETE",
            format!("can only download query results of successfully completed bulk job with status: JOB_COMPLETE. Current status: {status}"),
        )
        .into());
    }
    let from: usize = match req.query.get("locator").map(String::as_str) {
        None | Some("") => 0,
        Some(l) => l
            .parse()
            .map_err(|_| ApiError::bad("INVALID_LOCATOR", format!("Invalid locator: {l}")))?,
    };
    let max = req
        .query
        .get("maxRecords")
        .and_then(|m| m.parse::<usize>().ok())
        .filter(|m| *m > 0)
        .unwrap_or_else(|| {
            state
                .bulk_page_size
                .load(std::sync::atomic::Ordering::Relaxed)
        });
    let from = from.min(ids.len());
    let end = from.saturating_add(max).min(ids.len());
    let next = if end < ids.len() {
        end.to_string()
    } else {
        "null".to_string()
    };
    let mut header_line = String::new();
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            header_line.push(delim);
        }
        csv_field(&mut header_line, &c.dotted());
    }
    header_line.push_str(le);
    let st = state.clone();
    let _ = plan;
    // Stream the page in chunks, taking the read lock only while a chunk renders.
    let chunks = futures::stream::unfold((from, Some(header_line)), move |(pos, head)| {
        let st = st.clone();
        let ids = ids.clone();
        let columns = columns.clone();
        async move {
            if let Some(h) = head {
                return Some((Ok::<_, std::io::Error>(bytes::Bytes::from(h)), (pos, None)));
            }
            if pos >= end {
                return None;
            }
            let stop = (pos + CHUNK).min(end);
            let mut out = String::with_capacity((stop - pos) * 64);
            {
                let store = st.store.read();
                let oi = store.object_of(ids[pos]).unwrap_or(0);
                for rid in &ids[pos..stop] {
                    let Some(rec) = store.get(oi, *rid) else {
                        continue;
                    };
                    for (i, c) in columns.iter().enumerate() {
                        if i > 0 {
                            out.push(delim);
                        }
                        csv_field(&mut out, &query::csv_value(&store, rec, c));
                    }
                    out.push_str(le);
                }
            }
            Some((Ok(bytes::Bytes::from(out)), (stop, None)))
        }
    });
    let resp = (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv".to_string()),
            (header::HeaderName::from_static("sforce-locator"), next),
            (
                header::HeaderName::from_static("sforce-numberofrecords"),
                (end - from).to_string(),
            ),
        ],
        Body::from_stream(chunks),
    )
        .into_response();
    Ok(Reply::Raw(resp))
}
