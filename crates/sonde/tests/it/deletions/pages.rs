//! The admin UI's deletions: each page asks first, saying what will happen, and is refused up
//! front to whoever may not do it; only the form's POST with the session's CSRF token acts.
//! The audit log's page is for admins. In Chromium at desktop and phone widths, with
//! screenshots.

use super::Org;
use crate::harness::{backends, Backend, WebSession};
use serde_json::json;

/// A signed-in person's page requests.
struct Pages<'a> {
    o: &'a Org,
    session: WebSession,
    http: reqwest::Client,
}

impl<'a> Pages<'a> {
    async fn of(o: &'a Org, email: &str) -> Self {
        Self {
            o,
            session: o.app.sign_in(email).await,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(self.o.app.url(path))
            .header("cookie", format!("sonde_session={}", self.session.cookie))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Posts a form carrying `csrf`; the status, the redirect (if any) and the page.
    async fn post(&self, path: &str, csrf: &str) -> (u16, Option<String>, String) {
        let r = self
            .http
            .post(self.o.app.url(path))
            .header("cookie", format!("sonde_session={}", self.session.cookie))
            .form(&[("csrf", csrf)])
            .send()
            .await
            .unwrap();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        (r.status().as_u16(), location, r.text().await.unwrap())
    }

    /// Asks at `path` (expecting `question` and each of `says`), then confirms with the page's
    /// own form; the POST's status, redirect and page.
    async fn ask_then_do(
        &self,
        path: &str,
        question: &str,
        says: &[&str],
    ) -> (u16, Option<String>, String) {
        let (status, page) = self.get(path).await;
        assert_eq!(status, 200, "{path}: {page}");
        assert!(page.contains(question), "{path} asks {question:?}: {page}");
        for s in says {
            assert!(page.contains(s), "{path} says {s:?}: {page}");
        }
        assert!(
            page.contains(&format!("action=\"{path}\"")),
            "{path}: the form posts back"
        );
        // Without the session's token nothing happens.
        let (status, _, refused) = self.post(path, "forged").await;
        assert_eq!(status, 403, "{path} without CSRF: {refused}");
        self.post(path, &self.session.csrf).await
    }
}

#[tokio::test]
async fn each_deletion_page_asks_first_and_the_audit_page_shows_them() {
    for backend in backends() {
        let o = Org::new(backend).await;
        let owner = Pages::of(&o, &o.owner.0.email).await;
        let viewer = Pages::of(&o, &o.viewer.0.email).await;
        let admin = Pages::of(&o, &o.admin.0.email).await;
        let s = &o.survey;
        let (workflow, list) = o.list_workflow(s).await;
        let response = o.respond(s).await;
        o.respond(s).await;
        let (_, contact) = o
            .call(
                &o.owner.1,
                "POST",
                &format!("/api/v1/contacts?listId={list}"),
                Some(json!({"email": "ada@example.com", "unsubscribed": true})),
            )
            .await;
        let contact = contact["id"].as_str().unwrap().to_string();
        o.call(
            &o.owner.1,
            "POST",
            &format!("/api/v1/contacts?listId={list}"),
            Some(json!({"email": "grace@example.com"})),
        )
        .await;
        let (_, token) = o
            .call(
                &o.owner.1,
                "POST",
                "/api/v1/tokens",
                Some(json!({"name": "Zapier"})),
            )
            .await;
        let token = token["id"].as_str().unwrap().to_string();

        // Viewers are refused every question up front, and offered none of the links.
        for path in [
            format!("/surveys/{s}/archive"),
            format!("/surveys/{s}/responses/{response}/delete"),
            format!("/contacts/{contact}/delete"),
            format!("/lists/{list}/delete"),
            "/audit".to_string(),
        ] {
            assert_eq!(
                viewer.get(&path).await.0,
                403,
                "{backend:?}: a viewer at {path}"
            );
        }
        let (_, page) = viewer.get(&format!("/surveys/{s}")).await;
        assert!(!page.contains("Archive survey"), "{page}");
        assert!(!viewer.get("/contacts").await.1.contains("/delete\""));

        // A response.
        let (_, page) = owner
            .get(&format!("/surveys/{s}/responses/{response}"))
            .await;
        assert!(page.contains("Delete this response"));
        let (status, _, done) = owner
            .ask_then_do(
                &format!("/surveys/{s}/responses/{response}/delete"),
                &format!("Delete the response {response}?"),
                &["cannot be undone", "stays there"],
            )
            .await;
        assert_eq!(status, 200, "{done}");
        assert!(done.contains("Response deleted"));

        // A contact: it is on a list and unsubscribed, and the page says what becomes of that.
        let (_, page) = owner.get("/contacts").await;
        assert!(page.contains(&format!("/contacts/{contact}/delete")));
        let (status, _, done) = owner
            .ask_then_do(
                &format!("/contacts/{contact}/delete"),
                "Delete the contact ada@example.com?",
                &["They leave 1 mailing list", "stay so"],
            )
            .await;
        assert_eq!(status, 200, "{done}");
        assert!(done.contains("Their opt-out is kept"), "{done}");

        // A list that a workflow adds to: the page names the workflow.
        let (status, _, done) = owner
            .ask_then_do(
                &format!("/lists/{list}/delete"),
                "Delete the mailing list",
                &[
                    "1 contact stays in the directory",
                    &format!("/workflows/{workflow}"),
                ],
            )
            .await;
        assert_eq!(status, 200, "{done}");

        // A token, from the account page.
        let (_, page) = owner.get("/account").await;
        assert!(page.contains(&format!("/account/tokens/{token}/revoke")));
        let (status, location, _) = owner
            .ask_then_do(
                &format!("/account/tokens/{token}/revoke"),
                "Revoke the API token \u{201c}Zapier\u{201d}?",
                &["refused from now on"],
            )
            .await;
        assert_eq!((status, location.as_deref()), (303, Some("/account")));

        // The survey: archived (then off the list, with the way back), purged.
        let (_, page) = owner.get(&format!("/surveys/{s}")).await;
        assert!(page.contains(&format!("/surveys/{s}/archive")));
        let (status, location, _) = owner
            .ask_then_do(
                &format!("/surveys/{s}/archive"),
                "Archive the survey",
                &[
                    "1 response is kept",
                    "1 enabled workflow stops firing",
                    "closed",
                ],
            )
            .await;
        assert_eq!((status, location), (303, Some(format!("/surveys/{s}"))));
        let (_, page) = owner.get(&format!("/surveys/{s}")).await;
        assert!(
            page.contains("id=\"archived-notice\"") && page.contains("Restore survey"),
            "{page}"
        );
        assert!(!owner.get("/surveys").await.1.contains(s.as_str()));
        assert!(owner
            .get("/surveys?archived=1")
            .await
            .1
            .contains(s.as_str()));
        let colleague = Pages::of(&o, &o.colleague.0.email).await;
        assert_eq!(
            colleague.get(&format!("/surveys/{s}/purge")).await.0,
            403,
            "a collaborator purging"
        );
        let (status, _, done) = owner
            .ask_then_do(
                &format!("/surveys/{s}/purge"),
                "Purge the survey",
                &["cannot be undone", "1 response", "1 workflow"],
            )
            .await;
        assert_eq!(status, 200, "{done}");
        assert!(done.contains("Survey purged"));

        // The audit page: every act above, newest first, for admins (who find it in the nav).
        assert!(admin.get("/surveys").await.1.contains("href=\"/audit\""));
        assert!(!owner.get("/surveys").await.1.contains("href=\"/audit\""));
        assert_eq!(owner.get("/audit").await.0, 403);
        let (status, page) = admin.get("/audit").await;
        assert_eq!(status, 200, "{page}");
        let table = &page[page.find("<tbody>").expect("a table of events")..];
        let order: Vec<usize> = [
            "purged survey",
            "archived survey",
            "revoked API token",
            "deleted mailing list",
            "deleted contact",
            "deleted response",
        ]
        .iter()
        .map(|did| {
            table
                .find(did)
                .unwrap_or_else(|| panic!("{did} on the audit page: {page}"))
        })
        .collect();
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "newest first: {order:?}"
        );
        let (_, filtered) = admin.get("/audit?action=contact.deleted").await;
        assert!(filtered.contains("ada@example.com") && !filtered.contains("Zapier"));
        let (status, bad) = admin.get("/audit?action=nonsense").await;
        assert_eq!(status, 400, "{bad}");
    }
}

/// Screenshots at both widths, and checks that the page fits a phone's width.
async fn shots(b: &crate::browser::Browser, name: &str) {
    b.resize(390, 844).await;
    let wide = b
        .execute("return document.documentElement.scrollWidth", json!([]))
        .await;
    assert!(
        wide.as_f64().unwrap() <= 400.0,
        "{name} scrolls sideways on a phone: {wide}"
    );
    b.shots(name).await;
}

#[tokio::test]
async fn the_deletion_and_audit_pages_work_in_chromium_at_desktop_and_phone_widths() {
    let Some(b) = crate::browser::Browser::start().await else {
        return;
    };
    let o = Org::new(Backend::Sqlite).await;
    let s = &o.survey;
    let (_, list) = o.list_workflow(s).await;
    let response = o.respond(s).await;
    o.respond(s).await;
    let (_, contact) = o
        .call(&o.admin.1, "POST", &format!("/api/v1/contacts?listId={list}"),
            Some(json!({"email": "ada.lovelace@example.com", "firstName": "Ada", "lastName": "Lovelace", "unsubscribed": true})))
        .await;
    let contact = contact["id"].as_str().unwrap().to_string();
    let (_, made) = o
        .call(
            &o.admin.1,
            "POST",
            "/api/v1/tokens",
            Some(json!({"name": "Salesforce Flow"})),
        )
        .await;
    let token = made["id"].as_str().unwrap().to_string();

    b.goto(&o.app.url("/login")).await;
    b.type_into("#email", &o.admin.0.email).await;
    b.type_into("#password", crate::harness::PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_for("Import a Qualtrics survey").await;

    // Each question, answered by clicking its button.
    b.goto(&o.app.url(&format!("/surveys/{s}/responses/{response}")))
        .await;
    b.click("#delete-response").await;
    b.wait_for("Delete the response").await;
    shots(&b, "response-confirm").await;
    b.click("#confirm-submit").await;
    b.wait_for("Response deleted").await;

    b.goto(&o.app.url("/contacts")).await;
    b.click(&format!("a[href='/contacts/{contact}/delete']"))
        .await;
    b.wait_for("Delete the contact").await;
    shots(&b, "contact-confirm").await;
    b.click("#confirm-submit").await;
    b.wait_for("Their opt-out is kept").await;
    shots(&b, "contact-deleted").await;

    b.goto(&o.app.url(&format!("/lists/{list}"))).await;
    b.click("#delete-list").await;
    b.wait_for("will fail until changed").await;
    shots(&b, "list-confirm").await;
    b.click("#confirm-submit").await;
    b.wait_for("Mailing list deleted").await;

    b.goto(&o.app.url("/account")).await;
    b.click(&format!("a[href='/account/tokens/{token}/revoke']"))
        .await;
    b.wait_for("Revoke the API token").await;
    shots(&b, "token-confirm").await;
    b.click("#confirm-submit").await;
    let page = b.wait_for("Create an API token").await;
    assert!(
        !page.contains("Salesforce Flow"),
        "the revoked token is still listed"
    );

    b.goto(&o.app.url(&format!("/surveys/{s}"))).await;
    b.click("#archive-survey").await;
    b.wait_for("Archive the survey").await;
    shots(&b, "archive-confirm").await;
    b.click("#confirm-submit").await;
    b.wait_for("archived-notice").await;
    shots(&b, "survey-archived").await;
    // Its link now tells a respondent it is closed.
    b.goto(&o.app.url(&format!("/s/{s}"))).await;
    b.wait_for("does not exist or is closed").await;
    b.goto(&o.app.url(&format!("/surveys/{s}"))).await;
    b.click("#purge-survey").await;
    b.wait_for("Purge the survey").await;
    shots(&b, "purge-confirm").await;
    b.click("#confirm-submit").await;
    b.wait_for("Survey purged").await;

    b.click("a[href='/audit']").await;
    let page = b.wait_for("Audit log").await;
    assert!(page.contains("purged survey") && page.contains("ada.lovelace@example.com"));
    shots(&b, "audit").await;
    // The phone's layout is one card per event: no table header row to read across.
    b.resize(390, 844).await;
    let header = b
        .execute(
            "return document.querySelector('table.audit thead').getBoundingClientRect().left",
            json!([]),
        )
        .await;
    assert!(
        header.as_f64().unwrap() < -1000.0,
        "the header is out of sight on a phone"
    );
    b.quit().await;
}
