//! Outbound Messages: SOAP shape, criteria, retries with growing intervals until acknowledged,
//! and dropping after the lifetime — run fast with a time scale.

use crate::*;
use axum::routing::post;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const ACK: &str = r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"#;

/// A listener that fails the first `fail` posts and acknowledges the rest, keeping bodies.
async fn listener(fail: usize) -> (String, Arc<Mutex<Vec<String>>>) {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let b = bodies.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: String| {
            let b = b.clone();
            let count = count.clone();
            async move {
                b.lock().unwrap().push(body);
                if count.fetch_add(1, Ordering::SeqCst) < fail {
                    (
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                        "try later".to_string(),
                    )
                } else {
                    (axum::http::StatusCode::OK, ACK.to_string())
                }
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/hook"), bodies)
}

async fn wait_until(mut f: impl FnMut() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("condition never became true");
}

#[tokio::test]
async fn notifications_retry_until_acknowledged() {
    let t = start(Org::builder().time_scale(600.0)).await;
    let (endpoint, bodies) = listener(2).await;
    let rule = sfsim::OutboundRule {
        id: String::new(),
        name: "New opted-in contacts".into(),
        object: "Contact".into(),
        on_create: true,
        on_update: false,
        criteria: Some("HasOptedOutOfEmail = false AND Email != null".into()),
        fields: vec!["Email".into(), "FirstName".into()],
        endpoint,
        send_session_id: true,
    };
    let rule_id = t.org.add_outbound_rule(rule).unwrap();
    assert!(rule_id.starts_with("04k"));
    let id = t
        .create(
            "Contact",
            json!({"LastName": "Hook", "FirstName": "Ann", "Email": "ann@example.com"}),
        )
        .await;
    t.create(
        "Contact",
        json!({"LastName": "Quiet", "Email": "q@example.com", "HasOptedOutOfEmail": true}),
    )
    .await;
    wait_until(|| t.org.outbound_deliveries().iter().any(|d| d.acknowledged)).await;
    let deliveries = t.org.outbound_deliveries();
    assert_eq!(deliveries.len(), 3, "two failures then an ack");
    assert!(
        deliveries.iter().all(|d| d.record_ids == vec![id.clone()]),
        "criteria filtered the opted-out contact"
    );
    let ids: Vec<_> = deliveries
        .iter()
        .map(|d| d.notification_ids.clone())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] == w[1]),
        "retries keep the notification id"
    );
    assert_eq!(t.org.outbound_pending(), 0);
    let body = bodies.lock().unwrap()[0].clone();
    for needle in [
        "<notifications xmlns=\"http://soap.sforce.com/2005/09/outbound\">",
        &format!("<OrganizationId>{}</OrganizationId>", t.org.org_id()),
        &format!("<ActionId>{rule_id}</ActionId>"),
        "<SessionId>00D",
        "xsi:type=\"sf:Contact\"",
        &format!("<sf:Id>{id}</sf:Id>"),
        "<sf:Email>ann@example.com</sf:Email>",
    ] {
        assert!(body.contains(needle), "missing {needle} in {body}");
    }
}

#[tokio::test]
async fn unacknowledged_notifications_are_dropped_after_the_lifetime() {
    let t = start(Org::builder().time_scale(3600.0)).await;
    let (endpoint, _) = listener(usize::MAX).await;
    t.org.set_outbound_settings(sfsim::OutboundSettings {
        lifetime_ms: 3 * 3_600_000,
        ..Default::default()
    });
    t.org
        .add_outbound_rule(sfsim::OutboundRule {
            id: String::new(),
            name: String::new(),
            object: "Lead".into(),
            on_create: false,
            on_update: true,
            criteria: None,
            fields: vec![],
            endpoint,
            send_session_id: false,
        })
        .unwrap();
    let id = t
        .create("Lead", json!({"LastName": "L", "Company": "C"}))
        .await;
    assert_eq!(t.org.outbound_pending(), 0, "rule fires on update only");
    t.patch(&format!("sobjects/Lead/{id}"), json!({"DoNotCall": true}))
        .await;
    assert_eq!(t.org.outbound_pending(), 1);
    wait_until(|| t.org.outbound_dropped() == 1).await;
    let d = t.org.outbound_deliveries();
    assert!(d.len() >= 3 && d.iter().all(|d| !d.acknowledged));
}

#[tokio::test]
async fn duplicates_repeat_the_notification_id_and_batches_hold_at_most_100() {
    let t = start(Org::builder().time_scale(600.0)).await;
    let (endpoint, bodies) = listener(0).await;
    t.org.set_outbound_settings(sfsim::OutboundSettings {
        duplicate_rate: 1.0,
        ..Default::default()
    });
    t.org
        .add_outbound_rule(sfsim::OutboundRule {
            id: String::new(),
            name: String::new(),
            object: "Lead".into(),
            on_create: true,
            on_update: false,
            criteria: None,
            fields: vec!["LastName".into()],
            endpoint,
            send_session_id: false,
        })
        .unwrap();
    let records: Vec<Value> = (0..150).map(|i| json!({"attributes": {"type": "Lead"}, "LastName": format!("D{i}"), "Company": "C"})).collect();
    t.post("composite/sobjects", json!({"records": records}))
        .await;
    wait_until(|| {
        t.org.outbound_pending() == 0
            && t.org
                .outbound_deliveries()
                .iter()
                .map(|d| d.notification_ids.len())
                .sum::<usize>()
                == 300
    })
    .await;
    let deliveries = t.org.outbound_deliveries();
    assert!(deliveries.iter().all(|d| d.notification_ids.len() <= 100));
    let mut seen = std::collections::HashMap::new();
    for d in &deliveries {
        for id in &d.notification_ids {
            *seen.entry(id.clone()).or_insert(0) += 1;
        }
    }
    assert_eq!(seen.len(), 150);
    assert!(
        seen.values().all(|n| *n == 2),
        "each notification arrives exactly twice"
    );
    assert!(bodies
        .lock()
        .unwrap()
        .iter()
        .all(|b| b.contains("<SessionId xsi:nil=\"true\"/>")));
}

/// A port nothing listens on: every delivery to it fails at once.
async fn closed_endpoint() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}/hook")
}

#[tokio::test]
async fn pending_notifications_survive_a_restart_and_shuffle_delivers_them_out_of_order() {
    let dir = std::env::temp_dir().join(format!("sfsim-outbound-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let t = start(Org::builder().time_scale(600.0).state_dir(&dir)).await;
    t.org.set_outbound_settings(sfsim::OutboundSettings {
        shuffle: true,
        ..Default::default()
    });
    let rule = |endpoint: String| sfsim::OutboundRule {
        id: "04k000000000042AAA".into(),
        name: "New leads".into(),
        object: "Lead".into(),
        on_create: true,
        on_update: false,
        criteria: None,
        fields: vec!["LastName".into()],
        endpoint,
        send_session_id: false,
    };
    t.org
        .add_outbound_rule(rule(closed_endpoint().await))
        .unwrap();
    let records: Vec<Value> = (0..60)
        .map(|i| json!({"attributes": {"type": "Lead"}, "LastName": format!("S{i:02}"), "Company": "C"}))
        .collect();
    t.post("composite/sobjects", json!({"records": records}))
        .await;
    wait_until(|| t.org.outbound_pending() == 60 && !t.org.outbound_deliveries().is_empty()).await;
    let queued: std::collections::BTreeSet<String> = t
        .org
        .outbound_deliveries()
        .iter()
        .flat_map(|d| d.notification_ids.clone())
        .collect();
    assert!(t.org.outbound_deliveries().iter().all(|d| !d.acknowledged));
    t.org.shutdown().await;

    // The listener is back (at a new address); the org resumes from its state directory.
    let t2 = start(Org::builder().time_scale(600.0).state_dir(&dir)).await;
    assert_eq!(
        t2.org.outbound_pending(),
        60,
        "nothing acknowledged is forgotten"
    );
    let (endpoint, _) = listener(0).await;
    t2.org.add_outbound_rule(rule(endpoint)).unwrap();
    wait_until(|| t2.org.outbound_pending() == 0).await;
    let acknowledged: Vec<String> = t2
        .org
        .outbound_deliveries()
        .iter()
        .filter(|d| d.acknowledged)
        .flat_map(|d| d.notification_ids.clone())
        .collect();
    assert_eq!(acknowledged.len(), 60);
    let delivered: std::collections::BTreeSet<String> = acknowledged.iter().cloned().collect();
    assert!(
        queued.is_subset(&delivered),
        "the same notifications, by id"
    );
    let mut sorted = acknowledged.clone();
    sorted.sort();
    assert_ne!(acknowledged, sorted, "shuffled, not oldest first");

    // Ids go on from where they were: a new change gets a new notification id.
    t2.create("Lead", json!({"LastName": "After", "Company": "C"}))
        .await;
    wait_until(|| t2.org.outbound_deliveries().len() > 1 && t2.org.outbound_pending() == 0).await;
    let last = t2.org.outbound_deliveries().last().unwrap().clone();
    assert!(!delivered.contains(&last.notification_ids[0]), "{last:?}");
    t2.org.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
