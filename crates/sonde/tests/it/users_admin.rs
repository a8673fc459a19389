//! Admins managing their organization's people: invitations handed on as one-time links
//! (accepted by choosing a password, then signed in; used once; dead once expired, revoked or
//! replaced), role changes that apply at once to sessions and tokens already held, and the
//! rule that an organization keeps an active admin — also when two admins demote each other
//! at the same moment. The pages in Chromium are in `pages`.

use crate::harness::{backends, cookie_client, csrf_of, TestApp, PASSWORD};
use engine::Role;
use futures::future::join;
use serde_json::{json, Value};

mod pages;

/// Invites `email` as `role` through the API; the status and the answer.
async fn invite(app: &TestApp, token: &str, email: &str, role: &str) -> (u16, Value) {
    let r = app
        .post(token, "/api/v1/users/invitations")
        .json(&json!({"email": email, "role": role}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// The link of an invitation just made.
async fn invitation_link(app: &TestApp, token: &str, email: &str, role: &str) -> String {
    let (status, v) = invite(app, token, email, role).await;
    assert_eq!(status, 201, "{v}");
    v["link"].as_str().unwrap().to_string()
}

/// Opens the link on `client` and posts its form with `password` twice (or `again` second);
/// the post's answer.
async fn accept_with(
    client: &reqwest::Client,
    link: &str,
    password: &str,
    again: &str,
) -> reqwest::Response {
    let page = client.get(link).send().await.unwrap();
    assert_eq!(page.status(), 200, "the invitation opens: {link}");
    let csrf = csrf_of(&page.text().await.unwrap());
    client
        .post(link)
        .form(&[
            ("csrf", csrf.as_str()),
            ("password", password),
            ("password_again", again),
        ])
        .send()
        .await
        .unwrap()
}

async fn accept(client: &reqwest::Client, link: &str) -> reqwest::Response {
    accept_with(client, link, PASSWORD, PASSWORD).await
}

async fn status_of(r: reqwest::RequestBuilder) -> u16 {
    r.send().await.unwrap().status().as_u16()
}

async fn page_of(client: &reqwest::Client, url: String) -> (u16, String) {
    let r = client.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The organization's users as the API lists them, by email.
async fn user_named(app: &TestApp, admin_token: &str, email: &str) -> Option<Value> {
    let v = app.get_json(admin_token, "/api/v1/users").await;
    v["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .cloned()
}

async fn patch_role(app: &TestApp, token: &str, user_id: &str, role: &str) -> (u16, Value) {
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/users/{user_id}")))
        .bearer_auth(token)
        .json(&json!({"role": role}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn deactivate(app: &TestApp, token: &str, user_id: &str) -> u16 {
    status_of(app.post(token, &format!("/api/v1/users/{user_id}/deactivate"))).await
}

/// How many active admins the organization has, straight from the store.
async fn active_admins(app: &TestApp, org_id: &str) -> usize {
    app.sonde
        .store
        .users_in_org(org_id)
        .await
        .unwrap()
        .iter()
        .filter(|u| u.role == "admin" && u.deactivated_at.is_none())
        .count()
}

#[tokio::test]
async fn an_invitee_opens_the_link_chooses_a_password_and_is_signed_in() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (admin, token) = app.org_user(Role::Admin).await;
        let link = invitation_link(&app, &token, "Grace.Hopper@Example.com", "editor").await;
        assert!(link.starts_with(&app.url("/invitations/")), "{link}");

        // Only a hash of the link's token is stored.
        let secret = link.rsplit('/').next().unwrap();
        let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM user_invitations")
            .fetch_all(app.sonde.store.pool())
            .await
            .unwrap();
        assert_eq!(stored.len(), 1);
        assert!(
            !stored[0].contains(secret) && stored[0].len() == 64,
            "{stored:?}"
        );

        // The page names the organization, the inviter and the role; no sign-in needed.
        let invitee = cookie_client();
        let (status, page) = page_of(&invitee, link.clone()).await;
        assert_eq!(status, 200, "{backend:?}: {page}");
        assert!(page.contains("grace.hopper@example.com"), "{page}");
        assert!(
            page.contains(&admin.email) && page.contains("editor"),
            "{page}"
        );

        // The password follows the rules every password does, typed twice alike.
        let r = accept_with(&invitee, &link, "short", "short").await;
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("at least 8 characters"));
        let r = accept_with(&invitee, &link, PASSWORD, "something else entirely").await;
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("two passwords differ"));
        // The form needs its own CSRF cookie, as the sign-in form does.
        let csrf = csrf_of(&page);
        let r = cookie_client()
            .post(&link)
            .form(&[
                ("csrf", csrf.as_str()),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{backend:?}: no cookie, no account");
        assert!(user_named(&app, &token, "grace.hopper@example.com")
            .await
            .is_none());

        // Accepted: signed in at once, as an editor of the inviting organization.
        let r = accept(&invitee, &link).await;
        assert_eq!(r.status(), 303, "{backend:?}");
        assert_eq!(r.headers()["location"], "/surveys");
        let (status, surveys) = page_of(&invitee, app.url("/surveys")).await;
        assert_eq!(status, 200);
        assert!(
            surveys.contains("grace.hopper@example.com"),
            "signed in as the invitee"
        );
        let user = user_named(&app, &token, "grace.hopper@example.com")
            .await
            .expect("the invitee is a user of the organization");
        assert_eq!(
            (&user["role"], &user["active"]),
            (&json!("editor"), &json!(true))
        );
        let pending = app.get_json(&token, "/api/v1/users/invitations").await;
        assert_eq!(
            pending["invitations"],
            json!([]),
            "accepted: no longer pending"
        );

        // They sign in later like anyone else, with the email in any case.
        let r = app
            .sign_in_web(&cookie_client(), "GRACE.hopper@example.com", PASSWORD)
            .await;
        assert_eq!(r.status(), 303, "{backend:?}");

        // An email that is already someone's is refused, whatever its case and organization.
        let (status, v) = invite(&app, &token, "Grace.HOPPER@example.com", "viewer").await;
        assert_eq!(status, 400, "{v}");
        assert_eq!(v["error"]["problems"][0]["field"], "email", "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("already a user"),
            "{v}"
        );
        let (_, elsewhere) = app.org_user(Role::Admin).await;
        let (status, v) = invite(&app, &elsewhere, &admin.email.to_uppercase(), "viewer").await;
        assert_eq!(status, 400, "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("already has a Sonde account"),
            "{v}"
        );
        // And input that is no email or no role says which.
        let (status, v) = invite(&app, &token, "grace at example", "editor").await;
        assert_eq!(
            (status, &v["error"]["problems"][0]["field"]),
            (400, &json!("email")),
            "{v}"
        );
        let (status, v) = invite(&app, &token, "ada@example.com", "owner").await;
        assert_eq!(
            (status, &v["error"]["problems"][0]["field"]),
            (400, &json!("role")),
            "{v}"
        );
    }
}

#[tokio::test]
async fn an_invitation_works_once_and_not_once_expired_revoked_or_replaced() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Admin).await;

        // Used: the same link, and two tabs racing on one link, make one user.
        let link = invitation_link(&app, &token, "once@example.com", "viewer").await;
        let r = accept(&cookie_client(), &link).await;
        assert_eq!(r.status(), 303);
        let (status, page) = page_of(&cookie_client(), link.clone()).await;
        assert_eq!(status, 404, "{backend:?}: used up");
        assert!(
            page.contains("used already, revoked, or replaced"),
            "{page}"
        );
        let link = invitation_link(&app, &token, "race@example.com", "viewer").await;
        let (a, b) = (cookie_client(), cookie_client());
        let (first, second) = join(accept(&a, &link), accept(&b, &link)).await;
        let mut statuses = [first.status().as_u16(), second.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [303, 404], "{backend:?}: one of two tabs wins");

        // Expired: said so, on the page and in the list; nothing is made.
        let (_, v) = invite(&app, &token, "late@example.com", "editor").await;
        let late = v["link"].as_str().unwrap().to_string();
        let page = cookie_client();
        let (status, _) = page_of(&page, late.clone()).await;
        assert_eq!(status, 200);
        app.sonde
            .store
            .execute_raw(&format!(
                "UPDATE user_invitations SET expires_at = 1000 WHERE id = '{}'",
                v["id"].as_str().unwrap()
            ))
            .await
            .unwrap();
        let (status, text) = page_of(&cookie_client(), late.clone()).await;
        assert_eq!(status, 409, "{backend:?}: {text}");
        assert!(text.contains("expired on 1970-01-01"), "{text}");
        let r = page
            .post(&late)
            .form(&[
                ("csrf", "x"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let pending = app.get_json(&token, "/api/v1/users/invitations").await;
        let listed = &pending["invitations"][0];
        assert_eq!(
            (&listed["email"], &listed["expired"]),
            (&json!("late@example.com"), &json!(true))
        );
        assert!(user_named(&app, &token, "late@example.com").await.is_none());

        // Revoked: the link is dead at once; revoking again is not found.
        let (_, v) = invite(&app, &token, "revoked@example.com", "editor").await;
        let id = v["id"].as_str().unwrap();
        let revoke = app
            .client
            .delete(app.url(&format!("/api/v1/users/invitations/{id}")))
            .bearer_auth(&token);
        assert_eq!(status_of(revoke).await, 204);
        let (status, _) = page_of(&cookie_client(), v["link"].as_str().unwrap().into()).await;
        assert_eq!(status, 404, "{backend:?}: revoked");
        let again = app
            .client
            .delete(app.url(&format!("/api/v1/users/invitations/{id}")))
            .bearer_auth(&token);
        assert_eq!(status_of(again).await, 404);

        // Replaced: inviting again kills the old link and the new one carries the new role.
        let (_, old) = invite(&app, &token, "twice@example.com", "viewer").await;
        let (status, new) = invite(&app, &token, "Twice@example.com", "admin").await;
        assert_eq!((status, &new["replaced"]), (201, &json!(true)), "{new}");
        let (status, _) = page_of(&cookie_client(), old["link"].as_str().unwrap().into()).await;
        assert_eq!(status, 404, "{backend:?}: the old link is replaced");
        let pending = app.get_json(&token, "/api/v1/users/invitations").await;
        let twice: Vec<&Value> = pending["invitations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["email"] == "twice@example.com")
            .collect();
        assert_eq!(twice.len(), 1, "{pending}");
        assert_eq!(twice[0]["role"], "admin");
        let r = accept(&cookie_client(), new["link"].as_str().unwrap()).await;
        assert_eq!(r.status(), 303);
        let user = user_named(&app, &token, "twice@example.com").await.unwrap();
        assert_eq!(user["role"], "admin");
    }
}

#[tokio::test]
async fn a_role_change_applies_at_once_to_sessions_and_tokens_already_held() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (admin_actor, admin) = app.org_user(Role::Admin).await;
        let (person, person_token) = app.user_in(&admin_actor.org_id, Role::Editor).await;
        let browser = cookie_client();
        assert_eq!(
            app.sign_in_web(&browser, &person.email, PASSWORD)
                .await
                .status(),
            303
        );
        let write = || {
            app.post(&person_token, "/api/v1/mailing-lists")
                .json(&json!({"name": "L"}))
        };
        assert_eq!(status_of(write()).await, 201);
        assert_eq!(status_of(browser.get(app.url("/users"))).await, 403);

        // Made a viewer: the same token may no longer write, from the very next call.
        let (status, v) = patch_role(&app, &admin, &person.user_id, "viewer").await;
        assert_eq!(
            (status, &v["role"]),
            (200, &json!("viewer")),
            "{backend:?}: {v}"
        );
        assert_eq!(
            status_of(write()).await,
            403,
            "{backend:?}: the token acts as a viewer"
        );

        // Made an admin: the same session now has the users page and its link in the header.
        let (status, _) = patch_role(&app, &admin, &person.user_id, "admin").await;
        assert_eq!(status, 200);
        let (status, page) = page_of(&browser, app.url("/users")).await;
        assert_eq!(status, 200, "{backend:?}: the session acts as an admin");
        assert!(
            page.contains("href=\"/users\""),
            "the header links the users page"
        );
        assert_eq!(
            status_of(app.get(&person_token, "/api/v1/users")).await,
            200
        );
    }
}

#[tokio::test]
async fn the_last_active_admin_is_neither_demoted_nor_deactivated() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (first, first_token) = app.org_user(Role::Admin).await;
        let (editor, _) = app.user_in(&first.org_id, Role::Editor).await;

        // Not oneself, and never the last admin.
        let (status, v) = patch_role(&app, &first_token, &first.user_id, "editor").await;
        assert_eq!(status, 400, "{backend:?}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("your own role"),
            "{v}"
        );
        assert_eq!(deactivate(&app, &first_token, &first.user_id).await, 400);
        let (status, _) = patch_role(&app, &first_token, &first.user_id, "admin").await;
        assert_eq!(status, 200, "keeping one's own role is no change");

        // A second admin may demote the first; then the second is the last one.
        let (second, second_token) = app.user_in(&first.org_id, Role::Admin).await;
        let (status, _) = patch_role(&app, &second_token, &first.user_id, "editor").await;
        assert_eq!(status, 200, "{backend:?}");
        let (status, _) = patch_role(&app, &first_token, &second.user_id, "editor").await;
        assert_eq!(status, 403, "{backend:?}: the first is an editor now");
        // The operator's CLI keeps the rule too.
        let e = app
            .sonde
            .reset_user(&second.email, Role::Editor, PASSWORD)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("last active admin"), "{e}");
        let e = app
            .sonde
            .deactivate_user_by_email(&second.email)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("last active admin"), "{e}");

        // A deactivated admin does not count as one left.
        let (third, _) = app.user_in(&first.org_id, Role::Admin).await;
        assert_eq!(deactivate(&app, &second_token, &third.user_id).await, 200);
        let (fourth, fourth_token) = app.user_in(&first.org_id, Role::Admin).await;
        assert_eq!(deactivate(&app, &fourth_token, &second.user_id).await, 200);
        let (status, v) = patch_role(&app, &fourth_token, &fourth.user_id, "viewer").await;
        assert_eq!(status, 400, "{v}");
        assert_eq!(active_admins(&app, &first.org_id).await, 1);
        // Reactivated, the third is an admin again, so the fourth may go.
        let reactivate = app.post(
            &fourth_token,
            &format!("/api/v1/users/{}/reactivate", third.user_id),
        );
        assert_eq!(status_of(reactivate).await, 200);
        assert_eq!(active_admins(&app, &first.org_id).await, 2);
        let (status, v) = patch_role(&app, &fourth_token, &editor.user_id, "viewer").await;
        assert_eq!((status, &v["role"]), (200, &json!("viewer")));
    }
}

#[tokio::test]
async fn two_admins_demoting_or_deactivating_each_other_at_once_leave_one_admin() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        for round in 0..12 {
            let (a, a_token) = app.org_user(Role::Admin).await;
            let (b, b_token) = app.user_in(&a.org_id, Role::Admin).await;
            // Demote each other, deactivate each other, or one of each.
            let (first, second) = match round % 3 {
                0 => {
                    join(
                        async { patch_role(&app, &a_token, &b.user_id, "viewer").await.0 },
                        async { patch_role(&app, &b_token, &a.user_id, "viewer").await.0 },
                    )
                    .await
                }
                1 => {
                    join(
                        deactivate(&app, &a_token, &b.user_id),
                        deactivate(&app, &b_token, &a.user_id),
                    )
                    .await
                }
                _ => {
                    join(
                        async { patch_role(&app, &a_token, &b.user_id, "editor").await.0 },
                        deactivate(&app, &b_token, &a.user_id),
                    )
                    .await
                }
            };
            // The loser is refused as the last admin (409), as no longer an admin (403), or,
            // deactivated before its request was read, as no longer signed in (401).
            let mut statuses = [first, second];
            statuses.sort();
            assert!(
                statuses[0] == 200 && [401, 403, 409].contains(&statuses[1]),
                "{backend:?} round {round}: exactly one change is made: {statuses:?}"
            );
            assert_eq!(
                active_admins(&app, &a.org_id).await,
                1,
                "{backend:?} round {round}: the organization keeps an admin"
            );
        }
    }
}

#[tokio::test]
async fn non_admins_and_other_organizations_are_refused() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (admin, admin_token) = app.org_user(Role::Admin).await;
        let (colleague, _) = app.user_in(&admin.org_id, Role::Viewer).await;
        let (_, pending) = invite(&app, &admin_token, "pending@example.com", "viewer").await;
        let pending_id = pending["id"].as_str().unwrap().to_string();
        let (_, outsider) = app.org_user(Role::Admin).await;

        for role in [Role::Editor, Role::Viewer] {
            let (_, token) = app.user_in(&admin.org_id, role).await;
            let (status, _) = invite(&app, &token, "someone@example.com", "viewer").await;
            assert_eq!(status, 403, "{backend:?} {role:?}: invite");
            assert_eq!(
                status_of(app.get(&token, "/api/v1/users/invitations")).await,
                403
            );
            let (status, _) = patch_role(&app, &token, &colleague.user_id, "admin").await;
            assert_eq!(
                status, 403,
                "{backend:?} {role:?}: a role change, even to admin"
            );
            let revoke = app
                .client
                .delete(app.url(&format!("/api/v1/users/invitations/{pending_id}")))
                .bearer_auth(&token);
            assert_eq!(status_of(revoke).await, 403);
        }

        // Another organization's admin finds neither the users nor the invitations.
        let (status, _) = patch_role(&app, &outsider, &colleague.user_id, "admin").await;
        assert_eq!(status, 404, "{backend:?}");
        let revoke = app
            .client
            .delete(app.url(&format!("/api/v1/users/invitations/{pending_id}")))
            .bearer_auth(&outsider);
        assert_eq!(status_of(revoke).await, 404);
        let theirs = app.get_json(&outsider, "/api/v1/users/invitations").await;
        assert_eq!(theirs["invitations"], json!([]), "{theirs}");
        let ours = app
            .get_json(&admin_token, "/api/v1/users/invitations")
            .await;
        assert_eq!(
            ours["invitations"][0]["id"],
            pending_id.as_str(),
            "untouched"
        );
        let user = user_named(&app, &admin_token, &colleague.email)
            .await
            .unwrap();
        assert_eq!(user["role"], "viewer", "untouched");
    }
}

#[tokio::test]
async fn the_users_page_says_what_it_refused_and_asks_before_deactivating() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (admin, admin_token) = app.org_user(Role::Admin).await;
        let (colleague, _) = app.user_in(&admin.org_id, Role::Editor).await;
        let browser = cookie_client();
        assert_eq!(
            app.sign_in_web(&browser, &admin.email, PASSWORD)
                .await
                .status(),
            303
        );
        let (_, page) = page_of(&browser, app.url("/users")).await;
        let csrf = csrf_of(&page);
        let post = |path: String, fields: Vec<(&'static str, String)>| {
            let mut form = fields;
            form.push(("csrf", csrf.clone()));
            browser.post(app.url(&path)).form(&form).send()
        };

        // An invitation refused says why, in the form, with what was typed still there.
        let r = post(
            "/users/invitations".into(),
            vec![
                ("email", format!(" {} ", admin.email)),
                ("role", "admin".into()),
            ],
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 400, "{backend:?}");
        let page = r.text().await.unwrap();
        assert!(
            page.contains("already a user of this organization"),
            "{page}"
        );
        assert!(
            page.contains(&format!("value=\"{}\"", admin.email)),
            "{page}"
        );
        assert!(
            page.contains("value=\"admin\" checked"),
            "the role chosen stays chosen"
        );

        // One's own role and access are refused, said above the list.
        let r = post(
            format!("/users/{}/role", admin.user_id),
            vec![("role", "viewer".into())],
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 400);
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("cannot change your own role"));
        let r = post(
            format!("/users/{}/deactivate", admin.user_id),
            vec![("confirm", "yes".into())],
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 400);
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("cannot deactivate yourself"));

        // A deactivation posted without its confirmation asks first and changes nothing.
        let r = post(format!("/users/{}/deactivate", colleague.user_id), vec![])
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        assert!(
            page.contains(&format!("Deactivate {}?", colleague.email)),
            "{page}"
        );
        let listed = user_named(&app, &admin_token, &colleague.email)
            .await
            .unwrap();
        assert_eq!(listed["active"], true);

        // A revoked invitation is said to be so, and leaves the list.
        let (_, v) = invite(&app, &admin_token, "leaving@example.com", "viewer").await;
        let r = post(
            format!("/users/invitations/{}/revoke", v["id"].as_str().unwrap()),
            vec![],
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        assert!(page.contains("leaving@example.com is revoked"), "{page}");
        let pending = app
            .get_json(&admin_token, "/api/v1/users/invitations")
            .await;
        assert_eq!(pending["invitations"], json!([]));
    }
}

#[tokio::test]
async fn every_act_on_people_is_in_the_audit_log_and_a_refused_one_is_not() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (admin, token) = app.org_user(Role::Admin).await;
        let events = || async {
            let v = app.get_json(&token, "/api/v1/audit-events").await;
            let mut e = v["events"].as_array().cloned().unwrap();
            e.reverse(); // oldest first
            e.iter()
                .map(|e| {
                    (
                        e["action"].as_str().unwrap().to_string(),
                        e["subject"]["label"].as_str().unwrap().to_string(),
                        e["actor"]["email"]
                            .as_str()
                            .or(e["actorEmail"].as_str())
                            .unwrap_or_default()
                            .to_string(),
                    )
                })
                .collect::<Vec<_>>()
        };

        // Invited, revoked, invited again, accepted.
        let (status, first) = invite(&app, &token, "ann@example.com", "viewer").await;
        assert_eq!(status, 201, "{first}");
        let id = first["invitation"]["id"]
            .as_str()
            .or(first["id"].as_str())
            .unwrap()
            .to_string();
        let r = app
            .client
            .delete(app.url(&format!("/api/v1/users/invitations/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        let link = invitation_link(&app, &token, "ann@example.com", "viewer").await;
        let browser = cookie_client();
        assert_eq!(accept(&browser, &link).await.status(), 303);
        let ann = user_named(&app, &token, "ann@example.com").await.unwrap();
        let ann_id = ann["id"].as_str().unwrap();

        // Promoted, deactivated and back; then refused acts, which record nothing.
        assert_eq!(patch_role(&app, &token, ann_id, "editor").await.0, 200);
        assert_eq!(deactivate(&app, &token, ann_id).await, 200);
        let r = app
            .post(&token, &format!("/api/v1/users/{ann_id}/reactivate"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(deactivate(&app, &token, &admin.user_id).await, 400);
        assert_ne!(
            patch_role(&app, &token, &admin.user_id, "viewer").await.0,
            200
        );
        // The operator at the command line.
        app.sonde
            .deactivate_user_by_email("ann@example.com")
            .await
            .unwrap();

        let got = events().await;
        let acts: Vec<(&str, &str)> = got
            .iter()
            .map(|(a, label, _)| (a.as_str(), label.as_str()))
            .collect();
        let ann = "ann@example.com";
        assert_eq!(
            acts,
            vec![
                ("invitation.created", ann),
                ("invitation.revoked", ann),
                ("invitation.created", ann),
                ("invitation.accepted", ann),
                ("user.role_changed", ann),
                ("user.deactivated", ann),
                ("user.reactivated", ann),
                ("user.deactivated", ann),
            ],
            "{backend:?}"
        );
        assert_eq!(got[3].2, ann, "the invitee accepts for themselves");
        assert_eq!(got[4].2, admin.email, "the admin changed the role");
        assert_eq!(got[7].2, engine::audit::COMMAND_LINE);
    }
}
