//! The Discover job form: what to pull (project, linked org, data type, SOQL with a Validate
//! button that shows the problem's line and column, or the object and the date fields to
//! follow), how (participants, redaction, substitutions, mappings, limit, duplicates) and
//! when (cron). A refused form comes back with each problem beside its field and what was
//! typed kept.

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
    connection_id: String,
    data_type: String,
    soql: String,
    date_field: String,
    participants: String,
    redact_card: Option<String>,
    redact_iban: Option<String>,
    redact_email: Option<String>,
    redact_phone: Option<String>,
    redact_ssn: Option<String>,
    substitutions: String,
    mappings: String,
    record_limit: String,
    duplicates: String,
    schedule: String,
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

    /// A new job's form: chats of every transcript, cards and emails masked.
    fn blank(project_id: &str) -> Self {
        JobForm {
            project_id: project_id.to_string(),
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
        let limit = self.record_limit.trim();
        let record_limit = match limit.replace([',', '_', ' '], "") {
            l if l.is_empty() || l.eq_ignore_ascii_case("all") => Value::Null,
            l => match l.parse::<u64>() {
                Ok(n) => json!(n),
                Err(_) => {
                    problems.push(problem(
                        "recordLimit",
                        format!("{limit:?} is not a number of documents; leave it empty for all"),
                    ));
                    Value::Null
                }
            },
        };
        let given = |s: &str| {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_string())
        };
        let redact: Vec<&str> = DETECTORS
            .iter()
            .map(|(d, _)| *d)
            .filter(|d| self.redacts(d))
            .collect();
        let settings = json!({
            "name": self.name,
            "description": given(&self.description),
            "projectId": self.project_id,
            "connectionId": self.connection_id,
            "dataType": self.data_type,
            "soql": self.soql,
            "dateField": given(&self.date_field),
            "participants": self.participants,
            "redact": redact,
            "substitutions": substitutions,
            "mappings": mappings,
            "recordLimit": record_limit,
            "duplicates": self.duplicates,
            "schedule": given(&self.schedule),
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
        return form_page(
            &state,
            &user,
            StatusCode::OK,
            &form,
            checked.as_ref(),
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
    if form.connection_id.is_empty() || form.soql.trim().is_empty() {
        return Ok(None);
    }
    let asked = QueryToValidate {
        connection_id: Some(form.connection_id.clone()),
        account: None,
        api_version: None,
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
                p { label for="job-org" { "Linked org" }
                    select id="job-org" name="connection_id" aria-invalid=[invalid("connectionId")] aria-describedby="job-org-error" {
                        @for c in &orgs { option value=(c.id) selected[c.id == f.connection_id] { (c.label) } }
                    }
                    (errors.at("connectionId", "job-org-error"))
                    @if orgs.is_empty() { span.muted { "You have no linked org: " a href="/salesforce" { "link one" } "." } } }
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
                p { label for="job-limit" { "Record limit per run (empty: all)" }
                    input type="text" inputmode="numeric" id="job-limit" name="record_limit" value=(f.record_limit) placeholder="All" aria-invalid=[invalid("recordLimit")] aria-describedby="job-limit-error";
                    (errors.at("recordLimit", "job-limit-error")) }
                p { label for="job-duplicates" { "A document already in the project" }
                    select id="job-duplicates" name="duplicates" { (options(DUPLICATES, &f.duplicates)) } }
            }
            div.card {
                h2 { "When" }
                p { label for="job-schedule" { "Schedule, as cron with seconds (empty: on demand)" }
                    input type="text" id="job-schedule" name="schedule" value=(f.schedule) placeholder="0 0 * * * *" aria-invalid=[invalid("schedule")] aria-describedby="job-schedule-error";
                    (errors.at("schedule", "job-schedule-error"))
                    span.muted { code { "0 0 * * * *" } " is hourly, " code { "0 30 6 * * *" } " daily at 06:30 UTC." } }
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
}
