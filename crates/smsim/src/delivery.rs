//! What happens to a message after it is accepted: it moves through its statuses one step
//! at a time (the gateway's `step_delay` apart), and each change is posted to the message's
//! `StatusCallback`, signed with `X-Twilio-Signature` as Twilio signs. One task per message
//! posts its callbacks in order, each after the previous one was answered.
//!
//! The recipient's number decides the outcome, so tests and the demo can reach every path:
//! - ending in `0000`: `undelivered`, error 30003 (unreachable handset);
//! - ending in `0001`: `failed`, error 30008 (unknown error);
//! - anything else: `delivered`.
//!
//! Messages sent through the messaging service start `accepted`, so their first callback is
//! `queued`; direct sends start `queued`, so theirs is `sent`.

use crate::gateway::{CallbackAttempt, Gateway};
use chrono::Utc;
use std::sync::Arc;
use twilio_wire::messages::{code, date, to_params};
use twilio_wire::{MessageStatus, StatusCallback};

/// A status a message reaches, with the error code that comes with it.
pub type Step = (MessageStatus, Option<u32>);

/// The statuses a message to `to` goes through after it is created.
pub fn plan(to: &str) -> Vec<Step> {
    use MessageStatus::*;
    if to.ends_with("0000") {
        vec![
            (Queued, None),
            (Sent, None),
            (Undelivered, Some(code::UNREACHABLE_HANDSET)),
        ]
    } else if to.ends_with("0001") {
        vec![(Queued, None), (Failed, Some(code::UNKNOWN_ERROR))]
    } else {
        vec![(Queued, None), (Sent, None), (Delivered, None)]
    }
}

pub fn error_message(code: u32) -> &'static str {
    match code {
        code::UNREACHABLE_HANDSET => "Unreachable destination handset",
        code::UNKNOWN_ERROR => "Unknown error",
        code::UNSUBSCRIBED_RECIPIENT => "Attempt to send to unsubscribed recipient",
        _ => "Error",
    }
}

/// Starts carrying a stored message on (also after a restart, from where it stopped).
pub(crate) fn start(gw: Arc<Gateway>, sid: String) {
    tokio::spawn(async move { carry(gw, sid).await });
}

async fn carry(gw: Arc<Gateway>, sid: String) {
    let Some(to) = gw.store.lock().get(&sid).map(|s| s.message.to.clone()) else {
        return;
    };
    for (status, error) in plan(&to) {
        tokio::time::sleep(gw.step_delay).await;
        if gw.stopped.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let callback = {
            let mut store = gw.store.lock();
            let Some(stored) = store.get_mut(&sid) else {
                return; // deleted meanwhile
            };
            let m = &mut stored.message;
            if !status.advances(m.status) {
                continue;
            }
            let now = Utc::now();
            m.status = status;
            m.date_updated = date(now);
            if status == MessageStatus::Sent || (status.is_final() && m.date_sent.is_none()) {
                m.date_sent = Some(date(now));
            }
            m.error_code = error;
            m.error_message = error.map(|c| error_message(c).to_string());
            stored.status_callback.clone().map(|url| {
                let done = matches!(
                    status,
                    MessageStatus::Delivered | MessageStatus::Undelivered
                );
                let form = StatusCallback {
                    account_sid: m.account_sid.clone(),
                    api_version: m.api_version.clone(),
                    message_sid: m.sid.clone(),
                    sms_sid: m.sid.clone(),
                    message_status: status,
                    sms_status: status,
                    from: m.from.clone(),
                    to: m.to.clone(),
                    error_code: error,
                    messaging_service_sid: m.messaging_service_sid.clone(),
                    raw_dlr_done_date: done.then(|| now.format("%y%m%d%H%M").to_string()),
                };
                (url, to_params(&form))
            })
        };
        gw.mark_dirty();
        if let Some((url, params)) = callback {
            post_signed(&gw, &sid, &url, params).await;
        }
    }
}

/// How a webhook answered.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

/// Posts a form to `url` signed as Twilio signs, logs the attempt, and returns the answer
/// (None if the receiver could not be reached).
pub(crate) async fn post_signed(
    gw: &Gateway,
    message_sid: &str,
    url: &str,
    params: Vec<(String, String)>,
) -> (CallbackAttempt, Option<Answer>) {
    let signature = twilio_wire::signature(&gw.account.auth_token, url, &params);
    let sent = gw
        .http
        .post(url)
        .header(twilio_wire::SIGNATURE_HEADER, &signature)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(twilio_wire::messages::encode_form(&params))
        .send()
        .await;
    let (answer, error) = match sent {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let content_type = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            match resp.text().await {
                Ok(body) => (
                    Some(Answer {
                        status,
                        content_type,
                        body,
                    }),
                    None,
                ),
                Err(e) => (None, Some(format!("reading the answer: {e}"))),
            }
        }
        Err(e) => (None, Some(e.to_string())),
    };
    if let Some(e) = &error {
        tracing::warn!(%url, error = %e, "smsim: callback not delivered");
    }
    let attempt = CallbackAttempt {
        message_sid: message_sid.to_string(),
        url: url.to_string(),
        params,
        signature,
        http_status: answer.as_ref().map(|a| a.status),
        error,
        at: Utc::now().to_rfc3339(),
    };
    gw.store.lock().log(attempt.clone());
    (attempt, answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_number_decides_the_outcome() {
        let last = |to: &str| *plan(to).last().unwrap();
        assert_eq!(last("+15558675310"), (MessageStatus::Delivered, None));
        assert_eq!(
            last("+15550000000"),
            (MessageStatus::Undelivered, Some(30003))
        );
        assert_eq!(last("+15550000001"), (MessageStatus::Failed, Some(30008)));
        for to in ["+15558675310", "+15550000000", "+15550000001"] {
            let steps = plan(to);
            for w in steps.windows(2) {
                assert!(w[1].0.advances(w[0].0), "{to}: {:?}", steps);
            }
        }
    }
}
