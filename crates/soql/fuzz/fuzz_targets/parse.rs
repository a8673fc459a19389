//! libFuzzer target: the parser never panics, and whatever it accepts prints to text that parses
//! back to the same AST (in both API and Apex modes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use soql::{parse_with, ParseOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for apex in [false, true] {
        let opts = ParseOptions { apex };
        if let Ok(q) = parse_with(text, opts) {
            let printed = q.to_string();
            let back = parse_with(&printed, opts).expect("printed form parses");
            assert_eq!(back, q, "round trip changed the AST for {printed}");
        }
    }
});
