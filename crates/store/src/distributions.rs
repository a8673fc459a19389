//! Distributions: message templates, distributions, their recipients (one row per message to
//! one contact, skipped ones included with their reason) and contact frequency rules.

use crate::{conflict_or, now_ms, Result, Store};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRow {
    pub id: String,
    pub org_id: String,
    pub owner_id: String,
    pub name: String,
    /// email | sms
    pub channel: String,
    /// The template as JSON.
    pub definition: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const TEMPLATE_COLUMNS: &str =
    "id, org_id, owner_id, name, channel, definition, created_at, updated_at";

fn template_from(row: &AnyRow) -> Result<TemplateRow> {
    Ok(TemplateRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        owner_id: row.try_get("owner_id")?,
        name: row.try_get("name")?,
        channel: row.try_get("channel")?,
        definition: row.try_get("definition")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributionRow {
    pub id: String,
    pub org_id: String,
    pub survey_id: String,
    pub owner_id: String,
    /// email | sms | sms_two_way
    pub channel: String,
    pub template_id: String,
    /// JSON: `{"mailingListId"}` or `{"contactIds": [...]}`.
    pub audience: String,
    /// scheduled | sending | sent | cancelled
    pub status: String,
    pub send_at: i64,
    pub time_zone: String,
    pub link_expires_at: Option<i64>,
    /// JSON list of follow-ups (reminders, thank-yous).
    pub follow_ups: String,
    /// The audience is written in batches ordered by contact id: the last one written.
    pub expanded_through: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

const DISTRIBUTION_COLUMNS: &str = "id, org_id, survey_id, owner_id, channel, template_id, \
    audience, status, send_at, time_zone, link_expires_at, follow_ups, expanded_through, \
    created_at, updated_at, started_at, finished_at";

fn distribution_from(row: &AnyRow) -> Result<DistributionRow> {
    Ok(DistributionRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        survey_id: row.try_get("survey_id")?,
        owner_id: row.try_get("owner_id")?,
        channel: row.try_get("channel")?,
        template_id: row.try_get("template_id")?,
        audience: row.try_get("audience")?,
        status: row.try_get("status")?,
        send_at: row.try_get("send_at")?,
        time_zone: row.try_get("time_zone")?,
        link_expires_at: row.try_get("link_expires_at")?,
        follow_ups: row.try_get("follow_ups")?,
        expanded_through: row.try_get("expanded_through")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientRow {
    pub id: String,
    pub org_id: String,
    pub distribution_id: String,
    pub contact_id: String,
    /// invitation | reminder | thank_you
    pub kind: String,
    pub address: Option<String>,
    /// queued | skipped | sending | sent | failed | bounced | delivered | undelivered
    pub state: String,
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub link_token: Option<String>,
    pub provider_id: Option<String>,
    pub attempts: i64,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub updated_at: i64,
    pub opened_at: Option<i64>,
}

const RECIPIENT_COLUMNS: &str = "id, org_id, distribution_id, contact_id, kind, address, state, \
    reason, detail, link_token, provider_id, attempts, created_at, sent_at, updated_at, opened_at";

fn recipient_from(row: &AnyRow) -> Result<RecipientRow> {
    Ok(RecipientRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        distribution_id: row.try_get("distribution_id")?,
        contact_id: row.try_get("contact_id")?,
        kind: row.try_get("kind")?,
        address: row.try_get("address")?,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrequencyRuleRow {
    pub id: String,
    pub org_id: String,
    /// organization | survey | mailing_list
    pub scope: String,
    pub scope_id: Option<String>,
    pub max_invitations: Option<i64>,
    pub period_days: Option<i64>,
    pub min_days_between: Option<i64>,
    pub created_at: i64,
}

fn rule_from(row: &AnyRow) -> Result<FrequencyRuleRow> {
    Ok(FrequencyRuleRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        scope: row.try_get("scope")?,
        scope_id: row.try_get("scope_id")?,
        max_invitations: row.try_get("max_invitations")?,
        period_days: row.try_get("period_days")?,
        min_days_between: row.try_get("min_days_between")?,
        created_at: row.try_get("created_at")?,
    })
}

/// One invitation a contact was sent (or is about to be): what frequency rules count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastInvitation {
    pub contact_id: String,
    pub survey_id: String,
    /// The mailing list the distribution went to, if it went to one.
    pub audience: String,
    pub at: i64,
}

/// How many recipients of a distribution are in each (kind, state, reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientCount {
    pub kind: String,
    pub state: String,
    pub reason: Option<String>,
    pub count: i64,
}

impl Store {
    pub async fn insert_template(&self, t: &TemplateRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO message_templates ({TEMPLATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(&t.id)
        .bind(&t.org_id)
        .bind(&t.owner_id)
        .bind(&t.name)
        .bind(&t.channel)
        .bind(&t.definition)
        .bind(t.created_at)
        .bind(t.updated_at)
        .execute(self.pool())
        .await
        .map_err(|e| conflict_or(e, "template"))?;
        Ok(())
    }

    pub async fn update_template(&self, t: &TemplateRow) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE message_templates SET name = $1, definition = $2, updated_at = $3 \
             WHERE id = $4 AND org_id = $5",
        )
        .bind(&t.name)
        .bind(&t.definition)
        .bind(now_ms())
        .bind(&t.id)
        .bind(&t.org_id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn template(&self, org_id: &str, id: &str) -> Result<Option<TemplateRow>> {
        let row = sqlx::query(&format!(
            "SELECT {TEMPLATE_COLUMNS} FROM message_templates WHERE id = $1 AND org_id = $2"
        ))
        .bind(id)
        .bind(org_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(template_from).transpose()
    }

    pub async fn templates(&self, org_id: &str) -> Result<Vec<TemplateRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {TEMPLATE_COLUMNS} FROM message_templates WHERE org_id = $1 \
             ORDER BY channel, name, id"
        ))
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(template_from).collect()
    }

    /// Deletes a template no distribution uses; false when one does (or it is not there).
    pub async fn delete_unused_template(&self, org_id: &str, id: &str) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM message_templates WHERE id = $1 AND org_id = $2 AND NOT EXISTS \
             (SELECT 1 FROM distributions d WHERE d.template_id = message_templates.id)",
        )
        .bind(id)
        .bind(org_id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn insert_distribution(
        tx: &mut Transaction<'_, Any>,
        d: &DistributionRow,
    ) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO distributions ({DISTRIBUTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, \
             $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ))
        .bind(&d.id)
        .bind(&d.org_id)
        .bind(&d.survey_id)
        .bind(&d.owner_id)
        .bind(&d.channel)
        .bind(&d.template_id)
        .bind(&d.audience)
        .bind(&d.status)
        .bind(d.send_at)
        .bind(&d.time_zone)
        .bind(d.link_expires_at)
        .bind(&d.follow_ups)
        .bind(&d.expanded_through)
        .bind(d.created_at)
        .bind(d.updated_at)
        .bind(d.started_at)
        .bind(d.finished_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub async fn distribution(&self, org_id: &str, id: &str) -> Result<Option<DistributionRow>> {
        let row = sqlx::query(&format!(
            "SELECT {DISTRIBUTION_COLUMNS} FROM distributions WHERE id = $1 AND org_id = $2"
        ))
        .bind(id)
        .bind(org_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(distribution_from).transpose()
    }

    /// The distribution a worker acts on, read inside its transaction.
    pub async fn distribution_in(
        tx: &mut Transaction<'_, Any>,
        id: &str,
    ) -> Result<Option<DistributionRow>> {
        let row = sqlx::query(&format!(
            "SELECT {DISTRIBUTION_COLUMNS} FROM distributions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        row.as_ref().map(distribution_from).transpose()
    }

    pub async fn distributions_of_survey(
        &self,
        org_id: &str,
        survey_id: &str,
    ) -> Result<Vec<DistributionRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {DISTRIBUTION_COLUMNS} FROM distributions WHERE org_id = $1 AND survey_id = $2 \
             ORDER BY created_at DESC, id DESC"
        ))
        .bind(org_id)
        .bind(survey_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(distribution_from).collect()
    }

    /// Replaces what may change of a distribution that has not started; false once it has.
    pub async fn update_scheduled_distribution(
        tx: &mut Transaction<'_, Any>,
        d: &DistributionRow,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE distributions SET template_id = $1, audience = $2, send_at = $3, \
             time_zone = $4, link_expires_at = $5, follow_ups = $6, updated_at = $7 \
             WHERE id = $8 AND org_id = $9 AND status = 'scheduled'",
        )
        .bind(&d.template_id)
        .bind(&d.audience)
        .bind(d.send_at)
        .bind(&d.time_zone)
        .bind(d.link_expires_at)
        .bind(&d.follow_ups)
        .bind(now_ms())
        .bind(&d.id)
        .bind(&d.org_id)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a distribution that has not started; false once it has.
    pub async fn delete_scheduled_distribution(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        id: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM distributions WHERE id = $1 AND org_id = $2 AND status = 'scheduled'",
        )
        .bind(id)
        .bind(org_id)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Moves a distribution on (scheduled → sending → sent) and records how far its audience
    /// has been written.
    pub async fn advance_distribution(
        tx: &mut Transaction<'_, Any>,
        id: &str,
        status: &str,
        expanded_through: Option<&str>,
    ) -> Result<()> {
        let now = now_ms();
        let finished = (status == "sent").then_some(now);
        sqlx::query(
            "UPDATE distributions SET status = $1, expanded_through = $2, updated_at = $3, \
             started_at = COALESCE(started_at, $4), finished_at = COALESCE($5, finished_at) \
             WHERE id = $6",
        )
        .bind(status)
        .bind(expanded_through)
        .bind(now)
        .bind(now)
        .bind(finished)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Writes recipients; one already there for (distribution, contact, kind) is left as it
    /// is. Returns how many were written.
    pub async fn insert_recipients(
        tx: &mut Transaction<'_, Any>,
        recipients: &[RecipientRow],
    ) -> Result<u64> {
        let mut written = 0;
        for chunk in recipients.chunks(50) {
            let mut sql = format!("INSERT INTO distribution_recipients ({RECIPIENT_COLUMNS}) VALUES ");
            for i in 0..chunk.len() {
                let b = i * 16;
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                for c in 1..=16 {
                    if c > 1 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!("${}", b + c));
                }
                sql.push(')');
            }
            sql.push_str(" ON CONFLICT (distribution_id, contact_id, kind) DO NOTHING");
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q
                    .bind(&r.id)
                    .bind(&r.org_id)
                    .bind(&r.distribution_id)
                    .bind(&r.contact_id)
                    .bind(&r.kind)
                    .bind(&r.address)
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

    pub async fn recipients_by_id(&self, ids: &[String]) -> Result<Vec<RecipientRow>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {RECIPIENT_COLUMNS} FROM distribution_recipients WHERE id IN ({})",
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            for row in q.fetch_all(self.pool()).await? {
                out.push(recipient_from(&row)?);
            }
        }
        Ok(out)
    }

    /// A distribution's recipients, oldest first, after the `(created_at, id)` cursor.
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
             WHERE org_id = $1 AND distribution_id = $2 AND (created_at > $3 OR (created_at = $4 AND id > $5)) \
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

    /// Counts per (kind, state, reason): the distribution's statistics are made from these.
    pub async fn recipient_counts(
        &self,
        org_id: &str,
        distribution_id: &str,
    ) -> Result<Vec<RecipientCount>> {
        let rows = sqlx::query(
            "SELECT kind, state, reason, COUNT(*) AS n FROM distribution_recipients \
             WHERE org_id = $1 AND distribution_id = $2 GROUP BY kind, state, reason",
        )
        .bind(org_id)
        .bind(distribution_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RecipientCount {
                    kind: r.try_get("kind")?,
                    state: r.try_get("state")?,
                    reason: r.try_get("reason")?,
                    count: r.try_get("n")?,
                })
            })
            .collect()
    }

    /// How many invitations of a distribution were opened, and led to a response started and
    /// finished (through the personal links made for it).
    pub async fn distribution_engagement(
        &self,
        org_id: &str,
        distribution_id: &str,
    ) -> Result<(i64, i64, i64)> {
        let opened: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM distribution_recipients WHERE org_id = $1 \
             AND distribution_id = $2 AND kind = 'invitation' AND opened_at IS NOT NULL",
        )
        .bind(org_id)
        .bind(distribution_id)
        .fetch_one(self.pool())
        .await?;
        let row = sqlx::query(
            "SELECT COUNT(r.id) AS started, \
             COALESCE(SUM(CASE WHEN r.status = 'complete' THEN 1 ELSE 0 END), 0) AS finished \
             FROM personal_links l JOIN responses r ON r.id = l.response_id \
             WHERE l.org_id = $1 AND l.distribution_id = $2",
        )
        .bind(org_id)
        .bind(distribution_id)
        .fetch_one(self.pool())
        .await?;
        Ok((opened, row.try_get("started")?, row.try_get("finished")?))
    }

    /// Marks recipients as being sent (once more): recorded before the message leaves, so a
    /// crash between the two is visible as an attempt without an outcome.
    pub async fn mark_recipients_sending(&self, ids: &[String]) -> Result<()> {
        let now = now_ms();
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
            let sql = format!(
                "UPDATE distribution_recipients SET state = 'sending', attempts = attempts + 1, \
                 updated_at = $1 WHERE state IN ('queued', 'sending') AND id IN ({})",
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(now);
            for id in chunk {
                q = q.bind(id);
            }
            q.execute(self.pool()).await?;
        }
        Ok(())
    }

    /// Records one recipient's outcome within the caller's transaction.
    pub async fn record_recipient_outcome(
        tx: &mut Transaction<'_, Any>,
        id: &str,
        state: &str,
        reason: Option<&str>,
        detail: Option<&str>,
        provider_id: Option<&str>,
    ) -> Result<()> {
        let now = now_ms();
        let sent_at = (state == "sent").then_some(now);
        sqlx::query(
            "UPDATE distribution_recipients SET state = $1, reason = $2, detail = $3, \
             provider_id = COALESCE($4, provider_id), updated_at = $5, \
             sent_at = COALESCE($6, sent_at) WHERE id = $7",
        )
        .bind(state)
        .bind(reason)
        .bind(detail)
        .bind(provider_id)
        .bind(now)
        .bind(sent_at)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// A provider's later word on a message it accepted (an SMS delivered or undelivered),
    /// found by the provider's id. Returns the recipient when it was found.
    pub async fn update_recipient_by_provider_id(
        &self,
        provider_id: &str,
        state: &str,
        detail: Option<&str>,
    ) -> Result<Option<RecipientRow>> {
        let row = sqlx::query(&format!(
            "UPDATE distribution_recipients SET state = $1, detail = COALESCE($2, detail), \
             updated_at = $3 WHERE provider_id = $4 RETURNING {RECIPIENT_COLUMNS}"
        ))
        .bind(state)
        .bind(detail)
        .bind(now_ms())
        .bind(provider_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(recipient_from).transpose()
    }

    /// The first opening of a personal link made for a distribution.
    pub async fn mark_invitation_opened(&self, link_token: &str) -> Result<()> {
        sqlx::query(
            "UPDATE distribution_recipients SET opened_at = $1 \
             WHERE link_token = $2 AND kind = 'invitation' AND opened_at IS NULL",
        )
        .bind(now_ms())
        .bind(link_token)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The invitations (not reminders or thank-yous) these contacts were sent or are about to
    /// be sent since `since`, for frequency rules.
    pub async fn past_invitations(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        contact_ids: &[String],
        since: i64,
    ) -> Result<Vec<PastInvitation>> {
        let mut out = Vec::new();
        for chunk in contact_ids.chunks(500) {
            let marks: Vec<String> = (3..chunk.len() + 3).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT r.contact_id, d.survey_id, d.audience, r.created_at \
                 FROM distribution_recipients r JOIN distributions d ON d.id = r.distribution_id \
                 WHERE r.org_id = $1 AND r.created_at >= $2 AND r.kind = 'invitation' \
                 AND r.state NOT IN ('skipped', 'failed', 'bounced') AND r.contact_id IN ({})",
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(org_id).bind(since);
            for id in chunk {
                q = q.bind(id);
            }
            for row in q.fetch_all(&mut **tx).await? {
                out.push(PastInvitation {
                    contact_id: row.try_get("contact_id")?,
                    survey_id: row.try_get("survey_id")?,
                    audience: row.try_get("audience")?,
                    at: row.try_get("created_at")?,
                });
            }
        }
        Ok(out)
    }

    pub async fn insert_frequency_rule(&self, r: &FrequencyRuleRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO frequency_rules (id, org_id, scope, scope_id, max_invitations, \
             period_days, min_days_between, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&r.id)
        .bind(&r.org_id)
        .bind(&r.scope)
        .bind(&r.scope_id)
        .bind(r.max_invitations)
        .bind(r.period_days)
        .bind(r.min_days_between)
        .bind(r.created_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn frequency_rules(&self, org_id: &str) -> Result<Vec<FrequencyRuleRow>> {
        let rows = sqlx::query(
            "SELECT id, org_id, scope, scope_id, max_invitations, period_days, \
             min_days_between, created_at FROM frequency_rules WHERE org_id = $1 \
             ORDER BY created_at, id",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(rule_from).collect()
    }

    pub async fn delete_frequency_rule(&self, org_id: &str, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM frequency_rules WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
