//! What a newcomer meets with linked orgs: the check that tells a user without API access
//! what Salesforce said, relinking that revives the same connection (and its workflows), one
//! labelled connection per org and user, and workflows checked against their survey.

use crate::harness::cookie_client;
use crate::harness::{
    backends, connections_of, link_org_as, shared_app_settings, start_shared_app_org, Backend,
    TestApp,
};
use crate::workflow_ui::sign_in;
use crate::workflows::{create_workflow, fixture, mapping, submit};
use engine::Role;
use serde_json::{json, Value};

const ADMIN: &str = "admin@sfsim.example";
const INTEGRATION: &str = "integration@sfsim.example";
const NOAPI: &str = "noapi@sfsim.example";

fn custom(org: &sfsim::RunningOrg) -> Value {
    json!({"environment": "custom", "loginUrl": org.login_url()})
}

/// Links `org` as `username` and returns the connection the callback landed on.
async fn link(app: &TestApp, token: &str, org: &sfsim::RunningOrg, username: &str) -> Value {
    let (status, page) = link_org_as(app, token, org, username, custom(org)).await;
    assert_eq!(status, 200, "{page}");
    connections_of(app, token)
        .await
        .into_iter()
        .find(|c| c["username"] == username && c["salesforceOrgId"] == org.org_id().as_str())
        .unwrap_or_else(|| panic!("no connection for {username} after: {page}"))
}

fn problems(v: &Value) -> Vec<(String, String)> {
    v["error"]["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems in {v}"))
        .iter()
        .map(|p| {
            (
                p["field"].as_str().unwrap().to_string(),
                p["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn check_reports_no_api_access_for_a_user_whose_api_is_disabled() {
    for backend in backends() {
        let org = start_shared_app_org().await;
        let app = TestApp::spawn(backend).await;
        app.sonde.configure_salesforce(shared_app_settings(&[&org]));
        let (owner, token) = app.org_user(Role::Editor).await;
        let noapi = link(&app, &token, &org, NOAPI).await;
        let admin = link(&app, &token, &org, ADMIN).await;

        let check = app
            .get_json(
                &token,
                &format!(
                    "/api/v1/salesforce/connections/{}/check",
                    noapi["id"].as_str().unwrap()
                ),
            )
            .await;
        assert_eq!(check["apiAccess"], false, "{backend:?}: {check}");
        assert_eq!(check["ok"], false, "{check}");
        assert_eq!(check["errorCode"], "API_CURRENTLY_DISABLED", "{check}");
        assert!(
            check["message"]
                .as_str()
                .unwrap_or_default()
                .contains("The REST API is not enabled for this Organization."),
            "Salesforce's own words: {check}"
        );
        // The admin of the same org passes, so the check is not simply pessimistic.
        let check = app
            .get_json(
                &token,
                &format!(
                    "/api/v1/salesforce/connections/{}/check",
                    admin["id"].as_str().unwrap()
                ),
            )
            .await;
        assert_eq!(check["apiAccess"], true, "{check}");

        // The page says the same.
        let client = cookie_client();
        sign_in(&app, &client, &owner.email).await;
        let html = client
            .get(app.url(&format!(
                "/salesforce/{}/check",
                noapi["id"].as_str().unwrap()
            )))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("No API access"), "{html}");
        assert!(
            html.contains("The REST API is not enabled for this Organization."),
            "{html}"
        );
        assert!(!html.contains("API access: yes"), "{html}");
        org.shutdown().await;
    }
}

#[tokio::test]
async fn relinking_the_same_user_revives_the_connection_and_retried_runs_succeed() {
    for backend in backends() {
        let org = start_shared_app_org().await;
        let app = TestApp::spawn(backend).await;
        app.sonde.configure_salesforce(shared_app_settings(&[&org]));
        let (_, token) = app.org_user(Role::Editor).await;
        let survey = app.sample_survey(&token).await;
        let conn = link(&app, &token, &org, ADMIN).await;
        let conn_id = conn["id"].as_str().unwrap().to_string();
        let fx = fixture(&org).await;
        let label = format!("relink-{backend:?}");
        let wf = create_workflow(
            &app,
            &token,
            &survey,
            &mapping(&conn_id, &fx.nps_record_type, &label),
        )
        .await;
        let wf_id = wf["id"].as_str().unwrap();

        // Disconnecting names the enabled workflows that write through the link.
        let r = app
            .client
            .delete(app.url(&format!("/api/v1/salesforce/connections/{conn_id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body = r.text().await.unwrap();
        assert_eq!(status, 200, "{backend:?}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["connection"]["status"], "revoked", "{v}");
        assert_eq!(v["enabledWorkflows"][0]["id"], wf_id, "{v}");
        assert_eq!(v["enabledWorkflows"][0]["name"], wf["name"], "{v}");

        let expected = submit(&app, &token, &survey, &fx, 1).await;
        let r = app.sonde.drain_workflows().await.unwrap();
        assert_eq!(r.failed, 1, "{r:?}");
        let runs = app
            .get_json(
                &token,
                &format!("/api/v1/workflows/{wf_id}/runs?status=failed"),
            )
            .await;
        let run_id = runs["runs"][0]["id"].as_str().unwrap().to_string();

        // "Relink, then retry" as a newcomer does it: link the org again, as the same user.
        let (status, page) = link_org_as(&app, &token, &org, ADMIN, custom(&org)).await;
        assert_eq!(status, 200, "{page}");
        let list = connections_of(&app, &token).await;
        assert_eq!(list.len(), 1, "one connection, not a new one: {list:?}");
        assert_eq!(
            list[0]["id"],
            conn_id.as_str(),
            "the same connection: {list:?}"
        );
        assert_eq!(list[0]["status"], "active");
        let r = app
            .post(
                &token,
                &format!("/api/v1/workflows/{wf_id}/runs/{run_id}/retry"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let r = app.sonde.drain_workflows().await.unwrap();
        assert_eq!(r.succeeded, 1, "{backend:?}: {r:?}");
        crate::workflows::assert_delivered(&org, &label, &fx.nps_record_type, &expected).await;

        // Reconnecting a link as someone else is refused: its workflows would write as them.
        let (status, page) = link_org_as(
            &app,
            &token,
            &org,
            INTEGRATION,
            json!({"connectionId": conn_id}),
        )
        .await;
        assert_eq!(status, 400, "{page}");
        assert!(page.contains(ADMIN), "names who it is for: {page}");
        let list = connections_of(&app, &token).await;
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0]["username"], ADMIN);
        org.shutdown().await;
    }
}

#[tokio::test]
async fn the_ui_names_the_workflows_before_disconnecting_and_relinking_revives_them() {
    let org = start_shared_app_org().await;
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.sonde.configure_salesforce(shared_app_settings(&[&org]));
    let (owner, token) = app.org_user(Role::Editor).await;
    let survey = app.sample_survey(&token).await;
    let conn = link(&app, &token, &org, ADMIN).await;
    let conn_id = conn["id"].as_str().unwrap().to_string();
    let fx = fixture(&org).await;
    create_workflow(
        &app,
        &token,
        &survey,
        &mapping(&conn_id, &fx.nps_record_type, "ui-relink"),
    )
    .await;
    let client = cookie_client();
    let csrf = sign_in(&app, &client, &owner.email).await;

    // Disconnect first asks, naming the enabled workflow; nothing is disconnected yet.
    let r = client
        .post(app.url(&format!("/salesforce/{conn_id}/disconnect")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Responses into Salesforce"), "{html}");
    assert!(html.contains("name=\"confirm\""), "{html}");
    assert_eq!(connections_of(&app, &token).await[0]["status"], "active");
    let r = client
        .post(app.url(&format!("/salesforce/{conn_id}/disconnect")))
        .form(&[("csrf", csrf.as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Disconnected"), "{html}");
    assert!(html.contains("Responses into Salesforce"), "{html}");
    assert!(connections_of(&app, &token).await.is_empty());

    // Linking again as the same user lands on the same connection.
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
    let back = sonde::bench::mapping::allow_on_authorize_page(
        &client,
        &authorize,
        org.login_url(),
        ADMIN,
        org.password(),
    )
    .await
    .unwrap();
    let r = client.get(&back).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.contains(&format!("linked={conn_id}")), "{to}");
    let html = client
        .get(app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Relinked"), "{html}");
    assert_eq!(connections_of(&app, &token).await[0]["status"], "active");
    org.shutdown().await;
}

#[tokio::test]
async fn one_org_and_user_is_one_labelled_connection_wherever_it_is_picked() {
    for backend in backends() {
        let org = start_shared_app_org().await;
        let other_org = start_shared_app_org().await;
        let app = TestApp::spawn(backend).await;
        app.sonde
            .configure_salesforce(shared_app_settings(&[&org, &other_org]));
        let (owner, token) = app.org_user(Role::Editor).await;
        let first = link(&app, &token, &org, ADMIN).await;
        let again = link(&app, &token, &org, ADMIN).await;
        assert_eq!(first["id"], again["id"], "{backend:?}");
        assert_eq!(connections_of(&app, &token).await.len(), 1, "one slot used");
        assert_eq!(again["orgName"], "Sfsim Demo Co", "{again}");
        assert_eq!(again["orgEnvironment"], "production", "{again}");
        assert_eq!(
            again["label"], "Sfsim Demo Co · production · admin@sfsim.example",
            "{again}"
        );
        // Another user of the same org, and the same user of another org, are other links.
        link(&app, &token, &org, INTEGRATION).await;
        link(&app, &token, &other_org, ADMIN).await;
        let list = connections_of(&app, &token).await;
        assert_eq!(list.len(), 3, "{list:?}");

        // The list and the workflow editor's picker show the labels.
        let client = cookie_client();
        let csrf = sign_in(&app, &client, &owner.email).await;
        let page = client
            .get(app.url("/salesforce"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Linked orgs (3 of 5)"), "{page}");
        assert!(
            page.contains("Sfsim Demo Co · production · integration@sfsim.example"),
            "{page}"
        );
        let survey = app.sample_survey(&token).await;
        // A new workflow has no task; the org picker comes with the first Salesforce task.
        let editor = client
            .post(app.url(&format!("/surveys/{survey}/workflows/new")))
            .form(&[("csrf", csrf.as_str()), ("action", "add_salesforce")])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for c in &list {
            let option = format!(
                "<option value=\"{}\"{}>{}</option>",
                c["id"].as_str().unwrap(),
                if editor.contains(&format!(
                    "<option value=\"{}\" selected",
                    c["id"].as_str().unwrap()
                )) {
                    " selected"
                } else {
                    ""
                },
                c["label"].as_str().unwrap()
            );
            assert!(editor.contains(&option), "{option} in {editor}");
        }
        org.shutdown().await;
        other_org.shutdown().await;
    }
}

/// A second survey whose only question is one the sample survey lacks.
async fn other_survey(app: &TestApp, token: &str) -> String {
    let def = json!({
        "name": "Other",
        "blocks": [{"id": "BL_1", "elements": [{"type": "question", "id": "QID42"}]}],
        "questions": [{"id": "QID42", "export_tag": "Q42", "text": "Score?", "type": "nps"}]
    });
    let r = app
        .post(token, "/api/v1/surveys")
        .json(&def)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn workflows_naming_what_the_survey_does_not_have_are_refused_with_the_path() {
    for backend in backends() {
        let org = start_shared_app_org().await;
        let app = TestApp::spawn(backend).await;
        app.sonde.configure_salesforce(shared_app_settings(&[&org]));
        let (owner, token) = app.org_user(Role::Editor).await;
        let survey = app.sample_survey(&token).await;
        // QID42 is a question, of another survey.
        other_survey(&app, &token).await;
        let conn = link(&app, &token, &org, ADMIN).await;
        let conn_id = conn["id"].as_str().unwrap().to_string();
        let fx = fixture(&org).await;
        let save = |body: Value| {
            let (app, survey) = (&app, &survey);
            let token = token.clone();
            async move {
                let r = app
                    .post(&token, &format!("/api/v1/surveys/{survey}/workflows"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            }
        };
        let with_field = |field: &str, piped: &str| {
            let mut body = mapping(&conn_id, &fx.nps_record_type, "survey-check");
            body["tasks"][0]["fields"][field] = json!({ "piped": piped });
            body
        };
        let refused = [
            (
                with_field("NPS_Score__c", "${q://QID999/ChoiceTextEntryValue}"),
                "tasks[0].fields.NPS_Score__c",
                "QID999 is not a question of this survey",
            ),
            (
                with_field("NPS_Score__c", "${q://QID42/ChoiceTextEntryValue}"),
                "tasks[0].fields.NPS_Score__c",
                "QID42 is not a question of this survey",
            ),
            (
                with_field("Contact__c", "${e://Field/sfPersonId}"),
                "tasks[0].fields.Contact__c",
                "embedded data field sfPersonId is not declared in the survey flow",
            ),
            (
                // The matrix's scale labels ("Agree") are not numbers.
                with_field("NPS_Score__c", "${q://QID6/ChoiceGroup/SelectedAnswers/1}"),
                "tasks[0].fields.NPS_Score__c",
                "NPS_Score__c is a number field",
            ),
            (
                // A matrix has no selected choices: this renders nothing.
                with_field("NPS_Score__c", "${q://QID6/ChoiceGroup/SelectedChoices}"),
                "tasks[0].fields.NPS_Score__c",
                "QID6 is a matrix question",
            ),
            (
                with_field("Comments__c", "${q://QID6/ChoiceGroup/SelectedAnswers/9}"),
                "tasks[0].fields.Comments__c",
                "QID6 has no statement 9",
            ),
        ];
        for (body, field, message) in refused {
            let (status, v) = save(body).await;
            assert_eq!(status, 400, "{backend:?} {field}: {v}");
            let found = problems(&v);
            assert!(
                found.iter().any(|(f, m)| f == field && m.contains(message)),
                "{field}: {message} not in {found:?}"
            );
        }
        // Conditions likewise.
        let mut body = mapping(&conn_id, &fx.nps_record_type, "survey-check");
        body["conditions"] = json!({"type": "all", "conditions": [
            {"type": "embedded_data", "field": "sfAccountId", "op": "is_not_empty"},
            {"type": "answer", "question": "QID999", "op": "equals", "value": "1"},
            {"type": "embedded_data", "field": "sfRegion", "op": "equals", "value": "EU"},
            {"type": "answer", "question": "QID4", "op": "selected", "value": "Maybe"}
        ]});
        let (status, v) = save(body).await;
        assert_eq!(status, 400, "{v}");
        let found = problems(&v);
        for (field, message) in [
            (
                "conditions.conditions[1].question",
                "QID999 is not a question of this survey",
            ),
            (
                "conditions.conditions[2].field",
                "embedded data field sfRegion is not declared",
            ),
            ("conditions.conditions[3].value", "QID4 has no choice Maybe"),
        ] {
            assert!(
                found.iter().any(|(f, m)| f == field && m.contains(message)),
                "{field}: {message} not in {found:?}"
            );
        }
        assert_eq!(
            found.len(),
            3,
            "the good condition is not blamed: {found:?}"
        );

        // What the survey does answer, in a type the field takes, is accepted.
        let mut good = mapping(&conn_id, &fx.nps_record_type, "survey-check");
        good["tasks"][0]["fields"]["CSAT_Score__c"] =
            json!({"piped": "${q://QID6/SelectedAnswerRecode/1}"});
        good["tasks"][0]["fields"]["Comments__c"] = json!({"piped": "${q://QID6/ChoiceGroup/SelectedAnswers/1}: ${q://QID9/ChoiceTextEntryValue}"});
        let (status, v) = save(good).await;
        assert_eq!(status, 201, "{v}");

        // The editor refuses the same way, naming the field.
        let client = cookie_client();
        let csrf = sign_in(&app, &client, &owner.email).await;
        let form = vec![
            ("csrf", csrf.as_str()),
            ("action", "save"),
            ("name", "UI survey check"),
            ("event", "response_created"),
            ("enabled", "on"),
            ("match", "all"),
            ("c0_subject", ""),
            ("c0_op", ""),
            ("c0_value", ""),
            ("t0_kind", "salesforce"),
            ("t0_connection", conn_id.as_str()),
            ("t0_operation", "create"),
            ("t0_object", "Survey_Response__c"),
            ("t0_record_type", ""),
            ("t0_external_id", ""),
            ("t0_record_id", ""),
            ("t0_m0_field", "Account__c"),
            ("t0_m0_kind", "piped"),
            ("t0_m0_text", "${e://Field/sfAccountId}"),
            ("t0_m0_pick", ""),
            ("t0_m1_field", "NPS_Score__c"),
            ("t0_m1_kind", "piped"),
            ("t0_m1_text", "${q://QID999/ChoiceTextEntryValue}"),
            ("t0_m1_pick", ""),
        ];
        let r = client
            .post(app.url(&format!("/surveys/{survey}/workflows/new")))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("QID999 is not a question of this survey"),
            "{html}"
        );
        org.shutdown().await;
    }
}

#[tokio::test]
async fn labels_the_no_api_check_and_the_disconnect_confirmation_in_chromium() {
    let Some(b) = crate::browser::Browser::start().await else {
        return;
    };
    let org = start_shared_app_org().await;
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.sonde.configure_salesforce(shared_app_settings(&[&org]));
    let (me, token) = app.org_user(Role::Editor).await;
    let survey = app.sample_survey(&token).await;
    let admin = link(&app, &token, &org, ADMIN).await;
    let noapi = link(&app, &token, &org, NOAPI).await;
    let (admin_id, noapi_id) = (admin["id"].as_str().unwrap(), noapi["id"].as_str().unwrap());
    let fx = fixture(&org).await;
    create_workflow(
        &app,
        &token,
        &survey,
        &mapping(admin_id, &fx.nps_record_type, "chromium"),
    )
    .await;

    b.goto(&app.url("/login")).await;
    b.type_into("#email", &me.email).await;
    b.type_into("#password", "correct horse battery").await;
    b.click("button[type=submit]").await;
    b.wait_for("Import a Qualtrics survey").await;

    b.goto(&app.url("/salesforce")).await;
    let list = b.wait_for("Linked orgs (2 of 5)").await;
    assert!(
        list.contains("Sfsim Demo Co · production · admin@sfsim.example"),
        "{list}"
    );
    b.screenshot("linked-orgs-labels").await;

    b.click(&format!("a[href='/salesforce/{noapi_id}/check']"))
        .await;
    let check = b.wait_for("check-report").await;
    assert!(check.contains("No API access"), "{check}");
    assert!(check.contains("The REST API is not enabled for this Organization."));
    b.screenshot("linked-orgs-check-no-api").await;

    b.click(&format!("a[href='/salesforce/{admin_id}/disconnect']"))
        .await;
    let confirm = b.wait_for("Keep it linked").await;
    assert!(confirm.contains("Responses into Salesforce"), "{confirm}");
    b.screenshot("linked-orgs-disconnect-confirm").await;
    b.click("#disconnect-submit").await;
    let done = b.wait_for("Disconnected ").await;
    assert!(done.contains("Responses into Salesforce"), "{done}");
    assert!(done.contains("Linked orgs (1 of 5)"), "{done}");
    b.screenshot("linked-orgs-disconnected").await;
    b.quit().await;
    org.shutdown().await;
}
