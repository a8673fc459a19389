//! A survey's workflows listed, someone else's workflow shown read-only with a copy offer,
//! deleting and copying, and the run history with retries.

use crate::auth::CsrfForm;
use crate::auth::WebUser;
use crate::error::PageError;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use engine::workflows::{
    DirectoryAction, DirectoryTask as DirFields, Event, FieldValue, SalesforceTask as TaskFields,
    Task, Workflow,
};
use maud::html;
use serde::Deserialize;
use std::collections::HashMap;
use survey::{Condition, Operator};

type PageResult = Result<Response, PageError>;

use crate::ui::{page, page_with_status};
use crate::ui_workflow_catalog::{op_str, OPERATORS};
use crate::ui_workflow_editor::EditorContext;

// ---------------------------------------------------------------- workflow pages

pub(crate) fn event_label(e: Event) -> &'static str {
    match e {
        Event::ResponseCreated => "Response recorded",
        Event::ResponseUpdated => "Response updated",
        Event::IncompleteClosed => "Incomplete response closed",
        Event::SalesforceMessage => "Salesforce message",
    }
}

pub(crate) fn condition_summary(c: &Condition) -> String {
    let leaf = |subject: &str, op: Operator, value: &str| {
        let op_label = OPERATORS
            .iter()
            .find(|(v, _)| *v == op_str(op))
            .map_or("?", |(_, l)| l);
        if value.is_empty() {
            format!("{subject} {op_label}")
        } else {
            format!("{subject} {op_label} {value}")
        }
    };
    match c {
        Condition::All { conditions } => conditions
            .iter()
            .map(condition_summary)
            .collect::<Vec<_>>()
            .join(" and "),
        Condition::Any { conditions } => format!(
            "({})",
            conditions
                .iter()
                .map(condition_summary)
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        Condition::Not { condition } => format!("not ({})", condition_summary(condition)),
        Condition::Answer {
            question,
            op,
            value,
            ..
        } => leaf(question, *op, value),
        Condition::EmbeddedData { field, op, value } => leaf(field, *op, value),
        Condition::Metadata { field, op, value } => leaf(field, *op, value),
    }
}

pub(crate) fn task_summary(t: &Task) -> String {
    match t {
        Task::Salesforce(s) => format!(
            "Salesforce: {} {} ({} field{})",
            s.operation.as_str(),
            s.object,
            s.fields.len(),
            if s.fields.len() == 1 { "" } else { "s" }
        ),
        Task::Directory(d) => format!(
            "Directory: {}",
            match d.action {
                DirectoryAction::UpsertContact => "add or update the contact",
                DirectoryAction::AddToList => "add to mailing list",
                DirectoryAction::Unsubscribe => "unsubscribe",
            }
        ),
        Task::Distribution(d) => format!(
            "Distribution: send the survey by {}{}",
            match d.channel {
                distribution::Channel::Email => "email",
                distribution::Channel::Sms => "text message",
                distribution::Channel::SmsTwoWay => "two-way text messages",
            },
            match d.delay_ms() {
                Ok(ms) if ms > 0 =>
                    format!(", {} after the event", distribution::delay::describe(ms)),
                _ => String::new(),
            }
        ),
    }
}

pub(crate) async fn owner_email(state: &AppState, user: &WebUser, owner_id: &str) -> String {
    if owner_id == user.actor.user_id {
        return "you".into();
    }
    match state
        .sonde
        .store
        .user_in_org(&user.actor.org_id, owner_id)
        .await
    {
        Ok(Some(u)) => u.email,
        _ => "another user".into(),
    }
}

pub async fn workflows(
    State(state): State<AppState>,
    user: WebUser,
    Path(survey_id): Path<String>,
) -> PageResult {
    let survey = state.sonde.survey(&user.actor, &survey_id).await?;
    let list = state.sonde.workflows(&user.actor, &survey.id).await?;
    let opt_out_sync = crate::ui_opt_out_sync::survey_card(&state, &user, &survey.id).await?;
    let mut owners = HashMap::new();
    for w in &list {
        if !owners.contains_key(&w.owner_id) {
            owners.insert(
                w.owner_id.clone(),
                owner_email(&state, &user, &w.owner_id).await,
            );
        }
    }
    Ok(page(
        &user,
        &format!("Workflows · {}", survey.name),
        html! {
            p { a href={ "/surveys/" (survey.id) } { "← " (survey.name) } }
            h1 { "Workflows" }
            p {
                a.button href={ "/surveys/" (survey.id) "/workflows/new" } { "New workflow" } " "
                @if !list.is_empty() { a href={ "/surveys/" (survey.id) "/workflows/move" } { "Move to another org" } " · " }
                a href={ "/surveys/" (survey.id) "/bundle.json" } id="export-bundle" { "Export the survey with its workflows" }
            }
            div.card {
                @if list.is_empty() {
                    p.muted { "No workflows yet. A workflow turns each matching response into Salesforce records or directory changes." }
                } @else {
                    @for w in &list {
                        div.conn {
                            h2.item-title { a href={ "/workflows/" (w.id) } { (w.name) } }
                            p {
                                strong { "When: " } (event_label(w.event))
                                @if !w.enabled { " " span.badge { "disabled" } }
                                br;
                                strong { "Conditions: " } @match &w.conditions { Some(c) => (condition_summary(c)), None => span.muted { "always" } }
                                br;
                                strong { "Owner: " } (owners.get(&w.owner_id).cloned().unwrap_or_default())
                            }
                            ol { @for t in &w.tasks { li { (task_summary(t)) } } }
                            p { a href={ "/workflows/" (w.id) "/runs" } { "Run history" } }
                        }
                    }
                }
            }
            (opt_out_sync)
        },
    ))
}

pub(crate) async fn read_only(
    state: &AppState,
    user: &WebUser,
    ctx: &EditorContext,
    w: &Workflow,
    status: StatusCode,
    refusal: Option<String>,
) -> PageResult {
    // Same rule as the engine's update: only the owner edits.
    let owner = owner_email(state, user, &w.owner_id).await;
    let refusal = refusal.unwrap_or_else(|| {
        format!("Only this workflow's owner ({owner}) can change it: its Salesforce tasks use the owner's linked orgs. You can make your own copy, bound to your orgs.")
    });
    Ok(page_with_status(
        user,
        status,
        &w.name,
        html! {
            p { a href={ "/surveys/" (ctx.survey.id) "/workflows" } { "← Workflows of " (ctx.survey.name) } }
            h1 { (w.name) }
            p.notice role="alert" id="refusal" { (refusal) }
            form method="post" action={ "/workflows/" (w.id) "/copy" } {
                input type="hidden" name="csrf" value=(user.csrf);
                button type="submit" { "Copy to my account" }
            }
            div.card {
                p { strong { "Owner: " } (owner) }
                p { strong { "When: " } (event_label(w.event)) }
                p { strong { "Conditions: " } @match &w.conditions { Some(c) => (condition_summary(c)), None => "always" } }
                p { strong { "Enabled: " } @if w.enabled { "yes" } @else { "no" } }
                @for (i, t) in w.tasks.iter().enumerate() {
                    h2 { "Task " (i + 1) ": " (task_summary(t)) }
                    @match t {
                        Task::Salesforce(TaskFields { fields, .. }) | Task::Directory(DirFields { fields, .. }) => {
                            table {
                                thead { tr { th { "Field" } th { "Value" } } }
                                tbody { @for (k, v) in fields { tr { td { code { (k) } } td { @match v {
                                    FieldValue::Piped(s) => code { (s) },
                                    FieldValue::Value(v) => { (v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())) " " span.muted { "(specified)" } },
                                } } } } }
                            }
                        }
                        Task::Distribution(d) => {
                            p { strong { "Template: " } code { (d.template_id) } }
                            table {
                                thead { tr { th { "Recipient" } th { "Value" } } }
                                tbody { @for (k, v) in &d.recipient { tr { td { code { (k) } } td { code { (v) } } } } }
                            }
                            @if !d.embedded_data.is_empty() {
                                table {
                                    thead { tr { th { "Embedded data" } th { "Value" } } }
                                    tbody { @for (k, v) in &d.embedded_data { tr { td { code { (k) } } td { code { (v) } } } } }
                                }
                            }
                        }
                    }
                }
            }
            p { a href={ "/workflows/" (w.id) "/runs" } { "Run history" } }
        },
    ))
}

pub async fn delete_workflow(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let w = state.sonde.workflow(&user.actor, &id).await?;
    state.sonde.delete_workflow(&user.actor, &id).await?;
    Ok(Redirect::to(&format!("/surveys/{}/workflows", w.survey_id)).into_response())
}

pub async fn copy_workflow(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let copy = state.sonde.copy_workflow(&user.actor, &id, None).await?;
    Ok(Redirect::to(&format!("/workflows/{}?saved=1", copy.id)).into_response())
}

// ---------------------------------------------------------------- run history

#[derive(Deserialize, Default)]
pub struct RunsQuery {
    status: Option<String>,
    retried: Option<String>,
}

/// What each notification came to: sent, excluded with the reason, duplicates counted.
fn notifications_markup(
    notifications: &[engine::salesforce_messages::ReceivedNotification],
) -> maud::Markup {
    html! {
        div.card id="notifications" {
            h2 { "Notifications" }
            @if notifications.is_empty() {
                p.muted { "None received yet. Each Outbound Message or callout to the endpoint is listed here once, however often Salesforce sends it again." }
            } @else {
                div.table-wrap {
                    table {
                        thead { tr { th { "Received" } th { "Record" } th { "Outcome" } th { "Why" } th { "Sent again" } } }
                        tbody {
                            @for n in notifications {
                                tr {
                                    td { time datetime=(n.received_at) { (n.received_at) } }
                                    td { code { (n.record_id.as_deref().unwrap_or("—")) } }
                                    td { span class={ "badge " (n.outcome) } { (n.outcome) } }
                                    td { (n.detail.as_deref().unwrap_or("")) }
                                    td { (n.duplicates) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub async fn runs(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(q): Query<RunsQuery>,
) -> PageResult {
    let w = state.sonde.workflow(&user.actor, &id).await?;
    let status = q.status.as_deref().filter(|s| !s.is_empty());
    let (runs, counts) = state
        .sonde
        .workflow_runs(&user.actor, &id, status, 200)
        .await?;
    let notifications = if w.event == Event::SalesforceMessage {
        state.sonde.workflow_notifications(&user.actor, &id).await?
    } else {
        Vec::new()
    };
    Ok(page(
        &user,
        &format!("Runs · {}", w.name),
        html! {
            p { a href={ "/workflows/" (w.id) } { "← " (w.name) } }
            h1 { "Run history" }
            @if let Some(r) = &q.retried { p.ok role="status" { "Run " code { (r) } " is queued again." } }
            p {
                a href={ "/workflows/" (w.id) "/runs" } { "All" }
                @for (s, n) in &counts { " · " a href={ "/workflows/" (w.id) "/runs?status=" (s) } { (s) " (" (n) ")" } }
            }
            @if w.event == Event::SalesforceMessage {
                (notifications_markup(&notifications))
            }
            @if runs.is_empty() {
                div.card { p.muted { "No runs yet. A run is recorded each time a response fires this workflow." } }
            }
            @for r in &runs {
                div.card id={ "run-" (r.id) } {
                    h2.run-title {
                        span class={ "badge " (r.status) } { (r.status) } " " (crate::ui::time(r.created_at))
                    }
                    p {
                        "Trigger: " (r.trigger)
                        @if let Some(n) = &r.notification_id { " · notification " code { (n) } }
                        @else if !r.response_id.is_empty() { " · response " a href={ "/surveys/" (w.survey_id) "/responses/" (r.response_id) } { code { (r.response_id) } } }
                        @if !r.response_id.is_empty() {
                            " · conditions: " @match r.condition_met { Some(true) => "met", Some(false) => "not met", None => "not evaluated yet" }
                        }
                        " · attempts: " (r.attempts)
                    }
                    // A waiting or excluded run's words say why, not what went wrong.
                    @if let Some(e) = &r.error {
                        @if matches!(r.status.as_str(), "waiting" | "skipped") { p.muted { (e) } } @else { p.error { (e) } }
                    }
                    @if !r.tasks.is_empty() {
                        ol.tasks {
                            @for t in &r.tasks {
                                li {
                                    code.wrap { (t.kind) } " "
                                    span class={ "badge " (t.status) } { (t.status) } @if t.created == Some(true) { " (created)" }
                                    br;
                                    span.muted { "attempts: " (t.attempts) }
                                    @if let Some(id) = &t.record_id { " · record " code.record-id { (id) } }
                                    // Only a Salesforce task's error is Salesforce's to own.
                                    @if let Some(e) = &t.error { br; span.error { @if t.kind.starts_with("salesforce") { "Salesforce says: " } (e) } }
                                }
                            }
                        }
                    }
                    @if r.status == "failed" {
                        form method="post" action={ "/workflows/" (w.id) "/runs/" (r.id) "/retry" } {
                            input type="hidden" name="csrf" value=(user.csrf);
                            button type="submit" { "Retry" }
                        }
                    }
                }
            }
        },
    ))
}

pub async fn retry(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, run_id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let run = state.sonde.retry_run(&user.actor, &id, &run_id).await?;
    Ok(Redirect::to(&format!("/workflows/{id}/runs?retried={}", run.id)).into_response())
}
