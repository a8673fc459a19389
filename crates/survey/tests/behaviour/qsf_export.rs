//! `.qsf` export: Sonde's importer reads every export back to the definition it came from.

use survey::qsf::export::{export, to_qsf, to_qsf_string};
use survey::qsf::import;
use survey::SurveyDefinition;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/qsf");
/// The held conformance files, when this machine has them (the same files as `DIR` today).
const SHARED_DIR: &str = "/work/shared/conformance/qsf";

fn reimport(def: &SurveyDefinition) -> SurveyDefinition {
    import(&to_qsf_string(def))
        .unwrap_or_else(|e| panic!("the export does not import: {e}"))
        .definition
}

fn qsf_files() -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for dir in [DIR, SHARED_DIR] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "qsf") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_held_qsf_round_trips() {
    let files = qsf_files();
    assert!(files.len() >= 10, "{files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let first = import(&text).unwrap().definition;
        let exported = export(&first);
        // An import is importer-normal: nothing in it lacks a Qualtrics form.
        assert!(
            exported.warnings.is_empty(),
            "{}: {:?}",
            path.display(),
            exported.warnings
        );
        let second = reimport(&first);
        assert_eq!(first, second, "{}", path.display());
    }
}

#[test]
fn the_sample_round_trips_without_loss() {
    let sample = survey::sample::sample_definition();
    let exported = export(&sample);
    assert!(exported.warnings.is_empty(), "{:?}", exported.warnings);
    assert_eq!(reimport(&sample), sample);
}

/// Qualtrics' shape: a `SurveyEntry`, and among `SurveyElements` exactly one `BL`, one `FL`
/// and one `SO`, and one `SQ` per question named by its id, in the definition's order.
#[test]
fn the_export_keeps_the_qualtrics_shape() {
    let sample = survey::sample::sample_definition();
    let doc = to_qsf(&sample);
    let entry = &doc["SurveyEntry"];
    assert_eq!(entry["SurveyName"], sample.name.as_str());
    assert_eq!(entry["SurveyLanguage"], "EN");
    let id = entry["SurveyID"].as_str().unwrap();
    assert!(id.starts_with("SV_") && id.len() == 18, "{id}");
    let elements = doc["SurveyElements"].as_array().unwrap();
    let count = |kind: &str| elements.iter().filter(|e| e["Element"] == kind).count();
    assert_eq!(count("BL"), 1);
    assert_eq!(count("FL"), 1);
    assert_eq!(count("SO"), 1);
    assert_eq!(count("QC"), 1);
    assert_eq!(count("SQ"), sample.questions.len());
    for e in elements {
        assert_eq!(e["SurveyID"], id);
    }
    let sq: Vec<&str> = elements
        .iter()
        .filter(|e| e["Element"] == "SQ")
        .map(|e| {
            assert_eq!(e["PrimaryAttribute"], e["Payload"]["QuestionID"]);
            e["PrimaryAttribute"].as_str().unwrap()
        })
        .collect();
    let ids: Vec<&str> = sample.questions.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(sq, ids);
    let flow = &elements.iter().find(|e| e["Element"] == "FL").unwrap()["Payload"];
    assert_eq!(flow["Type"], "Root");
    assert_eq!(flow["FlowID"], "FL_1");
    let blocks = elements.iter().find(|e| e["Element"] == "BL").unwrap()["Payload"]
        .as_array()
        .unwrap();
    assert_eq!(blocks.len(), sample.blocks.len());
    assert_eq!(blocks[0]["Type"], "Default");
    // Flow elements are numbered FL_2, FL_3, ... under the root FL_1, and counted.
    fn flow_ids(list: &serde_json::Value, out: &mut Vec<u64>) {
        for e in list.as_array().into_iter().flatten() {
            let id = e["FlowID"].as_str().unwrap();
            out.push(id.strip_prefix("FL_").unwrap().parse().unwrap());
            flow_ids(&e["Flow"], out);
        }
    }
    let mut ids = Vec::new();
    flow_ids(&flow["Flow"], &mut ids);
    ids.sort();
    assert_eq!(ids, (2..2 + ids.len() as u64).collect::<Vec<_>>());
    assert_eq!(flow["Properties"]["Count"], ids.len() as u64 + 1);
    assert_eq!(flow["Flow"][1]["Type"], "Block", "the default block");
    let options = &elements.iter().find(|e| e["Element"] == "SO").unwrap()["Payload"];
    assert_eq!(options["PartialData"], "+1 week");
    assert_eq!(options["BackButton"], "false");
    let sq = |id: &str| {
        &elements
            .iter()
            .find(|e| e["Element"] == "SQ" && e["PrimaryAttribute"] == id)
            .unwrap()["Payload"]
    };
    let kinds = |id: &str| {
        let p = sq(id);
        (
            p["QuestionType"].as_str().unwrap().to_string(),
            p["Selector"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(kinds("QID1"), ("DB".into(), "TB".into()));
    assert_eq!(kinds("QID2"), ("Timing".into(), "PageTimer".into()));
    assert_eq!(kinds("QID3"), ("MC".into(), "NPS".into()));
    assert_eq!(kinds("QID4"), ("MC".into(), "SAVR".into()));
    assert_eq!(kinds("QID5"), ("MC".into(), "MAVR".into()));
    assert_eq!(kinds("QID6"), ("Matrix".into(), "Likert".into()));
    assert_eq!(kinds("QID7"), ("Slider".into(), "HSLIDER".into()));
    assert_eq!(kinds("QID9"), ("TE".into(), "ML".into()));
    assert_eq!(kinds("QID10"), ("TE".into(), "SL".into()));
    assert_eq!(sq("QID4")["RecodeValues"]["1"], "5");
    assert_eq!(sq("QID5")["Choices"]["5"]["TextEntry"], "true");
    assert_eq!(sq("QID3")["Validation"]["Settings"]["ForceResponse"], "ON");
    assert_eq!(
        sq("QID10")["Validation"]["Settings"]["ContentType"],
        "ValidEmail"
    );

    // The same survey exports to the same file.
    assert_eq!(to_qsf(&sample), doc);
}

/// What Sonde can hold and the importer cannot read back from any `.qsf` is reported by the
/// export, and reads back exactly as the warning says.
#[test]
fn what_has_no_qsf_form_is_reported() {
    use survey::{Condition, EmbeddedField, EmbeddedValue, FlowElement, Operator, QuestionKind};
    let mut def = survey::sample::sample_definition();
    let mut expected = def.clone();
    let question = |def: &mut SurveyDefinition, id: &str| -> usize {
        def.questions.iter().position(|q| q.id == id).unwrap()
    };

    // Matrix statements carry no recodes in Qualtrics (recodes belong to the scale).
    let agent = question(&mut def, "QID6");
    if let QuestionKind::Matrix { statements, .. } = &mut def.questions[agent].kind {
        statements[0].recode = Some("9".into());
    }
    // Auto-advance after 0 seconds is how Qualtrics writes "never".
    let timing = question(&mut def, "QID2");
    def.questions[timing].kind = QuestionKind::Timing {
        auto_advance_seconds: Some(0),
    };
    expected.questions[timing].kind = QuestionKind::Timing {
        auto_advance_seconds: None,
    };
    // Imported text is trimmed.
    let title = question(&mut def, "QID11");
    def.questions[title].text = "  What is your job title?".into();
    // Display logic on the same page needs JavaScript, so the importer drops it.
    let comments = question(&mut def, "QID9");
    def.questions[comments].display_logic = Some(Condition::Answer {
        question: "QID10".into(),
        statement: None,
        op: Operator::IsNotEmpty,
        value: String::new(),
    });
    // Qualtrics keeps a value only for "set value" fields, and an empty one means "from the
    // link"; an empty end-of-survey message means the survey's own.
    def.flow.push(FlowElement::EmbeddedData {
        fields: vec![EmbeddedField {
            name: "Empty".into(),
            value: EmbeddedValue::Fixed(String::new()),
        }],
    });
    expected.flow.push(FlowElement::EmbeddedData {
        fields: vec![EmbeddedField {
            name: "Empty".into(),
            value: EmbeddedValue::Url,
        }],
    });
    def.flow.push(FlowElement::EndSurvey {
        message: Some(String::new()),
    });
    expected.flow.push(FlowElement::EndSurvey { message: None });
    // Qualtrics' end messages named `MS_…` live in its message library.
    def.end_message = "MS_0123456789".into();
    expected.end_message =
        "Thank you for taking our survey. Your response has been recorded.".into();

    let warnings = export(&def).warnings;
    for part in [
        "recode of statement 1",
        "auto-advance after 0 seconds",
        "question QID11: the text is trimmed",
        "question QID9: display logic refers to a question on the same page",
        "embedded data field Empty",
        "an end-of-survey message is empty",
        "the end message is empty or looks like a Qualtrics library message id",
    ] {
        assert!(
            warnings.iter().any(|w| w.contains(part)),
            "{part:?} not in {warnings:#?}"
        );
    }
    assert_eq!(warnings.len(), 7, "{warnings:#?}");
    assert_eq!(reimport(&def), expected);
}
