//! Property: for any survey the importer can produce, `import(export(def)) == def`.
//!
//! The generator makes importer-normal definitions: texts as the importer leaves them
//! (trimmed and sanitized), choices with unique ids, matrix statements and slider
//! statements without recodes, and conditions built by the importer's own left-to-right join
//! (the only shape Qualtrics logic has).

use proptest::prelude::*;
use survey::html;
use survey::qsf::export::{export, to_qsf_string};
use survey::qsf::import;
use survey::{
    Block, BlockElement, Choice, Condition, EmbeddedField, EmbeddedValue, FlowElement, Operator,
    Question, QuestionKind, SurveyDefinition, SurveyOptions, TextContent,
};

/// Text as the importer leaves question and choice text: trimmed, then sanitized (and
/// unchanged by doing so again).
fn text() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        4 => "[A-Za-z0-9]{1,8}",
        1 => Just("&".to_string()),
        1 => Just("<".to_string()),
        1 => Just("\"quoted\"".to_string()),
        1 => Just("<b>bold</b>".to_string()),
        1 => Just("<p>para</p>".to_string()),
        1 => Just("${q://QID1/ChoiceGroup/SelectedChoices}".to_string()),
        1 => Just("${e://Field/CaseId}".to_string()),
        1 => Just("é—ü".to_string()),
    ];
    prop::collection::vec(word, 1..6)
        .prop_map(|words| html::sanitize(words.join(" ").trim()))
        .prop_filter("sanitized text is stable", |t| {
            !t.is_empty() && html::sanitize(t.trim()) == *t
        })
}

/// NPS end labels are read back as plain text: whitespace collapsed.
fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[A-Za-z&<>'\" ]{1,20}".prop_map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")),
    ]
}

fn choices(
    n: std::ops::Range<usize>,
    recodes: bool,
    text_entry: bool,
) -> impl Strategy<Value = Vec<Choice>> {
    // Ids are distinct numbers in any order, so the export must keep the authored order.
    (
        Just(
            (1..=30)
                .map(|n| n.to_string())
                .chain(["x1", "other", "Q-7", "é"].map(String::from))
                .collect::<Vec<_>>(),
        )
        .prop_shuffle(),
        prop::collection::vec(
            (
                text(),
                prop::option::of("[0-9]{1,3}|-1|x[a-z]{1,3}"),
                any::<bool>(),
            ),
            n,
        ),
    )
        .prop_map(move |(ids, raw)| {
            raw.into_iter()
                .zip(ids)
                .map(|((text, recode, te), id)| Choice {
                    id,
                    text,
                    recode: recode.filter(|_| recodes),
                    text_entry: te && text_entry,
                })
                .collect()
        })
}

fn kind() -> impl Strategy<Value = QuestionKind> {
    let content = prop_oneof![
        Just(TextContent::Any),
        Just(TextContent::Number),
        Just(TextContent::Email)
    ];
    let step = prop_oneof![
        Just(1.0),
        Just(0.1),
        Just(0.01),
        Just(0.5),
        Just(0.25),
        Just(2.0),
        Just(5.0)
    ];
    let unsupported = prop_oneof![
        Just(("RO", "DND/TX")),
        Just(("SBS", "SBSMatrix")),
        Just(("Draw", "Signature")),
        Just(("FileUpload", "FileUpload")),
        Just(("TE", "FORM")),
        Just(("Matrix", "Bipolar")),
        Just(("MC", "SAVR/TX")),
        Just(("Slider", "HSLIDER")),
        Just(("HeatMap", "")),
    ];
    prop_oneof![
        (any::<bool>(), choices(1..6, true, true))
            .prop_map(|(multiple, choices)| QuestionKind::MultipleChoice { multiple, choices }),
        (label(), label()).prop_map(|(low_label, high_label)| QuestionKind::Nps {
            low_label,
            high_label
        }),
        (any::<bool>(), content)
            .prop_map(|(multiline, content)| QuestionKind::TextEntry { multiline, content }),
        (choices(1..4, false, false), choices(2..6, true, false))
            .prop_map(|(statements, scale)| QuestionKind::Matrix { statements, scale }),
        (-10i32..10, 1i32..100, step, choices(1..3, false, false)).prop_map(
            |(min, span, step, statements)| QuestionKind::Slider {
                min: f64::from(min),
                max: f64::from(min + span),
                step,
                statements,
            }
        ),
        Just(QuestionKind::Descriptive),
        prop::option::of(1u32..600).prop_map(|auto_advance_seconds| QuestionKind::Timing {
            auto_advance_seconds
        }),
        unsupported.prop_map(|(t, s)| QuestionKind::Unsupported {
            qualtrics_type: t.into(),
            selector: s.into(),
        }),
    ]
}

/// A condition leaf before it is pointed at a question: which question (by index), which
/// choice or statement (by index), and what to test.
#[derive(Debug, Clone)]
enum Leaf {
    Selected {
        q: usize,
        pick: usize,
        cell: bool,
        not: bool,
    },
    Displayed {
        q: usize,
        not: bool,
    },
    Text {
        q: usize,
        pick: usize,
        op: Operator,
        value: String,
    },
    Embedded {
        field: String,
        op: Operator,
        value: String,
    },
}

fn text_operator() -> impl Strategy<Value = Operator> {
    prop::sample::select(vec![
        Operator::Equals,
        Operator::NotEquals,
        Operator::GreaterThan,
        Operator::GreaterOrEqual,
        Operator::LessThan,
        Operator::LessOrEqual,
        Operator::Contains,
        Operator::DoesNotContain,
        Operator::IsEmpty,
        Operator::IsNotEmpty,
    ])
}

fn leaf() -> impl Strategy<Value = Leaf> {
    prop_oneof![
        (any::<usize>(), any::<usize>(), any::<bool>(), any::<bool>())
            .prop_map(|(q, pick, cell, not)| Leaf::Selected { q, pick, cell, not }),
        (any::<usize>(), any::<bool>()).prop_map(|(q, not)| Leaf::Displayed { q, not }),
        (any::<usize>(), any::<usize>(), text_operator(), "\\PC{0,6}")
            .prop_map(|(q, pick, op, value)| Leaf::Text { q, pick, op, value }),
        (
            "\\PC{1,8}",
            prop_oneof![text_operator(), Just(Operator::Selected)],
            "\\PC{0,6}"
        )
            .prop_map(|(field, op, value)| Leaf::Embedded { field, op, value }),
    ]
}

/// Condition sets, each a list of leaves, with the `Or` flag joining each to what precedes.
type RawCondition = Vec<(bool, Vec<(bool, Leaf)>)>;

fn raw_condition() -> impl Strategy<Value = RawCondition> {
    prop::collection::vec(
        (
            any::<bool>(),
            prop::collection::vec((any::<bool>(), leaf()), 1..4),
        ),
        1..4,
    )
}

/// The importer's join (`qsf::logic::join`), so generated conditions have the shape an
/// import produces.
fn join(acc: Option<Condition>, next: Condition, or: bool) -> Condition {
    let Some(acc) = acc else { return next };
    match (acc, or) {
        (Condition::Any { mut conditions }, true) => {
            conditions.push(next);
            Condition::Any { conditions }
        }
        (other, true) => Condition::Any {
            conditions: vec![other, next],
        },
        (Condition::All { mut conditions }, false) if !conditions.is_empty() => {
            conditions.push(next);
            Condition::All { conditions }
        }
        (other, false) => Condition::All {
            conditions: vec![other, next],
        },
    }
}

/// Points a leaf at one of `targets` (questions it may refer to); `None` when there are none.
fn resolve(leaf: &Leaf, targets: &[&Question]) -> Option<Condition> {
    let pick = |q: usize| targets.get(q % targets.len().max(1)).copied();
    let negate = |c: Condition, not: bool| {
        if not {
            Condition::Not {
                condition: Box::new(c),
            }
        } else {
            c
        }
    };
    Some(match leaf {
        Leaf::Embedded { field, op, value } => Condition::EmbeddedData {
            field: field.clone(),
            op: *op,
            value: value.clone(),
        },
        Leaf::Displayed { q, not } => negate(
            Condition::Answer {
                question: pick(*q)?.id.clone(),
                statement: None,
                op: Operator::Displayed,
                value: String::new(),
            },
            *not,
        ),
        Leaf::Selected {
            q,
            pick: i,
            cell,
            not,
        } => {
            let q = pick(*q)?;
            let op = if *not {
                Operator::NotSelected
            } else {
                Operator::Selected
            };
            let (statement, value) = match &q.kind {
                QuestionKind::MultipleChoice { choices, .. } => {
                    (None, choices[i % choices.len()].id.clone())
                }
                QuestionKind::Matrix { statements, scale } => (
                    cell.then(|| statements[i % statements.len()].id.clone()),
                    scale[i % scale.len()].id.clone(),
                ),
                _ => (None, (i % 5).to_string()),
            };
            Condition::Answer {
                question: q.id.clone(),
                statement,
                op,
                value,
            }
        }
        Leaf::Text {
            q,
            pick: i,
            op,
            value,
        } => {
            let q = pick(*q)?;
            let statement = match &q.kind {
                QuestionKind::Matrix { statements, .. }
                | QuestionKind::Slider { statements, .. } => {
                    Some(statements[i % statements.len()].id.clone())
                }
                _ => None,
            };
            Condition::Answer {
                question: q.id.clone(),
                statement,
                op: *op,
                value: value.clone(),
            }
        }
    })
}

fn build_condition(raw: &RawCondition, targets: &[&Question]) -> Option<Condition> {
    let mut result = None;
    for (set_or, leaves) in raw {
        let mut inner = None;
        for (or, leaf) in leaves {
            inner = Some(join(inner, resolve(leaf, targets)?, *or));
        }
        result = Some(join(result, inner?, *set_or));
    }
    result
}

/// A flow element before conditions are resolved.
#[derive(Debug, Clone)]
enum RawFlow {
    Block(usize),
    Embedded(Vec<(String, Option<String>)>),
    Branch(Option<RawCondition>, Vec<RawFlow>),
    Group(String, Vec<RawFlow>),
    End(Option<String>),
}

fn raw_flow() -> impl Strategy<Value = RawFlow> {
    let leaf = prop_oneof![
        4 => any::<usize>().prop_map(RawFlow::Block),
        2 => prop::collection::vec(
            ("\\PC{0,10}".prop_filter("a name", |n| !n.trim().is_empty()), prop::option::of("\\PC{1,12}")),
            1..4
        )
        .prop_map(RawFlow::Embedded),
        1 => prop::option::of(text()).prop_map(RawFlow::End),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            (
                prop::option::of(raw_condition()),
                prop::collection::vec(inner.clone(), 0..4)
            )
                .prop_map(|(c, f)| RawFlow::Branch(c, f)),
            ("\\PC{0,16}", prop::collection::vec(inner, 0..4))
                .prop_map(|(d, f)| RawFlow::Group(d, f)),
        ]
    })
}

fn build_flow(raw: &[RawFlow], blocks: &[Block], questions: &[Question]) -> Vec<FlowElement> {
    let all: Vec<&Question> = questions.iter().collect();
    raw.iter()
        .map(|r| match r {
            RawFlow::Block(i) => FlowElement::Block {
                block_id: blocks[i % blocks.len()].id.clone(),
            },
            RawFlow::Embedded(fields) => FlowElement::EmbeddedData {
                fields: fields
                    .iter()
                    .map(|(name, value)| EmbeddedField {
                        name: name.clone(),
                        value: match value {
                            Some(v) => EmbeddedValue::Fixed(v.clone()),
                            None => EmbeddedValue::Url,
                        },
                    })
                    .collect(),
            },
            RawFlow::Branch(condition, flow) => FlowElement::Branch {
                condition: condition
                    .as_ref()
                    .and_then(|c| build_condition(c, &all))
                    .unwrap_or(Condition::All {
                        conditions: Vec::new(),
                    }),
                flow: build_flow(flow, blocks, questions),
            },
            RawFlow::Group(description, flow) => FlowElement::Group {
                description: description.clone(),
                flow: build_flow(flow, blocks, questions),
            },
            RawFlow::End(message) => FlowElement::EndSurvey {
                message: message.clone(),
            },
        })
        .collect()
}

prop_compose! {
    fn definition()(
        name in "\\PC{0,20}".prop_filter("a name", |n| !n.trim().is_empty()),
        language in prop_oneof![Just("EN".to_string()), "[A-Z]{2}(-[A-Z]{2})?", "\\PC{1,6}"],
        raw_questions in prop::collection::vec(
            ("\\PC{1,10}", text(), any::<bool>(), kind(), prop::option::of(raw_condition())),
            1..10
        ),
        // Where each question goes: its block (by index) and whether a page break precedes it.
        placement in prop::collection::vec((0usize..4, any::<bool>()), 10),
        block_names in prop::collection::vec(("[A-Za-z0-9]{15}", prop::option::of("\\PC{0,20}")), 4),
        flow in prop::collection::vec(raw_flow(), 0..6),
        end_message in prop::option::of(text()),
        incomplete_after_hours in 1u32..5000,
        back_button in any::<bool>(),
    ) -> SurveyDefinition {
        let block_count = 1 + placement.iter().map(|(b, _)| *b).max().unwrap_or(0);
        let mut blocks: Vec<Block> = block_names[..block_count]
            .iter()
            .enumerate()
            .map(|(i, (id, description))| Block {
                id: format!("BL_{i}{id}"),
                description: description.clone().unwrap_or_default(),
                elements: Vec::new(),
            })
            .collect();
        let mut questions: Vec<Question> = raw_questions
            .iter()
            .enumerate()
            .map(|(i, (tag, text, required, kind, _))| Question {
                id: format!("QID{}", i + 1),
                export_tag: tag.clone(),
                text: text.clone(),
                required: *required,
                display_logic: None,
                kind: kind.clone(),
            })
            .collect();
        for (i, q) in questions.iter().enumerate() {
            let (b, page_break) = placement[i];
            let block = &mut blocks[b % block_count];
            if page_break {
                block.elements.push(BlockElement::PageBreak);
            }
            block.elements.push(BlockElement::Question { id: q.id.clone() });
        }
        // Display logic may refer only to questions in the first block, and only from later
        // blocks: a condition on the same page is dropped by the importer (it needs JavaScript).
        let first_block: Vec<String> = blocks[0]
            .elements
            .iter()
            .filter_map(|e| match e {
                BlockElement::Question { id } => Some(id.clone()),
                BlockElement::PageBreak => None,
            })
            .collect();
        let logic: Vec<Option<Condition>> = raw_questions
            .iter()
            .zip(&questions)
            .map(|((.., raw), q)| {
                if first_block.contains(&q.id) {
                    return None;
                }
                let targets: Vec<&Question> =
                    questions.iter().filter(|t| first_block.contains(&t.id)).collect();
                build_condition(raw.as_ref()?, &targets)
            })
            .collect();
        for (q, logic) in questions.iter_mut().zip(logic) {
            q.display_logic = logic;
        }
        let flow = build_flow(&flow, &blocks, &questions);
        SurveyDefinition {
            name,
            language: language.to_string(),
            blocks,
            questions,
            flow,
            end_message: end_message.unwrap_or_else(|| {
                survey::sample::sample_definition().end_message
            }),
            options: SurveyOptions {
                incomplete_after_hours,
                back_button,
            },
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn generated_surveys_round_trip(def in definition()) {
        let exported = export(&def);
        prop_assert!(exported.warnings.is_empty(), "{:?}", exported.warnings);
        let back = import(&to_qsf_string(&def)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back.definition, def);
    }
}
