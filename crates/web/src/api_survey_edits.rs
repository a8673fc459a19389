//! `POST /api/v1/surveys/{id}/edits`: one change to a survey's definition, as the survey
//! builder makes it (add a block or question, replace, copy, move or delete a question, a page
//! break, the flow). The survey's next version is stored; `expectedVersion` refuses a change
//! made from an older version (409).

use crate::api::{json_body, ApiResult};
use crate::api_query::Query;
use crate::auth::ApiActor;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use survey::edit::Edit;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct EditQuery {
    /// The version the change was made from; refused (409) when the survey has moved on.
    pub expected_version: Option<i64>,
}

/// A change applied.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SurveyEdited {
    pub id: String,
    /// The version the change made.
    pub version: i64,
    /// The id of the block or question the change added, if it added one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    pub warnings: Vec<String>,
}

/// Change a survey's definition one step at a time
#[utoipa::path(post, path = "/surveys/{id}/edits", tag = "surveys", request_body = Edit,
    params(EditQuery),
    responses((status = 200, body = SurveyEdited)))]
pub async fn edit_survey(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(q): Query<EditQuery>,
    body: Bytes,
) -> ApiResult<Json<SurveyEdited>> {
    let edit: Edit = json_body(&body)?;
    let done = state
        .sonde
        .edit_survey(&actor, &id, q.expected_version, edit)
        .await?;
    Ok(Json(SurveyEdited {
        id: done.survey.survey.id,
        version: done.survey.survey.version,
        created: done.created,
        warnings: done.survey.warnings,
    }))
}
