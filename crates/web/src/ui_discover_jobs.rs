//! Discover jobs and runs in the admin UI: the organization's jobs, a job's settings with
//! "Run now", its sample and its runs, and a run's page — counts, warnings and a progress bar
//! the page script keeps fresh while the run is queued or running (`data-poll`: the card is
//! fetched again; without the script a Refresh link does it), with Cancel.

use crate::auth::CsrfForm;
use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::page;
use crate::ui_discover::{moment, project_href, tabs};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use engine::discover::runs::DiscoverRun;
use engine::discover::{DiscoverJob, Project};
use engine::{Error, Role};
use maud::{html, Markup};

type PageResult = Result<Response, PageError>;

fn job_href(id: &str) -> String {
    format!("/discover/jobs/{id}")
}

fn run_href(id: &str) -> String {
    format!("/discover/runs/{id}")
}

fn project_name<'a>(projects: &'a [Project], id: &str) -> &'a str {
    projects
        .iter()
        .find(|p| p.id == id)
        .map_or("(a removed project)", |p| p.name.as_str())
}

/// A job's kind in words.
fn data_type(job: &DiscoverJob) -> &'static str {
    match serde_json::to_value(job.settings.data_type)
        .ok()
        .as_ref()
        .and_then(|v| v.as_str())
    {
        Some("chat") => "Chat transcripts",
        Some("messaging") => "Messaging sessions",
        _ => "Feedback",
    }
}

fn status_badge(status: &str) -> Markup {
    let class = match status {
        "succeeded" => "badge succeeded",
        "failed" => "badge failed",
        "queued" | "running" => "badge run-active",
        _ => "badge",
    };
    html! { span class=(class) data-status=(status) { (status) } }
}

pub async fn jobs(State(state): State<AppState>, user: WebUser) -> PageResult {
    let jobs = state.sonde.discover_jobs(&user.actor).await?;
    let projects = state.sonde.discover_projects(&user.actor).await?;
    Ok(page(
        &user,
        "Discover jobs",
        html! {
            h1 { "Discover jobs" }
            (tabs("Jobs"))
            @if user.actor.role >= Role::Editor {
                p { a.button href="/discover/jobs/new" id="new-job" { "New job" } }
            }
            div.card.table-wrap {
                @if jobs.is_empty() {
                    p.muted id="no-jobs" { "No jobs yet." }
                } @else {
                    table.stack id="jobs" {
                        thead { tr { th scope="col" { "Job" } th scope="col" { "Project" } th scope="col" { "Pulls" } th scope="col" { "Schedule" } } }
                        tbody { @for j in &jobs { tr {
                            th scope="row" .long { a href=(job_href(&j.id)) { (j.settings.name) } }
                            td data-label="Project" .long { a href=(project_href(&j.settings.project_id)) { (project_name(&projects, &j.settings.project_id)) } }
                            td data-label="Pulls" { (data_type(j)) }
                            td data-label="Schedule" { @match &j.settings.schedule { Some(c) => code { (c) }, None => span.muted { "On demand" } } }
                        } } }
                    }
                }
            }
        },
    ))
}

async fn job_of(state: &AppState, user: &WebUser, id: &str) -> Result<DiscoverJob, Error> {
    state.sonde.discover_job(&user.actor, id).await
}

pub async fn job(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    let job = job_of(&state, &user, &id).await?;
    let runs = state.sonde.discover_runs(&user.actor, &id).await?;
    let projects = state.sonde.discover_projects(&user.actor).await?;
    let s = &job.settings;
    // A mapping as it would be typed: the field, or its JSON form (a fixed value, a transform).
    let mappings: std::collections::BTreeMap<String, String> = s
        .mappings
        .iter()
        .map(|(name, m)| {
            let text = match m {
                engine::discover::mapping::Mapping::Field(f) => f.clone(),
                other => serde_json::to_string(other).unwrap_or_default(),
            };
            (name.clone(), text)
        })
        .collect();
    let list = |m: &std::collections::BTreeMap<String, String>, sep: &str| {
        m.iter()
            .map(|(k, v)| format!("{k}{sep}{v}"))
            .collect::<Vec<_>>()
    };
    let redact: Vec<String> = s
        .redact
        .iter()
        .filter_map(|d| serde_json::to_value(d).ok())
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let participants = serde_json::to_value(s.participants)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let duplicates = serde_json::to_value(s.duplicates)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    // Where it reads: the linked org's label, or the job's own account (never its secrets).
    let account = match (&s.account, &s.connection_id) {
        (Some(a), _) => format!(
            "its own account: {} at {}{}",
            a.username,
            a.login_url.as_deref().unwrap_or(if a.test_environment {
                "test.salesforce.com"
            } else {
                "login.salesforce.com"
            }),
            if a.test_environment {
                " (test environment)"
            } else {
                ""
            }
        ),
        (None, Some(id)) => state
            .sonde
            .salesforce_connections(&user.actor)
            .await?
            .into_iter()
            .find(|c| &c.id == id)
            .map_or_else(|| format!("linked org {id}"), |c| c.label),
        (None, None) => "none".into(),
    };
    // The filter as the form takes it: `attribute op value`, `in` values joined by `|`.
    let filter: Vec<String> = s
        .filter
        .iter()
        .map(|f| {
            let op = serde_json::to_value(f.op)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let value = match &f.value {
                engine::discover::mapping::FilterValue::One(v) => v.clone(),
                engine::discover::mapping::FilterValue::Many(vs) => vs.join(" | "),
            };
            format!("{} {op} {value}", f.attribute)
        })
        .collect();
    let notices = s.notify.as_ref().map(|n| {
        let on: Vec<String> =
            n.on.iter()
                .filter_map(|o| serde_json::to_value(o).ok())
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
        let on = if on.is_empty() {
            "failure".to_string()
        } else {
            on.join(", ")
        };
        format!("{} on {on}", n.emails.join(", "))
    });
    let editor = user.actor.role >= Role::Editor;
    Ok(page(
        &user,
        &s.name,
        html! {
            p.crumbs { a href="/discover/jobs" { "Discover jobs" } " › " }
            h1.long { (s.name) }
            @if let Some(d) = &s.description { p.long { (d) } }
            div.actions {
                @if editor {
                    form.inline method="post" action={ (job_href(&id)) "/run" } {
                        input type="hidden" name="csrf" value=(user.csrf);
                        button type="submit" id="run-now" { "Run now" }
                    }
                }
                a.button.secondary href={ (job_href(&id)) "/sample.csv" } id="download-sample" download { "Download sample" }
            }
            p.muted { "The sample is the query's first 20 rows as they would be stored — mapped and redacted — and stores nothing." }
            div.card {
                h2 { "Settings" }
                dl.facts id="job-settings" {
                    dt { "Project" } dd { a href=(project_href(&s.project_id)) { (project_name(&projects, &s.project_id)) } }
                    dt { "Salesforce" } dd { (account) }
                    @if let Some(on) = s.credential_expires_on { dt { "Credential expires" } dd { (on) " (reminder " (s.reminder_days_before.unwrap_or(7)) " days before)" } }
                    dt { "API version" } dd { (s.api_version.as_deref().unwrap_or("Sonde's default")) }
                    dt { "Pulls" } dd { (data_type(&job)) @if s.include_deleted { ", deleted records too" } }
                    dt { "Query" } dd { pre.message { (s.soql) } }
                    dt { "Date field" } dd { code { (s.date_field.as_deref().unwrap_or("CreatedDate")) } @if let Some(d) = s.fixed_document_date { ", every document dated " (d) } }
                    dt { "Participants" } dd { (participants) }
                    dt { "Masked" } dd { @if redact.is_empty() { span.muted { "Nothing" } } @else { (redact.join(", ")) } }
                    dt { "Substitutions" } dd { @for l in list(&s.substitutions, ": ") { code { (l) } br; } @if s.substitutions.is_empty() { span.muted { "None" } } }
                    dt { "Attributes" } dd { @for l in list(&mappings, " = ") { code { (l) } br; } @if s.mappings.is_empty() { span.muted { "The defaults only" } } }
                    dt { "Filter" } dd { @for l in &filter { code { (l) } br; } @if filter.is_empty() { span.muted { "None" } } }
                    dt { "Record limit" } dd { @match s.record_limit { Some(n) => (n), None => "All" } }
                    dt { "Bulk API 2.0 from" } dd { (s.bulk_threshold.unwrap_or(10_000)) " rows" }
                    dt { "Duplicates" } dd { (duplicates) }
                    dt { "Schedule" } dd { @match &s.schedule { Some(c) => code { (c) }, None => "On demand" } }
                    dt { "Mails" } dd { @match &notices { Some(n) => (n), None => span.muted { "Nobody" } } }
                    dt { "Created" } dd { (moment(&job.created_at)) }
                }
            }
            div.card.table-wrap {
                h2 { "Runs" }
                @if runs.is_empty() { p.muted id="no-runs" { "No runs yet." } }
                @else {
                    table.stack id="runs" {
                        thead { tr { th scope="col" { "Run" } th scope="col" { "Status" } th scope="col" { "Rows read" } th scope="col" { "Created" } th scope="col" { "Updated" } } }
                        tbody { @for r in &runs { tr {
                            th scope="row" { a href=(run_href(&r.id)) { (moment(&r.created_at)) } }
                            td data-label="Status" { (status_badge(&r.status)) }
                            td data-label="Rows read" { (r.counts.rows_read) }
                            td data-label="Created" { (r.counts.documents_created) }
                            td data-label="Updated" { (r.counts.documents_updated) }
                        } } }
                    }
                }
            }
        },
    ))
}

/// "Run now": the run is queued and its page shown.
pub async fn run_now(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let run = state.sonde.start_discover_run(&user.actor, &id).await?;
    Ok(Redirect::to(&run_href(&run.id)).into_response())
}

pub async fn sample(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    let csv = state
        .sonde
        .discover_sample_csv(&user.actor, &id, 20)
        .await?;
    Ok((
        crate::downloads::attachment(&id, "sample.csv", crate::downloads::CSV),
        csv,
    )
        .into_response())
}

fn active(run: &DiscoverRun) -> bool {
    run.status == "queued" || run.status == "running"
}

/// The run's card: what the script fetches again while the run is active.
fn run_card(user: &WebUser, run: &DiscoverRun, expected: Option<u64>) -> Markup {
    let c = &run.counts;
    let counts: [(&str, u64); 8] = [
        ("Rows read", c.rows_read),
        ("Created", c.documents_created),
        ("Updated", c.documents_updated),
        ("Duplicates skipped", c.duplicates_skipped),
        ("Unchanged", c.unchanged),
        ("Filtered", c.filtered),
        ("Redactions", c.redactions),
        ("API calls", c.api_calls),
    ];
    let poll = active(run).then(|| run_href(&run.id));
    html! {
        div.card id="run-progress" data-poll=[poll] aria-live="polite" {
            p { "Status: " (status_badge(&run.status)) }
            @if active(run) {
                @match expected {
                    Some(total) => {
                        label for="run-bar" { (c.rows_read.min(total)) " of " (total) " rows read" }
                        progress id="run-bar" max=(total) value=(c.rows_read.min(total)) { (c.rows_read) " rows" }
                    }
                    None => {
                        label for="run-bar" { (c.rows_read) " rows read so far" }
                        progress id="run-bar" { (c.rows_read) " rows" }
                    }
                }
                div.actions {
                    @if user.actor.role >= Role::Editor {
                        form.inline method="post" action={ (run_href(&run.id)) "/cancel" } {
                            input type="hidden" name="csrf" value=(user.csrf);
                            button.danger type="submit" id="cancel-run" { "Cancel" }
                        }
                    }
                    a.button.secondary href=(run_href(&run.id)) id="refresh-run" { "Refresh" }
                }
            }
            dl.stats id="run-counts" {
                @for (label, n) in counts {
                    div.stat { dt { (label) } dd { (n) } }
                }
            }
            dl.facts {
                dt { "Queued" } dd { (moment(&run.created_at)) }
                dt { "Started" } dd { @match &run.started_at { Some(t) => (moment(t)), None => span.muted { "Not yet" } } }
                dt { "Ended" } dd { @match &run.finished_at { Some(t) => (moment(t)), None => span.muted { "Not yet" } } }
            }
            @if let Some(e) = &run.error {
                div.notice role="alert" id="run-error" { p.error { "The run failed: " (e) } }
            }
            @if !run.warnings.is_empty() {
                details.hint id="run-warnings" open[run.warnings.len() <= 5] {
                    summary { (run.warnings.len()) " warning" @if run.warnings.len() != 1 { "s" } }
                    ul.long { @for w in &run.warnings { li { (w) } } }
                }
            }
        }
    }
}

pub async fn run(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    let run = state.sonde.discover_run(&user.actor, &id).await?;
    let job = job_of(&state, &user, &run.job_id).await?;
    // The bar's end: what COUNT() said the pull reads, at most the job's record limit.
    let expected = match (run.counts.rows_expected, job.settings.record_limit) {
        (Some(n), Some(limit)) => Some(n.min(limit)),
        (n, limit) => n.or(limit),
    };
    Ok(page(
        &user,
        &format!("Run of {}", job.settings.name),
        html! {
            p.crumbs { a href="/discover/jobs" { "Discover jobs" } " › " a.long href=(job_href(&job.id)) { (job.settings.name) } " › " }
            h1 { "Run " code { (run.id) } }
            (run_card(&user, &run, expected))
            p { a href=(project_href(&job.settings.project_id)) { "The project's documents" } }
        },
    ))
}

pub async fn cancel(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    state.sonde.cancel_discover_run(&user.actor, &id).await?;
    Ok(Redirect::to(&run_href(&id)).into_response())
}
