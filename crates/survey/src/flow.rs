//! The respondent's path through the survey flow: which page comes next given the answers so
//! far, where the survey ends, and which embedded data fields the flow declares.

use crate::condition;
use crate::definition::{
    Block, BlockElement, EmbeddedField, EmbeddedValue, FlowElement, SurveyDefinition,
};
use crate::response::{Provenance, ResponseData};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeSet;

/// A position in the flow: the path of indices through nested flow elements down to a block
/// element, and the page within that block. Stored between requests as JSON.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Cursor {
    path: Vec<usize>,
    /// The block the path pointed at, so a cursor saved before the definition changed is not
    /// silently applied to a different block.
    block: String,
    page: usize,
    /// 1-based count of pages shown so far, including this one.
    number: usize,
    /// The questions shown, after display logic, so the page re-renders identically.
    #[serde(default)]
    questions: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Page(Page),
    /// `message` is raw piped text: the EndSurvey element's own message or the survey's.
    End {
        message: String,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub cursor: Cursor,
    /// Question ids in display order (timing questions included, they record the page).
    pub questions: Vec<String>,
    /// 1-based.
    pub number: usize,
}

/// The first page (or the end, when nothing is displayable).
pub fn start(definition: &SurveyDefinition, data: &ResponseData) -> Step {
    let flow = effective_flow(definition);
    let mut path = Vec::new();
    match walk(definition, &flow, &mut path, 0, data) {
        Found::Page { path, block, page } => make_page(definition, path, block, page, 1, data),
        Found::End(message) => end(definition, message),
        Found::Exhausted => end(definition, None),
    }
}

/// The page after `after`, evaluating branches with the answers so far.
pub fn next(definition: &SurveyDefinition, after: &Cursor, data: &ResponseData) -> Step {
    let flow = effective_flow(definition);
    let number = after.number + 1;
    // Another page of the same block?
    if let Some(FlowElement::Block { block_id }) = element_at(&flow, &after.path) {
        if *block_id == after.block {
            if let Some(block) = definition.block(block_id) {
                let pages = block_pages(definition, block);
                if let Some(page) = (after.page + 1..pages.len())
                    .find(|&p| displayable(definition, &pages[p], data))
                {
                    return make_page(
                        definition,
                        after.path.clone(),
                        block_id.clone(),
                        page,
                        number,
                        data,
                    );
                }
            }
        }
    }
    // Otherwise continue after the element, climbing out of branches and groups.
    for depth in (0..after.path.len()).rev() {
        let prefix = &after.path[..depth];
        let Some(list) = list_at(&flow, prefix) else {
            continue;
        };
        let mut path = prefix.to_vec();
        match walk(definition, list, &mut path, after.path[depth] + 1, data) {
            Found::Page { path, block, page } => {
                return make_page(definition, path, block, page, number, data)
            }
            Found::End(message) => return end(definition, message),
            Found::Exhausted => {}
        }
    }
    end(definition, None)
}

/// The page shown before `current` on the respondent's path (for a back button), replaying
/// the flow from the start with the answers so far. `None` on the first page.
pub fn previous(
    definition: &SurveyDefinition,
    current: &Cursor,
    data: &ResponseData,
) -> Option<Page> {
    let mut before: Option<Page> = None;
    let mut step = start(definition, data);
    // Bounded like `displayed_questions`: each step moves forward through a finite flow.
    for _ in 0..100_000 {
        let Step::Page(page) = step else {
            return None;
        };
        if page.cursor.path == current.path && page.cursor.page == current.page {
            return before;
        }
        step = next(definition, &page.cursor, data);
        before = Some(page);
    }
    None
}

/// The page a cursor points at, to render it again (after a validation error, or a reload).
/// `None` when the definition no longer has that page.
pub fn page(definition: &SurveyDefinition, cursor: &Cursor) -> Option<Page> {
    let flow = effective_flow(definition);
    let FlowElement::Block { block_id } = element_at(&flow, &cursor.path)? else {
        return None;
    };
    if *block_id != cursor.block {
        return None;
    }
    let pages = block_pages(definition, definition.block(block_id)?);
    let mut questions = pages.get(cursor.page)?.clone();
    // Show what was shown, minus questions since removed from the survey.
    if !cursor.questions.is_empty() {
        questions.retain(|id| cursor.questions.contains(id));
    }
    Some(Page {
        cursor: cursor.clone(),
        questions,
        number: cursor.number,
    })
}

/// Percent of the flow's pages before this one, counting every page of every branch (so a
/// respondent skipping a branch sees the bar jump, as in Qualtrics).
pub fn progress(definition: &SurveyDefinition, cursor: &Cursor) -> u8 {
    let flow = effective_flow(definition);
    let mut all = Vec::new();
    let mut path = Vec::new();
    all_pages(definition, &flow, &mut path, &mut all);
    if all.is_empty() {
        return 100;
    }
    let position = all
        .iter()
        .position(|(p, page)| *p == cursor.path && *page == cursor.page)
        .unwrap_or(0);
    ((position * 100) / all.len()).min(100) as u8
}

/// Every embedded data field declared anywhere in the flow; the first declaration of a name wins.
pub fn declared_embedded_fields(definition: &SurveyDefinition) -> Vec<&EmbeddedField> {
    fn collect<'a>(
        flow: &'a [FlowElement],
        seen: &mut BTreeSet<&'a str>,
        out: &mut Vec<&'a EmbeddedField>,
    ) {
        for element in flow {
            match element {
                FlowElement::EmbeddedData { fields } => {
                    for field in fields {
                        if seen.insert(field.name.as_str()) {
                            out.push(field);
                        }
                    }
                }
                FlowElement::Branch { flow, .. } | FlowElement::Group { flow, .. } => {
                    collect(flow, seen, out)
                }
                FlowElement::Block { .. } | FlowElement::EndSurvey { .. } => {}
            }
        }
    }
    let mut out = Vec::new();
    collect(&definition.flow, &mut BTreeSet::new(), &mut out);
    out
}

/// Values offered for a response's embedded data, all from one place.
pub type EmbeddedSource<'a> = (Provenance, &'a [(String, String)]);

/// Embedded data at the start of a response, with where each value came from. URL-sourced
/// ("from the link") fields take the first source, in the order given, that has a value (exact
/// name first, then case-insensitive): a personal link lists its contact's data before the
/// query string, so an edited link cannot override it. Fixed values are the survey's.
/// Undeclared names are ignored so a link cannot inject fields the survey never asked for.
pub fn initial_embedded_data(
    definition: &SurveyDefinition,
    sources: &[EmbeddedSource],
) -> ResponseData {
    let mut data = ResponseData::default();
    for field in declared_embedded_fields(definition) {
        let found = match &field.value {
            EmbeddedValue::Url => sources.iter().find_map(|(provenance, pairs)| {
                let value = pairs.iter().find(|(k, _)| *k == field.name).or_else(|| {
                    pairs
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(&field.name))
                });
                value.map(|(_, v)| (v.clone(), *provenance))
            }),
            EmbeddedValue::Fixed(v) => Some((v.clone(), Provenance::Survey)),
        };
        if let Some((value, provenance)) = found {
            data.embedded_data.insert(field.name.clone(), value);
            data.provenance.insert(field.name.clone(), provenance);
        }
    }
    data
}

/// Whether `name` is a declared embedded data field filled from the link, matched the way
/// [`initial_embedded_data`] matches query parameters (case-insensitively).
pub fn is_url_field(definition: &SurveyDefinition, name: &str) -> bool {
    declared_embedded_fields(definition)
        .iter()
        .any(|f| f.value == EmbeddedValue::Url && f.name.eq_ignore_ascii_case(name))
}

/// The question ids of every page the respondent's answers lead through, start to end.
pub fn displayed_questions(definition: &SurveyDefinition, data: &ResponseData) -> Vec<String> {
    let mut out = Vec::new();
    let mut step = start(definition, data);
    // Each step moves strictly forward through a finite flow, so this ends; the bound is a
    // second guard against a mistake in that reasoning.
    for _ in 0..100_000 {
        match step {
            Step::Page(page) => {
                out.extend(page.questions.iter().cloned());
                step = next(definition, &page.cursor, data);
            }
            Step::End { .. } => break,
        }
    }
    out
}

/// The flow respondents follow: as authored, or every block in order when none is authored.
pub fn effective_flow(definition: &SurveyDefinition) -> Cow<'_, [FlowElement]> {
    if definition.flow.is_empty() {
        Cow::Owned(
            definition
                .blocks
                .iter()
                .map(|b| FlowElement::Block {
                    block_id: b.id.clone(),
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(&definition.flow)
    }
}

/// A block's pages: its questions split at page breaks; ids of missing questions dropped.
pub fn block_pages(definition: &SurveyDefinition, block: &Block) -> Vec<Vec<String>> {
    let mut pages = vec![Vec::new()];
    for element in &block.elements {
        match element {
            BlockElement::Question { id } => {
                if definition.question(id).is_some() {
                    pages.last_mut().expect("never empty").push(id.clone());
                }
            }
            BlockElement::PageBreak => pages.push(Vec::new()),
        }
    }
    pages
}

enum Found {
    Page {
        path: Vec<usize>,
        block: String,
        page: usize,
    },
    End(Option<String>),
    Exhausted,
}

/// Looks for the first page or end in `list[from..]`, descending into branches whose
/// condition holds and into groups. `path` is the prefix leading to `list`.
fn walk(
    definition: &SurveyDefinition,
    list: &[FlowElement],
    path: &mut Vec<usize>,
    from: usize,
    data: &ResponseData,
) -> Found {
    for (i, element) in list.iter().enumerate().skip(from) {
        path.push(i);
        match element {
            FlowElement::Block { block_id } => {
                if let Some(block) = definition.block(block_id) {
                    let pages = block_pages(definition, block);
                    if let Some(page) = pages.iter().position(|p| displayable(definition, p, data))
                    {
                        return Found::Page {
                            path: path.clone(),
                            block: block_id.clone(),
                            page,
                        };
                    }
                }
            }
            FlowElement::EmbeddedData { .. } => {}
            FlowElement::Branch { condition, flow } => {
                if condition::evaluate(condition, definition, data, None) {
                    let found = walk(definition, flow, path, 0, data);
                    if !matches!(found, Found::Exhausted) {
                        return found;
                    }
                }
            }
            FlowElement::Group { flow, .. } => {
                let found = walk(definition, flow, path, 0, data);
                if !matches!(found, Found::Exhausted) {
                    return found;
                }
            }
            FlowElement::EndSurvey { message } => return Found::End(message.clone()),
        }
        path.pop();
    }
    Found::Exhausted
}

fn all_pages(
    definition: &SurveyDefinition,
    list: &[FlowElement],
    path: &mut Vec<usize>,
    out: &mut Vec<(Vec<usize>, usize)>,
) {
    for (i, element) in list.iter().enumerate() {
        path.push(i);
        match element {
            FlowElement::Block { block_id } => {
                if let Some(block) = definition.block(block_id) {
                    for (p, questions) in block_pages(definition, block).iter().enumerate() {
                        if has_visible_question(definition, questions) {
                            out.push((path.clone(), p));
                        }
                    }
                }
            }
            FlowElement::Branch { flow, .. } | FlowElement::Group { flow, .. } => {
                all_pages(definition, flow, path, out)
            }
            FlowElement::EmbeddedData { .. } | FlowElement::EndSurvey { .. } => {}
        }
        path.pop();
    }
}

/// Whether a page shows anything to this respondent.
fn displayable(definition: &SurveyDefinition, questions: &[String], data: &ResponseData) -> bool {
    questions.iter().any(|id| shown(definition, id, data))
}

/// Whether a page could show anything to someone (progress counts these pages).
fn has_visible_question(definition: &SurveyDefinition, questions: &[String]) -> bool {
    questions
        .iter()
        .any(|id| definition.question(id).is_some_and(|q| q.is_displayed()))
}

/// A question is shown when it is visible at all and its display logic holds.
fn shown(definition: &SurveyDefinition, id: &str, data: &ResponseData) -> bool {
    definition.question(id).is_some_and(|q| {
        q.is_displayed()
            && q.display_logic
                .as_ref()
                .is_none_or(|c| condition::evaluate(c, definition, data, None))
    })
}

/// The questions of a page this respondent gets: timing questions always (they record the
/// page), the others when their display logic holds.
fn page_questions(
    definition: &SurveyDefinition,
    questions: Vec<String>,
    data: &ResponseData,
) -> Vec<String> {
    questions
        .into_iter()
        .filter(|id| {
            definition
                .question(id)
                .is_some_and(|q| !q.is_displayed() || shown(definition, id, data))
        })
        .collect()
}

fn list_at<'a>(flow: &'a [FlowElement], prefix: &[usize]) -> Option<&'a [FlowElement]> {
    let mut list = flow;
    for &i in prefix {
        list = match list.get(i)? {
            FlowElement::Branch { flow, .. } | FlowElement::Group { flow, .. } => flow,
            _ => return None,
        };
    }
    Some(list)
}

fn element_at<'a>(flow: &'a [FlowElement], path: &[usize]) -> Option<&'a FlowElement> {
    let (last, prefix) = path.split_last()?;
    list_at(flow, prefix)?.get(*last)
}

fn make_page(
    definition: &SurveyDefinition,
    path: Vec<usize>,
    block: String,
    page: usize,
    number: usize,
    data: &ResponseData,
) -> Step {
    let questions = definition
        .block(&block)
        .and_then(|b| block_pages(definition, b).into_iter().nth(page))
        .unwrap_or_default();
    let questions = page_questions(definition, questions, data);
    Step::Page(Page {
        cursor: Cursor {
            path,
            block,
            page,
            number,
            questions: questions.clone(),
        },
        questions,
        number,
    })
}

fn end(definition: &SurveyDefinition, message: Option<String>) -> Step {
    Step::End {
        message: message.unwrap_or_else(|| definition.end_message.clone()),
    }
}
