use crate::pairs;
use survey::form::{field_name, parse_page, FieldPart};
use survey::sample::sample_definition;
use survey::Answer;

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_complete_first_page() {
    let def = sample_definition();
    let form = pairs(&[("QID3", "9"), ("QID4", "2")]);
    let page = parse_page(&def, &ids(&["QID1", "QID3", "QID4"]), &form);
    assert!(page.is_valid(), "{:?}", page.errors);
    assert_eq!(page.answers["QID3"], Answer::Number(9.0));
    assert_eq!(page.answers["QID4"], crate::choices(&["2"]));
    assert!(!page.answers.contains_key("QID1"));
}

#[test]
fn force_response_keeps_the_other_answers_on_the_page() {
    let def = sample_definition();
    let form = pairs(&[("QID4", "1")]);
    let page = parse_page(&def, &ids(&["QID1", "QID3", "QID4"]), &form);
    assert_eq!(page.errors["QID3"], "Please answer this question.");
    assert_eq!(page.answers["QID4"], crate::choices(&["1"]));
}

#[test]
fn an_out_of_range_score_is_shown_again_with_a_message() {
    let def = sample_definition();
    let form = pairs(&[("QID3", "11"), ("QID4", "3")]);
    let page = parse_page(&def, &ids(&["QID3", "QID4"]), &form);
    assert_eq!(page.errors["QID3"], "Please choose a score from 0 to 10.");
    assert_eq!(page.raw["QID3"], "11");
    let form = pairs(&[("QID3", "ten")]);
    let page = parse_page(&def, &ids(&["QID3"]), &form);
    assert_eq!(page.raw["QID3"], "ten");
    assert!(page.errors.contains_key("QID3"));
}

#[test]
fn other_text_selects_its_choice_and_order_follows_the_survey() {
    let def = sample_definition();
    let form = pairs(&[
        ("QID5", "3"),
        ("QID5", "1"),
        (
            &field_name("QID5", FieldPart::ChoiceText("5")),
            "  Carrier pigeon ",
        ),
    ]);
    let page = parse_page(&def, &ids(&["QID5"]), &form);
    let Answer::Choices { selected, text } = &page.answers["QID5"] else {
        panic!("choices expected");
    };
    assert_eq!(selected, &ids(&["1", "3", "5"]));
    assert_eq!(text["5"], "Carrier pigeon");
}

#[test]
fn tampered_choices_are_refused() {
    let def = sample_definition();
    let page = parse_page(
        &def,
        &ids(&["QID4"]),
        &pairs(&[("QID4", "1"), ("QID4", "2")]),
    );
    assert_eq!(page.errors["QID4"], "Please choose only one option.");
    let page = parse_page(&def, &ids(&["QID4"]), &pairs(&[("QID4", "42")]));
    assert_eq!(page.errors["QID4"], "Choice 42 is not one of the options.");
    let page = parse_page(&def, &ids(&["QID6"]), &pairs(&[("QID6_1", "9")]));
    assert!(page.errors.contains_key("QID6"));
    let page = parse_page(
        &def,
        &ids(&["QID6"]),
        &pairs(&[("QID6_1", "2"), ("QID6_3", "5")]),
    );
    let expected: std::collections::BTreeMap<String, String> =
        [("1".to_string(), "2".to_string()), ("3".into(), "5".into())].into();
    assert_eq!(page.answers["QID6"], Answer::Matrix { rows: expected });
}

#[test]
fn a_required_matrix_needs_every_statement_and_keeps_the_partial_answer() {
    let mut def = sample_definition();
    def.questions
        .iter_mut()
        .find(|q| q.id == "QID6")
        .unwrap()
        .required = true;
    let page = parse_page(&def, &ids(&["QID6"]), &pairs(&[("QID6_2", "4")]));
    assert_eq!(page.errors["QID6"], "Please answer every statement.");
    assert!(matches!(&page.partial["QID6"], Answer::Matrix { rows } if rows["2"] == "4"));
}

#[test]
fn text_validation_by_content_type() {
    let def = sample_definition();
    let page = parse_page(
        &def,
        &ids(&["QID9", "QID10", "QID11"]),
        &pairs(&[
            ("QID9", "Line one\nline two"),
            ("QID10", "not an email"),
            ("QID11", "CTO"),
        ]),
    );
    assert_eq!(page.errors["QID10"], "Please enter a valid email address.");
    assert_eq!(page.raw["QID10"], "not an email");
    assert_eq!(
        page.answers["QID9"],
        Answer::Text("Line one\nline two".into())
    );
    assert_eq!(page.answers["QID11"], Answer::Text("CTO".into()));
    let page = parse_page(
        &def,
        &ids(&["QID10"]),
        &pairs(&[("QID10", "ana@example.com")]),
    );
    assert!(page.is_valid());
    // Blank optional text is no answer, not an error.
    let page = parse_page(&def, &ids(&["QID10"]), &pairs(&[("QID10", "   ")]));
    assert!(page.is_valid() && page.answers.is_empty());
}

#[test]
fn number_text_entry() {
    let mut def = sample_definition();
    if let survey::QuestionKind::TextEntry { content, .. } = &mut def
        .questions
        .iter_mut()
        .find(|q| q.id == "QID11")
        .unwrap()
        .kind
    {
        *content = survey::TextContent::Number;
    }
    let page = parse_page(&def, &ids(&["QID11"]), &pairs(&[("QID11", "12 apples")]));
    assert_eq!(page.errors["QID11"], "Please enter a number.");
    let page = parse_page(&def, &ids(&["QID11"]), &pairs(&[("QID11", " 12.5 ")]));
    assert!(page.is_valid());
}

#[test]
fn slider_range_and_step_and_timing() {
    let def = sample_definition();
    let questions = ids(&["QID5", "QID6", "QID7", "QID2"]);
    let page = parse_page(
        &def,
        &questions,
        &pairs(&[("QID7_1", "11"), ("QID2_PAGE_SECONDS", "12.5")]),
    );
    assert_eq!(
        page.errors["QID7"],
        "Please choose a value between 0 and 10."
    );
    assert_eq!(page.raw["QID7_1"], "11");
    assert_eq!(page.answers["QID2"], Answer::Timing { page_seconds: 12.5 });
    let page = parse_page(&def, &questions, &pairs(&[("QID7_1", "2.5")]));
    assert_eq!(page.errors["QID7"], "Please choose a value in steps of 1.");
    let page = parse_page(&def, &questions, &pairs(&[("QID7_1", "7")]));
    assert!(page.is_valid());
    assert!(matches!(&page.answers["QID7"], Answer::Slider { values } if values["1"] == 7.0));
}

proptest::proptest! {
    /// Whatever a browser (or someone crafting requests) posts, parsing answers or refuses.
    #[test]
    fn any_posted_form_parses_without_panicking(
        fields in proptest::collection::vec(
            (
                "(QID[0-9]{1,2})(_[0-9]{1,2})?(_TEXT|_PAGE_SECONDS)?",
                "(-?[0-9]{0,3}(\\.[0-9])?|[a-z@. ]{0,12}|NaN|inf|1e999)",
            ),
            0..20,
        )
    ) {
        let def = sample_definition();
        let questions: Vec<String> = def.questions.iter().map(|q| q.id.clone()).collect();
        let page = parse_page(&def, &questions, &fields);
        let data = survey::ResponseData { answers: page.answers.clone(), ..Default::default() };
        // Whatever was accepted passes the API's own checks.
        proptest::prop_assert_eq!(survey::validate::check_answers(&def, &data), Ok(()));
        for id in page.errors.keys() {
            proptest::prop_assert!(!page.answers.contains_key(id));
        }
    }
}
