//! The panel's Dashboard tab: the record widget — each survey with responses about this record
//! (an Account's including its contacts') summed up over those responses only: their count,
//! NPS with promoters / passives / detractors and its trend.

use crate::panel::{context, failed, panel_page, PassQuery};
use crate::ui_dashboards::widget;
use crate::AppState;
use axum::extract::{Query, State};
use axum::response::Response;
use engine::Role;
use maud::html;

pub async fn show(State(state): State<AppState>, Query(q): Query<PassQuery>) -> Response {
    let (actor, pass) = match context(&state, &q.t).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let found = match state.sonde.record_dashboards(&actor, &pass).await {
        Ok(d) => d,
        Err(e) => return failed(&pass, e),
    };
    let what = pass.record_type.as_deref().unwrap_or("record");
    let body = html! {
        h1 { "Dashboard" }
        @if pass.record_id.is_none() {
            p.muted { "The dashboard is shown on a record's page." }
        } @else if found.is_empty() {
            p.muted { "No response names this " (what) " yet." }
        } @else {
            p.muted { "The responses about this " (what) @if what == "Account" { " and its contacts" } ", per survey." }
            @for (name, d) in &found {
                section.card {
                    h2 { (name) }
                    (widget(d))
                }
            }
        }
    };
    panel_page(
        &pass,
        &q.t,
        actor.role == Role::Admin,
        "/panel/dashboard",
        body,
    )
}
