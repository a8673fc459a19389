//! What is refused and what may change: templates without the survey link, bad distributions
//! (each problem naming its field), scheduled distributions edited and deleted until they
//! start, templates kept while used, another organization's things.

use super::{call_as, problem_fields, Fixture};
use crate::harness::backends;
use engine::Role;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_template_without_the_survey_link_is_refused_naming_body() {
    for backend in backends() {
        let Some(f) = Fixture::new(backend, &[], &[]).await else {
            return;
        };
        let (s, v) = f
            .call(
                Method::POST,
                "/api/v1/templates",
                Some(
                    json!({"channel": "email", "name": "No link", "subject": "Hi",
                            "body": "<p>Hello ${m://FirstName}, tell us how it went.</p>"}),
                ),
            )
            .await;
        assert_eq!(s, 400, "{v}");
        assert_eq!(problem_fields(&v), vec!["body"], "{v}");
        assert!(v["error"]["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("${l://SurveyLink}"));
        // A link in a comment does not reach the reader either.
        let (s, v) = f
            .call(
                Method::POST,
                "/api/v1/templates",
                Some(
                    json!({"channel": "email", "name": "Hidden", "subject": "Hi",
                            "body": "<!-- ${l://SurveyURL} --><p>Hello</p>"}),
                ),
            )
            .await;
        assert_eq!(
            (s, problem_fields(&v)),
            (400, vec!["body".to_string()]),
            "{v}"
        );
        // Saved, listed, read, changed; its channel stays.
        let id = f.template("Visit").await;
        let (s, list) = f.call(Method::GET, "/api/v1/templates", None).await;
        assert_eq!(
            (s, list["templates"].as_array().unwrap().len()),
            (200, 1),
            "{list}"
        );
        let (s, v) = f
            .call(
                Method::PUT,
                &format!("/api/v1/templates/{id}"),
                Some(json!({"channel": "sms", "name": "Text", "body": "${l://SurveyURL}"})),
            )
            .await;
        assert_eq!(
            (s, problem_fields(&v)),
            (400, vec!["channel".to_string()]),
            "{v}"
        );
        let (s, v) = f
            .call(
                Method::PUT,
                &format!("/api/v1/templates/{id}"),
                Some(
                    json!({"channel": "email", "name": "Visit 2", "subject": "Hello again",
                            "body": "${l://SurveyLink}"}),
                ),
            )
            .await;
        assert_eq!((s, &v["name"]), (200, &json!("Visit 2")), "{v}");
    }
}

#[tokio::test]
async fn a_bad_distribution_is_refused_naming_each_field() {
    for backend in backends() {
        let Some(f) = Fixture::new(backend, &[], &[]).await else {
            return;
        };
        let template = f.template("Visit").await;
        let list = f.list("Customers").await;
        for (body, fields) in [
            (
                json!({"mailingListId": list, "templateId": template, "sendAt": "2020-01-01T09:00:00Z"}),
                vec!["sendAt"],
            ),
            (
                json!({"mailingListId": "CG_unknown", "templateId": template}),
                vec!["mailingListId"],
            ),
            (
                json!({"mailingListId": list, "templateId": "MT_unknown"}),
                vec!["templateId"],
            ),
            (json!({"templateId": template}), vec!["mailingListId"]),
            (
                json!({"contactIds": ["CID_nobody"], "templateId": template}),
                vec!["contactIds[0]"],
            ),
            (
                // SMS needs an SMS template; this one is an email's.
                json!({"channel": "sms", "mailingListId": list, "templateId": template}),
                vec!["templateId"],
            ),
            (
                json!({"mailingListId": list, "templateId": template,
                       "sendAt": "2099-01-01T09:00", "timeZone": "Mars/Olympus"}),
                vec!["timeZone"],
            ),
            (
                json!({"mailingListId": list, "templateId": template, "sendAt": "2099-03-29T02:30",
                       "timeZone": "Europe/Paris"}),
                vec!["sendAt"],
            ),
            (
                json!({"mailingListId": list, "templateId": template,
                       "sendAt": "2099-01-02T00:00:00Z", "linkExpiresAt": "2099-01-01T00:00:00Z",
                       "reminders": [{"afterHours": 0, "templateId": template}],
                       "thankYou": {"afterHours": 48, "templateId": "MT_unknown"}}),
                vec![
                    "linkExpiresAt",
                    "reminders[0].afterHours",
                    "thankYou.templateId",
                ],
            ),
        ] {
            let (s, v) = f.distribute(body.clone()).await;
            assert_eq!(s, 400, "{backend:?} {body}: {v}");
            assert_eq!(problem_fields(&v), fields, "{body}: {v}");
        }
        // An unknown survey is a 404, and nothing was queued by any of these.
        let (s, _) = f
            .call(
                Method::POST,
                "/api/v1/surveys/SV_unknown/distributions",
                Some(json!({"mailingListId": list, "templateId": template})),
            )
            .await;
        assert_eq!(s, 404);
        let queued = f
            .app
            .sonde
            .store
            .queue_counts(engine::distributions::START_JOB)
            .await
            .unwrap();
        assert_eq!(queued.queued, 0);
    }
}

#[tokio::test]
async fn a_scheduled_distribution_is_edited_and_deleted_until_it_starts() {
    for backend in backends() {
        let Some(f) = Fixture::new(backend, &[], &[]).await else {
            return;
        };
        let template = f.template("Visit").await;
        let other_template = f.template("Visit, shorter").await;
        let list = f.list("Customers").await;
        f.contact(
            &list,
            json!({"email": "ada@example.com", "firstName": "Ada"}),
        )
        .await;
        let (s, d) = f
            .distribute(json!({"mailingListId": list, "templateId": template,
                               "sendAt": "2099-12-24T09:00", "timeZone": "Europe/Paris",
                               "reminders": [{"afterHours": 72, "templateId": template}]}))
            .await;
        assert_eq!(s, 201, "{d}");
        assert_eq!(d["sendAt"], "2099-12-24T08:00:00Z", "{d}");
        assert_eq!(d["sendAtLocal"], "2099-12-24T09:00:00+01:00");
        let id = d["id"].as_str().unwrap().to_string();
        // Nothing goes before its time.
        f.app.sonde.drain_distributions().await.unwrap();
        assert!(f.catcher.received().is_empty());
        assert_eq!(f.distribution(&id).await["status"], "scheduled");
        // Its template is in use.
        let (s, v) = f
            .call(
                Method::DELETE,
                &format!("/api/v1/templates/{template}"),
                None,
            )
            .await;
        assert_eq!(s, 409, "{v}");

        let path = format!("/api/v1/distributions/{id}");
        let (s, v) = f
            .call(
                Method::PATCH,
                &path,
                Some(
                    json!({"templateId": other_template, "sendAt": "2099-12-25T10:00:00Z",
                            "thankYou": {"afterHours": 24, "templateId": other_template}}),
                ),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["templateId"], other_template.as_str());
        assert_eq!(v["sendAt"], "2099-12-25T10:00:00Z");
        assert_eq!(v["reminders"][0]["afterHours"], 72, "kept: {v}");
        assert_eq!(v["thankYou"]["afterHours"], 24, "{v}");
        assert_eq!(v["mailingListId"], list.as_str());
        let (s, v) = f
            .call(
                Method::PATCH,
                &path,
                Some(json!({"sendAt": "2001-01-01T00:00:00Z"})),
            )
            .await;
        assert_eq!(
            (s, problem_fields(&v)),
            (400, vec!["sendAt".to_string()]),
            "{v}"
        );

        let (s, _) = f.call(Method::DELETE, &path, None).await;
        assert_eq!(s, 204);
        let (s, _) = f.call(Method::GET, &path, None).await;
        assert_eq!(s, 404);
        let jobs = f
            .app
            .sonde
            .store
            .queue_counts(engine::distributions::START_JOB)
            .await
            .unwrap();
        assert_eq!(jobs.queued, 0, "its start job went with it");
        // Unused now, the template may go.
        let (s, _) = f
            .call(
                Method::DELETE,
                &format!("/api/v1/templates/{template}"),
                None,
            )
            .await;
        assert_eq!(s, 204);

        // Once started, a distribution stays.
        let (s, d) = f
            .distribute(json!({"mailingListId": list, "templateId": other_template}))
            .await;
        assert_eq!(s, 201, "{d}");
        let path = format!("/api/v1/distributions/{}", d["id"].as_str().unwrap());
        f.app.sonde.drain_distributions().await.unwrap();
        assert_eq!(f.catcher.received().len(), 1);
        let (s, v) = f
            .call(
                Method::PATCH,
                &path,
                Some(json!({"templateId": other_template})),
            )
            .await;
        assert_eq!(s, 409, "{v}");
        let (s, _) = f.call(Method::DELETE, &path, None).await;
        assert_eq!(s, 409);
    }
}

#[tokio::test]
async fn another_organizations_distributions_templates_and_lists_are_not_there() {
    for backend in backends() {
        let Some(f) = Fixture::new(backend, &[], &[]).await else {
            return;
        };
        let template = f.template("Visit").await;
        let list = f.list("Customers").await;
        f.contact(
            &list,
            json!({"email": "ada@example.com", "firstName": "Ada"}),
        )
        .await;
        let (_, d) = f
            .distribute(json!({"mailingListId": list, "templateId": template}))
            .await;
        let id = d["id"].as_str().unwrap();
        let (other, other_token) = f.app.org_user(Role::Admin).await;
        let call = |method: Method, path: String, body| {
            let app = &f.app;
            let token = other_token.clone();
            async move { call_as(app, &token, method, &path, body).await }
        };
        for path in [
            format!("/api/v1/distributions/{id}"),
            format!("/api/v1/distributions/{id}/recipients"),
            format!("/api/v1/templates/{template}"),
            format!("/api/v1/surveys/{}/distributions", f.survey),
        ] {
            let (s, v) = call(Method::GET, path.clone(), None).await;
            assert_eq!(s, 404, "{path}: {v}");
        }
        let (_, v) = call(Method::GET, "/api/v1/templates".into(), None).await;
        assert!(v["templates"].as_array().unwrap().is_empty(), "{v}");
        // Its own survey cannot be sent with our list or template.
        let definition: survey::SurveyDefinition =
            serde_json::from_str(super::ONE_QUESTION).unwrap();
        let theirs = f.app.create_survey(&other_token, &definition).await;
        let (s, v) = call(
            Method::POST,
            format!("/api/v1/surveys/{theirs}/distributions"),
            Some(json!({"mailingListId": list, "templateId": template})),
        )
        .await;
        assert_eq!(s, 400, "{v}");
        assert_eq!(problem_fields(&v), vec!["mailingListId", "templateId"]);
        let (s, _) = call(Method::DELETE, format!("/api/v1/distributions/{id}"), None).await;
        assert_eq!(s, 404);
        let _ = other;
    }
}

#[tokio::test]
async fn without_a_mail_server_a_distribution_waits_and_says_so() {
    for backend in backends() {
        let Some(f) = Fixture::new(backend, &[], &[]).await else {
            return;
        };
        f.app.sonde.set_mailer(None);
        let template = f.template("Visit").await;
        let list = f.list("Customers").await;
        f.contact(
            &list,
            json!({"email": "ada@example.com", "firstName": "Ada"}),
        )
        .await;
        let (s, d) = f
            .distribute(json!({"mailingListId": list, "templateId": template}))
            .await;
        assert_eq!(s, 201, "{d}");
        assert!(
            d["notice"].as_str().unwrap().contains("SONDE_SMTP_URL"),
            "{d}"
        );
        f.app.sonde.drain_distributions().await.unwrap();
        let id = d["id"].as_str().unwrap();
        let d = f.distribution(id).await;
        assert_eq!(
            (&d["stats"]["queued"], &d["stats"]["sent"]),
            (&json!(1), &json!(0)),
            "{d}"
        );
        assert!(f.catcher.received().is_empty());
        // A mail server later: the message goes.
        f.app.sonde.set_mailer(Some(f.catcher.mailer()));
        f.app.sonde.drain_distributions().await.unwrap();
        assert_eq!(f.catcher.received().len(), 1);
        assert!(f.distribution(id).await.get("notice").is_none());
    }
}

#[tokio::test]
async fn editing_keeps_the_follow_ups_left_out_and_removes_those_given_as_null_or_empty() {
    for backend in backends() {
        let Some(f) = Fixture::new(backend, &[], &[]).await else {
            return;
        };
        let template = f.template("Visit").await;
        let list = f.list("Customers").await;
        let (s, d) = f
            .distribute(json!({"mailingListId": list, "templateId": template,
                               "sendAt": "2099-12-24T09:00:00Z",
                               "reminders": [{"afterHours": 72, "templateId": template},
                                             {"afterHours": 96, "templateId": template}],
                               "thankYou": {"afterHours": 24, "templateId": template}}))
            .await;
        assert_eq!(s, 201, "{d}");
        let path = format!("/api/v1/distributions/{}", d["id"].as_str().unwrap());
        let patch = |body: serde_json::Value| {
            let path = path.clone();
            let f = &f;
            async move {
                let (s, v) = f.call(Method::PATCH, &path, Some(body)).await;
                assert_eq!(s, 200, "{backend:?}: {v}");
                let (s, read) = f.call(Method::GET, &path, None).await;
                assert_eq!(s, 200);
                assert_eq!(v, read, "the answer is what is stored");
                read
            }
        };
        // Left out: both kept.
        let v = patch(json!({"sendAt": "2099-12-25T09:00:00Z"})).await;
        assert_eq!(v["thankYou"]["afterHours"], 24, "{v}");
        assert_eq!(v["reminders"].as_array().unwrap().len(), 2, "{v}");
        // `[]`: every reminder goes, the thank-you stays.
        let v = patch(json!({"reminders": []})).await;
        assert_eq!(v["reminders"], json!([]), "{v}");
        assert_eq!(v["thankYou"]["afterHours"], 24, "{v}");
        // `null`: the thank-you goes.
        let v = patch(json!({"thankYou": null})).await;
        assert!(v["thankYou"].is_null(), "{v}");
        assert_eq!(v["reminders"], json!([]), "{v}");
        // Given again, then a reminder as `null` (none) beside it.
        let v = patch(
            json!({"thankYou": {"afterHours": 12, "templateId": template},
                              "reminders": null}),
        )
        .await;
        assert_eq!(v["thankYou"]["afterHours"], 12, "{v}");
        assert_eq!(v["reminders"], json!([]), "{v}");
        // A bad thank-you is still refused by name; a null one has nothing to refuse.
        let (s, v) = f
            .call(
                Method::PATCH,
                &path,
                Some(json!({"thankYou": {"afterHours": 0, "templateId": template}})),
            )
            .await;
        assert_eq!(
            (s, problem_fields(&v)),
            (400, vec!["thankYou.afterHours".to_string()]),
            "{v}"
        );
        assert_eq!(
            f.call(Method::GET, &path, None).await.1["thankYou"]["afterHours"],
            12,
            "a refused change changes nothing"
        );
    }
}
