//! `sonde bench contacts`: one large CSV file imported into an empty directory while clients
//! keep posting responses. Figures: import rows/s around 30k contacts, at the end (200k by
//! default) and overall; p50/p99 latency of the responses posted during the import, and how
//! many failed; peak RSS.
//!
//! The import is driven through the engine's batches (what `POST /api/v1/contacts/import`
//! streams), so each batch's time and the directory's size at it are known; the responses go
//! through HTTP like any client's.

use super::{peak_rss_kib, percentile, post, sample_response_body, BenchServer};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct ContactsArgs {
    /// Rows in the file (all new contacts).
    #[arg(long, default_value_t = 200_000)]
    pub rows: usize,
    /// Clients posting responses, one after another each, during the import.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Benchmark on this PostgreSQL URL (default: SQLite in a temporary directory).
    #[arg(long, env = "SONDE_BENCH_POSTGRES_URL")]
    pub postgres: Option<String>,
}

/// The directory size the issue measured the old import at.
const MILESTONE: usize = 30_000;
/// Rows either side of a size that its rows/s figure is taken over (batches are 500 rows).
const WINDOW: usize = 5_000;

/// A spreadsheet export as people make them: names, email, phone, language, two columns that
/// become embedded data.
pub fn contacts_csv(rows: usize) -> Vec<u8> {
    let mut csv = String::from("First Name,Last Name,Email,Phone,Language,Region,Tier\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "First{i},Last{i},person{i}@example.com,+1 415 {:03} {:04},en,EMEA,tier {}\n",
            200 + i % 700,
            i % 10_000,
            i % 5
        ));
    }
    csv.into_bytes()
}

/// Rows per second over the batches whose end fell in `from..=to` rows written.
fn rate(batches: &[(usize, Duration)], from: usize, to: usize) -> Option<f64> {
    let mut rows = 0;
    let mut time = Duration::ZERO;
    let mut before = 0;
    for &(written, elapsed) in batches {
        if written > from && written <= to {
            rows += written - before;
            time += elapsed;
        }
        before = written;
    }
    (rows > 0).then(|| rows as f64 / time.as_secs_f64())
}

pub async fn run(args: ContactsArgs) -> anyhow::Result<()> {
    let bench = BenchServer::start(args.postgres.as_deref()).await?;
    let file = contacts_csv(args.rows);
    let file_mib = file.len() as f64 / (1024.0 * 1024.0);

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let url = bench.responses_url();
    let body = sample_response_body();
    for _ in 0..10 {
        post(&client, &url, &bench.token, &body).await?;
    }
    let importing = Arc::new(AtomicBool::new(true));
    let mut posters = Vec::new();
    for _ in 0..args.concurrency {
        let (client, url, token, body) = (
            client.clone(),
            url.clone(),
            bench.token.clone(),
            body.clone(),
        );
        let importing = importing.clone();
        posters.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = Vec::new();
            while importing.load(Ordering::Relaxed) {
                let t = Instant::now();
                match post(&client, &url, &token, &body).await {
                    Ok(()) => latencies.push(t.elapsed()),
                    Err(e) => failures.push(e.to_string()),
                }
            }
            (latencies, failures)
        }));
    }

    // Each batch's time is measured from the end of the previous one, so the pause that lets
    // responses in between batches counts against the import.
    let started = Instant::now();
    let mut import = bench
        .sonde
        .start_contact_import(&bench.admin, file, None)
        .await?;
    let mut batches: Vec<(usize, Duration)> = Vec::new();
    let mut last = Instant::now();
    while import.next_batch().await?.is_some() {
        let t = import.totals();
        batches.push((t.created + t.updated, last.elapsed()));
        last = Instant::now();
    }
    let elapsed = started.elapsed();
    importing.store(false, Ordering::Relaxed);
    let totals = import.totals();

    let mut latencies = Vec::new();
    let mut failures = Vec::new();
    for p in posters {
        let (l, f) = p.await?;
        latencies.extend(l);
        failures.extend(f);
    }
    latencies.sort();

    let written = totals.created + totals.updated;
    println!(
        "bench contacts · {} · {} rows ({file_mib:.1} MiB) into an empty directory · {} response clients",
        bench.backend, args.rows, args.concurrency
    );
    println!(
        "  import:     {written} written ({} created, {} updated, {} refused) in {:.1} s: {:.0} rows/s overall",
        totals.created,
        totals.updated,
        totals.refused,
        elapsed.as_secs_f64(),
        written as f64 / elapsed.as_secs_f64()
    );
    let at = |size: usize| {
        rate(
            &batches,
            size.saturating_sub(WINDOW),
            (size + WINDOW).min(written),
        )
    };
    if written >= MILESTONE {
        if let Some(r) = at(MILESTONE) {
            println!("  at 30k:     {r:.0} rows/s (batches from 25k to 35k contacts)");
        }
    }
    if let Some(r) = rate(&batches, written.saturating_sub(2 * WINDOW), written) {
        println!(
            "  at {}k:    {r:.0} rows/s (the last 10k rows)",
            written / 1000
        );
    }
    println!(
        "  responses:  {} posted during the import · p50 {:.1} ms · p99 {:.1} ms · max {:.1} ms · {} failed",
        latencies.len(),
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        failures.len()
    );
    if let Some(first) = failures.first() {
        println!("  first failure: {first}");
    }
    if let Some(rss) = peak_rss_kib() {
        println!(
            "  peak RSS:   {:.1} MiB (server, file and clients in one process)",
            rss as f64 / 1024.0
        );
    }
    bench.stop().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_counts_the_batches_ending_in_the_window() {
        let ms = Duration::from_millis;
        let batches = [(500, ms(100)), (1000, ms(200)), (1500, ms(500))];
        assert_eq!(rate(&batches, 500, 1000), Some(500.0 / 0.2));
        assert_eq!(rate(&batches, 0, 1500), Some(1500.0 / 0.8));
        assert_eq!(rate(&batches, 1500, 2000), None);
    }

    #[test]
    fn the_generated_file_imports_without_refusals() {
        let file = contacts_csv(50);
        let parsed = directory::import_csv(&file, None);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.contacts.len(), 50);
    }
}
