//! `sonde twilio-signatures` (hidden): lets `scripts/twilio-conformance.sh` hold our
//! `X-Twilio-Signature` code against the official helper library's validator. Each input
//! line is `{"token": …, "url": …, "params": [[name, value], …], "signature": …?}`; each
//! output line is `{"signature": ours, "valid": whether the given signature verifies}`.

use anyhow::Context;
use serde_json::{json, Value};
use std::io::{BufRead, Write};

pub fn run() -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let case: Value =
            serde_json::from_str(&line).with_context(|| format!("line {}: not JSON", n + 1))?;
        let field = |name: &str| {
            case[name]
                .as_str()
                .map(str::to_string)
                .with_context(|| format!("line {}: {name} must be a string", n + 1))
        };
        let (token, url) = (field("token")?, field("url")?);
        let params: Vec<(String, String)> = serde_json::from_value(case["params"].clone())
            .with_context(|| format!("line {}: params must be [[name, value], …]", n + 1))?;
        let ours = twilio_wire::signature(&token, &url, &params);
        let valid = case["signature"]
            .as_str()
            .map(|given| twilio_wire::verify(&token, &url, &params, given));
        writeln!(out, "{}", json!({"signature": ours, "valid": valid}))?;
    }
    out.flush()?;
    Ok(())
}
