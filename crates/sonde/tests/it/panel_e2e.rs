//! The whole panel in Chromium, through the built-in org's Lightning look-alike: a Contact's
//! page hosts the panel, the survey is sent from its Send tab, the SMTP server receives the
//! invitation, the respondent answers it, and the response shows on the Contact's panel and in
//! its Account's dashboard widget.

use crate::browser::Browser;
use crate::canvas_pages::{enter_panel_frame, leave_frame, viewport, wait_for_value};
use crate::distributions::catcher::Catcher;
use crate::distributions::survey_link;
use crate::harness::{cookie_client, linked_org, sfsim_admin, Backend, TestApp, PASSWORD};
use engine::Role;
use serde_json::json;
use std::time::Duration;

/// An NPS question, and the record fields the panel's invitations carry.
const NPS_SURVEY: &str = r#"{
  "name": "Kettle NPS",
  "flow": [
    {"type": "embedded_data", "fields": [
      {"name": "sfContactId", "value": {"from": "url"}},
      {"name": "sfAccountId", "value": {"from": "url"}}]},
    {"type": "block", "block_id": "BL_1"}],
  "blocks": [{"id": "BL_1", "elements": [{"type": "question", "id": "QID1"}]}],
  "questions": [{"id": "QID1", "export_tag": "NPS", "type": "nps", "required": true,
                 "text": "How likely are you to recommend our kettles?"}],
  "end_message": "Thank you."
}"#;

/// The panel's page in the frame, once its heading is there: its HTML.
async fn panel_html(b: &Browser, heading: &str) -> String {
    let script = format!(
        "var h = document.querySelector('h1'); return h && h.textContent.indexOf({heading:?}) >= 0 ? document.body.innerHTML : null;"
    );
    wait_for_value(b, &script)
        .await
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_survey_sent_from_a_contacts_page_is_answered_and_shows_on_the_contact_and_its_account() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let Some(catcher) = Catcher::start(&[], &[]) else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.sonde.set_mailer(Some(catcher.mailer()));
    let (admin, token) = app.org_user(Role::Admin).await;
    let (sf, _) = linked_org(&app, &token).await;
    sf.set_canvas_url(Some(&app.url("/panel"))).unwrap();
    let email = sf.user_email(None).unwrap();
    app.sonde
        .add_user(Some(&admin.org_id), &email, Role::Admin, PASSWORD)
        .await
        .unwrap();
    let definition: survey::SurveyDefinition = serde_json::from_str(NPS_SURVEY).unwrap();
    let survey = app.create_survey(&token, &definition).await;
    let org = sfsim_admin(&sf);
    let account = org
        .create("Account", &json!({"Name": "Kettle Co"}))
        .await
        .unwrap();
    let contact = org
        .create(
            "Contact",
            &json!({"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@kettle.example", "AccountId": account}),
        )
        .await
        .unwrap();
    let shots = std::path::Path::new("/tmp/shots");
    std::fs::create_dir_all(shots).unwrap();

    // The Contact's page: the panel in its frame, the Send tab, the survey sent.
    viewport(&b, 1280, 900).await;
    b.goto(&sf.record_page_url("Contact", &contact)).await;
    b.wait_for("sonde-panel").await;
    enter_panel_frame(&b).await;
    panel_html(&b, "Survey responses").await;
    b.click("nav.tabs a[href^='/panel/send']").await;
    panel_html(&b, "Send a survey").await;
    b.execute(
        "document.querySelector('select[name=survey_id]').value = arguments[0]; return true;",
        json!([survey]),
    )
    .await;
    b.click("button[value=send]").await;
    let sent = panel_html(&b, "Send a survey").await;
    let sent = if sent.contains("panel-sent") {
        sent
    } else {
        wait_for_value(
            &b,
            "var s = document.getElementById('panel-sent'); return s ? document.body.innerHTML : null;",
        )
        .await
        .as_str()
        .unwrap()
        .to_string()
    };
    assert!(sent.contains("data-count=\"in-list\">1<"), "{sent}");
    leave_frame(&b).await;
    b.screenshot_to(&shots.join("panel-sent-desktop.png")).await;
    viewport(&b, 390, 844).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    b.screenshot_to(&shots.join("panel-sent-phone.png")).await;
    viewport(&b, 1280, 900).await;

    // The queue's workers (a server's own run them) send it; the SMTP server receives the
    // invitation; Ada answers it.
    app.sonde.drain_distributions().await.unwrap();
    let mail = catcher.wait_for(1).await;
    assert_eq!(mail[0].to(), "ada@kettle.example");
    let link = survey_link(&mail[0].parsed());
    let respondent = cookie_client();
    let page = respondent
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("recommend our kettles"), "{page}");
    let mut form = sonde::bench::mapping::hidden_inputs(&page);
    form.push(("QID1".into(), "9".into()));
    let action = link.split('?').next().unwrap();
    let end = respondent.post(action).form(&form).send().await.unwrap();
    assert_eq!(end.status(), 200);
    assert!(end.text().await.unwrap().contains("Thank you."));

    // The Contact's panel lists the response; the Account's dashboard widget counts it.
    b.goto(&sf.record_page_url("Contact", &contact)).await;
    b.wait_for("sonde-panel").await;
    enter_panel_frame(&b).await;
    let listed = panel_html(&b, "Survey responses").await;
    assert!(
        listed.contains("Kettle NPS") && listed.contains("/panel/responses/R_"),
        "{listed}"
    );
    leave_frame(&b).await;
    b.screenshot_to(&shots.join("panel-contact-responses-desktop.png"))
        .await;
    b.goto(&sf.record_page_url("Account", &account)).await;
    b.wait_for("sonde-panel").await;
    enter_panel_frame(&b).await;
    panel_html(&b, "Survey responses").await;
    b.click("nav.tabs a[href^='/panel/dashboard']").await;
    let widget = panel_html(&b, "Dashboard").await;
    assert!(widget.contains("Kettle NPS"), "{widget}");
    // One answer of 9, a promoter: NPS +100.
    assert!(widget.contains("id=\"widget-nps\">+100.0<"), "{widget}");
    assert!(widget.contains("id=\"widget-responses\">1<"), "{widget}");
    leave_frame(&b).await;
    for (width, height, kind) in [(1280, 900, "desktop"), (390, 844, "phone")] {
        viewport(&b, width, height).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        b.screenshot_to(&shots.join(format!("panel-account-dashboard-{kind}.png")))
            .await;
    }
    b.quit().await;
}
