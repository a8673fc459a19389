//! Responses in the admin UI: the table (choice labels, every column, the first kept in view
//! while it scrolls sideways), the listing filtered by status and start date, and one response
//! with its answers, embedded data, metadata and the workflow runs it fired.

use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::{page, time};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{DateTime, NaiveDate};
use engine::answered_versions::AnsweredVersions;
use engine::response_listing::ResponseSelection;
use engine::responses::Response as SurveyResponse;
use maud::{html, Markup};
use serde::Deserialize;
use store::responses::ResponseStatus;
use survey::export::{readable_cells, readable_cells_in};

/// Responses per page of the listing.
const PAGE: usize = 100;

const STATUSES: &[(ResponseStatus, &str)] = &[
    (ResponseStatus::Complete, "Complete"),
    (ResponseStatus::InProgress, "In progress"),
    (ResponseStatus::Incomplete, "Closed incomplete"),
];

fn status_label(s: ResponseStatus) -> &'static str {
    STATUSES
        .iter()
        .find(|(x, _)| *x == s)
        .map_or("", |(_, l)| l)
}

pub(crate) fn status_badge(s: ResponseStatus) -> Markup {
    html! { span class={ "badge status-" (s.as_str()) } { (status_label(s)) } }
}

fn response_href(survey_id: &str, response_id: &str) -> String {
    format!("/surveys/{survey_id}/responses/{response_id}")
}

/// The responses table: the response (kept in view), status, start, progress, the version it
/// was answered under when they differ, then every embedded data and answer column of the
/// export over those versions, with each version's labels instead of codes.
pub(crate) fn responses_table(versions: &AnsweredVersions, responses: &[SurveyResponse]) -> Markup {
    let all = versions.columns();
    let columns = readable_cells_in(&all, versions.current(), &Default::default());
    let several = versions.several();
    html! {
        div.responses-table {
            table {
                thead { tr {
                    th scope="col" { "Response" } th scope="col" { "Status" } th scope="col" { "Started" } th scope="col" { "Progress" }
                    @if several { th scope="col" { "Version" } }
                    @for c in &columns {
                        th scope="col" title=(c.column.label) {
                            (c.column.key)
                            @if c.column.label != c.column.key { small { (survey::html::to_plain(&c.column.label).chars().take(40).collect::<String>()) } }
                        }
                    }
                } }
                tbody {
                    @for r in responses {
                        tr {
                            th scope="row" { a href=(response_href(&r.survey_id, &r.id)) { code { (r.id) } } }
                            td { (status_badge(r.status)) }
                            td { (started(r)) }
                            td { (r.metadata.progress) "%" }
                            @if several { td.version { @if let Some(n) = versions.number(r) { "v" (n) } } }
                            @for c in readable_cells_in(&all, versions.of(r), &r.data) { td { (c.value) } }
                        }
                    }
                }
            }
        }
    }
}

/// When a response started, as `<time>` for the viewer's zone.
fn started(r: &SurveyResponse) -> Markup {
    moment(&r.metadata.start_date)
}

/// An RFC 3339 moment as `<time>` (the script shows it in the viewer's zone).
fn moment(iso: &str) -> Markup {
    match DateTime::parse_from_rfc3339(iso) {
        Ok(t) => time(t.timestamp_millis()),
        Err(_) => html! { (iso) },
    }
}

#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(default)]
    status: String,
    /// Days as the date inputs give them (`2024-03-02`), read as UTC days without the script.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// The viewer's day boundaries as instants, which the script adds from `from` and `to`.
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    after: String,
}

impl Filters {
    /// The selection, and what could not be read (said on the page, the rest still applied).
    fn selection(&self) -> (ResponseSelection, Vec<String>) {
        let mut problems = Vec::new();
        let status = match self.status.as_str() {
            "" => None,
            s => {
                let parsed = ResponseStatus::parse(s);
                if parsed.is_none() {
                    problems.push(format!("{s:?} is not a response status"));
                }
                parsed
            }
        };
        let mut bound = |instant: &str, day: &str, days_after: i64, what: &str| {
            if let Ok(t) = DateTime::parse_from_rfc3339(instant) {
                return Some(t.timestamp_millis());
            }
            if day.is_empty() {
                return None;
            }
            match NaiveDate::parse_from_str(day, "%Y-%m-%d") {
                Ok(d) => d
                    .and_hms_opt(0, 0, 0)
                    .map(|t| t.and_utc().timestamp_millis() + days_after * 86_400_000),
                Err(_) => {
                    problems.push(format!(
                        "the {what} date {day:?} is not a date (YYYY-MM-DD)"
                    ));
                    None
                }
            }
        };
        let started_from = bound(&self.since, &self.from, 0, "from");
        let started_before = bound(&self.until, &self.to, 1, "to");
        (
            ResponseSelection {
                status,
                started_from,
                started_before,
            },
            problems,
        )
    }

    /// The query string of these filters on another page.
    fn query(&self, after: &str) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("status", &self.status),
            ("from", &self.from),
            ("to", &self.to),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        q.append_pair("after", after);
        q.finish()
    }
}

/// `GET /surveys/{id}/responses`: every response, filtered and paged.
pub async fn responses(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(f): Query<Filters>,
) -> Result<Response, PageError> {
    let (selection, problems) = f.selection();
    let after = Some(f.after.as_str()).filter(|a| !a.is_empty());
    let (s, list, next) = state
        .sonde
        .select_responses(&user.actor, &id, &selection, after, PAGE)
        .await?;
    let versions = state.sonde.answered_versions(&s, &list).await?;
    let matching = state
        .sonde
        .count_selected_responses(&user.actor, &s.id, &selection)
        .await?;
    let filtered = selection != ResponseSelection::default();
    Ok(page(
        &user,
        &format!("Responses · {}", s.name),
        html! {
          div.wide {
            p { a href={ "/surveys/" (s.id) } { "← " (s.name) } }
            h1 { "Responses" }
            form.card.filters method="get" action={ "/surveys/" (s.id) "/responses" } data-local-dates {
                div {
                    label for="filter-status" { "Status" }
                    select id="filter-status" name="status" {
                        option value="" selected[selection.status.is_none()] { "Any" }
                        @for (st, l) in STATUSES { option value=(st.as_str()) selected[selection.status == Some(*st)] { (l) } }
                    }
                }
                div { label for="filter-from" { "Started from" } input type="date" id="filter-from" name="from" value=(f.from); }
                div { label for="filter-to" { "to (inclusive)" } input type="date" id="filter-to" name="to" value=(f.to); }
                input type="hidden" name="since" value="";
                input type="hidden" name="until" value="";
                div { button type="submit" id="filter-submit" { "Filter" } }
                p.muted { "Days are read in " span data-zone { "UTC" } "." }
            }
            @if !problems.is_empty() {
                div.notice role="alert" { ul { @for p in &problems { li { (p) } } } }
            }
            div.card {
                p {
                    strong { (matching) } @if filtered { " of the survey's responses match." } @else { " responses." }
                    " " a href={ "/surveys/" (s.id) "/export.csv" } { "Export all as CSV" }
                }
                @if list.is_empty() {
                    p.muted { @if filtered { "None match these filters." } @else { "No responses yet." } }
                } @else {
                    (responses_table(&versions, &list))
                }
                @if let Some(n) = &next {
                    p { a href={ "/surveys/" (s.id) "/responses?" (f.query(n)) } { "Next " (PAGE) " →" } }
                }
            }
          }
        },
    ))
}

/// `GET /surveys/{id}/responses/{response_id}`: one response whole.
pub async fn response(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, response_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let s = state.sonde.survey(&user.actor, &id).await?;
    let r = state
        .sonde
        .response(&user.actor, &s.id, &response_id)
        .await?;
    let runs = state.sonde.runs_fired_by(&user.actor, &s.id, &r.id).await?;
    let answered_under = state.sonde.answered_under(&s, &r).await?;
    let cells = readable_cells(&answered_under, &r.data);
    let m = &r.metadata;
    Ok(page(
        &user,
        &format!("Response {}", r.id),
        html! {
          div.wide {
            p { a href={ "/surveys/" (s.id) "/responses" } { "← Responses of " (s.name) } }
            h1 { "Response " code { (r.id) } }
            @if user.actor.role >= engine::Role::Editor {
                p { a href={ (response_href(&s.id, &r.id)) "/delete" } id="delete-response" { "Delete this response" } }
            }
            div.card {
                h2 { "About this response" }
                dl.facts {
                    dt { "Status" } dd { (status_badge(r.status)) }
                    dt { "Started" } dd { (moment(&m.start_date)) }
                    dt { "Ended" } dd { @match &m.end_date { Some(d) => (moment(d)), None => span.muted { "not finished" } } }
                    dt { "Recorded" } dd { @match &m.recorded_date { Some(d) => (moment(d)), None => span.muted { "not yet" } } }
                    dt { "Progress" } dd { (m.progress) "%" }
                    dt { "Duration" } dd { (m.duration_seconds) " s" }
                    dt { "Distribution channel" } dd { (m.distribution_channel.as_str()) }
                    dt { "Contact" } dd { @match &r.contact_id { Some(c) => code { (c) }, None => span.muted { "none (anonymous link)" } } }
                }
            }
            div.card {
                h2 { "Answers" }
                table.answers {
                    tbody {
                        @for c in cells.iter().filter(|c| !c.embedded) {
                            tr {
                                th scope="row" { (c.column.label) " " span.muted { "(" (c.column.key) ")" } }
                                td { @if c.value.is_empty() { span.muted { "—" } } @else { (c.value) } }
                            }
                        }
                    }
                }
            }
            div.card {
                h2 { "Embedded data" }
                @if r.data.embedded_data.is_empty() {
                    p.muted { "None." }
                } @else {
                    table {
                        thead { tr { th { "Field" } th { "Value" } th { "From" } } }
                        tbody { @for (k, v) in &r.data.embedded_data { tr {
                            td { code { (k) } }
                            td.wrap { (v) }
                            td { (r.data.provenance.get(k).map_or("url", |p| p.as_str())) }
                        } } }
                    }
                }
            }
            div.card id="runs" {
                h2 { "Workflow runs" }
                @if runs.is_empty() {
                    p.muted { "This response fired no workflow." }
                } @else {
                    ul {
                        @for f in &runs {
                            li {
                                a href={ "/workflows/" (f.run.workflow_id) "/runs#run-" (f.run.id) } { (f.workflow_name) }
                                " " span class={ "badge " (f.run.status) } { (f.run.status) }
                                " · " (f.run.trigger) " · " (time(f.run.created_at))
                                @if let Some(e) = &f.run.error { br; span.error { (e) } }
                            }
                        }
                    }
                }
            }
          }
        },
    ))
}
