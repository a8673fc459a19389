//! One error type for every engine operation; the web layer maps each variant to a status once.

use std::fmt;

/// A problem with one named field or place in the input, reported back to the person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid {
            message: message.into(),
            problems: Vec::new(),
        }
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
            other => Error::Internal(Box::new(other)),
        }
    }
}

impl From<store::DbError> for Error {
    fn from(e: store::DbError) -> Self {
        Error::Internal(Box::new(e))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Internal(Box::new(e))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
