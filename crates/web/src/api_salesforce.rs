//! `/api/v1` for linked Salesforce orgs, workflows and their runs, and the OAuth callback the
//! browser returns to after signing in to Salesforce.

use crate::api::{json_body as body, ApiResult};
// The API's own Query: a parameter that does not parse is a JSON error naming it.
use crate::api_query::Query;
use crate::api_types::{
    AuthorizeUrl, ConnectionList, CopyInput, RunList, RunsQuery, WorkflowList, WorkflowView,
};
use crate::auth::ApiActor;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use engine::connections::StartLink;
use engine::linked_orgs::{ConnectionCheck, Disconnected};
use engine::workflows::{Run, Workflow, WorkflowInput};
use serde::Deserialize;

/// Your linked Salesforce orgs (never their tokens)
#[utoipa::path(get, path = "/salesforce/connections", tag = "salesforce",
    responses((status = 200, body = ConnectionList)))]
pub async fn list_connections(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<ConnectionList>> {
    let connections = state.sonde.salesforce_connections(&actor).await?;
    Ok(Json(ConnectionList { connections }))
}

/// Start linking an org: answers the authorize URL to open in a browser
///
/// `{"environment": production|sandbox|custom, "loginUrl"}`, or `{"connectionId"}` to reconnect
/// one. Signing in as an org and user already linked updates that connection (same id); at
/// most five per user.
#[utoipa::path(post, path = "/salesforce/connections", tag = "salesforce", request_body = StartLink,
    responses((status = 201, body = AuthorizeUrl)))]
pub async fn start_connection(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input: StartLink = body(&bytes)?;
    let url = state.sonde.start_salesforce_link(&actor, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(AuthorizeUrl { authorize_url: url }),
    )
        .into_response())
}

/// Disconnect an org: its tokens are revoked at Salesforce and forgotten
///
/// Answers the enabled workflows that fail until the same Salesforce user links the org again
/// (which revives this connection).
#[utoipa::path(delete, path = "/salesforce/connections/{id}", tag = "salesforce",
    responses((status = 200, body = Disconnected)))]
pub async fn delete_connection(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Disconnected>> {
    Ok(Json(state.sonde.disconnect_salesforce(&actor, &id).await?))
}

/// Check API access with a real call, and each workflow's rights through the link
///
/// `apiAccess` is false, with Salesforce's `errorCode` and message, when the call is refused;
/// otherwise each workflow using the org is checked for object, field and record type rights
/// (from describe).
#[utoipa::path(get, path = "/salesforce/connections/{id}/check", tag = "salesforce",
    responses((status = 200, body = ConnectionCheck)))]
pub async fn check_connection(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<ConnectionCheck>> {
    Ok(Json(
        state.sonde.check_salesforce_connection(&actor, &id).await?,
    ))
}

/// Forget the objects and fields kept for a link, so the next read asks Salesforce again
#[utoipa::path(post, path = "/salesforce/connections/{id}/refresh-metadata", tag = "salesforce",
    responses((status = 204, description = "Forgotten")))]
pub async fn refresh_metadata(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<axum::http::StatusCode> {
    state.sonde.refresh_salesforce_metadata(&actor, &id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct Callback {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Where Salesforce sends the browser back: a small page saying what happened.
pub async fn oauth_callback(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<Callback>,
) -> Response {
    let error = q
        .error
        .as_ref()
        .map(|e| format!("{e}: {}", q.error_description.as_deref().unwrap_or("")));
    let result = match q.state.as_deref() {
        Some(s) => {
            state
                .sonde
                .finish_salesforce_link(s, q.code.as_deref(), error.as_deref())
                .await
        }
        None => Err(engine::Error::invalid("the callback carries no state")),
    };
    let (status, title, text) = match result {
        Ok(l) => (
            StatusCode::OK,
            "Salesforce org linked",
            crate::ui_linked_orgs::linked_summary(&l),
        ),
        Err(e) => (StatusCode::BAD_REQUEST, "Linking failed", e.to_string()),
    };
    let page = maud::html! {
        (maud::DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (title) } }
            body { main { h1 { (title) } p role="status" { (text) } p { a href="/" { "Back to Sonde" } } } }
        }
    };
    (status, Html(page.into_string())).into_response()
}

/// A survey's workflows
#[utoipa::path(get, path = "/surveys/{id}/workflows", tag = "workflows",
    responses((status = 200, body = WorkflowList)))]
pub async fn list_workflows(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(survey_id): Path<String>,
) -> ApiResult<Json<WorkflowList>> {
    let workflows = state.sonde.workflows(&actor, &survey_id).await?;
    Ok(Json(WorkflowList { workflows }))
}

/// Create a workflow (event, conditions, tasks)
///
/// Validated against the org's describe and against the survey: each problem names its field
/// (`tasks[0].fields.NPS_Score__c`).
#[utoipa::path(post, path = "/surveys/{id}/workflows", tag = "workflows", request_body = WorkflowInput,
    responses((status = 201, body = Workflow)))]
pub async fn create_workflow(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(survey_id): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input: WorkflowInput = body(&bytes)?;
    let w = state
        .sonde
        .create_workflow(&actor, &survey_id, input)
        .await?;
    Ok((StatusCode::CREATED, Json(w)).into_response())
}

/// One workflow (`canEdit` says whether you own it)
#[utoipa::path(get, path = "/workflows/{id}", tag = "workflows",
    responses((status = 200, body = WorkflowView)))]
pub async fn get_workflow(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<WorkflowView>> {
    let workflow = state.sonde.workflow(&actor, &id).await?;
    let can_edit = workflow.owner_id == actor.user_id;
    Ok(Json(WorkflowView { workflow, can_edit }))
}

/// Replace a workflow (owner only; others get 403 and may copy it)
#[utoipa::path(put, path = "/workflows/{id}", tag = "workflows", request_body = WorkflowInput,
    responses((status = 200, body = Workflow)))]
pub async fn update_workflow(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Workflow>> {
    let input: WorkflowInput = body(&bytes)?;
    Ok(Json(state.sonde.update_workflow(&actor, &id, input).await?))
}

/// Delete a workflow (owner only)
#[utoipa::path(delete, path = "/workflows/{id}", tag = "workflows",
    responses((status = 204, description = "Deleted")))]
pub async fn delete_workflow(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.sonde.delete_workflow(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Make your own copy, bound to one of your connections
#[utoipa::path(post, path = "/workflows/{id}/copy", tag = "workflows",
    request_body(content = CopyInput, description = "May be empty"),
    responses((status = 201, body = Workflow)))]
pub async fn copy_workflow(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input: CopyInput = body(&bytes)?;
    let w = state
        .sonde
        .copy_workflow(&actor, &id, input.connection_id.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(w)).into_response())
}

/// Moves a survey's workflows to another linked org (a sandbox's to production)
///
/// Without `apply`, the plan: each workflow re-validated against the target org's describe,
/// its problems named by field, its record types re-pointed by DeveloperName. With `apply:
/// true` the workflows are rebound if the plan has no problem (400 with them otherwise), and a
/// Salesforce-message workflow answers its new endpoint URL.
#[utoipa::path(post, path = "/surveys/{id}/workflows/move", tag = "workflows",
    request_body = engine::workflow_moves::MoveRequest,
    responses((status = 200, body = engine::workflow_moves::MovePlan)))]
pub async fn move_workflows(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<engine::workflow_moves::MovePlan>> {
    let asked: engine::workflow_moves::MoveRequest = body(&bytes)?;
    Ok(Json(state.sonde.move_workflows(&actor, &id, asked).await?))
}

/// The survey as one bundle: its definition, its workflows (without their Salesforce
/// bindings), the templates they send with and its opt-out sync override
#[utoipa::path(get, path = "/surveys/{id}/bundle", tag = "surveys",
    responses((status = 200, body = engine::survey_bundles::SurveyBundle)))]
pub async fn export_bundle(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<engine::survey_bundles::SurveyBundle>> {
    Ok(Json(state.sonde.export_bundle(&actor, &id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct BundleQuery {
    /// The linked org to bind Salesforce tasks and triggers to (default: your first).
    connection_id: Option<String>,
}

/// A new survey from a bundle (another account's or instance's export)
///
/// Its Salesforce tasks and triggers are bound to one of your linked orgs and every workflow
/// is validated there; if one is refused, nothing is kept and the problems are answered.
#[utoipa::path(post, path = "/surveys/bundle", tag = "surveys", params(BundleQuery),
    request_body = engine::survey_bundles::SurveyBundle,
    responses((status = 201, body = engine::survey_bundles::BundleImported)))]
pub async fn import_bundle(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<BundleQuery>,
    bytes: Bytes,
) -> ApiResult<Response> {
    let bundle: engine::survey_bundles::SurveyBundle = body(&bytes)?;
    let made = state
        .sonde
        .import_bundle(&actor, bundle, q.connection_id.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

/// Where Salesforce sends a `salesforce_message` workflow's messages, with the secret a Flow
/// HTTP callout sends in `X-Sonde-Secret` (the workflow's owner only)
#[utoipa::path(get, path = "/workflows/{id}/endpoint", tag = "workflows",
    responses((status = 200, body = engine::salesforce_messages::MessageEndpoint)))]
pub async fn get_message_endpoint(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<engine::salesforce_messages::MessageEndpoint>> {
    Ok(Json(state.sonde.message_endpoint(&actor, &id).await?))
}

/// The notifications a `salesforce_message` workflow received, newest first
///
/// Each as Salesforce sent it (the record's fields), with how many times it was sent again.
#[utoipa::path(get, path = "/workflows/{id}/notifications", tag = "workflows",
    responses((status = 200, body = Vec<engine::salesforce_messages::ReceivedNotification>)))]
pub async fn list_notifications(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<engine::salesforce_messages::ReceivedNotification>>> {
    Ok(Json(state.sonde.workflow_notifications(&actor, &id).await?))
}

/// Runs, newest first
///
/// Each with its trigger, condition result, per-task attempts, record ids and Salesforce's
/// error text.
#[utoipa::path(get, path = "/workflows/{id}/runs", tag = "workflows", params(RunsQuery),
    responses((status = 200, body = RunList)))]
pub async fn list_runs(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(q): Query<RunsQuery>,
) -> ApiResult<Json<RunList>> {
    let (runs, counts) = state
        .sonde
        .workflow_runs(&actor, &id, q.status.as_deref(), q.limit.unwrap_or(100))
        .await?;
    Ok(Json(RunList { runs, counts }))
}

/// Queue a failed run again
#[utoipa::path(post, path = "/workflows/{id}/runs/{runId}/retry", tag = "workflows",
    responses((status = 200, body = Run)))]
pub async fn retry_run(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, run_id)): Path<(String, String)>,
) -> ApiResult<Json<Run>> {
    Ok(Json(state.sonde.retry_run(&actor, &id, &run_id).await?))
}
