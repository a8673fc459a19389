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
use engine::credentials::{ApiToken, Ended, InUse, PasswordChange};
use engine::responses::rfc3339;
use serde::Deserialize;
use serde_json::{json, Value};

fn token_json(t: &ApiToken, now: i64) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "createdAt": rfc3339(t.created_at),
        "lastUsedAt": t.last_used_at.map(rfc3339),
        "expiresAt": t.expires_at.map(rfc3339),
        "expired": t.expires_at.is_some_and(|at| at <= now),
    })
}

fn ended_json(ended: Ended) -> Value {
    json!({"sessionsEnded": ended.sessions, "apiTokensRevoked": ended.api_tokens})
}

pub async fn list_tokens(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Value>> {
    let tokens = state.sonde.api_tokens(&actor).await?;
    let now = store::now_ms();
    Ok(Json(json!({
        "tokens": tokens.iter().map(|t| token_json(t, now)).collect::<Vec<_>>()
    })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewToken {
    name: String,
    #[serde(default)]
    expires_in_days: Option<i64>,
}

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
    let mut v = token_json(&made.listed, store::now_ms());
    // The only answer that carries the secret.
    v["token"] = json!(made.token);
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

pub async fn revoke_token(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.sonde.revoke_api_token(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewPassword {
    current_password: String,
    new_password: String,
    #[serde(default)]
    keep_api_tokens: bool,
}

pub async fn change_password(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
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
    Ok(Json(ended_json(ended)))
}

pub async fn list_users(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Value>> {
    let users = state.sonde.users(&actor).await?;
    Ok(Json(json!({ "users": users })))
}

pub async fn deactivate_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (user, ended) = state.sonde.deactivate_user(&actor, &id).await?;
    let mut v = json!(user);
    v["sessionsEnded"] = json!(ended.sessions);
    v["apiTokensRevoked"] = json!(ended.api_tokens);
    Ok(Json(v))
}

pub async fn reactivate_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let user = state.sonde.reactivate_user(&actor, &id).await?;
    Ok(Json(json!(user)))
}
