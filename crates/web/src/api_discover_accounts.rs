//! `/api/v1/discover/…` for where inbound jobs read from: the API versions an org serves (the
//! job form's picker) and a job's new credential (its own Salesforce account).

use crate::api::{json_body as body, ApiResult};
use crate::auth::ApiActor;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use engine::discover::source::{ApiVersionOffered, NewCredential, VersionsOf};
use engine::discover::DiscoverJob;
use serde::Serialize;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiVersionList {
    versions: Vec<ApiVersionOffered>,
}

/// The API versions one of your linked orgs serves, oldest first (what `apiVersion` takes)
#[utoipa::path(get, path = "/discover/connections/{id}/versions", tag = "discover",
    responses((status = 200, body = ApiVersionList)))]
pub async fn connection_versions(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiVersionList>> {
    Ok(Json(ApiVersionList {
        versions: state
            .sonde
            .discover_connection_versions(&actor, &id)
            .await?,
    }))
}

/// The API versions an org serves, reached through one of your linked orgs or an account
/// (signed in with; nothing is kept), for a job not saved yet
#[utoipa::path(post, path = "/discover/versions", tag = "discover", request_body = VersionsOf,
    responses((status = 200, body = ApiVersionList)))]
pub async fn versions(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    bytes: Bytes,
) -> ApiResult<Json<ApiVersionList>> {
    let asked: VersionsOf = body(&bytes)?;
    Ok(Json(ApiVersionList {
        versions: state.sonde.discover_versions(&actor, &asked).await?,
    }))
}

/// Gives the job a new credential: its own Salesforce account (signed in with before it is
/// kept; the secrets are sealed and never answered) and when it expires
#[utoipa::path(put, path = "/discover/jobs/{id}/credential", tag = "discover",
    request_body = NewCredential, responses((status = 200, body = DiscoverJob)))]
pub async fn replace_credential(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<DiscoverJob>> {
    let asked: NewCredential = body(&bytes)?;
    Ok(Json(
        state
            .sonde
            .replace_discover_job_credential(&actor, &id, asked)
            .await?,
    ))
}
