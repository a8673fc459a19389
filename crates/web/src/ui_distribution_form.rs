//! The new-distribution and edit-distribution form: channel, audience (a mailing list or chosen
//! contacts), template, send now or at a local time in a time zone, link expiry, reminders and a
//! thank-you, read into the engine's `NewDistribution` and shown again, with each problem the
//! engine names beside its field, when a save is refused.

use crate::auth::WebUser;
use crate::ui_field_errors::FieldErrors;
use distribution::Channel;
use engine::directory::{Contact, MailingList};
use engine::distributions::{Distribution, FollowUpInput, NewDistribution, MAX_REMINDERS};
use engine::message_templates::{Template, TemplateDefinition};
use engine::{Error, FieldProblem};
use maud::{html, Markup};

/// The form's fields in the order sent (contacts repeat `contact_ids`).
pub type Fields = Vec<(String, String)>;

pub(crate) fn field<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// What the form shows: as typed, or as the distribution being edited has it.
#[derive(Debug, Clone, Default)]
pub struct DistributionForm {
    pub channel: String,
    /// `list` or `contacts`.
    pub audience: String,
    pub mailing_list_id: String,
    pub contact_ids: Vec<String>,
    pub template_id: String,
    /// `now` or `later`.
    pub when: String,
    /// A local time as `datetime-local` gives it (`2026-12-24T09:00`).
    pub send_at: String,
    pub time_zone: String,
    pub link_expires_at: String,
    /// (hours, template id) per reminder row.
    pub reminders: Vec<(String, String)>,
    pub thank_you: (String, String),
}

/// `2026-12-24T09:00:00+01:00` as a `datetime-local` value: `2026-12-24T09:00`.
fn local_minutes(rfc3339: &str) -> String {
    rfc3339.chars().take(16).collect()
}

impl DistributionForm {
    pub fn new_one() -> Self {
        Self {
            channel: "email".into(),
            audience: "list".into(),
            when: "now".into(),
            time_zone: "UTC".into(),
            ..Default::default()
        }
    }

    pub fn of(d: &Distribution) -> Self {
        let local = |rfc: &str| -> String {
            // The expiry is answered in UTC; shown in the distribution's zone it reads as set.
            match (
                chrono::DateTime::parse_from_rfc3339(rfc),
                d.time_zone.parse::<chrono_tz::Tz>(),
            ) {
                (Ok(t), Ok(z)) => t.with_timezone(&z).format("%Y-%m-%dT%H:%M").to_string(),
                _ => local_minutes(rfc),
            }
        };
        Self {
            channel: d.channel.as_str().into(),
            audience: if d.contact_ids.is_some() {
                "contacts"
            } else {
                "list"
            }
            .into(),
            mailing_list_id: d.mailing_list_id.clone().unwrap_or_default(),
            contact_ids: d.contact_ids.clone().unwrap_or_default(),
            template_id: d.template_id.clone(),
            when: "later".into(),
            send_at: local_minutes(&d.send_at_local),
            time_zone: d.time_zone.clone(),
            link_expires_at: d.link_expires_at.as_deref().map(local).unwrap_or_default(),
            reminders: d
                .reminders
                .iter()
                .map(|r| (r.after_hours.to_string(), r.template_id.clone()))
                .collect(),
            thank_you: d
                .thank_you
                .as_ref()
                .map(|t| (t.after_hours.to_string(), t.template_id.clone()))
                .unwrap_or_default(),
        }
    }

    pub fn from_fields(fields: &Fields) -> Self {
        let mut reminders = Vec::new();
        for i in 0..MAX_REMINDERS {
            let hours = format!("r{i}_hours");
            if !fields.iter().any(|(k, _)| *k == hours) {
                break;
            }
            let row = (
                field(fields, &hours).trim().to_string(),
                field(fields, &format!("r{i}_template")).to_string(),
            );
            // A row without a template is no reminder (the spare one, or one set to "(none)" to
            // remove it): it takes no number, so the engine's `reminders[i]` is the i-th row
            // shown again.
            if !row.1.is_empty() {
                reminders.push(row);
            }
        }
        Self {
            channel: field(fields, "channel").into(),
            audience: field(fields, "audience").into(),
            mailing_list_id: field(fields, "mailing_list_id").into(),
            contact_ids: fields
                .iter()
                .filter(|(k, _)| k == "contact_ids")
                .map(|(_, v)| v.clone())
                .collect(),
            template_id: field(fields, "template_id").into(),
            when: field(fields, "when").into(),
            send_at: field(fields, "send_at").trim().into(),
            time_zone: field(fields, "time_zone").trim().into(),
            link_expires_at: field(fields, "link_expires_at").trim().into(),
            reminders,
            thank_you: (
                field(fields, "ty_hours").trim().into(),
                field(fields, "ty_template").into(),
            ),
        }
    }

    /// The engine's input, or the problems the form itself finds (hours that are no number).
    /// `editing`: a send time left as "now" on a scheduled distribution means now.
    pub fn to_input(&self, editing: bool) -> Result<NewDistribution, Error> {
        let mut problems = Vec::new();
        let channel = match self.channel.as_str() {
            "sms" => Channel::Sms,
            "sms_two_way" => Channel::SmsTwoWay,
            _ => Channel::Email,
        };
        let hours = |text: &str, field: String, problems: &mut Vec<FieldProblem>| match text
            .parse::<u32>()
        {
            Ok(h) => Some(h),
            Err(_) => {
                problems.push(FieldProblem {
                    field,
                    message: format!("{text:?} is not a whole number of hours"),
                });
                None
            }
        };
        let mut reminders = Vec::new();
        for (i, (h, template)) in self.reminders.iter().enumerate() {
            if let Some(after_hours) = hours(h, format!("reminders[{i}].afterHours"), &mut problems)
            {
                reminders.push(FollowUpInput {
                    after_hours,
                    template_id: template.clone(),
                });
            }
        }
        let (h, template) = &self.thank_you;
        // "(none)" is no thank-you: on a scheduled one, the one it had is removed.
        let thank_you = if template.is_empty() {
            None
        } else {
            hours(h, "thankYou.afterHours".into(), &mut problems).map(|after_hours| FollowUpInput {
                after_hours,
                template_id: template.clone(),
            })
        };
        if !problems.is_empty() {
            return Err(Error::invalid_fields(
                "the distribution has invalid fields",
                problems,
            ));
        }
        let send_at = match self.when.as_str() {
            "later" => Some(self.send_at.clone()),
            // Now, on a scheduled one: the current time, in the form's zone's terms.
            _ if editing => Some(chrono::Utc::now().to_rfc3339()),
            _ => None,
        };
        let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Ok(NewDistribution {
            channel: Some(channel),
            mailing_list_id: (self.audience != "contacts").then(|| self.mailing_list_id.clone()),
            contact_ids: (self.audience == "contacts").then(|| self.contact_ids.clone()),
            template_id: nonempty(&self.template_id),
            send_at,
            time_zone: nonempty(&self.time_zone),
            link_expires_at: nonempty(&self.link_expires_at),
            // Both always given: what the form shows is what the distribution keeps.
            reminders: Some(Some(reminders)),
            thank_you: Some(thank_you),
        })
    }
}

/// What the form offers to choose from.
pub struct Choices<'a> {
    pub lists: &'a [MailingList],
    pub contacts: &'a [Contact],
    pub templates: &'a [Template],
}

/// `empty`: what choosing no template means (a follow-up set to "(none)" is no follow-up).
fn template_options(
    templates: &[Template],
    chosen: &str,
    channel_sms: Option<bool>,
    empty: &str,
) -> Markup {
    html! {
        option value="" { (empty) }
        @for t in templates {
            @let sms = matches!(t.definition, TemplateDefinition::Sms(_));
            @if channel_sms.is_none_or(|want| want == sms) {
                option value=(t.id) selected[t.id == chosen] data-channel=(t.definition.channel()) {
                    (t.definition.name()) @if sms { " (SMS)" } @else { " (email)" }
                }
            }
        }
    }
}

/// The time zones offered as suggestions (any IANA name is accepted).
const ZONES: &[&str] = &[
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
];

/// The form, posting to `action`; `editing` fixes the channel (it cannot change).
pub fn form(
    user: &WebUser,
    action: &str,
    f: &DistributionForm,
    choices: &Choices,
    errors: &FieldErrors,
    editing: bool,
) -> Markup {
    let radio = |name: &str, value: &str, current: &str, id: &str, label: &str| {
        html! {
            label.opt for=(id) {
                input type="radio" id=(id) name=(name) value=(value) checked[current == value];
                (label)
            }
        }
    };
    let invalid = |name: &str| errors.has(name).then_some("true");
    let mut reminder_rows = f.reminders.clone();
    if reminder_rows.len() < MAX_REMINDERS {
        reminder_rows.push(Default::default());
    }
    html! {
        form.fields method="post" action=(action) id="distribution-form" {
            input type="hidden" name="csrf" value=(user.csrf);
            div.card {
                fieldset aria-describedby="d-channel-error" {
                    legend { "Channel" }
                    @if editing {
                        input type="hidden" name="channel" value=(f.channel);
                        p { (channel_label(&f.channel)) span.muted { " (a distribution's channel cannot change)" } }
                    } @else {
                        (radio("channel", "email", &f.channel, "d-channel-email", "Email"))
                        (radio("channel", "sms", &f.channel, "d-channel-sms", "SMS with the survey link"))
                        (radio("channel", "sms_two_way", &f.channel, "d-channel-sms2", "Two-way SMS (answered by text)"))
                    }
                    (errors.at("channel", "d-channel-error"))
                }
            }
            div.card {
                fieldset {
                    legend { "Audience" }
                    (radio("audience", "list", &f.audience, "d-audience-list", "A mailing list"))
                    p { label for="d-list" { "Mailing list" }
                        select id="d-list" name="mailing_list_id" aria-invalid=[invalid("mailingListId")] aria-describedby="d-list-error" {
                            option value="" { "(choose a list)" }
                            @for l in choices.lists { option value=(l.id) selected[l.id == f.mailing_list_id] { (l.name) " (" (l.members) ")" } }
                        }
                        (errors.at("mailingListId", "d-list-error"))
                    }
                    (radio("audience", "contacts", &f.audience, "d-audience-contacts", "Chosen contacts"))
                    div.choices id="d-contacts" aria-describedby="d-contacts-error" {
                        @if choices.contacts.is_empty() { p.muted { "The directory has no contacts yet." } }
                        @for (i, c) in choices.contacts.iter().enumerate() {
                            label.opt for={ "d-contact-" (i) } {
                                input type="checkbox" id={ "d-contact-" (i) } name="contact_ids" value=(c.id) checked[f.contact_ids.contains(&c.id)];
                                span { (c.first_name) " " (c.last_name) " " span.muted { (c.email.as_deref().or(c.phone.as_deref()).unwrap_or("")) } }
                            }
                        }
                    }
                    (errors.at("contactIds", "d-contacts-error"))
                }
            }
            div.card {
                p { label for="d-template" { "Template" }
                    select id="d-template" name="template_id" required aria-invalid=[invalid("templateId")] aria-describedby="d-template-error" {
                        (template_options(choices.templates, &f.template_id, None, "(choose a template)"))
                    }
                    (errors.at("templateId", "d-template-error"))
                }
                p.muted { a href="/templates" { "The templates library" } " holds them; a new one is made there." }
            }
            div.card {
                fieldset {
                    legend { "When" }
                    (radio("when", "now", &f.when, "d-when-now", "Send now"))
                    (radio("when", "later", &f.when, "d-when-later", "At a date and time"))
                    div.filters {
                        div { label for="d-send-at" { "Date and time" }
                            input type="datetime-local" id="d-send-at" name="send_at" value=(f.send_at) aria-invalid=[invalid("sendAt")] aria-describedby="d-send-at-error";
                            (errors.at("sendAt", "d-send-at-error")) }
                        div { label for="d-zone" { "Time zone" }
                            input type="text" id="d-zone" name="time_zone" value=(f.time_zone) list="zones" data-local-zone[!editing && f.time_zone == "UTC"]
                                aria-invalid=[invalid("timeZone")] aria-describedby="d-zone-error";
                            datalist id="zones" { @for z in ZONES { option value=(z) {} } }
                            (errors.at("timeZone", "d-zone-error")) }
                    }
                }
                p { label for="d-expires" { "Links stop working after (optional, same time zone)" }
                    input type="datetime-local" id="d-expires" name="link_expires_at" value=(f.link_expires_at) aria-invalid=[invalid("linkExpiresAt")] aria-describedby="d-expires-error";
                    (errors.at("linkExpiresAt", "d-expires-error")) }
            }
            div.card {
                h2 { "Reminders and thank-you" }
                p.muted { "Hours after the send. Reminders go to those who have not finished, the thank-you to those who did. A template of “(none)” removes one." }
                (errors.at("reminders", "d-reminders-error"))
                @for (i, (hours, template)) in reminder_rows.iter().enumerate() {
                    @let name = format!("reminders[{i}]");
                    div.filters.follow-up id={ "reminder-" (i) } {
                        div { label for={ "d-r" (i) "-hours" } { "Reminder " (i + 1) ": hours after" }
                            input type="number" min="1" max="8760" id={ "d-r" (i) "-hours" } name={ "r" (i) "_hours" } value=(hours) aria-invalid=[invalid(&name)]; }
                        div { label for={ "d-r" (i) "-template" } { "Template" }
                            select id={ "d-r" (i) "-template" } name={ "r" (i) "_template" } { (template_options(choices.templates, template, None, "(none)")) } }
                        div.full-row { (errors.at(&name, &format!("d-r{i}-error"))) }
                    }
                }
                div.filters.follow-up id="thank-you" {
                    div { label for="d-ty-hours" { "Thank-you: hours after" }
                        input type="number" min="1" max="8760" id="d-ty-hours" name="ty_hours" value=(f.thank_you.0) aria-invalid=[invalid("thankYou")]; }
                    div { label for="d-ty-template" { "Template" }
                        select id="d-ty-template" name="ty_template" { (template_options(choices.templates, &f.thank_you.1, None, "(none)")) } }
                    div.full-row { (errors.at("thankYou", "d-ty-error")) }
                }
            }
            button type="submit" id="save-distribution" { @if editing { "Save changes" } @else { "Create distribution" } }
        }
    }
}

pub(crate) fn channel_label(channel: &str) -> &'static str {
    match channel {
        "sms" => "SMS with the survey link",
        "sms_two_way" => "Two-way SMS",
        _ => "Email",
    }
}
