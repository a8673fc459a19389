//! Sonde's panel hosted by the built-in org's Lightning look-alike pages, as Salesforce hosts
//! it: the record page's own signed request opens the panel, in a real browser too, and the
//! page answers the panel's refresh message with a freshly signed request.

use crate::browser::Browser;
use crate::harness::{backends, insert_response, linked_org, Backend, TestApp, PASSWORD};
use engine::Role;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use store::responses::ResponseStatus;

/// 2026-01-01T00:00:00Z
const T0: i64 = 1_767_225_600_000;
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A Sonde organization linked to a fresh built-in org whose Canvas app is this Sonde's
/// `/panel`, with a Sonde user of the org admin's email and a response about one Contact.
struct Hosted {
    app: TestApp,
    sf: sfsim::RunningOrg,
    /// The Sonde user of the org admin's email.
    user: engine::Actor,
    contact: String,
    account: String,
    response: String,
}

async fn hosted(app: TestApp) -> Hosted {
    let (admin, token) = app.org_user(Role::Admin).await;
    let (sf, _) = linked_org(&app, &token).await;
    sf.set_canvas_url(Some(&app.url("/panel"))).unwrap();
    // The Salesforce user opening the page is Sonde's user of the same email.
    let email = sf.user_email(None).unwrap();
    let user = app
        .sonde
        .add_user(Some(&admin.org_id), &email, Role::Admin, PASSWORD)
        .await
        .unwrap();
    let mut def = survey::sample::sample_definition();
    def.name = "Kettle feedback".into();
    let survey = app.create_survey(&token, &def).await;
    let (contact, account) = first_contact(&sf).await;
    let data = survey::ResponseData {
        embedded_data: [
            ("sfContactId".to_string(), contact.clone()),
            ("sfAccountId".to_string(), account.clone()),
        ]
        .into(),
        ..Default::default()
    };
    let response = insert_response(
        &app,
        &admin.org_id,
        &survey,
        ResponseStatus::Complete,
        T0,
        &data,
    )
    .await;
    Hosted {
        app,
        sf,
        user,
        contact,
        account,
        response,
    }
}

async fn first_id(sf: &sfsim::RunningOrg, soql: &str) -> String {
    let v: Value = reqwest::Client::new()
        .get(format!("{}/services/data/v62.0/query", sf.instance_url()))
        .query(&[("q", soql)])
        .bearer_auth(sf.access_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["records"][0]["Id"].as_str().unwrap().to_string()
}

/// The first Contact of an Account, and that Account.
async fn first_contact(sf: &sfsim::RunningOrg) -> (String, String) {
    let v: Value = reqwest::Client::new()
        .get(format!("{}/services/data/v62.0/query", sf.instance_url()))
        .query(&[(
            "q",
            "SELECT Id, AccountId FROM Contact WHERE AccountId != null ORDER BY Name LIMIT 1",
        )])
        .bearer_auth(sf.access_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let record = &v["records"][0];
    let id = |f: &str| record[f].as_str().unwrap().to_string();
    (id("Id"), id("AccountId"))
}

fn signed_request_of(page: &str) -> String {
    let marker = "name=\"signed_request\" value=\"";
    let start = page
        .find(marker)
        .unwrap_or_else(|| panic!("no signed request in {page}"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

fn origin(url: &str) -> String {
    url::Url::parse(url).unwrap().origin().ascii_serialization()
}

#[tokio::test]
async fn the_record_pages_signed_request_opens_sondes_panel() {
    for backend in backends() {
        let h = hosted(TestApp::spawn(backend).await).await;
        let page = reqwest::get(h.sf.record_page_url("Contact", &h.contact))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(&format!(
                "action=\"{}\" target=\"sonde-panel\"",
                h.app.url("/panel")
            )),
            "{page}"
        );
        let signed = signed_request_of(&page);
        // Sonde's own verifier takes what the org signed.
        let request = salesforce::canvas::verify_signed_request(
            &signed,
            &salesforce::Secret::new(h.sf.client_secret()),
        )
        .unwrap();
        assert_eq!(
            request.context.environment.record_id(),
            Some(h.contact.as_str())
        );
        let r = h
            .app
            .client
            .post(h.app.url("/panel"))
            .form(&[("signed_request", signed.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let policy = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            policy.ends_with(&format!("frame-ancestors {}", origin(h.sf.instance_url()))),
            "{policy}"
        );
        let panel = r.text().await.unwrap();
        assert!(
            panel.contains("Kettle feedback") && panel.contains(&h.response),
            "{panel}"
        );

        // A campaign's page and a list view's selection open the panel too.
        let campaign = first_id(&h.sf, "SELECT Id FROM Campaign LIMIT 1").await;
        for page_url in [
            h.sf.record_page_url("Campaign", &campaign),
            format!(
                "{}/lightning/o/Contact/list?recordIds={}",
                h.sf.instance_url(),
                h.contact
            ),
        ] {
            let page = reqwest::get(&page_url).await.unwrap().text().await.unwrap();
            let r = h
                .app
                .client
                .post(h.app.url("/panel"))
                .form(&[("signed_request", signed_request_of(&page))])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{page_url}: {}", r.text().await.unwrap());
        }
        h.sf.shutdown().await;
    }
}

/// Waits for `script` (run in the current frame) to return something other than null.
pub(crate) async fn wait_for_value(b: &Browser, script: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let v = b.execute(script, json!([])).await;
        if !v.is_null() {
            return v;
        }
        assert!(Instant::now() < deadline, "{script} stayed null");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sizes the window so that the page itself (what a screenshot shows) is `width`×`height`.
pub(crate) async fn viewport(b: &Browser, width: u32, height: u32) {
    b.resize(width, height).await;
    let inner = b
        .execute("return [window.innerWidth, window.innerHeight];", json!([]))
        .await;
    let grow =
        |asked: u32, got: &Value| asked + asked.saturating_sub(got.as_u64().unwrap_or(0) as u32);
    b.resize(grow(width, &inner[0]), grow(height, &inner[1]))
        .await;
}

pub(crate) async fn enter_panel_frame(b: &Browser) {
    let frame = b.find("iframe[name=\"sonde-panel\"]").await;
    b.call(
        reqwest::Method::POST,
        "/frame",
        Some(json!({"id": {ELEMENT: frame}})),
    )
    .await;
}

pub(crate) async fn leave_frame(b: &Browser) {
    b.call(reqwest::Method::POST, "/frame/parent", Some(json!({})))
        .await;
}

#[tokio::test]
async fn sondes_panel_renders_inside_the_record_pages_frame_in_chromium_and_refreshes() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let h = hosted(TestApp::spawn(Backend::Sqlite).await).await;
    b.resize(1280, 900).await;
    b.goto(&h.sf.record_page_url("Contact", &h.contact)).await;
    b.wait_for("sonde-panel").await;
    enter_panel_frame(&b).await;
    let heading = wait_for_value(
        &b,
        "var h = document.querySelector('h1'); return location.pathname === '/panel' && h ? h.textContent : null;",
    )
    .await;
    assert!(!heading.as_str().unwrap().is_empty(), "{heading}");
    let framed = b.source().await;
    assert!(
        framed.contains("Kettle feedback") && framed.contains(&h.response),
        "{framed}"
    );

    // A pass that ran out: its page asks the record page for a fresh signed request (the
    // page answers Sonde's origin only) and posts it to /panel, which opens the panel again.
    let expired = h
        .app
        .sonde
        .sign_panel_pass(&engine::panel::PanelPass {
            user_id: h.user.user_id.clone(),
            org_id: h.user.org_id.clone(),
            record_id: Some(h.contact[..15].to_string()),
            record_type: Some("Contact".into()),
            frame_ancestors: vec![origin(h.sf.instance_url())],
            expires_at: store::now_ms() - 1,
            ..Default::default()
        })
        .await
        .unwrap();
    // Navigated from inside the frame, so the page stays Salesforce's child.
    b.execute(
        "window.__before = true; location.href = arguments[0]; return true;",
        json!([h.app.url(&format!("/panel/home?t={expired}"))]),
    )
    .await;
    let renewed = wait_for_value(
        &b,
        "var h = document.querySelector('h1'); return !window.__before && location.pathname === '/panel' && h && h.textContent === 'Survey responses' ? document.body.innerHTML : null;",
    )
    .await;
    assert!(renewed.as_str().unwrap().contains(&h.response), "{renewed}");
    leave_frame(&b).await;

    let dir = std::path::Path::new("/tmp/shots");
    std::fs::create_dir_all(dir).unwrap();
    for (width, height, kind) in [(1280, 900, "desktop"), (390, 844, "phone")] {
        viewport(&b, width, height).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        b.screenshot_to(&dir.join(format!("sfsim-record-{kind}.png")))
            .await;
    }
    // The Account's page hosts the panel too, beside its contacts; its contact's response
    // names the Account.
    viewport(&b, 1280, 900).await;
    b.goto(&h.sf.record_page_url("Account", &h.account)).await;
    b.wait_for("related-contacts").await;
    enter_panel_frame(&b).await;
    let framed = wait_for_value(
        &b,
        "return location.pathname === '/panel' && document.querySelector('h1') ? document.body.innerHTML : null;",
    )
    .await;
    assert!(framed.as_str().unwrap().contains(&h.response), "{framed}");
    leave_frame(&b).await;
    b.screenshot_to(&dir.join("sfsim-account-desktop.png"))
        .await;

    // A campaign's members beside the panel, and a list view's selection opening it.
    let campaign = first_id(&h.sf, "SELECT Id FROM Campaign LIMIT 1").await;
    b.goto(&h.sf.record_page_url("Campaign", &campaign)).await;
    b.wait_for("related-members").await;
    // Tall enough to show the members under the panel.
    viewport(&b, 1280, 1700).await;
    b.screenshot_to(&dir.join("sfsim-campaign-desktop.png"))
        .await;
    viewport(&b, 1280, 900).await;
    b.goto(&format!("{}/lightning/o/Contact/list", h.sf.instance_url()))
        .await;
    b.click(&format!("input[value=\"{}\"]", h.contact)).await;
    b.click("#send-survey").await;
    b.wait_for("<iframe name=\"sonde-panel\"").await;
    enter_panel_frame(&b).await;
    wait_for_value(
        &b,
        "return location.pathname === '/panel' && document.querySelector('h1') ? true : null;",
    )
    .await;
    leave_frame(&b).await;
    b.screenshot_to(&dir.join("sfsim-list-desktop.png")).await;
    viewport(&b, 390, 844).await;
    b.screenshot_to(&dir.join("sfsim-list-phone.png")).await;
    b.quit().await;
    h.sf.shutdown().await;
}
