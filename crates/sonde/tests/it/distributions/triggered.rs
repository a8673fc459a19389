//! Surveys sent when something happens in Salesforce (issue #11): closing a Case in the org
//! sends its Outbound Message to a workflow whose distribution task invites the case's
//! contact — once, however often Salesforce redelivers —, with the case in the template and
//! in the response's embedded data. A contact opted out in Salesforce is excluded (read in one
//! query for the batch) and unsubscribed in the directory; following an invitation's opt-out
//! link sets `HasOptedOutOfEmail` on the Contact through the queue; a delay waits.

use super::sms::Texting;
use super::{call_as, survey_link, Fixture};
use crate::harness::{backends, linked_org, sfsim_admin};
use reqwest::Method;
use serde_json::{json, Value};

/// One comment question, and the embedded data a triggered link fills.
const CASE_SURVEY: &str = r#"{
  "name": "Case follow-up",
  "flow": [
    {"type": "embedded_data", "fields": [
      {"name": "sfContactId", "value": {"from": "url"}},
      {"name": "sfCaseId", "value": {"from": "url"}}]},
    {"type": "block", "block_id": "BL_1"}],
  "blocks": [{"id": "BL_1", "elements": [{"type": "question", "id": "QID1"}]}],
  "questions": [{"id": "QID1", "export_tag": "Comment", "type": "text_entry", "required": true,
                 "text": "How was your visit? <i>(case ${sf://CaseNumber})</i>"}],
  "end_message": "Thank you."
}"#;

struct Triggered {
    f: Fixture,
    sf: sfsim::RunningOrg,
    survey: String,
    workflow: String,
    endpoint: String,
}

/// The org's "Case closed" rule, sending the case and its contact's addresses to `endpoint`.
fn case_closed_rule(sf: &sfsim::RunningOrg, endpoint: &str) {
    sf.add_outbound_rule(sfsim::OutboundRule {
        id: String::new(),
        name: "Case closed".into(),
        object: "Case".into(),
        on_create: false,
        on_update: true,
        criteria: Some("Status = 'Closed'".into()),
        fields: [
            "ContactId",
            "ContactEmail",
            "ContactMobile",
            "CaseNumber",
            "Subject",
            "Status",
        ]
        .map(String::from)
        .to_vec(),
        endpoint: endpoint.into(),
        send_session_id: false,
    })
    .unwrap();
}

/// Closes a new case of `contact`; its id.
async fn close_case(sf: &sfsim::RunningOrg, contact: &str, subject: &str) -> String {
    let admin = sfsim_admin(sf);
    let case = admin
        .create("Case", &json!({"Subject": subject, "ContactId": contact}))
        .await
        .unwrap();
    admin
        .update("Case", &case, &json!({"Status": "Closed"}))
        .await
        .unwrap();
    case
}

/// Until the org has every notification acknowledged.
async fn acknowledged(sf: &sfsim::RunningOrg) {
    for _ in 0..400 {
        if sf.outbound_pending() == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{} notifications never acknowledged", sf.outbound_pending());
}

/// A record's fields as the org holds them.
async fn record(sf: &sfsim::RunningOrg, soql: &str) -> Value {
    let admin = sfsim_admin(sf);
    futures::TryStreamExt::try_collect::<Vec<Value>>(admin.query::<Value>(soql))
        .await
        .unwrap()
        .remove(0)
}

impl Triggered {
    /// A linked org with a "Case closed" rule sending to a workflow that emails the case's
    /// contact `delay` after the event.
    async fn new(backend: crate::harness::Backend, delay: Option<&str>) -> Option<Self> {
        let f = Fixture::new(backend, &[], &[]).await?;
        let (sf, connection) = linked_org(&f.app, &f.token).await;
        let definition: survey::SurveyDefinition = serde_json::from_str(CASE_SURVEY).unwrap();
        let survey = f.app.create_survey(&f.token, &definition).await;
        let (s, t) = f
            .call(
                Method::POST,
                "/api/v1/templates",
                Some(json!({
                    "channel": "email", "name": "Case closed",
                    "subject": "About case ${sf://CaseNumber}",
                    "fromName": "Acme Support",
                    "body": "<p>Your case ${sf://Subject} is closed.</p><p>${l://SurveyLink}</p>\
                             <p><a href=\"${l://OptOutURL}\">Unsubscribe</a></p>",
                })),
            )
            .await;
        assert_eq!(s, 201, "{t}");
        let (s, w) = f
            .call(
                Method::POST,
                &format!("/api/v1/surveys/{survey}/workflows"),
                Some(json!({
                    "name": "Case closed", "event": "salesforce_message",
                    "connectionId": connection, "object": "Case",
                    "tasks": [{"type": "distribution", "channel": "email", "templateId": t["id"],
                               "delay": delay,
                               "recipient": {"email": "${sf://ContactEmail}", "extRef": "${sf://ContactId}"},
                               "embeddedData": {"sfContactId": "${sf://ContactId}", "sfCaseId": "${sf://Id}"}}]
                })),
            )
            .await;
        assert_eq!(s, 201, "{w}");
        assert_eq!(w["warnings"], json!([]), "{w}");
        let endpoint = w["endpointUrl"].as_str().unwrap().to_string();
        case_closed_rule(&sf, &endpoint);
        Some(Triggered {
            workflow: w["id"].as_str().unwrap().into(),
            f,
            sf,
            survey,
            endpoint,
        })
    }

    /// A contact in the org with a closed case; (contact id, case id).
    async fn close_case_of(&self, email: &str, opted_out: bool) -> (String, String) {
        let admin = sfsim_admin(&self.sf);
        let contact = admin
            .create(
                "Contact",
                &json!({"LastName": email, "Email": email, "HasOptedOutOfEmail": opted_out}),
            )
            .await
            .unwrap();
        let case = close_case(&self.sf, &contact, &format!("Broken kettle of {email}")).await;
        (contact, case)
    }

    /// Until Salesforce has every notification acknowledged, then the runs and sends.
    async fn deliver(&self) {
        acknowledged(&self.sf).await;
        self.f.app.sonde.drain_workflows().await.unwrap();
        self.f.app.sonde.drain_distributions().await.unwrap();
    }

    async fn notifications(&self) -> Vec<Value> {
        let v = self
            .f
            .app
            .get_json(
                &self.f.token,
                &format!("/api/v1/workflows/{}/notifications", self.workflow),
            )
            .await;
        v.as_array().unwrap().clone()
    }

    async fn runs(&self) -> Vec<Value> {
        let v = self
            .f
            .app
            .get_json(
                &self.f.token,
                &format!("/api/v1/workflows/{}/runs", self.workflow),
            )
            .await;
        v["runs"].as_array().unwrap().clone()
    }
}

#[tokio::test]
async fn a_closed_case_invites_its_contact_once_and_an_opt_out_holds_in_both_places() {
    for backend in backends() {
        let Some(t) = Triggered::new(backend, None).await else {
            return;
        };
        // Each acknowledged notification is sent once more: only the first is acted on.
        t.sf.set_outbound_settings(sfsim::OutboundSettings {
            duplicate_rate: 1.0,
            first_retry_ms: 10,
            ..Default::default()
        });
        let (ana, ana_case) = t.close_case_of("ana@example.com", false).await;
        let (_cy, _) = t.close_case_of("cy@example.com", false).await;
        let (bo, _) = t.close_case_of("bo@example.com", true).await;
        t.sf.reset_calls();
        t.deliver().await;
        // The three recipients' opt-outs were read in one query.
        assert_eq!(t.sf.calls_to("query"), 1, "{:?}", t.sf.calls());

        let mail = t.f.catcher.wait_for(2).await;
        let mut to: Vec<&str> = mail.iter().map(|m| m.to()).collect();
        to.sort();
        assert_eq!(to, ["ana@example.com", "cy@example.com"]);
        let ana_mail = mail.iter().find(|m| m.to() == "ana@example.com").unwrap();
        let parsed = ana_mail.parsed();
        assert!(
            parsed.subject().unwrap().starts_with("About case 0000"),
            "{:?}",
            parsed.subject()
        );
        assert!(parsed
            .body_html(0)
            .unwrap()
            .contains("Broken kettle of ana@example.com"));

        // Bo opted out in Salesforce: excluded with that reason, and unsubscribed here too.
        let got = t.notifications().await;
        assert_eq!(got.len(), 3, "{got:?}");
        let bo_n = got
            .iter()
            .find(|n| n["record"]["ContactId"] == bo.as_str())
            .unwrap();
        assert_eq!(bo_n["outcome"], "excluded", "{bo_n}");
        assert_eq!(bo_n["reason"], "opted_out_in_salesforce", "{bo_n}");
        assert!(bo_n["detail"]
            .as_str()
            .unwrap()
            .contains("HasOptedOutOfEmail"));
        assert!(got
            .iter()
            .filter(|n| n["record"]["ContactId"] != bo.as_str())
            .all(|n| n["outcome"] == "sent" && n["duplicates"] == 1));
        let (_, contacts) =
            t.f.call(Method::GET, "/api/v1/contacts?limit=100", None)
                .await;
        let bo_contact = contacts["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["email"] == "bo@example.com")
            .unwrap()
            .clone();
        assert_eq!(bo_contact["unsubscribed"], true, "{bo_contact}");
        let (_, events) =
            t.f.call(
                Method::GET,
                &format!(
                    "/api/v1/contacts/{}/opt-out-events",
                    bo_contact["id"].as_str().unwrap()
                ),
                None,
            )
            .await;
        assert_eq!(events["events"][0]["source"], "salesforce", "{events}");
        let runs = t.runs().await;
        assert!(runs.iter().any(|r| r["status"] == "skipped"
            && r["error"]
                .as_str()
                .unwrap()
                .contains("opted out in Salesforce")));

        // The link carries the case into the response, as Salesforce's word, and the survey's
        // text reads the case's fields.
        let link = survey_link(&parsed);
        let case_number = parsed.subject().unwrap().trim_start_matches("About case ");
        let page = reqwest::get(&link).await.unwrap().text().await.unwrap();
        assert!(
            page.contains(&format!("(case {case_number})")),
            "{case_number}: {page}"
        );
        super::answer(&link, "Fixed quickly").await;
        let (_, responses) =
            t.f.call(
                Method::GET,
                &format!("/api/v1/surveys/{}/responses", t.survey),
                None,
            )
            .await;
        let r = &responses["responses"][0];
        assert_eq!(r["embeddedData"]["sfCaseId"], ana_case.as_str(), "{r}");
        assert_eq!(r["embeddedData"]["sfContactId"], ana.as_str(), "{r}");
        assert_eq!(r["embeddedDataProvenance"]["sfCaseId"], "salesforce", "{r}");

        // Cy follows the opt-out link: unsubscribed here, and HasOptedOutOfEmail in the org.
        let cy_mail = mail.iter().find(|m| m.to() == "cy@example.com").unwrap();
        let html = cy_mail.parsed().body_html(0).unwrap().to_string();
        let opt_out = html
            .split("href=\"")
            .map(|s| s.split('"').next().unwrap().replace("&amp;", "&"))
            .find(|u| u.contains("/optout/"))
            .expect("an opt-out link");
        let browser = crate::harness::cookie_client();
        let page = browser
            .get(&opt_out)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let form = sonde::bench::mapping::hidden_inputs(&page);
        let r = browser.post(&opt_out).form(&form).send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        t.f.app.sonde.drain_workflows().await.unwrap();
        let cy_record = record(
            &t.sf,
            "SELECT Id, HasOptedOutOfEmail FROM Contact WHERE Email = 'cy@example.com'",
        )
        .await;
        assert_eq!(cy_record["HasOptedOutOfEmail"], true, "{cy_record}");
        let runs = t.runs().await;
        assert!(
            runs.iter()
                .any(|r| r["trigger"] == "opt_out" && r["status"] == "succeeded"),
            "{runs:?}"
        );

        // Redeliveries after all that change nothing.
        t.deliver().await;
        assert_eq!(t.f.catcher.received().len(), 2);
        drop(t.endpoint);
    }
}

#[tokio::test]
async fn a_delayed_invitation_waits_and_a_record_that_carries_its_opt_out_needs_no_query() {
    for backend in backends() {
        let Some(t) = Triggered::new(backend, Some("PT24H")).await else {
            return;
        };
        t.close_case_of("dee@example.com", false).await;
        t.deliver().await;
        let runs = t.runs().await;
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0]["status"], "waiting", "{runs:?}");
        assert!(
            runs[0]["error"]
                .as_str()
                .unwrap()
                .contains("sends 1 d after the event"),
            "{runs:?}"
        );
        assert_eq!(t.notifications().await[0]["outcome"], "queued");
        assert!(t.f.catcher.received().is_empty());

        // A Contact workflow fed by a Flow callout carrying the opt-out checkbox: no query.
        let (s, w) = call_as(
            &t.f.app,
            &t.f.token,
            Method::GET,
            &format!("/api/v1/workflows/{}", t.workflow),
            None,
        )
        .await;
        assert_eq!(s, 200, "{w}");
        let mut body = json!({});
        for k in ["name", "event", "enabled", "tasks", "connectionId"] {
            body[k] = w[k].clone();
        }
        body["object"] = json!("Contact");
        body["tasks"][0]["delay"] = Value::Null;
        body["tasks"][0]["recipient"] = json!({"email": "${sf://Email}", "firstName": "${sf://FirstName}", "extRef": "${sf://Id}"});
        body["tasks"][0]["embeddedData"] = json!({"sfContactId": "${sf://Id}"});
        let (s, v) = call_as(
            &t.f.app,
            &t.f.token,
            Method::PUT,
            &format!("/api/v1/workflows/{}", t.workflow),
            Some(body),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        let (_, endpoint) = call_as(
            &t.f.app,
            &t.f.token,
            Method::GET,
            &format!("/api/v1/workflows/{}/endpoint", t.workflow),
            None,
        )
        .await;
        t.sf.reset_calls();
        for (id, email, out) in [
            ("0035g00000CALL1AAA", "eve@example.com", true),
            ("0035g00000CALL2AAA", "fay@example.com", false),
        ] {
            let r = reqwest::Client::new()
                .post(endpoint["url"].as_str().unwrap())
                .header("X-Sonde-Secret", endpoint["secret"].as_str().unwrap())
                .json(
                    &json!({"attributes": {"type": "Contact"}, "Id": id, "Email": email,
                              "FirstName": "E", "HasOptedOutOfEmail": out,
                              "LastModifiedDate": "2026-12-03T10:00:00.000+0000"}),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
        t.f.app.sonde.drain_workflows().await.unwrap();
        t.f.app.sonde.drain_distributions().await.unwrap();
        assert_eq!(t.sf.calls_to("query"), 0, "{:?}", t.sf.calls());
        let mail = t.f.catcher.wait_for(1).await;
        assert_eq!(mail.len(), 1);
        assert_eq!(mail[0].to(), "fay@example.com");
        let got = t.notifications().await;
        let eve = got
            .iter()
            .find(|n| n["recordId"] == "0035g00000CALL1AAA")
            .unwrap();
        assert_eq!(eve["reason"], "opted_out_in_salesforce", "{eve}");
    }
}

#[tokio::test]
async fn sf_piped_text_is_refused_where_no_record_is_read() {
    for backend in backends() {
        let Some(f) = Fixture::new(backend, &[], &[]).await else {
            return;
        };
        let (s, v) = f
            .call(
                Method::POST,
                &format!("/api/v1/surveys/{}/workflows", f.survey),
                Some(json!({
                    "name": "w", "tasks": [{"type": "directory", "action": "upsert_contact",
                    "fields": {"email": {"piped": "${sf://Email}"}}}]
                })),
            )
            .await;
        assert_eq!(s, 400, "{v}");
        assert!(
            v.to_string()
                .contains("reads the record of a Salesforce message"),
            "{v}"
        );
        let template = f.template("t").await;
        let (s, v) = f
            .call(
                Method::POST,
                &format!("/api/v1/surveys/{}/workflows", f.survey),
                Some(json!({
                    "name": "w", "tasks": [{"type": "distribution", "channel": "email",
                    "templateId": template, "delay": "P1M", "recipient": {"phone": "x"}}]
                })),
            )
            .await;
        assert_eq!(s, 400, "{v}");
        let fields = super::problem_fields(&v);
        assert!(fields.contains(&"tasks[0].delay".to_string()), "{fields:?}");
        assert!(
            fields.contains(&"tasks[0].recipient.email".to_string()),
            "{fields:?}"
        );
    }
}

/// Issue #11's end to end on the built-in org: 1,000 Cases closed, the org's sender set to
/// send 30 % of the notifications again and everything in shuffled order; the server's own
/// workers running. Exactly 1,000 invitations reach the SMTP server, none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_closed_cases_send_exactly_a_thousand_invitations() {
    const N: usize = 1_000;
    let Some(t) = Triggered::new(crate::harness::Backend::Sqlite, None).await else {
        return;
    };
    t.sf.set_outbound_settings(sfsim::OutboundSettings {
        duplicate_rate: 0.3,
        shuffle: true,
        first_retry_ms: 20,
        max_interval_ms: 500,
        ..Default::default()
    });
    let workers = [
        t.f.app.sonde.spawn_workflow_worker(),
        t.f.app.sonde.spawn_distribution_worker(),
    ];
    crate::harness::close_cases(&sfsim_admin(&t.sf), 0..N, 200, std::time::Duration::ZERO).await;
    // A liveness bound, not a speed check.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    loop {
        let got = t.f.catcher.received().len();
        if got >= N && t.sf.outbound_pending() == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{got} of {N} invitations, {} notifications pending",
            t.sf.outbound_pending()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // Redeliveries still arriving now find their notification acted on already.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let received = t.f.catcher.received();
    let distinct: std::collections::HashSet<&str> = received.iter().map(|m| m.to()).collect();
    assert_eq!(distinct.len(), N, "every contact invited");
    assert_eq!(received.len(), N, "none invited twice");
    let sent: usize =
        t.sf.outbound_deliveries()
            .iter()
            .filter(|d| d.acknowledged)
            .map(|d| d.notification_ids.len())
            .sum();
    eprintln!("{sent} notifications acknowledged for {N} closed cases");
    assert!(sent > N + N / 5, "the sender repeated about 30 %: {sent}");
    for w in workers {
        w.abort();
    }
}

#[tokio::test]
async fn a_triggered_text_is_capped_written_back_and_a_stop_sets_the_sms_opt_out_field() {
    for backend in backends() {
        let t = Texting::new(backend, CASE_SURVEY).await;
        let (sf, connection) = linked_org(&t.app, &t.token).await;
        let (s, v) = t
            .call(
                Method::PUT,
                "/api/v1/salesforce/opt-out-sync",
                Some(json!({"enabled": true, "smsField": "SMS_Opt_Out__c"})),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        // One invitation a month per contact, whatever sends it.
        t.created(
            "/api/v1/directory/frequency-rules",
            json!({"scope": {"type": "organization"}, "maxInvitations": 1, "periodDays": 30}),
        )
        .await;
        let template = t
            .created(
                "/api/v1/templates",
                json!({"channel": "sms", "name": "Case text",
                       "body": "Case ${sf://CaseNumber} is closed: ${l://SurveyURL}"}),
            )
            .await;
        let (s, w) = t
            .call(
                Method::POST,
                &format!("/api/v1/surveys/{}/workflows", t.survey),
                Some(json!({
                    "name": "Case closed", "event": "salesforce_message",
                    "connectionId": connection, "object": "Case",
                    "tasks": [
                        {"type": "distribution", "channel": "sms", "templateId": template,
                         "recipient": {"phone": "${sf://ContactMobile}", "extRef": "${sf://ContactId}"},
                         "embeddedData": {"sfContactId": "${sf://ContactId}", "sfCaseId": "${sf://Id}"}},
                        {"type": "salesforce", "connectionId": connection, "object": "Contact",
                         "operation": "update", "recordId": "${sf://ContactId}",
                         "fields": {"Survey_Sent__c": {"value": true}}}]
                })),
            )
            .await;
        assert_eq!(s, 201, "{w}");
        assert_eq!(w["warnings"], json!([]), "{w}");
        case_closed_rule(&sf, w["endpointUrl"].as_str().unwrap());
        let workflow = w["id"].as_str().unwrap();

        let admin = sfsim_admin(&sf);
        let (ada_phone, bo_phone) = ("+15558675310", "+15551230000");
        let ada = admin
            .create(
                "Contact",
                &json!({"LastName": "Ada", "MobilePhone": ada_phone}),
            )
            .await
            .unwrap();
        let bo = admin
            .create(
                "Contact",
                &json!({"LastName": "Bo", "MobilePhone": bo_phone, "SMS_Opt_Out__c": true}),
            )
            .await
            .unwrap();
        let first = close_case(&sf, &ada, "Kettle").await;
        let bo_case = close_case(&sf, &bo, "Toaster").await;
        acknowledged(&sf).await;
        t.app.sonde.drain_workflows().await.unwrap();
        t.app.sonde.drain_distributions().await.unwrap();
        // A second case of Ada's within the month: the frequency rule holds.
        let second = close_case(&sf, &ada, "Kettle").await;
        acknowledged(&sf).await;
        t.app.sonde.drain_workflows().await.unwrap();
        t.app.sonde.drain_distributions().await.unwrap();

        let texts = t.texts_to(ada_phone);
        assert_eq!(texts.len(), 1, "{texts:?}");
        assert!(texts[0].starts_with("Case 0000"), "{texts:?}");
        assert!(t.texts_to(bo_phone).is_empty());
        let (_, got) = t
            .call(
                Method::GET,
                &format!("/api/v1/workflows/{workflow}/notifications"),
                None,
            )
            .await;
        let of = |case: &str| {
            got.as_array()
                .unwrap()
                .iter()
                .find(|n| n["record"]["Id"] == case)
                .unwrap_or_else(|| panic!("no notification of {case}: {got}"))
                .clone()
        };
        assert_eq!(of(&first)["outcome"], "sent", "{got}");
        let bo_n = of(&bo_case);
        assert_eq!(
            (&bo_n["outcome"], &bo_n["reason"]),
            (&json!("excluded"), &json!("opted_out_in_salesforce")),
            "{bo_n}"
        );
        assert!(bo_n["detail"].as_str().unwrap().contains("SMS_Opt_Out__c"));
        let capped = of(&second);
        assert_eq!(
            (&capped["outcome"], &capped["reason"]),
            (&json!("excluded"), &json!("frequency_capped")),
            "{capped}"
        );
        // The write-back ran for the invitation sent, and for no one excluded.
        let soql = |id: &str| {
            format!("SELECT Survey_Sent__c, SMS_Opt_Out__c FROM Contact WHERE Id = '{id}'")
        };
        assert_eq!(record(&sf, &soql(&ada)).await["Survey_Sent__c"], true);
        assert_eq!(record(&sf, &soql(&bo)).await["Survey_Sent__c"], false);

        // Ada texts STOP: the SMS opt-out field is set on her Contact, through a run.
        t.reply(ada_phone, "STOP").await;
        t.app.sonde.drain_workflows().await.unwrap();
        assert_eq!(record(&sf, &soql(&ada)).await["SMS_Opt_Out__c"], true);
        let (_, runs) = t
            .call(
                Method::GET,
                &format!("/api/v1/workflows/{workflow}/runs"),
                None,
            )
            .await;
        assert!(
            runs["runs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["trigger"] == "opt_out" && r["status"] == "succeeded"),
            "{runs}"
        );
    }
}
