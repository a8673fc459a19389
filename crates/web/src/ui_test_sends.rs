//! A test send's outcome in the admin UI: the card shown under the message once it is queued,
//! and the page of its own (`/templates/test-send/{id}`) the card is read again from. While
//! the message is queued the card carries `data-poll`, and the page's script fetches the card
//! anew until it is sent or failed; without the script, "Check again" reloads the page.

use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::page;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use engine::test_sends::TestSendStatus;
use maud::{html, Markup};

/// Where the outcome of test send `id` is shown.
pub(crate) fn href(id: &str) -> String {
    format!("/templates/test-send/{id}")
}

fn badge(status: &str) -> Markup {
    let (class, label) = match status {
        "sent" => ("rcpt-sent", "Sent"),
        "failed" => ("rcpt-failed", "Failed"),
        _ => ("dist-scheduled", "Queued…"),
    };
    html! { span class={ "badge " (class) } id="test-status" data-status=(status) { (label) } }
}

/// The outcome as it stands: its state, the server's or gateway's words, where and when.
pub(crate) fn outcome_card(t: &TestSendStatus) -> Markup {
    let queued = t.status == "queued";
    html! {
        div.card id="test-outcome" data-poll=[queued.then(|| href(&t.id))] aria-live="polite" {
            h2 { "Outcome " (badge(&t.status)) }
            @match t.status.as_str() {
                "sent" => p { @if t.channel == "sms" { "The SMS gateway took the text message for " } @else { "The mail server took the message for " } strong { (t.to) } "." },
                "failed" => p { "It was not sent to " strong { (t.to) } "." },
                _ => p { "Waiting to be sent to " strong { (t.to) } "…" },
            }
            @if let Some(e) = &t.error {
                @if queued {
                    p.notice id="test-error" { "The last try did not go, and it will be tried again: " (e) }
                } @else {
                    p.error id="test-error" { (if t.channel == "sms" { "The gateway answered: " } else { "The mail server answered: " }) (e) }
                }
            }
            @if let Some(n) = &t.notice { p.notice { (n) } }
            dl.facts {
                dt { "Channel" } dd { (if t.channel == "sms" { "SMS" } else { "Email" }) }
                dt { "Queued" } dd { time datetime=(t.queued_at) { (t.queued_at) } }
                @if let Some(at) = &t.finished_at {
                    dt { (if t.status == "sent" { "Sent" } else { "Failed" }) } dd { time datetime=(at) { (at) } }
                }
                dt { "Tries" } dd { (t.attempts) }
            }
            @if queued { p { a href=(href(&t.id)) id="test-check" { "Check again" } } }
        }
    }
}

pub async fn test_send(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let t = state.sonde.test_send(&user.actor, &id).await?;
    Ok(page(
        &user,
        "Test send",
        html! {
            p { a href="/templates" id="back" { "← Templates" } }
            h1 { "Test send" }
            (outcome_card(&t))
        },
    ))
}
