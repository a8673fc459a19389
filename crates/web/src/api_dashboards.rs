//! `GET /api/v1/surveys/{id}/dashboard`: a survey's CX dashboard as JSON, with the same filters
//! as the admin UI's page (and Salesforce records, as the panel's widget uses).

use crate::api::ApiResult;
use crate::api_query::Query;
use crate::auth::ApiActor;
use crate::error::ApiError;
use crate::ui_dashboards::instant;
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use dashboards::Dashboard;
use engine::dashboards::DashboardFilter;
use engine::{Error, FieldProblem};
use serde::Deserialize;
use utoipa::IntoParams;

/// The query string of `GET /surveys/{id}/dashboard`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct DashboardQuery {
    /// Only responses started at or after this instant (RFC 3339), or from the start of this
    /// UTC day (`2026-11-01`).
    pub since: Option<String>,
    /// Only responses started before this instant (RFC 3339), or before the end of this UTC
    /// day (`2026-11-30` includes the 30th).
    pub until: Option<String>,
    /// Only responses that came through this distribution's links.
    pub distribution_id: Option<String>,
    /// An embedded data field; with `value`, only responses where it holds exactly that.
    pub field: Option<String>,
    pub value: Option<String>,
    /// Salesforce record ids, comma-separated: only responses whose `sf…Id` embedded data
    /// (`sfContactId`, `sfAccountId`…) names one of them.
    pub records: Option<String>,
}

impl DashboardQuery {
    fn filter(&self) -> Result<DashboardFilter, ApiError> {
        let bound = |field: &str, value: &Option<String>, days_after: i64| {
            instant(value.as_deref().unwrap_or(""), days_after).map_err(|message| {
                ApiError(Error::invalid_fields(
                    format!("the query parameter {field} is not valid: {message}"),
                    vec![FieldProblem {
                        field: field.into(),
                        message,
                    }],
                ))
            })
        };
        let field = self.field.as_deref().map(str::trim).unwrap_or("");
        Ok(DashboardFilter {
            since: bound("since", &self.since, 0)?,
            until: bound("until", &self.until, 1)?,
            distribution_id: self.distribution_id.clone().filter(|d| !d.is_empty()),
            embedded: (!field.is_empty())
                .then(|| (field.to_string(), self.value.clone().unwrap_or_default())),
            records: self
                .records
                .as_deref()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(String::from)
                .collect(),
        })
    }
}

/// A survey's CX dashboard: response counts, volume over time, and per question NPS
/// (promoters, passives, detractors, trend), CSAT, choice counts and the newest text answers
#[utoipa::path(get, path = "/surveys/{id}/dashboard", tag = "responses", params(DashboardQuery),
    responses((status = 200, body = Dashboard)))]
pub async fn get_dashboard(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(q): Query<DashboardQuery>,
) -> ApiResult<Json<Dashboard>> {
    let filter = q.filter()?;
    Ok(Json(
        state.sonde.survey_dashboard(&actor, &id, &filter).await?,
    ))
}
