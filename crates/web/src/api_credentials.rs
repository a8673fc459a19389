//! `/api/v1` for credentials: the caller's own API tokens (list, create with an expiry,
//! revoke) and password, and the organization's users for admins (list, deactivate,
//! reactivate).

use crate::api::{json_body, ApiResult};
use crate::auth::{bearer_token, ApiActor};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use engine::credentials::{ApiToken, Ended, InUse, PasswordChange, UserSummary};
use engine::responses::rfc3339;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One of the caller's API tokens, never its secret.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    pub id: String,
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
    pub last_used_at: Option<String>,
    /// None: the token never expires.
    pub expires_at: Option<String>,
    pub expired: bool,
}

impl TokenView {
    fn new(t: &ApiToken, now: i64) -> Self {
        Self {
            id: t.id.clone(),
            name: t.name.clone(),
            created_at: rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(rfc3339),
            expires_at: t.expires_at.map(rfc3339),
            expired: t.expires_at.is_some_and(|at| at <= now),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    /// Newest first.
    pub tokens: Vec<TokenView>,
}

/// A token just made: the only answer that carries its secret.
#[derive(Serialize, ToSchema)]
pub struct TokenCreated {
    #[serde(flatten)]
    pub listed: TokenView,
    /// Send as `Authorization: Bearer <token>`; shown this once only.
    pub token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    /// 1–3650; absent: the token never expires.
    #[serde(default)]
    pub expires_in_days: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewPassword {
    pub current_password: String,
    pub new_password: String,
    /// Keep your other API tokens working (they are revoked by default).
    #[serde(default)]
    pub keep_api_tokens: bool,
}

/// What a password change or a deactivation ended.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialsEnded {
    pub sessions_ended: u64,
    pub api_tokens_revoked: u64,
}

impl From<Ended> for CredentialsEnded {
    fn from(e: Ended) -> Self {
        Self {
            sessions_ended: e.sessions,
            api_tokens_revoked: e.api_tokens,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserSummary>,
}

/// A user just deactivated, and what that ended.
#[derive(Serialize, ToSchema)]
pub struct UserDeactivated {
    #[serde(flatten)]
    pub user: UserSummary,
    #[serde(flatten)]
    pub ended: CredentialsEnded,
}

#[utoipa::path(get, path = "/tokens", tag = "account", responses((status = 200, body = TokenList)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<TokenList>> {
    let tokens = state.sonde.api_tokens(&actor).await?;
    let now = store::now_ms();
    Ok(Json(TokenList {
        tokens: tokens.iter().map(|t| TokenView::new(t, now)).collect(),
    }))
}

#[utoipa::path(post, path = "/tokens", tag = "account", request_body = NewToken,
    responses((status = 201, body = TokenCreated)))]
pub async fn create_token(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: Bytes,
) -> ApiResult<Response> {
    let new: NewToken = json_body(&body)?;
    let made = state
        .sonde
        .issue_api_token(&actor, &new.name, new.expires_in_days)
        .await?;
    let created = TokenCreated {
        listed: TokenView::new(&made.listed, store::now_ms()),
        token: made.token,
    };
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// It stops working at once.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "account",
    responses((status = 204, description = "Revoked")))]
pub async fn revoke_token(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.sonde.revoke_api_token(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Your web sessions end and, unless kept, your other API tokens are revoked (the calling
/// token stays).
#[utoipa::path(post, path = "/account/password", tag = "account", request_body = NewPassword,
    responses((status = 200, body = CredentialsEnded)))]
pub async fn change_password(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<CredentialsEnded>> {
    let asked: NewPassword = json_body(&body)?;
    let change = PasswordChange {
        current: asked.current_password,
        new: asked.new_password,
        keep_api_tokens: asked.keep_api_tokens,
    };
    let token = bearer_token(&headers).unwrap_or_default();
    let ended = state
        .sonde
        .change_password(&actor, &change, InUse::ApiToken(token))
        .await?;
    Ok(Json(ended.into()))
}

/// Admins only.
#[utoipa::path(get, path = "/users", tag = "users", responses((status = 200, body = UserList)))]
pub async fn list_users(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<UserList>> {
    let users = state.sonde.users(&actor).await?;
    Ok(Json(UserList { users }))
}

/// Admins, not on themselves: the user's sessions end, their API tokens are revoked and they
/// cannot sign in.
#[utoipa::path(post, path = "/users/{id}/deactivate", tag = "users",
    responses((status = 200, body = UserDeactivated)))]
pub async fn deactivate_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<UserDeactivated>> {
    let (user, ended) = state.sonde.deactivate_user(&actor, &id).await?;
    Ok(Json(UserDeactivated {
        user,
        ended: ended.into(),
    }))
}

/// Admins: the user may sign in again; their old tokens stay revoked.
#[utoipa::path(post, path = "/users/{id}/reactivate", tag = "users",
    responses((status = 200, body = UserSummary)))]
pub async fn reactivate_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<UserSummary>> {
    let user = state.sonde.reactivate_user(&actor, &id).await?;
    Ok(Json(user))
}
