//! Opt-out sync in the admin UI: the organization's switch and fields on the Salesforce page
//! (admins change them), and a survey's override on its workflows page (editors) — the same
//! engine calls as `/api/v1/salesforce/opt-out-sync` and `/api/v1/surveys/{id}/opt-out-sync`.

use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui_field_errors::FieldErrors;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use engine::opt_out_sync::{OptOutSync, SurveyOptOutSync};
use engine::{Error, Role};
use maud::{html, Markup};
use serde::Deserialize;

type PageResult = Result<Response, PageError>;

/// The organization's card on the Salesforce page. `asked` is what a refused form held, so
/// nothing typed is lost.
pub(crate) fn org_card(
    user: &WebUser,
    saved: &OptOutSync,
    asked: Option<&OrgForm>,
    errors: &FieldErrors,
) -> Markup {
    let admin = user.actor.role == Role::Admin;
    let enabled = asked.map_or(saved.enabled, |f| f.enabled.is_some());
    let email = asked.map_or(saved.email_field.as_str(), |f| f.email_field.as_str());
    let sms = asked.map_or(saved.sms_field.as_deref().unwrap_or(""), |f| {
        f.sms_field.as_str()
    });
    let invalid = |name: &str| errors.has(name).then_some("true");
    html! {
        div.card id="opt-out-sync" {
            h2 { "Opt-out sync" }
            p.muted { "While on, an opt-out anywhere holds everywhere: following an invitation's opt-out link (or texting STOP) also sets the checkbox on the Contact or Lead it came from, and a recipient whose checkbox is set in Salesforce is left out of triggered sends and unsubscribed in the directory. A survey can override this on its workflows page." }
            @if admin {
                (errors.summary())
                form.fields method="post" action="/salesforce/opt-out-sync" {
                    input type="hidden" name="csrf" value=(user.csrf);
                    label.opt for="oos-enabled" {
                        input type="checkbox" id="oos-enabled" name="enabled" value="on" checked[enabled];
                        "Keep opt-outs in sync with linked Salesforce orgs"
                    }
                    p { label for="oos-email" { "Email opt-out checkbox (Contact and Lead)" }
                        input type="text" id="oos-email" name="email_field" value=(email) required aria-invalid=[invalid("emailField")];
                        (errors.at("emailField", "oos-email-error")) }
                    p { label for="oos-sms" { "Text-message opt-out checkbox (optional; Salesforce has no standard one)" }
                        input type="text" id="oos-sms" name="sms_field" value=(sms) placeholder="SMS_Opt_Out__c" aria-invalid=[invalid("smsField")];
                        (errors.at("smsField", "oos-sms-error")) }
                    button type="submit" id="oos-save" { "Save opt-out sync" }
                }
            } @else {
                p id="oos-state" { strong { @if saved.enabled { "On" } @else { "Off" } } ": email opt-outs in "
                    code { (saved.email_field) }
                    @if let Some(f) = &saved.sms_field { ", text-message opt-outs in " code { (f) } } "." }
                p.muted { "Administrators change this." }
            }
        }
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct OrgForm {
    #[serde(default)]
    csrf: String,
    /// Present (as "on") when the checkbox is ticked.
    #[serde(default)]
    enabled: Option<String>,
    #[serde(default)]
    email_field: String,
    #[serde(default)]
    sms_field: String,
}

pub async fn save_org(
    State(state): State<AppState>,
    user: WebUser,
    Form(form): Form<OrgForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let asked = OptOutSync {
        enabled: form.enabled.is_some(),
        email_field: form.email_field.clone(),
        sms_field: Some(form.sms_field.clone()),
    };
    match state.sonde.set_opt_out_sync(&user.actor, asked).await {
        Ok(_) => Ok(Redirect::to("/salesforce#opt-out-sync").into_response()),
        Err(e) => match FieldErrors::of(&e) {
            Some(errors) => {
                crate::ui_salesforce::page_with_opt_out_form(&state, &user, &form, &errors).await
            }
            None => Err(e.into()),
        },
    }
}

/// A survey's card on its workflows page.
pub(crate) async fn survey_card(
    state: &AppState,
    user: &WebUser,
    survey_id: &str,
) -> Result<Markup, Error> {
    let org = state.sonde.opt_out_sync(&user.actor).await?;
    let own = state
        .sonde
        .survey_opt_out_sync(&user.actor, survey_id)
        .await?;
    let choice = match own.enabled {
        None => "follow",
        Some(true) => "on",
        Some(false) => "off",
    };
    let holds = own.enabled.unwrap_or(org.enabled);
    let editor = user.actor.role >= Role::Editor;
    Ok(html! {
        div.card id="survey-opt-out-sync" {
            h2 { "Opt-out sync" }
            p id="survey-oos-state" { "For this survey opt-out sync is " strong { @if holds { "on" } @else { "off" } }
                @if own.enabled.is_none() { " (the organization's setting)" } @else { " (this survey's own setting)" } "." }
            @if editor {
                form.fields method="post" action={ "/surveys/" (survey_id) "/opt-out-sync" } {
                    input type="hidden" name="csrf" value=(user.csrf);
                    fieldset {
                        legend { "Keep this survey's opt-outs in sync with Salesforce" }
                        label.opt for="soos-follow" { input type="radio" id="soos-follow" name="choice" value="follow" checked[choice == "follow"];
                            "As the organization says (now " @if org.enabled { "on" } @else { "off" } ")" }
                        label.opt for="soos-on" { input type="radio" id="soos-on" name="choice" value="on" checked[choice == "on"]; "Always for this survey" }
                        label.opt for="soos-off" { input type="radio" id="soos-off" name="choice" value="off" checked[choice == "off"]; "Never for this survey" }
                    }
                    button type="submit" id="soos-save" { "Save" }
                }
            }
        }
    })
}

#[derive(Deserialize)]
pub struct SurveyForm {
    csrf: String,
    choice: String,
}

pub async fn save_survey(
    State(state): State<AppState>,
    user: WebUser,
    Path(survey_id): Path<String>,
    Form(form): Form<SurveyForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let enabled = match form.choice.as_str() {
        "on" => Some(true),
        "off" => Some(false),
        "follow" => None,
        other => {
            return Err(
                Error::invalid(format!("{other:?} is not a choice: follow, on or off")).into(),
            )
        }
    };
    state
        .sonde
        .set_survey_opt_out_sync(&user.actor, &survey_id, SurveyOptOutSync { enabled })
        .await?;
    Ok(Redirect::to(&format!(
        "/surveys/{survey_id}/workflows#survey-opt-out-sync"
    ))
    .into_response())
}
