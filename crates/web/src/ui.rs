//! The admin UI: surveys (import, preview, links, responses, export), directory and mailing
//! lists (signing in is `sign_in`, the account page `account`). Every state-changing form
//! carries the session's CSRF token.

use crate::auth::WebUser;
use crate::error::PageError;
use crate::pages::{layout, Nav};
use crate::AppState;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use engine::Error;
use maud::{html, Markup};
use serde::Deserialize;

type PageResult = Result<Response, PageError>;

/// A signed-in page in the shared frame.
pub(crate) fn page(user: &WebUser, title: &str, body: Markup) -> Response {
    page_with_status(user, axum::http::StatusCode::OK, title, body)
}

pub(crate) fn page_with_status(
    user: &WebUser,
    status: axum::http::StatusCode,
    title: &str,
    body: Markup,
) -> Response {
    let nav = Nav {
        email: &user.actor.email,
        csrf: &user.csrf,
        admin: user.actor.role == engine::Role::Admin,
        outbox: user.outbox,
    };
    (status, Html(layout(title, Some(nav), body).into_string())).into_response()
}

/// A moment as `<time>`: UTC in RFC 3339, which the page's script shows in the viewer's zone.
pub(crate) fn time(ms: i64) -> Markup {
    let iso = engine::responses::rfc3339(ms);
    html! { time datetime=(iso) { (iso) } }
}

pub async fn home() -> Redirect {
    Redirect::to("/surveys")
}

#[derive(Deserialize, Default)]
pub struct SurveysQuery {
    /// `1`: the archived surveys instead.
    #[serde(default)]
    archived: String,
}

pub async fn surveys(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<SurveysQuery>,
) -> PageResult {
    if q.archived == "1" {
        return crate::ui_deletions::archived_surveys(&state, &user).await;
    }
    surveys_page(&state, &user, None).await
}

/// The surveys page; `refusal` is an import that failed, said once above the form to try again.
async fn surveys_page(state: &AppState, user: &WebUser, refusal: Option<Error>) -> PageResult {
    let surveys = state.sonde.surveys(&user.actor).await?;
    let orgs: Vec<_> = state
        .sonde
        .salesforce_connections(&user.actor)
        .await?
        .into_iter()
        .filter(|c| c.status == "active")
        .collect();
    let status = match refusal {
        Some(_) => axum::http::StatusCode::BAD_REQUEST,
        None => axum::http::StatusCode::OK,
    };
    Ok(page_with_status(
        user,
        status,
        "Surveys",
        html! {
            h1 { "Surveys" }
            @if user.actor.role >= engine::Role::Editor { p { a.button href="/surveys/new" id="new-survey" { "New survey" } } }
            @if let Some(e) = &refusal {
                div.notice role="alert" id="import-error" {
                    p.error { "The survey was not imported: " (e) }
                    @if let Error::Invalid { problems, .. } = e {
                        // Only what the message does not already say.
                        @let more: Vec<_> = problems.iter().filter(|p| !e.to_string().contains(&p.message)).collect();
                        @if !more.is_empty() { ul { @for p in more { li { strong { (p.field) } ": " (p.message) } } } }
                    }
                }
            }
            div.card {
                h2 { "Import a Qualtrics survey (.qsf) or a Sonde bundle" }
                p.muted { "A Qualtrics export (.qsf), or a Sonde bundle (a survey exported with its workflows and templates from another account or instance)." }
                form method="post" action="/surveys/import" enctype="multipart/form-data" {
                    input type="hidden" name="csrf" value=(user.csrf);
                    p { label for="qsf" { "Survey file" } input type="file" id="qsf" name="file" accept=".qsf,.json,application/json" required; }
                    @if !orgs.is_empty() {
                        p { label for="bundle-org" { "A bundle's Salesforce tasks and triggers go to" }
                            select id="bundle-org" name="connection_id" {
                                @for c in &orgs { option value=(c.id) { (c.label) } } } }
                    }
                    button type="submit" { "Import" }
                }
            }
            div.card.table-wrap {
                @if surveys.is_empty() {
                    p.muted { "No surveys yet. Import one above." }
                } @else {
                    table {
                        thead { tr { th { "Name" } th { "Questions" } th { "Updated" } } }
                        tbody {
                            @for s in &surveys {
                                tr {
                                    td { a href={ "/surveys/" (s.id) } { (s.name) } }
                                    td { (s.definition.questions.len()) }
                                    td { (engine::responses::rfc3339(s.updated_at)) }
                                }
                            }
                        }
                    }
                }
                p { a href="/surveys?archived=1" id="archived-surveys" { "Archived surveys" } }
            }
        },
    ))
}

struct Upload {
    csrf: String,
    file: Vec<u8>,
    list_id: Option<String>,
    connection_id: Option<String>,
}

async fn read_upload(mut multipart: Multipart) -> Result<Upload, PageError> {
    let mut upload = Upload {
        csrf: String::new(),
        file: Vec::new(),
        list_id: None,
        connection_id: None,
    };
    let bad = |e: axum::extract::multipart::MultipartError| {
        PageError(Error::invalid(format!("the upload could not be read: {e}")))
    };
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "csrf" => upload.csrf = field.text().await.map_err(bad)?,
            "file" => upload.file = field.bytes().await.map_err(bad)?.to_vec(),
            "list_id" => {
                let v = field.text().await.map_err(bad)?;
                upload.list_id = Some(v).filter(|v| !v.is_empty());
            }
            "connection_id" => {
                let v = field.text().await.map_err(bad)?;
                upload.connection_id = Some(v).filter(|v| !v.is_empty());
            }
            _ => {}
        }
    }
    Ok(upload)
}

pub async fn import_survey(
    State(state): State<AppState>,
    user: WebUser,
    multipart: Multipart,
) -> PageResult {
    let upload = read_upload(multipart).await?;
    user.check_csrf(&upload.csrf)?;
    let Ok(text) = String::from_utf8(upload.file) else {
        let e = Error::invalid("the file is not UTF-8 text; export the survey again as .qsf");
        return surveys_page(&state, &user, Some(e)).await;
    };
    if let Some(bundle) = crate::ui_survey_bundles::as_bundle(&text) {
        let made = match bundle {
            Ok(b) => {
                state
                    .sonde
                    .import_bundle(&user.actor, b, upload.connection_id.as_deref())
                    .await
            }
            Err(e) => Err(e),
        };
        return match made {
            Ok(made) => {
                Ok(Redirect::to(&format!("/surveys/{}/workflows", made.survey_id)).into_response())
            }
            Err(e @ Error::Invalid { .. }) => surveys_page(&state, &user, Some(e)).await,
            Err(e) => Err(e.into()),
        };
    }
    match state.sonde.import_qsf(&user.actor, &text).await {
        Ok(created) => survey_page(&state, &user, &created.survey.id, &created.warnings).await,
        Err(e @ Error::Invalid { .. }) => surveys_page(&state, &user, Some(e)).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn survey_detail(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    survey_page(&state, &user, &id, &[]).await
}

/// How many responses the survey's page shows; the responses page has them all.
const RECENT: usize = 10;

async fn survey_page(
    state: &AppState,
    user: &WebUser,
    id: &str,
    warnings: &[String],
) -> PageResult {
    let s = state.sonde.survey(&user.actor, id).await?;
    let link = state.sonde.anonymous_link(&s.id);
    let (_, responses, next) = state
        .sonde
        .select_responses(&user.actor, &s.id, &Default::default(), None, RECENT)
        .await?;
    let total = state.sonde.response_count(&user.actor, &s.id).await?;
    let versions = state.sonde.answered_versions(&s, &responses).await?;
    Ok(page(
        user,
        &s.name,
        html! {
            h1 { (s.name) }
            (crate::ui_deletions::archived_notice(user, &s))
            @if !warnings.is_empty() {
                div.notice role="status" {
                    p { strong { "Imported with " (warnings.len()) " warning(s):" } }
                    ul { @for w in warnings { li { (w) } } }
                }
            }
            (crate::ui_survey_lifecycle::lifecycle_card(state, user, &s).await?)
            div.card {
                h2 { "Anonymous link" }
                p { code.link id="anon-link" { (link) } " "
                    button type="button" class="secondary" data-copy="anon-link" { "Copy link" } }
                @if s.archived_at.is_some() {
                    p.muted { "Closed while the survey is archived: respondents are told so." }
                } @else {
                    p { a.button href={ "/s/" (s.id) "?_preview=1" } target="_blank" { "Preview" } }
                }
                p.muted { (s.definition.questions.len()) " questions in " (s.definition.blocks.len()) " blocks." }
                @if user.actor.role >= engine::Role::Editor { p { a.button href={ "/surveys/" (s.id) "/builder" } id="builder-link" { "Edit in builder" } " — questions, blocks, the survey flow and the end message" } }
                p { a href={ "/surveys/" (s.id) "/distributions" } id="distributions-tab" { "Distributions" } " — send the survey by email or text message, with reminders, and see who answered" }
                p { a href={ "/surveys/" (s.id) "/workflows" } { "Workflows" } " — send responses to Salesforce and the directory" }
                p { a href={ "/surveys/" (s.id) "/survey.qsf" } id="export-qsf" { "Export .qsf" } " — the survey as a Qualtrics file, for Qualtrics or another Sonde" }
            }
            div.card {
                h2 { "Responses (" (total) ")" }
                p {
                    a href={ "/surveys/" (s.id) "/responses" } { "All responses" } " (filter, open one) · "
                    a href={ "/surveys/" (s.id) "/dashboard" } id="dashboard-tab" { "Dashboard" } " (NPS, CSAT, charts) · "
                    a href={ "/surveys/" (s.id) "/export.csv" } { "Export CSV" } " · "
                    a href={ "/surveys/" (s.id) "/export.json" } { "Export JSON" }
                }
                @if responses.is_empty() {
                    p.muted { "No responses yet." }
                } @else {
                    (crate::ui_responses::responses_table(&versions, &responses))
                    @if next.is_some() { p.muted { "The first " (RECENT) " of " (total) "; " a href={ "/surveys/" (s.id) "/responses" } { "see them all" } "." } }
                }
            }
            div.card {
                h2 { "Share" }
                form method="post" action={ "/surveys/" (s.id) "/share" } {
                    input type="hidden" name="csrf" value=(user.csrf);
                    p { label for="share-email" { "Colleague's email" } input type="email" id="share-email" name="email" required; }
                    button type="submit" { "Share" }
                }
            }
            (crate::ui_deletions::archive_card(user, &s))
        },
    ))
}

#[derive(Deserialize)]
pub struct ShareForm {
    csrf: String,
    email: String,
}

pub async fn share_survey(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<ShareForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    state
        .sonde
        .share_survey(&user.actor, &id, &form.email)
        .await?;
    Ok(Redirect::to(&format!("/surveys/{id}")).into_response())
}

pub async fn export_csv(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    let csv = state
        .sonde
        .export_csv(&user.actor, &id, &Default::default())
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}-responses.csv\""),
            ),
        ],
        csv,
    )
        .into_response())
}

pub async fn export_json(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let (s, page, next) = state
            .sonde
            .select_responses(
                &user.actor,
                &id,
                &Default::default(),
                after.as_deref(),
                1000,
            )
            .await?;
        let versions = state.sonde.answered_versions(&s, &page).await?;
        all.extend(
            page.iter()
                .map(|r| survey::export::json_value(versions.of(r), &r.metadata, &r.data)),
        );
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}-responses.json\""),
            ),
        ],
        serde_json::json!({ "responses": all }).to_string(),
    )
        .into_response())
}

pub async fn contacts(State(state): State<AppState>, user: WebUser) -> PageResult {
    contacts_page(&state, &user, None).await
}

async fn contacts_page(
    state: &AppState,
    user: &WebUser,
    report: Option<&engine::directory::ImportReport>,
) -> PageResult {
    let contacts = state.sonde.contacts(&user.actor, None, 0, 200).await?;
    let lists = state.sonde.mailing_lists(&user.actor).await?;
    let editor = user.actor.role >= engine::Role::Editor;
    Ok(page(
        user,
        "Directory",
        html! {
            h1 { "Directory" }
            p { a href="/directory/settings" id="directory-settings" { "Settings: contact frequency rules" } }
            @if let Some(r) = report {
                // Green only when every row went in as it was; refused rows or languages to
                // check are a warning to act on.
                @let clean = r.refused == 0 && r.unknown_languages.is_empty();
                div class=(if clean { "ok" } else { "notice" }) role="status" id="import-report" {
                    p { "Imported: " (r.created) " created, " (r.updated) " updated"
                        @if r.refused > 0 { "; " strong { (r.refused) " row" @if r.refused != 1 { "s" } " refused" } } "." }
                    @if !r.unknown_languages.is_empty() {
                        p { "Language codes that are not a language — the contacts were imported with them; correct them and import again:" }
                        ul { @for u in &r.unknown_languages {
                            li { code { (u.code) } " is not a language ISO 639 knows: "
                                (u.contacts) " contact" @if u.contacts != 1 { "s" } ", line" @if u.lines.len() != 1 { "s" } " "
                                (u.lines.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", "))
                                @if u.contacts > u.lines.len() { ", …" } }
                        } }
                    }
                    @if r.errors.len() < r.refused {
                        p { "Not imported — the first " (r.errors.len()) " problems:" }
                    } @else if !r.errors.is_empty() {
                        p { "Not imported:" }
                    }
                    @if !r.errors.is_empty() {
                        ul { @for e in &r.errors {
                            li { "Line " (e.line) @if let Some(c) = &e.column { ", column " (c) } ": " (e.message) }
                        } }
                    }
                }
            }
            div.card {
                h2 { "Import contacts (CSV)" }
                form method="post" action="/contacts/import" enctype="multipart/form-data" {
                    input type="hidden" name="csrf" value=(user.csrf);
                    p { label for="csv" { "CSV file (FirstName, LastName, Email, Phone, Language, ExternalDataReference, any other column becomes embedded data)" }
                        input type="file" id="csv" name="file" accept=".csv,text/csv" required; }
                    p { label for="list" { "Add to mailing list" }
                        select id="list" name="list_id" {
                            option value="" { "(none)" }
                            @for l in &lists { option value=(l.id) { (l.name) } }
                        } }
                    button type="submit" { "Import" }
                }
            }
            div.card.table-wrap {
                table {
                    thead { tr { th { "Name" } th { "Email" } th { "Phone" } th { "Language" } th { "Subscribed" }
                        @if editor { th { span.sr { "Actions" } } } } }
                    tbody {
                        @for c in &contacts {
                            tr {
                                td { (c.first_name) " " (c.last_name) }
                                td { (c.email.clone().unwrap_or_default()) }
                                td { (c.phone.clone().unwrap_or_default()) }
                                td { (c.language.clone().unwrap_or_default()) }
                                td { @if c.unsubscribed { "Unsubscribed" } @else { "Yes" } }
                                @if editor { td { a href={ "/contacts/" (c.id) "/delete" }
                                    aria-label={ "Delete " (c.email.as_deref().unwrap_or(&c.id)) } { "Delete" } } }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// How many refused rows an import's page lists (all are counted); the API streams them all.
const UI_IMPORT_PROBLEMS: usize = 1000;

pub async fn import_contacts(
    State(state): State<AppState>,
    user: WebUser,
    multipart: Multipart,
) -> PageResult {
    let upload = read_upload(multipart).await?;
    user.check_csrf(&upload.csrf)?;
    let report = state
        .sonde
        .import_contacts_csv(
            &user.actor,
            upload.file,
            upload.list_id.as_deref(),
            UI_IMPORT_PROBLEMS,
        )
        .await?;
    contacts_page(&state, &user, Some(&report)).await
}

pub async fn lists(State(state): State<AppState>, user: WebUser) -> PageResult {
    let lists = state.sonde.mailing_lists(&user.actor).await?;
    Ok(page(
        &user,
        "Mailing lists",
        html! {
            h1 { "Mailing lists" }
            div.card {
                form method="post" action="/lists" {
                    input type="hidden" name="csrf" value=(user.csrf);
                    p { label for="list-name" { "New list name" } input type="text" id="list-name" name="name" required; }
                    button type="submit" { "Create" }
                }
            }
            div.card {
                table {
                    thead { tr { th { "List" } th { "Contacts" } } }
                    tbody { @for l in &lists { tr { td { a href={ "/lists/" (l.id) } { (l.name) } } td { (l.members) } } } }
                }
            }
        },
    ))
}

#[derive(Deserialize)]
pub struct NewListForm {
    csrf: String,
    name: String,
}

pub async fn create_list(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<NewListForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let list = state
        .sonde
        .create_mailing_list(&user.actor, &form.name)
        .await?;
    Ok(Redirect::to(&format!("/lists/{}", list.id)).into_response())
}

pub async fn list_detail(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    let list = state.sonde.mailing_list(&user.actor, &id).await?;
    let contacts = state.sonde.contacts(&user.actor, Some(&id), 0, 500).await?;
    Ok(page(
        &user,
        &list.name,
        html! {
            h1 { (list.name) }
            @if user.actor.role >= engine::Role::Editor {
                p { a href={ "/lists/" (list.id) "/delete" } id="delete-list" { "Delete this list" } " (its contacts stay in the directory)" }
            }
            div.card.table-wrap {
                table {
                    thead { tr { th { "Name" } th { "Email" } th { "Subscribed" } } }
                    tbody { @for c in &contacts { tr {
                        td { (c.first_name) " " (c.last_name) }
                        td { (c.email.clone().unwrap_or_default()) }
                        td { @if c.unsubscribed { "Unsubscribed" } @else { "Yes" } }
                    } } }
                }
            }
        },
    ))
}
