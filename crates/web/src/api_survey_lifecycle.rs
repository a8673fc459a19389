//! A survey's lifecycle through the API: publish its draft (after checking which workflows
//! would name what it removes), close it and open it again, list its published versions.

use crate::api::{json_body, ApiResult};
use crate::api_types::SurveySummary;
use crate::auth::ApiActor;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use engine::survey_lifecycle::PublishCheck;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of a publish (optional).
#[derive(Deserialize, Default, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishBody {
    /// Publish even though workflows name questions, choices or embedded data this version
    /// removes (they are listed by `GET …/publish-check`; otherwise the publish is refused).
    #[serde(default)]
    pub despite_workflows: bool,
}

/// What publishing the draft would do: its number, and the workflows that would name what it
/// removes
#[utoipa::path(get, path = "/surveys/{id}/publish-check", tag = "surveys",
    responses((status = 200, body = PublishCheck)))]
pub async fn publish_check(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<PublishCheck>> {
    Ok(Json(state.sonde.publish_check(&actor, &id).await?))
}

/// Publish the survey's draft: respondents get it from now on, as its next version
#[utoipa::path(post, path = "/surveys/{id}/publish", tag = "surveys", request_body = PublishBody,
    responses((status = 200, body = SurveySummary)))]
pub async fn publish(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<SurveySummary>> {
    let body: PublishBody = if body.is_empty() {
        PublishBody::default()
    } else {
        json_body(&body)?
    };
    let s = state
        .sonde
        .publish_survey(&actor, &id, body.despite_workflows)
        .await?;
    Ok(Json(SurveySummary::new(&state, &s)))
}

/// Close the survey: its links say it is closed and nothing more is recorded
#[utoipa::path(post, path = "/surveys/{id}/close", tag = "surveys",
    responses((status = 200, body = SurveySummary)))]
pub async fn close(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<SurveySummary>> {
    let s = state.sonde.set_survey_closed(&actor, &id, true).await?;
    Ok(Json(SurveySummary::new(&state, &s)))
}

/// Open a closed survey again
#[utoipa::path(post, path = "/surveys/{id}/reopen", tag = "surveys",
    responses((status = 200, body = SurveySummary)))]
pub async fn reopen(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<SurveySummary>> {
    let s = state.sonde.set_survey_closed(&actor, &id, false).await?;
    Ok(Json(SurveySummary::new(&state, &s)))
}

/// One published version.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionSummary {
    /// The version as stored (what responses' `surveyVersion` says).
    pub version: i64,
    /// Its number: 1 for the first published, 2 for the next…
    pub number: i64,
    /// RFC 3339.
    pub published_at: String,
    pub responses: i64,
}

#[derive(Serialize, ToSchema)]
pub struct VersionList {
    pub versions: Vec<VersionSummary>,
}

/// The survey's published versions, newest first, with how many responses each holds
#[utoipa::path(get, path = "/surveys/{id}/versions", tag = "surveys",
    responses((status = 200, body = VersionList)))]
pub async fn versions(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<VersionList>> {
    let versions = state.sonde.survey_versions(&actor, &id).await?;
    Ok(Json(VersionList {
        versions: versions
            .into_iter()
            .map(|v| VersionSummary {
                version: v.version,
                number: v.number,
                published_at: engine::responses::rfc3339(v.published_at),
                responses: v.responses,
            })
            .collect(),
    }))
}
