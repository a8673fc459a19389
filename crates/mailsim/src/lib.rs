//! mailsim: a local mail catcher for Sonde's tests, demo and benchmarks. An SMTP server
//! (no TLS) keeps what it receives in memory, the newest `keep` messages with a count of
//! all, and shows them over HTTP with their headers and bodies decoded. Chosen recipients
//! answer with a permanent (5xx) or temporary (4xx) refusal, or drop the connection, so a
//! sender's bounce and retry paths can be tested; `bounce@…` and `defer@…` do so by
//! convention.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let mail = mailsim::Mailsim::builder().start().await?;
//! println!("SONDE_SMTP_URL={}", mail.smtp_url());
//! mail.wait_for(1, std::time::Duration::from_secs(5)).await;
//! println!("{:?}", mail.messages().first().map(|m| m.subject.clone()));
//! mail.shutdown().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod cli;
mod mailbox;
mod smtp;
mod view;

pub use mailbox::{Received, Refusal};
pub use view::{view, MailAddress, MailView};

use mailbox::Mailbox;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub struct Mailsim;

impl Mailsim {
    pub fn builder() -> MailsimBuilder {
        MailsimBuilder {
            smtp_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            http_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            keep: 10_000,
            max_size: 25 * 1024 * 1024,
            refusals: Vec::new(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct MailsimBuilder {
    smtp_listen: SocketAddr,
    http_listen: SocketAddr,
    keep: usize,
    max_size: usize,
    refusals: Vec<Refusal>,
}

impl MailsimBuilder {
    pub fn smtp_listen(mut self, addr: SocketAddr) -> Self {
        self.smtp_listen = addr;
        self
    }
    pub fn http_listen(mut self, addr: SocketAddr) -> Self {
        self.http_listen = addr;
        self
    }
    /// How many of the newest messages are kept (default 10,000); all are counted.
    pub fn keep(mut self, n: usize) -> Self {
        self.keep = n;
        self
    }
    /// Largest message accepted, in bytes (default 25 MiB; advertised as SIZE).
    pub fn max_size(mut self, bytes: usize) -> Self {
        self.max_size = bytes;
        self
    }
    pub fn refuse(mut self, r: Refusal) -> Self {
        self.refusals.push(r);
        self
    }

    pub async fn start(self) -> anyhow::Result<RunningMailsim> {
        for r in &self.refusals {
            r.check()
                .map_err(|e| anyhow::anyhow!("refusal for {}: {e}", r.recipient))?;
        }
        let smtp = tokio::net::TcpListener::bind(self.smtp_listen)
            .await
            .map_err(|e| anyhow::anyhow!("listening for SMTP on {}: {e}", self.smtp_listen))?;
        let http = tokio::net::TcpListener::bind(self.http_listen)
            .await
            .map_err(|e| anyhow::anyhow!("listening for HTTP on {}: {e}", self.http_listen))?;
        let shared = Arc::new(Shared {
            mailbox: Arc::new(Mailbox::new(self.keep, self.max_size, self.refusals)),
            smtp_addr: loopback_if_unspecified(smtp.local_addr()?),
            http_url: format!("http://{}", loopback_if_unspecified(http.local_addr()?)),
        });
        let (stop, rx) = tokio::sync::watch::channel(false);
        let smtp_task = tokio::spawn(smtp::serve(smtp, shared.mailbox.clone(), rx.clone()));
        let app = view::routes().with_state(shared.clone());
        let mut http_rx = rx;
        let http_task = tokio::spawn(async move {
            let _ = axum::serve(http, app)
                .with_graceful_shutdown(async move {
                    let _ = http_rx.changed().await;
                })
                .await;
        });
        Ok(RunningMailsim {
            shared,
            stop,
            tasks: vec![smtp_task, http_task],
        })
    }
}

fn loopback_if_unspecified(a: SocketAddr) -> SocketAddr {
    if a.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], a.port()))
    } else {
        a
    }
}

pub(crate) struct Shared {
    mailbox: Arc<Mailbox>,
    smtp_addr: SocketAddr,
    http_url: String,
}

impl Shared {
    fn smtp_url(&self) -> String {
        format!("smtp://{}?tls=none", self.smtp_addr)
    }

    /// The ready line `sonde mailsim` prints, also served at `/info`.
    fn info(&self) -> serde_json::Value {
        serde_json::json!({
            "smtp_url": self.smtp_url(),
            "smtp_host": self.smtp_addr.ip().to_string(),
            "smtp_port": self.smtp_addr.port(),
            "http_url": self.http_url,
            "messages_url": format!("{}/messages", self.http_url),
            "max_size": self.mailbox.max_size,
            "received": self.mailbox.received_count(),
            "connections": self.mailbox.connections.load(std::sync::atomic::Ordering::Relaxed),
            "conventions": {
                "bounce@… or bounce+…@…": "550 5.1.1 (permanent)",
                "defer@… or defer+…@…": "451 4.3.0 (temporary)",
            },
            "env": {"SONDE_SMTP_URL": self.smtp_url()},
        })
    }
}

/// A running catcher. Call [`RunningMailsim::shutdown`] to stop it.
pub struct RunningMailsim {
    shared: Arc<Shared>,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningMailsim {
    /// `smtp://127.0.0.1:PORT?tls=none`: what `SONDE_SMTP_URL` should say.
    pub fn smtp_url(&self) -> String {
        self.shared.smtp_url()
    }
    pub fn smtp_addr(&self) -> SocketAddr {
        self.shared.smtp_addr
    }
    pub fn http_url(&self) -> &str {
        &self.shared.http_url
    }
    pub fn info(&self) -> serde_json::Value {
        self.shared.info()
    }
    /// The kept messages, newest first, parsed.
    pub fn messages(&self) -> Vec<MailView> {
        view::list_of(&self.shared.mailbox, None, usize::MAX)
    }
    /// The kept messages to one envelope recipient, newest first.
    pub fn messages_to(&self, recipient: &str) -> Vec<MailView> {
        view::list_of(&self.shared.mailbox, Some(recipient), usize::MAX)
    }
    /// The kept messages as received (envelope and raw bytes), newest first.
    pub fn received(&self) -> Vec<Received> {
        self.shared.mailbox.messages()
    }
    /// How many messages were received in all, kept or not.
    pub fn received_count(&self) -> u64 {
        self.shared.mailbox.received_count()
    }
    /// SMTP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.shared
            .mailbox
            .connections
            .load(std::sync::atomic::Ordering::Relaxed)
    }
    /// Waits until `n` messages were received in all; false if `timeout` passed first.
    pub async fn wait_for(&self, n: u64, timeout: Duration) -> bool {
        self.shared.mailbox.wait_for(n, timeout).await
    }
    pub fn refuse(&self, r: Refusal) -> anyhow::Result<()> {
        self.shared
            .mailbox
            .add_refusal(r)
            .map_err(anyhow::Error::msg)
    }
    pub fn clear_refusals(&self) {
        self.shared.mailbox.clear_refusals()
    }
    /// Forgets the kept messages (the count goes on).
    pub fn clear(&self) {
        self.shared.mailbox.clear()
    }
    /// Stops listening and closes the SMTP sessions (421) and the HTTP server.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(3), t).await;
        }
    }
}
