//! What piped text and conditions can read in one survey, known before any response: which
//! placeholders the definition answers, and whether a value is a number, one of known texts,
//! a date or free text. Workflows are checked with this when they are saved.

use crate::definition::TextContent;
use crate::definition::{Choice, Condition, Operator, Question, QuestionKind, SurveyDefinition};
use crate::flow::declared_embedded_fields;
use crate::piped::{is_metadata, parse, recipient_field, tokenize, QuestionField, Ref, Token};
use crate::response::METADATA_FIELDS;

/// The shape of what a placeholder renders when it renders anything.
#[derive(Debug, Clone, PartialEq)]
pub enum PipedKind {
    /// A number (NPS, a slider, time on page, a numeric text entry, a number-only recode).
    Number,
    /// One of these texts (a single answer), or several joined by ", " (`multiple`).
    Choice { values: Vec<String>, multiple: bool },
    /// Several numbers joined by ", " (all sliders of a question).
    Numbers,
    /// A date and time, ISO 8601 (response metadata).
    DateTime,
    /// An email address.
    Email,
    /// Anything: typed text, link parameters, contact fields, or text around placeholders.
    Text,
}

impl PipedKind {
    /// How the kind reads in a message: "one of Agree, Disagree", "a date".
    pub fn describe(&self) -> String {
        match self {
            PipedKind::Number => "a number".into(),
            PipedKind::Choice {
                values,
                multiple: false,
            } => format!("one of {}", shortened(values)),
            PipedKind::Choice { multiple: true, .. } => {
                "the selected answers joined by commas".into()
            }
            PipedKind::Numbers => "several numbers joined by commas".into(),
            PipedKind::DateTime => "a date and time".into(),
            PipedKind::Email => "an email address".into(),
            PipedKind::Text => "text".into(),
        }
    }
}

fn shortened(values: &[String]) -> String {
    let mut shown: Vec<&str> = values.iter().take(4).map(String::as_str).collect();
    if values.len() > 4 {
        shown.push("…");
    }
    shown.join(", ")
}

/// What a piece of piped text gives for this survey.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PipedCheck {
    /// Placeholders that render nothing for this survey, each with why.
    pub problems: Vec<String>,
    /// What the whole text renders: None for text without placeholders (a constant) or when
    /// a placeholder is refused.
    pub kind: Option<PipedKind>,
}

/// Checks piped text against a definition: unknown questions, choices and statements, fields
/// a question type does not have, undeclared embedded data, unknown schemes; and what the text
/// renders. One placeholder alone keeps its kind; anything around it makes the whole text.
pub fn check_piped(text: &str, definition: &SurveyDefinition) -> PipedCheck {
    let mut check = PipedCheck::default();
    let mut kinds = Vec::new();
    let mut literal = false;
    for token in tokenize(text) {
        match token {
            Token::Text(t) => literal |= !t.trim().is_empty(),
            Token::Unterminated { .. } => check
                .problems
                .push("unterminated piped text `${` (missing `}`)".into()),
            Token::Pipe { inner, .. } => match parse(inner).and_then(|r| kind_of(&r, definition)) {
                Ok(kind) => kinds.push(kind),
                Err(message) => check.problems.push(message),
            },
        }
    }
    if check.problems.is_empty() && !kinds.is_empty() {
        check.kind = Some(if kinds.len() == 1 && !literal {
            kinds.remove(0)
        } else {
            PipedKind::Text
        });
    }
    check
}

fn texts(choices: &[Choice]) -> Vec<String> {
    choices
        .iter()
        .map(|c| crate::html::to_plain(&c.text))
        .collect()
}

fn recodes(choices: &[Choice]) -> Vec<String> {
    choices
        .iter()
        .map(|c| c.recode_value().to_string())
        .collect()
}

/// Values that are all numbers make a number when only one of them is given.
fn choice_kind(values: Vec<String>, multiple: bool) -> PipedKind {
    if !multiple && values.iter().all(|v| v.trim().parse::<f64>().is_ok()) {
        PipedKind::Number
    } else {
        PipedKind::Choice { values, multiple }
    }
}

fn type_name(kind: &QuestionKind) -> &'static str {
    match kind {
        QuestionKind::MultipleChoice { .. } => "multiple choice",
        QuestionKind::Nps { .. } => "Net Promoter Score",
        QuestionKind::TextEntry { .. } => "text entry",
        QuestionKind::Matrix { .. } => "matrix",
        QuestionKind::Slider { .. } => "slider",
        QuestionKind::Descriptive => "descriptive text",
        QuestionKind::Timing { .. } => "timing",
        QuestionKind::Unsupported { .. } => "unsupported",
    }
}

/// What to pipe instead, per question type.
fn suggestion(id: &str, kind: &QuestionKind) -> String {
    match kind {
        QuestionKind::MultipleChoice { .. } => format!(
            "use ${{q://{id}/ChoiceGroup/SelectedChoices}} or ${{q://{id}/SelectedChoicesRecode}}"
        ),
        QuestionKind::Nps { .. } => format!("use ${{q://{id}/ChoiceTextEntryValue}}"),
        QuestionKind::TextEntry { .. } => format!("use ${{q://{id}/ChoiceTextEntryValue}}"),
        QuestionKind::Matrix { .. } => format!(
            "use ${{q://{id}/ChoiceGroup/SelectedAnswers/<statement>}} or ${{q://{id}/SelectedAnswerRecode/<statement>}}"
        ),
        QuestionKind::Slider { .. } => {
            format!("use ${{q://{id}/ChoiceNumericEntryValue/<statement>}}")
        }
        QuestionKind::Timing { .. } => format!("use ${{q://{id}/ChoiceNumericEntryValue}}"),
        QuestionKind::Descriptive | QuestionKind::Unsupported { .. } => {
            "it records no answer".into()
        }
    }
}

fn statement<'q>(question: &'q Question, statements: &'q [Choice], s: &str) -> Result<(), String> {
    if statements.iter().any(|c| c.id == s) {
        Ok(())
    } else {
        Err(format!(
            "{} has no statement {s} (statements: {})",
            question.id,
            statements
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// What one reference renders for this survey, or why it renders nothing.
fn kind_of(reference: &Ref, definition: &SurveyDefinition) -> Result<PipedKind, String> {
    match reference {
        Ref::Embedded(name) => {
            if declared_embedded_fields(definition)
                .iter()
                .any(|f| f.name == *name)
                || recipient_field(name).is_some()
            {
                Ok(PipedKind::Text)
            } else if is_metadata(name) {
                Ok(metadata_kind(name))
            } else {
                Err(format!(
                    "embedded data field {name} is not declared in the survey flow"
                ))
            }
        }
        Ref::Metadata(name) => Ok(metadata_kind(name)),
        Ref::Contact("Email") => Ok(PipedKind::Email),
        // The record's types are the org's describe's to tell, not the survey's.
        Ref::Contact(_) | Ref::ContactField(_) | Ref::Link { .. } | Ref::Record(_) => {
            Ok(PipedKind::Text)
        }
        Ref::Question { id, field } => {
            let question = definition
                .question(id)
                .ok_or_else(|| format!("{id} is not a question of this survey"))?;
            question_kind(question, field)
        }
    }
}

fn metadata_kind(name: &str) -> PipedKind {
    match name.to_ascii_lowercase().as_str() {
        "startdate" | "enddate" | "recordeddate" => PipedKind::DateTime,
        "duration" | "progress" | "finished" => PipedKind::Number,
        _ => PipedKind::Text,
    }
}

fn question_kind(question: &Question, field: &QuestionField) -> Result<PipedKind, String> {
    use QuestionField as F;
    let id = question.id.as_str();
    let nothing = || {
        Err(format!(
            "{id} is a {} question: this piped text renders nothing for it; {}",
            type_name(&question.kind),
            suggestion(id, &question.kind)
        ))
    };
    match (&question.kind, field) {
        (_, F::QuestionText) => Ok(PipedKind::Text),
        (QuestionKind::MultipleChoice { choices, multiple }, field) => match field {
            F::SelectedChoices => Ok(choice_kind(texts(choices), *multiple)),
            F::SelectedChoicesRecode => Ok(choice_kind(recodes(choices), *multiple)),
            F::SelectedChoicesTextEntry | F::UnselectedChoices | F::AllChoices => {
                Ok(PipedKind::Text)
            }
            F::TextEntry(None) => Ok(PipedKind::Text),
            F::TextEntry(Some(c)) => match question.choice(c) {
                None => Err(format!("{id} has no choice {c}")),
                Some(choice) if !choice.text_entry => {
                    Err(format!("choice {c} of {id} takes no typed text"))
                }
                Some(_) => Ok(PipedKind::Text),
            },
            _ => nothing(),
        },
        (
            QuestionKind::Nps { .. },
            F::SelectedChoices
            | F::SelectedChoicesRecode
            | F::SelectedChoicesTextEntry
            | F::TextEntry(None),
        ) => Ok(PipedKind::Number),
        (
            QuestionKind::TextEntry { content, .. },
            F::SelectedChoices | F::SelectedChoicesTextEntry | F::TextEntry(None),
        ) => Ok(match content {
            TextContent::Number => PipedKind::Number,
            TextContent::Email => PipedKind::Email,
            TextContent::Any => PipedKind::Text,
        }),
        (
            QuestionKind::Matrix { statements, scale },
            F::SelectedAnswer(s) | F::SelectedAnswerRecode(s),
        ) => {
            statement(question, statements, s)?;
            Ok(if matches!(field, F::SelectedAnswer(_)) {
                choice_kind(texts(scale), false)
            } else {
                choice_kind(recodes(scale), false)
            })
        }
        (QuestionKind::Slider { statements, .. }, F::NumericEntry(Some(s))) => {
            statement(question, statements, s)?;
            Ok(PipedKind::Number)
        }
        (QuestionKind::Slider { statements, .. }, F::NumericEntry(None) | F::SelectedChoices) => {
            Ok(if statements.len() <= 1 {
                PipedKind::Number
            } else {
                PipedKind::Numbers
            })
        }
        (QuestionKind::Timing { .. }, F::NumericEntry(None)) => Ok(PipedKind::Number),
        _ => nothing(),
    }
}

/// A problem in a condition: where below the condition (`question`, `field`, `value`,
/// `statement`, or `conditions[i]...`) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionProblem {
    pub path: String,
    pub message: String,
}

/// Checks a condition against the survey: questions, statements and choices it names exist,
/// embedded data it tests is declared in the flow, metadata is a field responses have.
/// Paths are relative to the condition (`conditions[1].question`).
pub fn check_condition(
    condition: &Condition,
    definition: &SurveyDefinition,
) -> Vec<ConditionProblem> {
    let mut out = Vec::new();
    walk(condition, definition, "", &mut out);
    out
}

fn join(at: &str, leaf: &str) -> String {
    if at.is_empty() {
        leaf.to_string()
    } else {
        format!("{at}.{leaf}")
    }
}

fn walk(c: &Condition, def: &SurveyDefinition, at: &str, out: &mut Vec<ConditionProblem>) {
    let mut push = |leaf: &str, message: String| {
        out.push(ConditionProblem {
            path: join(at, leaf),
            message,
        })
    };
    match c {
        Condition::All { conditions } | Condition::Any { conditions } => {
            for (i, c) in conditions.iter().enumerate() {
                walk(c, def, &join(at, &format!("conditions[{i}]")), out);
            }
        }
        Condition::Not { condition } => walk(condition, def, at, out),
        Condition::EmbeddedData { field, .. } => {
            if !declared_embedded_fields(def)
                .iter()
                .any(|f| f.name == *field)
            {
                push(
                    "field",
                    format!("embedded data field {field} is not declared in the survey flow"),
                );
            }
        }
        Condition::Metadata { field, .. } => {
            if !is_metadata(field) {
                push(
                    "field",
                    format!(
                        "{field} is not response metadata (known: {})",
                        METADATA_FIELDS.join(", ")
                    ),
                );
            }
        }
        Condition::Answer {
            question,
            statement: stmt,
            op,
            value,
        } => {
            let Some(q) = def.question(question) else {
                push(
                    "question",
                    format!("{question} is not a question of this survey"),
                );
                return;
            };
            let (statements, options): (Option<&[Choice]>, Option<&[Choice]>) = match &q.kind {
                QuestionKind::MultipleChoice { choices, .. } => (None, Some(choices)),
                QuestionKind::Matrix { statements, scale } => (Some(statements), Some(scale)),
                QuestionKind::Slider { statements, .. } => (Some(statements), None),
                QuestionKind::Descriptive | QuestionKind::Unsupported { .. } => {
                    if *op != Operator::Displayed {
                        push(
                            "question",
                            format!(
                                "{question} is a {} question and records no answer to test",
                                type_name(&q.kind)
                            ),
                        );
                    }
                    return;
                }
                _ => (None, None),
            };
            match (stmt, statements) {
                (Some(s), Some(list)) => {
                    if let Err(m) = statement(q, list, s) {
                        push("statement", m);
                    }
                }
                (Some(s), None) => push(
                    "statement",
                    format!("{question} has no statements (statement {s} was given)"),
                ),
                (None, _) => {}
            }
            let picks_choice = matches!(op, Operator::Selected | Operator::NotSelected);
            if let (true, Some(options)) = (picks_choice, options) {
                let known = options
                    .iter()
                    .any(|c| c.id == *value || c.recode_value() == value);
                if !known {
                    push(
                        "value",
                        format!(
                            "{question} has no choice {value} (choices: {})",
                            options
                                .iter()
                                .map(|c| format!("{} {}", c.id, crate::html::to_plain(&c.text)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SurveyDefinition {
        crate::sample::sample_definition()
    }

    fn kind(text: &str) -> Option<PipedKind> {
        let c = check_piped(text, &sample());
        assert!(c.problems.is_empty(), "{text}: {:?}", c.problems);
        c.kind
    }

    fn problem(text: &str) -> String {
        let c = check_piped(text, &sample());
        assert_eq!(c.problems.len(), 1, "{text}: {c:?}");
        assert_eq!(c.kind, None);
        c.problems[0].clone()
    }

    #[test]
    fn each_answer_pipes_as_its_kind() {
        assert_eq!(kind("no placeholder"), None);
        assert_eq!(
            kind("${q://QID3/ChoiceTextEntryValue}"),
            Some(PipedKind::Number)
        );
        assert_eq!(
            kind(" ${q://QID4/SelectedChoicesRecode} "),
            Some(PipedKind::Number)
        );
        assert!(matches!(
            kind("${q://QID4/ChoiceGroup/SelectedChoices}"),
            Some(PipedKind::Choice { multiple: false, ref values }) if values[0] == "Very satisfied"
        ));
        assert!(matches!(
            kind("${q://QID5/SelectedChoicesRecode}"),
            Some(PipedKind::Choice { multiple: true, .. })
        ));
        assert!(matches!(
            kind("${q://QID6/ChoiceGroup/SelectedAnswers/1}"),
            Some(PipedKind::Choice {
                multiple: false,
                ..
            })
        ));
        assert_eq!(
            kind("${q://QID6/SelectedAnswerRecode/2}"),
            Some(PipedKind::Number)
        );
        assert_eq!(
            kind("${q://QID7/ChoiceNumericEntryValue/1}"),
            Some(PipedKind::Number)
        );
        assert_eq!(
            kind("${q://QID2/ChoiceNumericEntryValue}"),
            Some(PipedKind::Number)
        );
        assert_eq!(
            kind("${q://QID9/ChoiceTextEntryValue}"),
            Some(PipedKind::Text)
        );
        assert_eq!(
            kind("${q://QID10/ChoiceTextEntryValue}"),
            Some(PipedKind::Email)
        );
        assert_eq!(kind("${e://Field/sfAccountId}"), Some(PipedKind::Text));
        assert_eq!(kind("${e://Field/StartDate}"), Some(PipedKind::DateTime));
        assert_eq!(kind("${rm://Duration}"), Some(PipedKind::Number));
        assert_eq!(kind("${m://Email}"), Some(PipedKind::Email));
        // Words around a placeholder, or two placeholders, make text.
        assert_eq!(
            kind("NPS ${q://QID3/ChoiceTextEntryValue}"),
            Some(PipedKind::Text)
        );
        assert_eq!(
            kind("${q://QID3/ChoiceTextEntryValue}${q://QID7/ChoiceNumericEntryValue/1}"),
            Some(PipedKind::Text)
        );
    }

    #[test]
    fn what_the_survey_does_not_have_is_named() {
        assert_eq!(
            problem("${q://QID999/ChoiceTextEntryValue}"),
            "QID999 is not a question of this survey"
        );
        assert_eq!(
            problem("${e://Field/sfNope}"),
            "embedded data field sfNope is not declared in the survey flow"
        );
        assert!(problem("${q://QID6/ChoiceGroup/SelectedChoices}")
            .starts_with("QID6 is a matrix question: this piped text renders nothing"));
        assert!(
            problem("${q://QID6/SelectedAnswerRecode/9}").starts_with("QID6 has no statement 9")
        );
        assert_eq!(
            problem("${q://QID4/ChoiceTextEntryValue/9}"),
            "QID4 has no choice 9"
        );
        assert_eq!(
            problem("${q://QID4/ChoiceTextEntryValue/1}"),
            "choice 1 of QID4 takes no typed text"
        );
        assert!(problem("${q://QID1/ChoiceTextEntryValue}").contains("records no answer"));
        assert!(problem("${x://y}").contains("unknown piped text scheme"));
        assert!(problem("${e://Field/sfAccountId").contains("unterminated"));
        // Every bad placeholder is named, not only the first.
        let c = check_piped(
            "${q://QID998/QuestionText} ${q://QID999/QuestionText}",
            &sample(),
        );
        assert_eq!(c.problems.len(), 2);
    }

    #[test]
    fn conditions_name_the_place_of_each_problem() {
        let c: Condition = serde_json::from_value(serde_json::json!({"type": "all", "conditions": [
            {"type": "answer", "question": "QID3", "op": "less_or_equal", "value": "6"},
            {"type": "answer", "question": "QID999", "op": "equals", "value": "1"},
            {"type": "not", "condition": {"type": "embedded_data", "field": "sfRegion", "op": "is_empty"}},
            {"type": "any", "conditions": [
                {"type": "answer", "question": "QID4", "op": "selected", "value": "5"},
                {"type": "answer", "question": "QID4", "op": "selected", "value": "Maybe"},
                {"type": "answer", "question": "QID6", "statement": "7", "op": "selected", "value": "1"}
            ]},
            {"type": "metadata", "field": "Finished", "op": "equals", "value": "true"},
            {"type": "metadata", "field": "Mood", "op": "equals", "value": "good"}
        ]}))
        .unwrap();
        let found: Vec<(String, String)> = check_condition(&c, &sample())
            .into_iter()
            .map(|p| (p.path, p.message))
            .collect();
        let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "conditions[1].question",
                "conditions[2].field",
                "conditions[3].conditions[1].value",
                "conditions[3].conditions[2].statement",
                "conditions[5].field",
            ],
            "{found:?}"
        );
        assert_eq!(found[0].1, "QID999 is not a question of this survey");
        assert!(
            found[2].1.starts_with("QID4 has no choice Maybe"),
            "{found:?}"
        );
    }
}
