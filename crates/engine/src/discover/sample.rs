//! A job's sample: its first rows as they would be stored — mapped and redacted — as CSV, so
//! mappings and redaction can be checked before a run stores anything. Nothing is written.

use super::documents::Context;
use super::{job_of, DataType};
use crate::{Actor, Error, Result, Sonde};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use survey::export::guard_formula;

/// Rows a sample shows at most.
pub const MAX_SAMPLE_ROWS: usize = 200;

impl Sonde {
    /// The first `rows` documents of a job's query as CSV: natural_id, document_date, each
    /// attribute, and the text (a conversation's turns one per line, `role name: text`).
    pub async fn discover_sample_csv(
        &self,
        actor: &Actor,
        job_id: &str,
        rows: usize,
    ) -> Result<String> {
        let job_row = self.discover_job_row(actor, job_id).await?;
        let settings = job_of(&job_row)?.settings;
        let redactor = settings
            .redactor()
            .map_err(|p| Error::invalid(format!("{}: {}", p.field, p.message)))?;
        let conn = self.job_connection(&job_row, &settings).await?;
        let (mut q, _, _) = super::runs::pull_query(&conn, &settings).await?;
        let rows = rows.clamp(1, MAX_SAMPLE_ROWS);
        q.limit = Some(soql::ast::Count::Literal(rows as u64));
        let page: Vec<Map<String, Value>> = futures::TryStreamExt::try_collect(
            super::source::rows(&conn, &settings, &q.to_string()),
        )
        .await
        .map_err(Error::from)?;
        let entries = if settings.data_type == DataType::Messaging {
            super::runs::conversation_entries(&conn, &page).await?
        } else {
            Default::default()
        };
        let ctx = Context {
            settings: &settings,
            redactor: &redactor,
            org_id: &job_row.org_id,
            job_id: &job_row.id,
            run_id: "sample",
            job_name: &job_row.name,
            load_date: store::now_ms(),
        };
        let docs: Vec<_> = page
            .iter()
            .take(rows)
            .filter(|row| ctx.passes_filter(row))
            .filter_map(|row| {
                let of_session = super::documents::field_text(row, "Id")
                    .and_then(|id| entries.get(&id[..id.len().min(15)]));
                ctx.build(row, of_session)
            })
            .map(|b| b.document)
            .collect();
        let mut documents = Vec::with_capacity(docs.len());
        for d in &docs {
            documents.push(super::documents::document_of(d)?);
        }
        let attributes: BTreeSet<&String> =
            documents.iter().flat_map(|d| d.attributes.keys()).collect();
        let mut out = csv::Writer::from_writer(Vec::new());
        let csv_err = |e: csv::Error| Error::Internal(Box::new(e));
        let mut header = vec!["natural_id".to_string(), "document_date".to_string()];
        header.extend(attributes.iter().map(|a| a.to_string()));
        header.push("text".into());
        out.write_record(header.iter().map(|h| guard_formula(h).into_owned()))
            .map_err(csv_err)?;
        for d in &documents {
            let mut cells = vec![
                d.natural_id.clone(),
                d.document_date.clone().unwrap_or_default(),
            ];
            for a in &attributes {
                cells.push(match d.attributes.get(*a) {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                });
            }
            cells.push(match (&d.verbatim, &d.turns) {
                (Some(v), _) => v.clone(),
                (None, Some(turns)) => turns
                    .iter()
                    .map(|t| {
                        format!(
                            "{} {}: {}",
                            serde_json::to_value(t.role)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_string))
                                .unwrap_or_default(),
                            t.name,
                            t.text
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                (None, None) => String::new(),
            });
            out.write_record(cells.iter().map(|c| guard_formula(c).into_owned()))
                .map_err(csv_err)?;
        }
        String::from_utf8(
            out.into_inner()
                .map_err(|e| Error::Internal(Box::new(e.into_error())))?,
        )
        .map_err(|e| Error::Internal(Box::new(e)))
    }
}
