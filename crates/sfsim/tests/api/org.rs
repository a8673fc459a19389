//! Whole-org behaviour: fault injection, persistence across restarts, TLS, the CLI line.

use crate::*;
use serde_json::json;

#[tokio::test]
async fn a_lost_reply_still_commits_the_write() {
    let t = demo().await;
    t.org.set_faults(sfsim::Faults {
        lost_reply_rate: 1.0,
        endpoints: vec!["sobject.create".into()],
        ..Default::default()
    });
    let a = t
        .post("sobjects/Account", json!({"Name": "Written, reply lost"}))
        .await;
    assert_eq!((a.status.as_u16(), a.text.as_str()), (504, ""));
    t.org.clear_faults();
    let q = t
        .query("SELECT Id FROM Account WHERE Name = 'Written, reply lost'")
        .await;
    assert_eq!(q.json["totalSize"], 1, "{}", q.text);
}

#[tokio::test]
async fn faults_errors_latency_and_forced_expiry() {
    let t = demo().await;
    t.org.set_faults(sfsim::Faults {
        error_rate: 1.0,
        ..Default::default()
    });
    let a = t.get("limits").await;
    assert_eq!(
        (a.status.as_u16(), error_code(&a)),
        (503, "SERVER_UNAVAILABLE".into())
    );
    t.org.set_faults(sfsim::Faults {
        latency_ms: 200,
        endpoints: vec!["query".into()],
        ..Default::default()
    });
    let started = std::time::Instant::now();
    t.query("SELECT Id FROM Account LIMIT 1").await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(200));
    t.org.clear_faults();
    // The admin API does the same over HTTP.
    let set = t
        .http
        .post(t.url("/_sim/faults"))
        .json(&json!({"error_rate": 0.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        set.status(),
        400,
        "unknown keys are refused: names are camelCase"
    );
    let set = t
        .http
        .post(t.url("/_sim/faults"))
        .json(&json!({"errorRate": 1.0, "endpoints": ["limits"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    assert_eq!(t.get("limits").await.status, 503);
    assert_eq!(t.get("sobjects").await.status, 200);
    t.http.delete(t.url("/_sim/faults")).send().await.unwrap();
    t.http
        .post(t.url("/_sim/sessions/expire"))
        .send()
        .await
        .unwrap();
    assert_eq!(t.get("limits").await.status, 401);
    let calls: Value = t
        .http
        .get(t.url("/_sim/calls"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        calls["calls"]["sobjects"].is_null()
            && calls["calls"]["describeGlobal"].as_u64() == Some(1)
    );
}

#[tokio::test]
async fn every_fresh_org_has_an_id_of_its_own() {
    let (a, b) = (start(Org::builder()).await, start(Org::builder()).await);
    assert_ne!(a.org.org_id(), b.org.org_id());
    assert!(a.org.org_id().starts_with("00D") && a.org.org_id().len() == 18);
    a.org.shutdown().await;
    b.org.shutdown().await;
}

#[tokio::test]
async fn state_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("sfsim-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let t = start(Org::builder().seed(Seed::Demo).state_dir(&dir)).await;
    let id = t.create("Account", json!({"Name": "Persistent"})).await;
    let (client, refresh) = (
        t.org.client_id().to_string(),
        t.org.refresh_token().to_string(),
    );
    let org_id = t.org.org_id();
    t.org.shutdown().await;
    let t2 = start(Org::builder().seed(Seed::Demo).state_dir(&dir)).await;
    assert_eq!(t2.org.client_id(), client);
    assert_eq!(t2.org.org_id(), org_id, "an org keeps its id");
    assert_eq!(
        t2.get(&format!("sobjects/Account/{id}")).await.json["Name"],
        "Persistent"
    );
    assert_eq!(
        t2.query("SELECT COUNT() FROM Account").await.json["totalSize"],
        13,
        "the seed is not applied twice"
    );
    let r = t2
        .form(
            "/services/oauth2/token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", &client),
                ("refresh_token", &refresh),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "refresh tokens survive: {}", r.text);
    let next = t2.create("Account", json!({"Name": "After"})).await;
    assert_ne!(next, id);
    t2.org.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn tls_with_the_written_ca() {
    let dir = std::env::temp_dir().join(format!("sfsim-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let org = Org::builder()
        .tls(true)
        .state_dir(&dir)
        .start()
        .await
        .unwrap();
    assert!(org.instance_url().starts_with("https://"));
    let ca = std::fs::read(org.ca_cert().unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .build()
        .unwrap();
    let r = client
        .get(format!("{}/services/data/v59.0/limits", org.instance_url()))
        .bearer_auth(org.access_token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let info = org.info();
    assert!(info["ca_cert"].as_str().unwrap().ends_with("ca.pem"));
    for k in [
        "login_url",
        "instance_url",
        "org_id",
        "client_id",
        "client_secret",
        "redirect_uris",
        "username",
        "password",
        "access_token",
        "refresh_token",
    ] {
        assert!(!info[k].is_null(), "{k}");
    }
    org.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn hostile_requests_never_get_a_500() {
    let t = demo().await;
    let queries = [
        "SELECT Id FROM Account LIMIT 18446744073709551615",
        "SELECT Id FROM Account LIMIT 5 OFFSET 18446744073709551615",
        "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:4294967295",
        "SELECT Id FROM Account WHERE CreatedDate > NEXT_N_YEARS:4294967295",
        "SELECT Id FROM Account WHERE CreatedDate > 9999-12-31T23:59:59Z",
        "SELECT COUNT(Id), MAX(CreatedDate) FROM Account GROUP BY CALENDAR_YEAR(CreatedDate)",
        "SELECT Id, (SELECT Id FROM Nope) FROM Account",
        "SELECT Id FROM Account WHERE Name LIKE '%%%%__%'",
        "SELECT Owner.Profile.Name, Parent.Parent.Parent.Name FROM Account",
        "SELECT FIELDS(ALL) FROM Contact LIMIT 1",
        "SELECT TYPEOF Owner WHEN User THEN Name END FROM Account",
        "\u{0}\u{1}💥",
    ];
    for q in queries {
        let a = t.query(q).await;
        assert!(a.status.as_u16() < 500, "{q}: {} {}", a.status, a.text);
    }
    let bodies = [
        ("sobjects/Account", json!([1, 2])),
        ("sobjects/Account", json!({"Name": {"nested": true}})),
        (
            "sobjects/Account",
            json!({"Name": "x", "NumberOfEmployees": 1e300}),
        ),
        ("sobjects/Event", json!({})),
        (
            "composite/sobjects",
            json!({"records": [1, null, {"attributes": {}}]}),
        ),
        (
            "composite",
            json!({"compositeRequest": [{"method": "DELETE", "url": "@{x.y}"}, {"method": "NOPE", "url": "http://elsewhere/"}]}),
        ),
        (
            "jobs/query",
            json!({"operation": "query", "query": "SELECT Id, (SELECT Id FROM Contacts) FROM Account"}),
        ),
        ("jobs/query", json!({"operation": "upsert"})),
    ];
    for (path, body) in bodies {
        let a = t.post(path, body.clone()).await;
        assert!(
            a.status.as_u16() < 500,
            "{path} {body}: {} {}",
            a.status,
            a.text
        );
    }
    for path in [
        "sobjects/Account/%F0%9F%92%A5",
        "sobjects/Account/001/Name/x/y",
        "query/",
        "query/--",
        "jobs/query/750x/results?locator=zz&maxRecords=18446744073709551615",
        "/services/data/vNaN/limits",
        "sobjects/Account/Id/",
    ] {
        let a = t.get(path).await;
        assert!(a.status.as_u16() < 500, "{path}: {} {}", a.status, a.text);
    }
    let clock = t
        .http
        .post(t.url("/_sim/clock"))
        .json(&json!({"advanceMs": i64::MAX}))
        .send()
        .await
        .unwrap();
    assert!(clock.status().as_u16() < 500);
    assert!(
        t.get("limits").await.status.as_u16() < 500,
        "the org still answers"
    );
}

#[tokio::test]
async fn faulted_calls_are_counted_like_served_ones() {
    let t = demo().await;
    t.org.reset_calls();
    t.org.set_faults(sfsim::Faults {
        error_rate: 1.0,
        endpoints: vec!["limits".into()],
        ..Default::default()
    });
    assert_eq!(t.get("limits").await.status, 503);
    assert_eq!(t.get("limits").await.status, 503);
    assert_eq!(t.org.calls_to("limits"), 2, "{:?}", t.org.calls());
    // A hang is counted even when the client gives up before the org answers.
    t.org.set_faults(sfsim::Faults {
        timeout_rate: 1.0,
        timeout_ms: 5_000,
        endpoints: vec!["limits".into()],
        ..Default::default()
    });
    let impatient = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let hung = impatient
        .get(format!(
            "{}/services/data/v59.0/limits",
            t.org.instance_url()
        ))
        .bearer_auth(t.org.access_token())
        .send()
        .await;
    assert!(hung.is_err(), "the call hangs past the client's timeout");
    assert_eq!(t.org.calls_to("limits"), 3);
    // A lost reply was served: counted once, not twice.
    t.org.set_faults(sfsim::Faults {
        lost_reply_rate: 1.0,
        endpoints: vec!["limits".into()],
        ..Default::default()
    });
    assert_eq!(t.get("limits").await.status, 504);
    assert_eq!(t.org.calls_to("limits"), 4);
    t.org.clear_faults();
}
