use crate::{choices, with_answers};
use survey::sample::sample_definition;
use survey::validate::{check_answers, check_required};
use survey::{Answer, ResponseData};

#[test]
fn api_answers_are_type_checked() {
    let def = sample_definition();
    let good = with_answers(&[
        ("QID3", Answer::Number(10.0)),
        ("QID4", choices(&["2"])),
        (
            "QID5",
            Answer::Choices {
                selected: vec!["5".into()],
                text: [("5".to_string(), "Fax".to_string())].into(),
            },
        ),
        ("QID10", Answer::Text("ana@example.com".into())),
    ]);
    assert_eq!(check_answers(&def, &good), Ok(()));

    let bad = with_answers(&[
        ("QID3", Answer::Number(7.5)),
        ("QID4", choices(&["1", "2"])),
        ("QID6", Answer::Text("agree".into())),
        (
            "QID7",
            Answer::Slider {
                values: [("1".to_string(), 12.0)].into(),
            },
        ),
        ("QID10", Answer::Text("nope".into())),
        ("QID99", Answer::Text("?".into())),
        (
            "QID5",
            Answer::Choices {
                selected: vec!["1".into()],
                text: [("1".to_string(), "x".to_string())].into(),
            },
        ),
    ]);
    let errors = check_answers(&def, &bad).unwrap_err();
    let failing: Vec<&str> = errors.iter().map(|e| e.question.as_str()).collect();
    assert_eq!(
        failing,
        vec!["QID10", "QID3", "QID4", "QID5", "QID6", "QID7", "QID99"]
    );
}

#[test]
fn api_json_answers_deserialize_into_the_right_shapes() {
    let data: ResponseData = serde_json::from_str(
        r#"{"answers": {"QID3": 8, "QID4": {"selected": ["1"]}, "QID6": {"rows": {"1": "5"}},
            "QID7": {"values": {"1": 4}}, "QID2": {"page_seconds": 3.5}, "QID9": "Great"},
            "embedded_data": {"CaseId": "500"}}"#,
    )
    .unwrap();
    assert_eq!(check_answers(&sample_definition(), &data), Ok(()));
    assert_eq!(data.answers["QID9"], Answer::Text("Great".into()));
}

#[test]
fn required_only_on_the_path_taken() {
    let def = sample_definition();
    let missing = check_required(&def, &ResponseData::default());
    let ids: Vec<&str> = missing.iter().map(|e| e.question.as_str()).collect();
    assert_eq!(ids, vec!["QID3", "QID4"]);
    let mut def = def;
    def.questions
        .iter_mut()
        .find(|q| q.id == "QID8")
        .unwrap()
        .required = true;
    let promoter = with_answers(&[("QID3", Answer::Number(10.0)), ("QID4", choices(&["1"]))]);
    assert!(check_required(&def, &promoter).is_empty());
    let detractor = with_answers(&[("QID3", Answer::Number(2.0)), ("QID4", choices(&["5"]))]);
    let ids: Vec<String> = check_required(&def, &detractor)
        .into_iter()
        .map(|e| e.question)
        .collect();
    assert_eq!(ids, vec!["QID8"]);
}

#[test]
fn definition_errors_name_the_place() {
    let json = survey::sample::sample_json().replacen(
        "\"block_id\": \"BL_detractor\"",
        "\"block_id\": \"BL_gone\"",
        1,
    );
    let err = survey::native::parse(&json).unwrap_err();
    assert_eq!(err.to_string(), "flow[2].flow[0]: unknown block BL_gone");
    let err = survey::native::parse("{\"name\": \"x\",\n \"blocks\": 3}").unwrap_err();
    assert_eq!((err.line, err.column), (2, 12));
    assert!(
        err.to_string()
            .starts_with("line 2, column 12: invalid type"),
        "{err}"
    );
    let def = survey::sample::sample_definition();
    assert_eq!(
        survey::native::parse(&survey::native::to_json(&def)).unwrap(),
        def
    );
}

#[test]
fn piped_text_problems_are_warnings_naming_the_place() {
    let mut def = sample_definition();
    def.questions[2].text =
        "Hi ${x://Y} and ${q://QID77/ChoiceGroup/SelectedChoices} ${e://Field/Nope}".into();
    let id = def.questions[2].id.clone();
    let warnings = survey::validate::check_definition(&def).unwrap();
    let shown: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        shown,
        vec![
            format!("questions[{id}].text: unknown piped text scheme `x` in ${{x://Y}}"),
            format!("questions[{id}].text: unknown question QID77 in piped text"),
            format!(
                "questions[{id}].text: embedded data field Nope is not declared in the survey flow"
            ),
        ]
    );
}

/// The complete example in the format documentation is a valid, warning-free definition, and
/// the answer example there passes the API checks against it.
#[test]
fn the_documented_example_is_valid() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/survey-definition.md"
    ))
    .unwrap();
    let example = doc
        .rsplit("```json")
        .next()
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    let def = survey::native::parse(example).unwrap();
    assert_eq!(survey::validate::check_definition(&def), Ok(vec![]));
    let promoter = with_answers(&[("QID2", Answer::Number(10.0))]);
    let shown = survey::flow::displayed_questions(&def, &promoter);
    assert_eq!(shown, vec!["QID1", "QID2", "QID3", "QID4", "QID5"]);
}

#[test]
fn shape_errors_name_the_json_path() {
    let json =
        survey::sample::sample_json().replacen("\"multiple\": true", "\"multiple\": \"yes\"", 1);
    let err = survey::native::parse(&json).unwrap_err();
    assert!(err.line > 0);
    assert!(err.path.starts_with("questions[4]"), "{err:?}");
    assert!(err.to_string().contains("(at questions[4]"), "{err}");
}
