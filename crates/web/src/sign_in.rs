//! Signing in and out of the admin UI. The sign-in form is protected against login CSRF before
//! any session exists: `GET /login` sets a random cookie and puts the same value in the form
//! (double submit), and `POST /login` refuses a form whose value does not match its cookie.
//! Throttled attempts answer 429 with `Retry-After` and a page that says how long to wait.

use crate::auth::{cookie, cookie_header, session_cookie, ClientAddress, WebUser};
use crate::error::PageError;
use crate::pages::layout;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use engine::Error;
use maud::{html, Markup};
use serde::Deserialize;
use subtle::ConstantTimeEq;

/// The pre-session cookie the sign-in form's token must match.
pub const LOGIN_CSRF_COOKIE: &str = "sonde_login_csrf";
const LOGIN_CSRF_LEN: usize = 32;
/// A sign-in form left open this long still works.
const LOGIN_CSRF_MAX_AGE_SECS: i64 = 24 * 3600;

type PageResult = Result<Response, PageError>;

/// The token of the sign-in cookie if it has the shape Sonde gives it (so a value planted by
/// someone else's page is not adopted), else a new one.
fn login_token(headers: &HeaderMap) -> String {
    match cookie(headers, LOGIN_CSRF_COOKIE) {
        Some(v) if v.len() == LOGIN_CSRF_LEN && v.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            v.to_string()
        }
        _ => store::ids::random_token(LOGIN_CSRF_LEN),
    }
}

/// The sign-in page with `token` in its form, setting the cookie too; `problem` is shown above.
fn login_response(
    state: &AppState,
    status: StatusCode,
    token: &str,
    problem: Option<&str>,
) -> Response {
    let set = cookie_header(
        state,
        LOGIN_CSRF_COOKIE,
        token,
        "/login",
        LOGIN_CSRF_MAX_AGE_SECS,
    );
    (
        status,
        [(header::SET_COOKIE, set)],
        Html(login_page(token, problem).into_string()),
    )
        .into_response()
}

fn login_page(token: &str, problem: Option<&str>) -> Markup {
    layout(
        "Sign in",
        None,
        html! {
            div.card.narrow {
                h1 { "Sign in to Sonde" }
                @if let Some(e) = problem { p.error role="alert" { (e) } }
                form method="post" action="/login" {
                    input type="hidden" name="csrf" value=(token);
                    p { label for="email" { "Email" } input type="email" id="email" name="email" autocomplete="username" required; }
                    p { label for="password" { "Password" } input type="password" id="password" name="password" autocomplete="current-password" required; }
                    button type="submit" { "Sign in" }
                }
            }
        },
    )
}

pub async fn login_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = login_token(&headers);
    login_response(&state, StatusCode::OK, &token, None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

pub async fn login(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> PageResult {
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    let token = login_token(&headers);
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(form.csrf.as_bytes())) {
        return Ok(login_response(
            &state,
            StatusCode::FORBIDDEN,
            &token,
            Some("This sign-in form expired or did not come from Sonde. Please sign in again."),
        ));
    }
    match state
        .sonde
        .sign_in(&form.email, &form.password, client)
        .await
    {
        Ok((_, session)) => {
            let session =
                session_cookie(&state, &session.cookie, engine::auth::SESSION_HOURS * 3600);
            let spent = cookie_header(&state, LOGIN_CSRF_COOKIE, "", "/login", 0);
            let mut response = Redirect::to("/surveys").into_response();
            let headers = response.headers_mut();
            for value in [session, spent] {
                if let Ok(v) = header::HeaderValue::from_str(&value) {
                    headers.append(header::SET_COOKIE, v);
                }
            }
            Ok(response)
        }
        Err(Error::Unauthenticated) => Ok(login_response(
            &state,
            StatusCode::UNAUTHORIZED,
            &token,
            Some("That email and password do not match an account."),
        )),
        Err(Error::Forbidden(message)) => Ok(login_response(
            &state,
            StatusCode::FORBIDDEN,
            &token,
            Some(&format!("You cannot sign in: {message}.")),
        )),
        Err(Error::TooManyAttempts { retry_after }) => {
            let secs = engine::retry_after_secs(&retry_after);
            let wait = if secs == 1 {
                "1 second".to_string()
            } else if secs < 120 {
                format!("{secs} seconds")
            } else {
                format!("{} minutes", secs.div_ceil(60))
            };
            let mut response = login_response(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                &token,
                Some(&format!(
                    "Too many sign-in attempts for this account or from your network. \
                     Please wait {wait}, then try again."
                )),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    if let Some(cookie) = cookie(&headers, crate::auth::SESSION_COOKIE) {
        state.sonde.sign_out(cookie).await?;
    }
    let cookie = session_cookie(&state, "", 0);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}
