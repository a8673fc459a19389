//! `sonde secrets rotate` (issue #15): every sealed value re-sealed under a new key while a
//! server keeps writing and reading them, on both backends; an interrupted rotation finished
//! by running it again; the old key alone opening nothing it re-sealed; the data dir's key
//! files rotated under a running server.

use crate::harness::{backends, fresh_db, Backend, TempDir};
use engine::secrets::{self, SecretBox, SecretError};
use engine::secrets_rotation::{reseal_all, sealed_counts, KeyCount};
use engine::{Actor, Config, Role, Sonde};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use store::sealed::SEALED_COLUMNS;
use store::Store;

const OLD: [u8; 32] = [0x11; 32];
const NEW: [u8; 32] = [0x22; 32];

/// Every sealed value in the database: (column, row, sealed value).
async fn all_sealed(store: &Store) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for c in SEALED_COLUMNS {
        // No key has the id `-`, so every sealed value is "not under it".
        for (row, v) in store
            .outdated_sealed_page(c, "-", None, 100_000)
            .await
            .unwrap()
        {
            out.push((c.name(), row, v));
        }
    }
    out
}

/// Every sealed value opened with `key`: (column, row) → plain text.
async fn opened(store: &Store, key: &SecretBox) -> HashMap<(String, String), String> {
    all_sealed(store)
        .await
        .into_iter()
        .map(|(c, row, v)| {
            let plain = key.open(&v).unwrap_or_else(|e| panic!("{c} {row}: {e}"));
            ((c, row), plain)
        })
        .collect()
}

/// What the version before key ids wrote: `v1.` + base64(nonce ‖ ciphertext), made here with
/// the cipher itself rather than the engine's code.
fn seal_v1(key: &[u8; 32], plaintext: &str) -> String {
    use aes_gcm::aead::{Aead, KeyInit};
    use base64::Engine;
    let nonce = rand::random::<[u8; 12]>();
    let ct = aes_gcm::Aes256Gcm::new(key.into())
        .encrypt(aes_gcm::Nonce::from_slice(&nonce), plaintext.as_bytes())
        .unwrap();
    let body = base64::engine::general_purpose::STANDARD.encode([nonce.to_vec(), ct].concat());
    format!("v1.{body}")
}

struct Fixture {
    sonde: Sonde,
    actor: Actor,
    surveys: Vec<String>,
    connections: Vec<String>,
    _db: crate::harness::TestDb,
}

/// A server whose values are sealed under `key`: its instance secrets, `surveys` link keys,
/// `connections` linked orgs' tokens and PKCE verifiers, `extra` more instance secrets, and
/// one value still in the `v1.` format.
async fn fixture(backend: Backend, key: SecretBox, raw: &[u8; 32], counts: [usize; 3]) -> Fixture {
    let [surveys, connections, extra] = counts;
    let db = fresh_db(backend).await;
    let store = db.store.clone();
    let config = Config {
        public_url: "http://127.0.0.1:9".into(),
    };
    let sonde = Sonde::with_secrets(store.clone(), config, Some(key.clone()))
        .await
        .unwrap();
    let actor = sonde
        .add_user(
            None,
            "owner@example.com",
            Role::Admin,
            crate::harness::PASSWORD,
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..surveys {
        let made = sonde
            .create_survey(&actor, survey::sample::sample_json())
            .await
            .unwrap();
        sonde
            .rotate_link_secret(&actor, &made.survey.id)
            .await
            .unwrap();
        ids.push(made.survey.id);
    }
    let mut links = Vec::new();
    for i in 0..connections {
        let id = format!("conn-{i:04}");
        let now = store::now_ms();
        store
            .insert_connection(&store::connections::ConnectionRow {
                id: id.clone(),
                org_id: actor.org_id.clone(),
                user_id: actor.user_id.clone(),
                environment: "production".into(),
                login_url: "https://login.salesforce.com".into(),
                status: "active".into(),
                tokens: Some(key.seal(&tokens(i, 0))),
                pkce_verifier: Some(key.seal(&format!("verifier-{i}"))),
                oauth_state: None,
                instance_url: Some("https://example.my.salesforce.com".into()),
                sf_org_id: None,
                sf_user_id: None,
                username: None,
                sf_org_name: None,
                sf_is_sandbox: None,
                paused_until: None,
                last_error: None,
                created_at: now,
                updated_at: now,
            })
            .await
            .unwrap();
        links.push(id);
    }
    for i in 0..extra {
        store
            .create_instance_secret(&format!("load-{i:05}"), &key.seal(&format!("value-{i}")))
            .await
            .unwrap();
    }
    store
        .create_instance_secret("legacy-v1", &seal_v1(raw, "from before key ids"))
        .await
        .unwrap();
    Fixture {
        sonde,
        actor,
        surveys: ids,
        connections: links,
        _db: db,
    }
}

fn tokens(link: usize, generation: u64) -> String {
    serde_json::json!({
        "access_token": format!("00D!access-{link}-{generation}"),
        "refresh_token": format!("refresh-{link}"),
        "instance_url": "https://example.my.salesforce.com",
    })
    .to_string()
}

fn only(counts: &[KeyCount], key: &SecretBox) -> bool {
    counts.len() == 1 && counts[0].key == key.key_id()
}

#[tokio::test]
async fn values_sealed_under_the_old_key_open_after_rotation_and_the_old_key_opens_none() {
    for backend in backends() {
        let old = SecretBox::from_key(&OLD);
        let f = fixture(backend, old.clone(), &OLD, [3, 3, 5]).await;
        let store = &f.sonde.store;
        let before = opened(store, &old).await;
        // 2 signing keys + 5 + the v1 one, 3 link keys, 3 × (tokens, verifier).
        assert_eq!(before.len(), 8 + 3 + 6, "{backend:?}");
        let new = SecretBox::from_key(&NEW).accepting(&OLD);
        f.sonde.set_secret_box(new.clone());
        let report = reseal_all(store, &new, 4, |_| {}).await.unwrap();
        assert!(report.finished(), "{backend:?}: {report:?}");
        assert_eq!(report.resealed, before.len() as u64);
        assert_eq!(report.changed_meanwhile + report.unopenable, 0);
        assert_eq!(report.by_key.len(), 1);
        assert_eq!(report.by_key[0].values, before.len() as u64);
        // The new key alone opens every value, each the same as before.
        let alone = SecretBox::from_key(&NEW);
        assert_eq!(opened(store, &alone).await, before, "{backend:?}");
        f.sonde.set_secret_box(alone);
        for id in &f.surveys {
            let signing = f.sonde.link_signing(&f.actor, id).await.unwrap();
            assert!(signing.secret.is_some());
        }
        // The old key alone: every value names a key it does not hold.
        for (c, row, v) in all_sealed(store).await {
            assert!(
                matches!(old.open(&v), Err(SecretError::UnknownKey(_))),
                "{backend:?}: {c} {row} still opens with the old key"
            );
        }
        // Run again: nothing left to do.
        let again = reseal_all(store, &new, 4, |_| {}).await.unwrap();
        assert_eq!((again.resealed, again.remaining), (0, 0));
    }
}

#[tokio::test]
async fn a_rotation_while_a_server_refreshes_tokens_and_rotates_link_keys_loses_nothing() {
    for backend in backends() {
        let old = SecretBox::from_key(&OLD);
        let f = fixture(backend, old.clone(), &OLD, [6, 40, 300]).await;
        // The rollout: the server seals with the new key and still opens the old one.
        let server = SecretBox::from_key(&NEW).accepting(&OLD);
        f.sonde.set_secret_box(server.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let latest_tokens: Arc<Mutex<HashMap<String, String>>> = Default::default();
        let latest_links: Arc<Mutex<HashMap<String, String>>> = Default::default();
        let refresher = {
            let (sonde, server, stop, latest) = (
                f.sonde.clone(),
                server.clone(),
                stop.clone(),
                latest_tokens.clone(),
            );
            let links = f.connections.clone();
            tokio::spawn(async move {
                let mut generation = 0;
                while !stop.load(Ordering::Relaxed) {
                    generation += 1;
                    for (i, id) in links.iter().enumerate() {
                        // A refresh as `StorePersistence` saves it: sealed, written whole.
                        let t = tokens(i, generation);
                        sonde
                            .store
                            .save_connection_tokens(id, &server.seal(&t))
                            .await
                            .unwrap();
                        latest.lock().unwrap().insert(id.clone(), t);
                        // And a read, as a connection being built does.
                        let row = sonde.store.connection_by_id(id).await.unwrap().unwrap();
                        server.open(row.tokens.as_deref().unwrap()).unwrap();
                    }
                }
                generation
            })
        };
        let rotator = {
            let (sonde, actor, stop, latest) = (
                f.sonde.clone(),
                f.actor.clone(),
                stop.clone(),
                latest_links.clone(),
            );
            let surveys = f.surveys.clone();
            tokio::spawn(async move {
                let mut rotations = 0;
                while !stop.load(Ordering::Relaxed) {
                    for id in &surveys {
                        let s = sonde.rotate_link_secret(&actor, id).await.unwrap();
                        latest.lock().unwrap().insert(id.clone(), s.secret.unwrap());
                        rotations += 1;
                    }
                }
                rotations
            })
        };
        let report = reseal_all(&f.sonde.store, &server, 5, |_| {})
            .await
            .unwrap();
        // Let the load go on a little after the rotation, then stop it.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        stop.store(true, Ordering::Relaxed);
        let generations = refresher.await.unwrap();
        let rotations = rotator.await.unwrap();
        assert!(report.finished(), "{backend:?}: {report:?}");
        assert!(
            generations > 1 && rotations > 6,
            "{backend:?}: the load ran"
        );
        let store = &f.sonde.store;
        assert!(
            only(&sealed_counts(store).await.unwrap(), &server),
            "{backend:?}"
        );
        // Every value opens under the new key alone and is the last one written.
        let alone = SecretBox::from_key(&NEW);
        let now = opened(store, &alone).await;
        for (id, t) in latest_tokens.lock().unwrap().iter() {
            let key = ("salesforce_connections.tokens".to_string(), id.clone());
            assert_eq!(now.get(&key), Some(t), "{backend:?}: tokens of {id}");
        }
        for (id, s) in latest_links.lock().unwrap().iter() {
            let key = ("survey_link_keys.secret".to_string(), id.clone());
            assert_eq!(now.get(&key), Some(s), "{backend:?}: link key of {id}");
        }
        for i in 0..300 {
            let key = ("instance_secrets.value".to_string(), format!("load-{i:05}"));
            assert_eq!(now.get(&key), Some(&format!("value-{i}")));
        }
        let legacy = (
            "instance_secrets.value".to_string(),
            "legacy-v1".to_string(),
        );
        assert_eq!(now[&legacy], "from before key ids");
        eprintln!(
            "{backend:?}: {} re-sealed, {} changed meanwhile, {generations} refresh rounds, {rotations} link key rotations",
            report.resealed, report.changed_meanwhile
        );
    }
}

#[tokio::test]
async fn a_value_rewritten_between_the_read_and_the_write_is_kept() {
    for backend in backends() {
        let old = SecretBox::from_key(&OLD);
        let f = fixture(backend, old.clone(), &OLD, [0, 1, 0]).await;
        let store = &f.sonde.store;
        let new = SecretBox::from_key(&NEW).accepting(&OLD);
        let column = SEALED_COLUMNS
            .iter()
            .find(|c| c.name() == "salesforce_connections.tokens")
            .unwrap();
        let page = store
            .outdated_sealed_page(column, &new.key_id(), None, 10)
            .await
            .unwrap();
        let (row, stale) = page[0].clone();
        let resealed = new.seal(&new.open(&stale).unwrap());
        // A refresh lands after the rotation read the row.
        let fresh = new.seal(&tokens(0, 99));
        store.save_connection_tokens(&row, &fresh).await.unwrap();
        let replaced = store
            .replace_sealed(column, &[(row.clone(), stale, resealed)])
            .await
            .unwrap();
        assert_eq!(replaced, 0, "{backend:?}");
        let kept = store.connection_by_id(&row).await.unwrap().unwrap().tokens;
        assert_eq!(kept.as_deref(), Some(fresh.as_str()), "{backend:?}");
    }
}

#[tokio::test]
async fn an_interrupted_rotation_run_again_finishes() {
    for backend in backends() {
        let old = SecretBox::from_key(&OLD);
        let f = fixture(backend, old.clone(), &OLD, [0, 0, 60]).await;
        let store = &f.sonde.store;
        let before = opened(store, &old).await;
        let new = SecretBox::from_key(&NEW).accepting(&OLD);
        // Stopped as a kill would stop it: the future dropped after its second batch.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut batches = 0;
        tokio::select! {
            r = reseal_all(store, &new, 7, |_| {
                batches += 1;
                if batches == 3 {
                    let _ = tx.send(());
                }
            }) => panic!("{backend:?}: not interrupted: {r:?}"),
            _ = rx.recv() => {}
        }
        let counts = sealed_counts(store).await.unwrap();
        let under = |k: &str| counts.iter().find(|c| c.key == k).map_or(0, |c| c.values);
        assert!(under(&new.key_id()) >= 7, "{backend:?}: {counts:?}");
        assert!(under(&old.key_id()) > 0, "{backend:?}: {counts:?}");
        let resumed = reseal_all(store, &new, 7, |_| {}).await.unwrap();
        assert!(resumed.finished(), "{backend:?}: {resumed:?}");
        assert_eq!(
            resumed.resealed + under(&new.key_id()),
            before.len() as u64,
            "{backend:?}: what was done stayed done"
        );
        assert_eq!(opened(store, &SecretBox::from_key(&NEW)).await, before);
    }
}

/// The SQLite deployment's key files: `start_file_rotation` puts a new `secret.key` in place
/// under a running server, which follows it (it seals under the new key and opens both) while
/// the rotation re-seals; finished, the old key is gone and opens nothing.
#[tokio::test]
async fn a_server_on_the_key_files_follows_a_rotation() {
    let keys = TempDir::new();
    let running = SecretBox::load_or_create(&keys.0).unwrap();
    let old_text = std::fs::read_to_string(keys.0.join(secrets::KEY_FILE)).unwrap();
    let old = SecretBox::from_base64(&old_text).unwrap();
    let f = fixture(Backend::Sqlite, running.clone(), &[0; 32], [4, 0, 50]).await;
    let store = &f.sonde.store;
    // The v1 value of the fixture was sealed with a key nobody holds: replace it.
    store
        .execute_raw("DELETE FROM instance_secrets WHERE name = 'legacy-v1'")
        .await
        .unwrap();
    let before = opened(store, &old).await;
    let secrets::FileRotation::Started { new_id, .. } =
        secrets::start_file_rotation(&keys.0).unwrap()
    else {
        panic!("a first rotation starts")
    };
    let rotating = SecretBox::load_or_create(&keys.0).unwrap();
    assert_eq!(rotating.key_id(), new_id);
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (sonde, actor, stop) = (f.sonde.clone(), f.actor.clone(), stop.clone());
        let surveys = f.surveys.clone();
        tokio::spawn(async move {
            let mut latest = HashMap::new();
            while !stop.load(Ordering::Relaxed) {
                for id in &surveys {
                    let s = sonde.rotate_link_secret(&actor, id).await.unwrap();
                    latest.insert(id.clone(), s.secret.unwrap());
                }
            }
            latest
        })
    };
    let report = reseal_all(store, &rotating, 6, |_| {}).await.unwrap();
    stop.store(true, Ordering::Relaxed);
    let latest = load.await.unwrap();
    assert!(report.finished(), "{report:?}");
    secrets::finish_file_rotation(&keys.0).unwrap();
    assert!(only(&sealed_counts(store).await.unwrap(), &rotating));
    // The running server still reads every link key, and they are the last ones written.
    for (id, secret) in &latest {
        let s = f.sonde.link_signing(&f.actor, id).await.unwrap();
        assert_eq!(s.secret.as_ref(), Some(secret));
    }
    let now = opened(store, &running).await;
    for (k, v) in &before {
        if k.0 != "survey_link_keys.secret" {
            assert_eq!(now.get(k), Some(v), "{k:?}");
        }
    }
    for (c, row, v) in all_sealed(store).await {
        assert!(old.open(&v).is_err(), "{c} {row} opens with the old key");
    }
}

/// Runs `sonde` with `args` after the database arguments; answers (exit ok, stdout).
fn sonde_cli(db: &[String], env: &[(&str, &str)], args: &[&str]) -> (bool, String) {
    let mut c = crate::cli::sonde(db);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c
        .args(args)
        .stdin(std::process::Stdio::piped())
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap())
}

/// `sonde users add`, which opens the services: the instance secrets are made and sealed.
fn add_user(db: &[String], env: &[(&str, &str)]) {
    use std::io::Write;
    let mut c = crate::cli::sonde(db);
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c
        .args([
            "users",
            "add",
            "owner@example.com",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{}", crate::harness::PASSWORD).unwrap();
    assert!(child.wait().unwrap().success());
}

/// The command as an operator runs it: on a data dir (the key files), and on PostgreSQL with
/// the new key and the previous one in the environment.
#[tokio::test]
async fn sonde_secrets_rotate_on_a_data_dir_and_with_the_variables() {
    let dir = TempDir::new();
    let db = vec!["--data-dir".to_string(), dir.0.display().to_string()];
    add_user(&db, &[]);
    let (ok, status) = sonde_cli(&db, &[], &["secrets", "status"]);
    assert!(ok && status.contains("2 values under"), "{status}");
    let old = std::fs::read_to_string(dir.0.join(secrets::KEY_FILE)).unwrap();
    let (ok, out) = sonde_cli(&db, &[], &["secrets", "rotate", "--batch", "1"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("re-sealed 2 values") && out.contains("values/s"),
        "{out}"
    );
    assert!(out.contains("rotation finished"), "{out}");
    assert!(!dir.0.join(secrets::PREVIOUS_KEY_FILE).exists());
    let new = std::fs::read_to_string(dir.0.join(secrets::KEY_FILE)).unwrap();
    assert_ne!(old.trim(), new.trim());
    assert!(
        !out.contains(old.trim()) && !out.contains(new.trim()),
        "no key printed"
    );
    let id = SecretBox::from_base64(&new).unwrap().key_id();
    let (_, status) = sonde_cli(&db, &[], &["secrets", "status"]);
    assert!(
        status.contains(&format!("2 values under {id} (current key)")),
        "{status}"
    );

    let Ok(base) = std::env::var("SONDE_TEST_POSTGRES_URL") else {
        return;
    };
    let url = crate::harness::fresh_pg_schema(&base).await;
    let db = vec!["--database-url".to_string(), url];
    let (a, b) = (secrets::generate_key(), secrets::generate_key());
    add_user(&db, &[("SONDE_SECRET_KEY", &a)]);
    let (ok, status) = sonde_cli(&db, &[("SONDE_SECRET_KEY", &a)], &["secrets", "status"]);
    assert!(ok && status.contains("2 values under"), "{status}");
    let rollout = [
        ("SONDE_SECRET_KEY", b.as_str()),
        ("SONDE_SECRET_KEY_PREVIOUS", &a),
    ];
    let (ok, out) = sonde_cli(&db, &rollout, &["secrets", "rotate"]);
    assert!(
        ok && out.contains("remove SONDE_SECRET_KEY_PREVIOUS"),
        "{out}"
    );
    let (_, status) = sonde_cli(&db, &[("SONDE_SECRET_KEY", &a)], &["secrets", "status"]);
    assert!(
        status.contains("(a key this instance does not hold)"),
        "{status}"
    );
    // Without the previous key, a rotation from `a` cannot finish: it says so and fails.
    let c = secrets::generate_key();
    let (ok, out) = sonde_cli(&db, &[("SONDE_SECRET_KEY", &c)], &["secrets", "rotate"]);
    assert!(
        !ok && out.contains("a key this instance does not hold"),
        "{out}"
    );
}
