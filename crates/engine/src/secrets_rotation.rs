//! Re-sealing every sealed value under the current key (`sonde secrets rotate`): the box holds
//! the new key for sealing and the old ones for opening; each column of
//! `store::sealed::SEALED_COLUMNS` is read in keyset pages of values not under the new key,
//! each page re-sealed and written in its own transaction, a value replaced only if it is
//! still what was read. Interrupted, it is simply run again: what is done stays done, and the
//! pages only ever hold what is left. Nothing here logs or returns a secret.

use crate::secrets::SecretBox;
use store::sealed::{SealedColumn, SEALED_COLUMNS};
use store::Store;

/// After a pass, values may still be outdated: sealed by a server that had not yet read the
/// new key (SQLite, in the instant before the files changed), or rewritten by a node
/// meanwhile. A few more passes catch those; a value no key opens stays, and is reported.
const MAX_PASSES: u32 = 4;

/// Where a rotation stands, for its progress line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Values re-sealed so far.
    pub resealed: u64,
    /// Values not under the new key when the rotation started (more may be found later).
    pub total: u64,
}

/// How many values are under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCount {
    /// The key's id, or `v1` for values sealed before values named their key.
    pub key: String,
    pub values: u64,
}

/// What a rotation did.
#[derive(Debug, Clone, Default)]
pub struct RotationReport {
    pub resealed: u64,
    /// Values a node rewrote between the read and the write: left as that node wrote them.
    pub changed_meanwhile: u64,
    /// Values no key the box holds opens (named by key id, never by value).
    pub unopenable: u64,
    /// Values not under the new key at the end; zero means the rotation is finished.
    pub remaining: u64,
    pub passes: u32,
    pub seconds: f64,
    /// Values under each key at the end.
    pub by_key: Vec<KeyCount>,
}

impl RotationReport {
    pub fn finished(&self) -> bool {
        self.remaining == 0
    }

    /// Values re-sealed per second.
    pub fn rate(&self) -> f64 {
        self.resealed as f64 / self.seconds.max(1e-9)
    }
}

/// Values under each key, over every sealed column, most first.
pub async fn sealed_counts(store: &Store) -> crate::Result<Vec<KeyCount>> {
    let mut counts: Vec<KeyCount> = Vec::new();
    for c in SEALED_COLUMNS {
        for (key, values) in store.sealed_by_key(c).await? {
            match counts.iter_mut().find(|k| k.key == key) {
                Some(k) => k.values += values,
                None => counts.push(KeyCount { key, values }),
            }
        }
    }
    counts.sort_by(|a, b| b.values.cmp(&a.values).then(a.key.cmp(&b.key)));
    Ok(counts)
}

async fn outdated(store: &Store, key_id: &str) -> crate::Result<u64> {
    let mut n = 0;
    for c in SEALED_COLUMNS {
        n += store.count_outdated_sealed(c, key_id).await?;
    }
    Ok(n)
}

/// Re-seals every value not under `secrets`' current key, `batch` values per transaction,
/// calling `progress` after each batch.
pub async fn reseal_all(
    store: &Store,
    secrets: &SecretBox,
    batch: usize,
    mut progress: impl FnMut(Progress),
) -> crate::Result<RotationReport> {
    let started = std::time::Instant::now();
    let key_id = secrets.key_id();
    let batch = i64::try_from(batch.max(1)).unwrap_or(i64::MAX);
    let mut report = RotationReport::default();
    let mut at = Progress {
        resealed: 0,
        total: outdated(store, &key_id).await?,
    };
    progress(at);
    loop {
        report.passes += 1;
        report.unopenable = 0;
        for c in SEALED_COLUMNS {
            reseal_column(
                store,
                secrets,
                c,
                &key_id,
                batch,
                &mut report,
                &mut at,
                &mut progress,
            )
            .await?;
        }
        report.remaining = outdated(store, &key_id).await?;
        // What is left after a pass is either unopenable or was written meanwhile; only the
        // latter is worth another pass.
        if report.remaining <= report.unopenable || report.passes >= MAX_PASSES {
            break;
        }
        at.total = at.total.max(at.resealed + report.remaining);
    }
    report.seconds = started.elapsed().as_secs_f64();
    report.by_key = sealed_counts(store).await?;
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
async fn reseal_column(
    store: &Store,
    secrets: &SecretBox,
    c: &SealedColumn,
    key_id: &str,
    batch: i64,
    report: &mut RotationReport,
    at: &mut Progress,
    progress: &mut impl FnMut(Progress),
) -> crate::Result<()> {
    let mut after: Option<String> = None;
    loop {
        let page = store
            .outdated_sealed_page(c, key_id, after.as_deref(), batch)
            .await?;
        let Some((last, _)) = page.last() else {
            return Ok(());
        };
        after = Some(last.clone());
        let mut changes = Vec::with_capacity(page.len());
        for (row, old) in page {
            match secrets.open(&old) {
                Ok(plain) => {
                    let new = secrets.seal(&plain);
                    changes.push((row, old, new));
                }
                Err(e) => {
                    report.unopenable += 1;
                    tracing::warn!(column = %c.name(), error = %e, "a sealed value no key opens");
                }
            }
        }
        let replaced = store.replace_sealed(c, &changes).await?;
        report.resealed += replaced;
        report.changed_meanwhile += changes.len() as u64 - replaced;
        at.resealed += replaced;
        at.total = at.total.max(at.resealed);
        progress(*at);
    }
}
