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
    // The same survey exports to the same file.
    assert_eq!(to_qsf(&sample), doc);
}
