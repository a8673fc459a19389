//! A message's status (`status` in the JSON resource, `MessageStatus` in callbacks) and the
//! order statuses progress in. Twilio does not promise that status callbacks arrive in order,
//! so a receiver keeps the furthest status it has seen: [`MessageStatus::advances`].

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    /// Accepted by a Messaging Service, not yet given a sender.
    Accepted,
    /// Scheduled for later (SendAt).
    Scheduled,
    /// Waiting in Twilio's queue.
    Queued,
    /// Being handed to the carrier.
    Sending,
    /// The carrier took it.
    Sent,
    /// The handset confirmed it.
    Delivered,
    /// The carrier could not deliver it (see `error_code`).
    Undelivered,
    /// Twilio could not send it at all (see `error_code`).
    Failed,
    /// Read by the recipient (channels with read receipts).
    Read,
    /// Scheduled and then canceled.
    Canceled,
    /// Some parts of a multi-part message delivered.
    PartiallyDelivered,
    /// An incoming message still arriving.
    Receiving,
    /// An incoming message, arrived.
    Received,
}

impl MessageStatus {
    pub const ALL: [MessageStatus; 13] = [
        Self::Accepted,
        Self::Scheduled,
        Self::Queued,
        Self::Sending,
        Self::Sent,
        Self::Delivered,
        Self::Undelivered,
        Self::Failed,
        Self::Read,
        Self::Canceled,
        Self::PartiallyDelivered,
        Self::Receiving,
        Self::Received,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Scheduled => "scheduled",
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Undelivered => "undelivered",
            Self::Failed => "failed",
            Self::Read => "read",
            Self::Canceled => "canceled",
            Self::PartiallyDelivered => "partially_delivered",
            Self::Receiving => "receiving",
            Self::Received => "received",
        }
    }

    /// How far along a message is: accepted/scheduled 0, queued 1, sending 2, sent 3, an
    /// outcome (delivered, undelivered, failed, canceled, partially delivered) 4, read 5.
    /// Incoming: receiving 1, received 4.
    pub fn stage(self) -> u8 {
        match self {
            Self::Accepted | Self::Scheduled => 0,
            Self::Queued | Self::Receiving => 1,
            Self::Sending => 2,
            Self::Sent => 3,
            Self::Delivered
            | Self::Undelivered
            | Self::Failed
            | Self::Canceled
            | Self::PartiallyDelivered
            | Self::Received => 4,
            Self::Read => 5,
        }
    }

    /// Whether a callback saying `self` should replace a recorded `from`: only a later stage
    /// does, so a late "sent" never overwrites "delivered".
    pub fn advances(self, from: MessageStatus) -> bool {
        self.stage() > from.stage()
    }

    /// No later status is expected (read aside).
    pub fn is_final(self) -> bool {
        self.stage() >= 4
    }

    /// The message did not reach the handset.
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Undelivered | Self::Failed | Self::Canceled)
    }
}

impl fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown message status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for MessageStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

impl Serialize for MessageStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MessageStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for st in MessageStatus::ALL {
            assert_eq!(st.as_str().parse::<MessageStatus>().unwrap(), st);
        }
        assert!("bogus".parse::<MessageStatus>().is_err());
        assert_eq!(
            "partially_delivered".parse::<MessageStatus>().unwrap(),
            MessageStatus::PartiallyDelivered
        );
    }

    #[test]
    fn statuses_progress_in_order() {
        use MessageStatus::*;
        let path = [Accepted, Queued, Sending, Sent, Delivered, Read];
        for w in path.windows(2) {
            assert!(w[1].advances(w[0]), "{} after {}", w[1], w[0]);
            assert!(!w[0].advances(w[1]), "{} after {}", w[0], w[1]);
        }
        assert!(!Sent.advances(Delivered));
        assert!(!Queued.advances(Undelivered));
        assert!(Failed.advances(Queued));
        assert!(
            !Delivered.advances(Undelivered),
            "one outcome never replaces another"
        );
        assert!(Undelivered.is_failure() && Undelivered.is_final());
        assert!(!Sent.is_final());
    }
}
