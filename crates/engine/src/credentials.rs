//! Credentials that can be taken back: API tokens with an optional expiry, listed without
//! their secret and revoked; a password change that ends the person's other sessions (and
//! tokens); users an admin deactivates, which ends everything they hold.

use crate::auth::{check_new_password, token_hash, API_TOKEN_PREFIX};
use crate::users::refused;
use crate::{audit, passwords, sign_in_throttle, Actor, Error, FieldProblem, Result, Role, Sonde};
pub use store::credentials::{ApiToken, Ended};
use store::people::User;
use store::Store;

/// The longest expiry a token can be given, in days.
pub const MAX_TOKEN_DAYS: i64 = 3650;
const MAX_TOKEN_NAME: usize = 100;

/// A token just made: the only time its secret is seen.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub token: String,
    pub listed: ApiToken,
}

/// The credential the person changing their password is using now; it stays valid.
#[derive(Debug, Clone, Copy)]
pub enum InUse<'a> {
    /// The session cookie of a signed-in page.
    Session(&'a str),
    /// The Bearer token of an API call.
    ApiToken(&'a str),
}

/// A password change as asked: the current password proves it is the person.
#[derive(Debug, Clone)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
    /// Leave the API tokens working (integrations); by default they are revoked with the
    /// sessions, since whoever knew the old password may have made one.
    pub keep_api_tokens: bool,
}

/// A user as an admin sees them in the organization.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserSummary {
    pub id: String,
    pub email: String,
    pub role: String,
    pub active: bool,
}

impl From<User> for UserSummary {
    fn from(u: User) -> Self {
        Self {
            active: u.deactivated_at.is_none(),
            id: u.id,
            email: u.email,
            role: u.role,
        }
    }
}

fn problem(field: &str, message: impl Into<String>) -> Error {
    let message = message.into();
    Error::invalid_fields(
        format!("{field}: {message}"),
        vec![FieldProblem {
            field: field.into(),
            message,
        }],
    )
}

fn token_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(problem("name", "is required: say what will use the token"));
    }
    if name.chars().count() > MAX_TOKEN_NAME {
        return Err(problem(
            "name",
            format!("must be at most {MAX_TOKEN_NAME} characters"),
        ));
    }
    Ok(name.to_string())
}

fn token_expiry(expires_in_days: Option<i64>) -> Result<Option<i64>> {
    match expires_in_days {
        None => Ok(None),
        Some(days) if (1..=MAX_TOKEN_DAYS).contains(&days) => {
            Ok(Some(store::now_ms() + days * 86_400_000))
        }
        Some(_) => Err(problem(
            "expiresInDays",
            format!("must be a whole number of days from 1 to {MAX_TOKEN_DAYS}, or left out for a token that does not expire"),
        )),
    }
}

impl Sonde {
    async fn issue_token(
        &self,
        user: &User,
        name: &str,
        expires_in_days: Option<i64>,
    ) -> Result<NewApiToken> {
        if user.deactivated_at.is_some() {
            return Err(Error::Conflict(format!(
                "{} is deactivated; reactivate the user first",
                user.email
            )));
        }
        let name = token_name(name)?;
        let expires_at = token_expiry(expires_in_days)?;
        let token = format!("{API_TOKEN_PREFIX}{}", store::ids::random_token(40));
        let listed = self
            .store
            .create_api_token(&user.id, &token_hash(&token), &name, expires_at)
            .await?;
        Ok(NewApiToken { token, listed })
    }

    async fn user_of(&self, actor: &Actor) -> Result<User> {
        self.store
            .user_in_org(&actor.org_id, &actor.user_id)
            .await?
            .ok_or(Error::NotFound("user"))
    }

    async fn user_named(&self, email: &str) -> Result<User> {
        self.store
            .user_by_email(email)
            .await?
            .ok_or(Error::NotFound("user"))
    }

    /// A new token for the signed-in person, expiring after `expires_in_days` if given.
    pub async fn issue_api_token(
        &self,
        actor: &Actor,
        name: &str,
        expires_in_days: Option<i64>,
    ) -> Result<NewApiToken> {
        let user = self.user_of(actor).await?;
        self.issue_token(&user, name, expires_in_days).await
    }

    /// A new token for the user with this email (the operator's CLI).
    pub async fn create_api_token_for(
        &self,
        email: &str,
        name: &str,
        expires_in_days: Option<i64>,
    ) -> Result<NewApiToken> {
        let user = self.user_named(email).await?;
        self.issue_token(&user, name, expires_in_days).await
    }

    /// The person's tokens that are not revoked, newest first (never their secrets).
    pub async fn api_tokens(&self, actor: &Actor) -> Result<Vec<ApiToken>> {
        Ok(self.store.api_tokens_of(&actor.user_id).await?)
    }

    /// The tokens of the user with this email (the operator's CLI).
    pub async fn api_tokens_of(&self, email: &str) -> Result<Vec<ApiToken>> {
        let user = self.user_named(email).await?;
        Ok(self.store.api_tokens_of(&user.id).await?)
    }

    /// Revokes one of the person's own tokens (any role: taking back one's own credential
    /// is never refused); another person's is not found. Recorded in the audit log.
    pub async fn revoke_api_token(&self, actor: &Actor, token_id: &str) -> Result<()> {
        self.revoke_token(Some(actor), token_id).await
    }

    /// Revokes any token by id (the operator's CLI), recorded as done from the command line.
    pub async fn revoke_api_token_by_id(&self, token_id: &str) -> Result<()> {
        self.revoke_token(None, token_id).await
    }

    async fn revoke_token(&self, actor: Option<&Actor>, token_id: &str) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let owner = actor.map(|a| a.user_id.as_str());
        let Some(revoked) = store::Store::revoke_api_token(&mut tx, owner, token_id).await? else {
            tx.rollback().await?;
            return Err(Error::NotFound("API token"));
        };
        let by = match actor {
            Some(a) => audit::By::User(a),
            None => audit::By::CommandLine {
                org_id: &revoked.org_id,
            },
        };
        audit::record(
            &mut tx,
            by,
            audit::Action::ApiTokenRevoked,
            audit::Subject::new(token_id, &revoked.name),
            serde_json::json!({"ownerId": revoked.user_id, "ownerEmail": revoked.owner_email}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes the person's password once the current one is given, and ends their other
    /// sessions, and their API tokens unless asked to keep them; the credential in use stays.
    pub async fn change_password(
        &self,
        actor: &Actor,
        change: &PasswordChange,
        in_use: InUse<'_>,
    ) -> Result<Ended> {
        let user = self.user_of(actor).await?;
        if !passwords::matches(&change.current, &user.password_hash).await? {
            return Err(problem(
                "currentPassword",
                "does not match the password you sign in with",
            ));
        }
        check_new_password(&change.new, "newPassword")?;
        let hash = passwords::hash(&change.new).await?;
        let (keep_session, keep_token) = match in_use {
            InUse::Session(cookie) => (Some(token_hash(cookie)), None),
            InUse::ApiToken(token) => {
                let owner = self.store.user_by_api_token(&token_hash(token)).await?;
                (None, owner.map(|o| o.token_id))
            }
        };
        let ended = self
            .store
            .change_password(
                &user.id,
                &hash,
                keep_session.as_deref(),
                !change.keep_api_tokens,
                keep_token.as_deref(),
            )
            .await?;
        tracing::info!(user = %user.id, sessions = ended.sessions, api_tokens = ended.api_tokens, "password changed");
        Ok(ended)
    }

    /// The organization's users (admins only).
    pub async fn users(&self, actor: &Actor) -> Result<Vec<UserSummary>> {
        actor.require(Role::Admin)?;
        let users = self.store.users_in_org(&actor.org_id).await?;
        Ok(users.into_iter().map(UserSummary::from).collect())
    }

    async fn org_user(&self, actor: &Actor, user_id: &str) -> Result<User> {
        actor.require(Role::Admin)?;
        self.store
            .user_in_org(&actor.org_id, user_id)
            .await?
            .ok_or(Error::NotFound("user"))
    }

    /// Deactivates a user of the admin's organization: their sessions end, their tokens are
    /// revoked and they cannot sign in until reactivated. Not oneself, and not the
    /// organization's last active admin (see `users`).
    pub async fn deactivate_user(
        &self,
        actor: &Actor,
        user_id: &str,
    ) -> Result<(UserSummary, Ended)> {
        let user = self.org_user(actor, user_id).await?;
        if user.id == actor.user_id {
            return Err(Error::invalid(
                "you cannot deactivate yourself; ask another admin of your organization",
            ));
        }
        let mut tx = self.store.begin().await?;
        let ended = Store::deactivate_user(&mut tx, &actor.org_id, Some(&actor.user_id), &user.id)
            .await?
            .map_err(|r| refused(r, &user.email))?;
        record_deactivation(&mut tx, actor.into(), &user, &ended).await?;
        tx.commit().await?;
        tracing::info!(user = %user.id, by = %actor.user_id, "user deactivated");
        let mut summary = UserSummary::from(user);
        summary.active = false;
        Ok((summary, ended))
    }

    /// Lets a deactivated user of the admin's organization sign in again.
    pub async fn reactivate_user(&self, actor: &Actor, user_id: &str) -> Result<UserSummary> {
        let user = self.org_user(actor, user_id).await?;
        let mut tx = self.store.begin().await?;
        Store::reactivate_user(&mut tx, &actor.org_id, &user.id).await?;
        record_reactivation(&mut tx, actor.into(), &user).await?;
        tx.commit().await?;
        tracing::info!(user = %user.id, by = %actor.user_id, "user reactivated");
        let mut summary = UserSummary::from(user);
        summary.active = true;
        Ok(summary)
    }

    /// Deactivates the user with this email (the operator's CLI); the organization's last
    /// active admin is refused here too.
    pub async fn deactivate_user_by_email(&self, email: &str) -> Result<Ended> {
        let user = self.user_named(email).await?;
        let mut tx = self.store.begin().await?;
        let ended = Store::deactivate_user(&mut tx, &user.org_id, None, &user.id)
            .await?
            .map_err(|r| refused(r, &user.email))?;
        let by = audit::By::CommandLine {
            org_id: &user.org_id,
        };
        record_deactivation(&mut tx, by, &user, &ended).await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// Reactivates the user with this email (the operator's CLI).
    pub async fn reactivate_user_by_email(&self, email: &str) -> Result<()> {
        let user = self.user_named(email).await?;
        let mut tx = self.store.begin().await?;
        Store::reactivate_user(&mut tx, &user.org_id, &user.id).await?;
        let by = audit::By::CommandLine {
            org_id: &user.org_id,
        };
        record_reactivation(&mut tx, by, &user).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Housekeeping: forgets expired sessions, sign-in failures nobody waits on any more and
    /// invitations long expired.
    pub async fn forget_stale_credentials(&self) -> Result<()> {
        let now = store::now_ms();
        self.store.delete_expired_web_sessions().await?;
        self.forget_old_invitations(now).await?;
        self.store
            .forget_sign_in_failures(now - sign_in_throttle::FORGET_AFTER.as_millis() as i64, now)
            .await?;
        Ok(())
    }
}

async fn record_deactivation(
    tx: &mut store::Transaction<'_, store::Any>,
    by: audit::By<'_>,
    user: &User,
    ended: &Ended,
) -> Result<()> {
    audit::record(
        tx,
        by,
        audit::Action::UserDeactivated,
        audit::Subject::new(&user.id, &user.email),
        serde_json::json!({"sessionsEnded": ended.sessions, "apiTokensRevoked": ended.api_tokens}),
    )
    .await
}

async fn record_reactivation(
    tx: &mut store::Transaction<'_, store::Any>,
    by: audit::By<'_>,
    user: &User,
) -> Result<()> {
    audit::record(
        tx,
        by,
        audit::Action::UserReactivated,
        audit::Subject::new(&user.id, &user.email),
        serde_json::Value::Null,
    )
    .await
}
