//! The OpenAPI document against what is served: every `/api/v1` route of the router's table is
//! documented with its method (and nothing else is), and real requests and responses of a
//! running app validate against the document's schemas.

use crate::harness::{backends, link_sfsim, qsf_dir, start_sfsim, use_sfsim, TestApp};
use engine::Role;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

mod deletions;
mod discover_accounts;
mod distributions;

async fn fetch_document(app: &TestApp) -> Value {
    let r = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn every_routed_api_operation_is_documented_and_nothing_else() {
    let app = TestApp::spawn(crate::harness::Backend::Sqlite).await;
    let doc = fetch_document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let prefix = web::routes::API_PREFIX;
    assert_eq!(doc["servers"][0]["url"], prefix);
    let routed: BTreeSet<(String, String)> = web::routes::table()
        .into_iter()
        .filter_map(|r| {
            let path = r.path.strip_prefix(prefix)?;
            Some((r.method.as_str().to_lowercase(), path.to_string()))
        })
        .collect();
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| !matches!(k.as_str(), "parameters" | "summary" | "description"))
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routed but not documented: {undocumented:?}; documented but not routed: {unrouted:?}"
    );
    // Every documented operation has a schema for its JSON body and each answer it gives.
    for (method, path) in &documented {
        let op = &doc["paths"][path][method];
        let json_body = &op["requestBody"]["content"]["application/json"];
        if !json_body.is_null() {
            assert!(
                json_body["schema"].is_object(),
                "{method} {path}: request body without a schema"
            );
        }
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{method} {path}: no success answer documented"
        );
        for (status, response) in responses {
            assert!(
                response["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{method} {path} {status}: no description"
            );
            for (kind, media) in response["content"].as_object().into_iter().flatten() {
                assert!(
                    media["schema"].is_object(),
                    "{method} {path} {status} {kind}: no schema"
                );
            }
        }
    }
}

/// The document's schemas, and the operations a test checked against them.
struct Doc {
    doc: Value,
    checked: BTreeSet<String>,
}

impl Doc {
    fn operation(&self, method: &Method, template: &str) -> &Value {
        let op = &self.doc["paths"][template][method.as_str().to_lowercase()];
        assert!(op.is_object(), "{method} {template} is not documented");
        op
    }

    /// Validates `instance` against `schema`, its `$ref`s resolved in the document.
    fn validate(&self, schema: &Value, instance: &Value, what: &str) {
        let errors = self.errors(schema, instance, what);
        assert!(
            errors.is_empty(),
            "{what} does not match the document:\n{}\ninstance: {instance:#}\nschema: {schema}",
            errors.join("\n")
        );
    }

    fn errors(&self, schema: &Value, instance: &Value, what: &str) -> Vec<String> {
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.doc["components"],
            "allOf": [schema],
        });
        let validator = jsonschema::draft202012::new(&root)
            .unwrap_or_else(|e| panic!("{what}: the document's schema does not compile: {e}"));
        validator
            .iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    /// Sends the request, checking its JSON body and the answer against the operation's schemas;
    /// answers the status and the body (JSON, or a string for other content types).
    async fn call(
        &mut self,
        app: &TestApp,
        token: &str,
        method: Method,
        template: &str,
        params: &[&str],
        body: Option<Body>,
    ) -> (u16, Value) {
        let (template, query) = match template.split_once('?') {
            Some((t, q)) => (t, format!("?{q}")),
            None => (template, String::new()),
        };
        let op = self.operation(&method, template).clone();
        let mut path = template.to_string();
        let mut values = params.iter();
        while let Some(start) = path.find('{') {
            let end = start + path[start..].find('}').unwrap();
            let value = values.next().expect("a value for each path parameter");
            path.replace_range(start..=end, value);
        }
        let what = format!("{method} {template}");
        let mut req = app
            .client
            .request(method.clone(), app.url(&format!("/api/v1{path}{query}")))
            .bearer_auth(token);
        match body {
            Some(Body::Json(v)) => {
                let schema = &op["requestBody"]["content"]["application/json"]["schema"];
                assert!(
                    schema.is_object(),
                    "{what}: no JSON request body documented"
                );
                self.validate(schema, &v, &format!("{what} request"));
                req = req.json(&v);
            }
            Some(Body::Raw(content_type, text)) => {
                assert!(
                    op["requestBody"]["content"][content_type].is_object(),
                    "{what}: {content_type} body not documented"
                );
                req = req.header("content-type", content_type).body(text);
            }
            None => {}
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap().trim().to_string());
        let text = r.text().await.unwrap();
        let responses = &op["responses"];
        let documented = if responses[status.to_string()].is_object() {
            &responses[status.to_string()]
        } else {
            &responses["default"]
        };
        assert!(documented.is_object(), "{what}: {status} is not documented");
        let value = match content_type {
            None => {
                assert!(text.is_empty(), "{what}: a body without a content type");
                assert!(
                    documented["content"].is_null(),
                    "{what}: {status} is documented with a body but came without one"
                );
                Value::Null
            }
            Some(ct) => {
                let media = &documented["content"][&ct];
                assert!(media.is_object(), "{what}: {status} {ct} is not documented");
                let value = if ct == "application/json" {
                    serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("{what}: {status} body is not JSON: {e}"))
                } else {
                    Value::String(text)
                };
                self.validate(&media["schema"], &value, &format!("{what} {status} answer"));
                value
            }
        };
        self.checked.insert(format!("{what} {status}"));
        (status, value)
    }
}

enum Body {
    Json(Value),
    Raw(&'static str, String),
}

fn json_body(v: Value) -> Option<Body> {
    Some(Body::Json(v))
}

#[tokio::test]
async fn real_requests_and_answers_match_the_documents_schemas() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let org = start_sfsim().await;
        use_sfsim(&app, &org);
        let (actor, token) = app.org_user(Role::Admin).await;
        let (colleague_actor, colleague) = app.user_in(&actor.org_id, Role::Editor).await;
        let mut doc = Doc {
            doc: fetch_document(&app).await,
            checked: BTreeSet::new(),
        };
        let d = &mut doc;
        let get = || Method::GET;
        let post = || Method::POST;

        d.call(&app, &token, get(), "/openapi.json", &[], None)
            .await;

        // Surveys: created from the sample definition, imported from a .qsf, read, replaced.
        let sample: Value = serde_json::from_str(survey::sample::sample_json()).unwrap();
        let (s, v) = d
            .call(
                &app,
                &token,
                post(),
                "/surveys",
                &[],
                json_body(sample.clone()),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let survey = v["id"].as_str().unwrap().to_string();
        let qsf = std::fs::read_to_string(
            qsf_dir().join("compsy__svc-qualtrics-converter__survey_standart_question_types.qsf"),
        )
        .unwrap();
        let (s, v) = d
            .call(
                &app,
                &token,
                post(),
                "/surveys/import",
                &[],
                Some(Body::Raw("application/json", qsf)),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let imported = v["id"].as_str().unwrap().to_string();
        let (s, _) = d.call(&app, &token, get(), "/surveys", &[], None).await;
        assert_eq!(s, 200);
        for id in [&survey, &imported] {
            let (s, _) = d
                .call(&app, &token, get(), "/surveys/{id}", &[id], None)
                .await;
            assert_eq!(s, 200);
        }
        // The schemas refuse what the API does not answer: a survey without its definition,
        // a question of an unknown type.
        let (_, mut got) = d
            .call(&app, &token, get(), "/surveys/{id}", &[&survey], None)
            .await;
        let detail = json!({"$ref": "#/components/schemas/SurveyDetail"});
        got["definition"]["questions"][0]["type"] = json!("hologram");
        assert!(!d
            .errors(&detail, &got, "a made-up question type")
            .is_empty());
        got.as_object_mut().unwrap().remove("definition");
        assert!(!d.errors(&detail, &got, "no definition").is_empty());
        let (s, v) = d
            .call(
                &app,
                &token,
                Method::PUT,
                "/surveys/{id}",
                &[&survey],
                json_body(sample),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let (s, _) = d
            .call(
                &app,
                &token,
                post(),
                "/surveys/{id}/collaborators",
                &[&survey],
                json_body(json!({"email": colleague_actor.email})),
            )
            .await;
        assert_eq!(s, 204);
        let (s, _) = d
            .call(&app, &colleague, get(), "/surveys/{id}", &[&survey], None)
            .await;
        assert_eq!(s, 200);
        let link_signing = "/surveys/{id}/link-signing";
        d.call(&app, &token, get(), link_signing, &[&survey], None)
            .await;
        let (s, _) = d
            .call(
                &app,
                &token,
                Method::PUT,
                link_signing,
                &[&survey],
                json_body(json!({"required": false})),
            )
            .await;
        assert_eq!(s, 200);
        let (s, _) = d
            .call(
                &app,
                &token,
                post(),
                "/surveys/{id}/link-signing/rotate",
                &[&survey],
                None,
            )
            .await;
        assert_eq!(s, 200);

        // The directory: contacts saved, imported from CSV (one row refused), read, opted out.
        let contact_body = json!({"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com",
            "phone": "+44 20 7946 0958", "language": "en-gb", "embeddedData": {"Region": "EMEA", "Score": 9}});
        let (s, contact) = d
            .call(
                &app,
                &token,
                post(),
                "/contacts",
                &[],
                json_body(contact_body.clone()),
            )
            .await;
        assert_eq!(s, 201, "{contact}");
        let (s, _) = d
            .call(
                &app,
                &token,
                post(),
                "/contacts",
                &[],
                json_body(contact_body),
            )
            .await;
        assert_eq!(s, 200);
        let contact = contact["id"].as_str().unwrap().to_string();
        let (s, list) = d
            .call(
                &app,
                &token,
                post(),
                "/mailing-lists",
                &[],
                json_body(json!({"name": "Customers"})),
            )
            .await;
        assert_eq!(s, 201);
        let list = list["id"].as_str().unwrap().to_string();
        let csv =
            "email,firstName,lastName\ngrace@example.com,Grace,Hopper\nnot-an-email,Bad,Row\n";
        let (s, report) = d
            .call(
                &app,
                &token,
                post(),
                "/contacts/import",
                &[],
                Some(Body::Raw("text/csv", csv.into())),
            )
            .await;
        assert_eq!(s, 200);
        assert_eq!(report["refused"], 1, "{report}");
        d.call(&app, &token, get(), "/contacts", &[], None).await;
        d.call(&app, &token, get(), "/contacts/{id}", &[&contact], None)
            .await;
        d.call(
            &app,
            &token,
            post(),
            "/contacts/{id}/unsubscribe",
            &[&contact],
            None,
        )
        .await;
        d.call(
            &app,
            &token,
            post(),
            "/contacts/{id}/resubscribe",
            &[&contact],
            None,
        )
        .await;
        let (_, events) = d
            .call(
                &app,
                &token,
                get(),
                "/contacts/{id}/opt-out-events",
                &[&contact],
                None,
            )
            .await;
        assert_eq!(events["events"].as_array().unwrap().len(), 2, "{events}");
        d.call(&app, &token, get(), "/mailing-lists", &[], None)
            .await;
        d.call(&app, &token, get(), "/mailing-lists/{id}", &[&list], None)
            .await;
        let (s, _) = d
            .call(
                &app,
                &token,
                post(),
                "/surveys/{id}/links",
                &[&survey],
                json_body(json!({"contactId": contact})),
            )
            .await;
        assert_eq!(s, 201);

        // Linked org and a workflow, so that responses fire runs.
        let conn = link_sfsim(&app, &token, &org).await;
        d.call(&app, &token, get(), "/salesforce/connections", &[], None)
            .await;
        let (s, check) = d
            .call(
                &app,
                &token,
                get(),
                "/salesforce/connections/{id}/check",
                &[&conn],
                None,
            )
            .await;
        assert_eq!((s, &check["apiAccess"]), (200, &json!(true)), "{check}");
        // Inbound jobs with their own account (`api_doc/discover_accounts.rs`).
        discover_accounts::check(d, &app, &token, &org, &conn).await;
        let (s, started) = d
            .call(
                &app,
                &token,
                post(),
                "/salesforce/connections",
                &[],
                json_body(json!({"environment": "custom", "loginUrl": org.login_url()})),
            )
            .await;
        assert_eq!(s, 201, "{started}");
        let workflow_body = json!({
            "name": "Responses into Salesforce",
            "event": "response_created",
            "conditions": {"type": "all", "conditions": [
                {"type": "embedded_data", "field": "sfAccountId", "op": "is_not_empty"}]},
            "tasks": [{"type": "salesforce", "connectionId": conn, "object": "Survey_Response__c",
                "operation": "create", "fields": {
                    "Account__c": {"piped": "${e://Field/sfAccountId}"},
                    "Response_Id__c": {"piped": "${rm://ResponseID}"},
                    "NPS_Score__c": {"piped": "${q://QID3/ChoiceTextEntryValue}"},
                    "Channel__c": {"value": "Web"}}}]
        });
        let (s, workflow) = d
            .call(
                &app,
                &token,
                post(),
                "/surveys/{id}/workflows",
                &[&survey],
                json_body(workflow_body.clone()),
            )
            .await;
        assert_eq!(s, 201, "{workflow}");
        let workflow = workflow["id"].as_str().unwrap().to_string();
        d.call(
            &app,
            &token,
            get(),
            "/surveys/{id}/workflows",
            &[&survey],
            None,
        )
        .await;
        d.call(&app, &token, get(), "/workflows/{id}", &[&workflow], None)
            .await;
        let (s, _) = d
            .call(
                &app,
                &token,
                Method::PUT,
                "/workflows/{id}",
                &[&workflow],
                json_body(workflow_body),
            )
            .await;
        assert_eq!(s, 200);
        let (s, copy) = d
            .call(
                &app,
                &token,
                post(),
                "/workflows/{id}/copy",
                &[&workflow],
                json_body(json!({})),
            )
            .await;
        assert_eq!(s, 201, "{copy}");
        let (s, _) = d
            .call(
                &app,
                &token,
                Method::DELETE,
                "/workflows/{id}",
                &[copy["id"].as_str().unwrap()],
                None,
            )
            .await;
        assert_eq!(s, 204);

        // Responses: created (one refused), listed as JSON and CSV, read and changed.
        let account = "001000000000000AAA";
        let answers = serde_json::to_value(sonde::bench::complete_answers(
            &survey::sample::sample_definition(),
        ))
        .unwrap();
        let (s, refused) = d
            .call(
                &app,
                &token,
                post(),
                "/surveys/{id}/responses",
                &[&survey],
                json_body(json!({"answers": {"QID3": "eleven"}, "finished": true})),
            )
            .await;
        assert_eq!(s, 400, "{refused}");
        assert!(!refused["error"]["problems"].as_array().unwrap().is_empty());
        let (s, response) = d
            .call(
                &app,
                &token,
                post(),
                "/surveys/{id}/responses",
                &[&survey],
                json_body(json!({"answers": answers, "embeddedData": {"sfAccountId": account}, "finished": true})),
            )
            .await;
        assert_eq!(s, 201, "{response}");
        let response = response["responseId"].as_str().unwrap().to_string();
        let (s, page) = d
            .call(
                &app,
                &token,
                get(),
                "/surveys/{id}/responses",
                &[&survey],
                None,
            )
            .await;
        assert_eq!((s, page["responses"].as_array().unwrap().len()), (200, 1));
        // Its survey's dashboard, filtered to its account by the 15-character id.
        let (s, dashboard) = d
            .call(
                &app,
                &token,
                get(),
                "/surveys/{id}/dashboard?records=001000000000000&since=2020-01-01",
                &[&survey],
                None,
            )
            .await;
        assert_eq!(
            (s, &dashboard["responses"]["total"]),
            (200, &json!(1)),
            "{dashboard}"
        );
        let (s, _) = d
            .call(
                &app,
                &token,
                get(),
                "/surveys/{id}/responses?format=csv",
                &[&survey],
                None,
            )
            .await;
        assert_eq!(s, 200);
        let one = "/surveys/{id}/responses/{response_id}";
        d.call(&app, &token, get(), one, &[&survey, &response], None)
            .await;
        let (s, patched) = d
            .call(
                &app,
                &token,
                Method::PATCH,
                one,
                &[&survey, &response],
                json_body(json!({"embeddedData": {"Note": "called back"}})),
            )
            .await;
        assert_eq!(s, 200, "{patched}");
        assert_eq!(patched["embeddedData"]["Note"], "called back");

        // Runs: delivered, listed, one retried (refused: it did not fail).
        app.sonde.drain_workflows().await.unwrap();
        let (s, runs) = d
            .call(
                &app,
                &token,
                get(),
                "/workflows/{id}/runs",
                &[&workflow],
                None,
            )
            .await;
        assert_eq!(s, 200);
        let run = runs["runs"][0]["id"].as_str().expect("a run").to_string();
        d.call(
            &app,
            &token,
            post(),
            "/workflows/{id}/runs/{runId}/retry",
            &[&workflow, &run],
            None,
        )
        .await;

        // Distributions: follow-ups kept and removed, a test send's outcome
        // (`api_doc/distributions.rs`).
        distributions::check(d, &app, &token, &survey, &list, &contact).await;

        // Deletions, each recorded in the audit log (`api_doc/deletions.rs`).
        deletions::check(
            d,
            &app,
            &token,
            deletions::Subjects {
                survey: &survey,
                response: &response,
                archivable: &imported,
                list: &list,
                contact: &contact,
            },
        )
        .await;

        // Credentials: a token made, listed and revoked; users listed, one deactivated and
        // back; a password changed (the calling token stays).
        let (s, made) = d
            .call(
                &app,
                &token,
                post(),
                "/tokens",
                &[],
                json_body(json!({"name": "CI", "expiresInDays": 30})),
            )
            .await;
        assert_eq!(s, 201, "{made}");
        assert!(made["token"].is_string(), "{made}");
        let (s, listed) = d.call(&app, &token, get(), "/tokens", &[], None).await;
        assert_eq!(s, 200, "{listed}");
        let (s, _) = d
            .call(
                &app,
                &token,
                Method::DELETE,
                "/tokens/{id}",
                &[made["id"].as_str().unwrap()],
                None,
            )
            .await;
        assert_eq!(s, 204);
        let (s, users) = d.call(&app, &token, get(), "/users", &[], None).await;
        assert_eq!(s, 200, "{users}");
        let (s, off) = d
            .call(
                &app,
                &token,
                post(),
                "/users/{id}/deactivate",
                &[&colleague_actor.user_id],
                None,
            )
            .await;
        assert_eq!((s, &off["active"]), (200, &json!(false)), "{off}");
        let (s, on) = d
            .call(
                &app,
                &token,
                post(),
                "/users/{id}/reactivate",
                &[&colleague_actor.user_id],
                None,
            )
            .await;
        assert_eq!((s, &on["active"]), (200, &json!(true)), "{on}");
        // Users: one invited (the link answered once), listed, revoked; a bad email refused;
        // a colleague's role changed, one's own refused.
        let (s, invited) = d
            .call(
                &app,
                &token,
                post(),
                "/users/invitations",
                &[],
                json_body(json!({"email": "New.Person@Example.com", "role": "editor"})),
            )
            .await;
        assert_eq!(s, 201, "{invited}");
        assert!(
            invited["link"]
                .as_str()
                .is_some_and(|l| l.contains("/invitations/")),
            "{invited}"
        );
        let (s, _) = d
            .call(
                &app,
                &token,
                post(),
                "/users/invitations",
                &[],
                json_body(json!({"email": "not an email", "role": "editor"})),
            )
            .await;
        assert_eq!(s, 400);
        let (s, pending) = d
            .call(&app, &token, get(), "/users/invitations", &[], None)
            .await;
        assert_eq!(s, 200, "{pending}");
        assert_eq!(pending["invitations"][0]["email"], "new.person@example.com");
        assert!(pending["invitations"][0].get("link").is_none(), "{pending}");
        let (s, _) = d
            .call(
                &app,
                &token,
                Method::DELETE,
                "/users/invitations/{id}",
                &[invited["id"].as_str().unwrap()],
                None,
            )
            .await;
        assert_eq!(s, 204);
        let (s, changed) = d
            .call(
                &app,
                &token,
                Method::PATCH,
                "/users/{id}",
                &[&colleague_actor.user_id],
                json_body(json!({"role": "viewer"})),
            )
            .await;
        assert_eq!((s, &changed["role"]), (200, &json!("viewer")), "{changed}");
        let (s, _) = d
            .call(
                &app,
                &token,
                Method::PATCH,
                "/users/{id}",
                &[&actor.user_id],
                json_body(json!({"role": "editor"})),
            )
            .await;
        assert_eq!(s, 400, "an admin does not demote themself");
        let (s, changed) = d
            .call(
                &app,
                &token,
                post(),
                "/account/password",
                &[],
                json_body(json!({"currentPassword": crate::harness::PASSWORD,
                    "newPassword": "a much longer new passphrase"})),
            )
            .await;
        assert_eq!(s, 200, "{changed}");

        // Errors: unknown things, a bad parameter, no token, a viewer's write.
        let (s, _) = d
            .call(&app, &token, get(), "/surveys/{id}", &["SV_none"], None)
            .await;
        assert_eq!(s, 404);
        let (s, _) = d
            .call(
                &app,
                &token,
                get(),
                "/surveys/{id}/responses?limit=abc",
                &[&survey],
                None,
            )
            .await;
        assert_eq!(s, 400);
        let (s, _) = d
            .call(&app, "not-a-token", get(), "/surveys", &[], None)
            .await;
        assert_eq!(s, 401);
        let (_, viewer) = app.user_in(&actor.org_id, Role::Viewer).await;
        let (s, _) = d
            .call(
                &app,
                &viewer,
                post(),
                "/mailing-lists",
                &[],
                json_body(json!({"name": "No"})),
            )
            .await;
        assert_eq!(s, 403);

        let (s, gone) = d
            .call(
                &app,
                &token,
                Method::DELETE,
                "/salesforce/connections/{id}",
                &[&conn],
                None,
            )
            .await;
        assert_eq!(s, 200, "{gone}");

        eprintln!(
            "{backend:?}: {} operation answers checked against the document",
            doc.checked.len()
        );
    }
}
