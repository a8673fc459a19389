//! The survey builder: a new survey by name, the builder page (blocks and their questions and
//! page breaks, each changed by a plain form POST, beside a live preview), the question editor
//! (`question_page`), the flow editor (`flow_page`) and the end message (`end_message`).
//!
//! Every change is one `survey::edit::Edit` through `Sonde::edit_survey`, the same op the API's
//! `POST /api/v1/surveys/{id}/edits` takes, so the builder and a script do the same thing. Each
//! form carries the version it was rendered from (`expected_version`): a change made from an
//! older version is refused with a "reload" message instead of silently undoing someone else's.

mod end_message;
mod flow_form;
pub mod flow_page;
mod question_form;
pub mod question_page;
mod rows;

pub use end_message::{end_message_form, save_end_message};

use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::page_with_status;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use engine::surveys::Survey;
use engine::{Error, Role};
use maud::{html, Markup};
use survey::edit::Edit;
use survey::{BlockElement, FlowElement, Question, QuestionKind, SurveyDefinition};

type PageResult = Result<Response, PageError>;

/// What a stale form is told: someone (or another tab) saved since it was rendered.
pub(crate) const STALE: &str = "This survey was changed by someone else (or in another tab) \
     since this page was opened, so your change was not saved. Reload the page to see the \
     current survey, then make the change again.";

/// A submitted form's fields, in the order the browser sent them.
pub(crate) struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, or "".
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// The form's version; blank (a script's form) means "whatever is current", as the API's
    /// `expectedVersion` left out does.
    pub(crate) fn expected_version(&self) -> Option<i64> {
        self.get("expected_version").trim().parse().ok()
    }
}

/// The survey, for someone who may change it: another organization's or one not shared is not
/// found (404) before a viewer is refused (403), as everywhere else.
pub(crate) async fn editable(
    state: &AppState,
    user: &WebUser,
    id: &str,
) -> Result<Survey, PageError> {
    let survey = state.sonde.survey(&user.actor, id).await?;
    user.actor.require(Role::Editor)?;
    Ok(survey)
}

/// The hidden fields every builder form carries.
pub(crate) fn form_state(user: &WebUser, survey: &Survey) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(user.csrf);
        input type="hidden" name="expected_version" value=(survey.version);
    }
}

/// The id of the error line under the input named `name` (`choices[1].text`), for its
/// `aria-describedby`.
pub(crate) fn err_id(name: &str) -> String {
    let id: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("err-{id}")
}

pub(crate) fn builder_url(id: &str) -> String {
    format!("/surveys/{id}/builder")
}

/// A refused save's status: a stale form 409, input to correct 422.
pub(crate) fn refusal_status(e: &Error) -> StatusCode {
    match e {
        Error::Conflict(_) => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// Whether a conflict is the engine's "made from an older version" (`Sonde::edit_survey`'s
/// words), rather than another reason the survey cannot change now.
fn is_stale(detail: &str) -> bool {
    detail.starts_with("the survey is at version")
}

/// The notice for a refusal that is not about a field: a stale form, or a survey that cannot
/// be changed now (its own words); nothing otherwise.
pub(crate) fn stale_notice(e: Option<&Error>, reload: &str) -> Markup {
    html! {
        @if let Some(Error::Conflict(detail)) = e {
            div.notice role="alert" id="stale" {
                @if is_stale(detail) {
                    p.error { (STALE) }
                    p.muted { (detail) }
                } @else {
                    p.error { "Not saved: " (detail) "." }
                }
                p { a.button href=(reload) { "Reload" } }
            }
        }
    }
}

/// The type a question is, in the builder's words.
pub(crate) fn kind_label(kind: &QuestionKind) -> String {
    match kind {
        QuestionKind::MultipleChoice {
            multiple: false, ..
        } => "Multiple choice (one answer)".into(),
        QuestionKind::MultipleChoice { multiple: true, .. } => {
            "Multiple choice (several answers)".into()
        }
        QuestionKind::Nps { .. } => "Net Promoter Score".into(),
        QuestionKind::TextEntry {
            multiline: false, ..
        } => "Text entry (single line)".into(),
        QuestionKind::TextEntry {
            multiline: true, ..
        } => "Text entry (essay)".into(),
        QuestionKind::Matrix { .. } => "Matrix / Likert".into(),
        QuestionKind::Slider { .. } => "Slider".into(),
        QuestionKind::Descriptive => "Descriptive text".into(),
        QuestionKind::Timing { .. } => "Timing".into(),
        QuestionKind::Unsupported { qualtrics_type, .. } => {
            format!("Not supported yet ({qualtrics_type})")
        }
    }
}

/// The types the "Add question" picker offers, by the name the question editor takes.
pub(crate) const NEW_TYPES: &[(&str, &str)] = &[
    ("multiple_choice", "Multiple choice"),
    ("nps", "Net Promoter Score (0–10)"),
    ("text_entry", "Text entry"),
    ("matrix", "Matrix / Likert"),
    ("slider", "Slider"),
    ("descriptive", "Descriptive text"),
    ("timing", "Timing"),
];

/// A question's text as one short line.
fn summary(q: &Question) -> String {
    let plain = survey::html::to_plain(&q.text);
    let plain = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    if plain.chars().count() > 140 {
        format!("{}…", plain.chars().take(140).collect::<String>())
    } else {
        plain
    }
}

/// A block's name as the builder shows it.
pub(crate) fn block_name(def: &SurveyDefinition, id: &str) -> String {
    match def.block(id) {
        Some(b) if !b.description.trim().is_empty() => format!("{} ({id})", b.description.trim()),
        Some(_) => format!("Block {id}"),
        None => format!("{id} (deleted)"),
    }
}

// ---------------------------------------------------------------- a new survey

pub async fn new_survey(user: WebUser) -> PageResult {
    user.actor.require(Role::Editor)?;
    Ok(new_survey_page(&user, "", None))
}

fn new_survey_page(user: &WebUser, name: &str, error: Option<&str>) -> Response {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page_with_status(
        user,
        status,
        "New survey",
        html! {
            h1 { "New survey" }
            div.card {
                form method="post" action="/surveys/new" {
                    input type="hidden" name="csrf" value=(user.csrf);
                    p {
                        label for="survey-name" { "Survey name" }
                        input type="text" id="survey-name" name="name" value=(name) required
                            aria-describedby="survey-name-help survey-name-error"
                            aria-invalid=[error.map(|_| "true")];
                        span.muted id="survey-name-help" { "Shown to the people who manage the survey; you can add questions next." }
                        @if let Some(e) = error { p.error id="survey-name-error" { (e) } }
                    }
                    button type="submit" { "Create and open the builder" }
                }
            }
        },
    )
}

pub async fn create_survey(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = Fields(form);
    user.check_csrf(form.get("csrf"))?;
    user.actor.require(Role::Editor)?;
    let name = form.get("name").trim();
    if name.is_empty() {
        return Ok(new_survey_page(&user, "", Some("Give the survey a name.")));
    }
    // One empty block and no flow (every block in order): the smallest survey the definition
    // check takes, ready for its first question.
    let definition = serde_json::json!({
        "name": name,
        "blocks": [{"id": "BL_1", "description": "", "elements": []}],
        "questions": [],
    });
    match state
        .sonde
        .create_survey(&user.actor, definition.to_string())
        .await
    {
        Ok(created) => Ok(Redirect::to(&builder_url(&created.survey.id)).into_response()),
        Err(Error::Invalid { message, problems }) => {
            let said = problems
                .first()
                .map(|p| p.message.clone())
                .unwrap_or(message);
            Ok(new_survey_page(&user, name, Some(&said)))
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- the builder page

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
                    button type="submit" { "Add question" }
                }
                @if !block.elements.is_empty() {
                    (op_button(user, survey, "add_page_break", &[("block_id", &block.id), ("position", &block.elements.len().to_string())],
                        "Add page break", &format!("Add a page break at the end of block {}", block.id), "secondary"))
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

/// The piped text an author may use in a text at this point of the survey: answers to the
/// questions placed before `before` (all of them when None), the declared embedded data
/// fields and the contact's and response's metadata. `(token, label)`.
pub(crate) fn pipes(
    def: &SurveyDefinition,
    before: Option<&str>,
) -> Vec<(&'static str, Vec<(String, String)>)> {
    let mut answers = Vec::new();
    'blocks: for block in &def.blocks {
        for e in &block.elements {
            if let BlockElement::Question { id } = e {
                if Some(id.as_str()) == before {
                    break 'blocks;
                }
                if let Some(q) = def.question(id) {
                    if q.is_displayed() && !matches!(q.kind, QuestionKind::Descriptive) {
                        answers.push((
                            format!("${{q://{id}/ChoiceGroup/SelectedChoices}}"),
                            format!("{}: {}", q.export_tag, summary(q)),
                        ));
                    }
                }
            }
        }
    }
    let mut fields = Vec::new();
    embedded_names(&def.flow, &mut fields);
    let embedded = fields
        .into_iter()
        .map(|n| (format!("${{e://Field/{n}}}"), n))
        .collect();
    let metadata = [
        ("${m://FirstName}", "Contact's first name"),
        ("${m://LastName}", "Contact's last name"),
        ("${m://Email}", "Contact's email"),
        ("${rm://ResponseID}", "Response ID"),
        ("${rm://StartDate}", "Start date"),
    ]
    .iter()
    .map(|(t, l)| (t.to_string(), l.to_string()))
    .collect();
    vec![
        ("Answers to earlier questions", answers),
        ("Embedded data", embedded),
        ("Contact and response", metadata),
    ]
}

fn embedded_names(flow: &[FlowElement], out: &mut Vec<String>) {
    for e in flow {
        match e {
            FlowElement::EmbeddedData { fields } => {
                for f in fields {
                    if !f.name.trim().is_empty() && !out.contains(&f.name) {
                        out.push(f.name.clone());
                    }
                }
            }
            FlowElement::Branch { flow, .. } | FlowElement::Group { flow, .. } => {
                embedded_names(flow, out)
            }
            _ => {}
        }
    }
}

/// The piped-text picker for the text area `target`: a list the script inserts from at the
/// cursor, and the same tokens written out to copy where there is no script.
pub(crate) fn pipe_picker(def: &SurveyDefinition, before: Option<&str>, target: &str) -> Markup {
    let groups = pipes(def, before);
    let picker = format!("{target}-pipe");
    html! {
        div.pipe-picker {
            label for=(picker) { "Insert piped text" }
            select id=(picker) data-pick-for=(target) aria-describedby={ (picker) "-help" } {
                option value="" { "Choose what to insert…" }
                @for (group, items) in &groups {
                    @if !items.is_empty() {
                        optgroup label=(group) {
                            @for (token, label) in items { option value=(token) { (label) } }
                        }
                    }
                }
            }
            details.hint id={ (picker) "-help" } {
                summary { "Piped text to copy" }
                dl.facts {
                    @for (_, items) in &groups {
                        @for (token, label) in items { dt { (label) } dd { code { (token) } } }
                    }
                }
            }
        }
    }
}
