//! The survey builder's API: a survey made one change at a time through
//! `POST /api/v1/surveys/{id}/edits`, each stored as the next version, refused changes named by
//! field with nothing changed, and a change from an older version refused.

use crate::harness::{backends, TestApp};
use engine::Role;
use serde_json::{json, Value};

async fn edit(app: &TestApp, token: &str, survey: &str, body: Value) -> (u16, Value) {
    let r = app
        .post(token, &format!("/api/v1/surveys/{survey}/edits"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn definition(app: &TestApp, token: &str, survey: &str) -> Value {
    app.get_json(token, &format!("/api/v1/surveys/{survey}?version=draft"))
        .await["definition"]
        .clone()
}

#[tokio::test]
async fn a_survey_is_built_one_change_at_a_time_and_refusals_change_nothing() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (admin, token) = app.org_user(Role::Admin).await;
        let empty: survey::SurveyDefinition = serde_json::from_value(json!({
            "name": "Built in the browser", "blocks": [], "questions": []
        }))
        .unwrap();
        let survey = app.create_survey(&token, &empty).await;

        let (s, block) = edit(
            &app,
            &token,
            &survey,
            json!({"op": "add_block", "description": "Start"}),
        )
        .await;
        assert_eq!(s, 200, "{block}");
        assert_eq!(block["created"], "BL_1");
        let (s, nps) = edit(&app, &token, &survey, json!({"op": "add_question", "block_id": "BL_1",
            "question": {"id": "", "export_tag": "", "type": "nps", "text": "Recommend us?", "required": true}})).await;
        assert_eq!(s, 200, "{nps}");
        assert_eq!(nps["created"], "QID1");
        let (s, choice) = edit(&app, &token, &survey, json!({"op": "add_question", "block_id": "BL_1",
            "question": {"id": "", "export_tag": "Drink", "type": "multiple_choice", "text": "Which?",
                         "choices": [{"id": "1", "text": "Tea"}, {"id": "2", "text": "Other", "text_entry": true}]}})).await;
        assert_eq!(s, 200, "{choice}");
        let (s, flow) = edit(&app, &token, &survey, json!({"op": "set_flow", "flow": [
            {"type": "embedded_data", "fields": [{"name": "sfContactId", "value": {"from": "url"}}]},
            {"type": "block", "block_id": "BL_1"},
            {"type": "branch", "condition": {"type": "answer", "question": "QID1", "op": "less_than", "value": "7"},
             "flow": [{"type": "end_survey", "message": "Sorry to hear it."}]}]})).await;
        assert_eq!(s, 200, "{flow}");
        let version = flow["version"].as_i64().unwrap();
        assert_eq!(nps["version"].as_i64().unwrap() + 2, version);

        // An empty choice list: refused beside the question, nothing stored.
        let before = definition(&app, &token, &survey).await;
        let (s, refused) = edit(&app, &token, &survey, json!({"op": "replace_question", "question_id": "QID2",
            "question": {"id": "QID2", "export_tag": "Drink", "type": "multiple_choice", "text": "Which?", "choices": []}})).await;
        assert_eq!(s, 400, "{refused}");
        assert!(
            refused.to_string().contains("questions[QID2].choices"),
            "{refused}"
        );
        // A branch on the question: it cannot be deleted.
        let (s, refused) = edit(
            &app,
            &token,
            &survey,
            json!({"op": "delete_question", "question_id": "QID1"}),
        )
        .await;
        assert_eq!(s, 400, "{refused}");
        assert!(
            refused.to_string().contains("flow[2].condition"),
            "{refused}"
        );
        // An embedded data name declared twice.
        let (s, refused) = edit(&app, &token, &survey, json!({"op": "set_flow", "flow": [
            {"type": "embedded_data", "fields": [{"name": "sfContactId", "value": {"from": "url"}},
                                                 {"name": "sfContactId", "value": {"from": "url"}}]},
            {"type": "block", "block_id": "BL_1"}]})).await;
        assert_eq!(s, 400, "{refused}");
        assert!(
            refused.to_string().contains("flow[0].fields[1].name"),
            "{refused}"
        );
        assert_eq!(definition(&app, &token, &survey).await, before);

        // From an older version: refused; from the current one: done.
        let r = app
            .post(
                &token,
                &format!(
                    "/api/v1/surveys/{survey}/edits?expectedVersion={}",
                    version - 1
                ),
            )
            .json(&json!({"op": "copy_question", "question_id": "QID2"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let r = app
            .post(
                &token,
                &format!("/api/v1/surveys/{survey}/edits?expectedVersion={version}"),
            )
            .json(&json!({"op": "copy_question", "question_id": "QID2"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let def = definition(&app, &token, &survey).await;
        assert_eq!(
            def["blocks"][0]["elements"].as_array().unwrap().len(),
            3,
            "{def}"
        );

        // Built as a draft of the published survey: published, it takes a response through
        // the API.
        let r = app
            .post(&token, &format!("/api/v1/surveys/{survey}/publish"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let r = app
            .post(&token, &format!("/api/v1/surveys/{survey}/responses"))
            .json(&json!({"finished": true, "answers": {"QID1": 9}}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());

        // Exported as .qsf and imported again (as into another Sonde): the same definition.
        let r = app
            .get(&token, &format!("/api/v1/surveys/{survey}?format=qsf"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("survey.qsf"));
        let qsf = r.text().await.unwrap();
        let parsed: Value = serde_json::from_str(&qsf).unwrap();
        assert!(
            parsed["SurveyEntry"]["SurveyName"] == "Built in the browser",
            "{parsed}"
        );
        let r = app
            .post(&token, "/api/v1/surveys/import")
            .header("content-type", "application/json")
            .body(qsf)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let copy: Value = r.json().await.unwrap();
        let copy = copy["id"].as_str().unwrap();
        assert_eq!(
            definition(&app, &token, copy).await,
            definition(&app, &token, &survey).await
        );
        let r = app
            .get(&token, &format!("/api/v1/surveys/{survey}?format=xml"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);

        // A viewer may not change it; another organization does not see it.
        let (_, viewer) = app.user_in(&admin.org_id, Role::Viewer).await;
        let (s, _) = edit(&app, &viewer, &survey, json!({"op": "add_block"})).await;
        assert_eq!(s, 403);
        let (_, stranger) = app.org_user(Role::Admin).await;
        let (s, _) = edit(&app, &stranger, &survey, json!({"op": "add_block"})).await;
        assert_eq!(s, 404);
    }
}

#[tokio::test]
async fn changes_at_the_same_moment_are_never_lost() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let one_block: survey::SurveyDefinition = serde_json::from_value(json!({
            "name": "Raced", "blocks": [{"id": "BL_1", "elements": []}], "questions": []
        }))
        .unwrap();
        let survey = app.create_survey(&token, &one_block).await;
        let add = |text: String| {
            json!({"op": "add_question", "block_id": "BL_1",
                   "question": {"id": "", "export_tag": "", "type": "text_entry", "text": text}})
        };
        // Ten people adding a question at once, none naming a version: all ten are kept.
        let edits = (0..10).map(|i| edit(&app, &token, &survey, add(format!("Question {i}"))));
        let done = futures::future::join_all(edits).await;
        assert!(done.iter().all(|(s, _)| *s == 200), "{done:?}");
        let def = definition(&app, &token, &survey).await;
        assert_eq!(def["questions"].as_array().unwrap().len(), 10, "{def}");

        // Two made from the same version: one is stored, the other refused.
        let version = app
            .get_json(&token, &format!("/api/v1/surveys/{survey}"))
            .await["draftVersion"]
            .as_i64()
            .unwrap();
        let both = (0..2).map(|i| {
            app.post(
                &token,
                &format!("/api/v1/surveys/{survey}/edits?expectedVersion={version}"),
            )
            .json(&add(format!("Late {i}")))
            .send()
        });
        let mut statuses: Vec<u16> = futures::future::join_all(both)
            .await
            .into_iter()
            .map(|r| r.unwrap().status().as_u16())
            .collect();
        statuses.sort();
        assert_eq!(statuses, vec![200, 409]);
    }
}
