//! Opt-out sync and survey bundles in the admin UI, in headless Chromium: the organization's
//! switch and fields on the Salesforce page (a bad field name refused beside it, what was
//! typed kept), a survey's override on its workflows page, and a survey exported with its
//! workflows and read back through the surveys page's import form.

use crate::browser::Browser;
use crate::harness::{cookie_client, Backend, TestApp, PASSWORD};
use engine::Role;
use serde_json::{json, Value};

#[tokio::test]
async fn opt_out_sync_and_a_bundle_round_trip_through_the_admin_ui_in_chromium() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (me, token) = app.org_user(Role::Admin).await;
    let survey_id = app.sample_survey(&token).await;
    let (sf, connection) = crate::harness::linked_org(&app, &token).await;
    let r = app
        .post(&token, &format!("/api/v1/surveys/{survey_id}/workflows"))
        .json(
            &json!({"name": "Case closed", "event": "salesforce_message",
                      "connectionId": connection, "object": "Case",
                      "tasks": [{"type": "directory", "action": "upsert_contact",
                                 "fields": {"email": {"piped": "${sf://ContactEmail}"}}}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    b.goto(&app.url("/login")).await;
    b.type_into("#email", &me.email).await;
    b.type_into("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_for("Import a Qualtrics survey").await;

    // The organization's switch: a field name that cannot be one is refused beside it.
    b.goto(&app.url("/salesforce")).await;
    b.wait_for("id=\"opt-out-sync\"").await;
    b.type_into("#oos-sms", "SMS opt out").await;
    b.click("#oos-save").await;
    let refused = b.wait_for("is not a Salesforce field name").await;
    assert!(refused.contains("value=\"SMS opt out\""), "kept: {refused}");
    b.shots("oos-refused").await;
    b.type_into("#oos-sms", "SMS_Opt_Out__c").await;
    b.click("#oos-save").await;
    b.wait_for("value=\"SMS_Opt_Out__c\"").await;
    b.shots("oos-saved").await;
    let sync = app
        .get_json(&token, "/api/v1/salesforce/opt-out-sync")
        .await;
    assert_eq!(
        sync,
        json!({"enabled": true, "emailField": "HasOptedOutOfEmail", "smsField": "SMS_Opt_Out__c"})
    );

    // The survey's own setting.
    b.goto(&app.url(&format!("/surveys/{survey_id}/workflows")))
        .await;
    b.wait_for("id=\"survey-opt-out-sync\"").await;
    b.click("#soos-off").await;
    b.click("#soos-save").await;
    let page = b.wait_for("this survey's own setting").await;
    assert!(
        page.contains("opt-out sync is <strong>off</strong>"),
        "{page}"
    );
    b.shots("oos-survey").await;
    let own = app
        .get_json(&token, &format!("/api/v1/surveys/{survey_id}/opt-out-sync"))
        .await;
    assert_eq!(own, json!({"enabled": false}));

    // Exported with its workflows (the link on the workflows page), imported as a new survey.
    let href = b.attribute("#export-bundle", "href").await;
    let client = cookie_client();
    app.sign_in_web(&client, &me.email, PASSWORD).await;
    let r = client.get(app.url(&href)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("bundle.json"));
    let bundle: Value = r.json().await.unwrap();
    assert_eq!(bundle["format"], "sonde.survey-bundle/1", "{bundle}");
    let file = std::env::temp_dir().join(format!("sonde-bundle-{}.json", std::process::id()));
    std::fs::write(&file, bundle.to_string()).unwrap();
    b.goto(&app.url("/surveys")).await;
    b.wait_for("id=\"bundle-org\"").await;
    b.choose_file("#qsf", &file).await;
    b.click("form[action='/surveys/import'] button[type=submit]")
        .await;
    let imported = b.wait_for("Case closed").await;
    assert!(
        imported.contains("id=\"survey-opt-out-sync\""),
        "{imported}"
    );
    assert!(
        imported.contains("opt-out sync is <strong>off</strong>"),
        "the override came along: {imported}"
    );
    b.shots("bundle-imported").await;
    let surveys = app.get_json(&token, "/api/v1/surveys").await;
    assert_eq!(surveys["surveys"].as_array().unwrap().len(), 2, "{surveys}");

    // A file that says it is a bundle of another format is refused as a bundle.
    std::fs::write(&file, r#"{"format": "sonde.survey-bundle/9"}"#).unwrap();
    b.goto(&app.url("/surveys")).await;
    b.choose_file("#qsf", &file).await;
    b.click("form[action='/surveys/import'] button[type=submit]")
        .await;
    b.wait_for("this Sonde reads sonde.survey-bundle/1").await;
    let _ = std::fs::remove_file(&file);
    b.quit().await;
    sf.shutdown().await;
}
