//! A reply arriving from a phone: the gateway stores it, acts on opt-out/opt-in/help words
//! as Twilio does by default (blocks or unblocks the pair and answers with its standard
//! text), posts it to the number's webhook signed as Twilio signs, and sends back whatever
//! `<Message>`s the TwiML answer holds, so a whole two-way conversation can be read back.

use crate::delivery::{self, post_signed};
use crate::gateway::{Gateway, Stored};
use serde::Serialize;
use std::sync::Arc;
use twilio_wire::messages::{code, is_e164, to_params};
use twilio_wire::twiml::parse_messaging_response;
use twilio_wire::{Direction, InboundMessage, Keyword, Message, MessageStatus, API_VERSION};

/// What one injected reply led to.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Injection {
    /// The incoming message as stored.
    pub message: Message,
    /// `unsubscribe`, `resubscribe` or `help` when the body is one of Twilio's keywords.
    pub keyword: Option<&'static str>,
    /// The webhook call, if the number has a webhook.
    pub webhook: Option<WebhookCall>,
    /// What was sent back: the gateway's keyword answer, then the TwiML `<Message>`s.
    pub replies: Vec<Message>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookCall {
    pub url: String,
    pub signature: String,
    pub status: Option<u16>,
    pub content_type: Option<String>,
    pub body: Option<String>,
    /// Twilio's error for a webhook that failed (11200 retrieval failure, 12100 parse failure).
    pub error: Option<String>,
}

/// Twilio's default answers to its keywords (in our words).
fn keyword_answer(k: Keyword) -> (&'static str, &'static str) {
    match k {
        Keyword::Unsubscribe => (
            "unsubscribe",
            "You are unsubscribed and will get no more messages from this number. Reply START to resubscribe.",
        ),
        Keyword::Resubscribe => (
            "resubscribe",
            "You are subscribed again to messages from this number. Reply HELP for help, STOP to unsubscribe.",
        ),
        Keyword::Help => (
            "help",
            "Reply STOP to unsubscribe. Message and data rates may apply.",
        ),
    }
}

pub(crate) async fn inject(
    gw: &Arc<Gateway>,
    from: &str,
    to: Option<&str>,
    body: &str,
) -> Result<Injection, String> {
    if !is_e164(from) {
        return Err(format!(
            "from: {from:?} is not an E.164 number (+ and digits)"
        ));
    }
    let number = match to {
        Some(t) if gw.account.numbers.iter().any(|n| n == t) => t.to_string(),
        Some(t) => {
            return Err(format!(
                "to: {t:?} is not one of the account's numbers ({})",
                gw.account.numbers.join(", ")
            ))
        }
        None => gw.account.numbers[0].clone(),
    };
    let service = Some(gw.account.messaging_service_sid.as_str());
    let incoming = gw.new_message(
        from,
        &number,
        body,
        Direction::Inbound,
        MessageStatus::Received,
        service,
    );
    store(gw, &incoming);

    let mut replies = Vec::new();
    let keyword = twilio_wire::keyword(body);
    if let Some(k) = keyword {
        let pair = (number.clone(), from.to_string());
        match k {
            Keyword::Unsubscribe => {
                gw.store.lock().opt_outs.insert(pair);
            }
            Keyword::Resubscribe => {
                gw.store.lock().opt_outs.remove(&pair);
            }
            Keyword::Help => {}
        }
        // The confirmation reaches the phone even after STOP: it is the last message.
        replies.push(reply(gw, &number, from, keyword_answer(k).1, false));
    }

    let webhook_url = gw.store.lock().webhook_for(&number);
    let webhook = match webhook_url {
        None => None,
        Some(url) => {
            let form = InboundMessage {
                message_sid: incoming.sid.clone(),
                sms_sid: incoming.sid.clone(),
                sms_message_sid: incoming.sid.clone(),
                account_sid: gw.account.account_sid.clone(),
                messaging_service_sid: incoming.messaging_service_sid.clone(),
                from: from.to_string(),
                to: number.clone(),
                body: body.to_string(),
                num_media: 0,
                num_segments: incoming.num_segments.parse().unwrap_or(1),
                sms_status: MessageStatus::Received,
                api_version: API_VERSION.into(),
                from_country: None,
                to_country: None,
            };
            let (attempt, answer) = post_signed(gw, &incoming.sid, &url, to_params(&form)).await;
            let mut call = WebhookCall {
                url,
                signature: attempt.signature,
                status: attempt.http_status,
                content_type: answer.as_ref().and_then(|a| a.content_type.clone()),
                body: answer.as_ref().map(|a| a.body.clone()),
                error: attempt
                    .error
                    .map(|e| format!("11200 HTTP retrieval failure: {e}")),
            };
            match answer {
                Some(a) if (200..300).contains(&a.status) => {
                    match parse_messaging_response(&a.body) {
                        Ok(messages) => {
                            for m in messages.into_iter().filter(|m| !m.body.is_empty()) {
                                let reply_from = m.from.unwrap_or_else(|| number.clone());
                                let reply_to = m.to.unwrap_or_else(|| from.to_string());
                                let blocked = gw.opted_out(&reply_from, &reply_to, false);
                                replies.push(reply(gw, &reply_from, &reply_to, &m.body, blocked));
                            }
                        }
                        Err(e) => call.error = Some(format!("12100 Document parse failure: {e}")),
                    }
                }
                Some(a) => {
                    call.error = Some(format!("11200 HTTP retrieval failure: status {}", a.status))
                }
                None => {}
            }
            Some(call)
        }
    };
    gw.mark_dirty();
    Ok(Injection {
        message: incoming,
        keyword: keyword.map(|k| keyword_answer(k).0),
        webhook,
        replies,
    })
}

fn store(gw: &Gateway, m: &Message) {
    gw.store.lock().push(Stored {
        message: m.clone(),
        status_callback: None,
    });
}

/// Stores a message sent back to the phone and carries it on; one to an opted-out phone
/// fails at once with 21610, as Twilio refuses it.
fn reply(gw: &Arc<Gateway>, from: &str, to: &str, body: &str, blocked: bool) -> Message {
    let mut m = gw.new_message(
        from,
        to,
        body,
        Direction::OutboundReply,
        MessageStatus::Queued,
        Some(&gw.account.messaging_service_sid),
    );
    if blocked {
        m.status = MessageStatus::Failed;
        m.error_code = Some(code::UNSUBSCRIBED_RECIPIENT);
        m.error_message = Some(delivery::error_message(code::UNSUBSCRIBED_RECIPIENT).into());
    }
    store(gw, &m);
    if !blocked {
        delivery::start(gw.clone(), m.sid.clone());
    }
    m
}
