//! A Discover project as people look at it: its documents filtered (full-text search, one
//! attribute's value, a date range) and paged, one document, the volume over time, and the
//! filtered documents as CSV, written page by page so an export of any size holds one page.

use crate::discover::documents::{document_of, Document};
use crate::discover::{DiscoverJob, Project};
use crate::{Actor, Error, FieldProblem, Result, Sonde};
use chrono::{NaiveDate, TimeZone, Utc};
use futures::Stream;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::discover_view::{DocumentCursor, DocumentFilter, DAY_MS};
use survey::export::guard_formula;

/// A filter as typed in the project's page or the API's query string. Dates are UTC days,
/// `YYYY-MM-DD`; `to` is the last day included.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct DocumentQuery {
    /// Full-text search: documents with every word.
    pub q: Option<String>,
    /// An attribute's name (case-sensitive); documents whose value of it is `value`.
    pub attribute: Option<String>,
    pub value: Option<String>,
    /// First day (UTC) of the document dates, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day (UTC) of the document dates, included.
    pub to: Option<String>,
}

fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn day_start(field: &str, text: &str) -> std::result::Result<i64, FieldProblem> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| Utc.from_utc_datetime(&d).timestamp_millis())
        .ok_or_else(|| FieldProblem {
            field: field.into(),
            message: format!("{text:?} is not a day (YYYY-MM-DD)"),
        })
}

impl DocumentQuery {
    /// The filter, or the fields that do not read.
    pub fn filter(&self) -> Result<DocumentFilter> {
        let mut problems = Vec::new();
        let mut at = |field: &str, text: Option<&str>| {
            text.and_then(|t| day_start(field, t).map_err(|p| problems.push(p)).ok())
        };
        let from = at("from", given(&self.from));
        let until = at("to", given(&self.to)).map(|d| d + DAY_MS);
        let attribute = match (given(&self.attribute), self.value.as_deref()) {
            (Some(name), value) => Some((name.to_string(), value.unwrap_or_default().to_string())),
            (None, Some(v)) if !v.trim().is_empty() => {
                problems.push(FieldProblem {
                    field: "attribute".into(),
                    message: "name the attribute the value is of".into(),
                });
                None
            }
            (None, _) => None,
        };
        if let (Some(f), Some(u)) = (from, until) {
            if u <= f {
                problems.push(FieldProblem {
                    field: "to".into(),
                    message: "the last day is before the first".into(),
                });
            }
        }
        if !problems.is_empty() {
            return Err(Error::invalid_fields("the filter does not read", problems));
        }
        Ok(DocumentFilter {
            q: given(&self.q).map(str::to_string),
            attribute,
            from,
            until,
        })
    }

    /// Whether anything narrows the documents.
    pub fn is_empty(&self) -> bool {
        given(&self.q).is_none()
            && given(&self.attribute).is_none()
            && given(&self.from).is_none()
            && given(&self.to).is_none()
    }
}

/// A page of a project's filtered documents.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentPage {
    pub documents: Vec<Document>,
    /// How many documents the filter holds in all.
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
}

/// Documents per day (or per week, or per several weeks when the dates span long), oldest
/// first, every bucket between the first and the last present, empty ones as 0.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    /// Days per bucket: 1, 7, or a multiple of 7 (weeks start on Monday).
    pub bucket_days: i64,
    pub buckets: Vec<VolumeBucket>,
    /// Documents the filter holds that have no date (in no bucket).
    pub undated: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VolumeBucket {
    /// The bucket's first day (UTC), `YYYY-MM-DD`.
    pub start: String,
    pub count: i64,
}

/// Longest span drawn day by day; longer spans are drawn by week.
const MAX_DAY_BUCKETS: i64 = 92;
/// Most buckets a chart has: weeks are grouped by several past this.
const MAX_BUCKETS: i64 = 104;
/// Documents a page shows at most, and an export reads at a time.
pub const MAX_PAGE: i64 = 1000;
const EXPORT_PAGE: i64 = 500;

/// Days per bucket for dates from `first` to `last` (epoch ms).
fn bucket_days(first: i64, last: i64) -> i64 {
    let days = (last - first) / DAY_MS + 1;
    if days <= MAX_DAY_BUCKETS {
        return 1;
    }
    let weeks = days / 7 + 2;
    7 * ((weeks + MAX_BUCKETS - 1) / MAX_BUCKETS)
}

fn day_of(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// A document's text as one cell: its verbatim, or its turns one a line, `role name: text`.
pub fn document_text(d: &Document) -> String {
    match (&d.verbatim, &d.turns) {
        (Some(v), _) => v.clone(),
        (None, Some(turns)) => turns
            .iter()
            .map(|t| {
                let role = serde_json::to_value(t.role)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                if t.name.is_empty() {
                    format!("{role}: {}", t.text)
                } else {
                    format!("{role} {}: {}", t.name, t.text)
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
        (None, None) => String::new(),
    }
}

fn attribute_cell(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn csv_line(cells: impl IntoIterator<Item = String>) -> Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(cells.into_iter().map(|c| guard_formula(&c).into_owned()))
        .map_err(|e| Error::Internal(Box::new(e)))?;
    let bytes = out
        .into_inner()
        .map_err(|e| Error::Internal(Box::new(e.into_error())))?;
    String::from_utf8(bytes).map_err(|e| Error::Internal(Box::new(e)))
}

/// Where an export stands between two pages.
struct ExportState {
    sonde: Sonde,
    org_id: String,
    project_id: String,
    filter: DocumentFilter,
    columns: Vec<String>,
    cursor: Option<DocumentCursor>,
    header_written: bool,
    done: bool,
}

impl Sonde {
    /// One project of the actor's organization, with its document count.
    pub async fn discover_project(&self, actor: &Actor, id: &str) -> Result<Project> {
        let row = self.discover_project_row(actor, id).await?;
        Ok(Project {
            documents: self.store.discover_document_count(&row.id).await?,
            id: row.id,
            name: row.name,
            created_at: crate::responses::rfc3339(row.created_at),
        })
    }

    /// One job of the actor's organization.
    pub async fn discover_job(&self, actor: &Actor, id: &str) -> Result<DiscoverJob> {
        crate::discover::job_of(&self.discover_job_row(actor, id).await?)
    }

    /// The attribute names of a project's documents (what its filter can name).
    pub async fn discover_attribute_names(
        &self,
        actor: &Actor,
        project_id: &str,
    ) -> Result<Vec<String>> {
        let project = self.discover_project_row(actor, project_id).await?;
        self.store
            .discover_attribute_names(&actor.org_id, &project.id, &Default::default())
            .await
            .map_err(Into::into)
    }

    /// A page of a project's documents as `query` filters them, newest first.
    pub async fn discover_document_page(
        &self,
        actor: &Actor,
        project_id: &str,
        query: &DocumentQuery,
        offset: i64,
        limit: i64,
    ) -> Result<DocumentPage> {
        let project = self.discover_project_row(actor, project_id).await?;
        let filter = query.filter()?;
        let (offset, limit) = (offset.max(0), limit.clamp(1, MAX_PAGE));
        let rows = self
            .store
            .discover_document_page(&actor.org_id, &project.id, &filter, None, offset, limit)
            .await?;
        let total = self
            .store
            .discover_filtered_count(&actor.org_id, &project.id, &filter)
            .await?;
        Ok(DocumentPage {
            documents: rows.iter().map(document_of).collect::<Result<_>>()?,
            total,
            offset,
            limit,
        })
    }

    /// One document of a project by its natural id (the Salesforce record Id).
    pub async fn discover_document(
        &self,
        actor: &Actor,
        project_id: &str,
        natural_id: &str,
    ) -> Result<Document> {
        let project = self.discover_project_row(actor, project_id).await?;
        let row = self
            .store
            .discover_document(&actor.org_id, &project.id, natural_id)
            .await?
            .ok_or(Error::NotFound("document"))?;
        document_of(&row)
    }

    /// How many of the filtered documents there are per day (or week) of their dates.
    pub async fn discover_volume(
        &self,
        actor: &Actor,
        project_id: &str,
        query: &DocumentQuery,
    ) -> Result<Volume> {
        let project = self.discover_project_row(actor, project_id).await?;
        let filter = query.filter()?;
        let (org, id) = (&actor.org_id, &project.id);
        let total = self.store.discover_filtered_count(org, id, &filter).await?;
        let Some((first, last)) = self.store.discover_date_span(org, id, &filter).await? else {
            return Ok(Volume {
                bucket_days: 1,
                buckets: Vec::new(),
                undated: total,
            });
        };
        let days = bucket_days(first, last);
        let counted = self
            .store
            .discover_volume(org, id, &filter, days * DAY_MS)
            .await?;
        let mut buckets = Vec::new();
        let mut dated = 0;
        if let (Some(&(start, _)), Some(&(end, _))) = (counted.first(), counted.last()) {
            let mut by_start = counted.iter().peekable();
            let mut at = start;
            while at <= end {
                let count = match by_start.peek() {
                    Some(&&(s, n)) if s == at => {
                        by_start.next();
                        n
                    }
                    _ => 0,
                };
                dated += count;
                buckets.push(VolumeBucket {
                    start: day_of(at),
                    count,
                });
                at += days * DAY_MS;
            }
        }
        Ok(Volume {
            bucket_days: days,
            buckets,
            undated: total - dated,
        })
    }

    /// The filtered documents as CSV — `naturalId`, `documentDate`, one column per attribute
    /// any of them has, `verbatim` (a conversation's turns one a line) — as a stream of
    /// chunks, one page of documents each, so an export of any size holds one page.
    pub async fn discover_export_csv(
        &self,
        actor: &Actor,
        project_id: &str,
        query: &DocumentQuery,
    ) -> Result<impl Stream<Item = Result<String>> + Send + 'static> {
        let project = self.discover_project_row(actor, project_id).await?;
        let filter = query.filter()?;
        let columns = self
            .store
            .discover_attribute_names(&actor.org_id, &project.id, &filter)
            .await?;
        let state = ExportState {
            sonde: self.clone(),
            org_id: actor.org_id.clone(),
            project_id: project.id,
            filter,
            columns,
            cursor: None,
            header_written: false,
            done: false,
        };
        Ok(futures::stream::try_unfold(state, |mut s| async move {
            if !s.header_written {
                s.header_written = true;
                let header = ["naturalId".to_string(), "documentDate".to_string()]
                    .into_iter()
                    .chain(s.columns.iter().cloned())
                    .chain(["verbatim".to_string()]);
                let line = csv_line(header)?;
                return Ok(Some((line, s)));
            }
            if s.done {
                return Ok(None);
            }
            let page = s
                .sonde
                .store
                .discover_document_page(
                    &s.org_id,
                    &s.project_id,
                    &s.filter,
                    s.cursor.as_ref(),
                    0,
                    EXPORT_PAGE,
                )
                .await?;
            match page.last() {
                Some(last) if page.len() as i64 == EXPORT_PAGE => {
                    s.cursor = Some(DocumentCursor {
                        date: last.document_date.unwrap_or(0),
                        natural_id: last.natural_id.clone(),
                    })
                }
                _ => s.done = true,
            }
            let mut chunk = String::new();
            for row in &page {
                let d = document_of(row)?;
                let cells = [
                    d.natural_id.clone(),
                    d.document_date.clone().unwrap_or_default(),
                ]
                .into_iter()
                .chain(
                    s.columns
                        .iter()
                        .map(|c| attribute_cell(d.attributes.get(c))),
                )
                .chain([document_text(&d)]);
                chunk.push_str(&csv_line(cells)?);
            }
            Ok(Some((chunk, s)))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_spans_are_drawn_by_day_and_long_ones_by_week() {
        assert_eq!(bucket_days(0, 29 * DAY_MS), 1);
        assert_eq!(bucket_days(0, 91 * DAY_MS), 1);
        assert_eq!(bucket_days(0, 200 * DAY_MS), 7);
        let decade = bucket_days(0, 3650 * DAY_MS);
        assert!(decade % 7 == 0 && 3650 / decade <= MAX_BUCKETS, "{decade}");
    }

    #[test]
    fn filters_read_days_and_refuse_what_does_not_read() {
        let q = DocumentQuery {
            from: Some("2026-03-02".into()),
            to: Some("2026-03-02".into()),
            attribute: Some("browser".into()),
            value: Some("Chrome".into()),
            ..Default::default()
        };
        let f = q.filter().unwrap();
        assert_eq!(f.until.unwrap() - f.from.unwrap(), DAY_MS);
        assert_eq!(f.attribute, Some(("browser".into(), "Chrome".into())));
        let bad = DocumentQuery {
            from: Some("March".into()),
            value: Some("Chrome".into()),
            ..Default::default()
        };
        let Err(Error::Invalid { problems, .. }) = bad.filter() else {
            panic!("refused")
        };
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["from", "attribute"]);
    }
}
