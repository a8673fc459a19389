//! What Twilio calls Sonde back with: each message's status changes, and the replies sent to
//! the account's numbers. Both are refused unless signed with the account's auth token (the
//! web layer asks [`Sonde::verify_twilio`] first).
//!
//! - **Status callbacks** move a recipient forward only (`MessageStatus::advances`: a late
//!   "sent" never undoes "delivered"), by a guarded update, so two callbacks at once cannot
//!   both apply.
//! - **Replies.** An opt-out word (STOP and the rest) sets the phone's own opt-out
//!   (`contacts.sms_unsubscribed`, with its history) for the contacts with that phone in the
//!   organizations that texted it — no one else's — and closes their open conversations; an
//!   opt-in word (START, YES, UNSTOP) lifts it. Anything else (and YES, which may be an
//!   answer) goes to the phone's open two-way conversation: read against the question it is
//!   at (`distribution::two_way::read_reply`), recorded in the response as it arrives, the
//!   next question (or a hint, or the end message) queued in the same transaction. A
//!   conversation ends finished after the last question, or with its response when that is
//!   closed as incomplete after the survey's window (`close_abandoned_responses`).

use crate::sms_sending::{queue_reply, starting_data, Reply};
use crate::surveys::Survey;
use crate::{Error, Result, Sonde};
use distribution::two_way::{self, Position, Turn};
use std::collections::BTreeMap;
use store::responses::{ResponseRow, ResponseStatus};
use store::sms::ConversationRow;
use store::Store;
use survey::piped::PipeContext;
use survey::ResponseData;
use twilio_wire::messages::from_params;
use twilio_wire::{InboundMessage, Keyword, MessageStatus, StatusCallback};

/// How long a conversation waits for its next reply: the survey's incomplete window (at
/// least the shortest allowed), as a response on the web waits.
pub(crate) fn window_ms(survey: &Survey) -> i64 {
    let hours = survey
        .definition
        .options
        .incomplete_after_hours
        .max(survey::limits::MIN_INCOMPLETE_AFTER_HOURS);
    i64::from(hours) * 3_600_000
}

/// The status a recipient's state stands for, to tell whether a callback advances it.
fn recorded_status(state: &str) -> MessageStatus {
    match state {
        "sent" => MessageStatus::Sent,
        "delivered" => MessageStatus::Delivered,
        "undelivered" => MessageStatus::Undelivered,
        "failed" => MessageStatus::Failed,
        // Not yet recorded as taken by Twilio (the callback beat the worker's record).
        _ => MessageStatus::Accepted,
    }
}

/// Moves a recipient in `state` forward to what `status` says, if it advances it (a guarded
/// update: a recipient moved meanwhile is left to the other callback). A failed message closes
/// its conversation. Answers the state after.
pub(crate) async fn apply_status(
    tx: &mut store::Transaction<'_, store::Any>,
    recipient_id: &str,
    state: &str,
    status: MessageStatus,
    error_code: Option<u32>,
) -> Result<String> {
    if !status.advances(recorded_status(state)) {
        return Ok(state.to_string());
    }
    let to = match status {
        MessageStatus::Sent => "sent",
        MessageStatus::Delivered | MessageStatus::Read | MessageStatus::PartiallyDelivered => {
            "delivered"
        }
        MessageStatus::Undelivered => "undelivered",
        MessageStatus::Failed | MessageStatus::Canceled => "failed",
        _ => return Ok(state.to_string()),
    };
    let detail = error_code.map(|code| format!("{code} {}", crate::sms::delivery_error(code)));
    if to == state
        || !Store::advance_recipient_state(tx, recipient_id, state, to, detail.as_deref()).await?
    {
        return Ok(state.to_string());
    }
    if status.is_failure() {
        // The question never reached the phone: no reply will be read as an answer to it.
        Store::close_conversation(tx, recipient_id).await?;
    }
    Ok(to.to_string())
}

/// Tries at reading one reply when another reply of the same phone was read meanwhile.
const REPLY_ATTEMPTS: usize = 5;

impl Sonde {
    /// Whether a webhook request was signed by the configured account: `path_and_query` is
    /// what Twilio requested, on Sonde's public URL (the URL Twilio was given). Forbidden
    /// without an SMS gateway, as nothing can be checked.
    pub fn verify_twilio(
        &self,
        path_and_query: &str,
        params: &[(String, String)],
        signature: Option<&str>,
    ) -> Result<()> {
        let Some(gateway) = self.sms() else {
            return Err(Error::Forbidden(
                "no SMS gateway is configured (SONDE_TWILIO_ACCOUNT_SID): Twilio webhooks cannot be verified".into(),
            ));
        };
        let url = format!("{}{path_and_query}", self.public_url());
        match signature {
            None => Err(Error::Forbidden(
                "the request is not signed: X-Twilio-Signature is missing".into(),
            )),
            Some(sig) if gateway.verify(&url, params, sig) => Ok(()),
            Some(_) => Err(Error::Forbidden(format!(
                "X-Twilio-Signature does not match this request to {url} signed with the account's auth token"
            ))),
        }
    }

    /// A status callback (already verified): moves the message's recipient forward. Answers
    /// the recipient's state after it (None for a message no recipient has yet).
    ///
    /// Twilio may call back before the worker has recorded the message's sid. So, unless the
    /// sid is recorded already (then the status is applied at once, one transaction), the
    /// callback is first kept and committed, then applied to the recipient with that sid if
    /// there is one; the worker, once its record is committed, applies what is kept for its
    /// sids ([`Sonde::apply_early_statuses_of`]). Whichever commits last finds the other's
    /// write, so no status is lost; taking a kept status deletes it, so none is applied twice.
    pub async fn sms_status_callback(&self, params: &[(String, String)]) -> Result<Option<String>> {
        let cb: StatusCallback = from_params(params)
            .map_err(|e| Error::invalid(format!("not a Twilio status callback: {e}")))?;
        let code = cb.error_code;
        if self.store.has_provider_id(&cb.message_sid).await? {
            let mut tx = self.store.begin().await?;
            if let Some(r) = Store::recipient_by_provider_id(&mut tx, &cb.message_sid).await? {
                let state = apply_status(&mut tx, &r.id, &r.state, cb.message_status, code).await?;
                tx.commit().await?;
                return Ok(Some(state));
            }
        }
        let mut tx = self.store.begin().await?;
        Store::keep_early_status(
            &mut tx,
            &cb.message_sid,
            cb.message_status.as_str(),
            code.map(i64::from),
        )
        .await?;
        tx.commit().await?;
        // Recorded meanwhile? Otherwise the worker's record, committed after this look, will
        // find what was kept.
        if !self.store.has_provider_id(&cb.message_sid).await? {
            return Ok(None);
        }
        let mut applied = self.apply_early_statuses_of(&[&cb.message_sid]).await?;
        Ok(applied.pop())
    }

    /// Applies the statuses kept for these messages (a batch just recorded, or one callback's)
    /// to their recipients, furthest last, in one transaction; answers the states they came
    /// to, of those with a recipient (the others' statuses stay kept).
    pub(crate) async fn apply_early_statuses_of(&self, sids: &[&str]) -> Result<Vec<String>> {
        let mut tx = self.store.begin().await?;
        let mut kept: BTreeMap<String, Vec<store::sms::EarlyStatus>> = BTreeMap::new();
        for (sid, status) in Store::take_early_statuses_of(&mut tx, sids).await? {
            kept.entry(sid).or_default().push(status);
        }
        let mut states = Vec::new();
        for (sid, mut statuses) in kept {
            let Some(r) = Store::recipient_by_provider_id(&mut tx, &sid).await? else {
                // Not recorded yet: the statuses go back, for the worker's record to find.
                for e in statuses {
                    Store::keep_early_status(&mut tx, &sid, &e.status, e.error_code).await?;
                }
                continue;
            };
            statuses.sort_by_key(|e| e.status.parse::<MessageStatus>().map_or(0, |s| s.stage()));
            let mut state = r.state.clone();
            for e in statuses {
                let Ok(status) = e.status.parse::<MessageStatus>() else {
                    continue;
                };
                let code = e.error_code.and_then(|c| u32::try_from(c).ok());
                state = apply_status(&mut tx, &r.id, &state, status, code).await?;
            }
            states.push(state);
        }
        tx.commit().await?;
        Ok(states)
    }

    /// A reply to one of the account's numbers (already verified); answers the TwiML to
    /// return. Messages Sonde sends in turn go through the queue, so the TwiML is empty.
    pub async fn sms_inbound(&self, params: &[(String, String)]) -> Result<String> {
        let msg: InboundMessage = from_params(params)
            .map_err(|e| Error::invalid(format!("not a Twilio incoming message: {e}")))?;
        let phone = msg.from.trim().to_string();
        let empty = twilio_wire::twiml::messaging_response::<&str>(&[]);
        match twilio_wire::keyword(&msg.body) {
            Some(Keyword::Unsubscribe) => {
                self.change_phone_subscription(&phone, &msg.to, &msg.body, true)
                    .await?;
                return Ok(empty);
            }
            Some(Keyword::Resubscribe) => {
                self.change_phone_subscription(&phone, &msg.to, &msg.body, false)
                    .await?;
                // START and UNSTOP are no answer; YES may be one.
                if !msg.body.trim().eq_ignore_ascii_case("yes") {
                    return Ok(empty);
                }
            }
            // Twilio answers HELP itself.
            Some(Keyword::Help) => return Ok(empty),
            None => {}
        }
        self.read_conversation_reply(&phone, &msg.body).await?;
        Ok(empty)
    }

    /// STOP or START from a phone, for the organizations that texted it.
    async fn change_phone_subscription(
        &self,
        phone: &str,
        number: &str,
        word: &str,
        unsubscribed: bool,
    ) -> Result<()> {
        let detail = format!(
            "replied {} to {number}: text messages {}",
            word.trim().to_uppercase(),
            if unsubscribed {
                "stopped"
            } else {
                "allowed again"
            }
        );
        let mut tx = self.store.begin().await?;
        for org in Store::organizations_that_texted(&mut tx, phone).await? {
            let changed =
                Store::change_sms_subscription(&mut tx, &org, phone, unsubscribed, &detail).await?;
            if unsubscribed {
                Store::close_conversations_of_phone(&mut tx, &org, phone).await?;
                // A triggered text's STOP is the Salesforce record's too (its SMS checkbox).
                if let Some(d) =
                    Store::latest_triggered_distribution_to(&mut tx, &org, phone).await?
                {
                    if let Some(w) = self.salesforce_opt_out_write(&org, &d, true).await? {
                        crate::delivery::fire_opt_out(&mut tx, &w).await?;
                    }
                }
            }
            tracing::info!(org = %org, contacts = changed.len(), unsubscribed, "SMS opt-out word");
        }
        tx.commit().await?;
        Ok(())
    }

    /// Reads a reply in the phone's open conversation, if it has one.
    async fn read_conversation_reply(&self, phone: &str, body: &str) -> Result<()> {
        for _ in 0..REPLY_ATTEMPTS {
            if self.read_reply_once(phone, body).await? {
                return Ok(());
            }
        }
        Err(Error::Conflict(
            "replies from this phone keep arriving at once; this one was not read".into(),
        ))
    }

    /// One try: false when another reply of the conversation was read meanwhile.
    async fn read_reply_once(&self, phone: &str, body: &str) -> Result<bool> {
        // Everything is read first and written in one short transaction, guarded by the
        // conversation's turn count.
        let now = store::now_ms();
        let Some(mut c) = self.store.open_conversation(phone, now).await? else {
            tracing::info!("an SMS reply outside any open conversation was not read");
            return Ok(true);
        };
        let read_at = c.turns;
        c.turns += 1;
        let Some(survey) = self.conversation_survey(&c).await? else {
            c.state = "closed".into();
            c.position = None;
            let mut tx = self.store.begin().await?;
            let saved = Store::save_conversation_turn(&mut tx, &c, read_at).await?;
            tx.commit().await?;
            return Ok(saved);
        };
        let existing = match &c.response_id {
            Some(id) => self.store.response(&c.org_id, id).await?,
            None => None,
        };
        if c.response_id.is_some()
            && existing
                .as_ref()
                .is_none_or(|r| r.status != ResponseStatus::InProgress)
        {
            // Closed as incomplete (or deleted) meanwhile: the conversation is over.
            c.state = "closed".into();
            c.position = None;
            let mut tx = self.store.begin().await?;
            let saved = Store::save_conversation_turn(&mut tx, &c, read_at).await?;
            tx.commit().await?;
            return Ok(saved);
        }
        let contact = self.contact_fields(&c.org_id, Some(&c.contact_id)).await?;
        let mut data: ResponseData = match &existing {
            Some(r) => serde_json::from_str(&r.data)?,
            None => {
                let triggered = self
                    .triggered_by(&c.org_id, &c.distribution_id)
                    .await?
                    .unwrap_or_default();
                starting_data(&survey, &contact, &triggered.embedded_data)
            }
        };
        let position: Position = match &c.position {
            Some(p) => serde_json::from_str(p)?,
            None => return Ok(true),
        };
        let links = BTreeMap::from([(
            "SurveyURL".to_string(),
            format!(
                "{}/s/{}?l={}",
                self.public_url(),
                c.survey_id,
                c.link_token.clone().unwrap_or_default()
            ),
        )]);
        let question = two_way::question_at(&survey.definition, &position).cloned();
        let turn = match &question {
            Some(q) => match two_way::read_reply(q, body) {
                two_way::Reply::Reask { hint } => {
                    let ctx = PipeContext {
                        contact: &contact,
                        links: &links,
                        ..PipeContext::new(&survey.definition, &data)
                    };
                    let text = format!("{hint}\n\n{}", two_way::prompt(q, &ctx));
                    let mut tx = self.store.begin().await?;
                    if !Store::save_conversation_turn(&mut tx, &c, read_at).await? {
                        return Ok(false);
                    }
                    self.queue_conversation_message(&mut tx, &c, text).await?;
                    tx.commit().await?;
                    return Ok(true);
                }
                two_way::Reply::Answer(answer) => {
                    data.answers.insert(q.id.clone(), answer);
                    let ctx = PipeContext {
                        contact: &contact,
                        links: &links,
                        ..PipeContext::new(&survey.definition, &data)
                    };
                    two_way::next(&ctx, &position)
                }
            },
            // The question is gone from the survey: carry on after it.
            None => {
                let ctx = PipeContext {
                    contact: &contact,
                    links: &links,
                    ..PipeContext::new(&survey.definition, &data)
                };
                two_way::next(&ctx, &position)
            }
        };
        let mut row = existing.unwrap_or_else(|| ResponseRow {
            id: store::ids::response(),
            org_id: c.org_id.clone(),
            survey_id: c.survey_id.clone(),
            survey_version: survey.version,
            contact_id: Some(c.contact_id.clone()),
            status: ResponseStatus::InProgress,
            data: String::new(),
            cursor: None,
            progress: 0,
            channel: survey::DistributionChannel::SmsTwoWay.as_str().into(),
            started_at: now,
            updated_at: now,
            ended_at: None,
            recorded_at: None,
            expires_at: None,
        });
        row.data = serde_json::to_string(&data)?;
        row.updated_at = now;
        let text = match turn {
            Turn::Ask { position, text, .. } => {
                // The web resumes a response at its cursor: the page of the question asked.
                let cursor: Option<survey::flow::Cursor> = serde_json::to_value(&position)?
                    .get("cursor")
                    .cloned()
                    .and_then(|v| serde_json::from_value(v).ok());
                if let Some(cursor) = &cursor {
                    row.progress = i64::from(survey::flow::progress(&survey.definition, cursor));
                    row.cursor = Some(serde_json::to_string(cursor)?);
                }
                row.expires_at = Some(now + window_ms(&survey));
                c.position = Some(serde_json::to_string(&position)?);
                c.expires_at = now + window_ms(&survey);
                text
            }
            Turn::End { text } => {
                row.status = ResponseStatus::Complete;
                row.cursor = None;
                row.progress = 100;
                row.ended_at = Some(now);
                row.recorded_at = Some(now);
                row.expires_at = None;
                c.position = None;
                c.state = "finished".into();
                text
            }
        };
        let mut tx = self.store.begin().await?;
        if c.response_id.is_none() {
            if let Some(token) = &c.link_token {
                if !Store::claim_personal_link(&mut tx, token, &row.id).await? {
                    // Answered through the link on the web meanwhile: that response stands.
                    tx.rollback().await?;
                    return self.answered_elsewhere(c, read_at).await;
                }
            }
            Store::insert_response(&mut tx, &row).await?;
            if let Some(token) = &c.link_token {
                Store::record_response_distribution(&mut tx, token, &row.id).await?;
            }
            c.response_id = Some(row.id.clone());
        } else if !Store::update_open_response(&mut tx, &row).await? {
            return Ok(false);
        }
        if !Store::save_conversation_turn(&mut tx, &c, read_at).await? {
            return Ok(false);
        }
        if row.status == ResponseStatus::Complete {
            crate::delivery::fire(&mut tx, &row, crate::workflows::Event::ResponseCreated).await?;
        }
        self.queue_conversation_message(&mut tx, &c, text).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The personal link of the conversation was used on the web first: the conversation
    /// ends, saying so.
    async fn answered_elsewhere(&self, mut c: ConversationRow, read_at: i64) -> Result<bool> {
        let mut tx = self.store.begin().await?;
        c.state = "closed".into();
        c.position = None;
        if !Store::save_conversation_turn(&mut tx, &c, read_at).await? {
            return Ok(false);
        }
        let text = "You have already answered this survey through its link. Thank you!".to_string();
        self.queue_conversation_message(&mut tx, &c, text).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn queue_conversation_message(
        &self,
        tx: &mut store::Transaction<'_, store::Any>,
        c: &ConversationRow,
        body: String,
    ) -> Result<()> {
        queue_reply(
            tx,
            &c.org_id,
            &Reply {
                to: c.phone.clone(),
                body,
                conversation_id: Some(c.id.clone()),
            },
        )
        .await
        .map(|_| ())
    }

    /// The survey as the conversation asks it: the version it started on, or the current one
    /// when that version is gone. None when the survey is gone.
    async fn conversation_survey(&self, c: &ConversationRow) -> Result<Option<Survey>> {
        let Some(row) = self.store.survey(&c.org_id, &c.survey_id).await? else {
            return Ok(None);
        };
        let current = self.survey_from_row(row).await?;
        if current.version == c.survey_version {
            return Ok(Some(current));
        }
        match self.definition(&c.survey_id, c.survey_version).await {
            Ok(definition) => Ok(Some(Survey {
                version: c.survey_version,
                definition,
                ..current
            })),
            Err(Error::NotFound(_)) => Ok(Some(current)),
            Err(e) => Err(e),
        }
    }
}
