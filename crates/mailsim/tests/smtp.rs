//! mailsim as senders see it: lettre's pooled SMTP transport (what Sonde sends with), a raw
//! SMTP conversation for the protocol's corners, and the HTTP view of what arrived.

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox as Addr, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use mailsim::{Mailsim, Refusal, RunningMailsim};
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn transport(mail: &RunningMailsim, pool: u32) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(mail.smtp_addr().ip().to_string())
        .port(mail.smtp_addr().port())
        .pool_config(PoolConfig::new().max_size(pool))
        .build()
}

fn invitation(to: &str, n: usize) -> Message {
    let text = format!(
        "Hello Ann,\n.a line that starts with a dot\nAnswer: https://sonde.example/s/{n}\n"
    );
    let html =
        format!("<p>Hello Ann,</p><p><a href=\"https://sonde.example/s/{n}\">Answer</a></p>");
    Message::builder()
        .from(
            "Sonde Surveys <surveys@sonde.example>"
                .parse::<Addr>()
                .unwrap(),
        )
        .to(format!("Ann Ünal <{to}>").parse::<Addr>().unwrap())
        .subject(format!("Votre avis compte — n°{n}"))
        .message_id(Some(format!("<{n}.invitation@sonde.example>")))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<https://sonde.example/o/{n}>"),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".into(),
        ))
        .multipart(MultiPart::alternative_plain_html(text, html))
        .unwrap()
}

#[tokio::test]
async fn a_thousand_messages_over_a_pooled_connection_all_arrive_parsed() {
    let mail = Mailsim::builder().start().await.unwrap();
    let t = transport(&mail, 4);
    let started = Instant::now();
    // Four senders sharing the pool, as the engine's workers do (lettre opens a connection
    // per concurrent send and keeps up to the pool size idle).
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..4 {
        let t = t.clone();
        tasks.spawn(async move {
            for n in (worker..1000).step_by(4) {
                t.send(invitation(&format!("ann+{n}@example.org"), n))
                    .await
                    .expect("accepted");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let elapsed = started.elapsed();
    assert!(mail.wait_for(1000, Duration::from_secs(5)).await);
    assert_eq!(mail.received_count(), 1000);
    eprintln!(
        "mailsim: 1000 messages in {elapsed:?} ({:.0}/s) over {} connections",
        1000.0 / elapsed.as_secs_f64(),
        mail.connections()
    );
    // Without quick ACKs lettre waits ~40 ms per message on each connection (12 s here);
    // with them this takes well under a second even unoptimised.
    assert!(elapsed < Duration::from_secs(5), "too slow: {elapsed:?}");
    // lettre hands a connection back to its pool just after the send returns, so a sender
    // may open a second one meanwhile: at most two per sender, not one per message.
    assert!(
        mail.connections() <= 8,
        "the pool reuses its connections: {}",
        mail.connections()
    );

    let m = &mail.messages_to("ANN+7@example.org")[0];
    assert_eq!(m.envelope_from, "surveys@sonde.example");
    assert_eq!(m.envelope_to, ["ann+7@example.org"]);
    assert_eq!(m.subject.as_deref(), Some("Votre avis compte — n°7"));
    assert_eq!(m.from[0].name.as_deref(), Some("Sonde Surveys"));
    assert_eq!(m.to[0].name.as_deref(), Some("Ann Ünal"));
    let text = m.text.as_deref().unwrap();
    assert!(
        text.contains("\n.a line that starts with a dot\r\n"),
        "dot-unstuffed: {text:?}"
    );
    assert!(text.contains("https://sonde.example/s/7"));
    assert!(m
        .html
        .as_deref()
        .unwrap()
        .contains("<a href=\"https://sonde.example/s/7\">"));
    assert!(m.date.is_some());
    assert_eq!(m.message_id.as_deref(), Some("7.invitation@sonde.example"));

    // The HTTP view: list and one message with its headers and raw bytes.
    let http = reqwest::Client::new();
    let list: Vec<Value> = http
        .get(format!(
            "{}/messages?to=ann%2B7%40example.org",
            mail.http_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["subject"], "Votre avis compte — n°7");
    assert!(list[0]["size"].as_u64().unwrap() > 200);
    let one: Value = http
        .get(format!("{}/messages/{}", mail.http_url(), list[0]["id"]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let headers = one["headers"].as_array().unwrap();
    let header = |name: &str| {
        headers
            .iter()
            .find(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
            .map(|h| h[1].as_str().unwrap().to_string())
    };
    assert_eq!(
        header("List-Unsubscribe").as_deref(),
        Some("<https://sonde.example/o/7>")
    );
    assert_eq!(
        header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(header("Content-Type")
        .unwrap()
        .starts_with("multipart/alternative"));
    let raw = http
        .get(format!(
            "{}/messages/{}/raw",
            mail.http_url(),
            list[0]["id"]
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.headers()["content-type"], "message/rfc822");
    assert!(raw
        .text()
        .await
        .unwrap()
        .contains("\r\n.a line that starts"));
    let gone = http
        .get(format!("{}/messages/99999", mail.http_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    mail.shutdown().await;
}

#[tokio::test]
async fn refused_recipients_fail_permanently_or_temporarily() {
    let mail = Mailsim::builder()
        .refuse(Refusal {
            recipient: "later@example.org".into(),
            code: 451,
            message: Some("4.7.1 Greylisted, come back soon".into()),
            times: Some(1),
            disconnect: false,
        })
        .start()
        .await
        .unwrap();
    let t = transport(&mail, 1);
    let bounce = t
        .send(invitation("bounce+ann@example.org", 1))
        .await
        .unwrap_err();
    assert!(bounce.is_permanent(), "{bounce}");
    assert!(
        bounce.to_string().contains("Mailbox unavailable"),
        "{bounce}"
    );
    let defer = t
        .send(invitation("defer@example.org", 2))
        .await
        .unwrap_err();
    assert!(defer.is_transient(), "{defer}");
    let first = t
        .send(invitation("later@example.org", 3))
        .await
        .unwrap_err();
    assert!(
        first.is_transient() && first.to_string().contains("Greylisted"),
        "{first}"
    );
    t.send(invitation("later@example.org", 4))
        .await
        .expect("accepted on the retry");

    // Configured over HTTP: a permanent refusal for a domain, then a dropped connection.
    let http = reqwest::Client::new();
    let refusals = format!("{}/refusals", mail.http_url());
    let bad = http
        .post(&refusals)
        .json(&serde_json::json!({"recipient": "x@y.example", "code": 250}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("code"));
    let made = http
        .post(&refusals)
        .json(&serde_json::json!({"recipient": "@gone.example", "code": 550}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    let gone = t
        .send(invitation("anyone@gone.example", 5))
        .await
        .unwrap_err();
    assert!(gone.is_permanent(), "{gone}");
    mail.refuse(Refusal {
        recipient: "cut@example.org".into(),
        code: 0,
        message: None,
        times: Some(1),
        disconnect: true,
    })
    .unwrap();
    let cut = transport(&mail, 1)
        .send(invitation("cut@example.org", 6))
        .await
        .unwrap_err();
    assert!(
        !cut.is_permanent(),
        "a lost connection is worth a retry: {cut}"
    );
    http.delete(&refusals).send().await.unwrap();
    t.send(invitation("anyone@gone.example", 7))
        .await
        .expect("no refusal left");

    let stored: Vec<_> = mail
        .messages()
        .iter()
        .map(|m| m.envelope_to[0].clone())
        .collect();
    assert_eq!(stored, ["anyone@gone.example", "later@example.org"]);
    mail.shutdown().await;
}

/// A raw SMTP client: sends lines, reads whole (multi-line) replies.
struct Raw {
    r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
}

impl Raw {
    async fn connect(mail: &RunningMailsim) -> Raw {
        let s = tokio::net::TcpStream::connect(mail.smtp_addr())
            .await
            .unwrap();
        let (r, w) = s.into_split();
        let mut raw = Raw {
            r: BufReader::new(r),
            w,
        };
        assert!(raw.reply().await.starts_with("220 "));
        raw
    }
    async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            self.r.read_line(&mut line).await.unwrap();
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] == b' ' {
                return all;
            }
        }
    }
    async fn send(&mut self, text: &str) {
        self.w.write_all(text.as_bytes()).await.unwrap();
    }
    async fn say(&mut self, line: &str) -> String {
        self.send(&format!("{line}\r\n")).await;
        self.reply().await
    }
}

#[tokio::test]
async fn the_protocol_corners() {
    let mail = Mailsim::builder().max_size(2000).start().await.unwrap();
    let mut c = Raw::connect(&mail).await;
    assert!(
        c.say("MAIL FROM:<a@b.example>").await.starts_with("503"),
        "EHLO first"
    );
    let ehlo = c.say("EHLO client.example").await;
    for ext in ["PIPELINING", "SIZE 2000", "8BITMIME", "AUTH PLAIN LOGIN"] {
        assert!(ehlo.contains(ext), "{ehlo}");
    }
    assert!(
        c.say("RCPT TO:<c@d.example>").await.starts_with("503"),
        "MAIL first"
    );
    assert!(c.say("DATA").await.starts_with("503"));
    assert!(c
        .say("MAIL FROM:<a@b.example> SIZE=5000")
        .await
        .starts_with("552"));
    assert!(c.say("MAIL FROM:<a@b.example>").await.starts_with("250"));
    assert!(
        c.say("MAIL FROM:<a@b.example>").await.starts_with("503"),
        "nested"
    );
    assert!(c.say("DATA").await.starts_with("554"), "no recipients yet");
    assert!(c.say("RCPT TO:<not-an-address>").await.starts_with("501"));
    assert!(c.say("RSET").await.starts_with("250"));
    assert!(c.say("NOOP").await.starts_with("250"));
    assert!(c.say("FROB").await.starts_with("500"));
    assert!(c.say("STARTTLS").await.starts_with("454"));

    // AUTH PLAIN with an initial response, then a pipelined transaction in one write.
    let plain = base64_encode(b"\0ann\0secret");
    assert!(c
        .say(&format!("AUTH PLAIN {plain}"))
        .await
        .starts_with("235"));
    c.send("MAIL FROM:<>\r\nRCPT TO:<c@d.example>\r\nRCPT TO:<e@f.example>\r\nDATA\r\n")
        .await;
    for expected in ["250", "250", "250", "354"] {
        assert!(c.reply().await.starts_with(expected));
    }
    let done = c
        .say("Subject: dots\r\n\r\n..leading dot\r\nnot. the end\r\n...\r\n.")
        .await;
    assert!(done.starts_with("250 2.0.0 Ok: queued as"), "{done}");
    let r = &mail.received()[0];
    assert_eq!(r.mail_from, "", "a null sender is kept");
    assert_eq!(r.rcpt_to, ["c@d.example", "e@f.example"]);
    assert_eq!(r.auth_user.as_deref(), Some("ann"));
    assert_eq!(
        &r.raw[..],
        b"Subject: dots\r\n\r\n.leading dot\r\nnot. the end\r\n..\r\n"
    );

    // Too big for --max-size: refused after the data, and the session goes on.
    assert!(c.say("MAIL FROM:<a@b.example>").await.starts_with("250"));
    assert!(c.say("RCPT TO:<c@d.example>").await.starts_with("250"));
    assert!(c.say("DATA").await.starts_with("354"));
    let big = format!("Subject: big\r\n\r\n{}\r\n.", "x".repeat(3000));
    assert!(c.say(&big).await.starts_with("552"));
    assert_eq!(mail.received_count(), 1);
    assert!(c.say("QUIT").await.starts_with("221"));

    // AUTH LOGIN in two steps, then HELO instead of EHLO.
    let mut c = Raw::connect(&mail).await;
    assert!(c.say("HELO old.example").await.starts_with("250"));
    assert!(c.say("AUTH LOGIN").await.starts_with("334"));
    assert!(c.say(&base64_encode(b"bob")).await.starts_with("334"));
    assert!(c.say(&base64_encode(b"pw")).await.starts_with("235"));
    assert!(c.say("QUIT").await.starts_with("221"));
    mail.shutdown().await;
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}
