//! What a distribution came to: counters made from its recipients' states and reasons (one
//! grouped count), what its links led to, and the recipient list page by page.

use crate::{Actor, Error, FieldProblem, Result, Sonde};
use serde::Serialize;
use store::distributions::DistributionRow;
use store::recipients::{RecipientCount, RecipientRow};

/// A distribution's invitations, counted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DistributionStats {
    /// Contacts of the audience decided so far, sent to or not.
    pub selected: i64,
    pub opted_out: i64,
    pub frequency_capped: i64,
    pub missing_email: i64,
    pub invalid_email: i64,
    pub missing_phone: i64,
    pub invalid_phone: i64,
    /// Skipped: another recipient of this distribution has the address.
    pub duplicates: i64,
    /// Waiting to be sent, or being sent.
    pub queued: i64,
    /// Accepted by the mail server (or the SMS provider).
    pub sent: i64,
    /// Could not be sent (after retries), or an error of ours.
    pub failed: i64,
    /// Refused by the mail server for good (5xx).
    pub bounced: i64,
    /// Delivered to the phone (SMS).
    pub delivered: i64,
    /// Invitations whose link was opened (a GET of it).
    pub opened: i64,
    /// Responses started through the distribution's links.
    pub started: i64,
    pub finished: i64,
    /// `finished` / `sent` (0 before anything is sent).
    pub response_rate: f64,
}

/// A reminder's or thank-you's messages, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FollowUpStats {
    pub selected: i64,
    pub opted_out: i64,
    pub skipped: i64,
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
    pub bounced: i64,
}

/// What a recipient state counts as.
fn is_sent(state: &str) -> bool {
    matches!(state, "sent" | "delivered" | "undelivered")
}

fn is_queued(state: &str) -> bool {
    matches!(state, "queued" | "sending")
}

impl FollowUpStats {
    pub(crate) fn of(step: i64, counts: &[RecipientCount]) -> Self {
        let mut s = Self::default();
        for c in counts.iter().filter(|c| c.step == step) {
            s.selected += c.count;
            match c.state.as_str() {
                "skipped" if c.reason.as_deref() == Some("unsubscribed") => s.opted_out += c.count,
                "skipped" => s.skipped += c.count,
                "failed" => s.failed += c.count,
                "bounced" => s.bounced += c.count,
                state if is_queued(state) => s.queued += c.count,
                state if is_sent(state) => s.sent += c.count,
                _ => {}
            }
        }
        s
    }
}

/// One recipient, as the recipient list shows them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    pub id: String,
    pub contact_id: String,
    /// `invitation`, `reminder` or `thank_you`.
    pub kind: String,
    /// The address it went to (or would have).
    pub address: Option<String>,
    /// queued | skipped | sending | sent | failed | bounced | delivered | undelivered
    pub state: String,
    /// A skip's code: unsubscribed, missing_email, invalid_email, missing_phone, invalid_phone,
    /// duplicate, frequency_capped.
    pub reason_code: Option<String>,
    /// The reason in words, or the mail server's text for a bounce or failure.
    pub reason: Option<String>,
    pub attempts: i64,
    /// RFC 3339.
    pub created_at: String,
    pub sent_at: Option<String>,
    pub opened_at: Option<String>,
    pub updated_at: String,
}

impl From<RecipientRow> for Recipient {
    fn from(r: RecipientRow) -> Self {
        let rfc = crate::responses::rfc3339;
        Self {
            id: r.id,
            contact_id: r.contact_id,
            kind: r.kind,
            address: r.address,
            state: r.state,
            reason_code: r.reason,
            reason: r.detail,
            attempts: r.attempts,
            created_at: rfc(r.created_at),
            sent_at: r.sent_at.map(rfc),
            opened_at: r.opened_at.map(rfc),
            updated_at: rfc(r.updated_at),
        }
    }
}

/// A page of recipients, in the order they were decided.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecipientPage {
    pub recipients: Vec<Recipient>,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<String>,
}

impl Sonde {
    pub(crate) async fn distribution_stats(
        &self,
        row: &DistributionRow,
        counts: &[RecipientCount],
    ) -> Result<DistributionStats> {
        let mut s = DistributionStats::default();
        for c in counts.iter().filter(|c| c.step == 0) {
            s.selected += c.count;
            let n = c.count;
            match (c.state.as_str(), c.reason.as_deref()) {
                ("skipped", Some("unsubscribed")) => s.opted_out += n,
                ("skipped", Some("frequency_capped")) => s.frequency_capped += n,
                ("skipped", Some("missing_email")) => s.missing_email += n,
                ("skipped", Some("invalid_email")) => s.invalid_email += n,
                ("skipped", Some("missing_phone")) => s.missing_phone += n,
                ("skipped", Some("invalid_phone")) => s.invalid_phone += n,
                ("skipped", Some("duplicate")) => s.duplicates += n,
                ("failed", _) => s.failed += n,
                ("bounced", _) => s.bounced += n,
                (state, _) if is_queued(state) => s.queued += n,
                (state, _) if is_sent(state) => {
                    s.sent += n;
                    if state == "delivered" {
                        s.delivered += n;
                    }
                }
                _ => {}
            }
        }
        let (opened, started, finished) = self
            .store
            .distribution_engagement(&row.org_id, &row.id)
            .await?;
        s.opened = opened;
        s.started = started;
        s.finished = finished;
        if s.sent > 0 {
            s.response_rate = (finished as f64 / s.sent as f64 * 10_000.0).round() / 10_000.0;
        }
        Ok(s)
    }

    /// A page of a distribution's recipients (every message: invitations, then reminders and
    /// thank-yous as they are decided); `after` is the `next` of the page before.
    pub async fn distribution_recipients(
        &self,
        actor: &Actor,
        id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<RecipientPage> {
        let row = self.distribution_row(actor, id).await?;
        let cursor = after.map(parse_cursor).transpose()?;
        let limit = limit.clamp(1, 1000);
        let mut rows = self
            .store
            .recipients_of(&row.org_id, &row.id, cursor, limit as i64 + 1)
            .await?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = more
            .then(|| rows.last().map(|r| format!("{}.{}", r.created_at, r.id)))
            .flatten();
        Ok(RecipientPage {
            recipients: rows.into_iter().map(Recipient::from).collect(),
            next,
        })
    }
}

fn parse_cursor(text: &str) -> Result<(i64, String)> {
    text.split_once('.')
        .and_then(|(at, id)| Some((at.parse().ok()?, id.to_string())))
        .ok_or_else(|| {
            Error::invalid_fields(
                "the page cursor is not one this API gave",
                vec![FieldProblem {
                    field: "after".into(),
                    message: "pass the `next` of the page before, as it was".into(),
                }],
            )
        })
}
