//! CSV contact import in bounded transactions, so a file of any size neither holds the
//! database's write lock for long nor needs its report kept whole in memory.
//!
//! [`ContactImport::next_batch`] reads up to [`BATCH_ROWS`] rows, then writes their contacts in
//! one transaction. On SQLite (one writer at a time, whose waiters poll for the lock) it then
//! leaves the lock free about as long as it held it, so responses arriving meanwhile are written
//! between batches instead of timing out. Each batch's refused rows are handed back at once,
//! for the caller to stream or keep.

use crate::directory::{
    ImportReport, OptOutSource, RowProblem, UnknownLanguage, Upsert, UNKNOWN_LANGUAGE_LINES,
};
use crate::{Actor, Result, Role, Sonde};
use directory::{ContactInput, CsvContacts, RowError};
use std::time::{Duration, Instant};

/// Rows per transaction: large enough that commits are a small part of the work, small enough
/// that the write lock is held for milliseconds.
pub const BATCH_ROWS: usize = 500;

/// The longest pause between two batches on SQLite.
const MAX_PAUSE: Duration = Duration::from_millis(50);

/// An import under way.
pub struct ContactImport {
    sonde: Sonde,
    actor: Actor,
    list_id: Option<String>,
    rows: Option<CsvContacts<Vec<u8>>>,
    /// A problem with the whole file, reported as the only batch.
    file_problem: Option<RowProblem>,
    totals: ImportTotals,
    /// Language codes no language has, in the order first met.
    unknown_languages: Vec<UnknownLanguage>,
}

/// What an import has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportTotals {
    pub created: usize,
    pub updated: usize,
    /// Rows refused (each with at least one problem reported).
    pub refused: usize,
}

/// One transaction's worth of rows.
#[derive(Debug, Clone, Default)]
pub struct ImportBatch {
    pub created: usize,
    pub updated: usize,
    /// The refused rows among them, in line order.
    pub problems: Vec<RowProblem>,
    /// How long the batch held its transaction open.
    pub write_time: Duration,
}

/// A batch could not be written (the database failed). Rows on lines before `line` were
/// imported; nothing from `line` on was.
#[derive(Debug, thiserror::Error)]
#[error("the import stopped at line {line}: {error}; the rows before it were imported")]
pub struct ImportStopped {
    pub line: usize,
    #[source]
    pub error: crate::Error,
}

fn problem(e: RowError) -> RowProblem {
    RowProblem {
        line: e.line,
        column: e.column,
        message: e.message,
    }
}

impl Sonde {
    /// Starts importing a CSV file (checking the role and the mailing list first); drive it
    /// with [`ContactImport::next_batch`]. Good rows are saved even when others are refused;
    /// each refused row is reported with its line number (and column where known).
    pub async fn start_contact_import(
        &self,
        actor: &Actor,
        file: Vec<u8>,
        list_id: Option<&str>,
    ) -> Result<ContactImport> {
        actor.require(Role::Editor)?;
        if let Some(list) = list_id {
            self.mailing_list(actor, list).await?;
        }
        let (rows, file_problem) = match CsvContacts::open(file, None) {
            Ok(rows) => (Some(rows), None),
            Err(e) => (None, Some(problem(e))),
        };
        Ok(ContactImport {
            sonde: self.clone(),
            actor: actor.clone(),
            list_id: list_id.map(str::to_string),
            rows,
            file_problem,
            totals: ImportTotals::default(),
            unknown_languages: Vec::new(),
        })
    }

    /// Imports a whole CSV file and reports on it, listing at most `max_errors` refused rows
    /// (the count of all of them is in `refused`).
    pub async fn import_contacts_csv(
        &self,
        actor: &Actor,
        file: Vec<u8>,
        list_id: Option<&str>,
        max_errors: usize,
    ) -> Result<ImportReport> {
        let mut import = self.start_contact_import(actor, file, list_id).await?;
        let mut errors = Vec::new();
        while let Some(batch) = import
            .next_batch()
            .await
            .map_err(|e| crate::Error::Internal(Box::new(e)))?
        {
            let room = max_errors.saturating_sub(errors.len());
            errors.extend(batch.problems.into_iter().take(room));
        }
        let totals = import.totals();
        Ok(ImportReport {
            created: totals.created,
            updated: totals.updated,
            refused: totals.refused,
            errors,
            unknown_languages: import.unknown_languages().to_vec(),
        })
    }
}

impl ContactImport {
    pub fn totals(&self) -> ImportTotals {
        self.totals
    }

    /// The language codes so far that no language has (the contacts were imported with them).
    pub fn unknown_languages(&self) -> &[UnknownLanguage] {
        &self.unknown_languages
    }

    /// Reads and writes the next batch of rows; `None` once the file is done.
    pub async fn next_batch(&mut self) -> Result<Option<ImportBatch>, ImportStopped> {
        if let Some(p) = self.file_problem.take() {
            self.totals.refused += 1;
            return Ok(Some(ImportBatch {
                problems: vec![p],
                ..Default::default()
            }));
        }
        let Some(rows) = self.rows.as_mut() else {
            return Ok(None);
        };
        let mut contacts: Vec<(usize, ContactInput)> = Vec::new();
        let mut batch = ImportBatch::default();
        let mut refused_rows = 0;
        while contacts.len() < BATCH_ROWS && batch.problems.len() < BATCH_ROWS {
            match rows.next() {
                Some(Ok(contact)) => {
                    note_language(&mut self.unknown_languages, contact.0, &contact.1);
                    contacts.push(contact);
                }
                Some(Err(errors)) => {
                    refused_rows += 1;
                    batch.problems.extend(errors.into_iter().map(problem));
                }
                None => {
                    self.rows = None;
                    break;
                }
            }
        }
        if contacts.is_empty() && batch.problems.is_empty() {
            return Ok(None);
        }
        if let Some(&(first_line, _)) = contacts.first() {
            let (lines, inputs): (Vec<usize>, Vec<ContactInput>) = contacts.into_iter().unzip();
            let started = Instant::now();
            self.write(&lines, &inputs, &mut batch)
                .await
                .map_err(|error| ImportStopped {
                    line: first_line,
                    error,
                })?;
            batch.write_time = started.elapsed();
            if self.sonde.store.backend() == store::Backend::Sqlite && self.rows.is_some() {
                tokio::time::sleep(batch.write_time.min(MAX_PAUSE)).await;
            }
        }
        self.totals.created += batch.created;
        self.totals.updated += batch.updated;
        self.totals.refused += refused_rows;
        Ok(Some(batch))
    }

    async fn write(
        &self,
        lines: &[usize],
        inputs: &[ContactInput],
        batch: &mut ImportBatch,
    ) -> Result<()> {
        let upsert = Upsert {
            actor: &self.actor,
            list_id: self.list_id.as_deref(),
            unsubscribe: false,
            source: OptOutSource::Import,
            detail: None,
        };
        let mut tx = self.sonde.store.begin().await?;
        let written = upsert.write_all(&mut tx, inputs).await?;
        for ((line, input), (id, created)) in lines.iter().zip(inputs).zip(&written) {
            if input.unsubscribed {
                upsert
                    .unsubscribe(&mut tx, id, Some(format!("line {line}")))
                    .await?;
            }
            if *created {
                batch.created += 1;
            } else {
                batch.updated += 1;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Counts a contact whose language code no language has (and keeps its first lines).
fn note_language(unknown: &mut Vec<UnknownLanguage>, line: usize, contact: &ContactInput) {
    let Some(language) = contact.language.as_ref().filter(|l| !l.is_known()) else {
        return;
    };
    let code = language.as_str();
    let i = match unknown.iter().position(|u| u.code == code) {
        Some(i) => i,
        None => {
            unknown.push(UnknownLanguage {
                code: code.to_string(),
                contacts: 0,
                lines: Vec::new(),
            });
            unknown.len() - 1
        }
    };
    let u = &mut unknown[i];
    u.contacts += 1;
    if u.lines.len() < UNKNOWN_LANGUAGE_LINES {
        u.lines.push(line);
    }
}
