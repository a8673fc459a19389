//! A distribution's recipients: one row per message to one contact (skipped ones included with
//! their reason), the audience they are read from in batches, the personal links made for
//! them, and what the statistics and frequency rules count.

use crate::directory::{contact_from, ContactRow, CONTACT_COLUMNS};
use crate::{get_bool, now_ms, Result, Store};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::collections::HashSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientRow {
    pub id: String,
    pub org_id: String,
    pub distribution_id: String,
    pub contact_id: String,
    /// 0 for the invitation, the follow-up's step for a reminder or thank-you.
    pub step: i64,
    /// invitation | reminder | thank_you
    pub kind: String,
    pub address: Option<String>,
    /// The address as duplicates are found (`distribution::exclusion::Address::key`).
    pub address_key: Option<String>,
    /// queued | skipped | sending | sent | failed | bounced | delivered | undelivered
    pub state: String,
    /// A skip's reason code.
    pub reason: Option<String>,
    /// The reason in words, or the server's text for a bounce or failure.
    pub detail: Option<String>,
    pub link_token: Option<String>,
    pub provider_id: Option<String>,
    pub attempts: i64,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub updated_at: i64,
    pub opened_at: Option<i64>,
}

pub(crate) const RECIPIENT_COLUMNS: &str =
    "id, org_id, distribution_id, contact_id, step, kind, address, \
    address_key, state, reason, detail, link_token, provider_id, attempts, created_at, sent_at, \
    updated_at, opened_at";
const RECIPIENT_FIELDS: usize = 18;

pub(crate) fn recipient_from(row: &AnyRow) -> Result<RecipientRow> {
    Ok(RecipientRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        distribution_id: row.try_get("distribution_id")?,
        contact_id: row.try_get("contact_id")?,
        step: row.try_get("step")?,
        kind: row.try_get("kind")?,
        address: row.try_get("address")?,
        address_key: row.try_get("address_key")?,
        state: row.try_get("state")?,
        reason: row.try_get("reason")?,
        detail: row.try_get("detail")?,
        link_token: row.try_get("link_token")?,
        provider_id: row.try_get("provider_id")?,
        attempts: row.try_get("attempts")?,
        created_at: row.try_get("created_at")?,
        sent_at: row.try_get("sent_at")?,
        updated_at: row.try_get("updated_at")?,
        opened_at: row.try_get("opened_at")?,
    })
}

/// A contact of an audience, with the phone's own opt-out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceMember {
    pub contact: ContactRow,
    pub sms_unsubscribed: bool,
}

fn member_from(row: &AnyRow) -> Result<AudienceMember> {
    Ok(AudienceMember {
        contact: contact_from(row)?,
        sms_unsubscribed: get_bool(row, "sms_unsubscribed")?,
    })
}

/// A personal link made for one recipient of a distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributionLink {
    pub token: String,
    pub org_id: String,
    pub survey_id: String,
    pub contact_id: String,
    pub distribution_id: String,
    /// email | sms
    pub channel: String,
    pub expires_at: Option<i64>,
}

/// One invitation a contact was sent (or is about to be): what frequency rules count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastInvitation {
    pub contact_id: String,
    pub survey_id: String,
    /// The mailing list the distribution went to, if it went to one.
    pub mailing_list_id: Option<String>,
    pub at: i64,
}

/// An invitation that went out, as a follow-up sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentInvitation {
    pub contact_id: String,
    pub address: Option<String>,
    pub address_key: Option<String>,
    pub link_token: Option<String>,
    /// The response through its link was finished.
    pub finished: bool,
}

/// How many recipients of a distribution are in each (step, state, reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientCount {
    pub step: i64,
    pub state: String,
    pub reason: Option<String>,
    pub count: i64,
}

/// `$first, $first+1, …` for `n` values.
fn marks(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows per multi-row insert (18 parameters each). Not more: sqlx's SQLite driver looks each
/// parameter's name up in a list as long as the statement's, so binding one statement costs
/// the square of its parameters.
const MULTI_ROW: usize = 16;
/// Values per `IN (…)` list: a whole send batch in one statement (every statement is a round
/// trip to a database thread, which on a busy machine waits to be scheduled), and few enough
/// for the binding cost above (500 was measurable).
const IN_LIST: usize = 256;

impl Store {
    /// Up to `limit` members of a mailing list after the contact id `after`, by id.
    pub async fn list_audience(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        list_id: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<AudienceMember>> {
        let rows = sqlx::query(&format!(
            // Walked along the members' primary key (list_id, contact_id), so each batch
            // costs the same however far into a long list it is.
            "SELECT {CONTACT_COLUMNS}, c.sms_unsubscribed FROM mailing_list_members m \
             JOIN contacts c ON c.id = m.contact_id \
             WHERE m.list_id = $2 AND m.contact_id > $3 AND c.org_id = $1 \
             ORDER BY m.contact_id LIMIT $4"
        ))
        .bind(org_id)
        .bind(list_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut **tx)
        .await?;
        rows.iter().map(member_from).collect()
    }

    /// These contacts of the organization (those still there), by id.
    pub async fn audience_contacts(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        ids: &[String],
    ) -> Result<Vec<AudienceMember>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IN_LIST) {
            let sql = format!(
                "SELECT {CONTACT_COLUMNS}, c.sms_unsubscribed FROM contacts c \
                 WHERE c.org_id = $1 AND c.id IN ({}) ORDER BY c.id",
                marks(2, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(org_id);
            for id in chunk {
                q = q.bind(id);
            }
            for row in q.fetch_all(&mut **tx).await? {
                out.push(member_from(&row)?);
            }
        }
        out.sort_by(|a, b| a.contact.id.cmp(&b.contact.id));
        Ok(out)
    }

    /// Writes recipients; one already there for (distribution, contact, step) is left as it
    /// is. Returns how many were written.
    pub async fn insert_recipients(
        tx: &mut Transaction<'_, Any>,
        recipients: &[RecipientRow],
    ) -> Result<u64> {
        let mut written = 0;
        for chunk in recipients.chunks(MULTI_ROW) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("({})", marks(i * RECIPIENT_FIELDS + 1, RECIPIENT_FIELDS)))
                .collect();
            let sql = format!(
                "INSERT INTO distribution_recipients ({RECIPIENT_COLUMNS}) VALUES {} \
                 ON CONFLICT (distribution_id, contact_id, step) DO NOTHING",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q
                    .bind(&r.id)
                    .bind(&r.org_id)
                    .bind(&r.distribution_id)
                    .bind(&r.contact_id)
                    .bind(r.step)
                    .bind(&r.kind)
                    .bind(&r.address)
                    .bind(&r.address_key)
                    .bind(&r.state)
                    .bind(&r.reason)
                    .bind(&r.detail)
                    .bind(&r.link_token)
                    .bind(&r.provider_id)
                    .bind(r.attempts)
                    .bind(r.created_at)
                    .bind(r.sent_at)
                    .bind(r.updated_at)
                    .bind(r.opened_at);
            }
            written += q.execute(&mut **tx).await?.rows_affected();
        }
        Ok(written)
    }

    /// Personal links for a distribution's recipients, in the batch's transaction.
    pub async fn insert_distribution_links(
        tx: &mut Transaction<'_, Any>,
        links: &[DistributionLink],
    ) -> Result<()> {
        let now = now_ms();
        for chunk in links.chunks(MULTI_ROW) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("({})", marks(i * 8 + 1, 8)))
                .collect();
            let sql = format!(
                "INSERT INTO personal_links (token, org_id, survey_id, contact_id, \
                 distribution_id, channel, expires_at, created_at) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for l in chunk {
                q = q
                    .bind(&l.token)
                    .bind(&l.org_id)
                    .bind(&l.survey_id)
                    .bind(&l.contact_id)
                    .bind(&l.distribution_id)
                    .bind(&l.channel)
                    .bind(l.expires_at)
                    .bind(now);
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Of these address keys, those a recipient of the distribution already took (was or is
    /// to be sent to at that address).
    pub async fn taken_addresses(
        tx: &mut Transaction<'_, Any>,
        distribution_id: &str,
        step: i64,
        keys: &[String],
    ) -> Result<HashSet<String>> {
        let mut taken = HashSet::new();
        for chunk in keys.chunks(IN_LIST) {
            let sql = format!(
                "SELECT address_key FROM distribution_recipients WHERE distribution_id = $1 \
                 AND step = $2 AND state <> 'skipped' AND address_key IN ({})",
                marks(3, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(distribution_id).bind(step);
            for k in chunk {
                q = q.bind(k);
            }
            for row in q.fetch_all(&mut **tx).await? {
                taken.insert(row.try_get("address_key")?);
            }
        }
        Ok(taken)
    }

    /// The invitations (not reminders or thank-yous) these contacts were sent or are about to
    /// be sent since `since` by other distributions, for frequency rules.
    pub async fn past_invitations(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        distribution_id: &str,
        contact_ids: &[String],
        since: i64,
    ) -> Result<Vec<PastInvitation>> {
        let mut out = Vec::new();
        for chunk in contact_ids.chunks(IN_LIST) {
            let sql = format!(
                "SELECT r.contact_id, d.survey_id, d.mailing_list_id, \
                 COALESCE(r.sent_at, r.created_at) AS at \
                 FROM distribution_recipients r JOIN distributions d ON d.id = r.distribution_id \
                 WHERE r.org_id = $1 AND r.distribution_id <> $2 AND r.created_at >= $3 \
                 AND r.step = 0 AND r.state NOT IN ('skipped', 'failed', 'bounced') \
                 AND r.contact_id IN ({})",
                marks(4, chunk.len())
            );
            let mut q = sqlx::query(&sql)
                .bind(org_id)
                .bind(distribution_id)
                .bind(since);
            for id in chunk {
                q = q.bind(id);
            }
            for row in q.fetch_all(&mut **tx).await? {
                out.push(PastInvitation {
                    contact_id: row.try_get("contact_id")?,
                    survey_id: row.try_get("survey_id")?,
                    mailing_list_id: row.try_get("mailing_list_id")?,
                    at: row.try_get("at")?,
                });
            }
        }
        Ok(out)
    }

    /// Up to `limit` invitations of a distribution that went out, after the contact id
    /// `after`, by contact id, with whether their response was finished: a follow-up's
    /// audience.
    pub async fn sent_invitations(
        tx: &mut Transaction<'_, Any>,
        distribution_id: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<SentInvitation>> {
        let rows = sqlx::query(
            "SELECT r.contact_id, r.address, r.address_key, r.link_token, \
             CASE WHEN resp.status = 'complete' THEN 1 ELSE 0 END AS finished \
             FROM distribution_recipients r \
             LEFT JOIN personal_links l ON l.token = r.link_token \
             LEFT JOIN responses resp ON resp.id = l.response_id \
             WHERE r.distribution_id = $1 AND r.step = 0 AND r.state IN ('sent', 'delivered') \
             AND r.contact_id > $2 ORDER BY r.contact_id LIMIT $3",
        )
        .bind(distribution_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut **tx)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SentInvitation {
                    contact_id: row.try_get("contact_id")?,
                    address: row.try_get("address")?,
                    address_key: row.try_get("address_key")?,
                    link_token: row.try_get("link_token")?,
                    finished: get_bool(row, "finished")?,
                })
            })
            .collect()
    }

    /// Recipients to send to, each with its contact (None when the contact is gone), read in
    /// one statement per batch outside any transaction: a sending lane's only read.
    pub async fn recipients_to_send(
        &self,
        ids: &[String],
    ) -> Result<Vec<(RecipientRow, Option<AudienceMember>)>> {
        let recipient_columns: Vec<String> = RECIPIENT_COLUMNS
            .split(',')
            .map(|c| format!("r.{}", c.trim()))
            .collect();
        let contact_columns: Vec<String> = CONTACT_COLUMNS
            .split(',')
            .chain([" c.sms_unsubscribed"])
            .map(|c| {
                let c = c.trim();
                format!("{c} AS c_{}", c.trim_start_matches("c."))
            })
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IN_LIST) {
            let sql = format!(
                "SELECT {}, {} FROM distribution_recipients r \
                 LEFT JOIN contacts c ON c.id = r.contact_id AND c.org_id = r.org_id \
                 WHERE r.id IN ({})",
                recipient_columns.join(", "),
                contact_columns.join(", "),
                marks(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            for row in q.fetch_all(self.pool()).await? {
                let member = match row.try_get::<Option<String>, _>("c_id")? {
                    Some(id) => Some(AudienceMember {
                        contact: ContactRow {
                            id,
                            org_id: row.try_get("c_org_id")?,
                            first_name: row.try_get("c_first_name")?,
                            last_name: row.try_get("c_last_name")?,
                            email: row.try_get("c_email")?,
                            phone: row.try_get("c_phone")?,
                            language: row.try_get("c_language")?,
                            ext_ref: row.try_get("c_ext_ref")?,
                            embedded_data: row.try_get("c_embedded_data")?,
                            unsubscribed: get_bool(&row, "c_unsubscribed")?,
                        },
                        sms_unsubscribed: get_bool(&row, "c_sms_unsubscribed")?,
                    }),
                    None => None,
                };
                out.push((recipient_from(&row)?, member));
            }
        }
        Ok(out)
    }

    /// A distribution's recipients in the order they were decided, after the `(created_at,
    /// id)` cursor.
    pub async fn recipients_of(
        &self,
        org_id: &str,
        distribution_id: &str,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<RecipientRow>> {
        let (at, id) = after.unwrap_or((i64::MIN, String::new()));
        let rows = sqlx::query(&format!(
            "SELECT {RECIPIENT_COLUMNS} FROM distribution_recipients \
             WHERE org_id = $1 AND distribution_id = $2 \
             AND (created_at > $3 OR (created_at = $4 AND id > $5)) \
             ORDER BY created_at, id LIMIT $6"
        ))
        .bind(org_id)
        .bind(distribution_id)
        .bind(at)
        .bind(at)
        .bind(id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(recipient_from).collect()
    }

    /// The latest distribution a workflow made for one event that sent to this address in
    /// the organization (a STOP reply's way back to the Salesforce record it came from).
    pub async fn latest_triggered_distribution_to(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        address_key: &str,
    ) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT r.distribution_id FROM distribution_recipients r \
             JOIN distributions d ON d.id = r.distribution_id \
             WHERE r.org_id = $1 AND r.address_key = $2 AND d.triggered_by IS NOT NULL \
             ORDER BY r.created_at DESC LIMIT 1",
        )
        .bind(org_id)
        .bind(address_key)
        .fetch_optional(&mut **tx)
        .await?)
    }

    /// A distribution's invitations (step 0), read in the caller's transaction.
    pub async fn recipients_of_distribution_in(
        tx: &mut Transaction<'_, Any>,
        distribution_id: &str,
    ) -> Result<Vec<RecipientRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {RECIPIENT_COLUMNS} FROM distribution_recipients \
             WHERE distribution_id = $1 AND step = 0 ORDER BY id"
        ))
        .bind(distribution_id)
        .fetch_all(&mut **tx)
        .await?;
        rows.iter().map(recipient_from).collect()
    }

    /// Counts per (step, state, reason): the distribution's statistics are made from these.
    pub async fn recipient_counts(
        &self,
        org_id: &str,
        distribution_id: &str,
    ) -> Result<Vec<RecipientCount>> {
        let rows = sqlx::query(
            "SELECT step, state, reason, COUNT(*) AS n FROM distribution_recipients \
             WHERE org_id = $1 AND distribution_id = $2 GROUP BY step, state, reason",
        )
        .bind(org_id)
        .bind(distribution_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RecipientCount {
                    step: r.try_get("step")?,
                    state: r.try_get("state")?,
                    reason: r.try_get("reason")?,
                    count: r.try_get("n")?,
                })
            })
            .collect()
    }

    /// How many invitations of a distribution were opened, and how many responses its
    /// personal links started and finished.
    pub async fn distribution_engagement(
        &self,
        org_id: &str,
        distribution_id: &str,
    ) -> Result<(i64, i64, i64)> {
        let opened: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM distribution_recipients WHERE org_id = $1 \
             AND distribution_id = $2 AND step = 0 AND opened_at IS NOT NULL",
        )
        .bind(org_id)
        .bind(distribution_id)
        .fetch_one(self.pool())
        .await?;
        let row = sqlx::query(
            "SELECT COUNT(r.id) AS started, \
             COALESCE(SUM(CASE WHEN r.status = 'complete' THEN 1 ELSE 0 END), 0) AS finished \
             FROM responses r WHERE r.org_id = $1 AND r.distribution_id = $2",
        )
        .bind(org_id)
        .bind(distribution_id)
        .fetch_one(self.pool())
        .await?;
        Ok((opened, row.try_get("started")?, row.try_get("finished")?))
    }

    /// Marks recipients as being sent (once more): recorded before the message leaves, so a
    /// crash between the two is visible as an attempt without an outcome.
    pub async fn mark_recipients_sending(
        tx: &mut Transaction<'_, Any>,
        ids: &[String],
    ) -> Result<()> {
        let now = now_ms();
        for chunk in ids.chunks(IN_LIST) {
            let sql = format!(
                "UPDATE distribution_recipients SET state = 'sending', attempts = attempts + 1, \
                 updated_at = $1 WHERE state IN ('queued', 'sending') AND id IN ({})",
                marks(2, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(now);
            for id in chunk {
                q = q.bind(id);
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Records many recipients as `sent`, each with its Message-ID or message sid, a few
    /// statements for a whole batch (one `UPDATE` per recipient was a round trip each to the
    /// database thread).
    pub async fn record_recipients_sent(
        tx: &mut Transaction<'_, Any>,
        sent: &[(&str, &str)],
    ) -> Result<()> {
        // Two parameters a row: 64 rows keep the binding cost (the square of the parameters,
        // see MULTI_ROW) small.
        const ROWS: usize = 64;
        let now = now_ms();
        for chunk in sent.chunks(ROWS) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, ${})", 2 * i + 2, 2 * i + 3))
                .collect();
            let sql = format!(
                "WITH sent_now(id, provider_id) AS (VALUES {}) \
                 UPDATE distribution_recipients SET state = 'sent', reason = NULL, detail = NULL, \
                 provider_id = (SELECT s.provider_id FROM sent_now s \
                 WHERE s.id = distribution_recipients.id), \
                 updated_at = $1, sent_at = $1 \
                 WHERE id IN (SELECT id FROM sent_now)",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(now);
            for (id, provider_id) in chunk {
                q = q.bind(*id).bind(*provider_id);
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Records one recipient's outcome within the caller's transaction: `sent` sets the send
    /// time, `queued` waits for a retry.
    pub async fn record_recipient_outcome(
        tx: &mut Transaction<'_, Any>,
        outcome: &RecipientOutcome<'_>,
    ) -> Result<()> {
        let now = now_ms();
        let sent_at = (outcome.state == "sent").then_some(now);
        sqlx::query(
            "UPDATE distribution_recipients SET state = $1, reason = $2, detail = $3, \
             provider_id = COALESCE($4, provider_id), updated_at = $5, \
             sent_at = COALESCE($6, sent_at) WHERE id = $7",
        )
        .bind(outcome.state)
        .bind(outcome.reason)
        .bind(outcome.detail)
        .bind(outcome.provider_id)
        .bind(now)
        .bind(sent_at)
        .bind(outcome.id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The first opening of a personal link made for a distribution (a GET of the link):
    /// written only while its invitation is not marked opened yet.
    pub async fn mark_invitation_opened(&self, link_token: &str) -> Result<bool> {
        let unopened: Option<String> = sqlx::query_scalar(
            "SELECT r.id FROM personal_links l JOIN distribution_recipients r \
             ON r.distribution_id = l.distribution_id AND r.contact_id = l.contact_id \
             AND r.step = 0 \
             WHERE l.token = $1 AND r.link_token = l.token AND r.opened_at IS NULL",
        )
        .bind(link_token)
        .fetch_optional(self.pool())
        .await?;
        let Some(id) = unopened else {
            return Ok(false);
        };
        let done = sqlx::query(
            "UPDATE distribution_recipients SET opened_at = $1 WHERE id = $2 AND opened_at IS NULL",
        )
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives a response just stored through a personal link the link's distribution, in the
    /// response's transaction.
    pub async fn record_response_distribution(
        tx: &mut Transaction<'_, Any>,
        token: &str,
        response_id: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE responses SET distribution_id = \
             (SELECT distribution_id FROM personal_links WHERE token = $1) WHERE id = $2",
        )
        .bind(token)
        .bind(response_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The distribution a response came through, if any.
    pub async fn response_distribution(&self, response_id: &str) -> Result<Option<String>> {
        let row: Option<Option<String>> =
            sqlx::query_scalar("SELECT distribution_id FROM responses WHERE id = $1")
                .bind(response_id)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.flatten())
    }
}

/// One recipient's outcome, as [`Store::record_recipient_outcome`] writes it.
#[derive(Debug, Clone, Copy)]
pub struct RecipientOutcome<'a> {
    pub id: &'a str,
    pub state: &'a str,
    pub reason: Option<&'a str>,
    pub detail: Option<&'a str>,
    pub provider_id: Option<&'a str>,
}
