//! The templates library in the admin UI: email and SMS invitation templates listed, created,
//! edited (one message per language), deleted (refused, and said why, while a distribution uses
//! one), and a test send rendered with a chosen contact's data, its outcome below it
//! (`ui_test_sends`) — all through the engine calls the API makes.

use crate::auth::CsrfForm;
use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::{page, page_with_status};
use crate::ui_field_errors::FieldErrors;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use distribution::segments::{measure, Encoding};
use distribution::template::{EmailTemplate, EmailVariant, SmsTemplate, SmsVariant};
use engine::distribution_workers::TestSend;
use engine::message_templates::{Template, TemplateDefinition};
use engine::{Error, FieldProblem, Role};
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::BTreeMap;

type PageResult = Result<Response, PageError>;

/// The form's fields in the order sent (variants are numbered: `v0_lang`, `v0_subject`, …).
type Fields = Vec<(String, String)>;

fn field<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The piped text a template may use, shown beside its body.
pub(crate) fn piped_text_hint() -> Markup {
    const FIELDS: &[(&str, &str)] = &[
        (
            "${l://SurveyLink}",
            "the personal survey link (required in every body)",
        ),
        (
            "${l://SurveyLink?d=Take the survey}",
            "the link with your words as its text",
        ),
        ("${l://SurveyURL}", "the link's address as plain text"),
        (
            "${l://OptOutLink?d=Unsubscribe}",
            "the contact's unsubscribe link",
        ),
        ("${m://FirstName}", "first name"),
        ("${m://LastName}", "last name"),
        ("${m://Email}", "email address"),
        ("${m://PhoneNumber}", "phone number"),
        ("${m://ExternalDataReference}", "external reference"),
        (
            "${m://Field/Name}",
            "the contact's embedded data field Name",
        ),
    ];
    html! {
        details.hint id="piped-hint" {
            summary { "Piped text you can use" }
            dl.facts { @for (code, what) in FIELDS { dt { code { (code) } } dd { (what) } } }
        }
    }
}

/// "1 segment · GSM-7 · 42 characters", as the script also writes it while one types.
fn sms_size(body: &str) -> String {
    let s = measure(body);
    format!(
        "{} segment{} · {} · {} characters",
        s.segments,
        if s.segments == 1 { "" } else { "s" },
        match s.encoding {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2 (a character outside GSM-7)",
        },
        s.characters
    )
}

pub async fn templates(State(state): State<AppState>, user: WebUser) -> PageResult {
    let list = state.sonde.templates(&user.actor).await?;
    let editor = user.actor.role >= Role::Editor;
    Ok(page(
        &user,
        "Templates",
        html! {
            h1 { "Templates" }
            p.muted { "Reusable invitations for distributions: an email or a text message, written once per language." }
            @if editor {
                div.actions {
                    a.button href="/templates/new?channel=email" id="new-email-template" { "New email template" }
                    a.button href="/templates/new?channel=sms" id="new-sms-template" { "New SMS template" }
                }
            }
            div.card.table-wrap {
                @if list.is_empty() {
                    p.muted { "No templates yet." }
                } @else {
                    table {
                        thead { tr { th { "Name" } th { "Kind" } th { "Languages" } th { "Updated" } } }
                        tbody { @for t in &list { tr {
                            td { a href={ "/templates/" (t.id) } { (t.definition.name()) } }
                            td { @match &t.definition { TemplateDefinition::Email(_) => "Email", TemplateDefinition::Sms(_) => "SMS" } }
                            td { (languages(&t.definition)) }
                            td { (crate::ui_distributions::moment(&t.updated_at)) }
                        } } }
                    }
                }
            }
        },
    ))
}

fn languages(d: &TemplateDefinition) -> String {
    let (default, others): (&str, Vec<&String>) = match d {
        TemplateDefinition::Email(t) => (&t.default_language, t.variants.keys().collect()),
        TemplateDefinition::Sms(t) => (&t.default_language, t.variants.keys().collect()),
    };
    std::iter::once(default.to_string())
        .chain(others.into_iter().cloned())
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    channel: String,
}

pub async fn new_template(user: WebUser, Query(q): Query<NewQuery>) -> PageResult {
    user.actor.require(Role::Editor)?;
    let definition = if q.channel == "sms" {
        TemplateDefinition::Sms(SmsTemplate {
            name: String::new(),
            body: "${m://FirstName}, tell us about your visit: ${l://SurveyLink}".into(),
            default_language: "EN".into(),
            variants: BTreeMap::new(),
        })
    } else {
        TemplateDefinition::Email(EmailTemplate {
            name: String::new(),
            subject: "${m://FirstName}, a minute for us?".into(),
            from_name: String::new(),
            reply_to: None,
            body: "<p>Hello ${m://FirstName},</p>\n<p>${l://SurveyLink?d=Take the survey}</p>\n<p>${l://OptOutLink?d=Unsubscribe}</p>".into(),
            default_language: "EN".into(),
            variants: BTreeMap::new(),
        })
    };
    Ok(editor_page(
        &user,
        None,
        &definition,
        &FieldErrors::default(),
        StatusCode::OK,
        None,
        html! {},
    ))
}

/// The editor: `id` None for a new template.
fn editor_page(
    user: &WebUser,
    id: Option<&str>,
    d: &TemplateDefinition,
    errors: &FieldErrors,
    status: StatusCode,
    saved: Option<&str>,
    footer: Markup,
) -> Response {
    let sms = matches!(d, TemplateDefinition::Sms(_));
    let title = match (id, sms) {
        (None, false) => "New email template".to_string(),
        (None, true) => "New SMS template".to_string(),
        (Some(_), _) => d.name().to_string(),
    };
    let action = match id {
        Some(id) => format!("/templates/{id}"),
        None => "/templates".into(),
    };
    let editor = user.actor.role >= Role::Editor;
    let form = html! {
        form method="post" action=(action) id="template-form" {
            input type="hidden" name="csrf" value=(user.csrf);
            input type="hidden" name="channel" value=(d.channel());
            div.card {
                (text_input("Name", "name", "t-name", d.name(), errors, true))
                @match d {
                    TemplateDefinition::Email(t) => {
                        (text_input("Subject", "subject", "t-subject", &t.subject, errors, true))
                        (text_input("From name", "fromName", "t-from-name", &t.from_name, errors, false))
                        (text_input("Reply-to address", "replyTo", "t-reply-to", t.reply_to.as_deref().unwrap_or(""), errors, false))
                        (body_input("Body (HTML)", "body", "t-body", &t.body, errors, false))
                    }
                    TemplateDefinition::Sms(t) => {
                        (body_input("Message", "body", "t-body", &t.body, errors, true))
                    }
                }
                (text_input("Language of this message", "defaultLanguage", "t-language", match d {
                    TemplateDefinition::Email(t) => &t.default_language,
                    TemplateDefinition::Sms(t) => &t.default_language,
                }, errors, true))
                (piped_text_hint())
            }
            div.card {
                h2 { "Other languages" }
                p.muted { "A contact whose language has a message here gets it; everyone else gets the message above. Leave the language empty to remove one." }
                @for (i, (lang, subject, body)) in variant_rows(d).iter().enumerate() {
                    fieldset.variant id={ "variant-" (i) } {
                        legend { @if lang.is_empty() { "Add a language" } @else { "Language " (lang) } }
                        @let path = format!("variants.{lang}");
                        (errors.at(&path, &format!("variant-{i}-error")))
                        p { label for={ "v" (i) "-lang" } { "Language code (FR, PT-BR)" }
                            input type="text" id={ "v" (i) "-lang" } name={ "v" (i) "_lang" } value=(lang); }
                        @if let Some(subject) = subject {
                            p { label for={ "v" (i) "-subject" } { "Subject" }
                                input type="text" id={ "v" (i) "-subject" } name={ "v" (i) "_subject" } value=(subject); }
                        }
                        p { label for={ "v" (i) "-body" } { @if sms { "Message" } @else { "Body (HTML)" } }
                            textarea id={ "v" (i) "-body" } name={ "v" (i) "_body" } data-sms-count=[sms.then(|| format!("v{i}-size"))] class=[(!sms).then_some("html-body")] { (body) } }
                        @if sms { p.muted id={ "v" (i) "-size" } aria-live="polite" { (sms_size(body)) } }
                    }
                }
            }
            @if editor { button type="submit" id="save-template" { "Save template" } }
        }
    };
    page_with_status(
        user,
        status,
        &title,
        html! {
            p { a href="/templates" { "← Templates" } }
            h1 { (title) }
            @if let Some(s) = saved { div.ok role="status" id="saved" { (s) } }
            (errors.summary())
            (form)
            (footer)
        },
    )
}

fn text_input(
    label: &str,
    name: &str,
    id: &str,
    value: &str,
    errors: &FieldErrors,
    required: bool,
) -> Markup {
    let err = format!("{id}-error");
    html! {
        p {
            label for=(id) { (label) }
            input type="text" id=(id) name=(name) value=(value) required[required]
                aria-invalid=[errors.has(name).then_some("true")] aria-describedby=(err);
            (errors.at(name, &err))
        }
    }
}

fn body_input(
    label: &str,
    name: &str,
    id: &str,
    value: &str,
    errors: &FieldErrors,
    sms: bool,
) -> Markup {
    let err = format!("{id}-error");
    let size = format!("{id}-size");
    html! {
        p {
            label for=(id) { (label) }
            textarea id=(id) name=(name) required aria-describedby={ (err) " " (size) }
                aria-invalid=[errors.has(name).then_some("true")]
                data-sms-count=[sms.then_some(&size)] class=[(!sms).then_some("html-body")] { (value) }
            @if sms { span.muted id=(size) aria-live="polite" { (sms_size(value)) } }
            (errors.at(name, &err))
        }
    }
}

/// Each language's (code, subject for email, body), then one empty row to add a language.
fn variant_rows(d: &TemplateDefinition) -> Vec<(String, Option<String>, String)> {
    let mut rows: Vec<(String, Option<String>, String)> = match d {
        TemplateDefinition::Email(t) => t
            .variants
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.subject.clone()), v.body.clone()))
            .collect(),
        TemplateDefinition::Sms(t) => t
            .variants
            .iter()
            .map(|(k, v)| (k.clone(), None, v.body.clone()))
            .collect(),
    };
    let email = matches!(d, TemplateDefinition::Email(_));
    rows.push((String::new(), email.then(String::new), String::new()));
    rows
}

/// The template the form describes, or the problems the form itself has (a language twice).
fn definition_of(fields: &Fields) -> Result<TemplateDefinition, Error> {
    let sms = field(fields, "channel") == "sms";
    let mut problems = Vec::new();
    let mut email_variants = BTreeMap::new();
    let mut sms_variants = BTreeMap::new();
    for i in 0.. {
        let lang_key = format!("v{i}_lang");
        if !fields.iter().any(|(k, _)| *k == lang_key) {
            break;
        }
        let lang = field(fields, &lang_key).trim().to_string();
        let body = field(fields, &format!("v{i}_body")).to_string();
        let subject = field(fields, &format!("v{i}_subject")).to_string();
        if lang.is_empty() {
            continue;
        }
        let twice = if sms {
            sms_variants
                .insert(lang.clone(), SmsVariant { body })
                .is_some()
        } else {
            email_variants
                .insert(lang.clone(), EmailVariant { subject, body })
                .is_some()
        };
        if twice {
            problems.push(FieldProblem {
                field: format!("variants.{lang}"),
                message: "this language is given twice".into(),
            });
        }
    }
    let definition = if sms {
        TemplateDefinition::Sms(SmsTemplate {
            name: field(fields, "name").into(),
            body: field(fields, "body").into(),
            default_language: field(fields, "defaultLanguage").trim().into(),
            variants: sms_variants,
        })
    } else {
        let reply_to = field(fields, "replyTo").trim();
        TemplateDefinition::Email(EmailTemplate {
            name: field(fields, "name").into(),
            subject: field(fields, "subject").into(),
            from_name: field(fields, "fromName").into(),
            reply_to: (!reply_to.is_empty()).then(|| reply_to.to_string()),
            body: field(fields, "body").into(),
            default_language: field(fields, "defaultLanguage").trim().into(),
            variants: email_variants,
        })
    };
    if problems.is_empty() {
        Ok(definition)
    } else {
        Err(Error::invalid_fields(
            "the template has invalid fields",
            problems,
        ))
    }
}

/// A refused save: the editor again with what was typed and the problems beside their fields.
fn refused(user: &WebUser, id: Option<&str>, fields: &Fields, e: Error) -> PageResult {
    let Some(errors) = FieldErrors::of(&e) else {
        return Err(e.into());
    };
    // What was typed comes back even when the form itself was refused.
    let shown = match definition_of(fields) {
        Ok(d) => d,
        Err(_) => {
            let mut without = fields.clone();
            without.retain(|(k, _)| !k.starts_with('v'));
            definition_of(&without)?
        }
    };
    Ok(editor_page(
        user,
        id,
        &shown,
        &errors,
        StatusCode::BAD_REQUEST,
        None,
        html! {},
    ))
}

pub async fn create_template(
    State(state): State<AppState>,
    user: WebUser,
    Form(fields): Form<Fields>,
) -> PageResult {
    user.check_csrf(field(&fields, "csrf"))?;
    let created = match definition_of(&fields) {
        Ok(d) => state.sonde.create_template(&user.actor, d).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(t) => Ok(Redirect::to(&format!("/templates/{}?saved=1", t.id)).into_response()),
        Err(e) => refused(&user, None, &fields, e),
    }
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    #[serde(default)]
    saved: String,
}

pub async fn template(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> PageResult {
    let t = state.sonde.template(&user.actor, &id).await?;
    let saved = (q.saved == "1").then_some("Template saved.");
    // The test send and the way to delete sit under the editor, on the same page.
    let footer = template_footer(&state, &user, &t).await?;
    Ok(editor_page(
        &user,
        Some(&t.id),
        &t.definition,
        &FieldErrors::default(),
        StatusCode::OK,
        saved,
        footer,
    ))
}

async fn template_footer(
    state: &AppState,
    user: &WebUser,
    t: &Template,
) -> Result<Markup, PageError> {
    if user.actor.role < Role::Editor {
        return Ok(html! {});
    }
    let surveys = state.sonde.surveys(&user.actor).await?;
    let contacts = state.sonde.contacts(&user.actor, None, 0, 200).await?;
    let sms = matches!(t.definition, TemplateDefinition::Sms(_));
    Ok(html! {
        div.card id="test-send" {
            h2 { "Send a test" }
            (test_send_form(user, &t.id, &format!("/templates/{}", t.id), None, &surveys.iter().map(|s| (s.id.clone(), s.name.clone())).collect::<Vec<_>>(), &contacts, sms))
        }
        p { a.button.danger href={ "/templates/" (t.id) "/delete" } id="delete-template" { "Delete template…" } }
    })
}

/// The test-send form: to whom, with whose data; the survey is picked unless given.
pub(crate) fn test_send_form(
    user: &WebUser,
    template_id: &str,
    back: &str,
    survey_id: Option<&str>,
    surveys: &[(String, String)],
    contacts: &[engine::directory::Contact],
    sms: bool,
) -> Markup {
    html! {
        form method="post" action="/templates/test-send" id="test-send-form" {
            input type="hidden" name="csrf" value=(user.csrf);
            input type="hidden" name="template_id" value=(template_id);
            input type="hidden" name="back" value=(back);
            @if let Some(s) = survey_id {
                input type="hidden" name="survey_id" value=(s);
            } @else {
                p { label for="ts-survey" { "Survey whose link it carries (a preview link: nothing is recorded)" }
                    select id="ts-survey" name="survey_id" required {
                        @for (id, name) in surveys { option value=(id) { (name) } }
                    } }
            }
            p { label for="ts-contact" { "Fill the piped text with this contact's data" }
                select id="ts-contact" name="contact_id" required {
                    @for c in contacts { option value=(c.id) { (c.first_name) " " (c.last_name)
                        @if let Some(e) = &c.email { " · " (e) } } }
                } }
            p { label for="ts-to" { @if sms { "Phone number (E.164)" } @else { "Send to this address" } }
                input type=(if sms { "text" } else { "email" }) id="ts-to" name="to" required; }
            button.secondary type="submit" id="send-test" { "Send test" }
        }
    }
}

pub async fn update_template(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> PageResult {
    user.check_csrf(field(&fields, "csrf"))?;
    let updated = match definition_of(&fields) {
        Ok(d) => state.sonde.update_template(&user.actor, &id, d).await,
        Err(e) => Err(e),
    };
    match updated {
        Ok(t) => Ok(Redirect::to(&format!("/templates/{}?saved=1", t.id)).into_response()),
        Err(e) => refused(&user, Some(&id), &fields, e),
    }
}

pub async fn confirm_delete(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    user.actor.require(Role::Editor)?;
    let t = state.sonde.template(&user.actor, &id).await?;
    let question = format!("Delete the template {}?", t.definition.name());
    Ok(page(
        &user,
        &question,
        html! {
            h1 { (question) }
            div.card.confirm id="confirm" {
                ul.consequences {
                    li { "It is removed from the library for everyone in your organization." }
                    li { "A template a distribution uses (as its invitation, a reminder or a thank-you) cannot be deleted while that distribution exists." }
                }
                div.actions {
                    form.inline method="post" action={ "/templates/" (t.id) "/delete" } {
                        input type="hidden" name="csrf" value=(user.csrf);
                        button.danger type="submit" id="confirm-submit" { "Delete template" }
                    }
                    a.button.secondary href={ "/templates/" (t.id) } id="confirm-cancel" { "Keep it" }
                }
            }
        },
    ))
}

pub async fn delete_template(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let t = state.sonde.template(&user.actor, &id).await?;
    match state.sonde.delete_template(&user.actor, &id).await {
        Ok(()) => Ok(page(
            &user,
            "Template deleted",
            html! {
                h1 { "Template deleted" }
                div.ok role="status" id="done" { "The template " strong { (t.definition.name()) } " was deleted." }
                p { a href="/templates" { "← Templates" } }
            },
        )),
        // In use: said plainly on a page of its own, with the way back.
        Err(Error::Conflict(why)) => Ok(page_with_status(
            &user,
            StatusCode::CONFLICT,
            "Template in use",
            html! {
                h1 { "The template is in use" }
                div.notice role="alert" id="in-use" {
                    p { strong { (t.definition.name()) } " was not deleted: " (why) "." }
                    p { "Delete the distributions that use it first, or keep it." }
                }
                p { a href={ "/templates/" (t.id) } { "← " (t.definition.name()) } }
            },
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct TestSendForm {
    #[serde(default)]
    csrf: String,
    template_id: String,
    survey_id: String,
    contact_id: String,
    to: String,
    /// The page the form was on (a template's or a distribution's).
    #[serde(default)]
    back: String,
}

pub async fn test_send(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<TestSendForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let asked = TestSend {
        template_id: form.template_id.clone(),
        survey_id: form.survey_id,
        contact_id: form.contact_id,
        to: form.to.trim().to_string(),
    };
    // Only a page of this site: the field comes back from the browser.
    let back = if form.back.starts_with("/templates/") || form.back.starts_with("/distributions/") {
        form.back.clone()
    } else {
        format!("/templates/{}", form.template_id)
    };
    match state.sonde.queue_test_send(&user.actor, asked).await {
        Ok(q) => {
            let outcome = state.sonde.test_send(&user.actor, &q.job_id).await?;
            Ok(page(
                &user,
                "Test message queued",
                html! {
                    p { a href=(back) id="back" { "← Back" } }
                    h1 { "Test message queued" }
                    div.ok role="status" id="test-queued" { "A test message to " strong { (q.to) } " is on its way." }
                    @if let Some(n) = &q.notice { p.notice { (n) } }
                    div.card {
                        h2 { "As it is sent" }
                        dl.facts { dt { "To" } dd { (q.to) } dt { "Subject" } dd id="test-subject" { (q.subject) } }
                        pre.message id="test-text" { (q.text) }
                    }
                    (crate::ui_test_sends::outcome_card(&outcome))
                },
            ))
        }
        Err(e @ Error::Invalid { .. }) => Ok(page_with_status(
            &user,
            StatusCode::BAD_REQUEST,
            "Test not sent",
            html! {
                p { a href=(back) id="back" { "← Back" } }
                h1 { "Test not sent" }
                div.notice role="alert" id="form-errors" {
                    p.error { (e) }
                    @if let Error::Invalid { problems, .. } = &e {
                        ul { @for p in problems { li { strong { (test_field_label(&p.field)) } ": " (p.message) } } }
                    }
                }
            },
        )),
        Err(e) => Err(e.into()),
    }
}

/// The test form's words for the API's field names.
fn test_field_label(field: &str) -> &str {
    match field {
        "to" => "Send to",
        "contactId" => "Contact",
        "surveyId" => "Survey",
        "templateId" => "Template",
        other => other,
    }
}
