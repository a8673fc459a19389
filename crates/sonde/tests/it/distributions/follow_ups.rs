//! Reminders and thank-yous: scheduled relative to the send, decided when they fall due (a
//! reminder to those who have not finished, a thank-you to those who have), sent over the
//! invitation's own link; a thank-you removed while scheduled never goes. The clock is moved
//! on, so each test runs in a process of its own.

use super::{answer, in_own_process, survey_link, Fixture};
use crate::harness::backends;
use mail_parser::MessageParser;
use reqwest::Method;
use serde_json::json;

const HOUR_MS: i64 = 3_600_000;

/// A template of its own subject, so each received message says what it was.
async fn template(f: &Fixture, name: &str, subject: &str) -> String {
    let (s, v) = f
        .call(
            Method::POST,
            "/api/v1/templates",
            Some(json!({
                "channel": "email",
                "name": name,
                "subject": subject,
                "body": "<p>${m://FirstName}: ${l://SurveyLink}</p>",
            })),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_reminder_goes_only_to_non_finishers_and_a_thank_you_only_to_finishers() {
    if !in_own_process(
        "distributions::follow_ups::a_reminder_goes_only_to_non_finishers_and_a_thank_you_only_to_finishers",
    ) {
        return;
    }
    for backend in backends() {
        let Some(f) = Fixture::new(backend, &[], &[]).await else {
            return;
        };
        let invitation = f.template("Visit").await;
        let reminder = template(&f, "Reminder", "A reminder").await;
        let thanks = template(&f, "Thanks", "Thank you").await;
        let list = f.list("Customers").await;
        for name in ["Ada", "Bob", "Cy"] {
            f.contact(
                &list,
                json!({"email": format!("{}@example.com", name.to_lowercase()), "firstName": name}),
            )
            .await;
        }
        let (s, d) = f
            .distribute(json!({
                "channel": "email", "mailingListId": list, "templateId": invitation,
                "reminders": [{"afterHours": 72, "templateId": reminder}],
                "thankYou": {"afterHours": 24, "templateId": thanks},
            }))
            .await;
        assert_eq!(s, 201, "{d}");
        let id = d["id"].as_str().unwrap().to_string();
        f.app.sonde.drain_distributions().await.unwrap();
        let received = f.catcher.received();
        assert_eq!(received.len(), 3, "{backend:?}: the invitations");

        // Ada finishes through her link; Bob opens his and goes no further.
        let link_of = |to: &str| {
            let mail = received.iter().find(|m| m.to() == to).unwrap();
            survey_link(&MessageParser::default().parse(mail.raw.as_bytes()).unwrap())
        };
        let ada_link = link_of("ada@example.com");
        let bob_link = link_of("bob@example.com");
        answer(&ada_link, "Lovely").await;
        reqwest::get(&bob_link).await.unwrap();

        // Nothing is due yet: draining sends nothing more.
        f.app.sonde.drain_distributions().await.unwrap();
        assert_eq!(f.catcher.received().len(), 3, "{backend:?}: nothing is due");
        let d = f.distribution(&id).await;
        assert_eq!(d["thankYou"]["status"], "waiting", "{d}");
        assert!(d["thankYou"]["dueAt"].is_string(), "{d}");

        // A day on: the thank-you, to Ada only.
        store::advance_clock(25 * HOUR_MS);
        f.app.sonde.drain_distributions().await.unwrap();
        let received = f.catcher.received();
        let thanked: Vec<_> = received[3..].iter().map(|m| m.to()).collect();
        assert_eq!(thanked, ["ada@example.com"], "{backend:?}");
        let message = MessageParser::default()
            .parse(received[3].raw.as_bytes())
            .unwrap();
        assert_eq!(message.subject(), Some("Thank you"));

        // Three days on: the reminder, to Bob and Cy, over the links they already had.
        store::advance_clock(48 * HOUR_MS);
        f.app.sonde.drain_distributions().await.unwrap();
        let received = f.catcher.received();
        let mut reminded: Vec<_> = received[4..].iter().map(|m| m.to()).collect();
        reminded.sort();
        assert_eq!(
            reminded,
            ["bob@example.com", "cy@example.com"],
            "{backend:?}"
        );
        let bob_reminder = received[4..]
            .iter()
            .find(|m| m.to() == "bob@example.com")
            .unwrap();
        let message = MessageParser::default()
            .parse(bob_reminder.raw.as_bytes())
            .unwrap();
        assert_eq!(message.subject(), Some("A reminder"));
        assert_eq!(
            survey_link(&message),
            bob_link,
            "a reminder carries the invitation's link"
        );

        let d = f.distribution(&id).await;
        assert_eq!(d["reminders"][0]["status"], "sent", "{d}");
        assert_eq!(d["reminders"][0]["stats"]["selected"], 2, "{d}");
        assert_eq!(d["reminders"][0]["stats"]["sent"], 2, "{d}");
        assert_eq!(d["thankYou"]["stats"]["sent"], 1, "{d}");
        // Follow-ups are not invitations: the invitation counters stay as they were.
        assert_eq!(d["stats"]["selected"], 3, "{d}");
        assert_eq!(d["stats"]["sent"], 3, "{d}");

        // Bob answers the reminder: the distribution's finished count follows.
        answer(&bob_link, "Fine").await;
        assert_eq!(f.distribution(&id).await["stats"]["finished"], 2);

        // Much later, nothing more goes: each follow-up is sent once.
        store::advance_clock(500 * HOUR_MS);
        f.app.sonde.drain_distributions().await.unwrap();
        assert_eq!(f.catcher.received().len(), 6, "{backend:?}");
        let kinds: Vec<String> = f
            .recipients(&id)
            .await
            .iter()
            .map(|r| r["kind"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(kinds.iter().filter(|k| *k == "reminder").count(), 2);
        assert_eq!(kinds.iter().filter(|k| *k == "thank_you").count(), 1);
    }
}

#[tokio::test]
async fn a_thank_you_removed_while_scheduled_is_never_sent_and_the_reminder_kept_still_goes() {
    if !in_own_process(
        "distributions::follow_ups::a_thank_you_removed_while_scheduled_is_never_sent_and_the_reminder_kept_still_goes",
    ) {
        return;
    }
    for backend in backends() {
        let Some(f) = Fixture::new(backend, &[], &[]).await else {
            return;
        };
        let invitation = f.template("Visit").await;
        let reminder = template(&f, "Reminder", "A reminder").await;
        let thanks = template(&f, "Thanks", "Thank you").await;
        let list = f.list("Customers").await;
        for name in ["Ada", "Bob"] {
            f.contact(
                &list,
                json!({"email": format!("{}@example.com", name.to_lowercase()), "firstName": name}),
            )
            .await;
        }
        let (s, d) = f
            .distribute(json!({
                "mailingListId": list, "templateId": invitation, "sendAt": "2099-01-01T09:00:00Z",
                "reminders": [{"afterHours": 72, "templateId": reminder}],
                "thankYou": {"afterHours": 24, "templateId": thanks},
            }))
            .await;
        assert_eq!(s, 201, "{d}");
        let path = format!("/api/v1/distributions/{}", d["id"].as_str().unwrap());
        let (s, v) = f
            .call(Method::PATCH, &path, Some(json!({"thankYou": null})))
            .await;
        assert_eq!(s, 200, "{v}");
        assert!(v["thankYou"].is_null(), "removed: {v}");
        assert_eq!(v["reminders"][0]["afterHours"], 72, "kept: {v}");
        // Sent now; the thank-you, left out this time, stays removed.
        let now = engine::responses::rfc3339(store::now_ms());
        let (s, v) = f
            .call(Method::PATCH, &path, Some(json!({"sendAt": now})))
            .await;
        assert_eq!(s, 200, "{v}");
        assert!(v["thankYou"].is_null(), "{v}");
        f.app.sonde.drain_distributions().await.unwrap();
        let received = f.catcher.received();
        assert_eq!(received.len(), 2, "{backend:?}: the invitations");
        let ada = received
            .iter()
            .find(|m| m.to() == "ada@example.com")
            .unwrap();
        let link = survey_link(&MessageParser::default().parse(ada.raw.as_bytes()).unwrap());
        answer(&link, "Lovely").await;

        // A day on, no thank-you for Ada; three days on, Bob's reminder, and nothing more.
        store::advance_clock(25 * HOUR_MS);
        f.app.sonde.drain_distributions().await.unwrap();
        assert_eq!(f.catcher.received().len(), 2, "{backend:?}: no thank-you");
        store::advance_clock(500 * HOUR_MS);
        f.app.sonde.drain_distributions().await.unwrap();
        let received = f.catcher.received();
        let later: Vec<_> = received[2..].iter().map(|m| m.to()).collect();
        assert_eq!(later, ["bob@example.com"], "{backend:?}: the reminder only");
        let subject = MessageParser::default()
            .parse(received[2].raw.as_bytes())
            .unwrap()
            .subject()
            .map(str::to_string);
        assert_eq!(subject.as_deref(), Some("A reminder"));
        let kinds: Vec<String> = f
            .recipients(&path["/api/v1/distributions/".len()..])
            .await
            .iter()
            .map(|r| r["kind"].as_str().unwrap().to_string())
            .collect();
        assert!(!kinds.iter().any(|k| k == "thank_you"), "{kinds:?}");
    }
}
