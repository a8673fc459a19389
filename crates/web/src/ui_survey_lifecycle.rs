//! A survey's lifecycle in the admin UI: the card on the survey's page saying whether it is a
//! draft, published (which version, and whether the builder holds unpublished changes) or
//! closed, with Publish, Close and Reopen, and its published versions. Publishing a draft
//! that workflows would trip over (they name a question it removes) first shows those
//! workflows and asks.

use crate::auth::CsrfForm;
use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::{page, time};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use engine::survey_lifecycle::{PublishCheck, SurveyStatus};
use engine::surveys::Survey;
use engine::{Error, Role};
use maud::{html, Markup};
use serde::Deserialize;

type PageResult = Result<Response, PageError>;

/// The survey page's lifecycle card.
pub(crate) async fn lifecycle_card(
    state: &AppState,
    user: &WebUser,
    s: &Survey,
) -> Result<Markup, PageError> {
    let versions = state.sonde.survey_versions(&user.actor, &s.id).await?;
    let current = versions.iter().find(|v| v.version == s.version);
    let editor = user.actor.role >= Role::Editor && s.archived_at.is_none();
    let status = s.status();
    Ok(html! {
        div.card id="lifecycle" {
            h2 { "Status" }
            p {
                span class={ "badge survey-" (status.as_str()) } id="survey-status" {
                    @match status {
                        SurveyStatus::Draft => "Draft",
                        SurveyStatus::Published => "Published",
                        SurveyStatus::Closed => "Closed",
                    }
                }
                @if let Some(v) = current { " v" (v.number) " since " (time(v.published_at)) }
            }
            @match status {
                SurveyStatus::Draft => p.muted { "Respondents cannot take it yet: its links say it is not available until it is published." },
                SurveyStatus::Published => p.muted { "Respondents get the published version." },
                SurveyStatus::Closed => p.muted { "Its links say the survey is closed; nothing more is recorded. Reopen it to take responses again." },
            }
            @if s.draft_version.is_some() {
                p id="unpublished-changes" { strong { "Unpublished changes." } " The builder holds a newer version than respondents get." }
            }
            @if editor {
                div.actions {
                    @if s.has_unpublished_changes() {
                        form method="post" action={ "/surveys/" (s.id) "/publish" } {
                            input type="hidden" name="csrf" value=(user.csrf);
                            button type="submit" id="publish" { "Publish" }
                        }
                    }
                    @if status == SurveyStatus::Published {
                        form method="post" action={ "/surveys/" (s.id) "/close" } {
                            input type="hidden" name="csrf" value=(user.csrf);
                            button type="submit" class="secondary" id="close-survey" { "Close survey" }
                        }
                    }
                    @if status == SurveyStatus::Closed {
                        form method="post" action={ "/surveys/" (s.id) "/reopen" } {
                            input type="hidden" name="csrf" value=(user.csrf);
                            button type="submit" class="secondary" id="reopen-survey" { "Reopen survey" }
                        }
                    }
                }
            }
            @if !versions.is_empty() {
                details id="versions" {
                    summary { "Versions (" (versions.len()) ")" }
                    table {
                        thead { tr { th { "Version" } th { "Published" } th { "Responses" } } }
                        tbody { @for v in &versions { tr {
                            td { "v" (v.number) }
                            td { (time(v.published_at)) }
                            td { (v.responses) }
                        } } }
                    }
                }
            }
        }
    })
}

#[derive(Deserialize)]
pub struct PublishForm {
    #[serde(default)]
    csrf: String,
    /// "1" once the person saw the workflows at risk and chose to publish anyway.
    #[serde(default)]
    despite_workflows: Option<String>,
}

/// `POST /surveys/{id}/publish`.
pub async fn publish(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<PublishForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let despite = form.despite_workflows.as_deref() == Some("1");
    match state.sonde.publish_survey(&user.actor, &id, despite).await {
        Ok(_) => Ok(Redirect::to(&format!("/surveys/{id}")).into_response()),
        // Workflows would name what this version removes: show them and ask (the engine's
        // refusal names them by field; the page lists them by workflow).
        Err(Error::Invalid { .. }) => {
            let check = state.sonde.publish_check(&user.actor, &id).await?;
            Ok(at_risk_page(&user, &id, &check))
        }
        Err(e) => Err(e.into()),
    }
}

fn at_risk_page(user: &WebUser, id: &str, check: &PublishCheck) -> Response {
    page(
        user,
        "Publish with workflows to check?",
        html! {
            h1 { "Publish v" (check.number) " with workflows to check?" }
            div.card.confirm id="workflows-at-risk" role="alert" {
                p { "This version removes what these workflows name; once it is published, their runs for new responses would miss it:" }
                ul { @for w in &check.workflows_at_risk { li {
                    a href={ "/workflows/" (w.workflow_id) } { (w.name) }
                    @if !w.enabled { " (disabled)" }
                    ul { @for p in &w.problems { li { code { (p.field) } ": " (p.message) } } }
                } } }
                p.actions {
                    form method="post" action={ "/surveys/" (id) "/publish" } {
                        input type="hidden" name="csrf" value=(user.csrf);
                        input type="hidden" name="despite_workflows" value="1";
                        button type="submit" id="publish-anyway" { "Publish anyway" }
                    }
                    a.button.secondary href={ "/surveys/" (id) } { "Not now" }
                }
            }
        },
    )
}

/// `POST /surveys/{id}/close`.
pub async fn close(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    set_closed(&state, &user, &id, &form.csrf, true).await
}

/// `POST /surveys/{id}/reopen`.
pub async fn reopen(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    set_closed(&state, &user, &id, &form.csrf, false).await
}

async fn set_closed(
    state: &AppState,
    user: &WebUser,
    id: &str,
    csrf: &str,
    closed: bool,
) -> PageResult {
    user.check_csrf(csrf)?;
    state
        .sonde
        .set_survey_closed(&user.actor, id, closed)
        .await?;
    Ok(Redirect::to(&format!("/surveys/{id}")).into_response())
}
