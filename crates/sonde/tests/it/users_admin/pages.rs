//! The users page, an invitation accepted and the sign-in form keeping the typed email, in
//! headless Chromium; every page at desktop and phone width in `/work/shots/users/`.

use crate::browser::{Browser, DESKTOP};
use crate::harness::{Backend, TestApp, PASSWORD};
use engine::Role;
use serde_json::json;

const SHOTS: &str = "/work/shots/users";

async fn sign_in(b: &Browser, app: &TestApp, email: &str, password: &str) {
    b.goto(&app.url("/login")).await;
    b.type_into("#email", email).await;
    b.type_into("#password", password).await;
    b.click("button[type=submit]").await;
}

async fn text_of(b: &Browser, css: &str) -> String {
    b.execute(
        "return document.querySelector(arguments[0]).textContent.trim();",
        json!([css]),
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

async fn role_of(app: &TestApp, org_id: &str, email: &str) -> (String, bool) {
    let u = app
        .sonde
        .store
        .users_in_org(org_id)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == email)
        .expect("the user exists");
    (u.role, u.deactivated_at.is_none())
}

#[tokio::test]
async fn an_admin_invites_changes_a_role_deactivates_and_the_invitee_joins_in_chromium() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (admin, _) = app.org_user(Role::Admin).await;
    let (colleague, _) = app.user_in(&admin.org_id, Role::Editor).await;
    let Some(b) = Browser::start().await else {
        return;
    };
    b.resize(DESKTOP, 900).await;
    sign_in(&b, &app, &admin.email, PASSWORD).await;
    b.wait_for("Import a Qualtrics survey").await;
    b.click("header.bar a[href='/users']").await;
    b.wait_for("People in your organization").await;
    b.shots_in(std::path::Path::new(SHOTS), "users").await;

    // An invitation: its link shown once, with a copy button.
    b.type_into("#invite-email", "Newcomer@Example.com").await;
    b.click("#invite-role-viewer").await;
    b.click("#invite-submit").await;
    b.wait_for("Invitation link for newcomer@example.com").await;
    let link = text_of(&b, "#invitation-link").await;
    assert!(link.starts_with(&app.url("/invitations/")), "{link}");
    b.click("button[data-copy=invitation-link]").await;
    // Copied to the clipboard (the button says so), or, where the browser refuses, selected
    // for the person to copy.
    // The clipboard answers asynchronously, so the page is asked until it shows one or the
    // other (a loaded machine can take a while).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let copied = b
            .execute(
                "const b = document.querySelector('button[data-copy]'); return [b.dataset.copied === 'true' ? 'Copied' : b.textContent, String(window.getSelection())];",
                json!([]),
            )
            .await;
        if copied[0] == "Copied" || copied[1].as_str() == Some(link.as_str()) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{copied}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let page = b.source().await;
    assert!(
        page.contains("Pending invitations") && page.matches("newcomer@example.com").count() >= 2
    );
    b.shots_in(std::path::Path::new(SHOTS), "users-invited")
        .await;

    // A role picked and saved for one person.
    let row = format!("#user-{}", colleague.user_id);
    b.click(&format!(
        "#role-{} option[value='viewer']",
        colleague.user_id
    ))
    .await;
    b.click(&format!("{row} .role-form button")).await;
    b.wait_for(&format!("{} is now a viewer", colleague.email))
        .await;
    assert_eq!(
        role_of(&app, &admin.org_id, &colleague.email).await,
        ("viewer".to_string(), true)
    );

    // Deactivation asks first, then says what it ended.
    b.click(&format!("{row} a[href$='/deactivate']")).await;
    b.wait_for(&format!("Deactivate {}?", colleague.email))
        .await;
    b.shots_in(std::path::Path::new(SHOTS), "users-deactivate-confirm")
        .await;
    b.click("#access-submit").await;
    b.wait_for("is deactivated").await;
    assert_eq!(
        role_of(&app, &admin.org_id, &colleague.email).await,
        ("viewer".to_string(), false)
    );
    b.wait_for("Reactivate…").await;
    b.shots_in(std::path::Path::new(SHOTS), "users-deactivated")
        .await;

    // The invitee opens the link, signed in as nobody, and joins.
    b.click("header.bar form button").await;
    b.wait_for("Sign in to Sonde").await;
    b.goto(&link).await;
    b.wait_for("Choose a password to finish").await;
    b.shots_in(std::path::Path::new(SHOTS), "invitation").await;
    b.type_into("#password", "a newcomer's passphrase").await;
    b.type_into("#password-again", "a newcomer's passphrase")
        .await;
    b.click("#accept-submit").await;
    let page = b.wait_for("Import a Qualtrics survey").await;
    assert!(
        page.contains("newcomer@example.com"),
        "signed in as the newcomer"
    );
    assert!(
        !page.contains("href=\"/users\""),
        "a viewer's header has no users page"
    );
    assert_eq!(
        role_of(&app, &admin.org_id, "newcomer@example.com").await,
        ("viewer".to_string(), true)
    );
    // The link is used up.
    b.goto(&link).await;
    b.wait_for("This invitation cannot be used").await;
    b.shots_in(std::path::Path::new(SHOTS), "invitation-used")
        .await;
    b.quit().await;
}

#[tokio::test]
async fn sign_in_keeps_the_typed_email_after_a_wrong_password_in_chromium() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (me, _) = app.org_user(Role::Editor).await;
    let Some(b) = Browser::start().await else {
        return;
    };
    b.resize(DESKTOP, 900).await;
    sign_in(&b, &app, &me.email, "not my password").await;
    b.wait_for("do not match an account").await;
    assert_eq!(b.property("#email", "value").await, json!(me.email));
    assert_eq!(b.property("#password", "value").await, json!(""));
    let focused = b
        .execute("return document.activeElement.id;", json!([]))
        .await;
    assert_eq!(focused, "password", "the password is what is left to type");
    b.shots_in(std::path::Path::new(SHOTS), "sign-in-wrong-password")
        .await;
    b.type_into("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_for("Import a Qualtrics survey").await;
    b.quit().await;
}
