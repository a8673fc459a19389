//! Distributions' rules, as pure code: invitation templates and their rendering, SMS segment
//! counts, the MIME form of an invitation email, contact frequency rules, the send-time decision
//! for each recipient, and the two-way SMS conversation over a survey. No I/O, no clock, no
//! database: the engine reads the state, asks these functions, and writes what they decide, so
//! every rule is tested here without a server.
//!
//! - [`template`]: email and SMS templates, per-language messages, validation, rendering.
//! - [`segments`]: GSM-7 / UCS-2 encoding and how many SMS segments a text costs.
//! - [`mime`]: the invitation as a multipart email with one-click unsubscribe headers.
//! - [`frequency`]: "at most N invitations in D days" and "at least D days between" rules.
//! - [`exclusion`]: send or skip each recipient, and why.
//! - [`two_way`]: asking a survey by text message, one question at a time.

pub mod delay;
pub mod exclusion;
pub mod frequency;
pub mod mime;
pub mod segments;
pub mod template;
pub mod two_way;

use serde::{Deserialize, Serialize};

/// How a distribution reaches people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// An email holding the personal survey link.
    Email,
    /// A text message holding the personal survey link.
    Sms,
    /// The survey itself asked by text message, answered by replies.
    SmsTwoWay,
}

impl Channel {
    /// The API's spelling (`email`, `sms`, `sms_two_way`).
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::SmsTwoWay => "sms_two_way",
        }
    }

    /// Whether messages go to the contact's phone rather than their email address.
    pub fn is_sms(self) -> bool {
        !matches!(self, Channel::Email)
    }
}

pub use directory::FieldError;
