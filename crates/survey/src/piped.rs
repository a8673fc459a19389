//! Piped text: `${scheme://...}` placeholders replaced with answers, embedded data, contact
//! fields, links and response metadata. One engine for pages, end messages, emails and SMS.
//!
//! Supported placeholders (Qualtrics spellings):
//! - `${e://Field/Name}` embedded data; falls back to response metadata (`ResponseID`,
//!   `StartDate`, ...) and then to the contact's fields (`RecipientFirstName` means `FirstName`).
//! - `${q://QID1/ChoiceGroup/SelectedChoices}`, `.../ChoiceGroup/SelectedChoicesTextEntry`,
//!   `.../ChoiceGroup/UnselectedChoices`, `.../ChoiceGroup/AllChoices`,
//!   `${q://QID1/SelectedChoicesRecode}`, `${q://QID1/ChoiceTextEntryValue}` (text entry and
//!   NPS) and `.../ChoiceTextEntryValue/4` (text beside choice 4),
//!   `${q://QID1/ChoiceNumericEntryValue/1}` (slider statement 1),
//!   `${q://QID1/ChoiceGroup/SelectedAnswers/1}` and `${q://QID1/SelectedAnswerRecode/1}`
//!   (matrix statement 1), `${q://QID1/QuestionText}`.
//! - `${m://FirstName}`, `LastName`, `Email`, `PhoneNumber`, `Language`,
//!   `ExternalDataReference`, and `${m://Field/Name}` for contact embedded data.
//! - `${l://SurveyURL}`, `${l://OptOutURL}`, `${l://SurveyLink?d=Take the survey}` and
//!   `${l://OptOutLink?d=Unsubscribe}` (a link with that text in HTML, the URL in plain text);
//!   `${l://SurveyLink}` without `?d=` is a link whose text is the URL.
//! - `${rm://ResponseID}` or `${rm://Field/ResponseID}` for response metadata.
//! - `${sf://Field}`: a field of the Salesforce record whose notification fired a workflow
//!   (`${sf://Id}`, `${sf://ContactId}`, `${sf://Account.Name}` as sent).
//!
//! Anything else renders empty and is reported by [`lint`]; nothing here panics.

use crate::condition::format_number;
use crate::definition::{QuestionKind, SurveyDefinition};
use crate::html;
use crate::response::{Answer, ResponseData, ResponseMetadata, METADATA_FIELDS};
use std::collections::BTreeMap;

/// No Salesforce record: what every context but a notification's has.
pub static NO_RECORD: BTreeMap<String, String> = BTreeMap::new();

/// Everything a placeholder may read.
pub struct PipeContext<'a> {
    pub definition: &'a SurveyDefinition,
    pub data: &'a ResponseData,
    pub metadata: Option<&'a ResponseMetadata>,
    /// FirstName, LastName, Email, PhoneNumber, Language, ExternalDataReference, plus the
    /// contact's embedded data.
    pub contact: &'a BTreeMap<String, String>,
    /// SurveyURL, OptOutURL, ...
    pub links: &'a BTreeMap<String, String>,
    /// The Salesforce record a notification carried, by field name (`${sf://...}`); empty
    /// where there is none.
    pub record: &'a BTreeMap<String, String>,
}

impl<'a> PipeContext<'a> {
    /// A context with no metadata, contact or links yet (a response in progress on an
    /// anonymous link).
    pub fn new(definition: &'a SurveyDefinition, data: &'a ResponseData) -> Self {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        PipeContext {
            definition,
            data,
            metadata: None,
            contact: &EMPTY,
            links: &EMPTY,
            record: &EMPTY,
        }
    }
}

/// An authoring problem in piped text. `offset` is in bytes; `line` and `column` count from 1
/// (column in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipeIssue {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for PipeIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Contact fields `${m://...}` knows by name.
pub const CONTACT_FIELDS: &[&str] = &[
    "FirstName",
    "LastName",
    "Email",
    "PhoneNumber",
    "Language",
    "ExternalDataReference",
];

/// Link names `${l://...}` knows.
pub const LINK_NAMES: &[&str] = &[
    "SurveyURL",
    "SurveyLink",
    "OptOutURL",
    "OptOutLink",
    "MessageURL",
    "MessageLink",
];

/// Replaces placeholders with plain-text values.
pub fn render(text: &str, ctx: &PipeContext) -> String {
    let mut out = String::with_capacity(text.len());
    for token in tokenize(text) {
        match token {
            Token::Text(t) => out.push_str(t),
            Token::Pipe { inner, .. } => {
                if let Ok(reference) = parse(inner) {
                    out.push_str(&value(&reference, ctx));
                }
            }
            Token::Unterminated { .. } => {}
        }
    }
    out
}

/// Replaces placeholders in authored HTML: substituted values are escaped, the authored text
/// around them is left as is (sanitize it first with [`html::sanitize`]).
pub fn render_html(text: &str, ctx: &PipeContext) -> String {
    let mut out = String::with_capacity(text.len());
    for token in tokenize(text) {
        match token {
            Token::Text(t) => out.push_str(t),
            Token::Pipe { inner, .. } => match parse(inner) {
                // `SurveyLink` and friends are links even without `?d=`: the URL is the text,
                // which reads the same in every language an invitation is written in.
                Ok(Ref::Link { name, display }) if display.is_some() || name.ends_with("Link") => {
                    let url = link_url(name, ctx);
                    let display = display.unwrap_or(&url);
                    if url.is_empty() {
                        out.push_str(&html::escape(display));
                    } else if is_web_url(&url) {
                        out.push_str(&format!(
                            "<a href=\"{}\">{}</a>",
                            html::escape(&url),
                            html::escape(display)
                        ));
                    }
                }
                Ok(reference) => out.push_str(&html::escape(&value(&reference, ctx))),
                Err(_) => {}
            },
            Token::Unterminated { .. } => {}
        }
    }
    out
}

/// Authored HTML as respondents should see it: sanitized first (see [`html::sanitize`]),
/// then piped with escaped values. Use this for question, choice and end-message text.
pub fn render_safe_html(text: &str, ctx: &PipeContext) -> String {
    render_html(&html::sanitize(text), ctx)
}

fn is_web_url(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// What one placeholder reads, to judge how far a rendered value can be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PipeSource {
    /// `${e://Field/Name}`: embedded data (falling back to response metadata and then to the
    /// contact's fields when the response has no such field).
    EmbeddedData(String),
    /// `${q://QID…/…}`: what the respondent answered to that question.
    Answer(String),
    /// Text the survey's author wrote: a question's text, its choices.
    Authored,
    /// `${m://…}`: the contact's record in Sonde's directory.
    Contact,
    /// `${l://…}`: a link Sonde makes.
    Link,
    /// `${rm://…}`: response metadata Sonde records.
    Metadata,
    /// `${sf://…}`: a field of the Salesforce record a linked org sent.
    SalesforceRecord,
    /// A placeholder that renders empty (unknown or unsupported).
    Nothing,
}

/// Every placeholder in `text`, in order, by what it reads.
pub fn sources(text: &str) -> Vec<PipeSource> {
    tokenize(text)
        .into_iter()
        .filter_map(|token| match token {
            Token::Pipe { inner, .. } => Some(match parse(inner) {
                Ok(Ref::Embedded(name)) => PipeSource::EmbeddedData(name.to_string()),
                Ok(Ref::Question {
                    field: QuestionField::QuestionText | QuestionField::AllChoices,
                    ..
                }) => PipeSource::Authored,
                Ok(Ref::Question { id, .. }) => PipeSource::Answer(id.to_string()),
                Ok(Ref::Contact(_) | Ref::ContactField(_)) => PipeSource::Contact,
                Ok(Ref::Link { .. }) => PipeSource::Link,
                Ok(Ref::Metadata(_)) => PipeSource::Metadata,
                Ok(Ref::Record(_)) => PipeSource::SalesforceRecord,
                Err(_) => PipeSource::Nothing,
            }),
            _ => None,
        })
        .collect()
}

/// Authoring-time problems: unterminated `${`, unknown schemes and fields.
pub fn lint(text: &str) -> Vec<PipeIssue> {
    lint_with(text, None)
}

/// Like [`lint`], and with a definition also unknown question ids, choice ids and undeclared
/// embedded data fields.
pub fn lint_with(text: &str, definition: Option<&SurveyDefinition>) -> Vec<PipeIssue> {
    let mut issues = Vec::new();
    for token in tokenize(text) {
        let (offset, message) = match token {
            Token::Text(_) => continue,
            Token::Unterminated { offset } => (
                offset,
                "unterminated piped text `${` (missing `}`)".to_string(),
            ),
            Token::Pipe { offset, inner } => match parse(inner) {
                Err(message) => (offset, message),
                Ok(reference) => match definition.and_then(|d| check_reference(&reference, d)) {
                    Some(message) => (offset, message),
                    None => continue,
                },
            },
        };
        let (line, column) = line_column(text, offset);
        issues.push(PipeIssue {
            offset,
            line,
            column,
            message,
        });
    }
    issues
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

pub(crate) enum Token<'a> {
    Text(&'a str),
    /// `inner` is what lies between `${` and `}`.
    Pipe {
        offset: usize,
        inner: &'a str,
    },
    Unterminated {
        offset: usize,
    },
}

/// Splits text into literal runs and placeholders. A placeholder ends at the first `}`; a
/// newline, `<` or another `${` before it means the `${` was never closed, and then the
/// placeholder-looking run after it is dropped but the following text kept.
pub(crate) fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut rest_start = 0;
    while let Some(found) = text[rest_start..].find("${") {
        let start = rest_start + found;
        if start > rest_start {
            tokens.push(Token::Text(&text[rest_start..start]));
        }
        let body_start = start + 2;
        let body = &text[body_start..];
        let mut end = None;
        let mut stop = body.len();
        for (i, c) in body.char_indices() {
            match c {
                '}' => {
                    end = Some(i);
                    break;
                }
                '\n' | '<' => {
                    stop = i;
                    break;
                }
                '$' if body[i..].starts_with("${") => {
                    stop = i;
                    break;
                }
                _ => {}
            }
        }
        match end {
            Some(i) => {
                tokens.push(Token::Pipe {
                    offset: start,
                    inner: &body[..i],
                });
                rest_start = body_start + i + 1;
            }
            None => {
                tokens.push(Token::Unterminated { offset: start });
                // Drop only the run that looks like a placeholder, keep prose after it.
                let run = body[..stop].find(char::is_whitespace).unwrap_or(stop);
                rest_start = body_start + run;
            }
        }
    }
    if rest_start < text.len() {
        tokens.push(Token::Text(&text[rest_start..]));
    }
    tokens
}

#[derive(Debug, PartialEq)]
pub(crate) enum Ref<'a> {
    Embedded(&'a str),
    Question {
        id: &'a str,
        field: QuestionField<'a>,
    },
    Contact(&'a str),
    ContactField(&'a str),
    Link {
        name: &'a str,
        display: Option<&'a str>,
    },
    Metadata(&'a str),
    /// `${sf://Name}`: a field of the notification's record.
    Record(&'a str),
}

#[derive(Debug, PartialEq)]
pub(crate) enum QuestionField<'a> {
    SelectedChoices,
    SelectedChoicesTextEntry,
    UnselectedChoices,
    AllChoices,
    SelectedChoicesRecode,
    TextEntry(Option<&'a str>),
    NumericEntry(Option<&'a str>),
    SelectedAnswer(&'a str),
    SelectedAnswerRecode(&'a str),
    QuestionText,
}

pub(crate) fn parse(inner: &str) -> Result<Ref<'_>, String> {
    let shown = || format!("${{{inner}}}");
    let Some((scheme, rest)) = inner.split_once("://") else {
        return Err(format!(
            "malformed piped text {} (expected scheme://...)",
            shown()
        ));
    };
    match scheme {
        "e" => match rest.strip_prefix("Field/") {
            Some(name) if !name.is_empty() => Ok(Ref::Embedded(name)),
            _ => Err(format!("unknown piped text field {}", shown())),
        },
        "q" => {
            let mut parts = rest.split('/');
            let id = parts.next().unwrap_or("");
            if id.is_empty() {
                return Err(format!("missing question id in {}", shown()));
            }
            let parts: Vec<&str> = parts.collect();
            let field = match parts.as_slice() {
                ["ChoiceGroup", "SelectedChoices"] => QuestionField::SelectedChoices,
                ["ChoiceGroup", "SelectedChoicesTextEntry"] => {
                    QuestionField::SelectedChoicesTextEntry
                }
                ["ChoiceGroup", "UnselectedChoices"] => QuestionField::UnselectedChoices,
                ["ChoiceGroup", "AllChoices"] => QuestionField::AllChoices,
                ["SelectedChoicesRecode"] => QuestionField::SelectedChoicesRecode,
                ["ChoiceTextEntryValue"] => QuestionField::TextEntry(None),
                ["ChoiceTextEntryValue", c] => QuestionField::TextEntry(Some(c)),
                ["ChoiceNumericEntryValue"] => QuestionField::NumericEntry(None),
                ["ChoiceNumericEntryValue", s] => QuestionField::NumericEntry(Some(s)),
                ["ChoiceGroup", "SelectedAnswers", s] => QuestionField::SelectedAnswer(s),
                ["SelectedAnswerRecode", s] => QuestionField::SelectedAnswerRecode(s),
                ["QuestionText"] => QuestionField::QuestionText,
                _ => return Err(format!("unknown piped text field {}", shown())),
            };
            Ok(Ref::Question { id, field })
        }
        "m" => match rest.strip_prefix("Field/") {
            Some(name) if !name.is_empty() => Ok(Ref::ContactField(name)),
            Some(_) => Err(format!("unknown piped text field {}", shown())),
            None if CONTACT_FIELDS.contains(&rest) => Ok(Ref::Contact(rest)),
            None => Err(format!("unknown contact field {}", shown())),
        },
        "l" => {
            let (name, query) = match rest.split_once('?') {
                Some((n, q)) => (n, Some(q)),
                None => (rest, None),
            };
            if !LINK_NAMES.contains(&name) {
                return Err(format!("unknown link {}", shown()));
            }
            let display = query.and_then(|q| q.strip_prefix("d="));
            Ok(Ref::Link { name, display })
        }
        "rm" => {
            let name = rest.strip_prefix("Field/").unwrap_or(rest);
            if METADATA_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(name)) {
                Ok(Ref::Metadata(name))
            } else {
                Err(format!("unknown response metadata field {}", shown()))
            }
        }
        "sf" if is_field_path(rest) => Ok(Ref::Record(rest)),
        "sf" => Err(format!(
            "{} does not name a field of the Salesforce record (e.g. ${{sf://Email}})",
            shown()
        )),
        "date" | "gr" | "rand" | "sc" | "loop" | "lm" | "dt" => Err(format!(
            "piped text {} is not supported by Sonde and renders empty",
            shown()
        )),
        _ => Err(format!(
            "unknown piped text scheme `{scheme}` in {}",
            shown()
        )),
    }
}

/// A definition-level check for a reference that parsed.
fn check_reference(reference: &Ref, definition: &SurveyDefinition) -> Option<String> {
    match reference {
        Ref::Question { id, field } => {
            let Some(question) = definition.question(id) else {
                return Some(format!("unknown question {id} in piped text"));
            };
            if let QuestionField::TextEntry(Some(choice)) = field {
                if question.choice(choice).is_none() {
                    return Some(format!("question {id} has no choice {choice}"));
                }
            }
            None
        }
        Ref::Embedded(name) => {
            let declared = crate::flow::declared_embedded_fields(definition)
                .iter()
                .any(|f| f.name == *name);
            if declared || is_metadata(name) || recipient_field(name).is_some() {
                None
            } else {
                Some(format!(
                    "embedded data field {name} is not declared in the survey flow"
                ))
            }
        }
        _ => None,
    }
}

/// A field name as Salesforce sends it, possibly through relationships (`Account.Name`).
fn is_field_path(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

pub(crate) fn is_metadata(name: &str) -> bool {
    METADATA_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// Qualtrics exposes panel fields as `${e://Field/RecipientFirstName}` and friends.
pub(crate) fn recipient_field(name: &str) -> Option<&'static str> {
    Some(match name {
        "RecipientFirstName" => "FirstName",
        "RecipientLastName" => "LastName",
        "RecipientEmail" => "Email",
        "RecipientPhoneNumber" => "PhoneNumber",
        "ExternalDataReference" => "ExternalDataReference",
        _ => return None,
    })
}

fn value(reference: &Ref, ctx: &PipeContext) -> String {
    match reference {
        Ref::Embedded(name) => {
            if let Some(v) = ctx.data.embedded_data.get(*name) {
                return v.clone();
            }
            if let Some(v) = ctx.metadata.and_then(|m| m.field(name)) {
                return v;
            }
            let contact_name = recipient_field(name).unwrap_or(name);
            ctx.contact.get(contact_name).cloned().unwrap_or_default()
        }
        Ref::Contact(name) | Ref::ContactField(name) => {
            ctx.contact.get(*name).cloned().unwrap_or_default()
        }
        Ref::Link { name, .. } => link_url(name, ctx),
        Ref::Metadata(name) => ctx.metadata.and_then(|m| m.field(name)).unwrap_or_default(),
        Ref::Record(name) => record_value(ctx.record, name),
        Ref::Question { id, field } => question_value(id, field, ctx),
    }
}

/// Salesforce field names are case-insensitive; the exact spelling is found first.
fn record_value(record: &BTreeMap<String, String>, name: &str) -> String {
    record
        .get(name)
        .or_else(|| {
            record
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
        .cloned()
        .unwrap_or_default()
}

/// `SurveyLink` is the `SurveyURL` shown as a link, and so on.
fn link_url(name: &str, ctx: &PipeContext) -> String {
    if let Some(url) = ctx.links.get(name) {
        return url.clone();
    }
    let url_name = name.strip_suffix("Link").map(|base| format!("{base}URL"));
    url_name
        .and_then(|n| ctx.links.get(&n).cloned())
        .unwrap_or_default()
}

fn question_value(id: &str, field: &QuestionField, ctx: &PipeContext) -> String {
    let Some(question) = ctx.definition.question(id) else {
        return String::new();
    };
    if *field == QuestionField::QuestionText {
        return html::to_plain(&question.text);
    }
    let answer = ctx.data.answers.get(id);
    let join = |items: Vec<String>| items.join(", ");
    match (&question.kind, answer, field) {
        (QuestionKind::MultipleChoice { choices, .. }, _, QuestionField::AllChoices) => {
            join(choices.iter().map(|c| html::to_plain(&c.text)).collect())
        }
        (
            QuestionKind::MultipleChoice { choices, .. },
            Some(Answer::Choices { selected, text }),
            field,
        ) => {
            let picked = || choices.iter().filter(|c| selected.contains(&c.id));
            match field {
                QuestionField::SelectedChoices => {
                    join(picked().map(|c| html::to_plain(&c.text)).collect())
                }
                // Qualtrics shows the typed text in place of an "Other" choice's label.
                QuestionField::SelectedChoicesTextEntry => join(
                    picked()
                        .map(|c| match text.get(&c.id) {
                            Some(t) if !t.is_empty() => t.clone(),
                            _ => html::to_plain(&c.text),
                        })
                        .collect(),
                ),
                QuestionField::UnselectedChoices => join(
                    choices
                        .iter()
                        .filter(|c| !selected.contains(&c.id))
                        .map(|c| html::to_plain(&c.text))
                        .collect(),
                ),
                QuestionField::SelectedChoicesRecode => {
                    join(picked().map(|c| c.recode_value().to_string()).collect())
                }
                QuestionField::TextEntry(Some(choice)) => {
                    text.get(*choice).cloned().unwrap_or_default()
                }
                QuestionField::TextEntry(None) => join(
                    picked()
                        .filter_map(|c| text.get(&c.id).cloned())
                        .filter(|t| !t.is_empty())
                        .collect(),
                ),
                _ => String::new(),
            }
        }
        (QuestionKind::MultipleChoice { choices, .. }, None, QuestionField::UnselectedChoices) => {
            join(choices.iter().map(|c| html::to_plain(&c.text)).collect())
        }
        (
            _,
            Some(Answer::Number(n)),
            QuestionField::SelectedChoices
            | QuestionField::SelectedChoicesRecode
            | QuestionField::SelectedChoicesTextEntry
            | QuestionField::TextEntry(None),
        ) => format_number(*n),
        (
            _,
            Some(Answer::Text(t)),
            QuestionField::TextEntry(None)
            | QuestionField::SelectedChoices
            | QuestionField::SelectedChoicesTextEntry,
        ) => t.clone(),
        (_, Some(Answer::Slider { values }), field) => match field {
            QuestionField::NumericEntry(Some(s)) => values
                .get(*s)
                .map(|v| format_number(*v))
                .unwrap_or_default(),
            QuestionField::NumericEntry(None) | QuestionField::SelectedChoices => {
                join(values.values().map(|v| format_number(*v)).collect())
            }
            _ => String::new(),
        },
        (QuestionKind::Matrix { scale, .. }, Some(Answer::Matrix { rows }), field) => {
            let scale_of = |statement: &str| {
                rows.get(statement)
                    .and_then(|id| scale.iter().find(|c| c.id == *id))
            };
            match field {
                QuestionField::SelectedAnswer(s) => scale_of(s)
                    .map(|c| html::to_plain(&c.text))
                    .unwrap_or_default(),
                QuestionField::SelectedAnswerRecode(s) => scale_of(s)
                    .map(|c| c.recode_value().to_string())
                    .unwrap_or_default(),
                _ => String::new(),
            }
        }
        (_, Some(Answer::Timing { page_seconds }), QuestionField::NumericEntry(None)) => {
            format_number(*page_seconds)
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_name_what_each_placeholder_reads() {
        assert_eq!(
            sources("Case ${e://Field/sfCaseId} for ${m://Email}, ${q://QID3/ChoiceTextEntryValue} ${q://QID3/QuestionText} ${rm://ResponseID} ${l://SurveyURL} ${x://y}"),
            vec![
                PipeSource::EmbeddedData("sfCaseId".into()),
                PipeSource::Contact,
                PipeSource::Answer("QID3".into()),
                PipeSource::Authored,
                PipeSource::Metadata,
                PipeSource::Link,
                PipeSource::Nothing,
            ]
        );
        assert!(sources("500000000000001").is_empty());
    }

    #[test]
    fn tokenizer_keeps_prose_after_an_unterminated_placeholder() {
        let tokens = tokenize("a ${e://Field/X b ${m://FirstName} c");
        assert!(matches!(tokens[0], Token::Text("a ")));
        assert!(matches!(tokens[1], Token::Unterminated { offset: 2 }));
        assert!(matches!(tokens[2], Token::Text(" b ")));
        assert!(matches!(
            tokens[3],
            Token::Pipe {
                inner: "m://FirstName",
                ..
            }
        ));
        assert!(matches!(tokens[4], Token::Text(" c")));
    }

    #[test]
    fn parse_spellings() {
        assert_eq!(parse("sf://ContactId"), Ok(Ref::Record("ContactId")));
        assert_eq!(parse("sf://Account.Name"), Ok(Ref::Record("Account.Name")));
        assert!(parse("sf://")
            .unwrap_err()
            .contains("does not name a field"));
        assert!(parse("sf://Bad Name").is_err());
        assert_eq!(parse("e://Field/OptOut"), Ok(Ref::Embedded("OptOut")));
        assert_eq!(
            parse("q://QID2/ChoiceTextEntryValue/4"),
            Ok(Ref::Question {
                id: "QID2",
                field: QuestionField::TextEntry(Some("4"))
            })
        );
        assert_eq!(
            parse("l://OptOutLink?d=Unsubscribe here"),
            Ok(Ref::Link {
                name: "OptOutLink",
                display: Some("Unsubscribe here")
            })
        );
        assert!(parse("x://Y")
            .unwrap_err()
            .contains("unknown piped text scheme"));
        assert!(parse("e://Y")
            .unwrap_err()
            .contains("unknown piped text field ${e://Y}"));
        assert!(parse("nothing").is_err());
    }
}
