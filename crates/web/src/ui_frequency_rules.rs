//! The directory's settings in the admin UI: contact frequency rules (at most N invitations per
//! rolling period and/or at least D days between two), for the organization, one survey or one
//! list — listed for everyone, added and deleted by admins through the engine's calls.

use crate::auth::CsrfForm;
use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::{page, page_with_status};
use crate::ui_field_errors::FieldErrors;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use distribution::frequency::{FrequencyRule, Scope};
use engine::{Error, FieldProblem, Role};
use maud::{html, Markup};
use serde::Deserialize;

type PageResult = Result<Response, PageError>;

/// The engine's messages in the form's words.
const WORDS: &[(&str, &str)] = &[
    (
        "maxInvitations (with periodDays), minDaysBetween, or both",
        "at most so many invitations in so many days, at least so many days between two, or both",
    ),
    ("with maxInvitations", "with “at most”"),
];

/// What a rule says, in words.
fn rule_words(rule: &FrequencyRule) -> String {
    let days = |n: u32| {
        if n == 1 {
            "1 day".to_string()
        } else {
            format!("{n} days")
        }
    };
    let mut parts = Vec::new();
    if let (Some(n), Some(p)) = (rule.max_invitations, rule.period_days) {
        parts.push(format!(
            "at most {n} invitation{} in any {}",
            if n == 1 { "" } else { "s" },
            days(p)
        ));
    }
    if let Some(d) = rule.min_days_between {
        parts.push(format!("at least {} between two invitations", days(d)));
    }
    parts.join(", and ")
}

#[derive(Deserialize, Default, Clone)]
pub struct RuleForm {
    #[serde(default)]
    csrf: String,
    /// `organization`, `survey` or `mailing_list`.
    #[serde(default)]
    scope: String,
    #[serde(default)]
    survey_id: String,
    #[serde(default)]
    mailing_list_id: String,
    #[serde(default)]
    max_invitations: String,
    #[serde(default)]
    period_days: String,
    #[serde(default)]
    min_days_between: String,
}

impl RuleForm {
    fn rule(&self) -> Result<FrequencyRule, Error> {
        let mut problems = Vec::new();
        let mut number = |text: &str, field: &str| -> Option<u32> {
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            match text.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    problems.push(FieldProblem {
                        field: field.into(),
                        message: format!("{text:?} is not a whole number"),
                    });
                    None
                }
            }
        };
        let max_invitations = number(&self.max_invitations, "maxInvitations");
        let period_days = number(&self.period_days, "periodDays");
        let min_days_between = number(&self.min_days_between, "minDaysBetween");
        let scope = match self.scope.as_str() {
            "survey" => Scope::Survey {
                survey_id: self.survey_id.clone(),
            },
            "mailing_list" => Scope::MailingList {
                mailing_list_id: self.mailing_list_id.clone(),
            },
            _ => Scope::Organization,
        };
        if !problems.is_empty() {
            return Err(Error::invalid_fields(
                "the frequency rule has invalid fields",
                problems,
            ));
        }
        Ok(FrequencyRule {
            scope,
            max_invitations,
            period_days,
            min_days_between,
        })
    }
}

pub async fn settings(State(state): State<AppState>, user: WebUser) -> PageResult {
    settings_page(&state, &user, &RuleForm::default(), &FieldErrors::default()).await
}

async fn settings_page(
    state: &AppState,
    user: &WebUser,
    f: &RuleForm,
    errors: &FieldErrors,
) -> PageResult {
    let rules = state.sonde.frequency_rules(&user.actor).await?;
    let surveys = state.sonde.surveys(&user.actor).await?;
    let lists = state.sonde.mailing_lists(&user.actor).await?;
    let survey_name = |id: &str| {
        surveys
            .iter()
            .find(|s| s.id == id)
            .map_or_else(|| format!("survey {id}"), |s| s.name.clone())
    };
    let list_name = |id: &str| {
        lists
            .iter()
            .find(|l| l.id == id)
            .map_or_else(|| format!("list {id}"), |l| l.name.clone())
    };
    let scope_words = |s: &Scope| -> Markup {
        match s {
            Scope::Organization => html! { "Every invitation" },
            Scope::Survey { survey_id } => {
                html! { "Invitations to " a href={ "/surveys/" (survey_id) } { (survey_name(survey_id)) } }
            }
            Scope::MailingList { mailing_list_id } => {
                html! { "Invitations through " a href={ "/lists/" (mailing_list_id) } { (list_name(mailing_list_id)) } }
            }
        }
    };
    let admin = user.actor.role == Role::Admin;
    let invalid = |name: &str| errors.has(name).then_some("true");
    let scope = if f.scope.is_empty() {
        "organization"
    } else {
        f.scope.as_str()
    };
    let form = html! {
        form.fields method="post" action="/directory/frequency-rules" id="rule-form" {
            input type="hidden" name="csrf" value=(user.csrf);
            fieldset {
                legend { "Which invitations it counts" }
                label.opt for="fr-org" { input type="radio" id="fr-org" name="scope" value="organization" checked[scope == "organization"]; "Every invitation of the organization" }
                label.opt for="fr-survey" { input type="radio" id="fr-survey" name="scope" value="survey" checked[scope == "survey"]; "Invitations to one survey" }
                p.sub { label for="fr-survey-id" { "Survey" }
                    select id="fr-survey-id" name="survey_id" aria-invalid=[invalid("scope.surveyId")] {
                        @for s in &surveys { option value=(s.id) selected[s.id == f.survey_id] { (s.name) } } }
                    (errors.at("scope.surveyId", "fr-survey-error")) }
                label.opt for="fr-list" { input type="radio" id="fr-list" name="scope" value="mailing_list" checked[scope == "mailing_list"]; "Invitations through one mailing list" }
                p.sub { label for="fr-list-id" { "Mailing list" }
                    select id="fr-list-id" name="mailing_list_id" aria-invalid=[invalid("scope.mailingListId")] {
                        @for l in &lists { option value=(l.id) selected[l.id == f.mailing_list_id] { (l.name) } } }
                    (errors.at("scope.mailingListId", "fr-list-error")) }
                (errors.at("scope", "fr-scope-error"))
            }
            div.filters {
                div { label for="fr-max" { "At most (invitations)" }
                    input type="number" min="1" id="fr-max" name="max_invitations" value=(f.max_invitations) aria-invalid=[invalid("maxInvitations")];
                    (errors.at("maxInvitations", "fr-max-error")) }
                div { label for="fr-period" { "in any (days)" }
                    input type="number" min="1" id="fr-period" name="period_days" value=(f.period_days) aria-invalid=[invalid("periodDays")];
                    (errors.at("periodDays", "fr-period-error")) }
                div { label for="fr-between" { "and/or at least (days between two)" }
                    input type="number" min="1" id="fr-between" name="min_days_between" value=(f.min_days_between) aria-invalid=[invalid("minDaysBetween")];
                    (errors.at("minDaysBetween", "fr-between-error")) }
            }
            p { button type="submit" id="add-rule" { "Add rule" } }
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(page_with_status(
        user,
        status,
        "Directory settings",
        html! {
            p { a href="/contacts" { "← Directory" } }
            h1 { "Directory settings" }
            div.card {
                h2 { "Contact frequency rules" }
                p.muted { "How often one contact may be invited. A distribution skips a contact a rule stops, and says so in its recipient list (“frequency-capped”). Reminders and thank-yous are never capped." }
                @if rules.is_empty() {
                    p.muted id="no-rules" { "No rules: contacts may be invited as often as distributions go." }
                } @else {
                    ul.token-list id="rules" {
                        @for r in &rules {
                            li data-rule=(r.id) {
                                div { strong { (scope_words(&r.rule.scope)) } ": " (rule_words(&r.rule))
                                    div.meta { "Added " (crate::ui_distributions::moment(&r.created_at)) } }
                                @if admin { a.button.secondary href={ "/directory/frequency-rules/" (r.id) "/delete" } { "Delete…" } }
                            }
                        }
                    }
                }
            }
            @if admin {
                div.card {
                    h2 { "Add a rule" }
                    (errors.summary())
                    (form)
                }
            } @else {
                p.muted { "Administrators add and remove rules." }
            }
        },
    ))
}

pub async fn create_rule(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<RuleForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let saved = match form.rule() {
        Ok(rule) => state.sonde.create_frequency_rule(&user.actor, rule).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(Redirect::to("/directory/settings").into_response()),
        Err(e) => match FieldErrors::of(&e) {
            Some(errors) => settings_page(&state, &user, &form, &errors.in_words(WORDS)).await,
            None => Err(e.into()),
        },
    }
}

pub async fn confirm_delete(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> PageResult {
    user.actor.require(Role::Admin)?;
    let rules = state.sonde.frequency_rules(&user.actor).await?;
    let rule = rules
        .iter()
        .find(|r| r.id == id)
        .ok_or(Error::NotFound("frequency rule"))?;
    let question = "Delete this frequency rule?";
    Ok(page(
        &user,
        question,
        html! {
            h1 { (question) }
            div.card.confirm id="confirm" {
                ul.consequences {
                    li { "The rule " strong { (rule_words(&rule.rule)) } " stops no invitation from now on." }
                    li { "Contacts it capped before stay skipped in those distributions." }
                }
                div.actions {
                    form.inline method="post" action={ "/directory/frequency-rules/" (rule.id) "/delete" } {
                        input type="hidden" name="csrf" value=(user.csrf);
                        button.danger type="submit" id="confirm-submit" { "Delete rule" }
                    }
                    a.button.secondary href="/directory/settings" id="confirm-cancel" { "Keep it" }
                }
            }
        },
    ))
}

pub async fn delete_rule(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    state.sonde.delete_frequency_rule(&user.actor, &id).await?;
    Ok(Redirect::to("/directory/settings").into_response())
}
