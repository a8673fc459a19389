//! Prints how long a 200-record sObject Collections insert takes as one Account gathers children:
//! Survey_Response__c (master-detail with COUNT, SUM and MAX roll-ups on Account, a unique
//! external id) against Contacts (no roll-up), at 1k, 10k and 100k children.
//! `cargo run --release -p sfsim --example inserts -- [max children, default 100000]`
use serde_json::{json, Value};
use std::time::Instant;

const BATCH: usize = 200;
const MILESTONES: [usize; 3] = [1_000, 10_000, 100_000];
/// Calls measured at each milestone: the last ones before it (fewer at 1k, which has only 5).
const WINDOW: usize = 25;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let max: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let org = sfsim::Org::builder()
        .metadata(sfsim::seed::demo_metadata())
        .daily_api_limit(100_000_000)
        .start()
        .await?;
    let http = reqwest::Client::new();
    let base = format!("{}/services/data/v59.0", org.instance_url());
    let token = org.access_token().to_string();
    let created: Value = http
        .post(format!("{base}/sobjects/Account"))
        .bearer_auth(&token)
        .json(&json!({"Name": "One big customer"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let account = created["id"].as_str().unwrap_or_default().to_string();

    for object in ["Survey_Response__c", "Contact"] {
        let mut times = Vec::new();
        let mut made = 0;
        while made < max {
            let batch: Vec<Value> = (made..(made + BATCH).min(max))
                .map(|i| match object {
                    "Contact" => json!({"attributes": {"type": "Contact"},
                        "LastName": format!("C{i}"), "AccountId": account}),
                    _ => json!({"attributes": {"type": object}, "Account__c": account,
                        "Response_Id__c": format!("r-{i}"), "NPS_Score__c": (i % 11) as f64,
                        "Completed_At__c": format!("2026-01-01T00:00:{:02}.000Z", i % 60)}),
                })
                .collect();
            made += batch.len();
            let t = Instant::now();
            let reply: Value = http
                .post(format!("{base}/composite/sobjects"))
                .bearer_auth(&token)
                .json(&json!({"allOrNone": false, "records": batch}))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            if let Some(bad) = reply
                .as_array()
                .and_then(|a| a.iter().find(|r| r["success"] != true))
            {
                anyhow::bail!("{object}: a record was refused: {bad}");
            }
            if let Some(&m) = MILESTONES.iter().find(|&&m| m == made) {
                let mut w: Vec<f64> = times[times.len().saturating_sub(WINDOW)..].to_vec();
                w.sort_by(f64::total_cmp);
                let pick = |q: f64| w[((w.len() - 1) as f64 * q).round() as usize];
                println!(
                    "{object:<20} {m:>7} children: {:>7.1} ms p50 {:>7.1} ms p99 per {BATCH}-record call (last {} calls)",
                    pick(0.5),
                    pick(0.99),
                    w.len()
                );
            }
        }
    }
    // Upserts by the unique external id over the full table: each match is an index lookup.
    let mut times = Vec::new();
    for call in 0..WINDOW {
        let batch: Vec<Value> = (0..BATCH)
            .map(|i| {
                let n = (call * BATCH + i) * 7919 % max;
                json!({"attributes": {"type": "Survey_Response__c"},
                    "Response_Id__c": format!("r-{n}"), "NPS_Score__c": (n % 11) as f64})
            })
            .collect();
        let t = Instant::now();
        let reply: Value = http
            .patch(format!(
                "{base}/composite/sobjects/Survey_Response__c/Response_Id__c"
            ))
            .bearer_auth(&token)
            .json(&json!({"allOrNone": false, "records": batch}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        if let Some(bad) = reply.as_array().and_then(|a| {
            a.iter()
                .find(|r| r["success"] != true || r["created"] != false)
        }) {
            anyhow::bail!("upsert: a record was refused or not matched: {bad}");
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{:<20} {max:>7} rows:     {:>7.1} ms p50 {:>7.1} ms p99 per {BATCH}-record upsert by Response_Id__c",
        "Survey_Response__c",
        times[times.len() / 2],
        times[((times.len() - 1) as f64 * 0.99).round() as usize]
    );
    let q: Value = http
        .get(format!(
            "{base}/query?q=SELECT+Survey_Response_Count__c,NPS_Score_Total__c+FROM+Account"
        ))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    println!("roll-ups on the Account: {}", q["records"][0]);
    org.shutdown().await;
    Ok(())
}
