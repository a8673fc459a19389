//! Response exports shaped like Qualtrics': one CSV column per question or sub-question with
//! numeric (recode) values, metadata first, and a JSON form carrying the same values.

use crate::condition::format_number;
use crate::definition::{BlockElement, Question, QuestionKind, SurveyDefinition};
use crate::flow;
use crate::html::to_plain;
use crate::response::{Answer, DistributionChannel, ResponseData, ResponseMetadata};
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use utoipa::ToSchema;

/// One export column: `key` heads the CSV (`Q1`, `Q1_4_TEXT`, `Q5_1`), `label` is the plain
/// question text shown in the second header row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub key: String,
    pub label: String,
}

/// Qualtrics' metadata columns, in its order.
const METADATA_COLUMNS: &[(&str, &str)] = &[
    ("StartDate", "Start Date"),
    ("EndDate", "End Date"),
    ("Status", "Response Type"),
    ("Progress", "Progress"),
    ("Duration (in seconds)", "Duration (in seconds)"),
    ("Finished", "Finished"),
    ("RecordedDate", "Recorded Date"),
    ("ResponseId", "Response ID"),
    ("DistributionChannel", "Distribution Channel"),
    ("UserLanguage", "User Language"),
];

/// What fills a column, kept beside the public `Column` so rows and headers cannot drift.
enum Source<'d> {
    Metadata(&'static str),
    Embedded(&'d str),
    Choice(&'d Question),
    ChoiceText(&'d Question, &'d str),
    NpsGroup(&'d Question),
    Value(&'d Question),
    Statement(&'d Question, &'d str),
    PageSeconds(&'d Question),
}

fn layout(definition: &SurveyDefinition) -> Vec<(Column, Source<'_>)> {
    let mut out = Vec::new();
    for (key, label) in METADATA_COLUMNS {
        out.push((column(key, label), Source::Metadata(key)));
    }
    for field in flow::declared_embedded_fields(definition) {
        out.push((
            column(&field.name, &field.name),
            Source::Embedded(&field.name),
        ));
    }
    for question in questions_in_order(definition) {
        let tag = &question.export_tag;
        let text = to_plain(&question.text);
        match &question.kind {
            QuestionKind::MultipleChoice { choices, .. } => {
                out.push((column(tag, &text), Source::Choice(question)));
                for choice in choices.iter().filter(|c| c.text_entry) {
                    out.push((
                        column(
                            &format!("{tag}_{}_TEXT", choice.id),
                            &format!("{text} - {} - Text", to_plain(&choice.text)),
                        ),
                        Source::ChoiceText(question, &choice.id),
                    ));
                }
            }
            QuestionKind::Nps { .. } => {
                out.push((column(tag, &text), Source::Value(question)));
                out.push((
                    column(&format!("{tag}_NPS_GROUP"), &format!("{text} - Group")),
                    Source::NpsGroup(question),
                ));
            }
            QuestionKind::TextEntry { .. } | QuestionKind::Unsupported { .. } => {
                out.push((column(tag, &text), Source::Value(question)));
            }
            QuestionKind::Matrix { statements, .. } | QuestionKind::Slider { statements, .. } => {
                for statement in statements {
                    let label = match to_plain(&statement.text) {
                        s if s.is_empty() => text.clone(),
                        s => format!("{text} - {s}"),
                    };
                    out.push((
                        column(&format!("{tag}_{}", statement.id), &label),
                        Source::Statement(question, &statement.id),
                    ));
                }
            }
            QuestionKind::Timing { .. } => out.push((
                column(
                    &format!("{tag}_Page Submit"),
                    &format!("{text} - Page Submit"),
                ),
                Source::PageSeconds(question),
            )),
            QuestionKind::Descriptive => {}
        }
    }
    out
}

fn column(key: &str, label: &str) -> Column {
    Column {
        key: key.to_string(),
        label: label.to_string(),
    }
}

/// Questions in the order blocks list them (as respondents meet them when the flow follows
/// block order), then any question no block holds.
fn questions_in_order(definition: &SurveyDefinition) -> Vec<&Question> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let ordered_ids = definition
        .blocks
        .iter()
        .flat_map(|b| b.elements.iter())
        .filter_map(|e| match e {
            BlockElement::Question { id } => Some(id.as_str()),
            BlockElement::PageBreak => None,
        })
        .chain(definition.questions.iter().map(|q| q.id.as_str()));
    for id in ordered_ids {
        if seen.insert(id) {
            if let Some(q) = definition.question(id) {
                out.push(q);
            }
        }
    }
    out
}

pub fn csv_columns(definition: &SurveyDefinition) -> Vec<Column> {
    layout(definition).into_iter().map(|(c, _)| c).collect()
}

/// The columns of an export over several versions of one survey: the first definition's (the
/// current one) in its order, then those only older versions have — a question since deleted,
/// a removed "other" choice's text — so every response keeps its answers whichever version it
/// was answered under. A key two versions share is one column, headed by the first's label.
pub fn columns_over<'a>(
    definitions: impl IntoIterator<Item = &'a SurveyDefinition>,
) -> Vec<Column> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for definition in definitions {
        for (column, _) in layout(definition) {
            if seen.insert(column.key.clone()) {
                out.push(column);
            }
        }
    }
    out
}

/// One response's CSV cells under `columns` (from [`columns_over`]), read with the version it
/// was answered under, so its choices' recodes are that version's; a column its version does
/// not have is empty.
pub fn csv_row_in(
    columns: &[Column],
    definition: &SurveyDefinition,
    metadata: &ResponseMetadata,
    data: &ResponseData,
) -> Vec<String> {
    let keys = csv_columns(definition);
    let mut cells: BTreeMap<String, String> = keys
        .into_iter()
        .map(|c| c.key)
        .zip(csv_row(definition, metadata, data))
        .collect();
    columns
        .iter()
        .map(|c| cells.remove(&c.key).unwrap_or_default())
        .collect()
}

/// [`readable_cells`] under `columns` (from [`columns_over`], metadata columns skipped): the
/// choice texts are those of the version the response was answered under, so a choice since
/// renamed or deleted reads as the respondent saw it.
pub fn readable_cells_in(
    columns: &[Column],
    definition: &SurveyDefinition,
    data: &ResponseData,
) -> Vec<ReadableCell> {
    let mut cells: BTreeMap<String, ReadableCell> = readable_cells(definition, data)
        .into_iter()
        .map(|c| (c.column.key.clone(), c))
        .collect();
    columns
        .iter()
        .filter(|c| !METADATA_COLUMNS.iter().any(|(key, _)| *key == c.key))
        .map(|c| {
            cells.remove(&c.key).unwrap_or_else(|| ReadableCell {
                column: c.clone(),
                embedded: data.embedded_data.contains_key(&c.key),
                value: data.embedded_data.get(&c.key).cloned().unwrap_or_default(),
            })
        })
        .collect()
}

/// The two CSV header rows (keys, then question texts), formula-guarded like every cell:
/// imported question texts are not to be trusted either.
pub fn csv_header_rows(definition: &SurveyDefinition) -> [Vec<String>; 2] {
    header_rows_of(&csv_columns(definition))
}

/// [`csv_header_rows`] of columns over several versions ([`columns_over`]).
pub fn header_rows_of(columns: &[Column]) -> [Vec<String>; 2] {
    [
        columns
            .iter()
            .map(|c| guard_formula(&c.key).into_owned())
            .collect(),
        columns
            .iter()
            .map(|c| guard_formula(&c.label).into_owned())
            .collect(),
    ]
}

/// One response as CSV cells, aligned with [`csv_columns`]. Choices export their recodes
/// (Qualtrics' "numeric values"); several selected choices join with commas. Cells are
/// formula-guarded ([`guard_formula`]), so whatever writes them out needs only CSV quoting.
pub fn csv_row(
    definition: &SurveyDefinition,
    metadata: &ResponseMetadata,
    data: &ResponseData,
) -> Vec<String> {
    layout(definition)
        .iter()
        .map(|(_, source)| {
            let value = cell(source, definition, metadata, data);
            match guard_formula(&value) {
                Cow::Borrowed(_) => value,
                Cow::Owned(guarded) => guarded,
            }
        })
        .collect()
}

/// First characters that make a spreadsheet read a cell as a formula: OWASP's CSV injection
/// list (`=` `+` `-` `@`, tab, carriage return) and NUL from ASVS 1.2.10.
const FORMULA_TRIGGERS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\0'];

/// OWASP's guard against CSV (formula) injection: a cell starting with a formula trigger gets
/// a leading `'`, which spreadsheets take as "this is text". A cell that is wholly a plain
/// number (`-5`, `+3.25`, `-1.5e3`) is left alone: spreadsheets read it as that number, never
/// as a formula, and quoting it would turn every negative score into text.
pub fn guard_formula(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_TRIGGERS) && !is_plain_number(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// `[+-]digits[.digits][e[+-]digits]` and nothing else (unlike `f64::from_str`, no `inf`/`NaN`).
fn is_plain_number(s: &str) -> bool {
    fn digits(s: &str) -> (&str, bool) {
        let rest = s.trim_start_matches(|c: char| c.is_ascii_digit());
        (rest, rest.len() < s.len())
    }
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mut rest, mut any) = digits(s);
    if let Some(fraction) = rest.strip_prefix('.') {
        let (r, some) = digits(fraction);
        rest = r;
        any |= some;
    }
    if !any {
        return false;
    }
    if let Some(exponent) = rest.strip_prefix(['e', 'E']) {
        let (r, some) = digits(exponent.strip_prefix(['+', '-']).unwrap_or(exponent));
        if !some {
            return false;
        }
        rest = r;
    }
    rest.is_empty()
}

fn cell(
    source: &Source,
    definition: &SurveyDefinition,
    metadata: &ResponseMetadata,
    data: &ResponseData,
) -> String {
    let answer = |q: &Question| data.answers.get(&q.id);
    match source {
        Source::Metadata(key) => match *key {
            "Status" => match metadata.distribution_channel {
                DistributionChannel::Preview => "1".into(),
                _ => "0".into(),
            },
            "Duration (in seconds)" => metadata.duration_seconds.to_string(),
            "ResponseId" => metadata.response_id.clone(),
            "UserLanguage" => definition.language.clone(),
            other => metadata.field(other).unwrap_or_default(),
        },
        Source::Embedded(name) => data.embedded_data.get(*name).cloned().unwrap_or_default(),
        Source::Choice(q) => match (answer(q), &q.kind) {
            (
                Some(Answer::Choices { selected, .. }),
                QuestionKind::MultipleChoice { choices, .. },
            ) => choices
                .iter()
                .filter(|c| selected.contains(&c.id))
                .map(|c| c.recode_value().to_string())
                .collect::<Vec<_>>()
                .join(","),
            _ => String::new(),
        },
        Source::ChoiceText(q, choice) => match answer(q) {
            Some(Answer::Choices { text, .. }) => text.get(*choice).cloned().unwrap_or_default(),
            _ => String::new(),
        },
        Source::NpsGroup(q) => match answer(q) {
            // Qualtrics' NPS group codes: 1 detractor (0–6), 2 passive (7–8), 3 promoter (9–10).
            Some(Answer::Number(n)) => match *n {
                n if n <= 6.0 => "1".into(),
                n if n <= 8.0 => "2".into(),
                _ => "3".into(),
            },
            _ => String::new(),
        },
        Source::Value(q) => match answer(q) {
            None => String::new(),
            Some(Answer::Text(t)) => t.clone(),
            Some(Answer::Number(n)) => format_number(*n),
            // Only unsupported questions can hold other shapes here; keep them readable.
            Some(other) => serde_json::to_string(other).unwrap_or_default(),
        },
        Source::Statement(q, statement) => match (answer(q), &q.kind) {
            (Some(Answer::Matrix { rows }), QuestionKind::Matrix { scale, .. }) => rows
                .get(*statement)
                .map(|id| {
                    scale
                        .iter()
                        .find(|c| c.id == *id)
                        .map_or(id.clone(), |c| c.recode_value().to_string())
                })
                .unwrap_or_default(),
            (Some(Answer::Slider { values }), _) => values
                .get(*statement)
                .map(|v| format_number(*v))
                .unwrap_or_default(),
            _ => String::new(),
        },
        Source::PageSeconds(q) => match answer(q) {
            Some(Answer::Timing { page_seconds }) => format_number(*page_seconds),
            _ => String::new(),
        },
    }
}

/// A whole CSV document: the key row, the label row, then one row per response.
pub fn csv_document<'a>(
    definition: &SurveyDefinition,
    responses: impl IntoIterator<Item = (&'a ResponseMetadata, &'a ResponseData)>,
) -> String {
    let mut out = String::new();
    for header in csv_header_rows(definition) {
        push_csv_line(&mut out, header.iter().map(String::as_str));
    }
    for (metadata, data) in responses {
        let row = csv_row(definition, metadata, data);
        push_csv_line(&mut out, row.iter().map(String::as_str));
    }
    out
}

fn push_csv_line<'a>(out: &mut String, cells: impl Iterator<Item = &'a str>) {
    let mut first = true;
    for cell in cells {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&csv_escape(cell));
    }
    out.push_str("\r\n");
}

/// RFC 4180 quoting (cells from [`csv_row`] and [`csv_header_rows`] are already guarded).
pub fn csv_escape(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

/// One cell as a person reads it (the admin UI's tables), beside its export column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadableCell {
    pub column: Column,
    /// An embedded data field rather than (part of) an answer.
    pub embedded: bool,
    pub value: String,
}

/// The export's answer and embedded data columns (its metadata aside) with what a person reads
/// in them: choice and scale texts instead of recodes, NPS groups by name, several choices
/// joined with "; ".
pub fn readable_cells(definition: &SurveyDefinition, data: &ResponseData) -> Vec<ReadableCell> {
    let metadata = ResponseMetadata::default();
    layout(definition)
        .into_iter()
        .filter(|(_, source)| !matches!(source, Source::Metadata(_)))
        .map(|(column, source)| {
            let value = match &source {
                Source::NpsGroup(_) => match cell(&source, definition, &metadata, data).as_str() {
                    "1" => "Detractor".to_string(),
                    "2" => "Passive".into(),
                    "3" => "Promoter".into(),
                    _ => String::new(),
                },
                _ => choice_label(&source, data, "; ")
                    .unwrap_or_else(|| cell(&source, definition, &metadata, data)),
            };
            ReadableCell {
                column,
                embedded: matches!(source, Source::Embedded(_)),
                value,
            }
        })
        .collect()
}

/// The JSON export of one response: metadata, embedded data, the answers as the API takes
/// them, and `values`/`labels` keyed like the CSV columns (labels hold choice texts).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ExportedResponse {
    pub response_id: String,
    pub start_date: String,
    pub end_date: Option<String>,
    pub recorded_date: Option<String>,
    pub progress: u8,
    pub duration_seconds: u64,
    pub finished: bool,
    pub distribution_channel: DistributionChannel,
    pub embedded_data: BTreeMap<String, String>,
    pub answers: BTreeMap<String, Answer>,
    /// By CSV column key: the answer as the CSV shows it (choice recodes, numbers, text).
    pub values: BTreeMap<String, String>,
    /// By CSV column key, for choice and matrix columns: the chosen choices' texts.
    pub labels: BTreeMap<String, String>,
}

pub fn exported_response(
    definition: &SurveyDefinition,
    metadata: &ResponseMetadata,
    data: &ResponseData,
) -> ExportedResponse {
    let mut values = BTreeMap::new();
    let mut labels = BTreeMap::new();
    for (column, source) in layout(definition) {
        if matches!(source, Source::Metadata(_) | Source::Embedded(_)) {
            continue;
        }
        let value = cell(&source, definition, metadata, data);
        if value.is_empty() {
            continue;
        }
        if let Some(label) = choice_label(&source, data, ",") {
            labels.insert(column.key.clone(), label);
        }
        values.insert(column.key, value);
    }
    ExportedResponse {
        response_id: metadata.response_id.clone(),
        start_date: metadata.start_date.clone(),
        end_date: metadata.end_date.clone(),
        recorded_date: metadata.recorded_date.clone(),
        progress: metadata.progress,
        duration_seconds: metadata.duration_seconds,
        finished: metadata.finished,
        distribution_channel: metadata.distribution_channel,
        embedded_data: data.embedded_data.clone(),
        answers: data.answers.clone(),
        values,
        labels,
    }
}

/// [`exported_response`] as JSON.
pub fn json_value(
    definition: &SurveyDefinition,
    metadata: &ResponseMetadata,
    data: &ResponseData,
) -> Value {
    // Strings, numbers and maps with string keys: serialising cannot fail.
    serde_json::to_value(exported_response(definition, metadata, data)).unwrap_or_default()
}

/// The texts of the chosen choices (joined with `separator`) or scale point.
fn choice_label(source: &Source, data: &ResponseData, separator: &str) -> Option<String> {
    match source {
        Source::Choice(q) => {
            let QuestionKind::MultipleChoice { choices, .. } = &q.kind else {
                return None;
            };
            let Some(Answer::Choices { selected, .. }) = data.answers.get(&q.id) else {
                return None;
            };
            Some(
                choices
                    .iter()
                    .filter(|c| selected.contains(&c.id))
                    .map(|c| to_plain(&c.text))
                    .collect::<Vec<_>>()
                    .join(separator),
            )
        }
        Source::Statement(q, statement) => {
            let QuestionKind::Matrix { scale, .. } = &q.kind else {
                return None;
            };
            let Some(Answer::Matrix { rows }) = data.answers.get(&q.id) else {
                return None;
            };
            let id = rows.get(*statement)?;
            scale
                .iter()
                .find(|c| c.id == *id)
                .map(|c| to_plain(&c.text))
        }
        _ => None,
    }
}
