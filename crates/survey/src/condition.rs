//! Evaluates `Condition`s against a response: used by flow branches and later by workflows.
//! Missing answers and unparsable numbers make a test false rather than an error.

use crate::definition::{Choice, Condition, Operator, Question, QuestionKind, SurveyDefinition};
use crate::response::{Answer, ResponseData, ResponseMetadata};

/// Whether `condition` holds for the answers, embedded data and (when known) metadata so far.
pub fn evaluate(
    condition: &Condition,
    definition: &SurveyDefinition,
    data: &ResponseData,
    metadata: Option<&ResponseMetadata>,
) -> bool {
    match condition {
        Condition::All { conditions } => conditions
            .iter()
            .all(|c| evaluate(c, definition, data, metadata)),
        Condition::Any { conditions } => conditions
            .iter()
            .any(|c| evaluate(c, definition, data, metadata)),
        Condition::Not { condition } => !evaluate(condition, definition, data, metadata),
        Condition::Answer {
            question,
            statement,
            op,
            value,
        } => {
            let question_def = definition.question(question);
            let answer = data.answers.get(question);
            answer_test(question_def, answer, statement.as_deref(), *op, value)
        }
        Condition::EmbeddedData { field, op, value } => compare_text(
            data.embedded_data.get(field).map(String::as_str),
            *op,
            value,
        ),
        Condition::Metadata { field, op, value } => {
            let actual = metadata.and_then(|m| m.field(field));
            let expected = normalize_bool(field, value);
            compare_text(actual.as_deref(), *op, &expected)
        }
    }
}

/// `Finished` is stored as 1/0; authors write "true"/"false" just as often.
fn normalize_bool(field: &str, value: &str) -> String {
    if field.eq_ignore_ascii_case("finished") {
        match value.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" => return "1".into(),
            "false" | "no" => return "0".into(),
            _ => {}
        }
    }
    value.to_string()
}

fn answer_test(
    question: Option<&Question>,
    answer: Option<&Answer>,
    statement: Option<&str>,
    op: Operator,
    value: &str,
) -> bool {
    match op {
        Operator::Displayed => answer.is_some(),
        Operator::Selected => is_selected(question, answer, statement, value),
        Operator::NotSelected => !is_selected(question, answer, statement, value),
        _ => {
            let actual = answer_value(question, answer, statement);
            compare_text(actual.as_deref(), op, value)
        }
    }
}

/// A choice matches by its id; when no choice of the question has that id, by its recode.
/// Ids win because recodes often reuse the same digits in another order (a reversed 5..1
/// scale), and Qualtrics logic itself refers to choice ids.
fn is_selected(
    question: Option<&Question>,
    answer: Option<&Answer>,
    statement: Option<&str>,
    value: &str,
) -> bool {
    let Some(answer) = answer else { return false };
    match answer {
        Answer::Choices { selected, .. } => {
            let choices = match question.map(|q| &q.kind) {
                Some(QuestionKind::MultipleChoice { choices, .. }) => choices.as_slice(),
                _ => &[],
            };
            let wanted = resolve_choice(choices, value);
            selected.iter().any(|id| *id == wanted)
        }
        Answer::Matrix { rows } => {
            let scale = match question.map(|q| &q.kind) {
                Some(QuestionKind::Matrix { scale, .. }) => scale.as_slice(),
                _ => &[],
            };
            let wanted = resolve_choice(scale, value);
            match statement {
                Some(s) => rows.get(s).is_some_and(|id| *id == wanted),
                None => rows.values().any(|id| *id == wanted),
            }
        }
        Answer::Number(n) => value.trim().parse::<f64>().is_ok_and(|v| v == *n),
        Answer::Text(t) => t == value,
        Answer::Slider { .. } | Answer::Timing { .. } => false,
    }
}

/// The choice id a condition value names: itself when a choice has that id, else the id of
/// the first choice with that recode, else the value unchanged.
fn resolve_choice<'a>(choices: &'a [Choice], value: &'a str) -> &'a str {
    if choices.iter().any(|c| c.id == value) {
        return value;
    }
    choices
        .iter()
        .find(|c| c.recode_value() == value)
        .map_or(value, |c| c.id.as_str())
}

fn scale_recode<'q>(question: Option<&'q Question>, scale_id: &str) -> Option<&'q str> {
    match &question?.kind {
        QuestionKind::Matrix { scale, .. } => scale
            .iter()
            .find(|c| c.id == scale_id)
            .map(|c| c.recode_value()),
        _ => None,
    }
}

/// The single comparable value of an answer: recodes for choices (comma-joined when several),
/// the number, the text, the slider or matrix value for `statement`.
fn answer_value(
    question: Option<&Question>,
    answer: Option<&Answer>,
    statement: Option<&str>,
) -> Option<String> {
    match answer? {
        Answer::Choices { selected, .. } => Some(
            selected
                .iter()
                .map(|id| {
                    question
                        .and_then(|q| q.choice(id))
                        .map_or(id.as_str(), |c| c.recode_value())
                        .to_string()
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        Answer::Matrix { rows } => {
            let id = match statement {
                Some(s) => rows.get(s)?,
                None => rows.values().next()?,
            };
            Some(scale_recode(question, id).unwrap_or(id).to_string())
        }
        Answer::Slider { values } => {
            let v = match statement {
                Some(s) => values.get(s)?,
                None => values.values().next()?,
            };
            Some(format_number(*v))
        }
        Answer::Timing { page_seconds } => Some(format_number(*page_seconds)),
        Answer::Number(n) => Some(format_number(*n)),
        Answer::Text(t) => Some(t.clone()),
    }
}

/// Numbers print without a trailing `.0` so that `7` compares and pipes as `7`.
pub(crate) fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Text comparison, case-sensitive as in Qualtrics; ordering operators compare numbers and
/// are false when either side is not a number.
fn compare_text(actual: Option<&str>, op: Operator, expected: &str) -> bool {
    let actual_str = actual.unwrap_or("");
    let numbers = || {
        let a = actual_str.trim().parse::<f64>().ok()?;
        let b = expected.trim().parse::<f64>().ok()?;
        Some((a, b))
    };
    match op {
        Operator::IsEmpty => actual_str.trim().is_empty(),
        Operator::IsNotEmpty => !actual_str.trim().is_empty(),
        Operator::Displayed => actual.is_some(),
        Operator::Equals | Operator::Selected => match numbers() {
            Some((a, b)) => a == b,
            None => actual.is_some() && actual_str == expected,
        },
        Operator::NotEquals | Operator::NotSelected => match numbers() {
            Some((a, b)) => a != b,
            None => actual_str != expected,
        },
        Operator::GreaterThan => numbers().is_some_and(|(a, b)| a > b),
        Operator::GreaterOrEqual => numbers().is_some_and(|(a, b)| a >= b),
        Operator::LessThan => numbers().is_some_and(|(a, b)| a < b),
        Operator::LessOrEqual => numbers().is_some_and(|(a, b)| a <= b),
        Operator::Contains => actual.is_some() && actual_str.contains(expected),
        Operator::DoesNotContain => !actual_str.contains(expected),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> SurveyDefinition {
        let choice = |id: &str, recode: &str| Choice {
            id: id.into(),
            text: format!("Choice {id}"),
            recode: Some(recode.into()),
            text_entry: false,
        };
        SurveyDefinition {
            name: "t".into(),
            language: "EN".into(),
            blocks: vec![],
            questions: vec![
                Question {
                    id: "QID1".into(),
                    export_tag: "Q1".into(),
                    text: "Pick".into(),
                    required: false,
                    display_logic: None,
                    kind: QuestionKind::MultipleChoice {
                        multiple: true,
                        choices: vec![choice("1", "10"), choice("2", "20")],
                    },
                },
                Question {
                    id: "QID2".into(),
                    export_tag: "Q2".into(),
                    text: "NPS".into(),
                    required: false,
                    display_logic: None,
                    kind: QuestionKind::Nps {
                        low_label: String::new(),
                        high_label: String::new(),
                    },
                },
            ],
            flow: vec![],
            end_message: String::new(),
            options: Default::default(),
        }
    }

    fn answer(q: &str, op: Operator, value: &str) -> Condition {
        Condition::Answer {
            question: q.into(),
            statement: None,
            op,
            value: value.into(),
        }
    }

    #[test]
    fn selected_matches_id_or_recode_and_numbers_compare_numerically() {
        let d = def();
        let mut data = ResponseData::default();
        data.answers.insert(
            "QID1".into(),
            Answer::Choices {
                selected: vec!["2".into()],
                text: Default::default(),
            },
        );
        data.answers.insert("QID2".into(), Answer::Number(6.0));
        assert!(evaluate(
            &answer("QID1", Operator::Selected, "2"),
            &d,
            &data,
            None
        ));
        assert!(evaluate(
            &answer("QID1", Operator::Selected, "20"),
            &d,
            &data,
            None
        ));
        assert!(evaluate(
            &answer("QID1", Operator::NotSelected, "1"),
            &d,
            &data,
            None
        ));
        assert!(evaluate(
            &answer("QID2", Operator::LessOrEqual, "6"),
            &d,
            &data,
            None
        ));
        assert!(!evaluate(
            &answer("QID2", Operator::GreaterThan, "6"),
            &d,
            &data,
            None
        ));
        assert!(!evaluate(
            &answer("QID2", Operator::GreaterThan, "abc"),
            &d,
            &data,
            None
        ));
        assert!(evaluate(
            &answer("QID3", Operator::IsEmpty, ""),
            &d,
            &data,
            None
        ));
        assert!(!evaluate(
            &answer("QID3", Operator::Selected, "1"),
            &d,
            &data,
            None
        ));
    }

    #[test]
    fn embedded_and_metadata_tests() {
        let d = def();
        let mut data = ResponseData::default();
        data.embedded_data.insert("OptOut".into(), "True".into());
        let e = |op, v: &str| Condition::EmbeddedData {
            field: "OptOut".into(),
            op,
            value: v.into(),
        };
        assert!(evaluate(&e(Operator::Equals, "True"), &d, &data, None));
        // Case-sensitive, as in Qualtrics.
        assert!(!evaluate(&e(Operator::Equals, "true"), &d, &data, None));
        assert!(evaluate(&e(Operator::Contains, "ru"), &d, &data, None));
        let meta = ResponseMetadata {
            finished: true,
            ..Default::default()
        };
        let m = Condition::Metadata {
            field: "Finished".into(),
            op: Operator::Equals,
            value: "true".into(),
        };
        assert!(evaluate(&m, &d, &data, Some(&meta)));
        assert!(!evaluate(&m, &d, &data, None));
        let all = Condition::All {
            conditions: vec![
                e(Operator::IsNotEmpty, ""),
                Condition::Not {
                    condition: Box::new(m),
                },
            ],
        };
        assert!(evaluate(&all, &d, &data, None));
    }
}
