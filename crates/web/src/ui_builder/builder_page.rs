//! The builder page, `GET/POST /surveys/{id}/builder`: each block with its questions (export
//! tag, type, text, required) and page breaks, every change a button in a form of its own
//! (copy, move up or down — across blocks at either end —, delete, page breaks, blocks), and
//! the survey's preview beside it in an `<iframe>`, reloaded with the page after each change.
//! The page script's drag and drop posts the same "move question" form.

use super::{
    block_name, builder_url, editable, form_state, kind_label, refusal_status, stale_notice,
    summary, Fields, NEW_TYPES,
};
use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::page_with_status;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use engine::surveys::Survey;
use engine::Error;
use maud::{html, Markup};
use survey::edit::Edit;
use survey::{BlockElement, Question, SurveyDefinition};

type PageResult = Result<Response, PageError>;

pub async fn builder(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    let survey = editable(&state, &user, &id).await?;
    Ok(builder_page(&user, &survey, StatusCode::OK, None))
}

/// One change from the builder page's buttons (copy, move, delete, page breaks, blocks), by
/// its `op` and the fields that op takes.
pub async fn change(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = Fields(form);
    user.check_csrf(form.get("csrf"))?;
    let edit = match edit_of(&form) {
        Ok(edit) => edit,
        Err(e) => {
            let survey = editable(&state, &user, &id).await?;
            return Ok(builder_page(&user, &survey, refusal_status(&e), Some(&e)));
        }
    };
    let anchor = match &edit {
        Edit::CopyQuestion { question_id } | Edit::MoveQuestion { question_id, .. } => {
            format!("#q-{question_id}")
        }
        Edit::AddPageBreak { block_id, .. }
        | Edit::DeletePageBreak { block_id, .. }
        | Edit::SetBlockDescription { block_id, .. }
        | Edit::MoveBlock { block_id, .. } => format!("#block-{block_id}"),
        _ => String::new(),
    };
    match state
        .sonde
        .edit_survey(&user.actor, &id, form.expected_version(), edit)
        .await
    {
        Ok(done) => {
            let anchor = match &done.created {
                Some(c) if c.starts_with("BL_") => format!("#block-{c}"),
                Some(c) => format!("#q-{c}"),
                None => anchor,
            };
            Ok(Redirect::to(&format!("{}{anchor}", builder_url(&id))).into_response())
        }
        Err(e @ (Error::Invalid { .. } | Error::Conflict(_))) => {
            let survey = editable(&state, &user, &id).await?;
            Ok(builder_page(&user, &survey, refusal_status(&e), Some(&e)))
        }
        Err(e) => Err(e.into()),
    }
}

/// The builder page's form as the edit it stands for.
fn edit_of(form: &Fields) -> Result<Edit, Error> {
    let text = |name: &str| form.get(name).trim().to_string();
    let number = |name: &str| {
        form.get(name).trim().parse::<usize>().map_err(|_| {
            Error::invalid_fields(
                "the change was refused",
                vec![engine::FieldProblem {
                    field: name.into(),
                    message: "is not a position".into(),
                }],
            )
        })
    };
    Ok(match form.get("op") {
        "add_block" => Edit::AddBlock {
            description: text("description"),
            after: Some(text("after")).filter(|a| !a.is_empty()),
        },
        "delete_block" => Edit::DeleteBlock {
            block_id: text("block_id"),
        },
        "set_block_description" => Edit::SetBlockDescription {
            block_id: text("block_id"),
            description: text("description"),
        },
        "move_block" => Edit::MoveBlock {
            block_id: text("block_id"),
            position: number("position")?,
        },
        "copy_question" => Edit::CopyQuestion {
            question_id: text("question_id"),
        },
        "move_question" => Edit::MoveQuestion {
            question_id: text("question_id"),
            block_id: text("block_id"),
            position: number("position")?,
        },
        "delete_question" => Edit::DeleteQuestion {
            question_id: text("question_id"),
        },
        "add_page_break" => Edit::AddPageBreak {
            block_id: text("block_id"),
            position: number("position")?,
        },
        "delete_page_break" => Edit::DeletePageBreak {
            block_id: text("block_id"),
            position: number("position")?,
        },
        other => {
            return Err(Error::invalid(format!(
                "the builder has no change {other:?}"
            )))
        }
    })
}

/// A button that makes one change: a form of its own, so it works with the keyboard and
/// without the script.
fn op_button(
    user: &WebUser,
    survey: &Survey,
    op: &str,
    fields: &[(&str, &str)],
    label: &str,
    aria_label: &str,
    class: &str,
) -> Markup {
    html! {
        form.inline method="post" action=(builder_url(&survey.id)) {
            (form_state(user, survey))
            input type="hidden" name="op" value=(op);
            @for (k, v) in fields { input type="hidden" name=(k) value=(v); }
            button type="submit" class=(class) aria-label=(aria_label)
                data-confirm=[(op.starts_with("delete")).then_some(aria_label)] { (label) }
        }
    }
}

/// Where "Move up"/"Move down" take element `i` of block `b`: within the block, or across
/// into the neighbouring block at its end or start.
fn move_target(def: &SurveyDefinition, b: usize, i: usize, up: bool) -> Option<(String, usize)> {
    let block = &def.blocks[b];
    if up {
        if i > 0 {
            Some((block.id.clone(), i - 1))
        } else {
            let prev = def.blocks.get(b.checked_sub(1)?)?;
            Some((prev.id.clone(), prev.elements.len()))
        }
    } else if i + 1 < block.elements.len() {
        Some((block.id.clone(), i + 1))
    } else {
        let next = def.blocks.get(b + 1)?;
        Some((next.id.clone(), 0))
    }
}

fn refusal_notice(e: Option<&Error>) -> Markup {
    html! {
        @if let Some(Error::Invalid { message, problems }) = e {
            div.notice role="alert" id="form-errors" {
                p.error { "Not changed: " (message) "." }
                @if !problems.is_empty() {
                    ul { @for p in problems { li { strong { (p.field) } ": " (p.message) } } }
                }
            }
        }
    }
}

pub(crate) fn builder_page(
    user: &WebUser,
    survey: &Survey,
    status: StatusCode,
    error: Option<&Error>,
) -> Response {
    let def = &survey.definition;
    let id = &survey.id;
    let preview = format!("/s/{id}?{}=1", crate::preview::PARAM);
    // What the save's own check warned about (piped text naming nothing, logic on the same
    // page…), said where the author is working; an empty survey's warning is plain to see.
    let warnings: Vec<String> = survey::validate::check_definition(def)
        .unwrap_or_default()
        .iter()
        .filter(|w| w.path != "questions")
        .map(|w| w.to_string())
        .collect();
    let body = html! {
        div.wide.builder {
            div.heading-row {
                h1 { "Build: " (survey.name) }
                p.crumbs { a href={ "/surveys/" (id) } { "Survey page" } }
            }
            nav.builder-links aria-label="Builder" {
                a.button.secondary href={ (builder_url(id)) "/flow" } id="flow-link" { "Survey flow" }
                a.button.secondary href={ (builder_url(id)) "/end-message" } id="end-message-link" { "End message" }
                a.button.secondary href=(preview) target="_blank" { "Preview in a new tab" }
            }
            (publish_strip(user, survey))
            (stale_notice(error, &builder_url(id)))
            (refusal_notice(error))
            @if !warnings.is_empty() {
                details.notice.warnings id="warnings" {
                    summary { (warnings.len()) " thing" @if warnings.len() != 1 { "s" } " to check (the survey works, but these are probably mistakes)" }
                    ul { @for w in &warnings { li { (w) } } }
                }
            }
            @if !def.flow.is_empty() {
                p.muted { "Respondents see the blocks in the order of the " a href={ (builder_url(id)) "/flow" } { "survey flow" } "." }
            }
            div.builder-cols {
                section.builder-editor aria-label="Blocks and questions" {
                    @for (b, block) in def.blocks.iter().enumerate() {
                        (block_card(user, survey, b, block))
                    }
                    div.card {
                        h2 { "Add a block" }
                        form method="post" action=(builder_url(id)) {
                            (form_state(user, survey))
                            input type="hidden" name="op" value="add_block";
                            p { label for="new-block-name" { "Block name (optional)" }
                                input type="text" id="new-block-name" name="description"; }
                            button type="submit" { "Add block" }
                        }
                    }
                    // The script's drag and drop submits this, the same change "Move up" makes.
                    form id="move-form" method="post" action=(builder_url(id)) hidden {
                        (form_state(user, survey))
                        input type="hidden" name="op" value="move_question";
                        input type="hidden" name="question_id" value="";
                        input type="hidden" name="block_id" value="";
                        input type="hidden" name="position" value="";
                    }
                }
                aside.builder-preview aria-label="Preview" {
                    h2 { "Preview" }
                    p.muted { "The current version, as respondents will see it; nothing you answer here is recorded." }
                    iframe src=(preview) title="Survey preview" id="preview-frame" {}
                }
            }
        }
    };
    page_with_status(user, status, &format!("Build {}", survey.name), body)
}

fn block_card(user: &WebUser, survey: &Survey, b: usize, block: &survey::Block) -> Markup {
    let def = &survey.definition;
    let heading = format!("heading-{}", block.id);
    let name = block_name(def, &block.id);
    let last = def.blocks.len() - 1;
    // The places a new question or page break can go: at the start, or after each question.
    let places: Vec<(String, String)> = if block.elements.is_empty() {
        Vec::new()
    } else {
        std::iter::once(("0".to_string(), "At the start".to_string()))
            .chain(block.elements.iter().enumerate().filter_map(|(i, e)| {
                match e {
                    BlockElement::Question { id } => def
                        .question(id)
                        .map(|q| ((i + 1).to_string(), format!("After {}", q.export_tag))),
                    BlockElement::PageBreak => None,
                }
            }))
            .collect()
    };
    html! {
        section.card.block id={ "block-" (block.id) } aria-labelledby=(heading) {
            div.heading-row {
                h2 id=(heading) { (name) }
                div.actions {
                    @if b > 0 {
                        (op_button(user, survey, "move_block", &[("block_id", &block.id), ("position", &(b - 1).to_string())],
                            "Move block up", &format!("Move block {} up", block.id), "secondary"))
                    }
                    @if b < last {
                        (op_button(user, survey, "move_block", &[("block_id", &block.id), ("position", &(b + 1).to_string())],
                            "Move block down", &format!("Move block {} down", block.id), "secondary"))
                    }
                    @if last > 0 {
                        (op_button(user, survey, "delete_block", &[("block_id", &block.id)],
                            "Delete block", &format!("Delete block {} and its questions", block.id), "danger"))
                    }
                }
            }
            details.rename {
                summary { "Rename block" }
                form method="post" action=(builder_url(&survey.id)) {
                    (form_state(user, survey))
                    input type="hidden" name="op" value="set_block_description";
                    input type="hidden" name="block_id" value=(block.id);
                    p { label for={ "name-" (block.id) } { "Block name" }
                        input type="text" id={ "name-" (block.id) } name="description" value=(block.description); }
                    button type="submit" { "Save name" }
                }
            }
            @if block.elements.is_empty() {
                p.muted.drop-end data-block=(block.id) data-position="0" { "No questions yet: add one below." }
            }
            ol.elements data-block=(block.id) {
                @for (i, element) in block.elements.iter().enumerate() {
                    @match element {
                        BlockElement::Question { id: qid } => {
                            @if let Some(q) = def.question(qid) {
                                (question_item(user, survey, b, i, q))
                            }
                        }
                        BlockElement::PageBreak => {
                            li.element.page-break data-block=(block.id) data-position=(i) {
                                span { "Page break" }
                                (op_button(user, survey, "delete_page_break", &[("block_id", &block.id), ("position", &i.to_string())],
                                    "Remove", &format!("Remove the page break at position {} of block {}", i + 1, block.id), "secondary"))
                            }
                        }
                    }
                }
            }
            div.actions.add-row {
                form.inline method="get" action={ (builder_url(&survey.id)) "/questions/new" } {
                    input type="hidden" name="block" value=(block.id);
                    label for={ "type-" (block.id) } { "Question type" }
                    select id={ "type-" (block.id) } name="type" {
                        @for (value, label) in NEW_TYPES { option value=(value) { (label) } }
                    }
                    @if !places.is_empty() {
                        label for={ "where-" (block.id) } { "Where" }
                        select id={ "where-" (block.id) } name="position" {
                            option value="" { "At the end" }
                            @for (value, label) in &places { option value=(value) { (label) } }
                        }
                    }
                    button type="submit" { "Add question" }
                }
                @if !block.elements.is_empty() {
                    form.inline method="post" action=(builder_url(&survey.id)) {
                        (form_state(user, survey))
                        input type="hidden" name="op" value="add_page_break";
                        input type="hidden" name="block_id" value=(block.id);
                        label for={ "break-" (block.id) } { "Page break" }
                        select id={ "break-" (block.id) } name="position" {
                            option value=(block.elements.len()) { "At the end" }
                            @for (value, label) in &places { option value=(value) { (label) } }
                        }
                        button.secondary type="submit" aria-label={ "Add a page break to block " (block.id) } { "Add page break" }
                    }
                }
            }
        }
    }
}

fn question_item(user: &WebUser, survey: &Survey, b: usize, i: usize, q: &Question) -> Markup {
    let def = &survey.definition;
    let block = &def.blocks[b];
    let edit = format!("{}/questions/{}", builder_url(&survey.id), q.id);
    let mover = |up: bool| {
        move_target(def, b, i, up).map(|(to, position)| {
            let label = if up { "Move up" } else { "Move down" };
            op_button(
                user,
                survey,
                "move_question",
                &[
                    ("question_id", &q.id),
                    ("block_id", &to),
                    ("position", &position.to_string()),
                ],
                label,
                &format!("{label}: {}", q.export_tag),
                "secondary",
            )
        })
    };
    html! {
        li.element.question id={ "q-" (q.id) } draggable="true" data-question=(q.id) data-block=(block.id) data-position=(i) {
            div.q-summary {
                p.q-head {
                    strong.tag { (q.export_tag) }
                    " " span.badge { (kind_label(&q.kind)) }
                    @if q.required { " " span.badge.required title="Force response" { "Required" } }
                    @if q.display_logic.is_some() { " " span.badge { "Display logic" } }
                }
                p.q-text { (summary(q)) }
            }
            div.actions {
                a.button href=(edit) aria-label={ "Edit " (q.export_tag) } { "Edit" }
                (op_button(user, survey, "copy_question", &[("question_id", &q.id)], "Copy", &format!("Copy {}", q.export_tag), "secondary"))
                @if let Some(m) = mover(true) { (m) }
                @if let Some(m) = mover(false) { (m) }
                (op_button(user, survey, "delete_question", &[("question_id", &q.id)], "Delete", &format!("Delete {}", q.export_tag), "danger"))
            }
        }
    }
}

/// Where the survey is in its life and, while the builder holds changes respondents do not see,
/// the Publish button (the survey page's, which first names workflows the draft would break).
fn publish_strip(user: &WebUser, survey: &Survey) -> Markup {
    use engine::survey_lifecycle::SurveyStatus;
    let status = survey.status();
    html! {
        div.card.publish-strip id="builder-status" {
            p {
                span class={ "badge survey-" (status.as_str()) } {
                    @match status {
                        SurveyStatus::Draft => "Draft",
                        SurveyStatus::Published => "Published",
                        SurveyStatus::Closed => "Closed",
                    }
                }
                " "
                @if status == SurveyStatus::Draft {
                    "Respondents cannot take it until it is published."
                } @else if survey.draft_version.is_some() {
                    "Your changes are a draft: respondents get the published version until you publish them."
                } @else {
                    "Respondents get what you see here."
                }
            }
            @if survey.has_unpublished_changes() && survey.archived_at.is_none() {
                form method="post" action={ "/surveys/" (survey.id) "/publish" } {
                    input type="hidden" name="csrf" value=(user.csrf);
                    button type="submit" id="builder-publish" { "Publish" }
                }
            }
        }
    }
}
