//! `sonde bench inbound`: an inbound job pulls a large LiveChatTranscript load from the built-in
//! org (in this process) into a project with redaction on, through a real `sonde serve` child
//! process: rows/s, Salesforce API calls, the server's RSS as rows grow (it must stay flat) and
//! its peak. Then airbyte-source-salesforce 2.10.3 reads the same rows from the same org, for
//! comparison; then a second pull is killed with SIGKILL part-way and restarted, and the project
//! must hold every row exactly once.

use super::mapping::link_org_via_oauth;
use super::proc_status_kib;
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct InboundArgs {
    /// Chat transcripts generated in the org (the demo's own 30 come on top).
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    /// Benchmark on this PostgreSQL URL (default: SQLite in a temporary directory).
    #[arg(long, env = "SONDE_BENCH_POSTGRES_URL")]
    pub postgres: Option<String>,
    /// Python of a virtualenv holding airbyte-source-salesforce 2.10.3 (default: the one
    /// `scripts/sfsim-conformance.sh` makes); the comparison is skipped when it is missing.
    #[arg(long)]
    pub airbyte_python: Option<PathBuf>,
    /// The connector's entry point with its login host pointed at a local org.
    #[arg(long, default_value = "conformance/sfsim/airbyte/source.py")]
    pub airbyte_source: PathBuf,
    /// Share of the second pull at which the server is killed with SIGKILL (0: no kill pass).
    #[arg(long, default_value_t = 0.4)]
    pub kill_at: f64,
}

/// A `sonde serve` child process, killed when dropped.
struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How to run `sonde` on the benchmark's database.
struct Node {
    exe: PathBuf,
    dir: PathBuf,
    database_url: Option<String>,
    port: u16,
}

impl Node {
    fn command(&self) -> Command {
        let mut c = Command::new(&self.exe);
        c.arg("--data-dir").arg(&self.dir).env("RUST_LOG", "warn");
        if let Some(url) = &self.database_url {
            c.env("SONDE_DATABASE_URL", url);
        }
        c
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// An admin made with the CLI, and their API token.
    fn admin_token(&self) -> anyhow::Result<String> {
        let mut add = self
            .command()
            .args(["users", "add", "bench@example.com", "--role", "admin"])
            .arg("--password-stdin")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        add.stdin
            .take()
            .context("stdin")?
            .write_all(b"a long bench password\n")?;
        if !add.wait()?.success() {
            bail!("sonde users add failed");
        }
        let out = self
            .command()
            .args(["tokens", "create", "bench@example.com"])
            .output()?;
        Ok(String::from_utf8(out.stdout)?.trim().to_string())
    }

    async fn serve(&self, org: &sfsim::RunningOrg) -> anyhow::Result<Server> {
        let server = Server {
            child: self
                .command()
                .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
                .env("SONDE_PUBLIC_URL", self.base())
                .env("SONDE_SALESFORCE_CLIENT_ID", org.client_id())
                .env("SONDE_SALESFORCE_CLIENT_SECRET", org.client_secret())
                .env("SONDE_SALESFORCE_ALLOWED_HOSTS", org.host())
                .spawn()?,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while reqwest::get(format!("{}/healthz", self.base()))
            .await
            .is_err()
        {
            if Instant::now() > deadline {
                bail!("sonde serve did not come up");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(server)
    }
}

/// Talks to the server's inbound API with the admin's token.
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let r = self
            .http
            .post(format!("{}/api/v1/discover/{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let ok = r.status().is_success();
        let v: Value = r.json().await?;
        if !ok {
            bail!("POST {path}: {v}");
        }
        Ok(v)
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self
            .http
            .get(format!("{}/api/v1/discover/{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?
            .json()
            .await?)
    }

    /// A project and a chat job on every transcript, redaction on; the job's id.
    async fn chat_job(&self, connection: &str, name: &str) -> anyhow::Result<(String, String)> {
        let project = self.post("projects", json!({"name": name})).await?;
        let project = project["id"].as_str().context("project id")?.to_string();
        let job = self
            .post(
                "jobs",
                json!({"name": name, "projectId": project, "connectionId": connection,
                       "dataType": "chat", "participants": "auto",
                       "soql": "SELECT Id, Body, Status, ChatKey, Browser FROM LiveChatTranscript",
                       "mappings": {"status": "Status", "browser": "Browser"},
                       "redact": ["card", "iban", "email", "phone", "ssn"]}),
            )
            .await?;
        Ok((project, job["id"].as_str().context("job id")?.to_string()))
    }

    async fn documents(&self, project: &str) -> anyhow::Result<u64> {
        let all = self.get("projects").await?;
        all["projects"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["id"] == project))
            .and_then(|p| p["documents"].as_u64())
            .context("project not listed")
    }
}

pub async fn run(args: InboundArgs) -> anyhow::Result<()> {
    let org = sfsim::Org::builder()
        .seed(sfsim::Seed::Demo)
        .daily_api_limit(100_000_000)
        .start()
        .await?;
    let total = args.rows as u64 + 30;
    println!(
        "generating {} chat transcripts in the built-in org…",
        args.rows
    );
    let started = Instant::now();
    generate(&org, args.rows).await?;
    println!(
        "  {} transcripts in {:.1} s",
        total,
        started.elapsed().as_secs_f64()
    );

    let dir = std::env::temp_dir().join(format!("sonde-bench-{}", store::ids::random_token(8)));
    std::fs::create_dir_all(&dir)?;
    let database_url = match &args.postgres {
        Some(url) => Some(store::Store::connect_fresh_schema(url, "bench").await?.1),
        None => None,
    };
    let node = Node {
        exe: std::env::current_exe()?,
        dir: dir.clone(),
        database_url,
        port: free_port()?,
    };
    let outcome = bench(&args, &org, &node, total).await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

async fn bench(
    args: &InboundArgs,
    org: &sfsim::RunningOrg,
    node: &Node,
    total: u64,
) -> anyhow::Result<()> {
    // Migrations run once, before any timing.
    let status = node.command().arg("migrate").status()?;
    if !status.success() {
        bail!("sonde migrate failed");
    }
    let token = node.admin_token()?;
    let mut server = node.serve(org).await?;
    let api = Api {
        http: reqwest::Client::new(),
        base: node.base(),
        token: token.clone(),
    };
    let connection = link_org_via_oauth(
        &node.base(),
        &token,
        org.login_url(),
        &org.username(),
        org.password(),
    )
    .await?;
    let backend = if node.database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };

    // 1. Sonde.
    println!("\nSonde ({backend}): one run of a chat job, redaction on (5 detectors)");
    let (project, job) = api.chat_job(&connection, "Chats").await?;
    let calls_before: u64 = org.calls().values().sum();
    let pid = server.child.id();
    let rss_start = proc_status_kib(Some(pid), "VmRSS").unwrap_or(0);
    let t = Instant::now();
    let run = api.post(&format!("jobs/{job}/runs"), json!({})).await?;
    let run_id = run["id"].as_str().context("run id")?.to_string();
    let mut marks = Vec::new();
    let mut next_mark = total / 10;
    let done = loop {
        let r = api.get(&format!("runs/{run_id}")).await?;
        let read = r["rowsRead"].as_u64().unwrap_or(0);
        if read >= next_mark && next_mark <= total {
            let rss = proc_status_kib(Some(pid), "VmRSS").unwrap_or(0);
            marks.push((read, t.elapsed(), rss));
            next_mark += total / 10;
        }
        if matches!(
            r["status"].as_str(),
            Some("succeeded" | "failed" | "cancelled")
        ) {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let secs = t.elapsed().as_secs_f64();
    if done["status"] != "succeeded" {
        bail!("the run ended {}: {done}", done["status"]);
    }
    let peak = proc_status_kib(Some(pid), "VmHWM").unwrap_or(0);
    let org_calls: u64 = org.calls().values().sum::<u64>() - calls_before;
    let rows = done["rowsRead"].as_u64().unwrap_or(0);
    let sonde_rate = rows as f64 / secs;
    println!(
        "  {rows} rows → {} documents in {secs:.1} s: {sonde_rate:.0} rows/s ({})",
        done["documentsCreated"], done["transport"]
    );
    println!(
        "  redactions {}, warnings {}, Salesforce API calls {} (the org counted {org_calls}): {:.6} per row",
        done["redactions"],
        done["warnings"].as_array().map_or(0, Vec::len),
        done["apiCalls"],
        done["apiCalls"].as_u64().unwrap_or(0) as f64 / rows.max(1) as f64
    );
    println!("  server RSS as rows grow (it must stay flat):");
    println!("  | rows read | elapsed | RSS |");
    println!("  |---:|---:|---:|");
    println!("  | 0 | 0.0 s | {:.1} MiB |", mib(rss_start));
    for (read, at, rss) in &marks {
        println!(
            "  | {read} | {:.1} s | {:.1} MiB |",
            at.as_secs_f64(),
            mib(*rss)
        );
    }
    println!("  peak RSS of the server: {:.1} MiB", mib(peak));
    let kept = api.documents(&project).await?;
    if kept != total {
        bail!("the project holds {kept} documents, not {total}");
    }

    // 2. airbyte-source-salesforce on the same rows from the same org.
    let python = args.airbyte_python.clone().or_else(|| {
        std::env::var_os("HOME")
            .map(|h| Path::new(&h).join(".cache/sonde/airbyte-salesforce-2.10.3/bin/python"))
    });
    match python.filter(|p| p.exists() && args.airbyte_source.exists()) {
        Some(python) => {
            println!("\nairbyte-source-salesforce 2.10.3: full refresh of LiveChatTranscript (Bulk API 2.0)");
            let calls_before: u64 = org.calls().values().sum();
            let (read, secs, peak) = airbyte_read(&python, &args.airbyte_source, org).await?;
            let calls: u64 = org.calls().values().sum::<u64>() - calls_before;
            let rate = read as f64 / secs;
            println!(
                "  {read} records in {secs:.1} s: {rate:.0} rows/s, {calls} API calls, peak RSS {:.1} MiB",
                mib(peak)
            );
            println!(
                "  Sonde read, parsed into turns, redacted and stored {:.1}× the rows/s airbyte only read",
                sonde_rate / rate
            );
        }
        None => println!(
            "\nairbyte-source-salesforce not found (scripts/sfsim-conformance.sh installs it): comparison skipped"
        ),
    }

    // 3. kill -9 part-way through a second pull, then a restart.
    if args.kill_at > 0.0 {
        println!(
            "\nkill -9 at {:.0}% of a second pull, then a restart",
            args.kill_at * 100.0
        );
        let (project, job) = api.chat_job(&connection, "Chats again").await?;
        let run = api.post(&format!("jobs/{job}/runs"), json!({})).await?;
        let run_id = run["id"].as_str().context("run id")?.to_string();
        let at = (total as f64 * args.kill_at) as u64;
        let kept_at_kill = loop {
            let r = api.get(&format!("runs/{run_id}")).await?;
            let kept = r["documentsCreated"].as_u64().unwrap_or(0);
            if kept >= at {
                break kept;
            }
            if r["status"] != "running" && r["status"] != "queued" {
                bail!("the run ended before the kill: {r}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        server.child.kill()?; // SIGKILL
        server.child.wait()?;
        drop(server);
        let t = Instant::now();
        let _restarted = node.serve(org).await?;
        let done = loop {
            let r = api.get(&format!("runs/{run_id}")).await?;
            if matches!(
                r["status"].as_str(),
                Some("succeeded" | "failed" | "cancelled")
            ) {
                break r;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        let kept = api.documents(&project).await?;
        println!(
            "  killed with at least {kept_at_kill} documents kept; restarted, the run {} {:.1} s later (the dead node's lease is 30 s)",
            done["status"],
            t.elapsed().as_secs_f64()
        );
        println!(
            "  documents created {}, duplicates {}, unchanged {}; the project holds {kept} of {total}: {}",
            done["documentsCreated"],
            done["duplicatesSkipped"],
            done["unchanged"],
            if kept == total && done["documentsCreated"] == total {
                "every row once"
            } else {
                "ROWS LOST OR DOUBLED"
            }
        );
        if kept != total {
            bail!("the project holds {kept} documents, not {total}");
        }
    }
    Ok(())
}

/// Appends `rows` chat transcripts, 20 created in each second, in slices of 100,000.
async fn generate(org: &sfsim::RunningOrg, rows: usize) -> anyhow::Result<()> {
    const SLICE: usize = 100_000;
    const PER_SECOND: usize = 20;
    let http = reqwest::Client::new();
    let start = org.now_ms() - (rows / PER_SECOND) as i64 * 1000 - 1000;
    let mut made = 0;
    while made < rows {
        let n = SLICE.min(rows - made);
        let from = start + (made / PER_SECOND) as i64 * 1000;
        let from = sfsim::val::format_datetime(from);
        let r = http
            .post(format!("{}/_sim/generate", org.base_url()))
            .json(&json!({"object": "LiveChatTranscript", "count": n, "from": from, "perSecond": PER_SECOND}))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("generate: {}", r.text().await?);
        }
        made += n;
        print!("\r  {made} of {rows}");
        std::io::stdout().flush()?;
    }
    println!();
    Ok(())
}

/// Runs the connector's discover then a full-refresh read of LiveChatTranscript; the records
/// it emitted, the seconds the read took and its peak RSS (sampled).
async fn airbyte_read(
    python: &Path,
    source: &Path,
    org: &sfsim::RunningOrg,
) -> anyhow::Result<(u64, f64, u64)> {
    let work = std::env::temp_dir().join(format!("sonde-airbyte-{}", store::ids::random_token(8)));
    std::fs::create_dir_all(&work)?;
    let config = work.join("config.json");
    std::fs::write(
        &config,
        serde_json::to_vec(&json!({
            "client_id": org.client_id(), "client_secret": org.client_secret(),
            "refresh_token": org.refresh_token(), "is_sandbox": false,
        }))?,
    )?;
    let connector = |args: &[&str]| {
        let mut c = Command::new(python);
        c.arg(source)
            .args(args)
            .env("SFSIM_LOGIN_URL", org.login_url())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        c
    };
    let out = connector(&["discover", "--config", &config.to_string_lossy()]).output()?;
    let catalog = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|m| m["type"] == "CATALOG")
        .context("the connector's discover gave no catalog")?;
    let stream = catalog["catalog"]["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "LiveChatTranscript"))
        .context("no LiveChatTranscript stream")?
        .clone();
    let catalog_path = work.join("catalog.json");
    std::fs::write(
        &catalog_path,
        serde_json::to_vec(
            &json!({"streams": [{"stream": stream, "sync_mode": "full_refresh",
            "destination_sync_mode": "overwrite"}]}),
        )?,
    )?;
    let t = Instant::now();
    let mut child = connector(&[
        "read",
        "--config",
        &config.to_string_lossy(),
        "--catalog",
        &catalog_path.to_string_lossy(),
    ])
    .spawn()?;
    let pid = child.id();
    let stdout = child.stdout.take().context("stdout")?;
    let sampler = tokio::spawn(async move {
        let mut peak = 0;
        while let Some(kib) = proc_status_kib(Some(pid), "VmRSS") {
            peak = peak.max(kib);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        peak
    });
    let counted = tokio::task::spawn_blocking(move || {
        let mut records = 0u64;
        let mut errors = Vec::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.starts_with("{\"type\": \"RECORD\"") || line.starts_with("{\"type\":\"RECORD\"")
            {
                records += 1;
            } else if line.contains("\"ERROR\"") {
                errors.push(line.chars().take(300).collect::<String>());
            }
        }
        (records, errors)
    })
    .await?;
    let status = child.wait()?;
    let secs = t.elapsed().as_secs_f64();
    let peak = sampler.await.unwrap_or(0);
    let _ = std::fs::remove_dir_all(&work);
    let (records, errors) = counted;
    if !status.success() || !errors.is_empty() {
        bail!("the connector failed ({status}): {errors:?}");
    }
    Ok((records, secs, peak))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
