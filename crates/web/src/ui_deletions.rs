//! The admin UI's deletions. Each is two steps: `GET …` asks ("Delete X? This …", saying what
//! will happen, refused up front to whoever may not do it) and `POST …` with the CSRF token
//! does it, then says what was done. Archiving and purging surveys, deleting a response, a
//! contact or a mailing list, revoking an API token; restoring an archived survey is one
//! button, since it undoes nothing. The engine checks the role again and records each act in
//! the audit log.

use crate::auth::CsrfForm;
use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::{page, time};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use engine::deletions::WorkflowUsingList;
use engine::surveys::Survey;
use engine::Role;
use maud::{html, Markup};

type PageResult = Result<Response, PageError>;

/// "1 response", "3 responses".
fn count(n: impl Into<i64>, one: &str, many: &str) -> String {
    match n.into() {
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}

/// The question a confirmation page asks.
struct Confirm<'a> {
    /// Also the page's heading: "Delete the contact ada@example.com?"
    question: String,
    /// What will happen, one sentence each.
    consequences: Vec<Markup>,
    /// Where the form posts.
    action: String,
    button: &'a str,
    /// Whether the act destroys something (a red button); archiving can be undone.
    destroys: bool,
    /// Where "keep it" leads.
    back: String,
    back_label: &'a str,
}

fn confirm_page(user: &WebUser, c: Confirm) -> Response {
    page(
        user,
        &c.question,
        html! {
            h1 { (c.question) }
            div.card.confirm id="confirm" {
                ul.consequences { @for line in &c.consequences { li { (line) } } }
                div.actions {
                    form.inline method="post" action=(c.action) {
                        input type="hidden" name="csrf" value=(user.csrf);
                        button.danger[c.destroys] type="submit" id="confirm-submit" { (c.button) }
                    }
                    a.button.secondary href=(c.back) id="confirm-cancel" { (c.back_label) }
                }
            }
        },
    )
}

/// The page after an act: what was done, and the way back.
fn done_page(user: &WebUser, title: &str, said: Markup, back: &str, back_label: &str) -> Response {
    page(
        user,
        title,
        html! {
            h1 { (title) }
            div.ok role="status" id="done" { (said) }
            p { a href=(back) { "← " (back_label) } }
        },
    )
}

fn workflow_links(workflows: &[WorkflowUsingList]) -> Markup {
    html! { ul { @for w in workflows { li { a href={ "/workflows/" (w.id) } { (w.name) } } } } }
}

/// May the signed-in person purge this survey (its owner while an editor, or an admin)?
fn may_purge(user: &WebUser, s: &Survey) -> bool {
    user.actor.role == Role::Admin
        || (user.actor.role >= Role::Editor && s.owner_id == user.actor.user_id)
}

/// Atop an archived survey's page: what archiving means, and the ways out.
pub(crate) fn archived_notice(user: &WebUser, s: &Survey) -> Markup {
    let Some(at) = s.archived_at else {
        return html! {};
    };
    html! {
        div.notice role="status" id="archived-notice" {
            p { strong { "Archived " (time(at)) "." } " It is not listed with the surveys, its links tell respondents it is closed, and its workflows do not fire. Its responses are kept." }
            @if user.actor.role >= Role::Editor {
                div.actions {
                    form.inline method="post" action={ "/surveys/" (s.id) "/restore" } {
                        input type="hidden" name="csrf" value=(user.csrf);
                        button type="submit" id="restore-survey" { "Restore survey" }
                    }
                    @if may_purge(user, s) {
                        a.button.danger href={ "/surveys/" (s.id) "/purge" } id="purge-survey" { "Purge…" }
                    }
                }
            }
        }
    }
}

/// At the foot of an open survey's page, for editors: the way to archive it.
pub(crate) fn archive_card(user: &WebUser, s: &Survey) -> Markup {
    if s.archived_at.is_some() || user.actor.role < Role::Editor {
        return html! {};
    }
    html! {
        div.card {
            h2 { "Archive" }
            p.muted { "Closes the survey to respondents and stops its workflows; its responses are kept, and it can be restored." }
            p { a.button.secondary href={ "/surveys/" (s.id) "/archive" } id="archive-survey" { "Archive survey…" } }
        }
    }
}

/// `GET /surveys?archived=1`: the archived surveys the person sees.
pub(crate) async fn archived_surveys(state: &AppState, user: &WebUser) -> PageResult {
    let surveys = state.sonde.archived_surveys(&user.actor).await?;
    Ok(page(
        user,
        "Archived surveys",
        html! {
            p { a href="/surveys" { "← Surveys" } }
            h1 { "Archived surveys" }
            p.muted { "Closed to respondents, firing no workflow, responses kept. Open one to restore or purge it." }
            div.card.table-wrap {
                @if surveys.is_empty() {
                    p.muted { "No archived survey." }
                } @else {
                    table {
                        thead { tr { th { "Name" } th { "Archived" } } }
                        tbody { @for s in &surveys { tr {
                            td { a href={ "/surveys/" (s.id) } { (s.name) } }
                            td { @if let Some(at) = s.archived_at { (time(at)) } }
                        } } }
                    }
                }
            }
        },
    ))
}

/// `GET /surveys/{id}/archive`
pub async fn confirm_archive(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    let p = state.sonde.archive_preview(&user.actor, &id).await?;
    if p.survey.archived_at.is_some() {
        return Ok(Redirect::to(&format!("/surveys/{}", p.survey.id)).into_response());
    }
    let s = &p.survey;
    Ok(confirm_page(
        &user,
        Confirm {
            question: format!("Archive the survey \u{201c}{}\u{201d}?", s.name),
            consequences: vec![
                html! { "It leaves the surveys list (it is listed under " a href="/surveys?archived=1" { "archived surveys" } ")." },
                html! { "Its links show respondents that the survey is closed, and record nothing." },
                html! { @if p.enabled_workflows == 0 { "It has no enabled workflow." } @else {
                "Its " (count(p.enabled_workflows as i64, "enabled workflow stops", "enabled workflows stop")) " firing." } },
                html! { "Its " (count(p.responses, "response is", "responses are")) " kept. You can restore it, or purge it for good." },
            ],
            action: format!("/surveys/{}/archive", s.id),
            button: "Archive survey",
            destroys: false,
            back: format!("/surveys/{}", s.id),
            back_label: "Keep it open",
        },
    ))
}

/// `POST /surveys/{id}/archive`
pub async fn archive(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let s = state.sonde.archive_survey(&user.actor, &id).await?;
    Ok(Redirect::to(&format!("/surveys/{}", s.id)).into_response())
}

/// `POST /surveys/{id}/restore`: one step, since it undoes nothing.
pub async fn restore(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let s = state.sonde.restore_survey(&user.actor, &id).await?;
    Ok(Redirect::to(&format!("/surveys/{}", s.id)).into_response())
}

/// `GET /surveys/{id}/purge`
pub async fn confirm_purge(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    let p = state.sonde.purge_preview(&user.actor, &id).await?;
    let s = &p.survey;
    Ok(confirm_page(
        &user,
        Confirm {
            question: format!("Purge the survey \u{201c}{}\u{201d}?", s.name),
            consequences: vec![
                html! { strong { "This cannot be undone." } " The survey is deleted for good." },
                html! { @if p.responses == 0 { "It has no responses." } @else {
                "Its " strong { (count(p.responses, "response", "responses")) } @if p.responses == 1 { " is" } @else { " are" }
                " deleted with it; export them first if you need them ("
                a href={ "/surveys/" (s.id) "/export.csv" } { "CSV" } ")." } },
                html! { @if p.workflows == 0 { "It has no workflows." } @else {
                "Its " (count(p.workflows as i64, "workflow and its runs are", "workflows and their runs are")) " deleted; deliveries still waiting are cancelled." } },
            ],
            action: format!("/surveys/{}/purge", s.id),
            button: "Purge survey and responses",
            destroys: true,
            back: format!("/surveys/{}", s.id),
            back_label: "Keep it archived",
        },
    ))
}

/// `POST /surveys/{id}/purge`
pub async fn purge(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let done = state.sonde.purge_survey(&user.actor, &id).await?;
    Ok(done_page(
        &user,
        "Survey purged",
        html! { p { "\u{201c}" (done.name) "\u{201d} was deleted with "
        (count(done.responses_deleted as i64, "response", "responses")) " and "
        (count(done.workflows_deleted as i64, "workflow", "workflows")) "." } },
        "/surveys?archived=1",
        "Archived surveys",
    ))
}

/// `GET /surveys/{id}/responses/{response_id}/delete`
pub async fn confirm_delete_response(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, response_id)): Path<(String, String)>,
) -> PageResult {
    let s = state.sonde.survey(&user.actor, &id).await?;
    user.actor.require(Role::Editor)?;
    let r = state
        .sonde
        .response(&user.actor, &s.id, &response_id)
        .await?;
    let runs = state.sonde.runs_fired_by(&user.actor, &s.id, &r.id).await?;
    let waiting = runs
        .iter()
        .filter(|f| matches!(f.run.status.as_str(), "queued" | "retrying"))
        .count();
    let href = format!("/surveys/{}/responses/{}", s.id, r.id);
    Ok(confirm_page(
        &user,
        Confirm {
            question: format!("Delete the response {}?", r.id),
            consequences: vec![
                html! { strong { "This cannot be undone." } " Its answers and embedded data are deleted from \u{201c}" (s.name) "\u{201d} and its exports." },
                html! { "What its workflow runs already wrote to Salesforce stays there"
                @if waiting > 0 { "; " (count(waiting as i64, "run still waiting is", "runs still waiting are")) " stopped" } "." },
                html! { @if r.contact_id.is_some() { "The contact's personal link can be used to answer again." } @else { "It came through the anonymous link." } },
            ],
            action: format!("{href}/delete"),
            button: "Delete response",
            destroys: true,
            back: href,
            back_label: "Keep it",
        },
    ))
}

/// `POST /surveys/{id}/responses/{response_id}/delete`
pub async fn delete_response(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, response_id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    state
        .sonde
        .delete_response(&user.actor, &id, &response_id)
        .await?;
    Ok(done_page(
        &user,
        "Response deleted",
        html! { p { "The response " code { (response_id) } " was deleted." } },
        &format!("/surveys/{id}/responses"),
        "Responses",
    ))
}

/// `GET /contacts/{id}/delete`
pub async fn confirm_delete_contact(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    let p = state.sonde.contact_preview(&user.actor, &id).await?;
    let c = &p.contact;
    Ok(confirm_page(
        &user,
        Confirm {
            question: format!("Delete the contact {}?", p.label),
            consequences: vec![
                html! { strong { "This cannot be undone." } " Their name, email, phone and embedded data leave the directory." },
                html! { @if p.lists.is_empty() { "They are on no mailing list." } @else {
                "They leave " (count(p.lists.len() as i64, "mailing list", "mailing lists")) ": " (p.lists.join(", ")) "." } },
                html! { @if p.personal_links == 0 { "They have no personal survey link." } @else {
                "Their " (count(p.personal_links, "personal survey link stops", "personal survey links stop")) " working." } },
                html! { @if p.responses == 0 { "They gave no response." } @else {
                "Their " (count(p.responses, "response stays", "responses stay")) " with the survey; delete responses one by one if need be." } },
                html! { @if c.unsubscribed { "They are unsubscribed, and stay so: saving or importing the same email or external reference again gives an unsubscribed contact." }
                @else { "They are subscribed: nothing is kept about them." } },
            ],
            action: format!("/contacts/{}/delete", c.id),
            button: "Delete contact",
            destroys: true,
            back: "/contacts".into(),
            back_label: "Keep them",
        },
    ))
}

/// `POST /contacts/{id}/delete`
pub async fn delete_contact(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let done = state.sonde.delete_contact(&user.actor, &id).await?;
    Ok(done_page(
        &user,
        "Contact deleted",
        html! {
            p { (done.label) " was deleted from the directory." }
            @if done.opt_out_kept { p { "Their opt-out is kept: they stay unsubscribed if saved or imported again." } }
        },
        "/contacts",
        "Directory",
    ))
}

/// `GET /lists/{id}/delete`
pub async fn confirm_delete_list(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    user.actor.require(Role::Editor)?;
    let list = state.sonde.mailing_list(&user.actor, &id).await?;
    let workflows = state
        .sonde
        .workflows_adding_to_list(&user.actor, &list.id)
        .await?;
    Ok(confirm_page(
        &user,
        Confirm {
            question: format!("Delete the mailing list \u{201c}{}\u{201d}?", list.name),
            consequences: vec![
                html! { @if list.members == 0 { "It has no contacts." } @else {
                "Its " (count(list.members, "contact stays", "contacts stay")) " in the directory; only the list goes." } },
                html! { @if workflows.is_empty() { "No enabled workflow adds to it." } @else {
                span.error { (count(workflows.len() as i64, "enabled workflow adds", "enabled workflows add")) " respondents to it and will fail until changed:" }
                (workflow_links(&workflows)) } },
            ],
            action: format!("/lists/{}/delete", list.id),
            button: "Delete mailing list",
            destroys: true,
            back: format!("/lists/{}", list.id),
            back_label: "Keep it",
        },
    ))
}

/// `POST /lists/{id}/delete`
pub async fn delete_list(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let done = state.sonde.delete_mailing_list(&user.actor, &id).await?;
    Ok(done_page(
        &user,
        "Mailing list deleted",
        html! {
            p { "\u{201c}" (done.name) "\u{201d} was deleted"
                @if done.memberships_removed > 0 { "; its " (count(done.memberships_removed as i64, "contact stays", "contacts stay")) " in the directory" } "." }
            @if !done.workflows_affected.is_empty() {
                p.error { "These workflows add to it and now fail until changed:" }
                (workflow_links(&done.workflows_affected))
            }
        },
        "/lists",
        "Mailing lists",
    ))
}

/// `GET /account/tokens/{id}/revoke` (the revoke itself is `account::revoke_token`).
pub async fn confirm_revoke_token(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    let token = state
        .sonde
        .api_tokens(&user.actor)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(engine::Error::NotFound("API token"))?;
    Ok(confirm_page(
        &user,
        Confirm {
            question: format!("Revoke the API token \u{201c}{}\u{201d}?", token.name),
            consequences: vec![
                html! { "Programs using it are refused from now on (401); this cannot be undone." },
                html! { "Give them a new token from your account page if they still need one." },
            ],
            action: format!("/account/tokens/{}/revoke", token.id),
            button: "Revoke token",
            destroys: true,
            back: "/account".into(),
            back_label: "Keep it",
        },
    ))
}
