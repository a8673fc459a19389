use super::*;
use chrono::TimeZone;
use mail_parser::{MessageParser, MimeHeaders};

fn address(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn email(subject: &str) -> RenderedEmail {
    RenderedEmail {
        language: "PT-BR".into(),
        subject: subject.into(),
        html: "<p>Olá João,</p><p><a href=\"https://sonde.example/s/SV_1?l=tok&amp;x=1\">Responder</a></p>"
            .into(),
        text: "Olá João,\n\nResponder (https://sonde.example/s/SV_1?l=tok&x=1)".into(),
    }
}

struct Parts {
    from: EmailAddress,
    reply_to: EmailAddress,
    to: EmailAddress,
    id: MessageId,
}

fn parts() -> Parts {
    let from = address("surveys@mail.acme.example");
    Parts {
        id: MessageId::random(&from),
        from,
        reply_to: address("help@acme.example"),
        to: address("joao@example.com"),
    }
}

fn invitation<'a>(p: &'a Parts, email: &'a RenderedEmail, reply: bool) -> Invitation<'a> {
    Invitation {
        from: &p.from,
        from_name: "Équipe Acme",
        reply_to: reply.then_some(&p.reply_to),
        to: &p.to,
        to_name: "João Silva",
        email,
        opt_out_url: "https://sonde.example/optout/v1.abc_DEF-123",
        message_id: &p.id,
        date: Utc.with_ymd_and_hms(2026, 3, 2, 9, 30, 0).unwrap(),
    }
}

fn header_section(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    &bytes[..end]
}

#[test]
fn a_multipart_alternative_with_encoded_headers() {
    let p = parts();
    let rendered = email("Olá João, uma pergunta rápida 👍");
    let bytes = build(&invitation(&p, &rendered, true)).unwrap().formatted();
    assert!(
        header_section(&bytes).is_ascii(),
        "headers are encoded, not raw UTF-8"
    );
    let message = MessageParser::default().parse(&bytes).expect("parses");
    let root = message.root_part().content_type().unwrap();
    assert_eq!(
        (root.ctype(), root.subtype()),
        ("multipart", Some("alternative"))
    );
    assert_eq!(message.subject(), Some("Olá João, uma pergunta rápida 👍"));
    let from = message.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Équipe Acme"));
    assert_eq!(from.address(), Some("surveys@mail.acme.example"));
    let to = message.to().unwrap().first().unwrap();
    assert_eq!(to.name(), Some("João Silva"));
    assert_eq!(to.address(), Some("joao@example.com"));
    assert_eq!(
        message.reply_to().unwrap().first().unwrap().address(),
        Some("help@acme.example")
    );
    assert_eq!(
        format!("<{}>", message.message_id().unwrap()),
        p.id.as_str()
    );
    assert!(message.date().is_some());

    // Text first, HTML last: readers show the last part they can.
    assert_eq!(message.text_body_count(), 1);
    assert_eq!(message.html_body_count(), 1);
    let kinds: Vec<String> = message.parts[1..]
        .iter()
        .map(|part| {
            let ct = part.content_type().unwrap();
            format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default())
        })
        .collect();
    assert_eq!(kinds, vec!["text/plain", "text/html"]);
    assert_eq!(
        message
            .body_text(0)
            .unwrap()
            .trim_end()
            .replace("\r\n", "\n"),
        rendered.text
    );
    let html = message.body_html(0).unwrap();
    assert!(html.contains(&rendered.html), "{html}");
    assert!(
        html.starts_with("<!DOCTYPE html><html lang=\"pt-br\">"),
        "{html}"
    );
}

#[test]
fn one_click_unsubscribe_headers_point_at_the_opt_out_link() {
    let p = parts();
    let rendered = email("Hello");
    let bytes = build(&invitation(&p, &rendered, false))
        .unwrap()
        .formatted();
    let message = MessageParser::default().parse(&bytes).unwrap();
    assert_eq!(
        message.header_raw("List-Unsubscribe").map(str::trim),
        Some("<https://sonde.example/optout/v1.abc_DEF-123>")
    );
    assert_eq!(
        message.header_raw("List-Unsubscribe-Post").map(str::trim),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(
        message.reply_to().is_none(),
        "no Reply-To unless the template sets one"
    );
}

#[test]
fn a_line_break_in_the_subject_adds_no_header() {
    let p = parts();
    let rendered = email("Hi\r\nBcc: everyone@example.com");
    let bytes = build(&invitation(&p, &rendered, false))
        .unwrap()
        .formatted();
    let message = MessageParser::default().parse(&bytes).unwrap();
    assert!(message.header_raw("Bcc").is_none());
    assert!(message
        .subject()
        .unwrap()
        .contains("Bcc: everyone@example.com"));
}

/// Found by the property test in CI: two spaces between non-ASCII words arrived as none.
#[test]
fn spaces_between_non_ascii_words_survive_the_wire() {
    let p = parts();
    let rendered = email("\u{1056f}  \u{11052} Olá  João");
    let bytes = build(&invitation(&p, &rendered, false))
        .unwrap()
        .formatted();
    let message = MessageParser::default().parse(&bytes).unwrap();
    assert_eq!(message.subject(), Some("\u{1056f} \u{11052} Olá João"));
}

#[test]
fn message_ids_are_unique_and_at_the_sender_domain() {
    let from = address("surveys@mail.acme.example");
    let ids: std::collections::HashSet<String> = (0..2_000)
        .map(|_| MessageId::random(&from).as_str().to_string())
        .collect();
    assert_eq!(ids.len(), 2_000);
    assert!(ids
        .iter()
        .all(|id| id.starts_with('<') && id.ends_with("@mail.acme.example>")));
    let kept = MessageId::random(&from);
    assert_eq!(MessageId::from_recorded(kept.as_str()), Ok(kept));
    for bad in ["", "abc", "<@x>", "<a b@x>", "<a@>"] {
        assert_eq!(
            MessageId::from_recorded(bad).unwrap_err().field,
            "messageId",
            "{bad}"
        );
    }
}

#[test]
fn an_opt_out_url_that_cannot_stand_in_a_header_is_refused() {
    let p = parts();
    let rendered = email("Hello");
    for url in [
        "",
        "javascript:alert(1)",
        "https://x.example/a b",
        "https://x.example/>",
    ] {
        let mut inv = invitation(&p, &rendered, false);
        inv.opt_out_url = url;
        assert_eq!(build(&inv).unwrap_err().field, "optOutUrl", "{url}");
    }
}
