//! The TwiML a messaging webhook answers with: `<Response>` holding zero or more
//! `<Message>` verbs, each the text to send back (directly or in a `<Body>` child), optionally
//! with `to`/`from` attributes. An empty `<Response/>` (or an empty body) sends nothing.

use quick_xml::events::Event;
use quick_xml::Reader;

/// A reply Twilio would send for a `<Message>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TwimlMessage {
    pub body: String,
    /// Defaults to the sender of the incoming message.
    pub to: Option<String>,
    /// Defaults to the number that received it.
    pub from: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TwimlError {
    #[error("TwiML is not well-formed XML: {0}")]
    Xml(String),
    #[error("the TwiML root element is <{0}>, not <Response>")]
    NotResponse(String),
}

/// The `Content-Type` of a TwiML answer.
pub const CONTENT_TYPE: &str = "text/xml";

/// A `<Response>` with one `<Message>` per body, escaped.
pub fn messaging_response<S: AsRef<str>>(bodies: &[S]) -> String {
    let mut out = String::from(r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#);
    for b in bodies {
        out.push_str("<Message>");
        out.push_str(&quick_xml::escape::escape(b.as_ref()));
        out.push_str("</Message>");
    }
    out.push_str("</Response>");
    out
}

/// The messages a TwiML answer asks to send. Verbs other than `<Message>` are ignored.
pub fn parse_messaging_response(xml: &str) -> Result<Vec<TwimlMessage>, TwimlError> {
    if xml.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    // Element names from the root down to the current one.
    let mut path: Vec<String> = Vec::new();
    let mut current: Option<TwimlMessage> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| TwimlError::Xml(e.to_string()))?;
        match event {
            Event::Start(e) | Event::Empty(e)
                if path.is_empty() && e.name().as_ref() != b"Response" =>
            {
                return Err(TwimlError::NotResponse(
                    String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                ));
            }
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if path.len() == 1 && name == "Message" {
                    current = Some(attributes(&e)?);
                }
                path.push(name);
            }
            Event::Empty(e) if path.len() == 1 && e.name().as_ref() == b"Message" => {
                out.push(attributes(&e)?);
            }
            Event::End(_) => {
                if path.len() == 2 && path[1] == "Message" {
                    if let Some(mut m) = current.take() {
                        m.body = m.body.trim().to_string();
                        out.push(m);
                    }
                }
                path.pop();
            }
            Event::Text(t) => {
                let in_body = path.len() == 2 || (path.len() == 3 && path[2] == "Body");
                if let (Some(m), true) = (current.as_mut(), in_body) {
                    let text = t.unescape().map_err(|e| TwimlError::Xml(e.to_string()))?;
                    m.body.push_str(&text);
                }
            }
            Event::CData(c) => {
                let in_body = path.len() == 2 || (path.len() == 3 && path[2] == "Body");
                if let (Some(m), true) = (current.as_mut(), in_body) {
                    m.body.push_str(&String::from_utf8_lossy(&c.into_inner()));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

fn attributes(e: &quick_xml::events::BytesStart<'_>) -> Result<TwimlMessage, TwimlError> {
    let mut m = TwimlMessage::default();
    for a in e.attributes() {
        let a = a.map_err(|e| TwimlError::Xml(e.to_string()))?;
        let value = a
            .unescape_value()
            .map_err(|e| TwimlError::Xml(e.to_string()))?
            .into_owned();
        match a.key.as_ref() {
            b"to" => m.to = Some(value),
            b"from" => m.from = Some(value),
            _ => {}
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_round_trip() {
        let xml = messaging_response(&["How likely… <0-10>?", "Thanks & bye"]);
        let parsed = parse_messaging_response(&xml).unwrap();
        let bodies: Vec<&str> = parsed.iter().map(|m| m.body.as_str()).collect();
        assert_eq!(bodies, ["How likely… <0-10>?", "Thanks & bye"]);
    }

    #[test]
    fn reads_the_forms_twilio_accepts() {
        let xml = r#"<?xml version="1.0"?>
            <Response>
              <Message to="+15550001111" from="+15550002222"><Body>Hello</Body><Media>http://x/y.png</Media></Message>
              <Message><![CDATA[a < b]]></Message>
              <Redirect>http://example.com/next</Redirect>
              <Message/>
            </Response>"#;
        let parsed = parse_messaging_response(xml).unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[0].body, "Hello");
        assert_eq!(parsed[0].to.as_deref(), Some("+15550001111"));
        assert_eq!(parsed[0].from.as_deref(), Some("+15550002222"));
        assert_eq!(parsed[1].body, "a < b");
        assert_eq!(parsed[2].body, "");
    }

    #[test]
    fn empty_answers_send_nothing_and_others_are_refused() {
        assert_eq!(parse_messaging_response("").unwrap(), vec![]);
        assert_eq!(parse_messaging_response("<Response/>").unwrap(), vec![]);
        assert_eq!(
            parse_messaging_response("<html><body>hi</body></html>"),
            Err(TwimlError::NotResponse("html".into()))
        );
        assert!(matches!(
            parse_messaging_response("<Response><Message>x</Response>"),
            Err(TwimlError::Xml(_))
        ));
    }
}
