//! The inbound connector's tables: projects, jobs, runs and documents (`discover_*`), and the
//! documents' full-text search — SQLite's FTS5 or PostgreSQL's text search, made by
//! [`search_ddl`] after the portable migrations.

use crate::{Backend, Result, Store};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub created_by: String,
    pub created_at: i64,
}

fn project_from(r: &AnyRow) -> Result<ProjectRow> {
    Ok(ProjectRow {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        name: r.try_get("name")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    pub id: String,
    pub org_id: String,
    pub project_id: String,
    pub owner_id: String,
    pub name: String,
    pub connection_id: String,
    /// The job's settings, JSON.
    pub settings: String,
    /// Where the next incremental run starts, JSON.
    pub cursor: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(crate) const JOB_COLUMNS: &str =
    "id, org_id, project_id, owner_id, name, connection_id, settings, \
     cursor, created_at, updated_at";

pub(crate) fn job_from(r: &AnyRow) -> Result<JobRow> {
    Ok(JobRow {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        project_id: r.try_get("project_id")?,
        owner_id: r.try_get("owner_id")?,
        name: r.try_get("name")?,
        connection_id: r.try_get("connection_id")?,
        settings: r.try_get("settings")?,
        cursor: r.try_get("cursor")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    pub id: String,
    pub org_id: String,
    pub job_id: String,
    pub status: String,
    /// JSON counts.
    pub counts: String,
    /// JSON array of strings.
    pub warnings: String,
    pub error: Option<String>,
    pub checkpoint: Option<String>,
    pub cancel_requested: bool,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

const RUN_COLUMNS: &str = "id, org_id, job_id, status, counts, warnings, error, checkpoint, \
     cancel_requested, created_at, started_at, finished_at";

fn run_from(r: &AnyRow) -> Result<RunRow> {
    Ok(RunRow {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        job_id: r.try_get("job_id")?,
        status: r.try_get("status")?,
        counts: r.try_get("counts")?,
        warnings: r.try_get("warnings")?,
        error: r.try_get("error")?,
        checkpoint: r.try_get("checkpoint")?,
        cancel_requested: r.try_get::<i64, _>("cancel_requested")? != 0,
        created_at: r.try_get("created_at")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRow {
    pub project_id: String,
    pub natural_id: String,
    pub org_id: String,
    pub document_date: Option<i64>,
    /// JSON object.
    pub attributes: String,
    pub verbatim: Option<String>,
    /// JSON array of turns, for conversations.
    pub turns: Option<String>,
    pub search_text: String,
    pub content_hash: String,
    pub job_id: String,
    pub run_id: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(crate) const DOCUMENT_COLUMNS: &str =
    "project_id, natural_id, org_id, document_date, attributes, \
     verbatim, turns, search_text, content_hash, job_id, run_id, created_at, updated_at";

pub(crate) fn document_from(r: &AnyRow) -> Result<DocumentRow> {
    Ok(DocumentRow {
        project_id: r.try_get("project_id")?,
        natural_id: r.try_get("natural_id")?,
        org_id: r.try_get("org_id")?,
        document_date: r.try_get("document_date")?,
        attributes: r.try_get("attributes")?,
        verbatim: r.try_get("verbatim")?,
        turns: r.try_get("turns")?,
        search_text: r.try_get("search_text")?,
        content_hash: r.try_get("content_hash")?,
        job_id: r.try_get("job_id")?,
        run_id: r.try_get("run_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// What a document write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    Updated,
    /// Already there and the job keeps the first (`skip`).
    SkippedDuplicate,
    /// Read again exactly as stored (an incremental run's lookback): not counted.
    Unchanged,
    /// New or changed, but the run's record limit was reached: left for the next run.
    OverLimit,
}

/// How a document whose natural id is already in the project is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDuplicate {
    Skip,
    /// The new document replaces the old one whole.
    Replace,
    /// The new document's attributes are merged over the old ones; its text replaces the old.
    Update,
}

/// The search index, per backend (`CREATE … IF NOT EXISTS`, so every start may run it).
pub(crate) fn search_ddl(backend: Backend) -> &'static [&'static str] {
    match backend {
        Backend::Sqlite => &[
            "CREATE VIRTUAL TABLE IF NOT EXISTS discover_search USING fts5(search_text, \
             content='discover_documents', content_rowid='rowid')",
            "CREATE TRIGGER IF NOT EXISTS discover_documents_ai AFTER INSERT ON discover_documents \
             BEGIN INSERT INTO discover_search(rowid, search_text) VALUES (new.rowid, new.search_text); END",
            "CREATE TRIGGER IF NOT EXISTS discover_documents_ad AFTER DELETE ON discover_documents \
             BEGIN INSERT INTO discover_search(discover_search, rowid, search_text) \
             VALUES ('delete', old.rowid, old.search_text); END",
            "CREATE TRIGGER IF NOT EXISTS discover_documents_au AFTER UPDATE ON discover_documents \
             BEGIN INSERT INTO discover_search(discover_search, rowid, search_text) \
             VALUES ('delete', old.rowid, old.search_text); \
             INSERT INTO discover_search(rowid, search_text) VALUES (new.rowid, new.search_text); END",
        ],
        Backend::Postgres => &[
            "CREATE INDEX IF NOT EXISTS discover_documents_search ON discover_documents \
             USING GIN (to_tsvector('simple', search_text))",
        ],
    }
}

/// Words of a search as FTS5 reads them: each quoted (so no word is taken for an operator),
/// all of them required.
pub(crate) fn fts5_terms(q: &str) -> String {
    q.split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Store {
    pub async fn insert_discover_project(&self, p: &ProjectRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO discover_projects (id, org_id, name, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&p.id)
        .bind(&p.org_id)
        .bind(&p.name)
        .bind(&p.created_by)
        .bind(p.created_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub async fn discover_projects(&self, org_id: &str) -> Result<Vec<ProjectRow>> {
        let rows = sqlx::query(
            "SELECT id, org_id, name, created_by, created_at FROM discover_projects \
             WHERE org_id = $1 ORDER BY name",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(project_from).collect()
    }

    pub async fn discover_project(&self, org_id: &str, id: &str) -> Result<Option<ProjectRow>> {
        let row = sqlx::query(
            "SELECT id, org_id, name, created_by, created_at FROM discover_projects \
             WHERE org_id = $1 AND id = $2",
        )
        .bind(org_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(project_from).transpose()
    }

    pub async fn insert_discover_job(&self, j: &JobRow) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::insert_discover_job_in(&mut tx, j).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A new job, in a transaction that writes what belongs to it (its own account).
    pub async fn insert_discover_job_in(tx: &mut Transaction<'_, Any>, j: &JobRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO discover_jobs ({JOB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&j.id)
        .bind(&j.org_id)
        .bind(&j.project_id)
        .bind(&j.owner_id)
        .bind(&j.name)
        .bind(&j.connection_id)
        .bind(&j.settings)
        .bind(&j.cursor)
        .bind(j.created_at)
        .bind(j.updated_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub async fn discover_job(&self, org_id: &str, id: &str) -> Result<Option<JobRow>> {
        let row = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM discover_jobs WHERE org_id = $1 AND id = $2"
        ))
        .bind(org_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(job_from).transpose()
    }

    pub async fn discover_jobs(&self, org_id: &str) -> Result<Vec<JobRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM discover_jobs WHERE org_id = $1 ORDER BY created_at, id"
        ))
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(job_from).collect()
    }

    /// Every organization's jobs that have a schedule (the scheduler's pass).
    pub async fn scheduled_discover_jobs(&self) -> Result<Vec<JobRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM discover_jobs WHERE settings LIKE '%\"schedule\":\"%' \
             ORDER BY id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(job_from).collect()
    }

    /// Moves a job's cursor, in the transaction that finishes its run.
    pub async fn set_discover_cursor(
        tx: &mut Transaction<'_, Any>,
        job_id: &str,
        cursor: &str,
        at: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE discover_jobs SET cursor = $1, updated_at = $2 WHERE id = $3")
            .bind(cursor)
            .bind(at)
            .bind(job_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// A new run, queued, in the transaction that queues its job.
    pub async fn insert_discover_run(tx: &mut Transaction<'_, Any>, r: &RunRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO discover_runs ({RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(&r.id)
        .bind(&r.org_id)
        .bind(&r.job_id)
        .bind(&r.status)
        .bind(&r.counts)
        .bind(&r.warnings)
        .bind(&r.error)
        .bind(&r.checkpoint)
        .bind(i64::from(r.cancel_requested))
        .bind(r.created_at)
        .bind(r.started_at)
        .bind(r.finished_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub async fn discover_run(&self, org_id: &str, id: &str) -> Result<Option<RunRow>> {
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM discover_runs WHERE org_id = $1 AND id = $2"
        ))
        .bind(org_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(run_from).transpose()
    }

    /// The run as the writer sees it (a worker deciding what to do next).
    pub async fn discover_run_in(
        tx: &mut Transaction<'_, Any>,
        id: &str,
    ) -> Result<Option<RunRow>> {
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM discover_runs WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        row.as_ref().map(run_from).transpose()
    }

    pub async fn discover_runs_of_job(&self, job_id: &str) -> Result<Vec<RunRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM discover_runs WHERE job_id = $1 ORDER BY created_at DESC, id DESC"
        ))
        .bind(job_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(run_from).collect()
    }

    /// A run's progress (and, when it ends, its outcome), written with the documents it counts.
    pub async fn update_discover_run(tx: &mut Transaction<'_, Any>, r: &RunRow) -> Result<()> {
        sqlx::query(
            "UPDATE discover_runs SET status = $1, counts = $2, warnings = $3, error = $4, \
             checkpoint = $5, started_at = $6, finished_at = $7 WHERE id = $8",
        )
        .bind(&r.status)
        .bind(&r.counts)
        .bind(&r.warnings)
        .bind(&r.error)
        .bind(&r.checkpoint)
        .bind(r.started_at)
        .bind(r.finished_at)
        .bind(&r.id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Asks a queued or running run to stop; false when it had already ended.
    pub async fn request_discover_cancel(&self, org_id: &str, id: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE discover_runs SET cancel_requested = 1 WHERE org_id = $1 AND id = $2 \
             AND status IN ('queued', 'running')",
        )
        .bind(org_id)
        .bind(id)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Writes documents in the caller's transaction, each as `on_duplicate` says when its
    /// natural id is already in the project. A page costs one read of what is already there
    /// (natural id, digest, attributes: never the text) and one multi-row insert per 100 new
    /// documents, not two statements a document.
    /// `max_written`: documents created or updated at most (a run's record limit).
    pub async fn write_discover_documents(
        tx: &mut Transaction<'_, Any>,
        docs: &[DocumentRow],
        on_duplicate: OnDuplicate,
        max_written: Option<u64>,
    ) -> Result<Vec<Written>> {
        let mut room = max_written.unwrap_or(u64::MAX);
        let anon = anonymous_binds(tx);
        let mut existing: std::collections::HashMap<String, (String, String)> =
            std::collections::HashMap::new();
        for chunk in docs.chunks(LOOKUP_CHUNK) {
            let Some(project_id) = chunk.first().map(|d| &d.project_id) else {
                continue;
            };
            let marks: Vec<String> = (0..chunk.len()).map(|i| mark(anon, i + 2)).collect();
            let sql = format!(
                "SELECT natural_id, content_hash, attributes FROM discover_documents \
                 WHERE project_id = {} AND natural_id IN ({})",
                mark(anon, 1),
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(project_id);
            for d in chunk {
                q = q.bind(&d.natural_id);
            }
            for r in q.fetch_all(&mut **tx).await? {
                existing.insert(
                    r.try_get("natural_id")?,
                    (r.try_get("content_hash")?, r.try_get("attributes")?),
                );
            }
        }
        let mut out = Vec::with_capacity(docs.len());
        let mut inserts: Vec<&DocumentRow> = Vec::new();
        for d in docs {
            let over = room == 0;
            let Some((hash, old_attributes)) = existing.get(&d.natural_id) else {
                if over {
                    out.push(Written::OverLimit);
                    continue;
                }
                room -= 1;
                // Seen from now on, so a second row of the same id in this page is a duplicate.
                existing.insert(
                    d.natural_id.clone(),
                    (d.content_hash.clone(), d.attributes.clone()),
                );
                inserts.push(d);
                out.push(Written::Created);
                continue;
            };
            if *hash == d.content_hash {
                out.push(Written::Unchanged);
                continue;
            }
            let attributes = match on_duplicate {
                OnDuplicate::Skip => {
                    out.push(Written::SkippedDuplicate);
                    continue;
                }
                _ if over => {
                    out.push(Written::OverLimit);
                    continue;
                }
                OnDuplicate::Replace => d.attributes.clone(),
                OnDuplicate::Update => merge_objects(old_attributes, &d.attributes),
            };
            room -= 1;
            // What is updated may be one of this page's own inserts: they go first.
            insert_documents(tx, &inserts, anon).await?;
            inserts.clear();
            sqlx::query(
                "UPDATE discover_documents SET document_date = $1, attributes = $2, verbatim = $3, \
                 turns = $4, search_text = $5, content_hash = $6, job_id = $7, run_id = $8, \
                 updated_at = $9 WHERE project_id = $10 AND natural_id = $11",
            )
            .bind(d.document_date)
            .bind(&attributes)
            .bind(&d.verbatim)
            .bind(&d.turns)
            .bind(&d.search_text)
            .bind(&d.content_hash)
            .bind(&d.job_id)
            .bind(&d.run_id)
            .bind(d.updated_at)
            .bind(&d.project_id)
            .bind(&d.natural_id)
            .execute(&mut **tx)
            .await?;
            existing.insert(d.natural_id.clone(), (d.content_hash.clone(), attributes));
            out.push(Written::Updated);
        }
        insert_documents(tx, &inserts, anon).await?;
        Ok(out)
    }

    /// A project's documents, newest first, matching every word of `q` when given (full-text),
    /// at most `limit`.
    pub async fn discover_documents(
        &self,
        project_id: &str,
        q: Option<&str>,
        limit: i64,
    ) -> Result<Vec<DocumentRow>> {
        let q = q.map(str::trim).filter(|q| !q.is_empty());
        let order = "ORDER BY document_date DESC, natural_id LIMIT $2";
        let sql = match (q, self.backend()) {
            (None, _) => format!(
                "SELECT {DOCUMENT_COLUMNS} FROM discover_documents WHERE project_id = $1 {order}"
            ),
            (Some(_), Backend::Sqlite) => format!(
                "SELECT {DOCUMENT_COLUMNS} FROM discover_documents WHERE project_id = $1 AND rowid IN \
                 (SELECT rowid FROM discover_search WHERE discover_search MATCH $3) {order}"
            ),
            (Some(_), Backend::Postgres) => format!(
                "SELECT {DOCUMENT_COLUMNS} FROM discover_documents WHERE project_id = $1 AND \
                 to_tsvector('simple', search_text) @@ plainto_tsquery('simple', $3) {order}"
            ),
        };
        let mut query = sqlx::query(&sql).bind(project_id).bind(limit);
        if let Some(q) = q {
            query = query.bind(match self.backend() {
                Backend::Sqlite => fts5_terms(q),
                Backend::Postgres => q.to_string(),
            });
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter().map(document_from).collect()
    }

    pub async fn discover_document_count(&self, project_id: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM discover_documents WHERE project_id = $1")
                .bind(project_id)
                .fetch_one(self.pool())
                .await?,
        )
    }
}

/// `new`'s keys over `old`'s (both JSON objects; a value that does not read is replaced).
/// Natural ids asked about per lookup (well inside both engines' bind limits).
const LOOKUP_CHUNK: usize = 500;
/// Documents per multi-row insert (13 binds each, well inside both engines' limits).
const INSERT_CHUNK: usize = 100;

/// Whether binds are written `?` (SQLite: by position) rather than `$n` (PostgreSQL).
/// SQLite finds a named bind by scanning the statement's names, so a long VALUES list of
/// `$n` costs the square of its length; positional ones cost nothing to find.
fn anonymous_binds(tx: &mut Transaction<'_, Any>) -> bool {
    (**tx).backend_name().eq_ignore_ascii_case("sqlite")
}

fn mark(anonymous: bool, n: usize) -> String {
    if anonymous {
        "?".into()
    } else {
        format!("${n}")
    }
}

async fn insert_documents(
    tx: &mut Transaction<'_, Any>,
    docs: &[&DocumentRow],
    anon: bool,
) -> Result<()> {
    for chunk in docs.chunks(INSERT_CHUNK) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let marks: Vec<String> = (1..=13).map(|c| mark(anon, i * 13 + c)).collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO discover_documents ({DOCUMENT_COLUMNS}) VALUES {}",
            rows.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for d in chunk {
            q = q
                .bind(&d.project_id)
                .bind(&d.natural_id)
                .bind(&d.org_id)
                .bind(d.document_date)
                .bind(&d.attributes)
                .bind(&d.verbatim)
                .bind(&d.turns)
                .bind(&d.search_text)
                .bind(&d.content_hash)
                .bind(&d.job_id)
                .bind(&d.run_id)
                .bind(d.created_at)
                .bind(d.updated_at);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

fn merge_objects(old: &str, new: &str) -> String {
    let parse = |s: &str| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(s);
    match (parse(old), parse(new)) {
        (Ok(mut merged), Ok(new)) => {
            merged.extend(new);
            serde_json::Value::Object(merged).to_string()
        }
        _ => new.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_are_quoted_for_fts5() {
        assert_eq!(fts5_terms("card  NOT \"x"), "\"card\" \"NOT\" \"\"\"x\"");
    }

    #[test]
    fn an_update_merges_attributes() {
        assert_eq!(
            merge_objects(r#"{"a":1,"b":2}"#, r#"{"b":3,"c":4}"#),
            r#"{"a":1,"b":3,"c":4}"#
        );
    }
}
