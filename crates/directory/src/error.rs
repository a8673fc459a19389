//! The one error every field parser returns: which field, and what a person should fix.
//! Kept deliberately plain (two strings) so the API can serialise it as-is.

use serde::Serialize;

/// A field that could not be accepted. `field` is the name the caller used (the JSON key, e.g.
/// `email` or `embeddedData.Region`); `message` says what is wrong in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Quotes user input for an error message, cut short so a pasted novel doesn't end up in a
/// per-row report a thousand times.
pub(crate) fn quoted(input: &str) -> String {
    const MAX: usize = 60;
    if input.chars().count() <= MAX {
        format!("\"{input}\"")
    } else {
        let head: String = input.chars().take(MAX).collect();
        format!("\"{head}…\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_field_first() {
        let e = FieldError::new("email", "is empty");
        assert_eq!(e.to_string(), "email: is empty");
    }

    #[test]
    fn long_input_is_cut_in_messages() {
        let long = "x".repeat(500);
        let q = quoted(&long);
        assert!(q.chars().count() < 70, "{q}");
        assert!(q.ends_with("…\""));
    }
}
