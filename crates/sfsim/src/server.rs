//! HTTP wiring: the router, the API gate every `/services/data` call passes (faults, session,
//! API pool, `Sforce-Limit-Info`), and the local admin API under `/_sim/`.

use crate::error::ApiError;
use crate::faults::{Faults, Injected};
use crate::org::{OrgState, Session, MAX_VERSION, MIN_VERSION};
use crate::outbound::{OutboundSettings, Rule};
use crate::rest::{self, Guard, Reply, Req};
use crate::store::Ctx;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

pub fn router(state: Arc<OrgState>) -> Router {
    Router::new()
        .route("/services/data", get(versions))
        .route("/services/data/", get(versions))
        .route("/services/data/{*rest}", axum::routing::any(data_api))
        .route("/services/oauth2/token", post(crate::oauth::token))
        .route(
            "/services/oauth2/authorize",
            get(crate::oauth::authorize_page).post(crate::oauth::authorize_submit),
        )
        .route(
            "/services/oauth2/revoke",
            post(crate::oauth::revoke).get(crate::oauth::revoke),
        )
        .route(
            "/services/oauth2/userinfo",
            get(crate::oauth::userinfo).post(crate::oauth::userinfo),
        )
        .route("/id/{org}/{user}", get(crate::oauth::identity_url))
        .route("/services/Soap/u/{version}", post(crate::soap::login))
        .route("/_sim/info", get(sim_info))
        .route("/_sim/calls", get(sim_calls).delete(sim_reset_calls))
        .route(
            "/_sim/faults",
            get(sim_get_faults)
                .post(sim_set_faults)
                .put(sim_set_faults)
                .delete(sim_clear_faults),
        )
        .route("/_sim/sessions/expire", post(sim_expire))
        .route("/_sim/limits", get(sim_get_limits).post(sim_set_limits))
        .route("/_sim/clock", get(sim_get_clock).post(sim_set_clock))
        .route("/_sim/bulk", get(sim_get_bulk).post(sim_set_bulk))
        .route("/_sim/outbound/rules", get(sim_rules).post(sim_add_rule))
        .route("/_sim/outbound/rules/{id}", delete(sim_delete_rule))
        .route("/_sim/outbound/deliveries", get(sim_deliveries))
        .route(
            "/_sim/outbound/settings",
            get(sim_get_outbound).post(sim_set_outbound),
        )
        .route("/_sim/snapshot", post(sim_snapshot))
        .route(
            "/_sim/canvas",
            get(crate::canvas::get_settings).post(crate::canvas::set_settings),
        )
        .route("/_sim/canvas/signed-request", get(crate::canvas::refresh))
        .route("/_sim/users/{username}", axum::routing::patch(sim_set_user))
        .route(
            "/lightning/r/{object}/{id}/view",
            get(crate::pages::record_page),
        )
        .route("/lightning/o/{object}/list", get(crate::pages::list_view))
        .route("/lightning/page/home", get(crate::pages::home))
        .route("/_sim/generate", post(sim_generate))
        .fallback(not_found)
        // 200 records with long text fields easily pass axum's 2 MB default; Salesforce takes far more.
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
        .with_state(state)
}

async fn not_found() -> Response {
    crate::error::RestError::from(ApiError::not_found()).into_response()
}

/// `GET /services/data/`: the versions list (no session needed).
async fn versions(State(_): State<Arc<OrgState>>) -> Response {
    let list: Vec<Value> = (MIN_VERSION..=MAX_VERSION)
        .map(|v| json!({"label": label_for(v), "url": format!("/services/data/v{v}.0"), "version": format!("{v}.0")}))
        .collect();
    Json(Value::Array(list)).into_response()
}

fn label_for(v: u32) -> String {
    // v20.0 was Winter '11; three releases a year since (Winter, Spring, Summer).
    let n = v.saturating_sub(20);
    let season = ["Winter", "Spring", "Summer"][(n % 3) as usize];
    format!("{season} '{}", 11 + n / 3)
}

fn limit_header(resp: &mut Response, used: u64, max: u64) {
    if let Ok(v) = HeaderValue::from_str(&format!("api-usage={used}/{max}")) {
        resp.headers_mut().insert("sforce-limit-info", v);
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let h = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let t = h
        .strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("OAuth "))?;
    Some(t.trim().to_string())
}

/// Every `/services/data/vXX.X/...` call: faults, auth, API pool, then the REST handlers.
async fn data_api(
    State(state): State<Arc<OrgState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().strip_prefix("/services/data/").unwrap_or("");
    let mut segs = path.split('/').filter(|s| !s.is_empty()).map(|s| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    });
    let version = segs.next().unwrap_or_default();
    let segs: Vec<String> = segs.collect();
    let now = state.clock.now_ms();
    let version = match version
        .strip_prefix('v')
        .and_then(|v| v.parse::<f64>().ok())
    {
        Some(n) if n >= MIN_VERSION as f64 && n <= MAX_VERSION as f64 && n.fract() == 0.0 => {
            format!("{n:.1}")
        }
        _ => {
            let (used, max) = state.limits.usage(now);
            let mut r = crate::error::RestError::from(ApiError::not_found()).into_response();
            limit_header(&mut r, used, max);
            return r;
        }
    };
    let endpoint = rest::endpoint_name(&method, &segs);
    let faults = state.faults.lock().clone();
    let mut lose_reply = false;
    if faults.applies_to(endpoint) {
        if faults.latency_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(faults.latency_ms)).await;
        }
        match faults.roll() {
            Injected::None => {}
            Injected::LostReply => lose_reply = true,
            Injected::Error => {
                state.limits.count_faulted(endpoint);
                let mut r = (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!([{"message": "Server temporarily unavailable; please retry", "errorCode": "SERVER_UNAVAILABLE"}])),
                )
                    .into_response();
                let (used, max) = state.limits.usage(now);
                limit_header(&mut r, used, max);
                return r;
            }
            Injected::Timeout(d) => {
                // Counted before the hang: a client that gives up drops this future mid-sleep.
                state.limits.count_faulted(endpoint);
                tokio::time::sleep(d).await;
                let mut r = (StatusCode::GATEWAY_TIMEOUT, "").into_response();
                let (used, max) = state.limits.usage(now);
                limit_header(&mut r, used, max);
                return r;
            }
        }
    }
    // Who is calling?
    let session = bearer(&headers).and_then(|t| {
        let auth = state.auth.lock();
        let s = auth.session(&t, now)?;
        Some((s.user, t))
    });
    let Some((user, token)) = session else {
        let (used, max) = state.limits.usage(now);
        let mut r = crate::error::RestError::from(ApiError::invalid_session()).into_response();
        limit_header(&mut r, used, max);
        return r;
    };
    let profile = {
        let store = state.store.read();
        store
            .user(user)
            .and_then(|u| store.meta.profile(&u.profile_id).cloned())
    };
    if profile.as_ref().is_some_and(|p| !p.api_enabled) {
        let (used, max) = state.limits.usage(now);
        let mut r = crate::error::RestError::from(ApiError::new(
            403,
            "API_CURRENTLY_DISABLED",
            // What Salesforce's REST API answers a user whose profile lacks "API Enabled".
            "The REST API is not enabled for this Organization.",
        ))
        .into_response();
        limit_header(&mut r, used, max);
        return r;
    }
    let (used, max) = match state.limits.take(now, endpoint) {
        Ok(u) => u,
        Err((used, max)) => {
            let mut r = crate::error::RestError::from(ApiError::new(
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
            ))
            .into_response();
            limit_header(&mut r, used, max);
            return r;
        }
    };
    let session = Session {
        user,
        token,
        ctx_profile: profile,
    };
    let query = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let req = Req {
        method,
        segs,
        query,
        body,
        headers,
        version,
    };
    let st = state.clone();
    // Handlers are synchronous and may scan a large table: keep them off the async workers.
    let reply = tokio::task::spawn_blocking(move || {
        let write = req.method != Method::GET;
        if write {
            let mut store = st.store.write();
            let reply = rest::execute(&st, &session, &req, &mut Guard::W(&mut store));
            let changes = std::mem::take(&mut store.changes);
            if !changes.is_empty() {
                st.outbound.on_changes(&store, &changes, st.clock.now_ms());
                st.mark_dirty();
            }
            reply
        } else {
            let store = st.store.read();
            rest::execute(&st, &session, &req, &mut Guard::R(&store))
        }
    })
    .await;
    let mut resp = match reply {
        Ok(Reply::Json(status, v)) => (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), Json(v)).into_response(),
        Ok(Reply::Text(status, text)) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
            text,
        )
            .into_response(),
        Ok(Reply::Empty(status)) => StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT).into_response(),
        Ok(Reply::Raw(r)) => r,
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!([{"message": "Server temporarily unavailable; please retry", "errorCode": "SERVER_UNAVAILABLE"}])),
        )
            .into_response(),
    };
    if lose_reply {
        // The work is done and committed; only the answer goes missing.
        resp = (StatusCode::GATEWAY_TIMEOUT, "").into_response();
    }
    limit_header(&mut resp, used, max);
    resp
}

// ---------- /_sim admin API ----------

async fn sim_info(State(state): State<Arc<OrgState>>) -> Response {
    Json(crate::info_json(&state, None)).into_response()
}

async fn sim_calls(State(state): State<Arc<OrgState>>) -> Response {
    let (used, max) = state.limits.usage(state.clock.now_ms());
    Json(json!({"calls": state.limits.calls(), "used": used, "max": max})).into_response()
}

async fn sim_reset_calls(State(state): State<Arc<OrgState>>) -> Response {
    state.limits.reset_calls();
    StatusCode::NO_CONTENT.into_response()
}

async fn sim_get_faults(State(state): State<Arc<OrgState>>) -> Response {
    Json(state.faults.lock().clone()).into_response()
}

async fn sim_set_faults(State(state): State<Arc<OrgState>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(f) => {
            *state.faults.lock() = f.clone();
            Json(f).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn sim_clear_faults(State(state): State<Arc<OrgState>>) -> Response {
    *state.faults.lock() = Faults::default();
    StatusCode::NO_CONTENT.into_response()
}

async fn sim_expire(State(state): State<Arc<OrgState>>) -> Response {
    state.auth.lock().expire_all();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LimitsBody {
    max: Option<u64>,
    exhausted: Option<bool>,
    #[serde(default)]
    reset: bool,
}

async fn sim_get_limits(State(state): State<Arc<OrgState>>) -> Response {
    let (used, max) = state.limits.usage(state.clock.now_ms());
    Json(json!({"used": used, "max": max})).into_response()
}

async fn sim_set_limits(State(state): State<Arc<OrgState>>, body: Bytes) -> Response {
    let Ok(b) = serde_json::from_slice::<LimitsBody>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "expected {max?, exhausted?, reset?}"})),
        )
            .into_response();
    };
    if let Some(m) = b.max {
        state.limits.set_max(m);
    }
    if let Some(e) = b.exhausted {
        state.limits.set_exhausted(e);
    }
    if b.reset {
        state.limits.reset_usage();
    }
    sim_get_limits(State(state)).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BulkBody {
    default_max_records: usize,
}

async fn sim_get_bulk(State(state): State<Arc<OrgState>>) -> Response {
    let n = state
        .bulk_page_size
        .load(std::sync::atomic::Ordering::Relaxed);
    Json(json!({"defaultMaxRecords": n})).into_response()
}

async fn sim_set_bulk(State(state): State<Arc<OrgState>>, body: Bytes) -> Response {
    match serde_json::from_slice::<BulkBody>(&body) {
        Ok(b) if b.default_max_records > 0 => {
            state
                .bulk_page_size
                .store(b.default_max_records, std::sync::atomic::Ordering::Relaxed);
            sim_get_bulk(State(state)).await
        }
        _ => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "expected {defaultMaxRecords: N}, N > 0"})),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GenerateBody {
    object: String,
    count: usize,
    /// When the first record is created (default: the org's clock less one second per
    /// `perSecond` records, so the last is created now).
    from: Option<String>,
    #[serde(default = "one")]
    per_second: usize,
}

fn one() -> usize {
    1
}

/// `POST /_sim/generate`: many realistic records at once (load tests), created over time.
async fn sim_generate(State(state): State<Arc<OrgState>>, body: Bytes) -> Response {
    let bad = |m: String| (StatusCode::BAD_REQUEST, Json(json!({"error": m}))).into_response();
    let b = match serde_json::from_slice::<GenerateBody>(&body) {
        Ok(b) => b,
        Err(e) => {
            return bad(format!(
                "expected {{object, count, from?, perSecond?}}: {e}"
            ))
        }
    };
    if b.object != "LiveChatTranscript" {
        return bad(format!(
            "{} cannot be generated (LiveChatTranscript can)",
            b.object
        ));
    }
    let now = state.clock.now_ms();
    let per_second = b.per_second.max(1);
    let from = match b.from.as_deref().map(crate::val::parse_datetime) {
        Some(Some(ms)) => ms,
        Some(None) => return bad("from: not a datetime".into()),
        None => now - (b.count / per_second) as i64 * 1000,
    };
    let made = {
        let mut store = state.store.write();
        let ctx = Ctx {
            now,
            user: store.admin().id,
            profile: None,
        };
        crate::seed_conversations::generate_chats(&mut store, &ctx, b.count, from, per_second)
    };
    match made {
        Ok(n) => {
            state.mark_dirty();
            Json(json!({"created": n})).into_response()
        }
        Err(e) => bad(e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClockBody {
    now: Option<String>,
    advance_ms: Option<i64>,
    scale: Option<f64>,
}

async fn sim_get_clock(State(state): State<Arc<OrgState>>) -> Response {
    Json(json!({"now": crate::val::format_datetime(state.clock.now_ms()), "scale": state.clock.scale()})).into_response()
}

async fn sim_set_clock(State(state): State<Arc<OrgState>>, body: Bytes) -> Response {
    let Ok(b) = serde_json::from_slice::<ClockBody>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "expected {now?, advanceMs?, scale?}"})),
        )
            .into_response();
    };
    if let Some(n) = b.now.as_deref() {
        match crate::val::parse_datetime(n) {
            Some(ms) => state.clock.set_ms(ms),
            None => {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"error": "now: not a datetime"})),
                )
                    .into_response()
            }
        }
    }
    if let Some(a) = b.advance_ms {
        state.clock.set_ms(state.clock.now_ms().saturating_add(a));
    }
    if let Some(s) = b.scale {
        state.clock.set_scale(s);
    }
    state.outbound.wake.notify_one();
    sim_get_clock(State(state)).await
}

async fn sim_rules(State(state): State<Arc<OrgState>>) -> Response {
    Json(state.outbound.rules()).into_response()
}

async fn sim_add_rule(State(state): State<Arc<OrgState>>, body: Bytes) -> Response {
    let rule: Rule = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": e.to_string()})),
            )
                .into_response()
        }
    };
    let res = {
        let store = state.store.read();
        state.outbound.add_rule(&store, rule)
    };
    match res {
        Ok(id) => {
            state.mark_dirty();
            (StatusCode::CREATED, Json(json!({"id": id}))).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({"error": e}))).into_response(),
    }
}

async fn sim_delete_rule(State(state): State<Arc<OrgState>>, Path(id): Path<String>) -> Response {
    if state.outbound.remove_rule(&id) {
        state.mark_dirty();
        StatusCode::NO_CONTENT.into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

async fn sim_deliveries(State(state): State<Arc<OrgState>>) -> Response {
    Json(json!({
        "deliveries": state.outbound.deliveries(),
        "pending": state.outbound.pending_count(),
        "dropped": state.outbound.dropped_count(),
    }))
    .into_response()
}

async fn sim_get_outbound(State(state): State<Arc<OrgState>>) -> Response {
    Json(state.outbound.settings.lock().clone()).into_response()
}

async fn sim_set_outbound(State(state): State<Arc<OrgState>>, body: Bytes) -> Response {
    match serde_json::from_slice::<OutboundSettings>(&body) {
        Ok(s) => {
            *state.outbound.settings.lock() = s.clone();
            state.mark_dirty();
            Json(s).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserBody {
    email: String,
}

/// `PATCH /_sim/users/{username}` `{"email": …}`: what the Canvas context and identity URLs
/// then report for that user.
async fn sim_set_user(
    State(state): State<Arc<OrgState>>,
    Path(username): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(b) = serde_json::from_slice::<UserBody>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "expected {email}"})),
        )
            .into_response();
    };
    if !b.email.contains('@') {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "email: not an email address"})),
        )
            .into_response();
    }
    if state
        .store
        .write()
        .set_user_email(&username, b.email.trim())
    {
        state.mark_dirty();
        Json(json!({"username": username, "email": b.email.trim()})).into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no user {username}")})),
        )
            .into_response()
    }
}

async fn sim_snapshot(State(state): State<Arc<OrgState>>) -> Response {
    match state.snapshot() {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn release_labels() {
        assert_eq!(super::label_for(20), "Winter '11");
        assert_eq!(super::label_for(59), "Winter '24");
        assert_eq!(super::label_for(61), "Summer '24");
    }
}
