//! Secrets at rest: Salesforce tokens, PKCE verifiers and the instance secrets (the opt-out
//! signing key) are sealed with AES-256-GCM under the instance key (`SONDE_SECRET_KEY`, base64
//! of 32 bytes, or `{data dir}/secret.key` created 0600 on first run). The key is never in the
//! database, so a database dump alone reveals no token and forges no opt-out.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;
use std::path::Path;
use store::Store;

/// The environment variable that carries the key (required for PostgreSQL deployments, where
/// every node must share it).
pub const KEY_ENV: &str = "SONDE_SECRET_KEY";

/// Seals and opens secrets. `Debug` never shows the key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
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
    #[error("the secret key file {0}: {1}")]
    KeyFile(String, String),
    #[error("a stored secret could not be decrypted: was {KEY_ENV} changed?")]
    Undecryptable,
}

impl SecretBox {
    pub fn from_key(key: &[u8; 32]) -> Self {
        SecretBox {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    pub fn from_base64(text: &str) -> Result<Self, SecretError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| SecretError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SecretError::BadKey)?;
        Ok(Self::from_key(&key))
    }

    /// The key from `SONDE_SECRET_KEY` when set.
    pub fn from_env() -> Result<Option<Self>, SecretError> {
        match std::env::var(KEY_ENV) {
            Ok(v) if !v.trim().is_empty() => Self::from_base64(&v).map(Some),
            _ => Ok(None),
        }
    }

    /// `SONDE_SECRET_KEY` if set, else `{data_dir}/secret.key`, created (mode 0600) on first run.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, SecretError> {
        if let Some(b) = Self::from_env()? {
            return Ok(b);
        }
        let path = data_dir.join("secret.key");
        let shown = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::from_base64(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut key);
                store::private_files::create_private_dir(data_dir)
                    .map_err(|e| SecretError::KeyFile(shown.clone(), e.to_string()))?;
                store::private_files::create_private(&path, STANDARD.encode(key).as_bytes())
                    .map_err(|e| SecretError::KeyFile(shown.clone(), e.to_string()))?;
                Ok(Self::from_key(&key))
            }
            Err(e) => Err(SecretError::KeyFile(shown, e.to_string())),
        }
    }

    /// `v1.` + base64(nonce ‖ ciphertext+tag).
    pub fn seal(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(ct);
        format!("v1.{}", STANDARD.encode(out))
    }

    pub fn open(&self, sealed: &str) -> Result<String, SecretError> {
        let body = sealed
            .strip_prefix("v1.")
            .ok_or(SecretError::Undecryptable)?;
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
    value.starts_with("v1.")
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
}
