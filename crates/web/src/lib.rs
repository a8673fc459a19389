//! HTTP only: routing, authentication, request parsing, HTML and mapping engine errors to
//! status codes. The rules live in `engine`.

pub mod account;
pub mod api;
pub mod api_audit;
pub mod api_credentials;
pub mod api_dashboards;
pub mod api_deletions;
pub mod api_discover;
pub mod api_discover_accounts;
pub mod api_discover_view;
pub mod api_distributions;
pub mod api_opt_out_sync;
mod api_query;
pub mod api_salesforce;
pub mod api_survey_edits;
pub mod api_survey_lifecycle;
pub mod api_types;
pub mod api_users;
pub mod assets;
pub mod auth;
mod definition_uploads;
mod downloads;
pub mod error;
pub mod invitation;
pub mod openapi;
pub mod pages;
pub mod panel;
pub mod panel_dashboard;
pub mod panel_send;
pub mod panel_sent;
pub mod panel_settings;
pub mod preview;
pub mod respondent;
pub mod routes;
pub mod salesforce_hooks;
pub mod security;
pub mod sign_in;
pub mod twilio_webhooks;
pub mod ui;
pub mod ui_audit;
pub mod ui_builder;
pub mod ui_dashboards;
pub mod ui_deletions;
pub mod ui_discover;
mod ui_discover_chart;
mod ui_discover_job_form;
pub mod ui_discover_jobs;
mod ui_distribution_form;
pub mod ui_distributions;
mod ui_field_errors;
pub mod ui_frequency_rules;
pub mod ui_linked_orgs;
pub mod ui_opt_out_sync;
pub mod ui_outbox;
pub mod ui_responses;
pub mod ui_salesforce;
pub mod ui_survey_bundles;
pub mod ui_survey_lifecycle;
pub mod ui_templates;
pub mod ui_test_sends;
pub mod ui_users;
mod ui_workflow_catalog;
pub mod ui_workflow_editor;
mod ui_workflow_form;
pub mod ui_workflow_moves;
mod ui_workflow_triggers;
pub mod ui_workflows;

use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Instant;

#[derive(Clone)]
pub struct AppState {
    pub sonde: engine::Sonde,
    metrics: PrometheusHandle,
    /// The local gateways whose messages the Outbox page shows (the demo's); None: no page.
    pub(crate) outbox: Option<std::sync::Arc<ui_outbox::Outbox>>,
}

impl AppState {
    pub fn new(sonde: engine::Sonde) -> Self {
        Self {
            sonde,
            metrics: metrics_handle(),
            outbox: None,
        }
    }

    /// Shows an Outbox page (admins) of what these local gateways received.
    pub fn with_outbox(mut self, outbox: ui_outbox::Outbox) -> Self {
        self.outbox = outbox.is_configured().then(|| std::sync::Arc::new(outbox));
        self
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

/// The largest request body read (a big `.qsf`, a contact import).
pub const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// The whole application: the routes of [`routes::table`], the API's nested under
/// [`routes::API_PREFIX`] with its own not-found answer and JSON errors.
pub fn router(state: AppState) -> Router {
    let mut api = Router::new();
    let mut site = Router::new();
    for r in routes::table() {
        match r.path.strip_prefix(routes::API_PREFIX) {
            Some(path) => api = api.route(path, r.endpoint),
            None => site = site.route(r.path, r.endpoint),
        }
    }
    let api = api
        .fallback(api_not_found)
        .layer(middleware::from_fn(error::json_errors));
    site.nest(routes::API_PREFIX, api)
        .fallback(page_not_found)
        .layer(middleware::from_fn_with_state(
            definition_uploads::permits(),
            definition_uploads::one_of_few,
        ))
        .layer(middleware::from_fn(track))
        .layer(middleware::from_fn(security::headers))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// The application as a service that records each connection's peer address, which sign-in
/// throttling needs ([`auth::ClientAddress`]): serve this, not the bare [`router`].
pub fn app(state: AppState) -> IntoMakeServiceWithConnectInfo<Router, SocketAddr> {
    router(state).into_make_service_with_connect_info::<SocketAddr>()
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
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
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
pub(crate) async fn metrics_page(
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
