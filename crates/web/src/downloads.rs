//! The headers of a file download: its type, and a name made of an id and what it holds.

use axum::http::{header, HeaderName};

pub(crate) const CSV: &str = "text/csv; charset=utf-8";

/// `Content-Type` and `Content-Disposition: attachment; filename="{id}-{what}"`. Only
/// letters, digits and `_` of the id go into the name: anything else could end the quoted
/// name early or make the header unsendable.
pub(crate) fn attachment(id: &str, what: &str, content_type: &str) -> [(HeaderName, String); 2] {
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    [
        (header::CONTENT_TYPE, content_type.to_string()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{id}-{what}\""),
        ),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_name_keeps_only_what_is_safe_in_a_header() {
        let [(_, kind), (_, disposition)] =
            super::attachment("DJ_1\"\r\nX", "sample.csv", super::CSV);
        assert_eq!(kind, "text/csv; charset=utf-8");
        assert_eq!(disposition, "attachment; filename=\"DJ_1X-sample.csv\"");
    }
}
