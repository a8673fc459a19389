//! The SMS transport: Twilio's Messages API (the de facto interface, which `sonde smsim`
//! speaks too) over reqwest, with the create form of `twilio_wire`. It tells a refusal for
//! good (Twilio's 4xx, with its error code) from one for now (429, 5xx, the connection lost),
//! and checks the `X-Twilio-Signature` of the webhooks Twilio calls back with the same auth
//! token, which never leaves this module and is never logged.

use std::time::Duration;
use twilio_wire::{ApiError, CreateMessage, Message};

/// Twilio's own API host, unless `SONDE_TWILIO_URL` says otherwise.
pub const DEFAULT_TWILIO_URL: &str = "https://api.twilio.com";
/// Where Twilio posts each message's status changes, on Sonde's public URL.
pub const STATUS_PATH: &str = "/webhooks/twilio/status";
/// Where Twilio posts the replies to the account's numbers (set this as the number's
/// messaging webhook).
pub const INBOUND_PATH: &str = "/webhooks/twilio/inbound";

/// Who the messages come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// `SONDE_SMS_FROM`: one of the account's numbers (E.164), a short code or an
    /// alphanumeric sender id.
    From(String),
    /// `SONDE_TWILIO_MESSAGING_SERVICE_SID`: a messaging service picks the number.
    Service(String),
}

/// How Sonde reaches Twilio, from `SONDE_TWILIO_URL`, `SONDE_TWILIO_ACCOUNT_SID`,
/// `SONDE_TWILIO_AUTH_TOKEN` and `SONDE_SMS_FROM` or `SONDE_TWILIO_MESSAGING_SERVICE_SID`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmsSettings {
    /// The API host, without a trailing slash.
    pub api_url: String,
    pub account_sid: String,
    auth_token: String,
    pub sender: Sender,
}

impl std::fmt::Debug for SmsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsSettings")
            .field("api_url", &self.api_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .field("sender", &self.sender)
            .finish()
    }
}

const VARIABLES: [&str; 5] = [
    "SONDE_TWILIO_URL",
    "SONDE_TWILIO_ACCOUNT_SID",
    "SONDE_TWILIO_AUTH_TOKEN",
    "SONDE_SMS_FROM",
    "SONDE_TWILIO_MESSAGING_SERVICE_SID",
];

impl SmsSettings {
    /// Reads the variables; None when none of the account's are set (SMS distributions
    /// wait), an error naming what is missing when only some are.
    pub fn from_env() -> Result<Option<Self>, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let [url, sid, token, from, service] = VARIABLES.map(var);
        if sid.is_none() && token.is_none() && from.is_none() && service.is_none() {
            return Ok(None);
        }
        Self::parse(
            url.as_deref(),
            sid.as_deref(),
            token.as_deref(),
            from.as_deref(),
            service.as_deref(),
        )
        .map(Some)
    }

    /// The settings these values give, or what is wrong with them (never repeating the
    /// auth token).
    pub fn parse(
        url: Option<&str>,
        account_sid: Option<&str>,
        auth_token: Option<&str>,
        from: Option<&str>,
        messaging_service_sid: Option<&str>,
    ) -> Result<Self, String> {
        let missing = |name: &str, what: &str| {
            format!("SMS is half configured: {name} is not set ({what}); set it, or unset the other SONDE_TWILIO_* and SONDE_SMS_FROM variables")
        };
        let account_sid = account_sid
            .ok_or_else(|| missing("SONDE_TWILIO_ACCOUNT_SID", "the account sid, AC…"))?
            .trim()
            .to_string();
        if !twilio_wire::messages::is_sid(&account_sid, "AC") {
            return Err(format!(
                "SONDE_TWILIO_ACCOUNT_SID {account_sid:?} is not an account sid (AC and 32 hex digits)"
            ));
        }
        let auth_token = auth_token
            .ok_or_else(|| missing("SONDE_TWILIO_AUTH_TOKEN", "the account's auth token"))?
            .trim()
            .to_string();
        let sender = match (from, messaging_service_sid) {
            (Some(_), Some(_)) => {
                return Err(
                    "set SONDE_SMS_FROM or SONDE_TWILIO_MESSAGING_SERVICE_SID, not both".into(),
                )
            }
            (Some(f), None) => {
                let f = f.trim();
                if !twilio_wire::messages::is_sender(f) {
                    return Err(format!(
                        "SONDE_SMS_FROM {f:?} is not a phone number (E.164, +15005550006), short code or alphanumeric sender id"
                    ));
                }
                Sender::From(f.to_string())
            }
            (None, Some(s)) => {
                let s = s.trim();
                if !twilio_wire::messages::is_sid(s, "MG") {
                    return Err(format!(
                        "SONDE_TWILIO_MESSAGING_SERVICE_SID {s:?} is not a messaging service sid (MG and 32 hex digits)"
                    ));
                }
                Sender::Service(s.to_string())
            }
            (None, None) => {
                return Err(missing(
                    "SONDE_SMS_FROM",
                    "the number messages come from; or SONDE_TWILIO_MESSAGING_SERVICE_SID",
                ))
            }
        };
        let api_url = url
            .unwrap_or(DEFAULT_TWILIO_URL)
            .trim()
            .trim_end_matches('/');
        match url::Url::parse(api_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
            _ => {
                return Err(format!(
                "SONDE_TWILIO_URL {api_url:?} is not an http(s) URL (default {DEFAULT_TWILIO_URL})"
            ))
            }
        }
        Ok(Self {
            api_url: api_url.to_string(),
            account_sid,
            auth_token,
            sender,
        })
    }
}

/// Why a message did not go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsRefusal {
    /// Twilio refused it for good (a 4xx): its error code and words.
    Permanent { code: u32, message: String },
    /// Rate limited, Twilio's own failure, or the connection lost: try again later.
    Temporary(String),
}

impl SmsRefusal {
    /// How it is recorded: `21211 Invalid 'To' Phone Number: …`.
    pub fn text(&self) -> String {
        match self {
            SmsRefusal::Permanent { code, message } => format!("{code} {message}"),
            SmsRefusal::Temporary(text) => text.clone(),
        }
    }
}

/// Words for the delivery error codes a status callback carries (it carries the code alone).
pub fn delivery_error(code: u32) -> &'static str {
    match code {
        30001 => "queue overflow",
        30002 => "account suspended",
        30003 => "unreachable destination handset",
        30004 => "message blocked",
        30005 => "unknown destination handset",
        30006 => "landline or unreachable carrier",
        30007 => "filtered by the carrier",
        30008 => "unknown error",
        21610 => "the recipient replied STOP",
        _ => "see https://www.twilio.com/docs/errors",
    }
}

/// A Twilio account's Messages API, shared by every worker of the process.
#[derive(Clone)]
pub struct SmsGateway {
    http: reqwest::Client,
    pub settings: std::sync::Arc<SmsSettings>,
}

impl std::fmt::Debug for SmsGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsGateway")
            .field("settings", &self.settings)
            .finish()
    }
}

impl SmsGateway {
    pub fn new(settings: SmsSettings) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("the HTTP client for Twilio: {e}"))?;
        Ok(Self {
            http,
            settings: std::sync::Arc::new(settings),
        })
    }

    /// Sends one message to `to` (E.164); `status_callback` is where Twilio reports its
    /// statuses. Answers the created message (its sid and first status).
    pub async fn send(
        &self,
        to: &str,
        body: &str,
        status_callback: Option<&str>,
    ) -> Result<Message, SmsRefusal> {
        let s = &self.settings;
        let (from, service) = match &s.sender {
            Sender::From(f) => (Some(f.clone()), None),
            Sender::Service(m) => (None, Some(m.clone())),
        };
        let form = CreateMessage {
            to: to.to_string(),
            from,
            messaging_service_sid: service,
            body: body.to_string(),
            status_callback: status_callback.map(str::to_string),
        };
        // Twilio would refuse these with the same codes: no need to ask it.
        if let Err(e) = form.validate() {
            return Err(SmsRefusal::Permanent {
                code: e.code,
                message: e.message,
            });
        }
        let url = format!(
            "{}/{}/Accounts/{}/Messages.json",
            s.api_url,
            twilio_wire::API_VERSION,
            s.account_sid
        );
        let answer = self
            .http
            .post(&url)
            .basic_auth(&s.account_sid, Some(&s.auth_token))
            .form(&form)
            .send()
            .await
            .map_err(|e| SmsRefusal::Temporary(format!("Twilio at {}: {e}", s.api_url)))?;
        let status = answer.status().as_u16();
        let text = answer
            .text()
            .await
            .map_err(|e| SmsRefusal::Temporary(format!("Twilio's answer was cut: {e}")))?;
        if (200..300).contains(&status) {
            return serde_json::from_str::<Message>(&text).map_err(|e| {
                // Taken, but unreadable: sending again could duplicate it, so this is final.
                SmsRefusal::Permanent {
                    code: 0,
                    message: format!("Twilio took the message but its answer is unreadable: {e}"),
                }
            });
        }
        let error = serde_json::from_str::<ApiError>(&text).unwrap_or_else(|_| {
            let head: String = text.chars().take(200).collect();
            ApiError::new(status, 0, format!("HTTP {status}: {head}"))
        });
        if status == 429 || status >= 500 || error.is_temporary() {
            Err(SmsRefusal::Temporary(format!(
                "Twilio answered {status}: {} {}",
                error.code, error.message
            )))
        } else {
            Err(SmsRefusal::Permanent {
                code: error.code,
                message: error.message,
            })
        }
    }

    /// Whether a webhook request is signed by this account: `url` is the URL Twilio was given
    /// (Sonde's public URL and the path), `params` the form's pairs.
    pub fn verify(&self, url: &str, params: &[(String, String)], signature: &str) -> bool {
        twilio_wire::verify(&self.settings.auth_token, url, params, signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "AC0123456789abcdef0123456789abcdef";

    #[test]
    fn settings_name_what_is_missing_and_never_show_the_token() {
        let s = SmsSettings::parse(None, Some(SID), Some("hunter2"), Some("+15005550006"), None)
            .unwrap();
        assert_eq!(s.api_url, DEFAULT_TWILIO_URL);
        assert_eq!(s.sender, Sender::From("+15005550006".into()));
        assert!(!format!("{s:?}").contains("hunter2"));
        for (url, sid, token, from, service, says) in [
            (
                None,
                None,
                Some("t"),
                Some("+15005550006"),
                None,
                "SONDE_TWILIO_ACCOUNT_SID",
            ),
            (
                None,
                Some(SID),
                None,
                Some("+15005550006"),
                None,
                "SONDE_TWILIO_AUTH_TOKEN",
            ),
            (
                None,
                Some(SID),
                Some("hunter2"),
                None,
                None,
                "SONDE_SMS_FROM",
            ),
            (
                None,
                Some("nope"),
                Some("hunter2"),
                Some("+1"),
                None,
                "account sid",
            ),
            (
                None,
                Some(SID),
                Some("hunter2"),
                Some("+15005550006"),
                Some("MG1"),
                "not both",
            ),
            (
                None,
                Some(SID),
                Some("hunter2"),
                None,
                Some("MGx"),
                "messaging service",
            ),
            (
                Some("ftp://x"),
                Some(SID),
                Some("hunter2"),
                Some("+15005550006"),
                None,
                "SONDE_TWILIO_URL",
            ),
        ] {
            let e = SmsSettings::parse(url, sid, token, from, service).unwrap_err();
            assert!(e.contains(says), "{e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn webhooks_are_verified_with_the_accounts_token() {
        let s = SmsSettings::parse(
            Some("http://127.0.0.1:1/"),
            Some(SID),
            Some("secret"),
            Some("+15005550006"),
            None,
        )
        .unwrap();
        assert_eq!(s.api_url, "http://127.0.0.1:1");
        let gw = SmsGateway::new(s).unwrap();
        let url = "https://sonde.example.com/webhooks/twilio/status";
        let params = vec![("MessageSid".to_string(), "SM1".to_string())];
        let good = twilio_wire::signature("secret", url, &params);
        assert!(gw.verify(url, &params, &good));
        assert!(!gw.verify(url, &params, &twilio_wire::signature("other", url, &params)));
        assert!(!gw.verify(url, &params, ""));
    }
}
