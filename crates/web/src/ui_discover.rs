//! Discover in the admin UI: the projects, a project's documents (search, an attribute's
//! value, a date range, paged) with the volume chart and the CSV export, and one document —
//! a conversation's turns by role. Documents hold customers' text: maud escapes all of it.

use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::{page, page_with_status, time};
use crate::ui_field_errors::FieldErrors;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use conversations::{Role, Turn};
use engine::discover::documents::Document;
use engine::discover::NewProject;
use engine::discover_view::{document_text, DocumentQuery};
use engine::Error;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

type PageResult = Result<Response, PageError>;

/// Documents a page of the project view shows.
const PAGE: i64 = 25;
/// Attributes the listing leaves out: a conversation's verbatims repeat its turns, and the
/// load date is the same for a whole run. The document's page has them.
const LONG_ATTRIBUTES: &[&str] = &["client_verbatim", "agent_verbatim", "loadDate"];
/// Turns of a conversation shown in the listing before "Open the conversation".
const PREVIEW_TURNS: usize = 2;

pub(crate) fn project_href(id: &str) -> String {
    format!("/discover/projects/{id}")
}

fn document_href(project_id: &str, natural_id: &str) -> String {
    let id: String =
        percent_encoding::utf8_percent_encode(natural_id, percent_encoding::NON_ALPHANUMERIC)
            .collect();
    format!("/discover/projects/{project_id}/documents/{id}")
}

/// The sub-navigation of Discover's pages.
pub(crate) fn tabs(current: &str) -> Markup {
    html! {
        nav.actions aria-label="Discover" {
            @for (href, label) in [("/discover", "Projects"), ("/discover/jobs", "Jobs")] {
                @if label == current { a.button href=(href) aria-current="page" { (label) } }
                @else { a.button.secondary href=(href) { (label) } }
            }
        }
    }
}

pub async fn projects(State(state): State<AppState>, user: WebUser) -> PageResult {
    projects_page(&state, &user, "", None).await
}

async fn projects_page(
    state: &AppState,
    user: &WebUser,
    typed: &str,
    refusal: Option<&Error>,
) -> PageResult {
    let projects = state.sonde.discover_projects(&user.actor).await?;
    let errors = refusal.and_then(FieldErrors::of).unwrap_or_default();
    let editor = user.actor.role >= engine::Role::Editor;
    let form = html! {
        @if editor {
            div.card {
                h2 { "New project" }
                form.fields method="post" action="/discover/projects" {
                    input type="hidden" name="csrf" value=(user.csrf);
                    p { label for="project-name" { "Name" }
                        input type="text" id="project-name" name="name" value=(typed) required
                            aria-invalid=[errors.has("name").then_some("true")] aria-describedby="project-name-error";
                        (errors.at("name", "project-name-error")) }
                    button type="submit" id="create-project" { "Create project" }
                }
            }
        }
    };
    let status = if refusal.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(page_with_status(
        user,
        status,
        "Discover",
        html! {
            h1 { "Discover" }
            p.muted { "Feedback and conversations pulled from your linked Salesforce orgs, redacted before they are kept, to search, chart and export." }
            (tabs("Projects"))
            (errors.summary())
            div.card.table-wrap {
                @if projects.is_empty() {
                    p.muted id="no-projects" { "No projects yet." }
                } @else {
                    table id="projects" {
                        thead { tr { th scope="col" { "Project" } th scope="col" { "Documents" } th scope="col" { "Created" } } }
                        tbody { @for p in &projects { tr {
                            td.long { a href=(project_href(&p.id)) { (p.name) } }
                            td { (p.documents) }
                            td { (moment(&p.created_at)) }
                        } } }
                    }
                }
            }
            (form)
        },
    ))
}

/// An RFC 3339 moment as `<time>`, or as written when it does not read.
pub(crate) fn moment(iso: &str) -> Markup {
    match chrono::DateTime::parse_from_rfc3339(iso) {
        Ok(t) => time(t.timestamp_millis()),
        Err(_) => html! { (iso) },
    }
}

#[derive(Deserialize)]
pub struct ProjectForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

pub async fn create_project(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<ProjectForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let asked = NewProject {
        name: form.name.clone(),
    };
    match state
        .sonde
        .create_discover_project(&user.actor, asked)
        .await
    {
        Ok(p) => Ok(Redirect::to(&project_href(&p.id)).into_response()),
        Err(e @ Error::Invalid { .. }) => projects_page(&state, &user, &form.name, Some(&e)).await,
        Err(e) => Err(e.into()),
    }
}

/// Where a page of the project view starts (its filter is read on its own).
#[derive(Deserialize, Default)]
pub struct Offset {
    #[serde(default)]
    offset: Option<i64>,
}

/// The filter as a query string (for the export, the chart and the pages), `extra` added.
fn query_string(f: &DocumentQuery, extra: &[(&str, String)]) -> String {
    let mut pairs: Vec<(&str, String)> = [
        ("q", &f.q),
        ("attribute", &f.attribute),
        ("value", &f.value),
        ("from", &f.from),
        ("to", &f.to),
    ]
    .into_iter()
    .filter_map(|(k, v)| {
        v.as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| (k, v.to_string()))
    })
    .collect();
    pairs.extend(extra.iter().cloned());
    match serde_urlencoded::to_string(&pairs) {
        Ok(s) if !s.is_empty() => format!("?{s}"),
        _ => String::new(),
    }
}

pub async fn project(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(f): Query<DocumentQuery>,
    Query(at): Query<Offset>,
) -> PageResult {
    let project = state.sonde.discover_project(&user.actor, &id).await?;
    let f = &f;
    let offset = at.offset.unwrap_or(0).max(0);
    let listed = match state
        .sonde
        .discover_document_page(&user.actor, &id, f, offset, PAGE)
        .await
    {
        Ok(page) => Ok(page),
        Err(e @ Error::Invalid { .. }) => Err(e),
        Err(e) => return Err(e.into()),
    };
    let volume = match &listed {
        Ok(_) => Some(state.sonde.discover_volume(&user.actor, &id, f).await?),
        Err(_) => None,
    };
    let errors = listed
        .as_ref()
        .err()
        .and_then(FieldErrors::of)
        .unwrap_or_default();
    let invalid = |name: &str| errors.has(name).then_some("true");
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    // The attributes the project's documents have, offered as the filter's names.
    let names = state
        .sonde
        .discover_attribute_names(&user.actor, &id)
        .await?;
    let filters = html! {
        form.card.fields method="get" action=(project_href(&id)) id="document-filters" role="search" {
            div.filters {
                div.search { label for="f-q" { "Search the text" }
                    input type="search" id="f-q" name="q" value=(text(&f.q)) placeholder="refund card"; }
                div { label for="f-attribute" { "Attribute" }
                    input type="text" id="f-attribute" name="attribute" value=(text(&f.attribute)) placeholder="source_value"
                        list="attribute-names" aria-invalid=[invalid("attribute")] aria-describedby="f-attribute-error";
                    datalist id="attribute-names" { @for n in &names { option value=(n) {} } }
                    (errors.at("attribute", "f-attribute-error")) }
                div { label for="f-value" { "is" }
                    input type="text" id="f-value" name="value" value=(text(&f.value)); }
                div { label for="f-from" { "Dated from (UTC)" }
                    input type="date" id="f-from" name="from" value=(text(&f.from))
                        aria-invalid=[invalid("from")] aria-describedby="f-from-error";
                    (errors.at("from", "f-from-error")) }
                div { label for="f-to" { "to" }
                    input type="date" id="f-to" name="to" value=(text(&f.to))
                        aria-invalid=[invalid("to")] aria-describedby="f-to-error";
                    (errors.at("to", "f-to-error")) }
            }
            div.actions {
                button type="submit" id="apply-filters" { "Show documents" }
                @if !f.is_empty() { a.button.secondary href=(project_href(&id)) id="clear-filters" { "Clear" } }
            }
        }
    };
    let body = match &listed {
        Err(_) => html! { (errors.summary()) },
        Ok(listed) => {
            let qs = query_string(f, &[]);
            let shown_to = listed.offset + listed.documents.len() as i64;
            html! {
                div.card {
                    h2 { "Volume over time" }
                    @if let Some(v) = &volume { (crate::ui_discover_chart::volume_chart(v)) }
                }
                div.card id="documents" {
                    div.heading-row {
                        h2 id="document-count" {
                            @if f.is_empty() { (listed.total) " documents" }
                            @else { (listed.total) " of " (project.documents) " documents" }
                        }
                        a.button.secondary href={ (project_href(&id)) "/export.csv" (qs) } id="export-csv" download { "Export CSV" }
                    }
                    @if listed.documents.is_empty() {
                        p.muted id="no-documents" { @if f.is_empty() { "No documents yet: run a job that pulls into this project." } @else { "No document matches." } }
                    }
                    @for d in &listed.documents { (document_card(&id, d, f)) }
                    @if listed.total > PAGE {
                        nav.actions.pages aria-label="Pages" {
                            @if listed.offset > 0 {
                                a.button.secondary rel="prev" href={ (project_href(&id)) (query_string(f, &[("offset", (listed.offset - PAGE).max(0).to_string())])) } { "Newer" }
                            }
                            span.muted { (listed.offset + 1) "–" (shown_to) " of " (listed.total) }
                            @if shown_to < listed.total {
                                a.button.secondary rel="next" id="next-page" href={ (project_href(&id)) (query_string(f, &[("offset", shown_to.to_string())])) } { "Older" }
                            }
                        }
                    }
                }
            }
        }
    };
    let status = if listed.is_err() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(page_with_status(
        &user,
        status,
        &project.name,
        html! {
            div.wide {
                p.crumbs { a href="/discover" { "Discover" } " › " }
                h1.long { (project.name) }
                @if user.actor.role >= engine::Role::Editor {
                    p { a href={ "/discover/jobs/new?project=" (id) } id="new-job-here" { "New job pulling into this project" } }
                }
                (filters)
                (body)
            }
        },
    ))
}

fn attribute_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The attributes as label and value; each value links to the documents that share it.
/// `all`: every attribute, label beside value (the document's page); else the short ones in
/// a line (the listing).
fn attributes(project_id: &str, d: &Document, f: &DocumentQuery, all: bool) -> Markup {
    html! {
        dl class=(if all { "facts" } else { "attributes" }) {
            @for (name, value) in &d.attributes {
                @if all || !LONG_ATTRIBUTES.contains(&name.as_str()) {
                    @let value = attribute_text(value);
                    dt { (name) }
                    dd {
                        @if value.is_empty() { span.muted { "—" } }
                        @else if value.chars().count() > 80 { (value) }
                        @else {
                            @let narrowed = DocumentQuery { attribute: Some(name.clone()), value: Some(value.clone()), ..f.clone() };
                            a href={ (project_href(project_id)) (query_string(&narrowed, &[])) } title="Documents with this value" { (value) }
                        }
                    }
                }
            }
        }
    }
}

/// One document in the listing: its id, date, attributes and text (a conversation's first
/// turns).
fn document_card(project_id: &str, d: &Document, f: &DocumentQuery) -> Markup {
    html! {
        article.document {
            h3.doc-title {
                a href=(document_href(project_id, &d.natural_id)) { code { (d.natural_id) } }
                @if let Some(at) = &d.document_date { " " span.muted { (moment(at)) } }
            }
            (attributes(project_id, d, f, false))
            @match (&d.verbatim, &d.turns) {
                (Some(v), _) => { p.verbatim { (v) } }
                (None, Some(turns)) => {
                    (turn_list(&turns[..turns.len().min(PREVIEW_TURNS)]))
                    p { a href=(document_href(project_id, &d.natural_id)) {
                        "Open the conversation (" (turns.len()) " turn" @if turns.len() != 1 { "s" } ")" } }
                }
                (None, None) => { p.muted { "No text." } }
            }
        }
    }
}

/// A role as its class name and its label.
fn role(r: Role) -> (&'static str, &'static str) {
    match r {
        Role::Agent => ("agent", "Agent"),
        Role::Client => ("client", "Client"),
        Role::Bot => ("bot", "Bot"),
        Role::System => ("system", "System"),
        Role::Unknown => ("unknown", "Unknown"),
    }
}

/// A conversation's turns, each marked by its role (agent, client, bot, system, unknown):
/// a label in words and a colour, so the roles differ for everyone.
fn turn_list(turns: &[Turn]) -> Markup {
    html! {
        ol.turns {
            @for t in turns {
                @let (class, label) = role(t.role);
                li class={ "turn role-" (class) } {
                    div.who {
                        span class={ "badge role-" (class) } { (label) }
                        @if !t.name.is_empty() { " " strong.long { (t.name) } }
                        @if let Some(at) = t.time { " " span.muted { (time(at.timestamp_millis())) } }
                    }
                    p.said { (t.text) }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct DocumentPath {
    id: String,
    natural_id: String,
}

/// One document: its attributes, and its verbatim or the conversation turn by turn.
pub async fn document(
    State(state): State<AppState>,
    user: WebUser,
    Path(p): Path<DocumentPath>,
) -> PageResult {
    let project = state.sonde.discover_project(&user.actor, &p.id).await?;
    let d = state
        .sonde
        .discover_document(&user.actor, &p.id, &p.natural_id)
        .await?;
    let f = DocumentQuery::default();
    Ok(page(
        &user,
        &d.natural_id,
        html! {
            p.crumbs { a href="/discover" { "Discover" } " › " a.long href=(project_href(&p.id)) { (project.name) } " › " }
            h1 { code { (d.natural_id) } }
            @if let Some(at) = &d.document_date { p { "Dated " (moment(at)) } }
            div.card {
                h2 { "Attributes" }
                (attributes(&p.id, &d, &f, true))
            }
            div.card id="conversation" {
                @match (&d.verbatim, &d.turns) {
                    (Some(v), _) => { h2 { "Verbatim" } p.verbatim { (v) } }
                    (None, Some(turns)) => {
                        h2 { "Conversation" }
                        p.muted.legend { "Turns by role: "
                            @for r in [Role::Agent, Role::Client, Role::Bot, Role::System, Role::Unknown] {
                                @let (class, label) = role(r);
                                span class={ "badge role-" (class) } { (label) } " "
                            } }
                        @if turns.is_empty() { p.muted { "No turns." } }
                        (turn_list(turns))
                    }
                    (None, None) => { p.muted { "No text." } }
                }
            }
            @if d.turns.is_some() {
                details.hint.card {
                    summary { "As exported (one turn a line)" }
                    pre.message { (document_text(&d)) }
                }
            }
        },
    ))
}

pub async fn export_csv(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(f): Query<DocumentQuery>,
) -> PageResult {
    Ok(crate::api_discover_view::csv_response(&state.sonde, &user.actor, &id, &f).await?)
}
