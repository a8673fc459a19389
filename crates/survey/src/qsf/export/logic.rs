//! Sonde conditions as Qualtrics `BranchLogic` / `DisplayLogic`: the inverse of
//! `qsf::logic`. Qualtrics logic is two levels of left-to-right folds (condition sets joined by
//! their `Type`, expressions inside a set joined by their `Conjuction`), so only conditions of
//! that shape can be written; anything else is reported and left out.

use crate::definition::{Condition, Operator, QuestionKind, SurveyDefinition};
use serde_json::{json, Map, Value};

/// One expression and the conjunction joining it to what came before (`None` for the first).
type Folded<'c> = Vec<(Option<&'static str>, &'c Condition)>;

/// The logic object for `condition`, or why it has no Qualtrics form. `All []` (always true)
/// has none: Qualtrics expresses it by leaving the logic out.
pub(super) fn logic_value(
    condition: &Condition,
    definition: &SurveyDefinition,
) -> Result<Value, String> {
    let sets = sets(condition, definition)
        .ok_or_else(|| "the condition has no Qualtrics logic form".to_string())?;
    let mut out = Map::new();
    for (i, (conj, set)) in sets.iter().enumerate() {
        let mut set_obj = Map::new();
        for (j, (expr_conj, leaf)) in set.iter().enumerate() {
            let mut e = expression(leaf, definition)?;
            if let Some(c) = expr_conj {
                // Qualtrics' own spelling, which the importer reads.
                e.insert("Conjuction".into(), json!(c));
            }
            set_obj.insert(j.to_string(), Value::Object(e));
        }
        set_obj.insert("Type".into(), json!(conj.unwrap_or("If")));
        out.insert(i.to_string(), Value::Object(set_obj));
    }
    out.insert("Type".into(), json!("BooleanExpression"));
    Ok(Value::Object(out))
}

/// Whether the importer's `join` would absorb `next` into `acc` instead of nesting it:
/// an `Any` followed by `Or` grows, as does a non-empty `All` followed by `And`.
fn absorbs(acc: &Condition, or: bool) -> bool {
    match acc {
        Condition::Any { .. } => or,
        Condition::All { conditions } => !or && !conditions.is_empty(),
        _ => false,
    }
}

/// The parts of an `Any`/`All` that a left fold builds: its first member (which must not be
/// absorbed into the result) and the rest, each joined with the same conjunction.
fn fold_parts(c: &Condition) -> Option<(&'static str, &Condition, &[Condition])> {
    let (conj, members) = match c {
        Condition::Any { conditions } => ("Or", conditions),
        Condition::All { conditions } => ("And", conditions),
        _ => return None,
    };
    let (first, rest) = members.split_first()?;
    if rest.is_empty() || absorbs(first, conj == "Or") {
        return None;
    }
    Some((conj, first, rest))
}

/// `c` as one condition set: a left fold over single expressions.
fn leaf_fold<'c>(c: &'c Condition, definition: &SurveyDefinition) -> Option<Folded<'c>> {
    if is_leaf(c, definition) {
        return Some(vec![(None, c)]);
    }
    let (conj, first, rest) = fold_parts(c)?;
    let mut out = leaf_fold(first, definition)?;
    for r in rest {
        if !is_leaf(r, definition) {
            return None;
        }
        out.push((Some(conj), r));
    }
    Some(out)
}

type Sets<'c> = Vec<(Option<&'static str>, Folded<'c>)>;

/// `c` as condition sets: one set when it is a fold of expressions, else a left fold of sets.
fn sets<'c>(c: &'c Condition, definition: &SurveyDefinition) -> Option<Sets<'c>> {
    if let Some(one) = leaf_fold(c, definition) {
        return Some(vec![(None, one)]);
    }
    let (conj, first, rest) = fold_parts(c)?;
    let mut out = sets(first, definition)?;
    for r in rest {
        out.push((Some(conj), leaf_fold(r, definition)?));
    }
    Some(out)
}

fn is_leaf(c: &Condition, definition: &SurveyDefinition) -> bool {
    expression(c, definition).is_ok()
}

fn operator_name(op: Operator) -> &'static str {
    match op {
        Operator::Selected => "Selected",
        Operator::NotSelected => "NotSelected",
        Operator::Displayed => "Displayed",
        Operator::Equals => "EqualTo",
        Operator::NotEquals => "NotEqualTo",
        Operator::GreaterThan => "GreaterThan",
        Operator::GreaterOrEqual => "GreaterThanOrEqual",
        Operator::LessThan => "LessThan",
        Operator::LessOrEqual => "LessThanOrEqual",
        Operator::Contains => "Contains",
        Operator::DoesNotContain => "DoesNotContain",
        Operator::IsEmpty => "Empty",
        Operator::IsNotEmpty => "NotEmpty",
    }
}

/// One Qualtrics expression. `Not` exists in Qualtrics only as "not displayed".
fn expression(c: &Condition, definition: &SurveyDefinition) -> Result<Map<String, Value>, String> {
    let (inner, negated) = match c {
        Condition::Not { condition } => (condition.as_ref(), true),
        other => (other, false),
    };
    let operator = |op: Operator| -> Result<&'static str, String> {
        match (negated, op) {
            (false, op) => Ok(operator_name(op)),
            (true, Operator::Displayed) => Ok("NotDisplayed"),
            (true, _) => Err("only \"not displayed\" can be negated in Qualtrics logic".into()),
        }
    };
    let mut e = Map::new();
    e.insert("Type".into(), json!("Expression"));
    match inner {
        Condition::Answer {
            question,
            statement,
            op,
            value,
        } => {
            let q = definition.question(question).ok_or_else(|| {
                format!("it refers to question {question}, which is not in the survey")
            })?;
            let is_matrix = matches!(q.kind, QuestionKind::Matrix { .. });
            let selection = matches!(op, Operator::Selected | Operator::NotSelected);
            if value.contains('/') && (selection || statement.is_some()) {
                return Err(format!(
                    "choice id {value:?} cannot be written in a locator"
                ));
            }
            let (locator, right) = match (statement, *op) {
                (None, _) if selection && !is_matrix => {
                    (format!("q://{question}/SelectableChoice/{value}"), None)
                }
                (None, _) if selection => {
                    (format!("q://{question}/SelectableAnswer/{value}"), None)
                }
                (Some(s), _) if selection && is_matrix && !s.contains('/') => {
                    // The importer refuses a cell that names no statement or scale point.
                    if let QuestionKind::Matrix { statements, scale } = &q.kind {
                        if !statements.iter().any(|c| &c.id == s)
                            || !scale.iter().any(|c| &c.id == value)
                        {
                            return Err(format!("matrix cell {s}/{value} does not exist"));
                        }
                    }
                    (format!("q://{question}/SelectableChoice/{s}/{value}"), None)
                }
                (None, Operator::Displayed) if value.is_empty() => {
                    (format!("q://{question}/QuestionDisplayed"), None)
                }
                (None, Operator::Displayed) => {
                    return Err("\"displayed\" with a value has no Qualtrics form".into())
                }
                (None, _) => (format!("q://{question}/ChoiceTextEntryValue"), Some(value)),
                (Some(s), _) if !selection && !s.contains('/') && *op != Operator::Displayed => (
                    format!("q://{question}/ChoiceNumericEntryValue/{s}"),
                    Some(value),
                ),
                _ => return Err("this answer condition has no Qualtrics form".into()),
            };
            e.insert("LogicType".into(), json!("Question"));
            e.insert("QuestionID".into(), json!(question));
            e.insert("QuestionIsInLoop".into(), json!("no"));
            e.insert("ChoiceLocator".into(), json!(locator));
            e.insert("Operator".into(), json!(operator(*op)?));
            e.insert("QuestionIDFromLocator".into(), json!(question));
            e.insert("LeftOperand".into(), json!(locator));
            if let Some(right) = right {
                e.insert("RightOperand".into(), json!(right));
            }
        }
        Condition::EmbeddedData { field, op, value } => {
            if field.is_empty() {
                return Err("an embedded data condition names no field".into());
            }
            e.insert("LogicType".into(), json!("EmbeddedField"));
            e.insert("LeftOperand".into(), json!(field));
            e.insert("Operator".into(), json!(operator(*op)?));
            e.insert("RightOperand".into(), json!(value));
        }
        Condition::Metadata { field, .. } => {
            return Err(format!(
                "conditions on response metadata ({field}) are not read back from Qualtrics logic"
            ))
        }
        Condition::All { .. } | Condition::Any { .. } | Condition::Not { .. } => {
            return Err("not a single expression".into())
        }
    }
    Ok(e)
}
