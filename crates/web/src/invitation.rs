//! `/invitations/{token}`: the page an invited person opens. No one is signed in yet, so the
//! form is protected like the sign-in form (`sign_in::PreSessionForm`: a cookie scoped to
//! `/invitations` matched by the form's token). Choosing a password creates the user and
//! signs them in; a link used, revoked, replaced or expired says so and whom to ask.

use crate::error::PageError;
use crate::pages::layout;
use crate::sign_in::PreSessionForm;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use engine::users::OpenInvitation;
use engine::Error;
use maud::{html, Markup};
use serde::Deserialize;

/// The pre-session cookie the accept form's token must match.
pub const INVITATION_CSRF_COOKIE: &str = "sonde_invite_csrf";

const INVITATION_FORM: PreSessionForm = PreSessionForm {
    cookie: INVITATION_CSRF_COOKIE,
    path: "/invitations",
};

type PageResult = Result<Response, PageError>;

fn accept_page(token: &str, csrf: &str, open: &OpenInvitation, problem: Option<&str>) -> Markup {
    let i = &open.invitation;
    layout(
        "Accept an invitation",
        None,
        html! {
            div.card.narrow {
                h1.long { "Join " (open.org_name) " on Sonde" }
                p {
                    @match &i.invited_by { Some(by) => { (by) " invited you" }, None => { "You are invited" } }
                    " as " strong { (i.role) } ". Choose a password to finish; you are signed in straight away."
                }
                @if let Some(e) = problem { p.error role="alert" id="accept-error" { (e) } }
                form method="post" action={ "/invitations/" (token) } {
                    input type="hidden" name="csrf" value=(csrf);
                    p { label for="email" { "Email" }
                        input type="email" id="email" name="email" value=(i.email) autocomplete="username" readonly; }
                    p { label for="password" { "Password (at least 8 characters)" }
                        input type="password" id="password" name="password" autocomplete="new-password" minlength="8" required autofocus; }
                    p { label for="password-again" { "The same password again" }
                        input type="password" id="password-again" name="password_again" autocomplete="new-password" minlength="8" required; }
                    button type="submit" id="accept-submit" { "Set password and sign in" }
                }
            }
        },
    )
}

/// The answer for a link that does not work (any more): why, and what to do.
fn dead_link(e: Error) -> PageResult {
    let (status, why) = match &e {
        Error::NotFound(_) => (
            StatusCode::NOT_FOUND,
            "This invitation link does not work: it was used already, revoked, or replaced by a \
             newer link. If you already set your password, sign in; otherwise ask the admin who \
             invited you for a new link."
                .to_string(),
        ),
        // Expired, or the email got an account meanwhile: the message says which.
        Error::Conflict(message) => (StatusCode::CONFLICT, format!("Sorry: {message}.")),
        _ => return Err(e.into()),
    };
    let body = layout(
        "Invitation",
        None,
        html! {
            div.card.narrow role="alert" id="invitation-dead" {
                h1 { "This invitation cannot be used" }
                p { (why) }
                p { a href="/login" { "Sign in" } }
            }
        },
    );
    Ok((status, Html(body.into_string())).into_response())
}

/// The form, setting its cookie.
fn form_response(
    state: &AppState,
    status: StatusCode,
    token: &str,
    csrf: &str,
    open: &OpenInvitation,
    problem: Option<&str>,
) -> Response {
    (
        status,
        [(header::SET_COOKIE, INVITATION_FORM.set_cookie(state, csrf))],
        Html(accept_page(token, csrf, open, problem).into_string()),
    )
        .into_response()
}

pub async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> PageResult {
    let open = match state.sonde.invitation_for(&token).await {
        Ok(open) => open,
        Err(e) => return dead_link(e),
    };
    let csrf = INVITATION_FORM.token(&headers);
    Ok(form_response(
        &state,
        StatusCode::OK,
        &token,
        &csrf,
        &open,
        None,
    ))
}

#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

pub async fn accept(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(form): Form<AcceptForm>,
) -> PageResult {
    let open = match state.sonde.invitation_for(&token).await {
        Ok(open) => open,
        Err(e) => return dead_link(e),
    };
    let csrf = INVITATION_FORM.token(&headers);
    let again = |status, problem: &str| {
        Ok(form_response(
            &state,
            status,
            &token,
            &csrf,
            &open,
            Some(problem),
        ))
    };
    if !INVITATION_FORM.matches(&headers, &form.csrf) {
        return again(
            StatusCode::FORBIDDEN,
            "This form expired or did not come from Sonde. Please choose your password again.",
        );
    }
    if form.password != form.password_again {
        return again(
            StatusCode::BAD_REQUEST,
            "The two passwords differ. Please type the same password twice.",
        );
    }
    match state.sonde.accept_invitation(&token, &form.password).await {
        Ok((_, session)) => Ok(INVITATION_FORM.signed_in(&state, &session)),
        Err(Error::Invalid { problems, message }) => {
            let text = match problems.first() {
                Some(p) if p.field == "password" => format!("The password {}.", p.message),
                _ => message,
            };
            again(StatusCode::BAD_REQUEST, &text)
        }
        Err(e @ (Error::NotFound(_) | Error::Conflict(_))) => dead_link(e),
        Err(e) => Err(e.into()),
    }
}
