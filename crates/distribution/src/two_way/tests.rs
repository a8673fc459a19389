use super::*;
use std::collections::BTreeMap;
use survey::ResponseData;

fn survey() -> SurveyDefinition {
    survey::native::parse(
        r#"{
        "name": "Support by text",
        "blocks": [
            {"id": "BL_1", "elements": [
                {"type": "question", "id": "QID1"}, {"type": "question", "id": "QID2"},
                {"type": "page_break"},
                {"type": "question", "id": "QID3"}, {"type": "question", "id": "QID9"}
            ]},
            {"id": "BL_detractor", "elements": [{"type": "question", "id": "QID4"}]},
            {"id": "BL_end", "elements": [{"type": "question", "id": "QID5"}]}
        ],
        "questions": [
            {"id": "QID1", "export_tag": "Intro", "type": "descriptive",
             "text": "<p>Hi ${m://FirstName}!</p>"},
            {"id": "QID2", "export_tag": "NPS", "type": "nps", "required": true,
             "text": "How likely are you to recommend us?",
             "low_label": "Not likely", "high_label": "Very likely"},
            {"id": "QID3", "export_tag": "Solved", "type": "multiple_choice",
             "text": "Did we <b>solve</b> it?",
             "choices": [{"id": "1", "text": "Yes"}, {"id": "2", "text": "No"},
                         {"id": "7", "text": "Not sure"}]},
            {"id": "QID9", "export_tag": "T", "type": "timing", "text": "time"},
            {"id": "QID4", "export_tag": "Why", "type": "text_entry", "text": "What went wrong?"},
            {"id": "QID5", "export_tag": "Mail", "type": "text_entry", "content": "email",
             "text": "Your email for the case summary?",
             "display_logic": {"type": "answer", "question": "QID3", "op": "selected", "value": "1"}}
        ],
        "flow": [
            {"type": "block", "block_id": "BL_1"},
            {"type": "branch",
             "condition": {"type": "answer", "question": "QID2", "op": "less_or_equal", "value": "6"},
             "flow": [{"type": "block", "block_id": "BL_detractor"}]},
            {"type": "block", "block_id": "BL_end"}
        ],
        "end_message": "Thanks ${m://FirstName}."
    }"#,
    )
    .unwrap()
}

/// Plays a conversation: each reply is read against the question asked, recorded, and the
/// next message taken; returns every message sent.
fn converse(definition: &SurveyDefinition, replies: &[&str]) -> (Vec<String>, ResponseData) {
    let contact = BTreeMap::from([("FirstName".to_string(), "Ana".to_string())]);
    let mut data = ResponseData::default();
    let mut sent = Vec::new();
    let mut turn = start(&PipeContext {
        contact: &contact,
        ..PipeContext::new(definition, &data)
    });
    let mut replies = replies.iter();
    loop {
        let position = match turn {
            Turn::End { text } => {
                sent.push(text);
                return (sent, data);
            }
            Turn::Ask { position, text, .. } => {
                sent.push(text);
                position
            }
        };
        let question = question_at(definition, &position).unwrap();
        loop {
            let reply = replies.next().expect("a reply for each question");
            match read_reply(question, reply) {
                Reply::Answer(answer) => {
                    data.answers.insert(question.id.clone(), answer);
                    break;
                }
                Reply::Reask { hint } => sent.push(hint),
            }
        }
        turn = next(
            &PipeContext {
                contact: &contact,
                ..PipeContext::new(definition, &data)
            },
            &position,
        );
    }
}

#[test]
fn a_promoter_walks_the_flow_one_question_at_a_time() {
    let (sent, data) = converse(&survey(), &["9", "yes", "ana@example.com"]);
    assert_eq!(
        sent,
        vec![
            "Hi Ana!\n\nHow likely are you to recommend us?\nReply 0-10 (0 = Not likely, 10 = Very likely)",
            "Did we solve it?\n1) Yes 2) No 3) Not sure",
            "Your email for the case summary?",
            "Thanks Ana.",
        ]
    );
    assert_eq!(data.answers["QID2"], Answer::Number(9.0));
    assert_eq!(
        data.answers["QID3"],
        Answer::Choices {
            selected: vec!["1".into()],
            text: Default::default()
        }
    );
    assert_eq!(data.answers["QID5"], Answer::Text("ana@example.com".into()));
}

#[test]
fn a_detractor_gets_the_branch_and_display_logic_hides_the_rest() {
    let (sent, data) = converse(&survey(), &["eleven", "3", "2", "Too slow"]);
    assert_eq!(sent[1], "Please reply with a number from 0 to 10.");
    assert_eq!(sent[2], "Did we solve it?\n1) Yes 2) No 3) Not sure");
    assert_eq!(sent[3], "What went wrong?");
    assert_eq!(
        sent[4], "Thanks Ana.",
        "QID5 is shown only to those who said Yes"
    );
    assert_eq!(data.answers.len(), 3);
}

#[test]
fn a_reply_that_does_not_fit_is_asked_again_at_the_same_place() {
    let definition = survey();
    let data = ResponseData::default();
    let Turn::Ask { position, .. } = start(&PipeContext::new(&definition, &data)) else {
        panic!("asks first");
    };
    let nps = question_at(&definition, &position).unwrap();
    assert_eq!(nps.id, "QID2");
    for bad in ["11", "9.5", "nine", "", "-1"] {
        assert_eq!(
            read_reply(nps, bad),
            Reply::Reask {
                hint: "Please reply with a number from 0 to 10.".into()
            },
            "{bad:?}"
        );
    }
    assert_eq!(read_reply(nps, " 10 "), Reply::Answer(Answer::Number(10.0)));
    assert_eq!(read_reply(nps, "0"), Reply::Answer(Answer::Number(0.0)));
}

fn picked(reply: Reply) -> String {
    match reply {
        Reply::Answer(Answer::Choices { selected, .. }) => selected.join(","),
        other => format!("{other:?}"),
    }
}

#[test]
fn a_choice_is_read_by_number_or_by_text() {
    let definition = survey();
    let q = definition.question("QID3").unwrap();
    assert_eq!(picked(read_reply(q, "2")), "2");
    assert_eq!(
        picked(read_reply(q, "3)")),
        "7",
        "numbers are positions, not ids"
    );
    assert_eq!(picked(read_reply(q, " 1. ")), "1");
    assert_eq!(picked(read_reply(q, "NOT SURE")), "7");
    assert_eq!(picked(read_reply(q, "yes")), "1");
    for bad in ["4", "0", "maybe", ""] {
        assert_eq!(
            read_reply(q, bad),
            Reply::Reask {
                hint: "Please reply with a number from 1 to 3.".into()
            }
        );
    }
    // A number is a position first, then a choice's text.
    let mut numeric = q.clone();
    numeric.kind = QuestionKind::MultipleChoice {
        multiple: false,
        choices: serde_json::from_str(r#"[{"id": "a", "text": "10"}, {"id": "b", "text": "20"}]"#)
            .unwrap(),
    };
    assert_eq!(picked(read_reply(&numeric, "2")), "b");
    assert_eq!(picked(read_reply(&numeric, "10")), "a");
}

#[test]
fn text_entry_takes_the_reply_within_its_content() {
    let definition = survey();
    let why = definition.question("QID4").unwrap();
    assert_eq!(
        read_reply(why, "  Too slow \n"),
        Reply::Answer(Answer::Text("Too slow".into()))
    );
    let email = definition.question("QID5").unwrap();
    assert_eq!(
        read_reply(email, "ana at example"),
        Reply::Reask {
            hint: "Please reply with an email address.".into()
        }
    );
    assert_eq!(
        read_reply(why, " "),
        Reply::Reask {
            hint: "Please reply with your answer.".into()
        }
    );
}

#[test]
fn questions_a_reply_cannot_answer_are_refused_by_name() {
    assert_eq!(check_survey(&survey()), Ok(()));
    let found: Vec<String> = check_survey(&survey::sample::sample_definition())
        .unwrap_err()
        .into_iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        found,
        vec![
            "questions[QID5]: a multiple-answer choice question cannot be answered by text",
            "questions[QID6]: a matrix question cannot be answered by text",
            "questions[QID7]: a slider question cannot be answered by text",
        ]
    );
    let mut nothing = survey();
    nothing.blocks.retain(|b| b.id == "BL_1");
    nothing.blocks[0].elements.truncate(1);
    assert_eq!(check_survey(&nothing).unwrap_err()[0].field, "questions");
}
