//! The question editor: `GET/POST /surveys/{id}/builder/questions/{qid}` for a question and
//! `…/questions/new?block=BL_1&type=nps` for a new one in a block. Row buttons re-render the
//! form with what was typed; Save is one `AddQuestion` or `ReplaceQuestion`. A refusal comes
//! back 422 with each problem beside its input, whether the form found it (a bad number) or
//! the engine did (`question.choices[1].text`, `questions[QID3].choices`).

use super::question_form::{Kind, Logic, QuestionForm, Row, OPERATORS};
use super::{
    editable, err_id, form_state, pipe_picker, refusal_status, rows, stale_notice, Fields,
};
use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::page_with_status;
use crate::ui_field_errors::FieldErrors;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use engine::surveys::Survey;
use engine::{Error, FieldProblem};
use maud::{html, Markup};
use serde::Deserialize;
use survey::edit::Edit;
use survey::BlockElement;

type PageResult = Result<Response, PageError>;

/// Which question the page edits: one that exists, or a new one for a block.
enum Target {
    Existing(String),
    /// At `position` among the block's elements (None: last).
    New {
        block_id: String,
        position: Option<usize>,
    },
}

#[derive(Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    block: String,
    #[serde(default, rename = "type")]
    kind: String,
    /// Where in the block (an element index); blank for the end.
    #[serde(default)]
    position: String,
}

pub async fn new_question(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let survey = editable(&state, &user, &id).await?;
    let kind = Kind::parse(&q.kind).unwrap_or(Kind::MultipleChoice);
    let block_id = if survey.definition.block(&q.block).is_some() {
        q.block
    } else {
        let first = survey.definition.blocks.first();
        first.map(|b| b.id.clone()).ok_or(PageError(Error::invalid(
            "the survey has no block to add to",
        )))?
    };
    let form = QuestionForm::new(kind);
    Ok(render(
        &user,
        &survey,
        &Target::New {
            block_id,
            position: q.position.trim().parse().ok(),
        },
        &form,
        StatusCode::OK,
        None,
    ))
}

pub async fn edit_question(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, qid)): Path<(String, String)>,
) -> PageResult {
    let survey = editable(&state, &user, &id).await?;
    let q = survey
        .definition
        .question(&qid)
        .ok_or(PageError(Error::NotFound("question")))?;
    let form = QuestionForm::of(q);
    Ok(render(
        &user,
        &survey,
        &Target::Existing(qid),
        &form,
        StatusCode::OK,
        None,
    ))
}

pub async fn save_new_question(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = Fields(form);
    let target = Target::New {
        block_id: form.get("block_id").to_string(),
        position: form.get("position").trim().parse().ok(),
    };
    save(&state, &user, &id, target, form).await
}

pub async fn save_question(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, qid)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    save(&state, &user, &id, Target::Existing(qid), Fields(form)).await
}

async fn save(
    state: &AppState,
    user: &WebUser,
    id: &str,
    target: Target,
    form: Fields,
) -> PageResult {
    user.check_csrf(form.get("csrf"))?;
    let survey = editable(state, user, id).await?;
    if let Target::Existing(qid) = &target {
        if survey.definition.question(qid).is_none() {
            return Err(PageError(Error::NotFound("question")));
        }
    }
    let kind = Kind::parse(form.get("kind")).unwrap_or(Kind::Descriptive);
    let mut typed = QuestionForm::read(&form, kind);
    // "Change type": the same form as the other type, with what carries over.
    if form.get("row") == "retype" {
        if let Some(to) = Kind::parse(form.get("new_kind")) {
            typed.retype(to);
        }
        return Ok(render(user, &survey, &target, &typed, StatusCode::OK, None));
    }
    // A row button: the same form again, changed as asked, nothing saved.
    if let Some((list, op)) = rows::parse(form.get("row")) {
        typed.row_op(list, op);
        return Ok(render(user, &survey, &target, &typed, StatusCode::OK, None));
    }
    let refuse = |e: Error| {
        Ok(render(
            user,
            &survey,
            &target,
            &typed,
            refusal_status(&e),
            Some(&e),
        ))
    };
    let question = match typed.question() {
        Ok(q) => q,
        Err(problems) => {
            return refuse(Error::invalid_fields(
                "the question has fields to correct",
                problems,
            ))
        }
    };
    let edit = match &target {
        Target::Existing(qid) => Edit::ReplaceQuestion {
            question_id: qid.clone(),
            question,
        },
        Target::New { block_id, position } => Edit::AddQuestion {
            block_id: block_id.clone(),
            question,
            position: *position,
        },
    };
    match state
        .sonde
        .edit_survey(&user.actor, id, form.expected_version(), edit)
        .await
    {
        Ok(done) => {
            let qid = match (&target, done.created) {
                (Target::Existing(qid), _) => qid.clone(),
                (_, Some(created)) => created,
                (_, None) => String::new(),
            };
            Ok(Redirect::to(&format!("{}#q-{qid}", super::builder_url(id))).into_response())
        }
        Err(e @ (Error::Invalid { .. } | Error::Conflict(_))) => refuse(e),
        Err(e) => Err(e.into()),
    }
}

/// The engine's names for this question's parts, as the form's inputs are named: the edit's
/// `question.choices[1].text` and the definition check's `questions[QID3].choices` both become
/// `choices[1].text` / `choices`. A problem about another question keeps its name (it is said
/// above the form).
fn form_problems(e: &Error, qid: Option<&str>, survey: &Survey) -> Option<FieldErrors> {
    let Error::Invalid { message, problems } = e else {
        return None;
    };
    let local = |field: &str| -> Option<String> {
        if let Some(rest) = field.strip_prefix("question.") {
            return Some(rest.to_string());
        }
        let rest = field.strip_prefix("questions[")?;
        let (named, rest) = rest.split_once(']')?;
        // A new question's id is only chosen by the edit: any id the survey does not have yet.
        let ours = match qid {
            Some(q) => named == q,
            None => survey.definition.question(named).is_none(),
        };
        ours.then(|| {
            let rest = rest.trim_start_matches('.');
            if rest.is_empty() { "question" } else { rest }.to_string()
        })
    };
    let problems = problems
        .iter()
        .map(|p| FieldProblem {
            field: local(&p.field).unwrap_or_else(|| p.field.clone()),
            message: p.message.clone(),
        })
        .collect();
    FieldErrors::of(&Error::invalid_fields(message.clone(), problems))
}

fn render(
    user: &WebUser,
    survey: &Survey,
    target: &Target,
    form: &QuestionForm,
    status: StatusCode,
    error: Option<&Error>,
) -> Response {
    let def = &survey.definition;
    let (action, title, qid) = match target {
        Target::Existing(qid) => (
            format!("{}/questions/{qid}", super::builder_url(&survey.id)),
            format!("Edit question {}", form.export_tag),
            Some(qid.as_str()),
        ),
        Target::New { .. } => (
            format!("{}/questions/new", super::builder_url(&survey.id)),
            "New question".to_string(),
            None,
        ),
    };
    let errors = error
        .and_then(|e| form_problems(e, qid, survey))
        .unwrap_or_default();
    let invalid = |name: &str| errors.has(name).then_some("true");
    let kind_label = super::NEW_TYPES
        .iter()
        .find(|(k, _)| *k == form.kind.name())
        .map(|(_, l)| *l)
        .unwrap_or("Not supported yet");
    // Answers to pipe in: the questions before this one; a new one's are those before its
    // place, so the first question from its place on is where they stop.
    let before = match target {
        Target::Existing(qid) => Some(qid.clone()),
        Target::New { block_id, position } => def
            .blocks
            .iter()
            .skip_while(|b| b.id != *block_id)
            .enumerate()
            .flat_map(|(n, b)| {
                let from = if n == 0 {
                    position.unwrap_or(b.elements.len())
                } else {
                    0
                };
                b.elements.iter().skip(from)
            })
            .find_map(|e| match e {
                BlockElement::Question { id } => Some(id.clone()),
                BlockElement::PageBreak => None,
            }),
    };
    let fields = html! {
        form.question-form method="post" action=(action) id="question-form" novalidate {
            // Enter in a text box presses the form's first button: Save, not a row's "Move up".
            button.sr type="submit" tabindex="-1" aria-hidden="true" { "Save" }
            (form_state(user, survey))
            input type="hidden" name="kind" value=(form.kind.name());
            @if let Target::New { block_id, position } = target {
                input type="hidden" name="block_id" value=(block_id);
                @if let Some(p) = position { input type="hidden" name="position" value=(p); }
                p.muted { "A new question in " (super::block_name(def, block_id))
                    @if position.is_none() { ", at its end" } "." }
            }
            div.retype {
                p { "Type: " strong { (kind_label) } }
                @if form.kind != Kind::Unsupported {
                    label for="q-new-kind" { "Change type to" }
                    select id="q-new-kind" name="new_kind" {
                        @for (value, label) in super::NEW_TYPES {
                            option value=(value) selected[*value == form.kind.name()] { (label) }
                        }
                    }
                    button.secondary type="submit" name="row" value="retype" formaction={ (action) "#question-form" } { "Change type" }
                }
            }
            @if form.kind == Kind::Unsupported {
                input type="hidden" name="qualtrics_type" value=(form.unsupported.0);
                input type="hidden" name="selector" value=(form.unsupported.1);
                p.notice { "Qualtrics type " code { (form.unsupported.0) } " is shown to respondents as a placeholder; its text and settings can be changed here." }
            }
            div.field {
                label for="q-text" { @if form.kind == Kind::Descriptive { "Text to show" } @else { "Question text" } }
                textarea id="q-text" name="text" rows="4" aria-describedby={ (err_id("text")) " q-text-help" }
                    aria-invalid=[invalid("text")] { (form.text) }
                span.muted id="q-text-help" { "Simple HTML and piped text are allowed." }
                (errors.at("text", &err_id("text")))
                (pipe_picker(def, before.as_deref(), "q-text"))
            }
            div.field-row {
                p {
                    label for="q-tag" { "Export tag" }
                    input type="text" id="q-tag" name="export_tag" value=(form.export_tag)
                        aria-describedby={ (err_id("export_tag")) " q-tag-help" } aria-invalid=[invalid("export_tag")];
                    span.muted id="q-tag-help" { "The column name in exports; left blank, Q and the question's number." }
                    (errors.at("export_tag", &err_id("export_tag")))
                }
                @if !matches!(form.kind, Kind::Descriptive | Kind::Timing | Kind::Unsupported) {
                    p { label.opt for="q-required" {
                        input type="checkbox" id="q-required" name="required" value="1" checked[form.required];
                        "Force response (required)" } }
                }
            }
            (type_fields(form, &errors, &action))
            (logic_fields(survey, qid, &form.logic, &errors))
            div.actions {
                button type="submit" name="save" value="1" { "Save question" }
                a.button.secondary href=(super::builder_url(&survey.id)) { "Cancel" }
            }
        }
    };
    let summary = errors.summary();
    let builder = super::builder_url(&survey.id);
    let body = html! {
        div.wide {
            p.crumbs { a href=(super::builder_url(&survey.id)) { "← Back to the builder" } }
            h1 { (title) }
            (stale_notice(error, match target {
                Target::Existing(_) => &action,
                Target::New { .. } => &builder,
            }))
            (summary)
            div.card { (fields) }
        }
    };
    page_with_status(user, status, &title, body)
}

fn type_fields(form: &QuestionForm, errors: &FieldErrors, action: &str) -> Markup {
    let invalid = |name: &str| errors.has(name).then_some("true");
    let num = |name: &str, label: &str, value: &str| {
        html! {
            p {
                label for={ "q-" (name) } { (label) }
                input type="text" inputmode="decimal" id={ "q-" (name) } name=(name) value=(value)
                    aria-describedby=(err_id(name)) aria-invalid=[invalid(name)];
                (errors.at(name, &err_id(name)))
            }
        }
    };
    html! {
        @match form.kind {
            Kind::MultipleChoice => {
                fieldset.choice-mode {
                    legend { "Answers" }
                    label.opt { input type="radio" name="multiple" value="0" checked[!form.multiple]; "One answer" }
                    label.opt { input type="radio" name="multiple" value="1" checked[form.multiple]; "Several answers" }
                }
            }
            Kind::Nps => {
                div.field-row {
                    p { label for="q-low" { "Label under 0" } input type="text" id="q-low" name="low_label" value=(form.low_label); }
                    p { label for="q-high" { "Label under 10" } input type="text" id="q-high" name="high_label" value=(form.high_label); }
                }
            }
            Kind::TextEntry => {
                fieldset.choice-mode {
                    legend { "Box" }
                    label.opt { input type="radio" name="multiline" value="0" checked[!form.multiline]; "Single line" }
                    label.opt { input type="radio" name="multiline" value="1" checked[form.multiline]; "Essay (several lines)" }
                }
                p {
                    label for="q-content" { "Accept" }
                    select id="q-content" name="content" aria-describedby="q-content-help" {
                        @for (v, l) in [("any", "Any text"), ("number", "A number"), ("email", "An email address")] {
                            option value=(v) selected[form.content == v] { (l) }
                        }
                    }
                    span.muted id="q-content-help" { "Checked when the respondent submits the page." }
                }
            }
            Kind::Slider => {
                div.field-row {
                    (num("min", "Minimum", &form.min))
                    (num("max", "Maximum", &form.max))
                    (num("step", "Step", &form.step))
                }
            }
            Kind::Timing => {
                p {
                    label for="q-auto_advance_seconds" { "Move on by itself after (seconds, optional)" }
                    input type="text" inputmode="numeric" id="q-auto_advance_seconds" name="auto_advance_seconds" value=(form.auto_advance)
                        aria-describedby=(err_id("auto_advance_seconds")) aria-invalid=[invalid("auto_advance_seconds")];
                    (errors.at("auto_advance_seconds", &err_id("auto_advance_seconds")))
                }
                p.muted { "Invisible to respondents: records the seconds spent on its page." }
            }
            Kind::Matrix | Kind::Descriptive | Kind::Unsupported => {}
        }
        @for (list, heading, recodes, other) in form.kind.lists() {
            (row_list(form.list(list), list, heading, (*recodes, *other), errors, action, &form.focus))
        }
    }
}

fn capitalized(word: &str) -> String {
    let mut c = word.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// What one row of `list` is called in buttons' labels.
fn row_word(list: &str) -> &'static str {
    match list {
        "choices" => "choice",
        "statements" => "statement",
        _ => "scale point",
    }
}

fn row_list(
    rows: &[Row],
    list: &str,
    heading: &str,
    (recodes, other): (bool, bool),
    errors: &FieldErrors,
    action: &str,
    focus: &str,
) -> Markup {
    let word = row_word(list);
    let anchor = format!("{action}#{list}-list");
    let invalid = |name: &str| errors.has(name).then_some("true");
    // Each row's own problems first, so the list's line holds only what is about the list.
    let items: Vec<Markup> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let base = format!("{list}[{i}]");
            let text_name = format!("{base}.text");
            let text_id = format!("{list}-{i}-text");
            let n = i + 1;
            html! {
                li.row-item {
                    // Only the handle drags, so text in the row's boxes can still be selected.
                    span.drag-handle draggable="true" aria-hidden="true" title="Drag to reorder" { "⠿" }
                    input type="hidden" name={ (base) ".id" } value=(r.id);
                    div.row-fields {
                        p.grow {
                            label for=(text_id) { (capitalized(word)) " " (n) }
                            input type="text" id=(text_id) name=(text_name) value=(r.text)
                                aria-describedby={ (err_id(&base)) " " (err_id(&base)) "-row" } aria-invalid=[invalid(&base)]
                                autofocus[focus == text_name];
                        }
                        @if recodes {
                            p.recode {
                                label for={ (list) "-" (i) "-recode" } { "Recode" }
                                input type="text" id={ (list) "-" (i) "-recode" } name={ (base) ".recode" } value=(r.recode) placeholder=(r.id);
                            }
                        }
                        @if other {
                            p.other { label.opt {
                                input type="checkbox" name={ (base) ".other" } value="1" checked[r.other];
                                "Other — text entry" } }
                        }
                    }
                    // The text's own problem says just what is wrong; a row's other
                    // problems (a repeated id) say which part.
                    (errors.at(&text_name, &err_id(&base)))
                    (errors.at(&base, &format!("{}-row", err_id(&base))))
                    div.actions.row-actions {
                        button.secondary type="submit" name="row" value={ (list) ":up:" (i) } formaction=(anchor)
                            autofocus[focus == format!("{list}:up:{i}")]
                            disabled[i == 0] aria-label={ "Move " (word) " " (n) " up" } { "Up" }
                        button.secondary type="submit" name="row" value={ (list) ":down:" (i) } formaction=(anchor)
                            autofocus[focus == format!("{list}:down:{i}")]
                            disabled[i + 1 == rows.len()] aria-label={ "Move " (word) " " (n) " down" } { "Down" }
                        button.secondary type="submit" name="row" value={ (list) ":remove:" (i) } formaction=(anchor)
                            autofocus[focus == format!("{list}:remove:{i}")]
                            aria-label={ "Remove " (word) " " (n) } { "Remove" }
                    }
                }
            }
        })
        .collect();
    html! {
        fieldset.rows id={ (list) "-list" } aria-describedby=(err_id(list)) {
            legend { (heading) }
            (errors.at(list, &err_id(list)))
            ol.row-list data-rows=(list) { @for item in &items { (item) } }
            button.secondary type="submit" name="row" value={ (list) ":add" } formaction=(anchor)
                autofocus[focus == format!("{list}:add")] { "Add " (word) }
        }
    }
}

fn logic_fields(survey: &Survey, qid: Option<&str>, logic: &Logic, errors: &FieldErrors) -> Markup {
    let def = &survey.definition;
    let err = err_id("display_logic");
    let mut questions: Vec<(String, String)> = def
        .blocks
        .iter()
        .flat_map(|b| b.elements.iter())
        .filter_map(|e| match e {
            BlockElement::Question { id } if Some(id.as_str()) != qid => def
                .question(id)
                .filter(|q| q.is_displayed())
                .map(|q| (id.clone(), format!("{} ({id})", q.export_tag))),
            _ => None,
        })
        .collect();
    if !logic.question.is_empty() && !questions.iter().any(|(id, _)| *id == logic.question) {
        questions.push((
            logic.question.clone(),
            format!("{} (deleted)", logic.question),
        ));
    }
    let modes: &[(&str, &str)] = if logic.mode == "kept" {
        &[
            ("kept", "Keep the condition below"),
            ("", "Always show"),
            ("answer", "Only when an earlier answer…"),
            ("embedded", "Only when embedded data…"),
        ]
    } else {
        &[
            ("", "Always show"),
            ("answer", "Only when an earlier answer…"),
            ("embedded", "Only when embedded data…"),
        ]
    };
    html! {
        fieldset.logic id="display-logic" aria-describedby=(err) {
            legend { "Display logic (optional)" }
            p {
                label for="logic-mode" { "Show this question" }
                select id="logic-mode" name="logic.mode" aria-invalid=[errors.has("display_logic").then_some("true")] {
                    @for (v, l) in modes { option value=(v) selected[logic.mode == *v] { (l) } }
                }
            }
            @if logic.mode == "kept" {
                input type="hidden" name="logic.kept" value=(logic.kept);
                p.muted { "A condition from an import: " code.long { (logic.kept) } }
            }
            div.field-row {
                p {
                    label for="logic-question" { "Question (for an answer)" }
                    select id="logic-question" name="logic.question" {
                        option value="" { "—" }
                        @for (id, label) in &questions { option value=(id) selected[logic.question == *id] { (label) } }
                    }
                }
                p {
                    label for="logic-field" { "Embedded data field" }
                    input type="text" id="logic-field" name="logic.field" value=(logic.field);
                }
                p {
                    label for="logic-op" { "Test" }
                    select id="logic-op" name="logic.op" {
                        @for (v, l) in OPERATORS { option value=(v) selected[logic.op == *v] { (l) } }
                    }
                }
                p {
                    label for="logic-value" { "Value" }
                    input type="text" id="logic-value" name="logic.value" value=(logic.value);
                }
            }
            (errors.at("display_logic", &err))
            p.muted { "Answers from the same page cannot be tested: put the question after a page break." }
        }
    }
}
