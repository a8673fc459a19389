//! People and their credentials: argon2 password hashes, web sessions with a CSRF token each,
//! and API tokens. Only hashes of session and API tokens are stored, so a database leak does
//! not hand out live credentials.

use crate::{Error, Result, Sonde};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};
use store::people::User;

/// What a user may do in their organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "admin" => Some(Self::Admin),
            "editor" => Some(Self::Editor),
            "viewer" => Some(Self::Viewer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Editor => "editor",
            Self::Viewer => "viewer",
        }
    }
}

/// The signed-in person a request acts for. Every engine call that touches tenant data takes
/// one, and every query it makes is scoped to `org_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: String,
    pub org_id: String,
    pub email: String,
    pub role: Role,
}

impl Actor {
    fn from_user(user: User) -> Result<Self> {
        let role = Role::parse(&user.role).ok_or_else(|| {
            Error::Internal(format!("user {} has unknown role {:?}", user.id, user.role).into())
        })?;
        Ok(Self {
            user_id: user.id,
            org_id: user.org_id,
            email: user.email,
            role,
        })
    }

    pub fn require(&self, role: Role) -> Result<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "this needs the {} role; you are {}",
                role.as_str(),
                self.role.as_str()
            )))
        }
    }
}

/// A new web session: the cookie value and the token forms must echo.
pub struct WebSession {
    pub cookie: String,
    pub csrf_token: String,
}

pub const SESSION_HOURS: i64 = 12;
const API_TOKEN_PREFIX: &str = "sonde_";

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("password hashing failed: {e}").into()))
}

fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn validate_email(email: &str) -> Result<String> {
    directory::EmailAddress::parse(email)
        // Sign-in identities compare without case: Ada@X.com and ada@x.com are one person.
        .map(|e| e.as_str().to_lowercase())
        .map_err(|e| {
            Error::invalid_fields(
                "invalid email",
                vec![crate::FieldProblem {
                    field: "email".into(),
                    message: e.message,
                }],
            )
        })
}

impl Sonde {
    /// Creates a user in `org_id`, or in the first organization (created as "Default" when
    /// there is none) — so `sonde users add` works on an empty install.
    pub async fn add_user(
        &self,
        org_id: Option<&str>,
        email: &str,
        role: Role,
        password: &str,
    ) -> Result<Actor> {
        let email = validate_email(email)?;
        if password.chars().count() < 8 {
            return Err(Error::invalid_fields(
                "password too short",
                vec![crate::FieldProblem {
                    field: "password".into(),
                    message: "must be at least 8 characters".into(),
                }],
            ));
        }
        let org_id = match org_id {
            Some(id) => id.to_string(),
            None => match self.store.first_organization().await? {
                Some(org) => org.id,
                None => self.store.create_organization("Default").await?.id,
            },
        };
        let hash = hash_password(password)?;
        let user = self
            .store
            .create_user(&org_id, &email, &hash, role.as_str())
            .await?;
        Actor::from_user(user)
    }

    /// Sets a new password and role on an existing user (used when `users add` meets an
    /// existing email with `--update`).
    pub async fn reset_user(&self, email: &str, role: Role, password: &str) -> Result<Actor> {
        let user = self
            .store
            .user_by_email(email)
            .await?
            .ok_or(Error::NotFound("user"))?;
        let hash = hash_password(password)?;
        self.store
            .set_user_password_and_role(&user.id, &hash, role.as_str())
            .await?;
        let user = self
            .store
            .user_by_email(email)
            .await?
            .ok_or(Error::NotFound("user"))?;
        Actor::from_user(user)
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Actor> {
        let user = self
            .store
            .user_by_email(email)
            .await?
            .ok_or(Error::NotFound("user"))?;
        Actor::from_user(user)
    }

    /// Checks the password; the same answer for an unknown email and a wrong password, so
    /// sign-in does not reveal who has an account.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<(Actor, WebSession)> {
        let user = self.store.user_by_email(email.trim()).await?;
        let Some(user) = user.filter(|u| password_matches(password, &u.password_hash)) else {
            // Spend comparable time when the user does not exist.
            let _ = hash_password(password);
            return Err(Error::Unauthenticated);
        };
        let cookie = store::ids::random_token(40);
        let csrf_token = store::ids::random_token(32);
        let expires = store::now_ms() + SESSION_HOURS * 3_600_000;
        self.store
            .create_web_session(&token_hash(&cookie), &user.id, &csrf_token, expires)
            .await?;
        Ok((Actor::from_user(user)?, WebSession { cookie, csrf_token }))
    }

    /// The actor and CSRF token behind a session cookie.
    pub async fn web_session(&self, cookie: &str) -> Result<(Actor, String)> {
        let (user, csrf) = self
            .store
            .web_session(&token_hash(cookie))
            .await?
            .ok_or(Error::Unauthenticated)?;
        Ok((Actor::from_user(user)?, csrf))
    }

    pub async fn sign_out(&self, cookie: &str) -> Result<()> {
        self.store.delete_web_session(&token_hash(cookie)).await?;
        Ok(())
    }

    /// Issues an API token; the plaintext is returned once and never stored.
    pub async fn create_api_token(&self, email: &str, name: &str) -> Result<String> {
        let user = self
            .store
            .user_by_email(email)
            .await?
            .ok_or(Error::NotFound("user"))?;
        let token = format!("{API_TOKEN_PREFIX}{}", store::ids::random_token(40));
        self.store
            .create_api_token(&user.id, &token_hash(&token), name)
            .await?;
        Ok(token)
    }

    pub async fn authenticate_api_token(&self, token: &str) -> Result<Actor> {
        if !token.starts_with(API_TOKEN_PREFIX) {
            return Err(Error::Unauthenticated);
        }
        let user = self
            .store
            .user_by_api_token(&token_hash(token))
            .await?
            .ok_or(Error::Unauthenticated)?;
        Actor::from_user(user)
    }
}
