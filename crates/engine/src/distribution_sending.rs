//! Sending invitations, reminders and thank-yous from the durable queue. A worker claims a
//! send job (a batch of recipients, `send_batches`), marks its recipients `sending` and
//! commits (recorded before), renders each message (the contact's language, piped text, the
//! invitation MIME of `distribution::mime`), sends them through the pooled SMTP transport a
//! few at a time, then records every outcome and finishes the job in one transaction
//! (recorded after); those refused for now are queued again as a job of their own.
//!
//! SMTP cannot be made exactly-once: a crash after the server took a message and before the
//! outcome was recorded sends that message again when the lease runs out, with the same
//! Message-ID (made from the recipient's id). At most one claimed batch per sending lane
//! ([`SEND_BATCH`]; `distribution_workers::IN_FLIGHT_BOUND` per node) can be sent twice that
//! way; two workers never hold one job at once, so nodes sharing a PostgreSQL database never
//! send one recipient twice otherwise.

use crate::distribution_audience::LEASE_MS;
use crate::distributions::channel_named;
use crate::mail::{MailRefusal, Mailer};
use crate::message_templates::TemplateDefinition;
use crate::send_batches::{claim_send_job, finish_send_job};
use crate::surveys::Survey;
use crate::{Error, Result, Sonde};
use directory::EmailAddress;
use distribution::mime::{self, Invitation, MessageId};
use distribution::template::{EmailTemplate, MessageContext, RenderedEmail};
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use store::directory::ContactRow;
use store::queue::Job;
use store::recipients::{RecipientOutcome, RecipientRow};
use store::Store;

/// The queue kind of a batch of messages, each to one recipient.
pub const SEND_JOB: &str = "distribution_send";
/// The queue kind of a test send.
pub const TEST_SEND_JOB: &str = "distribution_test_send";
/// Recipients one send job holds: also the most messages one lane can send twice after a
/// crash (those the server had taken whose outcome was not recorded yet).
pub const SEND_BATCH: i64 = 250;
/// A temporary refusal (4xx, connection lost) is tried again this many times in all.
pub const MAX_SEND_ATTEMPTS: i64 = 8;

/// What a worker's pass sent.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SendReport {
    pub claimed: usize,
    pub sent: usize,
    pub bounced: usize,
    pub failed: usize,
    pub retried: usize,
    pub skipped: usize,
}

impl SendReport {
    pub(crate) fn add(&mut self, o: &SendReport) {
        self.claimed += o.claimed;
        self.sent += o.sent;
        self.bounced += o.bounced;
        self.failed += o.failed;
        self.retried += o.retried;
        self.skipped += o.skipped;
    }
}

/// Everything one message is rendered from.
pub(crate) struct MessageParts {
    pub template: Arc<EmailTemplate>,
    pub survey: Arc<Survey>,
    pub contact: BTreeMap<String, String>,
    pub to: EmailAddress,
    pub to_name: String,
    pub survey_url: String,
    pub opt_out_url: String,
    pub message_id: String,
    /// What a triggered distribution adds: its embedded data and the Salesforce record
    /// `${sf://…}` reads (both empty for other sends).
    pub embedded_data: BTreeMap<String, String>,
    pub record: BTreeMap<String, String>,
}

/// A rendered message and its wire form.
pub(crate) fn render(
    parts: &MessageParts,
    from: &EmailAddress,
) -> std::result::Result<(RenderedEmail, lettre::Message), String> {
    let email = parts.template.render(&MessageContext {
        survey: &parts.survey.definition,
        survey_name: &parts.survey.name,
        contact: &parts.contact,
        embedded_data: &parts.embedded_data,
        survey_url: &parts.survey_url,
        opt_out_url: &parts.opt_out_url,
        record: &parts.record,
    });
    let reply_to = match &parts.template.reply_to {
        Some(r) => Some(EmailAddress::parse(r).map_err(|e| format!("replyTo: {}", e.message))?),
        None => None,
    };
    let message_id = MessageId::from_recorded(&parts.message_id).map_err(|e| e.to_string())?;
    let message = mime::build(&Invitation {
        from,
        from_name: &parts.template.from_name,
        reply_to: reply_to.as_ref(),
        to: &parts.to,
        to_name: &parts.to_name,
        email: &email,
        opt_out_url: &parts.opt_out_url,
        message_id: &message_id,
        date: chrono::Utc::now(),
    })
    .map_err(|e| e.to_string())?;
    Ok((email, message))
}

/// The sender's address, from the mail settings.
pub(crate) fn sender(mailer: &Mailer) -> Result<EmailAddress> {
    EmailAddress::parse(&mailer.settings.from)
        .map_err(|e| Error::invalid(format!("SONDE_MAIL_FROM: {}", e.message)))
}

/// A Message-ID made from the recipient's id at the sender's domain: every attempt at one
/// message carries the same id.
fn message_id_for(recipient_id: &str, from: &EmailAddress) -> String {
    let domain = from
        .as_str()
        .rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| d.is_ascii() && !d.is_empty())
        .unwrap_or("localhost");
    format!("<{recipient_id}@{domain}>")
}

/// How one claimed job ends.
enum Outcome {
    /// Accepted by the server: its Message-ID.
    Sent(String),
    /// Refused for good (5xx): the server's text.
    Bounced(String),
    /// Refused for now (4xx, connection lost): the reason.
    Temporary(String),
    /// Could not be made (a broken template, a deleted contact).
    Failed(String),
    /// Not sent: the contact unsubscribed after the recipient was decided.
    Unsubscribed,
    /// Nothing to do (the recipient has its outcome already, or is gone).
    Nothing,
}

/// A recipient of the claimed job and what is to be done with it.
struct Item {
    recipient: Option<RecipientRow>,
    message: Option<lettre::Message>,
    outcome: Outcome,
}

/// What a worker reads once per batch: distributions, templates per step, surveys.
#[derive(Default)]
struct Caches {
    distributions: HashMap<String, Option<store::distributions::DistributionRow>>,
    templates: HashMap<(String, i64), Option<Arc<EmailTemplate>>>,
    /// Shared, not copied per message: a survey's definition may be large.
    surveys: HashMap<String, Option<Arc<Survey>>>,
}

impl Sonde {
    /// One pass: claims a due send job and works its recipients to an outcome; `claimed`
    /// counts them. Nothing is claimed without a mail server.
    pub async fn try_send_messages(&self, owner: &str) -> Result<SendReport> {
        let Some(mailer) = self.mailer() else {
            return Ok(SendReport::default());
        };
        let Some((job, ids)) = claim_send_job(&self.store, SEND_JOB, owner).await? else {
            return Ok(SendReport::default());
        };
        let mut report = SendReport {
            claimed: ids.len(),
            ..Default::default()
        };
        let from = sender(&mailer)?;
        let mut items = self.prepare(&ids, &from).await?;
        let concurrency = (mailer.settings.pool as usize * 2).max(4);
        let messages: Vec<(usize, lettre::Message)> = items
            .iter_mut()
            .enumerate()
            .filter_map(|(i, item)| item.message.take().map(|m| (i, m)))
            .collect();
        let sent: Vec<(usize, Outcome)> = futures::stream::iter(messages)
            .map(|(i, message)| {
                let mailer = mailer.clone();
                async move {
                    let id = message
                        .headers()
                        .get_raw("Message-ID")
                        .unwrap_or_default()
                        .to_string();
                    let outcome = match mailer.send(message).await {
                        Ok(_) => Outcome::Sent(id),
                        Err(MailRefusal::Permanent(text)) => Outcome::Bounced(text),
                        Err(MailRefusal::Temporary(text)) => Outcome::Temporary(text),
                    };
                    (i, outcome)
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        for (i, outcome) in sent {
            items[i].outcome = outcome;
        }
        self.record_with_retries(owner, &job, &items, &mut report)
            .await?;
        Ok(report)
    }

    /// Reads the batch's recipients and contacts, marks them `sending` (committed before any
    /// message leaves) and renders each message.
    async fn prepare(&self, ids: &[String], from: &EmailAddress) -> Result<Vec<Item>> {
        // Read on a reader, so the writer is held only for the marking.
        let mut recipients = Vec::with_capacity(ids.len());
        let mut contacts: HashMap<String, ContactRow> = HashMap::new();
        for (r, member) in self.store.recipients_to_send(ids).await? {
            if let Some(m) = member {
                contacts.insert(m.contact.id.clone(), m.contact);
            }
            recipients.push(r);
        }
        let mut tx = self.store.begin().await?;
        Store::mark_recipients_sending(&mut tx, ids).await?;
        tx.commit().await?;
        let mut by_id: HashMap<String, RecipientRow> =
            recipients.into_iter().map(|r| (r.id.clone(), r)).collect();
        let mut caches = Caches::default();
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            let mut item = Item {
                recipient: by_id.remove(id),
                message: None,
                outcome: Outcome::Nothing,
            };
            if let Some(r) = &item.recipient {
                if matches!(r.state.as_str(), "queued" | "sending") {
                    match self
                        .message_for(r, contacts.get(&r.contact_id), from, &mut caches)
                        .await?
                    {
                        Ok(message) => item.message = Some(message),
                        Err(outcome) => item.outcome = outcome,
                    }
                }
            }
            items.push(item);
        }
        Ok(items)
    }

    /// The message for one recipient, or the outcome that stands for it when there is none
    /// to send.
    async fn message_for(
        &self,
        r: &RecipientRow,
        contact: Option<&ContactRow>,
        from: &EmailAddress,
        caches: &mut Caches,
    ) -> Result<std::result::Result<lettre::Message, Outcome>> {
        let Some(contact) = contact else {
            return Ok(Err(Outcome::Failed("the contact was deleted".into())));
        };
        if contact.unsubscribed {
            return Ok(Err(Outcome::Unsubscribed));
        }
        let Some(d) = self.cached_distribution(r, caches).await? else {
            return Ok(Err(Outcome::Nothing));
        };
        if channel_named(&d.channel).is_sms() {
            // Text messages have their own queue kind (`sms_sending`); none should be here.
            return Ok(Err(Outcome::Failed(
                "an SMS recipient was queued as an email".into(),
            )));
        }
        let Some(template) = self.cached_template(&d, r.step, caches).await? else {
            return Ok(Err(Outcome::Failed(
                "its template is not an email template".into(),
            )));
        };
        let Some(survey) = self.cached_survey(&d, caches).await? else {
            return Ok(Err(Outcome::Nothing));
        };
        let to = match r.address.as_deref().map(EmailAddress::parse) {
            Some(Ok(to)) => to,
            _ => {
                return Ok(Err(Outcome::Failed(
                    "the recipient has no email address".into(),
                )))
            }
        };
        let token = r.link_token.clone().unwrap_or_default();
        let triggered = crate::triggered_sends::TriggeredBy::of_row(&d).unwrap_or_default();
        let parts = MessageParts {
            template,
            survey,
            to_name: format!("{} {}", contact.first_name, contact.last_name),
            contact: crate::responses::piped_contact_fields(contact.clone()),
            to,
            survey_url: format!("{}/s/{}?l={token}", self.public_url(), d.survey_id),
            opt_out_url: self.invitation_opt_out_link(&contact.org_id, &contact.id, &d.id)?,
            message_id: message_id_for(&r.id, from),
            embedded_data: triggered.embedded_data,
            record: triggered.record,
        };
        Ok(render(&parts, from)
            .map(|(_, m)| m)
            .map_err(Outcome::Failed))
    }

    async fn cached_distribution(
        &self,
        r: &RecipientRow,
        caches: &mut Caches,
    ) -> Result<Option<store::distributions::DistributionRow>> {
        if !caches.distributions.contains_key(&r.distribution_id) {
            let d = self
                .store
                .distribution(&r.org_id, &r.distribution_id)
                .await?;
            caches.distributions.insert(r.distribution_id.clone(), d);
        }
        Ok(caches.distributions[&r.distribution_id].clone())
    }

    async fn cached_template(
        &self,
        d: &store::distributions::DistributionRow,
        step: i64,
        caches: &mut Caches,
    ) -> Result<Option<Arc<EmailTemplate>>> {
        let key = (d.id.clone(), step);
        if !caches.templates.contains_key(&key) {
            let id = if step == 0 {
                Some(d.template_id.clone())
            } else {
                self.store
                    .follow_ups(&d.id)
                    .await?
                    .into_iter()
                    .find(|f| f.step == step)
                    .map(|f| f.template_id)
            };
            let template = match id {
                Some(id) => match self.store.template(&d.org_id, &id).await? {
                    Some(row) => match serde_json::from_str(&row.definition)? {
                        TemplateDefinition::Email(t) => Some(Arc::new(t)),
                        TemplateDefinition::Sms(_) => None,
                    },
                    None => None,
                },
                None => None,
            };
            caches.templates.insert(key.clone(), template);
        }
        Ok(caches.templates[&key].clone())
    }

    async fn cached_survey(
        &self,
        d: &store::distributions::DistributionRow,
        caches: &mut Caches,
    ) -> Result<Option<Arc<Survey>>> {
        if !caches.surveys.contains_key(&d.survey_id) {
            let survey = match self.store.survey(&d.org_id, &d.survey_id).await? {
                Some(row) => Some(Arc::new(self.survey_from_row(row).await?)),
                None => None,
            };
            caches.surveys.insert(d.survey_id.clone(), survey);
        }
        Ok(caches.surveys[&d.survey_id].clone())
    }

    /// Records the batch's outcomes and finishes its job in one transaction, trying again
    /// on a transient store error (for up to half the lease) rather than sending again.
    async fn record_with_retries(
        &self,
        owner: &str,
        job: &Job,
        items: &[Item],
        report: &mut SendReport,
    ) -> Result<()> {
        let deadline =
            std::time::Instant::now() + std::time::Duration::from_millis(LEASE_MS as u64 / 2);
        loop {
            let mut pass = SendReport::default();
            match self.record(owner, job, items, &mut pass).await {
                Ok(()) => {
                    report.add(&pass);
                    return Ok(());
                }
                Err(e) if e.is_transient() && std::time::Instant::now() < deadline => {
                    tracing::warn!(error = %e, "recording sent messages failed; trying again");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn record(
        &self,
        owner: &str,
        job: &Job,
        items: &[Item],
        report: &mut SendReport,
    ) -> Result<()> {
        let mut tx = self.store.begin().await?;
        // Marked `sending` once more by this pass: the attempts so far, this one included.
        let attempts = |r: &RecipientRow| r.attempts + 1;
        let retry: Vec<(String, i64)> = items
            .iter()
            .filter_map(|i| i.recipient.as_ref().map(|r| (i, r)))
            .filter(|(i, r)| {
                matches!(i.outcome, Outcome::Temporary(_)) && attempts(r) < MAX_SEND_ATTEMPTS
            })
            .map(|(_, r)| (r.id.clone(), attempts(r)))
            .collect();
        if !finish_send_job(&mut tx, job, owner, &retry).await? {
            // The lease was lost: the job and its recipients' outcomes are another worker's.
            tx.rollback().await?;
            return Ok(());
        }
        // Most messages were sent: those are recorded in a few statements, the others one
        // by one.
        let mut sent = Vec::new();
        for item in items {
            let Some(r) = item.recipient.as_ref() else {
                continue;
            };
            let gave_up;
            let (state, reason, detail) = match &item.outcome {
                Outcome::Sent(id) => {
                    report.sent += 1;
                    sent.push((r.id.as_str(), id.as_str()));
                    continue;
                }
                Outcome::Bounced(text) => {
                    report.bounced += 1;
                    ("bounced", None, Some(text.as_str()))
                }
                Outcome::Temporary(text) if attempts(r) < MAX_SEND_ATTEMPTS => {
                    report.retried += 1;
                    ("queued", None, Some(text.as_str()))
                }
                Outcome::Temporary(text) => {
                    report.failed += 1;
                    gave_up = format!("gave up after {} attempts: {text}", attempts(r));
                    ("failed", None, Some(gave_up.as_str()))
                }
                Outcome::Failed(text) => {
                    report.failed += 1;
                    ("failed", None, Some(text.as_str()))
                }
                Outcome::Unsubscribed => {
                    report.skipped += 1;
                    (
                        "skipped",
                        Some("unsubscribed"),
                        Some("the contact has unsubscribed"),
                    )
                }
                Outcome::Nothing => continue,
            };
            Store::record_recipient_outcome(
                &mut tx,
                &RecipientOutcome {
                    id: &r.id,
                    state,
                    reason,
                    detail,
                    provider_id: None,
                },
            )
            .await?;
        }
        Store::record_recipients_sent(&mut tx, &sent).await?;
        tx.commit().await?;
        Ok(())
    }
}
