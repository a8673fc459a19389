//! CX dashboards: the API's figures and the page's figures checked against numbers this test
//! counts itself from the responses it stored, under each filter; another organization sees
//! nothing; an author's markup in a label is shown as text; the page in Chromium at desktop and
//! phone widths.

use crate::harness::{backends, cookie_client, insert_response, Backend, TestApp, PASSWORD};
use engine::Role;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use store::responses::ResponseStatus;
use survey::{Answer, ResponseData, SurveyDefinition};

/// 2026-03-02 10:00 UTC, a Monday.
const BASE: i64 = 1_772_445_600_000;
const DAY: i64 = 86_400_000;
const ACCOUNT: &str = "001000000000AbCAAA";
const OTHER_ACCOUNT: &str = "001000000000XyZAAA";

fn definition() -> SurveyDefinition {
    serde_json::from_value(json!({
        "name": "Support CX",
        "blocks": [{ "id": "BL1", "elements": [
            { "type": "question", "id": "QID1" }, { "type": "question", "id": "QID2" },
            { "type": "question", "id": "QID3" }, { "type": "question", "id": "QID4" } ] }],
        "questions": [
            { "id": "QID1", "export_tag": "NPS", "type": "nps",
              "text": "How likely are you to recommend us?" },
            { "id": "QID2", "export_tag": "CSAT", "type": "multiple_choice",
              "text": "How satisfied are you with our support?",
              "choices": [ { "id": "1", "text": "Very dissatisfied", "recode": "1" },
                           { "id": "2", "text": "Dissatisfied", "recode": "2" },
                           { "id": "3", "text": "Neither", "recode": "3" },
                           { "id": "4", "text": "Satisfied", "recode": "4" },
                           { "id": "5", "text": "Very satisfied", "recode": "5" } ] },
            { "id": "QID3", "export_tag": "Topics", "type": "multiple_choice", "multiple": true,
              "text": "What did you contact us about?",
              "choices": [ { "id": "1", "text": "Billing" },
                           { "id": "2", "text": "<img src=x onerror=alert(1)>Fish &amp; <b>chips</b>" },
                           { "id": "3", "text": "Other &lt;script&gt;alert(2)&lt;/script&gt;", "text_entry": true } ] },
            { "id": "QID4", "export_tag": "Why", "type": "text_entry", "text": "Why?" }
        ],
        "flow": [
            { "type": "embedded_data", "fields": [ { "name": "Region" }, { "name": "sfAccountId" } ] },
            { "type": "block", "block_id": "BL1" }
        ]
    }))
    .unwrap()
}

/// One stored response as the test remembers it.
struct Sent {
    id: String,
    started_at: i64,
    nps: u8,
    csat: &'static str,
    topics: Vec<&'static str>,
    region: &'static str,
    account: &'static str,
    complete: bool,
}

/// 42 responses over 21 days with known answers (the same every run).
fn responses() -> Vec<Sent> {
    (0..42)
        .map(|i: usize| Sent {
            id: String::new(),
            started_at: BASE + (i % 21) as i64 * DAY + i as i64 * 60_000,
            nps: ((i * 7 + 3) % 11) as u8,
            csat: ["1", "2", "3", "4", "5"][(i * 3) % 5],
            topics: match i % 4 {
                0 => vec!["1"],
                1 => vec!["2", "3"],
                2 => vec!["1", "2"],
                _ => vec!["3"],
            },
            region: if i.is_multiple_of(3) {
                "North"
            } else {
                "South"
            },
            account: if i.is_multiple_of(5) {
                ACCOUNT
            } else {
                OTHER_ACCOUNT
            },
            complete: i % 7 != 6,
        })
        .collect()
}

fn data_of(s: &Sent, i: usize) -> ResponseData {
    let mut text = BTreeMap::new();
    if s.topics.contains(&"3") {
        text.insert("3".to_string(), format!("typed {i}"));
    }
    ResponseData {
        answers: BTreeMap::from([
            ("QID1".into(), Answer::Number(f64::from(s.nps))),
            (
                "QID2".into(),
                Answer::Choices {
                    selected: vec![s.csat.into()],
                    text: BTreeMap::new(),
                },
            ),
            (
                "QID3".into(),
                Answer::Choices {
                    selected: s.topics.iter().map(|t| t.to_string()).collect(),
                    text,
                },
            ),
            ("QID4".into(), Answer::Text(format!("because {i}"))),
        ]),
        embedded_data: BTreeMap::from([
            ("Region".into(), s.region.into()),
            ("sfAccountId".into(), s.account.into()),
        ]),
        ..Default::default()
    }
}

/// The figures this test expects, counted from what it stored.
struct Expected {
    total: u64,
    complete: u64,
    promoters: u64,
    passives: u64,
    detractors: u64,
    nps: f64,
    csat: f64,
    topics: [u64; 3],
}

fn expected<'a>(sent: impl Iterator<Item = &'a Sent>) -> Expected {
    let mut e = Expected {
        total: 0,
        complete: 0,
        promoters: 0,
        passives: 0,
        detractors: 0,
        nps: 0.0,
        csat: 0.0,
        topics: [0; 3],
    };
    let mut satisfied = 0;
    for s in sent {
        e.total += 1;
        e.complete += u64::from(s.complete);
        match s.nps {
            9 | 10 => e.promoters += 1,
            7 | 8 => e.passives += 1,
            _ => e.detractors += 1,
        }
        if s.csat == "4" || s.csat == "5" {
            satisfied += 1;
        }
        for t in &s.topics {
            e.topics[t.parse::<usize>().unwrap() - 1] += 1;
        }
    }
    if e.total > 0 {
        // Tenths of a point, rounded half away from zero, in integers.
        let tenths = |num: i64, den: i64| {
            let x = num * 2000 / den;
            (x + x.signum()) / 2
        };
        let n = e.total as i64;
        e.nps = tenths(e.promoters as i64 - e.detractors as i64, n) as f64 / 10.0;
        e.csat = tenths(satisfied, n) as f64 / 10.0;
    }
    e
}

fn question<'a>(d: &'a Value, id: &str) -> &'a Value {
    d["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["questionId"] == id)
        .unwrap_or_else(|| panic!("{id} in {d}"))
}

fn assert_api(d: &Value, e: &Expected, what: &str) {
    assert_eq!(d["responses"]["total"], e.total, "{what}: total");
    assert_eq!(d["responses"]["complete"], e.complete, "{what}: complete");
    assert_eq!(d["responses"]["partial"], e.total - e.complete, "{what}");
    let nps = &question(d, "QID1")["nps"];
    assert_eq!(nps["promoters"], e.promoters, "{what}: promoters");
    assert_eq!(nps["passives"], e.passives, "{what}: passives");
    assert_eq!(nps["detractors"], e.detractors, "{what}: detractors");
    assert_eq!(nps["score"].as_f64().unwrap(), e.nps, "{what}: NPS");
    let csat = &question(d, "QID2");
    assert_eq!(csat["kind"], "csat", "{what}");
    assert_eq!(
        csat["csat"]["score"].as_f64().unwrap(),
        e.csat,
        "{what}: CSAT"
    );
    let topics = question(d, "QID3")["choices"].as_array().unwrap();
    for (i, n) in e.topics.iter().enumerate() {
        assert_eq!(topics[i]["count"], *n, "{what}: topic {}", i + 1);
    }
    let volume: u64 = d["volume"]["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["responses"].as_u64().unwrap())
        .sum();
    assert_eq!(volume, e.total, "{what}: volume adds up");
}

/// The text of the element whose opening tag holds `marker`, up to the next tag.
fn text_after<'a>(html: &'a str, marker: &str) -> &'a str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} on the page"));
    let rest = &html[at..];
    let open = rest.find('>').unwrap() + 1;
    let close = rest[open..].find('<').unwrap();
    rest[open..open + close].trim()
}

fn assert_page(html: &str, e: &Expected, what: &str) {
    assert_eq!(
        text_after(html, "id=\"responses-total\""),
        e.total.to_string(),
        "{what}"
    );
    let shown: f64 = text_after(html, "id=\"nps-score-QID1\"").parse().unwrap();
    assert_eq!(shown, e.nps, "{what}: NPS on the page");
    let table = &html[html.find("id=\"nps-QID1\"").unwrap()..];
    assert_eq!(
        text_after(table, "data-promoters"),
        e.promoters.to_string(),
        "{what}"
    );
    assert_eq!(
        text_after(table, "data-passives"),
        e.passives.to_string(),
        "{what}"
    );
    assert_eq!(
        text_after(table, "data-detractors"),
        e.detractors.to_string(),
        "{what}"
    );
    assert_eq!(
        text_after(html, "id=\"csat-QID2\""),
        format!("{:.1}%", e.csat),
        "{what}"
    );
    let topics = &html[html.find("id=\"choices-QID3\"").unwrap()..];
    for (i, n) in e.topics.iter().enumerate() {
        let row = &topics[topics.find(&format!("data-choice=\"{}\"", i + 1)).unwrap()..];
        assert_eq!(text_after(row, "class=\"count\""), n.to_string(), "{what}");
    }
}

async fn page(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, String) {
    let r = client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// A survey with the responses of [`responses`] stored; returns its id, the editor's actor and
/// token, and what was stored.
async fn seeded(app: &TestApp) -> (String, engine::Actor, String, Vec<Sent>) {
    let (editor, token) = app.org_user(Role::Editor).await;
    let survey = app.create_survey(&token, &definition()).await;
    let mut sent = responses();
    for (i, s) in sent.iter_mut().enumerate() {
        let status = if s.complete {
            ResponseStatus::Complete
        } else {
            ResponseStatus::InProgress
        };
        s.id = insert_response(
            app,
            &editor.org_id,
            &survey,
            status,
            s.started_at,
            &data_of(s, i),
        )
        .await;
    }
    (survey, editor, token, sent)
}

#[tokio::test]
async fn dashboards_match_the_responses_numbers_under_every_filter() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (survey, editor, token, sent) = seeded(&app).await;
        let client = cookie_client();
        assert_eq!(
            app.sign_in_web(&client, &editor.email, PASSWORD)
                .await
                .status(),
            303
        );
        let api = |q: &str| format!("/api/v1/surveys/{survey}/dashboard{q}");
        let web = |q: &str| format!("/surveys/{survey}/dashboard{q}");

        // Everything.
        let all = expected(sent.iter());
        assert!(all.promoters > 0 && all.detractors > 0 && all.passives > 0);
        let d = app.get_json(&token, &api("")).await;
        assert_api(&d, &all, "all");
        assert_eq!(d["volume"]["period"], "day");
        assert_eq!(d["volume"]["points"].as_array().unwrap().len(), 21);
        let trend = question(&d, "QID1")["nps"]["trend"]["points"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(trend.len(), 3, "three weeks: {trend:?}");
        let first_week = expected(sent.iter().filter(|s| s.started_at < BASE + 7 * DAY));
        assert_eq!(trend[0]["score"].as_f64().unwrap(), first_week.nps);
        assert_eq!(trend[0]["answered"], first_week.total);
        let why = &question(&d, "QID4")["textAnswers"];
        assert_eq!(why["total"], 42);
        // Newest first: the last day's latest response.
        let newest = sent
            .iter()
            .enumerate()
            .max_by_key(|(_, s)| s.started_at)
            .unwrap()
            .0;
        assert_eq!(why["shown"][0]["text"], format!("because {newest}"));
        let other = &question(&d, "QID3")["choices"][2];
        assert_eq!(
            other["typed"].as_array().unwrap().len() as u64,
            all.topics[2].min(20)
        );
        let (status, html) = page(&app, &client, &web("")).await;
        assert_eq!(status, 200);
        assert_page(&html, &all, "all");
        assert!(html.contains("<svg"), "charts are drawn");

        // A date range: the first week's days 2 to 4 (UTC), `until` inclusive.
        let in_range = |s: &&Sent| {
            s.started_at >= BASE - 10 * 3_600_000 + 2 * DAY
                && s.started_at < BASE - 10 * 3_600_000 + 5 * DAY
        };
        let range = expected(sent.iter().filter(in_range));
        assert!(range.total > 0 && range.total < all.total);
        let d = app
            .get_json(&token, &api("?since=2026-03-04&until=2026-03-06"))
            .await;
        assert_api(&d, &range, "date range");
        let (_, html) = page(&app, &client, &web("?from=2026-03-04&to=2026-03-06")).await;
        assert_page(&html, &range, "date range");
        assert!(
            html.contains("value=\"2026-03-04\""),
            "the form keeps its dates"
        );

        // An embedded data value.
        let north = expected(sent.iter().filter(|s| s.region == "North"));
        let d = app
            .get_json(&token, &api("?field=Region&value=North"))
            .await;
        assert_api(&d, &north, "Region = North");
        let (_, html) = page(&app, &client, &web("?field=Region&value=North")).await;
        assert_page(&html, &north, "Region = North");
        assert!(
            html.contains("<option value=\"Region\" selected>"),
            "the form keeps its field"
        );

        // A Salesforce record, by its 15-character id (the responses hold the 18-character one).
        let account = expected(sent.iter().filter(|s| s.account == ACCOUNT));
        assert!(account.total > 0 && account.total < all.total);
        let d = app
            .get_json(&token, &api(&format!("?records={}", &ACCOUNT[..15])))
            .await;
        assert_api(&d, &account, "the account's");
        let d = app
            .get_json(&token, &api(&format!("?records={ACCOUNT},{OTHER_ACCOUNT}")))
            .await;
        assert_api(&d, &all, "both accounts");
        let r = app
            .get(&token, &api("?records=not-an-id"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);

        // A distribution: the responses that came through its links.
        let through: Vec<&Sent> = sent.iter().step_by(4).collect();
        for s in &through {
            sqlx::query("UPDATE responses SET distribution_id = $1 WHERE id = $2")
                .bind("dist-1")
                .bind(&s.id)
                .execute(app.sonde.store.pool())
                .await
                .unwrap();
        }
        let by_dist = expected(through.into_iter());
        let d = app.get_json(&token, &api("?distributionId=dist-1")).await;
        assert_api(&d, &by_dist, "distribution");
        let (_, html) = page(&app, &client, &web("?distribution=dist-1")).await;
        assert_page(&html, &by_dist, "distribution");

        // A field with no value: the responses where it is empty or absent (none here).
        let d = app.get_json(&token, &api("?field=Region&value=")).await;
        assert_eq!(d["responses"]["total"], 0);
        let d = app.get_json(&token, &api("?field=Missing&value=")).await;
        assert_api(&d, &all, "a field nobody has, empty");

        // Nothing matches: zeros, not errors.
        let d = app
            .get_json(&token, &api("?field=Region&value=Nowhere"))
            .await;
        assert_api(&d, &expected([].iter()), "nothing");
        let (status, html) = page(&app, &client, &web("?field=Region&value=Nowhere")).await;
        assert_eq!(status, 200);
        assert!(html.contains("No responses match these filters."));
        assert_eq!(
            text_after(&html, "id=\"headline-nps\""),
            "—",
            "no score of nothing"
        );

        // Another organization's admin sees no such survey.
        let (stranger, stranger_token) = app.org_user(Role::Admin).await;
        let r = app.get(&stranger_token, &api("")).send().await.unwrap();
        assert_eq!(r.status(), 404, "{backend:?}");
        let theirs = cookie_client();
        assert_eq!(
            app.sign_in_web(&theirs, &stranger.email, PASSWORD)
                .await
                .status(),
            303
        );
        let (status, html) = page(&app, &theirs, &web("")).await;
        assert_eq!(status, 404);
        assert!(!html.contains("How likely are you"));
    }
}

#[tokio::test]
async fn authored_markup_in_labels_is_shown_as_text() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (survey, editor, _, _) = seeded(&app).await;
    let client = cookie_client();
    assert_eq!(
        app.sign_in_web(&client, &editor.email, PASSWORD)
            .await
            .status(),
        303
    );
    let (status, html) = page(&app, &client, &format!("/surveys/{survey}/dashboard")).await;
    assert_eq!(status, 200);
    // Tags the author wrote are dropped, entities they wrote are shown as the characters.
    assert!(html.contains("Fish &amp; chips"), "the label as text");
    assert!(html.contains("Other &lt;script&gt;alert(2)&lt;/script&gt;"));
    for raw in ["<img src=x", "onerror", "<script>alert", "<b>chips"] {
        assert!(!html.contains(raw), "{raw} reached the page");
    }
    // The survey's page links to its dashboard.
    let (_, detail) = page(&app, &client, &format!("/surveys/{survey}")).await;
    assert!(detail.contains(&format!("href=\"/surveys/{survey}/dashboard\"")));
}

#[tokio::test]
async fn the_record_widget_shows_the_records_nps() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (survey, editor, _, sent) = seeded(&app).await;
    let filter = engine::dashboards::DashboardFilter {
        records: vec![ACCOUNT.to_string()],
        ..Default::default()
    };
    let d = app
        .sonde
        .survey_dashboard(&editor, &survey, &filter)
        .await
        .unwrap();
    let e = expected(sent.iter().filter(|s| s.account == ACCOUNT));
    let html = web::ui_dashboards::widget(&d).into_string();
    assert_eq!(
        text_after(&html, "id=\"widget-responses\""),
        e.total.to_string()
    );
    let shown: f64 = text_after(&html, "id=\"widget-nps\"").parse().unwrap();
    assert_eq!(shown, e.nps);
    assert!(html.contains(&format!("Promoters {}", e.promoters)));
    assert!(html.contains("width=\"360\""), "drawn for a narrow panel");
    // Seen at a phone's width, with the app's own stylesheet, when a browser is at hand.
    let css = app
        .client
        .get(app.url(&web::assets::STYLESHEET.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let dir = std::path::Path::new("/tmp/shots");
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join("dashboard-widget.html");
    std::fs::write(
        &file,
        format!("<!doctype html><meta charset=utf-8><style>{css}</style><main>{html}</main>"),
    )
    .unwrap();
    let Some(b) = crate::browser::Browser::start().await else {
        return;
    };
    b.resize(360, 800).await;
    b.goto(&format!("file://{}", file.display())).await;
    b.wait_for("NPS").await;
    b.screenshot_to(&dir.join("dashboard-widget.png")).await;
    let widths = b
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            json!([]),
        )
        .await;
    assert!(
        widths[0].as_u64() <= widths[1].as_u64(),
        "the widget fits 360 px: {widths}"
    );
}

#[tokio::test]
async fn the_dashboard_in_chromium_at_desktop_and_phone_widths() {
    let Some(b) = crate::browser::Browser::start().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (survey, editor, _, _) = seeded(&app).await;
    let dir = std::path::Path::new("/tmp/shots");
    std::fs::create_dir_all(dir).unwrap();
    b.resize(1280, 900).await;
    b.goto(&app.url("/login")).await;
    b.type_into("#email", &editor.email).await;
    b.type_into("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_for("Import a Qualtrics survey").await;
    b.goto(&app.url(&format!("/surveys/{survey}/dashboard")))
        .await;
    b.wait_for("Responses over time").await;
    for (width, height, kind) in [(1280, 900, "desktop"), (390, 844, "phone")] {
        b.resize(width, height).await;
        let fits = b
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth;",
                json!([]),
            )
            .await;
        assert_eq!(fits, json!(true), "nothing overflows at {width} px");
        // The chart drawn for this width is the one shown.
        let shown = b
            .execute(
                "return Array.from(document.querySelectorAll('figure.chart > div'))
                   .filter(e => e.offsetWidth > 0).map(e => e.className);",
                json!([]),
            )
            .await;
        let want = if width < 700 {
            "chart-narrow"
        } else {
            "chart-wide"
        };
        assert!(
            shown.as_array().unwrap().iter().all(|c| c == want),
            "{kind}: {shown}"
        );
        b.screenshot_to(&dir.join(format!("dashboard-{kind}.png")))
            .await;
    }
    b.shots_in(dir, "dashboard-full").await;
    // Each kind of chart on a phone, scrolled into view.
    for (width, kind) in [(390, "phone"), (1280, "desktop")] {
        b.resize(width, 844).await;
        for (part, id) in [("nps", "q-QID1"), ("csat", "q-QID2"), ("choices", "q-QID3")] {
            b.execute(
                &format!("document.getElementById('{id}').scrollIntoView();"),
                json!([]),
            )
            .await;
            b.screenshot_to(&dir.join(format!("dashboard-{kind}-{part}.png")))
                .await;
        }
    }
    // Filtering through the form keeps the values it was given.
    b.resize(1280, 900).await;
    b.click("#dash-field option[value='Region']").await;
    b.type_into("#dash-value", "North").await;
    b.click("#dash-filter").await;
    b.wait_for("(filtered)").await;
    assert_eq!(b.property("#dash-value", "value").await, json!("North"));
}
