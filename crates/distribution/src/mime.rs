//! The invitation as an email on the wire: `multipart/alternative` with the text part first and
//! the HTML part last (readers show the last part they can), headers in UTF-8 encoded as RFC 2047
//! says, a Message-ID of our own, and the one-click unsubscribe of RFC 8058:
//! `List-Unsubscribe: <https://…/optout/…>` with `List-Unsubscribe-Post:
//! List-Unsubscribe=One-Click`, which large mailbox providers ask of bulk senders. The opt-out
//! URL must therefore accept a POST with that body and no other proof than its signed token;
//! RFC 8058 also requires it to be HTTPS for the button to be offered (a local demo on HTTP
//! still gets the header, mail programs just do not show the button).
//!
//! Building a message is pure; sending it (SMTP) is the engine's.

use chrono::{DateTime, Utc};
use directory::EmailAddress;
use lettre::message::header::{self, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Message;
use rand::distributions::{Alphanumeric, DistString};

use crate::template::RenderedEmail;

/// A Message-ID, `<local@domain>`. Made once per recipient and recorded before the send, so a
/// retried send carries the same id and a receiving system can tell it is the same message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageId(String);

impl MessageId {
    /// A new id: 32 random letters and digits at the sender's domain (`localhost` when the
    /// domain is not ASCII: a Message-ID must be).
    pub fn random(from: &EmailAddress) -> Self {
        let local = Alphanumeric.sample_string(&mut rand::thread_rng(), 32);
        let domain = from.as_str().rsplit_once('@').map_or("", |(_, d)| d);
        let domain = if !domain.is_empty() && domain.is_ascii() {
            domain
        } else {
            "localhost"
        };
        MessageId(format!("<{local}@{domain}>"))
    }

    /// An id recorded earlier (as [`MessageId::as_str`] gave it).
    pub fn from_recorded(id: &str) -> Result<Self, MimeError> {
        let inner = id.strip_prefix('<').and_then(|s| s.strip_suffix('>'));
        match inner.and_then(|s| s.split_once('@')) {
            Some((local, domain))
                if !local.is_empty()
                    && !domain.is_empty()
                    && id.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                Ok(MessageId(id.to_string()))
            }
            _ => Err(MimeError::new(
                "messageId",
                format!("{id:?} is not a Message-ID (<local@domain>)"),
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Everything an invitation email is made of.
#[derive(Debug, Clone, Copy)]
pub struct Invitation<'a> {
    /// The instance's sending address (`SONDE_MAIL_FROM`).
    pub from: &'a EmailAddress,
    /// The template's sender name; none when empty.
    pub from_name: &'a str,
    pub reply_to: Option<&'a EmailAddress>,
    pub to: &'a EmailAddress,
    /// The contact's name, shown beside their address; none when empty.
    pub to_name: &'a str,
    pub email: &'a RenderedEmail,
    pub opt_out_url: &'a str,
    pub message_id: &'a MessageId,
    pub date: DateTime<Utc>,
}

/// Why an invitation could not be built: which part (`from`, `to`, `replyTo`, `optOutUrl`,
/// `messageId`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MimeError {
    pub field: &'static str,
    pub message: String,
}

impl MimeError {
    fn new(field: &'static str, message: String) -> Self {
        MimeError { field, message }
    }
}

impl std::fmt::Display for MimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for MimeError {}

fn mailbox(field: &'static str, name: &str, address: &EmailAddress) -> Result<Mailbox, MimeError> {
    let parsed = address.as_str().parse().map_err(|e| {
        MimeError::new(
            field,
            format!("{address} cannot be written in a mail header: {e}"),
        )
    })?;
    let name = single_spaced(name);
    Ok(Mailbox::new((!name.is_empty()).then_some(name), parsed))
}

/// A header's words with one space between them. Runs of spaces would not survive: lettre
/// writes a word of spaces between two RFC 2047 encoded words as plain folding white space,
/// and readers drop white space between encoded words, so `"Ça  va"` would arrive as `"Çava"`.
fn single_spaced(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The HTML part: the rendered fragment in a document that says its language and encoding.
fn html_document(email: &RenderedEmail) -> String {
    let lang = survey::html::escape(&email.language.to_ascii_lowercase());
    format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"></head><body>{}</body></html>\n",
        email.html
    )
}

/// Builds the invitation; `Message::formatted` gives its bytes.
pub fn build(invitation: &Invitation) -> Result<Message, MimeError> {
    let url = invitation.opt_out_url;
    let lower = url.to_ascii_lowercase();
    let web = lower.starts_with("https://") || lower.starts_with("http://");
    if !web
        || url
            .bytes()
            .any(|b| !b.is_ascii_graphic() || b == b'<' || b == b'>')
    {
        return Err(MimeError::new(
            "optOutUrl",
            format!("{url:?} is not a web address that can stand in List-Unsubscribe"),
        ));
    }
    let mut builder = Message::builder()
        .from(mailbox("from", invitation.from_name, invitation.from)?)
        .to(mailbox("to", invitation.to_name, invitation.to)?)
        .subject(single_spaced(&invitation.email.subject))
        .date(invitation.date.into())
        .message_id(Some(invitation.message_id.as_str().to_string()))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<{url}>"),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".into(),
        ));
    if let Some(reply_to) = invitation.reply_to {
        builder = builder.reply_to(mailbox("replyTo", "", reply_to)?);
    }
    let text = SinglePart::builder()
        .header(header::ContentType::TEXT_PLAIN)
        .body(invitation.email.text.clone());
    let html = SinglePart::builder()
        .header(header::ContentType::TEXT_HTML)
        .body(html_document(invitation.email));
    builder
        .multipart(MultiPart::alternative().singlepart(text).singlepart(html))
        .map_err(|e| MimeError::new("message", e.to_string()))
}

#[cfg(test)]
mod tests;
