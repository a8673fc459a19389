//! `/api/v1` deletions: archiving, restoring and purging surveys, deleting a response, a
//! contact or a mailing list. Each is role-checked and recorded in the audit log by the engine
//! (`engine::deletions`); the audit log itself is read through `api_audit`.

use crate::api::ApiResult;
use crate::api_types::SurveySummary;
use crate::auth::ApiActor;
use crate::error::ApiErrorBody;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use engine::deletions::{ContactDeleted, MailingListDeleted, SurveyPurged};

/// Archive a survey: hidden from lists, its links say it is closed, its workflows stop firing;
/// its responses are kept
///
/// Editors who see the survey, and admins. Runs already queued are still delivered. 409 when
/// it is already archived.
#[utoipa::path(post, path = "/surveys/{id}/archive", tag = "surveys",
    responses((status = 200, body = SurveySummary),
        (status = 409, description = "Already archived", body = ApiErrorBody)))]
pub async fn archive_survey(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<SurveySummary>> {
    let survey = state.sonde.archive_survey(&actor, &id).await?;
    Ok(Json(SurveySummary::new(&state, &survey)))
}

/// Restore an archived survey: listed, open to respondents and firing workflows again
#[utoipa::path(post, path = "/surveys/{id}/restore", tag = "surveys",
    responses((status = 200, body = SurveySummary),
        (status = 409, description = "Not archived", body = ApiErrorBody)))]
pub async fn restore_survey(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<SurveySummary>> {
    let survey = state.sonde.restore_survey(&actor, &id).await?;
    Ok(Json(SurveySummary::new(&state, &survey)))
}

/// Purge an archived survey: deleted for good with its responses, workflows and their runs
///
/// Only the survey's owner (editor or above) or an admin. A survey that is not archived is
/// refused with 409: archive it first.
#[utoipa::path(delete, path = "/surveys/{id}", tag = "surveys",
    responses((status = 200, body = SurveyPurged),
        (status = 409, description = "The survey is not archived", body = ApiErrorBody)))]
pub async fn purge_survey(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<SurveyPurged>> {
    Ok(Json(state.sonde.purge_survey(&actor, &id).await?))
}

/// Delete one response
///
/// Editors who see the survey, and admins. Its workflow runs still waiting fail saying so; a
/// personal link it came through can be used again.
#[utoipa::path(delete, path = "/surveys/{id}/responses/{response_id}", tag = "responses",
    responses((status = 204, description = "Deleted")))]
pub async fn delete_response(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, response_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .sonde
        .delete_response(&actor, &id, &response_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a contact, with its list memberships and personal links
///
/// Editors and admins. Its responses stay with their surveys. An unsubscribed contact's
/// opt-out is kept: saving or importing the same email or external reference again gives an
/// unsubscribed contact (its opt-out history says why).
#[utoipa::path(delete, path = "/contacts/{id}", tag = "directory",
    responses((status = 200, body = ContactDeleted)))]
pub async fn delete_contact(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<ContactDeleted>> {
    Ok(Json(state.sonde.delete_contact(&actor, &id).await?))
}

/// Delete a mailing list; its contacts stay in the directory
///
/// Editors and admins. The answer names the enabled workflows that add to the list: their runs
/// fail until they are changed.
#[utoipa::path(delete, path = "/mailing-lists/{id}", tag = "directory",
    responses((status = 200, body = MailingListDeleted)))]
pub async fn delete_mailing_list(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<MailingListDeleted>> {
    Ok(Json(state.sonde.delete_mailing_list(&actor, &id).await?))
}
