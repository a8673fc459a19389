//! Bytes on the socket: header names spelled as Salesforce spells them, for clients that look
//! headers up case-sensitively (Airbyte copies them into a plain dict).

use crate::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends one HTTP/1.1 GET over a plain TCP socket and returns the response head as sent.
async fn raw_head(t: &TestOrg, path: &str) -> String {
    let url = url::Url::parse(&t.url(path)).unwrap();
    let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let mut sock = tokio::net::TcpStream::connect(&host).await.unwrap();
    let req = format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        t.token
    );
    sock.write_all(req.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    sock.read_to_end(&mut bytes).await.unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let end = text.find("\r\n\r\n").expect("a response head");
    text[..end].to_string()
}

fn header_names(head: &str) -> Vec<&str> {
    head.lines()
        .skip(1)
        .filter_map(|l| l.split_once(':').map(|(n, _)| n))
        .collect()
}

#[tokio::test]
async fn rest_and_bulk_headers_are_title_case_on_the_wire() {
    let t = demo().await;
    let rest = raw_head(&t, "query?q=SELECT+Id+FROM+Contact+LIMIT+1").await;
    assert!(rest.starts_with("HTTP/1.1 200"), "{rest}");
    let names = header_names(&rest);
    assert!(names.contains(&"Content-Type"), "{rest}");
    assert!(names.contains(&"Sforce-Limit-Info"), "{rest}");

    let job = t
        .post(
            "jobs/query",
            json!({"operation": "query", "query": "SELECT Id, LastName FROM Contact"}),
        )
        .await;
    let id = job.json["id"].as_str().unwrap().to_string();
    for _ in 0..100 {
        if t.get(&format!("jobs/query/{id}")).await.json["state"] == "JobComplete" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let bulk = raw_head(&t, &format!("jobs/query/{id}/results?maxRecords=10")).await;
    assert!(bulk.starts_with("HTTP/1.1 200"), "{bulk}");
    let names = header_names(&bulk);
    for expected in ["Content-Type", "Sforce-Locator", "Sforce-Limit-Info"] {
        assert!(names.contains(&expected), "{expected} in {bulk}");
    }
    // The first page of 48 contacts has a next page, so the locator is not `null`.
    assert!(!bulk.contains("Sforce-Locator: null"), "{bulk}");
    assert!(
        names
            .iter()
            .all(|n| n.starts_with(|c: char| c.is_ascii_uppercase())),
        "every name starts upper-case: {bulk}"
    );
    // Without maxRecords the page size is the org's default, which the admin API lowers.
    let set = t.post("/_sim/bulk", json!({"defaultMaxRecords": 20})).await;
    assert_eq!(set.json["defaultMaxRecords"], 20, "{}", set.text);
    let paged = raw_head(&t, &format!("jobs/query/{id}/results")).await;
    assert!(paged.contains("\r\nSforce-Locator: 20\r\n"), "{paged}");
}
