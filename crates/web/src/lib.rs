//! HTTP only: routing, authentication, request parsing, HTML and mapping engine errors to
//! status codes. The rules live in `engine`.

pub mod api;
pub mod api_salesforce;
pub mod auth;
pub mod error;
pub mod openapi;
pub mod pages;
pub mod respondent;
pub mod ui;
pub mod ui_linked_orgs;
pub mod ui_salesforce;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

#[derive(Clone)]
pub struct AppState {
    pub sonde: engine::Sonde,
    metrics: PrometheusHandle,
}

impl AppState {
    pub fn new(sonde: engine::Sonde) -> Self {
        Self {
            sonde,
            metrics: metrics_handle(),
        }
    }
}

/// The process-wide Prometheus recorder; installed once even when tests build many apps.
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed by an embedding program; then ours
            // just renders nothing, which is better than failing to start.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/openapi.json", get(openapi::document))
        .route("/surveys", get(api::list_surveys).post(api::create_survey))
        .route("/surveys/import", post(api::import_survey))
        .route(
            "/surveys/{id}",
            get(api::get_survey).put(api::update_survey),
        )
        .route("/surveys/{id}/collaborators", post(api::share_survey))
        .route("/surveys/{id}/links", post(api::create_personal_link))
        .route(
            "/surveys/{id}/link-signing",
            get(api::get_link_signing).put(api::set_link_signing),
        )
        .route(
            "/surveys/{id}/link-signing/rotate",
            post(api::rotate_link_secret),
        )
        .route(
            "/surveys/{id}/responses",
            get(api::list_responses).post(api::create_response),
        )
        .route(
            "/surveys/{id}/responses/{response_id}",
            get(api::get_response).patch(api::update_response),
        )
        .route(
            "/contacts",
            get(api::list_contacts).post(api::create_contact),
        )
        .route("/contacts/import", post(api::import_contacts))
        .route("/contacts/{id}", get(api::get_contact))
        .route("/contacts/{id}/unsubscribe", post(api::unsubscribe_contact))
        .route("/contacts/{id}/resubscribe", post(api::resubscribe_contact))
        .route(
            "/contacts/{id}/opt-out-events",
            get(api::contact_opt_out_events),
        )
        .route(
            "/mailing-lists",
            get(api::list_mailing_lists).post(api::create_mailing_list),
        )
        .route("/mailing-lists/{id}", get(api::get_mailing_list))
        .route(
            "/salesforce/connections",
            get(api_salesforce::list_connections).post(api_salesforce::start_connection),
        )
        .route(
            "/salesforce/connections/{id}",
            delete(api_salesforce::delete_connection),
        )
        .route(
            "/salesforce/connections/{id}/check",
            get(api_salesforce::check_connection),
        )
        .route(
            "/surveys/{id}/workflows",
            get(api_salesforce::list_workflows).post(api_salesforce::create_workflow),
        )
        .route(
            "/workflows/{id}",
            get(api_salesforce::get_workflow)
                .put(api_salesforce::update_workflow)
                .delete(api_salesforce::delete_workflow),
        )
        .route("/workflows/{id}/copy", post(api_salesforce::copy_workflow))
        .route("/workflows/{id}/runs", get(api_salesforce::list_runs))
        .route(
            "/workflows/{id}/runs/{runId}/retry",
            post(api_salesforce::retry_run),
        )
        .fallback(api_not_found);

    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(healthz))
        .route(
            "/oauth/salesforce/callback",
            get(ui_salesforce::oauth_callback),
        )
        .route("/metrics", get(metrics_page))
        .route(
            "/s/{survey_id}",
            get(respondent::open).post(respondent::submit),
        )
        .route(
            "/optout/{token}",
            get(respondent::opt_out_page).post(respondent::opt_out_confirm),
        )
        .route("/", get(ui::home))
        .route("/login", get(ui::login_form).post(ui::login))
        .route("/logout", post(ui::logout))
        .route("/surveys", get(ui::surveys))
        .route("/surveys/import", post(ui::import_survey))
        .route("/surveys/{id}", get(ui::survey_detail))
        .route("/surveys/{id}/share", post(ui::share_survey))
        .route("/surveys/{id}/export.csv", get(ui::export_csv))
        .route("/surveys/{id}/export.json", get(ui::export_json))
        .route("/contacts", get(ui::contacts))
        .route("/contacts/import", post(ui::import_contacts))
        .route("/lists", get(ui::lists).post(ui::create_list))
        .route("/lists/{id}", get(ui::list_detail))
        .route("/salesforce", get(ui_salesforce::connections))
        .route("/salesforce/link", post(ui_salesforce::link))
        .route("/salesforce/{id}/check", get(ui_salesforce::check))
        .route(
            "/salesforce/{id}/disconnect",
            get(ui_linked_orgs::confirm_disconnect).post(ui_salesforce::disconnect),
        )
        .route("/surveys/{id}/workflows", get(ui_salesforce::workflows))
        .route(
            "/surveys/{id}/workflows/new",
            get(ui_salesforce::new_workflow).post(ui_salesforce::create_workflow),
        )
        .route(
            "/workflows/{id}",
            get(ui_salesforce::workflow).post(ui_salesforce::update_workflow),
        )
        .route(
            "/workflows/{id}/delete",
            post(ui_salesforce::delete_workflow),
        )
        .route("/workflows/{id}/copy", post(ui_salesforce::copy_workflow))
        .route("/workflows/{id}/runs", get(ui_salesforce::runs))
        .route(
            "/workflows/{id}/runs/{run_id}/retry",
            post(ui_salesforce::retry),
        )
        .fallback(page_not_found)
        .layer(middleware::from_fn(track))
        .layer(axum::extract::DefaultBodyLimit::max(32 * 1024 * 1024))
        .with_state(state)
}

async fn api_not_found() -> error::ApiError {
    error::ApiError(engine::Error::NotFound("endpoint"))
}

async fn page_not_found() -> error::PageError {
    error::PageError(engine::Error::NotFound("page"))
}

/// Counts requests and their latency per route template (not per URL, to bound cardinality).
async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let elapsed = start.elapsed().as_secs_f64();
    metrics::counter!("sonde_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("sonde_http_request_duration_seconds", "method" => method, "route" => route).record(elapsed);
    response
}

/// Healthy means the store takes a write now (a real, bounded write probe): a node whose disk
/// is full or whose database another process holds locked is taken out of rotation.
async fn healthz(State(state): State<AppState>) -> Response {
    match state.sonde.store.probe_write().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(
                axum::http::header::RETRY_AFTER,
                error::RETRY_AFTER_SECS.to_string(),
            )],
            format!("{reason}\n"),
        )
            .into_response(),
    }
}

/// Prometheus text format. Needs an admin's API token: metrics reveal activity volumes.
async fn metrics_page(
    State(state): State<AppState>,
    auth::ApiActor(actor): auth::ApiActor,
) -> Result<Response, error::ApiError> {
    actor.require(engine::Role::Admin)?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
        .into_response())
}
