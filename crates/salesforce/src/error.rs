//! Typed errors for every Salesforce call, classified the way a caller must react to them:
//! reconnect (`Auth`), wait (`RateLimited`), try again (`Retryable`) or give up (`Permanent`).
//!
//! Salesforce answers errors in several shapes; all are parsed here so callers never see raw
//! bodies: the REST array `[{"message","errorCode","fields"}]`, collection results with
//! `statusCode`, OAuth's `{"error","error_description"}` and Bulk API's `InvalidSessionId`.

use serde::Deserialize;

/// One error as Salesforce reported it: its code (`REQUIRED_FIELD_MISSING`, ...), its message
/// and the fields it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApiError {
    /// `errorCode` in REST bodies, `statusCode` inside collection results.
    #[serde(alias = "errorCode", alias = "statusCode", default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, deserialize_with = "fields_or_null")]
    pub fields: Vec<String>,
}

fn fields_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if !self.fields.is_empty() {
            write!(f, " (fields: {})", self.fields.join(", "))?;
        }
        Ok(())
    }
}

/// Everything a call to Salesforce can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The connection must be re-authorised by a person: the refresh token was refused
    /// (`invalid_grant`, revoked, expired) or the session stayed invalid after a refresh.
    #[error("Salesforce authorisation failed ({code}): {message}")]
    Auth { code: String, message: String },

    /// The org's API allocation is spent (`REQUEST_LIMIT_EXCEEDED`). Salesforce sends no
    /// Retry-After: the rolling 24 h window has to free calls first.
    #[error("Salesforce API limit exceeded: {message}")]
    RateLimited { message: String },

    /// A transient failure worth retrying with backoff: 5xx, timeouts, connection errors,
    /// `UNABLE_TO_LOCK_ROW`.
    #[error("transient Salesforce failure{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Retryable {
        status: Option<u16>,
        code: Option<String>,
        message: String,
    },

    /// Salesforce refused the request; retrying the same request will fail the same way.
    #[error("Salesforce refused the request (HTTP {status}) {code}: {message}")]
    Permanent {
        status: u16,
        code: String,
        message: String,
        fields: Vec<String>,
        /// Every error in the body (Salesforce may report several); the first is above.
        errors: Vec<ApiError>,
    },

    /// An upsert by external id matched several records (HTTP 300); their URLs are listed.
    #[error("external id matches {} records", matches.len())]
    MultipleMatches { matches: Vec<String> },

    /// A Bulk API job ended `Failed` or `Aborted`.
    #[error("Bulk API job {job_id} ended {state}: {message}")]
    JobFailed {
        job_id: String,
        state: String,
        message: String,
    },

    /// Salesforce answered something this client cannot read (not the documented shape).
    #[error("unexpected Salesforce response: {0}")]
    Protocol(String),

    /// The client was set up wrongly (bad URL, missing credentials, bad key).
    #[error("Salesforce client misconfigured: {0}")]
    Config(String),

    /// A login or instance URL that credentials may not be sent to: not a Salesforce host
    /// over HTTPS and not allowed explicitly ([`crate::AllowedHosts`]). Nothing was sent there.
    #[error("{0}")]
    UntrustedHost(String),

    /// Saving refreshed tokens failed; the new tokens were not used, so nothing is lost but
    /// the caller's store needs attention.
    #[error("persisting refreshed Salesforce tokens failed: {0}")]
    Persist(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// True when the same request may succeed later without any change (backoff first).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Retryable { .. })
    }

    /// True when the org's API budget is spent.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Error::RateLimited { .. })
    }

    /// True when a person has to reconnect the Salesforce connection.
    pub fn needs_reconnect(&self) -> bool {
        matches!(self, Error::Auth { .. })
    }

    /// Salesforce's own error code, when it gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Auth { code, .. } | Error::Permanent { code, .. } => Some(code),
            Error::Retryable { code, .. } => code.as_deref(),
            Error::RateLimited { .. } => Some("REQUEST_LIMIT_EXCEEDED"),
            _ => None,
        }
    }

    /// Builds the error for a non-2xx response from its status and body, whatever shape the
    /// body has. Session errors come back as `Auth`; the connection decides whether to refresh.
    pub fn from_response(status: u16, body: &[u8]) -> Error {
        let errors = parse_error_body(body);
        let first = errors.first().cloned();

        if status == 300 {
            if let Ok(matches) = serde_json::from_slice::<Vec<String>>(body) {
                return Error::MultipleMatches { matches };
            }
        }

        if let Some(ref e) = first {
            match e.code.as_str() {
                "INVALID_SESSION_ID" | "InvalidSessionId" | "invalid_grant" | "invalid_token"
                | "inactive_user" | "inactive_org" => {
                    return Error::Auth {
                        code: e.code.clone(),
                        message: e.message.clone(),
                    }
                }
                "REQUEST_LIMIT_EXCEEDED" | "TooManyRequests" => {
                    return Error::RateLimited {
                        message: e.message.clone(),
                    }
                }
                "UNABLE_TO_LOCK_ROW" | "SERVER_UNAVAILABLE" => {
                    return Error::Retryable {
                        status: Some(status),
                        code: Some(e.code.clone()),
                        message: e.message.clone(),
                    }
                }
                _ => {}
            }
        }

        if status == 401 {
            let (code, message) = first
                .map(|e| (e.code, e.message))
                .unwrap_or_else(|| ("INVALID_SESSION_ID".into(), "HTTP 401".into()));
            return Error::Auth { code, message };
        }
        if status == 429 {
            return Error::RateLimited {
                message: first
                    .map(|e| e.message)
                    .unwrap_or_else(|| "HTTP 429".into()),
            };
        }
        if status >= 500 || status == 408 {
            return Error::Retryable {
                status: Some(status),
                code: first.as_ref().map(|e| e.code.clone()),
                message: first
                    .map(|e| e.message)
                    .unwrap_or_else(|| snippet(body).unwrap_or_else(|| format!("HTTP {status}"))),
            };
        }
        match first {
            Some(e) => Error::Permanent {
                status,
                code: e.code.clone(),
                message: e.message.clone(),
                fields: e.fields.clone(),
                errors,
            },
            None => Error::Permanent {
                status,
                code: format!("HTTP_{status}"),
                message: snippet(body).unwrap_or_default(),
                fields: Vec::new(),
                errors,
            },
        }
    }
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        if e.is_builder() {
            return Error::Config(e.to_string());
        }
        if e.is_decode() {
            return Error::Protocol(e.to_string());
        }
        // A certificate the client does not trust will not fix itself: that is configuration
        // (wrong CA, wrong host), not a transient fault. reqwest exposes the TLS cause only
        // through its source chain.
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            if cause
                .to_string()
                .to_ascii_lowercase()
                .contains("certificate")
            {
                return Error::Config(format!("TLS: {cause}"));
            }
            source = cause.source();
        }
        // Timeouts, refused connections, resets and broken bodies are all worth a retry.
        Error::Retryable {
            status: e.status().map(|s| s.as_u16()),
            code: None,
            message: e.without_url().to_string(),
        }
    }
}

/// The first 300 characters of a body, for messages about bodies we could not read.
fn snippet(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(body);
    Some(text.chars().take(300).collect())
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Bulk API 2.0 (and some older endpoints) answer with a single object, not an array.
#[derive(Deserialize)]
struct SingleErrorBody {
    #[serde(alias = "errorCode", alias = "statusCode", alias = "exceptionCode")]
    code: String,
    #[serde(default, alias = "exceptionMessage")]
    message: String,
    #[serde(default, deserialize_with = "fields_or_null")]
    fields: Vec<String>,
}

/// Reads any of Salesforce's error body shapes into a list of [`ApiError`]s.
pub fn parse_error_body(body: &[u8]) -> Vec<ApiError> {
    if let Ok(list) = serde_json::from_slice::<Vec<ApiError>>(body) {
        return list.into_iter().filter(|e| !e.code.is_empty()).collect();
    }
    if let Ok(e) = serde_json::from_slice::<OAuthErrorBody>(body) {
        return vec![ApiError {
            code: e.error,
            message: e.error_description,
            fields: Vec::new(),
        }];
    }
    if let Ok(e) = serde_json::from_slice::<SingleErrorBody>(body) {
        return vec![ApiError {
            code: e.code,
            message: e.message,
            fields: e.fields,
        }];
    }
    // Bulk API 1.0-style XML error: <error><exceptionCode>InvalidSessionId</exceptionCode>...
    let text = String::from_utf8_lossy(body);
    if let Some(code) = between(&text, "<exceptionCode>", "</exceptionCode>") {
        let message = between(&text, "<exceptionMessage>", "</exceptionMessage>").unwrap_or("");
        return vec![ApiError {
            code: code.to_string(),
            message: message.to_string(),
            fields: Vec::new(),
        }];
    }
    Vec::new()
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let len = text[start..].find(close)?;
    Some(&text[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_array_becomes_permanent_with_fields() {
        let body = br#"[{"message":"Required fields are missing: [LastName]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName"]}]"#;
        match Error::from_response(400, body) {
            Error::Permanent {
                status,
                code,
                message,
                fields,
                errors,
            } => {
                assert_eq!(status, 400);
                assert_eq!(code, "REQUIRED_FIELD_MISSING");
                assert!(message.contains("LastName"));
                assert_eq!(fields, vec!["LastName"]);
                assert_eq!(errors.len(), 1);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn invalid_session_is_auth() {
        let body =
            br#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;
        let e = Error::from_response(401, body);
        assert!(e.needs_reconnect());
        assert_eq!(e.code(), Some("INVALID_SESSION_ID"));
    }

    #[test]
    fn bulk_invalid_session_on_400_is_auth() {
        let body = br#"[{"errorCode":"InvalidSessionId","message":"Invalid session id"}]"#;
        assert!(Error::from_response(400, body).needs_reconnect());
        let single = br#"{"errorCode":"InvalidSessionId","message":"Invalid session id"}"#;
        assert!(Error::from_response(400, single).needs_reconnect());
        let xml = b"<error><exceptionCode>InvalidSessionId</exceptionCode><exceptionMessage>bad</exceptionMessage></error>";
        assert!(Error::from_response(400, xml).needs_reconnect());
    }

    #[test]
    fn limit_exceeded_is_rate_limited() {
        let body = br#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#;
        let e = Error::from_response(403, body);
        assert!(e.is_rate_limited());
        assert!(!e.is_retryable());
    }

    #[test]
    fn lock_row_and_5xx_are_retryable() {
        let body = br#"[{"message":"unable to obtain exclusive access","errorCode":"UNABLE_TO_LOCK_ROW","fields":[]}]"#;
        assert!(Error::from_response(400, body).is_retryable());
        assert!(Error::from_response(503, b"Service Unavailable").is_retryable());
        assert!(Error::from_response(500, b"").is_retryable());
    }

    #[test]
    fn oauth_error_shape() {
        let body =
            br#"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#;
        let e = Error::from_response(400, body);
        assert!(e.needs_reconnect());
        assert_eq!(e.code(), Some("invalid_grant"));
        let body =
            br#"{"error":"invalid_client_id","error_description":"client identifier invalid"}"#;
        assert_eq!(
            Error::from_response(400, body).code(),
            Some("invalid_client_id")
        );
    }

    #[test]
    fn collection_result_uses_status_code() {
        let e: ApiError = serde_json::from_str(
            r#"{"statusCode":"DUPLICATE_VALUE","message":"duplicate","fields":null}"#,
        )
        .unwrap();
        assert_eq!(e.code, "DUPLICATE_VALUE");
        assert!(e.fields.is_empty());
    }

    #[test]
    fn multiple_matches_lists_urls() {
        let body = br#"["/services/data/v62.0/sobjects/Contact/003000000000001AAA","/services/data/v62.0/sobjects/Contact/003000000000002AAA"]"#;
        match Error::from_response(300, body) {
            Error::MultipleMatches { matches } => assert_eq!(matches.len(), 2),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unreadable_body_still_gives_an_error() {
        let e = Error::from_response(404, b"<html>nope</html>");
        assert_eq!(e.code(), Some("HTTP_404"));
        let e = Error::from_response(400, b"");
        assert!(matches!(e, Error::Permanent { .. }));
    }
}
