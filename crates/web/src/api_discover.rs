//! `/api/v1/discover/…`: the inbound connector's projects, query validation, jobs, runs and
//! samples (documents are read in `api_discover_view`).

use crate::api::{json_body as body, ApiResult};
use crate::auth::ApiActor;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use engine::discover::query::{QueryToValidate, ValidatedQuery};
use engine::discover::runs::DiscoverRun;
use engine::discover::{DiscoverJob, JobSettings, NewProject, Project};
use serde::{Deserialize, Serialize};

#[derive(Serialize, utoipa::ToSchema)]
pub struct DiscoverProjectList {
    projects: Vec<Project>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DiscoverJobList {
    jobs: Vec<DiscoverJob>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DiscoverRunList {
    runs: Vec<DiscoverRun>,
}

/// A new project
#[utoipa::path(post, path = "/discover/projects", tag = "discover", request_body = NewProject,
    responses((status = 201, body = Project)))]
pub async fn create_project(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    bytes: Bytes,
) -> ApiResult<Response> {
    let asked: NewProject = body(&bytes)?;
    let made = state.sonde.create_discover_project(&actor, asked).await?;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

/// The organization's projects, with their document counts
#[utoipa::path(get, path = "/discover/projects", tag = "discover",
    responses((status = 200, body = DiscoverProjectList)))]
pub async fn list_projects(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<DiscoverProjectList>> {
    Ok(Json(DiscoverProjectList {
        projects: state.sonde.discover_projects(&actor).await?,
    }))
}

/// Checks a query against one of your linked orgs before a job is saved
///
/// Parse errors carry line and column; GROUP BY and aggregates are refused; every field is
/// checked against the org's describe; `dateFields` are what an incremental job can follow.
#[utoipa::path(post, path = "/discover/validate-query", tag = "discover",
    request_body = QueryToValidate, responses((status = 200, body = ValidatedQuery)))]
pub async fn validate_query(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    bytes: Bytes,
) -> ApiResult<Json<ValidatedQuery>> {
    let asked: QueryToValidate = body(&bytes)?;
    Ok(Json(
        state.sonde.validate_discover_query(&actor, &asked).await?,
    ))
}

/// A new job pulling from a linked org into a project
#[utoipa::path(post, path = "/discover/jobs", tag = "discover", request_body = JobSettings,
    responses((status = 201, body = DiscoverJob)))]
pub async fn create_job(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    bytes: Bytes,
) -> ApiResult<Response> {
    let asked: JobSettings = body(&bytes)?;
    let made = state.sonde.create_discover_job(&actor, asked).await?;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

/// The organization's jobs
#[utoipa::path(get, path = "/discover/jobs", tag = "discover",
    responses((status = 200, body = DiscoverJobList)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<DiscoverJobList>> {
    Ok(Json(DiscoverJobList {
        jobs: state.sonde.discover_jobs(&actor).await?,
    }))
}

/// Starts a run of the job now
#[utoipa::path(post, path = "/discover/jobs/{id}/runs", tag = "discover",
    responses((status = 201, body = DiscoverRun)))]
pub async fn start_run(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let run = state.sonde.start_discover_run(&actor, &id).await?;
    Ok((StatusCode::CREATED, Json(run)).into_response())
}

/// The job's runs, newest first
#[utoipa::path(get, path = "/discover/jobs/{id}/runs", tag = "discover",
    responses((status = 200, body = DiscoverRunList)))]
pub async fn list_runs(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<DiscoverRunList>> {
    Ok(Json(DiscoverRunList {
        runs: state.sonde.discover_runs(&actor, &id).await?,
    }))
}

/// One run: its status and counts (rows read, documents created and updated, duplicates
/// skipped, filtered, redactions, API calls) and warnings
#[utoipa::path(get, path = "/discover/runs/{id}", tag = "discover",
    responses((status = 200, body = DiscoverRun)))]
pub async fn get_run(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<DiscoverRun>> {
    Ok(Json(state.sonde.discover_run(&actor, &id).await?))
}

/// Cancels a queued or running run (a running one stops after the page it is on)
#[utoipa::path(post, path = "/discover/runs/{id}/cancel", tag = "discover",
    responses((status = 200, body = DiscoverRun)))]
pub async fn cancel_run(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<DiscoverRun>> {
    Ok(Json(state.sonde.cancel_discover_run(&actor, &id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SampleQuery {
    /// How many rows (default 20, at most 200).
    rows: Option<usize>,
}

/// The job's first rows as they would be stored (mapped and redacted), as CSV; nothing is
/// stored
#[utoipa::path(get, path = "/discover/jobs/{id}/sample", tag = "discover", params(SampleQuery),
    responses((status = 200, content((String = "text/csv")))))]
pub async fn sample(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(q): Query<SampleQuery>,
) -> ApiResult<Response> {
    let csv = state
        .sonde
        .discover_sample_csv(&actor, &id, q.rows.unwrap_or(20))
        .await?;
    Ok((
        crate::downloads::attachment(&id, "sample.csv", crate::downloads::CSV),
        csv,
    )
        .into_response())
}
