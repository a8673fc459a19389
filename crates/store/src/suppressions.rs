//! Opt-out suppressions: the opt-out of a deleted contact, kept under hashes of what a later
//! save would match the person by (email key, external reference), so saving or importing
//! them again finds them unsubscribed. The hashes are computed by the caller.

use crate::{now_ms, Result, Store};
use sqlx::{Any, Row, Transaction};

/// A suppression a contact being saved matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub match_hash: String,
    /// The contact that was deleted.
    pub contact_id: String,
    pub opted_out_at: Option<i64>,
    pub opted_out_source: Option<String>,
}

/// Hashes per statement (well within both engines' parameter limits).
const CHUNK: usize = 200;

impl Store {
    /// When and how a contact last unsubscribed, if it ever did.
    pub async fn last_opt_out(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        contact_id: &str,
    ) -> Result<Option<(i64, String)>> {
        let row = sqlx::query(
            "SELECT created_at, source FROM opt_out_events WHERE org_id = $1 AND contact_id = $2 \
             AND action = 'unsubscribe' ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(org_id)
        .bind(contact_id)
        .fetch_optional(&mut **tx)
        .await?;
        row.map(|r| Ok((r.try_get("created_at")?, r.try_get("source")?)))
            .transpose()
    }

    /// Keeps the opt-out of `contact_id` (being deleted) under each of `hashes`. A hash already
    /// suppressed keeps its first entry.
    pub async fn suppress_opt_out(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        contact_id: &str,
        hashes: &[String],
        opted_out: Option<&(i64, String)>,
    ) -> Result<()> {
        for hash in hashes {
            sqlx::query(
                "INSERT INTO opt_out_suppressions (org_id, match_hash, contact_id, opted_out_at, \
                 opted_out_source, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (org_id, match_hash) DO NOTHING",
            )
            .bind(org_id)
            .bind(hash)
            .bind(contact_id)
            .bind(opted_out.map(|o| o.0))
            .bind(opted_out.map(|o| o.1.clone()))
            .bind(now_ms())
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// The suppressions of the organization among `hashes`.
    pub async fn matching_suppressions(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        hashes: &[String],
    ) -> Result<Vec<Suppression>> {
        let mut out = Vec::new();
        for chunk in hashes.chunks(CHUNK) {
            let params: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT match_hash, contact_id, opted_out_at, opted_out_source FROM opt_out_suppressions \
                 WHERE org_id = $1 AND match_hash IN ({})",
                params.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(org_id);
            for h in chunk {
                query = query.bind(h);
            }
            for r in query.fetch_all(&mut **tx).await? {
                out.push(Suppression {
                    match_hash: r.try_get("match_hash")?,
                    contact_id: r.try_get("contact_id")?,
                    opted_out_at: r.try_get("opted_out_at")?,
                    opted_out_source: r.try_get("opted_out_source")?,
                });
            }
        }
        Ok(out)
    }

    /// Uses up every suppression of a deleted contact: a contact now carries its opt-out.
    pub async fn take_over_suppressions(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        deleted_contact_id: &str,
    ) -> Result<()> {
        sqlx::query("DELETE FROM opt_out_suppressions WHERE org_id = $1 AND contact_id = $2")
            .bind(org_id)
            .bind(deleted_contact_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}
