//! Issue #8, the survey side: hostile question text that used to stall the server, survey
//! definitions too big to serve, respondents stranded by an edit of a live survey, and a
//! closing window of zero hours that turned every page view into a closed response.

use crate::harness::{backends, submit, Backend, TestApp};
use engine::Role;
use serde_json::{json, Value};
use sonde::bench::surveys::{one_question_survey, unclosed_tags};
use std::time::{Duration, Instant};

async fn create(app: &TestApp, token: &str, definition: &str) -> reqwest::Response {
    app.post(token, "/api/v1/surveys")
        .header("content-type", "application/json")
        .body(definition.to_string())
        .send()
        .await
        .unwrap()
}

async fn created_id(app: &TestApp, token: &str, definition: &str) -> String {
    let r = create(app, token, definition).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    v["id"].as_str().unwrap().to_string()
}

/// The problems of a refused request, as (field, message).
async fn problems(r: reqwest::Response) -> Vec<(String, String)> {
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 400, "{v}");
    v["error"]["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems in {v}"))
        .iter()
        .map(|p| {
            (
                p["field"].as_str().unwrap().to_string(),
                p["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Four anonymous visitors open a survey whose question text is `"<a b"` × 20,000 (80 KB):
/// the old sanitizer took seconds per view on the runtime's threads, so `/healthz` (what a
/// load balancer asks) waited behind them. It is asked every 100 ms for as long as the views
/// run; each answer must come within 10 s — far above what a healthy server needs
/// (milliseconds), far below what the old one made it wait (a view took over a minute).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_question_text_leaves_healthz_answering_during_page_views() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, token) = app.org_user(Role::Editor).await;
    let id = created_id(&app, &token, &one_question_survey(&unclosed_tags(20_000))).await;
    let views: Vec<_> = (0..4)
        .map(|_| {
            let url = app.url(&format!("/s/{id}"));
            tokio::spawn(async move {
                let r = reqwest::get(&url).await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            })
        })
        .collect();
    let health = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    for check in 1.. {
        let started = Instant::now();
        let answer = health.get(app.url("/healthz")).send().await;
        let waited = started.elapsed();
        let answer = answer.map(|r| r.status().as_u16());
        assert!(
            matches!(answer, Ok(200)),
            "/healthz (check {check}) answered {answer:?} after {waited:?} while four page views ran"
        );
        if views.iter().all(|v| v.is_finished()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for view in views {
        let (status, page) = view.await.unwrap();
        assert_eq!(status, 200, "{page}");
        // Still safe: the text shows as text, no tag of it survives.
        assert!(page.contains("&lt;a b&lt;a b"), "the text is shown escaped");
        assert!(!page.contains("<a b"), "no tag of the text survives");
    }
}

/// Each part of a definition has a size limit; going over it is refused before anything is
/// stored, naming the part and the limit.
#[tokio::test]
async fn oversized_parts_of_a_survey_are_refused_naming_the_part_and_the_limit() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;

        let long_text = one_question_survey(&"x".repeat(200 * 1024));
        let found = problems(create(&app, &token, &long_text).await).await;
        assert!(
            found
                .iter()
                .any(|(f, m)| f == "questions[QID1].text" && m.contains("102400")),
            "{backend:?}: {found:?}"
        );

        let mut many_choices: Value = json!({
            "name": "Many choices",
            "blocks": [{"id": "BL_1", "elements": [{"type": "question", "id": "QID1"}]}],
            "questions": [{
                "id": "QID1", "export_tag": "Q1", "text": "Pick one", "type": "multiple_choice",
                "choices": (1..=1001).map(|i| json!({"id": i.to_string(), "text": format!("Choice {i}")})).collect::<Vec<_>>()
            }]
        });
        let found = problems(create(&app, &token, &many_choices.to_string()).await).await;
        assert!(
            found
                .iter()
                .any(|(f, m)| f == "questions[QID1].choices" && m.contains("1000")),
            "{backend:?}: {found:?}"
        );

        // A .qsf is held to the same limits, whatever the importer made of it.
        let mut qsf: Value = serde_json::from_str(&sonde::bench::surveys::big_qsf(50_000)).unwrap();
        let elements = qsf["SurveyElements"].as_array_mut().unwrap();
        let question = elements.iter_mut().find(|e| e["Element"] == "SQ").unwrap();
        question["Payload"]["QuestionText"] = json!("y".repeat(200 * 1024));
        let r = app
            .post(&token, "/api/v1/surveys/import")
            .body(qsf.to_string())
            .send()
            .await
            .unwrap();
        let found = problems(r).await;
        assert!(
            found
                .iter()
                .any(|(f, m)| f == "questions[QID1].text" && m.contains("102400")),
            "{backend:?}: {found:?}"
        );

        // Within the limits the same survey is accepted.
        many_choices["questions"][0]["choices"]
            .as_array_mut()
            .unwrap()
            .truncate(1000);
        created_id(&app, &token, &many_choices.to_string()).await;
    }
}

const TWO_PAGES: &str = r#"{
  "name": "Live edit",
  "blocks": [{"id": "BL_1", "elements": [
    {"type": "question", "id": "QID1"}, {"type": "page_break"}, {"type": "question", "id": "QID2"}
  ]}],
  "questions": [
    {"id": "QID1", "export_tag": "Q1", "text": "First question", "type": "text_entry"},
    {"id": "QID2", "export_tag": "Q2", "text": "Second question, removed later", "type": "text_entry", "required": true}
  ]
}"#;

const ONE_PAGE: &str = r#"{
  "name": "Live edit",
  "blocks": [{"id": "BL_1", "elements": [{"type": "question", "id": "QID1"}]}],
  "questions": [
    {"id": "QID1", "export_tag": "Q1", "text": "First question", "type": "text_entry"}
  ]
}"#;

/// A respondent on page 2 when the survey is edited to drop page 2 reloads the page: they
/// keep the version they started with, finish it, and every answer is stored. A visitor
/// arriving after the edit gets the new version.
#[tokio::test]
async fn editing_a_live_survey_keeps_respondents_on_the_version_they_started() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let id = created_id(&app, &token, TWO_PAGES).await;
        let survey_url = app.url(&format!("/s/{id}"));
        let first = app
            .client
            .get(&survey_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let (status, second) = submit(&app, &id, &first, vec![("QID1".into(), "one".into())]).await;
        assert_eq!(status, 200, "{second}");
        assert!(second.contains("Second question"), "{second}");

        let r = app
            .put(&token, &format!("/api/v1/surveys/{id}"))
            .header("content-type", "application/json")
            .body(ONE_PAGE)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

        // Reload: the resume cookie brings the respondent back to their page.
        let r = app.client.get(&survey_url).send().await.unwrap();
        let status = r.status();
        let reloaded = r.text().await.unwrap();
        assert_eq!(
            status, 200,
            "{backend:?}: reload after the edit:\n{reloaded}"
        );
        assert!(reloaded.contains("Second question"), "{reloaded}");
        let (status, end) = submit(&app, &id, &reloaded, vec![("QID2".into(), "two".into())]).await;
        assert_eq!(status, 200, "{end}");
        assert!(end.contains("Thank"), "{end}");

        let list = app
            .get_json(&token, &format!("/api/v1/surveys/{id}/responses"))
            .await;
        let responses = list["responses"].as_array().unwrap();
        assert_eq!(responses.len(), 1, "{list}");
        assert_eq!(responses[0]["status"], "complete");
        assert_eq!(responses[0]["answers"]["QID1"], "one", "{list}");
        assert_eq!(responses[0]["answers"]["QID2"], "two", "{list}");

        // Someone new answers the survey as it is now: one page, then the end.
        let fresh = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let page = fresh
            .get(&survey_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("First question"), "{page}");
        assert!(!page.contains("Second question"), "{page}");
    }
}

fn with_window(definition: &str, hours: u32) -> String {
    let mut v: Value = serde_json::from_str(definition).unwrap();
    v["options"] = json!({"incomplete_after_hours": hours});
    v.to_string()
}

/// `incomplete_after_hours: 0` closed every response on the next housekeeping tick (and ran
/// its workflows) with no respondent gone. Below one hour is refused on create and update;
/// a `.qsf` asking for less is imported with one hour and a warning saying so.
#[tokio::test]
async fn a_closing_window_under_one_hour_is_refused() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let found = problems(create(&app, &token, &with_window(ONE_PAGE, 0)).await).await;
        assert!(
            found
                .iter()
                .any(|(f, m)| f == "options.incomplete_after_hours" && m.contains("1 hour")),
            "{backend:?}: {found:?}"
        );

        let id = created_id(&app, &token, &with_window(ONE_PAGE, 1)).await;
        let r = app
            .put(&token, &format!("/api/v1/surveys/{id}"))
            .header("content-type", "application/json")
            .body(with_window(ONE_PAGE, 0))
            .send()
            .await
            .unwrap();
        let found = problems(r).await;
        assert!(
            found
                .iter()
                .any(|(f, _)| f == "options.incomplete_after_hours"),
            "{backend:?}: {found:?}"
        );

        let qsf = sonde::bench::surveys::big_qsf(50_000).replace("+1 week", "+0 hours");
        let r = app
            .post(&token, "/api/v1/surveys/import")
            .body(qsf)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        assert!(
            v["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w.as_str().unwrap().contains("incomplete_after_hours")),
            "{v}"
        );
        let imported = app
            .get_json(
                &token,
                &format!("/api/v1/surveys/{}", v["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(
            imported["definition"]["options"]["incomplete_after_hours"], 1,
            "{}",
            imported["definition"]["options"]
        );
    }
}
