//! Outbound Messages: rules that watch an object for creates/updates matching a SOQL condition
//! and POST SOAP 1.1 notifications (up to 100 per message), retried at growing intervals until
//! acknowledged or older than the message lifetime. Retries may deliver duplicates or out of order;
//! `shuffle` delivers everything out of order, and `duplicateRate` sends a share again. With
//! `--state`, notifications not yet acknowledged survive a restart, as Salesforce's queue does.

use crate::ids::Id;
use crate::org::OrgState;
use crate::store::{Change, Store};
use parking_lot::Mutex;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// An outbound message rule (a Workflow Rule or Flow with an outbound message action).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub object: String,
    #[serde(default = "yes")]
    pub on_create: bool,
    #[serde(default)]
    pub on_update: bool,
    /// A SOQL condition (the WHERE clause without `WHERE`); empty means every record.
    #[serde(default)]
    pub criteria: Option<String>,
    #[serde(default)]
    pub fields: Vec<String>,
    pub endpoint: String,
    #[serde(default)]
    pub send_session_id: bool,
}

fn yes() -> bool {
    true
}

/// Sender behaviour; the defaults are a real org's.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct OutboundSettings {
    /// Org milliseconds after which an unacknowledged notification is dropped.
    pub lifetime_ms: i64,
    /// First retry delay in org milliseconds; doubles each attempt, capped at `max_interval_ms`.
    pub first_retry_ms: i64,
    pub max_interval_ms: i64,
    /// Share of acknowledged notifications sent again later (duplicate delivery).
    pub duplicate_rate: f64,
    /// Real-time timeout for one POST.
    pub timeout_ms: u64,
    /// Deliver due notifications in random order (across messages too), not oldest first.
    pub shuffle: bool,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        OutboundSettings {
            lifetime_ms: 24 * 3_600_000,
            first_retry_ms: 15_000,
            max_interval_ms: 2 * 3_600_000,
            duplicate_rate: 0.0,
            timeout_ms: 60_000,
            shuffle: false,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pending {
    notification_id: String,
    rule_id: String,
    #[serde(with = "record_id")]
    record_id: Id,
    object: String,
    /// (field name, text value, null?) in rule order, captured when the change happened.
    fields: Vec<(String, String, bool)>,
    created_ms: i64,
    attempts: u32,
    next_ms: i64,
    /// A deliberate re-delivery of an acknowledged notification; never duplicated again.
    duplicate: bool,
}

/// Record ids in the 18-character form in the state directory.
mod record_id {
    use crate::ids::Id;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(id: &Id, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&id.to18())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Id, D::Error> {
        let text = String::deserialize(d)?;
        Id::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("not a record id: {text}")))
    }
}

/// What the sender keeps across a restart (`outbound-pending.json`): the notifications not
/// acknowledged yet, with their attempts and next times, the settings, and the id counter so
/// no notification id is given twice.
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SenderState {
    pending: Vec<Pending>,
    settings: OutboundSettings,
    counter: u64,
    dropped: u64,
}

/// One POST the sender made, for tests and the admin API.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub rule_id: String,
    pub endpoint: String,
    pub notification_ids: Vec<String>,
    pub record_ids: Vec<String>,
    pub acknowledged: bool,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub at: String,
}

#[derive(Default)]
pub struct Outbound {
    rules: Mutex<Vec<Rule>>,
    pending: Mutex<Vec<Pending>>,
    deliveries: Mutex<Vec<Delivery>>,
    dropped: Mutex<u64>,
    pub settings: Mutex<OutboundSettings>,
    pub wake: tokio::sync::Notify,
    counter: Mutex<u64>,
}

impl Outbound {
    pub fn rules(&self) -> Vec<Rule> {
        self.rules.lock().clone()
    }

    /// What survives a restart.
    pub fn sender_state(&self) -> SenderState {
        SenderState {
            pending: self.pending.lock().clone(),
            settings: self.settings.lock().clone(),
            counter: *self.counter.lock(),
            dropped: *self.dropped.lock(),
        }
    }

    /// Takes up where a snapshot left off.
    pub fn restore(&self, saved: SenderState) {
        *self.pending.lock() = saved.pending;
        *self.settings.lock() = saved.settings;
        *self.counter.lock() = saved.counter;
        *self.dropped.lock() = saved.dropped;
        self.wake.notify_one();
    }

    pub fn set_rules(&self, rules: Vec<Rule>) {
        *self.rules.lock() = rules;
    }

    fn next_id(&self, prefix: &str) -> String {
        let mut c = self.counter.lock();
        *c += 1;
        Id::new(prefix, 1_000_000 + *c).to18()
    }

    /// Adds a rule after checking its object, fields and criteria; returns its id (04k...).
    pub fn add_rule(&self, store: &Store, mut rule: Rule) -> Result<String, String> {
        let o = store
            .meta
            .object(&rule.object)
            .ok_or_else(|| format!("unknown object {}", rule.object))?;
        rule.object = o.name.clone();
        let mut fields = vec!["Id".to_string()];
        for f in &rule.fields {
            let fd = o
                .field(f)
                .ok_or_else(|| format!("unknown field {}.{f}", o.name))?;
            if !fields.contains(&fd.name) {
                fields.push(fd.name.clone());
            }
        }
        rule.fields = fields;
        if let Some(c) = rule.criteria.as_deref().filter(|c| !c.trim().is_empty()) {
            soql::parse(&format!("SELECT Id FROM {} WHERE {c}", o.name))
                .map_err(|e| format!("criteria: {e}"))?;
        }
        if url::Url::parse(&rule.endpoint).is_err() {
            return Err(format!("endpoint is not a URL: {}", rule.endpoint));
        }
        if rule.id.is_empty() {
            rule.id = self.next_id("04k");
        }
        if rule.name.is_empty() {
            rule.name = format!("{} outbound message", o.name);
        }
        let id = rule.id.clone();
        let mut rules = self.rules.lock();
        rules.retain(|r| r.id != id);
        rules.push(rule);
        Ok(id)
    }

    pub fn remove_rule(&self, id: &str) -> bool {
        let mut rules = self.rules.lock();
        let before = rules.len();
        rules.retain(|r| r.id != id);
        rules.len() != before
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().clone()
    }

    pub fn pending_count(&self) -> usize {
        self.pending.lock().len()
    }

    pub fn dropped_count(&self) -> u64 {
        *self.dropped.lock()
    }

    /// Queues notifications for committed changes that match a rule.
    pub fn on_changes(&self, store: &Store, changes: &[Change], now: i64) {
        let rules = self.rules.lock().clone();
        if rules.is_empty() || changes.is_empty() {
            return;
        }
        let mut queued = false;
        for rule in &rules {
            let relevant: Vec<&Change> = changes
                .iter()
                .filter(|c| {
                    c.object.eq_ignore_ascii_case(&rule.object)
                        && ((c.created && rule.on_create) || (!c.created && rule.on_update))
                })
                .collect();
            if relevant.is_empty() {
                continue;
            }
            let Some(oi) = store.meta.object_index(&rule.object) else {
                continue;
            };
            let filter = match rule.criteria.as_deref().filter(|c| !c.trim().is_empty()) {
                Some(c) => crate::query::condition(store, &rule.object, c, now),
                None => None,
            };
            for c in relevant {
                let Some(rec) = store.get(oi, c.id) else {
                    continue;
                };
                if let Some(f) = &filter {
                    if !crate::query::record_matches(store, f, rec) {
                        continue;
                    }
                }
                let o = &store.meta.objects[oi];
                let fields = rule
                    .fields
                    .iter()
                    .filter_map(|f| {
                        let fi = o.field_index(f)?;
                        let fd = &o.fields[fi];
                        let v = rec.get(fi);
                        Some((fd.name.clone(), v.to_text(fd.is_integer()), v.is_null()))
                    })
                    .collect();
                self.pending.lock().push(Pending {
                    notification_id: self.next_id("04l"),
                    rule_id: rule.id.clone(),
                    record_id: c.id,
                    object: o.name.clone(),
                    fields,
                    created_ms: now,
                    attempts: 0,
                    next_ms: now,
                    duplicate: false,
                });
                queued = true;
            }
        }
        if queued {
            self.wake.notify_one();
        }
    }
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

fn envelope(state: &OrgState, rule: &Rule, batch: &[Pending], session: Option<&str>) -> String {
    let org = state.org_id().to18();
    let base = state.instance_url();
    let v = state.latest_version();
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n <soapenv:Body>\n  <notifications xmlns=\"http://soap.sforce.com/2005/09/outbound\">\n",
    );
    x.push_str(&format!(
        "   <OrganizationId>{org}</OrganizationId>\n   <ActionId>{}</ActionId>\n",
        rule.id
    ));
    match session {
        Some(s) => x.push_str(&format!("   <SessionId>{}</SessionId>\n", xml_escape(s))),
        None => x.push_str("   <SessionId xsi:nil=\"true\"/>\n"),
    }
    x.push_str(&format!(
        "   <EnterpriseUrl>{base}/services/Soap/c/{v}/{org}</EnterpriseUrl>\n"
    ));
    x.push_str(&format!(
        "   <PartnerUrl>{base}/services/Soap/u/{v}/{org}</PartnerUrl>\n"
    ));
    for p in batch {
        x.push_str(&format!(
            "   <Notification>\n    <Id>{}</Id>\n    <sObject xsi:type=\"sf:{}\" xmlns:sf=\"urn:sobject.enterprise.soap.sforce.com\">\n",
            p.notification_id, p.object
        ));
        for (name, value, null) in &p.fields {
            if *null {
                x.push_str(&format!("     <sf:{name} xsi:nil=\"true\"/>\n"));
            } else {
                x.push_str(&format!(
                    "     <sf:{name}>{}</sf:{name}>\n",
                    xml_escape(value)
                ));
            }
        }
        x.push_str("    </sObject>\n   </Notification>\n");
    }
    x.push_str("  </notifications>\n </soapenv:Body>\n</soapenv:Envelope>\n");
    x
}

fn acknowledged(body: &str) -> bool {
    let compact: String = body.split_whitespace().collect();
    !compact.contains("Fault>") && (compact.contains("Ack>true</"))
}

/// The sender loop: runs until the org shuts down.
pub async fn run_sender(state: Arc<OrgState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let client = match reqwest::Client::builder()
        .danger_accept_invalid_certs(false)
        .build()
    {
        Ok(c) => c,
        Err(_) => return,
    };
    loop {
        let wait = deliver_due(&state, &client).await;
        tokio::select! {
            _ = state.outbound.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Sends what is due now; returns how long to sleep before the next check.
async fn deliver_due(state: &Arc<OrgState>, client: &reqwest::Client) -> Duration {
    let now = state.clock.now_ms();
    let settings = state.outbound.settings.lock().clone();
    let rules = state.outbound.rules();
    // Drop what outlived the lifetime, then take due notifications grouped by rule.
    let due: Vec<(Rule, Vec<Pending>)> = {
        let mut pending = state.outbound.pending.lock();
        let before = pending.len();
        pending.retain(|p| now - p.created_ms <= settings.lifetime_ms);
        *state.outbound.dropped.lock() += (before - pending.len()) as u64;
        let mut out: Vec<(Rule, Vec<Pending>)> = Vec::new();
        let mut rng = rand::thread_rng();
        for rule in &rules {
            let mut due: Vec<&Pending> = pending
                .iter()
                .filter(|p| p.rule_id == rule.id && p.next_ms <= now)
                .collect();
            if settings.shuffle {
                use rand::seq::SliceRandom;
                due.shuffle(&mut rng);
            }
            let mut batch: Vec<Pending> = due.into_iter().take(100).cloned().collect();
            if batch.is_empty() {
                continue;
            }
            // Retries are not kept in order, as in a real org.
            if batch.iter().any(|p| p.attempts > 0) && batch.len() > 1 {
                let i = rng.gen_range(0..batch.len());
                batch.swap(0, i);
            }
            out.push((rule.clone(), batch));
        }
        pending.retain(|p| rules.iter().any(|r| r.id == p.rule_id));
        out
    };
    for (rule, batch) in due {
        let session = if rule.send_session_id {
            let admin = state.store.read().admin().id;
            let org = state.org_id();
            Some(state.auth.lock().issue_access(
                org,
                admin,
                &state.config.client_id,
                now + state.config.session_ms,
            ))
        } else {
            None
        };
        let body = envelope(state, &rule, &batch, session.as_deref());
        let result = client
            .post(&rule.endpoint)
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", "\"\"")
            .timeout(Duration::from_millis(settings.timeout_ms))
            .body(body)
            .send()
            .await;
        let (ok, status, error) = match result {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let text = resp.text().await.unwrap_or_default();
                let ok = (200..300).contains(&status) && acknowledged(&text);
                (
                    ok,
                    Some(status),
                    if ok {
                        None
                    } else {
                        Some(text.chars().take(500).collect())
                    },
                )
            }
            Err(e) => (false, None, Some(e.to_string())),
        };
        let ids: Vec<String> = batch.iter().map(|p| p.notification_id.clone()).collect();
        state.outbound.deliveries.lock().push(Delivery {
            rule_id: rule.id.clone(),
            endpoint: rule.endpoint.clone(),
            notification_ids: ids.clone(),
            record_ids: batch.iter().map(|p| p.record_id.to18()).collect(),
            acknowledged: ok,
            status,
            error,
            at: crate::val::format_datetime(state.clock.now_ms()),
        });
        let now = state.clock.now_ms();
        // Acknowledged or put off: either way the queue changed, and a snapshot keeps it.
        state.mark_dirty();
        let mut pending = state.outbound.pending.lock();
        if ok {
            let mut rng = rand::thread_rng();
            let mut again = Vec::new();
            pending.retain(|p| {
                if !ids.contains(&p.notification_id) {
                    return true;
                }
                if !p.duplicate
                    && settings.duplicate_rate > 0.0
                    && rng.gen::<f64>() < settings.duplicate_rate
                {
                    let mut dup = p.clone();
                    dup.duplicate = true;
                    dup.attempts += 1;
                    dup.next_ms = now + settings.first_retry_ms;
                    again.push(dup);
                }
                false
            });
            pending.extend(again);
        } else {
            for p in pending
                .iter_mut()
                .filter(|p| ids.contains(&p.notification_id))
            {
                p.attempts += 1;
                let delay = settings
                    .first_retry_ms
                    .saturating_mul(1i64 << (p.attempts - 1).min(20));
                p.next_ms = now + delay.min(settings.max_interval_ms);
            }
        }
    }
    let next = state
        .outbound
        .pending
        .lock()
        .iter()
        .map(|p| p.next_ms)
        .min();
    match next {
        Some(t) => state
            .clock
            .real_duration(t - state.clock.now_ms())
            .clamp(Duration::from_millis(5), Duration::from_millis(500)),
        None => Duration::from_millis(500),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_detection() {
        assert!(acknowledged("<soapenv:Envelope><soapenv:Body><notificationsResponse xmlns=\"http://soap.sforce.com/2005/09/outbound\"><Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"));
        assert!(!acknowledged("<Ack>false</Ack>"));
        assert!(!acknowledged(
            "<soapenv:Fault><faultstring>x</faultstring></soapenv:Fault>"
        ));
    }
}
