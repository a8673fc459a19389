//! `sonde bench distributions`: a distribution to a mailing list sent by the server's own
//! worker — email through the pooled SMTP transport to a local SMTP server (`mailsim`), texts
//! through the Twilio Messages API to the local SMS gateway (`smsim`, whose status callbacks
//! come back signed to the server's webhook) — timed from the send to the last message
//! accepted; with the peak RSS of each list size, so a list ten times longer can be seen not
//! to need more memory.

use super::surveys::{mib, phase_peak, reset_peak_rss, rss_kib, RssSampler};
use super::BenchServer;
use engine::distributions::NewDistribution;
use engine::message_templates::TemplateDefinition;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct DistributionsArgs {
    /// Email list sizes, sent one after the other (each on a fresh database).
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    contacts: Vec<usize>,
    /// SMS list sizes (0: no SMS run).
    #[arg(long, value_delimiter = ',', default_value = "10000")]
    sms: Vec<usize>,
    /// SMTP connections kept open (`SONDE_SMTP_POOL`).
    #[arg(long, default_value_t = 8)]
    smtp_pool: usize,
    /// Benchmark on this PostgreSQL URL (default: SQLite in a temporary directory).
    #[arg(long, env = "SONDE_BENCH_POSTGRES_URL")]
    postgres: Option<String>,
}

/// Where one run's messages go.
enum Gateway {
    Mail(mailsim::RunningMailsim),
    Sms(smsim::RunningSmsim),
}

impl Gateway {
    fn received(&self) -> u64 {
        match self {
            Gateway::Mail(m) => m.received_count(),
            Gateway::Sms(s) => s.message_count() as u64,
        }
    }
}

pub async fn run(args: DistributionsArgs) -> anyhow::Result<()> {
    println!(
        "bench distributions · {} · server worker, its web server and the local gateways in one process",
        if args.postgres.is_some() { "PostgreSQL" } else { "SQLite" },
    );
    println!(
        "  {:>7}  {:>9}  {:>10}  {:>9}  {:>10}  {:>11}  {:>10}  {:>10}  {:>9}",
        "channel",
        "contacts",
        "audience s",
        "send s",
        "msgs/s",
        "delivered s",
        "RSS before",
        "peak RSS",
        "RSS after"
    );
    for (channel, sizes) in [("email", &args.contacts), ("sms", &args.sms)] {
        for &n in sizes.iter().filter(|n| **n > 0) {
            let f = one_list(&args, channel, n).await?;
            println!(
                "  {:>7}  {:>9}  {:>10.2}  {:>9.2}  {:>10.0}  {:>11}  {:>6.1} MiB  {:>6.1} MiB  {:>5.1} MiB",
                channel,
                n,
                f.audience.as_secs_f64(),
                f.total.as_secs_f64(),
                n as f64 / f.total.as_secs_f64(),
                f.delivered
                    .map_or("-".to_string(), |d| format!("{:.2}", d.as_secs_f64())),
                mib(f.before_kib),
                mib(f.peak_kib),
                mib(f.after_kib),
            );
        }
    }
    println!(
        "  email: SMTP pool {}; audience s: until every recipient is written and queued; send s: from the send to the last message accepted by the gateway (includes the audience);",
        args.smtp_pool
    );
    println!("  delivered s: until every text's status callbacks (queued, sent, delivered) were recorded.");
    println!("  RSS before: when the send starts (the list imported); SQLite's page caches are bounded (32 MiB for the writer, 2 MiB per reader) and fill as the database grows.");
    Ok(())
}

struct Figures {
    audience: Duration,
    total: Duration,
    delivered: Option<Duration>,
    before_kib: u64,
    peak_kib: u64,
    after_kib: u64,
}

async fn one_list(args: &DistributionsArgs, channel: &str, n: usize) -> anyhow::Result<Figures> {
    let bench = BenchServer::start(args.postgres.as_deref()).await?;
    let sonde = bench.sonde.clone();
    let gateway = if channel == "sms" {
        let sms = smsim::Smsim::builder()
            .webhook(&format!("{}/webhooks/twilio/inbound", sonde.public_url()))
            .start()
            .await?;
        let settings = engine::sms::SmsSettings::parse(
            Some(sms.url()),
            Some(sms.account_sid()),
            Some(sms.auth_token()),
            sms.numbers().first().map(String::as_str),
            None,
        )
        .map_err(anyhow::Error::msg)?;
        sonde.set_sms(Some(
            engine::sms::SmsGateway::new(settings).map_err(anyhow::Error::msg)?,
        ));
        Gateway::Sms(sms)
    } else {
        // Only the newest few messages are kept, so the catcher's memory stays out of the
        // figures.
        let mail = mailsim::Mailsim::builder().keep(16).start().await?;
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
        Gateway::Mail(mail)
    };
    let list = sonde
        .create_mailing_list(&bench.admin, &format!("Everyone ({n})"))
        .await?;
    let mut csv = String::with_capacity(n * 48);
    csv.push_str("Email,Phone,FirstName,LastName\n");
    for i in 0..n {
        // Numbers ending 0000 or 0001 are the gateway's undeliverable ones: these end in 2.
        csv.push_str(&format!(
            "bench{i:07}@example.com,+1415{:07},Reader{i},Bench\n",
            i * 10 + 2
        ));
    }
    let report = sonde
        .import_contacts_csv(&bench.admin, csv.into_bytes(), Some(&list.id), 5)
        .await?;
    anyhow::ensure!(report.created == n, "imported {report:?}");
    let template = if channel == "sms" {
        serde_json::json!({
            "channel": "sms", "name": "Text",
            "body": "Hi ${m://FirstName}, how was your visit? ${l://SurveyLink}",
        })
    } else {
        serde_json::json!({
            "channel": "email",
            "name": "Invitation",
            "subject": "${m://FirstName}, how was your visit?",
            "fromName": "Acme Support",
            "body": "<p>Hello ${m://FirstName} ${m://LastName},</p><p>Tell us how it went: ${l://SurveyLink}</p>\
                     <p><a href=\"${l://OptOutURL}\">Unsubscribe</a></p>",
        })
    };
    let template: TemplateDefinition = serde_json::from_value(template)?;
    let template = sonde.create_template(&bench.admin, template).await?;

    let received_before = gateway.received();
    let before_kib = rss_kib().unwrap_or(0);
    let reset = reset_peak_rss();
    let sampler = RssSampler::start();
    let started = Instant::now();
    let worker = sonde.spawn_distribution_worker();
    let d = sonde
        .create_distribution(
            &bench.admin,
            &bench.survey_id,
            serde_json::from_value::<NewDistribution>(serde_json::json!({
                "channel": channel, "mailingListId": list.id, "templateId": template.id,
            }))?,
        )
        .await?;
    let mut audience = None;
    let mut polls = 0u64;
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        polls += 1;
        // The distribution is read with its statistics (counts over every recipient), so the
        // audience is looked at every half second only, not to load the server it measures.
        if audience.is_none() && polls.is_multiple_of(10) {
            let now = sonde.distribution(&bench.admin, &d.id).await?;
            if now.audience_written_at.is_some() {
                audience = Some(started.elapsed());
            }
        }
        if gateway.received() - received_before >= n as u64 {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(3600),
            "not all sent within an hour"
        );
    }
    let total = started.elapsed();
    let mut delivered = None;
    if channel == "sms" {
        loop {
            let stats = sonde.distribution(&bench.admin, &d.id).await?.stats;
            if stats.delivered as usize >= n {
                delivered = Some(started.elapsed());
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(3600),
                "not all delivered within an hour: {stats:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    let peak_kib = phase_peak(sampler.finish().await, reset);
    worker.abort();
    let stats = sonde.distribution(&bench.admin, &d.id).await?.stats;
    let after_kib = rss_kib().unwrap_or(0);
    bench.stop().await;
    match gateway {
        Gateway::Mail(m) => m.shutdown().await,
        Gateway::Sms(s) => s.shutdown().await,
    }
    anyhow::ensure!(
        stats.failed == 0,
        "{} messages failed: {stats:?}",
        stats.failed
    );
    Ok(Figures {
        audience: audience.unwrap_or(total),
        total,
        delivered,
        before_kib,
        peak_kib,
        after_kib,
    })
}
