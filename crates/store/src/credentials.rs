//! API tokens (created with an optional expiry, listed without their secret, revoked) and the
//! statements that take credentials back: ending a user's sessions, revoking their tokens,
//! deactivating the user. Tokens are stored only as hashes computed by the caller.

use crate::people::{user_from, User, USER_COLUMNS};
use crate::user_admin::{admin_guard, Refusal};
use crate::{ids, now_ms, Result, Store};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// An API token as its owner sees it: never its secret nor its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// The user behind a live API token, and what the token's row says about its use.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub user: User,
    pub token_id: String,
    pub last_used_at: Option<i64>,
}

fn token_from(row: &AnyRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

/// A token just revoked, and whose it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedToken {
    pub name: String,
    pub user_id: String,
    pub org_id: String,
    pub owner_email: String,
}

/// How many credentials a change ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ended {
    pub sessions: u64,
    pub api_tokens: u64,
}

impl Store {
    pub async fn create_api_token(
        &self,
        user_id: &str,
        token_hash: &str,
        name: &str,
        expires_at: Option<i64>,
    ) -> Result<ApiToken> {
        let token = ApiToken {
            id: ids::api_token(),
            name: name.into(),
            created_at: now_ms(),
            last_used_at: None,
            expires_at,
        };
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, token_hash, name, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&token.id)
        .bind(user_id)
        .bind(token_hash)
        .bind(name)
        .bind(token.created_at)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(token)
    }

    /// The active user of a token that is neither revoked nor expired.
    pub async fn user_by_api_token(&self, token_hash: &str) -> Result<Option<TokenOwner>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, t.id AS token_id, t.last_used_at FROM api_tokens t \
             JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL \
             AND (t.expires_at IS NULL OR t.expires_at > $2) AND u.deactivated_at IS NULL"
        ))
        .bind(token_hash)
        .bind(now_ms())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(TokenOwner {
                user: user_from(&r)?,
                token_id: r.try_get("token_id")?,
                last_used_at: r.try_get("last_used_at")?,
            })
        })
        .transpose()
    }

    /// Records a use of the token (callers do it at most about once a minute per token).
    pub async fn touch_api_token(&self, token_id: &str, at: i64) -> Result<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(token_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The user's tokens that are not revoked (expired ones included, so they can be seen),
    /// newest first.
    pub async fn api_tokens_of(&self, user_id: &str) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, last_used_at, expires_at FROM api_tokens \
             WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(token_from).collect()
    }

    /// Revokes a live token inside the caller's transaction (which records the act): one of
    /// `owner`'s, or when `owner` is None any (the operator's CLI). None when there is no
    /// such live token.
    pub async fn revoke_api_token(
        tx: &mut Transaction<'_, Any>,
        owner: Option<&str>,
        token_id: &str,
    ) -> Result<Option<RevokedToken>> {
        let owner = owner.unwrap_or("");
        let row = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 \
             WHERE id = $2 AND ($3 = '' OR user_id = $4) AND revoked_at IS NULL \
             RETURNING name, user_id",
        )
        .bind(now_ms())
        .bind(token_id)
        .bind(owner)
        .bind(owner)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user_id: String = row.try_get("user_id")?;
        let user = sqlx::query("SELECT org_id, email FROM users WHERE id = $1")
            .bind(&user_id)
            .fetch_one(&mut **tx)
            .await?;
        Ok(Some(RevokedToken {
            name: row.try_get("name")?,
            user_id,
            org_id: user.try_get("org_id")?,
            owner_email: user.try_get("email")?,
        }))
    }

    /// Sets a new password hash and ends the user's other credentials in one transaction: every
    /// session but `keep_session` (a session token hash), and unless `revoke_tokens` is false
    /// every token but `keep_token` (a token id).
    pub async fn change_password(
        &self,
        user_id: &str,
        password_hash: &str,
        keep_session: Option<&str>,
        revoke_tokens: bool,
        keep_token: Option<&str>,
    ) -> Result<Ended> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let sessions =
            sqlx::query("DELETE FROM web_sessions WHERE user_id = $1 AND token_hash <> $2")
                .bind(user_id)
                .bind(keep_session.unwrap_or(""))
                .execute(&mut *tx)
                .await?
                .rows_affected();
        let api_tokens = if revoke_tokens {
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 \
                 WHERE user_id = $2 AND revoked_at IS NULL AND id <> $3",
            )
            .bind(now_ms())
            .bind(user_id)
            .bind(keep_token.unwrap_or(""))
            .execute(&mut *tx)
            .await?
            .rows_affected()
        } else {
            0
        };
        tx.commit().await?;
        Ok(Ended {
            sessions,
            api_tokens,
        })
    }

    /// Deactivates a user of the organization and ends every session and token they have, in
    /// one transaction, unless [`admin_guard`] refuses: the organization would have no active
    /// admin left, or the acting admin (`actor_id`; None for the operator) is no longer one.
    pub async fn deactivate_user(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        actor_id: Option<&str>,
        user_id: &str,
    ) -> Result<std::result::Result<Ended, Refusal>> {
        if let Err(refusal) = admin_guard(tx, org_id, actor_id, user_id, true).await? {
            return Ok(Err(refusal));
        }
        let now = now_ms();
        sqlx::query(
            "UPDATE users SET deactivated_at = COALESCE(deactivated_at, $1) \
             WHERE id = $2 AND org_id = $3",
        )
        .bind(now)
        .bind(user_id)
        .bind(org_id)
        .execute(&mut **tx)
        .await?;
        let sessions = sqlx::query("DELETE FROM web_sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        let api_tokens = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        Ok(Ok(Ended {
            sessions,
            api_tokens,
        }))
    }

    /// Lets a deactivated user sign in again (their old tokens stay revoked); false when the
    /// organization has no such user.
    pub async fn reactivate_user(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        user_id: &str,
    ) -> Result<bool> {
        let done =
            sqlx::query("UPDATE users SET deactivated_at = NULL WHERE id = $1 AND org_id = $2")
                .bind(user_id)
                .bind(org_id)
                .execute(&mut **tx)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends every session of the user (an operator set a new password).
    pub async fn end_web_sessions(&self, user_id: &str) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM web_sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(self.pool())
            .await?
            .rows_affected())
    }

    /// Forgets sessions past their expiry (housekeeping; they are refused anyway).
    pub async fn delete_expired_web_sessions(&self) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
                .bind(now_ms())
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }
}
