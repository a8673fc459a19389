//! Secrets at rest: Salesforce tokens, PKCE verifiers and the instance secrets (the opt-out
//! signing key) are sealed with AES-256-GCM under the instance key (`SONDE_SECRET_KEY`, base64
//! of 32 bytes, or `{data dir}/secret.key` created 0600 on first run). The key is never in the
//! database, so a database dump alone reveals no token and forges no opt-out.
//!
//! Keys rotate (`sonde secrets rotate`, `secrets_rotation`): a value names the key that sealed
//! it (`v2.<key id>.`), a box seals with its current key and still opens with the previous ones
//! (`SONDE_SECRET_KEY_PREVIOUS`, or `secret.key.previous` beside the key file), so values sealed
//! before a rotation open while it re-seals them. `v1.` values (before key ids) name no key:
//! every key the box holds is tried.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use store::Store;

/// The environment variable that carries the key (required for PostgreSQL deployments, where
/// every node must share it).
pub const KEY_ENV: &str = "SONDE_SECRET_KEY";
/// Keys from before a rotation, accepted for opening only (base64, separated by commas or
/// spaces): set on every node while `sonde secrets rotate` re-seals, removed afterwards.
pub const PREVIOUS_KEY_ENV: &str = "SONDE_SECRET_KEY_PREVIOUS";
/// The key file in the data dir (SQLite deployments without `SONDE_SECRET_KEY`).
pub const KEY_FILE: &str = "secret.key";
/// Beside it while a rotation is unfinished: the keys it replaced, one per line.
pub const PREVIOUS_KEY_FILE: &str = "secret.key.previous";

/// One key and its id: the first 8 hex digits of SHA-256 over a label and the key, so the id
/// names the key in sealed values and reports without revealing anything of it.
#[derive(Clone)]
struct Key {
    id: String,
    cipher: Aes256Gcm,
}

impl Key {
    fn new(bytes: &[u8; 32]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"sonde secret key id\0")
            .chain_update(bytes)
            .finalize();
        Key {
            id: hex::encode(&digest[..4]),
            cipher: Aes256Gcm::new(bytes.into()),
        }
    }

    fn open(&self, body: &str) -> Result<String, SecretError> {
        let bytes = STANDARD
            .decode(body)
            .map_err(|_| SecretError::Undecryptable)?;
        if bytes.len() < 12 {
            return Err(SecretError::Undecryptable);
        }
        let (nonce, ct) = bytes.split_at(12);
        let pt = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| SecretError::Undecryptable)?;
        String::from_utf8(pt).map_err(|_| SecretError::Undecryptable)
    }
}

/// The keys a box holds: the one it seals with, and older ones it opens with.
#[derive(Clone)]
struct Keyring {
    current: Key,
    previous: Vec<Key>,
    /// The key files' text this ring was read from (file-backed boxes): a change is reloaded.
    files: Option<String>,
}

/// Seals and opens secrets. `Debug` never shows a key. Clones share their keys: a box read
/// from the data dir's key files re-reads them before sealing and when a value names a key it
/// does not hold, so a running server follows a rotation made by `sonde secrets rotate` in
/// another process without a restart.
#[derive(Clone)]
pub struct SecretBox {
    ring: Arc<RwLock<Keyring>>,
    dir: Option<Arc<PathBuf>>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{KEY_ENV} must be base64 of 32 bytes (generate one with `openssl rand -base64 32`)")]
    BadKey,
    #[error("{PREVIOUS_KEY_ENV} must be base64 keys of 32 bytes, separated by commas")]
    BadPreviousKey,
    #[error("the secret key file {0}: {1}")]
    KeyFile(String, String),
    #[error("a stored secret could not be decrypted: was {KEY_ENV} changed?")]
    Undecryptable,
    #[error(
        "a stored secret was sealed under key {0}, which this instance does not hold \
         (set the key it replaced in {PREVIOUS_KEY_ENV} until `sonde secrets rotate` finishes)"
    )]
    UnknownKey(String),
}

fn decode_key(text: &str) -> Result<[u8; 32], SecretError> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|_| SecretError::BadKey)?;
    bytes.try_into().map_err(|_| SecretError::BadKey)
}

/// A fresh random key, base64 (what `SONDE_SECRET_KEY` and `secret.key` hold).
pub fn generate_key() -> String {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    STANDARD.encode(key)
}

/// The keys in a list: base64 keys separated by commas, spaces or new lines.
fn decode_keys(text: &str) -> Result<Vec<Key>, SecretError> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|k| !k.is_empty())
        .map(|k| decode_key(k).map(|b| Key::new(&b)))
        .collect()
}

/// Which key sealed a value, as its prefix says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealedBy {
    /// `v2.<id>.`
    Key(String),
    /// `v1.`: sealed before values named their key.
    Unnamed,
    /// Not a sealed value.
    Plain,
}

impl SealedBy {
    pub fn of(value: &str) -> SealedBy {
        if let Some(rest) = value.strip_prefix("v2.") {
            if let Some((id, _)) = rest.split_once('.') {
                return SealedBy::Key(id.to_string());
            }
        }
        if value.starts_with("v1.") {
            SealedBy::Unnamed
        } else {
            SealedBy::Plain
        }
    }
}

impl SecretBox {
    fn with_ring(ring: Keyring, dir: Option<PathBuf>) -> Self {
        SecretBox {
            ring: Arc::new(RwLock::new(ring)),
            dir: dir.map(Arc::new),
        }
    }

    pub fn from_key(key: &[u8; 32]) -> Self {
        Self::with_ring(
            Keyring {
                current: Key::new(key),
                previous: Vec::new(),
                files: None,
            },
            None,
        )
    }

    /// The same box also opening what `key` sealed (a key being rotated away from).
    pub fn accepting(self, key: &[u8; 32]) -> Self {
        let mut ring = self.ring();
        ring.previous.push(Key::new(key));
        Self::with_ring(ring, self.dir.as_deref().cloned())
    }

    pub fn from_base64(text: &str) -> Result<Self, SecretError> {
        Ok(Self::from_key(&decode_key(text)?))
    }

    /// `SONDE_SECRET_KEY` when set, with `SONDE_SECRET_KEY_PREVIOUS` for opening.
    pub fn from_env() -> Result<Option<Self>, SecretError> {
        let current = match std::env::var(KEY_ENV) {
            Ok(v) if !v.trim().is_empty() => decode_key(&v)?,
            _ => return Ok(None),
        };
        let previous = decode_keys(&std::env::var(PREVIOUS_KEY_ENV).unwrap_or_default())
            .map_err(|_| SecretError::BadPreviousKey)?;
        Ok(Some(Self::with_ring(
            Keyring {
                current: Key::new(&current),
                previous,
                files: None,
            },
            None,
        )))
    }

    /// `SONDE_SECRET_KEY` if set, else `{data_dir}/secret.key` (with `secret.key.previous`
    /// during a rotation), created (mode 0600) on first run.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, SecretError> {
        if let Some(b) = Self::from_env()? {
            return Ok(b);
        }
        let path = data_dir.join(KEY_FILE);
        let shown = path.display().to_string();
        match std::fs::metadata(&path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                store::private_files::create_private_dir(data_dir)
                    .map_err(|e| SecretError::KeyFile(shown.clone(), e.to_string()))?;
                store::private_files::create_private(&path, generate_key().as_bytes())
                    .map_err(|e| SecretError::KeyFile(shown.clone(), e.to_string()))?;
            }
            Err(e) => return Err(SecretError::KeyFile(shown, e.to_string())),
        }
        let ring = read_key_files(data_dir)?;
        Ok(Self::with_ring(ring, Some(data_dir.to_path_buf())))
    }

    fn ring(&self) -> Keyring {
        self.ring.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Re-reads the key files when they changed (file-backed boxes only). A file caught
    /// half-written keeps the keys already held: the rotation writes each file whole and
    /// renames it into place, so the next read sees it.
    fn reload(&self) {
        let Some(dir) = &self.dir else { return };
        let Ok(text) = key_files_text(dir) else {
            return;
        };
        if self.ring().files.as_deref() == Some(text.as_str()) {
            return;
        }
        match read_key_files(dir) {
            Ok(ring) => *self.ring.write().unwrap_or_else(|p| p.into_inner()) = ring,
            Err(e) => tracing::warn!(error = %e, "the key files changed but could not be read"),
        }
    }

    /// The id of the key values are sealed with.
    pub fn key_id(&self) -> String {
        self.reload();
        self.ring().current.id
    }

    /// The ids of the older keys this box still opens with.
    pub fn previous_key_ids(&self) -> Vec<String> {
        self.reload();
        self.ring().previous.into_iter().map(|k| k.id).collect()
    }

    /// `v2.<key id>.` + base64(nonce ‖ ciphertext+tag).
    pub fn seal(&self, plaintext: &str) -> String {
        // A rotation made elsewhere is picked up before sealing, so nothing new is sealed
        // under the key being retired once the files name its successor.
        self.reload();
        let key = self.ring().current;
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = key
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(ct);
        format!("v2.{}.{}", key.id, STANDARD.encode(out))
    }

    pub fn open(&self, sealed: &str) -> Result<String, SecretError> {
        match SealedBy::of(sealed) {
            SealedBy::Key(id) => {
                let body = &sealed[4 + id.len()..];
                let find = |ring: &Keyring| {
                    std::iter::once(&ring.current)
                        .chain(&ring.previous)
                        .find(|k| k.id == id)
                        .cloned()
                };
                // Only a value under a key other than the current one can mean the files
                // changed (a rotation started or finished): read them again then.
                let key = match find(&self.ring()) {
                    Some(k) if k.id == self.ring().current.id => k,
                    _ => {
                        self.reload();
                        find(&self.ring()).ok_or_else(|| SecretError::UnknownKey(id.clone()))?
                    }
                };
                key.open(body)
            }
            SealedBy::Unnamed => {
                let body = &sealed[3..];
                let ring = self.ring();
                std::iter::once(&ring.current)
                    .chain(&ring.previous)
                    .find_map(|k| k.open(body).ok())
                    .ok_or(SecretError::Undecryptable)
            }
            SealedBy::Plain => Err(SecretError::Undecryptable),
        }
    }

    /// Whether `sealed` is sealed under the current key (a rotation has nothing to do).
    pub fn is_current(&self, sealed: &str) -> bool {
        SealedBy::of(sealed) == SealedBy::Key(self.ring().current.id)
    }
}

fn key_files_text(dir: &Path) -> std::io::Result<String> {
    let current = std::fs::read_to_string(dir.join(KEY_FILE))?;
    let previous = match std::fs::read_to_string(dir.join(PREVIOUS_KEY_FILE)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    Ok(format!("{current}\n--\n{previous}"))
}

fn read_key_files(dir: &Path) -> Result<Keyring, SecretError> {
    let file_error = |name: &str, e: &dyn std::fmt::Display| {
        SecretError::KeyFile(dir.join(name).display().to_string(), e.to_string())
    };
    let text = key_files_text(dir).map_err(|e| file_error(KEY_FILE, &e))?;
    let current = std::fs::read_to_string(dir.join(KEY_FILE))
        .map_err(|e| file_error(KEY_FILE, &e))
        .and_then(|t| decode_key(&t).map_err(|e| file_error(KEY_FILE, &e)))?;
    let previous = match std::fs::read_to_string(dir.join(PREVIOUS_KEY_FILE)) {
        Ok(t) => decode_keys(&t).map_err(|e| file_error(PREVIOUS_KEY_FILE, &e))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(file_error(PREVIOUS_KEY_FILE, &e)),
    };
    Ok(Keyring {
        current: Key::new(&current),
        previous,
        files: Some(text),
    })
}

/// Writes a key file whole, then renames it into place, so a server re-reading the files
/// never sees half of one.
fn replace_key_file(dir: &Path, name: &str, contents: &str) -> Result<(), SecretError> {
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    let fail = |e: std::io::Error| SecretError::KeyFile(path.display().to_string(), e.to_string());
    store::private_files::write_private(&tmp, contents.as_bytes()).map_err(fail)?;
    std::fs::rename(&tmp, &path).map_err(fail)
}

/// How a file-backed rotation began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRotation {
    /// A new key is in `secret.key`; the one it replaced is kept in `secret.key.previous`.
    Started { new_id: String, old_id: String },
    /// `secret.key.previous` was there already: an unfinished rotation to the current key
    /// goes on (no newer key is made, so what it re-sealed stays done).
    Resumed { new_id: String },
}

/// Starts (or resumes) a rotation of the data dir's key files: the old key goes to
/// `secret.key.previous` first, then the new key replaces `secret.key`, each written whole
/// and renamed into place, so an interruption at any point leaves files that open everything.
pub fn start_file_rotation(dir: &Path) -> Result<FileRotation, SecretError> {
    let ring = read_key_files(dir)?;
    // A previous file that holds only the current key is from an interruption before the
    // new key was put in place: nothing was re-sealed yet, so the rotation starts over.
    let resumable = ring.previous.iter().any(|k| k.id != ring.current.id);
    if resumable {
        return Ok(FileRotation::Resumed {
            new_id: ring.current.id,
        });
    }
    let old_text = std::fs::read_to_string(dir.join(KEY_FILE))
        .map_err(|e| SecretError::KeyFile(KEY_FILE.into(), e.to_string()))?;
    replace_key_file(dir, PREVIOUS_KEY_FILE, &format!("{}\n", old_text.trim()))?;
    let new_key = generate_key();
    replace_key_file(dir, KEY_FILE, &new_key)?;
    Ok(FileRotation::Started {
        new_id: Key::new(&decode_key(&new_key)?).id,
        old_id: ring.current.id,
    })
}

/// Ends a file-backed rotation once every value is under the new key: the old key is
/// deleted, so it opens nothing any more.
pub fn finish_file_rotation(dir: &Path) -> Result<(), SecretError> {
    match std::fs::remove_file(dir.join(PREVIOUS_KEY_FILE)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(SecretError::KeyFile(
            PREVIOUS_KEY_FILE.into(),
            e.to_string(),
        )),
        _ => Ok(()),
    }
}

/// A named instance secret, created on first use and stored sealed. A value an older
/// version kept in plain text is sealed in place when first read, and keeps its value, so
/// opt-out links mailed before the upgrade still verify.
pub(crate) async fn instance_secret(
    store: &Store,
    secrets: &SecretBox,
    name: &str,
) -> crate::Result<String> {
    let undecryptable =
        |e: SecretError| crate::Error::Internal(format!("instance secret {name}: {e}").into());
    let stored = match store.instance_secret(name).await? {
        Some(stored) => stored,
        None => {
            let fresh = store::ids::random_token(48);
            store
                .create_instance_secret(name, &secrets.seal(&fresh))
                .await?
        }
    };
    if is_sealed(&stored) {
        return secrets.open(&stored).map_err(undecryptable);
    }
    // Sealed by whichever node gets there first; the value stays the same either way.
    if !store
        .replace_instance_secret(name, &stored, &secrets.seal(&stored))
        .await?
    {
        tracing::debug!(name, "instance secret sealed by another node meanwhile");
    }
    Ok(stored)
}

/// Sealed values carry the format prefix; the plain values older versions stored (random
/// alphanumeric tokens) never contain a dot.
fn is_sealed(value: &str) -> bool {
    SealedBy::of(value) != SealedBy::Plain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_and_detects_tampering() {
        let b = SecretBox::from_key(&[7u8; 32]);
        let s = b.seal("00D!token");
        assert!(!s.contains("token"));
        assert_ne!(s, b.seal("00D!token"), "fresh nonce each time");
        assert_eq!(b.open(&s).unwrap(), "00D!token");
        let other = SecretBox::from_key(&[8u8; 32]);
        assert!(other.open(&s).is_err());
        assert!(b.open("v1.AAAA").is_err());
        assert_eq!(format!("{b:?}"), "SecretBox(***)");
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("sonde-key-{}", rand::random::<u64>()));
        let a = SecretBox::load_or_create(&dir).unwrap();
        let b = SecretBox::load_or_create(&dir).unwrap();
        assert_eq!(b.open(&a.seal("x")).unwrap(), "x");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(SecretBox::from_base64("c2hvcnQ=").is_err());
    }

    /// What the version before key ids wrote: `v1.` + base64(nonce ‖ ciphertext).
    fn seal_v1(key: &[u8; 32], plaintext: &str) -> String {
        let nonce = [3u8; 12];
        let ct = Aes256Gcm::new(key.into())
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .unwrap();
        format!("v1.{}", STANDARD.encode([nonce.to_vec(), ct].concat()))
    }

    #[test]
    fn values_name_their_key_and_older_keys_still_open() {
        let old = SecretBox::from_key(&[1u8; 32]);
        let new = SecretBox::from_key(&[2u8; 32]).accepting(&[1u8; 32]);
        assert_eq!(old.key_id().len(), 8);
        assert_ne!(old.key_id(), new.key_id());
        assert_eq!(new.previous_key_ids(), vec![old.key_id()]);
        let by_old = old.seal("refresh");
        assert!(by_old.starts_with(&format!("v2.{}.", old.key_id())));
        assert_eq!(SealedBy::of(&by_old), SealedBy::Key(old.key_id()));
        assert_eq!(new.open(&by_old).unwrap(), "refresh");
        assert!(!new.is_current(&by_old) && old.is_current(&by_old));
        let by_new = new.seal("refresh");
        assert!(new.is_current(&by_new));
        // The old key alone: the value names a key it does not hold.
        assert!(
            matches!(old.open(&by_new), Err(SecretError::UnknownKey(id)) if id == new.key_id())
        );
        // The id says nothing of the key itself, and is the same for the same key.
        assert_eq!(SecretBox::from_key(&[2u8; 32]).key_id(), new.key_id());
        assert!(!STANDARD.encode([2u8; 32]).contains(&new.key_id()));
    }

    #[test]
    fn v1_values_open_with_any_key_held() {
        let legacy = seal_v1(&[1u8; 32], "00D!token");
        assert_eq!(SealedBy::of(&legacy), SealedBy::Unnamed);
        assert_eq!(
            SecretBox::from_key(&[1u8; 32]).open(&legacy).unwrap(),
            "00D!token"
        );
        let rotated = SecretBox::from_key(&[2u8; 32]).accepting(&[1u8; 32]);
        assert_eq!(rotated.open(&legacy).unwrap(), "00D!token");
        assert!(!rotated.is_current(&legacy));
        assert!(SecretBox::from_key(&[2u8; 32]).open(&legacy).is_err());
        assert_eq!(SealedBy::of("plainAlnum48"), SealedBy::Plain);
    }

    #[test]
    fn a_file_rotation_starts_resumes_and_finishes_and_a_running_box_follows_it() {
        let dir = std::env::temp_dir().join(format!("sonde-rot-{}", rand::random::<u64>()));
        let running = SecretBox::load_or_create(&dir).unwrap();
        let old_id = running.key_id();
        let before = running.seal("kept");
        let FileRotation::Started {
            new_id,
            old_id: was,
        } = start_file_rotation(&dir).unwrap()
        else {
            panic!("a first rotation starts")
        };
        assert_eq!(was, old_id);
        assert_eq!(
            start_file_rotation(&dir).unwrap(),
            FileRotation::Resumed {
                new_id: new_id.clone()
            },
            "run again, the same rotation goes on"
        );
        // The box read before the rotation now seals under the new key and opens both.
        let after = running.seal("fresh");
        assert!(after.starts_with(&format!("v2.{new_id}.")));
        assert_eq!(running.open(&before).unwrap(), "kept");
        let rotator = SecretBox::load_or_create(&dir).unwrap();
        assert_eq!(rotator.open(&after).unwrap(), "fresh");
        assert_eq!(rotator.previous_key_ids(), vec![old_id.clone()]);
        #[cfg(unix)]
        for name in [KEY_FILE, PREVIOUS_KEY_FILE] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
        finish_file_rotation(&dir).unwrap();
        assert!(!dir.join(PREVIOUS_KEY_FILE).exists());
        assert!(matches!(running.open(&before), Err(SecretError::UnknownKey(id)) if id == old_id));
        assert_eq!(running.open(&after).unwrap(), "fresh");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_previous_file_holding_the_current_key_starts_over() {
        let dir = std::env::temp_dir().join(format!("sonde-rot-{}", rand::random::<u64>()));
        let first = SecretBox::load_or_create(&dir).unwrap().key_id();
        // Interrupted after the old key was copied aside, before the new one was in place.
        std::fs::copy(dir.join(KEY_FILE), dir.join(PREVIOUS_KEY_FILE)).unwrap();
        assert!(matches!(
            start_file_rotation(&dir).unwrap(),
            FileRotation::Started { old_id, .. } if old_id == first
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
