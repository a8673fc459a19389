//! Conditions without an exact Qualtrics form (nested deeper than Qualtrics' two levels,
//! negated groups, members in an order a left fold cannot build) are exported in an
//! equivalent form: the import reads back a condition that holds for exactly the same answers.

use proptest::prelude::*;
use survey::condition::evaluate;
use survey::qsf::export::{export, to_qsf_string};
use survey::qsf::import;
use survey::{
    Answer, Block, BlockElement, Choice, Condition, FlowElement, Operator, Question, QuestionKind,
    ResponseData, SurveyDefinition, SurveyOptions, TextContent,
};

fn survey_with_branch(condition: Condition) -> SurveyDefinition {
    let choice = |id: &str| Choice {
        id: id.into(),
        text: format!("Choice {id}"),
        recode: None,
        text_entry: false,
    };
    SurveyDefinition {
        name: "Logic".into(),
        language: "EN".into(),
        blocks: vec![Block {
            id: "BL_1".into(),
            description: String::new(),
            elements: vec![
                BlockElement::Question { id: "QID1".into() },
                BlockElement::Question { id: "QID2".into() },
            ],
        }],
        questions: vec![
            Question {
                id: "QID1".into(),
                export_tag: "Q1".into(),
                text: "Pick".into(),
                required: false,
                display_logic: None,
                kind: QuestionKind::MultipleChoice {
                    multiple: true,
                    choices: vec![choice("1"), choice("2"), choice("3")],
                },
            },
            Question {
                id: "QID2".into(),
                export_tag: "Q2".into(),
                text: "Say".into(),
                required: false,
                display_logic: None,
                kind: QuestionKind::TextEntry {
                    multiline: false,
                    content: TextContent::Any,
                },
            },
        ],
        flow: vec![FlowElement::Branch {
            condition,
            flow: vec![FlowElement::Block {
                block_id: "BL_1".into(),
            }],
        }],
        end_message: "Thanks".into(),
        options: SurveyOptions::default(),
    }
}

fn reimported_condition(def: &SurveyDefinition) -> Condition {
    let back = import(&to_qsf_string(def)).unwrap().definition;
    match &back.flow[0] {
        FlowElement::Branch { condition, .. } => condition.clone(),
        other => panic!("{other:?}"),
    }
}

fn selected(id: &str) -> Condition {
    Condition::Answer {
        question: "QID1".into(),
        statement: None,
        op: Operator::Selected,
        value: id.into(),
    }
}

fn text(op: Operator, value: &str) -> Condition {
    Condition::Answer {
        question: "QID2".into(),
        statement: None,
        op,
        value: value.into(),
    }
}

fn any(conditions: Vec<Condition>) -> Condition {
    Condition::Any { conditions }
}

fn all(conditions: Vec<Condition>) -> Condition {
    Condition::All { conditions }
}

fn not(c: Condition) -> Condition {
    Condition::Not {
        condition: Box::new(c),
    }
}

#[test]
fn nested_groups_are_flattened_and_reordered() {
    // any(any(a, b), c): a fold always absorbs the inner "any".
    let def = survey_with_branch(any(vec![
        any(vec![selected("1"), selected("2")]),
        selected("3"),
    ]));
    let exported = export(&def);
    assert_eq!(exported.warnings.len(), 1, "{:?}", exported.warnings);
    assert!(exported.warnings[0].contains("equivalent form"));
    assert_eq!(
        reimported_condition(&def),
        any(vec![selected("1"), selected("2"), selected("3")])
    );

    // all(a, any(b, c)) is two condition sets ("a", then "b or c"): exact.
    let exact = all(vec![selected("1"), any(vec![selected("2"), selected("3")])]);
    let def = survey_with_branch(exact.clone());
    assert!(export(&def).warnings.is_empty());
    assert_eq!(reimported_condition(&def), exact);

    // any(a, all(b, any(c, d))) has no fold; groups are moved ahead of plain expressions,
    // giving the single set "c or d, and b, or a".
    let c_or_d = any(vec![selected("3"), text(Operator::IsEmpty, "")]);
    let def = survey_with_branch(any(vec![
        selected("1"),
        all(vec![selected("2"), c_or_d.clone()]),
    ]));
    assert_eq!(
        reimported_condition(&def),
        any(vec![all(vec![c_or_d, selected("2")]), selected("1")])
    );
}

#[test]
fn negations_are_pushed_down_to_opposite_operators() {
    let def = survey_with_branch(not(all(vec![selected("1"), text(Operator::IsEmpty, "")])));
    assert_eq!(
        reimported_condition(&def),
        any(vec![
            Condition::Answer {
                question: "QID1".into(),
                statement: None,
                op: Operator::NotSelected,
                value: "1".into(),
            },
            text(Operator::IsNotEmpty, ""),
        ])
    );
}

#[test]
fn conditions_without_any_form_are_reported() {
    // Qualtrics logic has no metadata conditions the importer reads, and "not equals" is not
    // the opposite of "equals" for a missing answer, so `not equals` cannot be negated.
    for condition in [
        Condition::Metadata {
            field: "Finished".into(),
            op: Operator::Equals,
            value: "1".into(),
        },
        not(text(Operator::Equals, "x")),
        any(vec![]),
    ] {
        let def = survey_with_branch(condition.clone());
        let exported = export(&def);
        assert!(
            exported
                .warnings
                .iter()
                .any(|w| w.contains("no Qualtrics form")),
            "{condition:?}: {:?}",
            exported.warnings
        );
        assert_eq!(reimported_condition(&def), all(vec![]), "{condition:?}");
    }
}

fn leaf() -> impl Strategy<Value = Condition> {
    prop_oneof![
        prop::sample::select(vec!["1", "2", "3"]).prop_map(selected),
        prop::sample::select(vec!["1", "2"]).prop_map(|id| Condition::Answer {
            question: "QID1".into(),
            statement: None,
            op: Operator::NotSelected,
            value: id.into(),
        }),
        prop::sample::select(vec![
            Operator::IsEmpty,
            Operator::IsNotEmpty,
            Operator::Equals,
            Operator::Contains,
        ])
        .prop_map(|op| text(op, "a")),
        Just(text(Operator::Displayed, "")),
        prop::sample::select(vec![
            Operator::Equals,
            Operator::IsEmpty,
            Operator::IsNotEmpty
        ])
        .prop_map(|op| Condition::EmbeddedData {
            field: "F".into(),
            op,
            value: "x".into(),
        }),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(all),
            prop::collection::vec(inner.clone(), 1..4).prop_map(any),
            inner.prop_map(not),
        ]
    })
}

/// Every combination of answers the leaves tell apart.
fn responses() -> Vec<ResponseData> {
    let mut out = Vec::new();
    let picks: [Option<&[&str]>; 4] = [None, Some(&[]), Some(&["1"]), Some(&["2", "3"])];
    for pick in picks {
        for said in [None, Some(""), Some("a"), Some("ba")] {
            for field in [None, Some(""), Some("x")] {
                let mut data = ResponseData::default();
                if let Some(pick) = pick {
                    data.answers.insert(
                        "QID1".into(),
                        Answer::Choices {
                            selected: pick.iter().map(|s| s.to_string()).collect(),
                            text: Default::default(),
                        },
                    );
                }
                if let Some(said) = said {
                    data.answers
                        .insert("QID2".into(), Answer::Text(said.to_string()));
                }
                if let Some(field) = field {
                    data.embedded_data.insert("F".into(), field.to_string());
                }
                out.push(data);
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// When the export finds a form, the condition read back holds for the same answers.
    #[test]
    fn exported_conditions_hold_for_the_same_answers(condition in condition()) {
        let def = survey_with_branch(condition.clone());
        let exported = export(&def);
        prop_assume!(!exported.warnings.iter().any(|w| w.contains("no Qualtrics form")));
        let back = reimported_condition(&def);
        for data in responses() {
            prop_assert_eq!(
                evaluate(&condition, &def, &data, None),
                evaluate(&back, &def, &data, None),
                "{:?} read back as {:?} differs for {:?}", condition, back, data
            );
        }
    }
}
