//! Credentials a person can take back and a sign-in that resists guessing: API tokens listed,
//! revoked and expiring; a password change that ends the other sessions; deactivated users
//! locked out; sign-in throttled per account and per address, its form CSRF-protected; and the
//! security headers every kind of page sends, with no inline script or style left for CSP to
//! block.

use crate::harness::{
    backends, cookie_client, cookie_client_from, csrf_of, Backend, TestApp, PASSWORD,
};
use engine::Role;
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

mod pages;

const NEW_PASSWORD: &str = "a brand new passphrase";

/// A cookie client signed in as `email`.
async fn signed_in(app: &TestApp, email: &str, password: &str) -> reqwest::Client {
    let client = cookie_client();
    let r = app.sign_in_web(&client, email, password).await;
    assert_eq!(r.status(), 303, "{email} signs in");
    client
}

async fn page_status(app: &TestApp, client: &reqwest::Client, path: &str) -> u16 {
    client
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn api_status(app: &TestApp, token: &str) -> u16 {
    app.get(token, "/api/v1/surveys")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The token list once the named token's last use has been recorded (at most 10 s).
async fn listed_once_used(app: &TestApp, token: &str, name: &str) -> Value {
    for _ in 0..200 {
        let list = app.get_json(token, "/api/v1/tokens").await;
        let used = list["tokens"].as_array().is_some_and(|ts| {
            ts.iter()
                .any(|t| t["name"] == name && t["lastUsedAt"].is_string())
        });
        if used {
            return list;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.get_json(token, "/api/v1/tokens").await
}

async fn text_of(client: &reqwest::Client, url: String) -> (u16, String) {
    let r = client.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn loopback(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions_and_api_tokens() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (me, token) = app.org_user(Role::Editor).await;
        let here = signed_in(&app, &me.email, PASSWORD).await;
        let elsewhere = signed_in(&app, &me.email, PASSWORD).await;
        assert_eq!(page_status(&app, &elsewhere, "/surveys").await, 200);

        let (status, page) = text_of(&here, app.url("/account")).await;
        assert_eq!(status, 200, "{backend:?}: the account page: {page}");
        let csrf = csrf_of(&page);
        let change = |current: &'static str| {
            here.post(app.url("/account/password")).form(&[
                ("csrf", csrf.as_str()),
                ("current_password", current),
                ("new_password", NEW_PASSWORD),
            ])
        };
        // The current password is required; a wrong one changes and ends nothing.
        let r = change("not my password").send().await.unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("current password"));
        assert_eq!(page_status(&app, &elsewhere, "/surveys").await, 200);

        let r = change(PASSWORD).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        assert!(
            page.contains("Password changed") && page.contains("1 other session"),
            "the page says what ended: {page}"
        );
        assert!(page.contains("1 API token"), "{page}");
        assert_eq!(
            page_status(&app, &elsewhere, "/surveys").await,
            303,
            "{backend:?}: the other session ended"
        );
        assert_eq!(page_status(&app, &here, "/surveys").await, 200);
        assert_eq!(api_status(&app, &token).await, 401, "the old API token");
        let r = app.sign_in_web(&cookie_client(), &me.email, PASSWORD).await;
        assert_eq!(r.status(), 401, "the old password");

        // Through the API: the token making the call keeps working, the others stop.
        let caller = app
            .sonde
            .create_api_token(&me.email, "caller")
            .await
            .unwrap();
        let other = app
            .sonde
            .create_api_token(&me.email, "other")
            .await
            .unwrap();
        let r = app
            .post(&caller, "/api/v1/account/password")
            .json(&json!({"currentPassword": "wrong", "newPassword": "yet another passphrase"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["problems"][0]["field"], "currentPassword", "{v}");
        let r = app
            .post(&caller, "/api/v1/account/password")
            .json(
                &json!({"currentPassword": NEW_PASSWORD, "newPassword": "yet another passphrase"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["sessionsEnded"], 1, "{v}");
        assert_eq!(v["apiTokensRevoked"], 1, "{v}");
        assert_eq!(api_status(&app, &caller).await, 200);
        assert_eq!(api_status(&app, &other).await, 401);
        assert_eq!(page_status(&app, &here, "/surveys").await, 303);

        // Keeping the tokens is a choice (integrations), and too short a password is refused.
        let r = app
            .post(&caller, "/api/v1/account/password")
            .json(&json!({"currentPassword": "yet another passphrase", "newPassword": "short"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["problems"][0]["field"], "newPassword", "{v}");
        let kept = app.sonde.create_api_token(&me.email, "kept").await.unwrap();
        let r = app
            .post(&caller, "/api/v1/account/password")
            .json(&json!({"currentPassword": "yet another passphrase",
                          "newPassword": "the final passphrase", "keepApiTokens": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(api_status(&app, &kept).await, 200);
    }
}

#[tokio::test]
async fn api_tokens_are_listed_revoked_and_expire() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        // Tokens are one's own credentials: a viewer manages theirs too.
        let (_me, token) = app.org_user(Role::Viewer).await;
        let (_, stranger) = app.org_user(Role::Admin).await;

        let r = app
            .post(&token, "/api/v1/tokens")
            .json(&json!({"name": "CI deploy", "expiresInDays": 0}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{backend:?}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["problems"][0]["field"], "expiresInDays", "{v}");

        let r = app
            .post(&token, "/api/v1/tokens")
            .json(&json!({"name": "CI deploy", "expiresInDays": 30}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{backend:?}");
        let created: Value = r.json().await.unwrap();
        let secret = created["token"].as_str().unwrap().to_string();
        assert!(secret.starts_with("sonde_"), "{created}");
        let expires =
            chrono::DateTime::parse_from_rfc3339(created["expiresAt"].as_str().unwrap()).unwrap();
        let days = (expires.timestamp() - chrono::Utc::now().timestamp()) / 86_400;
        assert!((29..=30).contains(&days), "{created}");
        assert_eq!(api_status(&app, &secret).await, 200);

        // A token's last use is recorded off the request's path, so the list may trail the
        // call by a moment.
        let list = listed_once_used(&app, &token, "CI deploy").await;
        let tokens = list["tokens"].as_array().unwrap();
        assert_eq!(tokens.len(), 2, "{list}");
        assert!(
            !list.to_string().contains(&secret[6..]) && !list.to_string().contains(&token[6..]),
            "the list never shows a secret: {list}"
        );
        let ci = tokens.iter().find(|t| t["name"] == "CI deploy").unwrap();
        assert_eq!(ci["id"], created["id"]);
        assert!(
            ci["createdAt"].is_string() && ci["expiresAt"].is_string(),
            "{ci}"
        );
        assert!(ci["lastUsedAt"].is_string(), "used once above: {ci}");
        assert!(ci.get("token").is_none(), "{ci}");
        let first = tokens.iter().find(|t| t["name"] == "test").unwrap();
        assert!(first["expiresAt"].is_null(), "made without expiry: {first}");

        // Someone else's token is not found; one's own is revoked.
        let path = format!("/api/v1/tokens/{}", created["id"].as_str().unwrap());
        let r = app
            .client
            .delete(app.url(&path))
            .bearer_auth(&stranger)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(api_status(&app, &secret).await, 200);
        let r = app
            .client
            .delete(app.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(api_status(&app, &secret).await, 401, "{backend:?}: revoked");
        let list = app.get_json(&token, "/api/v1/tokens").await;
        assert_eq!(list["tokens"].as_array().unwrap().len(), 1, "{list}");

        // A token stops working when its expiry passes (moved into the past here).
        let r = app
            .post(&token, "/api/v1/tokens")
            .json(&json!({"name": "short-lived", "expiresInDays": 1}))
            .send()
            .await
            .unwrap();
        let short: Value = r.json().await.unwrap();
        let short_secret = short["token"].as_str().unwrap();
        assert_eq!(api_status(&app, short_secret).await, 200);
        sqlx::query("UPDATE api_tokens SET expires_at = $1 WHERE id = $2")
            .bind(store::now_ms() - 1000)
            .bind(short["id"].as_str().unwrap())
            .execute(app.sonde.store.pool())
            .await
            .unwrap();
        assert_eq!(
            api_status(&app, short_secret).await,
            401,
            "{backend:?}: expired"
        );
        let list = app.get_json(&token, "/api/v1/tokens").await;
        let listed = list["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "short-lived")
            .unwrap()
            .clone();
        assert_eq!(listed["expired"], true, "{list}");
    }
}

#[tokio::test]
async fn the_account_page_creates_lists_and_revokes_tokens() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (me, _) = app.org_user(Role::Editor).await;
    let client = signed_in(&app, &me.email, PASSWORD).await;
    let (status, page) = text_of(&client, app.url("/account")).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("test"),
        "the harness's token is listed: {page}"
    );
    let csrf = csrf_of(&page);

    let r = client
        .post(app.url("/account/tokens"))
        .form(&[("name", "laptop"), ("expires_in_days", "7")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "no CSRF token, no new token");
    let r = client
        .post(app.url("/account/tokens"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "laptop"),
            ("expires_in_days", "7"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let start = page.find("sonde_").expect("the new token is shown once");
    let secret: String = page[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert_eq!(api_status(&app, &secret).await, 200);
    let (_, page) = text_of(&client, app.url("/account")).await;
    assert!(!page.contains(&secret), "shown only once");
    assert!(page.contains("laptop"));
    let list = app.get_json(&secret, "/api/v1/tokens").await;
    let laptop = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "laptop")
        .unwrap()
        .clone();
    assert!(laptop["expiresAt"].is_string(), "{laptop}");
    let revoke = format!("/account/tokens/{}/revoke", laptop["id"].as_str().unwrap());
    assert!(page.contains(&revoke), "a revoke button per token: {page}");
    let r = client
        .post(app.url(&revoke))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(api_status(&app, &secret).await, 401);
}

#[tokio::test]
async fn a_deactivated_user_is_signed_out_and_cannot_sign_in() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (admin, admin_token) = app.org_user(Role::Admin).await;
        let (user, user_token) = app.user_in(&admin.org_id, Role::Editor).await;
        let (_, outsider) = app.org_user(Role::Admin).await;
        let session = signed_in(&app, &user.email, PASSWORD).await;
        let deactivate = format!("/api/v1/users/{}/deactivate", user.user_id);

        let r = app.post(
            &user_token,
            &format!("/api/v1/users/{}/deactivate", admin.user_id),
        );
        assert_eq!(
            r.send().await.unwrap().status(),
            403,
            "{backend:?}: admins only"
        );
        let r = app.post(&outsider, &deactivate).send().await.unwrap();
        assert_eq!(r.status(), 404, "another organization's user is not found");
        let r = app
            .post(
                &admin_token,
                &format!("/api/v1/users/{}/deactivate", admin.user_id),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "an admin does not lock themself out");

        let users = app.get_json(&admin_token, "/api/v1/users").await;
        let listed = users["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == user.user_id.as_str())
            .unwrap()
            .clone();
        assert_eq!(listed["active"], true, "{users}");

        let r = app.post(&admin_token, &deactivate).send().await.unwrap();
        assert_eq!(r.status(), 200, "{backend:?}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["active"], false, "{v}");
        assert_eq!(v["sessionsEnded"], 1, "{v}");
        assert_eq!(v["apiTokensRevoked"], 1, "{v}");
        assert_eq!(page_status(&app, &session, "/surveys").await, 303);
        assert_eq!(api_status(&app, &user_token).await, 401);
        let r = app
            .sign_in_web(&cookie_client(), &user.email, PASSWORD)
            .await;
        assert_eq!(r.status(), 403, "{backend:?}");
        assert!(r.text().await.unwrap().contains("deactivated"));
        let r = app
            .sign_in_web(&cookie_client(), &user.email, "wrong!")
            .await;
        assert_eq!(r.status(), 401, "a wrong password learns nothing more");

        // Reactivated, the person signs in again; their old tokens stay revoked.
        let r = app
            .post(
                &admin_token,
                &format!("/api/v1/users/{}/reactivate", user.user_id),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        signed_in(&app, &user.email, PASSWORD).await;
        assert_eq!(api_status(&app, &user_token).await, 401);
    }
}

#[tokio::test]
async fn the_cli_deactivates_users_and_manages_tokens() {
    let dir = crate::harness::TempDir::new();
    let db = vec!["--data-dir".to_string(), dir.0.display().to_string()];
    let run = |args: &[&str], stdin: Option<&str>| {
        use std::io::Write;
        let mut child = crate::cli::sonde(&db)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
        drop(input);
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "sonde {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    run(
        &["users", "add", "ops@example.com", "--password-stdin"],
        Some("a long enough password\n"),
    );
    let secret = run(
        &[
            "tokens",
            "create",
            "ops@example.com",
            "--name",
            "nightly",
            "--expires-in-days",
            "7",
        ],
        None,
    );
    let secret = secret.trim().to_string();
    let second = run(&["tokens", "create", "ops@example.com"], None);
    let listed = run(&["tokens", "list", "ops@example.com"], None);
    assert!(listed.contains("nightly"), "{listed}");
    assert!(!listed.contains(&secret[6..]), "never the secret: {listed}");
    let nightly_line = listed.lines().find(|l| l.contains("nightly")).unwrap();
    assert!(nightly_line.contains("expires"), "{listed}");
    let id = nightly_line.split_whitespace().next().unwrap();
    run(&["tokens", "revoke", id], None);
    run(&["users", "deactivate", "ops@example.com"], None);

    let store = store::Store::open_data_dir(&dir.0).await.unwrap();
    let sonde = engine::Sonde::new(
        store,
        engine::Config {
            public_url: "http://127.0.0.1:1".into(),
        },
    )
    .await
    .unwrap();
    assert!(sonde.authenticate_api_token(&secret).await.is_err());
    assert!(
        sonde.authenticate_api_token(second.trim()).await.is_err(),
        "deactivation disables every token"
    );
}

/// Posts a sign-in (with the form's CSRF token) and answers status and Retry-After.
async fn attempt(app: &TestApp, from: IpAddr, email: &str, password: &str) -> (u16, Option<u64>) {
    let r = app
        .sign_in_web(&cookie_client_from(from), email, password)
        .await;
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (r.status().as_u16(), retry)
}

#[tokio::test]
async fn sign_in_is_throttled_per_account_and_per_address() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (victim, _) = app.org_user(Role::Admin).await;
        let (bystander, _) = app.user_in(&victim.org_id, Role::Editor).await;
        let attacker = loopback(2);

        // Wrong passwords for one account: a few are just wrong, then the account waits.
        let mut statuses = Vec::new();
        for _ in 0..15 {
            let (status, _) = attempt(&app, attacker, &victim.email, "guess").await;
            statuses.push(status);
            if status == 429 {
                break;
            }
        }
        assert_eq!(
            statuses.last(),
            Some(&429),
            "{backend:?}: guessing is throttled: {statuses:?}"
        );
        assert!(
            statuses.len() > 5 && statuses[..5].iter().all(|s| *s == 401),
            "the first few mistakes are only mistakes: {statuses:?}"
        );
        // Now even the right password waits, from the same address or another one.
        let (status, retry) = attempt(&app, attacker, &victim.email, PASSWORD).await;
        assert_eq!(status, 429, "{backend:?}");
        let retry = retry.expect("429 says when to come back");
        assert!((1..=900).contains(&retry), "{retry}");
        let (status, _) = attempt(&app, loopback(3), &victim.email, PASSWORD).await;
        assert_eq!(
            status, 429,
            "the account is throttled wherever the guess comes from"
        );
        let page = app
            .sign_in_web(&cookie_client_from(attacker), &victim.email, PASSWORD)
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Too many sign-in attempts"), "{page}");
        // Someone else, from elsewhere, is not affected.
        let (status, _) = attempt(&app, loopback(4), &bystander.email, PASSWORD).await;
        assert_eq!(
            status, 303,
            "{backend:?}: another account from another address"
        );
        // Once the delay has passed, the right password works (and clears the account).
        tokio::time::sleep(Duration::from_secs(retry) + Duration::from_millis(300)).await;
        let (status, _) = attempt(&app, loopback(3), &victim.email, PASSWORD).await;
        assert_eq!(status, 303, "{backend:?}: after the delay");

        // One address guessing many accounts waits too, for every account.
        let spray = loopback(5);
        let mut statuses = Vec::new();
        for i in 0..40 {
            let email = format!("guess{i}@example.com");
            let (status, _) = attempt(&app, spray, &email, "guess").await;
            statuses.push(status);
            if status == 429 {
                break;
            }
        }
        assert_eq!(statuses.last(), Some(&429), "{backend:?}: {statuses:?}");
        assert!(
            statuses.len() > 20,
            "an office behind one address has room: {statuses:?}"
        );
        let (status, _) = attempt(&app, spray, &bystander.email, PASSWORD).await;
        assert_eq!(status, 429, "{backend:?}: the address waits");
        let (status, _) = attempt(&app, loopback(6), &bystander.email, PASSWORD).await;
        assert_eq!(status, 303, "{backend:?}: the account does not");
    }
}

#[tokio::test]
async fn a_refused_sign_in_keeps_the_typed_email_and_never_the_password() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (me, _) = app.org_user(Role::Editor).await;
        let kept = format!("value=\"{}\"", me.email);
        let r = app
            .sign_in_web(&cookie_client_from(loopback(7)), &me.email, "wrong guess")
            .await;
        assert_eq!(r.status(), 401, "{backend:?}");
        let page = r.text().await.unwrap();
        assert!(
            page.contains(&kept),
            "{backend:?}: the email is filled in again: {page}"
        );
        assert!(page.contains("do not match"), "the error is shown");
        assert!(!page.contains("wrong guess"), "never the password");

        // Markup typed into the field comes back as text.
        let typed = "a\"><script>alert(1)</script>@example.com";
        let r = app
            .sign_in_web(&cookie_client_from(loopback(8)), typed, "x")
            .await;
        let page = r.text().await.unwrap();
        assert!(
            page.contains("value=\"a&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;@example.com\""),
            "{page}"
        );
        assert!(!page.contains("<script>alert"), "{page}");

        // Throttled, the form keeps the email too.
        let mut last = (0, String::new());
        for _ in 0..15 {
            let r = app
                .sign_in_web(&cookie_client_from(loopback(9)), &me.email, "guess")
                .await;
            last = (r.status().as_u16(), r.text().await.unwrap());
            if last.0 == 429 {
                break;
            }
        }
        assert_eq!(last.0, 429, "{backend:?}");
        assert!(
            last.1.contains("Too many sign-in attempts") && last.1.contains(&kept),
            "{}",
            last.1
        );
    }
}

#[tokio::test]
async fn the_sign_in_form_needs_its_csrf_token() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (me, _) = app.org_user(Role::Editor).await;
    let form = [("email", me.email.as_str()), ("password", PASSWORD)];

    // A page elsewhere posting the sign-in form (login CSRF) has neither cookie nor token.
    let r = cookie_client()
        .post(app.url("/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "no token");
    assert!(r
        .headers()
        .get_all("set-cookie")
        .iter()
        .all(|c| !c.to_str().unwrap().starts_with("sonde_session=")));
    let page = r.text().await.unwrap();
    assert!(page.contains("expired"), "{page}");
    assert!(page.contains("name=\"csrf\""), "a fresh form to try again");

    // The cookie without the token, a token without its cookie, and a wrong token.
    let client = cookie_client();
    let (_, html) = text_of(&client, app.url("/login")).await;
    let token = csrf_of(&html);
    let r = client
        .post(app.url("/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "cookie only");
    let mut with_token = form.to_vec();
    with_token.push(("csrf", token.as_str()));
    let r = cookie_client()
        .post(app.url("/login"))
        .form(&with_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "token only");
    let mut wrong = form.to_vec();
    wrong.push(("csrf", "not-the-token"));
    let r = client
        .post(app.url("/login"))
        .form(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "wrong token");

    // Both, as the form sends them.
    let r = client
        .post(app.url("/login"))
        .form(&with_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
}
