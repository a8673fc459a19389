//! Workflows fired by Salesforce messages: the endpoint a `salesforce_message` workflow gets,
//! Outbound Messages from the local org's own sender recorded once each (duplicates and
//! shuffled order included) and acknowledged, and the messages refused whole — another org,
//! a malformed body, the wrong object, an unknown endpoint.

use crate::harness::{backends, start_sfsim, use_sfsim, TestApp};
use engine::Role;
use serde_json::{json, Value};

struct Fixture {
    app: TestApp,
    sf: sfsim::RunningOrg,
    token: String,
    workflow: String,
    endpoint: String,
}

impl Fixture {
    async fn new(backend: crate::harness::Backend) -> Self {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let (sf, connection) = crate::harness::linked_org(&app, &token).await;
        let survey = app
            .create_survey(&token, &survey::sample::sample_definition())
            .await;
        let r = app
            .post(&token, &format!("/api/v1/surveys/{survey}/workflows"))
            .json(
                &json!({"name": "Case closed", "event": "salesforce_message",
                          "connectionId": connection, "object": "Case"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let w: Value = r.json().await.unwrap();
        let endpoint = w["endpointUrl"].as_str().unwrap().to_string();
        assert!(
            endpoint.starts_with(&app.url("/hooks/salesforce/")),
            "{endpoint}"
        );
        Fixture {
            workflow: w["id"].as_str().unwrap().into(),
            app,
            sf,
            token,
            endpoint,
        }
    }

    async fn notifications(&self) -> Vec<Value> {
        let v = self
            .app
            .get_json(
                &self.token,
                &format!("/api/v1/workflows/{}/notifications", self.workflow),
            )
            .await;
        v.as_array().unwrap().clone()
    }

    async fn post_xml(&self, url: &str, body: String) -> (u16, String) {
        let r = reqwest::Client::new()
            .post(url)
            .header("content-type", "text/xml; charset=utf-8")
            .header("SOAPAction", "\"\"")
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

/// An Outbound Message as Salesforce writes it, of `org` with Case notifications `ids`.
fn message(org: &str, object: &str, ids: &[&str]) -> String {
    salesforce::outbound::Notifications {
        organization_id: org.into(),
        action_id: "04k000000000001AAA".into(),
        session_id: None,
        enterprise_url: "https://example.my.salesforce.com/services/Soap/c/61.0".into(),
        partner_url: "https://example.my.salesforce.com/services/Soap/u/61.0".into(),
        notifications: ids
            .iter()
            .enumerate()
            .map(|(i, id)| salesforce::outbound::Notification {
                id: (*id).into(),
                sobject: salesforce::outbound::SObject {
                    object_type: object.into(),
                    fields: [
                        ("Id".to_string(), Some(format!("500000000000{i:03}AAA"))),
                        ("Subject".to_string(), Some(format!("Case {i}"))),
                        ("ClosedDate".to_string(), None),
                    ]
                    .into_iter()
                    .collect(),
                },
            })
            .collect(),
    }
    .to_xml()
}

#[tokio::test]
async fn closing_cases_in_the_org_records_each_notification_once_and_acknowledges_it() {
    for backend in backends() {
        let f = Fixture::new(backend).await;
        // Every acknowledged notification is sent once more, and due ones go in random order.
        f.sf.set_outbound_settings(sfsim::OutboundSettings {
            duplicate_rate: 1.0,
            first_retry_ms: 10,
            shuffle: true,
            ..Default::default()
        });
        f.sf.add_outbound_rule(sfsim::OutboundRule {
            id: String::new(),
            name: "Case closed".into(),
            object: "Case".into(),
            on_create: true,
            on_update: true,
            criteria: Some("Status = 'Closed'".into()),
            fields: vec!["Subject".into(), "ContactId".into(), "Status".into()],
            endpoint: f.endpoint.clone(),
            send_session_id: false,
        })
        .unwrap();
        let admin = crate::harness::sfsim_admin(&f.sf);
        for i in 0..30 {
            admin
                .create(
                    "Case",
                    &json!({"Subject": format!("Broken {i}"), "Status": "Closed"}),
                )
                .await
                .unwrap();
        }
        // Until every notification was delivered twice and acknowledged both times.
        let mut tries = 0;
        loop {
            let deliveries = f.sf.outbound_deliveries();
            let acked: usize = deliveries
                .iter()
                .filter(|d| d.acknowledged)
                .map(|d| d.notification_ids.len())
                .sum();
            if acked == 60 && f.sf.outbound_pending() == 0 {
                assert!(deliveries.iter().all(|d| d.acknowledged), "{deliveries:?}");
                break;
            }
            tries += 1;
            assert!(tries < 400, "{deliveries:?}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let got = f.notifications().await;
        assert_eq!(got.len(), 30, "once each: {got:?}");
        assert!(got.iter().all(|n| n["duplicates"] == 1), "{got:?}");
        assert!(got
            .iter()
            .all(|n| n["status"] == "received" && n["object"] == "Case"));
        let subjects: std::collections::BTreeSet<String> = got
            .iter()
            .map(|n| n["record"]["Subject"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(subjects.len(), 30, "{subjects:?}");
        assert!(got[0]["recordId"].as_str().unwrap().starts_with("500"));
    }
}

#[tokio::test]
async fn a_message_of_another_org_a_malformed_one_or_of_another_object_is_refused_and_records_nothing(
) {
    for backend in backends() {
        let f = Fixture::new(backend).await;
        let org = f.sf.org_id();
        for (body, says) in [
            (
                message("00D000000000999AAA", "Case", &["04l000000000001AAA"]),
                "is not the Salesforce org linked",
            ),
            (
                message(&org, "Lead", &["04l000000000002AAA"]),
                "this workflow takes Case records",
            ),
            (
                message(&org, "Case", &["04l000000000003AAA"]).replace("</soapenv:Body>", ""),
                "malformed outbound message",
            ),
        ] {
            let (status, text) = f.post_xml(&f.endpoint, body).await;
            assert_eq!(status, 500, "{text}");
            assert!(text.contains("<soapenv:Fault>"), "{text}");
            assert!(text.contains(says), "{says}: {text}");
        }
        assert!(f.notifications().await.is_empty());

        // A token that names no endpoint is a bare 404; a body neither XML nor JSON, a 415.
        let wrong = format!("{}x", f.endpoint);
        let (status, text) = f.post_xml(&wrong, message(&org, "Case", &["04l1"])).await;
        assert_eq!((status, text.as_str()), (404, ""));
        let r = reqwest::Client::new()
            .post(&f.endpoint)
            .header("content-type", "text/plain")
            .body("Id=500000000000001AAA")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 415);

        // The org's own message goes in, and its redelivery only counts itself.
        let ok = message(&org, "Case", &["04l000000000004AAA", "04l000000000005AAA"]);
        for _ in 0..2 {
            let (status, text) = f.post_xml(&f.endpoint, ok.clone()).await;
            assert_eq!(status, 200, "{text}");
            assert!(text.contains("<Ack>true</Ack>"), "{text}");
        }
        let got = f.notifications().await;
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.iter().all(|n| n["duplicates"] == 1), "{got:?}");
        assert!(got.iter().all(|n| n["record"]["ClosedDate"].is_null()));
    }
}

#[tokio::test]
async fn a_salesforce_message_workflow_names_its_org_and_object() {
    for backend in backends() {
        let sf = start_sfsim().await;
        let app = TestApp::spawn(backend).await;
        use_sfsim(&app, &sf);
        let (_, token) = app.org_user(Role::Editor).await;
        let survey = app
            .create_survey(&token, &survey::sample::sample_definition())
            .await;
        let r = app
            .post(&token, &format!("/api/v1/surveys/{survey}/workflows"))
            .json(
                &json!({"name": "No org", "event": "salesforce_message", "object": "Case; DROP",
                          "conditions": {"type": "all", "conditions": []}}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let v: Value = r.json().await.unwrap();
        let none = Vec::new();
        let fields: Vec<&str> = v["error"]["problems"]
            .as_array()
            .unwrap_or(&none)
            .iter()
            .filter_map(|p| p["field"].as_str())
            .collect();
        assert!(
            ["connectionId", "object", "conditions"]
                .iter()
                .all(|f| fields.contains(f)),
            "{v}"
        );
        drop(sf);
    }
}

#[tokio::test]
async fn a_flow_callout_with_the_endpoints_secret_is_recorded_once_per_event() {
    for backend in backends() {
        let f = Fixture::new(backend).await;
        let e = f
            .app
            .get_json(
                &f.token,
                &format!("/api/v1/workflows/{}/endpoint", f.workflow),
            )
            .await;
        assert_eq!(e["url"], f.endpoint.as_str(), "{e}");
        assert_eq!(e["secretHeader"], "X-Sonde-Secret");
        let secret = e["secret"].as_str().unwrap().to_string();
        assert!(secret.len() >= 32);
        let call = |secret: Option<&str>, key: Option<&str>, body: Value| {
            let mut r = reqwest::Client::new().post(&f.endpoint).json(&body);
            if let Some(s) = secret {
                r = r.header("X-Sonde-Secret", s);
            }
            if let Some(k) = key {
                r = r.header("Idempotency-Key", k);
            }
            async move {
                let r = r.send().await.unwrap();
                (
                    r.status().as_u16(),
                    r.json::<Value>().await.unwrap_or(Value::Null),
                )
            }
        };
        let case = json!({"Id": "500000000000777AAA", "Subject": "Printer", "Status": "Closed",
                          "LastModifiedDate": "2026-12-03T08:00:00.000+0000"});
        // Without the secret, or with another one: refused, nothing recorded.
        assert_eq!(call(None, None, case.clone()).await.0, 403);
        assert_eq!(call(Some("guess"), None, case.clone()).await.0, 403);
        // No key and no event time: which event it is cannot be told.
        let (status, v) = call(Some(&secret), None, json!({"Id": "500000000000778AAA"})).await;
        assert_eq!(status, 400);
        assert_eq!(v["error"]["problems"][0]["field"], "Idempotency-Key", "{v}");
        // Another object's record.
        let (status, v) = call(
            Some(&secret),
            Some("lead-1"),
            json!({"attributes": {"type": "Lead"}, "Id": "00Q000000000001AAA"}),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(v["error"]["problems"][0]["field"], "attributes.type", "{v}");
        assert!(f.notifications().await.is_empty());

        // The record's id and time make the key; the same event again is a duplicate.
        let (status, first) = call(Some(&secret), None, case.clone()).await;
        assert_eq!(
            (status, &first["duplicate"]),
            (200, &json!(false)),
            "{first}"
        );
        let (status, again) = call(Some(&secret), None, case.clone()).await;
        assert_eq!(
            (status, &again["duplicate"]),
            (200, &json!(true)),
            "{again}"
        );
        assert_eq!(again["id"], first["id"]);
        // A caller's key wins over the record's time.
        let (status, keyed) = call(Some(&secret), Some("flow-run-42"), case.clone()).await;
        assert_eq!(
            (status, &keyed["duplicate"]),
            (200, &json!(false)),
            "{keyed}"
        );

        let got = f.notifications().await;
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.iter().all(|n| n["source"] == "callout"));
        let by_time = got.iter().find(|n| n["id"] == first["id"]).unwrap();
        assert_eq!(by_time["duplicates"], 1);
        assert_eq!(by_time["record"]["Subject"], "Printer");
        assert_eq!(by_time["recordId"], "500000000000777AAA");
    }
}
