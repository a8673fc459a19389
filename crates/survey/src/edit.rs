//! Changes to a survey definition one step at a time, as the survey builder (and a script)
//! makes them: add, delete, rename or move a block, add, replace, copy, move or delete a
//! question, add or delete a page break, replace the flow, set the end message. Each step names what it refuses and where (`field`), and leaves the definition
//! untouched when it refuses; the whole definition is then checked as any other
//! (`validate::check_definition`) before it is stored.

use crate::definition::{
    Block, BlockElement, Choice, Condition, FlowElement, Question, QuestionKind, SurveyDefinition,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One change, as `POST /api/v1/surveys/{id}/edits` takes it (`{"op": "add_question", …}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Edit {
    /// A new, empty block after `after` (or last), also placed in the flow when the survey
    /// has one.
    AddBlock {
        #[serde(default)]
        description: String,
        #[serde(default)]
        after: Option<String>,
    },
    /// A block and its questions; refused while a condition or piped text refers to one.
    DeleteBlock { block_id: String },
    /// A new question in a block, at `position` (0-based; default: last). Its id is chosen
    /// (`QID` + the next number); an empty export tag becomes `Q` + that number.
    AddQuestion {
        block_id: String,
        #[schema(value_type = Object)]
        question: Question,
        #[serde(default)]
        position: Option<usize>,
    },
    /// A question's new text, type, choices… (its id stays).
    ReplaceQuestion {
        question_id: String,
        #[schema(value_type = Object)]
        question: Question,
    },
    /// A copy of the question right after it, with a new id and export tag.
    CopyQuestion { question_id: String },
    /// The question moved to `position` in `block_id`.
    MoveQuestion {
        question_id: String,
        block_id: String,
        position: usize,
    },
    /// A page break at `position` in a block.
    AddPageBreak { block_id: String, position: usize },
    /// A question removed; refused while a condition or piped text refers to it.
    DeleteQuestion { question_id: String },
    /// The whole flow: embedded data (names declared once), branches, end of survey.
    SetFlow {
        #[schema(value_type = Vec<Object>)]
        flow: Vec<FlowElement>,
    },
    /// The message shown at the end of the survey (piped text allowed).
    SetEndMessage { end_message: String },
    /// A block's name, as the builder shows it.
    SetBlockDescription {
        block_id: String,
        description: String,
    },
    /// The page break at `position` in a block removed; refused when there is none there.
    DeletePageBreak { block_id: String, position: usize },
    /// A block moved to `position` among the blocks (the order respondents see them in when
    /// the flow is empty; a flow decides the order itself).
    MoveBlock { block_id: String, position: usize },
}

/// Why a change was refused, and which part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EditError {
    pub field: String,
    pub message: String,
}

fn refuse(field: &str, message: impl Into<String>) -> Vec<EditError> {
    vec![EditError {
        field: field.into(),
        message: message.into(),
    }]
}

/// What a change made: the new id of a block or question it added.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applied {
    pub created: Option<String>,
}

/// The next free `prefix` + number id.
fn next_id<'a>(prefix: &str, taken: impl Iterator<Item = &'a str>) -> String {
    let max = taken
        .filter_map(|id| id.strip_prefix(prefix)?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    format!("{prefix}{}", max + 1)
}

fn condition_refers(c: &Condition, id: &str) -> bool {
    match c {
        Condition::All { conditions } | Condition::Any { conditions } => {
            conditions.iter().any(|c| condition_refers(c, id))
        }
        Condition::Not { condition } => condition_refers(condition, id),
        Condition::Answer { question, .. } => question == id,
        Condition::EmbeddedData { .. } | Condition::Metadata { .. } => false,
    }
}

fn flow_refers(flow: &[FlowElement], id: &str, path: &str) -> Option<String> {
    flow.iter().enumerate().find_map(|(i, e)| match e {
        FlowElement::Branch { condition, flow } => {
            if condition_refers(condition, id) {
                Some(format!("{path}[{i}].condition"))
            } else {
                flow_refers(flow, id, &format!("{path}[{i}].flow"))
            }
        }
        FlowElement::Group { flow, .. } => flow_refers(flow, id, &format!("{path}[{i}].flow")),
        _ => None,
    })
}

/// Where the definition still refers to question `id` (other than the question itself): a
/// branch, another question's display logic, piped text (`${q://QID1/…}`).
pub fn references_to(def: &SurveyDefinition, id: &str) -> Option<String> {
    if let Some(at) = flow_refers(&def.flow, id, "flow") {
        return Some(at);
    }
    let piped = format!("q://{id}/");
    for q in def.questions.iter().filter(|q| q.id != id) {
        if q.display_logic
            .as_ref()
            .is_some_and(|c| condition_refers(c, id))
        {
            return Some(format!("questions[{}].display_logic", q.id));
        }
        if q.text.contains(&piped) {
            return Some(format!("questions[{}].text", q.id));
        }
    }
    def.end_message
        .contains(&piped)
        .then(|| "end_message".to_string())
}

fn block_mut<'a>(def: &'a mut SurveyDefinition, id: &str) -> Result<&'a mut Block, Vec<EditError>> {
    def.blocks
        .iter_mut()
        .find(|b| b.id == id)
        .ok_or_else(|| refuse("block_id", format!("the survey has no block {id}")))
}

fn check_embedded_names(
    flow: &[FlowElement],
    seen: &mut BTreeSet<String>,
    path: &str,
    errors: &mut Vec<EditError>,
) {
    for (i, e) in flow.iter().enumerate() {
        match e {
            FlowElement::EmbeddedData { fields } => {
                for (j, f) in fields.iter().enumerate() {
                    if !seen.insert(f.name.trim().to_string()) {
                        errors.push(EditError {
                            field: format!("{path}[{i}].fields[{j}].name"),
                            message: format!(
                                "{} is declared already: each embedded data field is declared once",
                                f.name.trim()
                            ),
                        });
                    }
                }
            }
            FlowElement::Branch { flow, .. } | FlowElement::Group { flow, .. } => {
                check_embedded_names(flow, seen, &format!("{path}[{i}].flow"), errors)
            }
            _ => {}
        }
    }
}

/// Applies one change; on refusal the definition is as it was.
pub fn apply(def: &mut SurveyDefinition, edit: Edit) -> Result<Applied, Vec<EditError>> {
    let mut next = def.clone();
    let applied = apply_to(&mut next, edit)?;
    *def = next;
    Ok(applied)
}

fn apply_to(def: &mut SurveyDefinition, edit: Edit) -> Result<Applied, Vec<EditError>> {
    match edit {
        Edit::AddBlock { description, after } => {
            let id = next_id("BL_", def.blocks.iter().map(|b| b.id.as_str()));
            let at = match &after {
                Some(a) => def
                    .blocks
                    .iter()
                    .position(|b| b.id == *a)
                    .map(|p| p + 1)
                    .ok_or_else(|| refuse("after", format!("the survey has no block {a}")))?,
                None => def.blocks.len(),
            };
            def.blocks.insert(
                at,
                Block {
                    id: id.clone(),
                    description,
                    elements: Vec::new(),
                },
            );
            if !def.flow.is_empty() {
                let element = FlowElement::Block {
                    block_id: id.clone(),
                };
                let place = after.as_ref().and_then(|a| {
                    def.flow
                        .iter()
                        .position(|e| matches!(e, FlowElement::Block { block_id } if block_id == a))
                });
                match place {
                    Some(p) => def.flow.insert(p + 1, element),
                    None => def.flow.push(element),
                }
            }
            Ok(Applied { created: Some(id) })
        }
        Edit::DeleteBlock { block_id } => {
            let block = def
                .block(&block_id)
                .ok_or_else(|| refuse("block_id", format!("the survey has no block {block_id}")))?
                .clone();
            let questions: Vec<String> = block
                .elements
                .iter()
                .filter_map(|e| match e {
                    BlockElement::Question { id } => Some(id.clone()),
                    BlockElement::PageBreak => None,
                })
                .collect();
            def.blocks.retain(|b| b.id != block_id);
            def.questions.retain(|q| !questions.contains(&q.id));
            for q in &questions {
                if let Some(at) = references_to(def, q) {
                    return Err(refuse(
                        &at,
                        format!("refers to {q}, which is in block {block_id}: change it first"),
                    ));
                }
            }
            remove_block_from_flow(&mut def.flow, &block_id);
            Ok(Applied::default())
        }
        Edit::AddQuestion {
            block_id,
            mut question,
            position,
        } => {
            check_question(&question)?;
            let id = next_id("QID", def.questions.iter().map(|q| q.id.as_str()));
            question.id = id.clone();
            if question.export_tag.trim().is_empty() {
                question.export_tag = format!("Q{}", id.trim_start_matches("QID"));
            }
            let block = block_mut(def, &block_id)?;
            let at = position
                .unwrap_or(block.elements.len())
                .min(block.elements.len());
            block
                .elements
                .insert(at, BlockElement::Question { id: id.clone() });
            def.questions.push(question);
            Ok(Applied { created: Some(id) })
        }
        Edit::ReplaceQuestion {
            question_id,
            mut question,
        } => {
            check_question(&question)?;
            let slot = def
                .questions
                .iter_mut()
                .find(|q| q.id == question_id)
                .ok_or_else(|| {
                    refuse(
                        "question_id",
                        format!("the survey has no question {question_id}"),
                    )
                })?;
            question.id = question_id;
            *slot = question;
            Ok(Applied::default())
        }
        Edit::CopyQuestion { question_id } => {
            let original = def
                .question(&question_id)
                .ok_or_else(|| {
                    refuse(
                        "question_id",
                        format!("the survey has no question {question_id}"),
                    )
                })?
                .clone();
            let id = next_id("QID", def.questions.iter().map(|q| q.id.as_str()));
            let mut copy = original.clone();
            copy.id = id.clone();
            copy.export_tag = format!("{} (copy)", original.export_tag);
            for block in &mut def.blocks {
                if let Some(p) = block
                    .elements
                    .iter()
                    .position(|e| matches!(e, BlockElement::Question { id } if *id == question_id))
                {
                    block
                        .elements
                        .insert(p + 1, BlockElement::Question { id: id.clone() });
                    break;
                }
            }
            def.questions.push(copy);
            Ok(Applied { created: Some(id) })
        }
        Edit::MoveQuestion {
            question_id,
            block_id,
            position,
        } => {
            if def.question(&question_id).is_none() {
                return Err(refuse(
                    "question_id",
                    format!("the survey has no question {question_id}"),
                ));
            }
            block_mut(def, &block_id)?;
            for block in &mut def.blocks {
                block
                    .elements
                    .retain(|e| !matches!(e, BlockElement::Question { id } if *id == question_id));
            }
            let block = block_mut(def, &block_id)?;
            let at = position.min(block.elements.len());
            block
                .elements
                .insert(at, BlockElement::Question { id: question_id });
            Ok(Applied::default())
        }
        Edit::AddPageBreak { block_id, position } => {
            let block = block_mut(def, &block_id)?;
            let at = position.min(block.elements.len());
            block.elements.insert(at, BlockElement::PageBreak);
            Ok(Applied::default())
        }
        Edit::DeleteQuestion { question_id } => {
            if def.question(&question_id).is_none() {
                return Err(refuse(
                    "question_id",
                    format!("the survey has no question {question_id}"),
                ));
            }
            if let Some(at) = references_to(def, &question_id) {
                return Err(refuse(
                    &at,
                    format!("refers to {question_id}: change it before deleting the question"),
                ));
            }
            def.questions.retain(|q| q.id != question_id);
            for block in &mut def.blocks {
                block
                    .elements
                    .retain(|e| !matches!(e, BlockElement::Question { id } if *id == question_id));
            }
            Ok(Applied::default())
        }
        Edit::SetFlow { flow } => {
            let mut errors = Vec::new();
            check_embedded_names(&flow, &mut BTreeSet::new(), "flow", &mut errors);
            if !errors.is_empty() {
                return Err(errors);
            }
            def.flow = flow;
            Ok(Applied::default())
        }
        Edit::SetEndMessage { end_message } => {
            def.end_message = end_message;
            Ok(Applied::default())
        }
        Edit::SetBlockDescription {
            block_id,
            description,
        } => {
            block_mut(def, &block_id)?.description = description;
            Ok(Applied::default())
        }
        Edit::DeletePageBreak { block_id, position } => {
            let block = block_mut(def, &block_id)?;
            if block.elements.get(position) != Some(&BlockElement::PageBreak) {
                return Err(refuse(
                    "position",
                    format!("block {block_id} has no page break at position {position}"),
                ));
            }
            block.elements.remove(position);
            Ok(Applied::default())
        }
        Edit::MoveBlock { block_id, position } => {
            let from = def
                .blocks
                .iter()
                .position(|b| b.id == block_id)
                .ok_or_else(|| refuse("block_id", format!("the survey has no block {block_id}")))?;
            let block = def.blocks.remove(from);
            let at = position.min(def.blocks.len());
            def.blocks.insert(at, block);
            Ok(Applied::default())
        }
    }
}

/// What a question needs before it is added or replaced, beyond what the definition's own
/// check says (an empty list is refused there, as `questions[QID3].choices`): the builder's
/// forms send every row, so a blank choice is a mistake to point at
/// (`question.choices[2].text`), not a choice to keep.
fn check_question(q: &Question) -> Result<(), Vec<EditError>> {
    let mut errors = Vec::new();
    let mut list = |what: &str, items: &[Choice], blank_allowed: bool| {
        let mut ids = BTreeSet::new();
        for (i, c) in items.iter().enumerate() {
            if !blank_allowed && c.text.trim().is_empty() {
                errors.push(EditError {
                    field: format!("question.{what}[{i}].text"),
                    message: "is blank: type its text or remove the row".into(),
                });
            }
            if !ids.insert(c.id.as_str()) {
                errors.push(EditError {
                    field: format!("question.{what}[{i}].id"),
                    message: format!("id {} is used by another row", c.id),
                });
            }
        }
    };
    match &q.kind {
        QuestionKind::MultipleChoice { choices, .. } => list("choices", choices, false),
        QuestionKind::Matrix { statements, scale } => {
            list("statements", statements, false);
            list("scale", scale, false);
        }
        // One unnamed statement is the plain slider.
        QuestionKind::Slider {
            min,
            max,
            step,
            statements,
        } => {
            list("statements", statements, statements.len() == 1);
            if min.partial_cmp(max) != Some(std::cmp::Ordering::Less) {
                errors.push(EditError {
                    field: "question.max".into(),
                    message: format!("must be above the minimum ({min})"),
                });
            }
            if step.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                errors.push(EditError {
                    field: "question.step".into(),
                    message: "must be above 0".into(),
                });
            }
        }
        _ => {}
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn remove_block_from_flow(flow: &mut Vec<FlowElement>, id: &str) {
    flow.retain(|e| !matches!(e, FlowElement::Block { block_id } if block_id == id));
    for e in flow.iter_mut() {
        if let FlowElement::Branch { flow, .. } | FlowElement::Group { flow, .. } = e {
            remove_block_from_flow(flow, id);
        }
    }
}

#[cfg(test)]
mod tests;
