//! A test send's outcome, read back: `GET /api/v1/distributions/test/{id}`. Nothing is kept
//! apart from the queue: the job that sends it records its state (`done`, `failed`) and the
//! mail server's or gateway's words (`last_error`) where it finishes, and that is what is read.

use crate::distribution_sending::TEST_SEND_JOB;
use crate::distribution_workers::TestSend;
use crate::sms_sending::{Reply, SMS_REPLY_JOB};
use crate::{Actor, Error, Result, Role, Sonde};
use serde::Serialize;

/// A test send as it stands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestSendStatus {
    /// The `jobId` the test send was answered with.
    pub id: String,
    /// `email` or `sms`.
    pub channel: String,
    /// The address or phone number it goes to.
    pub to: String,
    /// `queued` (waiting for its turn, for the mail server or gateway, or to be tried again
    /// after a temporary refusal), `sent` (the mail server or gateway took it) or `failed`
    /// (refused for good, or still refused after every try).
    pub status: String,
    /// The mail server's or gateway's words: why it failed (`550 5.1.1 mailbox unavailable`,
    /// `21211 Invalid 'To' Phone Number`), or, still queued, why the last try did not go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Tries so far.
    pub attempts: i64,
    /// RFC 3339 UTC.
    pub queued_at: String,
    /// When it was sent or failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Why it is not leaving, when it is not (no SMTP server or SMS gateway configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

impl Sonde {
    /// A test send of the actor's organization (editors and admins, who make them); another
    /// organization's, or a job that is no test send, is not found.
    pub async fn test_send(&self, actor: &Actor, id: &str) -> Result<TestSendStatus> {
        actor.require(Role::Editor)?;
        let not_found = Error::NotFound("test send");
        let job = match self.store.job(id).await? {
            Some(job) if job.org_id == actor.org_id => job,
            _ => return Err(not_found),
        };
        let (channel, to) = match job.kind.as_str() {
            TEST_SEND_JOB => match serde_json::from_str::<TestSend>(&job.payload) {
                Ok(asked) => ("email", asked.to),
                Err(_) => return Err(not_found),
            },
            // A text with no conversation is a test send; a two-way conversation's next
            // message is not one.
            SMS_REPLY_JOB => match serde_json::from_str::<Reply>(&job.payload) {
                Ok(reply) if reply.conversation_id.is_none() => ("sms", reply.to),
                _ => return Err(not_found),
            },
            _ => return Err(not_found),
        };
        let status = match job.status.as_str() {
            "done" => "sent",
            "failed" => "failed",
            // Claimed by a worker, it is still on its way.
            _ => "queued",
        };
        let notice = (status == "queued")
            .then(|| match channel {
                "sms" if self.sms().is_none() => Some(
                    "no SMS gateway is configured (SONDE_TWILIO_ACCOUNT_SID): the test message waits until one is",
                ),
                "email" if self.mailer().is_none() => Some(
                    "no SMTP server is configured (SONDE_SMTP_URL): the test message waits until one is",
                ),
                _ => None,
            })
            .flatten()
            .map(str::to_string);
        let rfc = crate::responses::rfc3339;
        Ok(TestSendStatus {
            id: job.id,
            channel: channel.into(),
            to,
            status: status.into(),
            error: job.last_error.filter(|_| status != "sent"),
            attempts: job.attempts,
            queued_at: rfc(job.created_at),
            finished_at: (status != "queued").then(|| rfc(job.updated_at)),
            notice,
        })
    }
}
