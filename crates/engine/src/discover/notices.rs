//! Inbound jobs' emails: a notice when a run ends (queued in the transaction that records the
//! end, so a run that ended mails once and one that did not mails nothing), and a reminder to
//! the job's owner before its Salesforce credential expires (once per expiry date: the queue's
//! dedupe key names it). Both go through the durable queue and the mail transport.

use super::job_of;
use super::runs::DiscoverRunCounts;
use crate::mail::{MailRefusal, Mailer};
use crate::{Result, Sonde};
use serde::{Deserialize, Serialize};
use store::discover::RunRow;
use store::queue::{Job, NewJob};
use store::Store;

pub const NOTICE_JOB: &str = "discover_notice";
/// Days before the expiry a reminder is sent when the job does not say.
pub const DEFAULT_REMINDER_DAYS: u32 = 7;
const LEASE_MS: i64 = 60_000;

/// Who is mailed when a job's runs end, and on which ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunNotices {
    pub emails: Vec<String>,
    /// failure (the run failed), success (it succeeded), completion (any end, a cancel
    /// too); default failure.
    #[serde(default)]
    pub on: Vec<NoticeOn>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeOn {
    Failure,
    Success,
    Completion,
}

impl RunNotices {
    fn wanted(&self, status: &str) -> bool {
        let on: &[NoticeOn] = if self.on.is_empty() {
            &[NoticeOn::Failure]
        } else {
            &self.on
        };
        on.iter().any(|o| match o {
            NoticeOn::Completion => true,
            NoticeOn::Success => status == "succeeded",
            NoticeOn::Failure => status == "failed",
        })
    }

    /// Addresses that are not addresses, by field.
    pub(crate) fn problems(&self) -> Vec<crate::FieldProblem> {
        let mut out = Vec::new();
        if self.emails.is_empty() {
            out.push(super::problem("notify.emails", "at least one address"));
        }
        for (i, e) in self.emails.iter().enumerate() {
            if let Err(e) = directory::EmailAddress::parse(e) {
                out.push(super::problem(&format!("notify.emails[{i}]"), e.message));
            }
        }
        out
    }
}

/// One email the queue sends.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Notice {
    to: Vec<String>,
    subject: String,
    text: String,
}

fn notice_job(org_id: &str, dedupe_key: String, notice: &Notice) -> Result<NewJob> {
    Ok(NewJob {
        id: store::ids::ordered("JB_", 12),
        org_id: org_id.to_string(),
        kind: NOTICE_JOB.into(),
        payload: serde_json::to_string(notice)?,
        dedupe_key,
        run_after: store::now_ms(),
    })
}

/// The notice of a run's end, if the job wants one: queued in `tx`, the transaction that
/// records the end.
pub(crate) async fn queue_run_notices(
    tx: &mut store::Transaction<'_, store::Any>,
    run: &RunRow,
) -> Result<()> {
    let Some(job) = Store::discover_job_in(tx, &run.job_id).await? else {
        return Ok(());
    };
    // Settings that no longer read must not keep the run's end from being recorded.
    let settings = match job_of(&job) {
        Ok(j) => j.settings,
        Err(e) => {
            tracing::warn!(job = %job.id, error = %e, "an inbound job's settings no longer read; no notice");
            return Ok(());
        }
    };
    let Some(notify) = settings.notify.filter(|n| n.wanted(&run.status)) else {
        return Ok(());
    };
    let counts: DiscoverRunCounts = serde_json::from_str(&run.counts)?;
    let mut text = format!(
        "The run {} of the inbound job \"{}\" {}.\n\n\
         Rows read: {}\nDocuments created: {}\nDocuments updated: {}\n\
         Duplicates skipped: {}\nUnchanged: {}\nFiltered: {}\nRedactions: {}\nAPI calls: {}\n",
        run.id,
        job.name,
        run.status,
        counts.rows_read,
        counts.documents_created,
        counts.documents_updated,
        counts.duplicates_skipped,
        counts.unchanged,
        counts.filtered,
        counts.redactions,
        counts.api_calls,
    );
    if let Some(e) = &run.error {
        text.push_str(&format!("\nError: {e}\n"));
    }
    let notice = Notice {
        to: notify.emails,
        subject: format!("Inbound job \"{}\": run {}", job.name, run.status),
        text,
    };
    let key = format!("discover_run_notice:{}", run.id);
    Store::enqueue_job(tx, &notice_job(&run.org_id, key, &notice)?).await?;
    Ok(())
}

impl Sonde {
    /// Queues a reminder to the owner of every job whose credential expires within its
    /// `reminderDaysBefore` of `now` (or has expired), once per job and expiry date however
    /// often and on however many nodes this runs; how many were queued.
    pub async fn queue_credential_reminders(&self, now: i64) -> Result<usize> {
        let today = chrono::DateTime::from_timestamp_millis(now)
            .unwrap_or_default()
            .date_naive();
        let mut queued = 0;
        for row in self.store.discover_jobs_with_credential_expiry().await? {
            let Ok(job) = job_of(&row) else {
                tracing::warn!(job = %row.id, "an inbound job's settings no longer read");
                continue;
            };
            let Some(expires) = job.settings.credential_expires_on else {
                continue;
            };
            let days = job
                .settings
                .reminder_days_before
                .unwrap_or(DEFAULT_REMINDER_DAYS);
            if today + chrono::Days::new(days.into()) < expires {
                continue;
            }
            let Some(owner) = self.store.user_in_org(&row.org_id, &row.owner_id).await? else {
                continue;
            };
            let (when, then) = if today > expires {
                (
                    format!("expired on {expires}"),
                    "Its runs fail without reading anything until a new one is entered on the job.",
                )
            } else {
                (
                    format!("expires on {expires}"),
                    "Runs after that day fail without reading anything; enter a new one on the job before then.",
                )
            };
            let notice = Notice {
                to: vec![owner.email],
                subject: format!(
                    "Inbound job \"{}\": its Salesforce credential {when}",
                    row.name
                ),
                text: format!(
                    "The Salesforce credential of the inbound job \"{}\" {when}. {then}\n",
                    row.name
                ),
            };
            let key = format!("discover_credential_reminder:{}:{expires}", row.id);
            let mut tx = self.store.begin().await?;
            let fresh =
                Store::enqueue_job(&mut tx, &notice_job(&row.org_id, key, &notice)?).await?;
            tx.commit().await?;
            queued += usize::from(fresh);
        }
        Ok(queued)
    }

    /// Sends due inbound-job emails (a pass of the distribution workers); how many jobs were
    /// worked. Without a mail server they wait.
    pub async fn try_send_discover_notices(&self, owner: &str) -> Result<usize> {
        let Some(mailer) = self.mailer() else {
            return Ok(0);
        };
        let jobs = self
            .store
            .claim_jobs(NOTICE_JOB, owner, 20, LEASE_MS)
            .await?;
        for job in &jobs {
            let outcome = send_notice(job, &mailer).await;
            self.settle_mail_job(job, owner, outcome).await?;
        }
        Ok(jobs.len())
    }
}

async fn send_notice(job: &Job, mailer: &Mailer) -> std::result::Result<(), MailRefusal> {
    let notice: Notice =
        serde_json::from_str(&job.payload).map_err(|e| MailRefusal::Permanent(e.to_string()))?;
    let bad = |e: String| MailRefusal::Permanent(e);
    let from: lettre::message::Mailbox = mailer
        .settings
        .from
        .parse()
        .map_err(|e| bad(format!("SONDE_MAIL_FROM: {e}")))?;
    let mut message = lettre::Message::builder()
        .from(from)
        .subject(notice.subject)
        .header(lettre::message::header::ContentType::TEXT_PLAIN);
    for to in &notice.to {
        message = message.to(to.parse().map_err(|e| bad(format!("{to}: {e}")))?);
    }
    let message = message.body(notice.text).map_err(|e| bad(e.to_string()))?;
    mailer.send(message).await.map(|_| ())
}
