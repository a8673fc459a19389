//! `sonde bench distributions`: a distribution to a mailing list sent by the server's own
//! worker through the pooled SMTP transport to a local SMTP server (`mailsim`, in this
//! process), timed from the send to the last invitation accepted; the peak RSS of each list
//! size, so a list ten times longer can be seen not to need more memory.

use super::surveys::{mib, phase_peak, reset_peak_rss, rss_kib, RssSampler};
use super::BenchServer;
use engine::distributions::NewDistribution;
use engine::message_templates::TemplateDefinition;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct DistributionsArgs {
    /// List sizes, sent one after the other (each on a fresh database).
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    contacts: Vec<usize>,
    /// SMTP connections kept open (`SONDE_SMTP_POOL`).
    #[arg(long, default_value_t = 8)]
    smtp_pool: usize,
    /// Benchmark on this PostgreSQL URL (default: SQLite in a temporary directory).
    #[arg(long, env = "SONDE_BENCH_POSTGRES_URL")]
    postgres: Option<String>,
}

pub async fn run(args: DistributionsArgs) -> anyhow::Result<()> {
    // Only the newest few messages are kept, so the catcher's memory stays out of the figures.
    let mail = mailsim::Mailsim::builder().keep(16).start().await?;
    println!(
        "bench distributions · {} · SMTP to a local server (pool {}) · server worker and SMTP server in one process",
        if args.postgres.is_some() { "PostgreSQL" } else { "SQLite" },
        args.smtp_pool
    );
    println!(
        "  {:>9}  {:>10}  {:>9}  {:>10}  {:>10}  {:>9}",
        "contacts", "audience s", "send s", "emails/s", "peak RSS", "RSS after"
    );
    for &n in &args.contacts {
        let figures = one_list(&args, &mail, n).await?;
        println!(
            "  {:>9}  {:>10.2}  {:>9.2}  {:>10.0}  {:>6.1} MiB  {:>5.1} MiB",
            n,
            figures.audience.as_secs_f64(),
            figures.total.as_secs_f64(),
            n as f64 / figures.total.as_secs_f64(),
            mib(figures.peak_kib),
            mib(figures.after_kib),
        );
    }
    println!("  audience s: until every recipient is written and queued; send s: from the send to the last invitation accepted by the SMTP server (includes the audience).");
    mail.shutdown().await;
    Ok(())
}

struct Figures {
    audience: Duration,
    total: Duration,
    peak_kib: u64,
    after_kib: u64,
}

async fn one_list(
    args: &DistributionsArgs,
    mail: &mailsim::RunningMailsim,
    n: usize,
) -> anyhow::Result<Figures> {
    let bench = BenchServer::start(args.postgres.as_deref()).await?;
    let sonde = bench.sonde.clone();
    let settings = engine::mail::MailSettings::parse(
        &mail.smtp_url(),
        "surveys@sonde.example",
        None,
        Some(&args.smtp_pool.to_string()),
    )
    .map_err(anyhow::Error::msg)?;
    sonde.set_mailer(Some(
        engine::mail::Mailer::new(settings).map_err(anyhow::Error::msg)?,
    ));
    let list = sonde
        .create_mailing_list(&bench.admin, &format!("Everyone ({n})"))
        .await?;
    let mut csv = String::with_capacity(n * 40);
    csv.push_str("Email,FirstName,LastName\n");
    for i in 0..n {
        csv.push_str(&format!("bench{i:07}@example.com,Reader{i},Bench\n"));
    }
    let report = sonde
        .import_contacts_csv(&bench.admin, csv.into_bytes(), Some(&list.id), 5)
        .await?;
    anyhow::ensure!(report.created == n, "imported {report:?}");
    let template: TemplateDefinition = serde_json::from_value(serde_json::json!({
        "channel": "email",
        "name": "Invitation",
        "subject": "${m://FirstName}, how was your visit?",
        "fromName": "Acme Support",
        "body": "<p>Hello ${m://FirstName} ${m://LastName},</p><p>Tell us how it went: ${l://SurveyLink}</p>\
                 <p><a href=\"${l://OptOutURL}\">Unsubscribe</a></p>",
    }))?;
    let template = sonde.create_template(&bench.admin, template).await?;

    let received_before = mail.received_count();
    let reset = reset_peak_rss();
    let sampler = RssSampler::start();
    let started = Instant::now();
    let worker = sonde.spawn_distribution_worker();
    let d = sonde
        .create_distribution(
            &bench.admin,
            &bench.survey_id,
            serde_json::from_value::<NewDistribution>(serde_json::json!({
                "channel": "email", "mailingListId": list.id, "templateId": template.id,
            }))?,
        )
        .await?;
    let mut audience = None;
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if audience.is_none() {
            let now = sonde.distribution(&bench.admin, &d.id).await?;
            if now.audience_written_at.is_some() {
                audience = Some(started.elapsed());
            }
        }
        if mail.received_count() - received_before >= n as u64 {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(3600),
            "not all sent within an hour"
        );
    }
    let total = started.elapsed();
    let peak_kib = phase_peak(sampler.finish().await, reset);
    worker.abort();
    let stats = sonde.distribution(&bench.admin, &d.id).await?.stats;
    let after_kib = rss_kib().unwrap_or(0);
    bench.stop().await;
    anyhow::ensure!(
        stats.failed == 0,
        "{} invitations failed: {stats:?}",
        stats.failed
    );
    Ok(Figures {
        audience: audience.unwrap_or(total),
        total,
        peak_kib,
        after_kib,
    })
}
