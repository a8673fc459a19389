//! SMS distributions through an in-process `smsim` (the local Twilio-like gateway) whose
//! status callbacks and replies go to the test app, signed as Twilio signs: SMS-link
//! invitations delivered and undelivered, a two-way survey answered by text (one bad reply
//! re-asked), STOP and START, webhooks refused without a good signature, two-way surveys with
//! questions a text cannot answer refused, and a conversation closed by the survey's timeout.

use super::{call_as, in_own_process, problem_fields};
use crate::harness::{backends, Backend, TestApp};
use engine::sms::{SmsGateway, SmsSettings, INBOUND_PATH, STATUS_PATH};
use engine::{Actor, Role};
use reqwest::Method;
use serde_json::{json, Value};
use smsim::RunningSmsim;
use std::time::Duration;

/// NPS, then a single-answer choice, then a comment: what two-way SMS can ask.
const BY_TEXT: &str = r#"{
  "name": "Your visit by text",
  "flow": [{"type": "block", "block_id": "BL_1"}],
  "blocks": [{"id": "BL_1", "elements": [
    {"type": "question", "id": "QID1"}, {"type": "page_break"},
    {"type": "question", "id": "QID2"}, {"type": "page_break"},
    {"type": "question", "id": "QID3"}]}],
  "questions": [
    {"id": "QID1", "export_tag": "NPS", "type": "nps", "required": true,
     "text": "How likely are you to recommend us?"},
    {"id": "QID2", "export_tag": "Visit", "type": "multiple_choice", "multiple": false,
     "required": true, "text": "How did you come?",
     "choices": [{"id": "1", "text": "By car"}, {"id": "2", "text": "By bus"}]},
    {"id": "QID3", "export_tag": "Comment", "type": "text_entry", "required": true,
     "text": "Anything else?"}],
  "end_message": "Thank you, ${m://FirstName}!"
}"#;

/// One NPS question, then a matrix: not answerable by text.
const WITH_MATRIX: &str = r#"{
  "name": "With a matrix",
  "flow": [{"type": "block", "block_id": "BL_1"}],
  "blocks": [{"id": "BL_1", "elements": [
    {"type": "question", "id": "QID1"}, {"type": "question", "id": "QID7"}]}],
  "questions": [
    {"id": "QID1", "export_tag": "NPS", "type": "nps", "text": "Recommend us?"},
    {"id": "QID7", "export_tag": "Agent", "type": "matrix", "text": "The agent was...",
     "statements": [{"id": "1", "text": "Helpful"}],
     "scale": [{"id": "1", "text": "Disagree"}, {"id": "2", "text": "Agree"}]}]
}"#;

/// An app texting through a gateway of its own, an admin of a new organization and a survey.
pub(super) struct Texting {
    pub(super) app: TestApp,
    pub(super) gw: RunningSmsim,
    actor: Actor,
    pub(super) token: String,
    pub(super) survey: String,
}

impl Texting {
    pub(super) async fn new(backend: Backend, definition: &str) -> Self {
        Self::with_steps(backend, definition, Duration::from_millis(20)).await
    }

    /// With the gateway moving each message on every `step` (its callbacks that often).
    async fn with_steps(backend: Backend, definition: &str, step: Duration) -> Self {
        let app = TestApp::spawn(backend).await;
        let gw = smsim::Smsim::builder()
            .webhook(&app.url(INBOUND_PATH))
            .step_delay(step)
            .start()
            .await
            .unwrap();
        let settings = SmsSettings::parse(
            Some(gw.url()),
            Some(gw.account_sid()),
            Some(gw.auth_token()),
            Some(&gw.numbers()[0]),
            None,
        )
        .unwrap();
        app.sonde.set_sms(Some(SmsGateway::new(settings).unwrap()));
        let (actor, token) = app.org_user(Role::Admin).await;
        let definition: survey::SurveyDefinition = serde_json::from_str(definition).unwrap();
        let survey = app.create_survey(&token, &definition).await;
        Self {
            app,
            gw,
            actor,
            token,
            survey,
        }
    }

    pub(super) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        call_as(&self.app, &self.token, method, path, body).await
    }

    pub(super) async fn created(&self, path: &str, body: Value) -> String {
        let (s, v) = self.call(Method::POST, path, Some(body)).await;
        assert!(s == 201 || s == 200, "{path}: {s} {v}");
        v["id"].as_str().unwrap().to_string()
    }

    async fn list_of(&self, contacts: &[Value]) -> String {
        let list = self
            .created("/api/v1/mailing-lists", json!({"name": "Texted"}))
            .await;
        for c in contacts {
            self.created(&format!("/api/v1/contacts?listId={list}"), c.clone())
                .await;
        }
        list
    }

    async fn sms_template(&self, body: &str) -> String {
        self.created(
            "/api/v1/templates",
            json!({"channel": "sms", "name": "Text", "body": body}),
        )
        .await
    }

    /// Creates and starts a distribution of the survey; its id.
    async fn distribute(&self, channel: &str, list: &str, template: &str) -> String {
        let (s, v) = self
            .call(
                Method::POST,
                &format!("/api/v1/surveys/{}/distributions", self.survey),
                Some(json!({"channel": channel, "mailingListId": list, "templateId": template})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        self.app.sonde.drain_distributions().await.unwrap();
        v["id"].as_str().unwrap().to_string()
    }

    async fn recipients(&self, id: &str) -> Vec<Value> {
        let (s, v) = self
            .call(
                Method::GET,
                &format!("/api/v1/distributions/{id}/recipients?limit=1000"),
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v["recipients"].as_array().unwrap().clone()
    }

    async fn recipient_to(&self, id: &str, phone: &str) -> Value {
        self.recipients(id)
            .await
            .into_iter()
            .find(|r| r["address"] == phone)
            .unwrap_or_else(|| panic!("no recipient at {phone}"))
    }

    /// Waits (up to 5 s) until the recipient at `phone` is in `state`.
    async fn wait_for_state(&self, id: &str, phone: &str, state: &str) -> Value {
        for _ in 0..250 {
            let r = self.recipient_to(id, phone).await;
            if r["state"] == state {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "{phone} never became {state}: {}",
            self.recipient_to(id, phone).await
        );
    }

    /// A reply from `phone`, then the queued answers sent; the texts the phone got back
    /// since (oldest first).
    pub(super) async fn reply(&self, phone: &str, body: &str) -> Vec<String> {
        let before = self.texts_to(phone).len();
        let injected = self.gw.inject(phone, None, body).await.unwrap();
        let webhook = injected.webhook.expect("the number has a webhook");
        assert_eq!(webhook.status, Some(200), "{webhook:?}");
        self.app.sonde.drain_distributions().await.unwrap();
        self.texts_to(phone).split_off(before)
    }

    /// What the gateway sent to a phone, oldest first.
    pub(super) fn texts_to(&self, phone: &str) -> Vec<String> {
        let mut texts: Vec<String> = self
            .gw
            .messages()
            .into_iter()
            .filter(|m| m.to == phone && m.direction != twilio_wire::Direction::Inbound)
            .map(|m| m.body)
            .collect();
        texts.reverse();
        texts
    }

    async fn responses(&self) -> Vec<Value> {
        let (s, v) = self
            .call(
                Method::GET,
                &format!("/api/v1/surveys/{}/responses", self.survey),
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v["responses"].as_array().unwrap().clone()
    }
}

#[tokio::test]
async fn an_sms_link_invitation_is_delivered_and_an_unreachable_number_shows_undelivered() {
    for backend in backends() {
        let t = Texting::new(backend, super::ONE_QUESTION).await;
        let list = t
            .list_of(&[
                json!({"firstName": "Ada", "phone": "+15558675310"}),
                json!({"firstName": "Bob", "phone": "+15551230000"}),
                json!({"firstName": "Cy", "email": "cy@example.com"}),
            ])
            .await;
        let template = t
            .sms_template("Hi ${m://FirstName}, how was your visit? ${l://SurveyURL}")
            .await;
        let id = t.distribute("sms", &list, &template).await;

        let ada = t.texts_to("+15558675310");
        assert_eq!(ada.len(), 1, "{backend:?}: {ada:?}");
        assert!(
            ada[0].starts_with("Hi Ada, how was your visit? "),
            "{}",
            ada[0]
        );
        let link = ada[0].rsplit(' ').next().unwrap();
        assert!(
            link.starts_with(&t.app.url(&format!("/s/{}?l=", t.survey))),
            "{link}"
        );
        let delivered = t.wait_for_state(&id, "+15558675310", "delivered").await;
        assert!(
            t.gw.message(&ada_sid(&t, "+15558675310")).is_some(),
            "{delivered}"
        );
        let undelivered = t.wait_for_state(&id, "+15551230000", "undelivered").await;
        assert!(
            undelivered["reason"].as_str().unwrap().contains("30003"),
            "{undelivered}"
        );
        let cy = t
            .recipients(&id)
            .await
            .into_iter()
            .find(|r| r["reasonCode"] == "missing_phone")
            .expect("Cy is skipped for having no phone");
        assert_eq!(cy["state"], "skipped");

        // A late "sent" never moves a delivered message back.
        let sid = ada_sid(&t, "+15558675310");
        let late = t
            .app
            .sonde
            .sms_status_callback(&status_form(&t, &sid, "sent"))
            .await
            .unwrap();
        assert_eq!(late.as_deref(), Some("delivered"));

        let (_, d) = t
            .call(Method::GET, &format!("/api/v1/distributions/{id}"), None)
            .await;
        let stats = &d["stats"];
        assert_eq!(
            (
                &stats["selected"],
                &stats["sent"],
                &stats["delivered"],
                &stats["missingPhone"]
            ),
            (&json!(3), &json!(2), &json!(1), &json!(1)),
            "{backend:?}: {d}"
        );
        assert!(d.get("notice").is_none(), "{d}");

        // The link in the text opens the survey like an email's.
        let page = reqwest::get(link).await.unwrap().text().await.unwrap();
        assert!(page.contains("How was your visit?"), "{page}");
    }
}

#[tokio::test]
async fn status_callbacks_that_beat_the_workers_record_are_applied_when_it_is_made() {
    for backend in backends() {
        // Callbacks at once: the first messages' "sent" and "delivered" arrive while the
        // batch's last messages are still being sent, before any sid is recorded.
        let t = Texting::with_steps(backend, super::ONE_QUESTION, Duration::ZERO).await;
        let phones: Vec<String> = (0..24)
            .map(|i| format!("+1555867{:04}", 5300 + i))
            .collect();
        let contacts: Vec<Value> = phones
            .iter()
            .map(|p| json!({"firstName": "Fast", "phone": p}))
            .collect();
        let list = t.list_of(&contacts).await;
        let template = t.sms_template("Hi! ${l://SurveyURL}").await;
        let id = t.distribute("sms", &list, &template).await;
        for phone in &phones {
            t.wait_for_state(&id, phone, "delivered").await;
        }
    }
}

#[tokio::test]
async fn without_an_sms_gateway_an_sms_distribution_waits_and_says_so() {
    let t = Texting::new(Backend::Sqlite, super::ONE_QUESTION).await;
    let gateway = t.app.sonde.sms();
    t.app.sonde.set_sms(None);
    let list = t
        .list_of(&[json!({"firstName": "Ada", "phone": "+15558675310"})])
        .await;
    let template = t.sms_template("Hi! ${l://SurveyURL}").await;
    let id = t.distribute("sms", &list, &template).await;
    let (_, d) = t
        .call(Method::GET, &format!("/api/v1/distributions/{id}"), None)
        .await;
    assert!(
        d["notice"]
            .as_str()
            .unwrap_or_default()
            .contains("SONDE_TWILIO_ACCOUNT_SID"),
        "{d}"
    );
    assert_eq!(d["stats"]["queued"], 1, "{d}");
    assert!(t.gw.messages().is_empty());
    t.app.sonde.set_sms(gateway);
    t.app.sonde.drain_distributions().await.unwrap();
    assert_eq!(t.recipient_to(&id, "+15558675310").await["state"], "sent");
    assert_eq!(t.texts_to("+15558675310").len(), 1);
}

#[tokio::test]
async fn an_sms_test_send_goes_through_the_queue_with_the_contacts_data() {
    let t = Texting::new(Backend::Sqlite, super::ONE_QUESTION).await;
    let contact = t
        .created(
            "/api/v1/contacts",
            json!({"firstName": "Ada", "phone": "+15558675310"}),
        )
        .await;
    let template = t
        .sms_template("Hi ${m://FirstName}: ${l://SurveyURL}")
        .await;
    let asked = json!({"templateId": template, "surveyId": t.survey, "contactId": contact,
                       "to": "+1 555 867 5399"});
    let (s, v) = t
        .call(
            Method::POST,
            "/api/v1/distributions/test",
            Some(asked.clone()),
        )
        .await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["to"], "+15558675399");
    let preview = t.app.url(&format!("/s/{}?_preview=1", t.survey));
    assert_eq!(v["text"], format!("Hi Ada: {preview}"), "{v}");
    assert!(
        t.texts_to("+15558675399").is_empty(),
        "queued, not sent at once"
    );
    let status_url = v["statusUrl"].as_str().unwrap().to_string();
    let (s, outcome) = t.call(Method::GET, &status_url, None).await;
    assert_eq!(
        (s, &outcome["status"]),
        (200, &json!("queued")),
        "{outcome}"
    );
    t.app.sonde.drain_distributions().await.unwrap();
    assert_eq!(
        t.texts_to("+15558675399"),
        vec![format!("Hi Ada: {preview}")]
    );
    // Its outcome, read back: the gateway took it.
    let (s, outcome) = t.call(Method::GET, &status_url, None).await;
    assert_eq!(s, 200, "{outcome}");
    assert_eq!(
        (&outcome["status"], &outcome["channel"], &outcome["to"]),
        (&json!("sent"), &json!("sms"), &json!("+15558675399")),
        "{outcome}"
    );
    assert!(
        outcome["finishedAt"].is_string() && outcome.get("error").is_none(),
        "{outcome}"
    );

    let mut bad = asked;
    bad["to"] = json!("not a phone");
    let (s, v) = t
        .call(Method::POST, "/api/v1/distributions/test", Some(bad))
        .await;
    assert_eq!(
        (s, problem_fields(&v)),
        (400, vec!["to".to_string()]),
        "{v}"
    );
}

/// The sid of the message the gateway sent to `phone`.
fn ada_sid(t: &Texting, phone: &str) -> String {
    t.gw.messages()
        .into_iter()
        .find(|m| m.to == phone)
        .unwrap()
        .sid
}

fn status_form(t: &Texting, sid: &str, status: &str) -> Vec<(String, String)> {
    [
        ("AccountSid", t.gw.account_sid()),
        ("ApiVersion", "2010-04-01"),
        ("MessageSid", sid),
        ("SmsSid", sid),
        ("MessageStatus", status),
        ("SmsStatus", status),
        ("From", &t.gw.numbers()[0]),
        ("To", "+15558675310"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[tokio::test]
async fn a_two_way_survey_is_answered_by_text_one_bad_reply_reasked() {
    for backend in backends() {
        let t = Texting::new(backend, BY_TEXT).await;
        let phone = "+15558675310";
        let list = t
            .list_of(&[json!({"firstName": "Ada", "phone": phone})])
            .await;
        let template = t
            .sms_template(
                "Hi ${m://FirstName}, a few questions about your visit (or ${l://SurveyURL}).",
            )
            .await;
        let id = t.distribute("sms_two_way", &list, &template).await;

        let invitation = t.texts_to(phone);
        assert_eq!(invitation.len(), 1, "{invitation:?}");
        assert!(
            invitation[0].starts_with("Hi Ada, a few questions")
                && invitation[0].ends_with("How likely are you to recommend us?\nReply 0-10"),
            "{backend:?}: {}",
            invitation[0]
        );
        t.wait_for_state(&id, phone, "delivered").await;

        let got = t.reply(phone, "eleven").await;
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].starts_with("Please reply with a number from 0 to 10.")
                && got[0].contains("How likely are you to recommend us?"),
            "{}",
            got[0]
        );
        assert!(
            t.responses().await.is_empty(),
            "a bad reply records nothing"
        );

        let got = t.reply(phone, "9").await;
        assert_eq!(
            got,
            vec!["How did you come?\n1) By car 2) By bus".to_string()]
        );
        let recorded = t.responses().await;
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0]["status"], "in_progress", "{}", recorded[0]);
        assert_eq!(recorded[0]["answers"]["QID1"], json!(9.0));

        let got = t.reply(phone, "by bus").await;
        assert_eq!(got, vec!["Anything else?".to_string()]);
        let got = t.reply(phone, "The coffee was cold").await;
        assert_eq!(got, vec!["Thank you, Ada!".to_string()]);

        let recorded = t.responses().await;
        assert_eq!(recorded.len(), 1);
        let r = &recorded[0];
        assert_eq!(r["status"], "complete", "{r}");
        assert_eq!(r["answers"]["QID1"], json!(9.0));
        assert_eq!(r["answers"]["QID2"], json!({"selected": ["2"]}));
        assert_eq!(r["answers"]["QID3"], json!("The coffee was cold"));
        let response_id = r["responseId"]
            .as_str()
            .or(r["id"].as_str())
            .unwrap()
            .to_string();
        let row = t
            .app
            .sonde
            .store
            .response(&t.actor.org_id, &response_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.channel, "sms_two_way");
        assert_eq!(
            t.app
                .sonde
                .store
                .response_distribution(&response_id)
                .await
                .unwrap()
                .as_deref(),
            Some(id.as_str())
        );
        let (_, d) = t
            .call(Method::GET, &format!("/api/v1/distributions/{id}"), None)
            .await;
        assert_eq!(
            (&d["stats"]["started"], &d["stats"]["finished"]),
            (&json!(1), &json!(1)),
            "{d}"
        );

        // The conversation is over: another text is not read as an answer.
        assert!(t.reply(phone, "5").await.is_empty());
        assert_eq!(t.responses().await.len(), 1);
    }
}

#[tokio::test]
async fn stop_unsubscribes_the_phone_and_start_resubscribes_it() {
    for backend in backends() {
        let t = Texting::new(backend, super::ONE_QUESTION).await;
        let phone = "+15558675310";
        let list = t
            .list_of(&[
                json!({"firstName": "Ada", "phone": phone, "email": "ada@example.com"}),
                json!({"firstName": "Bob", "phone": "+15558675311"}),
            ])
            .await;
        // Another organization has a contact with the same phone and never texted it.
        let (_, other_token) = t.app.org_user(Role::Admin).await;
        let (s, other) = call_as(
            &t.app,
            &other_token,
            Method::POST,
            "/api/v1/contacts",
            Some(json!({"firstName": "Ada elsewhere", "phone": phone})),
        )
        .await;
        assert_eq!(s, 201, "{other}");
        let template = t.sms_template("Hi! ${l://SurveyURL}").await;
        t.distribute("sms", &list, &template).await;
        assert_eq!(t.texts_to(phone).len(), 1);

        t.reply(phone, "Stop").await;
        let second = t.distribute("sms", &list, &template).await;
        let ada = t.recipient_to(&second, phone).await;
        assert_eq!(
            (&ada["state"], &ada["reasonCode"]),
            (&json!("skipped"), &json!("unsubscribed")),
            "{backend:?}: {ada}"
        );
        assert_eq!(
            t.recipient_to(&second, "+15558675311").await["state"],
            "sent"
        );
        let contact = ada["contactId"].as_str().unwrap();
        let (_, events) = t
            .call(
                Method::GET,
                &format!("/api/v1/contacts/{contact}/opt-out-events"),
                None,
            )
            .await;
        let text = events.to_string();
        assert!(
            text.contains("sms_reply") && text.contains("STOP"),
            "{events}"
        );
        // The phone's opt-out is its own: email still reaches Ada, and the other
        // organization's contact is untouched.
        let (_, c) = t
            .call(Method::GET, &format!("/api/v1/contacts/{contact}"), None)
            .await;
        assert_ne!(c["unsubscribed"], json!(true), "{c}");
        let other_id = other["id"].as_str().unwrap();
        let (_, e) = call_as(
            &t.app,
            &other_token,
            Method::GET,
            &format!("/api/v1/contacts/{other_id}/opt-out-events"),
            None,
        )
        .await;
        assert!(!e.to_string().contains("sms_reply"), "{e}");

        t.reply(phone, "START").await;
        let third = t.distribute("sms", &list, &template).await;
        assert_eq!(t.recipient_to(&third, phone).await["state"], "sent");
        let invitations = t
            .texts_to(phone)
            .iter()
            .filter(|m| m.starts_with("Hi!"))
            .count();
        assert_eq!(invitations, 2, "{:?}", t.texts_to(phone));
    }
}

#[tokio::test]
async fn a_stop_sonde_did_not_hear_unsubscribes_the_phone_when_twilio_refuses_a_text() {
    let t = Texting::new(Backend::Sqlite, super::ONE_QUESTION).await;
    let phone = "+15558675310";
    let list = t
        .list_of(&[json!({"firstName": "Ada", "phone": phone})])
        .await;
    // Sonde's webhook is not set on the number when the phone says STOP.
    t.gw.set_webhook(None, None);
    let injected = t.gw.inject(phone, None, "STOP").await.unwrap();
    assert!(injected.webhook.is_none());
    let template = t.sms_template("Hi! ${l://SurveyURL}").await;
    let first = t.distribute("sms", &list, &template).await;
    let ada = t.recipient_to(&first, phone).await;
    assert_eq!(ada["state"], "failed", "{ada}");
    assert!(
        ada["reason"].as_str().unwrap().starts_with("21610 "),
        "{ada}"
    );
    let second = t.distribute("sms", &list, &template).await;
    let ada = t.recipient_to(&second, phone).await;
    assert_eq!(
        (&ada["state"], &ada["reasonCode"]),
        (&json!("skipped"), &json!("unsubscribed")),
        "{ada}"
    );
}

#[tokio::test]
async fn unsigned_or_wrongly_signed_webhooks_are_refused_and_change_nothing() {
    for backend in backends() {
        let t = Texting::new(backend, super::ONE_QUESTION).await;
        let phone = "+15558675310";
        let list = t
            .list_of(&[json!({"firstName": "Ada", "phone": phone})])
            .await;
        let template = t.sms_template("Hi! ${l://SurveyURL}").await;
        let id = t.distribute("sms", &list, &template).await;
        t.wait_for_state(&id, phone, "delivered").await;
        let sid = ada_sid(&t, phone);
        let client = reqwest::Client::new();
        let status = status_form(&t, &sid, "failed");
        let inbound: Vec<(String, String)> = [
            ("MessageSid", "SM00000000000000000000000000000001"),
            ("SmsSid", "SM00000000000000000000000000000001"),
            ("SmsMessageSid", "SM00000000000000000000000000000001"),
            ("AccountSid", t.gw.account_sid()),
            ("From", phone),
            ("To", &t.gw.numbers()[0]),
            ("Body", "STOP"),
            ("SmsStatus", "received"),
            ("ApiVersion", "2010-04-01"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (path, form) in [(STATUS_PATH, &status), (INBOUND_PATH, &inbound)] {
            let url = t.app.url(path);
            let wrong = twilio_wire::signature("not the auth token", &url, form);
            let other_url =
                twilio_wire::signature(t.gw.auth_token(), &t.app.url("/elsewhere"), form);
            for signature in [
                None,
                Some(wrong),
                Some(other_url),
                Some("garbage".to_string()),
            ] {
                let mut req = client.post(&url).form(form);
                if let Some(sig) = &signature {
                    req = req.header("X-Twilio-Signature", sig);
                }
                let r = req.send().await.unwrap();
                assert_eq!(r.status(), 403, "{backend:?} {path} {signature:?}");
            }
        }
        assert_eq!(t.recipient_to(&id, phone).await["state"], "delivered");
        let again = t.distribute("sms", &list, &template).await;
        assert_eq!(
            t.recipient_to(&again, phone).await["state"],
            "sent",
            "not unsubscribed"
        );

        // The same calls signed as Twilio signs are taken.
        let url = t.app.url(INBOUND_PATH);
        let mut hello = inbound.clone();
        hello.retain(|(k, _)| k != "Body");
        hello.push(("Body".into(), "hello".into()));
        let sig = twilio_wire::signature(t.gw.auth_token(), &url, &hello);
        let r = client
            .post(&url)
            .form(&hello)
            .header("X-Twilio-Signature", sig)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("<Response>"));
    }
}

#[tokio::test]
async fn a_two_way_distribution_of_a_survey_with_a_matrix_is_refused_naming_the_question() {
    let t = Texting::new(Backend::Sqlite, WITH_MATRIX).await;
    let list = t
        .list_of(&[json!({"firstName": "Ada", "phone": "+15558675310"})])
        .await;
    let template = t.sms_template("Hi! ${l://SurveyURL}").await;
    let (s, v) = t
        .call(
            Method::POST,
            &format!("/api/v1/surveys/{}/distributions", t.survey),
            Some(json!({"channel": "sms_two_way", "mailingListId": list, "templateId": template})),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        problem_fields(&v),
        vec!["questions[QID7]".to_string()],
        "{v}"
    );
    assert!(v.to_string().contains("matrix"), "{v}");
    // An SMS-link distribution of the same survey is fine: the link opens the web form.
    let (s, v) = t
        .call(
            Method::POST,
            &format!("/api/v1/surveys/{}/distributions", t.survey),
            Some(json!({"channel": "sms", "mailingListId": list, "templateId": template})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
}

#[tokio::test]
async fn an_unfinished_conversation_is_closed_incomplete_after_the_surveys_timeout() {
    if !in_own_process(
        "distributions::sms::an_unfinished_conversation_is_closed_incomplete_after_the_surveys_timeout",
    ) {
        return;
    }
    let t = Texting::new(Backend::Sqlite, BY_TEXT).await;
    let phone = "+15558675310";
    let list = t
        .list_of(&[json!({"firstName": "Ada", "phone": phone})])
        .await;
    let template = t.sms_template("Hi! ${l://SurveyURL}").await;
    t.distribute("sms_two_way", &list, &template).await;
    t.reply(phone, "8").await;
    // The survey's window is a week (168 hours) without a reply.
    store::advance_clock(169 * 3_600_000);
    t.app.sonde.close_abandoned_responses().await.unwrap();
    let recorded = t.responses().await;
    assert_eq!(recorded[0]["status"], "incomplete", "{}", recorded[0]);
    assert!(
        t.reply(phone, "1").await.is_empty(),
        "nothing is asked any more"
    );
    assert_eq!(t.responses().await[0]["answers"].get("QID2"), None);
}
