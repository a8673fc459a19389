//! Identifiers in the shapes users know from Qualtrics (`R_` + 15 alphanumerics for responses,
//! `SV_` for surveys, ...), drawn from the OS random source so they cannot be guessed.

use rand::distributions::Alphanumeric;
use rand::Rng;

pub fn random_token(len: usize) -> String {
    rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

fn prefixed(prefix: &str) -> String {
    format!("{prefix}{}", random_token(15))
}

pub fn organization() -> String {
    prefixed("ORG_")
}
pub fn user() -> String {
    prefixed("UR_")
}
pub fn survey() -> String {
    prefixed("SV_")
}
pub fn response() -> String {
    prefixed("R_")
}
pub fn contact() -> String {
    prefixed("CID_")
}
pub fn mailing_list() -> String {
    prefixed("CG_")
}
pub fn opt_out_event() -> String {
    prefixed("OE_")
}
pub fn api_token() -> String {
    prefixed("TK_")
}
pub fn audit_event() -> String {
    prefixed("AE_")
}

pub fn invitation() -> String {
    prefixed("INV_")
}

pub fn message_template() -> String {
    prefixed("MT_")
}
/// Qualtrics calls its distributions `EMD_…`.
pub fn distribution() -> String {
    prefixed("EMD_")
}
pub fn recipient() -> String {
    format!("DR_{}", random_token(20))
}
pub fn frequency_rule() -> String {
    prefixed("FR_")
}

#[cfg(test)]
mod tests {
    #[test]
    fn response_ids_have_the_qualtrics_shape() {
        let id = super::response();
        assert_eq!(id.len(), 17);
        assert!(id.starts_with("R_"));
        assert!(id[2..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(id, super::response());
    }
}
