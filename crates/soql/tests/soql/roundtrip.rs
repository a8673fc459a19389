//! Canonical printing is stable on every valid corpus case:
//! `fmt(parse(fmt(parse(q)))) == fmt(parse(q))` and `parse(fmt(parse(q))) == parse(q)`.

use soql::{parse_with, ParseOptions};

use crate::corpus;

#[test]
fn corpus_round_trips() {
    let apex = ParseOptions { apex: true };
    let mut checked = 0;
    let mut failures = Vec::new();
    for c in corpus::load() {
        let opts = match c.expect.as_str() {
            "valid" => ParseOptions::default(),
            "apex_only" => apex,
            _ => continue,
        };
        let q1 = parse_with(&c.soql, opts).expect("corpus case parses");
        let f1 = q1.to_string();
        match parse_with(&f1, opts) {
            Ok(q2) => {
                let f2 = q2.to_string();
                if q2 != q1 {
                    failures.push(format!(
                        "line {}: AST changed after printing\n    {f1}",
                        c.line
                    ));
                }
                if f2 != f1 {
                    failures.push(format!("line {}: not stable\n    {f1}\n    {f2}", c.line));
                }
            }
            Err(e) => failures.push(format!(
                "line {}: printed form refused: {e}\n    {f1}",
                c.line
            )),
        }
        checked += 1;
    }
    println!(
        "SOQL round trip: {}/{checked} cases stable",
        checked - failures.len()
    );
    for f in &failures {
        println!("  {f}");
    }
    assert!(failures.is_empty());
}
