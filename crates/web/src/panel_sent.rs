//! The panel's Sent and Scheduled tabs: the distributions launched from this record or
//! campaign with what became of its records (selected, excluded, missing email or phone, in
//! the list) and their messages and responses; a scheduled one's send time can be changed, or
//! it can be deleted, until it starts.

use crate::panel::{context, failed, panel_page, PassQuery};
use crate::panel_send::counts_summary;
use crate::ui::time;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use engine::panel::{PanelPass, PanelSent};
use engine::{Actor, Error, Role};
use maud::{html, Markup};
use serde::Deserialize;

fn listed(s: &PanelSent, token: &str, scheduled: bool) -> Markup {
    let d = &s.distribution;
    html! {
        article.card.panel-send id={ "send-" (d.id) } {
            h2 { (s.survey_name) }
            p.muted { (d.channel.as_str()) " · launched from " (s.launched_from) " · " (time(s.created_at)) " · "
                @if scheduled { "goes " (d.send_at_local) " (" (d.time_zone) ")" } @else { (d.status) } }
            (counts_summary(s))
            @if scheduled {
                form.row method="post" action={ "/panel/scheduled/" (d.id) } {
                    input type="hidden" name="t" value=(token);
                    label { "Send at" input type="datetime-local" name="send_at" value=(d.send_at_local.get(..16).unwrap_or("")); }
                    input type="hidden" name="time_zone" value=(d.time_zone);
                    button type="submit" { "Change" }
                }
                form method="post" action={ "/panel/scheduled/" (d.id) "/delete" } {
                    input type="hidden" name="t" value=(token);
                    button.danger type="submit" { "Delete" }
                }
            }
        }
    }
}

async fn tab(
    state: &AppState,
    actor: &Actor,
    pass: &PanelPass,
    token: &str,
    scheduled: bool,
    note: Option<Markup>,
) -> Response {
    let sends = match state.sonde.panel_sends(actor, pass).await {
        Ok(s) => s,
        Err(e) => return failed(pass, e),
    };
    let shown = if scheduled {
        &sends.scheduled
    } else {
        &sends.sent
    };
    let body = html! {
        h1 { @if scheduled { "Scheduled" } @else { "Sent" } }
        @if let Some(n) = note { (n) }
        @if shown.is_empty() {
            p.muted { @if scheduled { "Nothing is scheduled from here." } @else { "No survey has been sent from here yet." } }
        }
        @for s in shown { (listed(s, token, scheduled)) }
    };
    let active = if scheduled {
        "/panel/scheduled"
    } else {
        "/panel/sent"
    };
    panel_page(pass, token, actor.role == Role::Admin, active, body)
}

pub async fn sent(State(state): State<AppState>, Query(q): Query<PassQuery>) -> Response {
    match context(&state, &q.t).await {
        Ok((actor, pass)) => tab(&state, &actor, &pass, &q.t, false, None).await,
        Err(refused) => refused,
    }
}

pub async fn scheduled(State(state): State<AppState>, Query(q): Query<PassQuery>) -> Response {
    match context(&state, &q.t).await {
        Ok((actor, pass)) => tab(&state, &actor, &pass, &q.t, true, None).await,
        Err(refused) => refused,
    }
}

#[derive(Deserialize)]
pub struct Reschedule {
    #[serde(default)]
    t: String,
    #[serde(default)]
    send_at: String,
    time_zone: Option<String>,
}

/// What an edit or delete did, said on the tab; None when it failed in a way the tab cannot
/// say (the caller shows the panel's error page).
fn said(result: Result<String, Error>) -> Result<Markup, Error> {
    match result {
        Ok(words) => Ok(html! { p.notice role="status" { (words) } }),
        Err(Error::Invalid { problems, message }) => {
            let words = if problems.is_empty() {
                message
            } else {
                problems
                    .iter()
                    .map(|p| format!("{}: {}", p.field, p.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            Ok(html! { p.error role="alert" { (words) } })
        }
        Err(e @ (Error::Conflict(_) | Error::NotFound(_) | Error::Forbidden(_))) => {
            Ok(html! { p.error role="alert" { (e.to_string()) } })
        }
        Err(e) => Err(e),
    }
}

pub async fn reschedule(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(f): Form<Reschedule>,
) -> Response {
    let (actor, pass) = match context(&state, &f.t).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let done = state
        .sonde
        .reschedule_panel_send(&actor, &pass, &id, f.send_at, f.time_zone)
        .await
        .map(|d| format!("Now goes {} ({}).", d.send_at_local, d.time_zone));
    match said(done) {
        Ok(note) => tab(&state, &actor, &pass, &f.t, true, Some(note)).await,
        Err(e) => failed(&pass, e),
    }
}

#[derive(Deserialize)]
pub struct PassForm {
    #[serde(default)]
    t: String,
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(f): Form<PassForm>,
) -> Response {
    let (actor, pass) = match context(&state, &f.t).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let done = state
        .sonde
        .delete_panel_send(&actor, &pass, &id)
        .await
        .map(|_| "Deleted: it will not be sent.".to_string());
    match said(done) {
        Ok(note) => tab(&state, &actor, &pass, &f.t, true, Some(note)).await,
        Err(e) => failed(&pass, e),
    }
}
