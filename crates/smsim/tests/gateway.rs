//! smsim driven over HTTP the way a Twilio client and a webhook receiver see it: a real
//! gateway on a random port, and a small receiver that checks every signature it is sent.

use parking_lot::Mutex;
use reqwest::StatusCode;
use serde_json::Value;
use smsim::{Faults, RunningSmsim, Smsim};
use std::sync::Arc;
use std::time::Duration;
use twilio_wire::messages::parse_form;

mod common;
use common::{get, messages_url, send};

/// What the receiver was posted: the full URL, the signature header and the form.
#[derive(Clone, Debug)]
struct Received {
    url: String,
    signature: String,
    params: Vec<(String, String)>,
}

impl Received {
    fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Receiver {
    base: String,
    got: Arc<Mutex<Vec<Received>>>,
}

/// Answers `/sms` with `twiml` and anything else with 204, recording every request.
async fn receiver(twiml: &'static str) -> Receiver {
    use axum::extract::State;
    use axum::http::{HeaderMap, Uri};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let got: Arc<Mutex<Vec<Received>>> = Arc::default();
    let state = (base.clone(), got.clone());
    let app = axum::Router::new()
        .fallback(
            move |State((base, got)): State<(String, Arc<Mutex<Vec<Received>>>)>,
                  uri: Uri,
                  headers: HeaderMap,
                  body: axum::body::Bytes| async move {
                let url = format!("{base}{uri}");
                let signature = headers
                    .get("x-twilio-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                got.lock().push(Received {
                    url,
                    signature,
                    params: parse_form(&body),
                });
                if uri.path() == "/sms" {
                    ([("content-type", "text/xml")], twiml).into_response()
                } else {
                    axum::http::StatusCode::NO_CONTENT.into_response()
                }
            },
        )
        .with_state(state);
    use axum::response::IntoResponse;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver { base, got }
}

async fn gateway() -> RunningSmsim {
    Smsim::builder()
        .number("+15017122661")
        .number("+15017122662")
        .step_delay(Duration::from_millis(5))
        .start()
        .await
        .expect("gateway starts")
}

/// Waits until `done` holds for what the receiver got (at most 5 s).
async fn wait_for(r: &Receiver, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
    for _ in 0..500 {
        let got = r.got.lock().clone();
        if done(&got) {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("receiver got only {:#?}", r.got.lock());
}

#[tokio::test]
async fn wrong_or_missing_credentials_are_refused_as_twilio_refuses_them() {
    let gw = gateway().await;
    let http = reqwest::Client::new();
    let form = [
        ("To", "+15558675310"),
        ("From", "+15017122661"),
        ("Body", "Hi"),
    ];
    for (user, pass) in [
        (None, None),
        (Some(gw.account_sid()), Some("wrong")),
        (
            Some("AC00000000000000000000000000000000"),
            Some(gw.auth_token()),
        ),
    ] {
        let mut req = http.post(messages_url(&gw)).form(&form);
        if let Some(u) = user {
            req = req.basic_auth(u, pass);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401);
        assert!(resp.headers().contains_key("www-authenticate"));
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], 20003);
        assert_eq!(body["status"], 401);
        assert_eq!(
            body["more_info"],
            "https://www.twilio.com/docs/errors/20003"
        );
    }
    // The right credentials on another account's path are refused too.
    let other = messages_url(&gw).replace(gw.account_sid(), "AC00000000000000000000000000000000");
    let resp = http
        .post(other)
        .basic_auth(gw.account_sid(), Some(gw.auth_token()))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(gw.messages().is_empty());
    gw.shutdown().await;
}

#[tokio::test]
async fn bad_requests_get_twilios_error_codes() {
    let gw = gateway().await;
    let from = "+15017122661";
    let long = "x".repeat(1601);
    let cases: Vec<(Vec<(&str, &str)>, u64)> = vec![
        (vec![("From", from), ("Body", "Hi")], 21604),
        (vec![("To", "+15558675310"), ("Body", "Hi")], 21603),
        (
            vec![("To", "555-867-5310"), ("From", from), ("Body", "Hi")],
            21211,
        ),
        (
            vec![("To", "+15558675310"), ("From", from), ("Body", "")],
            21602,
        ),
        (
            vec![("To", "+15558675310"), ("From", from), ("Body", &long)],
            21617,
        ),
        (
            vec![
                ("To", "+15558675310"),
                ("From", "+15550001234"),
                ("Body", "Hi"),
            ],
            21606,
        ),
        (
            vec![
                ("To", "+15558675310"),
                ("MessagingServiceSid", "MG00000000000000000000000000000000"),
                ("Body", "Hi"),
            ],
            21701,
        ),
    ];
    for (form, code) in cases {
        let (status, body) = send(&gw, &form).await;
        assert_eq!(
            (status, body["code"].as_u64()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{form:?}: {body}"
        );
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let ok = [("To", "+15558675310"), ("From", from), ("Body", "Hi")];
    gw.set_faults(Faults {
        too_many_requests: 1,
        server_errors: 1,
    });
    assert_eq!(send(&gw, &ok).await.1["code"], 20429);
    assert_eq!(send(&gw, &ok).await.1["code"], 20500);
    assert_eq!(send(&gw, &ok).await.0, StatusCode::CREATED);
    assert_eq!(
        gw.messages().len(),
        1,
        "only the accepted message is stored"
    );
    let (status, body) = get(&gw, &format!("{}/2010-04-01/Nothing", gw.url())).await;
    assert_eq!(
        (status, body["code"].as_u64()),
        (StatusCode::NOT_FOUND, Some(20404))
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn a_sent_message_answers_twilios_json_and_can_be_fetched_and_listed() {
    let gw = gateway().await;
    let (status, m) = send(
        &gw,
        &[
            ("To", "+15558675310"),
            ("From", "+15017122661"),
            ("Body", "Héllo 👋"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let sid = m["sid"].as_str().unwrap().to_string();
    assert!(twilio_wire::messages::is_sid(&sid, "SM"), "{sid}");
    assert_eq!(m["status"], "queued");
    assert_eq!(m["direction"], "outbound-api");
    assert_eq!(m["account_sid"], gw.account_sid());
    assert_eq!(m["api_version"], "2010-04-01");
    assert_eq!(m["num_segments"], "1");
    assert_eq!(m["error_code"], Value::Null);
    assert!(twilio_wire::messages::parse_date(m["date_created"].as_str().unwrap()).is_some());
    assert_eq!(
        m["uri"],
        format!(
            "/2010-04-01/Accounts/{}/Messages/{sid}.json",
            gw.account_sid()
        )
    );
    let (status, fetched) = get(&gw, &format!("{}{}", gw.url(), m["uri"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched["sid"], m["sid"]);
    let missing = m["uri"].as_str().unwrap().replace(&sid[2..6], "zzzz");
    assert_eq!(
        get(&gw, &format!("{}{missing}", gw.url())).await.1["code"],
        20404
    );

    // Two more; pages of two, newest first, followed through next_page_uri.
    for body in ["second", "third"] {
        send(
            &gw,
            &[
                ("To", "+15558675311"),
                ("From", "+15017122661"),
                ("Body", body),
            ],
        )
        .await;
    }
    let (_, page) = get(&gw, &format!("{}?PageSize=2", messages_url(&gw))).await;
    let bodies: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["third", "second"]);
    assert_eq!(
        (
            page["page"].clone(),
            page["page_size"].clone(),
            page["start"].clone(),
            page["end"].clone()
        ),
        (0.into(), 2.into(), 0.into(), 1.into())
    );
    let next = page["next_page_uri"].as_str().unwrap();
    let (_, page2) = get(&gw, &format!("{}{next}", gw.url())).await;
    assert_eq!(page2["messages"][0]["body"], "Héllo 👋");
    assert_eq!(page2["next_page_uri"], Value::Null);
    assert!(page2["previous_page_uri"].is_string());
    let (_, filtered) = get(&gw, &format!("{}?To=%2B15558675311", messages_url(&gw))).await;
    assert_eq!(filtered["messages"].as_array().unwrap().len(), 2);
    gw.shutdown().await;
}

#[tokio::test]
async fn status_callbacks_arrive_signed_and_in_order() {
    let r = receiver("").await;
    let gw = gateway().await;
    let callback = format!("{}/status?msg=1", r.base);
    let direct = send(
        &gw,
        &[
            ("To", "+15558675310"),
            ("From", "+15017122661"),
            ("Body", "a"),
            ("StatusCallback", &callback),
        ],
    )
    .await
    .1;
    let service = send(
        &gw,
        &[
            ("To", "+15558675312"),
            ("MessagingServiceSid", gw.messaging_service_sid()),
            ("Body", "b"),
            ("StatusCallback", &callback),
        ],
    )
    .await
    .1;
    assert_eq!(service["status"], "accepted");
    let unreachable = send(
        &gw,
        &[
            ("To", "+15550000000"),
            ("From", "+15017122661"),
            ("Body", "c"),
            ("StatusCallback", &callback),
        ],
    )
    .await
    .1;
    let failing = send(
        &gw,
        &[
            ("To", "+15550000001"),
            ("From", "+15017122661"),
            ("Body", "d"),
            ("StatusCallback", &callback),
        ],
    )
    .await
    .1;
    let got = wait_for(&r, |g| g.len() >= 8).await;
    for cb in &got {
        assert_eq!(cb.url, callback);
        assert!(
            twilio_wire::verify(gw.auth_token(), &cb.url, &cb.params, &cb.signature),
            "unsigned or badly signed: {cb:?}"
        );
        assert!(!twilio_wire::verify(
            "another token",
            &cb.url,
            &cb.params,
            &cb.signature
        ));
        assert_eq!(cb.get("AccountSid"), Some(gw.account_sid()));
        assert_eq!(cb.get("MessageSid"), cb.get("SmsSid"));
        assert_eq!(cb.get("MessageStatus"), cb.get("SmsStatus"));
    }
    let statuses = |m: &Value| -> Vec<String> {
        got.iter()
            .filter(|c| c.get("MessageSid") == m["sid"].as_str())
            .map(|c| {
                format!(
                    "{}{}",
                    c.get("MessageStatus").unwrap(),
                    c.get("ErrorCode")
                        .map(|e| format!(":{e}"))
                        .unwrap_or_default()
                )
            })
            .collect()
    };
    assert_eq!(statuses(&direct), ["sent", "delivered"]);
    assert_eq!(statuses(&service), ["queued", "sent", "delivered"]);
    assert_eq!(statuses(&unreachable), ["sent", "undelivered:30003"]);
    assert_eq!(statuses(&failing), ["failed:30008"]);
    let service_cb = got
        .iter()
        .find(|c| c.get("MessageSid") == service["sid"].as_str())
        .unwrap();
    assert_eq!(
        service_cb.get("MessagingServiceSid"),
        Some(gw.messaging_service_sid())
    );
    let parsed: twilio_wire::StatusCallback =
        twilio_wire::messages::from_params(&got.last().unwrap().params).unwrap();
    assert!(parsed.message_status.is_final());

    let m = gw.message(unreachable["sid"].as_str().unwrap()).unwrap();
    assert_eq!(
        (m.status, m.error_code),
        (twilio_wire::MessageStatus::Undelivered, Some(30003))
    );
    assert_eq!(
        m.error_message.as_deref(),
        Some("Unreachable destination handset")
    );
    assert!(m.date_sent.is_some());
    // The gateway logs each callback once it is answered.
    for _ in 0..100 {
        if gw.callbacks().len() == 8 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(gw.callbacks().len(), 8);
    assert!(gw.callbacks().iter().all(|c| c.http_status == Some(204)));
    gw.shutdown().await;
}

#[tokio::test]
async fn an_injected_reply_reaches_the_webhook_signed_and_its_twiml_answer_is_sent_back() {
    let r = receiver(r#"<?xml version="1.0" encoding="UTF-8"?><Response><Message>Thanks! Q2: pick A &amp; B</Message></Response>"#).await;
    let gw = gateway().await;
    gw.set_webhook(None, Some(&format!("{}/sms?survey=7", r.base)));
    let phone = "+15558675310";
    let http = reqwest::Client::new();
    let answer: Value = http
        .post(format!("{}/_smsim/inbound", gw.url()))
        .json(&serde_json::json!({"from": phone, "body": "9"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["message"]["direction"], "inbound");
    assert_eq!(answer["message"]["status"], "received");
    assert_eq!(answer["webhook"]["status"], 200);
    assert_eq!(answer["webhook"]["error"], Value::Null);
    assert_eq!(answer["replies"][0]["body"], "Thanks! Q2: pick A & B");
    assert_eq!(answer["replies"][0]["to"], phone);
    assert_eq!(answer["replies"][0]["from"], "+15017122661");
    assert_eq!(answer["replies"][0]["direction"], "outbound-reply");

    let hook = r.got.lock()[0].clone();
    assert_eq!(hook.url, format!("{}/sms?survey=7", r.base));
    assert!(twilio_wire::verify(
        gw.auth_token(),
        &hook.url,
        &hook.params,
        &hook.signature
    ));
    let form: twilio_wire::InboundMessage =
        twilio_wire::messages::from_params(&hook.params).unwrap();
    assert_eq!(
        (form.from.as_str(), form.to.as_str(), form.body.as_str()),
        (phone, "+15017122661", "9")
    );
    assert_eq!(form.message_sid, answer["message"]["sid"].as_str().unwrap());
    assert_eq!(form.num_media, 0);

    // The conversation reads back, newest first.
    let convo = gw.outbox(Some(phone), 10);
    let lines: Vec<(&str, &str)> = convo
        .iter()
        .map(|e| (e.from.as_str(), e.body.as_str()))
        .collect();
    assert_eq!(
        lines,
        [("+15017122661", "Thanks! Q2: pick A & B"), (phone, "9")]
    );

    // A bad To and a bad From are refused naming the field.
    let bad = http
        .post(format!("{}/_smsim/inbound", gw.url()))
        .json(&serde_json::json!({"from": phone, "to": "+19999999999", "body": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("to:"));
    assert!(gw
        .inject("0612", None, "x")
        .await
        .unwrap_err()
        .to_string()
        .starts_with("from:"));
    gw.shutdown().await;
}

#[tokio::test]
async fn stop_blocks_the_number_until_start() {
    let r = receiver("<Response><Message>Sorry to see you go</Message></Response>").await;
    let gw = gateway().await;
    gw.set_webhook(Some("+15017122661"), Some(&format!("{}/sms", r.base)));
    let phone = "+15558675310";
    let stop = gw.inject(phone, None, " Stop ").await.unwrap();
    assert_eq!(stop.keyword, Some("unsubscribe"));
    assert!(stop.webhook.is_some(), "the webhook still hears about STOP");
    // Twilio's own confirmation goes out; the app's answer cannot reach an opted-out phone.
    assert_eq!(stop.replies.len(), 2);
    assert!(stop.replies[0].body.contains("START"));
    assert_eq!(stop.replies[1].status, twilio_wire::MessageStatus::Failed);
    assert_eq!(stop.replies[1].error_code, Some(21610));
    assert_eq!(
        gw.opt_outs(),
        [("+15017122661".to_string(), phone.to_string())]
    );

    let form = [("To", phone), ("From", "+15017122661"), ("Body", "Survey")];
    let (status, body) = send(&gw, &form).await;
    assert_eq!(
        (status, body["code"].as_u64()),
        (StatusCode::BAD_REQUEST, Some(21610))
    );
    let via_service = [
        ("To", phone),
        ("MessagingServiceSid", gw.messaging_service_sid()),
        ("Body", "Survey"),
    ];
    assert_eq!(
        send(&gw, &via_service).await.1["code"],
        21610,
        "an opt-out covers the service"
    );
    // The other number was not opted out of when sending from it directly.
    let other = [("To", phone), ("From", "+15017122662"), ("Body", "Survey")];
    assert_eq!(send(&gw, &other).await.0, StatusCode::CREATED);
    // The second number has no webhook of its own: the default (none) applies.
    assert!(gw
        .inject(phone, Some("+15017122662"), "hello")
        .await
        .unwrap()
        .webhook
        .is_none());

    let start = gw.inject(phone, None, "start").await.unwrap();
    assert_eq!(start.keyword, Some("resubscribe"));
    assert!(gw.opt_outs().is_empty());
    assert_eq!(send(&gw, &form).await.0, StatusCode::CREATED);
    gw.shutdown().await;
}
