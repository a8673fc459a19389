//! Pure helpers behind `sonde soql fmt|check`: text in, text out, so the binary only does I/O
//! and exit codes (Ok → stdout and exit 0, Err → stderr and exit 1).

use crate::{analysis, parse_with, ParseOptions};

/// Canonical form of `input`, or `error: line L, column C: …`.
pub fn fmt(input: &str, apex: bool) -> Result<String, String> {
    parse_with(input, ParseOptions { apex })
        .map(|q| q.to_string())
        .map_err(|e| format!("error: {e}"))
}

/// `Ok(())` (the binary prints `ok`) if `input` parses and, with `connector`, an inbound pull can
/// use it; otherwise the error line to print.
pub fn check(input: &str, apex: bool, connector: bool) -> Result<(), String> {
    let q = parse_with(input, ParseOptions { apex }).map_err(|e| format!("error: {e}"))?;
    if connector {
        analysis::connector_check(&q)
            .map_err(|r| format!("error: the inbound connector cannot use this query: {r}"))?;
    }
    Ok(())
}
