//! The SMTP side (RFC 5321): EHLO/HELO, MAIL FROM (with SIZE), RCPT TO (answered per
//! recipient by the mailbox's refusals), DATA with dot-unstuffing and a size limit, RSET,
//! NOOP, VRFY, HELP, QUIT, and AUTH PLAIN/LOGIN accepting any credentials (so a sender
//! configured with a user and password works too). No TLS: senders use `tls=none`.
//!
//! Replies are buffered and flushed only when no further command is already waiting, so a
//! pipelining client gets one write per batch, and a pooled connection sends message after
//! message with no setup in between.
//!
//! On Linux every read is preceded by `TCP_QUICKACK`. Senders that leave Nagle's algorithm on
//! and write the final `.` apart from the body (lettre 0.11 does both) would otherwise wait
//! for this side's delayed ACK, about 40 ms, on every message: 25 messages a second per
//! connection, whatever the sender's speed.

use crate::mailbox::{Mailbox, RcptVerdict};
use base64::Engine;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Longest line read in one piece; a longer data line is read on in further pieces.
const MAX_LINE: u64 = 64 * 1024;
const MAX_RECIPIENTS: usize = 1000;
/// RFC 5321 asks servers to wait at least 5 minutes for a command.
const IDLE: Duration = Duration::from_secs(300);
const NAME: &str = "mailsim";

pub(crate) async fn serve(
    listener: TcpListener,
    mailbox: Arc<Mailbox>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let (mb, st) = (mailbox.clone(), stop.clone());
                    tokio::spawn(async move {
                        if let Err(e) = session(stream, mb, st).await {
                            tracing::debug!(error = %e, "mailsim: SMTP session ended");
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %e, "mailsim: accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = stop.changed() => return,
        }
    }
}

struct Conn {
    reader: BufReader<OwnedReadHalf>,
    writer: BufWriter<OwnedWriteHalf>,
    line: Vec<u8>,
}

enum Line {
    Text(String),
    TooLong,
    Closed,
}

impl Conn {
    async fn reply(&mut self, code: u16, text: &str) -> io::Result<()> {
        self.writer
            .write_all(format!("{code} {text}\r\n").as_bytes())
            .await
    }

    async fn reply_lines(&mut self, code: u16, lines: &[String]) -> io::Result<()> {
        for (i, l) in lines.iter().enumerate() {
            let sep = if i + 1 == lines.len() { ' ' } else { '-' };
            self.writer
                .write_all(format!("{code}{sep}{l}\r\n").as_bytes())
                .await?;
        }
        Ok(())
    }

    /// Flushes the replies unless the client already sent more (pipelining), then reads.
    async fn read_piece(&mut self) -> io::Result<usize> {
        if self.reader.buffer().is_empty() {
            self.writer.flush().await?;
            self.quick_ack();
        }
        self.line.clear();
        let mut limited = (&mut self.reader).take(MAX_LINE);
        let read = limited.read_until(b'\n', &mut self.line);
        tokio::time::timeout(IDLE, read)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "idle too long"))?
    }

    fn quick_ack(&self) {
        #[cfg(target_os = "linux")]
        {
            let stream: &TcpStream = self.reader.get_ref().as_ref();
            let _ = socket2::SockRef::from(stream).set_tcp_quickack(true);
        }
    }

    async fn command(&mut self) -> io::Result<Line> {
        if self.read_piece().await? == 0 {
            return Ok(Line::Closed);
        }
        if !self.line.ends_with(b"\n") && self.line.len() as u64 >= MAX_LINE {
            return Ok(Line::TooLong);
        }
        let text = String::from_utf8_lossy(&self.line);
        Ok(Line::Text(text.trim_end_matches(['\r', '\n']).to_string()))
    }

    /// The message after `354`, up to the lone dot: unstuffed, and None if it outgrew `max`.
    async fn data(&mut self, max: usize) -> io::Result<Option<Option<Vec<u8>>>> {
        let mut body = Vec::new();
        let mut too_big = false;
        let mut at_line_start = true;
        loop {
            if self.read_piece().await? == 0 {
                return Ok(None);
            }
            let piece = &self.line[..];
            let complete = piece.ends_with(b"\n");
            let mut content = piece;
            if at_line_start {
                if piece == b".\r\n" || piece == b".\n" {
                    return Ok(Some((!too_big).then_some(body)));
                }
                if let Some(rest) = piece.strip_prefix(b".") {
                    content = rest;
                }
            }
            if !too_big && body.len() + content.len() <= max {
                body.extend_from_slice(content);
            } else {
                too_big = true;
                body = Vec::new();
            }
            at_line_start = complete;
        }
    }
}

#[derive(Default)]
struct Session {
    helo: Option<String>,
    auth_user: Option<String>,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

impl Session {
    fn reset(&mut self) {
        self.mail_from = None;
        self.rcpt_to.clear();
    }
}

async fn session(
    stream: TcpStream,
    mb: Arc<Mailbox>,
    mut stop: watch::Receiver<bool>,
) -> io::Result<()> {
    let _ = stream.set_nodelay(true);
    mb.connections
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (r, w) = stream.into_split();
    let mut c = Conn {
        reader: BufReader::with_capacity(32 * 1024, r),
        writer: BufWriter::with_capacity(8 * 1024, w),
        line: Vec::with_capacity(1024),
    };
    let mut s = Session::default();
    c.reply(220, &format!("{NAME} ESMTP ready")).await?;
    loop {
        let line = tokio::select! {
            l = c.command() => l?,
            _ = stop.changed() => {
                c.reply(421, "4.3.2 Shutting down").await?;
                break;
            }
        };
        let text = match line {
            Line::Closed => return Ok(()),
            Line::TooLong => {
                c.reply(500, "5.5.2 Line too long").await?;
                break;
            }
            Line::Text(t) => t,
        };
        let (verb, arg) = text.split_once(' ').unwrap_or((&text, ""));
        let arg = arg.trim();
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" | "HELO" if arg.is_empty() => {
                c.reply(501, "5.5.4 Syntax: EHLO hostname").await?
            }
            "EHLO" => {
                s.reset();
                s.helo = Some(arg.to_string());
                let lines = [
                    format!("{NAME} Hello {arg}"),
                    "PIPELINING".into(),
                    format!("SIZE {}", mb.max_size),
                    "8BITMIME".into(),
                    "SMTPUTF8".into(),
                    "ENHANCEDSTATUSCODES".into(),
                    "AUTH PLAIN LOGIN".into(),
                    "HELP".into(),
                ];
                c.reply_lines(250, &lines).await?
            }
            "HELO" => {
                s.reset();
                s.helo = Some(arg.to_string());
                c.reply(250, NAME).await?
            }
            "MAIL" => mail(&mut c, &mut s, &mb, arg).await?,
            "RCPT" => {
                if !rcpt(&mut c, &mut s, &mb, arg).await? {
                    return Ok(()); // a refusal that drops the connection
                }
            }
            "DATA" => data(&mut c, &mut s, &mb, arg).await?,
            "RSET" => {
                s.reset();
                c.reply(250, "2.0.0 Ok").await?
            }
            "NOOP" => c.reply(250, "2.0.0 Ok").await?,
            "VRFY" => {
                c.reply(252, "2.5.2 Cannot VRFY user, but will accept message")
                    .await?
            }
            "HELP" => {
                c.reply(
                    214,
                    "2.0.0 EHLO HELO MAIL RCPT DATA RSET NOOP VRFY AUTH QUIT",
                )
                .await?
            }
            "AUTH" => auth(&mut c, &mut s, arg).await?,
            "STARTTLS" => c.reply(454, "4.7.0 TLS not available").await?,
            "QUIT" => {
                c.reply(221, "2.0.0 Bye").await?;
                break;
            }
            _ => c.reply(500, "5.5.2 Command not recognized").await?,
        }
    }
    c.writer.flush().await
}

/// `FROM:<addr> PARAMS` / `TO:<addr> PARAMS` → the address and the parameters.
fn path<'a>(arg: &'a str, keyword: &str) -> Option<(String, Vec<&'a str>)> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    let (address, params) = match rest.strip_prefix('<') {
        Some(inner) => {
            let end = inner.find('>')?;
            (&inner[..end], &inner[end + 1..])
        }
        None => rest.split_once(' ').unwrap_or((rest, "")),
    };
    // A source route (`@relay,@relay:user@host`) names the mailbox after its colon.
    let address = match address.strip_prefix('@') {
        Some(_) => address.split_once(':').map_or(address, |(_, a)| a),
        None => address,
    };
    Some((address.to_string(), params.split_whitespace().collect()))
}

async fn mail(c: &mut Conn, s: &mut Session, mb: &Mailbox, arg: &str) -> io::Result<()> {
    if s.helo.is_none() {
        return c.reply(503, "5.5.1 Send EHLO or HELO first").await;
    }
    if s.mail_from.is_some() {
        return c.reply(503, "5.5.1 Nested MAIL command").await;
    }
    let Some((address, params)) = path(arg, "FROM:") else {
        return c.reply(501, "5.5.4 Syntax: MAIL FROM:<address>").await;
    };
    let size = params.iter().find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.eq_ignore_ascii_case("SIZE")
            .then(|| v.parse::<usize>().ok())?
    });
    if size.is_some_and(|n| n > mb.max_size) {
        return c
            .reply(552, "5.3.4 Message size exceeds fixed maximum message size")
            .await;
    }
    s.mail_from = Some(address);
    c.reply(250, "2.1.0 Ok").await
}

/// Answers one recipient; false when a refusal asks to drop the connection.
async fn rcpt(c: &mut Conn, s: &mut Session, mb: &Mailbox, arg: &str) -> io::Result<bool> {
    if s.mail_from.is_none() {
        c.reply(503, "5.5.1 Need MAIL command").await?;
        return Ok(true);
    }
    let Some((address, _)) = path(arg, "TO:") else {
        c.reply(501, "5.5.4 Syntax: RCPT TO:<address>").await?;
        return Ok(true);
    };
    if !address.contains('@') && !address.eq_ignore_ascii_case("postmaster") {
        c.reply(501, "5.1.3 Bad recipient address syntax").await?;
        return Ok(true);
    }
    if s.rcpt_to.len() >= MAX_RECIPIENTS {
        c.reply(452, "4.5.3 Too many recipients").await?;
        return Ok(true);
    }
    match mb.verdict(&address) {
        RcptVerdict::Accept => {
            s.rcpt_to.push(address);
            c.reply(250, "2.1.5 Ok").await?;
        }
        RcptVerdict::Reply(code, text) => c.reply(code, &text).await?,
        RcptVerdict::Disconnect => return Ok(false),
    }
    Ok(true)
}

async fn data(c: &mut Conn, s: &mut Session, mb: &Mailbox, arg: &str) -> io::Result<()> {
    if s.mail_from.is_none() {
        return c.reply(503, "5.5.1 Need MAIL command").await;
    }
    if s.rcpt_to.is_empty() {
        return c.reply(554, "5.5.1 No valid recipients").await;
    }
    if !arg.is_empty() {
        return c.reply(501, "5.5.4 Syntax: DATA").await;
    }
    c.reply(354, "End data with <CR><LF>.<CR><LF>").await?;
    let outcome = c.data(mb.max_size).await?;
    let from = s.mail_from.take().unwrap_or_default();
    let rcpt = std::mem::take(&mut s.rcpt_to);
    match outcome {
        None => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed in DATA",
        )),
        Some(None) => {
            c.reply(552, "5.3.4 Message size exceeds fixed maximum message size")
                .await
        }
        Some(Some(raw)) => {
            let helo = s.helo.clone().unwrap_or_default();
            let id = mb.store(&helo, &from, rcpt, s.auth_user.clone(), raw);
            c.reply(250, &format!("2.0.0 Ok: queued as {id}")).await
        }
    }
}

async fn auth(c: &mut Conn, s: &mut Session, arg: &str) -> io::Result<()> {
    if s.helo.is_none() {
        return c.reply(503, "5.5.1 Send EHLO first").await;
    }
    if s.auth_user.is_some() {
        return c.reply(503, "5.5.1 Already authenticated").await;
    }
    let (mechanism, initial) = arg.split_once(' ').unwrap_or((arg, ""));
    let decode = |b64: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    let user = match mechanism.to_ascii_uppercase().as_str() {
        "PLAIN" => {
            let response = match initial {
                "" => match challenge(c, "").await? {
                    Some(r) => r,
                    None => return c.reply(501, "5.0.0 Authentication cancelled").await,
                },
                r => r.to_string(),
            };
            // authzid NUL authcid NUL password: the user is the authcid.
            decode(&response).and_then(|t| t.split('\0').nth(1).map(str::to_string))
        }
        "LOGIN" => {
            let user = match initial {
                "" => match challenge(c, "VXNlcm5hbWU6").await? {
                    Some(r) => r,
                    None => return c.reply(501, "5.0.0 Authentication cancelled").await,
                },
                r => r.to_string(),
            };
            if challenge(c, "UGFzc3dvcmQ6").await?.is_none() {
                return c.reply(501, "5.0.0 Authentication cancelled").await;
            }
            decode(&user)
        }
        _ => return c.reply(504, "5.5.4 Unrecognized authentication type").await,
    };
    match user {
        Some(u) => {
            s.auth_user = Some(u);
            c.reply(235, "2.7.0 Authentication successful").await
        }
        None => c.reply(501, "5.5.2 Cannot decode response").await,
    }
}

/// Sends `334 prompt` and reads the answer; None if the client cancelled with `*`.
async fn challenge(c: &mut Conn, prompt: &str) -> io::Result<Option<String>> {
    c.reply(334, prompt).await?;
    match c.command().await? {
        Line::Text(t) if t.trim() == "*" => Ok(None),
        Line::Text(t) => Ok(Some(t)),
        Line::TooLong | Line::Closed => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::path;

    #[test]
    fn paths_are_read_as_senders_write_them() {
        assert_eq!(
            path("FROM:<a@b.example>", "FROM:"),
            Some(("a@b.example".into(), vec![]))
        );
        assert_eq!(
            path("from: <a@b.example> SIZE=123 BODY=8BITMIME", "FROM:"),
            Some(("a@b.example".into(), vec!["SIZE=123", "BODY=8BITMIME"]))
        );
        assert_eq!(path("FROM:<>", "FROM:"), Some((String::new(), vec![])));
        assert_eq!(
            path("TO:<@relay.example:c@d.example>", "TO:"),
            Some(("c@d.example".into(), vec![]))
        );
        assert_eq!(
            path("TO:c@d.example", "TO:"),
            Some(("c@d.example".into(), vec![]))
        );
        assert_eq!(path("TO <c@d.example>", "TO:"), None);
        assert_eq!(path("TO:<c@d.example", "TO:"), None);
    }
}
