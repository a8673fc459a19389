//! A survey's distributions in the admin UI: the Distributions tab (each with its statistics),
//! a new distribution, one distribution's page (statistics, follow-ups, the recipient list
//! paged, a test send), and a scheduled one edited or deleted (after asking) until it starts.

use crate::auth::CsrfForm;
use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::{page, page_with_status, time};
use crate::ui_distribution_form::{self as dform, Choices, DistributionForm, Fields};
use crate::ui_field_errors::FieldErrors;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use engine::distributions::{Distribution, DistributionStats};
use engine::message_templates::TemplateDefinition;
use engine::{Error, Role};
use maud::{html, Markup};
use serde::Deserialize;

type PageResult = Result<Response, PageError>;

/// The engine's messages in the form's words.
const WORDS: &[(&str, &str)] = &[
    ("leave sendAt out to send now", "choose Send now instead"),
    (
        "mailingListId or contactIds",
        "a mailing list or chosen contacts",
    ),
    ("mailingListId", "a mailing list"),
    ("contactIds", "chosen contacts"),
    ("sendAt", "the send time"),
    ("timeZone", "the time zone"),
    ("afterHours", "hours after"),
    ("templateId", "template"),
];

/// Recipients per page of a distribution's list.
const RECIPIENTS_PAGE: usize = 50;
/// Contacts the form offers to choose from; a bigger audience is a mailing list.
const CHOOSABLE_CONTACTS: usize = 500;

/// An RFC 3339 moment as `<time>` (the script shows it in the viewer's zone).
pub(crate) fn moment(iso: &str) -> Markup {
    match chrono::DateTime::parse_from_rfc3339(iso) {
        Ok(t) => time(t.timestamp_millis()),
        Err(_) => html! { (iso) },
    }
}

/// Each counter with its label and the API's name for it (`data-stat`, which tests read).
fn counters(s: &DistributionStats) -> Vec<(&'static str, &'static str, String)> {
    let n = |v: i64| v.to_string();
    vec![
        ("selected", "Selected", n(s.selected)),
        ("optedOut", "Opted out", n(s.opted_out)),
        ("frequencyCapped", "Frequency-capped", n(s.frequency_capped)),
        ("missingEmail", "Missing email", n(s.missing_email)),
        ("invalidEmail", "Invalid email", n(s.invalid_email)),
        ("missingPhone", "Missing phone", n(s.missing_phone)),
        ("invalidPhone", "Invalid phone", n(s.invalid_phone)),
        ("duplicates", "Duplicates", n(s.duplicates)),
        ("queued", "Waiting to send", n(s.queued)),
        ("sent", "Sent", n(s.sent)),
        ("failed", "Failed", n(s.failed)),
        ("bounced", "Bounced", n(s.bounced)),
        ("delivered", "Delivered", n(s.delivered)),
        ("opened", "Opened", n(s.opened)),
        ("started", "Started", n(s.started)),
        ("finished", "Finished", n(s.finished)),
        (
            "responseRate",
            "Response rate",
            format!("{:.1}%", s.response_rate * 100.0),
        ),
    ]
}

fn stats_grid(s: &DistributionStats) -> Markup {
    html! {
        dl.stats id="stats" {
            @for (key, label, value) in counters(s) {
                div.stat data-stat=(key) { dt { (label) } dd { (value) } }
            }
        }
    }
}

fn status_badge(status: &str) -> Markup {
    let label = match status {
        "scheduled" => "Scheduled",
        "sending" => "Sending",
        "sent" => "Sent",
        other => other,
    };
    html! { span class={ "badge dist-" (status) } { (label) } }
}

fn href(d: &Distribution) -> String {
    format!("/distributions/{}", d.id)
}

pub async fn distributions(
    State(state): State<AppState>,
    user: WebUser,
    Path(survey_id): Path<String>,
) -> PageResult {
    let survey = state.sonde.survey(&user.actor, &survey_id).await?;
    let list = state
        .sonde
        .survey_distributions(&user.actor, &survey.id)
        .await?;
    let templates = state.sonde.templates(&user.actor).await?;
    let name_of = |id: &str| {
        templates
            .iter()
            .find(|t| t.id == id)
            .map_or_else(|| id.to_string(), |t| t.definition.name().to_string())
    };
    let columns: Vec<(&str, &str)> = counters(&DistributionStats::default())
        .into_iter()
        .filter(|(k, _, _)| !matches!(*k, "queued" | "invalidEmail" | "invalidPhone"))
        .map(|(k, l, _)| (k, l))
        .collect();
    Ok(page(
        &user,
        &format!("Distributions · {}", survey.name),
        html! {
            p { a href={ "/surveys/" (survey.id) } { "← " (survey.name) } }
            h1 { "Distributions" }
            @if user.actor.role >= Role::Editor {
                p { a.button href={ "/surveys/" (survey.id) "/distributions/new" } id="new-distribution" { "New distribution" } }
            }
            div.card.wide {
                @if list.is_empty() {
                    p.muted { "No distributions yet. A distribution sends this survey's link to a mailing list or to chosen contacts, by email or text message." }
                } @else {
                    div.table-wrap {
                        table.distributions.stack {
                            thead { tr {
                                th scope="col" { "Send time" } th scope="col" { "Channel" } th scope="col" { "Template" } th scope="col" { "Status" }
                                @for (_, label) in &columns { th scope="col" { (label) } }
                            } }
                            tbody { @for d in &list {
                                @let all = counters(&d.stats);
                                tr {
                                    th scope="row" { a href=(href(d)) { (moment(&d.send_at)) } }
                                    td data-label="Channel" { (dform::channel_label(d.channel.as_str())) }
                                    td data-label="Template" { (name_of(&d.template_id)) }
                                    td data-label="Status" { (status_badge(&d.status)) }
                                    @for (key, label) in &columns {
                                        td data-stat=(key) data-label=(label) { (all.iter().find(|(k, _, _)| k == key).map(|c| c.2.as_str()).unwrap_or("")) }
                                    }
                                }
                            } }
                        }
                    }
                }
            }
        },
    ))
}

async fn choices_of(
    state: &AppState,
    user: &WebUser,
) -> Result<
    (
        Vec<engine::directory::MailingList>,
        Vec<engine::directory::Contact>,
        Vec<engine::message_templates::Template>,
    ),
    PageError,
> {
    Ok((
        state.sonde.mailing_lists(&user.actor).await?,
        state
            .sonde
            .contacts(&user.actor, None, 0, CHOOSABLE_CONTACTS)
            .await?,
        state.sonde.templates(&user.actor).await?,
    ))
}

/// The new-distribution page, or the edit page (`editing`: the distribution's id).
async fn form_page(
    state: &AppState,
    user: &WebUser,
    survey: &engine::surveys::Survey,
    editing: Option<&str>,
    f: &DistributionForm,
    errors: &FieldErrors,
    status: StatusCode,
) -> PageResult {
    let (lists, contacts, templates) = choices_of(state, user).await?;
    let choices = Choices {
        lists: &lists,
        contacts: &contacts,
        templates: &templates,
    };
    let (title, action, back, back_label) = match editing {
        None => (
            "New distribution".to_string(),
            format!("/surveys/{}/distributions", survey.id),
            format!("/surveys/{}/distributions", survey.id),
            "Distributions".to_string(),
        ),
        Some(id) => (
            "Edit the scheduled distribution".to_string(),
            format!("/distributions/{id}/edit"),
            format!("/distributions/{id}"),
            "The distribution".to_string(),
        ),
    };
    let form = dform::form(user, &action, f, &choices, errors, editing.is_some());
    Ok(page_with_status(
        user,
        status,
        &title,
        html! {
            p { a href=(back) { "← " (back_label) } }
            h1 { (title) }
            p.muted { "Survey: " (survey.name) }
            @if templates.is_empty() {
                div.notice role="status" { p { "There is no template yet: " a href="/templates/new?channel=email" { "make an email template" } " first." } }
            }
            (errors.summary())
            (form)
        },
    ))
}

pub async fn new_distribution(
    State(state): State<AppState>,
    user: WebUser,
    Path(survey_id): Path<String>,
) -> PageResult {
    user.actor.require(Role::Editor)?;
    let survey = state.sonde.survey(&user.actor, &survey_id).await?;
    form_page(
        &state,
        &user,
        &survey,
        None,
        &DistributionForm::new_one(),
        &FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

pub async fn create_distribution(
    State(state): State<AppState>,
    user: WebUser,
    Path(survey_id): Path<String>,
    Form(fields): Form<Fields>,
) -> PageResult {
    user.check_csrf(dform::field(&fields, "csrf"))?;
    let f = DistributionForm::from_fields(&fields);
    let created = match f.to_input(false) {
        Ok(input) => {
            state
                .sonde
                .create_distribution(&user.actor, &survey_id, input)
                .await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(d) => Ok(Redirect::to(&format!("{}?created=1", href(&d))).into_response()),
        Err(e) => {
            let Some(errors) = FieldErrors::of(&e).map(|e| e.in_words(WORDS)) else {
                return Err(e.into());
            };
            let survey = state.sonde.survey(&user.actor, &survey_id).await?;
            form_page(
                &state,
                &user,
                &survey,
                None,
                &f,
                &errors,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    #[serde(default)]
    after: String,
    #[serde(default)]
    created: String,
    #[serde(default)]
    saved: String,
}

pub async fn distribution(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> PageResult {
    let d = state.sonde.distribution(&user.actor, &id).await?;
    let survey = state.sonde.survey(&user.actor, &d.survey_id).await?;
    let after = (!q.after.is_empty()).then_some(q.after.as_str());
    let recipients = state
        .sonde
        .distribution_recipients(&user.actor, &id, after, RECIPIENTS_PAGE)
        .await?;
    // Whom each recipient is, by name (a skipped one may have no address at all).
    let mut names = std::collections::HashMap::new();
    for r in &recipients.recipients {
        if !names.contains_key(&r.contact_id) {
            let name = match state.sonde.contact(&user.actor, &r.contact_id).await {
                Ok(c) => format!("{} {}", c.first_name, c.last_name)
                    .trim()
                    .to_string(),
                Err(_) => "a deleted contact".to_string(),
            };
            names.insert(r.contact_id.clone(), name);
        }
    }
    let templates = state.sonde.templates(&user.actor).await?;
    let template = templates.iter().find(|t| t.id == d.template_id);
    let template_link = |tid: &str| {
        let name = templates
            .iter()
            .find(|t| t.id == tid)
            .map_or(tid, |t| t.definition.name());
        html! { a href={ "/templates/" (tid) } { (name) } }
    };
    let audience = match (&d.mailing_list_id, &d.contact_ids) {
        (Some(list), _) => {
            let name = state
                .sonde
                .mailing_list(&user.actor, list)
                .await
                .map(|l| l.name)
                .unwrap_or_else(|_| "a deleted list".into());
            html! { "Mailing list " a href={ "/lists/" (list) } { (name) } }
        }
        (None, Some(ids)) => html! { (ids.len()) " chosen contact" @if ids.len() != 1 { "s" } },
        (None, None) => html! {},
    };
    let editor = user.actor.role >= Role::Editor;
    let scheduled = d.status == "scheduled";
    let test_send = match (editor, template) {
        (true, Some(t)) => {
            let contacts = state.sonde.contacts(&user.actor, None, 0, 200).await?;
            let sms = matches!(t.definition, TemplateDefinition::Sms(_));
            Some(crate::ui_templates::test_send_form(
                &user,
                &t.id,
                &href(&d),
                Some(&d.survey_id),
                &[],
                &contacts,
                sms,
            ))
        }
        _ => None,
    };
    Ok(page(
        &user,
        &format!("Distribution · {}", survey.name),
        html! {
            p { a href={ "/surveys/" (survey.id) "/distributions" } { "← Distributions of " (survey.name) } }
            h1 { "Distribution" }
            @if q.created == "1" { div.ok role="status" id="saved" { "Distribution created." } }
            @if q.saved == "1" { div.ok role="status" id="saved" { "Changes saved." } }
            @if let Some(n) = &d.notice { div.notice role="status" id="dist-notice" { (n) } }
            div.card {
                dl.facts {
                    dt { "Status" } dd id="dist-status" { (status_badge(&d.status)) }
                    dt { "Channel" } dd { (dform::channel_label(d.channel.as_str())) }
                    dt { "Audience" } dd { (audience) }
                    dt { "Template" } dd { (template_link(&d.template_id)) }
                    dt { "Send time" } dd { (moment(&d.send_at)) " " span.muted { "(" (d.send_at_local) ", " (d.time_zone) ")" } }
                    @if let Some(e) = &d.link_expires_at { dt { "Links expire" } dd { (moment(e)) } }
                    @if let Some(s) = &d.started_at { dt { "Started" } dd { (moment(s)) } }
                    @if let Some(w) = &d.audience_written_at { dt { "Audience written" } dd { (moment(w)) } }
                }
                @if editor && scheduled {
                    div.actions {
                        a.button href={ (href(&d)) "/edit" } id="edit-distribution" { "Edit" }
                        a.button.danger href={ (href(&d)) "/delete" } id="delete-distribution" { "Delete…" }
                    }
                }
            }
            div.card {
                h2 { "Statistics" }
                (stats_grid(&d.stats))
            }
            @if !d.reminders.is_empty() || d.thank_you.is_some() {
                div.card.table-wrap {
                    h2 { "Reminders and thank-you" }
                    table {
                        thead { tr { th { "Message" } th { "After" } th { "Template" } th { "Due" } th { "Status" } th { "Selected" } th { "Sent" } th { "Skipped" } th { "Failed" } } }
                        tbody {
                            @for (i, f) in d.reminders.iter().enumerate() {
                                (follow_up_row(&format!("Reminder {}", i + 1), f, &template_link))
                            }
                            @if let Some(t) = &d.thank_you { (follow_up_row("Thank-you", t, &template_link)) }
                        }
                    }
                }
            }
            div.card id="recipients" {
                h2 { "Recipients" }
                @if recipients.recipients.is_empty() {
                    p.muted { @if scheduled { "Recipients are decided when the distribution starts." } @else { "No recipients yet." } }
                } @else {
                    div.table-wrap {
                        table.recipients.stack {
                            thead { tr { th { "Contact" } th { "State" } th { "Reason" } th { "Sent" } th { "Opened" } th { "Message" } th { "Updated" } } }
                            tbody { @for r in &recipients.recipients { tr data-state=(r.state) {
                                th scope="row" {
                                    (names.get(&r.contact_id).map(String::as_str).unwrap_or(""))
                                    br;
                                    span.muted.address { @match &r.address { Some(a) => (a), None => "no address" } }
                                }
                                td data-label="State" { span class={ "badge rcpt-" (r.state) } { (r.state) } }
                                td.reason data-label="Reason" { (r.reason.clone().unwrap_or_default()) }
                                td data-label="Sent" { @if let Some(s) = &r.sent_at { (moment(s)) } }
                                td data-label="Opened" { @if let Some(o) = &r.opened_at { (moment(o)) } }
                                td data-label="Message" { (kind_label(&r.kind)) }
                                td data-label="Updated" { (moment(&r.updated_at)) }
                            } } }
                        }
                    }
                    p {
                        @if after.is_some() { a href=(href(&d)) { "First page" } " · " }
                        @if let Some(next) = &recipients.next { a href={ (href(&d)) "?after=" (next) } id="next-recipients" { "Next " (RECIPIENTS_PAGE) } }
                    }
                }
            }
            @if let Some(form) = test_send {
                div.card id="test-send" { h2 { "Send a test of its template" } (form) }
            }
        },
    ))
}

fn kind_label(kind: &str) -> &str {
    match kind {
        "invitation" => "Invitation",
        "reminder" => "Reminder",
        "thank_you" => "Thank-you",
        other => other,
    }
}

fn follow_up_row(
    label: &str,
    f: &engine::distributions::FollowUp,
    template_link: &dyn Fn(&str) -> Markup,
) -> Markup {
    html! {
        tr {
            td { (label) }
            td { (f.after_hours) " h" }
            td { (template_link(&f.template_id)) }
            td { @match &f.due_at { Some(d) => (moment(d)), None => span.muted { "after the send" } } }
            td { (f.status) }
            td { (f.stats.selected) }
            td { (f.stats.sent) }
            td { (f.stats.skipped + f.stats.opted_out) }
            td { (f.stats.failed + f.stats.bounced) }
        }
    }
}

pub async fn edit_distribution(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    user.actor.require(Role::Editor)?;
    let d = state.sonde.distribution(&user.actor, &id).await?;
    if d.status != "scheduled" {
        return Err(started(&d).into());
    }
    let survey = state.sonde.survey(&user.actor, &d.survey_id).await?;
    form_page(
        &state,
        &user,
        &survey,
        Some(&d.id),
        &DistributionForm::of(&d),
        &FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

fn started(d: &Distribution) -> Error {
    Error::Conflict(format!(
        "this distribution is {}: only a scheduled distribution can be changed or deleted",
        d.status
    ))
}

pub async fn update_distribution(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> PageResult {
    user.check_csrf(dform::field(&fields, "csrf"))?;
    let f = DistributionForm::from_fields(&fields);
    let saved = match f.to_input(true) {
        Ok(input) => {
            state
                .sonde
                .update_distribution(&user.actor, &id, input)
                .await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(d) => Ok(Redirect::to(&format!("{}?saved=1", href(&d))).into_response()),
        Err(e) => {
            let Some(errors) = FieldErrors::of(&e).map(|e| e.in_words(WORDS)) else {
                return Err(e.into());
            };
            let d = state.sonde.distribution(&user.actor, &id).await?;
            let survey = state.sonde.survey(&user.actor, &d.survey_id).await?;
            form_page(
                &state,
                &user,
                &survey,
                Some(&id),
                &f,
                &errors,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    }
}

pub async fn confirm_delete(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    user.actor.require(Role::Editor)?;
    let d = state.sonde.distribution(&user.actor, &id).await?;
    if d.status != "scheduled" {
        return Err(started(&d).into());
    }
    let question = "Delete this scheduled distribution?";
    Ok(page(
        &user,
        question,
        html! {
            h1 { (question) }
            div.card.confirm id="confirm" {
                ul.consequences {
                    li { "Nothing has been sent yet; nothing will be: it was to go " (moment(&d.send_at)) "." }
                    li { "Its reminders and thank-you go with it. Its template stays in the library." }
                }
                div.actions {
                    form.inline method="post" action={ (href(&d)) "/delete" } {
                        input type="hidden" name="csrf" value=(user.csrf);
                        button.danger type="submit" id="confirm-submit" { "Delete distribution" }
                    }
                    a.button.secondary href=(href(&d)) id="confirm-cancel" { "Keep it" }
                }
            }
        },
    ))
}

pub async fn delete_distribution(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let d = state.sonde.distribution(&user.actor, &id).await?;
    state.sonde.delete_distribution(&user.actor, &id).await?;
    Ok(page(
        &user,
        "Distribution deleted",
        html! {
            h1 { "Distribution deleted" }
            div.ok role="status" id="done" { "The distribution scheduled for " (moment(&d.send_at)) " was deleted; nothing was sent." }
            p { a href={ "/surveys/" (d.survey_id) "/distributions" } { "← Distributions" } }
        },
    ))
}
