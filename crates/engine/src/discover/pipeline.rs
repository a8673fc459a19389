//! A run's pages made ready while the ones before are written: a task of its own reads the
//! rows (network, CSV) and turns them into documents (transcripts parsed, text redacted,
//! digests taken — the CPU half, on a blocking thread) up to two pages ahead of the store
//! writing them (the database half), so the halves overlap on two cores instead of taking
//! turns. Counts travel with the page and are added when it is written, so a run's counts
//! and checkpoint always agree; a page read but not written is read again after a crash.

use super::documents::{field_text, Context};
use super::transport::{BulkAt, Source};
use super::{DataType, JobSettings};
use crate::{Error, Result};
use std::sync::Arc;
use store::discover::DocumentRow;

/// What documents are built with, owned so a blocking thread can hold it.
pub(crate) struct Builder {
    pub settings: JobSettings,
    pub redactor: redaction::Redactor,
    pub org_id: String,
    pub job_id: String,
    pub run_id: String,
    pub job_name: String,
    pub load_date: i64,
}

/// One page ready to write.
#[derive(Default)]
pub(crate) struct BuiltPage {
    pub docs: Vec<DocumentRow>,
    /// The date field's value and the Id of each document: where the cursor may move.
    pub positions: Vec<(i64, String)>,
    pub rows_read: u64,
    /// Rows the connector filter left out.
    pub filtered: u64,
    pub redactions: u64,
    pub warnings: Vec<String>,
    /// Where a Bulk pull stands once this page is kept.
    pub bulk_at: Option<BulkAt>,
}

/// Pages built ahead of the writer.
const AHEAD: usize = 2;

/// Starts reading and building pages; they arrive in order, an error ends them. Dropping the
/// receiver (a run that stops: cancelled, paused, at its record limit) stops the task after
/// the page in hand.
pub(crate) fn spawn_pages(
    mut source: Source,
    conn: salesforce::Connection,
    builder: Arc<Builder>,
    page_size: usize,
) -> tokio::sync::mpsc::Receiver<Result<BuiltPage>> {
    let (tx, rx) = tokio::sync::mpsc::channel(AHEAD);
    tokio::spawn(async move {
        loop {
            let page = next_page(&mut source, &conn, &builder, page_size).await;
            let page = match page {
                Ok(Some(p)) => p,
                Ok(None) => return,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            if tx.send(Ok(page)).await.is_err() {
                return;
            }
        }
    });
    rx
}

/// Reads the next page and builds its documents; `None` when the pull has no more rows.
async fn next_page(
    source: &mut Source,
    conn: &salesforce::Connection,
    builder: &Arc<Builder>,
    page_size: usize,
) -> Result<Option<BuiltPage>> {
    let Some((rows, bulk_at)) = source.next_page(page_size).await? else {
        return Ok(None);
    };
    let entries = if builder.settings.data_type == DataType::Messaging {
        super::runs::conversation_entries(conn, &rows).await?
    } else {
        Default::default()
    };
    let builder = builder.clone();
    let mut page = tokio::task::spawn_blocking(move || {
        let ctx = Context {
            settings: &builder.settings,
            redactor: &builder.redactor,
            org_id: &builder.org_id,
            job_id: &builder.job_id,
            run_id: &builder.run_id,
            job_name: &builder.job_name,
            load_date: builder.load_date,
        };
        let mut page = BuiltPage {
            docs: Vec::with_capacity(rows.len()),
            positions: Vec::with_capacity(rows.len()),
            ..BuiltPage::default()
        };
        for row in rows {
            page.rows_read += 1;
            if !ctx.passes_filter(&row) {
                page.filtered += 1;
                continue;
            }
            let of_session =
                field_text(&row, "Id").and_then(|id| entries.get(&id[..id.len().min(15)]));
            let Some(built) = ctx.build(&row, of_session) else {
                page.warnings
                    .push("a row without an Id was left out".into());
                continue;
            };
            page.warnings.extend(built.warnings);
            page.redactions += built.redactions;
            page.positions.push(built.position);
            page.docs.push(built.document);
        }
        page
    })
    .await
    .map_err(|e| Error::Internal(Box::new(e)))?;
    page.bulk_at = bulk_at;
    Ok(Some(page))
}
