//! The Salesforce admin UI: linking an org through the real pages and sfsim's sign-in form,
//! building a workflow in the editor, and reading its runs, in headless Chromium; plus CSRF
//! refusals and the non-owner's read-only view over plain HTTP.

use crate::browser::{answer_page, Browser};
use crate::harness::{cookie_client, csrf_of, Backend, TestApp, PASSWORD};
use engine::Role;
use futures::TryStreamExt;
use serde_json::Value;
use sonde::bench::mapping::hidden_inputs;
use survey::flow::{self, Step};
use survey::{Answer, ResponseData};

async fn start_org() -> sfsim::RunningOrg {
    sfsim::Org::builder()
        .seed(sfsim::Seed::Demo)
        .daily_api_limit(1_000_000)
        .start()
        .await
        .unwrap()
}

fn configure(app: &TestApp, org: &sfsim::RunningOrg) {
    let mut s = crate::harness::sfsim_settings(org);
    s.retry_base_ms = 1;
    app.sonde.configure_salesforce(s);
    app.sonde
        .set_secret_box(engine::secrets::SecretBox::from_key(&[7u8; 32]));
}

/// The org's own admin session, to look at what arrived without going through Sonde.
fn org_admin(org: &sfsim::RunningOrg) -> salesforce::Connection {
    crate::harness::sfsim_admin(org)
}

async fn query(conn: &salesforce::Connection, soql: &str) -> Vec<Value> {
    conn.query_all::<Value>(soql).try_collect().await.unwrap()
}

/// (AccountId, ContactId) of a seeded contact, and the NPS record type's id.
async fn fixture(org: &sfsim::RunningOrg) -> (String, String, String) {
    let admin = org_admin(org);
    let row = query(
        &admin,
        "SELECT Id, AccountId FROM Contact WHERE AccountId != null LIMIT 1",
    )
    .await
    .remove(0);
    let d = admin.describe("Survey_Response__c").await.unwrap();
    let rt = d
        .record_type_infos
        .iter()
        .find(|r| r.developer_name.as_deref() == Some("NPS"))
        .and_then(|r| r.record_type_id.clone())
        .unwrap();
    (
        row["AccountId"].as_str().unwrap().to_string(),
        row["Id"].as_str().unwrap().to_string(),
        rt,
    )
}

/// Signs `email` in on `client` and returns the session's CSRF token.
pub(crate) async fn sign_in(app: &TestApp, client: &reqwest::Client, email: &str) -> String {
    let r = app.sign_in_web(client, email, PASSWORD).await;
    assert_eq!(r.status(), 303);
    let page = client
        .get(app.url("/salesforce"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    csrf_of(&page)
}

/// Links the org through the UI's form, sfsim's sign-in page and the callback, as a browser
/// without JavaScript would; returns the page the person lands on.
async fn link_via_pages(
    app: &TestApp,
    client: &reqwest::Client,
    csrf: &str,
    org: &sfsim::RunningOrg,
) -> (u16, String) {
    link_via_pages_as(app, client, csrf, org, &org.username()).await
}

/// [`link_via_pages`], signing in at the org as `username`.
async fn link_via_pages_as(
    app: &TestApp,
    client: &reqwest::Client,
    csrf: &str,
    org: &sfsim::RunningOrg,
    username: &str,
) -> (u16, String) {
    let r = client
        .post(app.url("/salesforce/link"))
        .form(&[
            ("csrf", csrf),
            ("environment", "custom"),
            ("login_url", org.login_url()),
        ])
        .send()
        .await
        .unwrap();
    if r.status() != 303 {
        return (r.status().as_u16(), r.text().await.unwrap());
    }
    let authorize = r.headers()["location"].to_str().unwrap().to_string();
    let back = sonde::bench::mapping::allow_on_authorize_page(
        client,
        &authorize,
        org.login_url(),
        username,
        org.password(),
    )
    .await
    .unwrap();
    let r = client.get(&back).send().await.unwrap();
    assert_eq!(
        r.status(),
        303,
        "the callback sends a signed-in person back"
    );
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/salesforce?linked="), "{to}");
    let r = client.get(app.url(&to)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn current_url(b: &Browser) -> String {
    b.call(reqwest::Method::GET, "/url", None)
        .await
        .as_str()
        .unwrap()
        .to_string()
}

async fn choose(b: &Browser, select: &str, value: &str) {
    b.click(&format!("{select} option[value='{value}']")).await;
}

#[tokio::test]
async fn link_an_org_build_a_workflow_and_read_its_runs_in_chromium() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let org = start_org().await;
    let app = TestApp::spawn(Backend::Sqlite).await;
    configure(&app, &org);
    let (me, token) = app.org_user(Role::Editor).await;
    let survey_id = app.sample_survey(&token).await;
    let (account, contact, nps_type) = fixture(&org).await;

    b.goto(&app.url("/login")).await;
    b.type_into("#email", &me.email).await;
    b.type_into("#password", "correct horse battery").await;
    b.click("button[type=submit]").await;
    b.wait_for("Import a Qualtrics survey").await;

    // Link: Sonde's form, sfsim's sign-in page, and back to /salesforce.
    b.goto(&app.url("/salesforce")).await;
    b.wait_for("Link an org").await;
    b.click("#env-custom").await;
    b.type_into("#login-url", org.login_url()).await;
    b.screenshot("wfui-salesforce-empty").await;
    b.click("#link-submit").await;
    b.wait_for("name=\"username\"").await;
    b.type_into("input[name=username]", &org.username()).await;
    b.type_into("input[name=password]", org.password()).await;
    b.click("button[value=Allow]").await;
    let linked = b.wait_for("Linked ").await;
    assert!(current_url(&b).await.contains("/salesforce?linked="));
    assert!(linked.contains("active"), "{linked}");
    b.screenshot("wfui-salesforce-linked").await;

    // The editor: pick the object, its record type and fields from describe.
    b.goto(&app.url(&format!("/surveys/{survey_id}"))).await;
    b.click(&format!("a[href='/surveys/{survey_id}/workflows']"))
        .await;
    b.wait_for("New workflow").await;
    b.click(&format!("a[href='/surveys/{survey_id}/workflows/new']"))
        .await;
    b.wait_for("Tasks, in order").await;
    // A new workflow has no task until one is added.
    b.type_into("#wf-name", "Responses to Salesforce").await;
    choose(&b, "#c0_subject", "e:sfAccountId").await;
    choose(&b, "#c0_op", "is_not_empty").await;
    b.click("button[value=add_salesforce]").await;
    b.wait_for("id=\"task-0\"").await;
    choose(&b, "#t0_object", "Survey_Response__c").await;
    // The change reloads the form with the object's fields (a script clicks "Load fields").
    b.wait_for("Required on create").await;
    b.screenshot("wfui-editor-top").await;
    choose(&b, "#t0_record_type", &nps_type).await;
    choose(&b, "#t0_m0_field", "Account__c").await;
    choose(&b, "#t0_m0_pick", "${e://Field/sfAccountId}").await;
    choose(&b, "#t0_m1_field", "Response_Id__c").await;
    choose(&b, "#t0_m1_pick", "${rm://ResponseID}").await;
    choose(&b, "#t0_m2_field", "NPS_Score__c").await;
    choose(&b, "#t0_m2_pick", "${q://QID3/ChoiceTextEntryValue}").await;
    b.click("button[value=add_row_0]").await;
    b.wait_for("t0_m3_field").await;
    choose(&b, "#t0_m3_field", "Survey_Name__c").await;
    choose(&b, "#t0_m3_kind", "value").await;
    b.type_into("#t0_m3_text", "ui-e2e").await;
    b.screenshot("wfui-editor").await;
    b.click("#save").await;
    let saved = b.wait_for("Workflow saved.").await;
    assert!(saved.contains("${e://Field/sfAccountId}"), "{saved}");
    b.screenshot("wfui-editor-saved").await;
    let url = current_url(&b).await;
    let wf_id = url
        .split("/workflows/")
        .nth(1)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    b.goto(&app.url(&format!("/surveys/{survey_id}/workflows")))
        .await;
    let list = b.wait_for("Responses to Salesforce").await;
    assert!(list.contains("sfAccountId is not empty"), "{list}");
    assert!(list.contains("Salesforce: create Survey_Response__c (5 fields)"));

    // A respondent answers in the same browser.
    let def = survey::sample::sample_definition();
    let mut answers = sonde::bench::complete_answers(&def);
    answers.insert("QID3".into(), Answer::Number(9.0));
    b.goto(&app.url(&format!(
        "/s/{survey_id}?sfAccountId={account}&sfContactId={contact}"
    )))
    .await;
    let mut data = ResponseData::default();
    let mut step = flow::start(&def, &data);
    while let Step::Page(page) = step {
        answer_page(&b, &def, &page.questions, &answers).await;
        for q in &page.questions {
            if let Some(a) = answers.get(q) {
                data.answers.insert(q.clone(), a.clone());
            }
        }
        b.click("button[type=submit]").await;
        step = flow::next(&def, &page.cursor, &data);
        if let Step::Page(next) = &step {
            b.wait_for(&format!("name=\"_page\" value=\"{}\"", next.number))
                .await;
        }
    }
    b.wait_for("Thank").await;

    let report = app.sonde.drain_workflows().await.unwrap();
    assert_eq!(report.succeeded, 1, "{report:?}");

    b.goto(&app.url(&format!("/workflows/{wf_id}/runs"))).await;
    let runs = b.wait_for("record-id").await;
    b.screenshot("wfui-runs").await;
    assert!(runs.contains("succeeded"), "{runs}");
    assert!(runs.contains("response_created"));
    let record_id = runs
        .split("class=\"record-id\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(record_id.len(), 18, "{record_id}");

    let rows = query(
        &org_admin(&org),
        &format!(
            "SELECT Id, Account__c, RecordTypeId, NPS_Score__c, Survey_Name__c, Response_Id__c \
             FROM Survey_Response__c WHERE Id = '{record_id}'"
        ),
    )
    .await;
    assert_eq!(rows.len(), 1, "the record is in the org");
    let r = &rows[0];
    assert_eq!(
        r["Account__c"].as_str().unwrap().get(..15),
        account.get(..15)
    );
    assert_eq!(
        r["RecordTypeId"].as_str().unwrap().get(..15),
        nps_type.get(..15)
    );
    assert_eq!(r["NPS_Score__c"].as_f64(), Some(9.0));
    assert_eq!(r["Survey_Name__c"], "ui-e2e");

    // Check connection, from the Salesforce page.
    b.goto(&app.url("/salesforce")).await;
    b.click("a[href$='/check']").await;
    let check = b.wait_for("check-report").await;
    b.screenshot("wfui-check").await;
    assert!(check.contains("API access: yes"), "{check}");
    assert!(check.contains("Everything checks out."), "{check}");
    b.quit().await;
    org.shutdown().await;
}

/// The editor builds a workflow fired by a Salesforce message: the event, the org and object
/// whose record fields become `${sf://…}` choices, a distribution task with its template,
/// delay, recipient and embedded data; saving shows the endpoint URL to paste into Salesforce.
#[tokio::test]
async fn a_case_closed_workflow_is_built_in_the_editor_in_chromium() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let org = start_org().await;
    let app = TestApp::spawn(Backend::Sqlite).await;
    configure(&app, &org);
    let (me, token) = app.org_user(Role::Editor).await;
    let survey_id = app.sample_survey(&token).await;
    crate::harness::link_sfsim(&app, &token, &org).await;
    let template: Value = app
        .post(&token, "/api/v1/templates")
        .json(
            &serde_json::json!({"channel": "email", "name": "Case survey",
            "subject": "About your case", "fromName": "Acme", "body": "<p>${l://SurveyLink}</p>"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let template = template["id"].as_str().unwrap().to_string();

    b.goto(&app.url("/login")).await;
    b.type_into("#email", &me.email).await;
    b.type_into("#password", "correct horse battery").await;
    b.click("button[type=submit]").await;
    b.wait_for("Import a Qualtrics survey").await;
    b.goto(&app.url(&format!("/surveys/{survey_id}/workflows/new")))
        .await;
    b.wait_for("Tasks, in order").await;
    b.type_into("#wf-name", "Case closed").await;
    choose(&b, "#wf-event", "salesforce_message").await;
    b.wait_for("id=\"trigger-object\"").await;
    choose(&b, "#trigger-object", "Case").await;
    b.wait_for("<option value=\"Case\" selected").await;
    b.click("button[value=add_distribution]").await;
    b.wait_for("id=\"task-0\"").await;
    // The record's fields are piped-text choices.
    b.wait_for("${sf://ContactEmail}").await;
    choose(&b, "#t0_template", &template).await;
    b.type_into("#t0_delay", "PT24H").await;
    choose(&b, "#t0_m0_field", "email").await;
    choose(&b, "#t0_m0_pick", "${sf://ContactEmail}").await;
    choose(&b, "#t0_m1_field", "extRef").await;
    choose(&b, "#t0_m1_pick", "${sf://ContactId}").await;
    b.type_into("#t0_e0_field", "sfContactId").await;
    choose(&b, "#t0_e0_pick", "${sf://ContactId}").await;
    b.shots("wfui-triggered-editor").await;
    b.click("#save").await;
    let saved = b.wait_for("Workflow saved.").await;
    assert!(saved.contains("id=\"endpoint-url\""), "{saved}");
    b.shots("wfui-triggered-saved").await;

    let list = app
        .get_json(&token, &format!("/api/v1/surveys/{survey_id}/workflows"))
        .await;
    let w = &list["workflows"][0];
    assert_eq!(w["event"], "salesforce_message", "{w}");
    assert_eq!(w["object"], "Case");
    let task = &w["tasks"][0];
    assert_eq!(task["type"], "distribution", "{task}");
    assert_eq!(task["templateId"], template.as_str());
    assert_eq!(task["delay"], "PT24H");
    assert_eq!(task["recipient"]["email"], "${sf://ContactEmail}");
    assert_eq!(task["recipient"]["extRef"], "${sf://ContactId}");
    assert_eq!(task["embeddedData"]["sfContactId"], "${sf://ContactId}");

    // "Move to another org": the plan checked against the org picked, then the move.
    b.goto(&app.url(&format!("/surveys/{survey_id}/workflows")))
        .await;
    b.click(&format!("a[href='/surveys/{survey_id}/workflows/move']"))
        .await;
    b.wait_for("id=\"move-target\"").await;
    let connection = w["connectionId"].as_str().unwrap().to_string();
    choose(&b, "#move-target", &connection).await;
    b.click("#move-check").await;
    let plan = b.wait_for("Everything checks out").await;
    assert!(plan.contains("id=\"move-apply\""), "{plan}");
    b.shots("wfui-move-plan").await;
    b.click("#move-apply").await;
    b.wait_for("id=\"moved\"").await;
    b.shots("wfui-move-done").await;
    b.goto(&app.url(&format!("/workflows/{}", w["id"].as_str().unwrap())))
        .await;
    b.wait_for("t0_delay").await;

    // A callout arrives: the run history lists the notification and what became of it.
    let endpoint = app
        .get_json(
            &token,
            &format!("/api/v1/workflows/{}/endpoint", w["id"].as_str().unwrap()),
        )
        .await;
    let r = reqwest::Client::new()
        .post(endpoint["url"].as_str().unwrap())
        .header("X-Sonde-Secret", endpoint["secret"].as_str().unwrap())
        .json(
            &serde_json::json!({"Id": "5005g00000UIRUNAAA", "ContactId": "0035g00000UIRUNAAA",
            "ContactEmail": "ui@example.com", "LastModifiedDate": "2026-12-03T10:00:00.000+0000"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.sonde.drain_workflows().await.unwrap();
    b.goto(&app.url(&format!("/workflows/{}/runs", w["id"].as_str().unwrap())))
        .await;
    let runs = b.wait_for("id=\"notifications\"").await;
    assert!(runs.contains("5005g00000UIRUNAAA"), "{runs}");
    assert!(
        runs.contains("waiting"),
        "the run waits out its 24 h: {runs}"
    );
    b.shots("wfui-triggered-runs").await;
    b.goto(&app.url(&format!("/workflows/{}", w["id"].as_str().unwrap())))
        .await;
    b.wait_for("t0_delay").await;

    // A delay that does not read is refused beside its field, with what was typed kept.
    b.type_into("#t0_delay", "tomorrow").await;
    b.click("#save").await;
    let refused = b.wait_for("not an ISO 8601 duration").await;
    assert!(refused.contains("Task 1 · Delay"), "{refused}");
    b.shots("wfui-triggered-refused").await;
    b.quit().await;
    org.shutdown().await;
}

#[tokio::test]
async fn forms_without_the_csrf_token_change_nothing_and_others_see_a_read_only_copy_offer() {
    // Two orgs with one connected app: five links need five org and user pairs.
    let org = crate::harness::start_shared_app_org().await;
    let org2 = crate::harness::start_shared_app_org().await;
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.sonde
        .configure_salesforce(crate::harness::shared_app_settings(&[&org, &org2]));
    app.sonde
        .set_secret_box(engine::secrets::SecretBox::from_key(&[7u8; 32]));
    let (owner, token) = app.org_user(Role::Editor).await;
    let survey_id = app.sample_survey(&token).await;
    let client = cookie_client();
    let csrf = sign_in(&app, &client, &owner.email).await;

    // A forged link form is refused before anything is stored.
    let r = client
        .post(app.url("/salesforce/link"))
        .form(&[("csrf", "forged"), ("environment", "production")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("did not come from Sonde"));
    assert!(app
        .sonde
        .salesforce_connections(&owner)
        .await
        .unwrap()
        .is_empty());

    // Denying at Salesforce lands back on the Salesforce page with the reason; nothing linked.
    let r = client
        .post(app.url("/salesforce/link"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("environment", "custom"),
            ("login_url", org.login_url()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let authorize = r.headers()["location"].to_str().unwrap().to_string();
    let html = client.get(&authorize).send().await.unwrap().text().await;
    let mut form = hidden_inputs(&html.unwrap());
    form.push(("action".into(), "Deny".into()));
    let r = client
        .post(format!("{}/services/oauth2/authorize", org.login_url()))
        .form(&form)
        .send()
        .await
        .unwrap();
    let back = r.headers()["location"].to_str().unwrap().to_string();
    let r = client.get(&back).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Linking failed") && html.contains("did not grant access"),
        "{html}"
    );
    assert!(
        html.contains("Link an org"),
        "the Salesforce page, not a dead end"
    );
    assert!(app
        .sonde
        .salesforce_connections(&owner)
        .await
        .unwrap()
        .is_empty());

    let (status, page) = link_via_pages(&app, &client, &csrf, &org).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Linked ") && page.contains("active"),
        "{page}"
    );
    let conn = app.sonde.salesforce_connections(&owner).await.unwrap()[0]
        .id
        .clone();

    // A save refused by describe comes back with the field named beside its row.
    let new = format!("/surveys/{survey_id}/workflows/new");
    let form = |csrf: &str, field: &str| {
        vec![
            ("csrf".to_string(), csrf.to_string()),
            ("action".into(), "save".into()),
            ("name".into(), "UI workflow".into()),
            ("event".into(), "response_created".into()),
            ("enabled".into(), "on".into()),
            ("match".into(), "all".into()),
            ("c0_subject".into(), "".into()),
            ("c0_op".into(), "".into()),
            ("c0_value".into(), "".into()),
            ("t0_kind".into(), "salesforce".into()),
            ("t0_connection".into(), conn.clone()),
            ("t0_operation".into(), "create".into()),
            ("t0_object".into(), "Survey_Response__c".into()),
            ("t0_record_type".into(), "".into()),
            ("t0_external_id".into(), "".into()),
            ("t0_record_id".into(), "".into()),
            ("t0_m0_field".into(), "Account__c".into()),
            ("t0_m0_kind".into(), "piped".into()),
            ("t0_m0_text".into(), "".into()),
            ("t0_m0_pick".into(), "${e://Field/sfAccountId}".into()),
            ("t0_m1_field".into(), field.into()),
            ("t0_m1_kind".into(), "value".into()),
            ("t0_m1_text".into(), "R-1".into()),
            ("t0_m1_pick".into(), "".into()),
        ]
    };
    let r = client
        .post(app.url(&new))
        .form(&form(&csrf, "Name"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("Task 1 · field Name"), "{html}");
    assert!(html.contains("read-only"), "{html}");
    // The submitted rows come back filled in, the pick inserted into the text.
    assert!(
        html.contains(">${e://Field/sfAccountId}</textarea>"),
        "{html}"
    );

    // Forged: refused, nothing created.
    let r = client
        .post(app.url(&new))
        .form(&form("forged", "Survey_Name__c"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(app
        .sonde
        .workflows(&owner, &survey_id)
        .await
        .unwrap()
        .is_empty());
    let r = client
        .post(app.url(&new))
        .form(&form(&csrf, "Survey_Name__c"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let wf_id = location
        .trim_start_matches("/workflows/")
        .split('?')
        .next()
        .unwrap()
        .to_string();

    // A forged disconnect leaves the org linked.
    let r = client
        .post(app.url(&format!("/salesforce/{conn}/disconnect")))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        app.sonde.salesforce_connections(&owner).await.unwrap()[0].status,
        "active"
    );

    // Check connection reads the workflow's needs from describe.
    let r = client
        .get(app.url(&format!("/salesforce/{conn}/check")))
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("API access: yes"), "{html}");
    assert!(html.contains("UI workflow"), "{html}");

    // A write Salesforce refuses shows its error text and a Retry button on the run history.
    let answers = sonde::bench::complete_answers(&survey::sample::sample_definition());
    let r = app
        .post(&token, &format!("/api/v1/surveys/{survey_id}/responses"))
        .json(&serde_json::json!({"answers": answers, "embeddedData": {"sfAccountId": "001000000000000AAA"}, "finished": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let report = app.sonde.drain_workflows().await.unwrap();
    assert_eq!(report.failed, 1, "{report:?}");
    let runs_page = format!("/workflows/{wf_id}/runs");
    let html = client
        .get(app.url(&runs_page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Salesforce says: "), "{html}");
    let retry = html
        .split("action=\"")
        .find(|s| s.contains("/retry\""))
        .and_then(|s| s.split('"').next())
        .expect("a Retry form")
        .to_string();
    let r = client
        .post(app.url(&retry))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = client
        .post(app.url(&retry))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = client
        .get(app.url(r.headers()["location"].to_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("is queued again") && html.contains(">queued<"),
        "{html}"
    );

    // A colleague sees the workflow read-only, with the refusal and a copy offer.
    let (colleague, _) = app.user_in(&owner.org_id, Role::Admin).await;
    let other = cookie_client();
    let other_csrf = sign_in(&app, &other, &colleague.email).await;
    let html = other
        .get(app.url(&format!("/workflows/{wf_id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Only this workflow's owner"), "{html}");
    assert!(html.contains("Copy to my account"));
    assert!(!html.contains("Save workflow"));
    let r = other
        .post(app.url(&format!("/workflows/{wf_id}")))
        .form(&form(&other_csrf, "Survey_Name__c"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Copy to my account"));
    let w = app.sonde.workflow(&owner, &wf_id).await.unwrap();
    assert_eq!(w.name, "UI workflow", "unchanged");
    // Copying needs an org of the colleague's own.
    let r = other
        .post(app.url(&format!("/workflows/{wf_id}/copy")))
        .form(&[("csrf", other_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("link a Salesforce org first"));
    let (status, _) = link_via_pages(&app, &other, &other_csrf, &org).await;
    assert_eq!(status, 200);
    let r = other
        .post(app.url(&format!("/workflows/{wf_id}/copy")))
        .form(&[("csrf", other_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let copy = other
        .get(app.url(r.headers()["location"].to_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(copy.contains("UI workflow (copy)") && copy.contains("Save workflow"));

    // The sixth org is refused with the engine's message.
    for (o, user) in [
        (&org, "integration@sfsim.example"),
        (&org, "noapi@sfsim.example"),
        (&org2, "admin@sfsim.example"),
        (&org2, "integration@sfsim.example"),
    ] {
        let (status, _) = link_via_pages_as(&app, &client, &csrf, o, user).await;
        assert_eq!(status, 200);
    }
    let (status, html) = link_via_pages(&app, &client, &csrf, &org2).await;
    assert_eq!(status, 409);
    assert!(html.contains("5 Salesforce orgs"), "{html}");
    org.shutdown().await;
    org2.shutdown().await;
}
