//! The send-time decision for each recipient: send, or skip with a reason that is recorded and
//! counted in the distribution's stats. A skip is never silent.
//!
//! Checks run in this order, and the first that applies is the reason:
//! 1. **Unsubscribed** from the channel's medium (email for email, phone for both SMS
//!    channels). First, because a person who said no is reported as having said no, whatever
//!    else is wrong with their record; and nothing else about them is looked at.
//! 2. **Missing** address for the channel.
//! 3. **Invalid** address (stored before the directory checked addresses, or edited elsewhere).
//! 4. **Duplicate**: another recipient of this distribution already has the address. Only a
//!    recipient that is sent to takes its address, so a skipped one never blocks another.
//! 5. **Frequency capped** by a contact frequency rule (see [`crate::frequency`]): last, as it is
//!    about the contact's history rather than this message, and a reason shown for a contact
//!    who could not have been sent to anyway would mislead.
//!
//! The directory keeps one opt-out flag per contact today; the engine passes it as both
//! `email_unsubscribed` and `phone_unsubscribed` until a STOP reply records the phone's own.

use std::collections::HashSet;

use directory::{EmailAddress, PhoneNumber};
use serde::Serialize;

use crate::frequency::{Cap, Verdict};
use crate::Channel;

/// What the decision reads about a contact. Addresses are as stored (they are parsed here).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recipient<'a> {
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub email_unsubscribed: bool,
    pub phone_unsubscribed: bool,
}

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    Email(EmailAddress),
    Phone(PhoneNumber),
}

impl Address {
    /// The form two addresses are compared in: an email lower-cased whole (as the directory's
    /// `email_key`: mail systems treat local parts case-insensitively in practice), a phone in
    /// E.164.
    pub fn key(&self) -> String {
        match self {
            Address::Email(e) => e.as_str().to_lowercase(),
            Address::Phone(p) => p.as_str().to_string(),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Address::Email(e) => e.as_str(),
            Address::Phone(p) => p.as_str(),
        }
    }
}

/// The addresses already sent to in one distribution.
#[derive(Debug, Clone, Default)]
pub struct AddressesTaken {
    keys: HashSet<String>,
}

impl AddressesTaken {
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks an address taken (say by recipients decided in an earlier batch); false when it
    /// already was.
    pub fn take(&mut self, address: &Address) -> bool {
        self.keys.insert(address.key())
    }

    pub fn contains(&self, address: &Address) -> bool {
        self.keys.contains(&address.key())
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Why a recipient is not sent to. Serialized as `{"code": "missing_email", ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum SkipReason {
    Unsubscribed,
    MissingEmail,
    /// `problem` is the directory's reading of the address.
    InvalidEmail {
        problem: String,
    },
    MissingPhone,
    InvalidPhone {
        problem: String,
    },
    /// Another recipient of this distribution has the same address.
    Duplicate {
        address: String,
    },
    FrequencyCapped {
        cap: Box<Cap>,
    },
}

impl SkipReason {
    /// A stable code for storage, stats and the API.
    pub fn code(&self) -> &'static str {
        match self {
            SkipReason::Unsubscribed => "unsubscribed",
            SkipReason::MissingEmail => "missing_email",
            SkipReason::InvalidEmail { .. } => "invalid_email",
            SkipReason::MissingPhone => "missing_phone",
            SkipReason::InvalidPhone { .. } => "invalid_phone",
            SkipReason::Duplicate { .. } => "duplicate",
            SkipReason::FrequencyCapped { .. } => "frequency_capped",
        }
    }

    /// The reason in words, for the recipient list.
    pub fn message(&self) -> String {
        match self {
            SkipReason::Unsubscribed => "the contact has unsubscribed".into(),
            SkipReason::MissingEmail => "the contact has no email address".into(),
            SkipReason::InvalidEmail { problem } => format!("the email address {problem}"),
            SkipReason::MissingPhone => "the contact has no phone number".into(),
            SkipReason::InvalidPhone { problem } => format!("the phone number {problem}"),
            SkipReason::Duplicate { address } => {
                format!("{address} already receives this distribution for another contact")
            }
            SkipReason::FrequencyCapped { cap } => format!(
                "capped by a contact frequency rule ({}); allowed from {}",
                cap.message,
                cap.allowed_from.format("%Y-%m-%d %H:%M UTC")
            ),
        }
    }
}

/// Send to this address, or skip for this reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Send(Address),
    Skip(SkipReason),
}

/// Decides one recipient of a distribution on `channel`, in the order documented above. A
/// `Send` takes the address in `taken`.
pub fn decide(
    channel: Channel,
    recipient: &Recipient,
    taken: &mut AddressesTaken,
    frequency: &Verdict,
) -> Decision {
    let address = match address(channel, recipient) {
        Ok(address) => address,
        Err(reason) => return Decision::Skip(reason),
    };
    if taken.contains(&address) {
        return Decision::Skip(SkipReason::Duplicate {
            address: address.as_str().to_string(),
        });
    }
    if let Verdict::Capped(cap) = frequency {
        return Decision::Skip(SkipReason::FrequencyCapped { cap: cap.clone() });
    }
    taken.take(&address);
    Decision::Send(address)
}

/// Steps 1–3: the channel's address, if the contact can be written to there at all.
fn address(channel: Channel, r: &Recipient) -> Result<Address, SkipReason> {
    let present = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(String::from);
    if channel.is_sms() {
        if r.phone_unsubscribed {
            return Err(SkipReason::Unsubscribed);
        }
        let phone = present(r.phone).ok_or(SkipReason::MissingPhone)?;
        // Stored numbers are E.164; a national one is from before that and cannot be placed.
        PhoneNumber::parse(&phone, None)
            .map(Address::Phone)
            .map_err(|e| SkipReason::InvalidPhone { problem: e.message })
    } else {
        if r.email_unsubscribed {
            return Err(SkipReason::Unsubscribed);
        }
        let email = present(r.email).ok_or(SkipReason::MissingEmail)?;
        EmailAddress::parse(&email)
            .map(Address::Email)
            .map_err(|e| SkipReason::InvalidEmail { problem: e.message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frequency::{FrequencyRule, Scope};
    use chrono::{TimeZone, Utc};

    fn person<'a>(email: Option<&'a str>, phone: Option<&'a str>) -> Recipient<'a> {
        Recipient {
            email,
            phone,
            ..Recipient::default()
        }
    }

    fn capped() -> Verdict {
        Verdict::Capped(Box::new(Cap {
            rule_index: 0,
            rule: FrequencyRule {
                scope: Scope::Organization,
                max_invitations: None,
                period_days: None,
                min_days_between: Some(7),
            },
            allowed_from: Utc.with_ymd_and_hms(2026, 3, 9, 8, 0, 0).unwrap(),
            message: "at least 7 days between invitations across the organization".into(),
        }))
    }

    fn code(channel: Channel, r: Recipient, taken: &mut AddressesTaken, v: &Verdict) -> String {
        match decide(channel, &r, taken, v) {
            Decision::Send(a) => format!("send {}", a.as_str()),
            Decision::Skip(reason) => reason.code().to_string(),
        }
    }

    #[test]
    fn each_reason_in_its_place() {
        let ok = Verdict::Allowed;
        let mut taken = AddressesTaken::new();
        let mut c = |r: Recipient, v: &Verdict| code(Channel::Email, r, &mut taken, v);
        let unsubscribed = Recipient {
            email_unsubscribed: true,
            ..person(None, None)
        };
        assert_eq!(
            c(unsubscribed, &capped()),
            "unsubscribed",
            "before missing and capped"
        );
        assert_eq!(c(person(None, Some("+14155550100")), &ok), "missing_email");
        assert_eq!(c(person(Some("  "), None), &ok), "missing_email");
        assert_eq!(
            c(person(Some("ana at example"), None), &capped()),
            "invalid_email"
        );
        assert_eq!(
            c(person(Some("ana@example.com"), None), &capped()),
            "frequency_capped"
        );
        // The capped one did not take the address: the next with it is sent.
        assert_eq!(
            c(person(Some("Ana@Example.com"), None), &ok),
            "send Ana@example.com"
        );
        assert_eq!(
            c(person(Some("ana@EXAMPLE.com"), None), &capped()),
            "duplicate"
        );
        assert_eq!(taken.len(), 1);
    }

    #[test]
    fn sms_channels_read_the_phone_and_its_opt_out() {
        let ok = Verdict::Allowed;
        for channel in [Channel::Sms, Channel::SmsTwoWay] {
            let mut taken = AddressesTaken::new();
            let mut c = |r: Recipient| code(channel, r, &mut taken, &ok);
            let email_only_opt_out = Recipient {
                email_unsubscribed: true,
                ..person(Some("a@b.example"), Some("+33 6 12 34 56 78"))
            };
            let phone_opt_out = Recipient {
                phone_unsubscribed: true,
                ..person(None, Some("+33612345678"))
            };
            assert_eq!(c(phone_opt_out), "unsubscribed");
            assert_eq!(c(person(Some("a@b.example"), None)), "missing_phone");
            assert_eq!(c(person(None, Some("06 12 34 56 78"))), "invalid_phone");
            assert_eq!(c(email_only_opt_out), "send +33612345678");
            assert_eq!(c(person(None, Some("+33612345678"))), "duplicate");
        }
    }

    #[test]
    fn reasons_have_words_and_stable_json() {
        let mut taken = AddressesTaken::new();
        let Decision::Skip(reason) = decide(
            Channel::Email,
            &person(Some("ana@example.com"), None),
            &mut taken,
            &capped(),
        ) else {
            panic!("capped");
        };
        assert_eq!(
            reason.message(),
            "capped by a contact frequency rule (at least 7 days between invitations across the \
             organization); allowed from 2026-03-09 08:00 UTC"
        );
        let json = serde_json::to_value(SkipReason::InvalidEmail {
            problem: "\"x\" is not an email address: it has no @".into(),
        })
        .unwrap();
        assert_eq!(json["code"], "invalid_email");
        assert_eq!(
            SkipReason::Duplicate {
                address: "+33612345678".into()
            }
            .message(),
            "+33612345678 already receives this distribution for another contact"
        );
        assert_eq!(
            SkipReason::MissingPhone.message(),
            "the contact has no phone number"
        );
    }
}
