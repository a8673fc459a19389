//! `sonde bench panel`: the Sonde panel opened from Salesforce, as a record page does on each
//! view — Salesforce's signed request verified, the Salesforce user mapped, the record's
//! responses found and the page rendered — on an Account whose contacts hold `--responses`
//! responses between them (the Account's page lists its contacts' responses too, their ids
//! read from the built-in org), and on one of those Contacts. Loads per second, latency
//! percentiles and Salesforce API calls per load.

use super::mapping::link_org_via_oauth;
use super::{peak_rss_kib, percentile, BenchServer};
use engine::connections::SalesforceSettings;
use futures::StreamExt;
use serde_json::json;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct PanelArgs {
    /// Responses about the Account's contacts.
    #[arg(long, default_value_t = 10_000)]
    responses: usize,
    /// Contacts of the Account the responses are spread over.
    #[arg(long, default_value_t = 50)]
    contacts: usize,
    /// Panel loads per record.
    #[arg(long, default_value_t = 2_000)]
    loads: usize,
    /// Loads in flight at once (record pages open at the same time).
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Benchmark on this PostgreSQL URL (default: SQLite in a temporary directory).
    #[arg(long, env = "SONDE_BENCH_POSTGRES_URL")]
    postgres: Option<String>,
}

/// Salesforce's CanvasRequest for `email` on a record, as a record page signs it.
fn canvas_request(org: &sfsim::RunningOrg, email: &str, object: &str, id: &str) -> String {
    let context = json!({
        "algorithm": "HMACSHA256",
        "issuedAt": rand::random::<u32>(),
        "userId": "005000000000001AAA",
        "client": {"instanceId": "06P000000000001", "instanceUrl": org.instance_url(),
                   "oauthToken": "00D!bench", "targetOrigin": org.instance_url()},
        "context": {
            "user": {"userId": "005000000000001AAA", "userName": email, "email": email},
            "organization": {"organizationId": org.org_id(), "name": "Bench"},
            "environment": {"displayLocation": "Lightning", "parameters": {"recordId": id},
                            "record": {"attributes": {"type": object}, "Id": id}}
        }
    });
    salesforce::canvas::sign_request(
        &context.to_string(),
        &salesforce::Secret::new(org.client_secret()),
    )
}

pub async fn run(args: PanelArgs) -> anyhow::Result<()> {
    let org = sfsim::Org::builder()
        .daily_api_limit(100_000_000)
        .start()
        .await?;
    let bench = BenchServer::start(args.postgres.as_deref()).await?;
    let mut settings = SalesforceSettings::defaults();
    settings.client_id = Some(org.client_id().to_string());
    settings.client_secret = Some(salesforce::Secret::new(org.client_secret()));
    settings.allowed_hosts = salesforce::AllowedHosts::parse(&org.host())?;
    bench.sonde.configure_salesforce(settings);
    link_org_via_oauth(
        &bench.base,
        &bench.token,
        org.login_url(),
        &org.username(),
        org.password(),
    )
    .await?;
    let sf = salesforce::Connection::builder(salesforce::Tokens {
        access_token: salesforce::Secret::new(
            org.session_for(&org.username())
                .ok_or_else(|| anyhow::anyhow!("no session for the org's admin"))?,
        ),
        refresh_token: None,
        instance_url: org.instance_url().to_string(),
    })
    .allowed_hosts(salesforce::AllowedHosts::parse(&org.host())?)
    .build()?;
    let account = sf
        .create("Account", &json!({"Name": "Bench Account"}))
        .await?;
    let contacts: Vec<serde_json::Value> = (0..args.contacts.max(1))
        .map(|i| json!({"LastName": format!("Contact {i}"), "AccountId": account}))
        .collect();
    let mut contact_ids = Vec::new();
    for chunk in contacts.chunks(200) {
        for r in sf.create_many("Contact", chunk, true).await? {
            contact_ids.push(r.id.ok_or_else(|| anyhow::anyhow!("{:?}", r.errors))?);
        }
    }

    // Responses naming only their Contact: the Account's page finds them through its contacts.
    let started = Instant::now();
    let now = store::now_ms();
    let mut written = 0;
    while written < args.responses {
        let mut tx = bench.store.begin().await?;
        for i in written..(written + 1_000).min(args.responses) {
            let data = survey::ResponseData {
                embedded_data: [(
                    "sfContactId".to_string(),
                    contact_ids[i % contact_ids.len()].clone(),
                )]
                .into(),
                ..Default::default()
            };
            let at = now - (args.responses - i) as i64 * 60_000;
            store::Store::insert_response(
                &mut tx,
                &store::responses::ResponseRow {
                    id: store::ids::response(),
                    org_id: bench.admin.org_id.clone(),
                    survey_id: bench.survey_id.clone(),
                    survey_version: 1,
                    contact_id: None,
                    status: store::responses::ResponseStatus::Complete,
                    data: serde_json::to_string(&data)?,
                    cursor: None,
                    progress: 100,
                    channel: "anonymous".into(),
                    started_at: at,
                    updated_at: at,
                    ended_at: Some(at + 30_000),
                    recorded_at: Some(at + 30_000),
                    expires_at: None,
                },
            )
            .await?;
        }
        tx.commit().await?;
        written = (written + 1_000).min(args.responses);
    }
    println!(
        "sonde bench panel ({}): {} responses about {} contacts of one Account written in {:.1} s",
        bench.backend,
        args.responses,
        contact_ids.len(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "{:<10} {:>7} {:>9} {:>9} {:>9} {:>10} {:>11}",
        "record", "loads", "loads/s", "p50 ms", "p99 ms", "listed", "API calls/load"
    );
    let client = reqwest::Client::new();
    let url = format!("{}/panel", bench.base);
    for (object, id) in [
        ("Account", account.clone()),
        ("Contact", contact_ids[0].clone()),
    ] {
        org.reset_calls();
        let calls_before: u64 = org.calls().values().sum();
        let started = Instant::now();
        let mut latencies: Vec<Duration> = futures::stream::iter(0..args.loads)
            .map(|_| {
                let (client, url) = (client.clone(), url.clone());
                let signed = canvas_request(&org, &bench.admin.email, object, &id);
                async move {
                    let t = Instant::now();
                    let r = client
                        .post(&url)
                        .form(&[("signed_request", signed)])
                        .send()
                        .await?;
                    anyhow::ensure!(r.status().is_success(), "panel answered {}", r.status());
                    let page = r.text().await?;
                    Ok::<_, anyhow::Error>((t.elapsed(), page.matches("/panel/responses/").count()))
                }
            })
            .buffer_unordered(args.concurrency.max(1))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<anyhow::Result<Vec<_>>>()?
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        let elapsed = started.elapsed();
        latencies.sort();
        let calls: u64 = org.calls().values().sum::<u64>() - calls_before;
        let probe = client
            .post(&url)
            .form(&[(
                "signed_request",
                canvas_request(&org, &bench.admin.email, object, &id),
            )])
            .send()
            .await?
            .text()
            .await?;
        println!(
            "{:<10} {:>7} {:>9.0} {:>9.1} {:>9.1} {:>10} {:>11.2}",
            object,
            args.loads,
            args.loads as f64 / elapsed.as_secs_f64(),
            percentile(&latencies, 0.5).as_secs_f64() * 1e3,
            percentile(&latencies, 0.99).as_secs_f64() * 1e3,
            probe.matches("/panel/responses/").count(),
            calls as f64 / args.loads as f64,
        );
    }
    if let Some(kib) = peak_rss_kib() {
        println!("peak RSS: {:.1} MiB", kib as f64 / 1024.0);
    }
    bench.stop().await;
    Ok(())
}
