//! Who is asking: API clients by Bearer token, people by session cookie (with a CSRF token
//! that every form must echo back).

use crate::error::{ApiError, PageError};
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use engine::{Actor, Error};
use subtle::ConstantTimeEq;

pub const SESSION_COOKIE: &str = "sonde_session";

/// A request authenticated with `Authorization: Bearer <API token>`.
pub struct ApiActor(pub Actor);

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers).ok_or(ApiError(Error::Unauthenticated))?;
        Ok(Self(state.sonde.authenticate_api_token(token).await?))
    }
}

/// The API token of `Authorization: Bearer <token>`.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

/// A form that carries only the session's CSRF token (a button that does one thing). Missing,
/// it is empty, which the check refuses.
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// A signed-in person using the web UI.
pub struct WebUser {
    pub actor: Actor,
    pub csrf: String,
    /// Whether the instance has an Outbox page (the demo's local gateways), for the header.
    pub outbox: bool,
}

impl WebUser {
    /// Refuses a form whose CSRF token is missing or wrong.
    pub fn check_csrf(&self, provided: &str) -> Result<(), PageError> {
        if bool::from(self.csrf.as_bytes().ct_eq(provided.as_bytes())) {
            Ok(())
        } else {
            Err(PageError(Error::Forbidden(
                "this form expired or did not come from Sonde; reload the page and try again"
                    .into(),
            )))
        }
    }
}

pub fn cookie<'a>(parts: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    parts
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let value =
            cookie(&parts.headers, SESSION_COOKIE).ok_or(PageError(Error::Unauthenticated))?;
        let (actor, csrf) = state.sonde.web_session(value).await?;
        Ok(Self {
            actor,
            csrf,
            outbox: state.outbox.is_some(),
        })
    }
}

/// `Set-Cookie` for a session: HttpOnly and SameSite=Lax always, Secure behind HTTPS.
pub fn session_cookie(state: &AppState, value: &str, max_age_secs: i64) -> String {
    cookie_header(state, SESSION_COOKIE, value, "/", max_age_secs)
}

/// `Set-Cookie` for one of Sonde's cookies: HttpOnly and SameSite=Lax always, Secure behind
/// HTTPS.
pub fn cookie_header(
    state: &AppState,
    name: &str,
    value: &str,
    path: &str,
    max_age_secs: i64,
) -> String {
    let secure = if state.sonde.public_url().starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

/// The address the request came from (the TCP peer). The server must be run with
/// [`crate::app`], which records it.
pub struct ClientAddress(pub std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, PageError> {
        parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| Self(info.0.ip()))
            .ok_or_else(|| {
                PageError(Error::Internal(
                    "the client's address is unknown: serve with web::app, which records it".into(),
                ))
            })
    }
}
