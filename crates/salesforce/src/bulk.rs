//! Bulk API 2.0 query jobs: create the job, poll with backoff until `JobComplete`, then stream
//! the CSV results page by page (`Sforce-Locator`, literal `null` on the last page).
//!
//! Results are parsed incrementally from the network as they arrive, so memory stays bounded by
//! one network chunk plus one record, however many rows the job returns.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use csv_core::{ReadRecordResult, Reader as CsvReader};
use futures::stream::{self, Stream, StreamExt};
use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::connection::{Connection, Req};
use crate::error::{Error, Result};
use crate::limits::CallKind;
use crate::rest::segment;

/// A Bulk API 2.0 job as `GET /jobs/query/{id}` describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryJob {
    pub id: String,
    #[serde(default)]
    pub operation: String,
    #[serde(default)]
    pub object: Option<String>,
    /// `UploadComplete`, `InProgress`, `JobComplete`, `Failed`, `Aborted`.
    pub state: String,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(default)]
    pub number_records_processed: Option<u64>,
    #[serde(default)]
    pub api_version: Option<serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateJob<'a> {
    operation: &'a str,
    query: &'a str,
    content_type: &'a str,
    column_delimiter: &'a str,
    line_ending: &'a str,
}

/// How to run and read a Bulk query.
#[derive(Debug, Clone, Copy)]
pub struct BulkQueryOptions {
    /// `queryAll`: include deleted and archived rows.
    pub include_deleted: bool,
    /// `maxRecords` per results page; `None` lets Salesforce choose.
    pub max_records: Option<u32>,
    /// First wait between status polls; doubled after each poll up to `poll_max`.
    pub poll_initial: Duration,
    pub poll_max: Duration,
    /// Give up waiting for the job after this long (the job keeps running in Salesforce).
    pub timeout: Duration,
}

impl Default for BulkQueryOptions {
    fn default() -> Self {
        BulkQueryOptions {
            include_deleted: false,
            max_records: None,
            poll_initial: Duration::from_millis(200),
            poll_max: Duration::from_secs(10),
            timeout: Duration::from_secs(3600),
        }
    }
}

/// One CSV row with its columns; the column list is shared by all rows of a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkRow {
    pub columns: Arc<[String]>,
    pub values: Vec<String>,
}

impl BulkRow {
    /// The value in the named column (Salesforce's field names are case-insensitive).
    pub fn get(&self, column: &str) -> Option<&str> {
        let i = self
            .columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(column))?;
        self.values.get(i).map(String::as_str)
    }
}

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

impl Connection {
    /// `POST /jobs/query`: starts a job for `soql`.
    pub async fn create_query_job(&self, soql: &str, include_deleted: bool) -> Result<QueryJob> {
        let body = CreateJob {
            operation: if include_deleted { "queryAll" } else { "query" },
            query: soql,
            content_type: "CSV",
            column_delimiter: "COMMA",
            line_ending: "LF",
        };
        let req =
            Req::new(CallKind::Bulk, Method::POST, self.data_path("/jobs/query")).json(&body)?;
        self.send_json(&req).await
    }

    /// `GET /jobs/query/{id}`.
    pub async fn query_job(&self, job_id: &str) -> Result<QueryJob> {
        let req = Req::new(
            CallKind::Bulk,
            Method::GET,
            self.data_path(&format!("/jobs/query/{}", segment(job_id))),
        );
        self.send_json(&req).await
    }

    /// `DELETE /jobs/query/{id}`: frees the job's stored results.
    pub async fn delete_query_job(&self, job_id: &str) -> Result<()> {
        let req = Req::new(
            CallKind::Bulk,
            Method::DELETE,
            self.data_path(&format!("/jobs/query/{}", segment(job_id))),
        );
        self.send(&req).await.map(drop)
    }

    /// Polls with growing intervals until the job is `JobComplete`. `Failed` or `Aborted`
    /// become [`Error::JobFailed`] with Salesforce's message.
    pub async fn wait_for_query_job(
        &self,
        job_id: &str,
        options: &BulkQueryOptions,
    ) -> Result<QueryJob> {
        let started = Instant::now();
        let mut wait = options.poll_initial;
        loop {
            let job = self.query_job(job_id).await?;
            match job.state.as_str() {
                "JobComplete" => return Ok(job),
                "Failed" | "Aborted" => {
                    return Err(Error::JobFailed {
                        job_id: job.id,
                        state: job.state,
                        message: job.error_message.unwrap_or_default(),
                    })
                }
                _ => {}
            }
            if started.elapsed() > options.timeout {
                return Err(Error::Retryable {
                    status: None,
                    code: None,
                    message: format!(
                        "Bulk query job {job_id} still {} after {:?}",
                        job.state, options.timeout
                    ),
                });
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(options.poll_max);
        }
    }

    /// Runs `soql` as a Bulk API 2.0 query and streams its rows. The job is created and awaited
    /// before the stream is returned; the stream fetches result pages as it is read.
    pub async fn bulk_query(
        &self,
        soql: &str,
        options: BulkQueryOptions,
    ) -> Result<impl Stream<Item = Result<BulkRow>> + Send + 'static> {
        let job = self.create_query_job(soql, options.include_deleted).await?;
        let job = self.wait_for_query_job(&job.id, &options).await?;
        Ok(self.query_job_results(&job.id, options.max_records))
    }

    /// Streams the results of a completed job, page after page.
    pub fn query_job_results(
        &self,
        job_id: &str,
        max_records: Option<u32>,
    ) -> impl Stream<Item = Result<BulkRow>> + Send + 'static {
        let state = ResultsState {
            conn: self.clone(),
            job_id: job_id.to_string(),
            max_records,
            page: None,
            locator: Some(None),
            columns: None,
        };
        stream::try_unfold(state, |mut st| async move {
            loop {
                if let Some(page) = st.page.as_mut() {
                    if let Some(rows) = page.next_rows(&mut st.columns).await? {
                        return Ok(Some((rows, st)));
                    }
                    st.page = None;
                }
                // Page exhausted: fetch the next one, if Salesforce gave a locator.
                let Some(locator) = st.locator.take() else {
                    return Ok(None);
                };
                let (page, next) = fetch(&st.conn, &st.job_id, st.max_records, locator).await?;
                st.page = Some(page);
                st.locator = next.map(Some);
            }
        })
        .map(|r: Result<Vec<BulkRow>>| match r {
            Ok(rows) => stream::iter(rows.into_iter().map(Ok)).left_stream(),
            Err(e) => stream::iter(std::iter::once(Err(e))).right_stream(),
        })
        .flatten()
        .boxed()
    }
}

/// One results page of a completed job, read as it streams in, and where the next page is.
/// A reader that must resume exactly (a crash mid-page) keeps the locator it fetched this page
/// at and how many rows it had finished: the same locator answers the same rows again.
pub struct BulkResultsPage {
    page: CsvPage,
    columns: Option<Arc<[String]>>,
    /// The next page's locator; `None` on the last page.
    pub next_locator: Option<String>,
}

impl BulkResultsPage {
    /// The rows of the next network chunk, or `None` at the page's end.
    pub async fn next_rows(&mut self) -> Result<Option<Vec<BulkRow>>> {
        self.page.next_rows(&mut self.columns).await
    }
}

impl Connection {
    /// `GET /jobs/query/{id}/results`: the page at `locator` (`None`: the first page).
    pub async fn query_job_page(
        &self,
        job_id: &str,
        locator: Option<&str>,
        max_records: Option<u32>,
    ) -> Result<BulkResultsPage> {
        let (page, next_locator) =
            fetch(self, job_id, max_records, locator.map(str::to_string)).await?;
        Ok(BulkResultsPage {
            page,
            columns: None,
            next_locator,
        })
    }
}

struct ResultsState {
    conn: Connection,
    job_id: String,
    max_records: Option<u32>,
    page: Option<CsvPage>,
    /// `Some(None)`: fetch the first page; `Some(Some(l))`: fetch at `l`; `None`: no more pages.
    locator: Option<Option<String>>,
    columns: Option<Arc<[String]>>,
}

/// Requests one results page; returns its parser and the locator of the next page.
async fn fetch(
    conn: &Connection,
    job_id: &str,
    max_records: Option<u32>,
    locator: Option<String>,
) -> Result<(CsvPage, Option<String>)> {
    {
        let mut req = Req::new(
            CallKind::Bulk,
            Method::GET,
            conn.data_path(&format!("/jobs/query/{}/results", segment(job_id))),
        );
        if let Some(l) = locator {
            req = req.query("locator", l);
        }
        if let Some(n) = max_records {
            req = req.query("maxRecords", n.to_string());
        }
        let resp = conn.send(&req).await?;
        let next = resp
            .headers()
            .get("sforce-locator")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|l| !l.is_empty() && *l != "null")
            .map(str::to_string);
        Ok((CsvPage::new(Box::pin(resp.bytes_stream())), next))
    }
}

/// Incremental CSV parser over one results page.
struct CsvPage {
    body: ByteStream,
    chunk: Bytes,
    pos: usize,
    body_done: bool,
    reader: CsvReader,
    /// Field bytes and field ends of the record being parsed (may span chunks).
    out: Vec<u8>,
    out_len: usize,
    ends: Vec<usize>,
    ends_len: usize,
    /// The page's first record is its header.
    header_seen: bool,
    finished: bool,
    ready: VecDeque<Vec<String>>,
}

impl CsvPage {
    fn new(body: ByteStream) -> Self {
        CsvPage {
            body,
            chunk: Bytes::new(),
            pos: 0,
            body_done: false,
            reader: CsvReader::new(),
            out: vec![0; 1024],
            out_len: 0,
            ends: vec![0; 64],
            ends_len: 0,
            header_seen: false,
            finished: false,
            ready: VecDeque::new(),
        }
    }

    /// The rows parsed from the next network chunk (never an empty batch), or `None` at the
    /// page's end.
    async fn next_rows(
        &mut self,
        columns: &mut Option<Arc<[String]>>,
    ) -> Result<Option<Vec<BulkRow>>> {
        loop {
            if self.finished {
                return Ok(None);
            }
            if self.pos >= self.chunk.len() && !self.body_done {
                match self.body.next().await {
                    Some(Ok(b)) => {
                        self.chunk = b;
                        self.pos = 0;
                    }
                    Some(Err(e)) => return Err(e.into()),
                    None => self.body_done = true,
                }
            }
            self.parse_available()?;
            let mut rows = Vec::with_capacity(self.ready.len());
            while let Some(values) = self.ready.pop_front() {
                if !self.header_seen {
                    self.header_seen = true;
                    let same = columns.as_ref().is_some_and(|c| **c == values[..]);
                    if !same {
                        *columns = Some(values.into());
                    }
                    continue;
                }
                let Some(cols) = columns.clone() else {
                    return Err(Error::Protocol(
                        "Bulk results have rows before a header".into(),
                    ));
                };
                if values.len() == 1 && values[0].is_empty() && cols.len() != 1 {
                    // A blank line (e.g. a trailing newline quirk), not a record.
                    continue;
                }
                if values.len() != cols.len() {
                    return Err(Error::Protocol(format!(
                        "Bulk results row has {} values for {} columns",
                        values.len(),
                        cols.len()
                    )));
                }
                rows.push(BulkRow {
                    columns: cols,
                    values,
                });
            }
            if !rows.is_empty() {
                return Ok(Some(rows));
            }
        }
    }

    /// Feeds the current chunk (or end of input) to the CSV reader, queueing complete records.
    fn parse_available(&mut self) -> Result<()> {
        loop {
            let input = &self.chunk[self.pos..];
            if input.is_empty() && !self.body_done {
                return Ok(());
            }
            let (res, nin, nout, nend) = self.reader.read_record(
                input,
                &mut self.out[self.out_len..],
                &mut self.ends[self.ends_len..],
            );
            self.pos += nin;
            self.out_len += nout;
            self.ends_len += nend;
            match res {
                ReadRecordResult::InputEmpty => {
                    if self.body_done {
                        continue;
                    }
                    return Ok(());
                }
                ReadRecordResult::OutputFull => {
                    let n = self.out.len() * 2;
                    self.out.resize(n, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let n = self.ends.len() * 2;
                    self.ends.resize(n, 0);
                }
                ReadRecordResult::Record => {
                    let record = self.take_record()?;
                    self.ready.push_back(record);
                }
                ReadRecordResult::End => {
                    self.finished = true;
                    return Ok(());
                }
            }
        }
    }

    fn take_record(&mut self) -> Result<Vec<String>> {
        let mut values = Vec::with_capacity(self.ends_len);
        let mut start = 0;
        for &end in &self.ends[..self.ends_len] {
            let field = std::str::from_utf8(&self.out[start..end])
                .map_err(|e| Error::Protocol(format!("Bulk results are not UTF-8: {e}")))?;
            values.push(field.to_string());
            start = end;
        }
        self.out_len = 0;
        self.ends_len = 0;
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_of(chunks: Vec<&'static [u8]>) -> CsvPage {
        let s = stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from_static(c))));
        CsvPage::new(Box::pin(s))
    }

    async fn all_rows(
        mut page: CsvPage,
        cols: &mut Option<Arc<[String]>>,
    ) -> Result<Vec<Vec<String>>> {
        let mut out = Vec::new();
        while let Some(rows) = page.next_rows(cols).await? {
            out.extend(rows.into_iter().map(|r| r.values));
        }
        Ok(out)
    }

    #[tokio::test]
    async fn parses_rows_split_across_chunks() {
        let page = page_of(vec![
            b"\"Id\",\"Name\",\"Desc",
            b"ription\"\n\"001A\",\"Acme, Inc.\",\"line1\nline2\"\n\"0",
            b"01B\",\"Quote \"\"q\"\"\",\"\"\n",
        ]);
        let mut cols = None;
        let rows = all_rows(page, &mut cols).await.unwrap();
        assert_eq!(&cols.unwrap()[..], ["Id", "Name", "Description"]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0], vec!["001A", "Acme, Inc.", "line1\nline2"]);
        assert_eq!(rows[1], vec!["001B", "Quote \"q\"", ""]);
    }

    #[tokio::test]
    async fn last_row_without_newline_and_header_only_pages() {
        let mut cols = None;
        let rows = all_rows(page_of(vec![b"Id\n1\n2"]), &mut cols)
            .await
            .unwrap();
        assert_eq!(rows, vec![vec!["1"], vec!["2"]]);
        let rows = all_rows(page_of(vec![b"Id\n"]), &mut cols).await.unwrap();
        assert!(rows.is_empty());
        let rows = all_rows(page_of(vec![]), &mut cols).await.unwrap();
        assert!(rows.is_empty());
    }

    /// However the network splits the body, the rows are the same.
    #[tokio::test]
    async fn every_split_point_gives_the_same_rows() {
        const CSV: &[u8] = b"\"Id\",\"Name\",\"Note\"\n\"001\",\"Acme, Inc.\",\"a \"\"b\"\"\nc\"\n\"002\",\"\xc3\xa9t\xc3\xa9\",\"\"\n003,plain,x\n";
        let mut cols = None;
        let whole = all_rows(page_of(vec![CSV]), &mut cols).await.unwrap();
        assert_eq!(whole.len(), 3);
        assert_eq!(whole[0][2], "a \"b\"\nc");
        for cut in 0..=CSV.len() {
            let (a, b) = CSV.split_at(cut);
            let mut cols = None;
            let rows = all_rows(page_of(vec![a, b]), &mut cols).await.unwrap();
            assert_eq!(rows, whole, "split at {cut}");
        }
        let bytes: Vec<&'static [u8]> = CSV.chunks(1).collect();
        let mut cols = None;
        assert_eq!(all_rows(page_of(bytes), &mut cols).await.unwrap(), whole);
    }

    #[tokio::test]
    async fn ragged_rows_are_an_error_not_a_panic() {
        let mut cols = None;
        let r = all_rows(page_of(vec![b"A,B\n1,2,3\n"]), &mut cols).await;
        assert!(matches!(r, Err(Error::Protocol(_))));
    }

    #[test]
    fn row_lookup_is_case_insensitive() {
        let row = BulkRow {
            columns: vec!["Id".to_string(), "Account.Name".to_string()].into(),
            values: vec!["1".into(), "Acme".into()],
        };
        assert_eq!(row.get("account.name"), Some("Acme"));
        assert_eq!(row.get("Missing"), None);
    }
}
