//! Twilio's Messages API as the gateway serves it: `POST`/`GET
//! /2010-04-01/Accounts/{AccountSid}/Messages.json` and `GET`/`DELETE
//! …/Messages/{Sid}.json`, behind HTTP Basic auth with the account sid and auth token,
//! answering Twilio's JSON and error shapes.

use crate::delivery;
use crate::gateway::Gateway;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use std::sync::Arc;
use twilio_wire::messages::{code, encode_form, parse_form, API_VERSION};
use twilio_wire::{ApiError, CreateMessage, Direction, MessagePage};

pub(crate) fn routes() -> Router<Arc<Gateway>> {
    Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Messages.json",
            post(create).get(list),
        )
        .route(
            "/2010-04-01/Accounts/{account}/Messages/{message}",
            get(fetch).delete(remove),
        )
}

/// Twilio's error JSON with its HTTP status (and the Basic challenge on a 401).
pub(crate) fn error(e: ApiError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = (status, Json(e)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"Twilio API\""),
        );
    }
    resp
}

pub(crate) fn not_found(path: &str) -> ApiError {
    ApiError::new(
        404,
        code::NOT_FOUND,
        format!("The requested resource {path} was not found"),
    )
}

/// The account sid in the path and HTTP Basic credentials must both be the account's.
fn authenticate(gw: &Gateway, account: &str, headers: &HeaderMap) -> Result<(), ApiError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    let ok = given
        .as_deref()
        .and_then(|g| g.split_once(':'))
        .is_some_and(|(user, pass)| {
            user == gw.account.account_sid
                && same(pass.as_bytes(), gw.account.auth_token.as_bytes())
                && account == gw.account.account_sid
        });
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(401, code::AUTHENTICATE, "Authenticate"))
    }
}

/// Compares without an early exit, so the token cannot be guessed by timing.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn first(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

async fn create(
    State(gw): State<Arc<Gateway>>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(e) = authenticate(&gw, &account, &headers) {
        return error(e);
    }
    // Twilio takes the first value of a repeated parameter.
    let params = parse_form(&body);
    let form = CreateMessage {
        to: first(&params, "To").unwrap_or_default(),
        from: first(&params, "From"),
        messaging_service_sid: first(&params, "MessagingServiceSid"),
        body: first(&params, "Body").unwrap_or_default(),
        status_callback: first(&params, "StatusCallback").filter(|s| !s.is_empty()),
    };
    match gw.create(&form, Direction::OutboundApi) {
        Ok(message) => {
            delivery::start(gw.clone(), message.sid.clone());
            (StatusCode::CREATED, Json(message)).into_response()
        }
        Err(e) => error(e),
    }
}

async fn list(
    State(gw): State<Arc<Gateway>>,
    Path(account): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = authenticate(&gw, &account, &headers) {
        return error(e);
    }
    let query = parse_form(query.unwrap_or_default().as_bytes());
    let to = first(&query, "To");
    let from = first(&query, "From");
    let page_size: u32 = first(&query, "PageSize")
        .and_then(|s| s.parse().ok())
        .unwrap_or(50)
        .clamp(1, 1000);
    let page: u32 = first(&query, "Page")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (messages, more) = {
        let store = gw.store.lock();
        let matching = store.messages.iter().rev().filter(|s| {
            to.as_ref().is_none_or(|t| &s.message.to == t)
                && from.as_ref().is_none_or(|f| &s.message.from == f)
        });
        let mut items: Vec<_> = matching
            .skip((page * page_size) as usize)
            .take(page_size as usize + 1)
            .map(|s| s.message.clone())
            .collect();
        let more = items.len() > page_size as usize;
        items.truncate(page_size as usize);
        (items, more)
    };
    let uri_of = |p: u32| {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(t) = &to {
            q.push(("To", t.clone()));
        }
        if let Some(f) = &from {
            q.push(("From", f.clone()));
        }
        q.push(("PageSize", page_size.to_string()));
        q.push(("Page", p.to_string()));
        format!(
            "/{API_VERSION}/Accounts/{}/Messages.json?{}",
            gw.account.account_sid,
            encode_form(&q)
        )
    };
    let start = page * page_size;
    let body = MessagePage {
        end: (start + messages.len() as u32).saturating_sub(1),
        start,
        page,
        page_size,
        uri: uri_of(page),
        first_page_uri: uri_of(0),
        next_page_uri: more.then(|| uri_of(page + 1)),
        previous_page_uri: (page > 0).then(|| uri_of(page - 1)),
        messages,
    };
    Json(body).into_response()
}

fn sid_of(segment: &str) -> &str {
    segment.strip_suffix(".json").unwrap_or(segment)
}

async fn fetch(
    State(gw): State<Arc<Gateway>>,
    Path((account, message)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    if let Err(e) = authenticate(&gw, &account, &headers) {
        return error(e);
    }
    let found = gw
        .store
        .lock()
        .get(sid_of(&message))
        .map(|s| s.message.clone());
    match found {
        Some(m) => Json(m).into_response(),
        None => error(not_found(uri.path())),
    }
}

async fn remove(
    State(gw): State<Arc<Gateway>>,
    Path((account, message)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    if let Err(e) = authenticate(&gw, &account, &headers) {
        return error(e);
    }
    if gw.store.lock().remove(sid_of(&message)) {
        gw.mark_dirty();
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(not_found(uri.path()))
    }
}
