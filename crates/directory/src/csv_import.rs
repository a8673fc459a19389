//! Contacts from a spreadsheet export: header aliases, per-row errors with the file's line
//! numbers, and the encoding and shape problems Excel files really have.
//!
//! Decisions worth knowing:
//! - Headers match case-insensitively, ignoring spaces, `_`, `-` and `.` (`First Name`,
//!   `first_name`, `FIRSTNAME`); unknown columns become embedded data under the header as written.
//! - Duplicates within one file (same email, case-insensitively, or same external reference): the
//!   first row is imported and later ones are reported as duplicates of it — never merged, because
//!   a merge would pick one row's values over another's without the person seeing it.
//! - Problems with the whole file (not UTF-8, no header row, no column that identifies a contact,
//!   two columns for one field) are reported once and import nothing; problems with a row
//!   (a bad email, a ragged row) skip that row only.
//! - A row whose quote is never closed is reported (the csv reader would otherwise read the rest
//!   of the file into one cell, losing every later row without a word).
//! - Blank rows are skipped; blank cells are "no value" (embedded data included).
//! - The delimiter is `,` unless the header line has more `;` or tabs (Excel in many European
//!   locales saves "CSV" with `;`).

use std::collections::HashMap;

use serde::Serialize;

use crate::{ContactInput, EmailAddress, Language, PhoneNumber};

/// The outcome of [`import_csv`]: the rows that parsed, and what went wrong with the others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CsvImport {
    /// `(line, contact)`, line being the 1-based line of the file where the row starts.
    pub contacts: Vec<(usize, ContactInput)>,
    pub errors: Vec<RowError>,
}

/// One problem in the file. `column` is the header as written in the file, when the problem is
/// one cell's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub line: usize,
    pub column: Option<String>,
    pub message: String,
}

impl RowError {
    fn file(line: usize, message: impl Into<String>) -> Self {
        Self {
            line,
            column: None,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    FirstName,
    LastName,
    Email,
    Phone,
    Language,
    ExtRef,
    Unsubscribed,
}

impl Field {
    fn from_header(header: &str) -> Option<Field> {
        let key: String = header
            .chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-' | '.'))
            .flat_map(char::to_lowercase)
            .collect();
        Some(match key.as_str() {
            "firstname" | "givenname" => Field::FirstName,
            "lastname" | "surname" | "familyname" => Field::LastName,
            "email" | "emailaddress" => Field::Email,
            "phone" | "phonenumber" | "mobile" | "mobilephone" | "mobilenumber" | "cellphone"
            | "telephone" => Field::Phone,
            "language" => Field::Language,
            "externaldatareference" | "extref" | "externalreference" | "externalid" => {
                Field::ExtRef
            }
            "unsubscribed" => Field::Unsubscribed,
            _ => return None,
        })
    }
}

enum Column {
    Known(Field),
    Embedded,
    /// A column without a header: tolerated while its cells are blank (Excel's trailing commas).
    Unnamed,
}

/// Imports contacts from CSV bytes. National phone numbers are completed with
/// `default_country` (ISO 3166 alpha-2); without it they must be international.
pub fn import_csv(bytes: &[u8], default_country: Option<&str>) -> CsvImport {
    let mut out = CsvImport::default();
    match CsvContacts::open(bytes, default_country) {
        Err(e) => out.errors.push(e),
        Ok(rows) => {
            for row in rows {
                match row {
                    Ok(contact) => out.contacts.push(contact),
                    Err(mut errors) => out.errors.append(&mut errors),
                }
            }
        }
    }
    out
}

/// The rows of a CSV file one at a time, so a large import holds one row's contact at a time
/// (and the emails and references seen, to report duplicates) rather than every contact.
///
/// Each item is a row's contact with its line, or that row's problems. A problem with the whole
/// file is [`CsvContacts::open`]'s error, and nothing is imported.
pub struct CsvContacts<B: AsRef<[u8]>> {
    reader: csv::Reader<std::io::Cursor<B>>,
    /// The record read ahead, to know which record is the last one.
    ahead: Option<Result<csv::StringRecord, csv::Error>>,
    /// Where the CSV text starts (after a byte-order mark).
    start: usize,
    lines: LineCounter,
    headers: Vec<String>,
    columns: Vec<Column>,
    default_country: Option<String>,
    unclosed_quote: bool,
    seen_emails: HashMap<String, usize>,
    seen_refs: HashMap<String, usize>,
    finished: bool,
}

impl<B: AsRef<[u8]>> CsvContacts<B> {
    /// Checks the file as a whole (UTF-8, a header row naming contact fields) and reads its
    /// header. National phone numbers are completed with `default_country` (ISO 3166
    /// alpha-2); without it they must be international.
    pub fn open(file: B, default_country: Option<&str>) -> Result<Self, RowError> {
        let all = file.as_ref();
        let start = if all.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let bytes = &all[start..];

        // Refuse the whole file rather than import the rows that happen to be ASCII: a Latin-1
        // file would otherwise import half its contacts, and the other half with every accent
        // reported.
        if let Err(e) = std::str::from_utf8(bytes) {
            let line = line_at(bytes, e.valid_up_to());
            return Err(RowError::file(
                line,
                format!(
                    "the file is not UTF-8 text (first unreadable character on line {line}); \
                     save it as \"CSV UTF-8\" and import again"
                ),
            ));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(RowError::file(
                1,
                "the file is empty; its first row must name the columns, e.g. FirstName,LastName,Email",
            ));
        }

        let delimiter = sniff_delimiter(bytes);
        // The csv reader reads an unclosed quote to the end of the file as one cell, which
        // would silently swallow every later row into the last contact; find out up front.
        let unclosed_quote = ends_inside_quotes(bytes, delimiter);
        let mut cursor = std::io::Cursor::new(file);
        cursor.set_position(start as u64);
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(cursor);
        let mut rows = Self {
            reader,
            ahead: None,
            start,
            lines: LineCounter::new(),
            headers: Vec::new(),
            columns: Vec::new(),
            default_country: default_country.map(str::to_string),
            unclosed_quote,
            seen_emails: HashMap::new(),
            seen_refs: HashMap::new(),
            finished: false,
        };
        rows.ahead = rows.read();
        let header = match rows.ahead.take() {
            Some(Ok(record)) => {
                let line = rows.line_of(&record);
                rows.ahead = rows.read();
                if unclosed_quote && rows.ahead.is_none() {
                    return Err(RowError::file(line, UNCLOSED_QUOTE));
                }
                (line, record)
            }
            Some(Err(e)) => return Err(csv_error(&e)),
            None => return Err(RowError::file(1, "the file has no header row")),
        };
        let (header_line, headers) = header;
        rows.headers = headers.iter().map(|h| h.trim().to_string()).collect();
        rows.columns = plan_columns(&rows.headers, header_line)?;
        Ok(rows)
    }

    fn read(&mut self) -> Option<Result<csv::StringRecord, csv::Error>> {
        let mut record = csv::StringRecord::new();
        match self.reader.read_record(&mut record) {
            Ok(true) => Some(Ok(record)),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }

    fn line_of(&mut self, record: &csv::StringRecord) -> usize {
        let bytes = &self.reader.get_ref().get_ref().as_ref()[self.start..];
        self.lines.line_of(bytes, record)
    }

    /// The next row that is not blank: its contact, or its problems.
    fn next_row(&mut self) -> Option<Result<(usize, ContactInput), Vec<RowError>>> {
        loop {
            if self.finished {
                return None;
            }
            let record = self.ahead.take()?;
            self.ahead = self.read();
            let is_last = self.ahead.is_none();
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    // The csv reader cannot resynchronise after a read error; stop here.
                    self.finished = true;
                    return Some(Err(vec![csv_error(&e)]));
                }
            };
            let line = self.line_of(&record);
            if self.unclosed_quote && is_last {
                self.finished = true;
                return Some(Err(vec![RowError::file(line, UNCLOSED_QUOTE)]));
            }
            if record.iter().all(|cell| cell.trim().is_empty()) {
                continue;
            }
            if record.len() != self.headers.len() {
                return Some(Err(vec![RowError::file(
                    line,
                    format!(
                        "has {} fields but the header row has {}; check for a missing or extra \
                         delimiter, or a stray quote",
                        record.len(),
                        self.headers.len()
                    ),
                )]));
            }
            let (contact, mut errors) = parse_row(
                &record,
                &self.headers,
                &self.columns,
                line,
                self.default_country.as_deref(),
            );
            if let Some(contact) = &contact {
                if let Some(duplicate) = self.duplicate(contact, line) {
                    errors.push(duplicate);
                }
            }
            return Some(match contact {
                Some(contact) if errors.is_empty() => Ok((line, contact)),
                _ => Err(errors),
            });
        }
    }

    /// A row with the email or external reference of an earlier row is a duplicate of it;
    /// otherwise the row's email and reference are remembered.
    fn duplicate(&mut self, contact: &ContactInput, line: usize) -> Option<RowError> {
        let email_key = contact.email.as_ref().map(|e| e.as_str().to_lowercase());
        let ref_key = contact.external_ref.clone();
        let dup_email = email_key.as_ref().and_then(|k| self.seen_emails.get(k));
        let dup_ref = ref_key.as_ref().and_then(|k| self.seen_refs.get(k));
        if let Some(&first) = dup_email {
            return Some(RowError {
                line,
                column: column_of(&self.headers, &self.columns, Field::Email),
                message: format!(
                    "duplicate of line {first}: same email address; the first row was kept"
                ),
            });
        }
        if let Some(&first) = dup_ref {
            return Some(RowError {
                line,
                column: column_of(&self.headers, &self.columns, Field::ExtRef),
                message: format!(
                    "duplicate of line {first}: same external reference; the first row was kept"
                ),
            });
        }
        if let Some(k) = email_key {
            self.seen_emails.insert(k, line);
        }
        if let Some(k) = ref_key {
            self.seen_refs.insert(k, line);
        }
        None
    }
}

impl<B: AsRef<[u8]>> Iterator for CsvContacts<B> {
    type Item = Result<(usize, ContactInput), Vec<RowError>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_row()
    }
}

const UNCLOSED_QUOTE: &str = "a quote (\") opened on this row is never closed, so the rest of the \
     file reads as one cell; close the quote or remove it, then import this row and the ones \
     after it again";

/// Whether the file ends inside a quoted field, following the csv reader's own rules: a quote
/// opens a quoted field only at the start of a field, `""` inside one is a literal quote, and a
/// quote in the middle of an unquoted field is just a character.
fn ends_inside_quotes(bytes: &[u8], delimiter: u8) -> bool {
    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    for &b in bytes {
        let ends_field = b == delimiter || b == b'\n' || b == b'\r';
        state = match state {
            State::FieldStart if b == b'"' => State::Quoted,
            State::FieldStart | State::Unquoted if ends_field => State::FieldStart,
            State::FieldStart | State::Unquoted => State::Unquoted,
            State::Quoted if b == b'"' => State::QuoteInQuoted,
            State::Quoted => State::Quoted,
            State::QuoteInQuoted if b == b'"' => State::Quoted,
            State::QuoteInQuoted if ends_field => State::FieldStart,
            State::QuoteInQuoted => State::Unquoted,
        };
    }
    state == State::Quoted
}

/// Maps each header to a field, refusing headers that cannot describe contacts at all.
fn plan_columns(headers: &[String], line: usize) -> Result<Vec<Column>, RowError> {
    if headers
        .iter()
        .any(|h| EmailAddress::parse(h).is_ok() || PhoneNumber::parse(h, None).is_ok())
    {
        return Err(RowError::file(
            line,
            "the first row looks like a contact, not column names; add a header row such as \
             FirstName,LastName,Email,Phone",
        ));
    }
    let mut columns = Vec::with_capacity(headers.len());
    let mut known: Vec<(Field, &str)> = Vec::new();
    let mut embedded: Vec<&str> = Vec::new();
    for header in headers {
        if header.is_empty() {
            columns.push(Column::Unnamed);
        } else if let Some(field) = Field::from_header(header) {
            if let Some((_, other)) = known.iter().find(|(f, _)| *f == field) {
                return Err(RowError::file(
                    line,
                    format!(
                        "columns \"{other}\" and \"{header}\" both hold the same contact field; \
                         keep one"
                    ),
                ));
            }
            known.push((field, header));
            columns.push(Column::Known(field));
        } else {
            if embedded.contains(&header.as_str()) {
                return Err(RowError::file(
                    line,
                    format!("two columns are named \"{header}\"; rename one"),
                ));
            }
            embedded.push(header);
            columns.push(Column::Embedded);
        }
    }
    if !known
        .iter()
        .any(|(f, _)| matches!(f, Field::Email | Field::Phone | Field::ExtRef))
    {
        return Err(RowError::file(
            line,
            "the header row has no Email, Phone or ExternalDataReference column; every contact \
             needs at least one of them",
        ));
    }
    Ok(columns)
}

fn parse_row(
    record: &csv::StringRecord,
    headers: &[String],
    columns: &[Column],
    line: usize,
    default_country: Option<&str>,
) -> (Option<ContactInput>, Vec<RowError>) {
    let mut contact = ContactInput::default();
    let mut errors = Vec::new();
    let mut cell_error = |header: &str, message: String| {
        errors.push(RowError {
            line,
            column: Some(header.to_string()),
            message,
        })
    };
    for ((cell, header), column) in record.iter().zip(headers).zip(columns) {
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        let value = Some(cell.to_string());
        match column {
            Column::Unnamed => {
                cell_error(header, "has a value in a column without a header".into());
            }
            Column::Embedded => {
                contact
                    .embedded_data
                    .insert(header.clone(), cell.to_string());
            }
            Column::Known(field) => match field {
                Field::FirstName => contact.first_name = value,
                Field::LastName => contact.last_name = value,
                Field::ExtRef => contact.external_ref = value,
                Field::Email => match EmailAddress::parse(cell) {
                    Ok(v) => contact.email = Some(v),
                    Err(e) => cell_error(header, e.message),
                },
                Field::Phone => match PhoneNumber::parse(cell, default_country) {
                    Ok(v) => contact.phone = Some(v),
                    Err(e) => cell_error(header, e.message),
                },
                Field::Language => match Language::parse(cell) {
                    Ok(v) => contact.language = Some(v),
                    Err(e) => cell_error(header, e.message),
                },
                Field::Unsubscribed => match parse_flag(cell) {
                    Some(b) => contact.unsubscribed = b,
                    None => cell_error(
                        header,
                        format!("\"{cell}\" is not a yes/no value; use true/false, yes/no or 1/0"),
                    ),
                },
            },
        }
    }
    if errors.is_empty() && !contact.has_identity() {
        errors.push(RowError {
            line,
            column: None,
            message: ContactInput::identity_error("").message,
        });
    }
    let contact = errors.is_empty().then_some(contact);
    (contact, errors)
}

fn parse_flag(cell: &str) -> Option<bool> {
    match cell.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Some(true),
        "false" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

fn column_of(headers: &[String], columns: &[Column], field: Field) -> Option<String> {
    columns
        .iter()
        .position(|c| matches!(c, Column::Known(f) if *f == field))
        .map(|i| headers[i].clone())
}

/// 1-based line of byte `offset`.
fn line_at(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1
}

/// Finds the line a record starts on. The csv reader's own line count lags behind blank lines
/// and the `\n` of a CRLF (it records the position before skipping them), so the line is counted
/// from the record's byte offset instead, moving forward only, as records arrive in order.
struct LineCounter {
    offset: usize,
    line: usize,
}

impl LineCounter {
    fn new() -> Self {
        Self { offset: 0, line: 1 }
    }

    fn line_of(&mut self, bytes: &[u8], record: &csv::StringRecord) -> usize {
        let Some(position) = record.position() else {
            return self.line;
        };
        let mut start = usize::try_from(position.byte())
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > self.offset {
            self.line += bytes[self.offset..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.offset = start;
        }
        self.line
    }
}

fn csv_error(e: &csv::Error) -> RowError {
    let line = e
        .position()
        .map_or(1, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
    RowError::file(line, format!("the file cannot be read here: {e}"))
}

fn sniff_delimiter(bytes: &[u8]) -> u8 {
    let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let count = |d: u8| first_line.iter().filter(|&&b| b == d).count();
    let (commas, semicolons, tabs) = (count(b','), count(b';'), count(b'\t'));
    if semicolons > commas && semicolons >= tabs {
        b';'
    } else if tabs > commas && tabs > semicolons {
        b'\t'
    } else {
        b','
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(text: &str) -> CsvImport {
        import_csv(text.as_bytes(), Some("US"))
    }

    fn lines(import: &CsvImport) -> Vec<usize> {
        import.contacts.iter().map(|(l, _)| *l).collect()
    }

    #[test]
    fn imports_rows_with_aliases_and_embedded_data() {
        let r = import(
            "First Name,last_name,E-mail Address,Mobile,LANGUAGE,ExternalDataReference,Unsubscribed,Region\n\
             Ada,Lovelace,ada@example.com,(415) 555-0100,en,003A,no,EMEA\n\
             Alan,Turing,alan@example.com,,,,yes,\n",
        );
        assert_eq!(r.errors, []);
        assert_eq!(lines(&r), [2, 3]);
        let ada = &r.contacts[0].1;
        assert_eq!(ada.first_name.as_deref(), Some("Ada"));
        assert_eq!(ada.last_name.as_deref(), Some("Lovelace"));
        assert_eq!(ada.phone.as_ref().unwrap().as_str(), "+14155550100");
        assert_eq!(ada.language.as_ref().unwrap().as_str(), "EN");
        assert_eq!(ada.external_ref.as_deref(), Some("003A"));
        assert!(!ada.unsubscribed);
        assert_eq!(ada.embedded_data["Region"], "EMEA");
        let alan = &r.contacts[1].1;
        assert!(alan.unsubscribed);
        assert!(alan.embedded_data.is_empty(), "blank cells store nothing");
    }

    #[test]
    fn bad_rows_are_reported_and_good_rows_still_import() {
        let r = import(
            "Email,Phone,Language,Unsubscribed\n\
             good@example.com,,,\n\
             bad-email,call me,English,maybe\n\
             ,,FR,\n\
             also.good@example.com,,,\n",
        );
        assert_eq!(lines(&r), [2, 5]);
        let cells: Vec<(usize, Option<&str>)> = r
            .errors
            .iter()
            .map(|e| (e.line, e.column.as_deref()))
            .collect();
        assert_eq!(
            cells,
            [
                (3, Some("Email")),
                (3, Some("Phone")),
                (3, Some("Language")),
                (3, Some("Unsubscribed")),
                (4, None)
            ]
        );
        assert!(r.errors[4].message.contains("at least one of email"));
    }

    #[test]
    fn handles_bom_crlf_and_quoted_newlines() {
        let r = import(
            "\u{feff}Email,Notes\r\n\
             a@example.com,\"line one\r\nline two, with comma\"\r\n\
             b@example.com,\"said \"\"hi\"\"\"\r\n",
        );
        assert_eq!(r.errors, []);
        assert_eq!(
            lines(&r),
            [2, 4],
            "the second row starts after the two-line field"
        );
        assert_eq!(
            r.contacts[0].1.embedded_data["Notes"],
            "line one\r\nline two, with comma"
        );
        assert_eq!(r.contacts[1].1.embedded_data["Notes"], "said \"hi\"");
        // The BOM must not leak into the first header.
        assert!(r.contacts[0].1.email.is_some());
    }

    #[test]
    fn header_only_and_empty_files() {
        let r = import("Email,FirstName\n");
        assert_eq!(r, CsvImport::default());
        let r = import("");
        assert_eq!(r.errors.len(), 1);
        assert!(r.errors[0].message.contains("empty"));
        let r = import_csv(b"\xEF\xBB\xBF\r\n", None);
        assert!(r.errors[0].message.contains("empty"));
    }

    #[test]
    fn missing_header_row_is_reported_once() {
        let r = import("ada@example.com,Ada\nalan@example.com,Alan\n");
        assert!(r.contacts.is_empty());
        assert_eq!(r.errors.len(), 1);
        assert_eq!(r.errors[0].line, 1);
        assert!(r.errors[0].message.contains("looks like a contact"));
        let r = import("Name,Company\nAda,Analytical\n");
        assert_eq!(r.errors.len(), 1);
        assert!(r.errors[0]
            .message
            .contains("no Email, Phone or ExternalDataReference"));
    }

    #[test]
    fn conflicting_headers_are_refused() {
        let r = import("Email,Email Address\na@example.com,b@example.com\n");
        assert!(r.contacts.is_empty());
        assert!(r.errors[0]
            .message
            .contains("\"Email\" and \"Email Address\""));
        let r = import("Email,Region,Region\na@example.com,x,y\n");
        assert!(r.errors[0]
            .message
            .contains("two columns are named \"Region\""));
    }

    #[test]
    fn non_utf8_file_names_the_line() {
        let mut bytes = b"Email,City\na@example.com,Paris\nb@example.com,Z".to_vec();
        bytes.extend_from_slice(b"\xfcrich\n"); // "Zürich" in Latin-1
        let r = import_csv(&bytes, None);
        assert!(r.contacts.is_empty());
        assert_eq!(r.errors.len(), 1);
        assert_eq!(r.errors[0].line, 3);
        assert!(r.errors[0].message.contains("not UTF-8"));
    }

    #[test]
    fn ragged_rows_are_reported_with_their_line() {
        let r = import("Email,First Name\na@example.com\nb@example.com,B,extra\nc@example.com,C\n");
        assert_eq!(lines(&r), [4]);
        let got: Vec<usize> = r.errors.iter().map(|e| e.line).collect();
        assert_eq!(got, [2, 3]);
        assert!(r.errors[0]
            .message
            .contains("has 1 fields but the header row has 2"));
    }

    #[test]
    fn duplicates_keep_the_first_row() {
        let r = import(
            "Email,ExtRef\nada@example.com,1\nADA@EXAMPLE.COM,2\nalan@example.com,1\nbad,9\ngrace@example.com,3\n",
        );
        assert_eq!(lines(&r), [2, 6]);
        let dup: Vec<(usize, Option<&str>)> = r
            .errors
            .iter()
            .filter(|e| e.message.contains("duplicate"))
            .map(|e| (e.line, e.column.as_deref()))
            .collect();
        assert_eq!(dup, [(3, Some("Email")), (4, Some("ExtRef"))]);
        assert!(r.errors[0].message.contains("duplicate of line 2"));
    }

    #[test]
    fn blank_rows_and_unnamed_blank_columns_are_ignored() {
        let r = import("Email,,\n\na@example.com,,\n,,\nb@example.com,x,\n");
        assert_eq!(lines(&r), [3]);
        assert_eq!(r.errors.len(), 1);
        assert_eq!(r.errors[0].line, 5);
        assert!(r.errors[0].message.contains("without a header"));
    }

    #[test]
    fn semicolon_and_tab_files() {
        let r = import("Email;First Name\na@example.com;Ada, Countess\n");
        assert_eq!(r.errors, []);
        assert_eq!(r.contacts[0].1.first_name.as_deref(), Some("Ada, Countess"));
        let r = import("Email\tPhone\na@example.com\t+44 20 7946 0958\n");
        assert_eq!(r.errors, []);
        assert_eq!(
            r.contacts[0].1.phone.as_ref().unwrap().as_str(),
            "+442079460958"
        );
    }

    #[test]
    fn a_stray_quote_is_reported_at_its_row() {
        // An unclosed quote swallows the rest of the file into one cell; the rows before it
        // still import and the error points at the row where the quote opened.
        let r = import("Email,Name\na@example.com,A\nb@example.com,\"B\nc@example.com,C\n");
        assert_eq!(lines(&r), [2]);
        assert_eq!(r.errors.len(), 1);
        assert_eq!(r.errors[0].line, 3);
        assert!(r.errors[0].message.contains("never closed"));
        // Quotes that are closed, doubled, or in the middle of a plain field are all fine.
        let r = import("Email,Name\na@example.com,\"B \"\"x\"\"\"\nb@example.com,O\"Neil\n");
        assert_eq!(r.errors, []);
        assert_eq!(
            r.contacts[1].1.embedded_data.get("Name"),
            Some(&"O\"Neil".into())
        );
        let r = import("Email,\"Name\n");
        assert!(r.errors[0].message.contains("never closed"));
    }

    #[test]
    fn national_phones_need_a_default_country() {
        let r = import_csv(b"Phone\n(415) 555-0100\n", None);
        assert!(r.contacts.is_empty());
        assert!(r.errors[0].message.contains("no country code"));
        let r = import_csv(b"Phone\n020 7946 0958\n", Some("GB"));
        assert_eq!(
            r.contacts[0].1.phone.as_ref().unwrap().as_str(),
            "+442079460958"
        );
    }
}
