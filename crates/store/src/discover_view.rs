//! Reading a project's documents the way its page shows them: full-text search, one
//! attribute's value and a date range together, paged, counted, and counted per day or week.

use crate::discover::{document_from, fts5_terms, DocumentRow, DOCUMENT_COLUMNS};
use crate::{Backend, Result, Store};
use sqlx::Row;

/// Which of a project's documents are meant; every part is optional and they all hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentFilter {
    /// Words the text must hold, all of them.
    pub q: Option<String>,
    /// An attribute's name and the text its value must equal.
    pub attribute: Option<(String, String)>,
    /// Documents dated at or after this moment (epoch ms).
    pub from: Option<i64>,
    /// Documents dated before this moment (epoch ms).
    pub until: Option<i64>,
}

/// Where a page of documents starts: after this (date, natural id), in the listing's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentCursor {
    pub date: i64,
    pub natural_id: String,
}

enum Bind {
    Text(String),
    Int(i64),
}

/// The WHERE clause of a filter and its binds, numbered from `$1`.
struct Clause {
    sql: String,
    binds: Vec<Bind>,
}

impl Clause {
    fn push(&mut self, sql_with_placeholder: &str, bind: Bind) {
        self.binds.push(bind);
        let n = self.binds.len();
        self.sql.push_str(" AND ");
        self.sql
            .push_str(&sql_with_placeholder.replace("$?", &format!("${n}")));
    }

    fn next(&self) -> usize {
        self.binds.len() + 1
    }
}

/// Documents without a date sort (and page) as if dated at the epoch, on both engines.
const DATE: &str = "COALESCE(document_date, 0)";

fn clause(backend: Backend, org_id: &str, project_id: &str, f: &DocumentFilter) -> Clause {
    let mut c = Clause {
        sql: "org_id = $1 AND project_id = $2".into(),
        binds: vec![Bind::Text(org_id.into()), Bind::Text(project_id.into())],
    };
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        match backend {
            Backend::Sqlite => c.push(
                "rowid IN (SELECT rowid FROM discover_search WHERE discover_search MATCH $?)",
                Bind::Text(fts5_terms(q)),
            ),
            Backend::Postgres => c.push(
                "to_tsvector('simple', search_text) @@ plainto_tsquery('simple', $?)",
                Bind::Text(q.into()),
            ),
        }
    }
    if let Some((name, value)) = &f.attribute {
        // The name is bound, never spliced: attribute names come from mappings people typed.
        c.binds.push(Bind::Text(name.clone()));
        let n = c.binds.len();
        match backend {
            Backend::Sqlite => c.push(
                &format!(
                    "EXISTS (SELECT 1 FROM json_each(discover_documents.attributes) \
                     WHERE json_each.key = ${n} AND json_each.type = 'text' AND json_each.value = $?)"
                ),
                Bind::Text(value.clone()),
            ),
            Backend::Postgres => c.push(
                &format!("(CAST(attributes AS jsonb) ->> CAST(${n} AS TEXT)) = $?"),
                Bind::Text(value.clone()),
            ),
        }
    }
    if let Some(from) = f.from {
        c.push("document_date >= $?", Bind::Int(from));
    }
    if let Some(until) = f.until {
        c.push("document_date < $?", Bind::Int(until));
    }
    c
}

fn bound<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s.as_str()),
            Bind::Int(i) => q.bind(*i),
        };
    }
    q
}

/// Day and week buckets of the volume chart; weeks start on Monday (the epoch was a Thursday).
pub const DAY_MS: i64 = 86_400_000;
const MONDAY_OFFSET_MS: i64 = 4 * DAY_MS;

impl Store {
    /// A page of the filtered documents, newest first: after `cursor` when given, else
    /// skipping `offset`, at most `limit`.
    pub async fn discover_document_page(
        &self,
        org_id: &str,
        project_id: &str,
        f: &DocumentFilter,
        cursor: Option<&DocumentCursor>,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<DocumentRow>> {
        let mut c = clause(self.backend(), org_id, project_id, f);
        if let Some(at) = cursor {
            let (d, id) = (c.next(), c.next() + 1);
            c.sql.push_str(&format!(
                " AND ({DATE} < ${d} OR ({DATE} = ${d} AND natural_id > ${id}))"
            ));
            c.binds.push(Bind::Int(at.date));
            c.binds.push(Bind::Text(at.natural_id.clone()));
        }
        let (l, o) = (c.next(), c.next() + 1);
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS} FROM discover_documents WHERE {} \
             ORDER BY {DATE} DESC, natural_id LIMIT ${l} OFFSET ${o}",
            c.sql
        );
        c.binds.push(Bind::Int(limit));
        c.binds.push(Bind::Int(offset));
        let rows = bound(sqlx::query(&sql), &c.binds)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(document_from).collect()
    }

    /// How many documents the filter holds.
    pub async fn discover_filtered_count(
        &self,
        org_id: &str,
        project_id: &str,
        f: &DocumentFilter,
    ) -> Result<i64> {
        let c = clause(self.backend(), org_id, project_id, f);
        let sql = format!(
            "SELECT COUNT(*) AS n FROM discover_documents WHERE {}",
            c.sql
        );
        let row = bound(sqlx::query(&sql), &c.binds)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("n")?)
    }

    /// The first and last document date the filter holds (none when nothing is dated).
    pub async fn discover_date_span(
        &self,
        org_id: &str,
        project_id: &str,
        f: &DocumentFilter,
    ) -> Result<Option<(i64, i64)>> {
        let c = clause(self.backend(), org_id, project_id, f);
        let sql = format!(
            "SELECT MIN(document_date) AS first, MAX(document_date) AS last \
             FROM discover_documents WHERE {} AND document_date IS NOT NULL",
            c.sql
        );
        let row = bound(sqlx::query(&sql), &c.binds)
            .fetch_one(self.pool())
            .await?;
        let first: Option<i64> = row.try_get("first")?;
        let last: Option<i64> = row.try_get("last")?;
        Ok(first.zip(last))
    }

    /// Dated documents per bucket of `bucket_ms` (a whole number of days; buckets of 7 days
    /// or more start on a Monday): (bucket start, count), oldest first, empty buckets absent.
    pub async fn discover_volume(
        &self,
        org_id: &str,
        project_id: &str,
        f: &DocumentFilter,
        bucket_ms: i64,
    ) -> Result<Vec<(i64, i64)>> {
        let c = clause(self.backend(), org_id, project_id, f);
        let offset = if bucket_ms >= 7 * DAY_MS {
            MONDAY_OFFSET_MS
        } else {
            0
        };
        // Both numbers are the code's own, so they are written into the query: PostgreSQL
        // then divides BIGINTs as integers without being told the binds' types.
        let sql = format!(
            "SELECT (document_date - {offset}) / {bucket_ms} AS bucket, COUNT(*) AS n \
             FROM discover_documents WHERE {} AND document_date IS NOT NULL \
             GROUP BY 1 ORDER BY 1",
            c.sql
        );
        let rows = bound(sqlx::query(&sql), &c.binds)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let b: i64 = r.try_get("bucket")?;
                Ok((b * bucket_ms + offset, r.try_get("n")?))
            })
            .collect()
    }

    /// The attribute names the filtered documents have, sorted: the export's columns and
    /// the names the filter offers, without reading the documents' text.
    pub async fn discover_attribute_names(
        &self,
        org_id: &str,
        project_id: &str,
        f: &DocumentFilter,
    ) -> Result<Vec<String>> {
        let c = clause(self.backend(), org_id, project_id, f);
        let sql = match self.backend() {
            Backend::Sqlite => format!(
                "SELECT DISTINCT j.key AS name FROM (SELECT attributes FROM discover_documents \
                 WHERE {}) d, json_each(d.attributes) j ORDER BY 1",
                c.sql
            ),
            Backend::Postgres => format!(
                "SELECT DISTINCT name FROM (SELECT jsonb_object_keys(CAST(attributes AS jsonb)) \
                 AS name FROM discover_documents WHERE {}) d ORDER BY 1",
                c.sql
            ),
        };
        let rows = bound(sqlx::query(&sql), &c.binds)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("name")?))
            .collect()
    }

    /// One document of a project by its natural id.
    pub async fn discover_document(
        &self,
        org_id: &str,
        project_id: &str,
        natural_id: &str,
    ) -> Result<Option<DocumentRow>> {
        let row = sqlx::query(&format!(
            "SELECT {DOCUMENT_COLUMNS} FROM discover_documents \
             WHERE org_id = $1 AND project_id = $2 AND natural_id = $3"
        ))
        .bind(org_id)
        .bind(project_id)
        .bind(natural_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(document_from).transpose()
    }
}
