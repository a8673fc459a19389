//! The statements that archive, restore and delete, each inside the caller's transaction so
//! the audit event of the act commits with it. The row acted on is taken with `UPDATE …
//! RETURNING` (a no-op one where more is deleted after it: portable, and a row lock on
//! PostgreSQL) or `DELETE … RETURNING`, so what the event says about the subject is what was
//! acted on, even with concurrent writers.

use crate::directory::{contact_from, ContactRow};
use crate::surveys::SurveyRow;
use crate::{now_ms, Result, Store};
use sqlx::{Any, Row, Transaction};

/// The columns of a survey row, unqualified for `RETURNING`.
use crate::surveys::RETURNED as SURVEY_COLUMNS;
const CONTACT_COLUMNS: &str = "id, org_id, first_name, last_name, email, phone, language, \
                               ext_ref, embedded_data, unsubscribed";

/// What a purge removed with the survey.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub responses: u64,
    pub workflows: u64,
    /// Queued jobs of the survey's workflow runs, cancelled (a job being worked on is left to
    /// its worker, which finds the run gone).
    pub jobs_cancelled: u64,
}

/// What deleting a contact removed with it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContactRemoved {
    pub list_memberships: u64,
    pub personal_links: u64,
}

/// A deleted response, as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseRemoved {
    pub status: String,
    pub contact_id: Option<String>,
    /// Its runs that were still waiting, now failed and their jobs cancelled.
    pub runs_cancelled: u64,
}

/// Why a run that never got delivered was stopped.
pub const RESPONSE_DELETED: &str = "the response was deleted before this run was delivered";

impl Store {
    /// Archives (`true`) or restores (`false`) a survey; the survey as it now is, or None when
    /// the organization has no such survey in the other state.
    pub async fn set_survey_archived(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        id: &str,
        archived: bool,
    ) -> Result<Option<SurveyRow>> {
        let at = archived.then(now_ms);
        let row = sqlx::query(&format!(
            "UPDATE surveys SET archived_at = $1 WHERE id = $2 AND org_id = $3 \
             AND (archived_at IS NULL) = ($4 = 1) RETURNING {SURVEY_COLUMNS}"
        ))
        .bind(at)
        .bind(id)
        .bind(org_id)
        .bind(i64::from(archived))
        .fetch_optional(&mut **tx)
        .await?;
        row.as_ref().map(crate::surveys::survey_from).transpose()
    }

    /// Takes an archived survey of the organization for a purge (locked until the transaction
    /// ends); None when there is no such archived survey.
    pub async fn lock_archived_survey(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        id: &str,
    ) -> Result<Option<SurveyRow>> {
        let row = sqlx::query(&format!(
            "UPDATE surveys SET archived_at = archived_at WHERE id = $1 AND org_id = $2 \
             AND archived_at IS NOT NULL RETURNING {SURVEY_COLUMNS}"
        ))
        .bind(id)
        .bind(org_id)
        .fetch_optional(&mut **tx)
        .await?;
        row.as_ref().map(crate::surveys::survey_from).transpose()
    }

    /// Deletes a survey taken by [`Store::lock_archived_survey`] with everything that is
    /// its: responses, versions, links, collaborators, link key, workflows and their runs (by
    /// the schema's cascades), and cancels the runs' queued jobs.
    pub async fn purge_survey(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        id: &str,
    ) -> Result<Purged> {
        // The jobs of the survey's runs (which go with its workflows): those still queued are
        // cancelled, finished ones forgotten; one a worker holds is left to it.
        let of_survey = "id IN (SELECT r.id FROM workflow_runs r JOIN workflows w \
                         ON w.id = r.workflow_id WHERE w.survey_id = $1 AND w.org_id = $2)";
        let jobs_in = |statuses: &str| {
            format!("DELETE FROM jobs WHERE status IN ({statuses}) AND {of_survey}")
        };
        let jobs_cancelled = sqlx::query(&jobs_in("'queued'"))
            .bind(id)
            .bind(org_id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        sqlx::query(&jobs_in("'done', 'failed'"))
            .bind(id)
            .bind(org_id)
            .execute(&mut **tx)
            .await?;
        sqlx::query(
            "DELETE FROM response_records WHERE org_id = $2 AND response_id IN \
             (SELECT id FROM responses WHERE survey_id = $1 AND org_id = $2)",
        )
        .bind(id)
        .bind(org_id)
        .execute(&mut **tx)
        .await?;
        let responses = sqlx::query("DELETE FROM responses WHERE survey_id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        let workflows = sqlx::query("DELETE FROM workflows WHERE survey_id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM surveys WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .execute(&mut **tx)
            .await?;
        Ok(Purged {
            responses,
            workflows,
            jobs_cancelled,
        })
    }

    /// Takes a contact of the organization for deletion (locked until the transaction ends).
    pub async fn lock_contact(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        id: &str,
    ) -> Result<Option<ContactRow>> {
        let row = sqlx::query(&format!(
            "UPDATE contacts SET updated_at = updated_at WHERE id = $1 AND org_id = $2 \
             RETURNING {CONTACT_COLUMNS}"
        ))
        .bind(id)
        .bind(org_id)
        .fetch_optional(&mut **tx)
        .await?;
        row.as_ref().map(contact_from).transpose()
    }

    /// Deletes a contact taken by [`Store::lock_contact`], with its list memberships, personal
    /// links and opt-out history (keeping the opt-out is the caller's: a suppression).
    /// Responses it gave stay with their surveys.
    pub async fn delete_contact(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        id: &str,
    ) -> Result<ContactRemoved> {
        let list_memberships =
            sqlx::query("DELETE FROM mailing_list_members WHERE contact_id = $1")
                .bind(id)
                .execute(&mut **tx)
                .await?
                .rows_affected();
        let personal_links =
            sqlx::query("DELETE FROM personal_links WHERE contact_id = $1 AND org_id = $2")
                .bind(id)
                .bind(org_id)
                .execute(&mut **tx)
                .await?
                .rows_affected();
        // A deleted contact's phone is no one's to text: its conversations go with it.
        sqlx::query("DELETE FROM sms_conversations WHERE contact_id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM contacts WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .execute(&mut **tx)
            .await?;
        Ok(ContactRemoved {
            list_memberships,
            personal_links,
        })
    }

    /// Deletes a mailing list of the organization and its memberships (the contacts stay);
    /// the list's name and how many members it had, or None when there is no such list.
    pub async fn delete_mailing_list(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        id: &str,
    ) -> Result<Option<(String, u64)>> {
        // Counted before the list goes (its cascade would remove them uncounted).
        let members = sqlx::query(
            "DELETE FROM mailing_list_members WHERE list_id = $1 \
             AND EXISTS (SELECT 1 FROM mailing_lists WHERE id = $2 AND org_id = $3)",
        )
        .bind(id)
        .bind(id)
        .bind(org_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        let row =
            sqlx::query("DELETE FROM mailing_lists WHERE id = $1 AND org_id = $2 RETURNING name")
                .bind(id)
                .bind(org_id)
                .fetch_optional(&mut **tx)
                .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((row.try_get("name")?, members)))
    }

    /// Deletes one response of a survey. A personal link it came through can be used again;
    /// its runs still waiting are failed saying why and their queued jobs cancelled (one being
    /// worked on finds the response gone). None when the survey has no such response.
    pub async fn delete_response(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        survey_id: &str,
        id: &str,
    ) -> Result<Option<ResponseRemoved>> {
        sqlx::query("DELETE FROM response_records WHERE response_id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .execute(&mut **tx)
            .await?;
        let row = sqlx::query(
            "DELETE FROM responses WHERE id = $1 AND org_id = $2 AND survey_id = $3 \
             RETURNING status, contact_id",
        )
        .bind(id)
        .bind(org_id)
        .bind(survey_id)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        sqlx::query(
            "UPDATE personal_links SET response_id = NULL WHERE response_id = $1 AND org_id = $2",
        )
        .bind(id)
        .bind(org_id)
        .execute(&mut **tx)
        .await?;
        // Runs first, while their jobs still say which are waiting.
        let now = now_ms();
        let runs_cancelled = sqlx::query(
            "UPDATE workflow_runs SET status = 'failed', error = $1, updated_at = $2 \
             WHERE response_id = $3 AND org_id = $4 \
             AND id IN (SELECT id FROM jobs WHERE status = 'queued')",
        )
        .bind(RESPONSE_DELETED)
        .bind(now)
        .bind(id)
        .bind(org_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        sqlx::query(
            "UPDATE jobs SET status = 'failed', last_error = $1, updated_at = $2 \
             WHERE status = 'queued' AND id IN \
             (SELECT id FROM workflow_runs WHERE response_id = $3 AND org_id = $4)",
        )
        .bind(RESPONSE_DELETED)
        .bind(now)
        .bind(id)
        .bind(org_id)
        .execute(&mut **tx)
        .await?;
        Ok(Some(ResponseRemoved {
            status: row.try_get("status")?,
            contact_id: row.try_get("contact_id")?,
            runs_cancelled,
        }))
    }

    /// The names of the mailing lists a contact is on (what deleting it takes it off).
    pub async fn lists_of_contact(&self, org_id: &str, contact_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT l.name FROM mailing_lists l JOIN mailing_list_members m ON m.list_id = l.id \
             WHERE m.contact_id = $1 AND l.org_id = $2 ORDER BY l.name, l.id",
        )
        .bind(contact_id)
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get("name")?)).collect()
    }

    /// How many personal links and responses a contact has (the links go with it, the
    /// responses stay).
    pub async fn contact_links_and_responses(
        &self,
        org_id: &str,
        contact_id: &str,
    ) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM personal_links WHERE contact_id = $1 AND org_id = $2) AS links, \
             (SELECT COUNT(*) FROM responses WHERE contact_id = $3 AND org_id = $4) AS responses",
        )
        .bind(contact_id)
        .bind(org_id)
        .bind(contact_id)
        .bind(org_id)
        .fetch_one(self.pool())
        .await?;
        Ok((row.try_get("links")?, row.try_get("responses")?))
    }
}
