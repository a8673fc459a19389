//! Reusable invitation templates: an email (subject, sender name, reply-to, HTML body) or a text
//! message (body), each written once per language. A contact gets the message in their language,
//! else in its primary language (`PT-BR` reads `PT`), else the template's default.
//!
//! Templates are saved apart from any survey, so [`EmailTemplate::validate`] checks what can be
//! known then: the survey link is there where the recipient sees it, piped text is well formed,
//! languages are real. Rendering for one recipient is in [`render`].

pub mod render;

use std::collections::BTreeMap;

use directory::{EmailAddress, FieldError, Language};
use serde::{Deserialize, Serialize};
use survey::piped::{self, PipeContext};
use survey::{ResponseData, SurveyDefinition, SurveyOptions};

pub use render::{MessageContext, RenderedEmail, RenderedSms};

/// Longest name, subject and sender name, in characters: beyond this they are not read but cut.
const MAX_LINE: usize = 500;
/// Largest email body, in bytes: far above any invitation, low enough to render quickly for
/// every recipient of a large list.
const MAX_EMAIL_BODY: usize = 256 * 1024;
/// Twilio's Messages API refuses bodies over 1,600 characters (ten segments and more).
const MAX_SMS_BODY: usize = 1_600;

/// An email invitation template. JSON fields are camelCase; `body` is authored HTML (simple
/// formatting kept, anything that runs dropped, see [`survey::html::sanitize`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmailTemplate {
    pub name: String,
    /// Piped text allowed (`${m://FirstName}, a minute for us?`).
    pub subject: String,
    /// The sender's display name; the address is the instance's (`SONDE_MAIL_FROM`).
    #[serde(default)]
    pub from_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// HTML with piped text; must hold `${l://SurveyLink}` or `${l://SurveyURL}`.
    pub body: String,
    /// The language `subject` and `body` are written in (`EN`).
    #[serde(default = "default_language")]
    pub default_language: String,
    /// The same message in other languages, by language code (`FR`, `PT-BR`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variants: BTreeMap<String, EmailVariant>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmailVariant {
    pub subject: String,
    pub body: String,
}

/// A text-message invitation template; `body` is plain text with piped text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SmsTemplate {
    pub name: String,
    pub body: String,
    #[serde(default = "default_language")]
    pub default_language: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variants: BTreeMap<String, SmsVariant>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SmsVariant {
    pub body: String,
}

fn default_language() -> String {
    "EN".into()
}

/// One language's email, as chosen by [`EmailTemplate::pick`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmailMessage<'t> {
    /// The variant's code as written in the template, or the default language.
    pub language: &'t str,
    pub subject: &'t str,
    pub body: &'t str,
}

/// One language's text message, as chosen by [`SmsTemplate::pick`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsMessage<'t> {
    pub language: &'t str,
    pub body: &'t str,
}

impl EmailTemplate {
    /// The message for a contact's language (as stored: any case, `_` or `-`): that language,
    /// else its primary subtag, else the default. An unreadable code gets the default.
    pub fn pick(&self, language: Option<&str>) -> EmailMessage<'_> {
        match pick_variant(&self.variants, &self.default_language, language) {
            Some((code, v)) => EmailMessage {
                language: code,
                subject: &v.subject,
                body: &v.body,
            },
            None => EmailMessage {
                language: &self.default_language,
                subject: &self.subject,
                body: &self.body,
            },
        }
    }

    /// Every problem, each naming its field as the API spells it (`subject`, `replyTo`,
    /// `variants.FR.body`).
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut problems = Vec::new();
        line(&mut problems, "name", &self.name, true);
        line(&mut problems, "fromName", &self.from_name, false);
        if let Some(reply_to) = &self.reply_to {
            if let Err(e) = EmailAddress::parse(reply_to) {
                problems.push(FieldError::new("replyTo", e.message));
            }
        }
        let mut message = |prefix: &str, subject: &str, body: &str| {
            let field = |leaf: &str| format!("{prefix}{leaf}");
            line(&mut problems, &field("subject"), subject, true);
            piped_syntax(&mut problems, &field("subject"), subject);
            email_body(&mut problems, &field("body"), body);
        };
        message("", &self.subject, &self.body);
        for (code, v) in &self.variants {
            message(&format!("variants.{code}."), &v.subject, &v.body);
        }
        languages(&mut problems, &self.default_language, self.variants.keys());
        done(problems)
    }
}

impl SmsTemplate {
    /// The message for a contact's language; see [`EmailTemplate::pick`].
    pub fn pick(&self, language: Option<&str>) -> SmsMessage<'_> {
        match pick_variant(&self.variants, &self.default_language, language) {
            Some((code, v)) => SmsMessage {
                language: code,
                body: &v.body,
            },
            None => SmsMessage {
                language: &self.default_language,
                body: &self.body,
            },
        }
    }

    /// Every problem, each naming its field (`body`, `variants.FR.body`).
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut problems = Vec::new();
        line(&mut problems, "name", &self.name, true);
        let mut message = |field: String, body: &str| {
            piped_syntax(&mut problems, &field, body);
            if body.chars().count() > MAX_SMS_BODY {
                problems.push(FieldError::new(
                    &field,
                    format!("is longer than {MAX_SMS_BODY} characters, the most one text message may hold"),
                ));
            }
            if !shows_survey_link(body, false) {
                problems.push(missing_link(field));
            }
        };
        message("body".into(), &self.body);
        for (code, v) in &self.variants {
            message(format!("variants.{code}.body"), &v.body);
        }
        languages(&mut problems, &self.default_language, self.variants.keys());
        done(problems)
    }
}

fn done(problems: Vec<FieldError>) -> Result<(), Vec<FieldError>> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The variant for `wanted`: exact code, then the primary subtag; `None` means the default.
fn pick_variant<'t, V>(
    variants: &'t BTreeMap<String, V>,
    default_language: &str,
    wanted: Option<&str>,
) -> Option<(&'t str, &'t V)> {
    let wanted = Language::parse(wanted?).ok()?;
    let same = |code: &str, other: &str| Language::parse(code).is_ok_and(|c| c.as_str() == other);
    if same(default_language, wanted.as_str()) {
        return None;
    }
    let find = |code: &str| {
        variants
            .iter()
            .find(|(key, _)| same(key, code))
            .map(|(k, v)| (k.as_str(), v))
    };
    find(wanted.as_str()).or_else(|| {
        let primary = wanted.as_str().split('-').next()?;
        if primary == wanted.as_str() || same(default_language, primary) {
            return None;
        }
        find(primary)
    })
}

/// A one-line field: required ones must not be blank, none may run past [`MAX_LINE`].
fn line(problems: &mut Vec<FieldError>, field: &str, value: &str, required: bool) {
    if required && value.trim().is_empty() {
        problems.push(FieldError::new(field, "is empty"));
    } else if value.chars().count() > MAX_LINE {
        problems.push(FieldError::new(
            field,
            format!("is longer than {MAX_LINE} characters"),
        ));
    }
}

fn piped_syntax(problems: &mut Vec<FieldError>, field: &str, text: &str) {
    for issue in piped::lint(text) {
        problems.push(FieldError::new(field, issue.to_string()));
    }
}

fn email_body(problems: &mut Vec<FieldError>, field: &str, body: &str) {
    piped_syntax(problems, field, body);
    if body.len() > MAX_EMAIL_BODY {
        problems.push(FieldError::new(
            field,
            format!("is larger than {} KiB", MAX_EMAIL_BODY / 1024),
        ));
    } else if !shows_survey_link(body, true) {
        problems.push(missing_link(field.to_string()));
    }
}

fn missing_link(field: String) -> FieldError {
    FieldError::new(
        field,
        "must contain the survey link, ${l://SurveyLink} or ${l://SurveyURL}, where the recipient sees it",
    )
}

/// A survey URL no real link has, to see where it lands.
const PROBE_URL: &str = "https://survey-link.sonde.invalid/probe";

/// Whether the survey link reaches the recipient: the text is rendered as it would be sent
/// (HTML sanitized) with a probe URL, so a link inside a comment, a script or a dropped
/// attribute does not count while one in `href="${l://SurveyURL}"` does.
fn shows_survey_link(text: &str, html: bool) -> bool {
    let definition = empty_survey();
    let data = ResponseData::default();
    let links = BTreeMap::from([("SurveyURL".to_string(), PROBE_URL.to_string())]);
    let ctx = PipeContext {
        links: &links,
        ..PipeContext::new(&definition, &data)
    };
    let rendered = if html {
        survey::html::sanitize(&piped::render_html(text, &ctx))
    } else {
        piped::render(text, &ctx)
    };
    rendered.contains(PROBE_URL)
}

/// Templates belong to no survey; question placeholders render empty when checked alone.
pub(crate) fn empty_survey() -> SurveyDefinition {
    SurveyDefinition {
        name: String::new(),
        language: default_language(),
        blocks: Vec::new(),
        questions: Vec::new(),
        flow: Vec::new(),
        end_message: String::new(),
        options: SurveyOptions::default(),
    }
}

/// The default language and every variant's code: real languages, each given once, none the
/// default again.
fn languages<'k>(
    problems: &mut Vec<FieldError>,
    default_language: &str,
    codes: impl Iterator<Item = &'k String>,
) {
    let default = known_language(problems, "defaultLanguage", default_language);
    let mut seen: Vec<Language> = Vec::new();
    for code in codes {
        let field = format!("variants.{code}");
        let Some(language) = known_language(problems, &field, code) else {
            continue;
        };
        if default.as_ref() == Some(&language) {
            problems.push(FieldError::new(
                field,
                format!("{language} is the default language: its message is the template's own"),
            ));
        } else if seen.contains(&language) {
            problems.push(FieldError::new(field, format!("{language} is given twice")));
        } else {
            seen.push(language);
        }
    }
}

fn known_language(problems: &mut Vec<FieldError>, field: &str, code: &str) -> Option<Language> {
    match Language::parse(code) {
        Err(e) => {
            problems.push(FieldError::new(field, e.message));
            None
        }
        Ok(l) if !l.is_known() => {
            problems.push(FieldError::new(
                field,
                format!("{l} is not a language ISO 639 knows"),
            ));
            None
        }
        Ok(l) => Some(l),
    }
}

#[cfg(test)]
mod tests;
