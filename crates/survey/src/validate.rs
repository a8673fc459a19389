//! Checks on definitions (references, choices, ranges, piped text) and on answers submitted
//! through the API or a page, with messages meant for the person who has to fix them.

use crate::definition::{
    Choice, Condition, FlowElement, Question, QuestionKind, SurveyDefinition, TextContent,
};
use crate::flow;
use crate::piped;
use crate::response::{Answer, ResponseData};
use std::collections::BTreeSet;

/// A definition that cannot be used. `line`/`column` are set for JSON syntax and shape errors
/// (0 otherwise); `path` names the place (`questions[QID3].choices`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    pub line: usize,
    pub column: usize,
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "line {}, column {}: {}",
                self.line, self.column, self.message
            )
        } else if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for DefinitionError {}

/// Something that works but is probably a mistake (undeclared piped field, unused question).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// An answer that does not fit its question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerError {
    pub question: String,
    pub message: String,
}

impl std::fmt::Display for AnswerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.question, self.message)
    }
}

struct Report {
    errors: Vec<DefinitionError>,
    warnings: Vec<Warning>,
}

impl Report {
    fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(DefinitionError {
            line: 0,
            column: 0,
            path: path.into(),
            message: message.into(),
        });
    }

    fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Warning {
            path: path.into(),
            message: message.into(),
        });
    }

    fn lint(&mut self, definition: &SurveyDefinition, path: &str, text: &str) {
        for issue in piped::lint_with(text, Some(definition)) {
            self.warn(path, issue.message);
        }
    }
}

/// Everything a definition needs to be served: each part within its limit
/// ([`crate::limits`]), unique ids, existing references, usable choices and ranges. Piped text
/// problems are warnings, since they only render empty.
pub fn check_definition(
    definition: &SurveyDefinition,
) -> Result<Vec<Warning>, Vec<DefinitionError>> {
    // Over a size limit nothing else is worth checking (and checking it would cost what the
    // limits are there to prevent).
    let over = crate::limits::check(definition);
    if !over.is_empty() {
        return Err(over);
    }
    let mut r = Report {
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    if definition.name.trim().is_empty() {
        r.warn("name", "the survey has no name");
    }
    if definition.questions.is_empty() {
        r.warn(
            "questions",
            "the survey has no questions: respondents would see only its end message",
        );
    }

    let mut block_ids = BTreeSet::new();
    let mut placed = BTreeSet::new();
    for block in &definition.blocks {
        let path = format!("blocks[{}]", block.id);
        if block.id.is_empty() {
            r.error("blocks", "a block has an empty id");
        }
        if !block_ids.insert(block.id.as_str()) {
            r.error(&path, format!("duplicate block id {}", block.id));
        }
        for element in &block.elements {
            if let crate::definition::BlockElement::Question { id } = element {
                if definition.question(id).is_none() {
                    r.error(&path, format!("unknown question {id}"));
                } else if !placed.insert(id.as_str()) {
                    r.warn(
                        &path,
                        format!("question {id} appears in more than one place"),
                    );
                }
            }
        }
    }

    let mut question_ids = BTreeSet::new();
    let mut export_tags = BTreeSet::new();
    for question in &definition.questions {
        let path = format!("questions[{}]", question.id);
        if question.id.is_empty() {
            r.error("questions", "a question has an empty id");
        }
        if !question_ids.insert(question.id.as_str()) {
            r.error(&path, format!("duplicate question id {}", question.id));
        }
        if !export_tags.insert(question.export_tag.as_str()) {
            r.warn(
                &path,
                format!(
                    "export tag {} is used by another question; export columns will repeat it",
                    question.export_tag
                ),
            );
        }
        if !placed.contains(question.id.as_str()) {
            r.warn(
                &path,
                "the question is in no block, so respondents never see it",
            );
        }
        r.lint(definition, &format!("{path}.text"), &question.text);
        check_question(definition, question, &path, &mut r);
        if let Some(condition) = &question.display_logic {
            let logic_path = format!("{path}.display_logic");
            check_condition(definition, condition, &logic_path, &mut r);
            if let Some(other) = same_page_references(definition, &question.id, condition) {
                r.warn(
                    logic_path,
                    format!("depends on {other}, which is on the same page; it is evaluated with the answers from earlier pages only"),
                );
            }
        }
    }

    check_flow(definition, &definition.flow, "flow", &mut r);
    r.lint(definition, "end_message", &definition.end_message);

    if r.errors.is_empty() {
        Ok(r.warnings)
    } else {
        Err(r.errors)
    }
}

fn check_question(definition: &SurveyDefinition, question: &Question, path: &str, r: &mut Report) {
    let check_list = |r: &mut Report, list: &[Choice], what: &str| {
        if list.is_empty() {
            r.error(
                format!("{path}.{what}"),
                format!("a {what} list must not be empty"),
            );
        }
        let mut ids = BTreeSet::new();
        for choice in list {
            if !ids.insert(choice.id.as_str()) {
                r.error(
                    format!("{path}.{what}"),
                    format!("duplicate id {}", choice.id),
                );
            }
            r.lint(
                definition,
                &format!("{path}.{what}[{}]", choice.id),
                &choice.text,
            );
        }
    };
    match &question.kind {
        QuestionKind::MultipleChoice { choices, .. } => check_list(r, choices, "choices"),
        QuestionKind::Matrix { statements, scale } => {
            check_list(r, statements, "statements");
            check_list(r, scale, "scale");
        }
        QuestionKind::Slider {
            min,
            max,
            step,
            statements,
        } => {
            check_list(r, statements, "statements");
            if min.partial_cmp(max) != Some(std::cmp::Ordering::Less) {
                r.error(
                    path,
                    format!("slider min ({min}) must be below max ({max})"),
                );
            }
            if step.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                r.error(path, format!("slider step ({step}) must be positive"));
            }
        }
        QuestionKind::Nps { .. }
        | QuestionKind::TextEntry { .. }
        | QuestionKind::Descriptive
        | QuestionKind::Timing { .. } => {}
        QuestionKind::Unsupported { qualtrics_type, .. } => r.warn(
            path,
            format!("question type {qualtrics_type} is not supported; it shows as a placeholder"),
        ),
    }
}

fn check_flow(definition: &SurveyDefinition, flow: &[FlowElement], path: &str, r: &mut Report) {
    for (i, element) in flow.iter().enumerate() {
        let here = format!("{path}[{i}]");
        match element {
            FlowElement::Block { block_id } => {
                if definition.block(block_id).is_none() {
                    r.error(&here, format!("unknown block {block_id}"));
                }
            }
            FlowElement::EmbeddedData { fields } => {
                for field in fields {
                    if field.name.trim().is_empty() {
                        r.error(&here, "an embedded data field has an empty name");
                    }
                    if let crate::definition::EmbeddedValue::Fixed(value) = &field.value {
                        r.lint(definition, &format!("{here}.{}", field.name), value);
                    }
                }
            }
            FlowElement::Branch { condition, flow } => {
                check_condition(definition, condition, &format!("{here}.condition"), r);
                check_flow(definition, flow, &format!("{here}.flow"), r);
            }
            FlowElement::Group { flow, .. } => {
                check_flow(definition, flow, &format!("{here}.flow"), r)
            }
            FlowElement::EndSurvey { message } => {
                if let Some(message) = message {
                    r.lint(definition, &format!("{here}.message"), message);
                }
            }
        }
    }
}

fn check_condition(
    definition: &SurveyDefinition,
    condition: &Condition,
    path: &str,
    r: &mut Report,
) {
    match condition {
        Condition::All { conditions } | Condition::Any { conditions } => {
            for c in conditions {
                check_condition(definition, c, path, r);
            }
        }
        Condition::Not { condition } => check_condition(definition, condition, path, r),
        Condition::Answer {
            question,
            statement,
            ..
        } => match definition.question(question) {
            None => r.error(path, format!("unknown question {question}")),
            Some(q) => {
                if let (
                    Some(s),
                    QuestionKind::Matrix { statements, .. }
                    | QuestionKind::Slider { statements, .. },
                ) = (statement, &q.kind)
                {
                    if !statements.iter().any(|c| c.id == *s) {
                        r.warn(path, format!("question {question} has no statement {s}"));
                    }
                }
            }
        },
        Condition::EmbeddedData { .. } | Condition::Metadata { .. } => {}
    }
}

/// A question on the same page as `question_id` that `condition` refers to, if any: display
/// logic cannot see answers to questions on the page being shown.
pub(crate) fn same_page_references(
    definition: &SurveyDefinition,
    question_id: &str,
    condition: &Condition,
) -> Option<String> {
    let mut referenced = Vec::new();
    referenced_questions(condition, &mut referenced);
    definition.blocks.iter().find_map(|block| {
        flow::block_pages(definition, block)
            .into_iter()
            .find(|page| page.iter().any(|q| q == question_id))
            .and_then(|page| {
                referenced
                    .iter()
                    .find(|r| page.iter().any(|q| q == *r))
                    .map(|r| r.to_string())
            })
    })
}

fn referenced_questions<'c>(condition: &'c Condition, out: &mut Vec<&'c str>) {
    match condition {
        Condition::All { conditions } | Condition::Any { conditions } => {
            for c in conditions {
                referenced_questions(c, out);
            }
        }
        Condition::Not { condition } => referenced_questions(condition, out),
        Condition::Answer { question, .. } => out.push(question),
        Condition::EmbeddedData { .. } | Condition::Metadata { .. } => {}
    }
}

/// Type checks for answers submitted through the API: each answer fits its question.
/// `required` is not enforced here (see [`check_required`]).
pub fn check_answers(
    definition: &SurveyDefinition,
    data: &ResponseData,
) -> Result<(), Vec<AnswerError>> {
    let errors: Vec<AnswerError> = data
        .answers
        .iter()
        .filter_map(|(id, answer)| {
            let message = match definition.question(id) {
                None => "no such question in this survey".to_string(),
                Some(question) => check_answer(question, answer).err()?,
            };
            Some(AnswerError {
                question: id.clone(),
                message,
            })
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Required questions on the respondent's path (given these answers) left unanswered.
pub fn check_required(definition: &SurveyDefinition, data: &ResponseData) -> Vec<AnswerError> {
    flow::displayed_questions(definition, data)
        .into_iter()
        .filter_map(|id| {
            let question = definition.question(&id)?;
            let message = missing_answer(question, data.answers.get(&id))?;
            Some(AnswerError {
                question: id,
                message,
            })
        })
        .collect()
}

/// Why a required question counts as unanswered, if it does.
pub(crate) fn missing_answer(question: &Question, answer: Option<&Answer>) -> Option<String> {
    if !question.required {
        return None;
    }
    let answerable = !matches!(
        question.kind,
        QuestionKind::Descriptive | QuestionKind::Timing { .. } | QuestionKind::Unsupported { .. }
    );
    if !answerable {
        return None;
    }
    let Some(answer) = answer.filter(|a| !a.is_empty()) else {
        return Some("Please answer this question.".into());
    };
    let all_rows = match (&question.kind, answer) {
        (QuestionKind::Matrix { statements, .. }, Answer::Matrix { rows }) => {
            statements.iter().all(|s| rows.contains_key(&s.id))
        }
        (QuestionKind::Slider { statements, .. }, Answer::Slider { values }) => {
            statements.iter().all(|s| values.contains_key(&s.id))
        }
        _ => true,
    };
    (!all_rows).then(|| "Please answer every statement.".into())
}

/// Whether one answer fits its question; the message is written for a respondent.
pub fn check_answer(question: &Question, answer: &Answer) -> Result<(), String> {
    match (&question.kind, answer) {
        (
            QuestionKind::MultipleChoice { multiple, choices },
            Answer::Choices { selected, text },
        ) => {
            if !multiple && selected.len() > 1 {
                return Err("Please choose only one option.".into());
            }
            let mut seen = BTreeSet::new();
            for id in selected {
                if !choices.iter().any(|c| c.id == *id) {
                    return Err(format!("Choice {id} is not one of the options."));
                }
                if !seen.insert(id) {
                    return Err(format!("Choice {id} is selected twice."));
                }
            }
            for id in text.keys() {
                match choices.iter().find(|c| c.id == *id) {
                    Some(c) if c.text_entry => {}
                    _ => return Err(format!("Choice {id} does not take text.")),
                }
            }
            Ok(())
        }
        (QuestionKind::Nps { .. }, Answer::Number(n)) => {
            if n.fract() == 0.0 && (0.0..=10.0).contains(n) {
                Ok(())
            } else {
                Err("Please choose a score from 0 to 10.".into())
            }
        }
        (QuestionKind::TextEntry { content, .. }, Answer::Text(text)) => {
            if text.trim().is_empty() {
                return Ok(());
            }
            match content {
                TextContent::Any => Ok(()),
                TextContent::Number => parse_number(text)
                    .map(|_| ())
                    .ok_or_else(|| "Please enter a number.".into()),
                TextContent::Email => {
                    if is_email(text.trim()) {
                        Ok(())
                    } else {
                        Err("Please enter a valid email address.".into())
                    }
                }
            }
        }
        (
            QuestionKind::TextEntry {
                content: TextContent::Number,
                ..
            },
            Answer::Number(n),
        ) => {
            if n.is_finite() {
                Ok(())
            } else {
                Err("Please enter a number.".into())
            }
        }
        (QuestionKind::Matrix { statements, scale }, Answer::Matrix { rows }) => {
            for (statement, value) in rows {
                if !statements.iter().any(|s| s.id == *statement) {
                    return Err(format!(
                        "Statement {statement} is not part of this question."
                    ));
                }
                if !scale.iter().any(|c| c.id == *value) {
                    return Err(format!("Choice {value} is not one of the options."));
                }
            }
            Ok(())
        }
        (
            QuestionKind::Slider {
                min,
                max,
                step,
                statements,
            },
            Answer::Slider { values },
        ) => {
            for (statement, value) in values {
                if !statements.iter().any(|s| s.id == *statement) {
                    return Err(format!(
                        "Statement {statement} is not part of this question."
                    ));
                }
                check_slider_value(*value, *min, *max, *step)?;
            }
            Ok(())
        }
        (QuestionKind::Timing { .. }, Answer::Timing { page_seconds }) => {
            if page_seconds.is_finite() && *page_seconds >= 0.0 {
                Ok(())
            } else {
                Err("Page time must be a non-negative number of seconds.".into())
            }
        }
        (QuestionKind::Descriptive, _) => Err("Descriptive text takes no answer.".into()),
        // Kept from an import; Sonde cannot judge the shape of an answer it does not render.
        (QuestionKind::Unsupported { .. }, _) => Ok(()),
        (kind, _) => Err(format!("Expected {}.", expected_shape(kind))),
    }
}

pub(crate) fn check_slider_value(value: f64, min: f64, max: f64, step: f64) -> Result<(), String> {
    let shown = crate::condition::format_number;
    if !value.is_finite() || value < min || value > max {
        return Err(format!(
            "Please choose a value between {} and {}.",
            shown(min),
            shown(max)
        ));
    }
    if step > 0.0 {
        let steps = (value - min) / step;
        if (steps - steps.round()).abs() > 1e-6 {
            return Err(format!(
                "Please choose a value in steps of {}.",
                shown(step)
            ));
        }
    }
    Ok(())
}

fn expected_shape(kind: &QuestionKind) -> &'static str {
    match kind {
        QuestionKind::MultipleChoice { .. } => {
            "{\"selected\": [choice ids], \"text\": {choice id: text}}"
        }
        QuestionKind::Nps { .. } => "a whole number from 0 to 10",
        QuestionKind::TextEntry { .. } => "a string",
        QuestionKind::Matrix { .. } => "{\"rows\": {statement id: scale choice id}}",
        QuestionKind::Slider { .. } => "{\"values\": {statement id: number}}",
        QuestionKind::Timing { .. } => "{\"page_seconds\": number}",
        QuestionKind::Descriptive => "no answer",
        QuestionKind::Unsupported { .. } => "anything",
    }
}

/// A number as people type it: surrounding spaces allowed, nothing else.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A pragmatic address check: one `@`, something before it, a dotted domain after it and no
/// spaces. Deliverability is the mail server's call, not ours.
pub(crate) fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && text.len() <= 254
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}
