//! "Move to another org" on a survey's workflows: pick one of your linked orgs, read the plan
//! (each workflow re-validated against that org, problems by field, record types re-pointed),
//! then move — and copy the new endpoint URLs into the target org's Flows.

use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::page_with_status;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use engine::workflow_moves::{MovePlan, MoveRequest};
use maud::{html, Markup};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct Target {
    connection: Option<String>,
}

#[derive(Deserialize)]
pub struct MoveForm {
    csrf: String,
    connection: String,
}

fn plan_markup(plan: &MovePlan) -> Markup {
    html! {
        @for w in &plan.workflows {
            div.conn id={ "move-" (w.workflow_id) } {
                h2.item-title { a href={ "/workflows/" (w.workflow_id) } { (w.name) } }
                @if w.problems.is_empty() {
                    p.ok { "Checks out against " (plan.connection_label) "." }
                } @else {
                    ul.problems { @for p in &w.problems { li.error { strong { (p.field) } ": " (p.message) } } }
                }
                @for r in &w.record_types {
                    p.muted { "Task " (r.task + 1) ": record type " code { (r.developer_name) } " " code { (r.from) } " → " code { (r.to) } }
                }
                @if let Some(url) = &w.endpoint_url {
                    @let id = format!("endpoint-{}", w.workflow_id);
                    p { strong { "New endpoint URL: " } code.link id=(id) { (url) } " "
                        button.secondary type="button" data-copy=(id) { "Copy URL" } }
                    p.muted { "Paste it into the Outbound Message (or HTTP callout) of the target org's Flow." }
                }
            }
        }
    }
}

async fn render(
    state: &AppState,
    user: &WebUser,
    survey_id: &str,
    target: Option<&str>,
    outcome: Option<Result<MovePlan, engine::Error>>,
) -> Result<Response, PageError> {
    let survey = state.sonde.survey(&user.actor, survey_id).await?;
    let own: Vec<_> = state
        .sonde
        .salesforce_connections(&user.actor)
        .await?
        .into_iter()
        .filter(|c| c.status == "active")
        .collect();
    let (plan, refused, status) = match outcome {
        Some(Ok(plan)) => (Some(plan), None, StatusCode::OK),
        Some(Err(engine::Error::Invalid { message, problems })) => {
            (None, Some((message, problems)), StatusCode::BAD_REQUEST)
        }
        Some(Err(e)) => return Err(e.into()),
        None => (None, None, StatusCode::OK),
    };
    let current = target.unwrap_or_default();
    Ok(page_with_status(
        user,
        status,
        &format!("Move workflows · {}", survey.name),
        html! {
            p { a href={ "/surveys/" (survey.id) "/workflows" } { "← Workflows of " (survey.name) } }
            h1 { "Move workflows to another org" }
            p.muted { "From a sandbox to production, say. Each workflow is checked against the org you pick before anything changes." }
            form.card method="get" action={ "/surveys/" (survey.id) "/workflows/move" } {
                label for="move-target" { "Linked org" }
                select id="move-target" name="connection" {
                    option value="" selected[current.is_empty()] { "(choose an org)" }
                    @for c in &own { option value=(c.id) selected[c.id == current] { (c.label) } }
                }
                button type="submit" id="move-check" { "Check" }
            }
            @if let Some((message, problems)) = &refused {
                div.notice role="alert" id="move-refused" {
                    p.error { (message) }
                    ul { @for p in problems { li { strong { (p.field) } ": " (p.message) } } }
                }
            }
            @if let Some(plan) = &plan {
                div.card id="move-plan" {
                    @if plan.applied {
                        p.ok role="status" id="moved" { "Moved to " (plan.connection_label) "." }
                    } @else if plan.ready {
                        p.ok { "Everything checks out against " (plan.connection_label) "." }
                    } @else {
                        p.error role="alert" { "Not movable yet: fix what is listed in " (plan.connection_label) " (or in the workflows) first. Nothing has changed." }
                    }
                    (plan_markup(plan))
                    @if plan.ready && !plan.applied {
                        form method="post" action={ "/surveys/" (survey.id) "/workflows/move" } {
                            input type="hidden" name="csrf" value=(user.csrf);
                            input type="hidden" name="connection" value=(plan.connection_id);
                            button type="submit" id="move-apply" { "Move " (plan.workflows.len()) " workflow" @if plan.workflows.len() != 1 { "s" } }
                        }
                    }
                }
            }
        },
    ))
}

/// `GET /surveys/{id}/workflows/move[?connection=…]`: the picker, and the plan once picked.
pub async fn move_page(
    State(state): State<AppState>,
    user: WebUser,
    Path(survey_id): Path<String>,
    Query(q): Query<Target>,
) -> Result<Response, PageError> {
    user.actor.require(engine::Role::Editor)?;
    let target = q.connection.filter(|c| !c.is_empty());
    let outcome = match &target {
        Some(c) => Some(
            state
                .sonde
                .move_workflows(
                    &user.actor,
                    &survey_id,
                    MoveRequest {
                        connection_id: c.clone(),
                        apply: false,
                    },
                )
                .await,
        ),
        None => None,
    };
    render(&state, &user, &survey_id, target.as_deref(), outcome).await
}

/// `POST /surveys/{id}/workflows/move`: moves, or shows why not.
pub async fn apply_move(
    State(state): State<AppState>,
    user: WebUser,
    Path(survey_id): Path<String>,
    Form(form): Form<MoveForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let outcome = state
        .sonde
        .move_workflows(
            &user.actor,
            &survey_id,
            MoveRequest {
                connection_id: form.connection.clone(),
                apply: true,
            },
        )
        .await;
    render(
        &state,
        &user,
        &survey_id,
        Some(&form.connection),
        Some(outcome),
    )
    .await
}
