//! A survey's CX dashboard in the admin UI (NPS and CSAT cards, volume, one chart and table per
//! question, text answers, filtered by dates, distribution and embedded data), and the compact
//! record widget the Salesforce panel embeds.

use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::page;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{DateTime, NaiveDate};
use dashboards::charts::{self, Width};
use dashboards::{ChoiceCount, Dashboard, NpsSummary, Period, QuestionSummary, SummaryKind};
use engine::dashboards::DashboardFilter;
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;

/// A moment from a query parameter: RFC 3339, or a `YYYY-MM-DD` UTC day (plus `days_after`
/// days, so an inclusive "until" day can end after it). Empty is no bound.
pub(crate) fn instant(value: &str, days_after: i64) -> Result<Option<i64>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(Some(t.timestamp_millis()));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Some(t.and_utc().timestamp_millis() + days_after * 86_400_000))
        .ok_or_else(|| format!("{value:?} is not a date (YYYY-MM-DD) or an RFC 3339 instant"))
}

/// The filter form as the page's query string carries it.
#[derive(Deserialize, Default)]
pub struct Filters {
    /// Days as the date inputs give them, read as UTC days without the script.
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
    distribution: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    value: String,
}

impl Filters {
    /// The engine's filter, and what could not be read (said on the page, the rest applied).
    fn filter(&self) -> (DashboardFilter, Vec<String>) {
        let mut problems = Vec::new();
        let mut bound = |instant_value: &str, day: &str, days_after: i64, what: &str| {
            if let Ok(Some(t)) = instant(instant_value, 0) {
                return Some(t);
            }
            instant(day, days_after).unwrap_or_else(|e| {
                problems.push(format!("the {what} date: {e}"));
                None
            })
        };
        let since = bound(&self.since, &self.from, 0, "from");
        let until = bound(&self.until, &self.to, 1, "to");
        let field = self.field.trim();
        let filter = DashboardFilter {
            since,
            until,
            distribution_id: Some(self.distribution.trim().to_string()).filter(|d| !d.is_empty()),
            embedded: (!field.is_empty()).then(|| (field.to_string(), self.value.clone())),
            records: Vec::new(),
        };
        (filter, problems)
    }
}

/// `GET /surveys/{id}/dashboard`.
pub async fn dashboard(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(f): Query<Filters>,
) -> Result<Response, PageError> {
    let survey = state.sonde.survey(&user.actor, &id).await?;
    let (filter, problems) = f.filter();
    let d = state
        .sonde
        .survey_dashboard(&user.actor, &survey.id, &filter)
        .await?;
    let distributions = state
        .sonde
        .survey_distributions(&user.actor, &survey.id)
        .await?;
    let mut fields: Vec<String> = survey::flow::declared_embedded_fields(&survey.definition)
        .into_iter()
        .map(|e| e.name.clone())
        .collect();
    for extra in engine::panel::RECORD_FIELDS {
        if !fields.iter().any(|f| f == extra) {
            fields.push(extra.to_string());
        }
    }
    let filtered = filter != DashboardFilter::default();
    Ok(page(
        &user,
        &format!("Dashboard · {}", survey.name),
        html! {
          div.dashboard {
            p { a href={ "/surveys/" (survey.id) } { "← " (survey.name) } " · "
                a href={ "/surveys/" (survey.id) "/responses" } { "Responses" } }
            h1 { "Dashboard" }
            form.card.filters method="get" action={ "/surveys/" (survey.id) "/dashboard" } data-local-dates {
                div { label for="dash-from" { "Started from" } input type="date" id="dash-from" name="from" value=(f.from); }
                div { label for="dash-to" { "to (inclusive)" } input type="date" id="dash-to" name="to" value=(f.to); }
                input type="hidden" name="since" value="";
                input type="hidden" name="until" value="";
                div {
                    label for="dash-distribution" { "Distribution" }
                    select id="dash-distribution" name="distribution" {
                        option value="" selected[f.distribution.is_empty()] { "Any" }
                        @for dist in &distributions {
                            option value=(dist.id) selected[f.distribution == dist.id] {
                                (dist.send_at_local) " · " (dist.channel.as_str())
                            }
                        }
                    }
                }
                div {
                    label for="dash-field" { "Embedded data" }
                    select id="dash-field" name="field" {
                        option value="" selected[f.field.is_empty()] { "Any" }
                        @for name in &fields { option value=(name) selected[&f.field == name] { (name) } }
                    }
                }
                div { label for="dash-value" { "equals" } input type="text" id="dash-value" name="value" value=(f.value); }
                div { button type="submit" id="dash-filter" { "Filter" } }
                p.muted { "Days are read in " span data-zone { "UTC" } "; periods in the charts are UTC days, weeks (from Monday) and months." }
            }
            @if !problems.is_empty() {
                div.notice role="alert" { ul { @for p in &problems { li { (p) } } } }
            }
            (headline(&d, filtered))
            div.card {
                h2 { "Responses over time" }
                @if d.volume.points.is_empty() {
                    p.muted { @if filtered { "No responses match these filters." } @else { "No responses yet." } }
                } @else {
                    p.muted { "Responses started per " (period_name(d.volume.period)) "." }
                    (chart("Responses over time", |w| charts::volume_chart(&d.volume, w)))
                    details {
                        summary { "Numbers" }
                        table.numbers id="volume-table" {
                            thead { tr { th scope="col" { (period_title(d.volume.period)) } th scope="col" { "Responses" } th scope="col" { "Complete" } } }
                            tbody { @for p in &d.volume.points { tr { td { (p.start) } td { (p.responses) } td { (p.complete) } } } }
                        }
                    }
                }
            }
            @for q in &d.questions { (question(q)) }
          }
        },
    ))
}

/// The cards at the top: responses, the first NPS question's score, the first CSAT's.
fn headline(d: &Dashboard, filtered: bool) -> Markup {
    html! {
        div.dashboard-cards {
            div.card.stat {
                h2 { "Responses" }
                p.big id="responses-total" { (d.responses.total) }
                p.muted {
                    span id="responses-complete" { (d.responses.complete) } " complete · "
                    span id="responses-partial" { (d.responses.partial) } " partial"
                    @if filtered { " (filtered)" }
                }
            }
            @if let Some((q, nps)) = d.headline_nps() {
                div.card.stat {
                    h2 { "NPS" }
                    p.big id="headline-nps" { (score_of(q.answered, nps.score)) }
                    p.muted { (nps.promoters) " promoters · " (nps.passives) " passives · " (nps.detractors) " detractors" }
                    p.muted { (q.text) }
                }
            }
            @if let Some((q, csat)) = d.headline_csat() {
                div.card.stat {
                    h2 { "CSAT" }
                    p.big id="headline-csat" { (one_decimal(csat.score)) "%" }
                    p.muted { (csat.satisfied) " of " (q.answered) " on the top two points" }
                    p.muted { (q.text) }
                }
            }
        }
    }
}

fn question(q: &QuestionSummary) -> Markup {
    html! {
        section.card.question-summary id={ "q-" (q.question_id) } data-kind=(kind_name(q.kind)) {
            h2 { (q.text) }
            p.muted { (q.export_tag) " · " span.answered { (q.answered) } " answered" }
            @if let Some(nps) = &q.nps { (nps_section(q, nps)) }
            @if let Some(csat) = &q.csat {
                p { "CSAT " strong id={ "csat-" (q.question_id) } { (one_decimal(csat.score)) "%" }
                    " — " (csat.satisfied) " of " (q.answered) " chose one of the top two points." }
            }
            @if let Some(choices) = &q.choices {
                (chart(&q.text, |w| charts::choice_chart(choices, w)))
                (choice_table(&q.question_id, choices))
                @for c in choices.iter().filter(|c| !c.typed.is_empty()) {
                    details {
                        summary { "What people typed beside " (c.label) }
                        ul.text-answers { @for t in &c.typed { li { (t) } } }
                    }
                }
            }
            @if q.unlisted > 0 {
                p.muted { (q.unlisted) " answers name a choice the survey no longer has." }
            }
            @if let Some(rows) = &q.matrix {
                @for row in rows {
                    h3 { (row.label) " " span.muted { "(" (row.answered) " answered)" } }
                    (chart(&row.label, |w| charts::choice_chart(&row.scale, w)))
                    (choice_table(&format!("{}-{}", q.question_id, row.statement_id), &row.scale))
                }
            }
            @if let Some(t) = &q.text_answers {
                @if t.shown.is_empty() {
                    p.muted { "No answers yet." }
                } @else {
                    p.muted { "The newest " (t.shown.len()) " of " (t.total) "." }
                    ul.text-answers id={ "text-" (q.question_id) } {
                        @for a in &t.shown {
                            li { span.wrap { (a.text) } " " time.muted datetime=(a.answered_at) { (a.answered_at) } }
                        }
                    }
                }
            }
        }
    }
}

fn nps_section(q: &QuestionSummary, nps: &NpsSummary) -> Markup {
    let id = &q.question_id;
    html! {
        p { "NPS " strong.nps-score id={ "nps-score-" (id) } { (score_of(q.answered, nps.score)) } }
        (chart("Detractors, passives and promoters", |w| charts::nps_split_chart(nps, w)))
        table.numbers id={ "nps-" (id) } {
            thead { tr { th scope="col" { "" } th scope="col" { "Answers" } th scope="col" { "Share" } } }
            tbody {
                tr { th scope="row" { "Promoters (9–10)" } td data-promoters { (nps.promoters) } td { (one_decimal(nps.promoters_percent)) "%" } }
                tr { th scope="row" { "Passives (7–8)" } td data-passives { (nps.passives) } td { (one_decimal(nps.passives_percent)) "%" } }
                tr { th scope="row" { "Detractors (0–6)" } td data-detractors { (nps.detractors) } td { (one_decimal(nps.detractors_percent)) "%" } }
            }
        }
        @if !nps.trend.points.is_empty() {
            h3 { "NPS per " (period_name(nps.trend.period)) }
            (chart("NPS trend", |w| charts::nps_trend_chart(&nps.trend, w)))
            details {
                summary { "Numbers" }
                (trend_table(id, nps))
            }
        }
    }
}

fn trend_table(id: &str, nps: &NpsSummary) -> Markup {
    html! {
        // Six columns: on a phone the table scrolls inside its box, not the page.
        div.table-wrap { table.numbers id={ "nps-trend-" (id) } {
            thead { tr {
                th scope="col" { (period_title(nps.trend.period)) } th scope="col" { "Answers" }
                th scope="col" { "Promoters" } th scope="col" { "Passives" } th scope="col" { "Detractors" } th scope="col" { "NPS" }
            } }
            tbody { @for p in &nps.trend.points { tr {
                td { (p.start) } td { (p.answered) } td { (p.promoters) } td { (p.passives) } td { (p.detractors) } td { (score(p.score)) }
            } } }
        } }
    }
}

fn choice_table(id: &str, choices: &[ChoiceCount]) -> Markup {
    html! {
        table.numbers id={ "choices-" (id) } {
            thead { tr { th scope="col" { "Choice" } th scope="col" { "Count" } th scope="col" { "Percent" } } }
            tbody { @for c in choices { tr data-choice=(c.choice_id) {
                th scope="row" { (c.label) @if c.removed { " " span.muted { "(an earlier version's choice)" } } }
                td.count { (c.count) }
                td.percent { (one_decimal(c.percent)) "%" }
            } } }
        }
    }
}

/// A chart in both widths; the stylesheet shows the one that fits the screen.
fn chart(caption: &str, draw: impl Fn(Width) -> String) -> Markup {
    html! {
        figure.chart {
            @for w in Width::ALL {
                // plotters escapes the text it writes into the SVG.
                div class=(w.class()) role="img" aria-label=(caption) { (PreEscaped(draw(w))) }
            }
        }
    }
}

/// The record widget for the Salesforce panel: responses, NPS, promoters/passives/detractors
/// and the NPS trend, drawn only in the phone width (a panel is narrow).
pub fn widget(d: &Dashboard) -> Markup {
    html! {
        div.dashboard-widget {
            p { strong id="widget-responses" { (d.responses.total) } " responses · "
                (d.responses.complete) " complete" }
            @match d.headline_nps() {
                Some((q, nps)) => {
                    p { "NPS " strong.big id="widget-nps" { (score_of(q.answered, nps.score)) } }
                    p.muted { (q.text) }
                    div.chart-fixed role="img" aria-label="Detractors, passives and promoters" {
                        (PreEscaped(charts::nps_split_chart(nps, Width::Narrow)))
                    }
                    @if !nps.trend.points.is_empty() {
                        p.muted { "NPS per " (period_name(nps.trend.period)) }
                        div.chart-fixed role="img" aria-label="NPS trend" {
                            (PreEscaped(charts::nps_trend_chart(&nps.trend, Width::Narrow)))
                        }
                        table.numbers id={ "widget-trend-" (q.question_id) } {
                            thead { tr { th scope="col" { (period_title(nps.trend.period)) } th scope="col" { "Answers" } th scope="col" { "NPS" } } }
                            tbody { @for p in &nps.trend.points { tr { td { (p.start) } td { (p.answered) } td { (score(p.score)) } } } }
                        }
                    }
                },
                None => p.muted { "This survey asks no NPS question." },
            }
        }
    }
}

/// An NPS, signed when positive so it reads as a score (`+14.3`, `-20.0`, `0.0`).
fn score(s: f64) -> String {
    if s > 0.0 {
        format!("+{s:.1}")
    } else {
        format!("{s:.1}")
    }
}

/// A score over no answers is no score at all (the API says 0).
fn score_of(answered: u64, s: f64) -> String {
    if answered == 0 {
        "—".to_string()
    } else {
        score(s)
    }
}

fn one_decimal(x: f64) -> String {
    format!("{x:.1}")
}

fn period_name(p: Period) -> &'static str {
    match p {
        Period::Day => "day",
        Period::Week => "week",
        Period::Month => "month",
    }
}

fn period_title(p: Period) -> &'static str {
    match p {
        Period::Day => "Day",
        Period::Week => "Week of",
        Period::Month => "Month",
    }
}

fn kind_name(k: SummaryKind) -> &'static str {
    match k {
        SummaryKind::Nps => "nps",
        SummaryKind::Csat => "csat",
        SummaryKind::SingleChoice => "single_choice",
        SummaryKind::MultipleChoice => "multiple_choice",
        SummaryKind::Matrix => "matrix",
        SummaryKind::Text => "text",
    }
}
