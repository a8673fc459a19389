//! Shared access to the conformance corpus in `shared/conformance/soql/queries.jsonl`.

use std::path::PathBuf;

pub struct Case {
    pub line: usize,
    pub soql: String,
    pub expect: String,
    #[allow(dead_code)] // shown in failure reports by some tests
    pub source: String,
}

/// `$SONDE_SOQL_CORPUS` if set, else `shared/conformance/soql/queries.jsonl` in the nearest
/// ancestor of the crate that has it (the repository's parent in a checkout, further up in a
/// worktree).
pub fn corpus_path() -> PathBuf {
    if let Ok(p) = std::env::var("SONDE_SOQL_CORPUS") {
        return PathBuf::from(p);
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let rel = "shared/conformance/soql/queries.jsonl";
    manifest
        .ancestors()
        .map(|a| a.join(rel))
        .find(|p| p.exists())
        .unwrap_or_else(|| manifest.join("../../..").join(rel))
}

pub fn load() -> Vec<Case> {
    let text = std::fs::read_to_string(corpus_path()).expect("conformance corpus readable");
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let v: serde_json::Value = serde_json::from_str(l).expect("corpus line is JSON");
            Case {
                line: i + 1,
                soql: v["soql"].as_str().expect("soql").to_string(),
                expect: v["expect"].as_str().expect("expect").to_string(),
                source: v["source"].as_str().unwrap_or("").to_string(),
            }
        })
        .collect()
}
