//! `sonde sfsim`: flags, start-up, the one ready line on stdout, and serving until killed.

use crate::{MetadataFile, Org, Seed};
use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Run a local Salesforce org.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "sfsim",
    about = "A local Salesforce org speaking Salesforce's wire protocol"
)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0", env = "SFSIM_LISTEN")]
    pub listen: SocketAddr,
    /// Serve HTTPS with a self-signed certificate (its CA is printed as `ca_cert`).
    #[arg(long)]
    pub tls: bool,
    /// Directory where data, sessions and the certificate survive a restart.
    #[arg(long = "state", value_name = "DIR", env = "SFSIM_STATE")]
    pub state: Option<PathBuf>,
    /// Starting data.
    #[arg(long, value_enum, default_value = "empty")]
    pub seed: Seed,
    /// Custom objects, fields, record types and profiles (JSON or YAML).
    #[arg(long, value_name = "FILE")]
    pub metadata: Option<PathBuf>,
    /// Redirect URIs the connected app accepts (loopback URIs are always accepted).
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub redirect_uri: Vec<String>,
    /// Daily API request allocation (rolling 24 h).
    #[arg(long, default_value_t = 100_000)]
    pub daily_api_limit: u64,
    /// Rotate refresh tokens on every refresh.
    #[arg(long)]
    pub rotate_refresh_tokens: bool,
    /// Session lifetime in seconds.
    #[arg(long, default_value_t = 7200)]
    pub session_seconds: u64,
    /// Org seconds per real second (outbound retries, token expiry, the API window).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Fixed connected-app consumer key (default: generated, kept in --state).
    #[arg(long, env = "SFSIM_CLIENT_ID")]
    pub client_id: Option<String>,
    /// Fixed connected-app consumer secret.
    #[arg(long, env = "SFSIM_CLIENT_SECRET")]
    pub client_secret: Option<String>,
    /// Public key (PEM) of the connected app's certificate; JWT bearer signatures are then verified.
    #[arg(long, value_name = "FILE")]
    pub jwt_public_key: Option<PathBuf>,
    /// Fixed password for the built-in users.
    #[arg(long, env = "SFSIM_PASSWORD")]
    pub password: Option<String>,
    /// The Canvas app's URL (Sonde's `https://…/panel`): record pages such as
    /// `/lightning/r/Contact/{id}/view` host it in an iframe with a signed request.
    #[arg(long, value_name = "URL", env = "SFSIM_CANVAS_URL")]
    pub canvas_url: Option<String>,
}

/// Starts the org, prints one JSON line once ready, and serves until Ctrl-C or SIGTERM.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut b = Org::builder()
        .listen(args.listen)
        .tls(args.tls)
        .seed(args.seed)
        .daily_api_limit(args.daily_api_limit)
        .rotate_refresh_tokens(args.rotate_refresh_tokens)
        .session_lifetime(Duration::from_secs(args.session_seconds))
        .time_scale(args.time_scale);
    if let Some(dir) = &args.state {
        b = b.state_dir(dir);
    }
    if let Some(path) = &args.metadata {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        b = b.metadata(MetadataFile::parse(&text)?);
    }
    for r in &args.redirect_uri {
        b = b.redirect_uri(r);
    }
    if let (Some(id), Some(secret)) = (&args.client_id, &args.client_secret) {
        b = b.client_credentials(id, secret);
    }
    if let Some(p) = &args.password {
        b = b.password(p);
    }
    if let Some(url) = &args.canvas_url {
        b = b.canvas_url(url);
    }
    if let Some(path) = &args.jwt_public_key {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        b = b.jwt_public_key(pem);
    }
    let org = b.start().await?;
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", serde_json::to_string(&org.info())?)?;
        out.flush()?;
    }
    wait_for_signal().await;
    org.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
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
