//! A real SMTP server for the distribution tests: `scripts/smtp-catcher.py` (aiosmtpd) run as a
//! child process, saving each message it accepts to a directory of its own.

use crate::harness::TempDir;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One message as the server received it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    #[allow(dead_code)]
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub raw: String,
}

impl Received {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(self.raw.as_bytes())
            .expect("a MIME message")
    }

    pub fn to(&self) -> &str {
        self.rcpt_tos
            .first()
            .map(String::as_str)
            .unwrap_or_default()
    }
}

pub struct Catcher {
    pub port: u16,
    dir: TempDir,
    child: Child,
}

impl Drop for Catcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Python that has aiosmtpd (CI installs Debian's `python3-aiosmtpd`, which the system's
/// `/usr/bin/python3` sees even where another `python3` comes first on the PATH).
fn python() -> Option<&'static str> {
    ["python3", "/usr/bin/python3"].into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

impl Catcher {
    /// Starts a server that refuses `refuse` with 550 and defers each `(address, n)` with 451
    /// its first `n` times. None (with a note) when aiosmtpd is not installed, unless
    /// `SONDE_REQUIRE_SMTP` is set (CI), where that fails the test.
    pub fn start(refuse: &[&str], defer: &[(&str, u32)]) -> Option<Self> {
        let Some(python) = python() else {
            assert!(
                std::env::var("SONDE_REQUIRE_SMTP").is_err(),
                "SONDE_REQUIRE_SMTP is set but no python3 has aiosmtpd (apt-get install python3-aiosmtpd)"
            );
            eprintln!("note: aiosmtpd not installed; the SMTP distribution tests are skipped");
            return None;
        };
        let dir = TempDir::new();
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp-catcher.py");
        let mut cmd = Command::new(python);
        cmd.arg(script).arg("--dir").arg(&dir.0);
        for a in refuse {
            cmd.arg("--refuse").arg(a);
        }
        for (a, n) in defer {
            cmd.arg("--defer").arg(format!("{a}={n}"));
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the SMTP catcher");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ready: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the SMTP catcher's ready line {line:?}: {e}"));
        Some(Self {
            port: ready["port"].as_u64().unwrap() as u16,
            dir,
            child,
        })
    }

    /// A mail transport to this server.
    pub fn mailer(&self) -> engine::mail::Mailer {
        let settings = engine::mail::MailSettings::parse(
            &format!("smtp://127.0.0.1:{}?tls=none", self.port),
            "surveys@sonde.example",
            None,
            Some("4"),
        )
        .unwrap();
        engine::mail::Mailer::new(settings).unwrap()
    }

    /// Every message received so far, in the order received.
    pub fn received(&self) -> Vec<Received> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir.0)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    /// The messages received, once at least `n` are there (waiting up to 10 s).
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the SMTP server received {} messages, not {n}",
            self.received().len()
        );
    }
}
