//! The README's walkthrough ("Using it"), run as a reader would: its shell blocks, read from
//! README.md itself, pasted into bash in an empty directory with the freshly built `sonde` on
//! the PATH. Only the ports and the sample survey's path are given, through the variables the
//! walkthrough reads for that.

use crate::harness::TempDir;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `sh` blocks of one `## ` section of README.md, in order, joined.
fn walkthrough(readme: &str, heading: &str) -> String {
    let start = readme
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README.md has no {heading:?} section"));
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let mut script = String::new();
    let mut in_block = false;
    for line in section.lines() {
        match (in_block, line.trim()) {
            (false, "```sh") => in_block = true,
            (true, "```") => in_block = false,
            (true, _) => {
                script.push_str(line);
                script.push('\n');
            }
            _ => {}
        }
    }
    script
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Ends the walkthrough's process group, servers it left running included.
struct Group(u32);

impl Drop for Group {
    fn drop(&mut self) {
        // `--` keeps the negative group id an id: some `kill` builds read `-KILL -123` as a
        // signal to every process (-1).
        if self.0 > 1 {
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{}", self.0)])
                .stderr(Stdio::null())
                .status();
        }
    }
}

#[test]
fn the_readme_walkthrough_runs_as_written() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let script = walkthrough(&readme, "## Using it");
    assert!(
        script.lines().count() > 40,
        "the walkthrough's blocks:\n{script}"
    );
    let dir = TempDir::new();
    let sonde = std::path::Path::new(env!("CARGO_BIN_EXE_sonde"));
    let path = format!(
        "{}:{}",
        sonde.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let sample = root.join("crates/survey/src/sample.json");
    let mut bash = Command::new("bash");
    bash.args(["-euo", "pipefail", "-c", &script])
        .current_dir(&dir.0)
        .env("PATH", path)
        .env("PORT", free_port().to_string())
        .env("SF_PORT", free_port().to_string())
        .env("SAMPLE", sample.canonicalize().unwrap())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for (name, _) in std::env::vars() {
        if name.starts_with("SONDE_") || name.starts_with("SFSIM_") {
            bash.env_remove(name);
        }
    }
    let child = bash.spawn().unwrap();
    let group = Group(child.id());
    // The output is read on other threads so that a chatty step cannot block on a full pipe.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(child.wait_with_output());
    });
    let deadline = Instant::now() + Duration::from_secs(240);
    let out = done_rx
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .unwrap_or_else(|_| {
            drop(group);
            panic!("the walkthrough did not finish within 4 minutes")
        })
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the walkthrough stopped ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    // What a reader sees along the way.
    for expected in [
        "Customer satisfaction after a support case",
        "/s/SV_",
        "R_",
        "Salesforce org linked",
        r#""apiAccess":true"#,
        r#""status":"succeeded""#,
        r#""Survey_Response_Count__c":"#,
        "INVALID_CROSS_REFERENCE_KEY",
        r#""status":"queued""#,
    ] {
        assert!(
            stdout.contains(expected),
            "the walkthrough never showed {expected:?}:\n{stdout}\n--- stderr\n{stderr}"
        );
    }
}
