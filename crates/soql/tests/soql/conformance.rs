//! Every corpus case: `valid` parses, `invalid`/`apex_only` refused by default, `apex_only` parses in apex mode.

use soql::{parse, parse_with, ParseOptions};

use crate::corpus;

#[test]
fn conformance_corpus() {
    let cases = corpus::load();
    let apex = ParseOptions { apex: true };
    let mut failures = Vec::new();
    for c in &cases {
        let ok = match c.expect.as_str() {
            "valid" => match parse(&c.soql) {
                Ok(_) => true,
                Err(e) => {
                    failures.push(format!(
                        "line {} (valid) refused: {e}\n    {}",
                        c.line, c.soql
                    ));
                    false
                }
            },
            "invalid" => match parse(&c.soql) {
                Ok(q) => {
                    failures.push(format!(
                        "line {} (invalid) accepted as: {q}\n    {}",
                        c.line, c.soql
                    ));
                    false
                }
                Err(_) => true,
            },
            "apex_only" => {
                let d = parse(&c.soql);
                let a = parse_with(&c.soql, apex);
                if d.is_ok() {
                    failures.push(format!(
                        "line {} (apex_only) accepted by default\n    {}",
                        c.line, c.soql
                    ));
                }
                if let Err(e) = &a {
                    failures.push(format!(
                        "line {} (apex_only) refused in apex mode: {e}\n    {}",
                        c.line, c.soql
                    ));
                }
                d.is_err() && a.is_ok()
            }
            other => panic!("unknown expectation {other} at line {}", c.line),
        };
        let _ = ok;
    }
    let passed = cases.len() - count_failed_cases(&failures);
    println!("SOQL conformance: {passed}/{} cases pass", cases.len());
    for f in &failures {
        println!("  {f}");
    }
    assert!(
        failures.is_empty(),
        "{} conformance failures",
        failures.len()
    );
}

fn count_failed_cases(failures: &[String]) -> usize {
    let mut lines: Vec<&str> = failures
        .iter()
        .map(|f| f.split(' ').nth(1).unwrap_or(""))
        .collect();
    lines.sort();
    lines.dedup();
    lines.len()
}
