//! Distributions: message templates, distributions with their follow-ups (reminders and
//! thank-yous), and contact frequency rules. Their recipients are in `recipients`.

use crate::{conflict_or, now_ms, Backend, Result, Store};
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
    /// The list the audience is (None for chosen contacts).
    pub mailing_list_id: Option<String>,
    /// scheduled | sending | sent
    pub status: String,
    pub send_at: i64,
    pub time_zone: String,
    pub link_expires_at: Option<i64>,
    /// The audience is written in batches ordered by contact id: the last one written.
    pub expanded_through: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// JSON: what a workflow task made this distribution for (one event's recipient); None
    /// for distributions people make.
    pub triggered_by: Option<String>,
}

const DISTRIBUTION_COLUMNS: &str = "id, org_id, survey_id, owner_id, channel, template_id, \
    audience, mailing_list_id, status, send_at, time_zone, link_expires_at, expanded_through, \
    created_at, updated_at, started_at, finished_at, triggered_by";

fn distribution_from(row: &AnyRow) -> Result<DistributionRow> {
    Ok(DistributionRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        survey_id: row.try_get("survey_id")?,
        owner_id: row.try_get("owner_id")?,
        channel: row.try_get("channel")?,
        template_id: row.try_get("template_id")?,
        audience: row.try_get("audience")?,
        mailing_list_id: row.try_get("mailing_list_id")?,
        status: row.try_get("status")?,
        send_at: row.try_get("send_at")?,
        time_zone: row.try_get("time_zone")?,
        link_expires_at: row.try_get("link_expires_at")?,
        expanded_through: row.try_get("expanded_through")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        triggered_by: row.try_get("triggered_by")?,
    })
}

/// A reminder or thank-you of a distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpRow {
    pub distribution_id: String,
    /// 1, 2, ...: its recipients' step (the invitation is step 0).
    pub step: i64,
    /// reminder | thank_you
    pub kind: String,
    pub after_minutes: i64,
    pub template_id: String,
    /// waiting | sending | sent
    pub status: String,
    pub expanded_through: Option<String>,
}

const FOLLOW_UP_COLUMNS: &str =
    "distribution_id, step, kind, after_minutes, template_id, status, expanded_through";

fn follow_up_from(row: &AnyRow) -> Result<FollowUpRow> {
    Ok(FollowUpRow {
        distribution_id: row.try_get("distribution_id")?,
        step: row.try_get("step")?,
        kind: row.try_get("kind")?,
        after_minutes: row.try_get("after_minutes")?,
        template_id: row.try_get("template_id")?,
        status: row.try_get("status")?,
        expanded_through: row.try_get("expanded_through")?,
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

    /// Replaces a template's name and definition (its channel stays); false when not there.
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

    /// Deletes a template no distribution uses (as its invitation or a follow-up); false when
    /// one does (or it is not there).
    pub async fn delete_unused_template(&self, org_id: &str, id: &str) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM message_templates WHERE id = $1 AND org_id = $2 \
             AND NOT EXISTS (SELECT 1 FROM distributions d WHERE d.template_id = message_templates.id) \
             AND NOT EXISTS (SELECT 1 FROM distribution_follow_ups f WHERE f.template_id = message_templates.id)",
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
             $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        ))
        .bind(&d.id)
        .bind(&d.org_id)
        .bind(&d.survey_id)
        .bind(&d.owner_id)
        .bind(&d.channel)
        .bind(&d.template_id)
        .bind(&d.audience)
        .bind(&d.mailing_list_id)
        .bind(&d.status)
        .bind(d.send_at)
        .bind(&d.time_zone)
        .bind(d.link_expires_at)
        .bind(&d.expanded_through)
        .bind(d.created_at)
        .bind(d.updated_at)
        .bind(d.started_at)
        .bind(d.finished_at)
        .bind(&d.triggered_by)
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

    /// The distribution a worker acts on, read inside its transaction (locked on PostgreSQL,
    /// so an edit waits for the batch being written).
    pub async fn distribution_in(
        tx: &mut Transaction<'_, Any>,
        backend: Backend,
        id: &str,
    ) -> Result<Option<DistributionRow>> {
        let lock = match backend {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        let row = sqlx::query(&format!(
            "SELECT {DISTRIBUTION_COLUMNS} FROM distributions WHERE id = $1{lock}"
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
             AND triggered_by IS NULL ORDER BY created_at DESC, id DESC"
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
            "UPDATE distributions SET template_id = $1, audience = $2, mailing_list_id = $3, \
             send_at = $4, time_zone = $5, link_expires_at = $6, updated_at = $7 \
             WHERE id = $8 AND org_id = $9 AND status = 'scheduled'",
        )
        .bind(&d.template_id)
        .bind(&d.audience)
        .bind(&d.mailing_list_id)
        .bind(d.send_at)
        .bind(&d.time_zone)
        .bind(d.link_expires_at)
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

    /// Starts a scheduled distribution that is due; false when it is not (edited to later,
    /// deleted, or started already).
    pub async fn start_distribution(tx: &mut Transaction<'_, Any>, id: &str) -> Result<bool> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE distributions SET status = 'sending', started_at = $1, updated_at = $2 \
             WHERE id = $3 AND status = 'scheduled' AND send_at <= $4",
        )
        .bind(now)
        .bind(now)
        .bind(id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records how far the audience has been written; `done` once all of it is (`sent`).
    pub async fn advance_distribution(
        tx: &mut Transaction<'_, Any>,
        id: &str,
        expanded_through: Option<&str>,
        done: bool,
    ) -> Result<()> {
        let now = now_ms();
        sqlx::query(
            "UPDATE distributions SET expanded_through = $1, updated_at = $2, \
             status = CASE WHEN $3 = 1 THEN 'sent' ELSE status END, \
             finished_at = CASE WHEN $4 = 1 THEN $5 ELSE finished_at END WHERE id = $6",
        )
        .bind(expanded_through)
        .bind(now)
        .bind(i64::from(done))
        .bind(i64::from(done))
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Sets a distribution's follow-ups (a scheduled one's, replacing what it had).
    pub async fn replace_follow_ups(
        tx: &mut Transaction<'_, Any>,
        distribution_id: &str,
        follow_ups: &[FollowUpRow],
    ) -> Result<()> {
        sqlx::query("DELETE FROM distribution_follow_ups WHERE distribution_id = $1")
            .bind(distribution_id)
            .execute(&mut **tx)
            .await?;
        for f in follow_ups {
            sqlx::query(&format!(
                "INSERT INTO distribution_follow_ups ({FOLLOW_UP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            ))
            .bind(distribution_id)
            .bind(f.step)
            .bind(&f.kind)
            .bind(f.after_minutes)
            .bind(&f.template_id)
            .bind(&f.status)
            .bind(&f.expanded_through)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    pub async fn follow_ups(&self, distribution_id: &str) -> Result<Vec<FollowUpRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {FOLLOW_UP_COLUMNS} FROM distribution_follow_ups WHERE distribution_id = $1 ORDER BY step"
        ))
        .bind(distribution_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(follow_up_from).collect()
    }

    pub async fn follow_ups_in(
        tx: &mut Transaction<'_, Any>,
        distribution_id: &str,
    ) -> Result<Vec<FollowUpRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {FOLLOW_UP_COLUMNS} FROM distribution_follow_ups WHERE distribution_id = $1 ORDER BY step"
        ))
        .bind(distribution_id)
        .fetch_all(&mut **tx)
        .await?;
        rows.iter().map(follow_up_from).collect()
    }

    /// Records how far a follow-up's recipients have been written, and its status.
    pub async fn advance_follow_up(
        tx: &mut Transaction<'_, Any>,
        distribution_id: &str,
        step: i64,
        status: &str,
        expanded_through: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE distribution_follow_ups SET status = $1, expanded_through = $2 \
             WHERE distribution_id = $3 AND step = $4",
        )
        .bind(status)
        .bind(expanded_through)
        .bind(distribution_id)
        .bind(step)
        .execute(&mut **tx)
        .await?;
        Ok(())
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
        let rows = sqlx::query(&format!(
            "SELECT {RULE_COLUMNS} FROM frequency_rules WHERE org_id = $1 ORDER BY created_at, id"
        ))
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(rule_from).collect()
    }

    /// The rules as a worker reads them, in its transaction.
    pub async fn frequency_rules_in(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
    ) -> Result<Vec<FrequencyRuleRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {RULE_COLUMNS} FROM frequency_rules WHERE org_id = $1 ORDER BY created_at, id"
        ))
        .bind(org_id)
        .fetch_all(&mut **tx)
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

const RULE_COLUMNS: &str =
    "id, org_id, scope, scope_id, max_invitations, period_days, min_days_between, created_at";
