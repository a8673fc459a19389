//! `sonde bench sanitize` and `sonde bench survey-memory`: what big or hostile surveys cost.
//! The first times the HTML sanitizer on the text an anonymous visitor can make every page
//! view sanitize, and `/healthz` while four such views run; the second imports a ~30 MiB `.qsf`
//! four times at once and opens it four times at once, printing peak and kept RSS.

use super::{peak_rss_kib, BenchServer};
use anyhow::Context;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct SanitizeArgs {
    /// Times each size is sanitized; the fastest run is printed.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
}

#[derive(clap::Args, Debug)]
pub struct SurveyMemoryArgs {
    /// Size of the generated `.qsf` file in MiB.
    #[arg(long, default_value_t = 30)]
    pub mib: usize,
    /// Concurrent imports, then concurrent page views.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Benchmark on this PostgreSQL URL (default: SQLite in a temporary directory).
    #[arg(long, env = "SONDE_BENCH_POSTGRES_URL")]
    pub postgres: Option<String>,
}

/// The hostile question text of issue #8: `"<a b"` repeated, 4 bytes each (20,000 → 80 KB).
pub fn unclosed_tags(repeats: usize) -> String {
    "<a b".repeat(repeats)
}

/// A native definition with one page whose question text is `text`.
pub fn one_question_survey(text: &str) -> String {
    serde_json::json!({
        "name": "Big text",
        "blocks": [{"id": "BL_1", "elements": [{"type": "question", "id": "QID1"}]}],
        "questions": [{
            "id": "QID1", "export_tag": "Q1", "text": text,
            "type": "text_entry"
        }]
    })
    .to_string()
}

pub async fn sanitize(args: SanitizeArgs) -> anyhow::Result<()> {
    println!("bench sanitize · question text \"<a b\" repeated");
    let mut fastest = Vec::new();
    for repeats in [2_000, 20_000] {
        let text = unclosed_tags(repeats);
        let mut best = Duration::MAX;
        for _ in 0..args.runs.max(1) {
            let t = Instant::now();
            std::hint::black_box(survey::html::sanitize(std::hint::black_box(&text)));
            best = best.min(t.elapsed());
        }
        println!(
            "  {:>6} bytes: {:>10.3} ms",
            text.len(),
            best.as_secs_f64() * 1000.0
        );
        fastest.push(best);
    }
    println!(
        "  80 KB / 8 KB: {:.1}x (linear is about 10x, quadratic about 100x)",
        fastest[1].as_secs_f64() / fastest[0].as_secs_f64().max(1e-9)
    );

    // Four anonymous visitors open a survey holding that text while a load balancer asks
    // /healthz every 100 ms.
    let bench = BenchServer::start(None).await?;
    let survey_id = bench
        .sonde
        .create_survey(&bench.admin, &one_question_survey(&unclosed_tags(20_000)))
        .await?
        .survey
        .id;
    let client = reqwest::Client::new();
    let views_done = Arc::new(AtomicBool::new(false));
    let health = {
        let (client, url, done) = (
            client.clone(),
            format!("{}/healthz", bench.base),
            views_done.clone(),
        );
        tokio::spawn(async move {
            let mut worst = Duration::ZERO;
            while !done.load(Ordering::Relaxed) {
                let t = Instant::now();
                let _ = client.get(&url).send().await;
                worst = worst.max(t.elapsed());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            worst
        })
    };
    let started = Instant::now();
    let views: Vec<_> = (0..4)
        .map(|_| {
            let url = format!("{}/s/{survey_id}", bench.base);
            tokio::spawn(async move {
                let t = Instant::now();
                let status = reqwest::get(&url).await?.status();
                anyhow::ensure!(status.is_success(), "page view answered {status}");
                anyhow::Ok(t.elapsed())
            })
        })
        .collect();
    let mut slowest = Duration::ZERO;
    for v in views {
        slowest = slowest.max(v.await??);
    }
    let all = started.elapsed();
    views_done.store(true, Ordering::Relaxed);
    let worst_health = health.await?;
    println!(
        "  4 concurrent page views of the 80 KB survey ({}):",
        bench.backend
    );
    println!(
        "    slowest view {:.0} ms · all done in {:.0} ms · slowest /healthz meanwhile {:.0} ms",
        slowest.as_secs_f64() * 1000.0,
        all.as_secs_f64() * 1000.0,
        worst_health.as_secs_f64() * 1000.0
    );
    bench.stop().await;
    Ok(())
}

/// A valid Qualtrics export of about `bytes`: one block of multiple-choice questions, a page
/// break after every tenth, each with 40 long choices (what makes real exports big).
pub fn big_qsf(bytes: usize) -> String {
    const CHOICES: usize = 40;
    let filler = "Somewhat agree with the statement as it was put to me, considering everything \
                  I know about the service, the people and the <b>place</b> where it happened. ";
    let choice_text =
        |q: usize, c: usize| format!("Option {c} of question {q}: {}", filler.repeat(3));
    let per_question = CHOICES * (choice_text(1, 1).len() + 30) + 1200;
    let questions = (bytes / per_question).max(1);
    let mut out = String::with_capacity(bytes + 4096);
    out.push_str(
        r#"{"SurveyEntry":{"SurveyID":"SV_bench","SurveyName":"Memory bench","SurveyLanguage":"EN"},"SurveyElements":["#,
    );
    out.push_str(r#"{"SurveyID":"SV_bench","Element":"BL","PrimaryAttribute":"Survey Blocks","Payload":[{"Type":"Default","Description":"Everything","ID":"BL_1","BlockElements":["#);
    for q in 1..=questions {
        if q > 1 {
            out.push(',');
            if (q - 1) % 10 == 0 {
                out.push_str(r#"{"Type":"Page Break"},"#);
            }
        }
        out.push_str(&format!(r#"{{"Type":"Question","QuestionID":"QID{q}"}}"#));
    }
    out.push_str("]}]},");
    out.push_str(r#"{"SurveyID":"SV_bench","Element":"FL","PrimaryAttribute":"Survey Flow","Payload":{"Type":"Root","FlowID":"FL_1","Flow":[{"Type":"Block","ID":"BL_1","FlowID":"FL_2"}]}},"#);
    out.push_str(r#"{"SurveyID":"SV_bench","Element":"SO","PrimaryAttribute":"Survey Options","Payload":{"BackButton":"false","PartialData":"+1 week","SurveyTermination":"DefaultMessage"}}"#);
    for q in 1..=questions {
        let choices: Vec<String> = (1..=CHOICES)
            .map(|c| {
                format!(
                    r#""{c}":{{"Display":{}}}"#,
                    serde_json::to_string(&choice_text(q, c)).expect("a string serializes")
                )
            })
            .collect();
        let order: Vec<String> = (1..=CHOICES).map(|c| c.to_string()).collect();
        let text = format!(
            "<p>Question {q}: how much do you agree? {}</p>",
            filler.repeat(6)
        );
        out.push_str(&format!(
            r#",{{"SurveyID":"SV_bench","Element":"SQ","PrimaryAttribute":"QID{q}","Payload":{{"QuestionText":{},"DataExportTag":"Q{q}","QuestionType":"MC","Selector":"SAVR","SubSelector":"TX","Configuration":{{"QuestionDescriptionOption":"UseText"}},"Choices":{{{}}},"ChoiceOrder":[{}],"Validation":{{"Settings":{{"ForceResponse":"OFF","Type":"None"}}}},"Language":[],"QuestionID":"QID{q}"}}}}"#,
            serde_json::to_string(&text).expect("a string serializes"),
            choices.join(","),
            order.join(",")
        ));
    }
    out.push_str("]}");
    out
}

pub(crate) fn rss_kib() -> Option<u64> {
    super::proc_status_kib(None, "VmRSS")
}

/// Resets the kernel's peak RSS (VmHWM) so the next phase's peak is its own.
pub(crate) fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

pub(crate) fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Samples VmRSS every 5 ms until stopped; the highest sample, in KiB.
pub(crate) struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    pub(crate) fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(rss_kib().unwrap_or(0)));
        let task = {
            let (stop, peak) = (stop.clone(), peak.clone());
            tokio::task::spawn_blocking(move || {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(rss_kib().unwrap_or(0), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        Self { stop, peak, task }
    }

    pub(crate) async fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        self.peak.load(Ordering::Relaxed)
    }
}

/// The peak of a phase: the kernel's VmHWM when it could be reset, else the sampled peak.
pub(crate) fn phase_peak(sampled: u64, reset: bool) -> u64 {
    match (reset, peak_rss_kib()) {
        (true, Some(hwm)) => hwm.max(sampled),
        _ => sampled,
    }
}

pub async fn survey_memory(args: SurveyMemoryArgs) -> anyhow::Result<()> {
    let bench = BenchServer::start(args.postgres.as_deref()).await?;
    // One buffer shared by every request, so the client side holds the file once.
    let qsf = axum::body::Bytes::from(big_qsf(args.mib * 1024 * 1024));
    let qsf_bytes = qsf.len();
    let client = reqwest::Client::new();
    let n = args.concurrency.max(1);
    println!(
        "bench survey-memory · {} · {:.1} MiB .qsf · {n} concurrent (server and client in one process)",
        bench.backend,
        qsf_bytes as f64 / (1024.0 * 1024.0)
    );
    let before = rss_kib().unwrap_or(0);
    println!("  RSS before:          {:>8.1} MiB", mib(before));

    let reset = reset_peak_rss();
    let sampler = RssSampler::start();
    let started = Instant::now();
    let imports: Vec<_> = (0..n)
        .map(|_| {
            let (client, url, token, body) = (
                client.clone(),
                format!("{}/api/v1/surveys/import", bench.base),
                bench.token.clone(),
                qsf.clone(),
            );
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .bearer_auth(token)
                    .body(body)
                    .send()
                    .await
                    .context("posting the .qsf")?;
                let status = r.status();
                let v: serde_json::Value = r.json().await.context("reading the answer")?;
                anyhow::ensure!(status.as_u16() == 201, "import answered {status}: {v}");
                v["id"]
                    .as_str()
                    .map(str::to_string)
                    .context("no survey id in the answer")
            })
        })
        .collect();
    let mut ids = Vec::new();
    for i in imports {
        ids.push(i.await??);
    }
    let import_time = started.elapsed();
    let import_peak = phase_peak(sampler.finish().await, reset);
    let after_imports = rss_kib().unwrap_or(0);
    println!(
        "  {n} imports:           {:>8.1} MiB peak · {:.1} MiB after · {:.1} s",
        mib(import_peak),
        mib(after_imports),
        import_time.as_secs_f64()
    );

    let reset = reset_peak_rss();
    let sampler = RssSampler::start();
    let started = Instant::now();
    let views: Vec<_> = (0..n)
        .map(|_| {
            let url = format!("{}/s/{}", bench.base, ids[0]);
            tokio::spawn(async move {
                let status = reqwest::get(&url).await?.status();
                anyhow::ensure!(status.is_success(), "page view answered {status}");
                anyhow::Ok(())
            })
        })
        .collect();
    for v in views {
        v.await??;
    }
    let view_time = started.elapsed();
    let view_peak = phase_peak(sampler.finish().await, reset);
    let after_views = rss_kib().unwrap_or(0);
    println!(
        "  {n} page views:        {:>8.1} MiB peak · {:.1} MiB after · {:.2} s",
        mib(view_peak),
        mib(after_views),
        view_time.as_secs_f64()
    );
    if !reset {
        println!("  (VmHWM could not be reset; peaks are sampled every 5 ms)");
    }
    bench.stop().await;
    Ok(())
}
