//! `/audit`: the organization's audit log for admins — who did what to which thing and when,
//! newest first, filtered by action or subject id, a hundred at a time. On a phone each event
//! is a card of its own instead of a table row.

use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::{page, time};
use crate::AppState;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::DateTime;
use engine::audit::{Action, AuditEvent, AuditQuery};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

/// Events per page.
const PAGE: usize = 100;

#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(default)]
    action: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    after: String,
}

impl Filters {
    fn query(&self, after: &str) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [("action", &self.action), ("subject", &self.subject)] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        q.append_pair("after", after);
        q.finish()
    }
}

/// `queuedRunsCancelled` → `queued runs cancelled`.
fn words(key: &str) -> String {
    let mut out = String::new();
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push(' ');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// An event's detail as "responses 12 · workflows 1"; ids shown as code.
fn detail(v: &Value) -> Markup {
    let Some(fields) = v.as_object() else {
        return html! {};
    };
    html! {
        @for (i, (k, v)) in fields.iter().filter(|(_, v)| !v.is_null()).enumerate() {
            @if i > 0 { " · " }
            span.detail { (words(k)) " "
                @match v {
                    Value::String(s) => code { (s) },
                    Value::Bool(b) => { @if *b { "yes" } @else { "no" } },
                    Value::Array(items) => { (items.len()) },
                    other => { (other.to_string()) },
                }
            }
        }
    }
}

/// Where a subject can still be looked at (a survey may only be archived; the rest is gone).
fn subject_href(e: &AuditEvent) -> Option<String> {
    match (e.known_action(), e.subject.kind.as_str()) {
        (Some(Action::SurveyPurged), _) => None,
        (_, "survey") => Some(format!("/surveys/{}", e.subject.id)),
        _ => None,
    }
}

fn event_row(e: &AuditEvent) -> Markup {
    let when = DateTime::parse_from_rfc3339(&e.at).map(|t| t.timestamp_millis());
    let did: &str = match e.known_action() {
        Some(a) => a.says(),
        None => &e.action,
    };
    html! {
        tr {
            td data-label="When" { @match when { Ok(ms) => (time(ms)), Err(_) => (e.at) } }
            td data-label="Who" { (e.actor.email) }
            td data-label="Did" { (did) br; code.action { (e.action) } }
            td data-label="Subject" {
                @match subject_href(e) {
                    Some(href) => a href=(href) { (e.subject.label) },
                    None => (e.subject.label),
                }
                br; a.muted href={ "/audit?subject=" (e.subject.id) } title="Every event about it" { code { (e.subject.id) } }
            }
            td data-label="Detail" { (detail(&e.detail)) }
        }
    }
}

/// `GET /audit`
pub async fn audit_log(
    State(state): State<AppState>,
    user: WebUser,
    Query(f): Query<Filters>,
) -> Result<Response, PageError> {
    let (events, next) = state
        .sonde
        .audit_events(
            &user.actor,
            &AuditQuery {
                action: Some(f.action.as_str()),
                subject_kind: None,
                subject_id: Some(f.subject.as_str()),
                after: Some(f.after.as_str()),
                limit: PAGE,
            },
        )
        .await?;
    let filtered = !f.action.is_empty() || !f.subject.is_empty();
    Ok(page(
        &user,
        "Audit log",
        html! {
          div.wide {
            h1 { "Audit log" }
            p.muted { "Every archive, restore, purge, deletion and token revocation, and every invitation, role change and (de)activation of a person in your organization, newest first. Nothing here can be changed." }
            form.card.filters method="get" action="/audit" {
                div {
                    label for="audit-action" { "Action" }
                    select id="audit-action" name="action" {
                        option value="" selected[f.action.is_empty()] { "Any" }
                        @for a in Action::ALL { option value=(a.as_str()) selected[f.action == a.as_str()] { (a.says()) } }
                    }
                }
                div { label for="audit-subject" { "Subject id" } input type="text" id="audit-subject" name="subject" value=(f.subject) placeholder="SV_…, CID_…, R_…"; }
                div { button type="submit" id="audit-filter" { "Filter" } }
            }
            div.card {
                @if events.is_empty() {
                    p.muted { @if filtered { "No event matches these filters." } @else { "Nothing has been recorded yet." } }
                } @else {
                    table.audit {
                        thead { tr { th { "When" } th { "Who" } th { "Did" } th { "Subject" } th { "Detail" } } }
                        tbody { @for e in &events { (event_row(e)) } }
                    }
                }
                @if let Some(n) = &next {
                    p { a href={ "/audit?" (f.query(n)) } id="audit-older" { "Older events →" } }
                }
            }
          }
        },
    ))
}
