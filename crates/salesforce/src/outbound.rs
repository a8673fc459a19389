//! Outbound Messages: the SOAP 1.1 `notifications` envelope Salesforce POSTs to a listener, the
//! `notificationsResponse` acknowledgement, and SOAP faults.
//!
//! Parsing resolves namespaces rather than trusting prefixes (Salesforce uses `soapenv`/`sf`,
//! replays and proxies may not), and malformed input is reported with its byte position.

use std::collections::BTreeMap;

use quick_xml::escape::escape;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use crate::oauth::Secret;

pub const SOAP_ENVELOPE_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const OUTBOUND_NS: &str = "http://soap.sforce.com/2005/09/outbound";
pub const SOBJECT_NS: &str = "urn:sobject.enterprise.soap.sforce.com";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Salesforce sends at most this many notifications in one message.
pub const MAX_NOTIFICATIONS: usize = 100;

/// One Outbound Message as delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notifications {
    pub organization_id: String,
    /// The workflow rule / flow action that sent it.
    pub action_id: String,
    /// Present only when the rule is set to send the session id.
    pub session_id: Option<Secret>,
    pub enterprise_url: String,
    pub partner_url: String,
    pub notifications: Vec<Notification>,
}

/// One record change. `id` is the notification's own id: the key to de-duplicate retries on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: String,
    pub sobject: SObject,
}

/// The record, with the fields the rule selected. A field sent as `xsi:nil` is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SObject {
    /// `Contact` from `xsi:type="sf:Contact"`.
    pub object_type: String,
    pub fields: BTreeMap<String, Option<String>>,
}

impl SObject {
    /// The record id (`sf:Id`).
    pub fn id(&self) -> Option<&str> {
        self.field("Id")
    }

    /// A field's value; absent and nil fields both give `None`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(|v| v.as_deref())
    }
}

/// Why a message could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed outbound message{}: {message}", position.map(|p| format!(" at byte {p}")).unwrap_or_default())]
pub struct OutboundError {
    pub message: String,
    pub position: Option<u64>,
}

fn err(message: impl Into<String>, position: Option<u64>) -> OutboundError {
    OutboundError {
        message: message.into(),
        position,
    }
}

/// A parsed element; outbound messages are small (at most 100 notifications), so a tree is
/// simpler and safer than a streaming walk.
#[derive(Debug, Default)]
struct Element {
    ns: Option<String>,
    name: String,
    /// (namespace, local name, value)
    attrs: Vec<(Option<String>, String, String)>,
    children: Vec<Element>,
    text: String,
    pos: u64,
}

impl Element {
    fn child(&self, ns: Option<&str>, name: &str) -> Option<&Element> {
        self.children
            .iter()
            .find(|c| c.name == name && (ns.is_none() || c.ns.as_deref() == ns))
    }

    fn attr(&self, ns: &str, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, l, _)| n.as_deref() == Some(ns) && l == name)
            .map(|(_, _, v)| v.as_str())
    }

    fn is_nil(&self) -> bool {
        matches!(self.attr(XSI_NS, "nil"), Some("true") | Some("1"))
    }
}

fn resolved(r: ResolveResult<'_>) -> Option<String> {
    match r {
        ResolveResult::Bound(ns) => Some(String::from_utf8_lossy(ns.as_ref()).into_owned()),
        _ => None,
    }
}

fn parse_tree(xml: &str) -> Result<Element, OutboundError> {
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let pos = reader.buffer_position();
        let (ns, event) = match reader.read_resolved_event() {
            Ok(x) => x,
            Err(e) => {
                let message = e.to_string();
                return Err(err(message, Some(reader.error_position())));
            }
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let mut el = Element {
                    ns: resolved(ns),
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    pos,
                    ..Default::default()
                };
                for a in e.attributes() {
                    let a = a.map_err(|x| err(x.to_string(), Some(pos)))?;
                    let (ans, local) = reader.resolve_attribute(a.key);
                    let value = a
                        .unescape_value()
                        .map_err(|x| err(x.to_string(), Some(pos)))?;
                    el.attrs.push((
                        resolved(ans),
                        String::from_utf8_lossy(local.as_ref()).into_owned(),
                        value.into_owned(),
                    ));
                }
                if matches!(event, Event::Empty(_)) {
                    attach(&mut stack, &mut root, el, pos)?;
                } else {
                    stack.push(el);
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| err("closing tag without an opening one", Some(pos)))?;
                attach(&mut stack, &mut root, el, pos)?;
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|x| err(x.to_string(), Some(pos)))?;
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(err("text outside the envelope", Some(pos))),
                }
            }
            Event::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&c.into_inner()));
                }
            }
            Event::DocType(_) => {
                return Err(err("DOCTYPE is not allowed in a SOAP message", Some(pos)))
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(err(
            format!("document ends inside <{}>", open.name),
            Some(reader.buffer_position()),
        ));
    }
    root.ok_or_else(|| err("empty document", Some(0)))
}

fn attach(
    stack: &mut [Element],
    root: &mut Option<Element>,
    el: Element,
    pos: u64,
) -> Result<(), OutboundError> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None if root.is_none() => *root = Some(el),
        None => return Err(err("more than one root element", Some(pos))),
    }
    Ok(())
}

fn required_text(parent: &Element, name: &str) -> Result<String, OutboundError> {
    let el = parent.child(Some(OUTBOUND_NS), name).ok_or_else(|| {
        err(
            format!("<{}> has no <{name}>", parent.name),
            Some(parent.pos),
        )
    })?;
    Ok(el.text.trim().to_string())
}

/// Parses the body of an Outbound Message POST.
pub fn parse_notifications(xml: &str) -> Result<Notifications, OutboundError> {
    let root = parse_tree(xml)?;
    if root.name != "Envelope" || root.ns.as_deref() != Some(SOAP_ENVELOPE_NS) {
        return Err(err(
            format!("root is <{}>, not a SOAP 1.1 Envelope", root.name),
            Some(root.pos),
        ));
    }
    let body = root
        .child(Some(SOAP_ENVELOPE_NS), "Body")
        .ok_or_else(|| err("SOAP envelope has no Body", Some(root.pos)))?;
    let n = body
        .child(Some(OUTBOUND_NS), "notifications")
        .ok_or_else(|| err("SOAP Body has no outbound <notifications>", Some(body.pos)))?;

    let organization_id = required_text(n, "OrganizationId")?;
    if organization_id.len() != 15 && organization_id.len() != 18 {
        return Err(err(
            format!("OrganizationId {organization_id:?} is not a 15 or 18 character id"),
            n.child(Some(OUTBOUND_NS), "OrganizationId").map(|e| e.pos),
        ));
    }
    let session_id = n
        .child(Some(OUTBOUND_NS), "SessionId")
        .filter(|e| !e.is_nil() && !e.text.trim().is_empty())
        .map(|e| Secret::new(e.text.trim()));
    let optional = |name: &str| {
        n.child(Some(OUTBOUND_NS), name)
            .map(|e| e.text.trim().to_string())
            .unwrap_or_default()
    };

    let mut notifications = Vec::new();
    for el in n
        .children
        .iter()
        .filter(|c| c.name == "Notification" && c.ns.as_deref() == Some(OUTBOUND_NS))
    {
        notifications.push(parse_notification(el)?);
    }
    if notifications.is_empty() {
        return Err(err("message carries no Notification", Some(n.pos)));
    }
    if notifications.len() > MAX_NOTIFICATIONS {
        return Err(err(
            format!(
                "{} notifications in one message; Salesforce sends at most {MAX_NOTIFICATIONS}",
                notifications.len()
            ),
            Some(n.pos),
        ));
    }
    Ok(Notifications {
        organization_id,
        action_id: required_text(n, "ActionId")?,
        session_id,
        enterprise_url: optional("EnterpriseUrl"),
        partner_url: optional("PartnerUrl"),
        notifications,
    })
}

fn parse_notification(el: &Element) -> Result<Notification, OutboundError> {
    let id = required_text(el, "Id")?;
    if id.is_empty() {
        return Err(err("Notification has an empty Id", Some(el.pos)));
    }
    let so = el
        .child(Some(OUTBOUND_NS), "sObject")
        .ok_or_else(|| err("Notification has no sObject", Some(el.pos)))?;
    let object_type = so
        .attr(XSI_NS, "type")
        .map(|t| t.rsplit(':').next().unwrap_or(t).to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| err("sObject has no xsi:type", Some(so.pos)))?;
    let fields = so
        .children
        .iter()
        .map(|f| {
            let value = (!f.is_nil()).then(|| f.text.clone());
            (f.name.clone(), value)
        })
        .collect();
    Ok(Notification {
        id,
        sobject: SObject {
            object_type,
            fields,
        },
    })
}

/// The body that tells Salesforce the message was received (`Ack` true) — or, with `false`,
/// that it should be retried later.
pub fn ack_response(ack: bool) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<soapenv:Envelope xmlns:soapenv="{env}"><soapenv:Body>"#,
            r#"<notificationsResponse xmlns="{ob}"><Ack>{ack}</Ack></notificationsResponse>"#,
            r#"</soapenv:Body></soapenv:Envelope>"#
        ),
        env = SOAP_ENVELOPE_NS,
        ob = OUTBOUND_NS,
        ack = ack
    )
}

/// Who a SOAP fault blames: the sender's message (`Client`) or the listener (`Server`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    Client,
    Server,
}

/// A SOAP 1.1 fault body (send with HTTP 500). Salesforce retries the message later.
pub fn fault_response(code: FaultCode, message: &str) -> String {
    let code = match code {
        FaultCode::Client => "soapenv:Client",
        FaultCode::Server => "soapenv:Server",
    };
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<soapenv:Envelope xmlns:soapenv="{env}"><soapenv:Body><soapenv:Fault>"#,
            r#"<faultcode>{code}</faultcode><faultstring>{msg}</faultstring>"#,
            r#"</soapenv:Fault></soapenv:Body></soapenv:Envelope>"#
        ),
        env = SOAP_ENVELOPE_NS,
        code = code,
        msg = escape(message)
    )
}

impl Notifications {
    /// Encodes the message as Salesforce would send it (for tests and replays).
    pub fn to_xml(&self) -> String {
        let mut s = String::with_capacity(512 + self.notifications.len() * 256);
        s.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        s.push_str(&format!(
            r#"<soapenv:Envelope xmlns:soapenv="{SOAP_ENVELOPE_NS}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="{XSI_NS}"><soapenv:Body><notifications xmlns="{OUTBOUND_NS}">"#
        ));
        s.push_str(&format!(
            "<OrganizationId>{}</OrganizationId><ActionId>{}</ActionId>",
            escape(&self.organization_id),
            escape(&self.action_id)
        ));
        match &self.session_id {
            Some(sid) => s.push_str(&format!("<SessionId>{}</SessionId>", escape(sid.expose()))),
            None => s.push_str(r#"<SessionId xsi:nil="true"/>"#),
        }
        s.push_str(&format!(
            "<EnterpriseUrl>{}</EnterpriseUrl><PartnerUrl>{}</PartnerUrl>",
            escape(&self.enterprise_url),
            escape(&self.partner_url)
        ));
        for n in &self.notifications {
            s.push_str(&format!(
                r#"<Notification><Id>{}</Id><sObject xsi:type="sf:{}" xmlns:sf="{SOBJECT_NS}">"#,
                escape(&n.id),
                escape(&n.sobject.object_type)
            ));
            for (name, value) in &n.sobject.fields {
                match value {
                    Some(v) => s.push_str(&format!("<sf:{name}>{}</sf:{name}>", escape(v))),
                    None => s.push_str(&format!(r#"<sf:{name} xsi:nil="true"/>"#)),
                }
            }
            s.push_str("</sObject></Notification>");
        }
        s.push_str("</notifications></soapenv:Body></soapenv:Envelope>");
        s
    }
}

/// Reads an acknowledgement (what Salesforce does with a listener's answer): `Ok(true)` only
/// for `<Ack>true</Ack>`; a fault gives its faultstring as the error.
pub fn parse_ack(xml: &str) -> Result<bool, OutboundError> {
    let root = parse_tree(xml)?;
    let body = root
        .child(Some(SOAP_ENVELOPE_NS), "Body")
        .ok_or_else(|| err("SOAP envelope has no Body", Some(root.pos)))?;
    if let Some(fault) = body.child(Some(SOAP_ENVELOPE_NS), "Fault") {
        let msg = fault
            .child(None, "faultstring")
            .map(|f| f.text.trim().to_string())
            .unwrap_or_default();
        return Err(err(format!("SOAP fault: {msg}"), Some(fault.pos)));
    }
    let resp = body
        .child(Some(OUTBOUND_NS), "notificationsResponse")
        .ok_or_else(|| err("no notificationsResponse", Some(body.pos)))?;
    Ok(resp
        .child(Some(OUTBOUND_NS), "Ack")
        .is_some_and(|a| a.text.trim() == "true"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00D000000000001EAA</OrganizationId>
   <ActionId>04k000000000001AAA</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://na1.salesforce.com/services/Soap/c/62.0/00D000000000001</EnterpriseUrl>
   <PartnerUrl>https://na1.salesforce.com/services/Soap/u/62.0/00D000000000001</PartnerUrl>
   <Notification>
    <Id>04l000000000001AAA</Id>
    <sObject xsi:type="sf:Contact" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>003000000000001AAA</sf:Id>
     <sf:Email>ada@example.com</sf:Email>
     <sf:LastName>Lovelace &amp; Co</sf:LastName>
     <sf:Phone xsi:nil="true"/>
    </sObject>
   </Notification>
   <Notification>
    <Id>04l000000000002AAA</Id>
    <sObject xsi:type="sf:Contact" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>003000000000002AAA</sf:Id>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>"#;

    #[test]
    fn parses_salesforce_sample() {
        let m = parse_notifications(SAMPLE).unwrap();
        assert_eq!(m.organization_id, "00D000000000001EAA");
        assert_eq!(m.action_id, "04k000000000001AAA");
        assert_eq!(m.session_id, None);
        assert!(m.partner_url.contains("/Soap/u/"));
        assert_eq!(m.notifications.len(), 2);
        let first = &m.notifications[0];
        assert_eq!(first.id, "04l000000000001AAA");
        assert_eq!(first.sobject.object_type, "Contact");
        assert_eq!(first.sobject.id(), Some("003000000000001AAA"));
        assert_eq!(first.sobject.field("LastName"), Some("Lovelace & Co"));
        assert_eq!(first.sobject.fields.get("Phone"), Some(&None));
    }

    #[test]
    fn other_prefixes_and_session_id() {
        let xml = SAMPLE
            .replace("soapenv:", "S:")
            .replace("xmlns:soapenv", "xmlns:S")
            .replace(
                r#"<SessionId xsi:nil="true"/>"#,
                "<SessionId>00D!secret</SessionId>",
            );
        let m = parse_notifications(&xml).unwrap();
        assert_eq!(
            m.session_id.as_ref().map(|s| s.expose()),
            Some("00D!secret")
        );
        assert!(!format!("{m:?}").contains("secret"));
    }

    #[test]
    fn round_trips_through_to_xml() {
        let m = parse_notifications(SAMPLE).unwrap();
        assert_eq!(parse_notifications(&m.to_xml()).unwrap(), m);
    }

    #[test]
    fn malformed_xml_reports_position() {
        let broken = &SAMPLE[..SAMPLE.len() - 40];
        let e = parse_notifications(broken).unwrap_err();
        assert!(e.position.is_some(), "{e}");
        let e = parse_notifications("<a><b></a>").unwrap_err();
        assert!(e.position.is_some());
        assert!(e.to_string().contains("at byte"), "{e}");
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        for cut in 0..SAMPLE.len() {
            if !SAMPLE.is_char_boundary(cut) {
                continue;
            }
            assert!(
                parse_notifications(&SAMPLE[..cut]).is_err(),
                "prefix of {cut} bytes"
            );
        }
    }

    #[test]
    fn structural_errors_are_named() {
        let e = parse_notifications(&SAMPLE.replace("<ActionId>04k000000000001AAA</ActionId>", ""))
            .unwrap_err();
        assert!(e.message.contains("ActionId"), "{e}");
        let e = parse_notifications(&SAMPLE.replace("00D000000000001EAA", "00D1")).unwrap_err();
        assert!(e.message.contains("OrganizationId"));
        let e = parse_notifications("<x/>").unwrap_err();
        assert!(e.message.contains("Envelope"));
        assert!(parse_notifications("").is_err());
        assert!(parse_notifications("<!DOCTYPE x><x/>").is_err());
        let wrong_ns = SAMPLE.replace("http://soap.sforce.com/2005/09/outbound", "urn:other");
        assert!(parse_notifications(&wrong_ns).is_err());
    }

    #[test]
    fn ack_and_fault() {
        assert_eq!(parse_ack(&ack_response(true)), Ok(true));
        assert_eq!(parse_ack(&ack_response(false)), Ok(false));
        let f = fault_response(FaultCode::Server, "db <down> & out");
        assert!(f.contains("db &lt;down&gt; &amp; out"));
        let e = parse_ack(&f).unwrap_err();
        assert!(e.message.contains("db <down> & out"));
    }
}
