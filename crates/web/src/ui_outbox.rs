//! The demo's Outbox page (admins): what the local mail catcher (`sonde mailsim`, its JSON
//! `/messages`) and SMS gateway (`sonde smsim`, `/_smsim/messages`) received, newest first,
//! each message's survey link clickable, so a newcomer sees an invitation and can follow it.
//! Only where those gateways are configured; the gateways are the instance's, not an
//! organization's, so the page shows every message they hold.

use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::page;
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use engine::{Error, Role};
use maud::{html, Markup};
use serde::Deserialize;
use std::time::Duration;

/// Messages shown per gateway.
const SHOWN: usize = 50;

/// Where the local gateways answer: their HTTP base URLs.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    /// mailsim's HTTP view (`http://127.0.0.1:1080`), whose `/messages` lists mail.
    pub mail_url: Option<String>,
    /// smsim's base URL, whose `/_smsim/messages` lists texts.
    pub sms_url: Option<String>,
}

impl Outbox {
    /// `SONDE_OUTBOX_MAIL_URL` and `SONDE_OUTBOX_SMS_URL`, each optional.
    pub fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().trim_end_matches('/').to_string())
                .filter(|v| !v.is_empty())
        };
        Self {
            mail_url: var("SONDE_OUTBOX_MAIL_URL"),
            sms_url: var("SONDE_OUTBOX_SMS_URL"),
        }
    }

    pub fn is_configured(&self) -> bool {
        self.mail_url.is_some() || self.sms_url.is_some()
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct MailAddress {
    name: Option<String>,
    address: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Mail {
    received_at: String,
    envelope_to: Vec<String>,
    from: Vec<MailAddress>,
    subject: Option<String>,
    text: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Sms {
    direction: String,
    from: String,
    to: String,
    body: String,
    status: String,
    segments: u32,
    encoding: String,
    created_at: String,
}

async fn fetch<T: for<'de> Deserialize<'de>>(url: &str) -> Result<Vec<T>, String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .map_err(|e| e.to_string())?;
    let r = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("{url} did not answer: {e}"))?;
    if !r.status().is_success() {
        return Err(format!("{url} answered {}", r.status()));
    }
    r.json::<Vec<T>>()
        .await
        .map_err(|e| format!("{url} answered what is not a message list: {e}"))
}

/// Text with every `http://` or `https://` address made a link (the rest escaped as text).
fn linked(text: &str) -> Markup {
    let mut parts: Vec<(bool, &str)> = Vec::new();
    let mut rest = text;
    while let Some(at) = ["http://", "https://"]
        .iter()
        .filter_map(|p| rest.find(p))
        .min()
    {
        let end = rest[at..]
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | ')' | ']'))
            .map_or(rest.len(), |e| at + e);
        // A sentence's full stop or comma after a link is not part of it.
        let url = rest[at..end].trim_end_matches(['.', ',', ';', ':', '!', '?']);
        parts.push((false, &rest[..at]));
        parts.push((true, url));
        rest = &rest[at + url.len()..];
    }
    parts.push((false, rest));
    html! {
        @for (link, s) in parts {
            @if link { a href=(s) target="_blank" rel="noopener" { (s) } } @else { (s) }
        }
    }
}

pub async fn outbox(State(state): State<AppState>, user: WebUser) -> Result<Response, PageError> {
    user.actor.require(Role::Admin)?;
    let Some(outbox) = state.outbox.clone() else {
        return Err(
            Error::NotFound("outbox: no local mail catcher or SMS gateway is configured").into(),
        );
    };
    let mail = match &outbox.mail_url {
        Some(base) => Some(fetch::<Mail>(&format!("{base}/messages?limit={SHOWN}")).await),
        None => None,
    };
    let sms = match &outbox.sms_url {
        Some(base) => Some(fetch::<Sms>(&format!("{base}/_smsim/messages?limit={SHOWN}")).await),
        None => None,
    };
    Ok(page(
        &user,
        "Outbox",
        html! {
            h1 { "Outbox" }
            p.muted { "What the built-in mail catcher and SMS gateway received, newest first. Nothing here left this machine. Follow a survey link to answer as the contact would." }
            @if let Some(mail) = &mail {
                section.card id="outbox-mail" {
                    h2 { "Email" }
                    @match mail {
                        Err(e) => p.notice role="alert" { "The mail catcher could not be read: " (e) },
                        Ok(list) if list.is_empty() => p.muted { "No email received yet." },
                        Ok(list) => @for m in list {
                            article.message {
                                h3.item-title { (m.subject.clone().unwrap_or_else(|| "(no subject)".into())) }
                                p.meta.muted {
                                    "To " (m.envelope_to.join(", "))
                                    @if let Some(f) = m.from.first() {
                                        " · from " (f.name.clone().or(f.address.clone()).unwrap_or_default())
                                    }
                                    " · " (crate::ui_distributions::moment(&m.received_at))
                                }
                                pre.message { (linked(m.text.as_deref().unwrap_or("(no text part)"))) }
                            }
                        },
                    }
                }
            }
            @if let Some(sms) = &sms {
                section.card id="outbox-sms" {
                    h2 { "Text messages" }
                    @match sms {
                        Err(e) => p.notice role="alert" { "The SMS gateway could not be read: " (e) },
                        Ok(list) if list.is_empty() => p.muted { "No text message yet." },
                        Ok(list) => @for m in list {
                            article.message {
                                p.meta.muted {
                                    @if m.direction == "inbound" { "From " (m.from) " (a reply)" } @else { "To " (m.to) }
                                    " · " (m.status) " · " (m.segments) " segment" @if m.segments != 1 { "s" } " " (m.encoding)
                                    " · " (crate::ui_distributions::moment(&m.created_at))
                                }
                                pre.message { (linked(&m.body)) }
                            }
                        },
                    }
                }
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::linked;

    #[test]
    fn addresses_become_links_and_the_rest_stays_text() {
        let html = linked("Hi <Ada>: http://x.test/s/SV_1?l=a&b=2. Thanks").into_string();
        assert_eq!(
            html,
            "Hi &lt;Ada&gt;: <a href=\"http://x.test/s/SV_1?l=a&amp;b=2\" target=\"_blank\" \
             rel=\"noopener\">http://x.test/s/SV_1?l=a&amp;b=2</a>. Thanks"
        );
        assert_eq!(linked("no link").into_string(), "no link");
    }
}
