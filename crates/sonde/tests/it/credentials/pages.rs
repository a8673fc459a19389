//! What every kind of page sends (security headers, no inline code for CSP to block), and the
//! account and sign-in pages in Chromium under that policy, with desktop and phone screenshots.

use super::{signed_in, NEW_PASSWORD};
use crate::harness::{cookie_client, Backend, TestApp, PASSWORD};
use engine::Role;
use serde_json::{json, Value};

const SECURITY_HEADERS: &[&str] = &[
    "content-security-policy",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
];

/// Asserts the security headers, and for HTML that nothing inline is left for CSP to block.
fn assert_protected(what: &str, r: &reqwest::header::HeaderMap, body: &str) {
    for h in SECURITY_HEADERS {
        assert!(r.get(*h).is_some(), "{what}: no {h} header: {r:?}");
    }
    let csp = r["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(
            csp.contains(directive),
            "{what}: CSP {csp:?} lacks {directive}"
        );
    }
    assert!(!csp.contains("unsafe"), "{what}: {csp}");
    assert_eq!(r["x-frame-options"], "DENY", "{what}");
    assert_eq!(r["x-content-type-options"], "nosniff", "{what}");
    let html = r
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap().starts_with("text/html"));
    if html {
        let lower = body.to_lowercase();
        for part in lower.split("<script").skip(1) {
            let tag = part.split('>').next().unwrap();
            assert!(
                tag.contains("src="),
                "{what}: an inline script: <script{tag}>"
            );
        }
        assert!(!lower.contains("<style"), "{what}: a <style> element");
        assert!(!lower.contains(" style="), "{what}: a style attribute");
        assert!(!lower.contains("javascript:"), "{what}: a javascript: URL");
        for handler in [" onclick=", " onchange=", " onload=", " onsubmit="] {
            assert!(
                !lower.contains(handler),
                "{what}: an inline handler {handler}"
            );
        }
    }
}

#[tokio::test]
async fn every_kind_of_page_sends_security_headers() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (me, token) = app.org_user(Role::Admin).await;
    let survey = app.sample_survey(&token).await;
    // A survey whose first page moves on by itself: that script must come from the assets.
    let mut def = serde_json::to_value(survey::sample::sample_definition()).unwrap();
    for q in def["questions"].as_array_mut().unwrap() {
        if q["type"] == "timing" {
            q["auto_advance_seconds"] = json!(30);
        }
    }
    def["blocks"][0]["elements"]
        .as_array_mut()
        .unwrap()
        .insert(0, json!({"type": "question", "id": "QID2"}));
    let r = app
        .post(&token, "/api/v1/surveys")
        .json(&def)
        .send()
        .await
        .unwrap();
    let timed: Value = r.json().await.unwrap();
    let timed = timed["id"].as_str().unwrap().to_string();
    let contact = app
        .post(&token, "/api/v1/contacts")
        .json(&json!({"firstName": "Ada", "email": "ada@example.com"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let opt_out = app
        .sonde
        .opt_out_link(&me.org_id, contact["id"].as_str().unwrap())
        .unwrap();
    let opt_out = opt_out.strip_prefix(&app.base).unwrap().to_string();

    let anonymous = cookie_client();
    let signed = signed_in(&app, &me.email, PASSWORD).await;
    let pages: Vec<(&str, &reqwest::Client, String)> = vec![
        ("sign-in page", &anonymous, "/login".into()),
        ("redirect to sign-in", &anonymous, "/surveys".into()),
        ("survey list", &signed, "/surveys".into()),
        ("survey page", &signed, format!("/surveys/{survey}")),
        ("account page", &signed, "/account".into()),
        ("directory", &signed, "/contacts".into()),
        ("mailing lists", &signed, "/lists".into()),
        ("Salesforce page", &signed, "/salesforce".into()),
        ("workflows", &signed, format!("/surveys/{survey}/workflows")),
        (
            "workflow editor",
            &signed,
            format!("/surveys/{survey}/workflows/new"),
        ),
        (
            "CSV export",
            &signed,
            format!("/surveys/{survey}/export.csv"),
        ),
        ("respondent page", &anonymous, format!("/s/{survey}")),
        ("timed respondent page", &anonymous, format!("/s/{timed}")),
        ("opt-out page", &anonymous, opt_out),
        ("error page", &signed, "/no/such/page".into()),
        ("health check", &anonymous, "/healthz".into()),
        ("API error", &anonymous, "/api/v1/surveys".into()),
        (
            "OpenAPI document",
            &anonymous,
            "/api/v1/openapi.json".into(),
        ),
        ("stylesheet", &anonymous, "/assets/sonde.css".into()),
        ("script", &anonymous, "/assets/sonde.js".into()),
    ];
    for (what, client, path) in pages {
        let r = client.get(app.url(&path)).send().await.unwrap();
        let headers = r.headers().clone();
        let status = r.status();
        let body = r.text().await.unwrap();
        assert!(status.as_u16() < 500, "{what} {path}: {status}");
        assert_protected(what, &headers, &body);
        if what == "timed respondent page" {
            assert!(body.contains("data-auto-advance=\"30000\""), "{body}");
        }
    }
    let r = app.get(&token, "/api/v1/surveys").send().await.unwrap();
    assert_protected("API answer", &r.headers().clone(), "");
    let r = anonymous
        .get(app.url("/assets/sonde.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    let r = anonymous
        .get(app.url("/assets/sonde.js"))
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
}

#[tokio::test]
async fn the_account_and_sign_in_pages_work_in_chromium_under_the_policy() {
    let Some(b) = crate::browser::Browser::start().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (me, token) = app.org_user(Role::Editor).await;
    let (locked, _) = app.user_in(&me.org_id, Role::Editor).await;

    // The script comes from /assets and runs: a timed page submits itself (its required
    // questions unanswered, so it comes back asking for them).
    let mut def = serde_json::to_value(survey::sample::sample_definition()).unwrap();
    for q in def["questions"].as_array_mut().unwrap() {
        if q["type"] == "timing" {
            q["auto_advance_seconds"] = json!(1);
        }
    }
    def["blocks"][0]["elements"]
        .as_array_mut()
        .unwrap()
        .insert(0, json!({"type": "question", "id": "QID2"}));
    let r = app
        .post(&token, "/api/v1/surveys")
        .json(&def)
        .send()
        .await
        .unwrap();
    let timed: Value = r.json().await.unwrap();
    b.goto(&app.url(&format!("/s/{}", timed["id"].as_str().unwrap())))
        .await;
    b.wait_for("Some answers need your attention").await;

    // The stylesheet applies.
    b.goto(&app.url("/login")).await;
    b.wait_for("Sign in to Sonde").await;
    let background = b
        .execute(
            "return getComputedStyle(document.body).backgroundColor",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(
        background, "rgb(246, 247, 249)",
        "the stylesheet from /assets"
    );
    b.shots("login").await;

    // A throttled account is told how long to wait.
    for _ in 0..6 {
        app.sign_in_web(&cookie_client(), &locked.email, "guess")
            .await;
    }
    b.type_into("#email", &locked.email).await;
    b.type_into("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_for("Too many sign-in attempts").await;
    b.shots("login-throttled").await;

    b.goto(&app.url("/login")).await;
    b.type_into("#email", &me.email).await;
    b.type_into("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_for("Import a Qualtrics survey").await;
    b.click("a[href='/account']").await;
    b.wait_for("Create an API token").await;
    b.type_into("#token-name", "Salesforce Flow").await;
    b.click("form[action='/account/tokens'] button[type=submit]")
        .await;
    let page = b.wait_for("Copy it now").await;
    assert!(page.contains("sonde_"), "the new token is shown");
    b.shots("account").await;
    b.execute(
        "document.getElementById('current-password').scrollIntoView(); return 0",
        serde_json::json!([]),
    )
    .await;
    b.shots("account-forms").await;

    b.type_into("#current-password", "not it at all").await;
    b.type_into("#new-password", NEW_PASSWORD).await;
    b.click("form[action='/account/password'] button[type=submit]")
        .await;
    b.wait_for("does not match").await;
    b.type_into("#current-password", PASSWORD).await;
    b.type_into("#new-password", NEW_PASSWORD).await;
    b.click("form[action='/account/password'] button[type=submit]")
        .await;
    b.wait_for("Password changed").await;
    b.shots("account-password-changed").await;
    b.quit().await;
}
