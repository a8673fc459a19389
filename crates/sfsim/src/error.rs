//! The error shapes Salesforce sends: REST arrays of `{message, errorCode, fields}`, and
//! per-record results that say `statusCode` instead of `errorCode`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// One Salesforce API error with the HTTP status its endpoint answers with.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub fields: Vec<String>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn bad(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(400, code, message)
    }

    pub fn with_fields(mut self, fields: Vec<String>) -> ApiError {
        self.fields = fields;
        self
    }

    pub fn not_found() -> ApiError {
        ApiError::new(404, "NOT_FOUND", "The requested resource does not exist")
    }

    pub fn invalid_session() -> ApiError {
        ApiError::new(401, "INVALID_SESSION_ID", "Session expired or invalid")
    }

    pub fn json_parser(msg: impl Into<String>) -> ApiError {
        ApiError::bad("JSON_PARSER_ERROR", msg)
    }

    /// REST shape: `{"message","errorCode","fields"?}`. Only field errors carry `fields`.
    pub fn rest_json(&self) -> Value {
        let mut v = json!({"message": self.message, "errorCode": self.code});
        if !self.fields.is_empty() {
            v["fields"] = json!(self.fields);
        }
        v
    }

    /// Collection/composite result shape: `{"statusCode","message","fields"}`.
    pub fn result_json(&self) -> Value {
        json!({"statusCode": self.code, "message": self.message, "fields": self.fields})
    }
}

/// A REST failure: one or more errors answered as a JSON array.
#[derive(Debug)]
pub struct RestError(pub Vec<ApiError>);

impl From<ApiError> for RestError {
    fn from(e: ApiError) -> Self {
        RestError(vec![e])
    }
}

impl From<Vec<ApiError>> for RestError {
    fn from(e: Vec<ApiError>) -> Self {
        RestError(e)
    }
}

impl RestError {
    pub fn status(&self) -> u16 {
        self.0.first().map(|e| e.status).unwrap_or(400)
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let body: Vec<Value> = self.0.iter().map(ApiError::rest_json).collect();
        (status, axum::Json(Value::Array(body))).into_response()
    }
}
