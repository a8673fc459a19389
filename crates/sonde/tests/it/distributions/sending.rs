//! Sending: who is sent to and who is not (and why), the message on the wire, its link and
//! one-click unsubscribe, bounces and retries, test sends.

use super::{answer, problem_fields, survey_link, Fixture};
use crate::harness::backends;
use mail_parser::{MessageParser, MimeHeaders};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn an_invitation_goes_to_the_one_contact_of_four_it_may_and_its_link_records_the_response() {
    for backend in backends() {
        let Some(f) = Fixture::new(backend, &[], &[]).await else {
            return;
        };
        let template = f.template("Visit").await;
        // Dee was invited by an earlier distribution; then a rule allows one a month.
        let earlier = f.list("Earlier").await;
        let list = f.list("Customers").await;
        let dee = json!({"email": "dee@example.com", "firstName": "Dee"});
        f.contact(&earlier, dee.clone()).await;
        f.contact(&list, dee).await;
        let (s, v) = f
            .distribute(
                json!({"channel": "email", "mailingListId": earlier, "templateId": template}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        f.app.sonde.drain_distributions().await.unwrap();
        assert_eq!(
            f.catcher.received().len(),
            1,
            "{backend:?}: Dee's first invitation"
        );
        let (s, rule) = f
            .call(
                Method::POST,
                "/api/v1/directory/frequency-rules",
                Some(json!({"scope": {"type": "organization"}, "maxInvitations": 1, "periodDays": 30})),
            )
            .await;
        assert_eq!(s, 201, "{rule}");

        let ada = f
            .contact(
                &list,
                json!({"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace"}),
            )
            .await;
        let bob = f
            .contact(
                &list,
                json!({"email": "bob@example.com", "firstName": "Bob"}),
            )
            .await;
        let (s, _) = f
            .call(
                Method::POST,
                &format!("/api/v1/contacts/{bob}/unsubscribe"),
                None,
            )
            .await;
        assert_eq!(s, 200);
        f.contact(&list, json!({"firstName": "Cy", "phone": "+14155550123"}))
            .await;

        let (s, d) = f
            .distribute(json!({"channel": "email", "mailingListId": list, "templateId": template}))
            .await;
        assert_eq!(s, 201, "{d}");
        assert_eq!(d["status"], "scheduled");
        assert!(
            d.get("notice").is_none(),
            "a mail server is configured: {d}"
        );
        let id = d["id"].as_str().unwrap();
        f.app.sonde.drain_distributions().await.unwrap();

        // Exactly one message, to Ada.
        let received = f.catcher.received();
        assert_eq!(received.len(), 2, "{backend:?}: {received:?}");
        let mail = &received[1];
        assert_eq!(mail.to(), "ada@example.com");
        let message = MessageParser::default()
            .parse(mail.raw.as_bytes())
            .expect("well-formed MIME");
        let root = message.root_part().content_type().unwrap();
        assert_eq!(
            (root.ctype(), root.subtype()),
            ("multipart", Some("alternative"))
        );
        assert_eq!(message.subject(), Some("Ada, how was your visit?"));
        assert_eq!(
            message.from().unwrap().first().unwrap().name(),
            Some("Acme Support")
        );
        assert!(message.body_text(0).unwrap().contains("Hello Ada,"));
        let link = survey_link(&message);
        assert!(
            message.body_text(0).unwrap().contains(&link),
            "the text part carries the same link"
        );
        let unsubscribe = message.header_raw("List-Unsubscribe").unwrap().trim();
        assert!(
            unsubscribe.starts_with('<') && unsubscribe.contains("/optout/"),
            "{unsubscribe}"
        );
        assert_eq!(
            message.header_raw("List-Unsubscribe-Post").map(str::trim),
            Some("List-Unsubscribe=One-Click")
        );

        let d = f.distribution(id).await;
        let stats = &d["stats"];
        for (counter, n) in [
            ("selected", 4),
            ("optedOut", 1),
            ("missingEmail", 1),
            ("frequencyCapped", 1),
            ("sent", 1),
            ("queued", 0),
            ("opened", 0),
            ("started", 0),
            ("finished", 0),
        ] {
            assert_eq!(stats[counter], n, "{backend:?} {counter}: {d}");
        }
        assert_eq!(d["status"], "sent", "{d}");
        let recipients = f.recipients(id).await;
        let reasons: Vec<(&str, &str)> = recipients
            .iter()
            .map(|r| {
                (
                    r["state"].as_str().unwrap(),
                    r["reasonCode"].as_str().unwrap_or("-"),
                )
            })
            .collect();
        for expected in [
            ("sent", "-"),
            ("skipped", "unsubscribed"),
            ("skipped", "missing_email"),
            ("skipped", "frequency_capped"),
        ] {
            assert!(reasons.contains(&expected), "{expected:?} in {reasons:?}");
        }
        let capped = recipients
            .iter()
            .find(|r| r["reasonCode"] == "frequency_capped")
            .unwrap();
        assert!(
            capped["reason"]
                .as_str()
                .unwrap()
                .contains("at most 1 invitation in 30 days"),
            "{capped}"
        );

        // A link checker's HEAD opens nothing; a GET is an opening and still stores nothing.
        let browser = reqwest::Client::new();
        browser.head(&link).send().await.unwrap();
        assert_eq!(f.distribution(id).await["stats"]["opened"], 0);
        let page = browser
            .get(&link)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("How was your visit?"), "{page}");
        let stats = f.distribution(id).await["stats"].clone();
        assert_eq!(
            (stats["opened"].as_i64(), stats["started"].as_i64()),
            (Some(1), Some(0)),
            "{stats}"
        );

        let end = answer(&link, "Quick and kind").await;
        assert!(end.contains("Thank you."), "{end}");
        let stats = f.distribution(id).await["stats"].clone();
        assert_eq!(
            (
                stats["opened"].as_i64(),
                stats["started"].as_i64(),
                stats["finished"].as_i64()
            ),
            (Some(1), Some(1), Some(1)),
            "{stats}"
        );
        assert_eq!(stats["responseRate"], 1.0);
        // The response records the distribution and its channel.
        let (_, page) = f
            .call(
                Method::GET,
                &format!("/api/v1/surveys/{}/responses", f.survey),
                None,
            )
            .await;
        let response = &page["responses"][0];
        assert_eq!(
            response["metadata"]["distribution_channel"], "email",
            "{response}"
        );
        assert_eq!(response["contactId"], ada.as_str(), "{response}");
        let response_id = response["responseId"].as_str().unwrap();
        assert_eq!(
            f.app
                .sonde
                .store
                .response_distribution(response_id)
                .await
                .unwrap()
                .as_deref(),
            Some(id)
        );

        // RFC 8058: the mail program's POST, no cookie, no CSRF token, unsubscribes Ada.
        let url = unsubscribe.trim_matches(|c| c == '<' || c == '>');
        let r = browser
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let (_, contact) = f
            .call(Method::GET, &format!("/api/v1/contacts/{ada}"), None)
            .await;
        assert_eq!(contact["unsubscribed"], true, "{contact}");
        let (_, events) = f
            .call(
                Method::GET,
                &format!("/api/v1/contacts/{ada}/opt-out-events"),
                None,
            )
            .await;
        let last = events["events"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["source"], "opt_out_link");
        assert!(
            last["detail"].as_str().unwrap().contains("RFC 8058"),
            "{last}"
        );
        // A forged token unsubscribes no one.
        let forged = browser
            .post(url.replace("/optout/", "/optout/x"))
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403);
    }
}

#[tokio::test]
async fn a_permanent_refusal_bounces_and_a_temporary_one_is_retried_until_sent() {
    for backend in backends() {
        let Some(f) =
            Fixture::new(backend, &["gone@example.com"], &[("busy@example.com", 1)]).await
        else {
            return;
        };
        let template = f.template("Visit").await;
        let list = f.list("Customers").await;
        for email in ["gone@example.com", "busy@example.com", "fine@example.com"] {
            f.contact(&list, json!({"email": email, "firstName": "Pat"}))
                .await;
        }
        let (s, d) = f
            .distribute(json!({"mailingListId": list, "templateId": template}))
            .await;
        assert_eq!(s, 201, "{d}");
        let id = d["id"].as_str().unwrap();
        let report = f.app.sonde.drain_distributions().await.unwrap();
        assert_eq!(
            (report.sent, report.bounced, report.retried),
            (1, 1, 1),
            "{report:?}"
        );
        let recipients = f.recipients(id).await;
        let of = |email: &str| {
            recipients
                .iter()
                .find(|r| r["address"] == email)
                .unwrap()
                .clone()
        };
        let gone = of("gone@example.com");
        assert_eq!(gone["state"], "bounced", "{gone}");
        assert!(gone["reason"].as_str().unwrap().contains("550"), "{gone}");
        assert!(
            gone["reason"]
                .as_str()
                .unwrap()
                .contains("mailbox unavailable"),
            "{gone}"
        );
        let busy = of("busy@example.com");
        assert_eq!(busy["state"], "queued", "{busy}");
        assert!(busy["reason"].as_str().unwrap().contains("451"), "{busy}");
        assert_eq!(f.distribution(id).await["status"], "sending");

        // The retry waits a second, then goes.
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        let report = f.app.sonde.drain_distributions().await.unwrap();
        assert_eq!(report.sent, 1, "{report:?}");
        let busy = f
            .recipients(id)
            .await
            .into_iter()
            .find(|r| r["address"] == "busy@example.com")
            .unwrap();
        assert_eq!(
            (&busy["state"], &busy["attempts"]),
            (&json!("sent"), &json!(2)),
            "{busy}"
        );
        let received: Vec<String> = f
            .catcher
            .received()
            .iter()
            .map(|m| m.to().to_string())
            .collect();
        assert_eq!(received.len(), 2, "{received:?}");
        assert!(received.contains(&"busy@example.com".to_string()));
        let d = f.distribution(id).await;
        assert_eq!(
            (&d["stats"]["sent"], &d["stats"]["bounced"]),
            (&json!(2), &json!(1)),
            "{d}"
        );
        assert_eq!(d["status"], "sent");
    }
}

#[tokio::test]
async fn a_test_send_goes_through_the_queue_with_the_contacts_data_and_a_preview_link() {
    for backend in backends() {
        let Some(f) = Fixture::new(backend, &[], &[]).await else {
            return;
        };
        let template = f.template("Visit").await;
        let list = f.list("Customers").await;
        let ada = f
            .contact(
                &list,
                json!({"email": "ada@example.com", "firstName": "Ada"}),
            )
            .await;
        let (s, v) = f
            .call(
                Method::POST,
                "/api/v1/distributions/test",
                Some(
                    json!({"templateId": template, "surveyId": f.survey, "contactId": ada,
                            "to": "me@example.org"}),
                ),
            )
            .await;
        assert_eq!(s, 202, "{v}");
        assert_eq!(v["subject"], "Ada, how was your visit?");
        assert!(f.catcher.received().is_empty(), "queued, not sent inline");
        f.app.sonde.drain_distributions().await.unwrap();
        let received = f.catcher.received();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].to(), "me@example.org");
        let message = MessageParser::default()
            .parse(received[0].raw.as_bytes())
            .unwrap();
        assert!(
            message.body_html(0).unwrap().contains("_preview=1"),
            "records nothing"
        );
        let (s, v) = f
            .call(
                Method::POST,
                "/api/v1/distributions/test",
                Some(json!({"templateId": "MT_nope", "surveyId": f.survey, "contactId": ada, "to": "not an address"})),
            )
            .await;
        assert_eq!(s, 400, "{v}");
        assert_eq!(problem_fields(&v), vec!["templateId", "to"], "{v}");
    }
}
