//! The admin UI for linked Salesforce orgs, a survey's workflows (editor with describe-driven
//! pickers) and their run history. Plain forms: every picker change is a submit that re-renders.

use crate::auth::{cookie, WebUser, SESSION_COOKIE};
use crate::error::PageError;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use engine::connections::{SalesforceConnection, StartLink};
use engine::workflows::{
    DirectoryAction, DirectoryTask, Event, FieldValue, Operation, SalesforceTask, Task, Workflow,
    WorkflowInput,
};
use engine::{Error, FieldProblem};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use survey::{Condition, Operator, QuestionKind, SurveyDefinition};

type PageResult = Result<Response, PageError>;

use crate::ui::{page, page_with_status};

fn when(ms: i64) -> String {
    engine::responses::rfc3339(ms)
}

/// Authored text without tags, shortened for a picker.
fn plain(s: &str, max: usize) -> String {
    let out = survey::html::to_plain(s);
    if out.chars().count() > max {
        format!("{}…", out.chars().take(max).collect::<String>())
    } else {
        out
    }
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
    let list = state.sonde.salesforce_connections(&user.actor).await?;
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
pub struct CsrfOnly {
    csrf: String,
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
            let user = WebUser { actor, csrf };
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

// ---------------------------------------------------------------- describe for pickers

struct ObjectOpt {
    name: String,
    label: String,
}

struct FieldOpt {
    name: String,
    label: String,
    kind: String,
    required: bool,
    createable: bool,
    updateable: bool,
    external_id: bool,
    reference_to: Vec<String>,
}

struct RecordTypeOpt {
    id: String,
    name: String,
    default: bool,
}

#[derive(Default)]
struct ObjectDescribe {
    fields: Vec<FieldOpt>,
    record_types: Vec<RecordTypeOpt>,
}

/// What the pickers show, read through the owner's live connections (describe is cached per
/// connection by the client; describeGlobal once per page).
#[derive(Default)]
struct Catalog {
    objects: HashMap<String, Result<Vec<ObjectOpt>, String>>,
    describes: HashMap<(String, String), Result<ObjectDescribe, String>>,
}

impl Catalog {
    async fn load(state: &AppState, own: &[SalesforceConnection], tasks: &[TaskForm]) -> Self {
        let mut cat = Catalog::default();
        for t in tasks.iter().filter(|t| t.kind == "salesforce") {
            // Only the caller's own active links are read (live_connection does not check).
            if !own
                .iter()
                .any(|c| c.id == t.connection && c.status == "active")
            {
                continue;
            }
            let conn = match state.sonde.live_connection(&t.connection).await {
                Ok(c) => c,
                Err(e) => {
                    cat.objects.insert(t.connection.clone(), Err(e.to_string()));
                    continue;
                }
            };
            if !cat.objects.contains_key(&t.connection) {
                let objects = conn.describe_global().await.map(|g| {
                    let mut v: Vec<ObjectOpt> = g
                        .sobjects
                        .iter()
                        .filter(|o| o.createable || o.updateable || o.deletable)
                        .map(|o| ObjectOpt {
                            name: o.name.clone(),
                            label: o.label.clone(),
                        })
                        .collect();
                    v.sort_by_key(|a| a.label.to_lowercase());
                    v
                });
                cat.objects.insert(
                    t.connection.clone(),
                    objects.map_err(|e| format!("Salesforce could not list objects: {e}")),
                );
            }
            if t.object.is_empty() {
                continue;
            }
            let key = (t.connection.clone(), t.object.to_ascii_lowercase());
            if cat.describes.contains_key(&key) {
                continue;
            }
            let d = conn.describe(&t.object).await.map(|d| {
                let required: Vec<String> =
                    d.required_on_create().map(|f| f.name.clone()).collect();
                ObjectDescribe {
                    fields: d
                        .fields
                        .iter()
                        .map(|f| FieldOpt {
                            name: f.name.clone(),
                            label: f.label.clone(),
                            kind: f.kind.clone(),
                            required: required.contains(&f.name),
                            createable: f.createable,
                            updateable: f.updateable,
                            external_id: f.external_id || f.id_lookup,
                            reference_to: f.reference_to.clone(),
                        })
                        .collect(),
                    record_types: d
                        .record_type_infos
                        .iter()
                        .filter(|r| r.available && !r.master)
                        .filter_map(|r| {
                            Some(RecordTypeOpt {
                                id: r.record_type_id.clone()?,
                                name: r.name.clone(),
                                default: r.default_record_type_mapping,
                            })
                        })
                        .collect(),
                }
            });
            cat.describes.insert(
                key,
                d.map_err(|e| format!("Salesforce could not describe {}: {e}", t.object)),
            );
        }
        cat
    }

    fn describe(&self, t: &TaskForm) -> Option<&Result<ObjectDescribe, String>> {
        self.describes
            .get(&(t.connection.clone(), t.object.to_ascii_lowercase()))
    }
}

/// Piped-text choices from the survey: answers, embedded data and response metadata.
fn piped_options(def: &SurveyDefinition) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for q in &def.questions {
        let text = plain(&q.text, 40);
        let tag = if q.export_tag.is_empty() {
            q.id.clone()
        } else {
            q.export_tag.clone()
        };
        let base = format!("{tag} · {text}");
        match &q.kind {
            QuestionKind::MultipleChoice { .. } => {
                out.push((
                    format!("${{q://{}/ChoiceGroup/SelectedChoices}}", q.id),
                    format!("{base} (selected choices)"),
                ));
                out.push((
                    format!("${{q://{}/SelectedChoicesRecode}}", q.id),
                    format!("{base} (recode)"),
                ));
            }
            QuestionKind::Nps { .. } | QuestionKind::TextEntry { .. } => out.push((
                format!("${{q://{}/ChoiceTextEntryValue}}", q.id),
                format!("{base} (answer)"),
            )),
            QuestionKind::Matrix { statements, .. } => {
                for s in statements {
                    out.push((
                        format!("${{q://{}/SelectedAnswerRecode/{}}}", q.id, s.id),
                        format!("{base} / {} (recode)", plain(&s.text, 30)),
                    ));
                }
            }
            QuestionKind::Slider { statements, .. } => {
                for s in statements {
                    out.push((
                        format!("${{q://{}/ChoiceNumericEntryValue/{}}}", q.id, s.id),
                        format!("{base} / {}", plain(&s.text, 30)),
                    ));
                }
            }
            _ => {}
        }
    }
    for f in survey::flow::declared_embedded_fields(def) {
        out.push((
            format!("${{e://Field/{}}}", f.name),
            format!("Embedded data · {}", f.name),
        ));
    }
    for m in survey::response::METADATA_FIELDS {
        out.push((format!("${{rm://{m}}}"), format!("Response · {m}")));
    }
    out
}

/// Condition subjects: `q:QID`, `e:Field`, `m:Field`.
fn condition_subjects(def: &SurveyDefinition) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for q in &def.questions {
        if matches!(
            q.kind,
            QuestionKind::Descriptive | QuestionKind::Timing { .. }
        ) {
            continue;
        }
        out.push((
            format!("q:{}", q.id),
            format!("Answer · {} {}", q.id, plain(&q.text, 40)),
        ));
    }
    for f in survey::flow::declared_embedded_fields(def) {
        out.push((
            format!("e:{}", f.name),
            format!("Embedded data · {}", f.name),
        ));
    }
    for m in survey::response::METADATA_FIELDS {
        out.push((format!("m:{m}"), format!("Metadata · {m}")));
    }
    out
}

const OPERATORS: &[(&str, &str)] = &[
    ("equals", "is equal to"),
    ("not_equals", "is not equal to"),
    ("selected", "has selected"),
    ("not_selected", "has not selected"),
    ("displayed", "was displayed"),
    ("greater_than", ">"),
    ("greater_or_equal", "≥"),
    ("less_than", "<"),
    ("less_or_equal", "≤"),
    ("contains", "contains"),
    ("does_not_contain", "does not contain"),
    ("is_empty", "is empty"),
    ("is_not_empty", "is not empty"),
];

const CONTACT_FIELDS: &[(&str, &str)] = &[
    ("email", "Email"),
    ("firstName", "First name"),
    ("lastName", "Last name"),
    ("phone", "Phone"),
    ("language", "Language"),
    ("extRef", "External data reference"),
];

fn op_str(op: Operator) -> String {
    serde_json::to_value(op)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

// ---------------------------------------------------------------- editor state

#[derive(Clone, Default)]
struct CondRow {
    subject: String,
    op: String,
    value: String,
}

#[derive(Clone, Default)]
struct MapRow {
    field: String,
    /// `piped` or `value`.
    kind: String,
    text: String,
}

#[derive(Clone, Default)]
struct TaskForm {
    /// `salesforce` or `directory`.
    kind: String,
    remove: bool,
    connection: String,
    operation: String,
    object: String,
    record_type: String,
    external_id: String,
    record_id: String,
    action: String,
    list: String,
    rows: Vec<MapRow>,
}

#[derive(Clone, Default)]
struct Editor {
    name: String,
    event: String,
    enabled: bool,
    any: bool,
    conds: Vec<CondRow>,
    /// Conditions the row editor cannot show (nested groups, negation): kept as they are.
    kept_conditions: Option<Condition>,
    tasks: Vec<TaskForm>,
    allow_unsigned_record_ids: bool,
    /// What the last save warned about (shown, not part of the form).
    warnings: Vec<FieldProblem>,
}

fn blank_rows(n: usize) -> Vec<MapRow> {
    (0..n)
        .map(|_| MapRow {
            kind: "piped".into(),
            ..Default::default()
        })
        .collect()
}

fn new_task(kind: &str, own: &[SalesforceConnection]) -> TaskForm {
    TaskForm {
        kind: kind.into(),
        connection: own
            .iter()
            .find(|c| c.status == "active")
            .map(|c| c.id.clone())
            .unwrap_or_default(),
        operation: "create".into(),
        action: "upsert_contact".into(),
        rows: blank_rows(3),
        ..Default::default()
    }
}

fn leaf_row(c: &Condition) -> Option<CondRow> {
    match c {
        Condition::Answer {
            question,
            statement: None,
            op,
            value,
        } => Some(CondRow {
            subject: format!("q:{question}"),
            op: op_str(*op),
            value: value.clone(),
        }),
        Condition::EmbeddedData { field, op, value } => Some(CondRow {
            subject: format!("e:{field}"),
            op: op_str(*op),
            value: value.clone(),
        }),
        Condition::Metadata { field, op, value } => Some(CondRow {
            subject: format!("m:{field}"),
            op: op_str(*op),
            value: value.clone(),
        }),
        _ => None,
    }
}

fn value_text(v: &FieldValue) -> (String, String) {
    match v {
        FieldValue::Piped(t) => ("piped".into(), t.clone()),
        FieldValue::Value(Value::String(s)) => ("value".into(), s.clone()),
        FieldValue::Value(other) => ("value".into(), other.to_string()),
    }
}

impl Editor {
    fn new_for(own: &[SalesforceConnection]) -> Self {
        Editor {
            name: String::new(),
            event: "response_created".into(),
            enabled: true,
            any: false,
            conds: vec![CondRow::default()],
            kept_conditions: None,
            tasks: vec![new_task("salesforce", own)],
            allow_unsigned_record_ids: false,
            warnings: Vec::new(),
        }
    }

    fn from_workflow(w: &Workflow) -> Self {
        let mut e = Editor {
            name: w.name.clone(),
            event: w.event.as_str().into(),
            enabled: w.enabled,
            allow_unsigned_record_ids: w.allow_unsigned_record_ids,
            warnings: w.warnings.clone(),
            ..Default::default()
        };
        match &w.conditions {
            None => {}
            Some(c) => {
                let (any, list) = match c {
                    Condition::All { conditions } => (false, conditions.clone()),
                    Condition::Any { conditions } => (true, conditions.clone()),
                    other => (false, vec![other.clone()]),
                };
                let rows: Option<Vec<CondRow>> = list.iter().map(leaf_row).collect();
                match rows {
                    Some(rows) => {
                        e.any = any;
                        e.conds = rows;
                    }
                    None => e.kept_conditions = Some(c.clone()),
                }
            }
        }
        e.conds.push(CondRow::default());
        for t in &w.tasks {
            let mut f = TaskForm::default();
            match t {
                Task::Salesforce(s) => {
                    f.kind = "salesforce".into();
                    f.connection = s.connection_id.clone();
                    f.operation = s.operation.as_str().into();
                    f.object = s.object.clone();
                    f.external_id = s.external_id_field.clone().unwrap_or_default();
                    f.record_id = s.record_id.clone().unwrap_or_default();
                    for (name, v) in &s.fields {
                        if name.eq_ignore_ascii_case("RecordTypeId") {
                            if let FieldValue::Value(Value::String(id)) = v {
                                f.record_type = id.clone();
                                continue;
                            }
                        }
                        let (kind, text) = value_text(v);
                        f.rows.push(MapRow {
                            field: name.clone(),
                            kind,
                            text,
                        });
                    }
                }
                Task::Directory(d) => {
                    f.kind = "directory".into();
                    f.action = serde_json::to_value(d.action)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    f.list = d.list_id.clone().unwrap_or_default();
                    for (name, v) in &d.fields {
                        let (kind, text) = value_text(v);
                        f.rows.push(MapRow {
                            field: name.clone(),
                            kind,
                            text,
                        });
                    }
                }
            }
            f.rows.extend(blank_rows(2));
            e.tasks.push(f);
        }
        e
    }

    /// The submitted form; a piped-text pick is appended to its row's text.
    fn from_form(pairs: &[(String, String)]) -> Self {
        let m: HashMap<&str, &str> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let get = |k: &str| m.get(k).map(|v| v.to_string()).unwrap_or_default();
        let mut e = Editor {
            name: get("name"),
            event: get("event"),
            enabled: m.contains_key("enabled"),
            allow_unsigned_record_ids: m.contains_key("allow_unsigned_record_ids"),
            any: get("match") == "any",
            kept_conditions: m
                .get("kept_conditions")
                .and_then(|s| serde_json::from_str(s).ok()),
            ..Default::default()
        };
        let mut i = 0;
        while m.contains_key(format!("c{i}_subject").as_str()) {
            e.conds.push(CondRow {
                subject: get(&format!("c{i}_subject")),
                op: get(&format!("c{i}_op")),
                value: get(&format!("c{i}_value")),
            });
            i += 1;
        }
        let mut t = 0;
        while m.contains_key(format!("t{t}_kind").as_str()) {
            let k = |s: &str| get(&format!("t{t}_{s}"));
            let mut task = TaskForm {
                kind: k("kind"),
                remove: m.contains_key(format!("t{t}_remove").as_str()),
                connection: k("connection"),
                operation: k("operation"),
                object: k("object"),
                record_type: k("record_type"),
                external_id: k("external_id"),
                record_id: k("record_id"),
                action: k("action"),
                list: k("list"),
                rows: Vec::new(),
            };
            let mut r = 0;
            while m.contains_key(format!("t{t}_m{r}_field").as_str()) {
                let rk = |s: &str| get(&format!("t{t}_m{r}_{s}"));
                let mut text = rk("text");
                let pick = rk("pick");
                if !pick.is_empty() {
                    text.push_str(&pick);
                }
                task.rows.push(MapRow {
                    field: rk("field"),
                    kind: if rk("kind") == "value" {
                        "value".into()
                    } else {
                        "piped".into()
                    },
                    text,
                });
                r += 1;
            }
            e.tasks.push(task);
            t += 1;
        }
        e
    }

    fn conditions(&self) -> Result<Option<Condition>, Vec<FieldProblem>> {
        if let Some(kept) = &self.kept_conditions {
            return Ok(Some(kept.clone()));
        }
        let mut problems = Vec::new();
        let mut list = Vec::new();
        for (i, row) in self.conds.iter().enumerate() {
            if row.subject.is_empty() {
                continue;
            }
            let op: Option<Operator> = serde_json::from_value(Value::String(row.op.clone())).ok();
            let Some(op) = op else {
                problems.push(FieldProblem {
                    field: format!("conditions[{i}].op"),
                    message: "choose an operator".into(),
                });
                continue;
            };
            let (kind, name) = row.subject.split_once(':').unwrap_or(("", ""));
            let value = row.value.clone();
            list.push(match kind {
                "q" => Condition::Answer {
                    question: name.into(),
                    statement: None,
                    op,
                    value,
                },
                "e" => Condition::EmbeddedData {
                    field: name.into(),
                    op,
                    value,
                },
                _ => Condition::Metadata {
                    field: name.into(),
                    op,
                    value,
                },
            });
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(match (list.is_empty(), self.any) {
            (true, _) => None,
            (false, true) => Some(Condition::Any { conditions: list }),
            (false, false) => Some(Condition::All { conditions: list }),
        })
    }

    fn input(&self) -> Result<WorkflowInput, Vec<FieldProblem>> {
        let conditions = self.conditions()?;
        let event = Event::parse(&self.event).unwrap_or_default();
        let mut tasks = Vec::new();
        for t in self.tasks.iter().filter(|t| !t.remove) {
            let mut fields = BTreeMap::new();
            for r in t.rows.iter().filter(|r| !r.field.is_empty()) {
                let v = if r.kind == "value" {
                    FieldValue::Value(Value::String(r.text.clone()))
                } else {
                    FieldValue::Piped(r.text.clone())
                };
                fields.insert(r.field.clone(), v);
            }
            let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
            if t.kind == "salesforce" {
                if !t.record_type.is_empty() {
                    fields.insert(
                        "RecordTypeId".into(),
                        FieldValue::Value(Value::String(t.record_type.clone())),
                    );
                }
                let operation = match t.operation.as_str() {
                    "update" => Operation::Update,
                    "upsert" => Operation::Upsert,
                    "delete" => Operation::Delete,
                    _ => Operation::Create,
                };
                tasks.push(Task::Salesforce(SalesforceTask {
                    connection_id: t.connection.clone(),
                    object: t.object.clone(),
                    operation,
                    external_id_field: opt(&t.external_id)
                        .filter(|_| operation == Operation::Upsert),
                    record_id: opt(&t.record_id)
                        .filter(|_| matches!(operation, Operation::Update | Operation::Delete)),
                    fields,
                }));
            } else {
                let action = match t.action.as_str() {
                    "add_to_list" => DirectoryAction::AddToList,
                    "unsubscribe" => DirectoryAction::Unsubscribe,
                    _ => DirectoryAction::UpsertContact,
                };
                tasks.push(Task::Directory(DirectoryTask {
                    action,
                    list_id: opt(&t.list).filter(|_| action == DirectoryAction::AddToList),
                    fields,
                }));
            }
        }
        Ok(WorkflowInput {
            name: self.name.clone(),
            event,
            enabled: self.enabled,
            conditions,
            tasks,
            allow_unsigned_record_ids: self.allow_unsigned_record_ids,
        })
    }

    /// Applies an "add …" or "refresh" button; false for "save".
    fn apply(&mut self, action: &str, own: &[SalesforceConnection]) -> bool {
        self.tasks.retain(|t| !t.remove);
        match action {
            "add_condition" => self.conds.push(CondRow::default()),
            "add_salesforce" => self.tasks.push(new_task("salesforce", own)),
            "add_directory" => self.tasks.push(new_task("directory", own)),
            a if a.starts_with("add_row_") => {
                if let Some(t) = a["add_row_".len()..]
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| self.tasks.get_mut(i))
                {
                    t.rows.extend(blank_rows(1));
                }
            }
            "save" => return false,
            _ => {}
        }
        true
    }
}

// ---------------------------------------------------------------- editor page

enum Flash {
    Saved,
    Refused(String),
}

struct EditorPage<'a> {
    title: String,
    action: String,
    survey: &'a engine::surveys::Survey,
    editor: &'a Editor,
    own: &'a [SalesforceConnection],
    lists: &'a [engine::directory::MailingList],
    catalog: &'a Catalog,
    flash: Option<Flash>,
    problems: &'a [FieldProblem],
    workflow_id: Option<String>,
    csrf: &'a str,
}

fn problems_at<'a>(problems: &'a [FieldProblem], prefix: &str) -> Vec<&'a FieldProblem> {
    problems
        .iter()
        .filter(|p| p.field == prefix || p.field.starts_with(&format!("{prefix}.")))
        .collect()
}

fn problem_list(ps: &[&FieldProblem]) -> Markup {
    html! {
        @for p in ps { p.error { (p.message) " " span.muted { "(" (p.field) ")" } } }
    }
}

fn select_options(options: &[(String, String)], current: &str, blank: &str) -> Markup {
    let known = options.iter().any(|(v, _)| v == current);
    html! {
        option value="" selected[current.is_empty()] { (blank) }
        @if !known && !current.is_empty() { option value=(current) selected { (current) } }
        @for (v, l) in options { option value=(v) selected[v == current] { (l) } }
    }
}

fn editor_markup(p: &EditorPage) -> Markup {
    let e = p.editor;
    let def = &p.survey.definition;
    let subjects = condition_subjects(def);
    let piped = piped_options(def);
    let ops: Vec<(String, String)> = OPERATORS
        .iter()
        .map(|(v, l)| (v.to_string(), l.to_string()))
        .collect();
    let name_problems = problems_at(p.problems, "name");
    let task_problems = problems_at(p.problems, "tasks")
        .into_iter()
        .filter(|x| x.field == "tasks")
        .collect::<Vec<_>>();
    let cond_problems = problems_at(p.problems, "conditions");
    html! {
        p { a href={ "/surveys/" (p.survey.id) "/workflows" } { "← Workflows of " (p.survey.name) } }
        h1 { (p.title) }
        @if let Some(Flash::Saved) = &p.flash {
            p.ok role="status" id="saved" { "Workflow saved." }
        }
        @if !e.warnings.is_empty() {
            div.notice role="status" id="warnings" {
                p { strong { "Worth knowing about this workflow:" } }
                ul { @for x in &e.warnings { li { strong { (x.field) } ": " (x.message) } } }
            }
        }
        @if let Some(Flash::Refused(err)) = &p.flash {
            div.notice role="alert" id="form-errors" {
                p.error { (err) }
                @if !p.problems.is_empty() {
                    ul { @for x in p.problems { li { strong { (x.field) } ": " (x.message) } } }
                }
            }
        }
        form method="post" action=(p.action) id="workflow-form" {
            // Enter in a text box saves.
            button.sr type="submit" name="action" value="save" tabindex="-1" aria-hidden="true" { "Save" }
            input type="hidden" name="csrf" value=(p.csrf);
            @if let Some(kept) = &e.kept_conditions {
                input type="hidden" name="kept_conditions" value=(serde_json::to_string(kept).unwrap_or_default());
            }
            div.card {
                p {
                    label for="wf-name" { "Name" }
                    input type="text" id="wf-name" name="name" value=(e.name) required aria-describedby=[(!name_problems.is_empty()).then_some("name-errors")];
                    span id="name-errors" { (problem_list(&name_problems)) }
                }
                p {
                    label for="wf-event" { "When" }
                    select id="wf-event" name="event" {
                        @for (v, l) in [("response_created", "A response is recorded (new)"), ("response_updated", "A response is updated"), ("incomplete_closed", "An incomplete response is closed")] {
                            option value=(v) selected[e.event == v] { (l) }
                        }
                    }
                }
                label.opt for="wf-enabled" { input type="checkbox" id="wf-enabled" name="enabled" checked[e.enabled]; span { "Enabled" } }
                label.opt for="wf-allow-unsigned" {
                    input type="checkbox" id="wf-allow-unsigned" name="allow_unsigned_record_ids" checked[e.allow_unsigned_record_ids];
                    span { "Let update, delete and upsert tasks use record ids a respondent could have chosen (link parameters that are not signed, answers)" }
                }
            }
            fieldset.card id="conditions" {
                legend { "Conditions (optional)" }
                (problem_list(&cond_problems))
                @if e.kept_conditions.is_some() {
                    p.notice { "These conditions use nesting the form cannot show; they are kept as they are. Edit them through the API." }
                } @else {
                    p {
                        label for="wf-match" { "Run the tasks when" }
                        select id="wf-match" name="match" {
                            option value="all" selected[!e.any] { "all of these hold" }
                            option value="any" selected[e.any] { "any of these holds" }
                        }
                    }
                    @for (i, c) in e.conds.iter().enumerate() {
                        div.row {
                            div { label for={ "c" (i) "_subject" } { "Test" }
                                select id={ "c" (i) "_subject" } name={ "c" (i) "_subject" } { (select_options(&subjects, &c.subject, "(no condition)")) } }
                            div { label for={ "c" (i) "_op" } { "Operator" }
                                select id={ "c" (i) "_op" } name={ "c" (i) "_op" } { (select_options(&ops, &c.op, "—")) } }
                            div { label for={ "c" (i) "_value" } { "Value" }
                                input type="text" id={ "c" (i) "_value" } name={ "c" (i) "_value" } value=(c.value); }
                        }
                    }
                    div.actions { button.secondary type="submit" name="action" value="add_condition" { "Add condition row" } }
                }
            }
            h2 { "Tasks, in order" }
            (problem_list(&task_problems))
            @for (t, task) in e.tasks.iter().enumerate() {
                (task_markup(p, t, task, &piped))
            }
            div.actions {
                button.secondary type="submit" name="action" value="add_salesforce" { "Add Salesforce task" }
                button.secondary type="submit" name="action" value="add_directory" { "Add Directory task" }
            }
            div.actions {
                button type="submit" name="action" value="save" id="save" { "Save workflow" }
            }
        }
        @if let Some(id) = &p.workflow_id {
            div.card {
                p { a href={ "/workflows/" (id) "/runs" } { "Run history" } }
                form method="post" action={ "/workflows/" (id) "/delete" } {
                    input type="hidden" name="csrf" value=(p.csrf);
                    button.secondary type="submit" { "Delete this workflow" }
                }
            }
        }
        script { (PreEscaped(EDITOR_SCRIPT)) }
    }
}

/// Optional conveniences: a picker change refreshes the form (the button does it without JS).
const EDITOR_SCRIPT: &str = r#"
document.querySelectorAll('select[data-refresh]').forEach(function(s){
  s.addEventListener('change',function(){var b=document.getElementById('refresh-'+s.dataset.refresh);if(b){b.click();}});
});
"#;

fn task_markup(p: &EditorPage, t: usize, task: &TaskForm, piped: &[(String, String)]) -> Markup {
    let prefix = format!("tasks[{t}]");
    let all = problems_at(p.problems, &prefix);
    let id = |s: &str| format!("t{t}_{s}");
    let own_problem = |s: &str| {
        all.iter()
            .copied()
            .filter(|x| x.field == format!("{prefix}.{s}"))
            .collect::<Vec<_>>()
    };
    let mapped: Vec<String> = task
        .rows
        .iter()
        .map(|r| r.field.to_ascii_lowercase())
        .collect();
    let field_problem = |name: &str| {
        all.iter()
            .copied()
            .filter(|x| {
                x.field
                    .strip_prefix(&format!("{prefix}.fields."))
                    .is_some_and(|f| f.eq_ignore_ascii_case(name))
            })
            .collect::<Vec<_>>()
    };
    // Field problems with no row to sit beside (a required field left unmapped).
    let loose: Vec<&FieldProblem> = all
        .iter()
        .copied()
        .filter(|x| {
            x.field
                .strip_prefix(&format!("{prefix}.fields."))
                .is_some_and(|f| {
                    let picked_record_type =
                        f.eq_ignore_ascii_case("RecordTypeId") && !task.record_type.is_empty();
                    !(mapped.contains(&f.to_ascii_lowercase()) || picked_record_type)
                })
        })
        .collect();
    let title = if task.kind == "salesforce" {
        "Salesforce"
    } else {
        "Directory"
    };
    html! {
        fieldset.task id={ "task-" (t) } {
            legend { "Task " (t + 1) ": " (title) }
            input type="hidden" name=(id("kind")) value=(task.kind);
            @if task.kind == "salesforce" {
                @let describe = p.catalog.describe(task);
                @let fields: &[FieldOpt] = match describe { Some(Ok(d)) => &d.fields, _ => &[] };
                div.row {
                    div {
                        label for=(id("connection")) { "Salesforce org" }
                        select id=(id("connection")) name=(id("connection")) data-refresh=(t) {
                            @let opts: Vec<(String, String)> = p.own.iter().filter(|c| c.status == "active").map(|c| (c.id.clone(), c.label.clone())).collect();
                            (select_options(&opts, &task.connection, "(choose an org)"))
                        }
                        (problem_list(&own_problem("connectionId")))
                        @if p.own.iter().all(|c| c.status != "active") {
                            p.muted { a href="/salesforce" { "Link a Salesforce org" } " first." }
                        }
                    }
                    div {
                        label for=(id("operation")) { "Operation" }
                        select id=(id("operation")) name=(id("operation")) {
                            @for (v, l) in [("create", "Create a record"), ("update", "Update a record"), ("upsert", "Upsert on an external id"), ("delete", "Delete a record")] {
                                option value=(v) selected[task.operation == v] { (l) }
                            }
                        }
                    }
                    div {
                        label for=(id("object")) { "Object" }
                        select id=(id("object")) name=(id("object")) data-refresh=(t) {
                            @let opts: Vec<(String, String)> = match p.catalog.objects.get(&task.connection) {
                                Some(Ok(objs)) => objs.iter().map(|o| (o.name.clone(), format!("{} ({})", o.label, o.name))).collect(),
                                _ => Vec::new(),
                            };
                            (select_options(&opts, &task.object, "(choose an object)"))
                        }
                        (problem_list(&own_problem("object")))
                        @if let Some(Err(e)) = p.catalog.objects.get(&task.connection) { p.error { (e) } }
                    }
                    div {
                        button.secondary type="submit" name="action" value="refresh" id={ "refresh-" (t) } { "Load fields" }
                    }
                }
                @if let Some(Err(e)) = describe { p.error { (e) } }
                div.row {
                    div {
                        label for=(id("record_type")) { "Record type" }
                        select id=(id("record_type")) name=(id("record_type")) {
                            @let opts: Vec<(String, String)> = match describe {
                                Some(Ok(d)) => d.record_types.iter().map(|r| (r.id.clone(), if r.default { format!("{} (default)", r.name) } else { r.name.clone() })).collect(),
                                _ => Vec::new(),
                            };
                            (select_options(&opts, &task.record_type, "(the user's default)"))
                        }
                        (problem_list(&field_problem("RecordTypeId").into_iter().filter(|_| !task.record_type.is_empty()).collect::<Vec<_>>()))
                    }
                    div {
                        label for=(id("external_id")) { "External id field (upsert)" }
                        select id=(id("external_id")) name=(id("external_id")) {
                            @let opts: Vec<(String, String)> = fields.iter().filter(|f| f.external_id).map(|f| (f.name.clone(), f.name.clone())).collect();
                            (select_options(&opts, &task.external_id, "(none)"))
                        }
                        (problem_list(&own_problem("externalIdField")))
                    }
                    div {
                        label for=(id("record_id")) { "Record id (update, delete)" }
                        input type="text" id=(id("record_id")) name=(id("record_id")) value=(task.record_id) placeholder="${e://Field/sfCaseId}";
                        (problem_list(&own_problem("recordId")))
                    }
                }
                @let required: Vec<&FieldOpt> = fields.iter().filter(|f| f.required).collect();
                @if !required.is_empty() {
                    p.muted { "Required on create: " @for (i, f) in required.iter().enumerate() { @if i > 0 { ", " } code { (f.name) } } }
                }
                @let field_opts: Vec<(String, String)> = fields.iter().filter(|f| f.createable || f.updateable).map(|f| {
                    let mut l = format!("{} — {} ({}", f.name, f.label, f.kind);
                    if !f.reference_to.is_empty() { l.push_str(&format!(" → {}", f.reference_to.join("/"))); }
                    if f.required { l.push_str(", required"); }
                    if !f.createable { l.push_str(", not createable"); }
                    if !f.updateable { l.push_str(", not updateable"); }
                    l.push(')');
                    (f.name.clone(), l)
                }).collect();
                (mapping_rows(t, task, &field_opts, piped, &field_problem))
            } @else {
                div.row {
                    div {
                        label for=(id("action")) { "Action" }
                        select id=(id("action")) name=(id("action")) {
                            @for (v, l) in [("upsert_contact", "Add or update the contact"), ("add_to_list", "Add the contact to a mailing list"), ("unsubscribe", "Unsubscribe the contact")] {
                                option value=(v) selected[task.action == v] { (l) }
                            }
                        }
                    }
                    div {
                        label for=(id("list")) { "Mailing list (add to list)" }
                        select id=(id("list")) name=(id("list")) {
                            @let opts: Vec<(String, String)> = p.lists.iter().map(|l| (l.id.clone(), l.name.clone())).collect();
                            (select_options(&opts, &task.list, "(none)"))
                        }
                        (problem_list(&own_problem("listId")))
                    }
                }
                @let field_opts: Vec<(String, String)> = CONTACT_FIELDS.iter().map(|(v, l)| (v.to_string(), l.to_string())).collect();
                (mapping_rows(t, task, &field_opts, piped, &field_problem))
            }
            (problem_list(&loose))
            label.opt for=(id("remove")) { input type="checkbox" id=(id("remove")) name=(id("remove")); span { "Remove this task when saving" } }
        }
    }
}

fn mapping_rows<'p>(
    t: usize,
    task: &TaskForm,
    field_opts: &[(String, String)],
    piped: &[(String, String)],
    field_problem: &dyn Fn(&str) -> Vec<&'p FieldProblem>,
) -> Markup {
    html! {
        h3 { "Field mapping" }
        @for (r, row) in task.rows.iter().enumerate() {
            @let id = |s: &str| format!("t{t}_m{r}_{s}");
            div.row id={ "t" (t) "-row-" (r) } {
                div {
                    label for=(id("field")) { "Field" }
                    select id=(id("field")) name=(id("field")) { (select_options(field_opts, &row.field, "(unused row)")) }
                }
                div {
                    label for=(id("kind")) { "Value is" }
                    select id=(id("kind")) name=(id("kind")) {
                        option value="piped" selected[row.kind != "value"] { "Piped text" }
                        option value="value" selected[row.kind == "value"] { "Specified value" }
                    }
                }
                div {
                    label for=(id("text")) { "Text or value" }
                    input type="text" id=(id("text")) name=(id("text")) value=(row.text);
                }
                div {
                    label for=(id("pick")) { "Insert piped text" }
                    select id=(id("pick")) name=(id("pick")) { (select_options(piped, "", "—")) }
                }
                @if !row.field.is_empty() { div style="grid-column:1/-1" { (problem_list(&field_problem(&row.field))) } }
            }
        }
        div.actions { button.secondary type="submit" name="action" value={ "add_row_" (t) } { "Add mapping row" } }
    }
}

// ---------------------------------------------------------------- workflow pages

fn event_label(e: Event) -> &'static str {
    match e {
        Event::ResponseCreated => "Response recorded",
        Event::ResponseUpdated => "Response updated",
        Event::IncompleteClosed => "Incomplete response closed",
    }
}

fn condition_summary(c: &Condition) -> String {
    let leaf = |subject: &str, op: Operator, value: &str| {
        let op_label = OPERATORS
            .iter()
            .find(|(v, _)| *v == op_str(op))
            .map_or("?", |(_, l)| l);
        if value.is_empty() {
            format!("{subject} {op_label}")
        } else {
            format!("{subject} {op_label} {value}")
        }
    };
    match c {
        Condition::All { conditions } => conditions
            .iter()
            .map(condition_summary)
            .collect::<Vec<_>>()
            .join(" and "),
        Condition::Any { conditions } => format!(
            "({})",
            conditions
                .iter()
                .map(condition_summary)
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        Condition::Not { condition } => format!("not ({})", condition_summary(condition)),
        Condition::Answer {
            question,
            op,
            value,
            ..
        } => leaf(question, *op, value),
        Condition::EmbeddedData { field, op, value } => leaf(field, *op, value),
        Condition::Metadata { field, op, value } => leaf(field, *op, value),
    }
}

fn task_summary(t: &Task) -> String {
    match t {
        Task::Salesforce(s) => format!(
            "Salesforce: {} {} ({} field{})",
            s.operation.as_str(),
            s.object,
            s.fields.len(),
            if s.fields.len() == 1 { "" } else { "s" }
        ),
        Task::Directory(d) => format!(
            "Directory: {}",
            match d.action {
                DirectoryAction::UpsertContact => "add or update the contact",
                DirectoryAction::AddToList => "add to mailing list",
                DirectoryAction::Unsubscribe => "unsubscribe",
            }
        ),
    }
}

async fn owner_email(state: &AppState, user: &WebUser, owner_id: &str) -> String {
    if owner_id == user.actor.user_id {
        return "you".into();
    }
    match state
        .sonde
        .store
        .user_in_org(&user.actor.org_id, owner_id)
        .await
    {
        Ok(Some(u)) => u.email,
        _ => "another user".into(),
    }
}

pub async fn workflows(
    State(state): State<AppState>,
    user: WebUser,
    Path(survey_id): Path<String>,
) -> PageResult {
    let survey = state.sonde.survey(&user.actor, &survey_id).await?;
    let list = state.sonde.workflows(&user.actor, &survey.id).await?;
    let mut owners = HashMap::new();
    for w in &list {
        if !owners.contains_key(&w.owner_id) {
            owners.insert(
                w.owner_id.clone(),
                owner_email(&state, &user, &w.owner_id).await,
            );
        }
    }
    Ok(page(
        &user,
        &format!("Workflows · {}", survey.name),
        html! {
            p { a href={ "/surveys/" (survey.id) } { "← " (survey.name) } }
            h1 { "Workflows" }
            p { a.button href={ "/surveys/" (survey.id) "/workflows/new" } { "New workflow" } }
            div.card {
                @if list.is_empty() {
                    p.muted { "No workflows yet. A workflow turns each matching response into Salesforce records or directory changes." }
                } @else {
                    @for w in &list {
                        div.conn {
                            h2 style="font-size:1.1rem;margin:.2rem 0" { a href={ "/workflows/" (w.id) } { (w.name) } }
                            p {
                                strong { "When: " } (event_label(w.event))
                                @if !w.enabled { " " span.badge { "disabled" } }
                                br;
                                strong { "Conditions: " } @match &w.conditions { Some(c) => (condition_summary(c)), None => span.muted { "always" } }
                                br;
                                strong { "Owner: " } (owners.get(&w.owner_id).cloned().unwrap_or_default())
                            }
                            ol { @for t in &w.tasks { li { (task_summary(t)) } } }
                            p { a href={ "/workflows/" (w.id) "/runs" } { "Run history" } }
                        }
                    }
                }
            }
        },
    ))
}

struct EditorContext {
    survey: engine::surveys::Survey,
    own: Vec<SalesforceConnection>,
    lists: Vec<engine::directory::MailingList>,
}

async fn editor_context(
    state: &AppState,
    user: &WebUser,
    survey_id: &str,
) -> Result<EditorContext, PageError> {
    Ok(EditorContext {
        survey: state.sonde.survey(&user.actor, survey_id).await?,
        own: state.sonde.salesforce_connections(&user.actor).await?,
        lists: state.sonde.mailing_lists(&user.actor).await?,
    })
}

#[allow(clippy::too_many_arguments)]
async fn render_editor(
    state: &AppState,
    user: &WebUser,
    status: StatusCode,
    ctx: &EditorContext,
    editor: &Editor,
    workflow_id: Option<String>,
    flash: Option<Flash>,
    problems: &[FieldProblem],
) -> Response {
    let catalog = Catalog::load(state, &ctx.own, &editor.tasks).await;
    let (title, action) = match &workflow_id {
        Some(id) => (
            format!("Edit workflow: {}", editor.name),
            format!("/workflows/{id}"),
        ),
        None => (
            "New workflow".to_string(),
            format!("/surveys/{}/workflows/new", ctx.survey.id),
        ),
    };
    let p = EditorPage {
        title: title.clone(),
        action,
        survey: &ctx.survey,
        editor,
        own: &ctx.own,
        lists: &ctx.lists,
        catalog: &catalog,
        flash,
        problems,
        workflow_id,
        csrf: &user.csrf,
    };
    page_with_status(user, status, &title, editor_markup(&p))
}

pub async fn new_workflow(
    State(state): State<AppState>,
    user: WebUser,
    Path(survey_id): Path<String>,
) -> PageResult {
    // A viewer could fill the editor in but never save it: say so before they start.
    user.actor.require(engine::Role::Editor)?;
    let ctx = editor_context(&state, &user, &survey_id).await?;
    let editor = Editor::new_for(&ctx.own);
    Ok(render_editor(
        &state,
        &user,
        StatusCode::OK,
        &ctx,
        &editor,
        None,
        None,
        &[],
    )
    .await)
}

fn form_value<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

/// Saves or re-renders (an "add"/"load fields" button); engine refusals come back beside
/// the fields they name.
async fn submit_editor(
    state: &AppState,
    user: &WebUser,
    ctx: &EditorContext,
    pairs: &[(String, String)],
    workflow_id: Option<String>,
) -> PageResult {
    user.check_csrf(form_value(pairs, "csrf"))?;
    let mut editor = Editor::from_form(pairs);
    let action = form_value(pairs, "action");
    let action = if action.is_empty() { "save" } else { action };
    if editor.apply(action, &ctx.own) {
        return Ok(render_editor(
            state,
            user,
            StatusCode::OK,
            ctx,
            &editor,
            workflow_id,
            None,
            &[],
        )
        .await);
    }
    let input = match editor.input() {
        Ok(i) => i,
        Err(problems) => {
            return Ok(render_editor(
                state,
                user,
                StatusCode::BAD_REQUEST,
                ctx,
                &editor,
                workflow_id,
                Some(Flash::Refused("Some conditions are incomplete.".into())),
                &problems,
            )
            .await)
        }
    };
    let saved = match &workflow_id {
        Some(id) => state.sonde.update_workflow(&user.actor, id, input).await,
        None => {
            state
                .sonde
                .create_workflow(&user.actor, &ctx.survey.id, input)
                .await
        }
    };
    match saved {
        Ok(w) => Ok(Redirect::to(&format!("/workflows/{}?saved=1", w.id)).into_response()),
        Err(Error::Invalid { message, problems }) => Ok(render_editor(
            state,
            user,
            StatusCode::BAD_REQUEST,
            ctx,
            &editor,
            workflow_id,
            Some(Flash::Refused(message)),
            &problems,
        )
        .await),
        Err(e) => Err(e.into()),
    }
}

pub async fn create_workflow(
    State(state): State<AppState>,
    user: WebUser,
    Path(survey_id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    user.actor.require(engine::Role::Editor)?;
    let ctx = editor_context(&state, &user, &survey_id).await?;
    submit_editor(&state, &user, &ctx, &pairs, None).await
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn workflow(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> PageResult {
    let w = state.sonde.workflow(&user.actor, &id).await?;
    let ctx = editor_context(&state, &user, &w.survey_id).await?;
    if w.owner_id != user.actor.user_id {
        return read_only(&state, &user, &ctx, &w, StatusCode::OK, None).await;
    }
    let editor = Editor::from_workflow(&w);
    let saved = q.saved.is_some();
    Ok(render_editor(
        &state,
        &user,
        StatusCode::OK,
        &ctx,
        &editor,
        Some(w.id.clone()),
        saved.then_some(Flash::Saved),
        &[],
    )
    .await)
}

/// Someone else's workflow: shown, not editable, with an offer to copy it.
async fn read_only(
    state: &AppState,
    user: &WebUser,
    ctx: &EditorContext,
    w: &Workflow,
    status: StatusCode,
    refusal: Option<String>,
) -> PageResult {
    // Same rule as the engine's update: only the owner edits.
    let owner = owner_email(state, user, &w.owner_id).await;
    let refusal = refusal.unwrap_or_else(|| {
        format!("Only this workflow's owner ({owner}) can change it: its Salesforce tasks use the owner's linked orgs. You can make your own copy, bound to your orgs.")
    });
    Ok(page_with_status(
        user,
        status,
        &w.name,
        html! {
            p { a href={ "/surveys/" (ctx.survey.id) "/workflows" } { "← Workflows of " (ctx.survey.name) } }
            h1 { (w.name) }
            p.notice role="alert" id="refusal" { (refusal) }
            form method="post" action={ "/workflows/" (w.id) "/copy" } {
                input type="hidden" name="csrf" value=(user.csrf);
                button type="submit" { "Copy to my account" }
            }
            div.card {
                p { strong { "Owner: " } (owner) }
                p { strong { "When: " } (event_label(w.event)) }
                p { strong { "Conditions: " } @match &w.conditions { Some(c) => (condition_summary(c)), None => "always" } }
                p { strong { "Enabled: " } @if w.enabled { "yes" } @else { "no" } }
                @for (i, t) in w.tasks.iter().enumerate() {
                    h2 { "Task " (i + 1) ": " (task_summary(t)) }
                    @let fields = match t { Task::Salesforce(s) => &s.fields, Task::Directory(d) => &d.fields };
                    table {
                        thead { tr { th { "Field" } th { "Value" } } }
                        tbody { @for (k, v) in fields { tr { td { code { (k) } } td { @match v {
                            FieldValue::Piped(s) => code { (s) },
                            FieldValue::Value(v) => { (v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())) " " span.muted { "(specified)" } },
                        } } } } }
                    }
                }
            }
            p { a href={ "/workflows/" (w.id) "/runs" } { "Run history" } }
        },
    ))
}

pub async fn update_workflow(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let w = state.sonde.workflow(&user.actor, &id).await?;
    let ctx = editor_context(&state, &user, &w.survey_id).await?;
    if w.owner_id != user.actor.user_id {
        user.check_csrf(form_value(&pairs, "csrf"))?;
        return read_only(&state, &user, &ctx, &w, StatusCode::FORBIDDEN, None).await;
    }
    submit_editor(&state, &user, &ctx, &pairs, Some(id)).await
}

pub async fn delete_workflow(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let w = state.sonde.workflow(&user.actor, &id).await?;
    state.sonde.delete_workflow(&user.actor, &id).await?;
    Ok(Redirect::to(&format!("/surveys/{}/workflows", w.survey_id)).into_response())
}

pub async fn copy_workflow(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let copy = state.sonde.copy_workflow(&user.actor, &id, None).await?;
    Ok(Redirect::to(&format!("/workflows/{}?saved=1", copy.id)).into_response())
}

// ---------------------------------------------------------------- run history

#[derive(Deserialize, Default)]
pub struct RunsQuery {
    status: Option<String>,
    retried: Option<String>,
}

pub async fn runs(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(q): Query<RunsQuery>,
) -> PageResult {
    let w = state.sonde.workflow(&user.actor, &id).await?;
    let status = q.status.as_deref().filter(|s| !s.is_empty());
    let (runs, counts) = state
        .sonde
        .workflow_runs(&user.actor, &id, status, 200)
        .await?;
    Ok(page(
        &user,
        &format!("Runs · {}", w.name),
        html! {
            p { a href={ "/workflows/" (w.id) } { "← " (w.name) } }
            h1 { "Run history" }
            @if let Some(r) = &q.retried { p.ok role="status" { "Run " code { (r) } " is queued again." } }
            p {
                a href={ "/workflows/" (w.id) "/runs" } { "All" }
                @for (s, n) in &counts { " · " a href={ "/workflows/" (w.id) "/runs?status=" (s) } { (s) " (" (n) ")" } }
            }
            @if runs.is_empty() {
                div.card { p.muted { "No runs yet. A run is recorded each time a response fires this workflow." } }
            }
            @for r in &runs {
                div.card id={ "run-" (r.id) } {
                    h2 style="font-size:1.05rem" {
                        span class={ "badge " (r.status) } { (r.status) } " " (when(r.created_at))
                    }
                    p {
                        "Trigger: " (r.trigger) " · response " code { (r.response_id) }
                        " · conditions: " @match r.condition_met { Some(true) => "met", Some(false) => "not met", None => "not evaluated yet" }
                        " · attempts: " (r.attempts)
                    }
                    @if let Some(e) = &r.error { p.error { (e) } }
                    @if !r.tasks.is_empty() {
                        ol.tasks {
                            @for t in &r.tasks {
                                li {
                                    code.wrap { (t.kind) } " "
                                    span class={ "badge " (t.status) } { (t.status) } @if t.created == Some(true) { " (created)" }
                                    br;
                                    span.muted { "attempts: " (t.attempts) }
                                    @if let Some(id) = &t.record_id { " · record " code.record-id { (id) } }
                                    @if let Some(e) = &t.error { br; span.error { "Salesforce says: " (e) } }
                                }
                            }
                        }
                    }
                    @if r.status == "failed" {
                        form method="post" action={ "/workflows/" (w.id) "/runs/" (r.id) "/retry" } {
                            input type="hidden" name="csrf" value=(user.csrf);
                            button type="submit" { "Retry" }
                        }
                    }
                }
            }
        },
    ))
}

pub async fn retry(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, run_id)): Path<(String, String)>,
    Form(form): Form<CsrfOnly>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let run = state.sonde.retry_run(&user.actor, &id, &run_id).await?;
    Ok(Redirect::to(&format!("/workflows/{id}/runs?retried={}", run.id)).into_response())
}
