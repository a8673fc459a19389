//! Refusals a test can ask for: the next N create requests answer 429 (Twilio's rate limit,
//! code 20429) or 500 (code 20500), so a client's retry path can be exercised on demand.

use serde::{Deserialize, Serialize};
use twilio_wire::messages::code;
use twilio_wire::ApiError;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Faults {
    /// This many next create requests answer 429.
    pub too_many_requests: u32,
    /// Then this many answer 500.
    pub server_errors: u32,
}

impl Faults {
    /// Uses up one injected refusal, if any is left.
    pub fn take(&mut self) -> Result<(), ApiError> {
        if self.too_many_requests > 0 {
            self.too_many_requests -= 1;
            return Err(ApiError::new(
                429,
                code::TOO_MANY_REQUESTS,
                "Too Many Requests",
            ));
        }
        if self.server_errors > 0 {
            self.server_errors -= 1;
            return Err(ApiError::new(
                500,
                code::INTERNAL_ERROR,
                "Internal Server Error",
            ));
        }
        Ok(())
    }
}
