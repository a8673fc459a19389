//! `/api/v1/users` beyond listing and deactivation (`api_credentials`), for admins: invitations
//! (made — the only answer with the link —, listed, revoked) and role changes.

use crate::api::{json_body, ApiResult};
use crate::auth::ApiActor;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use engine::credentials::UserSummary;
use engine::responses::rfc3339;
use engine::users::Invitation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A pending invitation, never its link.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationView {
    pub id: String,
    pub email: String,
    /// `admin`, `editor` or `viewer`: the role the invitee gets.
    pub role: String,
    /// The inviting admin's email (absent once that user is gone).
    pub invited_by: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    pub expires_at: String,
    pub expired: bool,
}

impl InvitationView {
    fn new(i: &Invitation, now: i64) -> Self {
        Self {
            id: i.id.clone(),
            email: i.email.clone(),
            role: i.role.clone(),
            invited_by: i.invited_by.clone(),
            created_at: rfc3339(i.created_at),
            expires_at: rfc3339(i.expires_at),
            expired: i.expires_at <= now,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct InvitationList {
    /// Newest first; expired ones stay listed for 30 days.
    pub invitations: Vec<InvitationView>,
}

/// An invitation just made: the only answer that carries its link.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationCreated {
    #[serde(flatten)]
    pub invitation: InvitationView,
    /// Pass this on to the invitee (Sonde sends no mail); it works once, until `expiresAt`.
    pub link: String,
    /// An earlier pending invitation for this email was replaced; its link no longer works.
    pub replaced: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    /// Not yet the email of any Sonde user (compared without case).
    pub email: String,
    /// `admin`, `editor` or `viewer`.
    pub role: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    /// `admin`, `editor` or `viewer`.
    pub role: String,
}

/// Admins: a one-time link, valid 7 days, that makes the invitee a user with `role` once they
/// choose a password. Inviting the same email again replaces the pending invitation.
#[utoipa::path(post, path = "/users/invitations", tag = "users", request_body = NewInvitation,
    responses((status = 201, body = InvitationCreated)))]
pub async fn create_invitation(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: Bytes,
) -> ApiResult<Response> {
    let asked: NewInvitation = json_body(&body)?;
    let made = state
        .sonde
        .invite_user(&actor, &asked.email, &asked.role)
        .await?;
    let created = InvitationCreated {
        invitation: InvitationView::new(&made.invitation, store::now_ms()),
        link: made.link,
        replaced: made.replaced,
    };
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Admins: the pending invitations, without their links.
#[utoipa::path(get, path = "/users/invitations", tag = "users",
    responses((status = 200, body = InvitationList)))]
pub async fn list_invitations(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<InvitationList>> {
    let now = store::now_ms();
    let invitations = state.sonde.invitations(&actor).await?;
    Ok(Json(InvitationList {
        invitations: invitations
            .iter()
            .map(|i| InvitationView::new(i, now))
            .collect(),
    }))
}

/// Admins: the invitation's link stops working at once.
#[utoipa::path(delete, path = "/users/invitations/{id}", tag = "users",
    responses((status = 204, description = "Revoked")))]
pub async fn revoke_invitation(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.sonde.revoke_invitation(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Admins, not on themselves: a new role, in effect from the user's next request. The
/// organization's last active admin keeps the role (409).
#[utoipa::path(patch, path = "/users/{id}", tag = "users", request_body = UserChange,
    responses((status = 200, body = UserSummary)))]
pub async fn update_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<UserSummary>> {
    let change: UserChange = json_body(&body)?;
    let user = state.sonde.change_role(&actor, &id, &change.role).await?;
    Ok(Json(user))
}
