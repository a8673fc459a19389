//! The distribution workers as a server runs them, and test sends. `sonde serve` runs the
//! loop when a mail server or an SMS gateway is configured; messages of a channel without its
//! transport wait (and the distribution says so).
//! Tests call [`Sonde::drain_distributions`] to work everything due, deterministically.

use crate::distribution_audience::{backoff_ms, LEASE_MS, MAX_ATTEMPTS};
use crate::distribution_sending::{
    render, sender, MessageParts, SendReport, SEND_BATCH, TEST_SEND_JOB,
};
use crate::mail::{MailRefusal, Mailer};
use crate::message_templates::TemplateDefinition;
use crate::{Actor, Error, FieldProblem, Result, Role, Sonde};
use directory::EmailAddress;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use store::queue::{Job, NewJob};
use store::Store;

/// Audience jobs claimed per pass (each writes one batch of recipients).
const AUDIENCE_JOBS_PER_PASS: i64 = 4;

/// The body of `POST /api/v1/distributions/test`: one message rendered with a chosen contact's
/// data, sent to any address (an email template) or phone number (an SMS template).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestSend {
    pub template_id: String,
    pub survey_id: String,
    /// Whose data the piped text is filled with.
    pub contact_id: String,
    /// Where the message goes.
    pub to: String,
}

/// A test send queued, with the message as it will be sent.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestSendQueued {
    /// The queue job that sends it.
    pub job_id: String,
    /// Where its outcome is read: `/api/v1/distributions/test/{jobId}`.
    pub status_url: String,
    pub to: String,
    /// Empty for a text message.
    pub subject: String,
    /// The text part, or the whole text message.
    pub text: String,
    /// Empty for a text message.
    pub html: String,
    /// Why it is not leaving, when it is not (no SMTP server or SMS gateway configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

/// Where a test send's outcome is read, in the API.
pub(crate) fn test_send_url(job_id: &str) -> String {
    format!("/api/v1/distributions/test/{job_id}")
}

/// A test send's survey link is the survey's preview (it records nothing); its unsubscribe
/// link unsubscribes no one.
pub(crate) fn test_links(sonde: &Sonde, survey_id: &str) -> (String, String) {
    (
        format!("{}/s/{survey_id}?_preview=1", sonde.public_url()),
        format!("{}/optout/test-send", sonde.public_url()),
    )
}

impl Sonde {
    /// Uses this mail transport from now on (None: messages wait).
    pub fn set_mailer(&self, mailer: Option<Mailer>) {
        *self.mail.write().unwrap_or_else(|p| p.into_inner()) = mailer;
    }

    pub fn mailer(&self) -> Option<Mailer> {
        self.mail.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Uses this Twilio account for text messages from now on (None: they wait).
    pub fn set_sms(&self, gateway: Option<crate::sms::SmsGateway>) {
        *self.sms.write().unwrap_or_else(|p| p.into_inner()) = gateway;
    }

    pub fn sms(&self) -> Option<crate::sms::SmsGateway> {
        self.sms.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Queues a test send (editors and admins) and answers the message as it will go.
    pub async fn queue_test_send(&self, actor: &Actor, asked: TestSend) -> Result<TestSendQueued> {
        actor.require(Role::Editor)?;
        if let Some(row) = self
            .store
            .template(&actor.org_id, &asked.template_id)
            .await?
        {
            if let TemplateDefinition::Sms(t) = serde_json::from_str(&row.definition)? {
                return self.queue_sms_test_send(actor, &asked, t).await;
            }
        }
        let parts = self.test_parts(&actor.org_id, &asked).await?;
        let from = match self.mailer() {
            Some(m) => sender(&m)?,
            None => EmailAddress::parse("sonde@localhost.invalid")
                .map_err(|e| Error::invalid(e.message))?,
        };
        let (email, _) = render(&parts, &from).map_err(|e| {
            Error::invalid_fields(
                "the message cannot be made",
                vec![FieldProblem {
                    field: "templateId".into(),
                    message: e,
                }],
            )
        })?;
        let job_id = store::queue::job_id();
        let mut tx = self.store.begin().await?;
        Store::enqueue_job(
            &mut tx,
            &NewJob {
                id: job_id.clone(),
                org_id: actor.org_id.clone(),
                kind: TEST_SEND_JOB.into(),
                payload: serde_json::to_string(&asked)?,
                dedupe_key: format!("test:{job_id}"),
                run_after: store::now_ms(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(TestSendQueued {
            status_url: test_send_url(&job_id),
            job_id,
            to: parts.to.as_str().to_string(),
            subject: email.subject,
            text: email.text,
            html: email.html,
            notice: self.mailer().is_none().then(|| {
                "no SMTP server is configured (SONDE_SMTP_URL): the test message waits until one is"
                    .to_string()
            }),
        })
    }

    /// What a test send is made of, each unknown id named.
    async fn test_parts(&self, org_id: &str, asked: &TestSend) -> Result<MessageParts> {
        let mut problems = Vec::new();
        let named = |field: &str, message: &str| FieldProblem {
            field: field.into(),
            message: message.into(),
        };
        let template = match self.store.template(org_id, &asked.template_id).await? {
            Some(row) => match serde_json::from_str(&row.definition)? {
                TemplateDefinition::Email(t) => Some(t),
                TemplateDefinition::Sms(_) => {
                    problems.push(named(
                        "templateId",
                        "is an sms template now: this email test send cannot be made",
                    ));
                    None
                }
            },
            None => {
                problems.push(named(
                    "templateId",
                    "no template of your organization has this id",
                ));
                None
            }
        };
        let survey = match self.store.survey(org_id, &asked.survey_id).await? {
            Some(row) => Some(self.survey_from_row(row).await?),
            None => {
                problems.push(named(
                    "surveyId",
                    "no survey of your organization has this id",
                ));
                None
            }
        };
        let contact = self.store.contact(org_id, &asked.contact_id).await?;
        if contact.is_none() {
            problems.push(named(
                "contactId",
                "no contact of your organization has this id",
            ));
        }
        let to = EmailAddress::parse(&asked.to)
            .map_err(|e| problems.push(named("to", &e.message)))
            .ok();
        let (Some(template), Some(survey), Some(contact), Some(to), true) =
            (template, survey, contact, to, problems.is_empty())
        else {
            return Err(Error::invalid_fields(
                "the test send has invalid fields",
                problems,
            ));
        };
        let (survey_url, opt_out_url) = test_links(self, &survey.id);
        Ok(MessageParts {
            template: Arc::new(template),
            survey: Arc::new(survey),
            to_name: format!("{} {}", contact.first_name, contact.last_name),
            contact: crate::responses::piped_contact_fields(contact),
            to,
            survey_url,
            opt_out_url,
            message_id: format!("<test.{}@sonde.invalid>", store::ids::random_token(20)),
            embedded_data: Default::default(),
            record: Default::default(),
        })
    }

    /// Sends due test messages; answers how many jobs were worked.
    pub async fn try_send_tests(&self, owner: &str) -> Result<usize> {
        let Some(mailer) = self.mailer() else {
            return Ok(0);
        };
        let jobs = self
            .store
            .claim_jobs(TEST_SEND_JOB, owner, 20, LEASE_MS)
            .await?;
        let from = sender(&mailer)?;
        for job in &jobs {
            let outcome = self.send_test(job, &mailer, &from).await;
            self.settle_mail_job(job, owner, outcome).await?;
        }
        Ok(jobs.len())
    }

    /// A queued mail's job after the send: done, tried again later while the refusal is
    /// temporary and attempts remain, failed otherwise.
    pub(crate) async fn settle_mail_job(
        &self,
        job: &Job,
        owner: &str,
        outcome: std::result::Result<(), MailRefusal>,
    ) -> Result<()> {
        match outcome {
            Ok(()) => self.store.complete_job(&job.id, owner).await?,
            Err(MailRefusal::Temporary(e)) if job.attempts < MAX_ATTEMPTS => {
                let later = store::now_ms() + backoff_ms(job.attempts);
                self.store
                    .retry_job(&job.id, owner, later, &e, true)
                    .await?
            }
            Err(MailRefusal::Temporary(e) | MailRefusal::Permanent(e)) => {
                self.store.fail_job(&job.id, owner, &e).await?
            }
        };
        Ok(())
    }

    async fn send_test(
        &self,
        job: &Job,
        mailer: &Mailer,
        from: &EmailAddress,
    ) -> std::result::Result<(), MailRefusal> {
        let asked: TestSend = serde_json::from_str(&job.payload)
            .map_err(|e| MailRefusal::Permanent(e.to_string()))?;
        let parts = self
            .test_parts(&job.org_id, &asked)
            .await
            .map_err(|e| match e {
                e if e.is_transient() => MailRefusal::Temporary(e.to_string()),
                e => MailRefusal::Permanent(e.to_string()),
            })?;
        let (_, message) = render(&parts, from).map_err(MailRefusal::Permanent)?;
        mailer.send(message).await.map(|_| ())
    }

    /// One pass of every distribution worker; answers whether any work was found.
    pub async fn try_distribute(&self, owner: &str) -> Result<SendReport> {
        let mut report = SendReport::default();
        let written = self
            .try_write_audiences(owner, AUDIENCE_JOBS_PER_PASS)
            .await?;
        let sent = self.try_send_messages(owner).await?;
        let texted = self.try_send_sms(owner).await?;
        let replies = self.try_send_sms_replies(owner).await?;
        let tests = self.try_send_tests(owner).await?;
        let notices = self.try_send_discover_notices(owner).await?;
        report.add(&sent);
        report.add(&texted);
        report.claimed += written + tests + replies + notices;
        Ok(report)
    }

    /// Works until nothing is due (follow-ups and retries put off to later stay queued).
    pub async fn drain_distributions(&self) -> Result<SendReport> {
        let owner = format!("drain-{}", store::ids::random_token(8));
        let mut total = SendReport::default();
        loop {
            let pass = self.try_distribute(&owner).await?;
            if pass.claimed == 0 {
                return Ok(total);
            }
            total.add(&pass);
        }
    }

    /// The server's distribution workers: one lane writes audiences (recipients and their
    /// send jobs) and [`SEND_LANES`] lanes send, so recipients are written while earlier ones
    /// are being sent, and one lane's database work overlaps another's wait on the mail
    /// server. Each lane claims while there is work and naps when there is none. Aborting
    /// the handle stops every lane.
    pub fn spawn_distribution_worker(&self) -> tokio::task::JoinHandle<()> {
        let sonde = self.clone();
        tokio::spawn(async move {
            let node = store::ids::random_token(8);
            let mut lanes = tokio::task::JoinSet::new();
            let audience = sonde.clone();
            let owner = format!("audience-{node}");
            lanes.spawn(async move {
                lane(|| async {
                    audience
                        .try_write_audiences(&owner, AUDIENCE_JOBS_PER_PASS)
                        .await
                })
                .await
            });
            for i in 0..SEND_LANES {
                let sender = sonde.clone();
                let owner = format!("mailer-{node}-{i}");
                lanes.spawn(async move {
                    lane(|| async {
                        let sent = sender.try_send_messages(&owner).await?;
                        let texted = sender.try_send_sms(&owner).await?;
                        let replies = sender.try_send_sms_replies(&owner).await?;
                        let tests = sender.try_send_tests(&owner).await?;
                        let notices = sender.try_send_discover_notices(&owner).await?;
                        Ok(sent.claimed + texted.claimed + replies + tests + notices)
                    })
                    .await
                });
            }
            // Lanes never end; dropping the set (when this task is aborted) aborts them.
            while lanes.join_next().await.is_some() {}
        })
    }
}

/// Sending lanes per node. Each holds at most one claimed batch, so a crash sends at most
/// [`IN_FLIGHT_BOUND`] messages twice.
pub const SEND_LANES: i64 = 2;
/// The most messages one node can send twice after a crash: those its lanes had claimed,
/// whose server had taken them and whose outcome was not recorded yet.
pub const IN_FLIGHT_BOUND: i64 = SEND_LANES * SEND_BATCH;

/// One worker lane: works while a pass finds something, naps a quarter second when not.
async fn lane<F, Fut>(mut pass: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<usize>>,
{
    loop {
        match pass().await {
            Ok(worked) if worked > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "distribution worker pass failed"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}
