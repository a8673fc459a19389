//! Writing a distribution's audience: its start job, and later each reminder's or thank-you's,
//! decides the recipients batch by batch (contacts in id order). One transaction per batch
//! holds the decisions (`distribution::exclusion`, frequency verdicts read from past
//! invitations), a recipient row for each contact — skipped ones with their reason —, a
//! personal link for each one to send to and their send jobs (`send_batches`), the batch cursor, and the job's
//! next step guarded by its lease: a crash resumes after the last batch written, and two
//! workers never write one batch twice.

use crate::distributions::{channel_named, follow_up_key, Audience, FOLLOW_UP_JOB, START_JOB};
use crate::frequency_rules::{longest_window_days, rule_of};
use crate::{Error, Result, Sonde};
use chrono::{DateTime, Utc};
use distribution::exclusion::{self, Address, AddressesTaken, Decision, Recipient};
use distribution::frequency::{self, FrequencyRule, MessageKind, Planned, Sent, Verdict};
use distribution::Channel;
use std::collections::HashMap;
use store::distributions::DistributionRow;
use store::queue::{Job, NewJob};
use store::recipients::{AudienceMember, DistributionLink, RecipientRow};
use store::{Any, Store, Transaction};

/// Contacts decided per transaction: two email send jobs' worth.
pub const AUDIENCE_BATCH: i64 = 500;
/// How long a worker may hold an audience job before another takes it over.
pub(crate) const LEASE_MS: i64 = 2 * 60_000;
/// Attempts before an audience or send job is given up (errors of ours, not the mail server's).
pub(crate) const MAX_ATTEMPTS: i64 = 10;

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct AudienceJob {
    distribution_id: String,
    #[serde(default)]
    step: i64,
}

/// One contact to decide, with the frequency verdict and the link its message carries.
pub(crate) struct Candidate<'a> {
    pub member: &'a AudienceMember,
    pub verdict: Verdict,
    /// A reminder or thank-you reuses the invitation's link; an invitation gets a new one.
    pub link: Option<String>,
    /// Excluded before the directory is consulted, with the reason's code and words (an
    /// opt-out read from Salesforce).
    pub excluded: Option<(String, String)>,
}

/// Doubling from 1 s to at most 10 minutes.
pub(crate) fn backoff_ms(attempts: i64) -> i64 {
    let exp = (attempts - 1).clamp(0, 12) as u32;
    (1_000 * 2i64.pow(exp)).min(10 * 60_000)
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
}

fn message_kind(step_kind: &str) -> &'static str {
    match step_kind {
        "thank_you" => "thank_you",
        "reminder" => "reminder",
        _ => "invitation",
    }
}

impl Sonde {
    /// One pass over due start and follow-up jobs: one batch of recipients written for each
    /// job claimed (at most `jobs` of each kind). Answers how many jobs were worked.
    pub async fn try_write_audiences(&self, owner: &str, jobs: i64) -> Result<usize> {
        let mut worked = 0;
        for kind in [START_JOB, FOLLOW_UP_JOB] {
            for job in self.store.claim_jobs(kind, owner, jobs, LEASE_MS).await? {
                worked += 1;
                let written = match kind {
                    START_JOB => self.write_invitations(&job, owner).await,
                    _ => self.write_follow_up(&job, owner).await,
                };
                if let Err(e) = written {
                    self.audience_job_failed(&job, owner, &e).await?;
                }
            }
        }
        Ok(worked)
    }

    async fn audience_job_failed(&self, job: &Job, owner: &str, e: &Error) -> Result<()> {
        tracing::warn!(job = %job.id, error = %e, "writing a distribution's recipients failed");
        if e.is_transient() || job.attempts < MAX_ATTEMPTS {
            let run_after = store::now_ms() + backoff_ms(job.attempts);
            self.store
                .retry_job(&job.id, owner, run_after, &e.to_string(), true)
                .await?;
        } else {
            self.store.fail_job(&job.id, owner, &e.to_string()).await?;
        }
        Ok(())
    }

    /// One batch of a distribution's invitations (starting it first when it is due).
    async fn write_invitations(&self, job: &Job, owner: &str) -> Result<()> {
        let asked: AudienceJob = serde_json::from_str(&job.payload)?;
        let mut tx = self.store.begin().await?;
        let backend = self.store.backend();
        let Some(mut d) = Store::distribution_in(&mut tx, backend, &asked.distribution_id).await?
        else {
            // Deleted (or its survey was): nothing to send.
            return finish(tx, job, owner, true).await;
        };
        if d.status == "scheduled" {
            if !Store::start_distribution(&mut tx, &d.id).await? {
                // Edited to a later time while this job was due: wait for that.
                Store::retry_job_in(&mut tx, &job.id, owner, d.send_at, "not due yet", false)
                    .await?;
                tx.commit().await?;
                return Ok(());
            }
            let now = store::now_ms();
            d.started_at = Some(now);
            for f in Store::follow_ups_in(&mut tx, &d.id).await? {
                Store::enqueue_job(
                    &mut tx,
                    &NewJob {
                        id: store::queue::job_id(),
                        org_id: d.org_id.clone(),
                        kind: FOLLOW_UP_JOB.into(),
                        payload: serde_json::json!({"distributionId": d.id, "step": f.step})
                            .to_string(),
                        dedupe_key: follow_up_key(&d.id, f.step),
                        run_after: now + f.after_minutes * 60_000,
                    },
                )
                .await?;
            }
        } else if d.status == "sent" {
            return finish(tx, job, owner, true).await;
        }
        let (members, cursor, done) = audience_batch(&mut tx, &d).await?;
        let verdicts = frequency_verdicts(&mut tx, &d, &members).await?;
        let candidates: Vec<Candidate> = members
            .iter()
            .zip(verdicts)
            .map(|(member, verdict)| Candidate {
                member,
                verdict,
                link: None,
                excluded: None,
            })
            .collect();
        self.decide(&mut tx, &d, 0, "invitation", &candidates)
            .await?;
        Store::advance_distribution(&mut tx, &d.id, cursor.as_deref(), done).await?;
        finish(tx, job, owner, done).await
    }

    /// One batch of a reminder's or thank-you's recipients: the invitations that went out,
    /// those who have not finished (a reminder) or have (a thank-you). Exempt from frequency
    /// rules; an unsubscribed contact is skipped with that reason.
    async fn write_follow_up(&self, job: &Job, owner: &str) -> Result<()> {
        let asked: AudienceJob = serde_json::from_str(&job.payload)?;
        let mut tx = self.store.begin().await?;
        let backend = self.store.backend();
        let Some(d) = Store::distribution_in(&mut tx, backend, &asked.distribution_id).await?
        else {
            return finish(tx, job, owner, true).await;
        };
        let follow_ups = Store::follow_ups_in(&mut tx, &d.id).await?;
        let Some(f) = follow_ups.into_iter().find(|f| f.step == asked.step) else {
            return finish(tx, job, owner, true).await;
        };
        if f.status == "sent" {
            return finish(tx, job, owner, true).await;
        }
        if d.status != "sent" {
            // The invitations are still being written: they all come first.
            let later = store::now_ms() + 60_000;
            Store::retry_job_in(
                &mut tx,
                &job.id,
                owner,
                later,
                "invitations still being written",
                false,
            )
            .await?;
            tx.commit().await?;
            return Ok(());
        }
        let after = f.expanded_through.clone().unwrap_or_default();
        let invitations = Store::sent_invitations(&mut tx, &d.id, &after, AUDIENCE_BATCH).await?;
        let done = (invitations.len() as i64) < AUDIENCE_BATCH;
        let cursor = invitations
            .last()
            .map(|i| i.contact_id.clone())
            .or(f.expanded_through.clone());
        let wants_finished = f.kind == "thank_you";
        let targets: Vec<_> = invitations
            .iter()
            .filter(|i| i.finished == wants_finished)
            .collect();
        let ids: Vec<String> = targets.iter().map(|i| i.contact_id.clone()).collect();
        let members = Store::audience_contacts(&mut tx, &d.org_id, &ids).await?;
        let links: HashMap<&str, &Option<String>> = targets
            .iter()
            .map(|i| (i.contact_id.as_str(), &i.link_token))
            .collect();
        let candidates: Vec<Candidate> = members
            .iter()
            .map(|member| Candidate {
                member,
                verdict: Verdict::Allowed,
                link: links
                    .get(member.contact.id.as_str())
                    .and_then(|l| (*l).clone()),
                excluded: None,
            })
            .collect();
        self.decide(&mut tx, &d, f.step, message_kind(&f.kind), &candidates)
            .await?;
        let status = if done { "sent" } else { "sending" };
        Store::advance_follow_up(&mut tx, &d.id, f.step, status, cursor.as_deref()).await?;
        finish(tx, job, owner, done).await
    }

    /// Decides each candidate and writes the batch: recipient rows, personal links (new ones
    /// for invitations) and the send jobs of the messages to send. Answers the rows.
    pub(crate) async fn decide(
        &self,
        tx: &mut Transaction<'_, Any>,
        d: &DistributionRow,
        step: i64,
        kind: &str,
        candidates: &[Candidate<'_>],
    ) -> Result<Vec<RecipientRow>> {
        let channel = channel_named(&d.channel);
        let addresses: HashMap<String, Address> = candidates
            .iter()
            .filter_map(|c| address_of(channel, c.member))
            .map(|a| (a.key(), a))
            .collect();
        let keys: Vec<String> = addresses.keys().cloned().collect();
        let mut taken = AddressesTaken::new();
        for key in Store::taken_addresses(tx, &d.id, step, &keys).await? {
            if let Some(address) = addresses.get(&key) {
                taken.take(address);
            }
        }
        let now = store::now_ms();
        let mut rows = Vec::with_capacity(candidates.len());
        let mut links = Vec::new();
        for c in candidates {
            let contact = &c.member.contact;
            let recipient = Recipient {
                email: contact.email.as_deref(),
                phone: contact.phone.as_deref(),
                email_unsubscribed: contact.unsubscribed,
                phone_unsubscribed: contact.unsubscribed || c.member.sms_unsubscribed,
            };
            let raw = if channel.is_sms() {
                contact.phone.clone()
            } else {
                contact.email.clone()
            };
            let mut row = RecipientRow {
                id: store::ids::recipient(),
                org_id: d.org_id.clone(),
                distribution_id: d.id.clone(),
                contact_id: contact.id.clone(),
                step,
                kind: kind.into(),
                address: raw,
                address_key: None,
                state: "queued".into(),
                reason: None,
                detail: None,
                link_token: None,
                provider_id: None,
                attempts: 0,
                created_at: now,
                sent_at: None,
                updated_at: now,
                opened_at: None,
            };
            let decision = match &c.excluded {
                Some((code, message)) => {
                    row.state = "skipped".into();
                    row.reason = Some(code.clone());
                    row.detail = Some(message.clone());
                    rows.push(row);
                    continue;
                }
                None => exclusion::decide(channel, &recipient, &mut taken, &c.verdict),
            };
            match decision {
                Decision::Send(address) => {
                    row.address = Some(address.as_str().to_string());
                    row.address_key = Some(address.key());
                    let token = match &c.link {
                        Some(token) => token.clone(),
                        None => {
                            let token = store::ids::random_token(24);
                            links.push(DistributionLink {
                                token: token.clone(),
                                org_id: d.org_id.clone(),
                                survey_id: d.survey_id.clone(),
                                contact_id: contact.id.clone(),
                                distribution_id: d.id.clone(),
                                channel: if channel.is_sms() { "sms" } else { "email" }.into(),
                                expires_at: d.link_expires_at,
                            });
                            token
                        }
                    };
                    row.link_token = Some(token);
                }
                Decision::Skip(reason) => {
                    row.state = "skipped".into();
                    row.reason = Some(reason.code().into());
                    row.detail = Some(reason.message());
                }
            }
            rows.push(row);
        }
        Store::insert_distribution_links(tx, &links).await?;
        Store::insert_recipients(tx, &rows).await?;
        let sends: Vec<String> = rows
            .iter()
            .filter(|r| r.state == "queued")
            .map(|r| r.id.clone())
            .collect();
        let (kind, batch) = if channel.is_sms() {
            (
                crate::sms_sending::SMS_SEND_JOB,
                crate::sms_sending::SMS_BATCH,
            )
        } else {
            (
                crate::distribution_sending::SEND_JOB,
                crate::distribution_sending::SEND_BATCH,
            )
        };
        crate::send_batches::queue_send_jobs(tx, &d.org_id, kind, &sends, batch as usize, now)
            .await?;
        Ok(rows)
    }
}

/// The batch's next step in the same transaction, guarded by the lease: `done` completes the
/// job, otherwise it is queued again at once for the next batch (the attempt not counted).
/// When the lease was lost meanwhile the whole batch is rolled back: the worker that holds
/// it now writes it.
async fn finish(
    mut tx: Transaction<'static, Any>,
    job: &Job,
    owner: &str,
    done: bool,
) -> Result<()> {
    let kept = if done {
        Store::complete_job_in(&mut tx, &job.id, owner).await?
    } else {
        Store::retry_job_in(&mut tx, &job.id, owner, store::now_ms(), "", false).await?
    };
    if kept {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
        tracing::warn!(job = %job.id, "lease lost while writing recipients; the batch is another worker's");
    }
    Ok(())
}

/// The channel's address of a member, when it reads as one (duplicates are found by it).
fn address_of(channel: Channel, member: &AudienceMember) -> Option<Address> {
    let c = &member.contact;
    if channel.is_sms() {
        directory::PhoneNumber::parse(c.phone.as_deref()?.trim(), None)
            .ok()
            .map(Address::Phone)
    } else {
        directory::EmailAddress::parse(c.email.as_deref()?.trim())
            .ok()
            .map(Address::Email)
    }
}

/// The next batch of a distribution's audience after its cursor: the members, the new cursor
/// and whether the audience is exhausted.
async fn audience_batch(
    tx: &mut Transaction<'_, Any>,
    d: &DistributionRow,
) -> Result<(Vec<AudienceMember>, Option<String>, bool)> {
    let audience: Audience = serde_json::from_str(&d.audience)?;
    let after = d.expanded_through.clone().unwrap_or_default();
    if let Some(list) = &audience.mailing_list_id {
        let members = Store::list_audience(tx, &d.org_id, list, &after, AUDIENCE_BATCH).await?;
        let done = (members.len() as i64) < AUDIENCE_BATCH;
        let cursor = members
            .last()
            .map(|m| m.contact.id.clone())
            .or(d.expanded_through.clone());
        return Ok((members, cursor, done));
    }
    let ids: Vec<String> = audience
        .contact_ids
        .unwrap_or_default()
        .into_iter()
        .filter(|id| id.as_str() > after.as_str())
        .collect();
    let slice = &ids[..ids.len().min(AUDIENCE_BATCH as usize)];
    let done = slice.len() == ids.len();
    let cursor = slice.last().cloned().or(d.expanded_through.clone());
    let members = Store::audience_contacts(tx, &d.org_id, slice).await?;
    Ok((members, cursor, done))
}

/// Each member's frequency verdict, from the invitations other distributions sent them.
pub(crate) async fn frequency_verdicts(
    tx: &mut Transaction<'_, Any>,
    d: &DistributionRow,
    members: &[AudienceMember],
) -> Result<Vec<Verdict>> {
    let rules: Vec<FrequencyRule> = Store::frequency_rules_in(tx, &d.org_id)
        .await?
        .iter()
        .map(rule_of)
        .collect();
    if rules.is_empty() {
        return Ok(members.iter().map(|_| Verdict::Allowed).collect());
    }
    let now = store::now_ms();
    let since = now - i64::from(longest_window_days(&rules)) * 86_400_000;
    let ids: Vec<String> = members.iter().map(|m| m.contact.id.clone()).collect();
    let mut history: HashMap<String, Vec<Sent>> = HashMap::new();
    for past in Store::past_invitations(tx, &d.org_id, &d.id, &ids, since).await? {
        history.entry(past.contact_id).or_default().push(Sent {
            at: at(past.at),
            survey_id: past.survey_id,
            mailing_list_id: past.mailing_list_id,
            kind: MessageKind::Invitation,
        });
    }
    let planned = Planned {
        survey_id: &d.survey_id,
        mailing_list_id: d.mailing_list_id.as_deref(),
        kind: MessageKind::Invitation,
    };
    let none = Vec::new();
    Ok(members
        .iter()
        .map(|m| {
            let past = history.get(&m.contact.id).unwrap_or(&none);
            frequency::check(&rules, past, planned, at(now))
        })
        .collect())
}
