//! The survey builder's pages (`web::ui_builder`) over HTTP as a browser posts them: a survey
//! made from nothing with every question type, reordered, copied and deleted, a flow with the
//! Salesforce preset and a branch, the end message; refusals answered 422 beside the field with
//! what was typed kept, a stale form 409. Chromium at desktop, tablet and phone widths in
//! `builder/chromium.rs`.

mod chromium;
mod walk;

use crate::harness::{csrf_of, Backend, TestApp, PASSWORD};
use engine::{Actor, Role};
use survey::{BlockElement, FlowElement, QuestionKind, SurveyDefinition};

struct Answer {
    status: u16,
    location: String,
    body: String,
}

/// A signed-in editor on the app's cookie client, and the CSRF token their forms carry.
async fn editor(app: &TestApp) -> (Actor, String) {
    let (me, _) = app.org_user(Role::Editor).await;
    let r = app.sign_in_web(&app.client, &me.email, PASSWORD).await;
    assert_eq!(r.status(), 303, "signs in");
    let page = get(app, "/surveys").await;
    assert!(
        page.body.contains("New survey"),
        "the surveys page offers a new survey"
    );
    (me, csrf_of(&page.body))
}

async fn get(app: &TestApp, path: &str) -> Answer {
    let r = app.client.get(app.url(path)).send().await.unwrap();
    answer(r).await
}

async fn answer(r: reqwest::Response) -> Answer {
    Answer {
        status: r.status().as_u16(),
        location: r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        body: r.text().await.unwrap(),
    }
}

/// Posts `fields` with the CSRF token.
async fn post(app: &TestApp, csrf: &str, path: &str, fields: &[(&str, &str)]) -> Answer {
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("csrf", csrf));
    let r = app
        .client
        .post(app.url(path))
        .form(&form)
        .send()
        .await
        .unwrap();
    answer(r).await
}

/// The version a builder page's forms carry.
fn version_in(html: &str) -> String {
    crate::harness::hidden(html, "expected_version")
}

/// The newest version: what the builder shows and changes (the draft of a published survey).
async fn definition(app: &TestApp, me: &Actor, id: &str) -> SurveyDefinition {
    (*app.sonde.survey_head(me, id).await.unwrap().definition).clone()
}

fn order(def: &SurveyDefinition, block: usize) -> Vec<String> {
    def.blocks[block]
        .elements
        .iter()
        .map(|e| match e {
            BlockElement::Question { id } => id.clone(),
            BlockElement::PageBreak => "|".into(),
        })
        .collect()
}

/// Adds a question of `kind` to block BL_1 through the new-question form; its id.
async fn add(app: &TestApp, csrf: &str, id: &str, kind: &str, fields: &[(&str, &str)]) -> String {
    let form = get(
        app,
        &format!("/surveys/{id}/builder/questions/new?block=BL_1&type={kind}"),
    )
    .await;
    assert_eq!(form.status, 200, "{}", form.body);
    let version = version_in(&form.body);
    let mut all = vec![
        ("kind", kind),
        ("block_id", "BL_1"),
        ("expected_version", version.as_str()),
    ];
    all.extend_from_slice(fields);
    let saved = post(
        app,
        csrf,
        &format!("/surveys/{id}/builder/questions/new"),
        &all,
    )
    .await;
    assert_eq!(saved.status, 303, "{kind}: {}", saved.body);
    saved
        .location
        .rsplit("#q-")
        .next()
        .expect("back to the builder at the new question")
        .to_string()
}

/// One builder-page change from the survey's current version.
async fn change(
    app: &TestApp,
    csrf: &str,
    me: &Actor,
    id: &str,
    fields: &[(&str, &str)],
) -> Answer {
    let version = app
        .sonde
        .survey_head(me, id)
        .await
        .unwrap()
        .version
        .to_string();
    let mut all = fields.to_vec();
    all.push(("expected_version", &version));
    post(app, csrf, &format!("/surveys/{id}/builder"), &all).await
}

async fn new_survey(app: &TestApp, csrf: &str) -> String {
    let form = get(app, "/surveys/new").await;
    assert!(form.body.contains("Survey name"));
    let made = post(app, csrf, "/surveys/new", &[("name", "Check-in")]).await;
    assert_eq!(made.status, 303, "{}", made.body);
    made.location
        .strip_prefix("/surveys/")
        .and_then(|l| l.strip_suffix("/builder"))
        .expect("to the new survey's builder")
        .to_string()
}

#[tokio::test]
async fn a_survey_is_built_from_nothing_with_every_question_type_a_flow_and_an_end_message() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (me, csrf) = editor(&app).await;
    let id = new_survey(&app, &csrf).await;
    let page = get(&app, &format!("/surveys/{id}/builder")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Block BL_1"), "{}", page.body);
    assert!(page
        .body
        .contains(&format!("<iframe src=\"/s/{id}?_preview=1\"")));

    // A row button re-renders the form with what was typed and one more row.
    let more = post(
        &app,
        &csrf,
        &format!("/surveys/{id}/builder/questions/new"),
        &[
            ("kind", "multiple_choice"),
            ("block_id", "BL_1"),
            ("text", "How did you hear of us?"),
            ("choices[0].id", "1"),
            ("choices[0].text", "A friend"),
            ("row", "choices:add"),
        ],
    )
    .await;
    assert_eq!(more.status, 200);
    assert!(more.body.contains("value=\"A friend\""));
    let added = more
        .body
        .find("name=\"choices[1].text\"")
        .expect("a second row");
    let focus = more
        .body
        .find(" autofocus")
        .expect("the keyboard is put somewhere");
    assert!(
        focus > added && !more.body[added..focus].contains('<'),
        "on the new row"
    );
    assert!(more.body.contains("How did you hear of us?"));

    let choice = add(
        &app,
        &csrf,
        &id,
        "multiple_choice",
        &[
            ("text", "How did you hear of us?"),
            ("export_tag", "Source"),
            ("required", "1"),
            ("multiple", "1"),
            ("choices[0].id", "1"),
            ("choices[0].text", "A friend"),
            ("choices[1].id", "2"),
            ("choices[1].text", "Other"),
            ("choices[1].recode", "99"),
            ("choices[1].other", "1"),
        ],
    )
    .await;
    let nps = add(
        &app,
        &csrf,
        &id,
        "nps",
        &[
            ("text", "Would you recommend us?"),
            ("low_label", "Never"),
            ("high_label", "Surely"),
        ],
    )
    .await;
    let text = add(
        &app,
        &csrf,
        &id,
        "text_entry",
        &[
            (
                "text",
                "You said ${q://QID2/ChoiceGroup/SelectedChoices}. Your email?",
            ),
            ("multiline", "0"),
            ("content", "email"),
        ],
    )
    .await;
    let matrix = add(
        &app,
        &csrf,
        &id,
        "matrix",
        &[
            ("text", "The agent was…"),
            ("statements[0].text", "Kind"),
            ("statements[1].text", "Quick"),
            ("scale[0].text", "No"),
            ("scale[0].recode", "0"),
            ("scale[1].text", "Yes"),
            ("scale[1].recode", "1"),
        ],
    )
    .await;
    let slider = add(
        &app,
        &csrf,
        &id,
        "slider",
        &[
            ("text", "How easy was it?"),
            ("min", "0"),
            ("max", "5"),
            ("step", "0.5"),
            ("statements[0].text", ""),
        ],
    )
    .await;
    let intro = add(
        &app,
        &csrf,
        &id,
        "descriptive",
        &[("text", "<p>Hello!</p>")],
    )
    .await;
    let timing = add(
        &app,
        &csrf,
        &id,
        "timing",
        &[("text", "Timing"), ("auto_advance_seconds", "30")],
    )
    .await;
    let def = definition(&app, &me, &id).await;
    assert_eq!(
        order(&def, 0),
        [&*choice, &*nps, &*text, &*matrix, &*slider, &*intro, &*timing]
    );
    // "Where: at the start" puts a new question first; deleted again.
    let form = get(
        &app,
        &format!("/surveys/{id}/builder/questions/new?block=BL_1&type=descriptive&position=0"),
    )
    .await;
    assert!(form.body.contains("name=\"position\" value=\"0\""));
    let first = post(
        &app,
        &csrf,
        &format!("/surveys/{id}/builder/questions/new"),
        &[
            ("kind", "descriptive"),
            ("block_id", "BL_1"),
            ("position", "0"),
            ("text", "Welcome"),
        ],
    )
    .await;
    assert_eq!(first.status, 303, "{}", first.body);
    let placed = order(&definition(&app, &me, &id).await, 0);
    assert!(first.location.ends_with(&format!("#q-{}", placed[0])));
    assert_eq!(placed[1], choice);
    change(
        &app,
        &csrf,
        &me,
        &id,
        &[("op", "delete_question"), ("question_id", &placed[0])],
    )
    .await;
    let q = def.question(&choice).unwrap();
    assert!(q.required);
    assert_eq!(q.export_tag, "Source");
    let QuestionKind::MultipleChoice { multiple, choices } = &q.kind else {
        panic!("{q:?}")
    };
    assert!(*multiple && choices[1].text_entry && choices[1].recode.as_deref() == Some("99"));
    assert!(matches!(
        &def.question(&nps).unwrap().kind,
        QuestionKind::Nps { high_label, .. } if high_label == "Surely"
    ));
    assert!(matches!(
        def.question(&text).unwrap().kind,
        QuestionKind::TextEntry {
            multiline: false,
            content: survey::TextContent::Email
        }
    ));
    assert!(matches!(&def.question(&matrix).unwrap().kind,
        QuestionKind::Matrix { statements, scale } if statements.len() == 2 && scale[1].recode.as_deref() == Some("1")));
    assert!(matches!(def.question(&slider).unwrap().kind,
        QuestionKind::Slider { max, step, .. } if max == 5.0 && step == 0.5));
    assert!(matches!(
        def.question(&timing).unwrap().kind,
        QuestionKind::Timing {
            auto_advance_seconds: Some(30)
        }
    ));

    // Editing keeps the id and shows what the question holds.
    let edit = get(&app, &format!("/surveys/{id}/builder/questions/{choice}")).await;
    assert!(edit.body.contains("value=\"99\"") && edit.body.contains("Other — text entry"));
    // The piped-text picker offers earlier answers to a later question.
    let later = get(&app, &format!("/surveys/{id}/builder/questions/{text}")).await;
    assert!(later
        .body
        .contains(&format!("${{q://{choice}/ChoiceGroup/SelectedChoices}}")));

    // Reorder, copy, delete, page breaks.
    let r = change(
        &app,
        &csrf,
        &me,
        &id,
        &[
            ("op", "move_question"),
            ("question_id", &nps),
            ("block_id", "BL_1"),
            ("position", "0"),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, format!("/surveys/{id}/builder#q-{nps}"));
    let r = change(
        &app,
        &csrf,
        &me,
        &id,
        &[("op", "copy_question"), ("question_id", &nps)],
    )
    .await;
    assert_eq!(r.status, 303);
    let def = definition(&app, &me, &id).await;
    let copy = order(&def, 0)[1].clone();
    assert_eq!(def.question(&copy).unwrap().export_tag, "Q2 (copy)");
    change(
        &app,
        &csrf,
        &me,
        &id,
        &[("op", "delete_question"), ("question_id", &copy)],
    )
    .await;
    change(
        &app,
        &csrf,
        &me,
        &id,
        &[
            ("op", "add_page_break"),
            ("block_id", "BL_1"),
            ("position", "2"),
        ],
    )
    .await;
    let def = definition(&app, &me, &id).await;
    assert_eq!(
        order(&def, 0),
        [&*nps, &*choice, "|", &*text, &*matrix, &*slider, &*intro, &*timing]
    );
    let page = get(&app, &format!("/surveys/{id}/builder")).await;
    assert!(page.body.contains("Page break"));
    change(
        &app,
        &csrf,
        &me,
        &id,
        &[
            ("op", "delete_page_break"),
            ("block_id", "BL_1"),
            ("position", "2"),
        ],
    )
    .await;
    let r = change(
        &app,
        &csrf,
        &me,
        &id,
        &[("op", "add_block"), ("description", "Detractors")],
    )
    .await;
    assert_eq!(r.location, format!("/surveys/{id}/builder#block-BL_2"));
    change(
        &app,
        &csrf,
        &me,
        &id,
        &[
            ("op", "move_question"),
            ("question_id", &text),
            ("block_id", "BL_2"),
            ("position", "0"),
        ],
    )
    .await;
    change(
        &app,
        &csrf,
        &me,
        &id,
        &[
            ("op", "set_block_description"),
            ("block_id", "BL_1"),
            ("description", "Main"),
        ],
    )
    .await;
    let def = definition(&app, &me, &id).await;
    assert_eq!(order(&def, 1), [text.as_str()]);
    assert_eq!(def.blocks[0].description, "Main");

    // The flow: the Salesforce preset, a branch with an end inside it.
    let flow_page = get(&app, &format!("/surveys/{id}/builder/flow")).await;
    let version = version_in(&flow_page.body);
    let preset = post(
        &app,
        &csrf,
        &format!("/surveys/{id}/builder/flow"),
        &[
            ("r0.kind", "block"),
            ("r0.depth", "0"),
            ("r0.block_id", "BL_1"),
            ("row", "salesforce"),
        ],
    )
    .await;
    assert_eq!(preset.status, 200);
    for name in ["sfContactId", "sfAccountId", "sfSurveyId"] {
        assert!(preset.body.contains(&format!("value=\"{name}\"")), "{name}");
    }
    let saved = post(
        &app,
        &csrf,
        &format!("/surveys/{id}/builder/flow"),
        &[
            ("expected_version", &version),
            ("r0.kind", "embedded_data"),
            ("r0.depth", "0"),
            ("r0.fields[0].name", "sfContactId"),
            ("r0.fields[0].from", "url"),
            ("r0.fields[1].name", "sfAccountId"),
            ("r0.fields[1].from", "url"),
            ("r0.fields[2].name", "Source"),
            ("r0.fields[2].from", "fixed"),
            ("r0.fields[2].value", "builder"),
            ("r1.kind", "block"),
            ("r1.depth", "0"),
            ("r1.block_id", "BL_1"),
            ("r2.kind", "branch"),
            ("r2.depth", "0"),
            ("r2.cond.mode", "answer"),
            ("r2.cond.question", &nps),
            ("r2.cond.op", "less_or_equal"),
            ("r2.cond.value", "6"),
            ("r3.kind", "block"),
            ("r3.depth", "1"),
            ("r3.block_id", "BL_2"),
            ("r4.kind", "end_survey"),
            ("r4.depth", "1"),
            ("r4.message", "Sorry to hear it."),
        ],
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let def = definition(&app, &me, &id).await;
    assert_eq!(def.flow.len(), 3);
    let FlowElement::Branch { flow, .. } = &def.flow[2] else {
        panic!("{:?}", def.flow)
    };
    assert_eq!(flow.len(), 2, "the block and the end inside the branch");
    let again = get(&app, &format!("/surveys/{id}/builder/flow")).await;
    assert!(again.body.contains("Sorry to hear it.") && again.body.contains("value=\"builder\""));
    // Declared fields are offered as piped text.
    assert!(get(&app, &format!("/surveys/{id}/builder/end-message"))
        .await
        .body
        .contains("${e://Field/sfContactId}"));

    let end = post(
        &app,
        &csrf,
        &format!("/surveys/{id}/builder/end-message"),
        &[("end_message", "Thanks, ${m://FirstName}!")],
    )
    .await;
    assert_eq!(end.status, 303);
    assert_eq!(
        definition(&app, &me, &id).await.end_message,
        "Thanks, ${m://FirstName}!"
    );

    // The preview shows the latest version and may be framed by Sonde's own pages only.
    let preview = app
        .client
        .get(app.url(&format!("/s/{id}?_preview=1")))
        .send()
        .await
        .unwrap();
    let csp = preview.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.ends_with("frame-ancestors 'self'"), "{csp}");
    assert!(preview
        .text()
        .await
        .unwrap()
        .contains("Would you recommend us?"));
    let builder_csp = app
        .client
        .get(app.url(&format!("/surveys/{id}/builder")))
        .send()
        .await
        .unwrap()
        .headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(builder_csp.ends_with("frame-ancestors 'none'"));
}

#[tokio::test]
async fn refusals_show_beside_the_field_with_what_was_typed_and_a_stale_form_is_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (me, csrf) = editor(&app).await;
    let id = new_survey(&app, &csrf).await;
    let new = format!("/surveys/{id}/builder/questions/new");

    let blank = post(
        &app,
        &csrf,
        &new,
        &[
            ("kind", "multiple_choice"),
            ("block_id", "BL_1"),
            ("text", "Pick one"),
            ("choices[0].id", "1"),
            ("choices[0].text", "Tea"),
            ("choices[1].id", "2"),
            ("choices[1].text", " "),
        ],
    )
    .await;
    assert_eq!(blank.status, 422);
    assert!(
        blank.body.contains(
            "<p class=\"error\" id=\"err-choices-1-\" data-field=\"choices[1].text\">is blank"
        ),
        "{}",
        blank.body
    );
    assert!(blank
        .body
        .contains("aria-describedby=\"err-choices-1- err-choices-1--row\""));
    assert!(blank.body.contains("value=\"Tea\"") && blank.body.contains("Pick one"));

    let none = post(
        &app,
        &csrf,
        &new,
        &[
            ("kind", "multiple_choice"),
            ("block_id", "BL_1"),
            ("text", "Pick one"),
        ],
    )
    .await;
    assert_eq!(none.status, 422);
    assert!(none.body.contains("id=\"err-choices\""), "{}", none.body);

    let bad = post(
        &app,
        &csrf,
        &new,
        &[
            ("kind", "slider"),
            ("block_id", "BL_1"),
            ("text", "Effort"),
            ("min", "abc"),
            ("max", "10"),
            ("step", "1"),
            ("statements[0].text", ""),
        ],
    )
    .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("id=\"err-min\"") && bad.body.contains("is not a number"));
    assert!(bad.body.contains("value=\"abc\""));
    assert!(definition(&app, &me, &id).await.questions.is_empty());

    // Something to refer to, and a flow row naming it.
    let q = add(
        &app,
        &csrf,
        &id,
        "nps",
        &[("text", "Recommend ${e://Field/Source}?")],
    )
    .await;
    let flow = format!("/surveys/{id}/builder/flow");
    let twice = post(
        &app,
        &csrf,
        &flow,
        &[
            ("r0.kind", "embedded_data"),
            ("r0.depth", "0"),
            ("r0.fields[0].name", "Source"),
            ("r0.fields[0].from", "url"),
            ("r1.kind", "embedded_data"),
            ("r1.depth", "0"),
            ("r1.fields[0].name", "Source"),
            ("r1.fields[0].from", "fixed"),
            ("r1.fields[0].value", "kept as typed"),
            ("r2.kind", "block"),
            ("r2.depth", "0"),
            ("r2.block_id", "BL_1"),
        ],
    )
    .await;
    assert_eq!(twice.status, 422);
    assert!(
        twice.body.contains("id=\"err-flow-1--fields-0--name\"")
            && twice.body.contains("declared already"),
        "{}",
        twice.body
    );
    assert!(twice.body.contains("value=\"kept as typed\""));
    let gone = post(
        &app,
        &csrf,
        &flow,
        &[
            ("r0.kind", "block"),
            ("r0.depth", "0"),
            ("r0.block_id", "BL_1"),
            ("r1.kind", "branch"),
            ("r1.depth", "0"),
            ("r1.cond.mode", "answer"),
            ("r1.cond.question", "QID99"),
            ("r1.cond.op", "selected"),
            ("r1.cond.value", "1"),
            ("r2.kind", "end_survey"),
            ("r2.depth", "1"),
        ],
    )
    .await;
    assert_eq!(gone.status, 422);
    assert!(
        gone.body.contains("id=\"err-flow-1--condition\"")
            && gone.body.contains("unknown question QID99"),
        "{}",
        gone.body
    );
    assert!(gone.body.contains("QID99 (deleted)"));
    // Picking a question and asking for its choices keeps the rows as typed.
    let choices = post(
        &app,
        &csrf,
        &flow,
        &[
            ("r0.kind", "branch"),
            ("r0.depth", "0"),
            ("r0.cond.mode", "answer"),
            ("r0.cond.question", "QID99"),
            ("r0.cond.value", "typed"),
            ("row", "refresh"),
        ],
    )
    .await;
    assert_eq!(choices.status, 200);
    assert!(choices.body.contains("value=\"typed\""));

    // A form from an older version: refused, the typed text still there.
    let form = get(&app, &format!("/surveys/{id}/builder/questions/{q}")).await;
    let old = version_in(&form.body);
    let r = post(
        &app,
        &csrf,
        &format!("/surveys/{id}/builder/end-message"),
        &[("end_message", "Bye"), ("expected_version", &old)],
    )
    .await;
    assert_eq!(r.status, 303);
    let stale = post(
        &app,
        &csrf,
        &format!("/surveys/{id}/builder/questions/{q}"),
        &[
            ("kind", "nps"),
            ("text", "Typed before the other change"),
            ("expected_version", &old),
        ],
    )
    .await;
    assert_eq!(stale.status, 409);
    assert!(stale.body.contains("changed by someone else"));
    assert!(stale.body.contains("Typed before the other change"));
    assert_eq!(
        definition(&app, &me, &id).await.question(&q).unwrap().text,
        "Recommend ${e://Field/Source}?"
    );

    // Piped text naming a field the flow does not declare: said on the builder page.
    let page = get(&app, &format!("/surveys/{id}/builder")).await;
    assert!(page.body.contains("id=\"warnings\""), "{}", page.body);
    assert!(page.body.contains("${e://Field/Source}"));
    // Changing the type keeps what was typed.
    let retyped = post(
        &app,
        &csrf,
        &format!("/surveys/{id}/builder/questions/{q}"),
        &[
            ("kind", "nps"),
            ("text", "Recommend us?"),
            ("new_kind", "multiple_choice"),
            ("row", "retype"),
        ],
    )
    .await;
    assert_eq!(retyped.status, 200);
    assert!(
        retyped.body.contains("Recommend us?") && retyped.body.contains("name=\"choices[0].text\"")
    );

    // A question something refers to is not deleted; the builder says where.
    add(
        &app,
        &csrf,
        &id,
        "text_entry",
        &[(
            "text",
            format!("Why ${{q://{q}/ChoiceGroup/SelectedChoices}}?").as_str(),
        )],
    )
    .await;
    let refused = post(
        &app,
        &csrf,
        &format!("/surveys/{id}/builder"),
        &[("op", "delete_question"), ("question_id", &q)],
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("refers to QID1"), "{}", refused.body);
}
