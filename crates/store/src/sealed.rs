//! Every column holding values sealed by the engine (`engine::secrets`), for a key rotation:
//! the values not yet under a key read in keyset pages, and replaced only where they are
//! still what was read (compare-and-set), so a value a running server rewrote meanwhile (a
//! token refresh, a link key rotated) is never put back to a stale copy.

use crate::{Result, Store};
use sqlx::Row;

/// A table's column of sealed values and the primary key that names each row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedColumn {
    pub table: &'static str,
    pub key: &'static str,
    pub column: &'static str,
}

impl SealedColumn {
    pub fn name(&self) -> String {
        format!("{}.{}", self.table, self.column)
    }
}

/// The sealed columns. A new one must be added here, or a rotation would leave its values
/// under a key that is then thrown away.
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    SealedColumn {
        table: "instance_secrets",
        key: "name",
        column: "value",
    },
    SealedColumn {
        table: "salesforce_connections",
        key: "id",
        column: "tokens",
    },
    SealedColumn {
        table: "salesforce_connections",
        key: "id",
        column: "pkce_verifier",
    },
    SealedColumn {
        table: "survey_link_keys",
        key: "survey_id",
        column: "secret",
    },
    SealedColumn {
        table: "salesforce_endpoints",
        key: "token",
        column: "secret",
    },
    SealedColumn {
        table: "discover_job_accounts",
        key: "job_id",
        column: "client_secret",
    },
    SealedColumn {
        table: "discover_job_accounts",
        key: "job_id",
        column: "password",
    },
];

/// The condition "a sealed value, not under the key whose prefix is `$1`" (the plain values
/// older versions kept in `instance_secrets` are sealed at start-up, not here). Key ids are
/// hex digits, so the prefix holds no LIKE wildcard.
fn outdated(c: &SealedColumn) -> String {
    format!(
        "({col} LIKE 'v1.%' OR {col} LIKE 'v2.%') AND {col} NOT LIKE $1",
        col = c.column
    )
}

fn like_prefix(current_key_id: &str) -> String {
    format!("v2.{current_key_id}.%")
}

impl Store {
    /// How many values of the column are sealed under a key other than `current_key_id`.
    pub async fn count_outdated_sealed(
        &self,
        c: &SealedColumn,
        current_key_id: &str,
    ) -> Result<u64> {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM {} WHERE {}",
            c.table,
            outdated(c)
        );
        let n: i64 = sqlx::query(&sql)
            .bind(like_prefix(current_key_id))
            .fetch_one(self.pool())
            .await?
            .try_get("n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The next `limit` (row key, sealed value) pairs after `after` whose value is under a key
    /// other than `current_key_id`, by row key.
    pub async fn outdated_sealed_page(
        &self,
        c: &SealedColumn,
        current_key_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(String, String)>> {
        let sql = format!(
            "SELECT {key} AS k, {col} AS v FROM {table} WHERE {cond} AND {key} > $2 \
             ORDER BY {key} LIMIT $3",
            key = c.key,
            col = c.column,
            table = c.table,
            cond = outdated(c)
        );
        let rows = sqlx::query(&sql)
            .bind(like_prefix(current_key_id))
            .bind(after.unwrap_or(""))
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("k")?, r.try_get("v")?)))
            .collect()
    }

    /// Replaces each (row key, old, new) whose value is still `old`, in one transaction;
    /// answers how many were replaced (the others changed meanwhile and are left alone).
    pub async fn replace_sealed(
        &self,
        c: &SealedColumn,
        changes: &[(String, String, String)],
    ) -> Result<u64> {
        if changes.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "UPDATE {table} SET {col} = $1 WHERE {key} = $2 AND {col} = $3",
            table = c.table,
            col = c.column,
            key = c.key
        );
        let mut tx = self.begin().await?;
        let mut replaced = 0;
        for (key, old, new) in changes {
            replaced += sqlx::query(&sql)
                .bind(new)
                .bind(key)
                .bind(old)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(replaced)
    }

    /// How many of the column's sealed values are under each key: (key id, or `v1` for values
    /// sealed before values named their key, count).
    pub async fn sealed_by_key(&self, c: &SealedColumn) -> Result<Vec<(String, u64)>> {
        let sql = format!(
            "SELECT CASE WHEN {col} LIKE 'v2.%' THEN substr({col}, 4, 8) ELSE 'v1' END AS k, \
             COUNT(*) AS n FROM {table} WHERE {col} LIKE 'v1.%' OR {col} LIKE 'v2.%' \
             GROUP BY 1",
            col = c.column,
            table = c.table
        );
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                let n: i64 = r.try_get("n")?;
                Ok((r.try_get("k")?, u64::try_from(n).unwrap_or(0)))
            })
            .collect()
    }
}
