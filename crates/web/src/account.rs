//! `/account`: the signed-in person's own credentials. Their API tokens (name, created, last
//! used, expiry) with a revoke link each (which asks first: `ui_deletions`), a form that makes
//! a token with an expiry and shows its secret once, and the password change, which says what
//! it signed out.

use crate::auth::CsrfForm;
use crate::auth::{cookie, WebUser, SESSION_COOKIE};
use crate::error::PageError;
use crate::ui::page_with_status;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use engine::credentials::{ApiToken, InUse, NewApiToken, PasswordChange};
use engine::Error;
use maud::{html, Markup};
use serde::Deserialize;

type PageResult = Result<Response, PageError>;

/// What the page reports after a form.
enum Flash {
    Created(NewApiToken),
    PasswordChanged(engine::credentials::Ended),
    /// A form was refused: which form, the message and what the person typed.
    Refused {
        form: &'static str,
        message: String,
    },
}

/// The expiry choices offered, in days (None: never); 90 days is preselected.
const EXPIRY_CHOICES: &[(Option<i64>, &str)] = &[
    (Some(7), "7 days"),
    (Some(30), "30 days"),
    (Some(90), "90 days"),
    (Some(365), "1 year"),
    (None, "Never"),
];

/// `2026-12-02 03:44 UTC`: the date people read, from a millisecond timestamp.
fn when(ms: i64) -> String {
    let s = engine::responses::rfc3339(ms);
    format!("{} UTC", s.get(..16).unwrap_or(&s).replace('T', " "))
}

/// What a password change ended, as a sentence.
fn ended_sentence(ended: engine::credentials::Ended) -> String {
    let sessions = match ended.sessions {
        0 => "No other session was signed in".to_string(),
        1 => "1 other session was signed out".to_string(),
        n => format!("{n} other sessions were signed out"),
    };
    let tokens = match ended.api_tokens {
        0 => "no API token was revoked".to_string(),
        1 => "1 API token was revoked".to_string(),
        n => format!("{n} API tokens were revoked"),
    };
    format!("{sessions}, and {tokens}.")
}

fn token_item(t: &ApiToken, now: i64) -> Markup {
    let expired = t.expires_at.is_some_and(|at| at <= now);
    html! {
        li {
            div {
                strong { (t.name) }
                @if expired { " " span.badge.expired { "expired" } }
                div.meta {
                    "Created " (when(t.created_at))
                    " · " @match t.last_used_at { Some(at) => { "last used " (when(at)) }, None => { "never used" } }
                    " · " @match t.expires_at {
                        Some(at) if expired => { "expired " (when(at)) },
                        Some(at) => { "expires " (when(at)) },
                        None => { "does not expire" },
                    }
                }
            }
            a.button.secondary href={ "/account/tokens/" (t.id) "/revoke" } aria-label={ "Revoke " (t.name) } { "Revoke…" }
        }
    }
}

fn refused<'a>(flash: &'a Option<Flash>, form: &str) -> Option<&'a str> {
    match flash {
        Some(Flash::Refused { form: f, message }) if *f == form => Some(message),
        _ => None,
    }
}

async fn account_page(
    state: &AppState,
    user: &WebUser,
    status: StatusCode,
    flash: Option<Flash>,
) -> PageResult {
    let tokens = state.sonde.api_tokens(&user.actor).await?;
    let now = store::now_ms();
    let body = html! {
        h1 { "Your account" }
        p.muted { "Signed in as " strong { (user.actor.email) } " (" (user.actor.role.as_str()) ")." }
        @if let Some(Flash::PasswordChanged(ended)) = &flash {
            div.ok role="status" {
                p { strong { "Password changed." } " " (ended_sentence(*ended)) }
            }
        }
        @if let Some(Flash::Created(new)) = &flash {
            div.card.ok role="status" {
                h2 { "Your new token “" (new.listed.name) "”" }
                p { "Copy it now: it is not shown again." }
                code.secret id="new-token" { (new.token) }
                p { button.secondary type="button" data-copy="new-token" { "Copy token" } }
            }
        }
        div.card {
            h2 { "API tokens" }
            p.muted { "Programs use these with " code { "Authorization: Bearer …" } ". A token can do what you can." }
            @if tokens.is_empty() {
                p.muted { "No API tokens." }
            } @else {
                ul.token-list { @for t in &tokens { (token_item(t, now)) } }
            }
        }
        div.card {
            h2 { "Create an API token" }
            @if let Some(m) = refused(&flash, "token") { p.error role="alert" { (m) } }
            form method="post" action="/account/tokens" {
                input type="hidden" name="csrf" value=(user.csrf);
                p { label for="token-name" { "Name (what will use it)" }
                    input type="text" id="token-name" name="name" maxlength="100" required; }
                p { label for="token-expiry" { "Expires after" }
                    select id="token-expiry" name="expires_in_days" {
                        @for (days, label) in EXPIRY_CHOICES {
                            option value=(days.map(|d| d.to_string()).unwrap_or_default()) selected[*days == Some(90)] { (label) }
                        }
                    } }
                button type="submit" { "Create token" }
            }
        }
        div.card {
            h2 { "Change password" }
            p.muted { "This signs you out everywhere else and revokes your API tokens, unless you keep them." }
            @if let Some(m) = refused(&flash, "password") { p.error role="alert" { (m) } }
            form method="post" action="/account/password" {
                input type="hidden" name="csrf" value=(user.csrf);
                input type="hidden" name="username" value=(user.actor.email) autocomplete="username";
                p { label for="current-password" { "Current password" }
                    input type="password" id="current-password" name="current_password" autocomplete="current-password" required; }
                p { label for="new-password" { "New password (at least 8 characters)" }
                    input type="password" id="new-password" name="new_password" autocomplete="new-password" minlength="8" required; }
                label.opt for="keep-tokens" {
                    input type="checkbox" id="keep-tokens" name="keep_api_tokens" value="1";
                    span { "Keep my API tokens working (programs that use them)" }
                }
                button type="submit" { "Change password" }
            }
        }
    };
    Ok(page_with_status(user, status, "Your account", body))
}

pub async fn show(State(state): State<AppState>, user: WebUser) -> PageResult {
    account_page(&state, &user, StatusCode::OK, None).await
}

/// A refused form's message with its field problems, for the page.
fn refusal(e: &Error) -> Option<String> {
    match e {
        Error::Invalid { message, problems } if problems.is_empty() => Some(message.clone()),
        Error::Invalid { problems, .. } => Some(
            problems
                .iter()
                .map(|p| match p.field.as_str() {
                    "currentPassword" => format!("The current password {}.", p.message),
                    "newPassword" => format!("The new password {}.", p.message),
                    "expiresInDays" => format!("The expiry {}.", p.message),
                    "name" => format!("The name {}.", p.message),
                    _ => format!("{}: {}", p.field, p.message),
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ => None,
    }
}

#[derive(Deserialize)]
pub struct NewTokenForm {
    #[serde(default)]
    csrf: String,
    name: String,
    #[serde(default)]
    expires_in_days: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<NewTokenForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let days = match form.expires_in_days.trim() {
        "" => None,
        // Not a number is as wrong as zero days: the engine names the field.
        d => Some(d.parse::<i64>().unwrap_or(0)),
    };
    match state
        .sonde
        .issue_api_token(&user.actor, &form.name, days)
        .await
    {
        Ok(new) => account_page(&state, &user, StatusCode::OK, Some(Flash::Created(new))).await,
        Err(e) => match refusal(&e) {
            Some(message) => {
                let flash = Flash::Refused {
                    form: "token",
                    message,
                };
                account_page(&state, &user, StatusCode::BAD_REQUEST, Some(flash)).await
            }
            None => Err(e.into()),
        },
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    state.sonde.revoke_api_token(&user.actor, &id).await?;
    Ok(Redirect::to("/account").into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    current_password: String,
    new_password: String,
    #[serde(default)]
    keep_api_tokens: Option<String>,
}

pub async fn change_password(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let session = cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    let change = PasswordChange {
        current: form.current_password,
        new: form.new_password,
        keep_api_tokens: form.keep_api_tokens.is_some(),
    };
    match state
        .sonde
        .change_password(&user.actor, &change, InUse::Session(session))
        .await
    {
        Ok(ended) => {
            account_page(
                &state,
                &user,
                StatusCode::OK,
                Some(Flash::PasswordChanged(ended)),
            )
            .await
        }
        Err(e) => match refusal(&e) {
            Some(message) => {
                let flash = Flash::Refused {
                    form: "password",
                    message,
                };
                account_page(&state, &user, StatusCode::BAD_REQUEST, Some(flash)).await
            }
            None => Err(e.into()),
        },
    }
}
