//! A template rendered for one recipient: their language's message with piped text filled from
//! their contact record, the distribution's embedded data and their personal links.
//!
//! Piped text reads the contact's fields (`${m://FirstName}`, `${m://Field/Tier}`, and through
//! `${e://Field/…}` as well), embedded data, `${e://Field/SurveyName}`, the personal survey link
//! (`${l://SurveyURL}` bare, `${l://SurveyLink}` as a link in HTML and the URL in text) and the
//! opt-out link (`${l://OptOutURL}`, `${l://OptOutLink}`).
//!
//! In an email, values are HTML-escaped as they are piped in and the result is then sanitized:
//! piping first lets `<a href="${l://SurveyURL}">` keep its address (the sanitizer only keeps
//! web addresses), and escaping first means no value can add markup. The plain-text part is
//! derived from that HTML, so the two parts never say different things.

use std::collections::BTreeMap;

use serde::Serialize;
use survey::piped::{self, PipeContext};
use survey::{ResponseData, SurveyDefinition};

use super::{EmailTemplate, SmsTemplate};
use crate::segments::{self, SmsSize};

/// What a message is rendered with for one recipient.
#[derive(Debug, Clone, Copy)]
pub struct MessageContext<'a> {
    /// The survey invited to; `${q://…}` placeholders read its questions (and render empty in
    /// an invitation, which is sent before any answer).
    pub survey: &'a SurveyDefinition,
    /// The survey's name as the organization shows it, for `${e://Field/SurveyName}`.
    pub survey_name: &'a str,
    /// The contact's fields as piped text names them (`FirstName`, `LastName`, `Email`,
    /// `PhoneNumber`, `Language`, `ExternalDataReference`) and their embedded data. `Language`
    /// also picks the message.
    pub contact: &'a BTreeMap<String, String>,
    /// Embedded data the distribution adds; wins over a contact field of the same name.
    pub embedded_data: &'a BTreeMap<String, String>,
    /// This recipient's personal survey link.
    pub survey_url: &'a str,
    /// This recipient's opt-out link.
    pub opt_out_url: &'a str,
    /// The Salesforce record whose notification sent this invitation (`${sf://…}`); empty
    /// for other sends.
    pub record: &'a BTreeMap<String, String>,
}

/// An email ready for [`crate::mime`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenderedEmail {
    /// The language of the message chosen (a variant's code or the default language).
    pub language: String,
    /// One line: whitespace in piped values (a newline) is collapsed.
    pub subject: String,
    /// The body as an HTML fragment, sanitized.
    pub html: String,
    /// The same body as plain text, links as `text (url)`.
    pub text: String,
}

/// A text message ready to send, with what it costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenderedSms {
    pub language: String,
    pub body: String,
    pub size: SmsSize,
}

impl MessageContext<'_> {
    fn language(&self) -> Option<&str> {
        self.contact.get("Language").map(String::as_str)
    }

    /// Piped text's view of this recipient, handed to `f`.
    fn pipe<R>(&self, f: impl FnOnce(&PipeContext) -> R) -> R {
        let mut data = ResponseData {
            embedded_data: self.embedded_data.clone(),
            ..ResponseData::default()
        };
        data.embedded_data
            .entry("SurveyName".into())
            .or_insert_with(|| self.survey_name.to_string());
        let links = BTreeMap::from([
            ("SurveyURL".to_string(), self.survey_url.to_string()),
            ("OptOutURL".to_string(), self.opt_out_url.to_string()),
        ]);
        let ctx = PipeContext {
            contact: self.contact,
            links: &links,
            record: self.record,
            ..PipeContext::new(self.survey, &data)
        };
        f(&ctx)
    }
}

impl EmailTemplate {
    /// The recipient's email: their language's subject and body, piped, escaped, sanitized,
    /// with the plain-text alternative.
    pub fn render(&self, ctx: &MessageContext) -> RenderedEmail {
        let message = self.pick(ctx.language());
        ctx.pipe(|pipe| {
            let subject = piped::render(message.subject, pipe);
            let html = survey::html::sanitize(&piped::render_html(message.body, pipe));
            RenderedEmail {
                language: message.language.to_string(),
                subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
                text: survey::html::to_text(&html),
                html,
            }
        })
    }
}

impl SmsTemplate {
    /// The recipient's text message, piped (links are bare URLs), with its segment count.
    pub fn render(&self, ctx: &MessageContext) -> RenderedSms {
        let message = self.pick(ctx.language());
        let body = ctx.pipe(|pipe| piped::render(message.body, pipe));
        RenderedSms {
            language: message.language.to_string(),
            size: segments::measure(&body),
            body,
        }
    }
}
