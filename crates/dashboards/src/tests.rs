use super::*;
use std::collections::BTreeMap;
use survey::Answer;

const DAY: i64 = 86_400_000;
/// 2026-12-07 00:00 UTC, a Monday.
const MONDAY: i64 = 1_796_601_600_000;

fn definition() -> SurveyDefinition {
    serde_json::from_value(serde_json::json!({
        "name": "CX",
        "blocks": [{ "id": "BL1", "elements": [
            { "type": "question", "id": "QID1" }, { "type": "question", "id": "QID2" },
            { "type": "question", "id": "QID3" }, { "type": "question", "id": "QID4" },
            { "type": "question", "id": "QID5" }, { "type": "question", "id": "QID6" } ] }],
        "questions": [
            { "id": "QID1", "export_tag": "NPS", "type": "nps", "text": "Recommend us?" },
            { "id": "QID2", "export_tag": "Q2", "type": "multiple_choice",
              "text": "How <b>satisfied</b> are you?",
              "choices": [ { "id": "1", "text": "Very dissatisfied", "recode": "1" },
                           { "id": "2", "text": "Dissatisfied", "recode": "2" },
                           { "id": "3", "text": "Neutral", "recode": "3" },
                           { "id": "4", "text": "Satisfied", "recode": "4" },
                           { "id": "5", "text": "Very satisfied", "recode": "5" } ] },
            { "id": "QID3", "export_tag": "Channel", "type": "multiple_choice", "multiple": true,
              "text": "Where did you hear of us?",
              "choices": [ { "id": "1", "text": "Search", "recode": "10" },
                           { "id": "2", "text": "Friend" },
                           { "id": "3", "text": "Other", "text_entry": true } ] },
            { "id": "QID4", "export_tag": "Agent", "type": "matrix", "text": "Agree?",
              "statements": [ { "id": "1", "text": "Courteous" }, { "id": "2", "text": "Quick" } ],
              "scale": [ { "id": "1", "text": "No" }, { "id": "2", "text": "Yes" } ] },
            { "id": "QID5", "export_tag": "Why", "type": "text_entry", "text": "Why?" },
            { "id": "QID6", "export_tag": "Intro", "type": "descriptive", "text": "Hi" }
        ]
    }))
    .unwrap()
}

fn data(answers: Vec<(&str, Answer)>) -> ResponseData {
    ResponseData {
        answers: answers
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        ..Default::default()
    }
}

fn choices(ids: &[&str]) -> Answer {
    Answer::Choices {
        selected: ids.iter().map(|s| s.to_string()).collect(),
        text: BTreeMap::new(),
    }
}

fn at(started_at: i64, data: &ResponseData) -> DashboardResponse<'_> {
    DashboardResponse {
        data,
        started_at,
        ended_at: Some(started_at + 60_000),
        complete: true,
        answered_under: None,
    }
}

#[test]
fn nps_counts_promoters_passives_and_detractors() {
    let def = definition();
    // 4 promoters (9, 10, 10, 9), 3 passives (7, 8, 8), 3 detractors (0, 6, 3): NPS 10.
    let scores = [9.0, 10.0, 7.0, 0.0, 8.0, 6.0, 10.0, 8.0, 3.0, 9.0];
    let datas: Vec<ResponseData> = scores
        .iter()
        .map(|s| data(vec![("QID1", Answer::Number(*s))]))
        .collect();
    let responses: Vec<_> = datas
        .iter()
        .enumerate()
        .map(|(i, d)| at(MONDAY + i as i64 * DAY, d))
        .collect();
    let d = compute(&def, &responses);
    let (q, nps) = d.headline_nps().unwrap();
    assert_eq!(q.answered, 10);
    assert_eq!((nps.promoters, nps.passives, nps.detractors), (4, 3, 3));
    assert_eq!(nps.score, 10.0);
    assert_eq!(nps.promoters_percent, 40.0);
    // Ten days from a Monday: two weeks in the trend.
    assert_eq!(nps.trend.period, Period::Week);
    let weeks: Vec<_> = nps
        .trend
        .points
        .iter()
        .map(|p| (p.start.as_str(), p.answered, p.score))
        .collect();
    // Week 1: 9 10 7 0 8 6 10 → P3 D2 of 7 = 14.3; week 2: 8 3 9 → P1 D1 = 0.
    assert_eq!(weeks, [("2026-12-07", 7, 14.3), ("2026-12-14", 3, 0.0)]);
    assert_eq!(d.volume.period, Period::Day);
    assert_eq!(d.volume.points.len(), 10);
    assert_eq!(d.responses.total, 10);
}

#[test]
fn nps_rounds_to_one_decimal_and_ignores_out_of_range_scores() {
    let def = definition();
    // 1 promoter, 0 detractors of 3: 33.333… → 33.3; 11 and NaN are not scores.
    let datas: Vec<ResponseData> = [10.0, 7.0, 8.0, 11.0, f64::NAN]
        .iter()
        .map(|s| data(vec![("QID1", Answer::Number(*s))]))
        .collect();
    let responses: Vec<_> = datas.iter().map(|d| at(MONDAY, d)).collect();
    let d = compute(&def, &responses);
    let (q, nps) = d.headline_nps().unwrap();
    assert_eq!(q.answered, 3);
    assert_eq!(nps.score, 33.3);
    assert_eq!(nps_score(2, 1, 3), 33.3);
    assert_eq!(nps_score(0, 2, 3), -66.7);
    assert_eq!(nps_score(0, 0, 0), 0.0);
}

#[test]
fn csat_is_the_share_on_the_top_two_points() {
    let def = definition();
    let datas: Vec<ResponseData> = ["5", "4", "3", "1", "5"]
        .iter()
        .map(|c| data(vec![("QID2", choices(&[c]))]))
        .collect();
    let responses: Vec<_> = datas.iter().map(|d| at(MONDAY, d)).collect();
    let d = compute(&def, &responses);
    let (q, csat) = d.headline_csat().unwrap();
    assert_eq!(q.kind, SummaryKind::Csat);
    assert_eq!(csat.top_choices, ["5", "4"]);
    assert_eq!((csat.satisfied, csat.score), (3, 60.0));
    assert_eq!(q.text, "How satisfied are you?");
}

#[test]
fn csat_questions_are_told_by_tag_or_text_and_their_scale_by_recodes_or_words() {
    let q = |tag: &str, text: &str, choices: serde_json::Value| -> survey::Question {
        serde_json::from_value(serde_json::json!({
            "id": "Q", "export_tag": tag, "type": "multiple_choice", "text": text,
            "choices": choices }))
        .unwrap()
    };
    let words = |first: &str| {
        serde_json::json!([{ "id": "a", "text": first }, { "id": "b", "text": "x" },
            { "id": "c", "text": "y" }, { "id": "d", "text": "z" }, { "id": "e", "text": "w" }])
    };
    // Falling scale without recodes: the first two points are the top.
    assert_eq!(
        csat_top_choices(&q("CSAT_1", "Rate us", words("Very satisfied"))).unwrap(),
        ["a", "b"]
    );
    // Rising: the first point reads dissatisfied.
    assert_eq!(
        csat_top_choices(&q("Q9", "Satisfaction", words("Very dissatisfied"))).unwrap(),
        ["d", "e"]
    );
    // Neither tag nor text: not CSAT; nor is a scale of another length.
    assert!(csat_top_choices(&q("Q9", "Rate us", words("Good"))).is_none());
    let four = serde_json::json!([{ "id": "a", "text": "1" }, { "id": "b", "text": "2" },
        { "id": "c", "text": "3" }, { "id": "d", "text": "4" }]);
    assert!(csat_top_choices(&q("CSAT", "Satisfied?", four)).is_none());
}

#[test]
fn choices_are_counted_by_id_or_recode_with_other_text_beside_its_choice() {
    let def = definition();
    let mut other = choices(&["3", "10"]);
    if let Answer::Choices { text, .. } = &mut other {
        text.insert("3".into(), "  A podcast ".into());
    }
    let datas = [
        data(vec![("QID3", choices(&["1", "2"]))]),
        // "10" is the recode of choice 1; "1" twice counts once.
        data(vec![("QID3", other)]),
        data(vec![("QID3", choices(&["2", "2", "gone"]))]),
        data(vec![("QID3", choices(&[]))]),
    ];
    let responses: Vec<_> = datas.iter().map(|d| at(MONDAY, d)).collect();
    let d = compute(&def, &responses);
    let q = d
        .questions
        .iter()
        .find(|q| q.question_id == "QID3")
        .unwrap();
    assert_eq!(q.kind, SummaryKind::MultipleChoice);
    assert_eq!(q.answered, 3);
    assert_eq!(q.unlisted, 1);
    let c = q.choices.as_ref().unwrap();
    let counts: Vec<_> = c
        .iter()
        .map(|c| (c.label.as_str(), c.count, c.percent))
        .collect();
    assert_eq!(
        counts,
        [("Search", 2, 66.7), ("Friend", 2, 66.7), ("Other", 1, 33.3)]
    );
    assert_eq!(c[2].typed, ["A podcast"]);
    assert_eq!(c[0].recode, "10");
}

#[test]
fn matrix_rows_and_text_answers_newest_first() {
    let def = definition();
    let mut datas = Vec::new();
    for i in 0..(TEXT_ANSWERS_SHOWN + 5) {
        datas.push(data(vec![
            ("QID5", Answer::Text(format!("answer {i}"))),
            (
                "QID4",
                Answer::Matrix {
                    rows: BTreeMap::from([
                        ("1".to_string(), "2".to_string()),
                        (
                            "2".to_string(),
                            if i.is_multiple_of(2) { "1" } else { "2" }.to_string(),
                        ),
                    ]),
                },
            ),
        ]));
    }
    datas.push(data(vec![("QID5", Answer::Text("   ".into()))]));
    let responses: Vec<_> = datas
        .iter()
        .enumerate()
        .map(|(i, d)| at(MONDAY + i as i64 * 1000, d))
        .collect();
    let d = compute(&def, &responses);
    let text = d
        .questions
        .iter()
        .find(|q| q.question_id == "QID5")
        .unwrap();
    let answers = text.text_answers.as_ref().unwrap();
    assert_eq!(answers.total, TEXT_ANSWERS_SHOWN as u64 + 5);
    assert_eq!(answers.shown.len(), TEXT_ANSWERS_SHOWN);
    assert_eq!(
        answers.shown[0].text,
        format!("answer {}", TEXT_ANSWERS_SHOWN + 4)
    );
    let matrix = d
        .questions
        .iter()
        .find(|q| q.question_id == "QID4")
        .unwrap();
    let rows = matrix.matrix.as_ref().unwrap();
    assert_eq!(rows[0].scale[1].count, TEXT_ANSWERS_SHOWN as u64 + 5);
    assert_eq!(rows[0].scale[1].percent, 100.0);
    // 55 answers, 28 of them even.
    assert_eq!(rows[1].scale[0].count, 28);
    // Descriptive questions have nothing to show.
    assert!(d.questions.iter().all(|q| q.question_id != "QID6"));
}

#[test]
fn long_spans_roll_volume_into_weeks_and_the_trend_into_months() {
    let def = definition();
    let d1 = data(vec![("QID1", Answer::Number(10.0))]);
    let d2 = data(vec![("QID1", Answer::Number(0.0))]);
    let mut partial = at(MONDAY + 200 * DAY, &d2);
    partial.complete = false;
    let d = compute(&def, &[at(MONDAY, &d1), partial]);
    assert_eq!(d.volume.period, Period::Week);
    // 200 days from a Monday: weeks 0 to 28, every one a point.
    assert_eq!(d.volume.points.len(), 29);
    assert_eq!(d.volume.points.iter().map(|p| p.responses).sum::<u64>(), 2);
    assert_eq!(d.volume.points[28].complete, 0);
    assert_eq!((d.responses.complete, d.responses.partial), (1, 1));
    let (_, nps) = d.headline_nps().unwrap();
    assert_eq!(nps.trend.period, Period::Month);
    let months: Vec<_> = nps.trend.points.iter().map(|p| p.start.as_str()).collect();
    assert_eq!(months, ["2026-12-01", "2027-06-01"]);
}

#[test]
fn no_responses_make_an_empty_dashboard() {
    let def = definition();
    let d = compute(&def, &[]);
    assert_eq!(d.responses.total, 0);
    assert!(d.volume.points.is_empty());
    let (_, nps) = d.headline_nps().unwrap();
    assert_eq!(nps.score, 0.0);
    assert!(!charts::nps_trend_chart(&nps.trend, charts::Width::Narrow).is_empty());
}

#[test]
fn charts_are_svg_carrying_their_labels_escaped() {
    let def = definition();
    let datas = [data(vec![
        ("QID1", Answer::Number(9.0)),
        ("QID3", choices(&["1"])),
    ])];
    let responses: Vec<_> = datas.iter().map(|d| at(MONDAY, d)).collect();
    let mut d = compute(&def, &responses);
    let q = d
        .questions
        .iter_mut()
        .find(|q| q.question_id == "QID3")
        .unwrap();
    q.choices.as_mut().unwrap()[0].label = "Fish & <chips>".into();
    for width in charts::Width::ALL {
        let svg = charts::choice_chart(q.choices.as_ref().unwrap(), width);
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("Fish &amp; &lt;chips&gt;"));
        assert!(svg.contains("1 · 100.0%"));
        assert!(svg.contains(&format!("width=\"{}\"", width.px())));
        assert!(!svg.contains("<chips>"));
    }
    let (_, nps) = d.headline_nps().unwrap();
    let split = charts::nps_split_chart(nps, charts::Width::Wide);
    assert!(split.contains("Promoters 1"), "{split}");
    let volume = charts::volume_chart(&d.volume, charts::Width::Wide);
    assert!(volume.contains("12-07"), "{volume}");
}
