//! Signing in and out of the admin UI. The sign-in form is protected against login CSRF before
//! any session exists: `GET /login` sets a random cookie and puts the same value in the form
//! (double submit), and `POST /login` refuses a form whose value does not match its cookie.
//! Throttled attempts answer 429 with `Retry-After` and a page that says how long to wait. A
//! refused attempt shows the form again with the email as typed, never the password.

use crate::auth::CsrfForm;
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
const PRE_SESSION_TOKEN_LEN: usize = 32;
/// A form left open this long still works.
const PRE_SESSION_MAX_AGE_SECS: i64 = 24 * 3600;

type PageResult = Result<Response, PageError>;

/// A form posted before anyone is signed in (signing in, accepting an invitation), protected
/// by double submit: its page sets a random cookie, scoped to the form's path, and puts the
/// same value in the form; the post must carry both, equal.
pub(crate) struct PreSessionForm {
    pub cookie: &'static str,
    pub path: &'static str,
}

pub(crate) const LOGIN_FORM: PreSessionForm = PreSessionForm {
    cookie: LOGIN_CSRF_COOKIE,
    path: "/login",
};

impl PreSessionForm {
    /// The token of the form's cookie if it has the shape Sonde gives it (so a value planted
    /// by someone else's page is not adopted), else a new one.
    pub(crate) fn token(&self, headers: &HeaderMap) -> String {
        match cookie(headers, self.cookie) {
            Some(v)
                if v.len() == PRE_SESSION_TOKEN_LEN
                    && v.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                v.to_string()
            }
            _ => store::ids::random_token(PRE_SESSION_TOKEN_LEN),
        }
    }

    /// `Set-Cookie` carrying `token` for the form's page.
    pub(crate) fn set_cookie(&self, state: &AppState, token: &str) -> String {
        cookie_header(
            state,
            self.cookie,
            token,
            self.path,
            PRE_SESSION_MAX_AGE_SECS,
        )
    }

    /// True when the posted `provided` token equals the form's cookie.
    pub(crate) fn matches(&self, headers: &HeaderMap, provided: &str) -> bool {
        let expected = cookie(headers, self.cookie).unwrap_or_default();
        !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(provided.as_bytes()))
    }

    /// The answer once the form signed someone in: the session cookie, this form's cookie
    /// spent, and on to the surveys.
    pub(crate) fn signed_in(
        &self,
        state: &AppState,
        session: &engine::auth::WebSession,
    ) -> Response {
        let session = session_cookie(state, &session.cookie, engine::auth::SESSION_HOURS * 3600);
        let spent = cookie_header(state, self.cookie, "", self.path, 0);
        let mut response = Redirect::to("/surveys").into_response();
        let headers = response.headers_mut();
        for value in [session, spent] {
            if let Ok(v) = header::HeaderValue::from_str(&value) {
                headers.append(header::SET_COOKIE, v);
            }
        }
        response
    }
}

/// The sign-in page with `token` in its form, setting the cookie too; `problem` is shown above
/// and `email` (what was typed last time) fills its field again.
fn login_response(
    state: &AppState,
    status: StatusCode,
    token: &str,
    problem: Option<&str>,
    email: &str,
) -> Response {
    (
        status,
        [(header::SET_COOKIE, LOGIN_FORM.set_cookie(state, token))],
        Html(login_page(token, problem, email).into_string()),
    )
        .into_response()
}

fn login_page(token: &str, problem: Option<&str>, email: &str) -> Markup {
    // With the email kept, the password (never kept) is what is left to type.
    let again = !email.is_empty();
    layout(
        "Sign in",
        None,
        html! {
            div.card.narrow {
                h1 { "Sign in to Sonde" }
                @if let Some(e) = problem { p.error role="alert" id="sign-in-error" { (e) } }
                form method="post" action="/login" {
                    input type="hidden" name="csrf" value=(token);
                    p { label for="email" { "Email" } input type="email" id="email" name="email" value=(email) autocomplete="username" required autofocus[!again]; }
                    p { label for="password" { "Password" } input type="password" id="password" name="password" autocomplete="current-password" required autofocus[again]; }
                    button type="submit" { "Sign in" }
                }
            }
        },
    )
}

/// How long a wait is, in words.
fn wait_words(secs: u64) -> String {
    if secs == 1 {
        "1 second".to_string()
    } else if secs < 120 {
        format!("{secs} seconds")
    } else {
        format!("{} minutes", secs.div_ceil(60))
    }
}

pub async fn login_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = LOGIN_FORM.token(&headers);
    login_response(&state, StatusCode::OK, &token, None, "")
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
    let token = LOGIN_FORM.token(&headers);
    let email = form.email.trim();
    let again =
        |status, problem: &str| login_response(&state, status, &token, Some(problem), email);
    if !LOGIN_FORM.matches(&headers, &form.csrf) {
        return Ok(again(
            StatusCode::FORBIDDEN,
            "This sign-in form expired or did not come from Sonde. Please sign in again.",
        ));
    }
    match state.sonde.sign_in(email, &form.password, client).await {
        Ok((_, session)) => Ok(LOGIN_FORM.signed_in(&state, &session)),
        Err(Error::Unauthenticated) => Ok(again(
            StatusCode::UNAUTHORIZED,
            "That email and password do not match an account.",
        )),
        Err(Error::Forbidden(message)) => Ok(again(
            StatusCode::FORBIDDEN,
            &format!("You cannot sign in: {message}."),
        )),
        Err(Error::TooManyAttempts { retry_after }) => {
            let secs = engine::retry_after_secs(&retry_after);
            let mut response = again(
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "Too many sign-in attempts for this account or from your network. \
                     Please wait {}, then try again.",
                    wait_words(secs)
                ),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
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
