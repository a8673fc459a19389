//! smsim: a local SMS gateway that speaks Twilio's Messages API and webhooks, for Sonde's
//! tests and demo. It stores what is sent, moves each message through Twilio's statuses and
//! posts them to its `StatusCallback`, and injects replies from phones into the number's
//! webhook, all signed with `X-Twilio-Signature` exactly as Twilio signs.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let gw = smsim::Smsim::builder().webhook("http://127.0.0.1:8080/sms").start().await?;
//! println!("{} {} {}", gw.url(), gw.account_sid(), gw.auth_token());
//! let answer = gw.inject("+15558675310", None, "STOP").await?;
//! gw.shutdown().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod admin;
mod api;
pub mod cli;
pub mod delivery;
mod faults;
mod gateway;
mod inbound;

pub use admin::OutboxEntry;
pub use faults::Faults;
pub use gateway::{Account, CallbackAttempt};
pub use inbound::{Injection, WebhookCall};

use axum::response::IntoResponse;
use gateway::{Gateway, Store};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use twilio_wire::messages::{is_e164, is_sid};
use twilio_wire::Message;

/// The number smsim's account owns unless told otherwise (Twilio's test "From" number).
pub const DEFAULT_NUMBER: &str = "+15005550006";

pub struct Smsim;

impl Smsim {
    pub fn builder() -> SmsimBuilder {
        SmsimBuilder {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            account_sid: None,
            auth_token: None,
            messaging_service_sid: None,
            numbers: Vec::new(),
            webhook: None,
            state_file: None,
            step_delay: Duration::from_millis(50),
        }
    }
}

/// Configures and starts a gateway; every setting has a test-friendly default.
#[derive(Clone, Debug)]
pub struct SmsimBuilder {
    listen: SocketAddr,
    account_sid: Option<String>,
    auth_token: Option<String>,
    messaging_service_sid: Option<String>,
    numbers: Vec<String>,
    webhook: Option<String>,
    state_file: Option<PathBuf>,
    step_delay: Duration,
}

impl SmsimBuilder {
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }
    /// Fixed credentials (default: generated, kept in the state file).
    pub fn credentials(mut self, account_sid: &str, auth_token: &str) -> Self {
        self.account_sid = Some(account_sid.into());
        self.auth_token = Some(auth_token.into());
        self
    }
    pub fn messaging_service_sid(mut self, sid: &str) -> Self {
        self.messaging_service_sid = Some(sid.into());
        self
    }
    /// A number the account owns (repeatable; default [`DEFAULT_NUMBER`]).
    pub fn number(mut self, number: &str) -> Self {
        self.numbers.push(number.into());
        self
    }
    /// Where replies from phones are posted, for every number.
    pub fn webhook(mut self, url: &str) -> Self {
        self.webhook = Some(url.into());
        self
    }
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }
    /// Time between two status changes of a message (default 50 ms).
    pub fn step_delay(mut self, d: Duration) -> Self {
        self.step_delay = d;
        self
    }

    pub async fn start(self) -> anyhow::Result<RunningSmsim> {
        let loaded = match &self.state_file {
            Some(p) => gateway::load(p)?,
            None => None,
        };
        let (saved, mut store) = match loaded {
            Some(l) => (Some(l.account), l.store),
            None => (None, Store::default()),
        };
        let account = Account {
            account_sid: self
                .account_sid
                .or_else(|| saved.as_ref().map(|a| a.account_sid.clone()))
                .unwrap_or_else(|| gateway::new_sid("AC")),
            auth_token: self
                .auth_token
                .or_else(|| saved.as_ref().map(|a| a.auth_token.clone()))
                .unwrap_or_else(|| gateway::new_sid("")),
            messaging_service_sid: self
                .messaging_service_sid
                .or_else(|| saved.as_ref().map(|a| a.messaging_service_sid.clone()))
                .unwrap_or_else(|| gateway::new_sid("MG")),
            numbers: if !self.numbers.is_empty() {
                self.numbers
            } else {
                saved
                    .map(|a| a.numbers)
                    .unwrap_or_else(|| vec![DEFAULT_NUMBER.into()])
            },
        };
        check(&account)?;
        if let Some(w) = self.webhook {
            store.default_webhook = Some(w);
        }
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .map_err(|e| anyhow::anyhow!("listening on {}: {e}", self.listen))?;
        let addr = listener.local_addr()?;
        let host = if addr.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            addr.ip().to_string()
        };
        let base_url = format!("http://{host}:{}", addr.port());
        let gw = Arc::new(Gateway::new(
            account,
            base_url,
            self.step_delay,
            store,
            self.state_file,
        ));
        let app = api::routes()
            .merge(admin::routes())
            .fallback(not_found)
            .with_state(gw.clone());
        let (stop, mut stop_rx) = tokio::sync::watch::channel(false);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop_rx.changed().await;
                })
                .await;
        });
        // Messages a previous run left on their way carry on from where they were.
        let unfinished: Vec<String> = gw
            .store
            .lock()
            .messages
            .iter()
            .filter(|s| s.message.direction != twilio_wire::Direction::Inbound)
            .filter(|s| !s.message.status.is_final())
            .map(|s| s.message.sid.clone())
            .collect();
        for sid in unfinished {
            delivery::start(gw.clone(), sid);
        }
        if gw.state_file.is_some() {
            let g = gw.clone();
            let mut rx = stop.subscribe();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = rx.changed() => return,
                    }
                    if g.take_dirty() {
                        let s = g.clone();
                        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || s.snapshot()).await
                        {
                            tracing::warn!(error = %e, "smsim: writing the state file failed");
                        }
                    }
                }
            });
        }
        Ok(RunningSmsim { gw, stop, server })
    }
}

fn check(a: &Account) -> anyhow::Result<()> {
    if !is_sid(&a.account_sid, "AC") {
        anyhow::bail!(
            "--account-sid: {:?} is not AC followed by 32 hex digits",
            a.account_sid
        );
    }
    if a.auth_token.is_empty() {
        anyhow::bail!("--auth-token: empty");
    }
    if !is_sid(&a.messaging_service_sid, "MG") {
        anyhow::bail!(
            "--messaging-service-sid: {:?} is not MG followed by 32 hex digits",
            a.messaging_service_sid
        );
    }
    if let Some(n) = a.numbers.iter().find(|n| !is_e164(n)) {
        anyhow::bail!("--number: {n:?} is not an E.164 number (+ and digits)");
    }
    Ok(())
}

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    api::error(api::not_found(uri.path())).into_response()
}

/// The ready line `sonde smsim` prints, also served at `/_smsim/info`.
pub(crate) fn info_json(gw: &Gateway) -> serde_json::Value {
    let a = &gw.account;
    serde_json::json!({
        "url": gw.base_url,
        "account_sid": a.account_sid,
        "auth_token": a.auth_token,
        "messaging_service_sid": a.messaging_service_sid,
        "numbers": a.numbers,
        "webhook": gw.store.lock().default_webhook,
        "fault_numbers": {
            "ending 0000": "undelivered, error 30003",
            "ending 0001": "failed, error 30008",
        },
        "env": {
            "SONDE_TWILIO_URL": gw.base_url,
            "SONDE_TWILIO_ACCOUNT_SID": a.account_sid,
            "SONDE_TWILIO_AUTH_TOKEN": a.auth_token,
            "SONDE_SMS_FROM": a.numbers[0],
        },
    })
}

pub(crate) fn set_webhook_in(gw: &Gateway, number: Option<&str>, url: Option<String>) {
    {
        let mut store = gw.store.lock();
        match (number, url) {
            (Some(n), Some(u)) => {
                store.webhooks.insert(n.to_string(), u);
            }
            (Some(n), None) => {
                store.webhooks.remove(n);
            }
            (None, u) => store.default_webhook = u,
        }
    }
    gw.mark_dirty();
}

/// A running gateway. Dropping it leaves the server running until the runtime ends; call
/// [`RunningSmsim::shutdown`] to stop it and write the state file.
pub struct RunningSmsim {
    gw: Arc<Gateway>,
    stop: tokio::sync::watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
}

impl RunningSmsim {
    /// The API host: point Twilio clients here (`SONDE_TWILIO_URL`).
    pub fn url(&self) -> &str {
        &self.gw.base_url
    }
    pub fn account_sid(&self) -> &str {
        &self.gw.account.account_sid
    }
    pub fn auth_token(&self) -> &str {
        &self.gw.account.auth_token
    }
    pub fn messaging_service_sid(&self) -> &str {
        &self.gw.account.messaging_service_sid
    }
    pub fn numbers(&self) -> &[String] {
        &self.gw.account.numbers
    }
    /// The ready line: URL, credentials, numbers and the environment for Sonde.
    pub fn info(&self) -> serde_json::Value {
        info_json(&self.gw)
    }
    /// Every message sent or received, newest first.
    pub fn messages(&self) -> Vec<Message> {
        let store = self.gw.store.lock();
        store
            .messages
            .iter()
            .rev()
            .map(|s| s.message.clone())
            .collect()
    }
    /// How many messages were sent or received, without copying them (benchmarks poll it).
    pub fn message_count(&self) -> usize {
        self.gw.store.lock().messages.len()
    }
    pub fn message(&self, sid: &str) -> Option<Message> {
        self.gw.store.lock().get(sid).map(|s| s.message.clone())
    }
    /// What the demo's Outbox page lists: newest first, optionally one phone's conversation.
    pub fn outbox(&self, phone: Option<&str>, limit: usize) -> Vec<OutboxEntry> {
        admin::outbox_of(&self.gw, phone, limit)
    }
    /// Status callbacks and webhook calls made, oldest first.
    pub fn callbacks(&self) -> Vec<CallbackAttempt> {
        self.gw.store.lock().callbacks.clone()
    }
    /// (account number, phone) pairs blocked by an opt-out word.
    pub fn opt_outs(&self) -> Vec<(String, String)> {
        self.gw.store.lock().opt_outs.iter().cloned().collect()
    }
    /// Sets (or with None removes) the webhook of one number, or the default for all.
    pub fn set_webhook(&self, number: Option<&str>, url: Option<&str>) {
        set_webhook_in(&self.gw, number, url.map(str::to_string))
    }
    pub fn set_faults(&self, faults: Faults) {
        self.gw.store.lock().faults = faults;
    }
    /// A reply from `from` to one of the account's numbers (default the first): posted to
    /// the webhook, its TwiML answer sent back.
    pub async fn inject(
        &self,
        from: &str,
        to: Option<&str>,
        body: &str,
    ) -> anyhow::Result<Injection> {
        inbound::inject(&self.gw, from, to, body)
            .await
            .map_err(anyhow::Error::msg)
    }
    /// Writes the state file now (no-op without one).
    pub fn snapshot(&self) -> anyhow::Result<()> {
        self.gw.snapshot()
    }
    /// Stops serving and writes the state file.
    pub async fn shutdown(self) {
        self.gw
            .stopped
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(3), self.server).await;
        let gw = self.gw.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || gw.snapshot()).await {
            tracing::warn!(error = %e, "smsim: writing the state file failed");
        }
    }
}
