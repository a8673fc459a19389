//! Respondent pages through plain HTTP form posts (what a browser without JavaScript does):
//! embedded data from the link, per-page validation that keeps answers, incomplete
//! responses, personal links and opt-out.

use crate::harness::{backends, hidden, submit, Backend, TestApp};
use engine::Role;
use std::collections::BTreeMap;
use survey::flow::{self, Step};
use survey::form::{field_name, FieldPart};
use survey::{Answer, ResponseData, SurveyDefinition};

/// The form fields a browser would send for these answers.
pub fn form_fields(
    def: &SurveyDefinition,
    questions: &[String],
    answers: &BTreeMap<String, Answer>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for qid in questions {
        let Some(answer) = answers.get(qid) else {
            continue;
        };
        let q = def.questions.iter().find(|q| &q.id == qid).unwrap();
        match answer {
            Answer::Choices { selected, text } => {
                for c in selected {
                    out.push((field_name(&q.id, FieldPart::Answer), c.clone()));
                }
                for (c, t) in text {
                    out.push((field_name(&q.id, FieldPart::ChoiceText(c)), t.clone()));
                }
            }
            Answer::Matrix { rows } => {
                for (st, v) in rows {
                    out.push((field_name(&q.id, FieldPart::Statement(st)), v.clone()));
                }
            }
            Answer::Slider { values } => {
                for (st, v) in values {
                    out.push((field_name(&q.id, FieldPart::Statement(st)), v.to_string()));
                }
            }
            Answer::Number(n) => out.push((q.id.clone(), format!("{n}"))),
            Answer::Text(t) => out.push((q.id.clone(), t.clone())),
            Answer::Timing { .. } => {}
        }
    }
    out
}

/// Walks the whole survey, answering with `answers`; returns the end page.
pub(crate) async fn walk(
    app: &TestApp,
    survey_id: &str,
    def: &SurveyDefinition,
    first: String,
    answers: &BTreeMap<String, Answer>,
) -> String {
    let mut html = first;
    let mut data = ResponseData::default();
    let mut step = flow::start(def, &data);
    while let Step::Page(page) = step {
        let fields = form_fields(def, &page.questions, answers);
        for q in &page.questions {
            if let Some(a) = answers.get(q) {
                data.answers.insert(q.clone(), a.clone());
            }
        }
        let (status, body) = submit(app, survey_id, &html, fields).await;
        assert_eq!(status, 200, "page {} refused:\n{body}", page.number);
        html = body;
        step = flow::next(def, &page.cursor, &data);
    }
    html
}

#[tokio::test]
async fn anonymous_link_fills_embedded_data_and_records_every_answer() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let id = app.sample_survey(&token).await;
        let def = survey::sample::sample_definition();
        let mut answers = sonde::bench::complete_answers(&def);
        // A detractor score takes the branch to the follow-up question.
        answers.insert("QID3".into(), Answer::Number(3.0));
        answers.remove("QID2");
        let first = app
            .client
            .get(app.url(&format!(
                "/s/{id}?ContactId=0035g00000AbCdEAAA&OptOut=True&NotDeclared=x"
            )))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let end = walk(&app, &id, &def, first, &answers).await;
        assert!(end.contains("Thank"), "{end}");
        let list = app
            .get_json(&token, &format!("/api/v1/surveys/{id}/responses"))
            .await;
        let r = &list["responses"][0];
        assert_eq!(r["status"], "complete", "{backend:?}: {r}");
        assert_eq!(r["embeddedData"]["ContactId"], "0035g00000AbCdEAAA");
        assert_eq!(r["embeddedData"]["OptOut"], "True");
        assert!(r["embeddedData"].get("NotDeclared").is_none());
        assert_eq!(r["answers"]["QID3"], 3.0);
        assert!(
            r["answers"]["QID8"].is_string(),
            "the detractor branch was answered: {r}"
        );
        assert!(
            r["answers"]["QID2"]["page_seconds"].is_number(),
            "timing recorded: {r}"
        );
        assert_eq!(r["metadata"]["distribution_channel"], "anonymous");
    }
}

#[tokio::test]
async fn a_refused_page_shows_messages_and_keeps_answers() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, token) = app.org_user(Role::Editor).await;
    let id = app.sample_survey(&token).await;
    let first = app
        .client
        .get(app.url(&format!("/s/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // NPS (required) answered, CSAT (required) left out.
    let (status, page) = submit(&app, &id, &first, vec![("QID3".into(), "8".into())]).await;
    assert_eq!(status, 422);
    assert!(page.contains("Please answer this question."), "{page}");
    assert!(
        page.contains("id=\"QID3-8\" name=\"QID3\" value=\"8\" checked"),
        "the NPS answer is kept:\n{page}"
    );
    // The same page again; answering CSAT now moves on.
    let (status, page2) = submit(
        &app,
        &id,
        &page,
        vec![("QID3".into(), "8".into()), ("QID4".into(), "1".into())],
    )
    .await;
    assert_eq!(status, 200, "{page2}");
    assert_eq!(hidden(&page2, "_page"), "2");
}

#[tokio::test]
async fn leaving_midway_becomes_incomplete() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let id = app.sample_survey(&token).await;
        let first = app
            .client
            .get(app.url(&format!("/s/{id}?ContactId=003x")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let (status, _) = submit(
            &app,
            &id,
            &first,
            vec![("QID3".into(), "10".into()), ("QID4".into(), "1".into())],
        )
        .await;
        assert_eq!(status, 200);
        // Nothing closes before the survey's window passes...
        assert_eq!(app.sonde.close_abandoned_responses().await.unwrap(), 0);
        // ...and once it has, the response is incomplete with the answers it had.
        let hours = survey::sample::sample_definition()
            .options
            .incomplete_after_hours as i64;
        let later = store::now_ms() + (hours + 1) * 3_600_000;
        assert_eq!(
            app.sonde
                .store
                .close_expired_responses(later)
                .await
                .unwrap()
                .len(),
            1
        );
        let list = app
            .get_json(
                &token,
                &format!("/api/v1/surveys/{id}/responses?status=incomplete"),
            )
            .await;
        let r = &list["responses"][0];
        assert_eq!(r["status"], "incomplete", "{backend:?}");
        assert_eq!(r["answers"]["QID3"], 10.0);
        assert_eq!(r["metadata"]["finished"], false);
    }
}

#[tokio::test]
async fn personal_links_and_opt_out() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (admin, token) = app.org_user(Role::Editor).await;
    let id = app.sample_survey(&token).await;
    let (contact, _) = app
        .sonde
        .save_contact(&admin, &serde_json::json!({"firstName": "Ada", "email": "ada@example.com", "embeddedData": {"AccountId": "001A"}}), None)
        .await
        .unwrap();
    let link: serde_json::Value = app
        .post(&token, &format!("/api/v1/surveys/{id}/links"))
        .json(&serde_json::json!({"contactId": contact.id}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = link["url"].as_str().unwrap().to_string();
    let fresh = reqwest::Client::new();
    let first = fresh.get(&url).send().await.unwrap().text().await.unwrap();
    let def = survey::sample::sample_definition();
    let answers = sonde::bench::complete_answers(&def);
    let end = walk(&app, &id, &def, first, &answers).await;
    assert!(end.contains("Thank"));
    let again = fresh.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(again.contains("already completed"), "{again}");
    let (_, responses, _) = app
        .sonde
        .responses(&admin, &id, None, None, 10)
        .await
        .unwrap();
    assert_eq!(responses.len(), 1);
    assert_eq!(
        responses[0].contact_id.as_deref(),
        Some(contact.id.as_str())
    );
    assert_eq!(
        responses[0]
            .data
            .embedded_data
            .get("AccountId")
            .map(String::as_str),
        Some("001A")
    );

    let optout = app.sonde.opt_out_link(&admin.org_id, &contact.id).unwrap();
    let path = optout.strip_prefix(&app.base).unwrap().to_string();
    let mut tampered = path.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(
        fresh.get(app.url(&tampered)).send().await.unwrap().status(),
        403
    );
    assert_eq!(
        fresh
            .post(app.url(&tampered))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    // Looking at the page changes nothing; confirming unsubscribes.
    assert_eq!(
        fresh.get(app.url(&path)).send().await.unwrap().status(),
        200
    );
    assert!(
        !app.sonde
            .contact(&admin, &contact.id)
            .await
            .unwrap()
            .unsubscribed
    );
    let r = fresh.post(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("unsubscribed"));
    assert!(
        app.sonde
            .contact(&admin, &contact.id)
            .await
            .unwrap()
            .unsubscribed
    );
}
