//! People and their credentials: argon2 password hashes, web sessions with a CSRF token each,
//! and API tokens. Only hashes of session and API tokens are stored, so a database leak does
//! not hand out live credentials.

use crate::{passwords, sign_in_throttle, Error, Result, Sonde};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use store::people::User;
use store::sign_in_throttle::Attempt;

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
    pub(crate) fn from_user(user: User) -> Result<Self> {
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
pub(crate) const API_TOKEN_PREFIX: &str = "sonde_";
/// How often a token's "last used" time is written: a write per API call would cost more than
/// the answer is worth.
const LAST_USED_PRECISION_MS: i64 = 60_000;

pub(crate) fn check_new_password(password: &str, field: &str) -> Result<()> {
    if password.chars().count() < 8 {
        return Err(Error::invalid_fields(
            "password too short",
            vec![crate::FieldProblem {
                field: field.into(),
                message: "must be at least 8 characters".into(),
            }],
        ));
    }
    Ok(())
}

pub(crate) fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn validate_email(email: &str) -> Result<String> {
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
        check_new_password(password, "password")?;
        let org_id = match org_id {
            Some(id) => id.to_string(),
            None => match self.store.first_organization().await? {
                Some(org) => org.id,
                None => self.store.create_organization("Default").await?.id,
            },
        };
        let hash = passwords::hash(password).await?;
        let user = self
            .store
            .create_user(&org_id, &email, &hash, role.as_str())
            .await?;
        Actor::from_user(user)
    }

    /// Sets a new password and role on an existing user (used when `users add` meets an
    /// existing email with `--update`), and ends the user's sessions: whoever signed in with
    /// the old password is signed out. API tokens stay (`sonde tokens revoke` for those). The
    /// organization keeps an active admin: demoting the last one is refused, changing nothing.
    pub async fn reset_user(&self, email: &str, role: Role, password: &str) -> Result<Actor> {
        let user = self
            .store
            .user_by_email(email)
            .await?
            .ok_or(Error::NotFound("user"))?;
        let hash = passwords::hash(password).await?;
        let mut tx = self.store.begin().await?;
        store::Store::change_role(&mut tx, &user.org_id, None, &user.id, role.as_str())
            .await?
            .map_err(|refusal| crate::users::refused(refusal, &user.email))?;
        if user.role != role.as_str() {
            crate::audit::record(
                &mut tx,
                crate::audit::By::CommandLine {
                    org_id: &user.org_id,
                },
                crate::audit::Action::UserRoleChanged,
                crate::audit::Subject::new(&user.id, &user.email),
                serde_json::json!({"from": user.role, "to": role.as_str()}),
            )
            .await?;
        }
        tx.commit().await?;
        self.store.set_user_password(&user.id, &hash).await?;
        self.store.end_web_sessions(&user.id).await?;
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

    /// Checks the password of a person signing in from `client`; the same answer for an
    /// unknown email and a wrong password, so sign-in does not reveal who has an account.
    /// Guessing is throttled per account and per address (`sign_in_throttle`): while either
    /// waits, the attempt is refused without checking anything.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<(Actor, WebSession)> {
        let account = sign_in_throttle::account_subject(email);
        let address = sign_in_throttle::address_subject(client);
        let now = store::now_ms();
        let forget_before = now - sign_in_throttle::FORGET_AFTER.as_millis() as i64;
        let attempt = self
            .store
            .count_sign_in_attempt(
                &[
                    (&account, &sign_in_throttle::ACCOUNT),
                    (&address, &sign_in_throttle::ADDRESS),
                ],
                now,
                forget_before,
            )
            .await?;
        if let Attempt::Blocked { until } = attempt {
            return Err(Error::TooManyAttempts {
                retry_after: std::time::Duration::from_millis((until - now).max(0) as u64),
            });
        }
        let user = self.store.user_by_email(email.trim()).await?;
        let Some(user) = user else {
            passwords::spend_a_check(password).await;
            return Err(Error::Unauthenticated);
        };
        if !passwords::matches(password, &user.password_hash).await? {
            return Err(Error::Unauthenticated);
        }
        self.store.sign_in_succeeded(&account, &address).await?;
        if user.deactivated_at.is_some() {
            // Said only to someone who knows the password: it tells them whom to ask.
            return Err(Error::Forbidden(
                "this account is deactivated; ask an administrator of your organization".into(),
            ));
        }
        self.start_web_session(user).await
    }

    /// A new web session for `user`, who just proved who they are.
    pub(crate) async fn start_web_session(&self, user: User) -> Result<(Actor, WebSession)> {
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

    /// Issues an API token without expiry for a user named by email (the CLI, the demo, tests);
    /// the plaintext is returned once and never stored.
    pub async fn create_api_token(&self, email: &str, name: &str) -> Result<String> {
        Ok(self.create_api_token_for(email, name, None).await?.token)
    }

    /// The active user behind a live (not revoked, not expired) token.
    pub async fn authenticate_api_token(&self, token: &str) -> Result<Actor> {
        if !token.starts_with(API_TOKEN_PREFIX) {
            return Err(Error::Unauthenticated);
        }
        let owner = self
            .store
            .user_by_api_token(&token_hash(token))
            .await?
            .ok_or(Error::Unauthenticated)?;
        let now = store::now_ms();
        if owner
            .last_used_at
            .is_none_or(|at| at < now - LAST_USED_PRECISION_MS)
        {
            // Off the request's path and best effort: a busy store must not refuse the call.
            let store = self.store.clone();
            let id = owner.token_id.clone();
            tokio::spawn(async move {
                if let Err(e) = store.touch_api_token(&id, now).await {
                    tracing::debug!(error = %e, "recording a token's last use failed");
                }
            });
        }
        Actor::from_user(owner.user)
    }
}
