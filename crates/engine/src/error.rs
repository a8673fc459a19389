//! One error type for every engine operation; the web layer maps each variant to a status once.

use std::fmt;

/// A problem with one named field or place in the input, reported back to the person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// Where: a field name, `line 3`, `questions[QID2]`, ...
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("sign-in required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Invalid {
        message: String,
        problems: Vec<FieldProblem>,
    },
    #[error("{0}")]
    Conflict(String),
    /// The survey (named) is closed: its links say so, and nothing more is recorded.
    #[error("the survey \u{201c}{0}\u{201d} is closed")]
    Closed(String),
    /// Too many failed sign-ins for this account or from this address: nothing was checked,
    /// and the same attempt is refused until `retry_after` has passed.
    #[error("too many sign-in attempts; try again in {} seconds", retry_after_secs(.retry_after))]
    TooManyAttempts { retry_after: std::time::Duration },
    /// The store cannot take this for now (busy, locked by another process, out of space,
    /// unreachable): nothing was changed and the same request may succeed shortly.
    #[error("the service is briefly unavailable: please try again in a few seconds")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Whole seconds to wait, rounded up, and at least one.
pub fn retry_after_secs(wait: &std::time::Duration) -> u64 {
    wait.as_millis().div_ceil(1000).max(1) as u64
}

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid {
            message: message.into(),
            problems: Vec::new(),
        }
    }

    /// True when trying again later may succeed (see [`Error::Unavailable`]).
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Unavailable(_))
    }

    pub fn invalid_fields(message: impl Into<String>, problems: Vec<FieldProblem>) -> Self {
        Self::Invalid {
            message: message.into(),
            problems,
        }
    }
}

impl From<store::StoreError> for Error {
    fn from(e: store::StoreError) -> Self {
        match e {
            store::StoreError::Conflict(what) => Error::Conflict(format!("{what} already exists")),
            other if other.is_transient() => Error::Unavailable(Box::new(other)),
            other => Error::Internal(Box::new(other)),
        }
    }
}

impl From<store::DbError> for Error {
    fn from(e: store::DbError) -> Self {
        store::StoreError::Database(e).into()
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Internal(Box::new(e))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
