//! A survey's lifecycle: a draft nobody can answer, published (respondents get the published
//! version while the builder's changes wait as a draft), closed (links say so); versions kept
//! with their responses, which exports, the responses table and the dashboard read with the
//! labels of the version each was answered under; workflows that would name what a draft
//! removes are named before it is published.

use crate::harness::{backends, TestApp};
use engine::Role;
use serde_json::{json, Value};

async fn send(r: reqwest::RequestBuilder) -> (u16, Value) {
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn link(app: &TestApp, survey: &str) -> (u16, String) {
    let r = reqwest::get(app.url(&format!("/s/{survey}")))
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn colours() -> Value {
    json!({
        "name": "Colours",
        "blocks": [{"id": "BL_1", "elements": [{"type": "question", "id": "QID1"}, {"type": "question", "id": "QID2"}]}],
        "questions": [
            {"id": "QID1", "export_tag": "Colour", "type": "multiple_choice", "text": "Favourite colour?",
             "choices": [{"id": "1", "text": "Red"}, {"id": "2", "text": "Blue"}]},
            {"id": "QID2", "export_tag": "Why", "type": "text_entry", "text": "Why?"}
        ]
    })
}

async fn edit(app: &TestApp, token: &str, survey: &str, body: Value) {
    let (s, v) = send(
        app.post(token, &format!("/api/v1/surveys/{survey}/edits"))
            .json(&body),
    )
    .await;
    assert_eq!(s, 200, "{v}");
}

async fn answer(app: &TestApp, token: &str, survey: &str, answers: Value) -> Value {
    let (s, v) = send(
        app.post(token, &format!("/api/v1/surveys/{survey}/responses"))
            .json(&json!({"answers": answers, "finished": true})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    v
}

#[tokio::test]
async fn a_draft_opens_when_published_and_a_closed_survey_says_so() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let (s, created) = send(
            app.post(&token, "/api/v1/surveys?status=draft")
                .json(&colours()),
        )
        .await;
        assert_eq!(s, 201, "{created}");
        let survey = created["id"].as_str().unwrap().to_string();
        let got = app
            .get_json(&token, &format!("/api/v1/surveys/{survey}"))
            .await;
        assert_eq!(got["status"], "draft", "{got}");

        // A draft: its link leads nowhere, and nothing can be recorded for it.
        let (s, page) = link(&app, &survey).await;
        assert_eq!(s, 404);
        assert!(page.contains("does not exist or is closed"), "{page}");
        let (s, refused) = send(
            app.post(&token, &format!("/api/v1/surveys/{survey}/responses"))
                .json(&json!({"answers": {"QID1": {"selected": ["1"]}}, "finished": true})),
        )
        .await;
        assert_eq!(s, 409, "{refused}");
        assert!(refused.to_string().contains("draft"), "{refused}");
        let (s, v) = send(app.get(&token, &format!("/api/v1/surveys/{survey}/versions"))).await;
        assert_eq!(
            (s, v["versions"].as_array().unwrap().len()),
            (200, 0),
            "{v}"
        );

        // Published: the link opens, v1 is listed.
        let (s, published) =
            send(app.post(&token, &format!("/api/v1/surveys/{survey}/publish"))).await;
        assert_eq!(s, 200, "{published}");
        assert_eq!(published["status"], "published");
        let (s, page) = link(&app, &survey).await;
        assert_eq!(s, 200);
        assert!(page.contains("Favourite colour?"));
        let v = app
            .get_json(&token, &format!("/api/v1/surveys/{survey}/versions"))
            .await;
        assert_eq!(v["versions"][0]["number"], 1, "{v}");

        // Closed: the link says so (410) and responses are refused; reopened, it opens again.
        let (s, closed) = send(app.post(&token, &format!("/api/v1/surveys/{survey}/close"))).await;
        assert_eq!(
            (s, closed["status"].as_str()),
            (200, Some("closed")),
            "{closed}"
        );
        let (s, page) = link(&app, &survey).await;
        assert_eq!(s, 410);
        assert!(page.contains("is closed"), "{page}");
        assert!(page.contains("Colours"), "{page}");
        let (s, _) = send(
            app.post(&token, &format!("/api/v1/surveys/{survey}/responses"))
                .json(&json!({"answers": {}, "finished": false})),
        )
        .await;
        assert_eq!(s, 409);
        let (s, _) = send(app.post(&token, &format!("/api/v1/surveys/{survey}/reopen"))).await;
        assert_eq!(s, 200);
        assert_eq!(link(&app, &survey).await.0, 200);

        // Unknown values are refused by name.
        let (s, v) = send(
            app.post(&token, "/api/v1/surveys?status=live")
                .json(&colours()),
        )
        .await;
        assert_eq!(s, 400);
        assert!(v.to_string().contains("status"), "{v}");
    }
}

#[tokio::test]
async fn changes_wait_as_a_draft_and_each_response_keeps_its_versions_labels() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (me, token) = app.org_user(Role::Editor).await;
        let (s, created) = send(app.post(&token, "/api/v1/surveys").json(&colours())).await;
        assert_eq!(s, 201, "{created}");
        let survey = created["id"].as_str().unwrap().to_string();
        let first = answer(
            &app,
            &token,
            &survey,
            json!({"QID1": {"selected": ["2"]}, "QID2": "the sea"}),
        )
        .await;
        assert_eq!(first["values"]["labels"]["Colour"], "Blue", "{first}");

        // The builder renames Red, deletes Blue and the Why question: a draft until published.
        edit(&app, &token, &survey, json!({"op": "replace_question", "question_id": "QID1", "question":
            {"id": "QID1", "export_tag": "Colour", "type": "multiple_choice", "text": "Favourite colour?",
             "choices": [{"id": "1", "text": "Crimson"}, {"id": "3", "text": "Green"}]}})).await;
        edit(
            &app,
            &token,
            &survey,
            json!({"op": "delete_question", "question_id": "QID2"}),
        )
        .await;
        let got = app
            .get_json(&token, &format!("/api/v1/surveys/{survey}"))
            .await;
        assert_eq!(got["status"], "published");
        assert!(got["draftVersion"].is_i64(), "{got}");
        assert!(
            got.to_string().contains("Blue"),
            "respondents still get v1: {got}"
        );
        let draft = app
            .get_json(&token, &format!("/api/v1/surveys/{survey}?version=draft"))
            .await;
        assert!(draft.to_string().contains("Crimson"), "{draft}");
        let (_, page) = link(&app, &survey).await;
        assert!(page.contains("Blue") && !page.contains("Crimson"), "{page}");

        let (s, v) = send(
            app.post(&token, &format!("/api/v1/surveys/{survey}/publish"))
                .json(&json!({})),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        let (_, page) = link(&app, &survey).await;
        assert!(page.contains("Crimson") && !page.contains("Blue"), "{page}");
        let second = answer(&app, &token, &survey, json!({"QID1": {"selected": ["1"]}})).await;
        assert_eq!(second["values"]["labels"]["Colour"], "Crimson", "{second}");
        let versions = app
            .get_json(&token, &format!("/api/v1/surveys/{survey}/versions"))
            .await;
        let numbers: Vec<(i64, i64)> = versions["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["number"].as_i64().unwrap(),
                    v["responses"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(numbers, vec![(2, 1), (1, 1)], "{versions}");

        // The API's listing: each response with its own version's labels.
        let listed = app
            .get_json(&token, &format!("/api/v1/surveys/{survey}/responses"))
            .await;
        let labels: Vec<String> = listed["responses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["values"]["labels"]["Colour"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(labels, vec!["Blue", "Crimson"], "{listed}");
        let v1 = first["surveyVersion"].as_i64().unwrap();
        let old = app
            .get_json(&token, &format!("/api/v1/surveys/{survey}?version={v1}"))
            .await;
        assert!(old.to_string().contains("Blue"), "{old}");

        // The CSV keeps the deleted question's column with the v1 answer.
        let csv = app
            .get(
                &token,
                &format!("/api/v1/surveys/{survey}/responses?format=csv"),
            )
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let header = csv.lines().next().unwrap();
        assert!(header.contains("Colour") && header.contains("Why"), "{csv}");
        assert!(csv.contains("the sea"), "{csv}");

        // The admin UI's table: both labels, each row with its version.
        let web = app.sign_in(&me.email).await;
        let (s, page) = app
            .web_get(&web, &format!("/surveys/{survey}/responses"))
            .await;
        assert_eq!(s, 200);
        for shown in ["Blue", "Crimson", "v1", "v2", "the sea"] {
            assert!(page.contains(shown), "{shown} in {page}");
        }
        let (_, page) = app
            .web_get(&web, &format!("/surveys/{survey}/export.json"))
            .await;
        assert!(
            page.contains("\"Blue\"") && page.contains("\"Crimson\""),
            "{page}"
        );

        // The dashboard counts Blue under its old label, marked as an earlier version's.
        let d = app
            .get_json(&token, &format!("/api/v1/surveys/{survey}/dashboard"))
            .await;
        let q = d["questions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["questionId"] == "QID1")
            .cloned()
            .unwrap();
        let choices: Vec<(String, u64, bool)> = q["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["label"].as_str().unwrap().to_string(),
                    c["count"].as_u64().unwrap(),
                    c["removed"].as_bool().unwrap_or(false),
                )
            })
            .collect();
        assert_eq!(
            choices,
            vec![
                ("Crimson".to_string(), 1, false),
                ("Green".to_string(), 0, false),
                ("Blue".to_string(), 1, true)
            ],
            "{q}"
        );
        assert_eq!(q["unlisted"].as_u64().unwrap_or(0), 0, "{q}");

        // The survey page: published v2, the versions listed; a script's PUT may keep a draft.
        let (_, page) = app.web_get(&web, &format!("/surveys/{survey}")).await;
        assert!(page.contains("id=\"survey-status\""), "{page}");
        assert!(page.contains(" v2 "), "{page}");
        let mut def: Value = draft["definition"].clone();
        def["end_message"] = json!("Thanks, kept for later");
        let (s, v) = send(
            app.put(&token, &format!("/api/v1/surveys/{survey}?publish=false"))
                .json(&def),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        let got = app
            .get_json(&token, &format!("/api/v1/surveys/{survey}"))
            .await;
        assert!(got["draftVersion"].is_i64(), "{got}");
        let (_, page) = app.web_get(&web, &format!("/surveys/{survey}")).await;
        assert!(
            page.contains("id=\"unpublished-changes\"") && page.contains("id=\"publish\""),
            "{page}"
        );
    }
}

#[tokio::test]
async fn workflows_naming_what_a_draft_removes_are_named_before_it_is_published() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (me, token) = app.org_user(Role::Editor).await;
        let (_, created) = send(app.post(&token, "/api/v1/surveys").json(&colours())).await;
        let survey = created["id"].as_str().unwrap().to_string();
        let (s, wf) = send(app.post(&token, &format!("/api/v1/surveys/{survey}/workflows")).json(&json!({
            "name": "Reasons to the directory",
            "tasks": [{"type": "directory", "action": "upsert_contact",
                       "fields": {"email": {"value": "a@example.com"}, "firstName": {"piped": "${q://QID2/ChoiceTextEntryValue}"}}}]
        }))).await;
        assert_eq!(s, 201, "{wf}");
        edit(
            &app,
            &token,
            &survey,
            json!({"op": "delete_question", "question_id": "QID2"}),
        )
        .await;

        let check = app
            .get_json(&token, &format!("/api/v1/surveys/{survey}/publish-check"))
            .await;
        let at_risk = check["workflowsAtRisk"].as_array().unwrap();
        assert_eq!(at_risk.len(), 1, "{check}");
        assert_eq!(at_risk[0]["name"], "Reasons to the directory");
        assert!(
            at_risk[0]["problems"].to_string().contains("QID2"),
            "{check}"
        );
        assert_eq!(check["number"], 2);

        // Refused by name, unless published anyway.
        let (s, refused) =
            send(app.post(&token, &format!("/api/v1/surveys/{survey}/publish"))).await;
        assert_eq!(s, 400, "{refused}");
        assert!(
            refused.to_string().contains("Reasons to the directory"),
            "{refused}"
        );
        assert!(app
            .get_json(&token, &format!("/api/v1/surveys/{survey}"))
            .await["draftVersion"]
            .is_i64());

        // The UI asks first, naming the workflow; "Publish anyway" publishes.
        let web = app.sign_in(&me.email).await;
        let (s, page) = app
            .web_post(&web, &format!("/surveys/{survey}/publish"), &[])
            .await;
        assert_eq!(s, 200, "{page}");
        assert!(
            page.contains("id=\"workflows-at-risk\"") && page.contains("Reasons to the directory"),
            "{page}"
        );
        let (s, _) = app
            .web_post(
                &web,
                &format!("/surveys/{survey}/publish"),
                &[("despite_workflows", "1")],
            )
            .await;
        assert_eq!(s, 303);
        let got = app
            .get_json(&token, &format!("/api/v1/surveys/{survey}"))
            .await;
        assert!(got["draftVersion"].is_null(), "{got}");
        assert!(!got.to_string().contains("Why?"), "{got}");
        // Nothing left to check once published.
        let check = app
            .get_json(&token, &format!("/api/v1/surveys/{survey}/publish-check"))
            .await;
        assert_eq!(
            check["workflowsAtRisk"].as_array().unwrap().len(),
            0,
            "{check}"
        );
    }
}
