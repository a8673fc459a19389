//! Benchmarks as programs that print figures (never timed assertions in tests).
//! `sonde bench responses` drives response submissions through HTTP against a server started
//! in this process, on SQLite (a fresh temporary data dir) or on the PostgreSQL URL given.
//! `sonde bench contacts` imports a large CSV file while responses keep arriving.
//! `sonde bench distributions` sends invitations to a local SMTP server and SMS gateway.
//! `sonde bench login` floods sign-ins while measuring `/healthz`.
//! `sonde bench triggers` posts Outbound Messages to a Salesforce-message workflow's endpoint.
//! `sonde bench inbound` pulls a million chat transcripts into a project, beside airbyte.
//! `sonde bench panel` opens the Salesforce panel on an Account with 10,000 responses.
//! `sonde bench builder` times the survey builder's changes, publishing and reading responses
//! over versions.
//! `sonde bench secrets` times a key rotation's re-sealing over 10,000 sealed values.
//! `sonde bench sanitize` and `sonde bench survey-memory` measure hostile and big surveys.

use anyhow::Context;
use clap::Subcommand;
use engine::{Config, Role, Sonde};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use survey::{Answer, QuestionKind, TextContent};

pub mod builder;
pub mod contacts;
pub mod distributions;
pub mod inbound;
pub mod login;
pub mod mapping;
pub mod panel;
pub mod secrets;
pub mod surveys;
pub mod triggers;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Responses mapped into Salesforce records: throughput and API calls per record under a
    /// backlog, and submission-to-record latency at a steady rate, against the built-in org.
    Mapping(mapping::MappingArgs),
    /// CSV contact import rows/s as the directory grows (at 30k and 200k contacts), with the
    /// latency of responses posted meanwhile.
    Contacts(contacts::ContactsArgs),
    /// `/healthz` latency while people sign in as fast as they can (password hashing load).
    Login(login::LoginArgs),
    /// The HTML sanitizer on an 80 KB hostile question text, and /healthz during four
    /// concurrent page views of a survey holding it.
    Sanitize(surveys::SanitizeArgs),
    /// Peak and kept RSS of four concurrent imports of a ~30 MiB `.qsf`, then four concurrent
    /// page views of it.
    SurveyMemory(surveys::SurveyMemoryArgs),
    /// Invitations rendered and accepted by a local SMTP server per second for lists up to
    /// 100,000 contacts, with the peak RSS of each (it must stay flat), and SMS per second to
    /// the local SMS gateway.
    Distributions(distributions::DistributionsArgs),
    /// Outbound Messages (100 notifications each, some posted twice) to a Salesforce-message
    /// workflow's endpoint: notifications recorded per second and the latency of each Ack.
    Triggers(triggers::TriggersArgs),
    /// An inbound job pulling 1,000,000 chat transcripts from the built-in org through a
    /// `sonde serve` child: rows/s, API calls, RSS as rows grow; airbyte-source-salesforce on
    /// the same rows; a kill -9 part-way and every row kept once.
    Inbound(inbound::InboundArgs),
    /// The Salesforce panel opened on an Account (its contacts' 10,000 responses) and on a
    /// Contact: signed request verified, user mapped, responses found, page rendered;
    /// loads/s, p50/p99 and Salesforce API calls per load.
    Panel(panel::PanelArgs),
    /// The survey builder's changes per second on surveys of 10, 100 and 400 questions, eight
    /// people on one survey, a publish, and the exports and dashboard over one and two versions.
    Builder(builder::BuilderArgs),
    /// Values re-sealed per second by a key rotation over 10,000 sealed values.
    Secrets(secrets::SecretsArgs),
    /// Response submissions per second and latency percentiles through HTTP.
    Responses {
        /// Total submissions.
        #[arg(long, default_value_t = 5000)]
        requests: usize,
        /// Concurrent clients.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Benchmark on this PostgreSQL URL (default: SQLite in a temporary directory).
        #[arg(long, env = "SONDE_BENCH_POSTGRES_URL")]
        postgres: Option<String>,
    },
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Mapping(args) => mapping::run(args).await,
        BenchCommand::Contacts(args) => contacts::run(args).await,
        BenchCommand::Login(args) => login::run(args).await,
        BenchCommand::Distributions(args) => distributions::run(args).await,
        BenchCommand::Triggers(args) => triggers::run(args).await,
        BenchCommand::Inbound(args) => inbound::run(args).await,
        BenchCommand::Panel(args) => panel::run(args).await,
        BenchCommand::Builder(args) => builder::run(args).await,
        BenchCommand::Secrets(args) => secrets::run(args).await,
        BenchCommand::Sanitize(args) => surveys::sanitize(args).await,
        BenchCommand::SurveyMemory(args) => surveys::survey_memory(args).await,
        BenchCommand::Responses {
            requests,
            concurrency,
            postgres,
        } => responses(requests, concurrency, postgres).await,
    }
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// A server on a loopback port over a fresh database, with one organization, an admin, their
/// API token and the sample survey.
pub(crate) struct BenchServer {
    pub backend: &'static str,
    pub base: String,
    pub store: store::Store,
    pub sonde: Sonde,
    pub admin: engine::Actor,
    pub token: String,
    pub survey_id: String,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    tmp: Option<std::path::PathBuf>,
}

impl BenchServer {
    pub async fn start(postgres: Option<&str>) -> anyhow::Result<Self> {
        let (store, backend, tmp) = match postgres {
            Some(url) => (
                store::Store::connect_fresh_schema(url, "bench").await?.0,
                "PostgreSQL",
                None,
            ),
            None => {
                let tmp = std::env::temp_dir()
                    .join(format!("sonde-bench-{}", store::ids::random_token(8)));
                (
                    store::Store::open_data_dir(&tmp).await?,
                    "SQLite",
                    Some(tmp),
                )
            }
        };
        store.migrate().await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        // A fresh instance key: personal and opt-out links are signed with it.
        let sonde = Sonde::with_secrets(
            store.clone(),
            Config {
                public_url: base.clone(),
            },
            Some(engine::secrets::SecretBox::from_key(&rand::random::<
                [u8; 32],
            >())),
        )
        .await?;
        let org = store.create_organization("Bench").await?;
        let email = format!(
            "bench-{}@example.com",
            store::ids::random_token(6).to_lowercase()
        );
        let admin = sonde
            .add_user(Some(&org.id), &email, Role::Admin, "bench-password")
            .await?;
        let token = sonde.create_api_token(&email, "bench").await?;
        let definition = serde_json::to_string(&survey::sample::sample_definition())?;
        let survey_id = sonde.create_survey(&admin, &definition).await?.survey.id;
        let app = web::app(web::AppState::new(sonde.clone()));
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self {
            backend,
            base,
            store,
            sonde,
            admin,
            token,
            survey_id,
            server,
            tmp,
        })
    }

    pub fn responses_url(&self) -> String {
        format!("{}/api/v1/surveys/{}/responses", self.base, self.survey_id)
    }

    pub async fn stop(self) {
        self.server.abort();
        self.store.close().await;
        if let Some(tmp) = &self.tmp {
            let _ = std::fs::remove_dir_all(tmp);
        }
    }
}

async fn responses(
    requests: usize,
    concurrency: usize,
    postgres: Option<String>,
) -> anyhow::Result<()> {
    let bench = BenchServer::start(postgres.as_deref()).await?;
    let backend = bench.backend;
    let token = bench.token.clone();
    let body = sample_response_body();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let url = bench.responses_url();
    // Warm up connections and caches so the figures describe steady state.
    for _ in 0..20 {
        post(&client, &url, &token, &body).await?;
    }
    let started = Instant::now();
    let per_worker = requests.div_ceil(concurrency);
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, url, token, body) = (client.clone(), url.clone(), token.clone(), body.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_worker);
            for _ in 0..per_worker {
                let t = Instant::now();
                post(&client, &url, &token, &body).await?;
                latencies.push(t.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for w in workers {
        latencies.extend(w.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let n = latencies.len();
    println!("bench responses · {backend} · {n} submissions · {concurrency} concurrent clients");
    println!(
        "  throughput: {:.0} responses/s",
        n as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  latency:    p50 {:.2} ms · p99 {:.2} ms · max {:.2} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0
    );
    if let Some(rss) = peak_rss_kib() {
        println!(
            "  peak RSS:   {:.1} MiB (server and client in one process)",
            rss as f64 / 1024.0
        );
    }
    bench.stop().await;
    Ok(())
}

pub(crate) async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: &str,
) -> anyhow::Result<()> {
    let r = client
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .context("sending a response")?;
    if r.status() != reqwest::StatusCode::CREATED {
        anyhow::bail!(
            "unexpected status {}: {}",
            r.status(),
            r.text().await.unwrap_or_default()
        );
    }
    Ok(())
}

/// A finished response to the sample survey answering every question on its path.
pub fn sample_response_body() -> String {
    let def = survey::sample::sample_definition();
    serde_json::json!({
        "answers": complete_answers(&def),
        "embeddedData": {"ContactId": "0035g00000BenchAAA", "OptOut": "False"},
        "finished": true,
    })
    .to_string()
}

/// A valid answer to every answerable question of a definition: the first choice, a
/// promoter score, text that fits the content type, the middle of each slider.
pub fn complete_answers(def: &survey::SurveyDefinition) -> BTreeMap<String, Answer> {
    let mut answers = BTreeMap::new();
    for q in &def.questions {
        let answer = match &q.kind {
            QuestionKind::MultipleChoice { choices, .. } => {
                let Some(first) = choices.iter().find(|c| !c.text_entry).or(choices.first()) else {
                    continue;
                };
                let mut text = BTreeMap::new();
                if first.text_entry {
                    text.insert(first.id.clone(), "other".to_string());
                }
                Answer::Choices {
                    selected: vec![first.id.clone()],
                    text,
                }
            }
            QuestionKind::Nps { .. } => Answer::Number(9.0),
            QuestionKind::TextEntry { content, .. } => match content {
                TextContent::Email => Answer::Text("respondent@example.com".into()),
                TextContent::Number => Answer::Text("42".into()),
                TextContent::Any => Answer::Text("Quick and friendly service.".into()),
            },
            QuestionKind::Matrix { statements, scale } => Answer::Matrix {
                rows: statements
                    .iter()
                    .filter_map(|s| scale.last().map(|c| (s.id.clone(), c.id.clone())))
                    .collect(),
            },
            QuestionKind::Slider {
                min,
                max,
                step,
                statements,
            } => {
                let steps = ((max - min) / step / 2.0).floor();
                Answer::Slider {
                    values: statements
                        .iter()
                        .map(|s| (s.id.clone(), min + steps * step))
                        .collect(),
                }
            }
            QuestionKind::Timing { .. } => Answer::Timing { page_seconds: 3.0 },
            QuestionKind::Descriptive | QuestionKind::Unsupported { .. } => continue,
        };
        answers.insert(q.id.clone(), answer);
    }
    answers
}

pub(crate) fn peak_rss_kib() -> Option<u64> {
    proc_status_kib(None, "VmHWM")
}

/// A `kB` line of `/proc/{pid}/status` (this process when `None`): `VmRSS`, `VmHWM`.
pub(crate) fn proc_status_kib(pid: Option<u32>, key: &str) -> Option<u64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".into(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
