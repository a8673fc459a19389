//! `/api/v1` for distributions: the templates library, distributions of a survey (created,
//! read with their statistics, edited or deleted while scheduled), their recipients, test
//! sends and their outcomes, and the directory's contact frequency rules.

use crate::api::{json_body, ApiResult};
use crate::api_query::Query;
use crate::auth::ApiActor;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use distribution::frequency::FrequencyRule;
use engine::distribution_stats::RecipientPage;
use engine::distribution_workers::{TestSend, TestSendQueued};
use engine::distributions::{Distribution, NewDistribution};
use engine::frequency_rules::SavedFrequencyRule;
use engine::message_templates::{Template, TemplateDefinition};
use engine::test_sends::TestSendStatus;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct TemplateList {
    /// Email templates first, then SMS, each by name.
    pub templates: Vec<Template>,
}

#[derive(Serialize, ToSchema)]
pub struct DistributionList {
    /// Newest first.
    pub distributions: Vec<Distribution>,
}

#[derive(Serialize, ToSchema)]
pub struct FrequencyRuleList {
    /// Oldest first: a capped invitation names the first rule that stops it.
    pub rules: Vec<SavedFrequencyRule>,
}

/// The query string of `GET /distributions/{id}/recipients`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecipientQuery {
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Page size, 1–1000 (default 100).
    pub limit: Option<usize>,
}

fn created<T: Serialize>(location: String, body: T) -> Response {
    (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response()
}

/// Save a template (editors): `channel` email or sms, then its fields; every body must hold
/// the survey link (`${l://SurveyLink}` or `${l://SurveyURL}`)
#[utoipa::path(post, path = "/templates", tag = "distributions", request_body = TemplateDefinition,
    responses((status = 201, body = Template)))]
pub async fn create_template(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: Bytes,
) -> ApiResult<Response> {
    let definition: TemplateDefinition = json_body(&body)?;
    let t = state.sonde.create_template(&actor, definition).await?;
    Ok(created(format!("/api/v1/templates/{}", t.id), t))
}

/// The organization's templates
#[utoipa::path(get, path = "/templates", tag = "distributions",
    responses((status = 200, body = TemplateList)))]
pub async fn list_templates(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<TemplateList>> {
    Ok(Json(TemplateList {
        templates: state.sonde.templates(&actor).await?,
    }))
}

/// One template
#[utoipa::path(get, path = "/templates/{id}", tag = "distributions",
    responses((status = 200, body = Template)))]
pub async fn get_template(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Template>> {
    Ok(Json(state.sonde.template(&actor, &id).await?))
}

/// Replace a template (its channel stays)
#[utoipa::path(put, path = "/templates/{id}", tag = "distributions", request_body = TemplateDefinition,
    responses((status = 200, body = Template)))]
pub async fn update_template(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Template>> {
    let definition: TemplateDefinition = json_body(&body)?;
    Ok(Json(
        state.sonde.update_template(&actor, &id, definition).await?,
    ))
}

/// Delete a template no distribution uses (409 while one does)
#[utoipa::path(delete, path = "/templates/{id}", tag = "distributions",
    responses((status = 204, description = "Deleted")))]
pub async fn delete_template(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.sonde.delete_template(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send a survey to a mailing list or chosen contacts, now or at `sendAt`, with reminders
/// and a thank-you (editors)
#[utoipa::path(post, path = "/surveys/{id}/distributions", tag = "distributions",
    request_body = NewDistribution, responses((status = 201, body = Distribution)))]
pub async fn create_distribution(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: NewDistribution = json_body(&body)?;
    let d = state.sonde.create_distribution(&actor, &id, input).await?;
    Ok(created(format!("/api/v1/distributions/{}", d.id), d))
}

/// A survey's distributions with their statistics
#[utoipa::path(get, path = "/surveys/{id}/distributions", tag = "distributions",
    responses((status = 200, body = DistributionList)))]
pub async fn list_distributions(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<DistributionList>> {
    Ok(Json(DistributionList {
        distributions: state.sonde.survey_distributions(&actor, &id).await?,
    }))
}

/// A distribution with its statistics
#[utoipa::path(get, path = "/distributions/{id}", tag = "distributions",
    responses((status = 200, body = Distribution)))]
pub async fn get_distribution(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Distribution>> {
    Ok(Json(state.sonde.distribution(&actor, &id).await?))
}

/// Change a scheduled distribution: the fields given replace what it had, those left out
/// stay (`thankYou: null` removes the thank-you, `reminders: []` every reminder; 409 once it
/// has started)
#[utoipa::path(patch, path = "/distributions/{id}", tag = "distributions",
    request_body = NewDistribution, responses((status = 200, body = Distribution)))]
pub async fn update_distribution(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Distribution>> {
    let changes: NewDistribution = json_body(&body)?;
    Ok(Json(
        state
            .sonde
            .update_distribution(&actor, &id, changes)
            .await?,
    ))
}

/// Delete a scheduled distribution (409 once it has started)
#[utoipa::path(delete, path = "/distributions/{id}", tag = "distributions",
    responses((status = 204, description = "Deleted")))]
pub async fn delete_distribution(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.sonde.delete_distribution(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A distribution's recipients, each with its state, reason and times (paged)
#[utoipa::path(get, path = "/distributions/{id}/recipients", tag = "distributions",
    params(RecipientQuery), responses((status = 200, body = RecipientPage)))]
pub async fn list_recipients(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(q): Query<RecipientQuery>,
) -> ApiResult<Json<RecipientPage>> {
    Ok(Json(
        state
            .sonde
            .distribution_recipients(&actor, &id, q.after.as_deref(), q.limit.unwrap_or(100))
            .await?,
    ))
}

/// Send one message, rendered with a chosen contact's data, to any address (editors); it is
/// queued like every message, and its survey link is the survey's preview; its outcome is
/// read at `statusUrl` (also the `Location`)
#[utoipa::path(post, path = "/distributions/test", tag = "distributions", request_body = TestSend,
    responses((status = 202, body = TestSendQueued)))]
pub async fn test_send(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: Bytes,
) -> ApiResult<Response> {
    let asked: TestSend = json_body(&body)?;
    let queued = state.sonde.queue_test_send(&actor, asked).await?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, queued.status_url.clone())],
        Json(queued),
    )
        .into_response())
}

/// A test send's outcome (editors): `queued`, `sent` or `failed` with the mail server's or
/// gateway's words, where it went, and when
#[utoipa::path(get, path = "/distributions/test/{id}", tag = "distributions",
    responses((status = 200, body = TestSendStatus)))]
pub async fn get_test_send(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<TestSendStatus>> {
    Ok(Json(state.sonde.test_send(&actor, &id).await?))
}

/// The organization's contact frequency rules
#[utoipa::path(get, path = "/directory/frequency-rules", tag = "distributions",
    responses((status = 200, body = FrequencyRuleList)))]
pub async fn list_frequency_rules(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<FrequencyRuleList>> {
    Ok(Json(FrequencyRuleList {
        rules: state.sonde.frequency_rules(&actor).await?,
    }))
}

/// Add a contact frequency rule (admins): at most `maxInvitations` in `periodDays` and/or at
/// least `minDaysBetween`, for the organization, a survey or a list
#[utoipa::path(post, path = "/directory/frequency-rules", tag = "distributions",
    request_body = FrequencyRule, responses((status = 201, body = SavedFrequencyRule)))]
pub async fn create_frequency_rule(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: Bytes,
) -> ApiResult<Response> {
    let rule: FrequencyRule = json_body(&body)?;
    let saved = state.sonde.create_frequency_rule(&actor, rule).await?;
    Ok((StatusCode::CREATED, Json(saved)).into_response())
}

/// Delete a contact frequency rule (admins)
#[utoipa::path(delete, path = "/directory/frequency-rules/{id}", tag = "distributions",
    responses((status = 204, description = "Deleted")))]
pub async fn delete_frequency_rule(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.sonde.delete_frequency_rule(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
