//! The end message, `GET/POST /surveys/{id}/builder/end-message`: what respondents read when
//! the flow runs out (an End of survey element may say its own), with the piped-text picker,
//! saved with `SetEndMessage`.

use super::{builder_url, editable, form_state, pipe_picker, refusal_status, stale_notice, Fields};
use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::page_with_status;
use crate::ui_field_errors::FieldErrors;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use engine::surveys::Survey;
use engine::Error;
use maud::html;
use survey::edit::Edit;

type PageResult = Result<Response, PageError>;

pub async fn end_message_form(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    let survey = editable(&state, &user, &id).await?;
    let message = survey.definition.end_message.clone();
    Ok(render(&user, &survey, &message, StatusCode::OK, None))
}

pub async fn save_end_message(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = Fields(form);
    user.check_csrf(form.get("csrf"))?;
    let survey = editable(&state, &user, &id).await?;
    let message = form.get("end_message").trim().to_string();
    let edit = Edit::SetEndMessage {
        end_message: message.clone(),
    };
    match state
        .sonde
        .edit_survey(&user.actor, &id, form.expected_version(), edit)
        .await
    {
        Ok(_) => Ok(Redirect::to(&builder_url(&id)).into_response()),
        Err(e @ (Error::Invalid { .. } | Error::Conflict(_))) => Ok(render(
            &user,
            &survey,
            &message,
            refusal_status(&e),
            Some(&e),
        )),
        Err(e) => Err(e.into()),
    }
}

fn render(
    user: &WebUser,
    survey: &Survey,
    message: &str,
    status: StatusCode,
    error: Option<&Error>,
) -> Response {
    let action = format!("{}/end-message", builder_url(&survey.id));
    let errors = error.and_then(FieldErrors::of).unwrap_or_default();
    let field = html! {
        p {
            label for="end-message" { "Message" }
            textarea id="end-message" name="end_message" rows="5"
                aria-describedby="end-message-help err-end-message"
                aria-invalid=[errors.has("end_message").then_some("true")] { (message) }
            span.muted id="end-message-help" { "Simple HTML and piped text are allowed." }
            (errors.at("end_message", "err-end-message"))
        }
        (pipe_picker(&survey.definition, None, "end-message"))
    };
    let summary = errors.summary();
    let body = html! {
        p.crumbs { a href=(builder_url(&survey.id)) { "← Back to the builder" } }
        h1 { "End message" }
        p.muted { "Shown when a respondent reaches the end of the survey." }
        (stale_notice(error, &action))
        (summary)
        div.card {
            form method="post" action=(action) {
                (form_state(user, survey))
                (field)
                div.actions {
                    button type="submit" { "Save end message" }
                    a.button.secondary href=(builder_url(&survey.id)) { "Cancel" }
                }
            }
        }
    };
    page_with_status(user, status, "End message", body)
}
