//! Writers that meet: concurrent contact upserts, concurrent changes to one response, a large
//! CSV import with responses arriving meanwhile, and opt-outs that every later upsert (API,
//! CSV import, directory workflow task) must leave alone.

use crate::harness::{backends, TestApp};
use crate::workflows::create_workflow;
use engine::Role;
use futures::future::join_all;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Instant;

/// Every contact of the token's organization (the tests stay under the API's page size).
async fn all_contacts(app: &TestApp, token: &str) -> Vec<Value> {
    let v = app.get_json(token, "/api/v1/contacts?limit=1000").await;
    v["contacts"].as_array().unwrap().clone()
}

async fn post_response(app: &TestApp, token: &str, survey: &str) -> u16 {
    app.post(token, &format!("/api/v1/surveys/{survey}/responses"))
        .header("content-type", "application/json")
        .body(sonde::bench::sample_response_body())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn save_contact(app: &TestApp, token: &str, body: &Value) -> Value {
    let r = app
        .post(token, "/api/v1/contacts")
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert!(status == 200 || status == 201, "{status}: {v}");
    v
}

async fn unsubscribe(app: &TestApp, token: &str, id: &str) {
    let r = app
        .post(token, &format!("/api/v1/contacts/{id}/unsubscribe"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn unsubscribed(app: &TestApp, token: &str, id: &str) -> bool {
    let v = app.get_json(token, &format!("/api/v1/contacts/{id}")).await;
    v["unsubscribed"].as_bool().unwrap()
}

async fn opt_out_events(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let v = app
        .get_json(token, &format!("/api/v1/contacts/{id}/opt-out-events"))
        .await;
    v["events"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .clone()
}

async fn import_csv(app: &TestApp, token: &str, csv: String) -> Value {
    let r = app
        .post(token, "/api/v1/contacts/import")
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn concurrent_contact_upserts_succeed_with_one_contact_per_email() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let survey = app.sample_survey(&token).await;
        // 80 upserts of 20 people (four each, in varying case), while responses arrive.
        let upserts = (0..80).map(|i| {
            let (app, token) = (&app, &token);
            async move {
                let email = if i % 2 == 0 {
                    format!("person{}@example.com", i % 20)
                } else {
                    format!("Person{}@Example.com", i % 20)
                };
                let r = app
                    .post(token, "/api/v1/contacts")
                    .json(&json!({"email": email, "firstName": format!("Try {i}")}))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                (status, r.text().await.unwrap())
            }
        });
        let responses = (0..40).map(|_| post_response(&app, &token, &survey));
        let (upserted, posted) = futures::join!(join_all(upserts), join_all(responses));
        for (status, body) in &upserted {
            assert!(
                *status == 200 || *status == 201,
                "{backend:?}: {status} {body}"
            );
        }
        assert!(posted.iter().all(|s| *s == 201), "{backend:?}: {posted:?}");
        let created = upserted.iter().filter(|(s, _)| *s == 201).count();
        assert_eq!(created, 20, "{backend:?}: one creation per person");
        let contacts = all_contacts(&app, &token).await;
        let mut per_email: BTreeMap<String, usize> = BTreeMap::new();
        for c in &contacts {
            *per_email
                .entry(c["email"].as_str().unwrap().to_lowercase())
                .or_default() += 1;
        }
        assert_eq!(per_email.len(), 20, "{backend:?}: {per_email:?}");
        assert!(
            per_email.values().all(|n| *n == 1),
            "{backend:?}: {per_email:?}"
        );
    }
}

#[tokio::test]
async fn an_api_upsert_leaves_an_unsubscribed_contact_unsubscribed() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let c = save_contact(&app, &token, &json!({"email": "ada@example.com"})).await;
        let id = c["id"].as_str().unwrap();
        unsubscribe(&app, &token, id).await;
        for body in [
            json!({"email": "ada@example.com", "firstName": "Ada"}),
            json!({"email": "ADA@example.com", "unsubscribed": false}),
        ] {
            let v = save_contact(&app, &token, &body).await;
            assert_eq!(v["id"], id, "{backend:?}");
            assert_eq!(v["unsubscribed"], true, "{backend:?}: {v}");
        }
        assert!(unsubscribed(&app, &token, id).await, "{backend:?}");
        let events = opt_out_events(&app, &token, id).await;
        assert_eq!(events.len(), 1, "{backend:?}: {events:?}");
    }
}

#[tokio::test]
async fn a_csv_import_leaves_an_unsubscribed_contact_unsubscribed() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let c = save_contact(&app, &token, &json!({"email": "ada@example.com"})).await;
        let id = c["id"].as_str().unwrap();
        unsubscribe(&app, &token, id).await;
        for csv in [
            "Email,FirstName\nada@example.com,Ada\n",
            "Email,LastName,Unsubscribed\nAda@Example.com,Lovelace,no\n",
        ] {
            let report = import_csv(&app, &token, csv.into()).await;
            assert_eq!(report["updated"], 1, "{backend:?}: {report}");
            assert!(unsubscribed(&app, &token, id).await, "{backend:?}: {csv}");
        }
        // An import may unsubscribe, and says so in the history.
        let report = import_csv(
            &app,
            &token,
            "Email,Unsubscribed\ngrace@example.com,yes\n".into(),
        )
        .await;
        assert_eq!(report["created"], 1, "{report}");
        let grace = all_contacts(&app, &token)
            .await
            .into_iter()
            .find(|c| c["email"] == "grace@example.com")
            .unwrap();
        assert_eq!(grace["unsubscribed"], true);
        let events = opt_out_events(&app, &token, grace["id"].as_str().unwrap()).await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["action"], "unsubscribe");
        assert_eq!(events[0]["source"], "import");
        assert_eq!(events[0]["detail"], "line 2");
    }
}

#[tokio::test]
async fn a_directory_workflow_task_leaves_an_unsubscribed_contact_unsubscribed() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let survey = app.sample_survey(&token).await;
        let c = save_contact(
            &app,
            &token,
            &json!({"email": "respondent@example.com", "lastName": "Before"}),
        )
        .await;
        let id = c["id"].as_str().unwrap();
        unsubscribe(&app, &token, id).await;
        create_workflow(
            &app,
            &token,
            &survey,
            &json!({
                "name": "Keep the directory current",
                "tasks": [{"type": "directory", "action": "upsert_contact",
                           "fields": {"email": {"piped": "${q://QID10/ChoiceTextEntryValue}"},
                                      "lastName": {"value": "After"}}}]
            }),
        )
        .await;
        assert_eq!(post_response(&app, &token, &survey).await, 201);
        let report = app.sonde.drain_workflows().await.unwrap();
        assert_eq!(report.succeeded, 1, "{backend:?}: {report:?}");
        let v = app
            .get_json(&token, &format!("/api/v1/contacts/{id}"))
            .await;
        assert_eq!(v["lastName"], "After", "{backend:?}: {v}");
        assert_eq!(v["unsubscribed"], true, "{backend:?}: {v}");
    }
}

#[tokio::test]
async fn resubscribing_clears_an_opt_out_and_every_change_is_recorded() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (editor, token) = app.org_user(Role::Editor).await;
        let (_, viewer) = app.user_in(&editor.org_id, Role::Viewer).await;
        let survey = app.sample_survey(&token).await;
        let c = save_contact(&app, &token, &json!({"email": "ada@example.com"})).await;
        let id = c["id"].as_str().unwrap().to_string();

        // The contact opts out through their signed link.
        let link = app.sonde.opt_out_link(&editor.org_id, &id).unwrap();
        let path = link.strip_prefix(&app.base).unwrap();
        let r = app.client.post(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(unsubscribed(&app, &token, &id).await);

        // Only an editor may resubscribe.
        let path = format!("/api/v1/contacts/{id}/resubscribe");
        let r = app.post(&viewer, &path).send().await.unwrap();
        assert_eq!(r.status(), 403, "{backend:?}");
        assert!(unsubscribed(&app, &token, &id).await);
        let r = app.post(&token, &path).send().await.unwrap();
        assert_eq!(r.status(), 200, "{backend:?}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["unsubscribed"], false, "{v}");

        // A workflow unsubscribes them again.
        create_workflow(
            &app,
            &token,
            &survey,
            &json!({
                "name": "Respect opt-outs",
                "tasks": [{"type": "directory", "action": "unsubscribe",
                           "fields": {"email": {"value": "ada@example.com"}}}]
            }),
        )
        .await;
        assert_eq!(post_response(&app, &token, &survey).await, 201);
        assert_eq!(app.sonde.drain_workflows().await.unwrap().succeeded, 1);
        assert!(unsubscribed(&app, &token, &id).await);

        let events = opt_out_events(&app, &token, &id).await;
        let summary: Vec<(&str, &str)> = events
            .iter()
            .map(|e| (e["action"].as_str().unwrap(), e["source"].as_str().unwrap()))
            .collect();
        assert_eq!(
            summary,
            [
                ("unsubscribe", "opt_out_link"),
                ("resubscribe", "api"),
                ("unsubscribe", "workflow")
            ],
            "{backend:?}: {events:?}"
        );
        assert!(events[0]["actorId"].is_null());
        assert_eq!(events[1]["actorId"], editor.user_id.as_str());
        assert!(events[2]["detail"].as_str().unwrap().starts_with("run RN_"));
        assert!(events.iter().all(|e| e["at"].as_str().is_some()));
        // Viewers may read the history.
        let r = app
            .get(&viewer, &format!("/api/v1/contacts/{id}/opt-out-events"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
}

#[tokio::test]
async fn concurrent_patches_of_one_response_keep_every_change() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let survey = app.sample_survey(&token).await;
        let wf = create_workflow(
            &app,
            &token,
            &survey,
            &json!({
                "name": "Follow changes",
                "event": "response_updated",
                "tasks": [{"type": "directory", "action": "upsert_contact",
                           "fields": {"email": {"value": "follow@example.com"}}}]
            }),
        )
        .await;
        let created: Value = app
            .post(&token, &format!("/api/v1/surveys/{survey}/responses"))
            .json(&json!({"embeddedData": {"Start": "yes"}, "finished": false}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let rid = created["responseId"].as_str().unwrap();
        let path = format!("/api/v1/surveys/{survey}/responses/{rid}");
        let patches = (0..20).map(|i| {
            let (app, token, path) = (&app, &token, &path);
            async move {
                app.client
                    .patch(app.url(path))
                    .bearer_auth(token)
                    .json(&json!({"embeddedData": {format!("Field{i}"): format!("value {i}")}}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        });
        let statuses = join_all(patches).await;
        assert!(
            statuses.iter().all(|s| *s == 200),
            "{backend:?}: {statuses:?}"
        );
        let after = app.get_json(&token, &path).await;
        let data = &after["embeddedData"];
        for i in 0..20 {
            assert_eq!(
                data[format!("Field{i}")],
                format!("value {i}"),
                "{backend:?}: Field{i} lost: {data}"
            );
        }
        assert_eq!(data["Start"], "yes");
        // Every acknowledged change fired the workflow once.
        let runs = app
            .get_json(
                &token,
                &format!("/api/v1/workflows/{}/runs", wf["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(runs["runs"].as_array().unwrap().len(), 20, "{backend:?}");
    }
}

fn people_csv(range: std::ops::Range<usize>, last_name: &str) -> String {
    let mut csv = String::from("FirstName,LastName,Email,Tier\n");
    for i in range {
        csv.push_str(&format!(
            "Person,{last_name},person{i}@example.com,tier {i}\n"
        ));
    }
    csv
}

#[tokio::test]
async fn a_large_import_updates_by_email_reports_row_errors_and_lets_responses_in() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let survey = app.sample_survey(&token).await;
        let person7 = save_contact(&app, &token, &json!({"email": "person7@example.com"})).await;
        let person7 = person7["id"].as_str().unwrap();
        let first = import_csv(&app, &token, people_csv(0..3000, "First")).await;
        assert_eq!(first["created"], 2999, "{backend:?}: {first}");
        assert_eq!(first["updated"], 1, "{backend:?}: {first}");

        // The second file updates those 3,000 (by email, in another case), adds 17,000 more,
        // and has a bad row every thousand lines.
        let mut csv = String::from("FirstName,LastName,Email,Tier\n");
        let mut bad_lines = Vec::new();
        for i in 0..20_000 {
            if i % 1000 == 500 {
                bad_lines.push(i + 2);
                csv.push_str("Bad,Row,not-an-email,x\n");
            } else {
                csv.push_str(&format!("Person,Second,PERSON{i}@example.com,t{i}\n"));
            }
        }
        let r = app
            .post(&token, "/api/v1/contacts/import")
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let import = tokio::spawn(async move {
            let mut r = r;
            let mut body = Vec::new();
            while let Some(chunk) = r.chunk().await.unwrap() {
                body.extend_from_slice(&chunk);
            }
            (Instant::now(), body)
        });
        // The import is under way: responses posted now are answered, not made to wait for
        // the whole file.
        let mut answered = Vec::new();
        while !import.is_finished() {
            let status = post_response(&app, &token, &survey).await;
            answered.push((Instant::now(), status));
        }
        let (import_done, body) = import.await.unwrap();
        let report: Value = serde_json::from_slice(&body).unwrap();
        assert!(answered.iter().all(|(_, s)| *s == 201), "{answered:?}");
        let during = answered.iter().filter(|(t, _)| *t < import_done).count();
        assert!(
            during >= 1,
            "{backend:?}: no response was answered during the import"
        );

        assert_eq!(report["updated"], 2997, "{backend:?}: {report}");
        assert_eq!(
            report["created"],
            20_000 - 20 - 2997,
            "{backend:?}: {report}"
        );
        let lines: Vec<u64> = report["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["line"].as_u64().unwrap())
            .collect();
        assert_eq!(
            lines,
            bad_lines.iter().map(|l| *l as u64).collect::<Vec<_>>(),
            "{backend:?}"
        );
        assert_eq!(report["errors"][0]["column"], "Email");
        let person7 = app
            .get_json(&token, &format!("/api/v1/contacts/{person7}"))
            .await;
        assert_eq!(person7["lastName"], "Second", "{backend:?}: {person7}");
        assert_eq!(person7["embeddedData"]["Tier"], "t7");
    }
}
