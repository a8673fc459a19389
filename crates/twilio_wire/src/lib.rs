//! The Twilio wire facts that both Sonde (the client and webhook receiver) and `sonde smsim`
//! (the local gateway) must honour, kept in one place so the two cannot drift apart:
//!
//! - [`signature`]: `X-Twilio-Signature`, how Twilio signs webhooks and how receivers check it;
//! - [`keywords`]: the reply words Twilio treats as opt-out, opt-in and help;
//! - [`status`]: message statuses and the order they progress in;
//! - [`messages`]: the Messages API's create form, its JSON resource and pages, the status
//!   callback and incoming-message webhook forms, Twilio's error JSON and codes;
//! - [`twiml`]: the `<Response><Message>` reply a webhook answers with;
//! - [`segments`]: how many SMS segments a body takes (GSM-7 or UCS-2).
//!
//! Pure: no I/O, no clock, no randomness.
#![forbid(unsafe_code)]

pub mod keywords;
pub mod messages;
pub mod segments;
pub mod signature;
pub mod status;
pub mod twiml;

pub use keywords::{keyword, Keyword};
pub use messages::{
    code, ApiError, CreateMessage, Direction, InboundMessage, Message, MessagePage, StatusCallback,
    API_VERSION,
};
pub use segments::{segments, Encoding, Segments};
pub use signature::{signature, verify, SIGNATURE_HEADER};
pub use status::MessageStatus;
