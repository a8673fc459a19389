//! The one place engine errors become HTTP: JSON for the API, a readable page for people.
//! Internal errors are logged with their cause and never shown. A store that is briefly
//! unavailable answers 503 with `Retry-After`, so clients and proxies know to come back.

use crate::pages;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use engine::Error;
use serde_json::json;

fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::Unauthenticated => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::Invalid { .. } => StatusCode::BAD_REQUEST,
        Error::Conflict(_) => StatusCode::CONFLICT,
        Error::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn code_of(e: &Error) -> &'static str {
    match e {
        Error::Unauthenticated => "unauthenticated",
        Error::Forbidden(_) => "forbidden",
        Error::NotFound(_) => "not_found",
        Error::Invalid { .. } => "invalid",
        Error::Conflict(_) => "conflict",
        Error::TooManyAttempts { .. } => "too_many_attempts",
        Error::Unavailable(_) => "unavailable",
        Error::Internal(_) => "internal",
    }
}

/// Seconds a client is asked to wait before retrying a 503: about the store's lock wait.
pub const RETRY_AFTER_SECS: u64 = 5;

fn log_internal(e: &Error) {
    let chain = |cause: &(dyn std::error::Error + 'static)| {
        let mut chain = cause.to_string();
        let mut source = cause.source();
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        chain
    };
    match e {
        Error::Internal(cause) => tracing::error!(error = %chain(cause.as_ref()), "internal error"),
        Error::Unavailable(cause) => {
            tracing::warn!(error = %chain(cause.as_ref()), "store unavailable, answered 503")
        }
        _ => {}
    }
}

/// Adds the headers a status calls for: a challenge for 401, a retry time for 503 and for 429
/// (the wait the error names).
fn with_status_headers(e: &Error, mut response: Response) -> Response {
    let status = response.status();
    let headers = response.headers_mut();
    if let Error::TooManyAttempts { retry_after } = e {
        headers.insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(engine::retry_after_secs(retry_after)),
        );
    }
    match status {
        StatusCode::UNAUTHORIZED => {
            headers.insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"sonde\""),
            );
        }
        StatusCode::SERVICE_UNAVAILABLE => {
            headers.insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(RETRY_AFTER_SECS),
            );
        }
        _ => {}
    }
    response
}

/// An engine error answered as JSON.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self(Error::invalid(message))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        log_internal(&self.0);
        let status = status_of(&self.0);
        let problems = match &self.0 {
            Error::Invalid { problems, .. } => problems.clone(),
            _ => Vec::new(),
        };
        let body = json!({
            "error": {
                "code": code_of(&self.0),
                "message": self.0.to_string(),
                "problems": problems,
            }
        });
        with_status_headers(&self.0, (status, Json(body)).into_response())
    }
}

/// An engine error answered as a page a person understands.
#[derive(Debug)]
pub struct PageError(pub Error);

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        log_internal(&self.0);
        if matches!(self.0, Error::Unauthenticated) {
            return axum::response::Redirect::to("/login").into_response();
        }
        let status = status_of(&self.0);
        let (title, advice) = match &self.0 {
            Error::NotFound(_) => (
                "Not found",
                "The link may be mistyped, or the item was removed or is not shared with you.",
            ),
            Error::Forbidden(_) => ("Not allowed", "Ask an administrator of your organization."),
            Error::Invalid { .. } => (
                "That did not work",
                "Please correct the input and try again.",
            ),
            Error::Conflict(_) => ("That did not work", "The item changed meanwhile."),
            Error::TooManyAttempts { .. } => (
                "Too many attempts",
                "Please wait as long as the message says, then try again.",
            ),
            Error::Unavailable(_) => (
                "Briefly unavailable",
                "Nothing you did caused this, and nothing was saved yet. Please try again in a few seconds.",
            ),
            Error::Internal(_) => (
                "Something went wrong on our side",
                "Nothing you did caused this. Please try again in a moment.",
            ),
            Error::Unauthenticated => ("Sign in", ""),
        };
        let detail = match &self.0 {
            Error::Internal(_) | Error::Unavailable(_) => String::new(),
            other => other.to_string(),
        };
        let problems = match &self.0 {
            Error::Invalid { problems, .. } => problems.clone(),
            _ => Vec::new(),
        };
        let body = pages::error_page(title, &detail, advice, &problems);
        with_status_headers(&self.0, (status, body).into_response())
    }
}
