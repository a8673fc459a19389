use survey::export::{csv_columns, csv_document, csv_row, json_value};
use survey::sample::sample_definition;
use survey::{Answer, DistributionChannel, ResponseData, ResponseMetadata};

fn response() -> (ResponseMetadata, ResponseData) {
    let metadata = ResponseMetadata {
        response_id: "R_abcdefghijklmno".into(),
        start_date: "2026-11-22T04:00:00Z".into(),
        end_date: Some("2026-11-22T04:03:20Z".into()),
        recorded_date: Some("2026-11-22T04:03:21Z".into()),
        progress: 100,
        duration_seconds: 200,
        finished: true,
        distribution_channel: DistributionChannel::Anonymous,
    };
    let mut data = ResponseData::default();
    data.embedded_data
        .insert("ContactId".into(), "003000000000001".into());
    data.embedded_data.insert("OptOut".into(), "False".into());
    data.answers.insert("QID3".into(), Answer::Number(9.0));
    data.answers.insert("QID4".into(), crate::choices(&["2"]));
    data.answers.insert(
        "QID5".into(),
        Answer::Choices {
            selected: vec!["1".into(), "5".into()],
            text: [("5".to_string(), "Fax, \"really\"".to_string())].into(),
        },
    );
    data.answers.insert(
        "QID6".into(),
        Answer::Matrix {
            rows: [
                ("1".to_string(), "5".to_string()),
                ("3".to_string(), "2".to_string()),
            ]
            .into(),
        },
    );
    data.answers.insert(
        "QID7".into(),
        Answer::Slider {
            values: [("1".to_string(), 8.0)].into(),
        },
    );
    data.answers
        .insert("QID2".into(), Answer::Timing { page_seconds: 42.5 });
    data.answers
        .insert("QID9".into(), Answer::Text("=HYPERLINK(\"x\")".into()));
    (metadata, data)
}

#[test]
fn columns_metadata_then_embedded_then_questions() {
    let keys: Vec<String> = csv_columns(&sample_definition())
        .into_iter()
        .map(|c| c.key)
        .collect();
    assert_eq!(
        keys,
        [
            "StartDate",
            "EndDate",
            "Status",
            "Progress",
            "Duration (in seconds)",
            "Finished",
            "RecordedDate",
            "ResponseId",
            "DistributionChannel",
            "UserLanguage",
            "ContactId",
            "AccountId",
            "CaseId",
            "sfContactId",
            "sfAccountId",
            "OptOut",
            "SurveySource",
            "NPS",
            "NPS_NPS_GROUP",
            "CSAT",
            "Channels",
            "Channels_5_TEXT",
            "Agent_1",
            "Agent_2",
            "Agent_3",
            "Effort_1",
            "Q_Timing_Page Submit",
            "Detractor_Why",
            "Comments",
            "FollowUpEmail",
            "JobTitle",
        ]
    );
    let columns = csv_columns(&sample_definition());
    let agent = columns.iter().find(|c| c.key == "Agent_2").unwrap();
    assert_eq!(
        agent.label,
        "How much do you agree with these statements about the person who helped you? - They were courteous"
    );
}

#[test]
fn a_row_lines_up_with_the_columns() {
    let def = sample_definition();
    let (metadata, data) = response();
    let columns = csv_columns(&def);
    let row = csv_row(&def, &metadata, &data);
    assert_eq!(columns.len(), row.len());
    let get = |key: &str| row[columns.iter().position(|c| c.key == key).unwrap()].as_str();
    assert_eq!(get("StartDate"), "2026-11-22T04:00:00Z");
    assert_eq!(get("Status"), "0");
    assert_eq!(get("Duration (in seconds)"), "200");
    assert_eq!(get("Finished"), "1");
    assert_eq!(get("ResponseId"), "R_abcdefghijklmno");
    assert_eq!(get("DistributionChannel"), "anonymous");
    assert_eq!(get("UserLanguage"), "EN");
    assert_eq!(get("ContactId"), "003000000000001");
    assert_eq!(get("CaseId"), "");
    assert_eq!(get("NPS"), "9");
    assert_eq!(get("NPS_NPS_GROUP"), "3");
    assert_eq!(get("CSAT"), "4"); // recode of "Satisfied"
    assert_eq!(get("Channels"), "1,99");
    assert_eq!(get("Channels_5_TEXT"), "Fax, \"really\"");
    assert_eq!(get("Agent_1"), "5");
    assert_eq!(get("Agent_2"), "");
    assert_eq!(get("Effort_1"), "8");
    assert_eq!(get("Q_Timing_Page Submit"), "42.5");

    let csv = csv_document(&def, [(&metadata, &data)]);
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert!(lines[0].starts_with("StartDate,EndDate,Status"));
    assert!(lines[1].starts_with("Start Date,End Date,Response Type"));
    assert!(lines[2].contains(",\"Fax, \"\"really\"\"\","));
    // A respondent's text never becomes a spreadsheet formula.
    assert!(lines[2].contains("\"'=HYPERLINK(\"\"x\"\")\""));
}

#[test]
fn json_export_carries_answers_values_and_labels() {
    let def = sample_definition();
    let (metadata, data) = response();
    let value = json_value(&def, &metadata, &data);
    assert_eq!(value["response_id"], "R_abcdefghijklmno");
    assert_eq!(value["finished"], true);
    assert_eq!(value["embedded_data"]["ContactId"], "003000000000001");
    assert_eq!(value["answers"]["QID4"]["selected"][0], "2");
    assert_eq!(value["values"]["CSAT"], "4");
    assert_eq!(value["labels"]["CSAT"], "Satisfied");
    assert_eq!(value["labels"]["Agent_3"], "Disagree");
    assert!(value["values"].get("Agent_2").is_none());
    // The answers read back as the API takes them.
    let back: ResponseData = serde_json::from_value(serde_json::json!({
        "answers": value["answers"], "embedded_data": value["embedded_data"]
    }))
    .unwrap();
    assert_eq!(back, data);
}

#[test]
fn formula_cells_are_neutralised_in_every_csv_row() {
    let def = sample_definition();
    let (metadata, mut data) = response();
    let columns = csv_columns(&def);
    let at = |key: &str| columns.iter().position(|c| c.key == key).unwrap();
    for (text, expected) in [
        (
            "=HYPERLINK(\"http://x\",\"y\")",
            "'=HYPERLINK(\"http://x\",\"y\")",
        ),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("\0=1", "'\0=1"),
        // A plain number is read as a number, never as a formula: it stays as it is.
        ("-5", "-5"),
        ("+3.25", "+3.25"),
        ("-1.5e3", "-1.5e3"),
        ("plain text", "plain text"),
    ] {
        data.answers
            .insert("QID9".into(), Answer::Text(text.into()));
        data.embedded_data.insert("CaseId".into(), text.into());
        let row = csv_row(&def, &metadata, &data);
        assert_eq!(row[at("Comments")], expected, "answer {text:?}");
        assert_eq!(row[at("CaseId")], expected, "embedded data {text:?}");
    }
}

/// The sample survey as a later version has it: QID4's second choice renamed, QID5 deleted.
fn later_version() -> survey::SurveyDefinition {
    let mut def = sample_definition();
    let q4 = def.questions.iter_mut().find(|q| q.id == "QID4").unwrap();
    if let survey::QuestionKind::MultipleChoice { choices, .. } = &mut q4.kind {
        choices[1].text = "Renamed later".into();
    }
    let tag5 = def.question("QID5").unwrap().export_tag.clone();
    survey::edit::apply(
        &mut def,
        survey::edit::Edit::DeleteQuestion {
            question_id: "QID5".into(),
        },
    )
    .unwrap();
    assert!(def.questions.iter().all(|q| q.export_tag != tag5));
    def
}

#[test]
fn an_export_over_versions_keeps_each_responses_columns_and_labels() {
    let old = sample_definition();
    let new = later_version();
    let (metadata, data) = response();
    let columns = survey::export::columns_over([&new, &old]);
    let keys: Vec<&str> = columns.iter().map(|c| c.key.as_str()).collect();
    // The current version's columns first, in its order; the deleted question's after them.
    let current: Vec<String> = csv_columns(&new).into_iter().map(|c| c.key).collect();
    assert_eq!(
        keys[..current.len()],
        current.iter().map(String::as_str).collect::<Vec<_>>()[..]
    );
    let tag5 = &old.question("QID5").unwrap().export_tag;
    assert!(keys[current.len()..].contains(&tag5.as_str()), "{keys:?}");

    // Answered under the old version: its cells are those of csv_row, column by column.
    let row = survey::export::csv_row_in(&columns, &old, &metadata, &data);
    let by_key: std::collections::BTreeMap<String, String> = csv_columns(&old)
        .into_iter()
        .map(|c| c.key)
        .zip(csv_row(&old, &metadata, &data))
        .collect();
    for (c, cell) in columns.iter().zip(&row) {
        assert_eq!(
            cell,
            by_key.get(&c.key).unwrap_or(&String::new()),
            "{}",
            c.key
        );
    }

    // Read as a person reads it: the old version's label, not the rename.
    let tag4 = &old.question("QID4").unwrap().export_tag;
    let label = |def: &survey::SurveyDefinition| {
        survey::export::readable_cells_in(&columns, def, &data)
            .into_iter()
            .find(|c| &c.column.key == tag4)
            .unwrap()
            .value
    };
    assert_ne!(label(&old), "Renamed later");
    assert_eq!(label(&new), "Renamed later");
    // A column its version does not have is empty, and no metadata column is a readable one.
    let readable = survey::export::readable_cells_in(&columns, &new, &data);
    assert!(readable.iter().all(|c| c.column.key != "ResponseId"));
    assert_eq!(
        readable
            .iter()
            .find(|c| &c.column.key == tag5)
            .unwrap()
            .value,
        ""
    );
}
