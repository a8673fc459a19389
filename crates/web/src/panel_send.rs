//! The panel's Send tab: from a Contact or Lead, records selected in a list view, or a
//! Campaign, send a survey by email or text — survey, mailing list (or a new one), template
//! (or a new email template), the phone field texts go to, Salesforce fields mapped into
//! embedded data (picked from the org's describe), now or at a time — or send a test to
//! oneself. A refused form comes back with what was typed and each problem beside its field.

use crate::panel::{context, failed, panel_page, PassQuery};
use crate::AppState;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Form;
use distribution::template::EmailTemplate;
use distribution::Channel;
use engine::message_templates::TemplateDefinition;
use engine::panel::{FieldMapping, PanelPass, PanelSend, PanelSent};
use engine::{Actor, Error, Role};
use maud::{html, Markup};
use std::collections::BTreeMap;

/// Embedded-data rows the form offers.
const MAPPING_ROWS: usize = 3;

/// The form as typed (field name → value), kept to fill it again.
type Typed = BTreeMap<String, String>;

fn value<'a>(typed: &'a Typed, name: &str) -> &'a str {
    typed.get(name).map(String::as_str).unwrap_or("")
}

fn non_empty(typed: &Typed, name: &str) -> Option<String> {
    Some(value(typed, name).trim().to_string()).filter(|v| !v.is_empty())
}

fn channel_of(typed: &Typed) -> Channel {
    match value(typed, "channel") {
        "sms" => Channel::Sms,
        "sms_two_way" => Channel::SmsTwoWay,
        _ => Channel::Email,
    }
}

/// What a record's send is launched on, in words.
fn launched_on(pass: &PanelPass) -> String {
    if !pass.record_ids.is_empty() {
        return format!("the {} selected records", pass.record_ids.len());
    }
    match (pass.record_type.as_deref(), pass.record_id.as_deref()) {
        (Some("Campaign"), Some(id)) => format!("the members of Campaign {id}"),
        (Some(object), Some(id)) => format!("{object} {id}"),
        _ => "this record".into(),
    }
}

fn mappings_of(typed: &Typed) -> Vec<FieldMapping> {
    (0..MAPPING_ROWS)
        .filter_map(|i| {
            let picked = non_empty(typed, &format!("map_field_{i}"))?;
            let (object, field) = picked.split_once('.')?;
            Some(FieldMapping {
                object: object.into(),
                field: field.into(),
                name: non_empty(typed, &format!("map_name_{i}")).unwrap_or_else(|| field.into()),
            })
        })
        .collect()
}

async fn form(
    state: &AppState,
    actor: &Actor,
    pass: &PanelPass,
    token: &str,
    typed: &Typed,
    problems: &[(String, String)],
    outcome: Option<Markup>,
) -> Result<Markup, Error> {
    let sonde = &state.sonde;
    let surveys = sonde.surveys(actor).await?;
    let lists = sonde.mailing_lists(actor).await?;
    let templates = sonde.templates(actor).await?;
    let mut fields: Vec<(String, String)> = Vec::new();
    for object in ["Contact", "Lead"] {
        // The picker is a convenience: an org that cannot be described still sends.
        if let Ok(found) = sonde.panel_fields(actor, pass, object).await {
            fields.extend(found.into_iter().map(|(name, label)| {
                (
                    format!("{object}.{name}"),
                    format!("{object}: {label} ({name})"),
                )
            }));
        }
    }
    let problem = |name: &str| {
        problems
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, m)| m.clone())
    };
    let general: Vec<&(String, String)> = problems.iter().filter(|(f, _)| f.is_empty()).collect();
    let channel = channel_of(typed);
    let default_list = format!("Salesforce: {}", launched_on(pass));
    Ok(html! {
        h1 { "Send a survey" }
        p.muted { "To " (launched_on(pass)) ". Records whose exclusion fields are set (Settings) are left out and counted." }
        @if let Some(o) = outcome { (o) }
        @for (_, m) in &general { p.error role="alert" { (m) } }
        form.stack method="post" action="/panel/send" {
            input type="hidden" name="t" value=(token);
            label { "Survey"
                select name="survey_id" required {
                    @for s in &surveys {
                        option value=(s.id) selected[value(typed, "survey_id") == s.id] { (s.name) }
                    }
                }
            }
            @if let Some(m) = problem("surveyId") { p.error { (m) } }
            fieldset { legend { "Channel" }
                @for (v, label) in [("email", "Email"), ("sms", "Text message (link)"), ("sms_two_way", "Two-way text message")] {
                    label.inline { input type="radio" name="channel" value=(v) checked[channel.as_str() == v]; " " (label) }
                }
            }
            label { "Phone field (text messages)"
                select name="phone_field" {
                    @for f in ["MobilePhone", "Phone"] {
                        option value=(f) selected[value(typed, "phone_field") == f] { (f) }
                    }
                }
            }
            @if let Some(m) = problem("phoneField") { p.error { (m) } }
            label { "Mailing list the records are saved in"
                select name="mailing_list_id" {
                    option value="" { "A new list…" }
                    @for l in &lists {
                        option value=(l.id) selected[value(typed, "mailing_list_id") == l.id] { (l.name) " (" (l.members) ")" }
                    }
                }
            }
            label { "New list's name"
                input type="text" name="new_list_name" value=(non_empty(typed, "new_list_name").unwrap_or(default_list));
            }
            @if let Some(m) = problem("mailingListId") { p.error { (m) } }
            label { "Template"
                select name="template_id" {
                    option value="" { "A new email template…" }
                    @for t in &templates {
                        option value=(t.id) selected[value(typed, "template_id") == t.id] { (t.definition.name()) " (" (t.definition.channel()) ")" }
                    }
                }
            }
            @if let Some(m) = problem("templateId") { p.error { (m) } }
            details open[value(typed, "template_id").is_empty() && !typed.is_empty()] {
                summary { "New email template" }
                label { "Name" input type="text" name="new_template_name" value=(value(typed, "new_template_name")); }
                label { "Subject" input type="text" name="new_template_subject" value=(non_empty(typed, "new_template_subject").unwrap_or_else(|| "A minute for us, ${m://FirstName}?".into())); }
                label { "Message (HTML; must hold ${l://SurveyLink})"
                    textarea name="new_template_body" rows="4" { (non_empty(typed, "new_template_body").unwrap_or_else(|| "<p>Hello ${m://FirstName},</p><p>Tell us how we did: ${l://SurveyLink}</p>".into())) }
                }
                @for (f, m) in problems.iter().filter(|(f, _)| f.starts_with("newTemplate.")) { p.error { (f.trim_start_matches("newTemplate.")) ": " (m) } }
            }
            fieldset { legend { "Salesforce fields into embedded data" }
                @for i in 0..MAPPING_ROWS {
                    div.row {
                        select name={ "map_field_" (i) } aria-label={ "Salesforce field " (i + 1) } {
                            option value="" { "—" }
                            @for (v, label) in &fields {
                                option value=(v) selected[value(typed, &format!("map_field_{i}")) == v] { (label) }
                            }
                        }
                        input type="text" name={ "map_name_" (i) } placeholder="embedded data name" aria-label={ "Embedded data name " (i + 1) } value=(value(typed, &format!("map_name_{i}")));
                    }
                    @if let Some(m) = problem(&format!("mappings[{i}].field")) { p.error { (m) } }
                }
            }
            label { "Send at (leave empty to send now)"
                input type="datetime-local" name="send_at" value=(value(typed, "send_at"));
            }
            @if let Some(m) = problem("sendAt") { p.error { (m) } }
            label { "Time zone"
                input type="text" name="time_zone" value=(non_empty(typed, "time_zone").unwrap_or_else(|| "UTC".into()));
            }
            @if let Some(m) = problem("timeZone") { p.error { (m) } }
            div.row {
                button type="submit" name="action" value="send" { "Send" }
                button.secondary type="submit" name="action" value="test" { "Send a test to me" }
            }
        }
    })
}

/// The Send tab.
pub async fn show(State(state): State<AppState>, Query(q): Query<PassQuery>) -> Response {
    let (actor, pass) = match context(&state, &q.t).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let typed = Typed::new();
    match form(&state, &actor, &pass, &q.t, &typed, &[], None).await {
        Ok(body) => panel_page(&pass, &q.t, actor.role == Role::Admin, "/panel/send", body),
        Err(e) => failed(&pass, e),
    }
}

/// What a send did, as the Sent tab counts it.
pub(crate) fn counts_summary(s: &PanelSent) -> Markup {
    let c = &s.counts;
    let mut counts: Vec<(&str, &str, u64)> = vec![
        ("selected", "Selected", c.selected.into()),
        ("excluded", "Excluded", c.excluded.into()),
        ("missing-email", "Missing email", c.missing_email.into()),
        ("missing-phone", "Missing phone", c.missing_phone.into()),
    ];
    if c.duplicates > 0 {
        counts.push(("duplicates", "Duplicates", c.duplicates.into()));
    }
    if c.not_found > 0 {
        counts.push(("not-found", "Not found", c.not_found.into()));
    }
    counts.push(("in-list", "In the list", c.in_list.into()));
    counts.push(("sent", "Sent", s.distribution.stats.sent as u64));
    counts.push((
        "responses",
        "Responses",
        s.distribution.stats.finished as u64,
    ));
    html! {
        dl.stats.send-counts {
            @for (key, label, n) in counts {
                div.stat { dt { (label) } dd data-count=(key) { (n) } }
            }
        }
        @if !c.excluded_by.is_empty() {
            p.muted { "Excluded: " @for (i, (why, n)) in c.excluded_by.iter().enumerate() { @if i > 0 { ", " } (why) ": " (n) } }
        }
    }
}

/// The Send tab's form sent: a send, or a test to the user's own address.
pub async fn submit(
    State(state): State<AppState>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let typed: Typed = pairs.into_iter().collect();
    let token = value(&typed, "t").to_string();
    let (actor, pass) = match context(&state, &token).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let is_admin = actor.role == Role::Admin;
    let outcome = send(&state, &actor, &pass, &typed).await;
    let (problems, note) = match outcome {
        Ok(note) => (Vec::new(), Some(note)),
        Err(Error::Invalid { message, problems }) => {
            let mut listed: Vec<(String, String)> =
                problems.into_iter().map(|p| (p.field, p.message)).collect();
            if listed.is_empty() {
                listed.push((String::new(), message));
            }
            (listed, None)
        }
        Err(e @ (Error::Forbidden(_) | Error::NotFound(_))) => {
            (vec![(String::new(), e.to_string())], None)
        }
        Err(e) => return failed(&pass, e),
    };
    let kept = if note.is_some() { Typed::new() } else { typed };
    match form(&state, &actor, &pass, &token, &kept, &problems, note).await {
        Ok(body) => panel_page(&pass, &token, is_admin, "/panel/send", body),
        Err(e) => failed(&pass, e),
    }
}

async fn send(
    state: &AppState,
    actor: &Actor,
    pass: &PanelPass,
    typed: &Typed,
) -> Result<Markup, Error> {
    let sonde = &state.sonde;
    let template_id = match non_empty(typed, "template_id") {
        Some(id) => id,
        None => {
            let definition = TemplateDefinition::Email(EmailTemplate {
                name: non_empty(typed, "new_template_name")
                    .unwrap_or_else(|| format!("Salesforce panel {}", launched_on(pass))),
                subject: value(typed, "new_template_subject").to_string(),
                from_name: String::new(),
                reply_to: None,
                body: value(typed, "new_template_body").to_string(),
                default_language: "EN".into(),
                variants: Default::default(),
            });
            match sonde.create_template(actor, definition).await {
                Ok(t) => t.id,
                Err(Error::Invalid { message, problems }) => {
                    return Err(Error::Invalid {
                        message,
                        problems: problems
                            .into_iter()
                            .map(|mut p| {
                                p.field = format!("newTemplate.{}", p.field);
                                p
                            })
                            .collect(),
                    })
                }
                Err(e) => return Err(e),
            }
        }
    };
    let asked = PanelSend {
        survey_id: value(typed, "survey_id").to_string(),
        channel: Some(channel_of(typed)),
        template_id,
        mailing_list_id: non_empty(typed, "mailing_list_id"),
        new_list_name: non_empty(typed, "new_list_name"),
        phone_field: non_empty(typed, "phone_field"),
        mappings: mappings_of(typed),
        send_at: non_empty(typed, "send_at"),
        time_zone: non_empty(typed, "time_zone"),
    };
    if value(typed, "action") == "test" {
        let queued = sonde.panel_test_send(actor, pass, asked).await?;
        return Ok(html! {
            p.notice role="status" { "A test is on its way to " (queued.to) ": “" (queued.subject) "”." }
        });
    }
    let sent = sonde.send_from_panel(actor, pass, asked).await?;
    let later = sent.distribution.status == "scheduled" && !value(typed, "send_at").is_empty();
    let when = if later { "Scheduled for " } else { "Sent " };
    Ok(html! {
        div.notice role="status" id="panel-sent" {
            p { strong { (when) } @if later { (sent.distribution.send_at_local) " (" (sent.distribution.time_zone) ")" } @else { "now" } ": " (sent.survey_name) }
            (counts_summary(&sent))
        }
    })
}
