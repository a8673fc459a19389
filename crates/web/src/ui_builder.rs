//! The survey builder: a new survey by name (here), the builder page (`builder_page`: blocks
//! and their questions and page breaks, each changed by a plain form POST, beside a live
//! preview), the question editor (`question_page` over `question_form`), the flow editor
//! (`flow_page` over `flow_form`) and the end message (`end_message`); what they share is
//! here (the forms' hidden fields, the stale-form notice, the piped-text picker).
//!
//! Every change is one `survey::edit::Edit` through `Sonde::edit_survey`, the same op the API's
//! `POST /api/v1/surveys/{id}/edits` takes, so the builder and a script do the same thing. Each
//! form carries the version it was rendered from (`expected_version`): a change made from an
//! older version is refused with a "reload" message instead of silently undoing someone else's.

mod builder_page;
mod end_message;
mod flow_form;
pub mod flow_page;
mod question_form;
pub mod question_page;
mod rows;

pub use builder_page::{builder, change};
pub use end_message::{end_message_form, save_end_message};

use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::page_with_status;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use engine::surveys::Survey;
use engine::{Error, Role};
use maud::{html, Markup};
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
    // The newest version: the draft the builder's changes make, ahead of what respondents get.
    let survey = state.sonde.survey_head(&user.actor, id).await?;
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
pub(crate) fn summary(q: &Question) -> String {
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
        .create_survey_as(
            &user.actor,
            definition.to_string(),
            store::surveys::Publishing::Draft,
        )
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
