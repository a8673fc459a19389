//! The builder end to end in headless Chromium, as a new user would go: a survey made from
//! nothing with one question of every type, a flow with the Salesforce IDs as embedded data
//! and a branch, an end message; published, answered through its link, the response seen;
//! a choice renamed, published as v2 and answered again; the responses table and the exports
//! then show each response with its own version's label. Screenshots into `/tmp/walk-*.png`.

use crate::browser::{answer_through, Browser, DESKTOP};
use crate::harness::{Backend, TestApp, PASSWORD};
use engine::Role;
use serde_json::{json, Value};
use survey::Answer;

/// Sets a form control by name and tells the page it changed (selects, hidden rows).
async fn set(b: &Browser, name: &str, value: &str) {
    let done = b
        .execute(
            "var e = document.querySelector('[name=\"' + arguments[0] + '\"]');\
             if (!e) return false; e.value = arguments[1];\
             e.dispatchEvent(new Event('change', {bubbles: true})); return true;",
            json!([name, value]),
        )
        .await;
    assert_eq!(done, json!(true), "no control named {name}");
}

/// From the builder: a new question of `kind` in the first block, filled by `fill`, saved.
async fn add_question(b: &Browser, kind: &str, text: &str) {
    b.wait_for(BUILDER).await;
    set(b, "type", kind).await;
    b.click_to_next_page("form.inline[method=get] button[type=submit]")
        .await;
    b.wait_for("name=\"save\"").await;
    b.type_into("#q-text", text).await;
}

async fn save_question(b: &Browser, text: &str) {
    b.click_to_next_page("button[name=save]").await;
    b.wait_for(BUILDER).await;
    b.wait_for(text).await;
}

/// What only the builder's own page shows (the question editor and the flow page do not).
const BUILDER: &str = "id=\"builder-status\"";

/// Clicks a submit button by its `value` (the row buttons of the builder's forms).
async fn row_button(b: &Browser, value: &str) {
    b.click_to_next_page(&format!("button[value=\"{value}\"]"))
        .await;
}

#[tokio::test]
async fn a_survey_built_from_nothing_is_published_answered_changed_and_answered_again() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (me, token) = app.org_user(Role::Editor).await;
    let Some(b) = Browser::start().await else {
        return;
    };
    b.resize(DESKTOP, 1000).await;
    b.goto(&app.url("/login")).await;
    b.type_into("#email", &me.email).await;
    b.type_into("#password", PASSWORD).await;
    b.click_to_next_page("button[type=submit]").await;
    b.wait_for("Import a Qualtrics survey").await;
    b.click_to_next_page("#new-survey").await;
    b.wait_for("Survey name").await;
    b.type_into("input[name=name]", "Walk-through").await;
    b.click_to_next_page("form[action='/surveys/new'] button[type=submit]")
        .await;
    b.wait_for("Build: Walk-through").await;

    // One question of every type, through the question editor's own fields.
    add_question(&b, "descriptive", "Welcome to the walk-through.").await;
    save_question(&b, "Welcome to the walk-through.").await;
    add_question(&b, "multiple_choice", "What do you drink?").await;
    b.type_into("input[name='choices[0].text']", "Tea").await;
    b.type_into("input[name='choices[1].text']", "Coffee").await;
    b.type_into("input[name='choices[2].text']", "Something else")
        .await;
    b.click("input[name='choices[2].other']").await;
    save_question(&b, "What do you drink?").await;
    add_question(&b, "nps", "Would you recommend the walk?").await;
    b.click("#q-required").await;
    save_question(&b, "Would you recommend the walk?").await;
    add_question(&b, "text_entry", "Your email?").await;
    set(&b, "content", "email").await;
    save_question(&b, "Your email?").await;
    add_question(&b, "text_entry", "Tell us more").await;
    b.click("input[name=multiline][value='1']").await;
    save_question(&b, "Tell us more").await;
    add_question(&b, "matrix", "The walk was").await;
    b.type_into("input[name='statements[0].text']", "Clear")
        .await;
    b.type_into("input[name='statements[1].text']", "Short")
        .await;
    save_question(&b, "The walk was").await;
    add_question(&b, "slider", "How easy?").await;
    save_question(&b, "How easy?").await;
    add_question(&b, "timing", "Time on the page").await;
    save_question(&b, "Time on the page").await;
    let def = app
        .sonde
        .survey_head(&me, &survey_id(&b).await)
        .await
        .unwrap()
        .definition;
    let nps = def
        .questions
        .iter()
        .find(|q| q.text.contains("recommend"))
        .unwrap()
        .id
        .clone();
    assert_eq!(def.questions.len(), 8);
    let id = survey_id(&b).await;

    // The flow: the Salesforce IDs from the link, the block, and a branch ending the survey
    // early for a detractor.
    b.click_to_next_page("#flow-link").await;
    b.wait_for("Add to the flow").await;
    row_button(&b, "salesforce").await;
    b.wait_for("value=\"sfAccountId\"").await;
    // The preset keeps the blocks shown (an empty flow showed them all): row 1 is the block.
    b.wait_for("name=\"r1.block_id\"").await;
    row_button(&b, "add:branch").await;
    b.wait_for("name=\"r2.cond.question\"").await;
    set(&b, "r2.cond.question", &nps).await;
    set(&b, "r2.cond.op", "less_or_equal").await;
    b.type_into("input[name='r2.cond.value']", "6").await;
    row_button(&b, "inside:end_survey:2").await;
    b.wait_for("name=\"r3.message\"").await;
    b.type_into("[name='r3.message']", "Sorry to hear it.")
        .await;
    b.screenshot_to(std::path::Path::new("/tmp/walk-flow.png"))
        .await;
    b.click_to_next_page("button[name=save]").await;
    b.wait_for("The flow was saved.").await;
    b.goto(&app.url(&format!("/surveys/{id}/builder/end-message")))
        .await;
    b.wait_for("Save end message").await;
    b.type_into("textarea[name=end_message]", "Thanks for walking through.")
        .await;
    b.click_to_next_page("form[action$='/end-message'] button[type=submit]")
        .await;
    b.wait_for(BUILDER).await;

    // Published: the survey page says v1.
    b.click_to_next_page("#builder-publish").await;
    b.wait_for("id=\"survey-status\"").await;
    let page = b.wait_for(" v1 ").await;
    assert!(page.contains("Published"), "{page}");
    b.shots_in(std::path::Path::new("/tmp"), "walk-survey")
        .await;
    let v1 = app.sonde.survey(&me, &id).await.unwrap().definition;
    assert!(
        matches!(&v1.flow[..], [survey::FlowElement::EmbeddedData { fields }, _, survey::FlowElement::Branch { .. }] if fields.len() == 3)
    );

    // Answered through its link.
    let mc = v1
        .questions
        .iter()
        .find(|q| q.text == "What do you drink?")
        .unwrap()
        .id
        .clone();
    let mut answers = sonde::bench::complete_answers(&v1);
    answers.insert(
        mc.clone(),
        Answer::Choices {
            selected: vec!["1".into()],
            text: Default::default(),
        },
    );
    b.goto(&app.url(&format!("/s/{id}?sfContactId=0035g00000BrWsRAAA")))
        .await;
    answer_through(&b, &v1, &answers, None).await;
    b.wait_for("Thanks for walking through.").await;
    b.goto(&app.url(&format!("/surveys/{id}/responses"))).await;
    let table = b.wait_for("Tea").await;
    assert!(
        table.contains("0035g00000BrWsRAAA"),
        "the link's embedded data"
    );

    // "Tea" becomes "Green tea" in the builder, published as v2, answered again.
    b.goto(&app.url(&format!("/surveys/{id}/builder/questions/{mc}")))
        .await;
    b.wait_for("name=\"save\"").await;
    b.type_into("input[name='choices[0].text']", "Green tea")
        .await;
    save_question(&b, "What do you drink?").await;
    b.wait_for("Your changes are a draft").await;
    b.click_to_next_page("#builder-publish").await;
    b.wait_for(" v2 ").await;
    let v2 = app.sonde.survey(&me, &id).await.unwrap().definition;
    b.goto(&app.url(&format!("/s/{id}?sfContactId=0035g00000LeFtAAAA")))
        .await;
    b.wait_for("Green tea").await;
    answer_through(&b, &v2, &answers, None).await;
    b.wait_for("Thanks for walking through.").await;

    // Each response with its own version's label: the table, the API, the JSON export.
    b.goto(&app.url(&format!("/surveys/{id}/responses"))).await;
    let table = b.wait_for("Green tea").await;
    for shown in [">Tea<", ">v1<", ">v2<"] {
        assert!(table.contains(shown), "{shown} in the responses table");
    }
    b.shots_in(std::path::Path::new("/tmp"), "walk-responses")
        .await;
    let listed = app
        .get_json(&token, &format!("/api/v1/surveys/{id}/responses"))
        .await;
    let tag = &v2.question(&mc).unwrap().export_tag;
    let labels: Vec<&Value> = listed["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["values"]["labels"][tag])
        .collect();
    assert_eq!(labels, [&json!("Tea"), &json!("Green tea")], "{listed}");
    let web = app.sign_in(&me.email).await;
    let (status, exported) = app
        .web_get(&web, &format!("/surveys/{id}/export.json"))
        .await;
    assert_eq!(status, 200);
    let exported: Value = serde_json::from_str(&exported).unwrap();
    let labels: Vec<&Value> = exported["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["labels"][tag])
        .collect();
    assert_eq!(labels, [&json!("Tea"), &json!("Green tea")], "{exported}");
    let versions = app
        .get_json(&token, &format!("/api/v1/surveys/{id}/versions"))
        .await;
    assert_eq!(versions["versions"][0]["number"], 2, "{versions}");
    b.quit().await;
}

/// The survey the builder shows, from its URL.
async fn survey_id(b: &Browser) -> String {
    let url = b.execute("return location.pathname;", json!([])).await;
    url.as_str()
        .unwrap()
        .strip_prefix("/surveys/")
        .and_then(|p| p.split('/').next())
        .unwrap()
        .to_string()
}
