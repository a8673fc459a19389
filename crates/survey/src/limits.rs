//! How big each part of a survey may be. Every node holds the surveys it serves in memory and
//! anonymous visitors make it render them, so each part is bounded; a definition over a limit
//! is refused naming the part and the limit, before it is stored.

use crate::definition::{Choice, EmbeddedValue, FlowElement, QuestionKind, SurveyDefinition};
use crate::validate::DefinitionError;

/// A native definition or a `.qsf` file, in bytes (also the API's request size limit).
pub const MAX_DEFINITION_BYTES: usize = 32 * 1024 * 1024;
/// Questions in one survey.
pub const MAX_QUESTIONS: usize = 5_000;
/// Blocks in one survey.
pub const MAX_BLOCKS: usize = 1_000;
/// Questions and page breaks in one block.
pub const MAX_BLOCK_ELEMENTS: usize = 10_000;
/// Choices of one question, or statements or scale points of a matrix or slider.
pub const MAX_CHOICES: usize = 1_000;
/// One authored text: a question, a choice, a message, a name (100 KiB).
pub const MAX_TEXT_BYTES: usize = 100 * 1024;
/// Flow elements, nested ones included.
pub const MAX_FLOW_ELEMENTS: usize = 10_000;
/// Branches and groups inside each other.
pub const MAX_FLOW_DEPTH: usize = 32;
/// Embedded data fields declared in the flow.
pub const MAX_EMBEDDED_FIELDS: usize = 1_000;
/// The shortest closing window for unfinished responses. Less closed responses while their
/// respondent was still on the page (and ran "incomplete" workflows for each).
pub const MIN_INCOMPLETE_AFTER_HOURS: u32 = 1;

fn problem(path: impl Into<String>, message: String) -> DefinitionError {
    DefinitionError {
        line: 0,
        column: 0,
        path: path.into(),
        message,
    }
}

/// A whole definition's or file's size; `what` names it for the message.
pub fn check_bytes(what: &str, bytes: usize) -> Result<(), DefinitionError> {
    if bytes > MAX_DEFINITION_BYTES {
        return Err(problem(
            "",
            format!(
                "{what} is {bytes} bytes, over the limit of {MAX_DEFINITION_BYTES} bytes (32 MiB)"
            ),
        ));
    }
    Ok(())
}

/// Every part over its limit, each named by its path (`questions[QID3].choices`).
pub fn check(definition: &SurveyDefinition) -> Vec<DefinitionError> {
    let mut found = Vec::new();
    let mut count = |path: String, what: &str, n: usize, max: usize, per: &str| {
        if n > max {
            found.push(problem(
                path,
                format!("{n} {what} is over the limit of {max} {what} {per}"),
            ));
        }
    };
    count(
        "questions".into(),
        "questions",
        definition.questions.len(),
        MAX_QUESTIONS,
        "per survey",
    );
    count(
        "blocks".into(),
        "blocks",
        definition.blocks.len(),
        MAX_BLOCKS,
        "per survey",
    );
    for block in &definition.blocks {
        count(
            format!("blocks[{}].elements", block.id),
            "elements",
            block.elements.len(),
            MAX_BLOCK_ELEMENTS,
            "per block",
        );
    }
    for q in &definition.questions {
        let lists: Vec<(&str, usize)> = match &q.kind {
            QuestionKind::MultipleChoice { choices, .. } => vec![("choices", choices.len())],
            QuestionKind::Matrix { statements, scale } => {
                vec![("statements", statements.len()), ("scale", scale.len())]
            }
            QuestionKind::Slider { statements, .. } => vec![("statements", statements.len())],
            _ => Vec::new(),
        };
        for (list, n) in lists {
            count(
                format!("questions[{}].{list}", q.id),
                list,
                n,
                MAX_CHOICES,
                "per question",
            );
        }
    }
    let mut flow = FlowCount::default();
    flow.walk(&definition.flow, 1);
    count(
        "flow".into(),
        "flow elements",
        flow.elements,
        MAX_FLOW_ELEMENTS,
        "per survey",
    );
    count(
        "flow".into(),
        "embedded data fields",
        flow.fields,
        MAX_EMBEDDED_FIELDS,
        "per survey",
    );
    if flow.depth > MAX_FLOW_DEPTH {
        found.push(problem(
            "flow",
            format!(
                "branches and groups are nested {} deep, over the limit of {MAX_FLOW_DEPTH}",
                flow.depth
            ),
        ));
    }
    check_texts(definition, &mut found);
    let hours = definition.options.incomplete_after_hours;
    if hours < MIN_INCOMPLETE_AFTER_HOURS {
        found.push(problem(
            "options.incomplete_after_hours",
            format!(
                "must be at least {MIN_INCOMPLETE_AFTER_HOURS} hour (was {hours}): a shorter window closes responses while respondents are still answering"
            ),
        ));
    }
    found
}

#[derive(Default)]
struct FlowCount {
    elements: usize,
    fields: usize,
    depth: usize,
}

impl FlowCount {
    fn walk(&mut self, flow: &[FlowElement], depth: usize) {
        self.depth = self.depth.max(depth);
        for element in flow {
            self.elements += 1;
            match element {
                FlowElement::EmbeddedData { fields } => self.fields += fields.len(),
                FlowElement::Branch { flow, .. } | FlowElement::Group { flow, .. } => {
                    // Deeper than the limit is reported once; no need to walk further down.
                    if depth <= MAX_FLOW_DEPTH {
                        self.walk(flow, depth + 1);
                    }
                }
                FlowElement::Block { .. } | FlowElement::EndSurvey { .. } => {}
            }
        }
    }
}

/// Every authored text over [`MAX_TEXT_BYTES`]; paths are only made for those.
fn check_texts(definition: &SurveyDefinition, found: &mut Vec<DefinitionError>) {
    let mut text = |path: &dyn Fn() -> String, t: &str| {
        if t.len() > MAX_TEXT_BYTES {
            found.push(problem(
                path(),
                format!(
                    "this text is {} bytes, over the limit of {MAX_TEXT_BYTES} bytes (100 KiB)",
                    t.len()
                ),
            ));
        }
    };
    text(&|| "name".into(), &definition.name);
    text(&|| "end_message".into(), &definition.end_message);
    for block in &definition.blocks {
        text(
            &|| format!("blocks[{}].description", block.id),
            &block.description,
        );
    }
    for q in &definition.questions {
        text(&|| format!("questions[{}].text", q.id), &q.text);
        text(&|| format!("questions[{}].export_tag", q.id), &q.export_tag);
        let lists: Vec<(&str, &[Choice])> = match &q.kind {
            QuestionKind::MultipleChoice { choices, .. } => vec![("choices", choices)],
            QuestionKind::Matrix { statements, scale } => {
                vec![("statements", statements), ("scale", scale)]
            }
            QuestionKind::Slider { statements, .. } => vec![("statements", statements)],
            QuestionKind::Nps {
                low_label,
                high_label,
            } => {
                text(&|| format!("questions[{}].low_label", q.id), low_label);
                text(&|| format!("questions[{}].high_label", q.id), high_label);
                Vec::new()
            }
            _ => Vec::new(),
        };
        for (list, choices) in lists {
            for c in choices {
                text(&|| format!("questions[{}].{list}[{}]", q.id, c.id), &c.text);
            }
        }
    }
    flow_texts(&definition.flow, &|| "flow".into(), &mut text, 1);
}

fn flow_texts(
    flow: &[FlowElement],
    path: &dyn Fn() -> String,
    text: &mut dyn FnMut(&dyn Fn() -> String, &str),
    depth: usize,
) {
    for (i, element) in flow.iter().enumerate() {
        let here = || format!("{}[{i}]", path());
        match element {
            FlowElement::EndSurvey {
                message: Some(message),
            } => text(&|| format!("{}.message", here()), message),
            FlowElement::EmbeddedData { fields } => {
                for f in fields {
                    if let EmbeddedValue::Fixed(v) = &f.value {
                        text(&|| format!("{}.{}", here(), f.name), v);
                    }
                }
            }
            FlowElement::Branch { flow, .. } | FlowElement::Group { flow, .. }
                if depth <= MAX_FLOW_DEPTH =>
            {
                flow_texts(flow, &|| format!("{}.flow", here()), text, depth + 1)
            }
            _ => {}
        }
    }
}
