//! What the catcher shows over HTTP (the demo's Outbox page, tests): each message's envelope
//! and its parsed headers and bodies, decoded by mail-parser, plus the raw message.

use crate::mailbox::{Mailbox, Received, Refusal};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use mail_parser::{Address, MessageParser};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailAddress {
    pub name: Option<String>,
    pub address: Option<String>,
}

/// One received message as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailView {
    pub id: u64,
    /// RFC 3339.
    pub received_at: String,
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
    pub auth_user: Option<String>,
    /// False when the bytes are not a parseable message (the envelope is still shown).
    pub parsed: bool,
    pub from: Vec<MailAddress>,
    pub to: Vec<MailAddress>,
    pub cc: Vec<MailAddress>,
    pub reply_to: Vec<MailAddress>,
    pub subject: Option<String>,
    /// The Date header, RFC 3339.
    pub date: Option<String>,
    pub message_id: Option<String>,
    /// Raw size in bytes.
    pub size: usize,
    /// The first text/plain body, decoded.
    pub text: Option<String>,
    /// The first text/html body, decoded.
    pub html: Option<String>,
    /// Every header as sent (unfolded, not decoded); only in the single-message view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Vec<(String, String)>>,
}

fn addresses(a: Option<&Address<'_>>) -> Vec<MailAddress> {
    a.map(|a| {
        a.iter()
            .map(|x| MailAddress {
                name: x.name().map(str::to_string),
                address: x.address().map(str::to_string),
            })
            .collect()
    })
    .unwrap_or_default()
}

pub fn view(r: &Received, with_headers: bool) -> MailView {
    let mut v = MailView {
        id: r.id,
        received_at: r.received_at.to_rfc3339(),
        envelope_from: r.mail_from.clone(),
        envelope_to: r.rcpt_to.clone(),
        auth_user: r.auth_user.clone(),
        parsed: false,
        from: vec![],
        to: vec![],
        cc: vec![],
        reply_to: vec![],
        subject: None,
        date: None,
        message_id: None,
        size: r.raw.len(),
        text: None,
        html: None,
        headers: None,
    };
    let Some(m) = MessageParser::default().parse(&r.raw[..]) else {
        return v;
    };
    v.parsed = true;
    v.from = addresses(m.from());
    v.to = addresses(m.to());
    v.cc = addresses(m.cc());
    v.reply_to = addresses(m.reply_to());
    v.subject = m.subject().map(str::to_string);
    v.date = m.date().map(|d| d.to_rfc3339());
    v.message_id = m.message_id().map(str::to_string);
    // mail-parser converts between text and HTML when one is missing; show only what was sent.
    v.text = m
        .text_bodies()
        .find(|p| p.is_text() && !p.is_text_html())
        .and_then(|p| p.text_contents())
        .map(str::to_string);
    v.html = m
        .html_bodies()
        .find(|p| p.is_text_html())
        .and_then(|p| p.text_contents())
        .map(str::to_string);
    if with_headers {
        v.headers = Some(
            m.headers_raw()
                .map(|(name, value)| (name.to_string(), unfold(value)))
                .collect(),
        );
    }
    v
}

fn unfold(raw: &str) -> String {
    raw.split(['\r', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn routes() -> Router<Arc<crate::Shared>> {
    Router::new()
        .route("/info", get(info))
        .route("/messages", get(list).delete(clear))
        .route("/messages/{id}", get(one))
        .route("/messages/{id}/raw", get(raw))
        .route(
            "/refusals",
            get(refusals).post(add_refusal).delete(clear_refusals),
        )
}

#[derive(Deserialize)]
struct ListQuery {
    /// Only messages to this envelope recipient (any letter case).
    to: Option<String>,
    limit: Option<usize>,
}

pub(crate) fn list_of(mb: &Mailbox, to: Option<&str>, limit: usize) -> Vec<MailView> {
    mb.messages()
        .iter()
        .filter(|r| to.is_none_or(|t| r.rcpt_to.iter().any(|x| x.eq_ignore_ascii_case(t))))
        .take(limit)
        .map(|r| view(r, false))
        .collect()
}

async fn list(State(s): State<Arc<crate::Shared>>, Query(q): Query<ListQuery>) -> Response {
    Json(list_of(&s.mailbox, q.to.as_deref(), q.limit.unwrap_or(100))).into_response()
}

async fn clear(State(s): State<Arc<crate::Shared>>) -> Response {
    s.mailbox.clear();
    StatusCode::NO_CONTENT.into_response()
}

fn missing(id: u64) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": format!("no message {id} (it may be older than the ones kept)")})),
    )
        .into_response()
}

async fn one(State(s): State<Arc<crate::Shared>>, Path(id): Path<u64>) -> Response {
    match s.mailbox.get(id) {
        Some(r) => Json(view(&r, true)).into_response(),
        None => missing(id),
    }
}

async fn raw(State(s): State<Arc<crate::Shared>>, Path(id): Path<u64>) -> Response {
    match s.mailbox.get(id) {
        Some(r) => ([(header::CONTENT_TYPE, "message/rfc822")], r.raw.to_vec()).into_response(),
        None => missing(id),
    }
}

async fn info(State(s): State<Arc<crate::Shared>>) -> Response {
    Json(s.info()).into_response()
}

async fn refusals(State(s): State<Arc<crate::Shared>>) -> Response {
    Json(s.mailbox.refusals()).into_response()
}

async fn add_refusal(State(s): State<Arc<crate::Shared>>, Json(r): Json<Refusal>) -> Response {
    match s.mailbox.add_refusal(r) {
        Ok(()) => (StatusCode::CREATED, Json(s.mailbox.refusals())).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({"error": e}))).into_response(),
    }
}

async fn clear_refusals(State(s): State<Arc<crate::Shared>>) -> Response {
    s.mailbox.clear_refusals();
    StatusCode::NO_CONTENT.into_response()
}
