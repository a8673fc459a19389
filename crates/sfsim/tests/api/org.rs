//! Whole-org behaviour: fault injection, persistence across restarts, TLS, the CLI line.

use crate::*;
use serde_json::json;

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
async fn state_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("sfsim-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let t = start(Org::builder().seed(Seed::Demo).state_dir(&dir)).await;
    let id = t.create("Account", json!({"Name": "Persistent"})).await;
    let (client, refresh) = (
        t.org.client_id().to_string(),
        t.org.refresh_token().to_string(),
    );
    t.org.shutdown().await;
    let t2 = start(Org::builder().seed(Seed::Demo).state_dir(&dir)).await;
    assert_eq!(t2.org.client_id(), client);
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
