//! A test send's outcome, read back from `statusUrl` (`GET /api/v1/distributions/test/{id}`):
//! queued, then sent once the SMTP server took it; refused for good (a 550), failed with the
//! server's words; put off (a 451), still queued with them; another organization's not there.

use super::{call_as, Fixture};
use crate::harness::backends;
use engine::Role;
use reqwest::Method;
use serde_json::{json, Value};

/// Queues a test of a new template with a new contact's data, to `to`; the 202's body and
/// its `Location`.
async fn test_send(f: &Fixture, to: &str) -> (Value, String) {
    let template = f.template("Visit").await;
    let list = f.list("Testers").await;
    let contact = f
        .contact(
            &list,
            json!({"email": "ada@example.com", "firstName": "Ada"}),
        )
        .await;
    let r = f
        .app
        .client
        .post(f.app.url("/api/v1/distributions/test"))
        .bearer_auth(&f.token)
        .json(
            &json!({"templateId": template, "surveyId": f.survey, "contactId": contact, "to": to}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    (r.json().await.unwrap(), location)
}

async fn outcome(f: &Fixture, url: &str) -> Value {
    let (s, v) = f.call(Method::GET, url, None).await;
    assert_eq!(s, 200, "{url}: {v}");
    v
}

#[tokio::test]
async fn a_test_send_is_queued_then_sent_and_says_so() {
    for backend in backends() {
        let Some(f) = Fixture::new(backend, &[], &[]).await else {
            return;
        };
        let (queued, location) = test_send(&f, "me@example.com").await;
        let id = queued["jobId"].as_str().unwrap();
        let url = format!("/api/v1/distributions/test/{id}");
        assert_eq!(queued["statusUrl"], url.as_str(), "{queued}");
        assert_eq!(location, url);
        let v = outcome(&f, &url).await;
        assert_eq!(
            (&v["id"], &v["status"], &v["channel"], &v["to"]),
            (
                &json!(id),
                &json!("queued"),
                &json!("email"),
                &json!("me@example.com")
            ),
            "{v}"
        );
        assert!(
            v["queuedAt"].is_string() && v["finishedAt"].is_null(),
            "{v}"
        );

        f.app.sonde.drain_distributions().await.unwrap();
        assert_eq!(f.catcher.wait_for(1).await[0].to(), "me@example.com");
        let v = outcome(&f, &url).await;
        assert_eq!(
            (&v["status"], &v["attempts"]),
            (&json!("sent"), &json!(1)),
            "{backend:?}: {v}"
        );
        assert!(
            v["finishedAt"].is_string() && v.get("error").is_none(),
            "{v}"
        );

        // Another organization's admin, and an id that is no test send, find nothing.
        let (_, other) = f.app.org_user(Role::Admin).await;
        let (s, v) = call_as(&f.app, &other, Method::GET, &url, None).await;
        assert_eq!(s, 404, "{v}");
        let (s, _) = f
            .call(Method::GET, "/api/v1/distributions/test/JOB_nothing", None)
            .await;
        assert_eq!(s, 404);
        // A distribution's message is no test send either (its job's id is its recipient's).
        let list = f.list("Customers").await;
        f.contact(&list, json!({"email": "bob@example.com"})).await;
        let template = f.template("Visit again").await;
        let (s, d) = f
            .distribute(json!({"mailingListId": list, "templateId": template}))
            .await;
        assert_eq!(s, 201, "{d}");
        f.app.sonde.drain_distributions().await.unwrap();
        let recipient = f.recipients(d["id"].as_str().unwrap()).await[0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (s, v) = f
            .call(
                Method::GET,
                &format!("/api/v1/distributions/test/{recipient}"),
                None,
            )
            .await;
        assert_eq!(s, 404, "{v}");
    }
}

#[tokio::test]
async fn a_refused_test_send_fails_with_the_servers_words_and_a_deferred_one_waits() {
    for backend in backends() {
        let Some(f) =
            Fixture::new(backend, &["gone@example.com"], &[("busy@example.com", 1)]).await
        else {
            return;
        };
        let (refused, _) = test_send(&f, "gone@example.com").await;
        let (deferred, _) = test_send(&f, "busy@example.com").await;
        f.app.sonde.drain_distributions().await.unwrap();
        assert!(f.catcher.received().is_empty());

        let v = outcome(&f, refused["statusUrl"].as_str().unwrap()).await;
        assert_eq!(v["status"], "failed", "{backend:?}: {v}");
        let error = v["error"].as_str().unwrap();
        assert!(
            error.contains("550") && error.contains("mailbox unavailable"),
            "the server's words: {v}"
        );
        assert!(v["finishedAt"].is_string(), "{v}");

        // A 451 is tried again later: queued still, with what the server said.
        let v = outcome(&f, deferred["statusUrl"].as_str().unwrap()).await;
        assert_eq!(v["status"], "queued", "{v}");
        assert!(v["error"].as_str().unwrap().contains("451"), "{v}");
        assert!(v["finishedAt"].is_null(), "{v}");
    }
}
