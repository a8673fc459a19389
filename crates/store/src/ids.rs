//! Identifiers in the shapes users know from Qualtrics (`R_` + 15 alphanumerics for responses,
//! `SV_` for surveys, ...), drawn from a cryptographically secure generator so they cannot be
//! guessed: the thread's ChaCha generator, seeded and reseeded from the OS (one `getrandom`
//! system call per token was measurable when a distribution writes 100,000 links).

use rand::distributions::Alphanumeric;
use rand::Rng;
use std::sync::atomic::{AtomicU64, Ordering};

pub fn random_token(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn base62(mut n: u64, width: usize, out: &mut String) {
    let mut digits = vec![b'0'; width];
    for d in digits.iter_mut().rev() {
        *d = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out.extend(digits.into_iter().map(char::from));
}

/// An id that sorts by creation: the time in milliseconds, a per-process sequence, then
/// `random` random characters (unique across nodes). Rows written in bulk (a distribution's
/// recipients, their send jobs) then append to their primary-key index instead of landing on
/// a random page of it each, which at 100,000 rows is the difference between a cached write
/// and a page read. Not for secrets: the time part can be guessed.
pub fn ordered(prefix: &str, random: usize) -> String {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let ms = u64::try_from(crate::now_ms()).unwrap_or_default();
    let mut id = String::with_capacity(prefix.len() + 12 + random);
    id.push_str(prefix);
    // 8 digits of base 62 hold milliseconds until the year 8900; the sequence wraps at
    // 62^4, long after the millisecond has moved on.
    base62(ms, 8, &mut id);
    base62(
        SEQUENCE.fetch_add(1, Ordering::Relaxed) % 14_776_336,
        4,
        &mut id,
    );
    id.push_str(&random_token(random));
    id
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
/// Ordered: a distribution writes its recipients in bulk.
pub fn recipient() -> String {
    ordered("DR_", 8)
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

    #[test]
    fn ordered_ids_sort_by_creation_and_differ() {
        let ids: Vec<String> = (0..2_000).map(|_| super::recipient()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{:?}", &ids[..4]);
        assert!(ids
            .iter()
            .all(|id| id.len() == 3 + 12 + 8 && id.starts_with("DR_")));
        assert!(ids[0][3..].chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
