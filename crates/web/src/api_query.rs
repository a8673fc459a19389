//! The API's query-string extractor: read like axum's `Query`, but a parameter that does not
//! parse is the API's JSON error naming the parameter, not a plain-text rejection.

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use engine::{Error, FieldProblem};
use serde::de::DeserializeOwned;

pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs = url::form_urlencoded::parse(query.as_bytes());
        serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(pairs))
            .map(Query)
            .map_err(|e| {
                let path = e.path().to_string();
                let reason = e.into_inner().to_string();
                // The root (".") is the query string as a whole: a missing or repeated parameter.
                let (message, field) = if path == "." {
                    (
                        format!("the query string is not valid for this call: {reason}"),
                        "query string".to_string(),
                    )
                } else {
                    (
                        format!("the query parameter {path} is not valid: {reason}"),
                        path,
                    )
                };
                ApiError(Error::invalid_fields(
                    message,
                    vec![FieldProblem {
                        field,
                        message: reason,
                    }],
                ))
            })
    }
}
