//! The admin UI for linked Salesforce orgs: the list, linking (and Salesforce's return), the
//! connection check, disconnecting, and the organization's opt-out sync card (its form is in
//! `ui_opt_out_sync`). The workflow pages are in `ui_workflows` and the editor.

use crate::auth::CsrfForm;
use crate::auth::{cookie, WebUser, SESSION_COOKIE};
use crate::error::PageError;
use crate::ui_field_errors::FieldErrors;
use crate::ui_opt_out_sync::{self, OrgForm as OptOutForm};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use engine::connections::{SalesforceConnection, StartLink};
use engine::{Error, FieldProblem};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

type PageResult = Result<Response, PageError>;

use crate::ui::page_with_status;

fn when(ms: i64) -> String {
    engine::responses::rfc3339(ms)
}

// ---------------------------------------------------------------- linked orgs

#[derive(Deserialize, Default)]
pub struct LinkedQuery {
    linked: Option<String>,
    #[serde(default)]
    relinked: Option<String>,
}

pub async fn connections(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<LinkedQuery>,
) -> PageResult {
    let notice = match q.linked {
        Some(id) => state
            .sonde
            .salesforce_connections(&user.actor)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .map(|c| Notice::Ok(crate::ui_linked_orgs::linked_text(&c, q.relinked.is_some()))),
        None => None,
    };
    connections_page(&state, &user, StatusCode::OK, notice, None).await
}

enum Notice {
    Ok(String),
    Error(String, Vec<FieldProblem>),
}

fn notice_markup(n: &Notice) -> Markup {
    match n {
        Notice::Ok(text) => html! { p.ok role="status" { (text) } },
        Notice::Error(text, problems) => html! {
            div.notice role="alert" {
                p.error { (text) }
                @if !problems.is_empty() {
                    ul { @for p in problems { li { strong { (p.field) } ": " (p.message) } } }
                }
            }
        },
    }
}

async fn connections_page(
    state: &AppState,
    user: &WebUser,
    status: StatusCode,
    notice: Option<Notice>,
    check: Option<(String, Value)>,
) -> PageResult {
    opt_out_form_page(state, user, status, notice, check, None).await
}

/// The Salesforce page with the opt-out sync form as it was refused.
pub(crate) async fn page_with_opt_out_form(
    state: &AppState,
    user: &WebUser,
    form: &OptOutForm,
    errors: &FieldErrors,
) -> PageResult {
    let asked = Some((form, errors));
    opt_out_form_page(state, user, StatusCode::BAD_REQUEST, None, None, asked).await
}

async fn opt_out_form_page(
    state: &AppState,
    user: &WebUser,
    status: StatusCode,
    notice: Option<Notice>,
    check: Option<(String, Value)>,
    opt_out: Option<(&OptOutForm, &FieldErrors)>,
) -> PageResult {
    let list = state.sonde.salesforce_connections(&user.actor).await?;
    let sync = state.sonde.opt_out_sync(&user.actor).await?;
    let no_errors = FieldErrors::default();
    let sync_card = match opt_out {
        Some((form, errors)) => ui_opt_out_sync::org_card(user, &sync, Some(form), errors),
        None => ui_opt_out_sync::org_card(user, &sync, None, &no_errors),
    };
    let shown: Vec<&SalesforceConnection> = list
        .iter()
        .filter(|c| c.status != "pending" && c.status != "revoked")
        .collect();
    let linked = shown.len();
    Ok(page_with_status(
        user,
        status,
        "Salesforce",
        html! {
            h1 { "Salesforce orgs" }
            @if let Some(n) = &notice { (notice_markup(n)) }
            @if let Some((id, report)) = &check { (check_markup(id, report)) }
            div.card {
                h2 { "Linked orgs (" (linked) " of " (engine::connections::MAX_CONNECTIONS_PER_USER) ")" }
                @if shown.is_empty() {
                    p.muted { "No org linked yet. Link one below; workflows write to the orgs you link." }
                } @else {
                    @for c in &shown {
                        div.conn id={ "conn-" (c.id) } {
                            p {
                                strong { (c.label) } " "
                                span class={ "badge " (c.status) } { (c.status) }
                                br;
                                span.muted { (c.environment) " · " code.wrap { (c.login_url) } }
                                br;
                                span.muted { "Org " (c.salesforce_org_id.clone().unwrap_or_default())
                                    @if let Some(u) = &c.instance_url { " · " span.wrap { (u) } }
                                    " · linked " (when(c.created_at)) }
                                @if let Some(p) = c.paused_until.filter(|p| *p > store::now_ms()) {
                                    br; span.muted { "paused until " (when(p)) " (API limit)" }
                                }
                                @if let Some(e) = &c.last_error { br; span.error { (e) } }
                            }
                            div.actions {
                                a.button href={ "/salesforce/" (c.id) "/check" } { "Check connection" }
                                @if c.status == "active" {
                                    form.inline method="post" action={ "/salesforce/" (c.id) "/refresh-metadata" } {
                                        input type="hidden" name="csrf" value=(user.csrf);
                                        button.secondary type="submit" title="Objects and fields are read from Salesforce once and kept; read them again after changing them in Salesforce" { "Refresh objects and fields" }
                                    }
                                }
                                @if c.status != "active" {
                                    form.inline method="post" action="/salesforce/link" {
                                        input type="hidden" name="csrf" value=(user.csrf);
                                        input type="hidden" name="connection_id" value=(c.id);
                                        button type="submit" { "Reconnect" }
                                    }
                                }
                                a.button.secondary href={ "/salesforce/" (c.id) "/disconnect" } { "Disconnect" }
                            }
                        }
                    }
                }
            }
            div.card {
                h2 { "Link an org" }
                form method="post" action="/salesforce/link" {
                    input type="hidden" name="csrf" value=(user.csrf);
                    fieldset {
                        legend { "Environment" }
                        label.opt for="env-production" { input type="radio" id="env-production" name="environment" value="production" checked; span { "Production (login.salesforce.com)" } }
                        label.opt for="env-sandbox" { input type="radio" id="env-sandbox" name="environment" value="sandbox"; span { "Sandbox (test.salesforce.com)" } }
                        label.opt for="env-custom" { input type="radio" id="env-custom" name="environment" value="custom"; span { "Custom My Domain" } }
                    }
                    p {
                        label for="login-url" { "My Domain login URL (custom only)" }
                        input type="text" id="login-url" name="login_url" inputmode="url" placeholder="https://acme.my.salesforce.com";
                    }
                    button type="submit" id="link-submit" { "Link with Salesforce" }
                }
                p.muted { "You will sign in at Salesforce and allow Sonde access; you come back here afterwards. At most "
                    (engine::connections::MAX_CONNECTIONS_PER_USER) " orgs per person." }
            }
            (sync_card)
        },
    ))
}

fn check_markup(id: &str, report: &Value) -> Markup {
    let ok = report["ok"].as_bool().unwrap_or(false);
    let api = report["apiAccess"].as_bool().unwrap_or(false);
    let workflows = report["workflows"].as_array().cloned().unwrap_or_default();
    html! {
        div.card id="check-report" role="status" {
            h2 { "Connection check" } p.muted { "Link " @if let Some(l) = report["label"].as_str() { strong { (l) } " " } code { (id) } ", read from Salesforce's describe of each object your workflows use." }
            @if !api {
                p.error { "No API access: " (report["message"].as_str().unwrap_or("Salesforce refused the connection"))
                    @if let Some(code) = report["errorCode"].as_str() { " (" (code) ")" } }
                @if let Some(hint) = report["hint"].as_str() { p.muted { (hint) } }
            } @else {
                p { "API access: yes"
                    @if let Some(u) = report["user"]["username"].as_str() { " (as " (u) ")" } }
                @if workflows.is_empty() {
                    p.muted { "No workflow of yours uses this org yet." }
                } @else {
                    ul {
                        @for w in &workflows {
                            li {
                                @if w["ok"].as_bool().unwrap_or(false) { "✓ " } @else { "✗ " }
                                a href={ "/workflows/" (w["workflowId"].as_str().unwrap_or("")) } { (w["name"].as_str().unwrap_or("")) }
                                @if w["ok"].as_bool().unwrap_or(false) {
                                    ": the linked user may do everything this workflow does."
                                } @else {
                                    ul { @for p in w["problems"].as_array().into_iter().flatten() {
                                        li { strong { (p["field"].as_str().unwrap_or("")) } ": " (p["message"].as_str().unwrap_or("")) }
                                    } }
                                }
                            }
                        }
                    }
                }
                p { strong { @if ok { "Everything checks out." } @else { "Some workflows would fail; see above." } } }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct LinkForm {
    csrf: String,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    login_url: Option<String>,
    #[serde(default)]
    connection_id: Option<String>,
}

pub async fn link(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<LinkForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let input = StartLink {
        environment: form.environment.filter(|s| !s.is_empty()),
        login_url: form.login_url.filter(|s| !s.trim().is_empty()),
        connection_id: form.connection_id.filter(|s| !s.is_empty()),
    };
    match state.sonde.start_salesforce_link(&user.actor, input).await {
        Ok(url) => Ok(Redirect::to(&url).into_response()),
        Err(Error::Conflict(msg)) => {
            let n = Notice::Error(msg, Vec::new());
            connections_page(&state, &user, StatusCode::CONFLICT, Some(n), None).await
        }
        Err(Error::Invalid { message, problems }) => {
            let n = Notice::Error(message, problems);
            connections_page(&state, &user, StatusCode::BAD_REQUEST, Some(n), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct DisconnectForm {
    csrf: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// Disconnects once confirmed; before that, the page naming the workflows that would fail.
pub async fn disconnect(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<DisconnectForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    if form.confirm.as_deref() != Some("yes") {
        return crate::ui_linked_orgs::confirm_page(&state, &user, &id).await;
    }
    let done = state.sonde.disconnect_salesforce(&user.actor, &id).await?;
    let n = Notice::Ok(crate::ui_linked_orgs::disconnected_text(&done));
    connections_page(&state, &user, StatusCode::OK, Some(n), None).await
}

pub async fn check(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    let report = match state
        .sonde
        .check_salesforce_connection(&user.actor, &id)
        .await
    {
        Ok(r) => serde_json::json!(r),
        Err(Error::Invalid { message, .. }) => {
            serde_json::json!({"ok": false, "apiAccess": false, "message": message})
        }
        Err(e) => return Err(e.into()),
    };
    connections_page(&state, &user, StatusCode::OK, None, Some((id, report))).await
}

/// `POST /salesforce/{id}/refresh-metadata`: the link's kept describes forgotten, so the
/// workflow editor reads the org's objects and fields again.
pub async fn refresh_metadata(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    state
        .sonde
        .refresh_salesforce_metadata(&user.actor, &id)
        .await?;
    Ok(axum::response::Redirect::to("/salesforce").into_response())
}

#[derive(Deserialize)]
pub struct CallbackParams {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Salesforce's return to Sonde. A signed-in person lands back on `/salesforce`; a browser
/// without a Sonde session (an API client's user) gets the API layer's plain result page.
pub async fn oauth_callback(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    uri: Uri,
) -> Response {
    let session = match cookie(&headers, SESSION_COOKIE) {
        Some(v) => state.sonde.web_session(v).await.ok(),
        None => None,
    };
    let Some((actor, csrf)) = session else {
        return match Query::try_from_uri(&uri) {
            Ok(q) => crate::api_salesforce::oauth_callback(State(state), q).await,
            Err(e) => e.into_response(),
        };
    };
    let q: CallbackParams = match Query::try_from_uri(&uri) {
        Ok(Query(q)) => q,
        Err(e) => return e.into_response(),
    };
    let error = q
        .error
        .as_ref()
        .map(|e| format!("{e}: {}", q.error_description.as_deref().unwrap_or("")));
    let result = match q.state.as_deref() {
        Some(s) => {
            state
                .sonde
                .finish_salesforce_link(s, q.code.as_deref(), error.as_deref())
                .await
        }
        None => Err(Error::invalid("the callback carries no state")),
    };
    match result {
        Ok(l) => Redirect::to(&format!(
            "/salesforce?linked={}{}",
            l.connection.id,
            if l.relinked { "&relinked=1" } else { "" }
        ))
        .into_response(),
        Err(e) => {
            let user = WebUser {
                actor,
                csrf,
                outbox: state.outbox.is_some(),
            };
            let (message, problems) = match e {
                Error::Invalid { message, problems } => (message, problems),
                Error::Conflict(m) => (m, Vec::new()),
                other => return PageError(other).into_response(),
            };
            let n = Notice::Error(format!("Linking failed: {message}"), problems);
            connections_page(&state, &user, StatusCode::BAD_REQUEST, Some(n), None)
                .await
                .into_response()
        }
    }
}
