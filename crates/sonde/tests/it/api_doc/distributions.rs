//! Distribution calls checked against the document: a template saved, a scheduled
//! distribution with a reminder and a thank-you, edited with the thank-you left out (kept) and
//! given as `null` (removed: the document says it may be), then deleted; a test send queued and
//! its outcome read (queued: this app sends no mail), an unknown one not found.

use super::{json_body, Doc};
use crate::harness::TestApp;
use reqwest::Method;
use serde_json::json;

pub(super) async fn check(
    d: &mut Doc,
    app: &TestApp,
    token: &str,
    survey: &str,
    list: &str,
    contact: &str,
) {
    let (s, t) = d
        .call(
            app,
            token,
            Method::POST,
            "/templates",
            &[],
            json_body(json!({"channel": "email", "name": "Doc", "subject": "Hi",
                             "body": "<p>${l://SurveyLink}</p>"})),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let template = t["id"].as_str().unwrap();
    let follow_up = json!({"afterHours": 24, "templateId": template});
    let (s, dist) = d
        .call(
            app,
            token,
            Method::POST,
            "/surveys/{id}/distributions",
            &[survey],
            json_body(json!({"mailingListId": list, "templateId": template,
                             "sendAt": "2099-01-01T09:00:00Z",
                             "reminders": [follow_up], "thankYou": follow_up})),
        )
        .await;
    assert_eq!(s, 201, "{dist}");
    let id = [dist["id"].as_str().unwrap()];
    let (s, kept) = d
        .call(
            app,
            token,
            Method::PATCH,
            "/distributions/{id}",
            &id,
            json_body(json!({"sendAt": "2099-01-02T09:00:00Z"})),
        )
        .await;
    assert_eq!(
        (s, &kept["thankYou"]["afterHours"]),
        (200, &json!(24)),
        "{kept}"
    );
    let (s, removed) = d
        .call(
            app,
            token,
            Method::PATCH,
            "/distributions/{id}",
            &id,
            json_body(json!({"thankYou": null, "reminders": []})),
        )
        .await;
    assert_eq!(s, 200, "{removed}");
    assert!(
        removed["thankYou"].is_null() && removed["reminders"] == json!([]),
        "{removed}"
    );
    let (s, _) = d
        .call(app, token, Method::DELETE, "/distributions/{id}", &id, None)
        .await;
    assert_eq!(s, 204);

    let (s, queued) = d
        .call(
            app,
            token,
            Method::POST,
            "/distributions/test",
            &[],
            json_body(
                json!({"templateId": template, "surveyId": survey, "contactId": contact,
                             "to": "me@example.com"}),
            ),
        )
        .await;
    assert_eq!(s, 202, "{queued}");
    let (s, outcome) = d
        .call(
            app,
            token,
            Method::GET,
            "/distributions/test/{id}",
            &[queued["jobId"].as_str().unwrap()],
            None,
        )
        .await;
    assert_eq!(
        (s, &outcome["status"]),
        (200, &json!("queued")),
        "{outcome}"
    );
    assert!(
        outcome["notice"].is_string(),
        "no SMTP server here: {outcome}"
    );
    let (s, _) = d
        .call(
            app,
            token,
            Method::GET,
            "/distributions/test/{id}",
            &["JOB_nothing"],
            None,
        )
        .await;
    assert_eq!(s, 404);
}
