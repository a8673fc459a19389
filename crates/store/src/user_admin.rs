//! What an admin changes about the organization's people. Invitations are stored by the hash
//! of their link's token, replaced when the same email is invited again, and deleted when
//! accepted (in the transaction that creates the user, so a link works once) or revoked.
//! Changes that could leave an organization without an active admin — a role change, a
//! deactivation — go through [`admin_guard`], which locks the organization's row first: two
//! admins demoting each other at the same moment are served one after the other, and the
//! second finds no admin left to keep.

use crate::people::{user_from, User, USER_COLUMNS};
use crate::{conflict_or, ids, now_ms, Result, Store};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// A pending invitation (accepted and revoked ones are gone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: String,
    pub org_id: String,
    /// Lower-cased, as users' emails are.
    pub email: String,
    pub role: String,
    /// The inviting admin's email, while that user exists.
    pub invited_by: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// An invitation found by its link, with its organization's name for the page.
#[derive(Debug, Clone)]
pub struct OpenInvitation {
    pub invitation: Invitation,
    pub org_name: String,
}

/// What accepting an invitation came to.
#[derive(Debug, Clone)]
pub enum Accepted {
    /// The new user, created with the invitation's role; the invitation is gone.
    User(User),
    /// The link is past its expiry: nothing changed (the admin still sees it, expired).
    Expired(Invitation),
    /// No such invitation: never made, already used, revoked or replaced by a newer one.
    Unknown,
}

/// Why an admin's change to a user was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The organization has no such user.
    NotFound,
    /// The acting user is no longer an active admin (demoted or deactivated meanwhile).
    NotAdmin,
    /// The change would leave the organization without an active admin.
    LastAdmin,
}

/// The columns of an [`Invitation`] and where they come from (`i` is the invitation).
const INVITATION_COLUMNS: &str =
    "i.id, i.org_id, i.email, i.role, inviter.email AS invited_by, i.created_at, i.expires_at";
const INVITATIONS: &str = "user_invitations i LEFT JOIN users inviter ON inviter.id = i.invited_by";

fn invitation_from(row: &AnyRow) -> Result<Invitation> {
    Ok(Invitation {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        email: row.try_get("email")?,
        role: row.try_get("role")?,
        invited_by: row.try_get("invited_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

/// Inside `tx`: takes the organization's lock, checks that `actor_id` (when an admin acts;
/// None for the operator's CLI) is still an active admin of it, and finds the user. When
/// `loses_admin` and the user is an active admin, refuses unless another active admin
/// remains. Every change that can take admin rights away calls this first, so the counts it
/// reads cannot change under it until the transaction ends.
pub(crate) async fn admin_guard(
    tx: &mut Transaction<'_, Any>,
    org_id: &str,
    actor_id: Option<&str>,
    user_id: &str,
    loses_admin: bool,
) -> Result<std::result::Result<User, Refusal>> {
    // A row lock on PostgreSQL; SQLite's BEGIN IMMEDIATE already made this the only writer.
    let org = sqlx::query("UPDATE organizations SET name = name WHERE id = $1")
        .bind(org_id)
        .execute(&mut **tx)
        .await?;
    if org.rows_affected() == 0 {
        return Ok(Err(Refusal::NotFound));
    }
    let by_id = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1 AND u.org_id = $2");
    let find = |id: &str| {
        sqlx::query(&by_id)
            .bind(id.to_string())
            .bind(org_id.to_string())
    };
    if let Some(actor_id) = actor_id {
        let actor = find(actor_id).fetch_optional(&mut **tx).await?;
        let actor = actor.as_ref().map(user_from).transpose()?;
        if !actor.is_some_and(|a| a.role == "admin" && a.deactivated_at.is_none()) {
            return Ok(Err(Refusal::NotAdmin));
        }
    }
    let Some(user) = find(user_id).fetch_optional(&mut **tx).await? else {
        return Ok(Err(Refusal::NotFound));
    };
    let user = user_from(&user)?;
    if loses_admin && user.role == "admin" && user.deactivated_at.is_none() {
        let others: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM users WHERE org_id = $1 AND id <> $2 \
             AND role = 'admin' AND deactivated_at IS NULL",
        )
        .bind(org_id)
        .bind(user_id)
        .fetch_one(&mut **tx)
        .await?
        .try_get("n")?;
        if others == 0 {
            return Ok(Err(Refusal::LastAdmin));
        }
    }
    Ok(Ok(user))
}

impl Store {
    /// Stores an invitation for `email` to the organization, replacing any pending one for
    /// the same email (its link stops working). Answers the new invitation's id.
    pub async fn put_invitation(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        email: &str,
        role: &str,
        token_hash: &str,
        invited_by: &str,
        expires_at: i64,
    ) -> Result<String> {
        let id = ids::invitation();
        sqlx::query(
            "INSERT INTO user_invitations \
             (id, org_id, email, role, token_hash, invited_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (org_id, email) DO UPDATE SET id = excluded.id, role = excluded.role, \
             token_hash = excluded.token_hash, invited_by = excluded.invited_by, \
             created_at = excluded.created_at, expires_at = excluded.expires_at",
        )
        .bind(&id)
        .bind(org_id)
        .bind(email)
        .bind(role)
        .bind(token_hash)
        .bind(invited_by)
        .bind(now_ms())
        .bind(expires_at)
        .execute(&mut **tx)
        .await?;
        Ok(id)
    }

    /// The organization's pending invitations (expired ones too), newest first.
    pub async fn invitations_in_org(&self, org_id: &str) -> Result<Vec<Invitation>> {
        let rows = sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS} FROM {INVITATIONS} WHERE i.org_id = $1 ORDER BY i.created_at DESC, i.id"
        ))
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(invitation_from).collect()
    }

    /// One of the organization's invitations by id.
    pub async fn invitation_in_org(&self, org_id: &str, id: &str) -> Result<Option<Invitation>> {
        let row = sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS} FROM {INVITATIONS} WHERE i.org_id = $1 AND i.id = $2"
        ))
        .bind(org_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(invitation_from).transpose()
    }

    /// Deletes one of the organization's invitations; false when it has no such invitation.
    pub async fn delete_invitation(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        id: &str,
    ) -> Result<bool> {
        let done = sqlx::query("DELETE FROM user_invitations WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The invitation behind a link's token hash, expired or not.
    pub async fn invitation_by_token(&self, token_hash: &str) -> Result<Option<OpenInvitation>> {
        let row = sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS}, o.name AS org_name FROM {INVITATIONS} \
             JOIN organizations o ON o.id = i.org_id WHERE i.token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(OpenInvitation {
                invitation: invitation_from(&r)?,
                org_name: r.try_get("org_name")?,
            })
        })
        .transpose()
    }

    /// Uses up an invitation within the caller's transaction: the invitation is deleted and
    /// its user created with `password_hash`, so of two tabs accepting one link only one
    /// succeeds. A user with the email already (made meanwhile, e.g. with the CLI) is a
    /// conflict, and the invitation stays. Commit only on [`Accepted::User`].
    pub async fn accept_invitation(
        tx: &mut Transaction<'_, Any>,
        token_hash: &str,
        password_hash: &str,
    ) -> Result<Accepted> {
        let row = sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS} FROM {INVITATIONS} WHERE i.token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(invitation) = row.as_ref().map(invitation_from).transpose()? else {
            return Ok(Accepted::Unknown);
        };
        if invitation.expires_at <= now_ms() {
            return Ok(Accepted::Expired(invitation));
        }
        // The row lock decides between concurrent accepts: the loser deletes nothing.
        let claimed = sqlx::query("DELETE FROM user_invitations WHERE id = $1 AND token_hash = $2")
            .bind(&invitation.id)
            .bind(token_hash)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        if claimed == 0 {
            return Ok(Accepted::Unknown);
        }
        let user = User {
            id: ids::user(),
            org_id: invitation.org_id.clone(),
            email: invitation.email.clone(),
            password_hash: password_hash.into(),
            role: invitation.role.clone(),
            deactivated_at: None,
        };
        sqlx::query(
            "INSERT INTO users (id, org_id, email, password_hash, role, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&user.id)
        .bind(&user.org_id)
        .bind(&user.email)
        .bind(&user.password_hash)
        .bind(&user.role)
        .bind(now_ms())
        .execute(&mut **tx)
        .await
        .map_err(|e| conflict_or(e, format!("a user with email {}", user.email)))?;
        Ok(Accepted::User(user))
    }

    /// Forgets invitations that expired before `before` (housekeeping: an expired link is
    /// still listed for a while, so the admin sees why it did not work).
    pub async fn forget_expired_invitations(&self, before: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM user_invitations WHERE expires_at < $1")
                .bind(before)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }

    /// Gives a user of the organization another role, unless that leaves it without an active
    /// admin or the acting admin (None: the operator) is no longer one. Answers the user as
    /// changed; the caller commits.
    pub async fn change_role(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        actor_id: Option<&str>,
        user_id: &str,
        role: &str,
    ) -> Result<std::result::Result<User, Refusal>> {
        let mut user = match admin_guard(tx, org_id, actor_id, user_id, role != "admin").await? {
            Ok(user) => user,
            Err(refusal) => return Ok(Err(refusal)),
        };
        sqlx::query("UPDATE users SET role = $1 WHERE id = $2 AND org_id = $3")
            .bind(role)
            .bind(user_id)
            .bind(org_id)
            .execute(&mut **tx)
            .await?;
        user.role = role.into();
        Ok(Ok(user))
    }
}
