//! The Messages API (`/2010-04-01/Accounts/{AccountSid}/Messages.json`) and the two webhooks
//! that go with it, as Twilio puts them on the wire: the create form a client posts, the JSON
//! resource and list page Twilio answers, the status callback form, the incoming-message form,
//! and Twilio's error JSON with the codes a gateway and its clients both name.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::status::MessageStatus;

pub const API_VERSION: &str = "2010-04-01";
/// Twilio refuses longer bodies (error 21617); it counts characters, not bytes.
pub const MAX_BODY_CHARS: usize = 1600;

/// Twilio error codes (https://www.twilio.com/docs/errors/{code}).
pub mod code {
    /// Wrong or missing account sid / auth token (HTTP 401).
    pub const AUTHENTICATE: u32 = 20003;
    /// No such resource (HTTP 404).
    pub const NOT_FOUND: u32 = 20404;
    /// Too many requests: slow down and retry (HTTP 429).
    pub const TOO_MANY_REQUESTS: u32 = 20429;
    /// Twilio's own failure (HTTP 500).
    pub const INTERNAL_ERROR: u32 = 20500;
    /// `To` is not a valid phone number.
    pub const INVALID_TO: u32 = 21211;
    /// `From` is not a valid phone number, short code or alphanumeric sender id.
    pub const INVALID_FROM: u32 = 21212;
    /// `To` and `From` are the same number.
    pub const TO_EQUALS_FROM: u32 = 21266;
    /// `Body` missing or empty.
    pub const BODY_REQUIRED: u32 = 21602;
    /// Neither `From` nor `MessagingServiceSid`.
    pub const FROM_REQUIRED: u32 = 21603;
    /// `To` missing.
    pub const TO_REQUIRED: u32 = 21604;
    /// `From` is not one of the account's message-capable numbers.
    pub const FROM_NOT_OWNED: u32 = 21606;
    /// `StatusCallback` is not a valid URL.
    pub const INVALID_STATUS_CALLBACK: u32 = 21609;
    /// The recipient replied STOP (or another opt-out word) to this sender.
    pub const UNSUBSCRIBED_RECIPIENT: u32 = 21610;
    /// `Body` longer than 1,600 characters.
    pub const BODY_TOO_LONG: u32 = 21617;
    /// `MessagingServiceSid` names no service of the account.
    pub const INVALID_MESSAGING_SERVICE: u32 = 21701;
    /// Delivery: the handset is unreachable (status `undelivered`).
    pub const UNREACHABLE_HANDSET: u32 = 30003;
    /// Delivery: unknown error (status `failed`).
    pub const UNKNOWN_ERROR: u32 = 30008;
}

/// Twilio's error body: `{"code":21211,"message":"…","more_info":"…","status":400}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("Twilio error {code} (HTTP {status}): {message}")]
pub struct ApiError {
    pub code: u32,
    pub message: String,
    pub more_info: String,
    pub status: u16,
}

impl ApiError {
    pub fn new(status: u16, code: u32, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            more_info: format!("https://www.twilio.com/docs/errors/{code}"),
            status,
        }
    }

    /// Worth retrying later: rate limiting and Twilio's own failures.
    pub fn is_temporary(&self) -> bool {
        self.status == 429 || self.status >= 500
    }
}

/// The form posted to `Messages.json` to send one message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateMessage {
    #[serde(default)]
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_service_sid: Option<String>,
    #[serde(default)]
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_callback: Option<String>,
}

impl CreateMessage {
    /// The checks Twilio makes on the form itself, in its order, with its codes. What only
    /// the account knows (owned numbers, services, opt-outs) is the gateway's to check.
    pub fn validate(&self) -> Result<(), ApiError> {
        let bad = |code, message: String| Err(ApiError::new(400, code, message));
        if self.to.trim().is_empty() {
            return bad(code::TO_REQUIRED, "A 'To' phone number is required.".into());
        }
        let from = self.from.as_deref().filter(|f| !f.is_empty());
        let service = self
            .messaging_service_sid
            .as_deref()
            .filter(|s| !s.is_empty());
        if from.is_none() && service.is_none() {
            return bad(
                code::FROM_REQUIRED,
                "A 'From' phone number is required.".into(),
            );
        }
        if !is_e164(&self.to) {
            return bad(
                code::INVALID_TO,
                format!("Invalid 'To' Phone Number: {}", self.to),
            );
        }
        if let Some(f) = from {
            if !is_sender(f) {
                return bad(
                    code::INVALID_FROM,
                    format!("The 'From' number {f} is not a valid phone number, shortcode, or alphanumeric sender ID."),
                );
            }
            if f == self.to {
                return bad(
                    code::TO_EQUALS_FROM,
                    "'To' and 'From' number cannot be the same".into(),
                );
            }
        }
        if let Some(s) = service {
            if !is_sid(s, "MG") {
                return bad(
                    code::INVALID_MESSAGING_SERVICE,
                    format!("The Messaging Service Sid {s} is invalid."),
                );
            }
        }
        if self.body.is_empty() {
            return bad(code::BODY_REQUIRED, "Message body is required.".into());
        }
        if self.body.chars().count() > MAX_BODY_CHARS {
            return bad(
                code::BODY_TOO_LONG,
                "The concatenated message body exceeds the 1600 character limit.".into(),
            );
        }
        if let Some(cb) = &self.status_callback {
            if !(cb.starts_with("http://") || cb.starts_with("https://")) {
                return bad(
                    code::INVALID_STATUS_CALLBACK,
                    format!("The StatusCallback URL {cb} is not a valid URL."),
                );
            }
        }
        Ok(())
    }
}

/// Who started a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    Inbound,
    OutboundApi,
    OutboundCall,
    /// A TwiML `<Message>` answering an incoming message.
    OutboundReply,
}

/// The Message resource (JSON), as created, fetched and listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `SM` + 32 hex digits.
    pub sid: String,
    pub account_sid: String,
    pub api_version: String,
    pub body: String,
    /// RFC 2822, GMT: [`date`].
    pub date_created: String,
    pub date_sent: Option<String>,
    pub date_updated: String,
    pub direction: Direction,
    pub error_code: Option<u32>,
    pub error_message: Option<String>,
    pub from: String,
    pub to: String,
    pub messaging_service_sid: Option<String>,
    pub num_media: String,
    pub num_segments: String,
    pub price: Option<String>,
    pub price_unit: String,
    pub status: MessageStatus,
    pub subresource_uris: BTreeMap<String, String>,
    pub uri: String,
}

/// The resource path of a message.
pub fn message_uri(account_sid: &str, sid: &str) -> String {
    format!("/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json")
}

/// One page of `GET Messages.json`. Clients follow `next_page_uri` (relative to the API host)
/// until it is null.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    pub page: u32,
    pub page_size: u32,
    pub start: u32,
    pub end: u32,
    pub uri: String,
    pub first_page_uri: String,
    pub next_page_uri: Option<String>,
    pub previous_page_uri: Option<String>,
}

/// The form Twilio posts to a message's `StatusCallback` at each status change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatusCallback {
    pub account_sid: String,
    pub api_version: String,
    pub message_sid: String,
    /// The same as `MessageSid` (older name).
    pub sms_sid: String,
    pub message_status: MessageStatus,
    /// The same as `MessageStatus` (older name).
    pub sms_status: MessageStatus,
    pub from: String,
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_service_sid: Option<String>,
    /// When the carrier reported the outcome (`YYMMDDhhmm`), on delivered/undelivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_dlr_done_date: Option<String>,
}

/// The form Twilio posts to a number's incoming-message webhook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InboundMessage {
    pub message_sid: String,
    pub sms_sid: String,
    pub sms_message_sid: String,
    pub account_sid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_service_sid: Option<String>,
    /// The respondent's number.
    pub from: String,
    /// The account's number that received it.
    pub to: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub num_media: u32,
    #[serde(default = "one")]
    pub num_segments: u32,
    /// Always `received`.
    pub sms_status: MessageStatus,
    pub api_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_country: Option<String>,
}

fn one() -> u32 {
    1
}

/// A flat struct as the name/value pairs of its form encoding (what gets signed and sent).
pub fn to_params<T: Serialize>(value: &T) -> Vec<(String, String)> {
    let encoded =
        serde_urlencoded::to_string(value).expect("a flat struct of strings and numbers encodes");
    parse_form(encoded.as_bytes())
}

/// Reads a flat struct from name/value pairs; parameters it does not name are ignored
/// (Twilio adds parameters without notice).
pub fn from_params<T: DeserializeOwned>(
    params: &[(String, String)],
) -> Result<T, serde_urlencoded::de::Error> {
    serde_urlencoded::from_str(&encode_form(params))
}

/// An `application/x-www-form-urlencoded` body as its pairs, in order.
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

pub fn encode_form<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k.as_ref(), v.as_ref());
    }
    s.finish()
}

/// Twilio's date format: RFC 2822 in GMT, `Thu, 24 Aug 2023 05:01:45 +0000`.
pub fn date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// `+` then 2 to 15 digits, the first not 0 (E.164).
pub fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// What Twilio accepts as `From`: an E.164 number, a short code (3 to 8 digits) or an
/// alphanumeric sender id (1 to 11 letters, digits and spaces, at least one letter).
pub fn is_sender(s: &str) -> bool {
    let short_code = (3..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    let alphanumeric = (1..=11).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ')
        && s.bytes().any(|b| b.is_ascii_alphabetic());
    is_e164(s) || short_code || alphanumeric
}

/// A Twilio sid: the two-letter prefix then 32 hex digits (`SM…` messages, `AC…` accounts,
/// `MG…` messaging services).
pub fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(to: &str, from: &str, body: &str) -> CreateMessage {
        CreateMessage {
            to: to.into(),
            from: Some(from.into()),
            body: body.into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_create_form_is_checked_as_twilio_checks_it() {
        let code_of = |m: CreateMessage| m.validate().err().map(|e| e.code);
        assert_eq!(code_of(form("+15558675310", "+15017122661", "Hi")), None);
        assert_eq!(code_of(form("", "+15017122661", "Hi")), Some(21604));
        assert_eq!(
            code_of(CreateMessage {
                to: "+15558675310".into(),
                body: "Hi".into(),
                ..Default::default()
            }),
            Some(21603)
        );
        assert_eq!(
            code_of(form("5558675310", "+15017122661", "Hi")),
            Some(21211)
        );
        assert_eq!(code_of(form("+15558675310", "+1-501", "Hi")), Some(21212));
        assert_eq!(
            code_of(form("+15558675310", "+15558675310", "Hi")),
            Some(21266)
        );
        assert_eq!(
            code_of(form("+15558675310", "+15017122661", "")),
            Some(21602)
        );
        let long = "é".repeat(1601);
        assert_eq!(
            code_of(form("+15558675310", "+15017122661", &long)),
            Some(21617)
        );
        assert_eq!(
            code_of(form("+15558675310", "+15017122661", &"é".repeat(1600))),
            None,
            "characters are counted, not bytes"
        );
        assert_eq!(code_of(form("+15558675310", "Sonde", "Hi")), None);
        let mut with_service = form("+15558675310", "", "Hi");
        with_service.from = None;
        with_service.messaging_service_sid = Some("MG123".into());
        assert_eq!(code_of(with_service.clone()), Some(21701));
        with_service.messaging_service_sid = Some(format!("MG{}", "a".repeat(32)));
        assert_eq!(code_of(with_service), None);
    }

    #[test]
    fn forms_use_twilio_parameter_names() {
        let mut m = form("+15558675310", "+15017122661", "Hi & bye");
        m.status_callback = Some("http://127.0.0.1:9/cb".into());
        let params = to_params(&m);
        let names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["To", "From", "Body", "StatusCallback"]);
        assert_eq!(from_params::<CreateMessage>(&params).unwrap(), m);

        let cb = StatusCallback {
            account_sid: "AC1".into(),
            api_version: API_VERSION.into(),
            message_sid: "SM1".into(),
            sms_sid: "SM1".into(),
            message_status: MessageStatus::Undelivered,
            sms_status: MessageStatus::Undelivered,
            from: "+15017122661".into(),
            to: "+15558670000".into(),
            error_code: Some(30003),
            messaging_service_sid: None,
            raw_dlr_done_date: None,
        };
        let params = to_params(&cb);
        assert!(params.contains(&("MessageStatus".into(), "undelivered".into())));
        assert!(params.contains(&("ErrorCode".into(), "30003".into())));
        let mut with_extra = params.clone();
        with_extra.push(("ChannelToAddress".into(), "+1555".into()));
        assert_eq!(from_params::<StatusCallback>(&with_extra).unwrap(), cb);
    }

    #[test]
    fn dates_are_rfc_2822_in_gmt() {
        let at = DateTime::parse_from_rfc3339("2023-08-24T05:01:45Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(date(at), "Thu, 24 Aug 2023 05:01:45 +0000");
        assert_eq!(parse_date(&date(at)), Some(at));
    }

    #[test]
    fn sids_and_numbers() {
        assert!(is_sid(&format!("SM{}", "0f".repeat(16)), "SM"));
        assert!(!is_sid(&format!("SM{}", "0f".repeat(15)), "SM"));
        assert!(!is_sid(&format!("AC{}", "0f".repeat(16)), "SM"));
        assert!(is_e164("+447700900123"));
        assert!(!is_e164("+0447700900123"));
        assert!(!is_e164("+1234567890123456"));
        assert!(is_sender("12345") && is_sender("Sonde Team") && !is_sender("Sonde-Team"));
    }

    #[test]
    fn errors_serialize_in_twilios_shape() {
        let e = ApiError::new(401, code::AUTHENTICATE, "Authenticate");
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"code": 20003, "message": "Authenticate",
                "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401})
        );
        assert!(!e.is_temporary());
        assert!(ApiError::new(429, code::TOO_MANY_REQUESTS, "x").is_temporary());
    }
}
