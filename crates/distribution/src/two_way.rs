//! A survey asked by text message: one question per message, the reply read as its answer.
//!
//! The conversation follows the survey as a respondent on the web would: pages in flow order
//! with branches evaluated on the answers so far ([`survey::flow`]), each page's questions as
//! its display logic gives them (decided when the page is reached, as on the web), then one at
//! a time. Descriptive text is sent with the next question (or the end message); timing
//! questions record nothing by text and are passed over.
//!
//! Only three kinds of question can be answered in a reply: NPS (`9`), single-answer multiple
//! choice (the choice's number or its text, any case) and text entry. [`check_survey`] refuses
//! every other kind before a distribution is created; should a survey be edited afterwards,
//! such questions are passed over like timing ones.
//!
//! STOP, START and the like are not answers and are not read here: the SMS transport handles
//! them (unsubscribing or resubscribing the phone) before a reply reaches [`read_reply`].

use directory::FieldError;
use serde::{Deserialize, Serialize};
use survey::definition::{FlowElement, Question, QuestionKind, SurveyDefinition, TextContent};
use survey::flow::{self, Cursor, Step};
use survey::piped::{self, PipeContext};
use survey::{html, validate, Answer};

/// Where a conversation stands: the page being asked and which of its questions. Stored with
/// the response between messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position {
    cursor: Cursor,
    /// Index into the page's questions.
    index: usize,
}

/// What to send next.
#[derive(Debug, Clone, PartialEq)]
pub enum Turn {
    /// Ask this question; `text` is the whole message (descriptive text before it included).
    Ask {
        position: Position,
        question_id: String,
        text: String,
    },
    /// The survey is over: send `text` (the end message) and finish the response.
    End { text: String },
}

/// How a reply reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Answer(Answer),
    /// The reply does not fit: send the hint and wait for another.
    Reask {
        hint: String,
    },
}

/// Refuses surveys with questions a reply cannot answer, naming each (`questions[QID7]`).
pub fn check_survey(definition: &SurveyDefinition) -> Result<(), Vec<FieldError>> {
    let mut problems = Vec::new();
    let mut askable = 0;
    for question in placed_questions(definition) {
        let kind = match &question.kind {
            QuestionKind::Nps { .. }
            | QuestionKind::TextEntry { .. }
            | QuestionKind::MultipleChoice {
                multiple: false, ..
            } => {
                askable += 1;
                continue;
            }
            QuestionKind::Descriptive | QuestionKind::Timing { .. } => continue,
            QuestionKind::MultipleChoice { multiple: true, .. } => "a multiple-answer choice",
            QuestionKind::Matrix { .. } => "a matrix",
            QuestionKind::Slider { .. } => "a slider",
            QuestionKind::Unsupported { qualtrics_type, .. } => {
                problems.push(FieldError::new(
                    format!("questions[{}]", question.id),
                    format!("a {qualtrics_type} question cannot be answered by text"),
                ));
                continue;
            }
        };
        problems.push(FieldError::new(
            format!("questions[{}]", question.id),
            format!("{kind} question cannot be answered by text"),
        ));
    }
    if askable == 0 && problems.is_empty() {
        problems.push(FieldError::new(
            "questions",
            "the survey has no question to ask by text (NPS, single-answer multiple choice or text entry)",
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Questions in the blocks the flow can reach, each once, in flow order.
fn placed_questions(definition: &SurveyDefinition) -> Vec<&Question> {
    fn blocks<'d>(flow: &'d [FlowElement], out: &mut Vec<&'d str>) {
        for element in flow {
            match element {
                FlowElement::Block { block_id } => out.push(block_id),
                FlowElement::Branch { flow, .. } | FlowElement::Group { flow, .. } => {
                    blocks(flow, out)
                }
                FlowElement::EmbeddedData { .. } | FlowElement::EndSurvey { .. } => {}
            }
        }
    }
    let flow = flow::effective_flow(definition);
    let mut ids = Vec::new();
    blocks(&flow, &mut ids);
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for block in ids.into_iter().filter_map(|id| definition.block(id)) {
        for page in flow::block_pages(definition, block) {
            for id in page {
                if let Some(q) = definition.question(&id) {
                    if seen.insert(q.id.as_str()) {
                        out.push(q);
                    }
                }
            }
        }
    }
    out
}

/// What a question is to a conversation.
enum Part {
    Asked,
    Said,
    Passed,
}

fn part(question: &Question) -> Part {
    match &question.kind {
        QuestionKind::Nps { .. }
        | QuestionKind::TextEntry { .. }
        | QuestionKind::MultipleChoice {
            multiple: false, ..
        } => Part::Asked,
        QuestionKind::Descriptive => Part::Said,
        _ => Part::Passed,
    }
}

/// The first message of the conversation. `ctx.data` holds the embedded data the response
/// starts with.
pub fn start(ctx: &PipeContext) -> Turn {
    walk(ctx, flow::start(ctx.definition, ctx.data), 0)
}

/// The message after the question at `after` was answered (the answer already in `ctx.data`).
pub fn next(ctx: &PipeContext, after: &Position) -> Turn {
    match flow::page(ctx.definition, &after.cursor) {
        Some(page) => walk(ctx, Step::Page(page), after.index + 1),
        // The page is gone from the definition: carry on after where it was.
        None => walk(ctx, flow::next(ctx.definition, &after.cursor, ctx.data), 0),
    }
}

/// The question a position asks, to read a reply against it.
pub fn question_at<'d>(
    definition: &'d SurveyDefinition,
    position: &Position,
) -> Option<&'d Question> {
    let page = flow::page(definition, &position.cursor)?;
    definition.question(page.questions.get(position.index)?)
}

/// Every flow step moves forward through a finite flow; this bound only guards that reasoning.
const WALK_LIMIT: usize = 100_000;

fn walk(ctx: &PipeContext, mut step: Step, mut from: usize) -> Turn {
    let definition = ctx.definition;
    let mut said: Vec<String> = Vec::new();
    for _ in 0..WALK_LIMIT {
        let page = match step {
            Step::End { message } => {
                said.push(plain(&message, ctx));
                break;
            }
            Step::Page(page) => page,
        };
        for (index, id) in page.questions.iter().enumerate().skip(from) {
            let Some(question) = definition.question(id) else {
                continue;
            };
            match part(question) {
                Part::Asked => {
                    said.push(prompt(question, ctx));
                    return Turn::Ask {
                        position: Position {
                            cursor: page.cursor.clone(),
                            index,
                        },
                        question_id: id.clone(),
                        text: join(said),
                    };
                }
                Part::Said => said.push(plain(&question.text, ctx)),
                Part::Passed => {}
            }
        }
        step = flow::next(definition, &page.cursor, ctx.data);
        from = 0;
    }
    Turn::End { text: join(said) }
}

fn join(said: Vec<String>) -> String {
    said.into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Authored HTML with piped text as a text message.
fn plain(text: &str, ctx: &PipeContext) -> String {
    piped::render(&html::to_text(text), ctx).trim().to_string()
}

/// The message asking one question: its text, then how to answer (`Reply 0-10`, or the
/// choices numbered `1) Yes 2) No`).
pub fn prompt(question: &Question, ctx: &PipeContext) -> String {
    let text = plain(&question.text, ctx);
    match &question.kind {
        QuestionKind::Nps {
            low_label,
            high_label,
        } => {
            let labels: Vec<String> = [("0", low_label), ("10", high_label)]
                .into_iter()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(|(n, l)| format!("{n} = {}", plain(l, ctx)))
                .collect();
            if labels.is_empty() {
                format!("{text}\nReply 0-10")
            } else {
                format!("{text}\nReply 0-10 ({})", labels.join(", "))
            }
        }
        QuestionKind::MultipleChoice { choices, .. } => {
            let numbered: Vec<String> = choices
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{}) {}", i + 1, plain(&c.text, ctx)))
                .collect();
            format!("{text}\n{}", numbered.join(" "))
        }
        _ => text,
    }
}

/// Reads a reply as the answer to `question`, or says how to reply. Surrounding spaces are
/// ignored. A choice is picked by its number as prompted (`2`, `2)`, `2.`) or by its text
/// (any case, as authored without piped text); a number wins over a choice whose text is that
/// number. Answers are judged by the survey's own checks ([`validate::check_answer`]).
pub fn read_reply(question: &Question, reply: &str) -> Reply {
    let reply = reply.trim();
    let reask = |hint: &str| Reply::Reask { hint: hint.into() };
    match &question.kind {
        QuestionKind::Nps { .. } => {
            let hint = "Please reply with a number from 0 to 10.";
            match reply.parse::<f64>() {
                Ok(n) => judged(question, Answer::Number(n), hint),
                Err(_) => reask(hint),
            }
        }
        QuestionKind::MultipleChoice {
            multiple: false,
            choices,
        } => {
            let hint = format!("Please reply with a number from 1 to {}.", choices.len());
            let number = reply.trim_end_matches([')', '.']).trim_end();
            let by_number = number
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| choices.get(i));
            let wanted = reply.to_lowercase();
            let by_text = || {
                choices
                    .iter()
                    .find(|c| html::to_plain(&c.text).to_lowercase() == wanted)
            };
            match by_number.or_else(by_text) {
                Some(choice) => judged(
                    question,
                    Answer::Choices {
                        selected: vec![choice.id.clone()],
                        text: Default::default(),
                    },
                    &hint,
                ),
                None => reask(&hint),
            }
        }
        QuestionKind::TextEntry { content, .. } => {
            let hint = match content {
                TextContent::Any => "Please reply with your answer.",
                TextContent::Number => "Please reply with a number.",
                TextContent::Email => "Please reply with an email address.",
            };
            if reply.is_empty() {
                return reask(hint);
            }
            judged(question, Answer::Text(reply.to_string()), hint)
        }
        _ => reask("This question cannot be answered by text."),
    }
}

fn judged(question: &Question, answer: Answer, hint: &str) -> Reply {
    match validate::check_answer(question, &answer) {
        Ok(()) => Reply::Answer(answer),
        Err(_) => Reply::Reask { hint: hint.into() },
    }
}

#[cfg(test)]
mod tests;
