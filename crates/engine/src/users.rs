//! The organization's people as its admins manage them: invitations, handed on as one-time
//! links since Sonde sends no mail, which the invitee accepts by choosing a password; and role
//! changes. With deactivation (`credentials`) they keep two rules: an admin changes neither
//! their own role nor their own access, and the organization always keeps an active admin —
//! checked under the organization's lock (`store::user_admin::admin_guard`), so two admins
//! demoting each other at once cannot both succeed. A user's role is read from their row on
//! every request, so a change applies at once to the sessions and API tokens they hold.

use crate::audit::{self, Action, Subject};
use crate::auth::{check_new_password, token_hash, validate_email, WebSession};
use crate::credentials::UserSummary;
use crate::{passwords, Actor, Error, FieldProblem, Result, Role, Sonde};
use serde_json::json;
use store::user_admin::{Accepted, Refusal};
pub use store::user_admin::{Invitation, OpenInvitation};
use store::Store;

/// How long an invitation link works.
pub const INVITATION_DAYS: i64 = 7;
/// How long an expired invitation stays listed (so the admin sees why a link failed) before
/// housekeeping forgets it.
pub const EXPIRED_INVITATION_KEPT_DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;
/// Characters of an invitation link's token (alphanumeric: about 238 bits).
const TOKEN_LEN: usize = 40;

/// An invitation just made: the only time its link is seen.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub invitation: Invitation,
    /// `{public URL}/invitations/{token}`, to pass on to the invitee.
    pub link: String,
    /// An earlier pending invitation for the same email was replaced (its link is dead).
    pub replaced: bool,
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

fn role_named(role: &str) -> Result<Role> {
    Role::parse(role.trim()).ok_or_else(|| problem("role", "must be admin, editor or viewer"))
}

/// What a refused admin change means, said about the user with `email`.
pub(crate) fn refused(refusal: Refusal, email: &str) -> Error {
    match refusal {
        Refusal::NotFound => Error::NotFound("user"),
        Refusal::NotAdmin => Error::Forbidden(
            "this needs the admin role, and you are no longer an active admin of this organization"
                .into(),
        ),
        Refusal::LastAdmin => Error::Conflict(format!(
            "{email} is the organization's last active admin; make another user an admin first"
        )),
    }
}

impl Sonde {
    /// The link that accepts the invitation with `token`.
    fn invitation_link(&self, token: &str) -> String {
        format!("{}/invitations/{token}", self.public_url())
    }

    /// Invites `email` to the admin's organization with `role`: a link that works once, for
    /// [`INVITATION_DAYS`]. Inviting an email again replaces its pending invitation. The email
    /// must not belong to any user yet (emails sign in, so they are unique across the
    /// instance, without regard to case).
    pub async fn invite_user(
        &self,
        actor: &Actor,
        email: &str,
        role: &str,
    ) -> Result<NewInvitation> {
        actor.require(Role::Admin)?;
        let email = validate_email(email)?;
        let role = role_named(role)?;
        if let Some(user) = self.store.user_by_email(&email).await? {
            return Err(if user.org_id == actor.org_id {
                problem(
                    "email",
                    format!("{email} is already a user of this organization"),
                )
            } else {
                problem(
                    "email",
                    format!("{email} already has a Sonde account (a person has one account, in one organization)"),
                )
            });
        }
        let replaced = self
            .store
            .invitations_in_org(&actor.org_id)
            .await?
            .iter()
            .any(|i| i.email == email);
        let token = store::ids::random_token(TOKEN_LEN);
        let expires_at = store::now_ms() + INVITATION_DAYS * DAY_MS;
        let mut tx = self.store.begin().await?;
        let id = Store::put_invitation(
            &mut tx,
            &actor.org_id,
            &email,
            role.as_str(),
            &token_hash(&token),
            &actor.user_id,
            expires_at,
        )
        .await?;
        audit::record(
            &mut tx,
            actor,
            Action::InvitationCreated,
            Subject::new(&id, &email),
            json!({"role": role.as_str(), "replaced": replaced}),
        )
        .await?;
        tx.commit().await?;
        let invitation = self
            .store
            .invitation_in_org(&actor.org_id, &id)
            .await?
            .ok_or_else(|| Error::Conflict("the invitation was replaced meanwhile".into()))?;
        tracing::info!(invitation = %id, by = %actor.user_id, role = role.as_str(), replaced, "user invited");
        Ok(NewInvitation {
            invitation,
            link: self.invitation_link(&token),
            replaced,
        })
    }

    /// The organization's pending invitations, newest first; expired ones too, for a while
    /// (admins only).
    pub async fn invitations(&self, actor: &Actor) -> Result<Vec<Invitation>> {
        actor.require(Role::Admin)?;
        Ok(self.store.invitations_in_org(&actor.org_id).await?)
    }

    /// Revokes a pending invitation (admins only): its link stops working. Answers it.
    pub async fn revoke_invitation(&self, actor: &Actor, id: &str) -> Result<Invitation> {
        actor.require(Role::Admin)?;
        let invitation = self
            .store
            .invitation_in_org(&actor.org_id, id)
            .await?
            .ok_or(Error::NotFound("invitation"))?;
        let mut tx = self.store.begin().await?;
        if !Store::delete_invitation(&mut tx, &actor.org_id, id).await? {
            return Err(Error::NotFound("invitation"));
        }
        audit::record(
            &mut tx,
            actor,
            Action::InvitationRevoked,
            Subject::new(id, &invitation.email),
            json!({"role": invitation.role}),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(invitation = %id, by = %actor.user_id, "invitation revoked");
        Ok(invitation)
    }

    /// The invitation behind a link, for the page that accepts it (no sign-in: the token is
    /// the credential). Not found once used, revoked or replaced; a conflict once expired.
    pub async fn invitation_for(&self, token: &str) -> Result<OpenInvitation> {
        let open = self
            .store
            .invitation_by_token(&token_hash(token))
            .await?
            .ok_or(Error::NotFound("invitation"))?;
        if open.invitation.expires_at <= store::now_ms() {
            return Err(expired(&open.invitation));
        }
        Ok(open)
    }

    /// Accepts an invitation: the invitee becomes a user of its organization with its role
    /// and `password` (the rules of every password), and is signed in. The link then stops
    /// working.
    pub async fn accept_invitation(
        &self,
        token: &str,
        password: &str,
    ) -> Result<(Actor, WebSession)> {
        self.invitation_for(token).await?;
        check_new_password(password, "password")?;
        let hash = passwords::hash(password).await?;
        let mut tx = self.store.begin().await?;
        let user = match Store::accept_invitation(&mut tx, &token_hash(token), &hash).await? {
            Accepted::User(user) => user,
            Accepted::Expired(invitation) => return Err(expired(&invitation)),
            Accepted::Unknown => return Err(Error::NotFound("invitation")),
        };
        // The new user acts: the log says who came in, and with which role.
        let newcomer = Actor::from_user(user.clone())?;
        audit::record(
            &mut tx,
            &newcomer,
            Action::InvitationAccepted,
            Subject::new(&user.id, &user.email),
            json!({"role": user.role}),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(user = %user.id, org = %user.org_id, role = %user.role, "invitation accepted");
        self.start_web_session(user).await
    }

    /// Gives a user of the admin's organization another role. Not one's own, and not the
    /// organization's last active admin's. Sessions and tokens the user holds act with the
    /// new role from their next request.
    pub async fn change_role(
        &self,
        actor: &Actor,
        user_id: &str,
        role: &str,
    ) -> Result<UserSummary> {
        actor.require(Role::Admin)?;
        let role = role_named(role)?;
        if user_id == actor.user_id && role != actor.role {
            return Err(Error::invalid(
                "you cannot change your own role; ask another admin of your organization",
            ));
        }
        let (email, was) = match self.store.user_in_org(&actor.org_id, user_id).await? {
            Some(u) => (u.email, u.role),
            None => return Err(Error::NotFound("user")),
        };
        let mut tx = self.store.begin().await?;
        let user = Store::change_role(
            &mut tx,
            &actor.org_id,
            Some(&actor.user_id),
            user_id,
            role.as_str(),
        )
        .await?
        .map_err(|r| refused(r, &email))?;
        audit::record(
            &mut tx,
            actor,
            Action::UserRoleChanged,
            Subject::new(&user.id, &user.email),
            json!({"from": was, "to": role.as_str()}),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(user = %user.id, by = %actor.user_id, role = role.as_str(), "role changed");
        Ok(UserSummary::from(user))
    }

    /// Housekeeping: forgets invitations expired longer than [`EXPIRED_INVITATION_KEPT_DAYS`].
    pub(crate) async fn forget_old_invitations(&self, now: i64) -> Result<()> {
        self.store
            .forget_expired_invitations(now - EXPIRED_INVITATION_KEPT_DAYS * DAY_MS)
            .await?;
        Ok(())
    }
}

fn expired(invitation: &Invitation) -> Error {
    let ask = match &invitation.invited_by {
        Some(email) => format!("ask {email} for a new link"),
        None => "ask an admin of the organization for a new link".into(),
    };
    let at = crate::responses::rfc3339(invitation.expires_at);
    let day = at.get(..10).unwrap_or(&at);
    Error::Conflict(format!("this invitation expired on {day} (UTC); {ask}"))
}
