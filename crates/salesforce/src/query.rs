//! SOQL through the REST API: `query` and `queryAll`, streamed record by record through every
//! page (`nextRecordsUrl`), holding one page at a time.

use futures::stream::{self, Stream, StreamExt, TryStreamExt};
use reqwest::header::HeaderName;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::connection::{Connection, Req};
use crate::error::Result;
use crate::limits::CallKind;
use crate::rest::Record;

/// One page of a query answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryPage<T> {
    pub total_size: u64,
    pub done: bool,
    #[serde(default)]
    pub next_records_url: Option<String>,
    #[serde(default = "Vec::new")]
    pub records: Vec<T>,
}

/// How to run a query.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueryOptions {
    /// `queryAll`: include deleted and archived records.
    pub include_deleted: bool,
    /// `Sforce-Query-Options: batchSize=N` (Salesforce accepts 200–2,000 and treats it as a
    /// hint).
    pub batch_size: Option<u32>,
}

impl Connection {
    /// Streams every record `soql` selects, following `nextRecordsUrl` until `done`.
    pub fn query<T: DeserializeOwned + Send + 'static>(
        &self,
        soql: &str,
    ) -> impl Stream<Item = Result<T>> + Send + 'static {
        self.query_with(soql, QueryOptions::default())
    }

    /// Like [`Connection::query`] over `queryAll` (deleted and archived rows included).
    pub fn query_all<T: DeserializeOwned + Send + 'static>(
        &self,
        soql: &str,
    ) -> impl Stream<Item = Result<T>> + Send + 'static {
        self.query_with(
            soql,
            QueryOptions {
                include_deleted: true,
                ..Default::default()
            },
        )
    }

    /// Streams records as JSON maps.
    pub fn query_records(&self, soql: &str) -> impl Stream<Item = Result<Record>> + Send + 'static {
        self.query(soql)
    }

    pub fn query_with<T: DeserializeOwned + Send + 'static>(
        &self,
        soql: &str,
        options: QueryOptions,
    ) -> impl Stream<Item = Result<T>> + Send + 'static {
        enum Next {
            First(String),
            More(String),
            Done,
        }
        let conn = self.clone();
        stream::try_unfold(Next::First(soql.to_string()), move |next| {
            let conn = conn.clone();
            async move {
                let page: QueryPage<T> = match next {
                    Next::Done => return Ok::<_, crate::Error>(None),
                    Next::First(soql) => conn.query_page(&soql, options).await?,
                    Next::More(url) => conn.query_more(&url, options).await?,
                };
                let next = match (page.done, page.next_records_url) {
                    (false, Some(url)) => Next::More(url),
                    _ => Next::Done,
                };
                Ok(Some((page.records, next)))
            }
        })
        .map_ok(|records| stream::iter(records.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
    }

    /// The first page of a query (for `SELECT COUNT()`, `total_size` is the answer).
    pub async fn query_page<T: DeserializeOwned>(
        &self,
        soql: &str,
        options: QueryOptions,
    ) -> Result<QueryPage<T>> {
        let resource = if options.include_deleted {
            "/queryAll"
        } else {
            "/query"
        };
        let req = with_batch_size(
            Req::new(CallKind::Query, Method::GET, self.data_path(resource)).query("q", soql),
            options,
        );
        self.send_json(&req).await
    }

    /// The page at a `nextRecordsUrl` (a path from the instance root).
    pub async fn query_more<T: DeserializeOwned>(
        &self,
        next_records_url: &str,
        options: QueryOptions,
    ) -> Result<QueryPage<T>> {
        let path = same_origin_path(&self.instance_url(), next_records_url)?;
        let req = with_batch_size(Req::new(CallKind::Query, Method::GET, path), options);
        self.send_json(&req).await
    }

    /// `SELECT COUNT() FROM ...`: the count without any records.
    pub async fn count(&self, soql: &str) -> Result<u64> {
        self.count_with(soql, QueryOptions::default()).await
    }

    /// [`Connection::count`] with options: over `queryAll` it counts deleted rows too.
    pub async fn count_with(&self, soql: &str, options: QueryOptions) -> Result<u64> {
        let page: QueryPage<serde::de::IgnoredAny> = self.query_page(soql, options).await?;
        Ok(page.total_size)
    }
}

/// `nextRecordsUrl` is a path on the instance. The bearer token goes with it, so a URL that
/// points anywhere else is refused rather than followed.
fn same_origin_path(instance_url: &str, next: &str) -> Result<String> {
    let path = next.strip_prefix(instance_url).unwrap_or(next);
    if path.starts_with("/services/") {
        Ok(path.to_string())
    } else {
        Err(crate::Error::Protocol(format!(
            "nextRecordsUrl {next:?} is not a path on the instance"
        )))
    }
}

fn with_batch_size(req: Req, options: QueryOptions) -> Req {
    match options.batch_size {
        Some(n) => req.header(
            HeaderName::from_static("sforce-query-options"),
            format!("batchSize={n}"),
        ),
        None => req,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_records_url_stays_on_the_instance() {
        let i = "https://acme.my.salesforce.com";
        let p = "/services/data/v62.0/query/01gxx-2000";
        assert_eq!(same_origin_path(i, p).unwrap(), p);
        assert_eq!(same_origin_path(i, &format!("{i}{p}")).unwrap(), p);
        assert!(same_origin_path(i, &format!("https://evil.example{p}")).is_err());
        assert!(same_origin_path(i, "//evil.example/services/x").is_err());
    }

    #[test]
    fn page_shape() {
        let p: QueryPage<Record> = serde_json::from_str(
            r#"{"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gxx-2000",
            "records":[{"attributes":{"type":"Contact","url":"/x"},"Id":"003","Account":{"attributes":{"type":"Account"},"Name":"Acme"}}]}"#,
        )
        .unwrap();
        assert!(!p.done);
        assert_eq!(p.records[0]["Account"]["Name"], "Acme");
        let c: QueryPage<Record> =
            serde_json::from_str(r#"{"totalSize":42,"done":true,"records":[]}"#).unwrap();
        assert_eq!(c.total_size, 42);
    }
}
