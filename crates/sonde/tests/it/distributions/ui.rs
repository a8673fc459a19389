//! Distributions through the admin UI in headless Chromium: a frequency rule in the directory's
//! settings, a template in the library (refused without the survey link, the problem beside
//! the body), a distribution from the survey's Distributions tab to a list of four, the one
//! message the SMTP server receives followed to a finished response, the counts on the
//! distribution's page; a scheduled one edited and deleted; the demo's Outbox. Each new page is
//! saved at desktop and phone width (`Browser::shots`).

use super::{survey_link, Fixture};
use crate::browser::{Browser, DESKTOP};
use crate::harness::{Backend, TestApp, PASSWORD};
use engine::Role;
use mail_parser::MessageParser;
use serde_json::json;

async fn signed_in(base: &str, email: &str) -> Option<Browser> {
    let b = Browser::start().await?;
    b.resize(DESKTOP, 900).await;
    b.goto(&format!("{base}/login")).await;
    b.type_into("#email", email).await;
    b.type_into("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_for("Import a Qualtrics survey").await;
    Some(b)
}

/// The number a statistic shows on the page (`data-stat="sent"`).
fn stat(html: &str, key: &str) -> String {
    let at = html
        .find(&format!("data-stat=\"{key}\""))
        .unwrap_or_else(|| panic!("the page shows no {key}"));
    let dd = html[at..].find("<dd>").unwrap() + at + 4;
    let end = html[dd..].find("</dd>").unwrap() + dd;
    html[dd..end].trim().to_string()
}

async fn path(b: &Browser) -> String {
    b.execute("return location.pathname;", json!([]))
        .await
        .as_str()
        .unwrap()
        .to_string()
}

/// Sets an input's value as a person picking a date would (datetime-local takes no typed text
/// reliably across locales).
async fn set_value(b: &Browser, css: &str, value: &str) {
    b.execute(
        "document.querySelector(arguments[0]).value = arguments[1];",
        json!([css, value]),
    )
    .await;
}

#[tokio::test]
async fn a_distribution_made_in_the_browser_reaches_the_one_contact_it_may_and_counts_the_finish() {
    let Some(f) = Fixture::new(Backend::Sqlite, &[], &[]).await else {
        return;
    };
    // Dee was invited by an earlier distribution (through the API).
    let earlier_template = f.template("Earlier visit").await;
    let earlier = f.list("Earlier").await;
    let list = f.list("Customers").await;
    let dee = json!({"email": "dee@example.com", "firstName": "Dee"});
    f.contact(&earlier, dee.clone()).await;
    f.contact(&list, dee).await;
    let (s, v) = f
        .distribute(json!({"mailingListId": earlier, "templateId": earlier_template}))
        .await;
    assert_eq!(s, 201, "{v}");
    f.app.sonde.drain_distributions().await.unwrap();
    assert_eq!(f.catcher.received().len(), 1, "Dee's first invitation");
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
            reqwest::Method::POST,
            &format!("/api/v1/contacts/{bob}/unsubscribe"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    f.contact(&list, json!({"firstName": "Cy", "phone": "+14155550123"}))
        .await;

    let Some(b) = signed_in(&f.app.base, &f.actor.email).await else {
        return;
    };

    // A frequency rule in the directory's settings: at most one invitation in 30 days.
    b.goto(&f.app.url("/contacts")).await;
    b.click("#directory-settings").await;
    b.wait_for("Contact frequency rules").await;
    b.type_into("#fr-max", "1").await;
    b.click("#add-rule").await;
    let refused = b.wait_for("id=\"fr-period-error\"").await;
    assert!(refused.contains("is needed with “at most”"), "{refused}");
    b.type_into("#fr-period", "30").await;
    b.click("#add-rule").await;
    b.wait_for("at most 1 invitation in any 30 days").await;
    b.shots("dist-directory-settings").await;

    // A template: refused without the survey link, the problem beside the body.
    b.goto(&f.app.url("/templates")).await;
    b.click("#new-email-template").await;
    b.wait_for("New email template").await;
    b.type_into("#t-name", "Visit (UI)").await;
    b.type_into("#t-subject", "${m://FirstName}, how was your visit?")
        .await;
    b.type_into("#t-from-name", "Acme Support").await;
    b.type_into("#t-body", "<p>Hello ${m://FirstName},</p>")
        .await;
    b.click("#save-template").await;
    let refused = b.wait_for("id=\"t-body-error\"").await;
    assert!(
        refused.contains("data-field=\"body\""),
        "the problem is beside the body"
    );
    b.shots("dist-template-refused").await;
    b.type_into(
        "#t-body",
        "<p>Hello ${m://FirstName},</p><p>${l://SurveyLink}</p><p>${l://OptOutLink?d=Unsubscribe}</p>",
    )
    .await;
    b.type_into("#v0-lang", "FR").await;
    b.type_into("#v0-subject", "${m://FirstName}, votre visite ?")
        .await;
    b.type_into(
        "#v0-body",
        "<p>Bonjour ${m://FirstName},</p><p>${l://SurveyLink}</p>",
    )
    .await;
    b.click("#save-template").await;
    b.wait_for("Template saved.").await;
    let template_path = path(&b).await;
    let template = template_path.rsplit('/').next().unwrap().to_string();
    b.shots("dist-template-saved").await;

    // An SMS template shows its segment count, and the script keeps it current.
    b.goto(&f.app.url("/templates/new?channel=sms")).await;
    b.wait_for("New SMS template").await;
    b.type_into("#t-name", "Visit by text").await;
    b.type_into("#t-body", "Hi ${m://FirstName}: ${l://SurveyLink} — merci")
        .await;
    let size = b.property("#t-body-size", "textContent").await;
    assert!(
        size.as_str().unwrap().contains("UCS-2"),
        "an em dash needs UCS-2: {size}"
    );
    b.click("#save-template").await;
    b.wait_for("Template saved.").await;
    let sms_template = path(&b).await.rsplit('/').next().unwrap().to_string();
    b.shots("dist-sms-template").await;
    b.goto(&f.app.url("/templates")).await;
    b.wait_for("Visit by text").await;
    b.shots("dist-templates").await;

    // The distribution, from the survey's Distributions tab.
    b.goto(&f.app.url(&format!("/surveys/{}", f.survey))).await;
    b.click("#distributions-tab").await;
    b.wait_for("Earlier visit").await;
    b.click("#new-distribution").await;
    b.wait_for("Create distribution").await;
    // The template picker offers the channel's templates.
    let sms_option = format!("#d-template option[value='{sms_template}']");
    assert_eq!(b.property(&sms_option, "hidden").await, json!(true));
    b.click("#d-channel-sms").await;
    assert_eq!(b.property(&sms_option, "hidden").await, json!(false));
    b.click("#d-channel-email").await;
    b.click(&format!("#d-list option[value='{list}']")).await;
    b.click(&format!("#d-template option[value='{template}']"))
        .await;
    // A time in the past is refused beside the time.
    b.click("#d-when-later").await;
    set_value(&b, "#d-send-at", "2020-01-01T09:00").await;
    b.click("#save-distribution").await;
    let refused = b.wait_for("id=\"d-send-at-error\"").await;
    assert!(refused.contains("is in the past"), "{refused}");
    b.shots("dist-new-refused").await;
    b.click("#d-when-now").await;
    b.click("#save-distribution").await;
    b.wait_for("Distribution created.").await;
    let detail = path(&b).await;
    f.app.sonde.drain_distributions().await.unwrap();

    // Exactly one more message: Ada's, with her name and a personal link.
    let received = f.catcher.wait_for(2).await;
    assert_eq!(received.len(), 2, "{received:?}");
    let mail = &received[1];
    assert_eq!(mail.to(), "ada@example.com");
    let message = MessageParser::default()
        .parse(mail.raw.as_bytes())
        .expect("well-formed MIME");
    assert_eq!(message.subject(), Some("Ada, how was your visit?"));
    assert!(message.body_text(0).unwrap().contains("Hello Ada,"));
    let link = survey_link(&message);

    b.goto(&f.app.url(&detail)).await;
    let page = b.wait_for("Recipients").await;
    for (key, n) in [
        ("selected", "4"),
        ("optedOut", "1"),
        ("missingEmail", "1"),
        ("frequencyCapped", "1"),
        ("sent", "1"),
        ("finished", "0"),
    ] {
        assert_eq!(stat(&page, key), n, "{key}");
    }
    assert!(page.contains("ada@example.com"), "the recipient list");
    b.shots("dist-detail-sent").await;

    // The link from the message, followed and finished in the browser.
    b.goto(&link).await;
    b.wait_for("How was your visit?").await;
    b.type_into("[name=QID1]", "Lovely staff").await;
    b.click("#survey-form button[type=submit]").await;
    b.wait_for("Thank you.").await;

    b.goto(&f.app.url(&detail)).await;
    let page = b.wait_for("Recipients").await;
    assert_eq!(stat(&page, "finished"), "1");
    assert_eq!(stat(&page, "started"), "1");
    assert_eq!(stat(&page, "responseRate"), "100.0%");
    b.shots("dist-detail-finished").await;

    // A test of its template from the distribution's page, with Ada's data.
    b.click(&format!("#ts-contact option[value='{ada}']")).await;
    b.type_into("#ts-to", "me@example.com").await;
    b.click("#send-test").await;
    let queued = b.wait_for("Test message queued").await;
    assert!(queued.contains("Ada, how was your visit?"), "{queued}");
    assert!(queued.contains("data-status=\"queued\""), "{queued}");
    b.shots("dist-test-queued").await;
    // Sent: the outcome below the message follows by itself (the script reads it again).
    f.app.sonde.drain_distributions().await.unwrap();
    let received = f.catcher.wait_for(3).await;
    assert_eq!(received[2].to(), "me@example.com");
    let sent = b.wait_for("data-status=\"sent\"").await;
    assert!(
        sent.contains("The mail server took the message for"),
        "{sent}"
    );
    b.shots("dist-test-sent").await;
    b.click("#back").await;
    b.wait_for("Send a test of its template").await;
    b.goto(&f.app.url(&format!("/surveys/{}/distributions", f.survey)))
        .await;
    b.wait_for("data-stat=\"finished\"").await;
    b.shots("dist-tab").await;

    // A scheduled one is edited, then deleted after asking.
    b.click("#new-distribution").await;
    b.wait_for("Create distribution").await;
    b.click(&format!("#d-list option[value='{list}']")).await;
    b.click(&format!("#d-template option[value='{template}']"))
        .await;
    b.click("#d-when-later").await;
    set_value(&b, "#d-send-at", "2099-01-01T09:00").await;
    b.type_into("#d-r0-hours", "48").await;
    b.click(&format!("#d-r0-template option[value='{template}']"))
        .await;
    b.type_into("#d-ty-hours", "24").await;
    b.click(&format!("#d-ty-template option[value='{template}']"))
        .await;
    b.click("#save-distribution").await;
    b.wait_for("Distribution created.").await;
    let scheduled = path(&b).await.rsplit('/').next().unwrap().to_string();
    let d = f.distribution(&scheduled).await;
    assert_eq!(d["thankYou"]["afterHours"], 24, "{d}");
    b.shots("dist-detail-scheduled").await;
    b.click("#edit-distribution").await;
    b.wait_for("Edit the scheduled distribution").await;
    assert_eq!(
        b.property("#d-r0-hours", "value").await,
        json!("48"),
        "the reminder is shown as set"
    );
    assert_eq!(b.property("#d-ty-hours", "value").await, json!("24"));
    b.shots("dist-edit").await;
    set_value(&b, "#d-send-at", "2099-02-01T10:30").await;
    b.click("#save-distribution").await;
    let saved = b.wait_for("Changes saved.").await;
    assert!(saved.contains("2099-02-01T10:30"), "the new send time");
    assert_eq!(
        f.distribution(&scheduled).await["thankYou"]["afterHours"],
        24,
        "kept"
    );
    // Removed in the form: each follow-up's template set to "(none)".
    b.click("#edit-distribution").await;
    b.wait_for("Edit the scheduled distribution").await;
    b.click("#d-ty-template option[value='']").await;
    b.click("#d-r0-template option[value='']").await;
    b.click("#save-distribution").await;
    let saved = b.wait_for("Changes saved.").await;
    assert!(!saved.contains("Thank-you"), "no follow-ups shown");
    let d = f.distribution(&scheduled).await;
    assert!(d["thankYou"].is_null(), "{d}");
    assert_eq!(d["reminders"], json!([]), "{d}");
    b.shots("dist-follow-ups-removed").await;
    b.click("#delete-distribution").await;
    b.wait_for("Delete this scheduled distribution?").await;
    b.shots("dist-delete-confirm").await;
    b.click("#confirm-submit").await;
    b.wait_for("was deleted; nothing was sent").await;

    // The template a distribution uses stays, and the page says why.
    b.goto(&f.app.url(&format!("/templates/{template}/delete")))
        .await;
    b.click("#confirm-submit").await;
    b.wait_for("The template is in use").await;
    b.shots("dist-template-in-use").await;
    b.quit().await;
}

#[tokio::test]
async fn the_outbox_shows_what_the_local_gateways_received_with_the_link_clickable() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mail = mailsim::Mailsim::builder().start().await.unwrap();
    let sms = smsim::Smsim::builder()
        .number("+15005550006")
        .start()
        .await
        .unwrap();
    let settings =
        engine::mail::MailSettings::parse(&mail.smtp_url(), "surveys@sonde.example", None, None)
            .unwrap();
    app.sonde
        .set_mailer(Some(engine::mail::Mailer::new(settings).unwrap()));
    // The same instance served again with an Outbox over both gateways.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = web::AppState::new(app.sonde.clone()).with_outbox(web::ui_outbox::Outbox {
        mail_url: Some(mail.http_url().to_string()),
        sms_url: Some(sms.url().trim_end_matches('/').to_string()),
    });
    let server = tokio::spawn(async move {
        axum::serve(listener, web::app(state)).await.unwrap();
    });
    let (admin, token) = app.org_user(Role::Admin).await;
    let survey = app.sample_survey(&token).await;
    let contact = app
        .client
        .post(app.url("/api/v1/contacts"))
        .bearer_auth(&token)
        .json(&json!({"email": "ada@example.com", "firstName": "Ada"}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let template = app
        .client
        .post(app.url("/api/v1/templates"))
        .bearer_auth(&token)
        .json(
            &json!({"channel": "email", "name": "Hi", "subject": "${m://FirstName}, a minute?",
                      "body": "<p>Hello ${m://FirstName}: ${l://SurveyLink}</p>"}),
        )
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let r = app
        .client
        .post(app.url("/api/v1/distributions/test"))
        .bearer_auth(&token)
        .json(&json!({"templateId": template["id"], "surveyId": survey,
                      "contactId": contact["id"], "to": "me@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    app.sonde.drain_distributions().await.unwrap();
    assert!(mail.wait_for(1, std::time::Duration::from_secs(10)).await);
    // A text through the gateway's Messages API, as Sonde's SMS transport will send it.
    let r = reqwest::Client::new()
        .post(format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            sms.url().trim_end_matches('/'),
            sms.account_sid()
        ))
        .basic_auth(sms.account_sid(), Some(sms.auth_token()))
        .form(&[
            ("To", "+14155550123"),
            ("From", "+15005550006"),
            ("Body", "Ada, a minute? http://127.0.0.1/s/SV_x?l=abc"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

    let Some(b) = signed_in(&base, &admin.email).await else {
        server.abort();
        return;
    };
    b.click("header.bar a[href='/outbox']").await;
    let page = b.wait_for("Text messages").await;
    assert!(page.contains("Ada, a minute?"), "the mail's subject");
    let href = b.attribute("#outbox-mail pre.message a", "href").await;
    assert!(
        href.contains("_preview=1"),
        "a test send's link is the preview, clickable: {href}"
    );
    let sms_href = b.attribute("#outbox-sms pre.message a", "href").await;
    assert_eq!(sms_href, "http://127.0.0.1/s/SV_x?l=abc");
    b.shots("dist-outbox").await;
    b.quit().await;
    server.abort();
    mail.shutdown().await;
    sms.shutdown().await;
}
