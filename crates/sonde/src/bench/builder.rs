//! `sonde bench builder`: the survey builder's changes and what versions cost. A change
//! (`POST /api/v1/surveys/{id}/edits`, a choice renamed) as one person makes them, on surveys
//! of 10, 100 and 400 questions: changes per second and latency percentiles; eight people
//! changing one survey at once (each change applied over the version it was made on); a
//! publish; and the CSV export, the JSON listing and the dashboard of `--responses` responses
//! answered under one version, then split over two (each read with its own version's labels).

use super::{percentile, BenchServer};
use engine::responses::NewResponse;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct BuilderArgs {
    /// Changes timed per survey size.
    #[arg(long, default_value_t = 200)]
    changes: usize,
    /// Responses exported, once under one version and once over two.
    #[arg(long, default_value_t = 20_000)]
    responses: usize,
    /// Benchmark on this PostgreSQL URL (default: SQLite in a temporary directory).
    #[arg(long, env = "SONDE_BENCH_POSTGRES_URL")]
    postgres: Option<String>,
}

/// A survey of `n` single-answer questions of three choices, ten to a block.
fn survey_of(n: usize) -> Value {
    let questions: Vec<Value> = (1..=n)
        .map(|i| {
            json!({"id": format!("QID{i}"), "export_tag": format!("Q{i}"), "type": "multiple_choice",
                   "text": format!("Question {i}?"),
                   "choices": [{"id": "1", "text": "Yes"}, {"id": "2", "text": "No"}, {"id": "3", "text": "Maybe"}]})
        })
        .collect();
    let blocks: Vec<Value> = (0..n.div_ceil(10))
        .map(|b| {
            json!({"id": format!("BL_{}", b + 1), "elements": (b * 10 + 1..=(b * 10 + 10).min(n))
                .map(|i| json!({"type": "question", "id": format!("QID{i}")})).collect::<Vec<_>>()})
        })
        .collect();
    json!({"name": format!("{n} questions"), "blocks": blocks, "questions": questions})
}

fn rename(question: &str, label: &str) -> Value {
    json!({"op": "replace_question", "question_id": question, "question": {
        "id": question, "export_tag": "", "type": "multiple_choice", "text": "Renamed?",
        "choices": [{"id": "1", "text": label}, {"id": "2", "text": "No"}, {"id": "3", "text": "Maybe"}]}})
}

fn summary(label: &str, mut times: Vec<Duration>, wall: Duration) {
    times.sort();
    println!(
        "{label:<44} {:>8.1}/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
        times.len() as f64 / wall.as_secs_f64(),
        percentile(&times, 0.50).as_secs_f64() * 1000.0,
        percentile(&times, 0.99).as_secs_f64() * 1000.0,
    );
}

pub async fn run(args: BuilderArgs) -> anyhow::Result<()> {
    let bench = BenchServer::start(args.postgres.as_deref()).await?;
    println!(
        "sonde bench builder — {} — {} changes per size, {} responses",
        bench.backend, args.changes, args.responses
    );
    let http = reqwest::Client::new();
    let create = |def: Value| {
        let http = http.clone();
        let url = format!("{}/api/v1/surveys", bench.base);
        let token = bench.token.clone();
        async move {
            let r: Value = http
                .post(url)
                .bearer_auth(token)
                .json(&def)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            anyhow::Ok(r["id"].as_str().unwrap_or_default().to_string())
        }
    };
    let edit_url = |id: &str| format!("{}/api/v1/surveys/{id}/edits", bench.base);

    // One person changing a survey, on surveys of growing size.
    for n in [10, 100, 400] {
        let id = create(survey_of(n)).await?;
        let mut times = Vec::with_capacity(args.changes);
        let started = Instant::now();
        for i in 0..args.changes {
            let t = Instant::now();
            http.post(edit_url(&id))
                .bearer_auth(&bench.token)
                .json(&rename(&format!("QID{}", i % n + 1), &format!("Yes {i}")))
                .send()
                .await?
                .error_for_status()?;
            times.push(t.elapsed());
        }
        summary(
            &format!("change, {n}-question survey"),
            times,
            started.elapsed(),
        );
    }

    // Eight people at once on one survey: none of their changes lost.
    let id = create(survey_of(100)).await?;
    let started = Instant::now();
    let per = args.changes / 8;
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let http = http.clone();
            let url = edit_url(&id);
            let token = bench.token.clone();
            tokio::spawn(async move {
                let mut times = Vec::new();
                for i in 0..per {
                    let t = Instant::now();
                    http.post(&url)
                        .bearer_auth(&token)
                        .json(&rename(&format!("QID{}", w * 10 + i % 10 + 1), "Yes"))
                        .send()
                        .await?
                        .error_for_status()?;
                    times.push(t.elapsed());
                }
                anyhow::Ok(times)
            })
        })
        .collect();
    let mut times = Vec::new();
    for t in tasks {
        times.extend(t.await??);
    }
    summary(
        "change, 8 people on one 100-question survey",
        times,
        started.elapsed(),
    );
    let t = Instant::now();
    http.post(format!("{}/api/v1/surveys/{id}/publish", bench.base))
        .bearer_auth(&bench.token)
        .send()
        .await?
        .error_for_status()?;
    println!(
        "{:<44} {:>8.2} ms",
        "publish (100 questions, no workflows)",
        t.elapsed().as_secs_f64() * 1000.0
    );

    // Reading responses: all under one version, then half under a second.
    let id = create(survey_of(10)).await?;
    let answers = |choice: &str| NewResponse {
        answers: (1..=10)
            .map(|i| {
                (
                    format!("QID{i}"),
                    survey::Answer::Choices {
                        selected: vec![choice.to_string()],
                        text: Default::default(),
                    },
                )
            })
            .collect(),
        embedded_data: Default::default(),
        finished: true,
    };
    let add = |count: usize, choice: &'static str| {
        let sonde = bench.sonde.clone();
        let admin = bench.admin.clone();
        let id = id.clone();
        let input = answers(choice);
        async move {
            let per = count / 4;
            let tasks: Vec<_> = (0..4)
                .map(|_| {
                    let (sonde, admin, id, input) =
                        (sonde.clone(), admin.clone(), id.clone(), input.clone());
                    tokio::spawn(async move {
                        for _ in 0..per {
                            sonde.create_response(&admin, &id, input.clone()).await?;
                        }
                        anyhow::Ok(())
                    })
                })
                .collect();
            for t in tasks {
                t.await??;
            }
            anyhow::Ok(())
        }
    };
    add(args.responses, "1").await?;
    read_all(&bench, &http, &id, "one version").await?;
    // v2 deletes choice 3 and renames choice 1; half the responses are then answered under it.
    for q in 1..=10 {
        http.post(edit_url(&id))
            .bearer_auth(&bench.token)
            .json(
                &json!({"op": "replace_question", "question_id": format!("QID{q}"), "question": {
                "id": format!("QID{q}"), "export_tag": format!("Q{q}"), "type": "multiple_choice",
                "text": format!("Question {q}?"),
                "choices": [{"id": "1", "text": "Yes, indeed"}, {"id": "2", "text": "No"}]}}),
            )
            .send()
            .await?
            .error_for_status()?;
    }
    http.post(format!("{}/api/v1/surveys/{id}/publish", bench.base))
        .bearer_auth(&bench.token)
        .send()
        .await?
        .error_for_status()?;
    add(args.responses / 2, "1").await?;
    read_all(&bench, &http, &id, "two versions").await?;
    bench.stop().await;
    Ok(())
}

/// The CSV export, every page of the JSON listing and the dashboard: rows per second.
async fn read_all(
    bench: &BenchServer,
    http: &reqwest::Client,
    id: &str,
    label: &str,
) -> anyhow::Result<()> {
    let base = format!("{}/api/v1/surveys/{id}/responses", bench.base);
    let t = Instant::now();
    let csv = http
        .get(format!("{base}?format=csv"))
        .bearer_auth(&bench.token)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let rows = csv.lines().count().saturating_sub(2);
    let took = t.elapsed();
    println!(
        "CSV export, {label:<14} {rows:>7} responses {:>10.0} rows/s ({:.2} s)",
        rows as f64 / took.as_secs_f64(),
        took.as_secs_f64()
    );
    let t = Instant::now();
    let mut listed = 0usize;
    let mut after: Option<String> = None;
    loop {
        let url = match &after {
            Some(a) => format!("{base}?limit=1000&after={a}"),
            None => format!("{base}?limit=1000"),
        };
        let page: Value = http
            .get(url)
            .bearer_auth(&bench.token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        listed += page["responses"].as_array().map_or(0, Vec::len);
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_string()),
            None => break,
        }
    }
    let took = t.elapsed();
    println!(
        "JSON listing, {label:<12} {listed:>7} responses {:>10.0} rows/s ({:.2} s)",
        listed as f64 / took.as_secs_f64(),
        took.as_secs_f64()
    );
    let t = Instant::now();
    http.get(format!(
        "{}/api/v1/surveys/{id}/dashboard?since=2000-01-01",
        bench.base
    ))
    .bearer_auth(&bench.token)
    .send()
    .await?
    .error_for_status()?;
    let took = t.elapsed();
    println!(
        "dashboard, {label:<15} {listed:>7} responses {:>10.0} rows/s ({:.2} s)",
        listed as f64 / took.as_secs_f64(),
        took.as_secs_f64()
    );
    Ok(())
}
