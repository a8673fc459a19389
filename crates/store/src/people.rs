//! Organizations, their users and web sessions (API tokens and revocation are in
//! `credentials`). Secrets are stored only as hashes computed by the caller; this module never
//! sees a plaintext token.

use crate::{conflict_or, ids, now_ms, Result, Store};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    /// When an admin deactivated the user; such a user has no live session or token.
    pub deactivated_at: Option<i64>,
}

pub(crate) fn user_from(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        role: row.try_get("role")?,
        deactivated_at: row.try_get("deactivated_at")?,
    })
}

fn organization_from(row: &AnyRow) -> Result<Organization> {
    Ok(Organization {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
    })
}

pub(crate) const USER_COLUMNS: &str =
    "u.id, u.org_id, u.email, u.password_hash, u.role, u.deactivated_at";

impl Store {
    pub async fn create_organization(&self, name: &str) -> Result<Organization> {
        let id = ids::organization();
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(name)
            .bind(now_ms())
            .execute(self.pool())
            .await?;
        Ok(Organization {
            id,
            name: name.into(),
        })
    }

    pub async fn organization(&self, id: &str) -> Result<Option<Organization>> {
        let row = sqlx::query("SELECT id, name FROM organizations WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(organization_from).transpose()
    }

    /// The organization new users join when none is named: the first one created.
    pub async fn first_organization(&self) -> Result<Option<Organization>> {
        let row = sqlx::query("SELECT id, name FROM organizations ORDER BY created_at, id LIMIT 1")
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(organization_from).transpose()
    }

    pub async fn create_user(
        &self,
        org_id: &str,
        email: &str,
        password_hash: &str,
        role: &str,
    ) -> Result<User> {
        let id = ids::user();
        sqlx::query(
            "INSERT INTO users (id, org_id, email, password_hash, role, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(org_id)
        .bind(email)
        .bind(password_hash)
        .bind(role)
        .bind(now_ms())
        .execute(self.pool())
        .await
        .map_err(|e| conflict_or(e, format!("a user with email {email}")))?;
        Ok(User {
            id,
            org_id: org_id.into(),
            email: email.into(),
            password_hash: password_hash.into(),
            role: role.into(),
            deactivated_at: None,
        })
    }

    pub async fn set_user_password(&self, user_id: &str, password_hash: &str) -> Result<()> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE lower(u.email) = lower($1)"
        ))
        .bind(email)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(user_from).transpose()
    }

    /// Users of one organization only: a user id from elsewhere is simply not found.
    pub async fn user_in_org(&self, org_id: &str, user_id: &str) -> Result<Option<User>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1 AND u.org_id = $2"
        ))
        .bind(user_id)
        .bind(org_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(user_from).transpose()
    }

    pub async fn users_in_org(&self, org_id: &str) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.org_id = $1 ORDER BY u.email"
        ))
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(user_from).collect()
    }

    pub async fn create_web_session(
        &self,
        token_hash: &str,
        user_id: &str,
        csrf_token: &str,
        expires_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO web_sessions (token_hash, user_id, csrf_token, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The signed-in user and the session's CSRF token, if the session is alive and its user
    /// active.
    pub async fn web_session(&self, token_hash: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, s.csrf_token FROM web_sessions s \
             JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.deactivated_at IS NULL"
        ))
        .bind(token_hash)
        .bind(now_ms())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| Ok((user_from(&r)?, r.try_get("csrf_token")?)))
            .transpose()
    }

    pub async fn delete_web_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
