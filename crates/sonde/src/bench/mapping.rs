//! `sonde bench mapping`: responses written into Salesforce by a workflow, against the built-in
//! org in this process. Two figures: a backlog drained (records/s and Salesforce API calls per
//! record — the target is 0.01, i.e. 200 records a call) and a steady submission rate (latency
//! from the response being recorded to its record existing in Salesforce, p50/p99).

use super::{peak_rss_kib, percentile};
use anyhow::{bail, Context};
use engine::connections::SalesforceSettings;
use engine::{Config, Role, Sonde};
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct MappingArgs {
    /// Backlogs drained one after the other (responses queued with no worker running, then
    /// one drain), into the same org: the cost per record must not grow with either.
    #[arg(long, value_delimiter = ',', default_value = "5000,20000,100000")]
    pub backlog: Vec<usize>,
    /// Responses per second in the steady phase.
    #[arg(long, default_value_t = 50)]
    pub rate: u32,
    /// Length of the steady phase.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Benchmark on this PostgreSQL URL (default: SQLite in a temporary directory).
    #[arg(long, env = "SONDE_BENCH_POSTGRES_URL")]
    pub postgres: Option<String>,
}

/// Links `login_url`'s org to the token's user through the OAuth redirect dance, as a browser
/// would: start the link, sign in and allow on the org's page, follow the callback.
pub async fn link_org_via_oauth(
    base: &str,
    token: &str,
    login_url: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let callback = authorize_via_oauth(base, token, login_url, username, password).await?;
    let r = http.get(&callback).send().await?;
    let ok = r.status().is_success();
    let page = r.text().await?;
    if !ok {
        bail!("callback failed: {page}");
    }
    // The page names the connection: a new one, or the one this org and user already had.
    page.split("(connection ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .filter(|id| id.starts_with("SC_"))
        .map(str::to_string)
        .with_context(|| format!("no connection named after linking: {page}"))
}

/// The first half of the dance: starts a link for the token's user, signs in and allows on the
/// org's page, and returns the callback URL (with `state` and `code`) the org sends the
/// browser back to, not yet followed.
pub async fn authorize_via_oauth(
    base: &str,
    token: &str,
    login_url: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let started: Value = http
        .post(format!("{base}/api/v1/salesforce/connections"))
        .bearer_auth(token)
        .json(&json!({"environment": "custom", "loginUrl": login_url}))
        .send()
        .await?
        .json()
        .await?;
    let authorize = started["authorizeUrl"]
        .as_str()
        .with_context(|| format!("no authorize URL in {started}"))?;
    allow_on_authorize_page(&http, authorize, login_url, username, password).await
}

/// What a person does on the org's authorize page: opens it, signs in as `username` and
/// clicks Allow. Returns where the org sends the browser back (the callback with `state` and
/// `code`), not yet followed. `http` must not follow redirects.
pub async fn allow_on_authorize_page(
    http: &reqwest::Client,
    authorize_url: &str,
    login_url: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<String> {
    let page = http.get(authorize_url).send().await?.text().await?;
    let mut form = hidden_inputs(&page);
    anyhow::ensure!(
        form.iter().any(|(k, _)| k == "state"),
        "the authorize page carries no state: {page}"
    );
    form.push(("username".into(), username.into()));
    form.push(("password".into(), password.into()));
    form.push(("action".into(), "Allow".into()));
    let r = http
        .post(format!("{login_url}/services/oauth2/authorize"))
        .form(&form)
        .send()
        .await?;
    anyhow::ensure!(
        r.status().is_redirection(),
        "the org did not redirect back: {}",
        r.status()
    );
    Ok(r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .context("the org did not redirect back")?
        .to_string())
}

/// The hidden inputs of an HTML form, values unescaped.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let mut out = Vec::new();
    for part in html.split("<input").skip(1) {
        let tag = part.split('>').next().unwrap_or("");
        if !tag.contains("type=\"hidden\"") {
            continue;
        }
        let attr = |name: &str| {
            let key = format!("{name}=\"");
            tag.find(&key).map(|i| {
                let rest = &tag[i + key.len()..];
                unescape(&rest[..rest.find('"').unwrap_or(rest.len())])
            })
        };
        if let (Some(n), Some(v)) = (attr("name"), attr("value")) {
            out.push((n, v));
        }
    }
    out
}

pub async fn run(args: MappingArgs) -> anyhow::Result<()> {
    let org = sfsim::Org::builder()
        .seed(sfsim::Seed::Demo)
        .daily_api_limit(100_000_000)
        .start()
        .await?;
    let tmp = std::env::temp_dir().join(format!("sonde-bench-{}", store::ids::random_token(8)));
    let (store, backend) = match &args.postgres {
        Some(url) => (
            store::Store::connect_fresh_schema(url, "bench").await?.0,
            "PostgreSQL",
        ),
        None => (store::Store::open_data_dir(&tmp).await?, "SQLite"),
    };
    store.migrate().await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let sonde = Sonde::new(
        store.clone(),
        Config {
            public_url: base.clone(),
        },
    )
    .await?;
    let mut settings = SalesforceSettings::defaults();
    settings.client_id = Some(org.client_id().to_string());
    settings.client_secret = Some(salesforce::Secret::new(org.client_secret()));
    // The local org is on loopback, which only an explicit allowance lets Sonde call.
    settings.allowed_hosts = salesforce::AllowedHosts::parse(&org.host())?;
    sonde.configure_salesforce(settings.clone());
    sonde.set_secret_box(engine::secrets::SecretBox::from_key(&rand::random::<
        [u8; 32],
    >()));
    let app = web::app(web::AppState::new(sonde.clone()));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let org_row = store.create_organization("Bench").await?;
    let email = format!(
        "bench-{}@example.com",
        store::ids::random_token(6).to_lowercase()
    );
    let admin = sonde
        .add_user(Some(&org_row.id), &email, Role::Admin, "bench-password")
        .await?;
    let token = sonde.create_api_token(&email, "bench").await?;
    let definition = serde_json::to_string(&survey::sample::sample_definition())?;
    let survey_id = sonde.create_survey(&admin, &definition).await?.survey.id;
    let connection = link_org_via_oauth(
        &base,
        &token,
        org.login_url(),
        &org.username(),
        org.password(),
    )
    .await?;

    // Accounts and contacts of the demo company, and the NPS record type, read as an admin.
    let org_admin = salesforce::Connection::builder(salesforce::Tokens {
        access_token: salesforce::Secret::new(
            org.session_for(&org.username())
                .context("org admin session")?,
        ),
        refresh_token: None,
        instance_url: org.instance_url().to_string(),
    })
    .allowed_hosts(settings.allowed_hosts.clone())
    .build()?;
    let people: Vec<Value> = org_admin
        .query_all::<Value>("SELECT Id, AccountId FROM Contact WHERE AccountId != null")
        .try_collect()
        .await?;
    let describe = org_admin.describe("Survey_Response__c").await?;
    let record_type = describe
        .record_type_infos
        .iter()
        .find(|r| !r.master)
        .and_then(|r| r.record_type_id.clone())
        .context("a Survey_Response__c record type")?;
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("{base}/api/v1/surveys/{survey_id}/workflows"))
        .bearer_auth(&token)
        .json(&json!({
            "name": "Responses into Salesforce",
            "event": "response_created",
            "tasks": [{
                "type": "salesforce", "connectionId": connection, "object": "Survey_Response__c",
                "operation": "create",
                "fields": {
                    "Account__c": {"piped": "${e://Field/sfAccountId}"},
                    "Contact__c": {"piped": "${e://Field/sfContactId}"},
                    "Response_Id__c": {"piped": "${rm://ResponseID}"},
                    "NPS_Score__c": {"piped": "${q://QID3/ChoiceTextEntryValue}"},
                    "Survey_Name__c": {"value": "bench"},
                    "RecordTypeId": {"value": record_type}
                }
            }]
        }))
        .send()
        .await?
        .json()
        .await?;
    let workflow_id = created["id"]
        .as_str()
        .with_context(|| format!("workflow not created: {created}"))?
        .to_string();

    let answers = super::complete_answers(&survey::sample::sample_definition());
    let body = |i: usize| {
        let p = &people[i % people.len()];
        json!({
            "answers": answers,
            "embeddedData": {"sfAccountId": p["AccountId"], "sfContactId": p["Id"]},
            "finished": true,
        })
    };
    let url = format!("{base}/api/v1/surveys/{survey_id}/responses");

    println!(
        "bench mapping · {backend} · built-in org in process · record: Survey_Response__c (create)"
    );
    // Backlogs: responses queue up with no worker running, then one drain writes them.
    let mut submitted = 0;
    for &backlog in &args.backlog {
        let from = submitted;
        futures::stream::iter(from..from + backlog)
            .map(|i| {
                let (http, url, token, body) = (&http, &url, &token, body(i));
                async move {
                    let r = http.post(url).bearer_auth(token).json(&body).send().await?;
                    if r.status() != reqwest::StatusCode::CREATED {
                        bail!("submission refused: {}", r.text().await?);
                    }
                    anyhow::Ok(())
                }
            })
            .buffer_unordered(8)
            .try_collect::<Vec<()>>()
            .await?;
        submitted += backlog;
        org.reset_calls();
        let started = Instant::now();
        let report = sonde.drain_workflows().await?;
        let drained = started.elapsed();
        let calls: u64 = org.calls().values().sum();
        println!(
            "  backlog of {backlog:>7} ({submitted:>7} in the org after it): {} records in {:.2} s = {:.0} records/s · {} Salesforce API calls = {:.4} calls/record",
            report.succeeded,
            drained.as_secs_f64(),
            report.succeeded as f64 / drained.as_secs_f64(),
            calls,
            calls as f64 / report.succeeded.max(1) as f64
        );
    }

    // Steady: the server's worker runs; responses arrive at a fixed rate.
    let worker = sonde.spawn_workflow_worker();
    org.reset_calls();
    let total = (u64::from(args.rate) * args.seconds) as usize;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(args.rate)));
    let steady_started = Instant::now();
    let mut pending = Vec::with_capacity(total);
    for i in 0..total {
        tick.tick().await;
        let (http, url, token, body) = (
            http.clone(),
            url.clone(),
            token.clone(),
            body(submitted + i),
        );
        pending.push(tokio::spawn(async move {
            http.post(&url).bearer_auth(&token).json(&body).send().await
        }));
    }
    for p in pending {
        p.await??;
    }
    // Wait for every run to finish, then read each run's recorded-to-written time.
    let deadline = Instant::now() + Duration::from_secs(120);
    let runs = loop {
        let runs = sonde
            .store
            .runs_of_workflow(&admin.org_id, &workflow_id, None, i64::MAX)
            .await
            .context("reading runs")?;
        let done = runs.iter().filter(|r| r.status == "succeeded").count();
        if done >= submitted + total {
            break runs;
        }
        if Instant::now() > deadline {
            bail!("only {done} of {} runs finished", submitted + total);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let steady_elapsed = steady_started.elapsed();
    let cutoff = store::now_ms() - steady_elapsed.as_millis() as i64;
    let mut latencies: Vec<Duration> = runs
        .iter()
        .filter(|r| r.created_at >= cutoff)
        .map(|r| Duration::from_millis((r.updated_at - r.created_at).max(0) as u64))
        .collect();
    latencies.sort();
    let steady_calls: u64 = org.calls().values().sum();
    println!(
        "  steady {} responses/s for {} s ({} records): recorded → in Salesforce p50 {:.0} ms · p99 {:.0} ms · {:.3} calls/record",
        args.rate,
        args.seconds,
        latencies.len(),
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        steady_calls as f64 / latencies.len().max(1) as f64
    );
    if let Some(rss) = peak_rss_kib() {
        println!(
            "  peak RSS:   {:.1} MiB (Sonde, the org and the clients in one process)",
            rss as f64 / 1024.0
        );
    }
    worker.abort();
    server.abort();
    store.close().await;
    org.shutdown().await;
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}
