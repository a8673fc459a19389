//! `/api/v1` for linked Salesforce orgs, workflows and their runs, and the OAuth callback the
//! browser returns to after signing in to Salesforce.

use crate::api::{json_body as body, ApiResult};
// The API's own Query: a parameter that does not parse is a JSON error naming it.
use crate::api_query::Query;
use crate::auth::ApiActor;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use engine::connections::StartLink;
use engine::workflows::WorkflowInput;
use serde::Deserialize;
use serde_json::{json, Value};

pub async fn list_connections(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Value>> {
    let list = state.sonde.salesforce_connections(&actor).await?;
    Ok(Json(json!({ "connections": list })))
}

pub async fn start_connection(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    bytes: Bytes,
) -> ApiResult<Response> {
    let input: StartLink = body(&bytes)?;
    let url = state.sonde.start_salesforce_link(&actor, input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "authorizeUrl": url }))).into_response())
}

/// Disconnects, answering the enabled workflows that now fail until the org is linked again.
pub async fn delete_connection(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(
        state.sonde.disconnect_salesforce(&actor, &id).await?
    )))
}

pub async fn check_connection(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        state.sonde.check_salesforce_connection(&actor, &id).await?,
    ))
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

pub async fn list_workflows(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(survey_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let list = state.sonde.workflows(&actor, &survey_id).await?;
    Ok(Json(json!({ "workflows": list })))
}

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
    Ok((StatusCode::CREATED, Json(json!(w))).into_response())
}

pub async fn get_workflow(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let w = state.sonde.workflow(&actor, &id).await?;
    let can_edit = w.owner_id == actor.user_id;
    let mut v = json!(w);
    v["canEdit"] = json!(can_edit);
    Ok(Json(v))
}

pub async fn update_workflow(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let input: WorkflowInput = body(&bytes)?;
    Ok(Json(json!(
        state.sonde.update_workflow(&actor, &id, input).await?
    )))
}

pub async fn delete_workflow(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.sonde.delete_workflow(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CopyInput {
    #[serde(default)]
    connection_id: Option<String>,
}

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
    Ok((StatusCode::CREATED, Json(json!(w))).into_response())
}

#[derive(Deserialize)]
pub struct RunsQuery {
    status: Option<String>,
    limit: Option<i64>,
}

pub async fn list_runs(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(q): Query<RunsQuery>,
) -> ApiResult<Json<Value>> {
    let (runs, counts) = state
        .sonde
        .workflow_runs(&actor, &id, q.status.as_deref(), q.limit.unwrap_or(100))
        .await?;
    Ok(Json(json!({ "runs": runs, "counts": counts })))
}

pub async fn retry_run(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, run_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(
        state.sonde.retry_run(&actor, &id, &run_id).await?
    )))
}
