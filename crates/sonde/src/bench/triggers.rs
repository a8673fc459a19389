//! `sonde bench triggers`: Outbound Messages of 100 notifications each, posted by concurrent
//! senders to a `salesforce_message` workflow's endpoint (linked to the built-in org), with a
//! share of them posted again as Salesforce's redeliveries are: notifications recorded per
//! second and the latency of each `Ack` (every notification of the message committed first,
//! with the run it fires). Then the workflow's distribution task invites each case's contact
//! by email through the server's own workers to a local SMTP server: invitations per second
//! from the first run claimed to the last message accepted, and the Salesforce API calls its
//! opt-out reads cost per invitation.

use super::mapping::link_org_via_oauth;
use super::{peak_rss_kib, percentile, BenchServer};
use engine::connections::SalesforceSettings;
use engine::workflows::{Event, Task, WorkflowInput};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct TriggersArgs {
    /// Messages posted (each of `--per-message` notifications).
    #[arg(long, default_value_t = 300)]
    messages: usize,
    /// Notifications per message (Salesforce sends at most 100).
    #[arg(long, default_value_t = 100)]
    per_message: usize,
    /// Messages in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Share of messages posted a second time (redeliveries; acknowledged, not recorded).
    #[arg(long, default_value_t = 0.3)]
    duplicates: f64,
    /// Benchmark on this PostgreSQL URL (default: SQLite in a temporary directory).
    #[arg(long, env = "SONDE_BENCH_POSTGRES_URL")]
    postgres: Option<String>,
}

/// One Outbound Message as Salesforce writes it: `n` Case notifications, ids from `first`.
fn message(org_id: &str, first: usize, n: usize) -> String {
    salesforce::outbound::Notifications {
        organization_id: org_id.into(),
        action_id: "04k000000000001AAA".into(),
        session_id: None,
        enterprise_url: "https://bench.my.salesforce.com/services/Soap/c/61.0".into(),
        partner_url: "https://bench.my.salesforce.com/services/Soap/u/61.0".into(),
        notifications: (first..first + n)
            .map(|i| salesforce::outbound::Notification {
                id: format!("04l{i:012}AAA"),
                sobject: salesforce::outbound::SObject {
                    object_type: "Case".into(),
                    fields: [
                        ("Id".to_string(), Some(format!("500{i:012}AAA"))),
                        ("Subject".to_string(), Some(format!("Case {i} closed"))),
                        ("ContactId".to_string(), Some(format!("003{i:012}AAA"))),
                        (
                            "ContactEmail".to_string(),
                            Some(format!("case{i}@bench.example")),
                        ),
                        ("Status".to_string(), Some("Closed".to_string())),
                    ]
                    .into_iter()
                    .collect(),
                },
            })
            .collect(),
    }
    .to_xml()
}

pub async fn run(args: TriggersArgs) -> anyhow::Result<()> {
    let org = sfsim::Org::builder()
        .seed(sfsim::Seed::Demo)
        .daily_api_limit(100_000_000)
        .start()
        .await?;
    let bench = BenchServer::start(args.postgres.as_deref()).await?;
    let mut settings = SalesforceSettings::defaults();
    settings.client_id = Some(org.client_id().to_string());
    settings.client_secret = Some(salesforce::Secret::new(org.client_secret()));
    settings.allowed_hosts = salesforce::AllowedHosts::parse(&org.host())?;
    bench.sonde.configure_salesforce(settings);
    // Only the newest few messages are kept: the catcher's memory stays out of the figures.
    let mail = mailsim::Mailsim::builder().keep(16).start().await?;
    bench.sonde.set_mailer(Some(
        engine::mail::Mailer::new(
            engine::mail::MailSettings::parse(
                &mail.smtp_url(),
                "surveys@sonde.example",
                None,
                None,
            )
            .map_err(anyhow::Error::msg)?,
        )
        .map_err(anyhow::Error::msg)?,
    ));
    let template: engine::message_templates::TemplateDefinition =
        serde_json::from_value(serde_json::json!({
            "channel": "email", "name": "Case closed", "subject": "Case ${sf://Subject}",
            "body": "<p>${l://SurveyLink}</p><p>${l://OptOutLink?d=Unsubscribe}</p>"
        }))?;
    let template = bench.sonde.create_template(&bench.admin, template).await?;
    let invite: Task = serde_json::from_value(serde_json::json!({
        "type": "distribution", "channel": "email", "templateId": template.id,
        "recipient": {"email": "${sf://ContactEmail}", "extRef": "${sf://ContactId}"},
        "embeddedData": {"sfContactId": "${sf://ContactId}"}
    }))?;
    let connection = link_org_via_oauth(
        &bench.base,
        &bench.token,
        org.login_url(),
        &org.username(),
        org.password(),
    )
    .await?;
    let workflow = bench
        .sonde
        .create_workflow(
            &bench.admin,
            &bench.survey_id,
            WorkflowInput {
                name: "Case closed".into(),
                event: Event::SalesforceMessage,
                enabled: true,
                conditions: None,
                tasks: vec![invite],
                allow_unsigned_record_ids: false,
                connection_id: Some(connection),
                object: Some("Case".into()),
            },
        )
        .await?;
    let endpoint = workflow
        .endpoint_url
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the workflow has no endpoint"))?;
    let org_id = org.org_id();
    let per = args.per_message.clamp(1, 100);
    // Every message once, then the redeliveries, shuffled in among them.
    let mut plan: Vec<usize> = (0..args.messages).collect();
    let again = (args.messages as f64 * args.duplicates.clamp(0.0, 1.0)).round() as usize;
    plan.extend((0..again).map(|_| rand::random::<usize>() % args.messages.max(1)));
    {
        use rand::seq::SliceRandom;
        plan.shuffle(&mut rand::thread_rng());
    }
    let bodies: Vec<String> = (0..args.messages)
        .map(|m| message(&org_id, m * per, per))
        .collect();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let queue = std::sync::Arc::new(std::sync::Mutex::new(plan.clone()));
    let bodies = std::sync::Arc::new(bodies);
    let started = Instant::now();
    let mut senders = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let (client, endpoint, queue, bodies) = (
            client.clone(),
            endpoint.clone(),
            queue.clone(),
            bodies.clone(),
        );
        senders.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let Some(m) = queue.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.pop() else {
                    return anyhow::Ok(latencies);
                };
                let t = Instant::now();
                let r = client
                    .post(&endpoint)
                    .header("content-type", "text/xml; charset=utf-8")
                    .header("SOAPAction", "\"\"")
                    .body(bodies[m].clone())
                    .send()
                    .await?;
                let ok = r.status().is_success();
                let text = r.text().await?;
                anyhow::ensure!(
                    ok && text.contains("<Ack>true</Ack>"),
                    "not acknowledged: {text}"
                );
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    for s in senders {
        latencies.extend(s.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let recorded = bench.sonde.store.count_notifications(&workflow.id).await?;
    let expected = (args.messages * per) as i64;
    anyhow::ensure!(
        recorded == expected,
        "{recorded} notifications recorded, {expected} sent"
    );
    let posted = plan.len() * per;
    println!(
        "bench triggers · {} · {} messages of {per} notifications ({again} posted twice) · {} senders",
        bench.backend, args.messages, args.concurrency
    );
    println!(
        "  recorded: {recorded} notifications once each ({posted} posted) in {:.2} s · {:.0} notifications/s accepted",
        elapsed.as_secs_f64(),
        posted as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  ack latency per message: p50 {:.1} ms · p99 {:.1} ms · max {:.1} ms (Salesforce waits 60 s)",
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0
    );

    // The invitations: the server's own workers, as `sonde serve` runs them.
    org.reset_calls();
    let invited_from = Instant::now();
    let workers = [
        bench.sonde.spawn_workflow_worker(),
        bench.sonde.spawn_distribution_worker(),
    ];
    let deadline = Instant::now() + Duration::from_secs(1_800);
    while (mail.received_count() as i64) < expected {
        anyhow::ensure!(
            Instant::now() < deadline,
            "{} of {expected} invitations after 30 minutes",
            mail.received_count()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let invited = invited_from.elapsed();
    for w in workers {
        w.abort();
    }
    let calls: u64 = org.calls().values().sum();
    println!(
        "  invitations: {expected} sent in {:.2} s · {:.0} invitations/s (workflow runs, opt-out reads, recipients, SMTP) · {:.4} Salesforce calls per invitation ({calls} opt-out queries)",
        invited.as_secs_f64(),
        expected as f64 / invited.as_secs_f64(),
        calls as f64 / expected as f64
    );
    if let Some(rss) = peak_rss_kib() {
        println!(
            "  peak RSS: {:.1} MiB (server, senders and the org in one process)",
            rss as f64 / 1024.0
        );
    }
    bench.stop().await;
    org.shutdown().await;
    mail.shutdown().await;
    Ok(())
}
