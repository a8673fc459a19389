//! The HTML form contract between a rendered page and its submission: field names per
//! question type, and turning submitted fields into answers and respondent-facing errors.
//!
//! Field names (question `QID1`):
//! - multiple choice: `QID1`, value = choice id; a multiple-answer question repeats the name
//!   once per checked box. Text typed beside a choice: `QID1_{choiceId}_TEXT`.
//! - NPS and text entry: `QID1` (NPS value `0`..`10`).
//! - matrix: `QID1_{statementId}`, value = scale choice id.
//! - slider: `QID1_{statementId}`, value = the number.
//! - timing: `QID1_PAGE_SECONDS`, seconds on the page (set by the server, not typed).
//! - descriptive and unsupported questions have no fields.
//!
//! Text typed beside a choice selects that choice when nothing else is selected (single
//! answer) or adds it (multiple answer): people type "Other: ..." and forget the button.

use crate::definition::{Question, QuestionKind, SurveyDefinition};
use crate::response::Answer;
use crate::validate;
use std::collections::BTreeMap;

/// Which field of a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldPart<'a> {
    /// The question's main field: choice ids, the text typed, the NPS score.
    Answer,
    /// Text beside a choice (`QID1_4_TEXT`).
    ChoiceText(&'a str),
    /// A matrix or slider statement (`QID1_2`).
    Statement(&'a str),
    /// Seconds on the page for a timing question.
    PageSeconds,
}

pub fn field_name(question_id: &str, part: FieldPart) -> String {
    match part {
        FieldPart::Answer => question_id.to_string(),
        FieldPart::ChoiceText(choice) => format!("{question_id}_{choice}_TEXT"),
        FieldPart::Statement(statement) => format!("{question_id}_{statement}"),
        FieldPart::PageSeconds => format!("{question_id}_PAGE_SECONDS"),
    }
}

/// One page's submission, parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageSubmission {
    /// Valid answers, kept even when other questions on the page have errors.
    pub answers: BTreeMap<String, Answer>,
    /// Question id → message shown next to the question.
    pub errors: BTreeMap<String, String>,
    /// For questions with errors: field name → the text as typed, to show it again.
    pub raw: BTreeMap<String, String>,
    /// For questions with errors: what could be read (a partly answered matrix, the choices
    /// picked), so the re-rendered page keeps it.
    pub partial: BTreeMap<String, Answer>,
}

impl PageSubmission {
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Reads the fields of `questions` (a page's question ids) from a submitted form.
pub fn parse_page(
    definition: &SurveyDefinition,
    questions: &[String],
    form: &[(String, String)],
) -> PageSubmission {
    let mut submission = PageSubmission::default();
    for id in questions {
        let Some(question) = definition.question(id) else {
            continue;
        };
        let parsed = parse_question(question, form);
        let error = parsed.error.or_else(|| match &parsed.answer {
            Some(answer) => validate::check_answer(question, answer).err(),
            None => None,
        });
        let error = error.or_else(|| validate::missing_answer(question, parsed.answer.as_ref()));
        match error {
            None => {
                if let Some(answer) = parsed.answer {
                    submission.answers.insert(id.clone(), answer);
                }
            }
            Some(message) => {
                submission.errors.insert(id.clone(), message);
                submission.raw.extend(parsed.raw);
                if let Some(answer) = parsed.answer {
                    submission.partial.insert(id.clone(), answer);
                }
            }
        }
    }
    submission
}

struct Parsed {
    answer: Option<Answer>,
    /// A problem found while reading (an unparsable number); type checks come later.
    error: Option<String>,
    raw: BTreeMap<String, String>,
}

fn values<'f>(form: &'f [(String, String)], name: &str) -> Vec<&'f str> {
    form.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The first non-blank value of a field.
fn value<'f>(form: &'f [(String, String)], name: &str) -> Option<&'f str> {
    values(form, name)
        .into_iter()
        .find(|v| !v.trim().is_empty())
}

fn parse_question(question: &Question, form: &[(String, String)]) -> Parsed {
    let id = question.id.as_str();
    let mut raw = BTreeMap::new();
    let mut error = None;
    let answer = match &question.kind {
        QuestionKind::MultipleChoice { multiple, choices } => {
            let mut selected: Vec<String> = Vec::new();
            for v in values(form, &field_name(id, FieldPart::Answer)) {
                let v = v.trim();
                if !v.is_empty() && !selected.iter().any(|s| s == v) {
                    selected.push(v.to_string());
                }
            }
            let mut text = BTreeMap::new();
            for choice in choices.iter().filter(|c| c.text_entry) {
                let name = field_name(id, FieldPart::ChoiceText(&choice.id));
                let Some(typed) = value(form, &name) else {
                    continue;
                };
                raw.insert(name, typed.to_string());
                if !selected.contains(&choice.id) && (*multiple || selected.is_empty()) {
                    selected.push(choice.id.clone());
                }
                if selected.contains(&choice.id) {
                    text.insert(choice.id.clone(), typed.trim().to_string());
                }
            }
            // Keep the authored order, whatever order the browser sent.
            selected.sort_by_key(|s| {
                choices
                    .iter()
                    .position(|c| c.id == *s)
                    .unwrap_or(usize::MAX)
            });
            (!selected.is_empty()).then_some(Answer::Choices { selected, text })
        }
        QuestionKind::Nps { .. } => {
            let name = field_name(id, FieldPart::Answer);
            value(form, &name).map(|v| {
                raw.insert(name, v.to_string());
                match validate::parse_number(v) {
                    Some(n) => Answer::Number(n),
                    None => {
                        error = Some("Please choose a score from 0 to 10.".into());
                        Answer::Text(v.to_string())
                    }
                }
            })
        }
        QuestionKind::TextEntry { .. } => {
            let name = field_name(id, FieldPart::Answer);
            value(form, &name).map(|v| {
                raw.insert(name, v.to_string());
                Answer::Text(v.to_string())
            })
        }
        QuestionKind::Matrix { statements, .. } => {
            let rows: BTreeMap<String, String> = statements
                .iter()
                .filter_map(|s| {
                    let v = value(form, &field_name(id, FieldPart::Statement(&s.id)))?;
                    Some((s.id.clone(), v.trim().to_string()))
                })
                .collect();
            (!rows.is_empty()).then_some(Answer::Matrix { rows })
        }
        QuestionKind::Slider { statements, .. } => {
            let mut values = BTreeMap::new();
            for s in statements {
                let name = field_name(id, FieldPart::Statement(&s.id));
                let Some(v) = value(form, &name) else {
                    continue;
                };
                raw.insert(name, v.to_string());
                match validate::parse_number(v) {
                    Some(n) => {
                        values.insert(s.id.clone(), n);
                    }
                    None => error = Some("Please enter a number.".into()),
                }
            }
            (!values.is_empty()).then_some(Answer::Slider { values })
        }
        QuestionKind::Timing { .. } => value(form, &field_name(id, FieldPart::PageSeconds))
            .and_then(validate::parse_number)
            .filter(|s| *s >= 0.0)
            .map(|page_seconds| Answer::Timing { page_seconds }),
        QuestionKind::Descriptive | QuestionKind::Unsupported { .. } => None,
    };
    Parsed { answer, error, raw }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_follow_the_contract() {
        assert_eq!(field_name("QID1", FieldPart::Answer), "QID1");
        assert_eq!(
            field_name("QID1", FieldPart::ChoiceText("4")),
            "QID1_4_TEXT"
        );
        assert_eq!(field_name("QID5", FieldPart::Statement("2")), "QID5_2");
        assert_eq!(
            field_name("QID9", FieldPart::PageSeconds),
            "QID9_PAGE_SECONDS"
        );
    }
}
