//! What the catcher holds: the messages received (the newest `keep` of them, with a count
//! of all), and the refusals that make a recipient answer with an SMTP error instead.
//!
//! Besides configured refusals, two local parts refuse by convention, so a test or the demo
//! reaches the bounce and retry paths without configuring anything:
//! - `bounce` or `bounce+anything` → `550 5.1.1` (permanent: the sender marks it bounced);
//! - `defer` or `defer+anything` → `451 4.3.0` (temporary: the sender retries later).

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;

/// One message as received: the envelope and the raw bytes (dot-unstuffed).
#[derive(Clone, Debug)]
pub struct Received {
    pub id: u64,
    pub received_at: DateTime<Utc>,
    /// The client's EHLO/HELO name.
    pub helo: String,
    /// `MAIL FROM` (empty for a bounce).
    pub mail_from: String,
    /// Accepted `RCPT TO`s.
    pub rcpt_to: Vec<String>,
    /// The user name an `AUTH` gave, if the client authenticated.
    pub auth_user: Option<String>,
    pub raw: Arc<[u8]>,
}

/// A recipient that answers with an error instead of 250.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    /// An address (any letter case), or `@domain` for the whole domain.
    pub recipient: String,
    /// A 4xx (temporary) or 5xx (permanent) reply code; ignored with `disconnect`.
    #[serde(default = "permanent")]
    pub code: u16,
    /// The reply text (default: a standard one for the code).
    #[serde(default)]
    pub message: Option<String>,
    /// Refuse this many times, then accept (default: always).
    #[serde(default)]
    pub times: Option<u32>,
    /// Drop the connection instead of answering (a lost connection mid-send).
    #[serde(default)]
    pub disconnect: bool,
}

fn permanent() -> u16 {
    550
}

impl Refusal {
    fn matches(&self, address: &str) -> bool {
        let want = self.recipient.to_ascii_lowercase();
        let address = address.to_ascii_lowercase();
        match want.strip_prefix('@') {
            Some(domain) => address.rsplit_once('@').is_some_and(|(_, d)| d == domain),
            None => address == want,
        }
    }

    pub fn check(&self) -> Result<(), String> {
        if self.recipient.trim().is_empty() {
            return Err("recipient: empty".into());
        }
        if !self.disconnect && !(400..=599).contains(&self.code) {
            return Err(format!(
                "code: {} is not a 4xx or 5xx SMTP reply code",
                self.code
            ));
        }
        Ok(())
    }
}

/// How the server answers one `RCPT TO`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RcptVerdict {
    Accept,
    Reply(u16, String),
    Disconnect,
}

pub(crate) struct Mailbox {
    messages: Mutex<VecDeque<Received>>,
    refusals: Mutex<Vec<Refusal>>,
    keep: usize,
    pub max_size: usize,
    /// How many messages were received in all (the kept ones and those let go).
    received: tokio::sync::watch::Sender<u64>,
    /// SMTP connections accepted so far (a pooled sender opens few).
    pub connections: std::sync::atomic::AtomicU64,
}

impl Mailbox {
    pub fn new(keep: usize, max_size: usize, refusals: Vec<Refusal>) -> Mailbox {
        Mailbox {
            messages: Mutex::new(VecDeque::new()),
            refusals: Mutex::new(refusals),
            keep: keep.max(1),
            max_size,
            received: tokio::sync::watch::channel(0).0,
            connections: Default::default(),
        }
    }

    /// Stores a message; returns its id.
    pub fn store(
        &self,
        helo: &str,
        mail_from: &str,
        rcpt_to: Vec<String>,
        auth_user: Option<String>,
        raw: Vec<u8>,
    ) -> u64 {
        let mut id = 0;
        self.received.send_modify(|n| {
            *n += 1;
            id = *n;
        });
        let mut messages = self.messages.lock();
        if messages.len() >= self.keep {
            messages.pop_front();
        }
        messages.push_back(Received {
            id,
            received_at: Utc::now(),
            helo: helo.to_string(),
            mail_from: mail_from.to_string(),
            rcpt_to,
            auth_user,
            raw: raw.into(),
        });
        id
    }

    pub fn received_count(&self) -> u64 {
        *self.received.borrow()
    }

    /// Waits until `n` messages were received in all, or `timeout` passes.
    pub async fn wait_for(&self, n: u64, timeout: std::time::Duration) -> bool {
        let mut rx = self.received.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|&count| count >= n))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Newest first.
    pub fn messages(&self) -> Vec<Received> {
        self.messages.lock().iter().rev().cloned().collect()
    }

    pub fn get(&self, id: u64) -> Option<Received> {
        self.messages.lock().iter().find(|m| m.id == id).cloned()
    }

    pub fn clear(&self) {
        self.messages.lock().clear();
    }

    pub fn refusals(&self) -> Vec<Refusal> {
        self.refusals.lock().clone()
    }

    pub fn add_refusal(&self, r: Refusal) -> Result<(), String> {
        r.check()?;
        self.refusals.lock().push(r);
        Ok(())
    }

    pub fn clear_refusals(&self) {
        self.refusals.lock().clear();
    }

    /// The answer to `RCPT TO:<address>`: a configured refusal (using up one of its
    /// `times`), else the local-part convention, else accept.
    pub fn verdict(&self, address: &str) -> RcptVerdict {
        {
            let mut refusals = self.refusals.lock();
            if let Some(i) = refusals.iter().position(|r| r.matches(address)) {
                let r = refusals[i].clone();
                if let Some(t) = refusals[i].times.as_mut() {
                    *t = t.saturating_sub(1);
                    if *t == 0 {
                        refusals.remove(i);
                    }
                }
                if r.disconnect {
                    return RcptVerdict::Disconnect;
                }
                let text = r
                    .message
                    .unwrap_or_else(|| standard_text(r.code).to_string());
                return RcptVerdict::Reply(r.code, text);
            }
        }
        let local = address
            .split('@')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let is = |word: &str| local == word || local.starts_with(&format!("{word}+"));
        if is("bounce") {
            RcptVerdict::Reply(550, standard_text(550).into())
        } else if is("defer") {
            RcptVerdict::Reply(451, standard_text(451).into())
        } else {
            RcptVerdict::Accept
        }
    }
}

fn standard_text(code: u16) -> &'static str {
    match code {
        550 => "5.1.1 Mailbox unavailable: no such user here",
        551 => "5.1.6 User not local",
        552 => "5.2.2 Mailbox full",
        553 => "5.1.3 Mailbox name not allowed",
        421 => "4.3.2 Service not available, closing transmission channel",
        450 => "4.2.1 Mailbox busy, try again later",
        451 => "4.3.0 Temporary failure, try again later",
        452 => "4.2.2 Insufficient storage, try again later",
        c if c >= 500 => "5.0.0 Refused",
        _ => "4.0.0 Try again later",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(recipient: &str, code: u16, times: Option<u32>) -> Refusal {
        Refusal {
            recipient: recipient.into(),
            code,
            message: None,
            times,
            disconnect: false,
        }
    }

    #[test]
    fn refusals_match_addresses_and_domains_and_run_out() {
        let m = Mailbox::new(10, 1 << 20, vec![refusal("Ann@Example.org", 552, None)]);
        m.add_refusal(refusal("@full.example", 452, Some(2)))
            .unwrap();
        assert!(matches!(
            m.verdict("ann@example.ORG"),
            RcptVerdict::Reply(552, _)
        ));
        assert_eq!(m.verdict("bob@example.org"), RcptVerdict::Accept);
        assert!(matches!(
            m.verdict("x@full.example"),
            RcptVerdict::Reply(452, _)
        ));
        assert!(matches!(
            m.verdict("y@full.example"),
            RcptVerdict::Reply(452, _)
        ));
        assert_eq!(
            m.verdict("z@full.example"),
            RcptVerdict::Accept,
            "used up after two"
        );
        assert!(m.add_refusal(refusal("a@b", 250, None)).is_err());
    }

    #[test]
    fn bounce_and_defer_local_parts_refuse_by_convention() {
        let m = Mailbox::new(10, 1 << 20, vec![]);
        assert!(matches!(
            m.verdict("bounce@x.example"),
            RcptVerdict::Reply(550, _)
        ));
        assert!(matches!(
            m.verdict("Bounce+ann@x.example"),
            RcptVerdict::Reply(550, _)
        ));
        assert!(matches!(
            m.verdict("defer+1@x.example"),
            RcptVerdict::Reply(451, _)
        ));
        assert_eq!(m.verdict("bouncer@x.example"), RcptVerdict::Accept);
    }

    #[test]
    fn only_the_newest_are_kept_but_all_are_counted() {
        let m = Mailbox::new(2, 1 << 20, vec![]);
        for i in 0..3 {
            m.store(
                "h",
                "a@b",
                vec!["c@d".into()],
                None,
                format!("n{i}").into_bytes(),
            );
        }
        assert_eq!(m.received_count(), 3);
        let ids: Vec<u64> = m.messages().iter().map(|r| r.id).collect();
        assert_eq!(ids, [3, 2]);
    }
}
