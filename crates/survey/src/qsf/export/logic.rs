//! Sonde conditions as Qualtrics `BranchLogic` / `DisplayLogic`: the inverse of
//! `qsf::logic`. Qualtrics logic is two levels of left-to-right folds (condition sets joined by
//! their `Type`, expressions inside a set joined by their `Conjuction`), so only conditions of
//! that shape can be written; anything else is reported and left out.

use crate::definition::{Condition, Operator, QuestionKind, SurveyDefinition};
use serde_json::{json, Map, Value};

/// One expression and the conjunction joining it to what came before (`None` for the first).
type Folded<'c> = Vec<(Option<&'static str>, &'c Condition)>;

/// How a condition was written.
pub(super) enum Written {
    /// As it is: the importer reads back the same condition.
    Exactly(Value),
    /// As an equivalent condition (flattened, negations pushed down, members reordered):
    /// the importer reads back that one, which holds for the same answers.
    Equivalently(Value),
}

/// The logic object for `condition`, or why it has no Qualtrics form. `All []` (always true)
/// has none: Qualtrics expresses it by leaving the logic out.
pub(super) fn logic_value(
    condition: &Condition,
    definition: &SurveyDefinition,
) -> Result<Written, String> {
    if let Some(sets) = sets(condition, definition) {
        return write_sets(&sets, definition).map(Written::Exactly);
    }
    let equivalent = arrange(normalise(condition.clone()), definition);
    match sets(&equivalent, definition) {
        Some(sets) => write_sets(&sets, definition).map(Written::Equivalently),
        None => Err(why_not(condition, definition)),
    }
}

/// Why no form was found: the first expression that has none, else the nesting.
fn why_not(c: &Condition, definition: &SurveyDefinition) -> String {
    match c {
        Condition::All { conditions } | Condition::Any { conditions } => {
            if conditions.is_empty() {
                return "an empty \"any\" never holds, and Qualtrics has no such logic".into();
            }
            conditions
                .iter()
                .find(|m| {
                    !is_leaf(m, definition)
                        && !matches!(m, Condition::All { .. } | Condition::Any { .. })
                })
                .map(|m| why_not(m, definition))
                .or_else(|| {
                    conditions.iter().find_map(|m| {
                        let inner = why_not(m, definition);
                        (inner != NESTED).then_some(inner)
                    })
                })
                .unwrap_or_else(|| NESTED.into())
        }
        leaf => match expression(leaf, definition) {
            Ok(_) => NESTED.into(),
            Err(why) => why,
        },
    }
}

const NESTED: &str = "it nests \"all\" and \"any\" deeper than Qualtrics' two levels of logic";

fn write_sets(sets: &Sets, definition: &SurveyDefinition) -> Result<Value, String> {
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

/// An equivalent condition in the flattest form: nested `all` in `all` (and `any` in `any`)
/// spliced in, one-member groups unwrapped, negations pushed down to expressions that have a
/// Qualtrics opposite. Evaluation is pure, so none of this changes when a condition holds.
fn normalise(c: Condition) -> Condition {
    match c {
        Condition::All { conditions } => group(conditions, false),
        Condition::Any { conditions } => group(conditions, true),
        Condition::Not { condition } => negate(*condition),
        leaf => leaf,
    }
}

fn group(members: Vec<Condition>, any: bool) -> Condition {
    let mut out = Vec::with_capacity(members.len());
    for m in members.into_iter().map(normalise) {
        match (m, any) {
            (Condition::Any { conditions }, true) | (Condition::All { conditions }, false) => {
                out.extend(conditions)
            }
            (m, _) => out.push(m),
        }
    }
    if out.len() == 1 {
        return out.remove(0);
    }
    if any {
        Condition::Any { conditions: out }
    } else {
        Condition::All { conditions: out }
    }
}

/// `not c`, pushed down. Only opposites that hold for exactly the other answers are used:
/// "selected" / "not selected" on an answer, "empty" / "not empty"; "not displayed" is a
/// Qualtrics operator of its own. Others stay a `not`, which has no Qualtrics form.
fn negate(c: Condition) -> Condition {
    match c {
        Condition::Not { condition } => normalise(*condition),
        Condition::All { conditions } => group(conditions.into_iter().map(not).collect(), true),
        Condition::Any { conditions } => group(conditions.into_iter().map(not).collect(), false),
        Condition::Answer {
            question,
            statement,
            op,
            value,
        } if opposite(op, true).is_some() => Condition::Answer {
            question,
            statement,
            op: opposite(op, true).unwrap_or(op),
            value,
        },
        Condition::EmbeddedData { field, op, value } if opposite(op, false).is_some() => {
            Condition::EmbeddedData {
                field,
                op: opposite(op, false).unwrap_or(op),
                value,
            }
        }
        leaf => not(leaf),
    }
}

fn not(c: Condition) -> Condition {
    Condition::Not {
        condition: Box::new(c),
    }
}

/// The operator true exactly when `op` is false. On embedded data "selected" compares text,
/// where "not selected" is not its opposite for a missing field, so only answers get it.
fn opposite(op: Operator, answer: bool) -> Option<Operator> {
    match op {
        Operator::Selected if answer => Some(Operator::NotSelected),
        Operator::NotSelected if answer => Some(Operator::Selected),
        Operator::IsEmpty => Some(Operator::IsNotEmpty),
        Operator::IsNotEmpty => Some(Operator::IsEmpty),
        _ => None,
    }
}

/// How deep a condition's Qualtrics form is: 0 an expression, 1 one condition set, 2 several
/// sets, 3 none.
fn level(c: &Condition, definition: &SurveyDefinition) -> u8 {
    match c {
        Condition::All { conditions } | Condition::Any { conditions } if conditions.len() >= 2 => {
            let levels: Vec<u8> = conditions.iter().map(|m| level(m, definition)).collect();
            let deepest = levels.iter().copied().max().unwrap_or(0);
            let compound = levels.iter().filter(|l| **l >= 1).count();
            match (deepest, compound) {
                (0, _) => 1,
                (1, 1) => 1,
                (2, 1) => 2,
                (1, _) => 2,
                (2, _) if levels.iter().filter(|l| **l == 2).count() == 1 => 2,
                _ => 3,
            }
        }
        leaf if is_leaf(leaf, definition) => 0,
        _ => 3,
    }
}

/// Reorders the members of each group so the one with the deepest form comes first: a left
/// fold can start with a nested group but continues only with simpler parts.
fn arrange(c: Condition, definition: &SurveyDefinition) -> Condition {
    let sort = |conditions: Vec<Condition>| {
        let mut members: Vec<Condition> = conditions
            .into_iter()
            .map(|m| arrange(m, definition))
            .collect();
        // Stable: members of equal depth keep their authored order.
        members.sort_by_key(|m| std::cmp::Reverse(level(m, definition)));
        members
    };
    match c {
        Condition::All { conditions } => Condition::All {
            conditions: sort(conditions),
        },
        Condition::Any { conditions } => Condition::Any {
            conditions: sort(conditions),
        },
        other => other,
    }
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
            // A locator is split at '/': ids written into it must not hold one. A compared
            // value goes in `RightOperand` instead.
            for id in statement.iter().chain(selection.then_some(value)) {
                if id.contains('/') {
                    return Err(format!("id {id:?} cannot be written in a locator"));
                }
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
