//! Password hashing and checking (argon2), off the async runtime: each takes tens of
//! milliseconds of CPU, so it runs on the blocking pool, and only as many at once as there are
//! cores, so a flood of sign-ins queues here instead of stalling every other request.

use crate::{Error, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::OnceLock;
use tokio::sync::Semaphore;

/// At most one hash per core at a time: more would only make each one slower.
fn permits() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Semaphore::new(cores)
    })
}

/// Runs one piece of argon2 work on the blocking pool once a permit is free.
async fn run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let _permit = permits()
        .acquire()
        .await
        .map_err(|e| Error::Internal(Box::new(e)))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(format!("password hashing stopped: {e}").into()))
}

fn hash_now(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("password hashing failed: {e}").into()))
}

/// A new argon2 hash of the password (PHC string with its salt).
pub async fn hash(password: &str) -> Result<String> {
    let password = password.to_string();
    run(move || hash_now(&password)).await?
}

/// Whether the password matches the stored hash. A stored value that is no hash matches
/// nothing.
pub async fn matches(password: &str, stored: &str) -> Result<bool> {
    let (password, stored) = (password.to_string(), stored.to_string());
    run(move || {
        PasswordHash::new(&stored).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
}

/// Spends about the time a check takes, for a sign-in whose account does not exist, so the
/// answer's timing does not tell who has an account.
pub async fn spend_a_check(password: &str) {
    let password = password.to_string();
    let _ = run(move || hash_now(&password)).await;
}
