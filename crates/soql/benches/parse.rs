//! Parse and print throughput on the valid cases of the conformance corpus.
//! Run with `cargo bench -p soql`; compare with `bench/soql-js` (same corpus, same figures).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn corpus_path() -> PathBuf {
    if let Ok(p) = std::env::var("SONDE_SOQL_CORPUS") {
        return PathBuf::from(p);
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let rel = "shared/conformance/soql/queries.jsonl";
    manifest
        .ancestors()
        .map(|a| a.join(rel))
        .find(|p| p.exists())
        .unwrap_or_else(|| manifest.join("../../..").join(rel))
}

/// Runs `round` (one pass over the corpus) until `budget` has elapsed; returns passes and time.
fn measure(budget: Duration, mut round: impl FnMut()) -> (u32, Duration) {
    for _ in 0..20 {
        round(); // warm-up
    }
    let start = Instant::now();
    let mut rounds = 0;
    while start.elapsed() < budget {
        round();
        rounds += 1;
    }
    (rounds, start.elapsed())
}

fn report(what: &str, queries: usize, bytes: usize, rounds: u32, elapsed: Duration) {
    let secs = elapsed.as_secs_f64();
    let qps = queries as f64 * rounds as f64 / secs;
    let mbs = bytes as f64 * rounds as f64 / secs / 1e6;
    println!(
        "{what:<6} {qps:>12.0} queries/s {mbs:>8.2} MB/s  ({rounds} passes over {queries} queries, {bytes} bytes, {secs:.2} s)"
    );
}

fn main() {
    let text = std::fs::read_to_string(corpus_path()).expect("conformance corpus readable");
    let queries: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["expect"] == "valid")
        .filter_map(|v| v["soql"].as_str().map(str::to_string))
        .collect();
    let bytes: usize = queries.iter().map(String::len).sum();
    let budget = Duration::from_secs_f64(
        std::env::var("SONDE_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3.0),
    );

    let (rounds, elapsed) = measure(budget, || {
        for q in &queries {
            black_box(soql::parse(black_box(q)).expect("valid corpus case"));
        }
    });
    report("parse", queries.len(), bytes, rounds, elapsed);

    let parsed: Vec<soql::Query> = queries
        .iter()
        .map(|q| soql::parse(q).expect("valid"))
        .collect();
    let printed_bytes: usize = parsed.iter().map(|q| q.to_string().len()).sum();
    let (rounds, elapsed) = measure(budget, || {
        for q in &parsed {
            black_box(black_box(q).to_string());
        }
    });
    report("print", parsed.len(), printed_bytes, rounds, elapsed);
}
