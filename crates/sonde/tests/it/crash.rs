//! Crash safety: with 10,000 responses queued for Salesforce, the server is killed with
//! SIGKILL mid-delivery and started again; every response ends up in the org exactly once.

use crate::harness::TempDir;
use futures::TryStreamExt;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RESPONSES: usize = 10_000;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sonde(dir: &TempDir) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sonde"));
    c.arg("--data-dir").arg(&dir.0).env("RUST_LOG", "warn");
    c
}

fn start(dir: &TempDir, port: u16, org: &sfsim::RunningOrg) -> Server {
    start_with(sonde(dir), port, org)
}

fn start_with(mut command: Command, port: u16, org: &sfsim::RunningOrg) -> Server {
    Server(
        command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("SONDE_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .env("SONDE_SALESFORCE_CLIENT_ID", org.client_id())
            .env("SONDE_SALESFORCE_CLIENT_SECRET", org.client_secret())
            .spawn()
            .unwrap(),
    )
}

async fn healthy(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while reqwest::get(format!("{base}/healthz"))
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn records(org: &sfsim::RunningOrg, label: &str) -> Vec<String> {
    records_of(
        org,
        &format!("SELECT Response_Id__c FROM Survey_Response__c WHERE Survey_Name__c = '{label}'"),
    )
    .await
    .iter()
    .map(|r| r["Response_Id__c"].as_str().unwrap_or_default().to_string())
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_delivery_loses_and_duplicates_nothing() {
    let org = sfsim::Org::builder()
        .seed(sfsim::Seed::Demo)
        .daily_api_limit(10_000_000)
        .start()
        .await
        .unwrap();
    let dir = TempDir::new();
    let mut add = sonde(&dir)
        .args([
            "users",
            "add",
            "ops@example.com",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"a long admin password\n")
        .unwrap();
    assert!(add.wait().unwrap().success());
    let token = String::from_utf8(
        sonde(&dir)
            .args(["tokens", "create", "ops@example.com"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(&dir, port, &org);
    healthy(&base).await;

    let http = reqwest::Client::new();
    let def = serde_json::to_string(&survey::sample::sample_definition()).unwrap();
    let created: Value = http
        .post(format!("{base}/api/v1/surveys"))
        .bearer_auth(&token)
        .body(def)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let survey_id = created["id"].as_str().unwrap().to_string();
    let connection = sonde::bench::mapping::link_org_via_oauth(
        &base,
        &token,
        org.login_url(),
        &org.username(),
        org.password(),
    )
    .await
    .unwrap();
    let wf: Value = http
        .post(format!("{base}/api/v1/surveys/{survey_id}/workflows"))
        .bearer_auth(&token)
        .json(&json!({
            "name": "crash", "event": "response_created",
            "tasks": [{"type": "salesforce", "connectionId": connection, "object": "Survey_Response__c", "operation": "create",
                "fields": {"Account__c": {"piped": "${e://Field/sfAccountId}"},
                           "Response_Id__c": {"piped": "${rm://ResponseID}"},
                           "Survey_Name__c": {"value": "crash"}}}]
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let workflow_id = wf["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{wf}"))
        .to_string();
    let account = records_of(&org, "SELECT Id FROM Account LIMIT 1").await[0]["Id"]
        .as_str()
        .unwrap()
        .to_string();

    // 10,000 responses, 16 at a time, while the server's worker delivers.
    let body = json!({
        "answers": sonde::bench::complete_answers(&survey::sample::sample_definition()),
        "embeddedData": {"sfAccountId": account},
        "finished": true
    });
    let url = format!("{base}/api/v1/surveys/{survey_id}/responses");
    let mut ids = HashSet::new();
    let mut next = 0;
    while next < RESPONSES {
        let batch: Vec<_> = (next..(next + 16).min(RESPONSES))
            .map(|_| {
                let (http, url, token, body) =
                    (http.clone(), url.clone(), token.clone(), body.clone());
                tokio::spawn(async move {
                    http.post(&url)
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                        .unwrap()
                        .json::<Value>()
                        .await
                        .unwrap()
                })
            })
            .collect();
        for b in batch {
            let v = b.await.unwrap();
            ids.insert(
                v["responseId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{v}"))
                    .to_string(),
            );
        }
        next += 16;
    }
    assert_eq!(ids.len(), RESPONSES);

    // Kill it while records are still being written.
    let delivered_before = records(&org, "crash").await.len();
    assert!(
        delivered_before < RESPONSES,
        "the backlog was already gone before the kill"
    );
    server.0.kill().unwrap(); // SIGKILL
    server.0.wait().unwrap();
    let at_kill = records(&org, "crash").await.len();
    eprintln!("killed with {at_kill} of {RESPONSES} records in the org");

    let _server = start(&dir, port, &org);
    healthy(&base).await;
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let runs: Value = http
            .get(format!(
                "{base}/api/v1/workflows/{workflow_id}/runs?limit=1"
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if runs["counts"]["succeeded"].as_u64() == Some(RESPONSES as u64) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "delivery did not finish after restart: {}",
            runs["counts"]
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let written = records(&org, "crash").await;
    let distinct: HashSet<_> = written.iter().cloned().collect();
    assert_eq!(
        distinct, ids,
        "every response, and only those, is in the org"
    );
    assert_eq!(written.len(), RESPONSES, "no response was written twice");
}

/// Two `sonde serve` processes on one PostgreSQL database share a backlog: every record is
/// written exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_nodes_on_postgres_write_each_record_once() {
    let Ok(base_url) = std::env::var("SONDE_TEST_POSTGRES_URL") else {
        eprintln!("note: SONDE_TEST_POSTGRES_URL not set; skipped");
        return;
    };
    const N: usize = 2_000;
    let url = crate::harness::fresh_pg_schema(&base_url).await;
    let org = sfsim::Org::builder()
        .seed(sfsim::Seed::Demo)
        .daily_api_limit(10_000_000)
        .start()
        .await
        .unwrap();
    let dir = TempDir::new();
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // the same 32-byte key on both nodes
    let node = |dir: &TempDir| {
        let mut c = sonde(dir);
        c.env("SONDE_DATABASE_URL", &url)
            .env("SONDE_SECRET_KEY", key);
        c
    };
    let mut add = node(&dir)
        .args([
            "users",
            "add",
            "ops@example.com",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"a long admin password\n")
        .unwrap();
    assert!(add.wait().unwrap().success());
    let token = String::from_utf8(
        node(&dir)
            .args(["tokens", "create", "ops@example.com"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (port_a, port_b) = (free(), free());
    let _a = start_with(node(&dir), port_a, &org);
    let _b = start_with(node(&dir), port_b, &org);
    let (a, b) = (
        format!("http://127.0.0.1:{port_a}"),
        format!("http://127.0.0.1:{port_b}"),
    );
    healthy(&a).await;
    healthy(&b).await;

    let http = reqwest::Client::new();
    let def = serde_json::to_string(&survey::sample::sample_definition()).unwrap();
    let created: Value = http
        .post(format!("{a}/api/v1/surveys"))
        .bearer_auth(&token)
        .body(def)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let survey_id = created["id"].as_str().unwrap().to_string();
    let connection = sonde::bench::mapping::link_org_via_oauth(
        &a,
        &token,
        org.login_url(),
        &org.username(),
        org.password(),
    )
    .await
    .unwrap();
    let wf: Value = http
        .post(format!("{b}/api/v1/surveys/{survey_id}/workflows"))
        .bearer_auth(&token)
        .json(&json!({
            "name": "two nodes", "event": "response_created",
            "tasks": [{"type": "salesforce", "connectionId": connection, "object": "Survey_Response__c", "operation": "create",
                "fields": {"Account__c": {"piped": "${e://Field/sfAccountId}"},
                           "Response_Id__c": {"piped": "${rm://ResponseID}"},
                           "Survey_Name__c": {"value": "two-nodes"}}}]
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let workflow_id = wf["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{wf}"))
        .to_string();
    let account: String = {
        let rows = records_of(&org, "SELECT Id FROM Account LIMIT 1").await;
        rows[0]["Id"].as_str().unwrap().to_string()
    };
    let body = json!({
        "answers": sonde::bench::complete_answers(&survey::sample::sample_definition()),
        "embeddedData": {"sfAccountId": account},
        "finished": true
    });
    // Half the submissions reach each node; both nodes' workers deliver.
    let mut ids = HashSet::new();
    for chunk in (0..N).collect::<Vec<_>>().chunks(16) {
        let batch: Vec<_> = chunk
            .iter()
            .map(|i| {
                let base = if i % 2 == 0 { a.clone() } else { b.clone() };
                let (http, token, body, survey_id) =
                    (http.clone(), token.clone(), body.clone(), survey_id.clone());
                tokio::spawn(async move {
                    http.post(format!("{base}/api/v1/surveys/{survey_id}/responses"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                        .unwrap()
                        .json::<Value>()
                        .await
                        .unwrap()
                })
            })
            .collect();
        for t in batch {
            ids.insert(t.await.unwrap()["responseId"].as_str().unwrap().to_string());
        }
    }
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let runs: Value = http
            .get(format!("{a}/api/v1/workflows/{workflow_id}/runs?limit=1"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if runs["counts"]["succeeded"].as_u64() == Some(N as u64) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "delivery did not finish: {}",
            runs["counts"]
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let written = records(&org, "two-nodes").await;
    let distinct: HashSet<_> = written.iter().cloned().collect();
    assert_eq!(distinct, ids);
    assert_eq!(written.len(), N, "no response was written twice");
}

async fn records_of(org: &sfsim::RunningOrg, soql: &str) -> Vec<Value> {
    let admin = salesforce::Connection::builder(salesforce::Tokens {
        access_token: salesforce::Secret::new(org.session_for(&org.username()).unwrap()),
        refresh_token: None,
        instance_url: org.instance_url().to_string(),
    })
    .build()
    .unwrap();
    admin.query_all::<Value>(soql).try_collect().await.unwrap()
}
