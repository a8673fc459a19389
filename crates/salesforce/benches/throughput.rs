//! Throughput of the client against a local org (sfsim): single-record REST requests/s,
//! collection records/s, query rows/s through queryMore and through Bulk API 2.0, and the
//! client's peak memory while streaming. Prints figures; asserts nothing about time.
//!
//! The org runs in a child process (this same binary, started with `--org`) so that the RSS
//! figures are the client's alone: an in-process org holding a million records would drown
//! them. The writes (single-record REST and collections) also run in a child (`--load`), so
//! the streaming figures are not inflated by memory the allocator kept from building write
//! batches. `BENCH_ROWS` sets the row count (default 1,000,000).
//!
//! Run: `cargo bench -p salesforce --bench throughput`

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use salesforce::{
    AllowedHosts, BulkQueryOptions, CallKind, Connection, QueryOptions, Record, Secret, Tokens,
};
use serde_json::json;

const METADATA: &str = r#"
objects:
  - name: Row__c
    label: Row
    labelPlural: Rows
    nameFieldType: autonumber
    fields:
      - {name: N__c, type: number, precision: 10, scale: 0}
      - {name: Label__c, type: text, length: 80}
"#;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if args.iter().any(|a| a == "--org") {
        rt.block_on(serve_org());
    } else if args.iter().any(|a| a == "--load") {
        rt.block_on(load(connect_from_env(), rows()));
    } else {
        rt.block_on(bench());
    }
}

/// Child mode: start an org, print its ready line, serve until stdin closes.
async fn serve_org() {
    let org = sfsim::Org::builder()
        .metadata(sfsim::MetadataFile::parse(METADATA).expect("metadata"))
        .daily_api_limit(100_000_000)
        .session_lifetime(Duration::from_secs(24 * 3600))
        .start()
        .await
        .expect("sfsim starts");
    println!("{}", org.info());
    let _ = tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        while std::io::stdin()
            .read_line(&mut sink)
            .map(|n| n > 0)
            .unwrap_or(false)
        {}
    })
    .await;
    org.shutdown().await;
}

/// `(VmHWM, VmRSS)` in KiB.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Resets the peak-RSS mark so each phase reports its own peak (Linux `clear_refs` 5).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn rows() -> usize {
    std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// A connection to the org this bench started itself, on loopback: its host is allowed
/// explicitly (a client refuses hosts outside Salesforce's domains otherwise).
fn local_connection(access_token: &str, instance_url: &str) -> Connection {
    let host = url::Url::parse(instance_url)
        .ok()
        .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
        .expect("instance URL");
    Connection::builder(Tokens {
        access_token: Secret::new(access_token),
        refresh_token: None,
        instance_url: instance_url.to_string(),
    })
    .allowed_hosts(AllowedHosts::parse(&host).expect("host"))
    .build()
    .expect("connection")
}

fn connect_from_env() -> Connection {
    local_connection(
        &std::env::var("BENCH_TOKEN").unwrap_or_default(),
        &std::env::var("BENCH_INSTANCE").unwrap_or_default(),
    )
}

async fn bench() {
    let rows = rows();
    let exe = std::env::current_exe().expect("own path");
    let mut child = Command::new(&exe)
        .arg("--org")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the org process");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("ready line");
    let info: serde_json::Value = serde_json::from_str(&line).expect("ready JSON");
    let conn = local_connection(
        info["access_token"].as_str().unwrap_or_default(),
        info["instance_url"].as_str().unwrap_or_default(),
    );

    println!("salesforce client throughput against sfsim (separate process), {rows} rows");
    let (_, rss0) = memory();
    let status = Command::new(&exe)
        .arg("--load")
        .env(
            "BENCH_TOKEN",
            info["access_token"].as_str().unwrap_or_default(),
        )
        .env(
            "BENCH_INSTANCE",
            info["instance_url"].as_str().unwrap_or_default(),
        )
        .env("BENCH_ROWS", rows.to_string())
        .status()
        .expect("loader");
    assert!(status.success(), "loader failed");
    stream(&conn, rss0).await;
    drop(child.stdin.take());
    let _ = child.wait();
}

/// Writes: single-record REST, then collections up to `rows` records.
async fn load(conn: Connection, rows: usize) {
    // Single-record REST, one at a time and 8 in flight.
    let n = 2000;
    let t = Instant::now();
    for i in 0..n {
        conn.create("Row__c", &json!({"N__c": i, "Label__c": "single"}))
            .await
            .expect("create");
    }
    let seq = n as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let conn = conn.clone();
            tokio::spawn(async move {
                for i in 0..n / 8 {
                    conn.create(
                        "Row__c",
                        &json!({"N__c": w * 1000 + i, "Label__c": "single"}),
                    )
                    .await
                    .expect("create");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    let par = n as f64 / t.elapsed().as_secs_f64();
    println!(
        "single-record REST create: {seq:.0} req/s sequential, {par:.0} req/s with 8 in flight"
    );

    // Collections: a sequential batch, then the rest of the load with 4 writers.
    let loaded = 2 * n;
    let target = rows.max(loaded) - loaded;
    let seq_batch = target.min(20_000);
    let make = |from: usize, count: usize| -> Vec<serde_json::Value> {
        (from..from + count)
            .map(|i| json!({"N__c": i, "Label__c": format!("row {i}")}))
            .collect()
    };
    let calls_before = conn.budget().calls(CallKind::Collections);
    let t = Instant::now();
    let batch = make(0, seq_batch);
    let res = conn
        .create_many("Row__c", &batch, false)
        .await
        .expect("collections");
    assert!(res.iter().all(|r| r.success));
    let coll_seq = seq_batch as f64 / t.elapsed().as_secs_f64();
    let rest = target - seq_batch;
    let writers = 4;
    let per = rest.div_ceil(writers);
    let t = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let conn = conn.clone();
            let from = seq_batch + w * per;
            let count = per.min(rest.saturating_sub(w * per));
            tokio::spawn(async move {
                let mut done = 0;
                while done < count {
                    let chunk = (count - done).min(10_000);
                    let records: Vec<_> = (from + done..from + done + chunk)
                        .map(|i| json!({"N__c": i, "Label__c": format!("row {i}")}))
                        .collect();
                    let res = conn
                        .create_many("Row__c", &records, false)
                        .await
                        .expect("collections");
                    assert!(res.iter().all(|r| r.success));
                    done += chunk;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    let coll_par = rest as f64 / t.elapsed().as_secs_f64().max(1e-9);
    println!(
        "collections create: {coll_seq:.0} records/s sequential (200/call), {coll_par:.0} records/s with {writers} writers; {} calls for {} records",
        conn.budget().calls(CallKind::Collections) - calls_before,
        target
    );
}

/// Reads every row back through queryMore, then through Bulk 2.0.
async fn stream(conn: &Connection, rss0: u64) {
    println!("client RSS before streaming: {:.1} MiB", mib(rss0));
    let total = conn
        .count("SELECT COUNT() FROM Row__c")
        .await
        .expect("count");
    let soql = "SELECT Id, Name, N__c, Label__c FROM Row__c";

    // REST query through nextRecordsUrl.
    reset_peak();
    let calls_before = conn.budget().calls(CallKind::Query);
    let t = Instant::now();
    let mut stream = conn.query_with::<Record>(
        soql,
        QueryOptions {
            batch_size: Some(2000),
            ..Default::default()
        },
    );
    let mut seen = 0u64;
    let mut sum = 0f64;
    while let Some(r) = stream.next().await {
        let r = r.expect("row");
        seen += 1;
        sum += r["N__c"].as_f64().unwrap_or(0.0);
    }
    let secs = t.elapsed().as_secs_f64();
    let (hwm, _) = memory();
    println!(
        "query + queryMore: {seen} rows in {secs:.1} s = {:.0} rows/s, {} calls, client peak RSS {:.1} MiB (checksum {sum})",
        seen as f64 / secs,
        conn.budget().calls(CallKind::Query) - calls_before,
        mib(hwm)
    );
    assert_eq!(seen, total);

    // Bulk API 2.0.
    reset_peak();
    let calls_before = conn.budget().calls(CallKind::Bulk);
    let t = Instant::now();
    let mut stream = conn
        .bulk_query(
            soql,
            BulkQueryOptions {
                poll_initial: Duration::from_millis(50),
                poll_max: Duration::from_millis(500),
                ..Default::default()
            },
        )
        .await
        .expect("bulk job");
    let ready = t.elapsed().as_secs_f64();
    let mut seen = 0u64;
    let mut sum = 0f64;
    while let Some(r) = stream.next().await {
        let r = r.expect("row");
        seen += 1;
        sum += r
            .get("N__c")
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
    }
    let secs = t.elapsed().as_secs_f64();
    let (hwm, _) = memory();
    println!(
        "Bulk 2.0 query: {seen} rows in {secs:.1} s (job ready after {ready:.1} s) = {:.0} rows/s, {} calls, client peak RSS {:.1} MiB (checksum {sum})",
        seen as f64 / secs,
        conn.budget().calls(CallKind::Bulk) - calls_before,
        mib(hwm)
    );
    assert_eq!(seen, total);

    if let Some(u) = conn.budget().usage() {
        println!(
            "API usage reported by the org: {}/{}; this process's calls: {}",
            u.used,
            u.max,
            conn.budget().total_calls()
        );
    }
}
