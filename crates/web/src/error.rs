//! The one place engine errors become HTTP: JSON for the API, a readable page for people.
//! Internal errors are logged with their cause and never shown. Input the API cannot read (a
//! query, a path, a body, a method) gets the same JSON error as any other API error. A store
//! that is briefly unavailable answers 503 with `Retry-After`, so clients and proxies know to
//! come back.

use crate::pages;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use engine::{Error, FieldProblem};

pub(crate) fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::Unauthenticated => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::Invalid { .. } => StatusCode::BAD_REQUEST,
        Error::Conflict(_) => StatusCode::CONFLICT,
        Error::Closed(_) => StatusCode::GONE,
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
        Error::Closed(_) => "closed",
        Error::TooManyAttempts { .. } => "too_many_attempts",
        Error::Unavailable(_) => "unavailable",
        Error::Internal(_) => "internal",
    }
}

/// Seconds a client is asked to wait before retrying a 503: about the store's lock wait.
pub const RETRY_AFTER_SECS: u64 = 5;

pub(crate) fn log_internal(e: &Error) {
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

/// A 429's retry time: the wait the error names.
fn with_wait(e: &Error, mut response: Response) -> Response {
    if let Error::TooManyAttempts { retry_after } = e {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(engine::retry_after_secs(retry_after)),
        );
    }
    response
}

/// Adds the headers a status calls for: a challenge for 401, a retry time for 503.
fn with_status_headers(mut response: Response) -> Response {
    let status = response.status();
    let headers = response.headers_mut();
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
        let problems = match &self.0 {
            Error::Invalid { problems, .. } => problems.as_slice(),
            _ => &[],
        };
        let response = api_error(
            status_of(&self.0),
            code_of(&self.0),
            &self.0.to_string(),
            problems,
        );
        with_wait(&self.0, response)
    }
}

/// Every error the API answers: `{"error": {"code", "message", "problems"}}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ApiErrorBody<'a> {
    pub error: ApiErrorDetail<'a>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ApiErrorDetail<'a> {
    /// Stable and machine-readable: `invalid`, `not_found`, `forbidden`, ...
    pub code: &'a str,
    /// What went wrong and where, for a person.
    pub message: &'a str,
    /// Each field, or line and column, that was refused.
    pub problems: &'a [FieldProblem],
}

fn api_error(status: StatusCode, code: &str, message: &str, problems: &[FieldProblem]) -> Response {
    let body = ApiErrorBody {
        error: ApiErrorDetail {
            code,
            message,
            problems,
        },
    };
    with_status_headers((status, Json(body)).into_response())
}

/// What axum answers by itself before a handler runs — a path that does not decode, a body
/// over the limit, a method the endpoint does not take — comes as plain text (or nothing);
/// this layer over the API answers those as the API's JSON error too.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string());
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let body = response.into_body();
    // Rejection texts are a line or two; more is not a rejection worth quoting.
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            // axum adds its Allow header after this layer; the route table knows the same.
            let takes = route
                .as_deref()
                .map(crate::routes::methods_of)
                .unwrap_or_default()
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            format!("this endpoint does not take {method}; it takes {takes}")
        }
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "the request body is larger than the {} MiB Sonde reads",
            crate::BODY_LIMIT / (1024 * 1024)
        ),
        s if s.is_server_error() => {
            tracing::error!(status = %s, detail = %text, "request rejected before its handler");
            "internal error".to_string()
        }
        _ if text.is_empty() => status.canonical_reason().unwrap_or("error").to_lowercase(),
        _ => text,
    };
    let code = match status {
        StatusCode::UNAUTHORIZED => "unauthenticated",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal",
        _ => "invalid",
    };
    api_error(status, code, &message, &[])
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
            Error::Closed(_) => ("Survey closed", "It takes no more responses."),
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
        with_wait(&self.0, with_status_headers((status, body).into_response()))
    }
}
