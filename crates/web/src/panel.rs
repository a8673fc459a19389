//! The Sonde panel Salesforce shows on a record (Canvas): `POST /panel` with Salesforce's signed
//! request lists the record's responses; `GET /panel/responses/{id}?t=…` opens one of them.
//!
//! The panel lives in Salesforce's iframe, so its pages name the org's origins in
//! `frame-ancestors` (every other page refuses framing) and carry their own signed pass instead
//! of a cookie. A refused request renders nothing of the panel: only why, in a short page.

use crate::error::{log_internal, status_of};
use crate::pages::layout;
use crate::security::framed_by;
use crate::ui::time;
use crate::ui_responses::status_badge;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use engine::panel::{Panel, PanelPass, PanelRefusal};
use engine::{Actor, Error, Role};
use maud::{html, Markup};
use serde::Deserialize;
use survey::export::readable_cells;

/// `frame-ancestors` sources as the header takes them.
fn sources(origins: &[String]) -> String {
    origins.join(" ")
}

/// The page a refusal shows: its message when it is one meant for the person (a 403), nothing
/// about the cause otherwise.
pub(crate) fn refusal_page(refusal: PanelRefusal) -> Response {
    log_internal(&refusal.error);
    let status = status_of(&refusal.error);
    let message = match &refusal.error {
        Error::Forbidden(m) => m.clone(),
        Error::NotFound(_) => "This response is not about this record.".to_string(),
        _ => "Sonde could not open this panel just now; reload the page in Salesforce.".to_string(),
    };
    // A pass that ran out, on a page Salesforce frames, can be renewed by asking the parent
    // for a fresh signed request (the page script does, through `data-panel-refresh`).
    let renewable = !refusal.frame_ancestors.is_empty()
        && matches!(&refusal.error, Error::Forbidden(m) if m.contains("expired"));
    let body = html! {
        h1 { "Sonde" }
        p { (message) }
        @if renewable {
            div data-panel-refresh data-panel-origins=(sources(&refusal.frame_ancestors)) {}
        }
    };
    let page = (
        status,
        Html(layout("Not allowed", None, body).into_string()),
    );
    if refusal.frame_ancestors.is_empty() {
        page.into_response()
    } else {
        (framed_by(&sources(&refusal.frame_ancestors)), page).into_response()
    }
}

/// Salesforce's Canvas POST. The body is read by hand so that a missing field or a body that is
/// no form is refused like any other unusable request (403), not answered as a client error.
pub async fn open(State(state): State<AppState>, body: Bytes) -> Response {
    let signed_request = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "signed_request")
        .map(|(_, v)| v.into_owned());
    let Some(signed_request) = signed_request else {
        return refusal_page(
            Error::Forbidden("This page opens only from Salesforce.".into()).into(),
        );
    };
    match state.sonde.open_panel(&signed_request).await {
        Ok(panel) => record_page(&panel),
        Err(refusal) => refusal_page(refusal),
    }
}

/// The panel's tabs, as `(path, label)`; Settings only for admins.
const TABS: &[(&str, &str)] = &[
    ("/panel/home", "Responses"),
    ("/panel/send", "Send"),
    ("/panel/sent", "Sent"),
    ("/panel/scheduled", "Scheduled"),
    ("/panel/dashboard", "Dashboard"),
    ("/panel/settings", "Settings"),
];

/// A panel page: the tabs (the active one marked), the body, framed by the org's origins. The
/// body carries the pass's expiry and its origins, so the page script can ask Salesforce for
/// a fresh signed request before the pass runs out (`data-panel-*`).
pub(crate) fn panel_page(
    pass: &PanelPass,
    token: &str,
    is_admin: bool,
    active: &str,
    body: Markup,
) -> Response {
    let title = TABS
        .iter()
        .find(|(p, _)| *p == active)
        .map_or("Sonde", |(_, l)| *l);
    // Surveys are sent from a Contact, a Lead, a Campaign or a list view's selection.
    let sends = !pass.record_ids.is_empty()
        || matches!(
            pass.record_type.as_deref(),
            Some("Contact" | "Lead" | "Campaign")
        );
    let shown = |path: &str| match path {
        "/panel/settings" => is_admin,
        "/panel/send" | "/panel/sent" | "/panel/scheduled" => sends || path == active,
        _ => true,
    };
    let page = html! {
        div.panel data-panel-expires=(pass.expires_at) data-panel-origins=(sources(&pass.frame_ancestors)) {
            nav.tabs aria-label="Sonde panel" {
                @for (path, label) in TABS {
                    @if shown(path) {
                        @if *path == active {
                            a aria-current="page" href={ (path) "?t=" (token) } { (label) }
                        } @else {
                            a href={ (path) "?t=" (token) } { (label) }
                        }
                    }
                }
            }
            (body)
        }
    };
    let ancestors = sources(&pass.frame_ancestors);
    (
        framed_by(&ancestors),
        Html(layout(title, None, page).into_string()),
    )
        .into_response()
}

/// A page framed by the pass's org without the tabs (after Disconnect, nothing is left to
/// open).
pub(crate) fn bare_page(pass: &PanelPass, body: Markup) -> Response {
    (
        framed_by(&sources(&pass.frame_ancestors)),
        Html(layout("Sonde", None, body).into_string()),
    )
        .into_response()
}

/// A pass's page opened, or the refusal to show.
pub(crate) async fn context(state: &AppState, token: &str) -> Result<(Actor, PanelPass), Response> {
    state.sonde.panel_context(token).await.map_err(refusal_page)
}

/// An engine error on a panel page whose pass was fine: shown inside the panel, framed by the
/// org, never the admin UI's error page.
pub(crate) fn failed(pass: &PanelPass, error: Error) -> Response {
    refusal_page(PanelRefusal {
        error,
        frame_ancestors: pass.frame_ancestors.clone(),
    })
}

fn record_page(panel: &Panel) -> Response {
    let what = panel.record_type.as_deref().unwrap_or("record");
    let body = html! {
        h1 { "Survey responses" }
        @match &panel.pass.record_id {
            None => {
                @if panel.pass.record_ids.is_empty() {
                    p.muted { "This panel is not on a record: place it on a Contact, Lead, Account, Case or Campaign page." }
                } @else {
                    p { (panel.pass.record_ids.len()) " records selected. "
                        a href={ "/panel/send?t=" (panel.token) } { "Send them a survey" } "." }
                }
            }
            Some(id) => {
                p.muted { "About this " (what) " " code { (id) }
                    @if what == "Account" { " and its contacts" }
                    ", as " (panel.actor.email) " sees them." }
                @if panel.responses.is_empty() {
                    p { "No response names this " (what) " in its embedded data (sfContactId, sfLeadId, sfAccountId, sfCaseId or sfSurveyId)." }
                } @else {
                    table id="record-responses" {
                        thead { tr { th { "Survey" } th { "Started" } th { "Status" } th {} } }
                        tbody {
                            @for r in &panel.responses {
                                tr {
                                    td { (r.survey_name) }
                                    td { (time(r.started_at)) }
                                    td { (status_badge(r.status)) }
                                    td { a href={ "/panel/responses/" (r.id) "?t=" (panel.token) } { "Open" } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    panel_page(
        &panel.pass,
        &panel.token,
        panel.actor.role == Role::Admin,
        "/panel/home",
        body,
    )
}

/// The Responses tab from a page's pass.
pub async fn home(State(state): State<AppState>, Query(q): Query<PassQuery>) -> Response {
    match state.sonde.reopen_panel(&q.t).await {
        Ok(panel) => record_page(&panel),
        Err(refusal) => refusal_page(refusal),
    }
}

#[derive(Deserialize)]
pub struct PassQuery {
    #[serde(default)]
    pub(crate) t: String,
}

/// One response, opened from the panel's list with the page's pass.
pub async fn response(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<PassQuery>,
) -> Response {
    let (pass, survey, r) = match state.sonde.panel_response(&q.t, &id).await {
        Ok(found) => found,
        Err(refusal) => return refusal_page(refusal),
    };
    let answered_under = match state.sonde.answered_under(&survey, &r).await {
        Ok(d) => d,
        Err(e) => return crate::error::PageError(e).into_response(),
    };
    let cells = readable_cells(&answered_under, &r.data);
    let m = &r.metadata;
    let body = html! {
        h1 { (survey.name) }
        dl.facts {
            dt { "Response" } dd { code { (r.id) } }
            dt { "Status" } dd { (status_badge(r.status)) }
            dt { "Started" } dd { (m.start_date) }
            dt { "Ended" } dd { @match &m.end_date { Some(d) => (d), None => span.muted { "not finished" } } }
            dt { "Progress" } dd { (m.progress) "%" }
        }
        h2 { "Answers" }
        table.answers {
            tbody {
                @for c in cells.iter().filter(|c| !c.embedded) {
                    tr {
                        th scope="row" { (c.column.label) }
                        td { @if c.value.is_empty() { span.muted { "—" } } @else { (c.value) } }
                    }
                }
            }
        }
        h2 { "Embedded data" }
        table {
            tbody { @for (k, v) in &r.data.embedded_data { tr { td { code { (k) } } td.wrap { (v) } } } }
        }
        p.muted { "Reload the page in Salesforce to see the list again." }
    };
    let page = (
        StatusCode::OK,
        Html(layout(&survey.name, None, body).into_string()),
    );
    (framed_by(&sources(&pass.frame_ancestors)), page).into_response()
}
