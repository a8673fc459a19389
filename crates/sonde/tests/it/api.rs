//! `/api/v1` as a client sees it: authentication, roles, survey import, responses, export,
//! the directory (the OpenAPI document is checked in `api_doc`).

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
async fn responses_are_selected_by_status_and_start_date() {
    use store::responses::ResponseStatus::{Complete, InProgress};
    let at = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis()
    };
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (actor, token) = app.org_user(Role::Editor).await;
        let id = app.sample_survey(&token).await;
        let data = survey::ResponseData::default();
        let mut started = Vec::new();
        for (when, status) in [
            ("2026-10-31T23:59:59Z", Complete),
            ("2026-11-01T00:00:00Z", Complete),
            ("2026-11-15T12:00:00Z", InProgress),
            ("2026-11-30T23:59:59Z", Complete),
            ("2026-12-01T00:00:00Z", Complete),
        ] {
            let rid =
                crate::harness::insert_response(&app, &actor.org_id, &id, status, at(when), &data)
                    .await;
            started.push(rid);
        }
        let ids = |query: &str| {
            let app = &app;
            let token = &token;
            let id = &id;
            let query = query.to_string();
            async move {
                let r = app
                    .get(token, &format!("/api/v1/surveys/{id}/responses?{query}"))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let v: Value = r.json().await.unwrap();
                let got: Vec<String> = v["responses"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|r| r["responseId"].as_str().unwrap().to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                (status, got, v)
            }
        };
        // Days are whole UTC days, `until` included.
        let (s, got, v) = ids("since=2026-11-01&until=2026-11-30").await;
        assert_eq!((s, &got), (200, &started[1..4].to_vec()), "{v}");
        // Instants: since is inclusive, until exclusive.
        let (_, got, _) = ids("since=2026-11-15T12:00:00Z&until=2026-12-01T00:00:00Z").await;
        assert_eq!(got, started[2..4].to_vec());
        let (_, got, _) = ids("since=2026-11-01T01:00:00%2B01:00").await;
        assert_eq!(got, started[1..].to_vec(), "an offset is honoured");
        // With a status, and paged.
        let (_, got, _) = ids("status=complete&since=2026-11-01&until=2026-11-30").await;
        assert_eq!(got, vec![started[1].clone(), started[3].clone()]);
        let (_, got, page) = ids("since=2026-11-01&limit=2").await;
        assert_eq!(got, started[1..3].to_vec());
        let next = page["next"].as_str().expect("a next page").to_string();
        let (_, got, _) = ids(&format!("since=2026-11-01&limit=2&after={next}")).await;
        assert_eq!(got, started[3..].to_vec());

        // The CSV export takes the same selection.
        let csv = app
            .get(
                &token,
                &format!("/api/v1/surveys/{id}/responses?format=csv&since=2026-11-01&until=2026-11-30&status=complete"),
            )
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let rows = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(csv.as_bytes())
            .records()
            .count();
        assert_eq!(rows, 2 + 2, "header, labels and the two selected: {csv}");

        // What cannot be read is refused, naming the parameter.
        for (query, field) in [
            ("since=yesterday", "since"),
            ("until=2026-13-01", "until"),
            ("since=2026-11-02&until=2026-11-01", "until"),
            ("status=done", "status"),
        ] {
            let (s, _, v) = ids(query).await;
            assert_eq!(s, 400, "{query}: {v}");
            assert_eq!(v["error"]["problems"][0]["field"], field, "{query}: {v}");
        }
    }
}

#[tokio::test]
async fn a_contact_import_report_names_unknown_languages() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let csv = "Email,FirstName,Language\n\
            ada@example.com,Ada,EN\n\
            cy@example.com,Cy,ZZ\n\
            di@example.com,Di,zz\n\
            ed@example.com,Ed,pt-BR\n";
        let r = app
            .post(&token, "/api/v1/contacts/import")
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let report: Value = r.json().await.unwrap();
        assert_eq!(report["created"], 4, "{report}");
        let unknown = report["unknownLanguages"].as_array().expect("listed");
        assert_eq!(unknown.len(), 1, "{report}");
        assert_eq!(unknown[0]["contacts"], 2, "{report}");
        assert_eq!(unknown[0]["lines"], json!([3, 4]), "{report}");
        assert!(
            unknown[0]["code"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case("zz"),
            "{report}"
        );
    }
}
