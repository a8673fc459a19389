//! The `sonde` binary as an operator uses it: add a user, create a token, serve, import a
//! `.qsf` through the API — against a data dir, and against PostgreSQL when configured.

use crate::harness::{fresh_pg_schema, qsf_dir, sign_in_at, TempDir};
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn sonde(db: &[String]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sonde"));
    c.args(db).env("RUST_LOG", "warn");
    // A data dir makes its own key; a database URL needs the operator's (as on PostgreSQL).
    if db.iter().any(|a| a == "--database-url") {
        c.env(
            "SONDE_SECRET_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        );
    }
    c
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn operator_story(db: Vec<String>) {
    let mut add = sonde(&db)
        .args([
            "users",
            "add",
            "admin@example.com",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"a long admin password\n")
        .unwrap();
    let out = add.wait_with_output().unwrap();
    assert!(out.status.success(), "users add: {out:?}");
    let out = sonde(&db)
        .args(["tokens", "create", "admin@example.com"])
        .output()
        .unwrap();
    assert!(out.status.success(), "tokens create: {out:?}");
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("sonde_"), "{token}");

    let port = free_port();
    let _server = Server(
        sonde(&db)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status() == 200 {
                break;
            }
        }
        assert!(Instant::now() < deadline, "server did not become healthy");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let qsf = std::fs::read(qsf_dir().join("ctesta01__QualtricsTools__Sample_Survey.qsf")).unwrap();
    let r = client
        .post(format!("{base}/api/v1/surveys/import"))
        .bearer_auth(&token)
        .body(qsf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: serde_json::Value = r.json().await.unwrap();
    let id = v["id"].as_str().unwrap();
    assert!(v["warnings"].is_array());
    let r = client
        .get(format!("{base}/api/v1/surveys/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(!v["definition"]["questions"].as_array().unwrap().is_empty());

    // The same file through `sonde survey import`.
    let out = sonde(&db)
        .args(["survey", "import", "--owner", "admin@example.com"])
        .arg(qsf_dir().join("ctesta01__QualtricsTools__Sample_Survey.qsf"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("SV_"));
}

#[tokio::test]
async fn operator_commands_on_a_data_dir() {
    let dir = TempDir::new();
    operator_story(vec!["--data-dir".into(), dir.0.display().to_string()]).await;
}

#[tokio::test]
async fn operator_commands_on_postgres() {
    let Ok(base) = std::env::var("SONDE_TEST_POSTGRES_URL") else {
        eprintln!("note: SONDE_TEST_POSTGRES_URL not set; skipped");
        return;
    };
    let url = fresh_pg_schema(&base).await;
    operator_story(vec!["--database-url".into(), url]).await;
}

#[test]
fn bad_input_on_the_command_line_says_what_is_wrong() {
    let dir = TempDir::new();
    let db = vec!["--data-dir".to_string(), dir.0.display().to_string()];
    let out = sonde(&db)
        .args([
            "users",
            "add",
            "x@example.com",
            "--role",
            "boss",
            "--password-stdin",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role"));
    let bad = dir.0.join("broken.qsf");
    std::fs::write(&bad, "{\"SurveyEntry\": ").unwrap();
    let mut add = sonde(&db)
        .args([
            "users",
            "add",
            "x@example.com",
            "--role",
            "editor",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"password123\n")
        .unwrap();
    assert!(add.wait().unwrap().success());
    let out = sonde(&db)
        .args(["survey", "import", "--owner", "x@example.com"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.qsf") && err.contains("line 1"),
        "{err}"
    );
}

fn soql(args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sonde"))
        .arg("soql")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn soql_fmt_and_check() {
    let out = soql(
        &["fmt"],
        "select id, name from account where name = 'Acme' limit 5",
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "SELECT id, name FROM account WHERE name = 'Acme' LIMIT 5"
    );
    let out = soql(&["fmt"], "SELECT Id FROM Contact WHERE Name = WHERE");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: line 1, column 37: expected a value after"),
        "{err}"
    );
    let out = soql(&["check"], "SELECT Id FROM Contact WHERE Id = :contactId");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Apex"));
    let out = soql(
        &["check", "--apex"],
        "SELECT Id FROM Contact WHERE Id = :contactId",
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
    let out = soql(
        &["check", "--connector"],
        "SELECT COUNT(Id) FROM Case GROUP BY Status",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("connector"));
}

/// The README's first command: `sonde demo` sets everything up and prints working URLs: a
/// survey link whose first page greets the respondent by name, the admin login, and shell
/// commands that sign in to the built-in org and read the roll-up each response moves.
#[tokio::test]
async fn demo_prints_urls_that_work() {
    use std::io::BufRead;
    let dir = TempDir::new();
    let (port, sf_port) = (free_port(), free_port());
    let mut child = sonde(&["--data-dir".to_string(), dir.0.display().to_string()])
        .args([
            "demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--sfsim-listen",
            &format!("127.0.0.1:{sf_port}"),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _server = Server(child);
    // Read the banner up to its last line (or what came within a minute).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines: Vec<String> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        let done = line.starts_with("Ctrl-C stops the demo");
        lines.push(line);
        if done {
            break;
        }
    }
    let value = |label: &str| {
        lines
            .iter()
            .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("no {label} in {lines:?}"))
    };
    let survey_url = value("Sample survey:");
    let password = value("Password:");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let page = loop {
        if let Ok(r) = client.get(&survey_url).send().await {
            break r.text().await.unwrap();
        }
        assert!(Instant::now() < deadline, "demo never served {survey_url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(page.contains("Customer satisfaction"), "{page}");
    let greeting = page
        .find("Hello")
        .map(|at| &page[at..page.len().min(at + 40)])
        .unwrap_or_else(|| panic!("no greeting on the first page:\n{page}"));
    assert!(
        !greeting.starts_with("Hello ,"),
        "the first page greets the respondent by name, not {greeting:?}"
    );
    let respondent = value("(a personal link for");
    let first_name = respondent.split_whitespace().next().unwrap();
    assert!(
        greeting.starts_with(&format!("Hello {first_name}, thank you")),
        "{greeting:?}"
    );
    let r = sign_in_at(
        &client,
        &format!("http://127.0.0.1:{port}"),
        &value("Sign in as:"),
        &password,
    )
    .await;
    assert!(
        r.text().await.unwrap().contains("Surveys"),
        "the printed admin login works"
    );

    // The printed commands sign in to the built-in org and read the roll-up and the records.
    let start = lines
        .iter()
        .position(|l| l.contains("To watch it"))
        .unwrap_or_else(|| panic!("no commands to watch the org in {lines:?}"));
    let commands: Vec<&str> = lines[start + 1..]
        .iter()
        .take_while(|l| l.starts_with("    "))
        .map(|l| l.trim())
        .collect();
    assert_eq!(commands.len(), 3, "{lines:?}");
    let watch = || {
        let out = Command::new("bash")
            .args(["-euo", "pipefail", "-c", &commands.join("\n")])
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            out.status.success(),
            "the printed commands fail: {}{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        let answers: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&stdout)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(answers.len(), 2, "{stdout}");
        let account = answers[0]["records"][0].clone();
        (account, answers[1]["records"].as_array().unwrap().clone())
    };
    let (account, records) = watch();
    let count = account["Survey_Response_Count__c"]
        .as_f64()
        .expect("a roll-up");
    let account_id = account["attributes"]["url"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .unwrap()
        .to_string();
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("({account_id})")) && l.contains("Survey_Response__c")),
        "the banner names the account the roll-up is on: {lines:?}"
    );

    // A response for the printed account is written there by the demo's workflow.
    let out = sonde(&["--data-dir".to_string(), dir.0.display().to_string()])
        .args(["tokens", "create", "admin@demo.sonde.local"])
        .output()
        .unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let link = url::Url::parse(&survey_url).unwrap();
    let survey_id = link.path().trim_start_matches("/s/").to_string();
    let base = format!("http://127.0.0.1:{port}");
    let answers = sonde::bench::complete_answers(&survey::sample::sample_definition());
    let r = client
        .post(format!("{base}/api/v1/surveys/{survey_id}/responses"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"answers": answers, "embeddedData": {"sfAccountId": account_id}, "finished": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let response: serde_json::Value = r.json().await.unwrap();
    let response_id = response["responseId"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (account, now) = watch();
        let record = now
            .iter()
            .find(|r| r["Response_Id__c"] == response_id.as_str());
        // The printed commands query the account, then its records: a record written between
        // the two is listed while the account read before it does not count it yet.
        let counted = account["Survey_Response_Count__c"].as_f64() == Some(count + 1.0);
        if let Some(record) = record.filter(|_| counted || Instant::now() >= deadline) {
            assert_eq!(
                account["Survey_Response_Count__c"].as_f64(),
                Some(count + 1.0),
                "the roll-up counts the new record {record}"
            );
            assert_eq!(now.len(), records.len() + 1);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the demo workflow did not deliver {response_id}: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[test]
fn salesforce_package_writes_a_deployable_project_and_says_what_to_do_next() {
    let dir = TempDir::new();
    let out_dir = dir.0.join("kit");
    let out = sonde(&[])
        .args([
            "salesforce",
            "package",
            "--url",
            "https://sonde.example.com/",
        ])
        .args([
            "--name",
            "Acme & Co surveys",
            "--contact-email",
            "it@acme.example",
        ])
        .arg("--out")
        .arg(&out_dir)
        .env_remove("SONDE_PUBLIC_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("sf project deploy start"), "{stdout}");
    let app_path =
        out_dir.join("force-app/main/default/connectedApps/Acme_Co_surveys.connectedApp-meta.xml");
    assert!(
        stdout.contains(&app_path.display().to_string()),
        "names what it wrote: {stdout}"
    );
    let app = std::fs::read_to_string(&app_path).unwrap();
    assert!(
        app.contains("<canvasUrl>https://sonde.example.com/panel</canvasUrl>")
            && app.contains(
                "<callbackUrl>https://sonde.example.com/oauth/salesforce/callback</callbackUrl>"
            )
            && app.contains("<label>Acme &amp; Co surveys</label>")
            && app.contains("<contactEmail>it@acme.example</contactEmail>"),
        "{app}"
    );
    let component = std::fs::read_to_string(
        out_dir.join("force-app/main/default/aura/SondePanel/SondePanel.cmp"),
    )
    .unwrap();
    assert!(
        component.contains("developerName=\"Acme_Co_surveys\""),
        "{component}"
    );
    for object in ["Contact", "Lead", "Account", "Case", "Campaign"] {
        let page = out_dir.join(format!(
            "force-app/main/default/flexipages/Sonde_{object}_Record_Page.flexipage-meta.xml"
        ));
        assert!(page.exists(), "{}", page.display());
    }
    assert!(out_dir.join("sfdx-project.json").exists());

    // A URL Salesforce would not post to is refused before anything is written.
    let refused = dir.0.join("refused");
    let out = sonde(&[])
        .args(["salesforce", "package", "--url", "http://sonde.example.com"])
        .arg("--out")
        .arg(&refused)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("HTTPS"),
        "{out:?}"
    );
    assert!(!refused.exists());
}
