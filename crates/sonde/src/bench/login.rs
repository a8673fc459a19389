//! `sonde bench login`: people signing in through `/login` as fast as they can, each from an
//! address of their own, while one client measures `/healthz`. Figures: `/healthz` p50/p95
//! before and during the flood, sign-ins per second and their latency. Password hashing is
//! CPU work; done on the async runtime's threads it stalls every other request.

use super::{percentile, BenchServer};
use anyhow::Context;
use engine::Role;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct LoginArgs {
    /// People signing in at once, one after another each (each has an account and an address).
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// How long the flood lasts, in seconds.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Benchmark on this PostgreSQL URL (default: SQLite in a temporary directory).
    #[arg(long, env = "SONDE_BENCH_POSTGRES_URL")]
    pub postgres: Option<String>,
}

const PASSWORD: &str = "bench-password";
/// Time between two health checks of the measuring client.
const HEALTH_INTERVAL: Duration = Duration::from_millis(20);

pub async fn run(args: LoginArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=250).contains(&args.concurrency),
        "--concurrency must be between 1 and 250 (one loopback address each)"
    );
    let bench = BenchServer::start(args.postgres.as_deref()).await?;
    let org = bench.admin.org_id.clone();
    let mut emails = Vec::new();
    for i in 0..args.concurrency {
        let email = format!(
            "person{i}-{}@example.com",
            bench.admin.user_id.to_lowercase()
        );
        bench
            .sonde
            .add_user(Some(&org), &email, Role::Viewer, PASSWORD)
            .await?;
        emails.push(email);
    }
    let health_url = format!("{}/healthz", bench.base);
    let health = reqwest::Client::new();

    let baseline = measure_health(&health, &health_url, Duration::from_secs(2), None).await?;

    let flooding = Arc::new(AtomicBool::new(true));
    let mut people = Vec::new();
    for (i, email) in emails.into_iter().enumerate() {
        // 127.0.0.2, 127.0.0.3, …: every person signs in from an address of their own, as
        // people do, so the flood is sign-ins rather than one address being throttled.
        let address = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i as u8));
        let base = bench.base.clone();
        let flooding = flooding.clone();
        people.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            while flooding.load(Ordering::Relaxed) {
                let t = Instant::now();
                match sign_in(&base, address, &email).await {
                    Ok(()) => latencies.push(t.elapsed()),
                    Err(e) => {
                        failures += 1;
                        if failures == 1 {
                            eprintln!("sign-in failed: {e:#}");
                        }
                    }
                }
            }
            (latencies, failures)
        }));
    }
    let flood_time = Duration::from_secs(args.seconds);
    let started = Instant::now();
    let during = measure_health(&health, &health_url, flood_time, Some(&flooding)).await?;
    flooding.store(false, Ordering::Relaxed);
    let mut sign_ins = Vec::new();
    let mut failures = 0;
    for p in people {
        let (l, f) = p.await?;
        sign_ins.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    sign_ins.sort();

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "bench login · {} · {} people signing in at once for {} s",
        bench.backend, args.concurrency, args.seconds
    );
    println!(
        "  /healthz before:  p50 {:.1} ms · p95 {:.1} ms ({} checks)",
        ms(percentile(&baseline, 0.50)),
        ms(percentile(&baseline, 0.95)),
        baseline.len()
    );
    println!(
        "  /healthz during:  p50 {:.1} ms · p95 {:.1} ms · max {:.1} ms ({} checks)",
        ms(percentile(&during, 0.50)),
        ms(percentile(&during, 0.95)),
        ms(during.last().copied().unwrap_or_default()),
        during.len()
    );
    println!(
        "  sign-ins:         {} in {:.1} s ({:.1}/s) · p50 {:.0} ms · p95 {:.0} ms · {} failed",
        sign_ins.len(),
        elapsed.as_secs_f64(),
        sign_ins.len() as f64 / elapsed.as_secs_f64(),
        ms(percentile(&sign_ins, 0.50)),
        ms(percentile(&sign_ins, 0.95)),
        failures
    );
    bench.stop().await;
    Ok(())
}

/// Health check latencies, sorted, over `length` (or until `running` turns false).
async fn measure_health(
    client: &reqwest::Client,
    url: &str,
    length: Duration,
    running: Option<&AtomicBool>,
) -> anyhow::Result<Vec<Duration>> {
    let until = Instant::now() + length;
    let mut latencies = Vec::new();
    while Instant::now() < until && running.is_none_or(|r| r.load(Ordering::Relaxed)) {
        let t = Instant::now();
        let r = client.get(url).send().await.context("GET /healthz")?;
        anyhow::ensure!(r.status().is_success(), "/healthz answered {}", r.status());
        r.bytes().await?;
        latencies.push(t.elapsed());
        tokio::time::sleep(HEALTH_INTERVAL).await;
    }
    latencies.sort();
    Ok(latencies)
}

/// One sign-in as a browser does it: the form (and its CSRF token, when it has one), then the
/// POST, from `address`. A fresh client each time, so every sign-in starts without a session.
async fn sign_in(base: &str, address: IpAddr, email: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .local_address(address)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let form = client
        .get(format!("{base}/login"))
        .send()
        .await?
        .text()
        .await?;
    let mut fields = vec![("email", email.to_string()), ("password", PASSWORD.into())];
    if let Some(csrf) = super::mapping::hidden_inputs(&form)
        .into_iter()
        .find(|(name, _)| name == "csrf")
    {
        fields.push(("csrf", csrf.1));
    }
    let r = client
        .post(format!("{base}/login"))
        .form(&fields)
        .send()
        .await?;
    anyhow::ensure!(
        r.status() == reqwest::StatusCode::SEE_OTHER,
        "sign-in answered {}",
        r.status()
    );
    Ok(())
}
