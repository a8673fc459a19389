//! The mail transport: SMTP through lettre's pooled async transport, configured by one URL,
//! sending at most a configured rate, and telling a permanent refusal (the recipient bounced)
//! from a temporary one (try again later).

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// How Sonde reaches its SMTP server, from `SONDE_SMTP_URL`, `SONDE_MAIL_FROM`,
/// `SONDE_MAIL_RATE` and `SONDE_SMTP_POOL`.
#[derive(Clone, PartialEq, Eq)]
pub struct MailSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    password: Option<String>,
    /// The address invitations come from (`SONDE_MAIL_FROM`); a template's from name is put
    /// in front of it.
    pub from: String,
    /// Messages per second at most (`SONDE_MAIL_RATE`); None: as fast as the server takes them.
    pub rate: Option<NonZeroU32>,
    /// Connections kept open to the server (`SONDE_SMTP_POOL`, default 4).
    pub pool: u32,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("rate", &self.rate)
            .field("pool", &self.pool)
            .finish()
    }
}

/// How the connection to the server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtp://`: plain connection upgraded with STARTTLS, which must succeed (default 587).
    StartTls,
    /// `smtps://`: TLS from the first byte (default 465).
    Implicit,
    /// `smtp://…?tls=none`: no TLS at all, for a relay on this machine or the demo's catcher.
    None,
}

impl MailSettings {
    /// Reads `SONDE_SMTP_URL` and friends; None when no SMTP server is configured.
    pub fn from_env() -> Result<Option<Self>, String> {
        let Ok(url) = std::env::var("SONDE_SMTP_URL") else {
            return Ok(None);
        };
        let from = std::env::var("SONDE_MAIL_FROM")
            .map_err(|_| "SONDE_SMTP_URL is set but SONDE_MAIL_FROM is not: set the address invitations come from".to_string())?;
        let rate = std::env::var("SONDE_MAIL_RATE").ok();
        let pool = std::env::var("SONDE_SMTP_POOL").ok();
        Self::parse(&url, &from, rate.as_deref(), pool.as_deref()).map(Some)
    }

    /// The settings a URL and the other variables give, or what is wrong with them (never
    /// repeating the password).
    pub fn parse(
        url: &str,
        from: &str,
        rate: Option<&str>,
        pool: Option<&str>,
    ) -> Result<Self, String> {
        let parsed = url::Url::parse(url).map_err(|e| {
            format!("SONDE_SMTP_URL is not a URL ({e}): use smtp://user:pass@host:587")
        })?;
        let mut security = match parsed.scheme() {
            "smtp" => Security::StartTls,
            "smtps" => Security::Implicit,
            other => {
                return Err(format!(
                    "SONDE_SMTP_URL scheme {other:?} is not smtp or smtps"
                ))
            }
        };
        for (k, v) in parsed.query_pairs() {
            match (k.as_ref(), v.as_ref()) {
                ("tls", "none") if security == Security::StartTls => security = Security::None,
                ("tls", "starttls" | "required") if security == Security::StartTls => {}
                ("tls", v) => {
                    return Err(format!(
                        "SONDE_SMTP_URL tls={v:?} is not understood: smtp:// takes tls=none or tls=starttls, smtps:// is always TLS"
                    ))
                }
                (k, _) => return Err(format!("SONDE_SMTP_URL parameter {k:?} is not understood")),
            }
        }
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("SONDE_SMTP_URL has no host")?
            .to_string();
        let port = parsed.port().unwrap_or(match security {
            Security::Implicit => 465,
            Security::StartTls => 587,
            Security::None => 25,
        });
        let decode = |s: &str| {
            percent_decode(s).ok_or_else(|| {
                "SONDE_SMTP_URL user or password is not valid percent-encoding".to_string()
            })
        };
        let username = Some(parsed.username())
            .filter(|u| !u.is_empty())
            .map(decode)
            .transpose()?;
        let password = parsed.password().map(decode).transpose()?;
        if from.parse::<lettre::Address>().is_err() {
            return Err(format!("SONDE_MAIL_FROM {from:?} is not an email address"));
        }
        let rate = match rate {
            None | Some("") => None,
            Some(r) => Some(r.parse::<NonZeroU32>().map_err(|_| {
                format!("SONDE_MAIL_RATE {r:?} is not a positive number of messages per second")
            })?),
        };
        let pool = match pool {
            None | Some("") => 4,
            Some(p) => p
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=64).contains(n))
                .ok_or_else(|| {
                    format!("SONDE_SMTP_POOL {p:?} is not a number of connections from 1 to 64")
                })?,
        };
        Ok(Self {
            host,
            port,
            security,
            username,
            password,
            from: from.to_string(),
            rate,
            pool,
        })
    }
}

fn percent_decode(s: &str) -> Option<String> {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
}

/// Why a message did not go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailRefusal {
    /// The server refused it for good (5xx): the recipient bounced. The server's text.
    Permanent(String),
    /// A 4xx answer or a connection problem: try again later.
    Temporary(String),
}

type Limiter = governor::DefaultDirectRateLimiter;

/// A pooled SMTP transport, shared by every worker of the process.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    limiter: Option<Arc<Limiter>>,
    pub settings: Arc<MailSettings>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("settings", &self.settings)
            .finish()
    }
}

impl Mailer {
    pub fn new(settings: MailSettings) -> Result<Self, String> {
        let tls = || {
            TlsParameters::new(settings.host.clone())
                .map_err(|e| format!("TLS for {}: {e}", settings.host))
        };
        let builder = match settings.security {
            Security::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
                    .tls(Tls::Required(tls()?))
            }
            Security::Implicit => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
                    .tls(Tls::Wrapper(tls()?))
            }
            Security::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            }
        };
        let mut builder = builder
            .port(settings.port)
            .timeout(Some(Duration::from_secs(30)))
            .pool_config(PoolConfig::new().max_size(settings.pool));
        if let (Some(user), Some(pass)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        let limiter = settings.rate.map(|r| {
            Arc::new(governor::RateLimiter::direct(governor::Quota::per_second(
                r,
            )))
        });
        Ok(Self {
            transport: builder.build(),
            limiter,
            settings: Arc::new(settings),
        })
    }

    /// Sends one message; answers the server's reply to it.
    pub async fn send(&self, message: lettre::Message) -> Result<String, MailRefusal> {
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
        match self.transport.send(message).await {
            Ok(reply) => Ok(reply.message().collect::<Vec<_>>().join(" ")),
            Err(e) if e.is_permanent() => Err(MailRefusal::Permanent(refusal_text(&e))),
            Err(e) => Err(MailRefusal::Temporary(refusal_text(&e))),
        }
    }
}

/// The server's code and words, or what went wrong on the way there.
fn refusal_text(e: &lettre::transport::smtp::Error) -> String {
    match e.status() {
        Some(code) => format!("{code} {e}"),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_say_how_to_reach_the_server() {
        let s = MailSettings::parse(
            "smtp://ann:p%40ss@mail.example.com:2525",
            "sonde@example.com",
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.security),
            ("mail.example.com", 2525, Security::StartTls)
        );
        assert_eq!(s.username.as_deref(), Some("ann"));
        assert_eq!(s.password.as_deref(), Some("p@ss"));
        let s = MailSettings::parse(
            "smtps://mail.example.com",
            "sonde@example.com",
            Some("50"),
            Some("8"),
        )
        .unwrap();
        assert_eq!(
            (s.port, s.security, s.rate.map(|r| r.get()), s.pool),
            (465, Security::Implicit, Some(50), 8)
        );
        let s = MailSettings::parse(
            "smtp://127.0.0.1:2525?tls=none",
            "sonde@example.com",
            None,
            None,
        )
        .unwrap();
        assert_eq!((s.port, s.security), (2525, Security::None));
        assert_eq!(
            MailSettings::parse("smtp://relay", "a@b.example", None, None)
                .unwrap()
                .port,
            587
        );
    }

    #[test]
    fn bad_settings_say_what_is_wrong_without_the_password() {
        for (url, from, rate, pool, says) in [
            (
                "http://mail.example.com",
                "a@b.example",
                None,
                None,
                "scheme",
            ),
            ("smtp://:secret@", "a@b.example", None, None, "host"),
            ("smtps://h?tls=none", "a@b.example", None, None, "tls="),
            ("smtp://h?pool=3", "a@b.example", None, None, "\"pool\""),
            ("smtp://h", "not an address", None, None, "SONDE_MAIL_FROM"),
            (
                "smtp://h",
                "a@b.example",
                Some("fast"),
                None,
                "SONDE_MAIL_RATE",
            ),
            (
                "smtp://h",
                "a@b.example",
                None,
                Some("0"),
                "SONDE_SMTP_POOL",
            ),
        ] {
            let e = MailSettings::parse(url, from, rate, pool).unwrap_err();
            assert!(e.contains(says), "{url}: {e}");
            assert!(!e.contains("secret"), "{e}");
        }
        let s = MailSettings::parse("smtp://u:hunter2@h", "a@b.example", None, None).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
