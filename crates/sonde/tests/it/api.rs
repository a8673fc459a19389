//! `/api/v1` as a client sees it: authentication, roles, survey import, responses, export,
//! the directory, and the OpenAPI document.

use crate::harness::{backends, qsf_dir, TestApp};
use engine::Role;
use serde_json::{json, Value};

#[tokio::test]
async fn every_sample_qsf_imports_over_http_and_reads_back() {
    let app = TestApp::spawn(crate::harness::Backend::Sqlite).await;
    let (_, token) = app.org_user(Role::Editor).await;
    let mut files: Vec<_> = std::fs::read_dir(qsf_dir())
        .expect("shared/conformance/qsf beside the repo")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "qsf"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "expected the sample .qsf files, found {}",
        files.len()
    );
    for file in files {
        let body = std::fs::read(&file).unwrap();
        let r = app
            .post(&token, "/api/v1/surveys/import")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, 201, "{}: {v}", file.display());
        assert!(v["warnings"].is_array());
        let id = v["id"].as_str().unwrap();
        let got = app.get_json(&token, &format!("/api/v1/surveys/{id}")).await;
        assert_eq!(got["id"], id);
        assert!(
            got["definition"]["questions"]
                .as_array()
                .is_some_and(|q| !q.is_empty()),
            "{}",
            file.display()
        );
    }
}

#[tokio::test]
async fn malformed_qsf_is_refused_with_line_and_column() {
    let app = TestApp::spawn(crate::harness::Backend::Sqlite).await;
    let (_, token) = app.org_user(Role::Editor).await;
    let r = app
        .post(&token, "/api/v1/surveys/import")
        .body("{\n  \"SurveyEntry\": {\"SurveyName\": \"x\",\n  oops }")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    let field = v["error"]["problems"][0]["field"].as_str().unwrap();
    assert!(field.starts_with("line 3, column"), "{v}");
    // Valid JSON that is not a survey export is refused too, with a message saying so.
    let r = app
        .post(&token, "/api/v1/surveys/import")
        .body("[1,2]")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(app
        .sonde
        .surveys(&app.org_user(Role::Admin).await.0)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn authentication_and_roles_are_enforced() {
    let app = TestApp::spawn(crate::harness::Backend::Sqlite).await;
    let r = app
        .client
        .get(app.url("/api/v1/surveys"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let r = app
        .get("sonde_forged", "/api/v1/surveys")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (viewer, viewer_token) = app.org_user(Role::Viewer).await;
    let r = app
        .post(&viewer_token, "/api/v1/surveys/import")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Metrics are for admins.
    let r = app.get(&viewer_token, "/metrics").send().await.unwrap();
    assert_eq!(r.status(), 403);
    let (_, admin_token) = app.user_in(&viewer.org_id, Role::Admin).await;
    let r = app.get(&admin_token, "/metrics").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("sonde_http_requests_total"));
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn responses_are_created_listed_and_exported() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let id = app.sample_survey(&token).await;
        let def = survey::sample::sample_definition();
        let answers = sonde::bench::complete_answers(&def);
        let r = app
            .post(&token, &format!("/api/v1/surveys/{id}/responses"))
            .json(&json!({"answers": answers, "embeddedData": {"ContactId": "0035g00000XyZAAA"}, "finished": true}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let created: Value = r.json().await.unwrap();
        assert_eq!(status, 201, "{backend:?}: {created}");
        let rid = created["responseId"].as_str().unwrap().to_string();
        assert!(rid.starts_with("R_") && rid.len() == 17);
        assert_eq!(created["status"], "complete");
        assert_eq!(created["embeddedData"]["ContactId"], "0035g00000XyZAAA");

        // A finished response missing a required answer is refused, naming the question.
        let required = def
            .questions
            .iter()
            .find(|q| q.required)
            .expect("sample has a required question");
        let mut partial = answers.clone();
        partial.remove(&required.id);
        let r = app
            .post(&token, &format!("/api/v1/surveys/{id}/responses"))
            .json(&json!({"answers": partial, "finished": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let v: Value = r.json().await.unwrap();
        assert!(v.to_string().contains(&required.id), "{v}");
        // A wrong type is refused too.
        let r = app
            .post(&token, &format!("/api/v1/surveys/{id}/responses"))
            .json(&json!({"answers": {required.id.clone(): {"selected": ["no-such-choice"]}}, "finished": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);

        let list = app
            .get_json(&token, &format!("/api/v1/surveys/{id}/responses"))
            .await;
        assert_eq!(list["responses"].as_array().unwrap().len(), 1);
        let one: Value = app
            .get_json(&token, &format!("/api/v1/surveys/{id}/responses/{rid}"))
            .await;
        assert_eq!(one["responseId"], rid);

        let csv = app
            .get(
                &token,
                &format!("/api/v1/surveys/{id}/responses?format=csv"),
            )
            .send()
            .await
            .unwrap();
        assert!(csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let text = csv.text().await.unwrap();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 3, "header, labels, one response");
        let header: Vec<&str> = rows[0].iter().collect();
        let pos = |k: &str| {
            header
                .iter()
                .position(|h| *h == k)
                .unwrap_or_else(|| panic!("column {k} in {header:?}"))
        };
        assert_eq!(&rows[2][pos("ResponseId")], rid.as_str());
        assert_eq!(&rows[2][pos("ContactId")], "0035g00000XyZAAA");
        for q in def
            .questions
            .iter()
            .filter(|q| matches!(q.kind, survey::QuestionKind::Nps { .. }))
        {
            assert_eq!(&rows[2][pos(&q.export_tag)], "9");
        }
    }
}

#[tokio::test]
async fn recorded_responses_can_be_changed_but_not_ones_in_progress() {
    let app = TestApp::spawn(crate::harness::Backend::Sqlite).await;
    let (_, token) = app.org_user(Role::Editor).await;
    let id = app.sample_survey(&token).await;
    let created: Value = app
        .post(&token, &format!("/api/v1/surveys/{id}/responses"))
        .json(&json!({"embeddedData": {"ContactId": "003A", "OptOut": "False"}, "finished": false}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rid = created["responseId"].as_str().unwrap();
    let path = format!("/api/v1/surveys/{id}/responses/{rid}");
    let r = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&token)
        .json(
            &json!({"answers": {"QID3": 7}, "embeddedData": {"ContactId": "003B", "OptOut": null}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v = app.get_json(&token, &path).await;
    assert_eq!(v["answers"]["QID3"], 7.0);
    assert_eq!(v["embeddedData"]["ContactId"], "003B");
    assert!(v["embeddedData"].get("OptOut").is_none());
    // An answer that does not fit is refused and nothing changes.
    let r = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&token)
        .json(&json!({"answers": {"QID3": 11}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(app.get_json(&token, &path).await["answers"]["QID3"], 7.0);
    // A response still being answered (its first page submitted) belongs to its respondent.
    let page = app
        .client
        .get(app.url(&format!("/s/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let fields = vec![("QID3".into(), "10".into()), ("QID4".into(), "1".into())];
    let (status, page) = crate::harness::submit(&app, &id, &page, fields).await;
    assert_eq!(status, 200, "{page}");
    let open_id = &crate::harness::hidden(&page, "_response");
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/surveys/{id}/responses/{open_id}")))
        .bearer_auth(&token)
        .json(&json!({"embeddedData": {"x": "y"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
}

#[tokio::test]
async fn directory_over_the_api() {
    let app = TestApp::spawn(crate::harness::Backend::Sqlite).await;
    let (_, token) = app.org_user(Role::Editor).await;
    let list: Value = app
        .post(&token, "/api/v1/mailing-lists")
        .json(&json!({"name": "Customers"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list_id = list["id"].as_str().unwrap();
    let csv = "FirstName,LastName,Email,Phone,Tier\nAda,Lovelace,ada@example.com,+44 20 7946 0958,gold\nBad,Row,not-an-email,,\nGrace,Hopper,grace@example.com,+1 415 555 0100,silver\n";
    let r = app
        .post(&token, &format!("/api/v1/contacts/import?listId={list_id}"))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["created"], 2, "{report}");
    assert_eq!(report["errors"][0]["line"], 3, "{report}");
    let contacts: Value = app
        .get_json(&token, &format!("/api/v1/contacts?listId={list_id}"))
        .await;
    let contacts = contacts["contacts"].as_array().unwrap();
    assert_eq!(contacts.len(), 2);
    let ada = contacts
        .iter()
        .find(|c| c["email"] == "ada@example.com")
        .unwrap();
    assert_eq!(ada["embeddedData"]["Tier"], "gold");
    let r = app
        .post(
            &token,
            &format!(
                "/api/v1/contacts/{}/unsubscribe",
                ada["id"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["unsubscribed"], true);
    // A bad contact names the field.
    let r = app
        .post(&token, "/api/v1/contacts")
        .json(&json!({"email": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["problems"][0]["field"], "email");
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = TestApp::spawn(crate::harness::Backend::Sqlite).await;
    let (_, token) = app.org_user(Role::Admin).await;
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for (method, path, _) in web::openapi::OPERATIONS {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing from the document"
        );
        let concrete = path
            .replace("{id}", "SV_none")
            .replace("{responseId}", "R_none");
        let method_name = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let req = app
            .client
            .request(method_name, app.url(&format!("/api/v1{concrete}")))
            .bearer_auth(&token);
        let r = req.body("{}").send().await.unwrap();
        assert_ne!(r.status(), 405, "{method} {path} not routed");
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert_ne!(
            body["error"]["message"], "endpoint not found",
            "{method} {path} not routed"
        );
    }
}
