//! `sonde smsim`: flags, start-up, the ready line on stdout (JSON, for scripts) and the
//! variables to point Sonde at on stderr (for people), then serving until killed.

use crate::Smsim;
use clap::Parser;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Run a local SMS gateway speaking Twilio's Messages API.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "smsim",
    about = "A local SMS gateway speaking Twilio's Messages API"
)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", env = "SMSIM_HOST")]
    pub host: IpAddr,
    /// Port (0 picks a free one).
    #[arg(long, default_value_t = 0, env = "SMSIM_PORT")]
    pub port: u16,
    /// File where messages, opt-outs, webhooks and credentials survive a restart.
    #[arg(long = "state", value_name = "FILE", env = "SMSIM_STATE")]
    pub state: Option<PathBuf>,
    /// Account sid (default: generated, kept in --state).
    #[arg(long, env = "SMSIM_ACCOUNT_SID")]
    pub account_sid: Option<String>,
    /// Auth token (default: generated, kept in --state).
    #[arg(long, env = "SMSIM_AUTH_TOKEN", hide_env_values = true)]
    pub auth_token: Option<String>,
    /// Messaging service sid holding the numbers (default: generated).
    #[arg(long)]
    pub messaging_service_sid: Option<String>,
    /// A number the account owns (repeatable; default +15005550006).
    #[arg(long = "number", value_name = "E164")]
    pub numbers: Vec<String>,
    /// Where replies from phones are posted (Sonde's inbound SMS webhook).
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// Milliseconds between two status changes of a message.
    #[arg(long, default_value_t = 500)]
    pub step_ms: u64,
}

/// Starts the gateway, prints the ready line, and serves until Ctrl-C or SIGTERM.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut b = Smsim::builder()
        .listen((args.host, args.port).into())
        .step_delay(Duration::from_millis(args.step_ms));
    if let Some(p) = &args.state {
        b = b.state_file(p);
    }
    match (&args.account_sid, &args.auth_token) {
        (Some(sid), Some(token)) => b = b.credentials(sid, token),
        (None, None) => {}
        _ => anyhow::bail!("give both --account-sid and --auth-token, or neither"),
    }
    if let Some(s) = &args.messaging_service_sid {
        b = b.messaging_service_sid(s);
    }
    for n in &args.numbers {
        b = b.number(n);
    }
    if let Some(w) = &args.webhook {
        b = b.webhook(w);
    }
    let gw = b.start().await?;
    let info = gw.info();
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", serde_json::to_string(&info)?)?;
        out.flush()?;
    }
    eprintln!(
        "smsim: a Twilio-speaking SMS gateway at {}. Point Sonde at it with:",
        gw.url()
    );
    if let Some(env) = info["env"].as_object() {
        for (k, v) in env {
            eprintln!("  export {k}={}", v.as_str().unwrap_or_default());
        }
    }
    eprintln!(
        "Replies from phones: POST {}/_smsim/inbound {{\"from\":\"+15558675310\",\"body\":\"STOP\"}}",
        gw.url()
    );
    wait_for_signal().await;
    gw.shutdown().await;
    Ok(())
}

pub(crate) async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
