//! The Discover job form: what to pull (project, a linked org or the job's own account with
//! its credential's expiry, the API version, data type, SOQL with a Validate button that shows
//! the problem's line and column, or the object, the date fields to follow and the org's API
//! versions), how (participants, redaction, substitutions, mappings, a filter, deleted records,
//! limit, duplicates, the Bulk API threshold) and when (cron, and who is mailed when runs end).
//! A refused form comes back with each problem beside its field and what was typed kept —
//! except the secret and the password, which are never written back into a page.

use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::page_with_status;
use crate::ui_field_errors::FieldErrors;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use engine::discover::query::{QueryToValidate, ValidatedQuery};
use engine::discover::source::{ApiVersionOffered, JobAccount, VersionsOf};
use engine::discover::JobSettings;
use engine::{Error, FieldProblem, Role};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Map, Value};

type PageResult = Result<Response, PageError>;

const DATA_TYPES: &[(&str, &str)] = &[
    ("chat", "Chat transcripts (LiveChatTranscript), as turns"),
    (
        "messaging",
        "Messaging sessions (ConversationEntry), as turns",
    ),
    ("feedback", "Feedback: one text per record"),
];
const PARTICIPANTS: &[(&str, &str)] = &[
    ("auto", "Auto: told by their names"),
    ("first_agent", "The first is an agent"),
    ("first_client", "The first is a client"),
];
const DETECTORS: &[(&str, &str)] = &[
    ("card", "Card numbers"),
    ("iban", "IBANs"),
    ("email", "Email addresses"),
    ("phone", "Phone numbers"),
    ("ssn", "US Social Security numbers"),
];
const NOTICES: &[(&str, &str)] = &[
    ("failure", "A run fails"),
    ("success", "A run succeeds"),
    ("completion", "Any run ends (cancelled too)"),
];
const FILTER_OPS: &[&str] = &["equals", "not_equals", "contains", "in"];
const DUPLICATES: &[(&str, &str)] = &[
    ("skip", "Keep the first (skip)"),
    ("replace", "Replace it"),
    ("update", "Update its attributes and text"),
];

/// The form as posted; every field text, so a refused form shows exactly what was typed.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct JobForm {
    csrf: String,
    /// `validate` checks the query only; anything else saves.
    action: String,
    name: String,
    description: String,
    project_id: String,
    /// `linked` (a linked org) or `own` (the job's own account).
    account_kind: String,
    connection_id: String,
    client_id: String,
    client_secret: String,
    username: String,
    password: String,
    login_url: String,
    test_environment: Option<String>,
    credential_expires_on: String,
    reminder_days_before: String,
    api_version: String,
    data_type: String,
    soql: String,
    date_field: String,
    fixed_document_date: String,
    participants: String,
    redact_card: Option<String>,
    redact_iban: Option<String>,
    redact_email: Option<String>,
    redact_phone: Option<String>,
    redact_ssn: Option<String>,
    substitutions: String,
    mappings: String,
    filter: String,
    include_deleted: Option<String>,
    record_limit: String,
    duplicates: String,
    bulk_threshold: String,
    schedule: String,
    notify_emails: String,
    notify_failure: Option<String>,
    notify_success: Option<String>,
    notify_completion: Option<String>,
}

impl JobForm {
    fn redacts(&self, detector: &str) -> bool {
        match detector {
            "card" => self.redact_card.is_some(),
            "iban" => self.redact_iban.is_some(),
            "email" => self.redact_email.is_some(),
            "phone" => self.redact_phone.is_some(),
            "ssn" => self.redact_ssn.is_some(),
            _ => false,
        }
    }

    fn own_account(&self) -> bool {
        self.account_kind == "own"
    }

    fn notifies_on(&self, on: &str) -> bool {
        match on {
            "failure" => self.notify_failure.is_some(),
            "success" => self.notify_success.is_some(),
            "completion" => self.notify_completion.is_some(),
            _ => false,
        }
    }

    /// The job's own account as typed (secrets only when typed this time).
    fn account(&self) -> JobAccount {
        let given = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        JobAccount {
            client_id: self.client_id.trim().to_string(),
            client_secret: given(&self.client_secret),
            username: self.username.trim().to_string(),
            password: (!self.password.is_empty()).then(|| self.password.clone()),
            login_url: given(&self.login_url),
            test_environment: self.test_environment.is_some(),
            has_client_secret: false,
            has_password: false,
        }
    }

    /// A new job's form: chats of every transcript, cards and emails masked.
    fn blank(project_id: &str) -> Self {
        JobForm {
            project_id: project_id.to_string(),
            account_kind: "linked".into(),
            notify_failure: Some("on".into()),
            data_type: "chat".into(),
            soql: "SELECT Id, Body, StartTime, Browser FROM LiveChatTranscript".into(),
            date_field: "StartTime".into(),
            participants: "auto".into(),
            redact_card: Some("on".into()),
            redact_email: Some("on".into()),
            duplicates: "skip".into(),
            ..Default::default()
        }
    }

    /// The settings the API would be sent, or the lines and numbers that do not read (named
    /// as the engine names fields, so they sit beside the same inputs).
    fn settings(&self) -> Result<JobSettings, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let substitutions = pairs(&self.substitutions, ':', "phrase: replacement")
            .map_err(|m| problems.push(problem("substitutions", m)))
            .unwrap_or_default();
        let mappings = pairs(&self.mappings, '=', "attribute = Field")
            .map_err(|m| problems.push(problem("mappings", m)))
            .unwrap_or_default();
        let mut number = |field: &str, text: &str, what: &str| {
            let t = text.trim();
            match t.replace([',', '_', ' '], "") {
                n if n.is_empty() || n.eq_ignore_ascii_case("all") => Value::Null,
                n => n.parse::<u64>().map(|n| json!(n)).unwrap_or_else(|_| {
                    problems.push(problem(field, format!("{t:?} is not {what}")));
                    Value::Null
                }),
            }
        };
        let record_limit = number(
            "recordLimit",
            &self.record_limit,
            "a number of documents; leave it empty for all",
        );
        let bulk_threshold = number(
            "bulkThreshold",
            &self.bulk_threshold,
            "a number of rows; leave it empty for 10,000",
        );
        let reminder = number(
            "reminderDaysBefore",
            &self.reminder_days_before,
            "a number of days from 1 to 100",
        );
        let filter = filter_lines(&self.filter)
            .map_err(|m| problems.push(problem("filter", m)))
            .unwrap_or_default();
        let given = |s: &str| {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_string())
        };
        let redact: Vec<&str> = DETECTORS
            .iter()
            .map(|(d, _)| *d)
            .filter(|d| self.redacts(d))
            .collect();
        let emails: Vec<&str> = self
            .notify_emails
            .split([',', '\n', ' ', ';'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        let on: Vec<&str> = NOTICES
            .iter()
            .map(|(o, _)| *o)
            .filter(|o| self.notifies_on(o))
            .collect();
        let notify = (!emails.is_empty()).then(|| json!({"emails": emails, "on": on}));
        let (connection_id, account) = if self.own_account() {
            // Written out by hand: the account's own serialisation never writes its secrets.
            let a = self.account();
            let account = json!({
                "clientId": a.client_id, "clientSecret": a.client_secret,
                "username": a.username, "password": a.password,
                "loginUrl": a.login_url, "testEnvironment": a.test_environment,
            });
            (None, Some(account))
        } else {
            (given(&self.connection_id), None)
        };
        let settings = json!({
            "name": self.name,
            "description": given(&self.description),
            "projectId": self.project_id,
            "connectionId": connection_id,
            "account": account,
            "apiVersion": given(&self.api_version),
            "credentialExpiresOn": given(&self.credential_expires_on),
            "reminderDaysBefore": reminder,
            "dataType": self.data_type,
            "soql": self.soql,
            "dateField": given(&self.date_field),
            "fixedDocumentDate": given(&self.fixed_document_date),
            "participants": self.participants,
            "redact": redact,
            "substitutions": substitutions,
            "mappings": mappings,
            "filter": filter,
            "includeDeleted": self.include_deleted.is_some(),
            "recordLimit": record_limit,
            "duplicates": self.duplicates,
            "bulkThreshold": bulk_threshold,
            "schedule": given(&self.schedule),
            "notify": notify,
        });
        if !problems.is_empty() {
            return Err(problems);
        }
        serde_json::from_value(settings).map_err(|e| vec![problem("form", e.to_string())])
    }
}

fn problem(field: &str, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
}

/// `key<sep>value` lines (blank lines skipped) as a JSON object, or the first line that is
/// not one.
fn pairs(text: &str, sep: char, shape: &str) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match line.split_once(sep) {
            Some((k, v)) if !k.trim().is_empty() => {
                out.insert(k.trim().to_string(), Value::String(v.trim().to_string()));
            }
            _ => {
                return Err(format!(
                    "line {} is not `{shape}`: {:?}",
                    n + 1,
                    line.trim()
                ))
            }
        }
    }
    Ok(out)
}

/// `attribute op value` lines as the job's filter (`in` takes `a | b | c`), or the first line
/// that is not one.
fn filter_lines(text: &str) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut parts = line.splitn(3, char::is_whitespace);
        let (attribute, op, value) = (parts.next(), parts.next(), parts.next());
        let (Some(attribute), Some(op), Some(value)) = (attribute, op, value) else {
            return Err(format!(
                "line {} is not `attribute equals value`: {line:?}",
                n + 1
            ));
        };
        if !FILTER_OPS.contains(&op) {
            return Err(format!(
                "line {}: {op:?} is not one of {}",
                n + 1,
                FILTER_OPS.join(", ")
            ));
        }
        let value = if op == "in" {
            json!(value.split('|').map(str::trim).collect::<Vec<_>>())
        } else {
            json!(value.trim())
        };
        out.push(json!({"attribute": attribute, "op": op, "value": value}));
    }
    Ok(out)
}

#[derive(Deserialize, Default)]
pub struct NewJobQuery {
    #[serde(default)]
    project: String,
}

pub async fn new_job(
    State(state): State<AppState>,
    user: WebUser,
    axum::extract::Query(q): axum::extract::Query<NewJobQuery>,
) -> PageResult {
    user.actor.require(Role::Editor)?;
    form_page(
        &state,
        &user,
        StatusCode::OK,
        &JobForm::blank(&q.project),
        None,
        &[],
        &FieldErrors::default(),
    )
    .await
}

/// `POST /discover/jobs/new`: Validate (the query only) or Save.
pub async fn submit_job(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<JobForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.actor.require(Role::Editor)?;
    let checked = validate(&state, &user, &form).await?;
    if form.action == "validate" {
        let offered = versions(&state, &user, &form).await;
        return form_page(
            &state,
            &user,
            StatusCode::OK,
            &form,
            checked.as_ref(),
            &offered,
            &FieldErrors::default(),
        )
        .await;
    }
    let refusal = match form.settings() {
        Ok(settings) => match state.sonde.create_discover_job(&user.actor, settings).await {
            Ok(job) => {
                return Ok(Redirect::to(&format!("/discover/jobs/{}", job.id)).into_response())
            }
            Err(e @ Error::Invalid { .. }) => e,
            Err(e) => return Err(e.into()),
        },
        Err(problems) => Error::invalid_fields("some fields do not read", problems),
    };
    let errors = FieldErrors::of(&refusal).unwrap_or_default();
    form_page(
        &state,
        &user,
        StatusCode::BAD_REQUEST,
        &form,
        checked.as_ref(),
        &[],
        &errors,
    )
    .await
}

/// The query checked against the chosen org, when there is one to check.
async fn validate(
    state: &AppState,
    user: &WebUser,
    form: &JobForm,
) -> Result<Option<ValidatedQuery>, PageError> {
    let own = form.own_account();
    if (!own && form.connection_id.is_empty()) || form.soql.trim().is_empty() {
        return Ok(None);
    }
    let asked = QueryToValidate {
        connection_id: (!own).then(|| form.connection_id.clone()),
        account: own.then(|| form.account()),
        api_version: (!form.api_version.trim().is_empty()).then(|| form.api_version.trim().into()),
        soql: form.soql.clone(),
    };
    match state
        .sonde
        .validate_discover_query(&user.actor, &asked)
        .await
    {
        Ok(v) => Ok(Some(v)),
        // Not one of the caller's orgs, or the org cannot be reached: the save says why.
        Err(Error::NotFound(_) | Error::Forbidden(_) | Error::Invalid { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Where the job reads from: a linked org, or the job's own account (password grant) with its
/// credential's expiry; and the API version, picked from the org's list once Validate asked.
fn account_fields(
    f: &JobForm,
    orgs: &[engine::connections::SalesforceConnection],
    offered: &[ApiVersionOffered],
    errors: &FieldErrors,
) -> Markup {
    let invalid = |name: &str| errors.has(name).then_some("true");
    let own = f.own_account();
    // Secrets are not written back into the page: a refused form asks for them again.
    let retype = own && (!f.client_secret.is_empty() || !f.password.is_empty());
    html! {
        fieldset id="job-account" {
            legend { "Salesforce account" }
            label.opt for="job-account-linked" {
                input type="radio" id="job-account-linked" name="account_kind" value="linked" checked[!own];
                "A linked org" }
            p { label for="job-org" { "Linked org" }
                select id="job-org" name="connection_id" aria-invalid=[invalid("connectionId")] aria-describedby="job-org-error" {
                    @for c in orgs { option value=(c.id) selected[c.id == f.connection_id] { (c.label) } }
                }
                (errors.at("connectionId", "job-org-error"))
                @if orgs.is_empty() { span.muted { "You have no linked org: " a href="/salesforce" { "link one" } ", or give the job an account of its own." } } }
            label.opt for="job-account-own" {
                input type="radio" id="job-account-own" name="account_kind" value="own" checked[own];
                "The job's own account (a connected app's client id and secret, a user's name and password)" }
            div.account-own {
                p { label for="job-client-id" { "Client id (consumer key)" }
                    input type="text" id="job-client-id" name="client_id" value=(f.client_id) autocomplete="off" aria-invalid=[invalid("account.clientId")] aria-describedby="job-client-id-error";
                    (errors.at("account.clientId", "job-client-id-error")) }
                p { label for="job-client-secret" { "Client secret" }
                    input type="password" id="job-client-secret" name="client_secret" autocomplete="off" aria-invalid=[invalid("account.clientSecret")] aria-describedby="job-client-secret-error";
                    (errors.at("account.clientSecret", "job-client-secret-error")) }
                p { label for="job-username" { "Username" }
                    input type="text" id="job-username" name="username" value=(f.username) autocomplete="off" aria-invalid=[invalid("account.username")] aria-describedby="job-username-error";
                    (errors.at("account.username", "job-username-error")) }
                p { label for="job-password" { "Password (with the security token after it, if the org asks for one)" }
                    input type="password" id="job-password" name="password" autocomplete="new-password" aria-invalid=[invalid("account.password")] aria-describedby="job-password-error";
                    (errors.at("account.password", "job-password-error")) }
                @if retype { p.muted id="job-retype" { "For safety the secret and the password are not kept in the page: type them again." } }
                p { label for="job-login-url" { "Environment URL (empty: login.salesforce.com, or test.salesforce.com for a test environment)" }
                    input type="url" id="job-login-url" name="login_url" value=(f.login_url) placeholder="https://mycompany.my.salesforce.com" aria-invalid=[invalid("account.loginUrl")] aria-describedby="job-login-url-error";
                    (errors.at("account.loginUrl", "job-login-url-error"))
                    (errors.at("account", "job-account-error")) }
                p { label.opt for="job-test-env" {
                        input type="checkbox" id="job-test-env" name="test_environment" value="on" checked[f.test_environment.is_some()];
                        "Test environment (sandbox)" } }
                p { label for="job-expires" { "The credential expires on (optional)" }
                    input type="date" id="job-expires" name="credential_expires_on" value=(f.credential_expires_on) aria-invalid=[invalid("credentialExpiresOn")] aria-describedby="job-expires-error";
                    (errors.at("credentialExpiresOn", "job-expires-error")) }
                p { label for="job-reminder" { "Remind the job's owner this many days before (1–100, empty: 7)" }
                    input type="text" inputmode="numeric" id="job-reminder" name="reminder_days_before" value=(f.reminder_days_before) placeholder="7" aria-invalid=[invalid("reminderDaysBefore")] aria-describedby="job-reminder-error";
                    (errors.at("reminderDaysBefore", "job-reminder-error")) }
            }
        }
        p { label for="job-api-version" { "API version (empty: Sonde's default)" }
            @if offered.is_empty() {
                input type="text" id="job-api-version" name="api_version" value=(f.api_version) placeholder="62.0" aria-invalid=[invalid("apiVersion")] aria-describedby="job-api-version-error";
                span.muted { "Validate the query to pick from the org's versions." }
            } @else {
                select id="job-api-version" name="api_version" aria-invalid=[invalid("apiVersion")] aria-describedby="job-api-version-error" {
                    option value="" selected[f.api_version.is_empty()] { "Sonde's default" }
                    @for v in offered { option value=(v.version) selected[v.version == f.api_version] { (v.version) " — " (v.label) } }
                }
            }
            (errors.at("apiVersion", "job-api-version-error")) }
    }
}

/// The org's API versions for the picker, when Validate reached it.
async fn versions(state: &AppState, user: &WebUser, form: &JobForm) -> Vec<ApiVersionOffered> {
    let asked = if form.own_account() {
        VersionsOf {
            connection_id: None,
            account: Some(form.account()),
        }
    } else if form.connection_id.is_empty() {
        return Vec::new();
    } else {
        VersionsOf {
            connection_id: Some(form.connection_id.clone()),
            account: None,
        }
    };
    // Newest first; an org that cannot be asked now leaves the field to be typed.
    let mut offered = state
        .sonde
        .discover_versions(&user.actor, &asked)
        .await
        .unwrap_or_default();
    offered.reverse();
    offered
}

fn options(choices: &[(&str, &str)], chosen: &str) -> Markup {
    html! { @for (v, l) in choices { option value=(v) selected[*v == chosen] { (l) } } }
}

/// What Validate found, under the query.
fn validation(v: &ValidatedQuery) -> Markup {
    html! {
        div id="soql-check" {
            @if let Some(e) = &v.error {
                p.error id="soql-check-error" {
                    @if let (Some(l), Some(c)) = (e.line, e.column) { "Line " (l) ", column " (c) ": " }
                    (e.message)
                }
                @if v.problems.len() > 1 {
                    ul { @for p in v.problems.iter().skip(1) { li {
                        @if let (Some(l), Some(c)) = (p.line, p.column) { "Line " (l) ", column " (c) ": " }
                        (p.message)
                    } } }
                }
            } @else {
                div.ok id="soql-check-ok" {
                    p { "The query reads " strong { (v.object.as_deref().unwrap_or("?")) } ": " (v.fields.join(", ")) "." }
                    p { "Date fields it can follow: " (v.date_fields.join(", ")) "." }
                }
            }
        }
    }
}

async fn form_page(
    state: &AppState,
    user: &WebUser,
    status: StatusCode,
    f: &JobForm,
    checked: Option<&ValidatedQuery>,
    offered: &[ApiVersionOffered],
    errors: &FieldErrors,
) -> PageResult {
    let projects = state.sonde.discover_projects(&user.actor).await?;
    let orgs: Vec<_> = state
        .sonde
        .salesforce_connections(&user.actor)
        .await?
        .into_iter()
        .filter(|c| c.status == "active")
        .collect();
    // The date fields Validate offered; without them, what was typed (or the default).
    let mut date_fields: Vec<String> = checked.map(|v| v.date_fields.clone()).unwrap_or_default();
    let typed_date = if f.date_field.is_empty() {
        "CreatedDate"
    } else {
        f.date_field.as_str()
    };
    if !date_fields
        .iter()
        .any(|d| d.eq_ignore_ascii_case(typed_date))
    {
        date_fields.insert(0, typed_date.to_string());
    }
    let invalid = |name: &str| errors.has(name).then_some("true");
    let fields = html! {
        form.fields method="post" action="/discover/jobs/new" id="job-form" {
            input type="hidden" name="csrf" value=(user.csrf);
            div.card {
                h2 { "What" }
                p { label for="job-name" { "Name" }
                    input type="text" id="job-name" name="name" value=(f.name) required aria-invalid=[invalid("name")] aria-describedby="job-name-error";
                    (errors.at("name", "job-name-error")) }
                p { label for="job-description" { "Description (optional)" }
                    input type="text" id="job-description" name="description" value=(f.description); }
                p { label for="job-project" { "Project the documents go to" }
                    select id="job-project" name="project_id" aria-invalid=[invalid("projectId")] aria-describedby="job-project-error" {
                        @for p in &projects { option value=(p.id) selected[p.id == f.project_id] { (p.name) } }
                    }
                    (errors.at("projectId", "job-project-error"))
                    @if projects.is_empty() { span.muted { "No project yet: " a href="/discover" { "create one" } " first." } } }
                (account_fields(f, &orgs, offered, errors))
                fieldset {
                    legend { "Data type" }
                    @for (v, l) in DATA_TYPES {
                        label.opt for={ "job-type-" (v) } {
                            input type="radio" id={ "job-type-" (v) } name="data_type" value=(v) checked[*v == f.data_type];
                            (l)
                        }
                    }
                    (errors.at("dataType", "job-type-error"))
                }
            }
            div.card {
                h2 { "Query" }
                p { label for="job-soql" { "SOQL" }
                    textarea.soql id="job-soql" name="soql" rows="5" spellcheck="false" aria-invalid=[invalid("soql")] aria-describedby="job-soql-error soql-check" { (f.soql) }
                    (errors.at("soql", "job-soql-error")) }
                @if let Some(v) = checked { (validation(v)) }
                div.actions { button.secondary type="submit" name="action" value="validate" id="validate-query" formnovalidate { "Validate" } }
                p { label for="job-date-field" { "Date field (dates documents; incremental runs follow it)" }
                    select id="job-date-field" name="date_field" aria-invalid=[invalid("dateField")] aria-describedby="job-date-field-error" {
                        @for d in &date_fields { option value=(d) selected[d.eq_ignore_ascii_case(typed_date)] { (d) } }
                    }
                    (errors.at("dateField", "job-date-field-error"))
                    @if checked.is_none() { span.muted { "Validate the query to be offered its date fields." } } }
                p { label for="job-fixed-date" { "Or one date for every document (optional; runs still follow the date field)" }
                    input type="date" id="job-fixed-date" name="fixed_document_date" value=(f.fixed_document_date) aria-invalid=[invalid("fixedDocumentDate")] aria-describedby="job-fixed-date-error";
                    (errors.at("fixedDocumentDate", "job-fixed-date-error")) }
            }
            div.card {
                h2 { "How" }
                p { label for="job-participants" { "Participants (chats)" }
                    select id="job-participants" name="participants" { (options(PARTICIPANTS, &f.participants)) } }
                fieldset {
                    legend { "Mask before storing" }
                    @for (d, l) in DETECTORS {
                        label.opt for={ "job-redact-" (d) } {
                            input type="checkbox" id={ "job-redact-" (d) } name={ "redact_" (d) } value="on" checked[f.redacts(d)];
                            (l)
                        }
                    }
                    (errors.at("redact", "job-redact-error"))
                    (errors.at("patterns", "job-patterns-error"))
                }
                p { label for="job-substitutions" { "Substitutions, one a line: " code { "phrase: replacement" } }
                    textarea id="job-substitutions" name="substitutions" rows="3" placeholder="Acme Corp: [COMPANY]" aria-invalid=[invalid("substitutions")] aria-describedby="job-substitutions-error" { (f.substitutions) }
                    (errors.at("substitutions", "job-substitutions-error")) }
                p { label for="job-mappings" { "Attributes from fields, one a line: " code { "attribute = Field" } }
                    textarea id="job-mappings" name="mappings" rows="3" placeholder="browser = Browser" aria-invalid=[invalid("mappings")] aria-describedby="job-mappings-error" { (f.mappings) }
                    (errors.at("mappings", "job-mappings-error")) }
                p { label for="job-filter" { "Keep only documents whose attributes match, one condition a line: " code { "attribute equals value" } " (or " code { "not_equals" } ", " code { "contains" } ", " code { "in a | b" } ")" }
                    textarea id="job-filter" name="filter" rows="2" placeholder="browser in Chrome | Firefox" aria-invalid=[invalid("filter")] aria-describedby="job-filter-error" { (f.filter) }
                    (errors.at("filter", "job-filter-error")) }
                p { label.opt for="job-deleted" {
                        input type="checkbox" id="job-deleted" name="include_deleted" value="on" checked[f.include_deleted.is_some()];
                        "Read deleted records too (queryAll; their documents are marked " code { "deleted" } ")" } }
                p { label for="job-limit" { "Record limit per run (empty: all)" }
                    input type="text" inputmode="numeric" id="job-limit" name="record_limit" value=(f.record_limit) placeholder="All" aria-invalid=[invalid("recordLimit")] aria-describedby="job-limit-error";
                    (errors.at("recordLimit", "job-limit-error")) }
                p { label for="job-duplicates" { "A document already in the project" }
                    select id="job-duplicates" name="duplicates" { (options(DUPLICATES, &f.duplicates)) } }
                p { label for="job-bulk" { "Rows from which a run reads through Bulk API 2.0 (empty: 10,000)" }
                    input type="text" inputmode="numeric" id="job-bulk" name="bulk_threshold" value=(f.bulk_threshold) placeholder="10,000" aria-invalid=[invalid("bulkThreshold")] aria-describedby="job-bulk-error";
                    (errors.at("bulkThreshold", "job-bulk-error")) }
            }
            div.card {
                h2 { "When" }
                p { label for="job-schedule" { "Schedule, as cron with seconds (empty: on demand)" }
                    input type="text" id="job-schedule" name="schedule" value=(f.schedule) placeholder="0 0 * * * *" aria-invalid=[invalid("schedule")] aria-describedby="job-schedule-error";
                    (errors.at("schedule", "job-schedule-error"))
                    span.muted { code { "0 0 * * * *" } " is hourly, " code { "0 30 6 * * *" } " daily at 06:30 UTC." } }
                p { label for="job-notify" { "Mail these addresses when… (empty: nobody)" }
                    input type="text" id="job-notify" name="notify_emails" value=(f.notify_emails) placeholder="cx-team@example.com" aria-invalid=[invalid("notify")] aria-describedby="job-notify-error";
                    (errors.at("notify", "job-notify-error")) }
                fieldset {
                    legend { "…when" }
                    @for (o, l) in NOTICES {
                        label.opt for={ "job-notify-" (o) } {
                            input type="checkbox" id={ "job-notify-" (o) } name={ "notify_" (o) } value="on" checked[f.notifies_on(o)];
                            (l)
                        }
                    }
                }
            }
            div.actions { button type="submit" name="action" value="save" id="save-job" { "Save job" } }
        }
    };
    Ok(page_with_status(
        user,
        status,
        "New Discover job",
        html! {
            p.crumbs { a href="/discover/jobs" { "Discover jobs" } " › " }
            h1 { "New job" }
            (errors.summary())
            (fields)
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_substitutions_and_mappings_and_bad_ones_are_named() {
        let mut f = JobForm::blank("DP_1");
        f.name = "Chats".into();
        f.connection_id = "SC_1".into();
        f.substitutions = "Acme: [COMPANY]\n\n  Bob : B.\n".into();
        f.mappings = "browser = Browser".into();
        f.record_limit = "1,000".into();
        let s = f.settings().unwrap();
        assert_eq!(s.substitutions["Bob"], "B.");
        assert_eq!(
            s.mappings["browser"],
            engine::discover::mapping::Mapping::Field("Browser".into())
        );
        assert_eq!(s.record_limit, Some(1000));
        assert_eq!(s.redact.len(), 2);
        f.mappings = "browser".into();
        f.record_limit = "lots".into();
        let fields: Vec<String> = f
            .settings()
            .unwrap_err()
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(fields, ["mappings", "recordLimit"]);
    }

    #[test]
    fn an_own_account_a_filter_and_notices_make_their_settings() {
        let mut f = JobForm::blank("DP_1");
        f.name = "Chats".into();
        f.account_kind = "own".into();
        f.client_id = "3MVG9".into();
        f.client_secret = "s3cret".into();
        f.username = "ops@acme.example".into();
        f.password = "pw".into();
        f.test_environment = Some("on".into());
        f.credential_expires_on = "2027-01-31".into();
        f.reminder_days_before = "14".into();
        f.api_version = "61.0".into();
        f.filter = "browser in Chrome | Firefox\nstatus equals Completed".into();
        f.include_deleted = Some("on".into());
        f.bulk_threshold = "50,000".into();
        f.notify_emails = "cx@acme.example, ops@acme.example".into();
        f.notify_success = Some("on".into());
        let s = f.settings().unwrap();
        assert_eq!(s.connection_id, None);
        let account = s.account.as_ref().unwrap();
        assert_eq!(account.client_secret.as_deref(), Some("s3cret"));
        assert!(account.test_environment);
        assert_eq!(s.api_version.as_deref(), Some("61.0"));
        assert_eq!(s.reminder_days_before, Some(14));
        assert_eq!(s.bulk_threshold, Some(50_000));
        assert!(s.include_deleted);
        assert_eq!(s.filter.len(), 2);
        let notify = s.notify.unwrap();
        assert_eq!(notify.emails.len(), 2);
        assert_eq!(notify.on.len(), 2, "failure (the default) and success");
        f.filter = "browser like Chrome".into();
        let fields: Vec<String> = f
            .settings()
            .unwrap_err()
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(fields, ["filter"]);
    }
}
