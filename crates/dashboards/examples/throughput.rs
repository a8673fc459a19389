//! How many responses a second a dashboard sums up: 10,000 and 100,000 generated responses to
//! a survey with NPS, CSAT, a multiple-answer choice, a matrix and a text question, summed up
//! alone and with each response's JSON read first (as the engine reads stored ones).
//!
//! `cargo run --release -p dashboards --example throughput`

use dashboards::{DashboardBuilder, DashboardResponse};
use std::collections::BTreeMap;
use std::time::Instant;
use survey::{Answer, ResponseData, SurveyDefinition};

fn definition() -> SurveyDefinition {
    serde_json::from_value(serde_json::json!({
        "name": "Throughput",
        "blocks": [{ "id": "B", "elements": [
            { "type": "question", "id": "Q1" }, { "type": "question", "id": "Q2" },
            { "type": "question", "id": "Q3" }, { "type": "question", "id": "Q4" },
            { "type": "question", "id": "Q5" } ] }],
        "questions": [
            { "id": "Q1", "export_tag": "NPS", "type": "nps", "text": "Recommend us?" },
            { "id": "Q2", "export_tag": "CSAT", "type": "multiple_choice", "text": "Satisfied?",
              "choices": [ { "id": "1", "text": "1" }, { "id": "2", "text": "2" },
                           { "id": "3", "text": "3" }, { "id": "4", "text": "4" },
                           { "id": "5", "text": "5" } ] },
            { "id": "Q3", "export_tag": "Topics", "type": "multiple_choice", "multiple": true,
              "text": "Topics", "choices": [ { "id": "1", "text": "Billing" },
                { "id": "2", "text": "Delivery" }, { "id": "3", "text": "Other", "text_entry": true } ] },
            { "id": "Q4", "export_tag": "Agent", "type": "matrix", "text": "Agree?",
              "statements": [ { "id": "1", "text": "Courteous" }, { "id": "2", "text": "Quick" } ],
              "scale": [ { "id": "1", "text": "No" }, { "id": "2", "text": "Maybe" }, { "id": "3", "text": "Yes" } ] },
            { "id": "Q5", "export_tag": "Why", "type": "text_entry", "text": "Why?" }
        ]
    }))
    .expect("a valid definition")
}

fn response(i: usize) -> ResponseData {
    let mut text = BTreeMap::new();
    if i.is_multiple_of(3) {
        text.insert("3".to_string(), format!("something else {i}"));
    }
    ResponseData {
        answers: BTreeMap::from([
            ("Q1".into(), Answer::Number(((i * 7) % 11) as f64)),
            (
                "Q2".into(),
                Answer::Choices {
                    selected: vec![(1 + i % 5).to_string()],
                    text: BTreeMap::new(),
                },
            ),
            (
                "Q3".into(),
                Answer::Choices {
                    selected: vec![(1 + i % 3).to_string(), "2".into()],
                    text,
                },
            ),
            (
                "Q4".into(),
                Answer::Matrix {
                    rows: BTreeMap::from([
                        ("1".into(), (1 + i % 3).to_string()),
                        ("2".into(), (1 + (i / 3) % 3).to_string()),
                    ]),
                },
            ),
            (
                "Q5".into(),
                Answer::Text(format!("The agent was helpful, case {i}")),
            ),
        ]),
        embedded_data: BTreeMap::from([("sfAccountId".into(), "001000000000AbCAAA".into())]),
        ..Default::default()
    }
}

/// 2026-01-01 UTC; responses spread over a year, a few minutes apart.
const START: i64 = 1_767_225_600_000;

fn main() {
    let def = definition();
    for n in [10_000usize, 100_000] {
        let spacing = 365 * 86_400_000 / n as i64;
        let data: Vec<ResponseData> = (0..n).map(response).collect();
        let json: Vec<String> = data
            .iter()
            .map(|d| serde_json::to_string(d).expect("serialisable"))
            .collect();

        let t = Instant::now();
        let mut builder = DashboardBuilder::new(&def);
        for (i, d) in data.iter().enumerate() {
            builder.add(&DashboardResponse {
                data: d,
                started_at: START + i as i64 * spacing,
                ended_at: None,
                complete: !i.is_multiple_of(10),
                answered_under: None,
            });
        }
        let dashboard = builder.finish();
        let summed = t.elapsed();
        assert_eq!(dashboard.responses.total, n as u64);

        let t = Instant::now();
        let mut builder = DashboardBuilder::new(&def);
        for (i, j) in json.iter().enumerate() {
            let d: ResponseData = serde_json::from_str(j).expect("stored JSON");
            builder.add(&DashboardResponse {
                data: &d,
                started_at: START + i as i64 * spacing,
                ended_at: None,
                complete: !i.is_multiple_of(10),
                answered_under: None,
            });
        }
        let parsed = builder.finish();
        let with_json = t.elapsed();
        assert_eq!(parsed, dashboard);

        let t = Instant::now();
        let mut svg = 0;
        for q in &dashboard.questions {
            if let Some(nps) = &q.nps {
                svg += dashboards::charts::nps_trend_chart(
                    &nps.trend,
                    dashboards::charts::Width::Wide,
                )
                .len();
            }
            if let Some(c) = &q.choices {
                svg += dashboards::charts::choice_chart(c, dashboards::charts::Width::Wide).len();
            }
        }
        svg += dashboards::charts::volume_chart(&dashboard.volume, dashboards::charts::Width::Wide)
            .len();
        let charts = t.elapsed();

        let rate = |d: std::time::Duration| n as f64 / d.as_secs_f64();
        println!(
            "{n:>7} responses: summed up in {:>8.1} ms ({:>10.0} responses/s); with JSON read first {:>8.1} ms ({:>10.0} responses/s); charts {:.1} ms ({svg} bytes of SVG)",
            summed.as_secs_f64() * 1000.0,
            rate(summed),
            with_json.as_secs_f64() * 1000.0,
            rate(with_json),
            charts.as_secs_f64() * 1000.0,
        );
    }
}
