//! `sonde mailsim`: flags, start-up, the ready line on stdout (JSON, for scripts) and what to
//! point Sonde at on stderr (for people), then serving until killed.

use crate::{Mailsim, Refusal};
use clap::Parser;
use std::net::IpAddr;

/// Run a local mail catcher (SMTP in, HTTP out).
#[derive(Parser, Debug, Clone)]
#[command(
    name = "mailsim",
    about = "A local mail catcher: SMTP in, JSON over HTTP out"
)]
pub struct Args {
    /// Address both servers listen on.
    #[arg(long, default_value = "127.0.0.1", env = "MAILSIM_HOST")]
    pub host: IpAddr,
    /// SMTP port (0 picks a free one).
    #[arg(long, default_value_t = 0, env = "MAILSIM_SMTP_PORT")]
    pub smtp_port: u16,
    /// HTTP port of the message view (0 picks a free one).
    #[arg(long, default_value_t = 0, env = "MAILSIM_HTTP_PORT")]
    pub http_port: u16,
    /// How many of the newest messages are kept in memory.
    #[arg(long, default_value_t = 10_000)]
    pub keep: usize,
    /// Largest message accepted, in bytes.
    #[arg(long, default_value_t = 25 * 1024 * 1024)]
    pub max_size: usize,
    /// Refuse a recipient: ADDRESS=CODE (or @DOMAIN=CODE), e.g. ann@example.org=550 or
    /// @slow.example=451 (repeatable).
    #[arg(long = "refuse", value_name = "ADDRESS=CODE", value_parser = parse_refusal)]
    pub refusals: Vec<Refusal>,
}

fn parse_refusal(s: &str) -> Result<Refusal, String> {
    let (recipient, code) = s
        .rsplit_once('=')
        .ok_or_else(|| format!("{s:?}: expected ADDRESS=CODE"))?;
    let code: u16 = code
        .parse()
        .map_err(|_| format!("{s:?}: {code:?} is not a reply code"))?;
    let r = Refusal {
        recipient: recipient.to_string(),
        code,
        message: None,
        times: None,
        disconnect: false,
    };
    r.check().map(|()| r)
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut b = Mailsim::builder()
        .smtp_listen((args.host, args.smtp_port).into())
        .http_listen((args.host, args.http_port).into())
        .keep(args.keep)
        .max_size(args.max_size);
    for r in args.refusals {
        b = b.refuse(r);
    }
    let mail = b.start().await?;
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", serde_json::to_string(&mail.info())?)?;
        out.flush()?;
    }
    eprintln!(
        "mailsim: catching mail at {}. Point Sonde at it with:",
        mail.smtp_addr()
    );
    eprintln!("  export SONDE_SMTP_URL={}", mail.smtp_url());
    eprintln!("Received messages: {}/messages", mail.http_url());
    wait_for_signal().await;
    mail.shutdown().await;
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

#[cfg(test)]
mod tests {
    use super::parse_refusal;

    #[test]
    fn refusals_on_the_command_line() {
        let r = parse_refusal("ann@example.org=550").unwrap();
        assert_eq!((r.recipient.as_str(), r.code), ("ann@example.org", 550));
        assert_eq!(parse_refusal("@slow.example=451").unwrap().code, 451);
        assert!(parse_refusal("ann@example.org").is_err());
        assert!(parse_refusal("ann@example.org=250").is_err());
        assert!(parse_refusal("ann@example.org=abc").is_err());
    }
}
