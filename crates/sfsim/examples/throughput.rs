//! Prints sfsim's own throughput: single-record creates/s, collection records/s, and query rows/s
//! through queryMore and through Bulk API 2.0. `cargo run --release -p sfsim --example throughput -- 1000000`
use serde_json::{json, Value};
use std::time::Instant;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let org = sfsim::Org::builder()
        .daily_api_limit(10_000_000)
        .start()
        .await?;
    let http = reqwest::Client::new();
    let base = format!("{}/services/data/v59.0", org.instance_url());
    let token = org.access_token().to_string();

    let n = 2000;
    let t = Instant::now();
    for i in 0..n {
        http.post(format!("{base}/sobjects/Lead"))
            .bearer_auth(&token)
            .json(&json!({"LastName": format!("S{i}"), "Company": "Bench"}))
            .send()
            .await?
            .error_for_status()?;
    }
    println!(
        "single-record creates: {:.0}/s",
        n as f64 / t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let mut made = 0;
    while made < rows {
        let batch: Vec<Value> = (made..(made + 200).min(rows)).map(|i| json!({"attributes": {"type": "Account"}, "Name": format!("Bench {i}"), "NumberOfEmployees": i})).collect();
        made += batch.len();
        http.post(format!("{base}/composite/sobjects"))
            .bearer_auth(&token)
            .json(&json!({"records": batch}))
            .send()
            .await?
            .error_for_status()?;
    }
    println!(
        "collection creates: {:.0} records/s ({rows} rows)",
        rows as f64 / t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let mut next = Some(format!(
        "{base}/query?q=SELECT+Id,Name,NumberOfEmployees+FROM+Account"
    ));
    let mut seen = 0;
    while let Some(url) = next.take() {
        let page: Value = http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        seen += page["records"].as_array().map(|r| r.len()).unwrap_or(0);
        next = page["nextRecordsUrl"]
            .as_str()
            .map(|u| format!("{}{u}", org.instance_url()));
    }
    println!(
        "query + queryMore: {:.0} rows/s ({seen} rows)",
        seen as f64 / t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let job: Value = http.post(format!("{base}/jobs/query")).bearer_auth(&token).json(&json!({"operation": "query", "query": "SELECT Id, Name, NumberOfEmployees FROM Account"})).send().await?.json().await?;
    let id = job["id"].as_str().unwrap_or_default().to_string();
    loop {
        let j: Value = http
            .get(format!("{base}/jobs/query/{id}"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        if j["state"] == "JobComplete" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut locator = String::new();
    let mut lines = 0usize;
    loop {
        let url = if locator.is_empty() {
            format!("{base}/jobs/query/{id}/results")
        } else {
            format!("{base}/jobs/query/{id}/results?locator={locator}")
        };
        let mut resp = http.get(url).bearer_auth(&token).send().await?;
        locator = resp
            .headers()
            .get("sforce-locator")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("null")
            .to_string();
        while let Some(chunk) = resp.chunk().await? {
            lines += chunk.iter().filter(|b| **b == b'\n').count();
        }
        lines -= 1;
        if locator == "null" {
            break;
        }
    }
    println!(
        "bulk 2.0 query: {:.0} rows/s ({lines} rows)",
        lines as f64 / t.elapsed().as_secs_f64()
    );
    org.shutdown().await;
    Ok(())
}
