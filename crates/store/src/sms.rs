//! What SMS adds to the store: recipients found by the provider's message sid (status
//! callbacks), a phone's own opt-out (STOP by text) with its history, and two-way
//! conversations (`sms_conversations`).

use crate::recipients::{recipient_from, RecipientRow, RECIPIENT_COLUMNS};
use crate::{ids, now_ms, Result, Store};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// One survey asked by text to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationRow {
    /// The recipient's id.
    pub id: String,
    pub org_id: String,
    pub distribution_id: String,
    pub contact_id: String,
    pub survey_id: String,
    pub survey_version: i64,
    pub phone: String,
    pub link_token: Option<String>,
    pub response_id: Option<String>,
    /// `distribution::two_way::Position` as JSON.
    pub position: Option<String>,
    /// open | finished | closed
    pub state: String,
    pub turns: i64,
    pub expires_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const CONVERSATION_COLUMNS: &str = "id, org_id, distribution_id, contact_id, survey_id, \
    survey_version, phone, link_token, response_id, position, state, turns, expires_at, \
    created_at, updated_at";

fn conversation_from(row: &AnyRow) -> Result<ConversationRow> {
    Ok(ConversationRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        distribution_id: row.try_get("distribution_id")?,
        contact_id: row.try_get("contact_id")?,
        survey_id: row.try_get("survey_id")?,
        survey_version: row.try_get("survey_version")?,
        phone: row.try_get("phone")?,
        link_token: row.try_get("link_token")?,
        response_id: row.try_get("response_id")?,
        position: row.try_get("position")?,
        state: row.try_get("state")?,
        turns: row.try_get("turns")?,
        expires_at: row.try_get("expires_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// The recipient a message sid was recorded for.
    pub async fn recipient_by_provider_id(
        tx: &mut Transaction<'_, Any>,
        provider_id: &str,
    ) -> Result<Option<RecipientRow>> {
        let row = sqlx::query(&format!(
            "SELECT {RECIPIENT_COLUMNS} FROM distribution_recipients WHERE provider_id = $1"
        ))
        .bind(provider_id)
        .fetch_optional(&mut **tx)
        .await?;
        row.as_ref().map(recipient_from).transpose()
    }

    /// Moves a recipient from `from` to `to` (a status callback), only if it is still in
    /// `from`: two callbacks at once cannot both apply. False when it had moved meanwhile.
    pub async fn advance_recipient_state(
        tx: &mut Transaction<'_, Any>,
        id: &str,
        from: &str,
        to: &str,
        detail: Option<&str>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE distribution_recipients SET state = $1, detail = COALESCE($2, detail), \
             updated_at = $3 WHERE id = $4 AND state = $5",
        )
        .bind(to)
        .bind(detail)
        .bind(now_ms())
        .bind(id)
        .bind(from)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The organizations that sent a text message to this phone (E.164): a reply from it
    /// concerns those only. (`LIKE '+%'` is the condition of the partial index it reads.)
    pub async fn organizations_that_texted(
        tx: &mut Transaction<'_, Any>,
        phone: &str,
    ) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT DISTINCT r.org_id FROM distribution_recipients r \
             JOIN distributions d ON d.id = r.distribution_id \
             WHERE r.address = $1 AND r.address LIKE '+%' AND r.provider_id IS NOT NULL \
             AND d.channel IN ('sms', 'sms_two_way') ORDER BY r.org_id",
        )
        .bind(phone)
        .fetch_all(&mut **tx)
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("org_id")?))
            .collect()
    }

    /// Sets the phone's own opt-out of the organization's contacts with this phone, recording
    /// each change in `opt_out_events` (source `sms_reply`). Contacts already so are left as
    /// they are; answers the contacts changed.
    pub async fn change_sms_subscription(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        phone: &str,
        unsubscribed: bool,
        detail: &str,
    ) -> Result<Vec<String>> {
        let value = i64::from(unsubscribed);
        let now = now_ms();
        let ids: Vec<String> = sqlx::query_scalar(
            "UPDATE contacts SET sms_unsubscribed = $1, updated_at = $2 \
             WHERE org_id = $3 AND phone = $4 AND sms_unsubscribed <> $5 RETURNING id",
        )
        .bind(value)
        .bind(now)
        .bind(org_id)
        .bind(phone)
        .bind(value)
        .fetch_all(&mut **tx)
        .await?;
        for id in &ids {
            sqlx::query(
                "INSERT INTO opt_out_events (id, org_id, contact_id, action, source, actor_id, \
                 detail, created_at) VALUES ($1, $2, $3, $4, 'sms_reply', NULL, $5, $6)",
            )
            .bind(ids::opt_out_event())
            .bind(org_id)
            .bind(id)
            .bind(if unsubscribed {
                "unsubscribe"
            } else {
                "resubscribe"
            })
            .bind(detail)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        Ok(ids)
    }

    /// Opens a conversation (its invitation is about to be sent); one already there for the
    /// recipient is left as it is.
    pub async fn insert_conversation(
        tx: &mut Transaction<'_, Any>,
        c: &ConversationRow,
    ) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO sms_conversations ({CONVERSATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, \
             $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (id) DO NOTHING"
        ))
        .bind(&c.id)
        .bind(&c.org_id)
        .bind(&c.distribution_id)
        .bind(&c.contact_id)
        .bind(&c.survey_id)
        .bind(c.survey_version)
        .bind(&c.phone)
        .bind(&c.link_token)
        .bind(&c.response_id)
        .bind(&c.position)
        .bind(&c.state)
        .bind(c.turns)
        .bind(c.expires_at)
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The phone's newest open conversation that has not run out.
    pub async fn open_conversation(
        &self,
        phone: &str,
        now: i64,
    ) -> Result<Option<ConversationRow>> {
        let row = sqlx::query(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM sms_conversations \
             WHERE phone = $1 AND state = 'open' AND expires_at > $2 \
             ORDER BY created_at DESC, id DESC LIMIT 1"
        ))
        .bind(phone)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(conversation_from).transpose()
    }

    pub async fn conversation(&self, id: &str) -> Result<Option<ConversationRow>> {
        let row = sqlx::query(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM sms_conversations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(conversation_from).transpose()
    }

    /// Saves a conversation after one reply, if no other reply was read meanwhile (`turns`
    /// as read): false when one was, and this reply's transaction must roll back.
    pub async fn save_conversation_turn(
        tx: &mut Transaction<'_, Any>,
        c: &ConversationRow,
        read_at_turn: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sms_conversations SET response_id = $1, position = $2, state = $3, \
             turns = $4, expires_at = $5, updated_at = $6 WHERE id = $7 AND turns = $8",
        )
        .bind(&c.response_id)
        .bind(&c.position)
        .bind(&c.state)
        .bind(c.turns)
        .bind(c.expires_at)
        .bind(now_ms())
        .bind(&c.id)
        .bind(read_at_turn)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Closes the open conversations of a phone in an organization (it unsubscribed).
    pub async fn close_conversations_of_phone(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        phone: &str,
    ) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE sms_conversations SET state = 'closed', position = NULL, updated_at = $1 \
             WHERE org_id = $2 AND phone = $3 AND state = 'open'",
        )
        .bind(now_ms())
        .bind(org_id)
        .bind(phone)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected())
    }

    /// Closes one conversation whose invitation could not be sent.
    pub async fn close_conversation(tx: &mut Transaction<'_, Any>, id: &str) -> Result<()> {
        sqlx::query(
            "UPDATE sms_conversations SET state = 'closed', position = NULL, updated_at = $1 \
             WHERE id = $2 AND state = 'open'",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// A status callback kept until its message's sid is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlyStatus {
    pub status: String,
    pub error_code: Option<i64>,
}

/// Early statuses older than this are for messages Sonde never recorded: forgotten.
const EARLY_STATUS_KEPT_MS: i64 = 24 * 3_600_000;

impl Store {
    /// Keeps a status callback for a sid no recipient has (yet).
    pub async fn keep_early_status(
        tx: &mut Transaction<'_, Any>,
        message_sid: &str,
        status: &str,
        error_code: Option<i64>,
    ) -> Result<()> {
        let now = now_ms();
        sqlx::query("DELETE FROM sms_early_statuses WHERE received_at < $1")
            .bind(now - EARLY_STATUS_KEPT_MS)
            .execute(&mut **tx)
            .await?;
        sqlx::query(
            "INSERT INTO sms_early_statuses (message_sid, status, error_code, received_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (message_sid, status) DO NOTHING",
        )
        .bind(message_sid)
        .bind(status)
        .bind(error_code)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The statuses kept for any of these sids (a batch just recorded), removed as they are
    /// taken: one statement for the batch, which mostly finds none.
    pub async fn take_early_statuses_of(
        tx: &mut Transaction<'_, Any>,
        message_sids: &[&str],
    ) -> Result<Vec<(String, EarlyStatus)>> {
        let mut taken = Vec::new();
        // One parameter each: see recipients::MULTI_ROW on binding costs.
        for chunk in message_sids.chunks(128) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "DELETE FROM sms_early_statuses WHERE message_sid IN ({}) \
                 RETURNING message_sid, status, error_code",
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for sid in chunk {
                q = q.bind(*sid);
            }
            for r in q.fetch_all(&mut **tx).await? {
                taken.push((
                    r.try_get("message_sid")?,
                    EarlyStatus {
                        status: r.try_get("status")?,
                        error_code: r.try_get("error_code")?,
                    },
                ));
            }
        }
        Ok(taken)
    }

    /// Whether a recipient has this message sid recorded, read outside any transaction (a
    /// status callback's quick look before it writes).
    pub async fn has_provider_id(&self, provider_id: &str) -> Result<bool> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM distribution_recipients WHERE provider_id = $1")
                .bind(provider_id)
                .fetch_optional(self.pool())
                .await?;
        Ok(found.is_some())
    }

    /// The statuses kept for a sid, removed as they are taken.
    pub async fn take_early_statuses(
        tx: &mut Transaction<'_, Any>,
        message_sid: &str,
    ) -> Result<Vec<EarlyStatus>> {
        let rows = sqlx::query(
            "DELETE FROM sms_early_statuses WHERE message_sid = $1 RETURNING status, error_code",
        )
        .bind(message_sid)
        .fetch_all(&mut **tx)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EarlyStatus {
                    status: r.try_get("status")?,
                    error_code: r.try_get("error_code")?,
                })
            })
            .collect()
    }
}
