//! Sending text messages from the durable queue: SMS-link invitations, reminders and
//! thank-yous (a batch of recipients per job, like email: `send_batches`), and the replies of
//! two-way conversations.
//!
//! A worker claims a send job, renders each of its messages (the contact's language, piped
//! text, the personal link; for a two-way invitation the template's text then the first
//! question), marks the recipients `sending` and opens each two-way conversation (committed
//! before anything leaves), sends through the Messages API a few at a time, then records every
//! outcome and finishes the job in one transaction: the message sid as `provider_id` and
//! `sent`; Twilio's refusal (a 4xx) `failed` with its code and words; a 429, 5xx or lost
//! connection tried again later, as email is. The API is not idempotent: a crash between
//! Twilio taking a message and the outcome being recorded sends it again when the lease runs
//! out, so at most one claimed batch ([`SMS_BATCH`]) per lane can go twice.

use crate::distribution_audience::{backoff_ms, LEASE_MS};
use crate::distribution_sending::{SendReport, MAX_SEND_ATTEMPTS};
use crate::distribution_workers::{TestSend, TestSendQueued};
use crate::distributions::channel_named;
use crate::message_templates::TemplateDefinition;
use crate::send_batches::{claim_send_job, finish_send_job};
use crate::sms::{SmsGateway, SmsRefusal, STATUS_PATH};
use crate::surveys::Survey;
use crate::{FieldProblem, Result, Sonde};
use distribution::template::{MessageContext, SmsTemplate};
use distribution::two_way::{self, Turn};
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use store::directory::ContactRow;
use store::queue::{Job, NewJob};
use store::recipients::{RecipientOutcome, RecipientRow};
use store::sms::ConversationRow;
use store::{Any, Store, Transaction};
use survey::piped::PipeContext;
use survey::{flow, Provenance};

/// The queue kind of a batch of text messages, each to one recipient.
pub const SMS_SEND_JOB: &str = "distribution_send_sms";
/// The queue kind of one text that is not an invitation: a two-way conversation's next
/// message (a question, a hint, the end), or a test send.
pub const SMS_REPLY_JOB: &str = "sms_reply";
/// Recipients one send job holds: also the most messages one lane can send twice after a
/// crash.
pub const SMS_BATCH: i64 = 100;
/// Requests to the Messages API in flight at once per worker.
const CONCURRENCY: usize = 16;

/// A text as its job carries it: rendered already, so what was shown (a test send) or
/// decided (a conversation's next message) is what goes.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Reply {
    pub to: String,
    pub body: String,
    /// The conversation it continues; None for a test send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
}

/// Queues a text in the caller's transaction (for a conversation, the one recording the
/// answer that caused it); answers the job's id.
pub(crate) async fn queue_reply(
    tx: &mut Transaction<'_, Any>,
    org_id: &str,
    reply: &Reply,
) -> Result<String> {
    let id = store::queue::job_id();
    Store::enqueue_job(
        tx,
        &NewJob {
            id: id.clone(),
            org_id: org_id.into(),
            kind: SMS_REPLY_JOB.into(),
            payload: serde_json::to_string(reply)?,
            dedupe_key: format!("sms-reply:{id}"),
            run_after: store::now_ms(),
        },
    )
    .await?;
    Ok(id)
}

/// The embedded data a response to this survey starts with for this contact (and what a
/// triggered invitation's link carries, first).
pub(crate) fn starting_data(
    survey: &Survey,
    contact: &BTreeMap<String, String>,
    link_data: &BTreeMap<String, String>,
) -> survey::ResponseData {
    let pairs = |m: &BTreeMap<String, String>| -> Vec<(String, String)> {
        m.iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    flow::initial_embedded_data(
        &survey.definition,
        &[
            (Provenance::Salesforce, &pairs(link_data)),
            (Provenance::Contact, &pairs(contact)),
        ],
    )
}

/// How one claimed job ends.
enum Outcome {
    Sent(String),
    Refused { code: u32, message: String },
    Temporary(String),
    Failed(String),
    Unsubscribed,
    Nothing,
}

/// A claimed job, its message and the conversation it opens.
struct Item {
    recipient: Option<RecipientRow>,
    message: Option<(String, String)>,
    conversation: Option<ConversationRow>,
    outcome: Outcome,
}

/// Per batch: templates per (distribution, step) and surveys.
#[derive(Default)]
struct Caches {
    distributions: HashMap<String, Option<store::distributions::DistributionRow>>,
    templates: HashMap<(String, i64), Option<SmsTemplate>>,
    /// Shared, not copied per message: a survey's definition may be large.
    surveys: HashMap<String, Option<Arc<Survey>>>,
}

impl Sonde {
    /// Queues a test send of an SMS template: rendered now with the chosen contact's data and
    /// the survey's preview link (it records nothing), sent to any phone number.
    pub(crate) async fn queue_sms_test_send(
        &self,
        actor: &crate::Actor,
        asked: &TestSend,
        template: SmsTemplate,
    ) -> Result<TestSendQueued> {
        let named = |field: &str, message: &str| FieldProblem {
            field: field.into(),
            message: message.into(),
        };
        let mut problems = Vec::new();
        let survey = match self.store.survey(&actor.org_id, &asked.survey_id).await? {
            Some(row) => Some(self.survey_from_row(row).await?),
            None => {
                problems.push(named(
                    "surveyId",
                    "no survey of your organization has this id",
                ));
                None
            }
        };
        let contact = self.store.contact(&actor.org_id, &asked.contact_id).await?;
        if contact.is_none() {
            problems.push(named(
                "contactId",
                "no contact of your organization has this id",
            ));
        }
        let to = directory::PhoneNumber::parse(&asked.to, None)
            .map_err(|e| problems.push(named("to", &e.message)))
            .ok();
        let (Some(survey), Some(contact), Some(to), true) =
            (survey, contact, to, problems.is_empty())
        else {
            return Err(crate::Error::invalid_fields(
                "the test send has invalid fields",
                problems,
            ));
        };
        let (survey_url, opt_out_url) = crate::distribution_workers::test_links(self, &survey.id);
        let fields = crate::responses::piped_contact_fields(contact);
        let none = BTreeMap::new();
        let rendered = template.render(&MessageContext {
            survey: &survey.definition,
            survey_name: &survey.name,
            contact: &fields,
            embedded_data: &none,
            survey_url: &survey_url,
            opt_out_url: &opt_out_url,
            record: &survey::piped::NO_RECORD,
        });
        let mut tx = self.store.begin().await?;
        let job_id = queue_reply(
            &mut tx,
            &actor.org_id,
            &Reply {
                to: to.as_str().to_string(),
                body: rendered.body.clone(),
                conversation_id: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(TestSendQueued {
            status_url: crate::distribution_workers::test_send_url(&job_id),
            job_id,
            to: to.as_str().to_string(),
            subject: String::new(),
            text: rendered.body,
            html: String::new(),
            notice: self.sms().is_none().then(|| {
                "no SMS gateway is configured (SONDE_TWILIO_ACCOUNT_SID): the test message waits until one is"
                    .to_string()
            }),
        })
    }

    /// One pass: claims a due text-message job and works its recipients to an outcome;
    /// `claimed` counts them. Nothing is claimed without an SMS gateway.
    pub async fn try_send_sms(&self, owner: &str) -> Result<SendReport> {
        let Some(gateway) = self.sms() else {
            return Ok(SendReport::default());
        };
        let Some((job, ids)) = claim_send_job(&self.store, SMS_SEND_JOB, owner).await? else {
            return Ok(SendReport::default());
        };
        let mut report = SendReport {
            claimed: ids.len(),
            ..Default::default()
        };
        let mut items = self.prepare_sms(&ids).await?;
        let callback = format!("{}{STATUS_PATH}", self.public_url());
        let outbox: Vec<(usize, (String, String))> = items
            .iter_mut()
            .enumerate()
            .filter_map(|(i, item)| item.message.take().map(|m| (i, m)))
            .collect();
        let sent: Vec<(usize, Outcome)> = futures::stream::iter(outbox)
            .map(|(i, (to, body))| {
                let gateway = gateway.clone();
                let callback = callback.clone();
                async move {
                    let outcome = match gateway.send(&to, &body, Some(&callback)).await {
                        Ok(message) => Outcome::Sent(message.sid),
                        Err(SmsRefusal::Permanent { code, message }) => {
                            Outcome::Refused { code, message }
                        }
                        Err(SmsRefusal::Temporary(text)) => Outcome::Temporary(text),
                    };
                    (i, outcome)
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for (i, outcome) in sent {
            items[i].outcome = outcome;
        }
        self.record_sms(owner, &job, &items, &mut report).await?;
        Ok(report)
    }

    /// Reads the batch, renders each message, then marks the recipients `sending` and opens
    /// the two-way conversations in one transaction, committed before any message leaves.
    async fn prepare_sms(&self, ids: &[String]) -> Result<Vec<Item>> {
        // Read on a reader, so the writer is held only for the marking.
        let mut recipients = Vec::with_capacity(ids.len());
        let mut contacts: HashMap<String, (ContactRow, bool)> = HashMap::new();
        for (r, member) in self.store.recipients_to_send(ids).await? {
            if let Some(m) = member {
                contacts.insert(m.contact.id.clone(), (m.contact, m.sms_unsubscribed));
            }
            recipients.push(r);
        }
        let mut by_id: HashMap<String, RecipientRow> =
            recipients.into_iter().map(|r| (r.id.clone(), r)).collect();
        let mut caches = Caches::default();
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            let mut item = Item {
                recipient: by_id.remove(id),
                message: None,
                conversation: None,
                outcome: Outcome::Nothing,
            };
            if let Some(r) = item.recipient.clone() {
                if matches!(r.state.as_str(), "queued" | "sending") {
                    self.sms_for(&r, contacts.get(&r.contact_id), &mut caches, &mut item)
                        .await?;
                }
            }
            items.push(item);
        }
        let mut tx = self.store.begin().await?;
        Store::mark_recipients_sending(&mut tx, ids).await?;
        for c in items.iter().filter_map(|i| i.conversation.as_ref()) {
            Store::insert_conversation(&mut tx, c).await?;
        }
        tx.commit().await?;
        Ok(items)
    }

    /// Fills in the message for one recipient (and its conversation), or the outcome that
    /// stands for it when there is none to send.
    async fn sms_for(
        &self,
        r: &RecipientRow,
        contact: Option<&(ContactRow, bool)>,
        caches: &mut Caches,
        item: &mut Item,
    ) -> Result<()> {
        let Some((contact, sms_unsubscribed)) = contact else {
            item.outcome = Outcome::Failed("the contact was deleted".into());
            return Ok(());
        };
        if contact.unsubscribed || *sms_unsubscribed {
            item.outcome = Outcome::Unsubscribed;
            return Ok(());
        }
        if !caches.distributions.contains_key(&r.distribution_id) {
            let d = self
                .store
                .distribution(&r.org_id, &r.distribution_id)
                .await?;
            caches.distributions.insert(r.distribution_id.clone(), d);
        }
        let Some(d) = caches.distributions[&r.distribution_id].clone() else {
            return Ok(());
        };
        let key = (d.id.clone(), r.step);
        if !caches.templates.contains_key(&key) {
            let template = self.sms_template(&d, r.step).await?;
            caches.templates.insert(key.clone(), template);
        }
        let Some(template) = caches.templates[&key].clone() else {
            item.outcome = Outcome::Failed("its template is not an SMS template".into());
            return Ok(());
        };
        if !caches.surveys.contains_key(&d.survey_id) {
            let survey = match self.store.survey(&d.org_id, &d.survey_id).await? {
                Some(row) => Some(Arc::new(self.survey_from_row(row).await?)),
                None => None,
            };
            caches.surveys.insert(d.survey_id.clone(), survey);
        }
        let Some(survey) = caches.surveys[&d.survey_id].clone() else {
            return Ok(());
        };
        let Some(to) = r.address.clone() else {
            item.outcome = Outcome::Failed("the recipient has no phone number".into());
            return Ok(());
        };
        let token = r.link_token.clone().unwrap_or_default();
        let fields = crate::responses::piped_contact_fields(contact.clone());
        let survey_url = format!("{}/s/{}?l={token}", self.public_url(), d.survey_id);
        let opt_out_url = self.invitation_opt_out_link(&contact.org_id, &contact.id, &d.id)?;
        let triggered = crate::triggered_sends::TriggeredBy::of_row(&d).unwrap_or_default();
        let rendered = template.render(&MessageContext {
            survey: &survey.definition,
            survey_name: &survey.name,
            contact: &fields,
            embedded_data: &triggered.embedded_data,
            survey_url: &survey_url,
            opt_out_url: &opt_out_url,
            record: &triggered.record,
        });
        let mut body = rendered.body;
        if channel_named(&d.channel) == distribution::Channel::SmsTwoWay && r.step == 0 {
            let data = starting_data(&survey, &fields, &triggered.embedded_data);
            let links = BTreeMap::from([("SurveyURL".to_string(), survey_url.clone())]);
            let ctx = PipeContext {
                contact: &fields,
                links: &links,
                ..PipeContext::new(&survey.definition, &data)
            };
            let Turn::Ask { position, text, .. } = two_way::start(&ctx) else {
                item.outcome = Outcome::Failed("the survey has no question to ask by text".into());
                return Ok(());
            };
            body = format!("{}\n\n{text}", body.trim_end());
            let now = store::now_ms();
            item.conversation = Some(ConversationRow {
                id: r.id.clone(),
                org_id: r.org_id.clone(),
                distribution_id: d.id.clone(),
                contact_id: contact.id.clone(),
                survey_id: survey.id.clone(),
                survey_version: survey.version,
                phone: to.clone(),
                link_token: r.link_token.clone(),
                response_id: None,
                position: Some(serde_json::to_string(&position)?),
                state: "open".into(),
                turns: 0,
                expires_at: now + crate::sms_conversations::window_ms(&survey),
                created_at: now,
                updated_at: now,
            });
        }
        item.message = Some((to, body));
        Ok(())
    }

    /// The SMS template of a distribution's step (0: the invitation).
    async fn sms_template(
        &self,
        d: &store::distributions::DistributionRow,
        step: i64,
    ) -> Result<Option<SmsTemplate>> {
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
        let Some(id) = id else { return Ok(None) };
        Ok(match self.store.template(&d.org_id, &id).await? {
            Some(row) => match serde_json::from_str(&row.definition)? {
                TemplateDefinition::Sms(t) => Some(t),
                TemplateDefinition::Email(_) => None,
            },
            None => None,
        })
    }

    /// Records the batch's outcomes and finishes its jobs in one transaction, trying again on
    /// a transient store error (for up to half the lease) rather than sending again.
    async fn record_sms(
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
            match self.record_sms_once(owner, job, items, &mut pass).await {
                Ok(()) => {
                    report.add(&pass);
                    return Ok(());
                }
                Err(e) if e.is_transient() && std::time::Instant::now() < deadline => {
                    tracing::warn!(error = %e, "recording sent text messages failed; trying again");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn record_sms_once(
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
        let mut sent = Vec::new();
        for item in items {
            let Some(r) = item.recipient.as_ref() else {
                continue;
            };
            let text;
            let (state, reason, detail) = match &item.outcome {
                Outcome::Sent(sid) => {
                    report.sent += 1;
                    sent.push((r.id.as_str(), sid.as_str()));
                    continue;
                }
                Outcome::Refused { code, message } => {
                    report.failed += 1;
                    text = format!("{code} {message}");
                    ("failed", None, Some(text.as_str()))
                }
                Outcome::Temporary(t) if attempts(r) < MAX_SEND_ATTEMPTS => {
                    report.retried += 1;
                    ("queued", None, Some(t.as_str()))
                }
                Outcome::Temporary(t) => {
                    report.failed += 1;
                    text = format!("gave up after {} attempts: {t}", attempts(r));
                    ("failed", None, Some(text.as_str()))
                }
                Outcome::Failed(t) => {
                    report.failed += 1;
                    ("failed", None, Some(t.as_str()))
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
            if let (Outcome::Refused { code, .. }, Some(phone)) = (&item.outcome, &r.address) {
                if *code == twilio_wire::code::UNSUBSCRIBED_RECIPIENT {
                    // The phone said STOP to the number where Sonde did not hear it (its
                    // webhook was down, or elsewhere): Twilio's block is the phone's opt-out.
                    Store::change_sms_subscription(
                        &mut tx,
                        &r.org_id,
                        phone,
                        true,
                        "Twilio refused a text to it (21610): the phone had replied STOP",
                    )
                    .await?;
                }
            }
            if state != "sent" && state != "queued" {
                // No invitation, no conversation: a reply from the phone is not read as one.
                Store::close_conversation(&mut tx, &r.id).await?;
            }
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
        // Status callbacks that arrived before this record was committed.
        let sids: Vec<&str> = items
            .iter()
            .filter_map(|i| match &i.outcome {
                Outcome::Sent(sid) => Some(sid.as_str()),
                _ => None,
            })
            .collect();
        self.apply_early_statuses_of(&sids).await?;
        Ok(())
    }

    /// Sends due conversation messages; answers how many jobs were worked.
    pub async fn try_send_sms_replies(&self, owner: &str) -> Result<usize> {
        let Some(gateway) = self.sms() else {
            return Ok(0);
        };
        let jobs = self
            .store
            .claim_jobs(SMS_REPLY_JOB, owner, SMS_BATCH, LEASE_MS)
            .await?;
        let worked = jobs.len();
        let sent: Vec<(Job, std::result::Result<(), SmsRefusal>)> = futures::stream::iter(jobs)
            .map(|job| {
                let gateway = gateway.clone();
                async move {
                    let outcome = send_reply(&gateway, &job).await;
                    (job, outcome)
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for (job, outcome) in sent {
            match outcome {
                Ok(()) => self.store.complete_job(&job.id, owner).await?,
                Err(SmsRefusal::Temporary(e)) if job.attempts < MAX_SEND_ATTEMPTS => {
                    let later = store::now_ms() + backoff_ms(job.attempts);
                    self.store
                        .retry_job(&job.id, owner, later, &e, true)
                        .await?
                }
                Err(e) => {
                    tracing::warn!(job = %job.id, error = %e.text(), "a two-way SMS reply was refused");
                    self.store.fail_job(&job.id, owner, &e.text()).await?
                }
            };
        }
        Ok(worked)
    }
}

async fn send_reply(gateway: &SmsGateway, job: &Job) -> std::result::Result<(), SmsRefusal> {
    let reply: Reply = serde_json::from_str(&job.payload).map_err(|e| SmsRefusal::Permanent {
        code: 0,
        message: format!("the queued reply is unreadable: {e}"),
    })?;
    gateway.send(&reply.to, &reply.body, None).await.map(|_| ())
}
