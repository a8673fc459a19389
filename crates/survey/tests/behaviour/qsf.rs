use survey::qsf::import;
use survey::{Condition, EmbeddedValue, FlowElement, Operator, QuestionKind, TextContent};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/qsf");

fn load(name: &str) -> survey::qsf::Imported {
    let text = std::fs::read_to_string(format!("{DIR}/{name}")).unwrap();
    import(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every public sample imports, with the expected number of questions (trashed questions
/// excluded), and the result is a definition Sonde can serve.
#[test]
fn every_conformance_file_imports() {
    let expected = [
        ("Baguage__pyqualtrics__survey.qsf", 7),
        (
            "ES-TUDelft__affectbutton-qualtrics__AffectButtonV2_Template.qsf",
            1,
        ),
        (
            "compsy__svc-qualtrics-converter__survey_standart_question_types.qsf",
            8,
        ),
        (
            "ctesta01__QualtricsTools__Long_Exhaustive_Sample_Survey.qsf",
            46,
        ),
        ("ctesta01__QualtricsTools__Sample_Survey.qsf", 32),
        ("ctesta01__QualtricsTools__Survey_Logic_EVERYWHERE.qsf", 5),
        ("ctesta01__QualtricsTools__sample.qsf", 16),
        (
            "prometheusresearch__rios.conversion__qualtrics_health.qsf",
            29,
        ),
        ("psych251__porter_2016_1_rescue__survey.qsf", 34),
        ("willgreenland__surveyhelper__Sample_Survey.qsf", 8),
    ];
    let mut on_disk: Vec<String> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".qsf"))
        .collect();
    on_disk.sort();
    let listed: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        on_disk, listed,
        "a sample was added or removed; list it here"
    );
    for (name, questions) in expected {
        let imported = load(name);
        assert_eq!(imported.definition.questions.len(), questions, "{name}");
        let checked = survey::validate::check_definition(&imported.definition);
        assert!(checked.is_ok(), "{name}: {checked:?}");
        assert!(
            !imported
                .warnings
                .iter()
                .any(|w| w.contains("imported survey has a problem")),
            "{name}: {:?}",
            imported.warnings
        );
        // Every unsupported placeholder is named in a warning.
        for q in &imported.definition.questions {
            if matches!(q.kind, QuestionKind::Unsupported { .. }) {
                assert!(
                    imported
                        .warnings
                        .iter()
                        .any(|w| w.contains(&format!("question {} ", q.id))),
                    "{name}: {} unsupported without a warning",
                    q.id
                );
            }
        }
        // A respondent can walk it from start to end.
        let pages = survey::flow::displayed_questions(&imported.definition, &Default::default());
        assert!(!pages.is_empty(), "{name}: nothing to show");
        // And the native JSON round-trips.
        let json = survey::native::to_json(&imported.definition);
        assert_eq!(
            survey::native::parse(&json).unwrap(),
            imported.definition,
            "{name}"
        );
    }
}

#[test]
fn choices_recodes_text_entry_and_matrix_scale_map_faithfully() {
    let imported = load("willgreenland__surveyhelper__Sample_Survey.qsf");
    let def = &imported.definition;
    let q1 = def.question("QID1").unwrap();
    let QuestionKind::MultipleChoice { multiple, choices } = &q1.kind else {
        panic!("QID1 is multiple choice");
    };
    assert!(!multiple);
    assert_eq!(q1.text, "In which season were you born?");
    assert_eq!(choices.len(), 5);
    assert!(choices[4].text_entry && !choices[0].text_entry);
    let q2 = def.question("QID2").unwrap();
    let QuestionKind::MultipleChoice {
        multiple: true,
        choices,
    } = &q2.kind
    else {
        panic!("QID2 is multiple answer");
    };
    let recodes: Vec<&str> = choices.iter().map(|c| c.recode_value()).collect();
    assert_eq!(recodes, vec!["2", "1", "3", "4"]);
    let QuestionKind::Matrix { statements, scale } = &def.question("QID3").unwrap().kind else {
        panic!("QID3 is a matrix");
    };
    assert_eq!(statements.len(), 3);
    assert_eq!(scale[0].text, "Strongly disagree");
    assert_eq!(scale[0].recode_value(), "5");
}

#[test]
fn flow_branches_end_survey_and_randomizers() {
    let imported = load("psych251__porter_2016_1_rescue__survey.qsf");
    let def = &imported.definition;
    let FlowElement::EmbeddedData { fields } = &def.flow[0] else {
        panic!("embedded data first: {:?}", def.flow[0]);
    };
    assert_eq!(fields[0].name, "PROLIFIC_PID");
    assert_eq!(fields[0].value, EmbeddedValue::Url);
    let FlowElement::Branch { condition, flow } = &def.flow[2] else {
        panic!("branch third");
    };
    assert_eq!(
        condition,
        &Condition::Answer {
            question: "QID39".into(),
            statement: None,
            op: Operator::NotSelected,
            value: "1".into(),
        }
    );
    assert!(matches!(flow[0], FlowElement::EndSurvey { message: None }));
    assert!(matches!(&def.flow[4], FlowElement::Group { flow, .. } if flow.len() == 4));
    assert!(imported.warnings.iter().any(|w| w.contains("randomizer")));
    // Declining consent ends the survey right after the consent page.
    let declined = crate::with_answers(&[("QID39", crate::choices(&["2"]))]);
    let shown = survey::flow::displayed_questions(def, &declined);
    assert_eq!(shown, vec!["QID39"]);
    let slider = def.question("QID3").unwrap();
    assert!(matches!(
        slider.kind,
        QuestionKind::Slider { min, max, step, .. } if min == 0.0 && max == 100.0 && step == 1.0
    ));
    assert!(matches!(
        def.question("QID29").unwrap().kind,
        QuestionKind::TextEntry {
            content: TextContent::Number,
            ..
        }
    ));
}

#[test]
fn unmappable_logic_becomes_an_always_taken_branch_with_a_warning() {
    let imported = load("ctesta01__QualtricsTools__Survey_Logic_EVERYWHERE.qsf");
    let FlowElement::Branch { condition, .. } = &imported.definition.flow[1] else {
        panic!("branch second");
    };
    assert_eq!(condition, &Condition::All { conditions: vec![] });
    assert!(imported.warnings.iter().any(|w| w.contains("DeviceType")));
}

/// Question types the public samples lack (NPS, timing, email validation, force response),
/// and logic on embedded data joined with "Or".
#[test]
fn a_hand_written_export_with_the_remaining_types() {
    let qsf = r#"{
      "SurveyEntry": {"SurveyID": "SV_x", "SurveyName": "Hand written", "SurveyLanguage": "EN"},
      "SurveyElements": [
        {"Element": "BL", "Payload": {"1": {"Type": "Default", "ID": "BL_1", "Description": "One",
          "BlockElements": [{"Type": "Question", "QuestionID": "QID1"}, {"Type": "Page Break"},
                            {"Type": "Question", "QuestionID": "QID2"}, {"Type": "Question", "QuestionID": "QID3"}]}}},
        {"Element": "FL", "Payload": {"Type": "Root", "Flow": [
          {"Type": "EmbeddedData", "EmbeddedData": [
             {"Type": "Recipient", "Field": "ContactId"},
             {"Type": "Custom", "Field": "Source", "Value": "qsf"}]},
          {"Type": "Branch", "BranchLogic": {"0": {
              "0": {"LogicType": "EmbeddedField", "LeftOperand": "OptOut", "Operator": "EqualTo", "RightOperand": "True", "Type": "Expression"},
              "1": {"LogicType": "Question", "LeftOperand": "q://QID1/SelectableChoice/3", "Operator": "Selected", "Conjuction": "Or", "Type": "Expression"},
              "Type": "If"}, "Type": "BooleanExpression"},
           "Flow": [{"Type": "EndSurvey", "Options": {"EOSMessage": "Bye <script>x</script>now"}}]},
          {"Type": "Standard", "ID": "BL_1"}]}},
        {"Element": "SO", "Payload": {"BackButton": "true", "PartialData": "+2 days"}},
        {"Element": "SQ", "Payload": {"QuestionID": "QID1", "DataExportTag": "NPS", "QuestionType": "MC", "Selector": "NPS",
          "QuestionText": "How likely <b onclick='x()'>are</b> you to recommend us?",
          "Choices": {"0": {"Display": "0"}, "1": {"Display": "1"}, "2": {"Display": "2"}, "3": {"Display": "3"}},
          "Validation": {"Settings": {"ForceResponse": "ON"}}}},
        {"Element": "SQ", "Payload": {"QuestionID": "QID2", "DataExportTag": "Q2", "QuestionType": "TE", "Selector": "SL",
          "QuestionText": "Email?", "Validation": {"Settings": {"Type": "ContentType", "ContentType": "ValidEmail"}}}},
        {"Element": "SQ", "Payload": {"QuestionID": "QID3", "DataExportTag": "Q3", "QuestionType": "Timing", "Selector": "PageTimer",
          "QuestionText": "Timing", "Configuration": {"MinSeconds": "0", "MaxSeconds": "30"}}}
      ]}"#;
    let imported = import(qsf).unwrap();
    let def = &imported.definition;
    assert_eq!(def.name, "Hand written");
    assert!(def.options.back_button);
    assert_eq!(def.options.incomplete_after_hours, 48);
    let nps = def.question("QID1").unwrap();
    assert!(nps.required && matches!(nps.kind, QuestionKind::Nps { .. }));
    assert_eq!(nps.text, "How likely <b>are</b> you to recommend us?");
    assert!(matches!(
        def.question("QID2").unwrap().kind,
        QuestionKind::TextEntry {
            content: TextContent::Email,
            multiline: false
        }
    ));
    assert!(matches!(
        def.question("QID3").unwrap().kind,
        QuestionKind::Timing {
            auto_advance_seconds: Some(30)
        }
    ));
    let FlowElement::EmbeddedData { fields } = &def.flow[0] else {
        panic!()
    };
    assert_eq!(fields[1].value, EmbeddedValue::Fixed("qsf".into()));
    let FlowElement::Branch { condition, flow } = &def.flow[1] else {
        panic!()
    };
    assert!(matches!(condition, Condition::Any { conditions } if conditions.len() == 2));
    assert_eq!(
        flow[0],
        FlowElement::EndSurvey {
            message: Some("Bye now".into())
        }
    );
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    // NPS 3 is "selected" when the score is 3: the branch ends the survey.
    let three = crate::with_answers(&[("QID1", survey::Answer::Number(3.0))]);
    assert_eq!(
        survey::flow::displayed_questions(def, &three),
        Vec::<String>::new()
    );
}

#[test]
fn malformed_input_is_refused_with_a_position() {
    let err =
        import("{\"SurveyEntry\": {\"SurveyName\": \"x\"},\n\"SurveyElements\": [}").unwrap_err();
    assert_eq!(err.line, 2);
    assert!(err.to_string().starts_with("line 2, column "), "{err}");
    assert!(import("").is_err());
    assert!(import("{}")
        .unwrap_err()
        .message
        .contains("not a Qualtrics survey export"));
}

proptest::proptest! {
    /// A damaged export is refused with a position, never a panic.
    #[test]
    fn truncated_exports_never_panic(cut in 0usize..20_000) {
        let text = std::fs::read_to_string(format!("{DIR}/willgreenland__surveyhelper__Sample_Survey.qsf")).unwrap();
        let mut end = cut.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        if let Err(e) = import(&text[..end]) {
            proptest::prop_assert!(e.line >= 1);
        }
    }
}

/// Replaces the `target`-th node (depth first) of a JSON document.
fn replace_nth(
    value: &mut serde_json::Value,
    target: &mut usize,
    with: &serde_json::Value,
) -> bool {
    if *target == 0 {
        *value = with.clone();
        return true;
    }
    *target -= 1;
    match value {
        serde_json::Value::Array(items) => items.iter_mut().any(|v| replace_nth(v, target, with)),
        serde_json::Value::Object(map) => map.values_mut().any(|v| replace_nth(v, target, with)),
        _ => false,
    }
}

proptest::proptest! {
    /// Exports whose fields hold unexpected JSON types (numbers for strings, nulls, lists for
    /// objects) still import into a definition that passes validation.
    #[test]
    fn odd_field_types_still_import_cleanly(
        file in 0usize..3,
        node in 0usize..4000,
        with in proptest::sample::select(vec![
            serde_json::Value::Null,
            serde_json::json!(7),
            serde_json::json!("x"),
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!(true),
            serde_json::json!({"0": {"0": {"LogicType": "Question", "LeftOperand": "q://QID1/SelectableChoice/1", "Operator": "Selected"}}}),
        ])
    ) {
        let name = [
            "psych251__porter_2016_1_rescue__survey.qsf",
            "ctesta01__QualtricsTools__sample.qsf",
            "compsy__svc-qualtrics-converter__survey_standart_question_types.qsf",
        ][file];
        let text = std::fs::read_to_string(format!("{DIR}/{name}")).unwrap();
        let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut target = node;
        replace_nth(&mut value, &mut target, &with);
        if let Ok(imported) = import(&value.to_string()) {
            let checked = survey::validate::check_definition(&imported.definition);
            proptest::prop_assert!(checked.is_ok(), "{:?}", checked);
        }
    }
}

#[test]
fn display_logic_on_earlier_answers_is_kept() {
    let imported = load("ctesta01__QualtricsTools__Sample_Survey.qsf");
    let def = &imported.definition;
    assert_eq!(
        def.question("QID36").unwrap().display_logic,
        Some(Condition::Answer {
            question: "QID1".into(),
            statement: None,
            op: Operator::Selected,
            value: "1".into(),
        })
    );
    // "Choice displayed" cannot be known from answers: always shown, and said so.
    assert_eq!(def.question("QID43").unwrap().display_logic, None);
    assert!(imported
        .warnings
        .iter()
        .any(|w| w.starts_with("question QID43: display logic")));
}
