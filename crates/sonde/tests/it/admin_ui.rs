//! The admin UI as a new user meets it, in headless Chromium: the workflow editor (no empty task,
//! errors in the screen's words, piped text and picklists, wide enough columns, field order),
//! responses (labels, every column, one response, filters, local times) and the messages of
//! imports and unknown links. Every page these change is saved at desktop and phone width to
//! `/work/shots/admin-ui/`.

use crate::browser::{Browser, DESKTOP, PHONE};
use crate::harness::{self, Backend, TestApp, PASSWORD};
use engine::Role;
use serde_json::{json, Value};
use store::responses::ResponseStatus;
use survey::{Answer, ResponseData};

const SHOTS: &str = "/work/shots/admin-ui";

/// Whole-page screenshots at desktop and phone width into [`SHOTS`].
async fn shots(b: &Browser, name: &str) {
    b.shots_in(std::path::Path::new(SHOTS), name).await;
}

/// A browser at desktop width, signed in as `email`.
async fn signed_in(app: &TestApp, email: &str) -> Option<Browser> {
    let b = Browser::start().await?;
    b.resize(DESKTOP, 900).await;
    b.goto(&app.url("/login")).await;
    b.type_into("#email", email).await;
    b.type_into("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_for("Import a Qualtrics survey").await;
    Some(b)
}

async fn choose(b: &Browser, select: &str, value: &str) {
    b.click(&format!("{select} option[value='{value}']")).await;
}

/// The index of the editor's last task (the one an "Add … task" button just added).
async fn last_task(b: &Browser) -> usize {
    let n = b
        .execute(
            "return document.querySelectorAll('fieldset.task').length;",
            json!([]),
        )
        .await
        .as_u64()
        .unwrap();
    assert!(n > 0, "the editor shows a task");
    n as usize - 1
}

async fn add_task(b: &Browser, kind: &str) -> usize {
    let before = b
        .execute(
            "return document.querySelectorAll('fieldset.task').length;",
            json!([]),
        )
        .await
        .as_u64()
        .unwrap();
    b.click(&format!("button[value=add_{kind}]")).await;
    b.wait_for(&format!("id=\"task-{before}\"")).await;
    last_task(b).await
}

// ---------------------------------------------------------------- the workflow editor

#[tokio::test]
async fn a_new_workflow_starts_without_a_task_and_saves_once_one_is_added() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (me, token) = app.org_user(Role::Editor).await;
    let survey = app.sample_survey(&token).await;
    let Some(b) = signed_in(&app, &me.email).await else {
        return;
    };
    b.goto(&app.url(&format!("/surveys/{survey}/workflows/new")))
        .await;
    let page = b.wait_for("Tasks, in order").await;
    let tasks = page.matches("class=\"task\"").count();
    assert_eq!(tasks, 0, "a new workflow starts with no task to fill in");
    shots(&b, "editor-new").await;
    b.type_into("#wf-name", "Keep the directory current").await;
    let t = add_task(&b, "directory").await;
    choose(&b, &format!("#t{t}_m0_field"), "email").await;
    b.type_into(&format!("#t{t}_m0_text"), "${m://Email}").await;
    b.click("#save").await;
    b.wait_for("Workflow saved.").await;
    b.quit().await;
}

#[tokio::test]
async fn a_refused_save_names_the_task_and_the_empty_picker_as_the_screen_does() {
    let org = harness::start_sfsim().await;
    let app = TestApp::spawn(Backend::Sqlite).await;
    harness::use_sfsim(&app, &org);
    let (me, token) = app.org_user(Role::Editor).await;
    harness::link_sfsim(&app, &token, &org).await;
    let survey = app.sample_survey(&token).await;
    let Some(b) = signed_in(&app, &me.email).await else {
        return;
    };
    b.goto(&app.url(&format!("/surveys/{survey}/workflows/new")))
        .await;
    b.wait_for("Tasks, in order").await;
    b.type_into("#wf-name", "Two tasks").await;
    add_task(&b, "salesforce").await;
    let second = add_task(&b, "salesforce").await;
    b.click("#save").await;
    let page = b.wait_for("form-errors").await;
    shots(&b, "editor-refused").await;
    let errors = page
        .split("id=\"form-errors\"")
        .nth(1)
        .unwrap()
        .split("</div>")
        .next()
        .unwrap();
    let label = format!("Task {} · Object", second + 1);
    assert!(
        errors.contains(&label),
        "the error says {label:?} as the screen does: {errors}"
    );
    assert!(
        errors.contains("no object is chosen"),
        "it blames the empty picker: {errors}"
    );
    assert!(!page.contains("tasks["), "no tasks[i] paths on the page");
    assert!(
        !page.contains("Salesforce has no object") && !page.contains("does not fit the Salesforce"),
        "Salesforce is not blamed for an empty picker: {errors}"
    );
    b.quit().await;
    org.shutdown().await;
}

#[tokio::test]
async fn a_piped_text_pick_appears_in_its_field_at_once() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (me, token) = app.org_user(Role::Editor).await;
    let survey = app.sample_survey(&token).await;
    let Some(b) = signed_in(&app, &me.email).await else {
        return;
    };
    b.goto(&app.url(&format!("/surveys/{survey}/workflows/new")))
        .await;
    b.wait_for("Tasks, in order").await;
    b.type_into("#wf-name", "Piped").await;
    let t = add_task(&b, "directory").await;
    let text = format!("#t{t}_m0_text");
    choose(&b, &format!("#t{t}_m0_pick"), "${e://Field/ContactId}").await;
    let value = b.property(&text, "value").await;
    assert_eq!(
        value, "${e://Field/ContactId}",
        "the pick shows in the field before any submit"
    );

    shots(&b, "editor-piped").await;
    b.quit().await;
}

#[tokio::test]
async fn the_text_column_fits_a_long_piped_text_at_desktop_and_phone_width() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (me, token) = app.org_user(Role::Editor).await;
    let survey = app.sample_survey(&token).await;
    let Some(b) = signed_in(&app, &me.email).await else {
        return;
    };
    b.goto(&app.url(&format!("/surveys/{survey}/workflows/new")))
        .await;
    b.wait_for("Tasks, in order").await;
    b.type_into("#wf-name", "Wide").await;
    let t = add_task(&b, "directory").await;
    let text = format!("#t{t}_m0_text");
    let long = "${q://QID8/ChoiceGroup/SelectedChoices}";
    b.type_into(&text, long).await;
    for width in [DESKTOP, PHONE] {
        b.resize(width, 900).await;
        let fit = b
            .execute(
                "var e = document.querySelector(arguments[0]); return [e.scrollWidth, e.clientWidth];",
                json!([text]),
            )
            .await;
        let (scroll, client) = (fit[0].as_i64().unwrap(), fit[1].as_i64().unwrap());
        assert!(
            scroll <= client,
            "at {width}px the field shows all of {long}: needs {scroll}px, has {client}px"
        );
    }
    b.resize(DESKTOP, 900).await;
    shots(&b, "editor-wide").await;
    b.quit().await;
}

#[tokio::test]
async fn a_picklist_field_offers_its_values_from_describe() {
    let org = harness::start_sfsim().await;
    let app = TestApp::spawn(Backend::Sqlite).await;
    harness::use_sfsim(&app, &org);
    let (me, token) = app.org_user(Role::Editor).await;
    harness::link_sfsim(&app, &token, &org).await;
    let survey = app.sample_survey(&token).await;
    let Some(b) = signed_in(&app, &me.email).await else {
        return;
    };
    b.goto(&app.url(&format!("/surveys/{survey}/workflows/new")))
        .await;
    b.wait_for("Tasks, in order").await;
    b.type_into("#wf-name", "Channel").await;
    let t = add_task(&b, "salesforce").await;
    choose(&b, &format!("#t{t}_object"), "Survey_Response__c").await;
    b.wait_for("Required on create").await;
    choose(&b, &format!("#t{t}_m0_field"), "Channel__c").await;
    // The form comes back knowing the field is a picklist.
    b.wait_for(&format!(
        "id=\"t{t}_m0_kind\" name=\"t{t}_m0_kind\" data-refresh=\"refresh-{t}\""
    ))
    .await;
    choose(&b, &format!("#t{t}_m0_kind"), "value").await;
    let page = b.wait_for(&format!("select id=\"t{t}_m0_text\"")).await;
    let select = page
        .split(&format!("select id=\"t{t}_m0_text\""))
        .nth(1)
        .unwrap()
        .split("</select>")
        .next()
        .unwrap();
    for v in ["Email", "SMS", "Web"] {
        assert!(
            select.contains(&format!("value=\"{v}\"")),
            "{v} is offered: {select}"
        );
    }
    choose(&b, &format!("#t{t}_m0_text"), "SMS").await;
    shots(&b, "editor-picklist").await;
    // Another refresh keeps the chosen value.
    b.click(&format!("button[value=add_row_{t}]")).await;
    b.wait_for(&format!("t{t}_m3_field")).await;
    assert_eq!(b.property(&format!("#t{t}_m0_text"), "value").await, "SMS");
    b.quit().await;
    org.shutdown().await;
}

#[tokio::test]
async fn field_order_is_kept_as_entered_through_save_and_reload() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (me, token) = app.org_user(Role::Editor).await;
    let survey = app.sample_survey(&token).await;
    // The API takes the fields in this order, which is not the alphabetical one.
    let body = r#"{"name": "Contacts in order", "tasks": [{"type": "directory", "action": "upsert_contact",
        "fields": {"lastName": {"piped": "${m://LastName}"}, "email": {"piped": "${m://Email}"},
                   "firstName": {"piped": "${m://FirstName}"}}}]}"#;
    let r = app
        .post(&token, &format!("/api/v1/surveys/{survey}/workflows"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let Some(b) = signed_in(&app, &me.email).await else {
        return;
    };
    b.goto(&app.url(&format!("/workflows/{id}"))).await;
    b.wait_for("Save workflow").await;
    assert_eq!(
        fields_in_rows(&b).await,
        ["lastName", "email", "firstName"],
        "the editor shows the fields as they were entered"
    );
    b.click("#save").await;
    b.wait_for("Workflow saved.").await;
    b.goto(&app.url(&format!("/workflows/{id}"))).await;
    b.wait_for("Save workflow").await;
    assert_eq!(
        fields_in_rows(&b).await,
        ["lastName", "email", "firstName"],
        "saved from the editor and reloaded, still in that order"
    );
    let w = app
        .get_json(&token, &format!("/api/v1/workflows/{id}"))
        .await;
    let keys: Vec<&String> = w["tasks"][0]["fields"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, ["lastName", "email", "firstName"], "{w}");
    b.quit().await;
}

async fn fields_in_rows(b: &Browser) -> Vec<String> {
    let mut out = Vec::new();
    for r in 0..3 {
        out.push(
            b.property(&format!("#t0_m{r}_field"), "value")
                .await
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    out
}

// ---------------------------------------------------------------- responses

/// 2024-03-01T23:30:00Z: 08:30 on 2 March in Tokyo.
const FIRST_START: i64 = 1_709_335_800_000;
const DAY: i64 = 86_400_000;

/// A survey with three responses, started (UTC) on 1 March at 23:30 (complete), 5 March at
/// 23:30 (in progress) and 10 March at 23:30 (closed incomplete); the complete one answered
/// every question, "Very satisfied" among them.
struct Responses {
    survey: String,
    complete: String,
    in_progress: String,
    incomplete: String,
}

async fn three_responses(app: &TestApp, org_id: &str, token: &str) -> Responses {
    let survey = app.sample_survey(token).await;
    let def = survey::sample::sample_definition();
    let mut data = ResponseData {
        answers: sonde::bench::complete_answers(&def),
        ..Default::default()
    };
    data.answers.insert(
        "QID4".into(),
        Answer::Choices {
            selected: vec!["1".into()],
            text: Default::default(),
        },
    );
    data.answers
        .insert("QID11".into(), Answer::Text("Support engineer".into()));
    data.embedded_data
        .insert("ContactId".into(), "0035g00000BrWsRAAA".into());
    let partial = ResponseData {
        answers: [("QID3".to_string(), Answer::Number(4.0))].into(),
        ..Default::default()
    };
    let complete = harness::insert_response(
        app,
        org_id,
        &survey,
        ResponseStatus::Complete,
        FIRST_START,
        &data,
    )
    .await;
    let in_progress = harness::insert_response(
        app,
        org_id,
        &survey,
        ResponseStatus::InProgress,
        FIRST_START + 4 * DAY,
        &partial,
    )
    .await;
    let incomplete = harness::insert_response(
        app,
        org_id,
        &survey,
        ResponseStatus::Incomplete,
        FIRST_START + 9 * DAY,
        &partial,
    )
    .await;
    Responses {
        survey,
        complete,
        in_progress,
        incomplete,
    }
}

/// The cells of the table row whose first cell links to `response`.
fn row_of<'a>(page: &'a str, response: &str) -> &'a str {
    let start = page
        .find(&format!("{response}</a>"))
        .or_else(|| page.find(&format!("{response}</code>")))
        .unwrap_or_else(|| panic!("no row for {response}"));
    page[start..].split("</tr>").next().unwrap()
}

#[tokio::test]
async fn responses_show_choice_labels_and_every_column_is_reachable_on_a_phone() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (me, token) = app.org_user(Role::Editor).await;
    let r = three_responses(&app, &me.org_id, &token).await;
    let Some(b) = signed_in(&app, &me.email).await else {
        return;
    };
    b.goto(&app.url(&format!("/surveys/{}", r.survey))).await;
    let page = b.wait_for("Responses").await;
    let row = row_of(&page, &r.complete);
    assert!(
        row.contains("Very satisfied"),
        "the CSAT cell shows the choice's text: {row}"
    );
    assert!(
        row.contains("Support engineer"),
        "the last question (JobTitle) has its column too: {row}"
    );
    shots(&b, "survey-detail").await;

    b.resize(PHONE, 900).await;
    let reach = b
        .execute(
            "var w = document.querySelector('.responses-table');
             w.scrollLeft = w.scrollWidth;
             var heads = w.querySelectorAll('thead th');
             var last = heads[heads.length - 1].getBoundingClientRect();
             var first = w.querySelector('tbody tr > :first-child').getBoundingClientRect();
             var box = w.getBoundingClientRect();
             return {lastRight: last.right, boxRight: box.right, firstLeft: first.left,
                     boxLeft: box.left, last: heads[heads.length - 1].textContent,
                     page: document.documentElement.scrollWidth, width: window.innerWidth};",
            json!([]),
        )
        .await;
    let n = |k: &str| reach[k].as_f64().unwrap();
    assert!(
        n("lastRight") <= n("boxRight") + 1.0,
        "scrolled to the end, the last column is in view: {reach}"
    );
    assert!(
        n("firstLeft") >= n("boxLeft") - 1.0,
        "the first column stays in view while scrolling: {reach}"
    );
    assert!(
        n("page") <= n("width"),
        "only the table scrolls sideways, not the page: {reach}"
    );
    assert!(
        reach["last"].as_str().unwrap().contains("JobTitle"),
        "{reach}"
    );
    b.resize(DESKTOP, 900).await;
    b.quit().await;
}

#[tokio::test]
async fn one_response_shows_its_answers_data_metadata_and_the_runs_it_fired() {
    for backend in harness::backends() {
        one_response_on(backend).await;
    }
}

async fn one_response_on(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (me, token) = app.org_user(Role::Editor).await;
    let survey = app.sample_survey(&token).await;
    let list = app
        .sonde
        .create_mailing_list(&me, "Followers")
        .await
        .unwrap();
    let body = json!({"name": "Respondents follow us", "tasks": [{"type": "directory",
        "action": "add_to_list", "listId": list.id,
        "fields": {"email": {"piped": "${m://Email}"}}}]});
    let r = app
        .post(&token, &format!("/api/v1/surveys/{survey}/workflows"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let workflow = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut answers = sonde::bench::complete_answers(&survey::sample::sample_definition());
    answers.insert(
        "QID4".into(),
        Answer::Choices {
            selected: vec!["1".into()],
            text: Default::default(),
        },
    );
    let r = app
        .post(&token, &format!("/api/v1/surveys/{survey}/responses"))
        .json(&json!({"answers": answers, "embeddedData": {"CaseId": "5005g00000Case1"}, "finished": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let response = r.json::<Value>().await.unwrap()["responseId"]
        .as_str()
        .unwrap()
        .to_string();
    app.sonde.drain_workflows().await.unwrap();

    let Some(b) = signed_in(&app, &me.email).await else {
        return;
    };
    b.goto(&app.url(&format!("/surveys/{survey}"))).await;
    b.wait_for(&response).await;
    b.click(&format!("a[href='/surveys/{survey}/responses/{response}']"))
        .await;
    let page = b.wait_for("Workflow runs").await;
    shots(&b, "response").await;
    for (what, text) in [
        ("a question's text", "Overall, how satisfied are you"),
        ("the answer's label", "Very satisfied"),
        ("embedded data", "5005g00000Case1"),
        ("where it came from", "api"),
        ("metadata", "Distribution channel"),
        ("the workflow", "Respondents follow us"),
    ] {
        assert!(page.contains(text), "the response shows {what} ({text:?})");
    }
    b.resize(PHONE, 900).await;
    let fits = b
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            json!([]),
        )
        .await;
    assert!(
        fits[0].as_i64() <= fits[1].as_i64(),
        "on a phone the page does not scroll sideways: {fits}"
    );
    b.resize(DESKTOP, 900).await;
    let runs = format!("href=\"/workflows/{workflow}/runs");
    assert!(page.contains(&runs), "the run links to the runs page");
    b.click(&format!("a[href^='/workflows/{workflow}/runs']"))
        .await;
    let history = b.wait_for("Run history").await;
    shots(&b, "workflow-runs").await;
    assert!(
        !history.contains("Salesforce says"),
        "a directory task's error is not blamed on Salesforce"
    );
    assert!(
        history.contains(&format!("/surveys/{survey}/responses/{response}")),
        "the run links back to its response"
    );
    b.quit().await;
}

#[tokio::test]
async fn responses_filter_by_status_and_date_and_show_times_in_the_viewers_zone() {
    for backend in harness::backends() {
        filters_and_zones_on(backend).await;
    }
}

async fn filters_and_zones_on(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (me, token) = app.org_user(Role::Editor).await;
    let r = three_responses(&app, &me.org_id, &token).await;
    let Some(b) = signed_in(&app, &me.email).await else {
        return;
    };
    b.set_time_zone("Asia/Tokyo").await;
    b.goto(&app.url(&format!("/surveys/{}", r.survey))).await;
    b.wait_for(&r.complete).await;
    let started = b
        .execute(
            "return document.querySelector('.responses-table tbody time').textContent;",
            json!([]),
        )
        .await;
    let started = started.as_str().unwrap();
    assert!(
        started.contains("Mar 2, 2024") && started.contains("08:30"),
        "23:30 UTC on 1 March reads as 08:30 on 2 March in Tokyo: {started:?}"
    );

    b.goto(&app.url(&format!("/surveys/{}/responses", r.survey)))
        .await;
    b.wait_for("Filter").await;
    let shown = |page: &str| {
        [&r.complete, &r.in_progress, &r.incomplete]
            .iter()
            .map(|id| page.contains(id.as_str()))
            .collect::<Vec<_>>()
    };
    for (status, want) in [
        ("complete", [true, false, false]),
        ("in_progress", [false, true, false]),
        ("incomplete", [false, false, true]),
    ] {
        choose(&b, "#filter-status", status).await;
        b.click("#filter-submit").await;
        let page = b
            .wait_for(&format!("option value=\"{status}\" selected"))
            .await;
        assert_eq!(shown(&page), want, "status {status}");
    }
    shots(&b, "responses-incomplete").await;
    choose(&b, "#filter-status", "").await;
    // 2 to 5 March in Tokyo holds the first response (08:30 on the 2nd there) but not the
    // second (08:30 on the 6th there); read as UTC days it would be the other way round.
    b.execute(
        "document.getElementById('filter-from').value = '2024-03-02';
         document.getElementById('filter-to').value = '2024-03-05';",
        json!([]),
    )
    .await;
    b.click("#filter-submit").await;
    let page = b.wait_for("value=\"2024-03-05\"").await;
    assert_eq!(shown(&page), [true, false, false], "2 to 5 March in Tokyo");
    shots(&b, "responses-dates").await;
    b.quit().await;
}

// ---------------------------------------------------------------- messages

#[tokio::test]
async fn an_unknown_survey_link_says_the_survey_does_not_exist_or_is_closed() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app.client.get(app.url("/s/SV_nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("does not exist or is closed"),
        "the respondent is told what happened: {page}"
    );
    assert!(!page.contains("shared with you"), "{page}");
    let Some(b) = Browser::start().await else {
        return;
    };
    b.goto(&app.url("/s/SV_nope")).await;
    b.wait_for("does not exist or is closed").await;
    shots(&b, "respondent-unknown-survey").await;
    b.quit().await;
}

fn temp_file(name: &str, contents: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sonde-upload-{}", store::ids::random_token(8)));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[tokio::test]
async fn survey_imports_keep_the_page_and_say_a_broken_file_once_and_an_empty_one_as_a_warning() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (me, _) = app.org_user(Role::Editor).await;
    let Some(b) = signed_in(&app, &me.email).await else {
        return;
    };
    b.choose_file(
        "#qsf",
        &temp_file(
            "broken.qsf",
            b"{\"SurveyEntry\": {\"SurveyName\": \"x\",\n  oops }",
        ),
    )
    .await;
    b.click("form[action='/surveys/import'] button[type=submit]")
        .await;
    let page = b.wait_for("not valid JSON").await;
    shots(&b, "import-broken").await;
    assert!(
        page.contains("Sign out") && page.contains("Import a Qualtrics survey"),
        "the surveys page, in its frame, with the form to try again"
    );
    assert_eq!(
        page.matches("not valid JSON").count(),
        1,
        "the error is said once"
    );
    assert!(page.contains("line 2"), "and where it is");

    b.choose_file(
        "#qsf",
        &temp_file(
            "empty.qsf",
            br#"{"SurveyEntry": {"SurveyName": "Nothing yet"}, "SurveyElements": []}"#,
        ),
    )
    .await;
    b.click("form[action='/surveys/import'] button[type=submit]")
        .await;
    let page = b.wait_for("Nothing yet").await;
    shots(&b, "import-empty").await;
    assert!(
        page.contains("no questions"),
        "importing a survey without questions warns"
    );
    b.quit().await;
}

#[tokio::test]
async fn a_contact_import_with_refused_rows_is_no_success_box_and_names_unknown_languages() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (me, _) = app.org_user(Role::Editor).await;
    let Some(b) = signed_in(&app, &me.email).await else {
        return;
    };
    b.goto(&app.url("/contacts")).await;
    b.wait_for("Import contacts").await;
    let csv = b"Email,FirstName,Language\n\
        ada@example.com,Ada,EN\n\
        broken,Bob,EN\n\
        cy@example.com,Cy,ZZ\n\
        di@example.com,Di,zz\n";
    b.choose_file("#csv", &temp_file("contacts.csv", csv)).await;
    b.click("form[action='/contacts/import'] button[type=submit]")
        .await;
    let page = b.wait_for("Imported").await;
    shots(&b, "contacts-import-report").await;
    let at = page.find("Imported").unwrap();
    let opening = &page[page[..at].rfind("<div").unwrap()..at];
    let report = page[at..].split("</div>").next().unwrap();
    assert!(
        !opening.contains("class=\"ok\""),
        "a report with a refused row is not a success box: {opening}"
    );
    assert!(report.contains("Line 3"), "{report}");
    assert!(
        report.contains("ZZ") && report.contains("not a language"),
        "the unknown language is named: {report}"
    );
    assert!(report.contains("lines 4, 5"), "with its lines: {report}");
    b.quit().await;
}

/// The survey page's "Export .qsf": the download is the survey as a Qualtrics file.
#[tokio::test]
async fn the_survey_page_exports_a_qsf_file() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (admin, token) = app.org_user(Role::Admin).await;
    let survey = app.sample_survey(&token).await;
    let Some(b) = signed_in(&app, &admin.email).await else {
        return;
    };
    b.goto(&app.url(&format!("/surveys/{survey}"))).await;
    b.wait_for("Export .qsf").await;
    let href = b.attribute("#export-qsf", "href").await;
    assert!(
        href.ends_with(&format!("/surveys/{survey}/survey.qsf")),
        "{href}"
    );
    // The download as the signed-in browser gets it.
    let name = b
        .execute(
            "return fetch(arguments[0]).then(function (r) { return r.json(); })
               .then(function (q) { return q.SurveyEntry.SurveyName; });",
            json!([href]),
        )
        .await;
    assert_eq!(name, survey::sample::sample_definition().name);
    shots(&b, "survey-page-export-qsf").await;
    b.quit().await;
}
