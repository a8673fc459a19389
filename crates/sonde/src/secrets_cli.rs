//! `sonde secrets`: a new key, which key seals what, and rotating the key.
//!
//! Where the keys are decides how a rotation goes:
//! - SQLite with the data dir's `secret.key`: the command makes the new key itself (the old one
//!   kept in `secret.key.previous`), re-seals, and deletes the old key once nothing needs it.
//!   A server running on the same data dir reads the files again and follows along.
//! - `SONDE_SECRET_KEY` (every PostgreSQL deployment): the new key is put in `SONDE_SECRET_KEY`
//!   and the old one in `SONDE_SECRET_KEY_PREVIOUS` on every node first; the command, run with
//!   the same variables, re-seals and then says the old key can go.

use anyhow::{bail, Context};
use clap::Subcommand;
use engine::secrets::{self, FileRotation, SecretBox};
use engine::secrets_rotation::{self, KeyCount, Progress};
use std::io::Write;

#[derive(Subcommand, Debug)]
pub enum SecretsCommand {
    /// Print a new random key (base64 of 32 bytes) for `SONDE_SECRET_KEY`, and its id.
    NewKey,
    /// How many sealed values are under which key (nothing is changed).
    Status,
    /// Re-seal every secret in the database under a new key. With the data dir's key file a new
    /// key is made here; with `SONDE_SECRET_KEY` it is the new key and `SONDE_SECRET_KEY_PREVIOUS`
    /// the old one. Interrupted, run it again: it finishes the same rotation.
    Rotate {
        /// Values re-sealed per transaction.
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
}

pub async fn run(db: &crate::DbArgs, cmd: SecretsCommand) -> anyhow::Result<()> {
    match cmd {
        SecretsCommand::NewKey => {
            let key = secrets::generate_key();
            let id = SecretBox::from_base64(&key)?.key_id();
            // The key itself on stdout only, for the operator to put where it belongs.
            println!("{key}");
            eprintln!("key id {id}");
            Ok(())
        }
        SecretsCommand::Status => {
            let store = db.open().await?;
            let key = open_box(db, store.backend())?;
            print_counts(&key, &secrets_rotation::sealed_counts(&store).await?);
            Ok(())
        }
        SecretsCommand::Rotate { batch } => rotate(db, batch).await,
    }
}

/// The keys from the environment, else (SQLite) from the data dir's files.
fn open_box(db: &crate::DbArgs, backend: store::Backend) -> anyhow::Result<SecretBox> {
    if let Some(b) = SecretBox::from_env()? {
        return Ok(b);
    }
    if backend == store::Backend::Postgres {
        bail!(
            "set {} (the key every node uses) to read or rotate sealed values",
            secrets::KEY_ENV
        );
    }
    Ok(SecretBox::load_or_create(&db.data_dir)?)
}

fn print_counts(key: &SecretBox, counts: &[KeyCount]) {
    let current = key.key_id();
    let previous = key.previous_key_ids();
    if counts.is_empty() {
        println!("no sealed values; the current key is {current}");
    }
    for c in counts {
        let role = if c.key == current {
            "current key"
        } else if c.key == "v1" {
            "sealed before key ids"
        } else if previous.contains(&c.key) {
            "previous key"
        } else {
            "a key this instance does not hold"
        };
        println!("{:>8} values under {} ({role})", c.values, c.key);
    }
}

async fn rotate(db: &crate::DbArgs, batch: usize) -> anyhow::Result<()> {
    let store = db.open().await?;
    let from_env = SecretBox::from_env()?.is_some();
    let files = !from_env && store.backend() == store::Backend::Sqlite;
    if files {
        match secrets::start_file_rotation(&db.data_dir)
            .or_else(|_| {
                // No key file yet: make one, then rotate from it like any other.
                SecretBox::load_or_create(&db.data_dir)?;
                secrets::start_file_rotation(&db.data_dir)
            })
            .context("rotating the key files")?
        {
            FileRotation::Started { new_id, old_id } => println!(
                "new key {new_id} in {}; the old key {old_id} is kept in {} until every value is re-sealed",
                secrets::KEY_FILE,
                secrets::PREVIOUS_KEY_FILE
            ),
            FileRotation::Resumed { new_id } => {
                println!("resuming the unfinished rotation to key {new_id}")
            }
        }
    }
    let key = open_box(db, store.backend())?;
    if !files && key.previous_key_ids().is_empty() {
        println!(
            "{} names no previous key. To rotate: `sonde secrets new-key`; on every node set \
             {} to the new key and {} to the old one and restart; then run this again.",
            secrets::PREVIOUS_KEY_ENV,
            secrets::KEY_ENV,
            secrets::PREVIOUS_KEY_ENV
        );
    }
    let mut shown = std::time::Instant::now();
    let report = secrets_rotation::reseal_all(&store, &key, batch, |p: Progress| {
        // A line a second at most, and the last one.
        if shown.elapsed().as_secs_f64() >= 1.0 || p.resealed == p.total {
            shown = std::time::Instant::now();
            print!("\rre-sealed {} / {}", p.resealed, p.total);
            let _ = std::io::stdout().flush();
        }
    })
    .await?;
    println!();
    println!(
        "re-sealed {} values in {:.2} s ({:.0} values/s), {} pass(es); {} changed meanwhile by a running server and left as it wrote them",
        report.resealed,
        report.seconds,
        report.rate(),
        report.passes,
        report.changed_meanwhile
    );
    print_counts(&key, &report.by_key);
    if !report.finished() {
        bail!(
            "{} values are not under key {} ({} that no key held opens); the previous key is kept — \
             find the missing key (add it to {}) or run again",
            report.remaining,
            key.key_id(),
            report.unopenable,
            secrets::PREVIOUS_KEY_ENV
        );
    }
    if files {
        secrets::finish_file_rotation(&db.data_dir)?;
        println!(
            "rotation finished: every value is under key {}; the old key was deleted",
            key.key_id()
        );
    } else {
        println!(
            "rotation finished: every value is under key {}; remove {} from every node",
            key.key_id(),
            secrets::PREVIOUS_KEY_ENV
        );
    }
    Ok(())
}
