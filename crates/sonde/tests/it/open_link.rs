//! Opening a link records nothing (issue #9): GET and HEAD of anonymous, personal and preview
//! links store no response, claim no personal link and queue no workflow — mail scanners open
//! every link they are sent. The first submitted page stores the response with the link's
//! embedded data; a preview is never stored and says so on every page.

use crate::harness::{backends, hidden, submit, Backend, TestApp, WebSession};
use engine::Role;
use futures::StreamExt;
use serde_json::{json, Value};
use sonde::bench::mapping::hidden_inputs;

/// Two pages: a welcome that pipes the link's FirstName, then a required comment.
pub(crate) const TWO_PAGES: &str = r#"{
  "name": "Open link",
  "flow": [
    {"type": "embedded_data", "fields": [
      {"name": "FirstName", "value": {"from": "url"}},
      {"name": "sfContactId", "value": {"from": "url"}}
    ]},
    {"type": "block", "block_id": "BL_1"},
    {"type": "block", "block_id": "BL_2"}
  ],
  "blocks": [
    {"id": "BL_1", "elements": [{"type": "question", "id": "QID1"}]},
    {"id": "BL_2", "elements": [{"type": "question", "id": "QID2"}]}
  ],
  "questions": [
    {"id": "QID1", "export_tag": "Welcome", "type": "descriptive",
     "text": "<p>Hello ${e://Field/FirstName}, welcome.</p>"},
    {"id": "QID2", "export_tag": "Comment", "type": "text_entry", "required": true,
     "text": "Anything to add?"}
  ],
  "end_message": "Thanks, ${e://Field/FirstName}."
}"#;

/// A survey with nothing to answer: only embedded data from the link.
const NOTHING_TO_ANSWER: &str = r#"{
  "name": "Click to confirm",
  "flow": [{"type": "embedded_data", "fields": [{"name": "sfContactId", "value": {"from": "url"}}]}],
  "blocks": [],
  "questions": [],
  "end_message": "Confirmed."
}"#;

const LINK_DATA: &str = "FirstName=Ana&sfContactId=0035g00000AnaAAAA&Undeclared=x";

async fn create(app: &TestApp, token: &str, definition: &str) -> String {
    let r = app
        .post(token, "/api/v1/surveys")
        .header("content-type", "application/json")
        .body(definition.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{v}");
    v["id"].as_str().unwrap().to_string()
}

/// A "response created" workflow with a directory task, so a response would queue a run.
async fn with_workflow(app: &TestApp, token: &str, survey: &str) {
    crate::workflows::create_workflow(
        app,
        token,
        survey,
        &json!({
            "name": "Remember who answered",
            "event": "response_created",
            "tasks": [{"type": "directory", "action": "upsert_contact",
                       "fields": {"email": {"value": "answered@example.com"},
                                  "lastName": {"piped": "${e://Field/sfContactId}"}}}]
        }),
    )
    .await;
}

/// Rows of `table`, counted in the store itself.
async fn rows(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(app.sonde.store.pool())
        .await
        .unwrap()
}

/// The survey's responses as the API lists them.
async fn listed(app: &TestApp, token: &str, survey: &str) -> Vec<Value> {
    let v = app
        .get_json(token, &format!("/api/v1/surveys/{survey}/responses"))
        .await;
    v["responses"].as_array().cloned().unwrap_or_default()
}

/// A personal link for a new contact called `first_name`: (url, token).
async fn personal_link(
    app: &TestApp,
    editor: &engine::Actor,
    token: &str,
    survey: &str,
    first_name: &str,
) -> (String, String) {
    let (contact, _) = app
        .sonde
        .save_contact(
            editor,
            &json!({"firstName": first_name, "email": format!("{}@example.com", first_name.to_lowercase())}),
            None,
        )
        .await
        .unwrap();
    let link: Value = app
        .post(token, &format!("/api/v1/surveys/{survey}/links"))
        .json(&json!({"contactId": contact.id}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = link["url"].as_str().unwrap().to_string();
    let l = url.split("l=").nth(1).unwrap().to_string();
    (url, l)
}

async fn claimed_by(app: &TestApp, link_token: &str) -> Option<String> {
    app.sonde
        .store
        .personal_link(link_token)
        .await
        .unwrap()
        .unwrap()
        .response_id
}

fn session_cookie(session: &WebSession) -> String {
    format!("sonde_session={}", session.cookie)
}

/// Opens `url` `times` times with `method` (8 at once), each answer a 200 that sets no
/// resume cookie.
async fn open_many(url: &str, method: reqwest::Method, cookie: Option<&str>, times: usize) {
    let http = reqwest::Client::new();
    futures::stream::iter(0..times)
        .map(|_| {
            let mut req = http.request(method.clone(), url);
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            async move { req.send().await.unwrap() }
        })
        .buffer_unordered(8)
        .for_each(|r| async move {
            assert_eq!(r.status(), 200, "{url}");
            assert!(
                r.headers().get("set-cookie").is_none(),
                "{url}: opening a link sets no resume cookie: {:?}",
                r.headers()
            );
        })
        .await;
}

#[tokio::test]
async fn opening_links_a_thousand_times_records_nothing() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (editor, token) = app.org_user(Role::Editor).await;
        let survey = create(&app, &token, TWO_PAGES).await;
        with_workflow(&app, &token, &survey).await;
        let (personal, link_token) = personal_link(&app, &editor, &token, &survey, "Bea").await;
        let session = app.sign_in(&editor.email).await;
        let cookie = session_cookie(&session);
        let anonymous = app.url(&format!("/s/{survey}?{LINK_DATA}"));
        let preview = app.url(&format!("/s/{survey}?_preview=1&{LINK_DATA}"));
        for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
            open_many(&anonymous, method.clone(), None, 1000).await;
            open_many(&personal, method.clone(), None, 1000).await;
            open_many(&preview, method.clone(), Some(&cookie), 1000).await;
        }
        assert_eq!(rows(&app, "responses").await, 0, "{backend:?}: stored");
        assert!(
            listed(&app, &token, &survey).await.is_empty(),
            "{backend:?}"
        );
        assert_eq!(app.sonde.response_count(&editor, &survey).await.unwrap(), 0);
        assert_eq!(claimed_by(&app, &link_token).await, None, "{backend:?}");
        assert_eq!(rows(&app, "workflow_runs").await, 0, "{backend:?}");
        assert_eq!(rows(&app, "jobs").await, 0, "{backend:?}");
        assert_eq!(app.sonde.close_abandoned_responses().await.unwrap(), 0);
    }
}

#[tokio::test]
async fn the_first_post_stores_one_response_with_the_links_embedded_data() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let survey = create(&app, &token, TWO_PAGES).await;
        with_workflow(&app, &token, &survey).await;
        let first = app
            .client
            .get(app.url(&format!("/s/{survey}?{LINK_DATA}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(first.contains("Hello Ana, welcome."), "{first}");
        assert!(!first.contains("name=\"_response\""), "{first}");
        assert_eq!(rows(&app, "responses").await, 0);

        // "Next" on the descriptive first page stores the response.
        let (status, second) = submit(&app, &survey, &first, vec![]).await;
        assert_eq!(status, 200, "{second}");
        assert!(second.contains("Anything to add?"), "{second}");
        let id = hidden(&second, "_response");
        let list = listed(&app, &token, &survey).await;
        assert_eq!(list.len(), 1, "{backend:?}: {list:?}");
        let r = &list[0];
        assert_eq!(r["responseId"], id.as_str());
        assert_eq!(r["status"], "in_progress");
        assert_eq!(r["embeddedData"]["FirstName"], "Ana", "{r}");
        assert_eq!(r["embeddedData"]["sfContactId"], "0035g00000AnaAAAA");
        assert!(r["embeddedData"].get("Undeclared").is_none(), "{r}");
        assert_eq!(r["metadata"]["distribution_channel"], "anonymous");

        // The same first page again (back button, double click) is that response, not another.
        let (status, again) = submit(&app, &survey, &first, vec![]).await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(hidden(&again, "_response"), id);
        assert_eq!(rows(&app, "responses").await, 1, "{backend:?}");

        // Reopening the link in this browser resumes the response by its cookie.
        let resumed = app
            .client
            .get(app.url(&format!("/s/{survey}?{LINK_DATA}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(hidden(&resumed, "_response"), id, "{resumed}");
        assert!(resumed.contains("Anything to add?"));

        let (status, end) = submit(
            &app,
            &survey,
            &resumed,
            vec![("QID2".into(), "All good".into())],
        )
        .await;
        assert_eq!(status, 200, "{end}");
        assert!(end.contains("Thanks, Ana."), "{end}");
        let list = listed(&app, &token, &survey).await;
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["status"], "complete");
        assert_eq!(list[0]["answers"]["QID2"], "All good");
        assert_eq!(app.sonde.drain_workflows().await.unwrap().succeeded, 1);
    }
}

#[tokio::test]
async fn an_edited_or_foreign_first_page_form_stores_nothing() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, token) = app.org_user(Role::Editor).await;
    let survey = create(&app, &token, TWO_PAGES).await;
    let other = create(&app, &token, TWO_PAGES).await;
    let first = reqwest::get(app.url(&format!("/s/{survey}?{LINK_DATA}")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = hidden(&first, "_start");
    let (body, tag) = start.split_once('.').unwrap();
    let mut edited = body.to_string();
    let last = edited.pop().unwrap();
    edited.push(if last == 'A' { 'B' } else { 'A' });
    let post = |survey: String, start: String| {
        let url = app.url(&format!("/s/{survey}"));
        async move {
            reqwest::Client::new()
                .post(url)
                .form(&[("_start", start.as_str()), ("_page", "1")])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(post(survey.clone(), format!("{edited}.{tag}")).await, 403);
    assert_eq!(
        post(other, start.clone()).await,
        403,
        "another survey's form"
    );
    assert_eq!(rows(&app, "responses").await, 0);
    assert_eq!(post(survey, start).await, 200);
    assert_eq!(rows(&app, "responses").await, 1);
}

#[tokio::test]
async fn a_personal_link_is_claimed_by_the_first_post_only() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (editor, token) = app.org_user(Role::Editor).await;
        let survey = create(&app, &token, TWO_PAGES).await;
        let (url, link_token) = personal_link(&app, &editor, &token, &survey, "Cleo").await;
        let tab = crate::harness::cookie_client();
        let first = tab.get(&url).send().await.unwrap().text().await.unwrap();
        assert!(first.contains("Hello Cleo, welcome."), "{first}");
        assert_eq!(claimed_by(&app, &link_token).await, None, "{backend:?}");
        assert_eq!(rows(&app, "responses").await, 0);

        let mut form = hidden_inputs(&first);
        let posted = tab
            .post(app.url(&format!("/s/{survey}")))
            .form(&form)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let id = hidden(&posted, "_response");
        assert_eq!(claimed_by(&app, &link_token).await, Some(id.clone()));
        let list = listed(&app, &token, &survey).await;
        assert_eq!(list.len(), 1, "{backend:?}");
        assert_eq!(list[0]["metadata"]["distribution_channel"], "email");
        assert_eq!(list[0]["embeddedData"]["FirstName"], "Cleo", "{}", list[0]);

        // The link opened elsewhere (no cookie) is that response, on its page.
        let elsewhere = reqwest::get(&url).await.unwrap().text().await.unwrap();
        assert_eq!(hidden(&elsewhere, "_response"), id);
        form = hidden_inputs(&elsewhere);
        form.push(("QID2".into(), "Done".into()));
        let end = reqwest::Client::new()
            .post(app.url(&format!("/s/{survey}")))
            .form(&form)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(end.contains("Thanks, Cleo."), "{end}");
        let again = reqwest::get(&url).await.unwrap().text().await.unwrap();
        assert!(again.contains("already completed"), "{again}");
        assert_eq!(rows(&app, "responses").await, 1);
    }
}

#[tokio::test]
async fn a_preview_walk_through_records_nothing_and_fires_no_workflow() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (editor, token) = app.org_user(Role::Editor).await;
        let survey = create(&app, &token, TWO_PAGES).await;
        with_workflow(&app, &token, &survey).await;
        let session = app.sign_in(&editor.email).await;
        let http = reqwest::Client::new();
        let r = http
            .get(app.url(&format!("/s/{survey}?_preview=1&{LINK_DATA}")))
            .header("cookie", session_cookie(&session))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let first = r.text().await.unwrap();
        assert!(first.contains(web::preview::BANNER), "{first}");
        assert!(first.contains("Hello Ana, welcome."));
        assert!(!first.contains("name=\"_response\""));
        let post = |form: Vec<(String, String)>| {
            let req = http.post(app.url(&format!("/s/{survey}"))).form(&form);
            async move {
                let r = req.send().await.unwrap();
                assert!(r.headers().get("set-cookie").is_none(), "{:?}", r.headers());
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        let (status, second) = post(hidden_inputs(&first)).await;
        assert_eq!(status, 200, "{second}");
        assert!(second.contains(web::preview::BANNER));
        // A refused page in a preview keeps what was typed, and still stores nothing.
        let (status, refused) = post(hidden_inputs(&second)).await;
        assert_eq!(status, 422, "{refused}");
        assert!(refused.contains(web::preview::BANNER));
        let mut last = hidden_inputs(&refused);
        last.push(("QID2".into(), "Looks right".into()));
        let (status, end) = post(last).await;
        assert_eq!(status, 200, "{end}");
        assert!(end.contains("Thanks, Ana."), "{end}");
        assert!(end.contains(web::preview::BANNER), "{end}");

        assert_eq!(rows(&app, "responses").await, 0, "{backend:?}");
        assert!(listed(&app, &token, &survey).await.is_empty());
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
        assert_eq!(csv.lines().count(), 2, "only the two header rows: {csv}");
        assert_eq!(rows(&app, "workflow_runs").await, 0, "{backend:?}");
        assert_eq!(rows(&app, "jobs").await, 0);
        assert_eq!(app.sonde.drain_workflows().await.unwrap().claimed, 0);
        let page = http
            .get(app.url(&format!("/surveys/{survey}")))
            .header("cookie", session_cookie(&session))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Responses (0)"), "{page}");
    }
}

#[tokio::test]
async fn a_preview_is_for_signed_in_members_who_can_see_the_survey() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, token) = app.org_user(Role::Editor).await;
    let survey = create(&app, &token, TWO_PAGES).await;
    let (outsider, _) = app.org_user(Role::Admin).await;
    let outsider = app.sign_in(&outsider.email).await;
    let url = app.url(&format!("/s/{survey}?_preview=1"));
    let anonymous = crate::harness::cookie_client()
        .get(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303, "sent to sign in");
    assert_eq!(anonymous.headers()["location"], "/login");
    let other_org = reqwest::Client::new()
        .get(&url)
        .header("cookie", session_cookie(&outsider))
        .send()
        .await
        .unwrap();
    assert_eq!(other_org.status(), 404);
    // A respondent's page never carries the banner.
    let respondent = reqwest::get(app.url(&format!("/s/{survey}")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!respondent.contains(web::preview::BANNER));
    // Nor can a respondent's first-page form be passed off as a preview's.
    let start = hidden(&respondent, "_start");
    let r = reqwest::Client::new()
        .post(app.url(&format!("/s/{survey}")))
        .form(&[("_preview_state", start.as_str()), ("_page", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(rows(&app, "responses").await, 0);
}

#[tokio::test]
async fn a_survey_with_nothing_to_answer_is_recorded_when_submitted_not_when_opened() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let survey = create(&app, &token, NOTHING_TO_ANSWER).await;
        with_workflow(&app, &token, &survey).await;
        let url = app.url(&format!("/s/{survey}?sfContactId=0035g00000ConfAAA"));
        open_many(&url, reqwest::Method::GET, None, 20).await;
        open_many(&url, reqwest::Method::HEAD, None, 20).await;
        assert_eq!(rows(&app, "responses").await, 0, "{backend:?}");
        let page = reqwest::get(&url).await.unwrap().text().await.unwrap();
        assert!(page.contains(">Submit</button>"), "{page}");
        assert!(!page.contains("Confirmed."), "{page}");

        let (status, end) = submit(&app, &survey, &page, vec![]).await;
        assert_eq!(status, 200, "{end}");
        assert!(end.contains("Confirmed."), "{end}");
        let list = listed(&app, &token, &survey).await;
        assert_eq!(list.len(), 1, "{backend:?}");
        assert_eq!(list[0]["status"], "complete");
        assert_eq!(list[0]["embeddedData"]["sfContactId"], "0035g00000ConfAAA");
        assert_eq!(rows(&app, "workflow_runs").await, 1, "{backend:?}");
        // The end page is not a form: submitting the opened page again records nothing more.
        let (status, _) = submit(&app, &survey, &page, vec![]).await;
        assert_eq!(status, 409);
        assert_eq!(rows(&app, "responses").await, 1);
    }
}

#[tokio::test]
async fn a_preview_in_chromium_shows_its_banner_on_every_page_and_records_nothing() {
    let Some(b) = crate::browser::Browser::start().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (editor, token) = app.org_user(Role::Editor).await;
    let survey = create(&app, &token, TWO_PAGES).await;
    with_workflow(&app, &token, &survey).await;
    b.goto(&app.url("/login")).await;
    b.type_into("#email", &editor.email).await;
    b.type_into("#password", crate::harness::PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_for("Import a Qualtrics survey").await;

    // The survey page's own Preview button.
    b.goto(&app.url(&format!("/surveys/{survey}"))).await;
    b.wait_for("Preview").await;
    let href = b.attribute("a[href*='_preview=1']", "href").await;
    let href = if href.starts_with('/') {
        app.url(&href)
    } else {
        href
    };
    b.goto(&format!("{href}&FirstName=Ana")).await;
    b.wait_for("Hello Ana, welcome.").await;
    let page = b.wait_for(web::preview::BANNER).await;
    assert!(page.contains("_preview_state"), "{page}");
    let banner = b
        .execute(
            "const b = document.querySelector('.preview-banner'); \
             return [getComputedStyle(b).backgroundColor, b.getBoundingClientRect().top < 100]",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(
        banner,
        json!(["rgb(31, 58, 95)", true]),
        "styled, at the top"
    );
    b.shots("preview-first-page").await;
    b.click("button[type=submit]").await;
    b.wait_for("Anything to add?").await;
    // Left empty, the required question is refused; the banner stays.
    b.click("button[type=submit]").await;
    b.wait_for("Some answers need your attention").await;
    assert!(b.source().await.contains(web::preview::BANNER));
    b.shots("preview-refused-page").await;
    b.type_into("#QID2", "Looks right").await;
    b.click("button[type=submit]").await;
    let end = b.wait_for("Thanks, Ana.").await;
    assert!(end.contains(web::preview::BANNER), "{end}");
    b.shots("preview-end").await;
    assert_eq!(rows(&app, "responses").await, 0);
    assert_eq!(rows(&app, "workflow_runs").await, 0);

    // A respondent's page of the same survey has no banner, and opening it stores nothing.
    b.goto(&app.url(&format!("/s/{survey}?{LINK_DATA}"))).await;
    let respondent = b.wait_for("Hello Ana, welcome.").await;
    assert!(!respondent.contains(web::preview::BANNER));
    b.shots("respondent-first-page").await;
    assert_eq!(rows(&app, "responses").await, 0);
    b.click("button[type=submit]").await;
    b.wait_for("Anything to add?").await;
    assert_eq!(rows(&app, "responses").await, 1, "stored by its first page");

    // A survey with nothing to answer asks for a click before it records anything.
    let confirm = create(&app, &token, NOTHING_TO_ANSWER).await;
    b.goto(&app.url(&format!("/s/{confirm}"))).await;
    b.wait_for("There are no questions to answer").await;
    b.shots("nothing-to-answer").await;
    assert_eq!(rows(&app, "responses").await, 1);
    b.click("button[type=submit]").await;
    b.wait_for("Confirmed.").await;
    assert_eq!(rows(&app, "responses").await, 2);
    b.quit().await;
}
