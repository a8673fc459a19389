use crate::{pairs, with_answers};
use survey::flow::{self, Cursor, Step};
use survey::sample::sample_definition;
use survey::{
    Answer, Block, BlockElement, Condition, EmbeddedField, EmbeddedValue, FlowElement, Operator,
    Provenance, ResponseData, SurveyDefinition,
};

fn page_questions(step: &Step) -> Vec<String> {
    match step {
        Step::Page(p) => p.questions.clone(),
        Step::End { message } => panic!("expected a page, got the end: {message}"),
    }
}

fn cursor(step: &Step) -> Cursor {
    match step {
        Step::Page(p) => p.cursor.clone(),
        Step::End { .. } => panic!("expected a page"),
    }
}

/// Walks to the end, returning the question ids of each page.
fn walk(definition: &SurveyDefinition, data: &ResponseData) -> (Vec<Vec<String>>, String) {
    let mut pages = Vec::new();
    let mut step = flow::start(definition, data);
    loop {
        match step {
            Step::Page(page) => {
                assert_eq!(page.number, pages.len() + 1);
                pages.push(page.questions.clone());
                step = flow::next(definition, &page.cursor, data);
            }
            Step::End { message } => return (pages, message),
        }
    }
}

#[test]
fn promoters_skip_the_detractor_follow_up() {
    let def = sample_definition();
    let data = with_answers(&[("QID3", Answer::Number(9.0))]);
    let (pages, message) = walk(&def, &data);
    assert_eq!(
        pages,
        vec![
            vec!["QID1", "QID3", "QID4"],
            vec!["QID5", "QID6", "QID7", "QID2"],
            vec!["QID9", "QID10", "QID11"],
        ]
    );
    assert_eq!(message, def.end_message);
}

#[test]
fn detractors_get_the_follow_up_page() {
    let def = sample_definition();
    let data = with_answers(&[("QID3", Answer::Number(6.0))]);
    let (pages, _) = walk(&def, &data);
    assert_eq!(pages.len(), 4);
    assert_eq!(pages[2], vec!["QID8"]);
}

#[test]
fn a_cursor_survives_json_and_rerenders_the_same_page() {
    let def = sample_definition();
    let data = ResponseData::default();
    let first = flow::start(&def, &data);
    let second = flow::next(&def, &cursor(&first), &data);
    let stored = serde_json::to_string(&cursor(&second)).unwrap();
    let restored: Cursor = serde_json::from_str(&stored).unwrap();
    let page = flow::page(&def, &restored).expect("page exists");
    assert_eq!(page.questions, page_questions(&second));
    assert_eq!(page.number, 2);
    assert!(flow::progress(&def, &cursor(&first)) < flow::progress(&def, &restored));
}

fn two_blocks(flow: Vec<FlowElement>) -> SurveyDefinition {
    let mut def = sample_definition();
    def.blocks = vec![
        Block {
            id: "A".into(),
            description: String::new(),
            elements: vec![
                BlockElement::Question { id: "QID2".into() }, // timing only: skipped
                BlockElement::PageBreak,
                BlockElement::Question { id: "QID3".into() },
                BlockElement::PageBreak,
                BlockElement::PageBreak,
                BlockElement::Question { id: "QID4".into() },
            ],
        },
        Block {
            id: "B".into(),
            description: String::new(),
            elements: vec![BlockElement::Question { id: "QID9".into() }],
        },
    ];
    def.questions
        .retain(|q| ["QID2", "QID3", "QID4", "QID9"].contains(&q.id.as_str()));
    def.flow = flow;
    def
}

#[test]
fn empty_flow_shows_every_block_in_order_and_skips_empty_pages() {
    let def = two_blocks(vec![]);
    let (pages, _) = walk(&def, &ResponseData::default());
    assert_eq!(pages, vec![vec!["QID3"], vec!["QID4"], vec!["QID9"]]);
}

#[test]
fn end_survey_inside_a_branch_ends_with_its_own_message() {
    let screen_out = Condition::Answer {
        question: "QID4".into(),
        statement: None,
        op: Operator::Selected,
        value: "1".into(), // recode 5 = "Very satisfied", by id
    };
    let def = two_blocks(vec![
        FlowElement::Block {
            block_id: "A".into(),
        },
        FlowElement::Group {
            description: "wrapper".into(),
            flow: vec![FlowElement::Branch {
                condition: screen_out,
                flow: vec![FlowElement::EndSurvey {
                    message: Some("Glad to hear it!".into()),
                }],
            }],
        },
        FlowElement::Block {
            block_id: "B".into(),
        },
    ]);
    let happy = with_answers(&[("QID4", crate::choices(&["1"]))]);
    let (pages, message) = walk(&def, &happy);
    assert_eq!(pages.len(), 2);
    assert_eq!(message, "Glad to hear it!");
    let unhappy = with_answers(&[("QID4", crate::choices(&["3"]))]);
    let (pages, message) = walk(&def, &unhappy);
    assert_eq!(pages.len(), 3);
    assert_eq!(message, def.end_message);
}

#[test]
fn a_cursor_for_a_removed_block_does_not_rerender() {
    let def = sample_definition();
    let first = flow::start(&def, &ResponseData::default());
    let mut edited = def.clone();
    edited.flow.remove(1);
    assert!(flow::page(&edited, &cursor(&first)).is_none());
    // Moving on still works: it continues after that position.
    assert!(matches!(
        flow::next(&edited, &cursor(&first), &ResponseData::default()),
        Step::Page(_) | Step::End { .. }
    ));
}

#[test]
fn embedded_data_from_the_query_string() {
    let mut def = sample_definition();
    def.flow.push(FlowElement::EmbeddedData {
        fields: vec![EmbeddedField {
            name: "CaseId".into(),
            value: EmbeddedValue::Fixed("ignored: declared earlier".into()),
        }],
    });
    let declared = flow::declared_embedded_fields(&def);
    let case = declared.iter().find(|f| f.name == "CaseId").unwrap();
    assert_eq!(case.value, EmbeddedValue::Url);

    let query = pairs(&[
        ("contactid", "lowercase"),
        ("ContactId", "003000000000001"),
        ("optout", "True"),
        ("Injected", "nope"),
    ]);
    let start = flow::initial_embedded_data(&def, &[(Provenance::Url, &query)]);
    let data = &start.embedded_data;
    assert_eq!(data["ContactId"], "003000000000001");
    assert_eq!(data["OptOut"], "True");
    assert_eq!(data["SurveySource"], "Sonde demo");
    assert!(!data.contains_key("Injected"));
    assert!(!data.contains_key("CaseId"));
    assert_eq!(start.provenance["ContactId"], Provenance::Url);
    assert_eq!(start.provenance["SurveySource"], Provenance::Survey);
}

#[test]
fn a_personal_links_contact_data_wins_over_the_query_string() {
    let def = sample_definition();
    let contact = pairs(&[("CaseId", "500000000000001")]);
    let query = pairs(&[("CaseId", "500000000000999"), ("OptOut", "True")]);
    let start = flow::initial_embedded_data(
        &def,
        &[(Provenance::Contact, &contact), (Provenance::Url, &query)],
    );
    assert_eq!(start.embedded_data["CaseId"], "500000000000001");
    assert_eq!(start.provenance["CaseId"], Provenance::Contact);
    // What the contact does not have, the link may still fill: unsigned.
    assert_eq!(start.embedded_data["OptOut"], "True");
    assert_eq!(start.provenance["OptOut"], Provenance::Url);
    assert!(!Provenance::Url.is_signed() && Provenance::Contact.is_signed());
}

#[test]
fn previous_replays_the_path_for_a_back_button() {
    let def = sample_definition();
    let data = with_answers(&[("QID3", Answer::Number(3.0))]);
    let first = flow::start(&def, &data);
    assert!(flow::previous(&def, &cursor(&first), &data).is_none());
    let second = flow::next(&def, &cursor(&first), &data);
    let third = flow::next(&def, &cursor(&second), &data);
    assert_eq!(page_questions(&third), vec!["QID8"]);
    let fourth = flow::next(&def, &cursor(&third), &data);
    let back = flow::previous(&def, &cursor(&fourth), &data).unwrap();
    assert_eq!(back.questions, vec!["QID8"]);
    assert_eq!(back.number, 3);
}

#[test]
fn display_logic_hides_questions_and_skips_pages_left_empty() {
    let mut def = sample_definition();
    let very_satisfied = Condition::Answer {
        question: "QID4".into(),
        statement: None,
        op: Operator::Selected,
        value: "1".into(),
    };
    for id in ["QID9", "QID10", "QID11"] {
        let q = def.questions.iter_mut().find(|q| q.id == id).unwrap();
        q.display_logic = Some(very_satisfied.clone());
    }
    def.questions
        .iter_mut()
        .find(|q| q.id == "QID11")
        .unwrap()
        .display_logic = None;
    assert!(survey::validate::check_definition(&def).is_ok());

    let happy = with_answers(&[
        ("QID3", Answer::Number(10.0)),
        ("QID4", crate::choices(&["1"])),
    ]);
    let (pages, _) = walk(&def, &happy);
    assert_eq!(pages[2], vec!["QID9", "QID10", "QID11"]);

    let neutral = with_answers(&[
        ("QID3", Answer::Number(10.0)),
        ("QID4", crate::choices(&["3"])),
    ]);
    let (pages, _) = walk(&def, &neutral);
    assert_eq!(pages[2], vec!["QID11"]);

    // The stored cursor re-renders exactly what was shown, whatever the answers are now.
    let first = flow::start(&def, &neutral);
    let second = flow::next(&def, &cursor(&first), &neutral);
    let third = flow::next(&def, &cursor(&second), &neutral);
    assert_eq!(
        flow::page(&def, &cursor(&third)).unwrap().questions,
        vec!["QID11"]
    );

    // With every question of the page hidden, the page is skipped.
    def.questions
        .iter_mut()
        .find(|q| q.id == "QID11")
        .unwrap()
        .display_logic = Some(very_satisfied);
    let (pages, _) = walk(&def, &neutral);
    assert_eq!(pages.len(), 2);
    assert!(survey::validate::check_required(&def, &neutral).is_empty());
}

#[test]
fn display_logic_on_the_same_page_is_flagged() {
    let mut def = sample_definition();
    def.questions
        .iter_mut()
        .find(|q| q.id == "QID4")
        .unwrap()
        .display_logic = Some(Condition::Answer {
        question: "QID3".into(),
        statement: None,
        op: Operator::IsNotEmpty,
        value: String::new(),
    });
    let warnings = survey::validate::check_definition(&def).unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.path == "questions[QID4].display_logic" && w.message.contains("QID3")),
        "{warnings:?}"
    );
}
