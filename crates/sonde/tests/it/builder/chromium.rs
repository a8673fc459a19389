//! The builder in headless Chromium: two columns on a desktop and one on a phone with nothing
//! wider than the screen, the preview framed beside the editor, Move down, drag and drop of
//! questions and of choice rows, the piped-text picker inserting at the cursor, a refused
//! save; whole-page screenshots into `/tmp/builder-*.png`.

use super::{definition, order};
use crate::browser::{Browser, DESKTOP, PHONE};
use crate::harness::{Backend, TestApp, PASSWORD};
use engine::Role;
use serde_json::json;

#[tokio::test]
async fn the_builder_and_the_question_editor_fit_a_desktop_and_a_phone() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (me, token) = app.org_user(Role::Editor).await;
    let id = app.sample_survey(&token).await;
    let Some(b) = Browser::start().await else {
        return;
    };
    b.resize(DESKTOP, 900).await;
    b.goto(&app.url("/login")).await;
    b.type_into("#email", &me.email).await;
    b.type_into("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_for("Import a Qualtrics survey").await;
    b.goto(&app.url(&format!("/surveys/{id}"))).await;
    b.click("#builder-link").await;
    b.wait_for("Build: ").await;
    // The preview loads inside the builder (the frame is allowed, and is the survey).
    let mut framed = String::new();
    for _ in 0..100 {
        framed = b
            .execute(
                "var d = document.getElementById('preview-frame').contentDocument; return d && d.body ? d.body.innerText : '';",
                json!([]),
            )
            .await
            .as_str()
            .unwrap_or_default()
            .to_string();
        if framed.contains("nothing is recorded") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(framed.contains("nothing is recorded"), "{framed}");
    // Two columns on a desktop, one on a phone.
    let columns = "return getComputedStyle(document.querySelector('.builder-cols')).gridTemplateColumns.split(' ').length;";
    assert_eq!(b.execute(columns, json!([])).await, json!(2));
    b.resize(PHONE, 900).await;
    assert_eq!(b.execute(columns, json!([])).await, json!(1));
    let overflow =
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;";
    assert_eq!(
        b.execute(overflow, json!([])).await,
        json!(0),
        "nothing wider than a phone"
    );
    // Whole pages at both widths: /tmp/builder-desktop.png, /tmp/builder-phone.png, …
    let tmp = std::path::Path::new("/tmp");
    b.shots_in(tmp, "builder").await;

    // Move down with the keyboard's button, then the question editor.
    b.resize(DESKTOP, 900).await;
    b.click("#q-QID1 button[aria-label='Move down: Intro']")
        .await;
    // The click's form post lands a moment later: wait for the survey to change.
    let mut moved = Vec::new();
    for _ in 0..100 {
        moved = order(&definition(&app, &me, &id).await, 0);
        if moved[0] == "QID3" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(moved[..2], ["QID3", "QID1"]);
    b.wait_for("id=\"q-QID1\"").await;
    // Dragging CSAT onto the top half of the first question moves it there, through the
    // same form post (the script's drop fills and submits it).
    b.execute(
        "var from = document.getElementById('q-QID4'), to = document.getElementById('q-QID3');\
         var dt = new DataTransfer(), r = to.getBoundingClientRect();\
         from.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: dt}));\
         var at = {bubbles: true, cancelable: true, dataTransfer: dt, clientY: r.top + 2};\
         to.dispatchEvent(new DragEvent('dragover', at));\
         to.dispatchEvent(new DragEvent('drop', at));",
        json!([]),
    )
    .await;
    for _ in 0..100 {
        moved = order(&definition(&app, &me, &id).await, 0);
        if moved[0] == "QID4" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(moved[..3], ["QID4", "QID3", "QID1"], "dropped before QID3");
    b.wait_for("id=\"q-QID4\"").await;
    b.goto(&app.url(&format!("/surveys/{id}/builder/questions/QID4")))
        .await;
    b.wait_for("Edit question CSAT").await;
    // The piped-text picker inserts at the cursor.
    b.execute(
        "var t = document.getElementById('q-text'); t.value = 'AB'; t.setSelectionRange(1, 1);\
         var s = document.getElementById('q-text-pipe'); s.value = s.options[1].value;\
         s.dispatchEvent(new Event('change'));",
        json!([]),
    )
    .await;
    // A choice dragged below the third is renumbered, so the form posts the new order.
    b.execute(
        "var rows = document.querySelectorAll('ol.row-list[data-rows=choices] > li');\
         var dt = new DataTransfer(), r = rows[2].getBoundingClientRect();\
         rows[0].querySelector('.drag-handle').dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: dt}));\
         rows[2].dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: dt, clientY: r.bottom - 2}));\
         rows[0].querySelector('.drag-handle').dispatchEvent(new DragEvent('dragend', {bubbles: true, dataTransfer: dt}));",
        json!([]),
    )
    .await;
    let third = b
        .execute(
            "var i = document.querySelector('input[name=\"choices[2].text\"]'); return i ? i.value : '';",
            json!([]),
        )
        .await;
    assert_eq!(
        third,
        json!("Very satisfied"),
        "the first choice is now third"
    );
    let text = b.property("#q-text", "value").await;
    assert!(
        text.as_str().unwrap().starts_with("A${"),
        "inserted at the cursor: {text}"
    );
    b.resize(PHONE, 900).await;
    assert_eq!(b.execute(overflow, json!([])).await, json!(0));
    b.shots_in(tmp, "builder-question").await;
    // A blank choice saved: the form comes back with the problem beside that row.
    b.execute(
        "document.querySelector('input[name=\"choices[1].text\"]').value = '';",
        json!([]),
    )
    .await;
    b.click("button[name=save]").await;
    b.wait_for("is blank").await;
    b.shots_in(tmp, "builder-question-refused").await;
    b.resize(768, 1000).await;
    assert_eq!(b.execute(overflow, json!([])).await, json!(0));
    b.goto(&app.url(&format!("/surveys/{id}/builder/flow")))
        .await;
    b.wait_for("Survey flow").await;
    assert_eq!(b.execute(overflow, json!([])).await, json!(0));
    b.shots_in(tmp, "builder-flow").await;
    b.quit().await;
}
