//! Linked Salesforce orgs: one row per link a user made, with its tokens encrypted by the
//! engine (this module only stores the ciphertext) and the pause set when the org's budget ran out.

use crate::{now_ms, Result, Store};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Clone, PartialEq)]
pub struct ConnectionRow {
    pub id: String,
    pub org_id: String,
    pub user_id: String,
    pub environment: String,
    pub login_url: String,
    pub status: String,
    /// Ciphertext of the tokens JSON.
    pub tokens: Option<String>,
    /// Ciphertext of the PKCE verifier while the link is pending.
    pub pkce_verifier: Option<String>,
    pub oauth_state: Option<String>,
    pub instance_url: Option<String>,
    pub sf_org_id: Option<String>,
    pub sf_user_id: Option<String>,
    pub username: Option<String>,
    /// The org's name and whether it is a sandbox, as the org said (unknown until read).
    pub sf_org_name: Option<String>,
    pub sf_is_sandbox: Option<bool>,
    pub paused_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for ConnectionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionRow")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("status", &self.status)
            .field("instance_url", &self.instance_url)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str =
    "id, org_id, user_id, environment, login_url, status, tokens, pkce_verifier, \
     oauth_state, instance_url, sf_org_id, sf_user_id, username, sf_org_name, sf_is_sandbox, \
     paused_until, last_error, created_at, updated_at";

fn connection_from(row: &AnyRow) -> Result<ConnectionRow> {
    Ok(ConnectionRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        user_id: row.try_get("user_id")?,
        environment: row.try_get("environment")?,
        login_url: row.try_get("login_url")?,
        status: row.try_get("status")?,
        tokens: row.try_get("tokens")?,
        pkce_verifier: row.try_get("pkce_verifier")?,
        oauth_state: row.try_get("oauth_state")?,
        instance_url: row.try_get("instance_url")?,
        sf_org_id: row.try_get("sf_org_id")?,
        sf_user_id: row.try_get("sf_user_id")?,
        username: row.try_get("username")?,
        sf_org_name: row.try_get("sf_org_name")?,
        sf_is_sandbox: row
            .try_get::<Option<i64>, _>("sf_is_sandbox")?
            .map(|b| b != 0),
        paused_until: row.try_get("paused_until")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    pub async fn insert_connection(&self, c: &ConnectionRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO salesforce_connections ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, \
             $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
        ))
        .bind(&c.id)
        .bind(&c.org_id)
        .bind(&c.user_id)
        .bind(&c.environment)
        .bind(&c.login_url)
        .bind(&c.status)
        .bind(&c.tokens)
        .bind(&c.pkce_verifier)
        .bind(&c.oauth_state)
        .bind(&c.instance_url)
        .bind(&c.sf_org_id)
        .bind(&c.sf_user_id)
        .bind(&c.username)
        .bind(&c.sf_org_name)
        .bind(c.sf_is_sandbox.map(i64::from))
        .bind(c.paused_until)
        .bind(&c.last_error)
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Every column but the ids and creation time.
    pub async fn update_connection(&self, c: &ConnectionRow) -> Result<()> {
        sqlx::query(
            "UPDATE salesforce_connections SET environment = $1, login_url = $2, status = $3, \
             tokens = $4, pkce_verifier = $5, oauth_state = $6, instance_url = $7, sf_org_id = $8, \
             sf_user_id = $9, username = $10, sf_org_name = $11, sf_is_sandbox = $12, \
             paused_until = $13, last_error = $14, updated_at = $15 WHERE id = $16",
        )
        .bind(&c.environment)
        .bind(&c.login_url)
        .bind(&c.status)
        .bind(&c.tokens)
        .bind(&c.pkce_verifier)
        .bind(&c.oauth_state)
        .bind(&c.instance_url)
        .bind(&c.sf_org_id)
        .bind(&c.sf_user_id)
        .bind(&c.username)
        .bind(&c.sf_org_name)
        .bind(c.sf_is_sandbox.map(i64::from))
        .bind(c.paused_until)
        .bind(&c.last_error)
        .bind(now_ms())
        .bind(&c.id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Disconnects a link inside the caller's transaction: revoked, its tokens forgotten.
    pub async fn revoke_connection_in(
        tx: &mut crate::Transaction<'_, crate::Any>,
        id: &str,
        why: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE salesforce_connections SET status = 'revoked', tokens = NULL, last_error = $1, \
             updated_at = $2 WHERE id = $3",
        )
        .bind(why)
        .bind(now_ms())
        .bind(id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Saves refreshed tokens (ciphertext) before they are used.
    pub async fn save_connection_tokens(&self, id: &str, tokens: &str) -> Result<()> {
        sqlx::query("UPDATE salesforce_connections SET tokens = $1, updated_at = $2 WHERE id = $3")
            .bind(tokens)
            .bind(now_ms())
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Saves who is linked and what the org said about itself, and nothing else: a refresh
    /// may have saved new tokens since the row was read.
    pub async fn save_connection_facts(
        &self,
        id: &str,
        username: Option<&str>,
        org_name: Option<&str>,
        is_sandbox: Option<bool>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE salesforce_connections SET username = $1, sf_org_name = $2, sf_is_sandbox = $3, \
             updated_at = $4 WHERE id = $5",
        )
        .bind(username)
        .bind(org_name)
        .bind(is_sandbox.map(i64::from))
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn set_connection_status(
        &self,
        id: &str,
        status: &str,
        error: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE salesforce_connections SET status = $1, last_error = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(status)
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn pause_connection(&self, id: &str, until: i64, why: &str) -> Result<()> {
        sqlx::query(
            "UPDATE salesforce_connections SET paused_until = $1, last_error = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(until)
        .bind(why)
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Any connection by id, whatever its organization (workers; the engine checks scope).
    pub async fn connection_by_id(&self, id: &str) -> Result<Option<ConnectionRow>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM salesforce_connections WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(connection_from).transpose()
    }

    pub async fn connection_by_state(&self, state: &str) -> Result<Option<ConnectionRow>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM salesforce_connections WHERE oauth_state = $1"
        ))
        .bind(state)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(connection_from).transpose()
    }

    pub async fn connections_of_user(
        &self,
        org_id: &str,
        user_id: &str,
    ) -> Result<Vec<ConnectionRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM salesforce_connections WHERE org_id = $1 AND user_id = $2 \
             AND status <> 'pending' AND status <> 'revoked' ORDER BY created_at, id"
        ))
        .bind(org_id)
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(connection_from).collect()
    }

    /// The user's links to one Salesforce org as one Salesforce user, revoked ones included
    /// (relinking revives one), oldest first.
    pub async fn connections_for_identity(
        &self,
        org_id: &str,
        user_id: &str,
        sf_org_id: &str,
        sf_user_id: &str,
    ) -> Result<Vec<ConnectionRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM salesforce_connections WHERE org_id = $1 AND user_id = $2 \
             AND sf_org_id = $3 AND sf_user_id = $4 AND status <> 'pending' ORDER BY created_at, id"
        ))
        .bind(org_id)
        .bind(user_id)
        .bind(sf_org_id)
        .bind(sf_user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(connection_from).collect()
    }

    /// The Sonde organizations linked to a Salesforce org (its 15-character id): those with a
    /// connection that has not been disconnected (one waiting to be reconnected still counts).
    pub async fn organizations_linked_to(&self, sf_org_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT DISTINCT org_id FROM salesforce_connections \
             WHERE substr(sf_org_id, 1, 15) = $1 AND status IN ('active', 'reconnect') \
             ORDER BY org_id",
        )
        .bind(sf_org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| r.try_get("org_id").map_err(Into::into))
            .collect()
    }

    pub async fn delete_connection(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM salesforce_connections WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

/// The organization's usable links (active or waiting to be reconnected) to a Salesforce org
/// (its 15-character id), oldest first.
pub(crate) async fn connections_to_org(
    store: &Store,
    org_id: &str,
    sf_org_id: &str,
) -> Result<Vec<ConnectionRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM salesforce_connections WHERE org_id = $1 \
         AND substr(sf_org_id, 1, 15) = $2 AND status IN ('active', 'reconnect') \
         ORDER BY created_at, id"
    ))
    .bind(org_id)
    .bind(sf_org_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(connection_from).collect()
}
