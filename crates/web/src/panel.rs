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
use engine::panel::{Panel, PanelRefusal};
use engine::Error;
use maud::{html, Markup};
use serde::Deserialize;
use survey::export::readable_cells;

/// `frame-ancestors` sources as the header takes them.
fn sources(origins: &[String]) -> String {
    origins.join(" ")
}

/// The page a refusal shows: its message when it is one meant for the person (a 403), nothing
/// about the cause otherwise.
fn refusal_page(refusal: PanelRefusal) -> Response {
    log_internal(&refusal.error);
    let status = status_of(&refusal.error);
    let message = match &refusal.error {
        Error::Forbidden(m) => m.clone(),
        Error::NotFound(_) => "This response is not about this record.".to_string(),
        _ => "Sonde could not open this panel just now; reload the page in Salesforce.".to_string(),
    };
    let body = html! {
        h1 { "Sonde" }
        p { (message) }
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
        Ok(panel) => {
            let ancestors = sources(&panel.pass.frame_ancestors);
            let page = Html(record_page(&panel).into_string());
            (framed_by(&ancestors), page).into_response()
        }
        Err(refusal) => refusal_page(refusal),
    }
}

fn record_page(panel: &Panel) -> Markup {
    let what = panel.record_type.as_deref().unwrap_or("record");
    let body = html! {
        h1 { "Survey responses" }
        @match &panel.pass.record_id {
            None => p.muted { "This panel is not on a record: place it on a Contact, Lead, Account or Case page." },
            Some(id) => {
                p.muted { "About this " (what) " " code { (id) } ", as " (panel.actor.email) " sees them." }
                @if panel.responses.is_empty() {
                    p { "No response names this " (what) " in its embedded data (sfContactId, sfLeadId, sfAccountId or sfCaseId)." }
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
    layout("Survey responses", None, body)
}

#[derive(Deserialize)]
pub struct PassQuery {
    #[serde(default)]
    t: String,
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
    let cells = readable_cells(&survey.definition, &r.data);
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
