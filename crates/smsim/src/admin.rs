//! The gateway's own API under `/_smsim/` (no auth: bind it to loopback): the outbox view,
//! injecting a reply from a phone, the callback log, webhooks, opt-outs and faults.

use crate::faults::Faults;
use crate::gateway::{CallbackAttempt, Gateway};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use twilio_wire::messages::parse_date;
use twilio_wire::{Direction, Encoding, Message};

pub(crate) fn routes() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/_smsim/info", get(info))
        .route("/_smsim/messages", get(outbox).delete(clear))
        .route("/_smsim/inbound", post(inbound))
        .route("/_smsim/callbacks", get(callbacks))
        .route("/_smsim/webhook", get(get_webhooks).post(set_webhook))
        .route("/_smsim/opt-outs", get(opt_outs))
        .route("/_smsim/faults", get(get_faults).post(set_faults))
        .route("/_smsim/snapshot", post(snapshot))
}

/// One message as the demo's Outbox page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    pub sid: String,
    pub direction: Direction,
    pub from: String,
    pub to: String,
    pub body: String,
    pub status: twilio_wire::MessageStatus,
    pub error_code: Option<u32>,
    pub error_message: Option<String>,
    pub segments: u32,
    /// `GSM-7` or `UCS-2`.
    pub encoding: String,
    /// RFC 3339.
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Message> for OutboxEntry {
    fn from(m: &Message) -> OutboxEntry {
        let seg = twilio_wire::segments(&m.body);
        let rfc3339 = |d: &str| parse_date(d).map(|t| t.to_rfc3339()).unwrap_or_default();
        OutboxEntry {
            sid: m.sid.clone(),
            direction: m.direction,
            from: m.from.clone(),
            to: m.to.clone(),
            body: m.body.clone(),
            status: m.status,
            error_code: m.error_code,
            error_message: m.error_message.clone(),
            segments: seg.count,
            encoding: match seg.encoding {
                Encoding::Gsm7 => "GSM-7",
                Encoding::Ucs2 => "UCS-2",
            }
            .into(),
            created_at: rfc3339(&m.date_created),
            updated_at: rfc3339(&m.date_updated),
        }
    }
}

#[derive(Deserialize)]
struct OutboxQuery {
    /// Only messages to or from this number.
    phone: Option<String>,
    limit: Option<usize>,
}

/// Newest first: both directions, so a conversation reads bottom-up.
pub(crate) fn outbox_of(gw: &Gateway, phone: Option<&str>, limit: usize) -> Vec<OutboxEntry> {
    let store = gw.store.lock();
    store
        .messages
        .iter()
        .rev()
        .filter(|s| phone.is_none_or(|p| s.message.to == p || s.message.from == p))
        .take(limit)
        .map(|s| OutboxEntry::from(&s.message))
        .collect()
}

async fn outbox(State(gw): State<Arc<Gateway>>, Query(q): Query<OutboxQuery>) -> Response {
    Json(outbox_of(&gw, q.phone.as_deref(), q.limit.unwrap_or(1000))).into_response()
}

async fn clear(State(gw): State<Arc<Gateway>>) -> Response {
    {
        let mut store = gw.store.lock();
        store.messages.clear();
        store.reindex();
        store.callbacks.clear();
    }
    gw.mark_dirty();
    StatusCode::NO_CONTENT.into_response()
}

async fn info(State(gw): State<Arc<Gateway>>) -> Response {
    Json(crate::info_json(&gw)).into_response()
}

#[derive(Deserialize)]
struct InjectBody {
    from: String,
    to: Option<String>,
    body: String,
}

async fn inbound(State(gw): State<Arc<Gateway>>, Json(req): Json<InjectBody>) -> Response {
    match crate::inbound::inject(&gw, &req.from, req.to.as_deref(), &req.body).await {
        Ok(result) => Json(result).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({"error": e}))).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CallbackQuery {
    message_sid: Option<String>,
}

async fn callbacks(State(gw): State<Arc<Gateway>>, Query(q): Query<CallbackQuery>) -> Response {
    let list: Vec<CallbackAttempt> = gw
        .store
        .lock()
        .callbacks
        .iter()
        .filter(|c| q.message_sid.as_ref().is_none_or(|s| &c.message_sid == s))
        .cloned()
        .collect();
    Json(list).into_response()
}

fn webhooks_json(gw: &Gateway) -> serde_json::Value {
    let store = gw.store.lock();
    json!({"default": store.default_webhook, "numbers": store.webhooks})
}

async fn get_webhooks(State(gw): State<Arc<Gateway>>) -> Response {
    Json(webhooks_json(&gw)).into_response()
}

#[derive(Deserialize)]
struct WebhookBody {
    /// None removes it.
    url: Option<String>,
    /// One of the account's numbers; absent: the default for all of them.
    number: Option<String>,
}

async fn set_webhook(State(gw): State<Arc<Gateway>>, Json(req): Json<WebhookBody>) -> Response {
    if let Some(u) = &req.url {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": format!("url: {u:?} is not an http(s) URL")})),
            )
                .into_response();
        }
    }
    match req.number {
        Some(n) if !gw.account.numbers.contains(&n) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(
                    json!({"error": format!("number: {n:?} is not one of the account's numbers")}),
                ),
            )
                .into_response();
        }
        Some(n) => crate::set_webhook_in(&gw, Some(&n), req.url),
        None => crate::set_webhook_in(&gw, None, req.url),
    }
    Json(webhooks_json(&gw)).into_response()
}

async fn opt_outs(State(gw): State<Arc<Gateway>>) -> Response {
    let list: Vec<_> = gw
        .store
        .lock()
        .opt_outs
        .iter()
        .map(|(number, phone)| json!({"number": number, "phone": phone}))
        .collect();
    Json(list).into_response()
}

async fn get_faults(State(gw): State<Arc<Gateway>>) -> Response {
    Json(gw.store.lock().faults.clone()).into_response()
}

async fn set_faults(State(gw): State<Arc<Gateway>>, Json(f): Json<Faults>) -> Response {
    gw.store.lock().faults = f.clone();
    Json(f).into_response()
}

async fn snapshot(State(gw): State<Arc<Gateway>>) -> Response {
    match gw.snapshot() {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}
