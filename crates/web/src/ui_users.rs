//! `/users`, for admins: the organization's users with their role and status, a role picker
//! and save per user, deactivation and reactivation after a confirmation page, the invite form
//! (the link it makes is shown once, with a copy button: Sonde sends no mail) and the pending
//! invitations with a revoke button each. The invitee's own page is `invitation`.

use crate::auth::CsrfForm;
use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::{page, page_with_status, time};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use engine::credentials::{Ended, UserSummary};
use engine::users::{Invitation, NewInvitation, INVITATION_DAYS};
use engine::{Error, Role};
use maud::{html, Markup};
use serde::Deserialize;

type PageResult = Result<Response, PageError>;

const ROLES: [Role; 3] = [Role::Viewer, Role::Editor, Role::Admin];

/// What a role may do, as the invite form explains it.
fn role_help(role: Role) -> &'static str {
    match role {
        Role::Viewer => "reads the surveys shared with them and changes nothing",
        Role::Editor => "creates and changes surveys, contacts, lists and workflows",
        Role::Admin => "everything, including users and metrics",
    }
}

/// "a viewer", "an editor", "an admin".
fn a_role(role: &str) -> String {
    let article = if role.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {role}")
}

/// "no session", "1 session", "2 sessions".
fn count(n: u64, thing: &str) -> String {
    match n {
        0 => format!("no {thing}"),
        1 => format!("1 {thing}"),
        n => format!("{n} {thing}s"),
    }
}

/// What the page reports after a form.
enum Flash {
    Invited(NewInvitation),
    Revoked(Invitation),
    RoleSaved(UserSummary),
    Deactivated(UserSummary, Ended),
    Reactivated(UserSummary),
    /// A change to a user was refused (the last admin, oneself): said at the top.
    Refused(String),
    /// The invite form was refused: said in the form, with what was typed.
    InviteRefused {
        message: String,
        email: String,
        role: String,
    },
}

/// A refused form's words: the message, or each field's problem.
fn refusal(e: &Error) -> Option<String> {
    match e {
        Error::Invalid { message, problems } if problems.is_empty() => Some(message.clone()),
        Error::Invalid { problems, .. } => Some(
            problems
                .iter()
                .map(|p| match p.field.as_str() {
                    "email" => format!("The email {}.", p.message),
                    "role" => format!("The role {}.", p.message),
                    _ => format!("{}: {}", p.field, p.message),
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Error::Conflict(message) => Some(message.clone()),
        _ => None,
    }
}

fn status_of_refusal(e: &Error) -> StatusCode {
    match e {
        Error::Conflict(_) => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn flash_box(flash: &Flash) -> Markup {
    html! {
        @match flash {
            Flash::Invited(new) => {
                div.card.ok role="status" id="new-invitation" {
                    h2.long { "Invitation link for " (new.invitation.email) }
                    p { "Copy it now and pass it on: it is not shown again. It works once, until "
                        (time(new.invitation.expires_at)) ", and makes them "
                        (a_role(&new.invitation.role)) "." }
                    code.secret id="invitation-link" { (new.link) }
                    p { button.secondary type="button" data-copy="invitation-link" { "Copy link" } }
                    @if new.replaced {
                        p.muted { "The earlier link for " (new.invitation.email) " no longer works." }
                    }
                }
            }
            Flash::Revoked(i) => {
                p.ok.long role="status" { "The invitation for " (i.email) " is revoked: its link no longer works." }
            }
            Flash::RoleSaved(u) => {
                p.ok.long role="status" { (u.email) " is now " (a_role(&u.role)) ", from their next click or API call." }
            }
            Flash::Deactivated(u, ended) => {
                p.ok.long role="status" { (u.email) " is deactivated: " (count(ended.sessions, "session")) " signed out, "
                    (count(ended.api_tokens, "API token")) " revoked." }
            }
            Flash::Reactivated(u) => {
                p.ok.long role="status" { (u.email) " may sign in again." }
            }
            Flash::Refused(message) => {
                p.error role="alert" id="users-error" { (message) }
            }
            Flash::InviteRefused { .. } => {}
        }
    }
}

fn role_picker(user: &WebUser, u: &UserSummary) -> Markup {
    let id = format!("role-{}", u.id);
    html! {
        form.role-form method="post" action={ "/users/" (u.id) "/role" } {
            input type="hidden" name="csrf" value=(user.csrf);
            label.sr for=(id) { "Role of " (u.email) }
            select id=(id) name="role" {
                @for r in ROLES {
                    option value=(r.as_str()) selected[u.role == r.as_str()] { (r.as_str()) }
                }
            }
            button.secondary type="submit" aria-label={ "Save the role of " (u.email) } { "Save" }
        }
    }
}

fn user_item(user: &WebUser, u: &UserSummary) -> Markup {
    let me = u.id == user.actor.user_id;
    html! {
        li id={ "user-" (u.id) } {
            div.who {
                strong.long { (u.email) }
                @if me { " " span.badge { "you" } }
                div.meta {
                    span.badge { (u.role) } " "
                    @if u.active { span.badge.active { "active" } } @else { span.badge.expired { "deactivated" } }
                }
            }
            @if me {
                p.muted.self-note { "Another admin changes your role or access." }
            } @else {
                div.user-actions {
                    (role_picker(user, u))
                    @if u.active {
                        a.button.secondary href={ "/users/" (u.id) "/deactivate" } { "Deactivate…" }
                    } @else {
                        a.button.secondary href={ "/users/" (u.id) "/reactivate" } { "Reactivate…" }
                    }
                }
            }
        }
    }
}

fn invitation_item(user: &WebUser, i: &Invitation, now: i64) -> Markup {
    let expired = i.expires_at <= now;
    html! {
        li {
            div {
                strong.long { (i.email) } " " span.badge { (i.role) }
                @if expired { " " span.badge.expired { "expired" } }
                div.meta {
                    "Invited " (time(i.created_at))
                    @if let Some(by) = &i.invited_by { " by " (by) }
                    " · " @if expired { "expired " } @else { "works until " } (time(i.expires_at))
                }
            }
            form.inline method="post" action={ "/users/invitations/" (i.id) "/revoke" } {
                input type="hidden" name="csrf" value=(user.csrf);
                button.secondary type="submit" aria-label={ "Revoke the invitation for " (i.email) } { "Revoke" }
            }
        }
    }
}

async fn users_page(
    state: &AppState,
    user: &WebUser,
    status: StatusCode,
    flash: Option<Flash>,
) -> PageResult {
    let users = state.sonde.users(&user.actor).await?;
    let invitations = state.sonde.invitations(&user.actor).await?;
    let now = store::now_ms();
    let (typed_email, typed_role, invite_problem) = match &flash {
        Some(Flash::InviteRefused {
            message,
            email,
            role,
        }) => (email.as_str(), role.as_str(), Some(message.as_str())),
        _ => ("", Role::Editor.as_str(), None),
    };
    let body = html! {
        h1 { "Users" }
        @if let Some(f) = &flash { (flash_box(f)) }
        div.card {
            h2 { "People in your organization" }
            ul.token-list.people {
                @for u in &users { (user_item(user, u)) }
            }
        }
        div.card {
            h2 { "Invite someone" }
            p.muted { "Sonde sends no email: you get a link to pass on. It works once, for "
                (INVITATION_DAYS) " days; the person opens it, chooses a password and is signed in." }
            @if let Some(m) = invite_problem { p.error role="alert" id="invite-error" { (m) } }
            form method="post" action="/users/invitations" id="invite-form" {
                input type="hidden" name="csrf" value=(user.csrf);
                p { label for="invite-email" { "Email" }
                    input type="email" id="invite-email" name="email" value=(typed_email) autocomplete="off" required; }
                fieldset {
                    legend { "Role" }
                    @for r in ROLES {
                        label.opt for={ "invite-role-" (r.as_str()) } {
                            input type="radio" id={ "invite-role-" (r.as_str()) } name="role" value=(r.as_str()) checked[typed_role == r.as_str()];
                            span { strong { (r.as_str()) } " — " (role_help(r)) }
                        }
                    }
                }
                p { button type="submit" id="invite-submit" { "Create invitation link" } }
            }
        }
        div.card {
            h2 { "Pending invitations" }
            @if invitations.is_empty() {
                p.muted { "None." }
            } @else {
                ul.token-list.invitations { @for i in &invitations { (invitation_item(user, i, now)) } }
            }
        }
    };
    Ok(page_with_status(user, status, "Users", body))
}

pub async fn show(State(state): State<AppState>, user: WebUser) -> PageResult {
    users_page(&state, &user, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

pub async fn invite(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<InviteForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    match state
        .sonde
        .invite_user(&user.actor, &form.email, &form.role)
        .await
    {
        Ok(new) => users_page(&state, &user, StatusCode::OK, Some(Flash::Invited(new))).await,
        Err(e) => match refusal(&e) {
            Some(message) => {
                let flash = Flash::InviteRefused {
                    message,
                    email: form.email.trim().to_string(),
                    role: form.role,
                };
                users_page(&state, &user, status_of_refusal(&e), Some(flash)).await
            }
            None => Err(e.into()),
        },
    }
}

pub async fn revoke_invitation(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let revoked = state.sonde.revoke_invitation(&user.actor, &id).await?;
    users_page(&state, &user, StatusCode::OK, Some(Flash::Revoked(revoked))).await
}

/// The page after a change to a user: its report, or the refusal said at the top.
async fn after_change(
    state: &AppState,
    user: &WebUser,
    outcome: Result<Flash, Error>,
) -> PageResult {
    match outcome {
        Ok(flash) => users_page(state, user, StatusCode::OK, Some(flash)).await,
        Err(e) => match refusal(&e) {
            Some(message) => {
                users_page(
                    state,
                    user,
                    status_of_refusal(&e),
                    Some(Flash::Refused(message)),
                )
                .await
            }
            None => Err(e.into()),
        },
    }
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
}

pub async fn save_role(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<RoleForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let outcome = state
        .sonde
        .change_role(&user.actor, &id, &form.role)
        .await
        .map(Flash::RoleSaved);
    after_change(&state, &user, outcome).await
}

/// Deactivating or reactivating: the two confirmations differ only in their words.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Deactivate,
    Reactivate,
}

async fn confirm_page(state: &AppState, user: &WebUser, id: &str, access: Access) -> PageResult {
    let target = state
        .sonde
        .users(&user.actor)
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or(Error::NotFound("user"))?;
    if target.id == user.actor.user_id {
        return Err(Error::invalid(
            "you cannot change your own access; ask another admin of your organization",
        )
        .into());
    }
    let (verb, title) = match access {
        Access::Deactivate => ("deactivate", "Deactivate a user"),
        Access::Reactivate => ("reactivate", "Reactivate a user"),
    };
    Ok(page(
        user,
        title,
        html! {
            h1.long { @if access == Access::Deactivate { "Deactivate " } @else { "Reactivate " } (target.email) "?" }
            div.card id="access-confirm" {
                @if access == Access::Deactivate {
                    p { "They are signed out everywhere at once, their API tokens are revoked, and they cannot sign in until an admin reactivates them." }
                    p.muted { "Reactivating later lets them sign in with their password again; revoked API tokens stay revoked." }
                } @else {
                    p { "They can sign in again with their password, as " (a_role(&target.role)) "." }
                    p.muted { "API tokens revoked when they were deactivated stay revoked; they can make new ones." }
                }
                div.actions {
                    form.inline method="post" action={ "/users/" (target.id) "/" (verb) } {
                        input type="hidden" name="csrf" value=(user.csrf);
                        input type="hidden" name="confirm" value="yes";
                        button type="submit" id="access-submit" {
                            @if access == Access::Deactivate { "Deactivate" } @else { "Reactivate" }
                        }
                    }
                    a.button.secondary href="/users" { "Cancel" }
                }
            }
        },
    ))
}

pub async fn confirm_deactivate(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    confirm_page(&state, &user, &id, Access::Deactivate).await
}

pub async fn confirm_reactivate(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    confirm_page(&state, &user, &id, Access::Reactivate).await
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

/// A deactivation or reactivation posted from its confirmation page; posted without the
/// confirmation, the page is shown instead.
async fn change_access(
    state: &AppState,
    user: &WebUser,
    id: &str,
    form: &ConfirmForm,
    access: Access,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    if form.confirm != "yes" {
        return confirm_page(state, user, id, access).await;
    }
    let outcome = match access {
        Access::Deactivate => state
            .sonde
            .deactivate_user(&user.actor, id)
            .await
            .map(|(u, ended)| Flash::Deactivated(u, ended)),
        Access::Reactivate => state
            .sonde
            .reactivate_user(&user.actor, id)
            .await
            .map(Flash::Reactivated),
    };
    after_change(state, user, outcome).await
}

pub async fn deactivate(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> PageResult {
    change_access(&state, &user, &id, &form, Access::Deactivate).await
}

pub async fn reactivate(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> PageResult {
    change_access(&state, &user, &id, &form, Access::Reactivate).await
}
