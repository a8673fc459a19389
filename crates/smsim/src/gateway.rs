//! The gateway's account and what it holds: every message sent and received, the opt-outs
//! (sender number → phone pairs blocked by STOP), the webhooks, and the log of callbacks
//! made. Sending a message is checked here as Twilio checks it, stored, and handed to the
//! delivery lifecycle. With a state file the lot survives a restart.

use crate::faults::Faults;
use chrono::Utc;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use twilio_wire::messages::{code, date, message_uri};
use twilio_wire::{ApiError, CreateMessage, Direction, Message, MessageStatus, API_VERSION};

/// The one account the gateway serves.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Account {
    pub account_sid: String,
    pub auth_token: String,
    /// The messaging service holding all of the account's numbers.
    pub messaging_service_sid: String,
    /// The account's numbers: what `From` may be, and where inbound messages arrive.
    pub numbers: Vec<String>,
}

/// A message and what the gateway needs to carry it on.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stored {
    pub message: Message,
    pub status_callback: Option<String>,
}

/// One status callback or webhook request the gateway made, and how it was answered.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackAttempt {
    pub message_sid: String,
    pub url: String,
    pub params: Vec<(String, String)>,
    pub signature: String,
    /// The receiver's HTTP status, if it answered.
    pub http_status: Option<u16>,
    pub error: Option<String>,
    /// RFC 3339.
    pub at: String,
}

#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Store {
    /// Oldest first.
    pub messages: Vec<Stored>,
    #[serde(skip)]
    pub index: HashMap<String, usize>,
    /// (account number, phone) pairs the phone opted out of.
    pub opt_outs: BTreeSet<(String, String)>,
    pub default_webhook: Option<String>,
    /// Per-number webhooks, overriding the default.
    pub webhooks: BTreeMap<String, String>,
    #[serde(skip)]
    pub callbacks: Vec<CallbackAttempt>,
    #[serde(skip)]
    pub faults: Faults,
}

/// The callback log keeps at least this many attempts (the newest), and a tenth more at most.
const CALLBACK_LOG: usize = 10_000;

impl Store {
    pub fn reindex(&mut self) {
        self.index = self
            .messages
            .iter()
            .enumerate()
            .map(|(i, s)| (s.message.sid.clone(), i))
            .collect();
    }

    pub fn push(&mut self, stored: Stored) {
        self.index
            .insert(stored.message.sid.clone(), self.messages.len());
        self.messages.push(stored);
    }

    pub fn get(&self, sid: &str) -> Option<&Stored> {
        self.index.get(sid).map(|&i| &self.messages[i])
    }

    pub fn get_mut(&mut self, sid: &str) -> Option<&mut Stored> {
        self.index.get(sid).map(|&i| &mut self.messages[i])
    }

    pub fn remove(&mut self, sid: &str) -> bool {
        let Some(i) = self.index.remove(sid) else {
            return false;
        };
        self.messages.remove(i);
        self.reindex();
        true
    }

    pub fn log(&mut self, attempt: CallbackAttempt) {
        self.callbacks.push(attempt);
        // The oldest tenth goes at once: removing one at a time shifted the whole log at
        // every callback.
        if self.callbacks.len() > CALLBACK_LOG + CALLBACK_LOG / 10 {
            let excess = self.callbacks.len() - CALLBACK_LOG;
            self.callbacks.drain(..excess);
        }
    }

    pub fn webhook_for(&self, number: &str) -> Option<String> {
        self.webhooks
            .get(number)
            .cloned()
            .or_else(|| self.default_webhook.clone())
    }
}

pub(crate) struct Gateway {
    pub account: Account,
    pub base_url: String,
    /// Time between two status changes of a message.
    pub step_delay: Duration,
    pub store: Mutex<Store>,
    pub http: reqwest::Client,
    pub state_file: Option<PathBuf>,
    dirty: AtomicBool,
    /// Set by shutdown: messages on their way stop where they are (and resume on restart).
    pub stopped: AtomicBool,
}

impl Gateway {
    pub fn new(
        account: Account,
        base_url: String,
        step_delay: Duration,
        store: Store,
        state_file: Option<PathBuf>,
    ) -> Gateway {
        Gateway {
            account,
            base_url,
            step_delay,
            store: Mutex::new(store),
            // Twilio waits 15 s for a webhook or callback to answer.
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .user_agent("TwilioProxy/1.1")
                .build()
                .expect("an HTTP client without TLS settings builds"),
            state_file,
            dirty: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
        }
    }

    pub fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::Relaxed);
    }

    pub fn take_dirty(&self) -> bool {
        self.dirty.swap(false, Ordering::Relaxed)
    }

    /// Checks a create request as Twilio does, then stores the message (status `queued`, or
    /// `accepted` through the messaging service). The caller starts its delivery.
    pub fn create(&self, form: &CreateMessage, direction: Direction) -> Result<Message, ApiError> {
        self.store.lock().faults.take()?;
        form.validate()?;
        let service = form
            .messaging_service_sid
            .as_deref()
            .filter(|s| !s.is_empty());
        let from = match (form.from.as_deref().filter(|f| !f.is_empty()), service) {
            (Some(f), _) => {
                if !self.account.numbers.iter().any(|n| n == f) {
                    return Err(ApiError::new(
                        400,
                        code::FROM_NOT_OWNED,
                        format!("The 'From' number {f} is not a valid message-capable Twilio phone number for this destination/account"),
                    ));
                }
                f.to_string()
            }
            (None, Some(s)) => {
                if s != self.account.messaging_service_sid {
                    return Err(ApiError::new(
                        400,
                        code::INVALID_MESSAGING_SERVICE,
                        format!("The Messaging Service Sid {s} is invalid."),
                    ));
                }
                self.account.numbers[0].clone()
            }
            (None, None) => unreachable!("validate() requires From or MessagingServiceSid"),
        };
        if self.opted_out(&from, &form.to, service.is_some()) {
            return Err(ApiError::new(
                400,
                code::UNSUBSCRIBED_RECIPIENT,
                "Attempt to send to unsubscribed recipient",
            ));
        }
        let status = if service.is_some() {
            MessageStatus::Accepted
        } else {
            MessageStatus::Queued
        };
        let message = self.new_message(&from, &form.to, &form.body, direction, status, service);
        self.store.lock().push(Stored {
            message: message.clone(),
            status_callback: form.status_callback.clone(),
        });
        self.mark_dirty();
        Ok(message)
    }

    /// Whether `phone` opted out of `from` (of any of the account's numbers for a messaging
    /// service send: an opt-out covers the whole service).
    pub fn opted_out(&self, from: &str, phone: &str, whole_service: bool) -> bool {
        let store = self.store.lock();
        if whole_service {
            self.account
                .numbers
                .iter()
                .any(|n| store.opt_outs.contains(&(n.clone(), phone.to_string())))
        } else {
            store
                .opt_outs
                .contains(&(from.to_string(), phone.to_string()))
        }
    }

    /// A new Message resource, not yet stored.
    pub fn new_message(
        &self,
        from: &str,
        to: &str,
        body: &str,
        direction: Direction,
        status: MessageStatus,
        service: Option<&str>,
    ) -> Message {
        let sid = new_sid("SM");
        let now = date(Utc::now());
        let uri = message_uri(&self.account.account_sid, &sid);
        let media = uri.replace(".json", "/Media.json");
        Message {
            sid,
            account_sid: self.account.account_sid.clone(),
            api_version: API_VERSION.into(),
            body: body.into(),
            date_created: now.clone(),
            date_sent: (direction == Direction::Inbound).then(|| now.clone()),
            date_updated: now,
            direction,
            error_code: None,
            error_message: None,
            from: from.into(),
            to: to.into(),
            messaging_service_sid: service.map(str::to_string),
            num_media: "0".into(),
            num_segments: twilio_wire::segments(body).count.max(1).to_string(),
            price: None,
            price_unit: "USD".into(),
            status,
            subresource_uris: BTreeMap::from([("media".to_string(), media)]),
            uri,
        }
    }

    /// Writes the state file now (atomically, readable by its owner only).
    pub fn snapshot(&self) -> anyhow::Result<()> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        let bytes = {
            let store = self.store.lock();
            serde_json::to_vec(&Snapshot {
                account: self.account.clone(),
                store: &store,
            })?
        };
        let tmp = path.with_extension("tmp");
        write_private(&tmp, &bytes)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

#[derive(Serialize)]
struct Snapshot<'a> {
    account: Account,
    store: &'a Store,
}

#[derive(Deserialize)]
pub(crate) struct LoadedSnapshot {
    pub account: Account,
    pub store: Store,
}

/// Reads a state file written by [`Gateway::snapshot`], if there is one.
pub(crate) fn load(path: &std::path::Path) -> anyhow::Result<Option<LoadedSnapshot>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => anyhow::bail!("reading {}: {e}", path.display()),
    };
    let mut loaded: LoadedSnapshot = serde_json::from_slice(&bytes)
        .map_err(|e| anyhow::anyhow!("{} is not an smsim state file: {e}", path.display()))?;
    loaded.store.reindex();
    Ok(Some(loaded))
}

/// The state file holds the auth token: its owner's only (0600).
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, bytes)
}

/// A Twilio-shaped sid: the prefix then 32 lower-case hex digits.
pub fn new_sid(prefix: &str) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let hex: String = (0..32)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).expect("a hex digit"))
        .collect();
    format!("{prefix}{hex}")
}
