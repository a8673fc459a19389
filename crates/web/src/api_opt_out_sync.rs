//! `/api/v1` for opt-out sync with linked Salesforce orgs: the organization's switch and a
//! survey's override of it.

use crate::api::{json_body as body, ApiResult};
use crate::auth::ApiActor;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use engine::opt_out_sync::{OptOutSync, SurveyOptOutSync};

/// The organization's opt-out sync: whether opt-outs are kept the same in Sonde and linked
/// Salesforce orgs, and the Contact/Lead checkboxes that hold them
#[utoipa::path(get, path = "/salesforce/opt-out-sync", tag = "salesforce",
    responses((status = 200, body = OptOutSync)))]
pub async fn get_opt_out_sync(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<OptOutSync>> {
    Ok(Json(state.sonde.opt_out_sync(&actor).await?))
}

/// Changes the organization's opt-out sync (admins)
#[utoipa::path(put, path = "/salesforce/opt-out-sync", tag = "salesforce",
    request_body = OptOutSync, responses((status = 200, body = OptOutSync)))]
pub async fn put_opt_out_sync(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    bytes: Bytes,
) -> ApiResult<Json<OptOutSync>> {
    let asked: OptOutSync = body(&bytes)?;
    Ok(Json(state.sonde.set_opt_out_sync(&actor, asked).await?))
}

/// A survey's override of opt-out sync (`enabled: null` follows the organization)
#[utoipa::path(get, path = "/surveys/{id}/opt-out-sync", tag = "surveys",
    responses((status = 200, body = SurveyOptOutSync)))]
pub async fn get_survey_opt_out_sync(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<SurveyOptOutSync>> {
    Ok(Json(state.sonde.survey_opt_out_sync(&actor, &id).await?))
}

/// Sets or clears a survey's override of opt-out sync (editors)
#[utoipa::path(put, path = "/surveys/{id}/opt-out-sync", tag = "surveys",
    request_body = SurveyOptOutSync, responses((status = 200, body = SurveyOptOutSync)))]
pub async fn put_survey_opt_out_sync(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<SurveyOptOutSync>> {
    let asked: SurveyOptOutSync = body(&bytes)?;
    Ok(Json(
        state
            .sonde
            .set_survey_opt_out_sync(&actor, &id, asked)
            .await?,
    ))
}
