//! Fault injection for reliability tests: a share of API calls fail with 503 or hang, or are
//! carried out but lose their reply, every call can be slowed, and the admin API can expire all
//! sessions or spend the API pool.

use rand::Rng;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What the org does wrong on purpose. All zero means a well-behaved org.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Faults {
    /// Share of API calls (0..1) answered with 503 SERVER_UNAVAILABLE.
    pub error_rate: f64,
    /// Added to every API call.
    pub latency_ms: u64,
    /// Share of API calls (0..1) that hang for `timeout_ms` and then drop the connection.
    pub timeout_rate: f64,
    pub timeout_ms: u64,
    /// Share of API calls (0..1) that are carried out and committed, after which the reply is
    /// lost: the caller gets 504 with an empty body, as from a proxy that dropped it.
    pub lost_reply_rate: f64,
    /// Only these endpoint names are affected; empty means all.
    pub endpoints: Vec<String>,
}

/// The fault to apply to one call.
pub enum Injected {
    None,
    Error,
    Timeout(Duration),
    /// Carry the call out, then answer 504 instead of its result.
    LostReply,
}

impl Faults {
    pub fn applies_to(&self, endpoint: &str) -> bool {
        self.endpoints.is_empty() || self.endpoints.iter().any(|e| e == endpoint)
    }

    pub fn roll(&self) -> Injected {
        let mut rng = rand::thread_rng();
        if self.timeout_rate > 0.0 && rng.gen::<f64>() < self.timeout_rate {
            return Injected::Timeout(Duration::from_millis(self.timeout_ms.max(1000)));
        }
        if self.error_rate > 0.0 && rng.gen::<f64>() < self.error_rate {
            return Injected::Error;
        }
        if self.lost_reply_rate > 0.0 && rng.gen::<f64>() < self.lost_reply_rate {
            return Injected::LostReply;
        }
        Injected::None
    }
}
