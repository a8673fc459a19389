use super::*;
use crate::validate::check_definition;

fn survey() -> SurveyDefinition {
    serde_json::from_str(
        r#"{
  "name": "Builder",
  "blocks": [{"id": "BL_1", "elements": [{"type": "question", "id": "QID1"}, {"type": "question", "id": "QID2"}]}],
  "questions": [
    {"id": "QID1", "export_tag": "NPS", "type": "nps", "text": "Recommend us?"},
    {"id": "QID2", "export_tag": "Why", "type": "text_entry", "text": "You gave ${q://QID1/ChoiceGroup/SelectedChoices}: why?"}],
  "flow": [{"type": "block", "block_id": "BL_1"}]
}"#,
    )
    .unwrap()
}

fn question(json: &str) -> Question {
    serde_json::from_str(json).unwrap()
}

#[test]
fn a_question_added_gets_the_next_id_and_a_tag_and_the_survey_stays_valid() {
    let mut def = survey();
    let added = apply(
        &mut def,
        Edit::AddQuestion {
            block_id: "BL_1".into(),
            question: question(r#"{"id": "", "export_tag": "", "type": "multiple_choice", "text": "Which?", "choices": [{"id": "1", "text": "Tea"}, {"id": "2", "text": "Coffee", "recode": "7"}]}"#),
            position: Some(0),
        },
    )
    .unwrap();
    assert_eq!(added.created.as_deref(), Some("QID3"));
    assert_eq!(def.question("QID3").unwrap().export_tag, "Q3");
    assert_eq!(
        def.blocks[0].elements[0],
        BlockElement::Question { id: "QID3".into() }
    );
    check_definition(&def).unwrap();
}

#[test]
fn a_block_is_added_to_the_flow_after_the_one_named() {
    let mut def = survey();
    let id = apply(
        &mut def,
        Edit::AddBlock {
            description: "More".into(),
            after: Some("BL_1".into()),
        },
    )
    .unwrap()
    .created
    .unwrap();
    assert_eq!(id, "BL_2");
    assert_eq!(def.flow.len(), 2);
    let refused = apply(
        &mut def,
        Edit::AddBlock {
            description: String::new(),
            after: Some("BL_9".into()),
        },
    )
    .unwrap_err();
    assert_eq!(refused[0].field, "after");
}

#[test]
fn a_question_something_refers_to_is_not_deleted_and_nothing_changes() {
    let mut def = survey();
    let before = def.clone();
    let refused = apply(
        &mut def,
        Edit::DeleteQuestion {
            question_id: "QID1".into(),
        },
    )
    .unwrap_err();
    assert_eq!(refused[0].field, "questions[QID2].text");
    assert_eq!(def, before);
    // A branch on it refuses too.
    let mut def = survey();
    def.questions[1].text = "Why?".into();
    def.flow.push(serde_json::from_str(r#"{"type": "branch", "condition": {"type": "answer", "question": "QID1", "op": "greater_or_equal", "value": "9"}, "flow": [{"type": "end_survey"}]}"#).unwrap());
    let refused = apply(
        &mut def,
        Edit::DeleteQuestion {
            question_id: "QID1".into(),
        },
    )
    .unwrap_err();
    assert_eq!(refused[0].field, "flow[1].condition");
    // Nothing refers to QID2: it goes, from its block too.
    apply(
        &mut def,
        Edit::DeleteQuestion {
            question_id: "QID2".into(),
        },
    )
    .unwrap();
    assert!(def.question("QID2").is_none());
    assert_eq!(def.blocks[0].elements.len(), 1);
}

#[test]
fn copies_moves_and_page_breaks() {
    let mut def = survey();
    let copy = apply(
        &mut def,
        Edit::CopyQuestion {
            question_id: "QID1".into(),
        },
    )
    .unwrap()
    .created
    .unwrap();
    assert_eq!(
        def.blocks[0].elements[1],
        BlockElement::Question { id: copy.clone() }
    );
    assert_eq!(def.question(&copy).unwrap().export_tag, "NPS (copy)");
    apply(
        &mut def,
        Edit::MoveQuestion {
            question_id: copy.clone(),
            block_id: "BL_1".into(),
            position: 99,
        },
    )
    .unwrap();
    assert_eq!(
        def.blocks[0].elements.last(),
        Some(&BlockElement::Question { id: copy })
    );
    apply(
        &mut def,
        Edit::AddPageBreak {
            block_id: "BL_1".into(),
            position: 1,
        },
    )
    .unwrap();
    assert_eq!(def.blocks[0].elements[1], BlockElement::PageBreak);
    check_definition(&def).unwrap();
}

#[test]
fn a_flow_declaring_an_embedded_data_name_twice_is_refused_naming_the_second() {
    let mut def = survey();
    let flow: Vec<FlowElement> = serde_json::from_str(r#"[
        {"type": "embedded_data", "fields": [{"name": "sfContactId", "value": {"from": "url"}}]},
        {"type": "block", "block_id": "BL_1"},
        {"type": "branch", "condition": {"type": "embedded_data", "field": "sfContactId", "op": "is_not_empty"},
         "flow": [{"type": "embedded_data", "fields": [{"name": "sfContactId", "value": {"from": "url"}}]}]}]"#).unwrap();
    let refused = apply(&mut def, Edit::SetFlow { flow }).unwrap_err();
    assert_eq!(refused[0].field, "flow[2].flow[0].fields[0].name");
}

#[test]
fn a_block_whose_question_is_piped_elsewhere_is_not_deleted() {
    let mut def = survey();
    apply(
        &mut def,
        Edit::AddBlock {
            description: String::new(),
            after: None,
        },
    )
    .unwrap();
    apply(
        &mut def,
        Edit::MoveQuestion {
            question_id: "QID1".into(),
            block_id: "BL_2".into(),
            position: 0,
        },
    )
    .unwrap();
    let refused = apply(
        &mut def,
        Edit::DeleteBlock {
            block_id: "BL_2".into(),
        },
    )
    .unwrap_err();
    assert!(refused[0].message.contains("QID1"), "{refused:?}");
    def.questions[1].text = "Why?".into();
    apply(
        &mut def,
        Edit::DeleteBlock {
            block_id: "BL_2".into(),
        },
    )
    .unwrap();
    assert!(def.question("QID1").is_none());
    assert_eq!(def.flow.len(), 1);
    check_definition(&def).unwrap();
}

#[test]
fn the_end_message_and_a_block_name_are_set() {
    let mut def = survey();
    apply(
        &mut def,
        Edit::SetEndMessage {
            end_message: "Thanks, ${m://FirstName}!".into(),
        },
    )
    .unwrap();
    assert_eq!(def.end_message, "Thanks, ${m://FirstName}!");
    apply(
        &mut def,
        Edit::SetBlockDescription {
            block_id: "BL_1".into(),
            description: "About you".into(),
        },
    )
    .unwrap();
    assert_eq!(def.blocks[0].description, "About you");
    let refused = apply(
        &mut def,
        Edit::SetBlockDescription {
            block_id: "BL_9".into(),
            description: String::new(),
        },
    )
    .unwrap_err();
    assert_eq!(refused[0].field, "block_id");
}

#[test]
fn a_page_break_is_deleted_only_where_there_is_one() {
    let mut def = survey();
    apply(
        &mut def,
        Edit::AddPageBreak {
            block_id: "BL_1".into(),
            position: 1,
        },
    )
    .unwrap();
    assert_eq!(def.blocks[0].elements[1], BlockElement::PageBreak);
    let before = def.clone();
    let refused = apply(
        &mut def,
        Edit::DeletePageBreak {
            block_id: "BL_1".into(),
            position: 0,
        },
    )
    .unwrap_err();
    assert_eq!(refused[0].field, "position");
    assert_eq!(def, before, "a refusal changes nothing");
    apply(
        &mut def,
        Edit::DeletePageBreak {
            block_id: "BL_1".into(),
            position: 1,
        },
    )
    .unwrap();
    assert_eq!(def.blocks[0].elements.len(), 2);
}

#[test]
fn a_block_moves_among_the_blocks() {
    let mut def = survey();
    for _ in 0..2 {
        apply(
            &mut def,
            Edit::AddBlock {
                description: String::new(),
                after: None,
            },
        )
        .unwrap();
    }
    apply(
        &mut def,
        Edit::MoveBlock {
            block_id: "BL_3".into(),
            position: 0,
        },
    )
    .unwrap();
    let order: Vec<&str> = def.blocks.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(order, ["BL_3", "BL_1", "BL_2"]);
    apply(
        &mut def,
        Edit::MoveBlock {
            block_id: "BL_3".into(),
            position: 99,
        },
    )
    .unwrap();
    assert_eq!(def.blocks[2].id, "BL_3");
    check_definition(&def).unwrap();
}

#[test]
fn a_blank_row_a_repeated_id_and_a_backwards_slider_are_refused_by_field() {
    let mut def = survey();
    let before = def.clone();
    let refused = apply(
        &mut def,
        Edit::AddQuestion {
            block_id: "BL_1".into(),
            question: question(r#"{"id": "", "export_tag": "", "type": "multiple_choice", "text": "Which?", "choices": [{"id": "1", "text": "Tea"}, {"id": "2", "text": " "}]}"#),
            position: None,
        },
    )
    .unwrap_err();
    assert_eq!(refused[0].field, "question.choices[1].text");
    let refused = apply(
        &mut def,
        Edit::ReplaceQuestion {
            question_id: "QID1".into(),
            question: question(
                r#"{"id": "QID1", "export_tag": "M", "type": "matrix", "text": "Agree?", "statements": [{"id": "1", "text": "Kind"}], "scale": [{"id": "1", "text": "Yes"}, {"id": "1", "text": ""}]}"#,
            ),
        },
    )
    .unwrap_err();
    let fields: Vec<&str> = refused.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["question.scale[1].text", "question.scale[1].id"]);
    let refused = apply(
        &mut def,
        Edit::ReplaceQuestion {
            question_id: "QID1".into(),
            question: question(
                r#"{"id": "QID1", "export_tag": "S", "type": "slider", "text": "How?", "min": 5, "max": 5, "step": 0, "statements": [{"id": "1", "text": ""}]}"#,
            ),
        },
    )
    .unwrap_err();
    let fields: Vec<&str> = refused.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["question.max", "question.step"]);
    assert_eq!(def, before);
}

#[test]
fn the_new_ops_read_as_the_api_sends_them() {
    let edit: Edit =
        serde_json::from_str(r#"{"op": "set_end_message", "end_message": "Bye"}"#).unwrap();
    assert_eq!(
        edit,
        Edit::SetEndMessage {
            end_message: "Bye".into()
        }
    );
    let edit: Edit =
        serde_json::from_str(r#"{"op": "move_block", "block_id": "BL_1", "position": 0}"#).unwrap();
    assert!(matches!(edit, Edit::MoveBlock { .. }));
}
