//! The flow editor, `GET/POST /surveys/{id}/builder/flow`: the survey flow as an ordered list
//! — show a block, set embedded data (with the Salesforce IDs preset), a branch on an answer
//! or an embedded data value with the blocks and ends inside it, a group, end of survey —
//! with add, remove, move up and down buttons that re-render what was typed, saved as one
//! `SetFlow`. A refusal (a name declared twice, a branch on a deleted question) shows beside
//! its row, every row kept as typed.

use super::flow_form::{self, Element, Row};
use super::question_form::{Logic, OPERATORS};
use super::{
    block_name, builder_url, editable, err_id, form_state, refusal_status, stale_notice, Fields,
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
use engine::Error;
use maud::{html, Markup};
use serde::Deserialize;
use survey::edit::Edit;

type PageResult = Result<Response, PageError>;

#[derive(Deserialize)]
pub struct FlowQuery {
    #[serde(default)]
    saved: String,
}

pub async fn flow(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(q): Query<FlowQuery>,
) -> PageResult {
    let survey = editable(&state, &user, &id).await?;
    let rows = flow_form::rows_of(&survey.definition);
    Ok(render(
        &user,
        &survey,
        &rows,
        StatusCode::OK,
        None,
        q.saved == "1",
        "",
    ))
}

pub async fn save_flow(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = Fields(form);
    user.check_csrf(form.get("csrf"))?;
    let survey = editable(&state, &user, &id).await?;
    let mut rows = flow_form::read(&form);
    let button = form.get("row");
    if !button.is_empty() {
        let focus = flow_form::apply(&mut rows, &survey.definition, button).unwrap_or_default();
        return Ok(render(
            &user,
            &survey,
            &rows,
            StatusCode::OK,
            None,
            false,
            &focus,
        ));
    }
    let refuse = |e: Error| {
        Ok(render(
            &user,
            &survey,
            &rows,
            refusal_status(&e),
            Some(&e),
            false,
            "",
        ))
    };
    let flow = match flow_form::flow(&rows) {
        Ok(flow) => flow,
        Err(problems) => {
            return refuse(Error::invalid_fields(
                "the flow has rows to correct",
                problems,
            ))
        }
    };
    match state
        .sonde
        .edit_survey(
            &user.actor,
            &id,
            form.expected_version(),
            Edit::SetFlow { flow },
        )
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("{}/flow?saved=1", builder_url(&id))).into_response()),
        Err(e @ (Error::Invalid { .. } | Error::Conflict(_))) => refuse(e),
        Err(e) => Err(e.into()),
    }
}

fn kind_title(e: &Element) -> &'static str {
    match e {
        Element::Block { .. } => "Show block",
        Element::Embedded { .. } => "Set embedded data",
        Element::Branch { .. } => "Branch",
        Element::Group { .. } => "Group",
        Element::End { .. } => "End of survey",
    }
}

fn render(
    user: &WebUser,
    survey: &Survey,
    rows: &[Row],
    status: StatusCode,
    error: Option<&Error>,
    saved: bool,
    focus: &str,
) -> Response {
    let action = format!("{}/flow", builder_url(&survey.id));
    let errors = error.and_then(FieldErrors::of).unwrap_or_default();
    let paths = flow_form::paths(rows);
    // Rendered last row first: a row's problems are under its path (`flow[2]`), and its
    // nested rows' paths (`flow[2].flow[0]`) start with it, so they must take theirs first.
    let mut items: Vec<Markup> = rows
        .iter()
        .enumerate()
        .rev()
        .map(|(i, r)| row_item(survey, i, r, &paths[i], &errors, &action, focus))
        .collect();
    items.reverse();
    let summary = errors.summary();
    let body = html! {
        div.wide {
            p.crumbs { a href=(builder_url(&survey.id)) { "← Back to the builder" } }
            h1 { "Survey flow" }
            p.muted { "What respondents go through, in order. A branch runs what is inside it only when its test holds for the answers so far." }
            @if saved { p.ok role="status" id="saved" { "The flow was saved." } }
            (stale_notice(error, &action))
            (summary)
            form.flow-form method="post" action=(action) id="flow-form" novalidate {
                button.sr type="submit" tabindex="-1" aria-hidden="true" { "Save" }
                (form_state(user, survey))
                @if rows.is_empty() { p.muted { "The flow is empty: respondents see every block in order." } }
                ol.flow-rows id="flow-rows" { @for item in &items { (item) } }
                div.card.add-flow {
                    h2 { "Add to the flow" }
                    div.actions {
                        @for (kind, label) in [("block", "Show block"), ("embedded_data", "Set embedded data"), ("branch", "Branch"), ("group", "Group"), ("end_survey", "End of survey")] {
                            button.secondary type="submit" name="row" value={ "add:" (kind) } formaction={ (action) "#flow-rows" }
                                autofocus[focus == format!("add:{kind}")] { "Add " (label) }
                        }
                        button.secondary type="submit" name="row" value="salesforce" formaction={ (action) "#flow-rows" }
                            aria-describedby="salesforce-help" { "Salesforce IDs" }
                    }
                    p.muted id="salesforce-help" { "Declares sfContactId, sfAccountId and sfSurveyId, read from the survey link, at the start of the flow: responses then show on those records in Salesforce." }
                }
                div.actions {
                    button type="submit" name="save" value="1" { "Save flow" }
                    a.button.secondary href=(builder_url(&survey.id)) { "Cancel" }
                }
            }
        }
    };
    page_with_status(user, status, "Survey flow", body)
}

fn row_item(
    survey: &Survey,
    i: usize,
    r: &Row,
    path: &str,
    errors: &FieldErrors,
    action: &str,
    focus: &str,
) -> Markup {
    let def = &survey.definition;
    let p = format!("r{i}");
    let anchor = format!("{action}#row-{i}");
    let title = kind_title(&r.element);
    let heading = format!("row-{i}-title");
    let n = i + 1;
    let body = match &r.element {
        Element::Block { block_id } => {
            let known = def.block(block_id).is_some();
            html! {
                p {
                    label for={ (p) "-block" } { "Block" }
                    select id={ (p) "-block" } name={ (p) ".block_id" } aria-describedby=(err_id(path)) {
                        @if !known { option value=(block_id) selected { (block_name(def, block_id)) } }
                        @for b in &def.blocks { option value=(b.id) selected[b.id == *block_id] { (block_name(def, &b.id)) } }
                    }
                }
            }
        }
        Element::Embedded { fields } => html! {
            ol.ed-fields {
                @for (j, f) in fields.iter().enumerate() {
                    @let name_path = format!("{path}.fields[{j}].name");
                    li.ed-field {
                        p {
                            label for={ (p) "-f" (j) "-name" } { "Field name" }
                            input type="text" id={ (p) "-f" (j) "-name" } name={ (p) ".fields[" (j) "].name" } value=(f.name)
                                autofocus[focus == format!("{p}.fields[{j}].name")]
                                aria-describedby=(err_id(&name_path)) aria-invalid=[errors.has(&name_path).then_some("true")];
                            (errors.at(&name_path, &err_id(&name_path)))
                        }
                        p {
                            label for={ (p) "-f" (j) "-from" } { "Value" }
                            select id={ (p) "-f" (j) "-from" } name={ (p) ".fields[" (j) "].from" } {
                                option value="url" selected[f.from != "fixed"] { "From the survey link or contact" }
                                option value="fixed" selected[f.from == "fixed"] { "Set to" }
                            }
                        }
                        p {
                            label for={ (p) "-f" (j) "-value" } { "Set to (piped text allowed)" }
                            input type="text" id={ (p) "-f" (j) "-value" } name={ (p) ".fields[" (j) "].value" } value=(f.value);
                        }
                        button.secondary type="submit" name="row" value={ "field:remove:" (i) ":" (j) } formaction=(anchor)
                            aria-label={ "Remove field " (j + 1) " of row " (n) } { "Remove field" }
                    }
                }
            }
            button.secondary type="submit" name="row" value={ "field:add:" (i) } formaction=(anchor)
                autofocus[focus == format!("field:add:{i}")]
                aria-label={ "Add a field to row " (n) } { "Add field" }
        },
        Element::Branch { condition } => html! {
            (condition_fields(survey, &p, condition, &format!("{path}.condition"), errors, &anchor))
            (inside_buttons(i, n, &anchor))
        },
        Element::Group { description } => html! {
            p {
                label for={ (p) "-description" } { "Group name" }
                input type="text" id={ (p) "-description" } name={ (p) ".description" } value=(description);
            }
            (inside_buttons(i, n, &anchor))
        },
        Element::End { message } => html! {
            p {
                label for={ (p) "-message" } { "Message (blank: the survey's end message)" }
                textarea id={ (p) "-message" } name={ (p) ".message" } rows="2" { (message) }
            }
            (crate::ui_builder::pipe_picker(def, None, &format!("{p}-message")))
        },
    };
    html! {
        li class={ "flow-row depth-" (r.depth.min(6)) } id={ "row-" (i) } aria-labelledby=(heading) {
            input type="hidden" name={ (p) ".kind" } value=(r.element.kind());
            input type="hidden" name={ (p) ".depth" } value=(r.depth);
            p.flow-title id=(heading) tabindex=[(focus == format!("title:{i}")).then_some("-1")]
                autofocus[focus == format!("title:{i}")] { strong { (n) ". " (title) } @if r.depth > 0 { span.muted { " (inside the branch above)" } } }
            (body)
            (errors.at(path, &err_id(path)))
            div.actions.row-actions {
                button.secondary type="submit" name="row" value={ "up:" (i) } formaction=(anchor) autofocus[focus == format!("up:{i}")] aria-label={ "Move row " (n) " up" } { "Up" }
                button.secondary type="submit" name="row" value={ "down:" (i) } formaction=(anchor) autofocus[focus == format!("down:{i}")] aria-label={ "Move row " (n) " down" } { "Down" }
                button.secondary type="submit" name="row" value={ "remove:" (i) } formaction=(anchor) aria-label={ "Remove row " (n) } { "Remove" }
            }
        }
    }
}

fn inside_buttons(i: usize, n: usize, anchor: &str) -> Markup {
    html! {
        div.actions {
            button.secondary type="submit" name="row" value={ "inside:block:" (i) } formaction=(anchor)
                aria-label={ "Add a block inside row " (n) } { "Add block inside" }
            button.secondary type="submit" name="row" value={ "inside:end_survey:" (i) } formaction=(anchor)
                aria-label={ "Add an end of survey inside row " (n) } { "Add end of survey inside" }
        }
    }
}

/// A branch's test: an answer (question, test, value or choice) or an embedded data value;
/// an imported condition the form cannot show is kept as it is unless another is chosen.
fn condition_fields(
    survey: &Survey,
    p: &str,
    c: &Logic,
    path: &str,
    errors: &FieldErrors,
    anchor: &str,
) -> Markup {
    let def = &survey.definition;
    let prefix = format!("{p}.cond");
    let id = |k: &str| format!("{p}-cond-{k}");
    let mut questions: Vec<(String, String)> = def
        .questions
        .iter()
        .filter(|q| q.is_displayed())
        .map(|q| (q.id.clone(), format!("{} ({})", q.export_tag, q.id)))
        .collect();
    if !c.question.is_empty() && def.question(&c.question).is_none() {
        questions.insert(0, (c.question.clone(), format!("{} (deleted)", c.question)));
    }
    // The choices of the chosen question, to pick a value from (a value may also be typed).
    let choices: Vec<String> = def
        .question(&c.question)
        .map(|q| match &q.kind {
            survey::QuestionKind::MultipleChoice { choices, .. } => choices
                .iter()
                .map(|ch| format!("{} = {}", ch.id, survey::html::to_plain(&ch.text)))
                .collect(),
            _ => Vec::new(),
        })
        .unwrap_or_default();
    let err = err_id(path);
    html! {
        fieldset.condition aria-describedby=(err) {
            legend { "When" }
            div.field-row {
                p {
                    label for=(id("mode")) { "Test on" }
                    select id=(id("mode")) name={ (prefix) ".mode" } aria-invalid=[errors.has(path).then_some("true")] {
                        @if c.mode == "kept" { option value="kept" selected { "The imported condition below" } }
                        option value="answer" selected[c.mode == "answer"] { "An answer" }
                        option value="embedded" selected[c.mode == "embedded"] { "Embedded data" }
                    }
                }
                p {
                    label for=(id("question")) { "Question" }
                    select id=(id("question")) name={ (prefix) ".question" } data-refresh=(id("refresh")) {
                        option value="" { "—" }
                        @for (qid, label) in &questions { option value=(qid) selected[c.question == *qid] { (label) } }
                    }
                }
                p {
                    label for=(id("field")) { "Embedded data field" }
                    input type="text" id=(id("field")) name={ (prefix) ".field" } value=(c.field);
                }
                p {
                    label for=(id("op")) { "Test" }
                    select id=(id("op")) name={ (prefix) ".op" } {
                        @for (v, l) in OPERATORS { option value=(v) selected[c.op == *v] { (l) } }
                    }
                }
                p {
                    label for=(id("value")) { "Value or choice id" }
                    input type="text" id=(id("value")) name={ (prefix) ".value" } value=(c.value)
                        aria-describedby=[(!choices.is_empty()).then(|| id("choices"))];
                }
            }
            @if !choices.is_empty() {
                p.muted id=(id("choices")) { "Choices: " (choices.join(" · ")) }
            }
            // The page script presses this when another question is picked; without it, it
            // is a button like any other.
            button.secondary.small type="submit" name="row" value="refresh" id=(id("refresh"))
                formaction=(anchor) { "Show the question's choices" }
            @if c.mode == "kept" {
                input type="hidden" name={ (prefix) ".kept" } value=(c.kept);
                p.muted { "Imported: " code.long { (c.kept) } }
            }
            (errors.at(path, &err))
        }
    }
}
