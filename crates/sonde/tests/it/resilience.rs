//! What an unlucky operator and a curious local user find: a full disk never makes Sonde
//! acknowledge what it did not store, a held database lock answers 503 with `Retry-After`
//! while `/healthz` tells the truth, and the secrets on disk are private and sealed.

use crate::harness::{backends, Backend, TempDir, TestApp};
use engine::{Config, Role, Sonde};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A Sonde serving one data dir inside the test process. `stop` shuts it down as a clean
/// restart would: the server drains, then the pool closes every connection.
struct Instance {
    base: String,
    sonde: Sonde,
    client: reqwest::Client,
    shutdown: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
}

impl Instance {
    async fn start(dir: &Path) -> Self {
        let store = store::Store::open_data_dir(dir)
            .await
            .expect("open data dir");
        store.migrate().await.expect("migrate");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        // The key beside the database, as `sonde serve` keeps it.
        let key = engine::secrets::SecretBox::load_or_create(dir).expect("instance key");
        let sonde = Sonde::with_secrets(
            store,
            Config {
                public_url: base.clone(),
            },
            Some(key),
        )
        .await
        .expect("start sonde");
        let app = web::app(web::AppState::new(sonde.clone()));
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self {
            base,
            sonde,
            client: reqwest::Client::new(),
            shutdown,
            server,
        }
    }

    async fn stop(self) {
        drop(self.client);
        let _ = self.shutdown.send(());
        self.server.await.unwrap();
        self.sonde.store.close().await;
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// An admin of a new organization, their token and the sample survey.
    async fn admin_with_survey(&self) -> (engine::Actor, String, String) {
        let org = self
            .sonde
            .store
            .create_organization("Resilience")
            .await
            .unwrap();
        let admin = self
            .sonde
            .add_user(
                Some(&org.id),
                "ops@example.com",
                Role::Admin,
                "a long admin password",
            )
            .await
            .unwrap();
        let token = self
            .sonde
            .create_api_token("ops@example.com", "test")
            .await
            .unwrap();
        let def = survey::sample::sample_definition();
        let created = self
            .sonde
            .create_survey(&admin, &serde_json::to_string(&def).unwrap())
            .await
            .unwrap();
        (admin, token, created.survey.id)
    }

    async fn healthz_until(&self, status: u16) -> (u16, String) {
        healthz_until(&self.client, &self.base, status).await
    }

    /// Posts one finished response; answers (status, response id when acknowledged).
    async fn post_response(&self, token: &str, survey_id: &str) -> (u16, Option<String>) {
        post_response(&self.client, &self.base, token, survey_id).await
    }

    /// Every response id stored for the survey.
    async fn stored_responses(&self, token: &str, survey_id: &str) -> BTreeSet<String> {
        let v: Value = self
            .client
            .get(self.url(&format!("/api/v1/surveys/{survey_id}/responses?limit=1000")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["responses"]
            .as_array()
            .unwrap_or_else(|| panic!("{v}"))
            .iter()
            .map(|r| r["responseId"].as_str().unwrap().to_string())
            .collect()
    }
}

/// `/healthz` until it answers `status` (a probe result is reused for a moment), or the
/// last answer after a few seconds.
async fn healthz_until(client: &reqwest::Client, base: &str, status: u16) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let r = client.get(format!("{base}/healthz")).send().await.unwrap();
        let got = (r.status().as_u16(), r.text().await.unwrap());
        if got.0 == status || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A finished sample response, padded so a few dozen fill a small disk.
async fn post_response(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    survey_id: &str,
) -> (u16, Option<String>) {
    let answers = sonde::bench::complete_answers(&survey::sample::sample_definition());
    let r = client
        .post(format!("{base}/api/v1/surveys/{survey_id}/responses"))
        .bearer_auth(token)
        .timeout(Duration::from_secs(60))
        .json(&json!({
            "answers": answers,
            "embeddedData": {"ContactId": "003".repeat(1500)},
            "finished": true
        }))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let id = body["responseId"].as_str().map(str::to_string);
    (status, id.filter(|_| status == 201))
}

/// A small tmpfs mounted for one test (we run as root in CI); unmounted when dropped.
struct SmallDisk {
    mount: TempDir,
}

impl SmallDisk {
    /// None, with a note saying why, where mounting is not allowed.
    fn mount(bytes: u64) -> Option<Self> {
        let mount = TempDir::new();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(&mount.0)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Self { mount }),
            Ok(o) => {
                eprintln!(
                    "skipped: mounting a {bytes}-byte tmpfs needs root ({})",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("skipped: cannot run mount: {e}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        &self.mount.0
    }

    /// Writes a filler file until the disk has no byte left.
    fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        loop {
            match f.write(&chunk) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
                Err(e) => panic!("filling the disk: {e}"),
            }
        }
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.mount.0)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.mount.0).status();
        }
    }
}

#[tokio::test]
async fn a_full_disk_never_acknowledges_what_it_did_not_store() {
    let Some(disk) = SmallDisk::mount(6 * 1024 * 1024) else {
        return;
    };
    let data = disk.path().join("data");
    let app = Instance::start(&data).await;
    let (_, token, survey_id) = app.admin_with_survey().await;
    let mut acknowledged = BTreeSet::new();
    let (status, id) = app.post_response(&token, &survey_id).await;
    assert_eq!(status, 201);
    acknowledged.extend(id);
    assert_eq!(app.healthz_until(200).await.0, 200);

    let filler = disk.fill();
    // Whatever still fits may be acknowledged; refusals must be 5xx, never a 201 for
    // something that is not stored. Thirty of them leave several pooled connections behind
    // a failed transaction, as a busy server would (a few did not break one before the fix).
    let mut refused = 0;
    let mut written_while_full = 0;
    for _ in 0..1000 {
        match app.post_response(&token, &survey_id).await {
            (201, Some(id)) => {
                written_while_full += 1;
                acknowledged.insert(id);
            }
            (s, _) if s >= 500 => {
                refused += 1;
                if refused == 30 {
                    break;
                }
            }
            other => panic!("a full disk answered {other:?}"),
        }
    }
    assert!(refused > 0, "writes never failed on a full disk");
    let full_health = app.healthz_until(503).await;

    std::fs::remove_file(&filler).unwrap();
    let mut after = Vec::new();
    for _ in 0..30 {
        let (status, id) = app.post_response(&token, &survey_id).await;
        after.push(status);
        acknowledged.extend(id);
    }
    let later_health = app.healthz_until(200).await;
    app.stop().await;

    let app = Instance::start(&data).await;
    let stored = app.stored_responses(&token, &survey_id).await;
    let lost: Vec<&String> = acknowledged.difference(&stored).collect();
    let unacknowledged: Vec<&String> = stored.difference(&acknowledged).collect();
    eprintln!(
        "disk full: {written_while_full} written while full, {refused} refused; after freeing \
         the space: {} of 30 acknowledged; after a restart {} acknowledged responses missing",
        after.iter().filter(|s| **s == 201).count(),
        lost.len()
    );
    assert!(
        lost.is_empty(),
        "acknowledged but lost after a restart: {lost:?}"
    );
    assert!(
        unacknowledged.is_empty(),
        "stored but answered as failed: {unacknowledged:?}"
    );
    assert!(
        after.iter().all(|s| *s == 201),
        "writes did not recover once space returned: {after:?}"
    );
    assert_eq!(
        full_health.0, 503,
        "/healthz while the disk was full: {full_health:?}"
    );
    assert_eq!(
        later_health.0, 200,
        "/healthz once space returned: {later_health:?}"
    );
    app.stop().await;
}

/// Holds the database's write lock from a connection of its own, as another process would:
/// the whole SQLite file, or `table` on PostgreSQL (whose locks are per table and row).
struct HeldLock {
    conn: sqlx::pool::PoolConnection<sqlx::Any>,
    _store: store::Store,
}

impl HeldLock {
    async fn take(app: &TestApp, backend: Backend, table: &str) -> Self {
        let store = match backend {
            Backend::Sqlite => {
                let file = app.data_dir().unwrap().join("sonde.db");
                store::Store::connect(&format!("sqlite://{}", file.display()))
                    .await
                    .unwrap()
            }
            Backend::Postgres => app.sonde.store.clone(),
        };
        let mut conn = store.pool().acquire().await.unwrap();
        match backend {
            Backend::Sqlite => {
                sqlx::query("BEGIN EXCLUSIVE")
                    .execute(&mut *conn)
                    .await
                    .unwrap();
            }
            Backend::Postgres => {
                sqlx::query("BEGIN").execute(&mut *conn).await.unwrap();
                sqlx::query(&format!("LOCK TABLE {table} IN EXCLUSIVE MODE"))
                    .execute(&mut *conn)
                    .await
                    .unwrap();
            }
        }
        Self {
            conn,
            _store: store,
        }
    }

    async fn release(mut self) {
        sqlx::query("ROLLBACK")
            .execute(&mut *self.conn)
            .await
            .unwrap();
    }
}

fn retry_after(r: &reqwest::Response) -> Option<u64> {
    r.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn a_held_database_lock_answers_503_with_retry_after() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let survey_id = app.sample_survey(&token).await;
        // Opening the survey writes nothing; submitting its first page stores the response.
        let first = reqwest::get(app.url(&format!("/s/{survey_id}")))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut first_page = sonde::bench::mapping::hidden_inputs(&first);
        first_page.extend([("QID3".into(), "10".into()), ("QID4".into(), "1".into())]);
        let lock = HeldLock::take(&app, backend, "responses").await;

        let started = Instant::now();
        let (api, page) = tokio::join!(
            app.post(&token, &format!("/api/v1/surveys/{survey_id}/responses"))
                .timeout(Duration::from_secs(60))
                .json(&json!({"finished": false}))
                .send(),
            reqwest::Client::new()
                .post(app.url(&format!("/s/{survey_id}")))
                .timeout(Duration::from_secs(60))
                .form(&first_page)
                .send()
        );
        let waited = started.elapsed();
        let (api, page) = (api.unwrap(), page.unwrap());
        eprintln!("{backend:?}: a write under a held lock waited {waited:?} before its answer");
        assert_eq!(api.status(), 503, "{backend:?}");
        assert!(
            retry_after(&api).is_some(),
            "{backend:?}: {:?}",
            api.headers()
        );
        let body: Value = api.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unavailable", "{body}");
        assert_eq!(page.status(), 503, "{backend:?}");
        assert!(retry_after(&page).is_some());
        assert!(page.text().await.unwrap().contains("try again"));
        if backend == Backend::Sqlite {
            // The whole file is locked: the store cannot be written, and /healthz says so
            // promptly rather than after the writers' wait.
            let started = Instant::now();
            let r = app.client.get(app.url("/healthz")).send().await.unwrap();
            let took = started.elapsed();
            eprintln!("{backend:?}: /healthz under a held lock answered in {took:?}");
            assert_eq!(r.status(), 503);
            assert!(retry_after(&r).is_some());
            let reason = r.text().await.unwrap();
            assert!(reason.contains("cannot be written"), "{reason}");
            assert!(took < Duration::from_secs(3), "/healthz took {took:?}");
        }

        lock.release().await;
        let r = app
            .post(&token, &format!("/api/v1/surveys/{survey_id}/responses"))
            .json(&json!({"finished": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            201,
            "{backend:?}: writes resume once the lock is gone"
        );
        let health = healthz_until(&app.client, &app.base, 200).await;
        assert_eq!(health.0, 200, "{backend:?}: {health:?}");
    }
}

#[tokio::test]
async fn a_directory_task_that_meets_a_busy_store_is_retried() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let survey_id = app.sample_survey(&token).await;
        let r = app
            .post(&token, &format!("/api/v1/surveys/{survey_id}/workflows"))
            .json(&json!({
                "name": "Keep the directory current",
                "tasks": [{"type": "directory", "action": "upsert_contact",
                           "fields": {"email": {"value": "busy@example.com"},
                                      "lastName": {"value": "Patient"}}}]
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let workflow: Value = r.json().await.unwrap();
        let wf_id = workflow["id"].as_str().unwrap();
        let (status, _) = post_response(&app.client, &app.base, &token, &survey_id).await;
        assert_eq!(status, 201);

        // The run is claimed first; then another process holds the lock the contact write
        // needs for longer than a write waits.
        let jobs = app
            .sonde
            .claim_workflow_runs("test-worker", 10)
            .await
            .unwrap();
        assert_eq!(jobs.len(), 1);
        let lock = HeldLock::take(&app, backend, "contacts").await;
        let sonde = app.sonde.clone();
        let pass =
            tokio::spawn(async move { sonde.execute_workflow_runs("test-worker", jobs).await });
        tokio::time::sleep(store::LOCK_WAIT + Duration::from_secs(2)).await;
        lock.release().await;
        let report = pass.await.unwrap().unwrap();
        assert_eq!(
            (report.retried, report.failed),
            (1, 0),
            "{backend:?}: {report:?}"
        );
        let runs = app
            .get_json(&token, &format!("/api/v1/workflows/{wf_id}/runs"))
            .await;
        let run = &runs["runs"][0];
        assert_eq!(run["status"], "retrying", "{backend:?}: {runs}");
        assert_eq!(run["tasks"][0]["status"], "pending", "{runs}");

        // Once the backoff is over the run is delivered.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = app.sonde.drain_workflows().await.unwrap();
            if r.succeeded == 1 {
                break;
            }
            assert_eq!(r.failed, 0, "{backend:?}: {r:?}");
            assert!(Instant::now() < deadline, "the retry never came");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let runs = app
            .get_json(&token, &format!("/api/v1/workflows/{wf_id}/runs"))
            .await;
        assert_eq!(runs["runs"][0]["status"], "succeeded", "{runs}");
        let contacts = app.get_json(&token, "/api/v1/contacts").await;
        assert!(
            contacts["contacts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["email"] == "busy@example.com"),
            "{contacts}"
        );
    }
}

/// Modes of the data dir's files and directories, relative path → mode.
fn modes_under(dir: &Path) -> Vec<(String, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::metadata(&path).unwrap();
            let rel = path.strip_prefix(dir).unwrap().display().to_string();
            out.push((rel, meta.permissions().mode() & 0o777));
            if meta.is_dir() {
                todo.push(path);
            }
        }
    }
    out
}

/// `sonde demo` from an empty data dir, under the usual permissive umask: nobody but Sonde's
/// own user can read the database, the key, the admin password or the built-in org's state.
#[tokio::test]
async fn the_data_dir_and_everything_in_it_are_private() {
    use std::io::BufRead;
    use std::os::unix::fs::PermissionsExt;
    let root = TempDir::new();
    let dir = root.0.join("data");
    let port = |()| {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    // A port picked free can be taken by another test before the demo binds it: start again
    // on fresh ports (and a fresh data dir) when the demo could not listen.
    let mut attempt = 0;
    let (_demo, web) = loop {
        attempt += 1;
        let _ = std::fs::remove_dir_all(&dir);
        let (web, sf) = (port(()), port(()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_sonde"))
            .arg("--data-dir")
            .arg(&dir)
            .args(["demo", "--listen", &format!("127.0.0.1:{web}")])
            .args(["--sfsim-listen", &format!("127.0.0.1:{sf}")])
            .env("RUST_LOG", "warn")
            .env_remove("SONDE_SECRET_KEY")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let demo = Kill(child);
        let mut banner = Vec::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let last = line.contains("Instance URL:");
            banner.push(line);
            if last {
                break;
            }
        }
        if banner.iter().any(|l| l.contains("Instance URL:")) || attempt == 3 {
            assert!(
                banner.iter().any(|l| l.contains("Sonde demo is starting")),
                "{banner:?}"
            );
            break (demo, web);
        }
    };
    // A respondent's visit writes (the WAL and shared-memory files exist by now).
    let r = reqwest::get(format!("http://127.0.0.1:{web}/healthz"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let modes = modes_under(&dir);
    let names: Vec<&str> = modes.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "sonde.db",
        "sonde.db-wal",
        "secret.key",
        "demo-admin-password",
        "sfsim",
    ] {
        assert!(names.contains(&expected), "{expected} missing in {names:?}");
    }
    let dir_mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(dir_mode, 0o700, "the data dir");
    for (name, mode) in &modes {
        let want = if dir.join(name).is_dir() {
            0o700
        } else {
            0o600
        };
        assert_eq!(*mode, want, "{name} is {mode:o}");
    }
}

/// The opt-out signing key as stored: read with a connection of the test's own.
async fn stored_opt_out_key(dir: &Path) -> String {
    let store = store::Store::connect(&format!("sqlite://{}", dir.join("sonde.db").display()))
        .await
        .unwrap();
    let v = store
        .instance_secret("optout-signing-key")
        .await
        .unwrap()
        .expect("a signing key");
    store.close().await;
    v
}

#[tokio::test]
async fn the_opt_out_signing_key_is_sealed_and_links_survive_a_restart() {
    // An install from before sealing kept the key in plain text; links went out signed by it.
    let dir = TempDir::new();
    let plain = "PlainSigningKeyFromAnOlderVersion0123456789abcdef";
    {
        let store = store::Store::open_data_dir(&dir.0).await.unwrap();
        store.migrate().await.unwrap();
        store
            .create_instance_secret("optout-signing-key", plain)
            .await
            .unwrap();
        store.close().await;
    }
    let app = Instance::start(&dir.0).await;
    let (admin, token, _) = app.admin_with_survey().await;
    let created: Value = app
        .client
        .post(app.url("/api/v1/contacts"))
        .bearer_auth(&token)
        .json(&json!({"email": "reader@example.com", "lastName": "Reader"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let contact = created["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"));
    let link = app.sonde.opt_out_link(&admin.org_id, contact).unwrap();
    let mailed_before =
        directory::OptOutSigner::new(plain.as_bytes()).token(contact, &admin.org_id);
    assert!(link.ends_with(&mailed_before), "the key kept its value");
    app.stop().await;

    let stored = stored_opt_out_key(&dir.0).await;
    assert!(!stored.contains(plain), "stored in plain text: {stored}");
    assert!(stored.starts_with("v2."), "{stored}");

    let app = Instance::start(&dir.0).await;
    let path = link.strip_prefix(&app.base).unwrap_or_else(|| {
        // The port changed with the restart; the token is what matters.
        &link[link.find("/optout/").unwrap()..]
    });
    let r = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "an opt-out link from before the restart");
    assert!(r.text().await.unwrap().contains("Unsubscribe"));
    app.stop().await;

    // A fresh install never stores the key in plain text.
    let fresh = TempDir::new();
    let app = Instance::start(&fresh.0).await;
    app.stop().await;
    let stored = stored_opt_out_key(&fresh.0).await;
    assert!(stored.starts_with("v2."), "{stored}");
    let key = engine::secrets::SecretBox::load_or_create(&fresh.0).unwrap();
    assert_eq!(key.open(&stored).unwrap().len(), 48);
}
