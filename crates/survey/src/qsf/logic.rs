//! Qualtrics branch and display logic (`BranchLogic`, `DisplayLogic`) as Sonde conditions,
//! or the reason it cannot be one.

use super::values::{numbered, text_of};
use crate::definition::{Condition, Operator, QuestionKind, SurveyDefinition};
use serde_json::Value;

/// A condition that always holds (an empty "all").
pub(super) fn always() -> Condition {
    Condition::All {
        conditions: Vec::new(),
    }
}

/// `BranchLogic`: numbered condition sets (joined by their `Type`: If/And/Or), each holding
/// numbered expressions (joined by their `Conjuction`, Qualtrics' spelling). Evaluated left to
/// right as Qualtrics does.
pub(super) fn logic(value: &Value, definition: &SurveyDefinition) -> Result<Condition, String> {
    let sets = value.as_object().ok_or("branch logic is not an object")?;
    let mut result: Option<Condition> = None;
    for set in numbered(sets) {
        let set_obj = set.as_object().ok_or("malformed condition set")?;
        let mut inner: Option<Condition> = None;
        for expression in numbered(set_obj) {
            let condition = expression_condition(expression, definition)?;
            let conj = text_of(expression.get("Conjuction"))
                .or_else(|| text_of(expression.get("Conjunction")));
            inner = Some(join(inner, condition, conj.as_deref()));
        }
        let Some(inner) = inner else { continue };
        let conj = text_of(set_obj.get("Conjuction"))
            .or_else(|| text_of(set_obj.get("Type")))
            .filter(|t| t != "If");
        result = Some(join(result, inner, conj.as_deref()));
    }
    result.ok_or_else(|| "the branch logic has no conditions".to_string())
}

pub(super) fn join(acc: Option<Condition>, next: Condition, conj: Option<&str>) -> Condition {
    let Some(acc) = acc else { return next };
    if conj == Some("Or") {
        match acc {
            Condition::Any { mut conditions } => {
                conditions.push(next);
                Condition::Any { conditions }
            }
            other => Condition::Any {
                conditions: vec![other, next],
            },
        }
    } else {
        match acc {
            Condition::All { mut conditions } if !conditions.is_empty() => {
                conditions.push(next);
                Condition::All { conditions }
            }
            other => Condition::All {
                conditions: vec![other, next],
            },
        }
    }
}

pub(super) fn expression_condition(
    e: &Value,
    definition: &SurveyDefinition,
) -> Result<Condition, String> {
    let logic_type = text_of(e.get("LogicType")).unwrap_or_default();
    let operator = text_of(e.get("Operator")).unwrap_or_default();
    let right = text_of(e.get("RightOperand")).unwrap_or_default();
    let (op, negate) = match operator.as_str() {
        "Selected" => (Operator::Selected, false),
        "NotSelected" => (Operator::NotSelected, false),
        "Displayed" => (Operator::Displayed, false),
        "NotDisplayed" => (Operator::Displayed, true),
        "EqualTo" | "Is" => (Operator::Equals, false),
        "NotEqualTo" | "IsNot" => (Operator::NotEquals, false),
        "GreaterThan" => (Operator::GreaterThan, false),
        "GreaterThanOrEqual" => (Operator::GreaterOrEqual, false),
        "LessThan" => (Operator::LessThan, false),
        "LessThanOrEqual" => (Operator::LessOrEqual, false),
        "Contains" => (Operator::Contains, false),
        "DoesNotContain" => (Operator::DoesNotContain, false),
        "Empty" => (Operator::IsEmpty, false),
        "NotEmpty" => (Operator::IsNotEmpty, false),
        other => return Err(format!("operator {other} is not supported")),
    };
    let condition = match logic_type.as_str() {
        "Question" => {
            let locator = text_of(e.get("LeftOperand"))
                .or_else(|| text_of(e.get("ChoiceLocator")))
                .unwrap_or_default();
            let rest = locator
                .strip_prefix("q://")
                .ok_or_else(|| format!("question locator {locator} is not supported"))?;
            let parts: Vec<&str> = rest.split('/').collect();
            let question = parts.first().copied().unwrap_or_default().to_string();
            if definition.question(&question).is_none() {
                return Err(format!(
                    "it refers to question {question}, which was not imported"
                ));
            }
            let matrix = match definition.question(&question).map(|q| &q.kind) {
                Some(QuestionKind::Matrix { statements, scale }) => {
                    Some((statements.as_slice(), scale.as_slice()))
                }
                _ => None,
            };
            let is_matrix = matrix.is_some();
            let selection = matches!(op, Operator::Selected | Operator::NotSelected);
            let (statement, value) = match (parts.get(1).copied(), parts.len()) {
                // A choice, or for a matrix a scale point in any row.
                (Some("SelectableChoice"), 3) if selection && !is_matrix => {
                    (None, parts[2].to_string())
                }
                (Some("SelectableAnswer"), 3) if selection && is_matrix => {
                    (None, parts[2].to_string())
                }
                // A matrix cell: row (statement), then column (scale point).
                (Some("SelectableChoice" | "SelectableAnswer"), 4) if selection && is_matrix => {
                    let (statement_id, scale_id) = (parts[2], parts[3]);
                    let (statements, scale) = matrix.unwrap_or_default();
                    if !statements.iter().any(|s| s.id == statement_id)
                        || !scale.iter().any(|c| c.id == scale_id)
                    {
                        return Err(format!("matrix locator {locator} names no such cell"));
                    }
                    (Some(statement_id.to_string()), scale_id.to_string())
                }
                // "Was displayed" is approximated by "has an answer": Sonde records answers,
                // not what was on screen.
                (Some("QuestionDisplayed" | "SelectableChoice") | None, _)
                    if op == Operator::Displayed =>
                {
                    (None, String::new())
                }
                (Some("ChoiceTextEntryValue"), 2) if !selection => (None, right),
                (Some("ChoiceNumericEntryValue"), 3) if !selection => {
                    (Some(parts[2].to_string()), right)
                }
                _ => return Err(format!("question locator {locator} is not supported")),
            };
            Condition::Answer {
                question,
                statement,
                op,
                value,
            }
        }
        "EmbeddedField" => {
            let field = text_of(e.get("LeftOperand")).unwrap_or_default();
            if field.is_empty() {
                return Err("an embedded data condition names no field".into());
            }
            Condition::EmbeddedData {
                field,
                op,
                value: right,
            }
        }
        other => return Err(format!("{other} conditions are not supported")),
    };
    Ok(if negate {
        Condition::Not {
            condition: Box::new(condition),
        }
    } else {
        condition
    })
}
