//! The panel's Settings tab (admins): survey invitation exclusions — for Contacts, email
//! opt-out (always), fax opt-out, do-not-call, email bounced, a consent field; for Leads,
//! do-not-call and fax opt-out — the sender for Salesforce users without a Sonde account, and
//! Disconnect, which unlinks this Salesforce org from the Sonde organization.

use crate::panel::{context, failed, panel_page, PassQuery};
use crate::AppState;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Form;
use engine::panel::{Exclusions, PanelPass, PanelSettings};
use engine::{Actor, Error, Role};
use maud::{html, Markup};
use std::collections::BTreeMap;

async fn page(
    state: &AppState,
    actor: &Actor,
    pass: &PanelPass,
    token: &str,
    note: Option<Markup>,
) -> Response {
    if actor.role != Role::Admin {
        return failed(
            pass,
            Error::Forbidden("Only Sonde administrators change the panel's settings.".into()),
        );
    }
    let settings = match state.sonde.panel_settings(actor, pass).await {
        Ok(s) => s,
        Err(e) => return failed(pass, e),
    };
    let users = state.sonde.users(actor).await.unwrap_or_default();
    let e = &settings.exclusions;
    let check = |name: &str, label: &str, on: bool| {
        html! {
            label.inline { input type="checkbox" name=(name) value="on" checked[on]; " " (label) }
        }
    };
    let body = html! {
        h1 { "Settings" }
        @if let Some(n) = note { (n) }
        form.stack method="post" action="/panel/settings" {
            input type="hidden" name="t" value=(token);
            fieldset { legend { "Contacts never invited when" }
                label.inline { input type="checkbox" checked disabled; " Email Opt Out (always)" }
                (check("contact_fax_opt_out", "Fax Opt Out", e.contact_fax_opt_out))
                (check("contact_do_not_call", "Do Not Call", e.contact_do_not_call))
                (check("contact_email_bounced", "Email bounced", e.contact_email_bounced))
                label { "Consent withheld: a Contact checkbox (API name)"
                    input type="text" name="contact_consent_field" placeholder="Survey_Consent_Withheld__c" value=(e.contact_consent_field.as_deref().unwrap_or(""));
                }
            }
            fieldset { legend { "Leads never invited when" }
                label.inline { input type="checkbox" checked disabled; " Email Opt Out (always)" }
                (check("lead_do_not_call", "Do Not Call", e.lead_do_not_call))
                (check("lead_fax_opt_out", "Fax Opt Out", e.lead_fax_opt_out))
            }
            label { "Salesforce users without a Sonde account send as"
                select name="sender_user_id" {
                    option value="" { "nobody (they are refused)" }
                    @for u in &users {
                        option value=(u.id) selected[settings.sender_user_id.as_deref() == Some(u.id.as_str())] { (u.email) }
                    }
                }
            }
            button type="submit" { "Save" }
        }
        h2 { "Disconnect" }
        p { "Unlinks this Salesforce org from Sonde: every link to it is revoked, workflows writing to it stop, and this panel no longer opens." }
        form method="post" action="/panel/disconnect" {
            input type="hidden" name="t" value=(token);
            button.danger type="submit" { "Disconnect this org" }
        }
    };
    panel_page(pass, token, true, "/panel/settings", body)
}

pub async fn show(State(state): State<AppState>, Query(q): Query<PassQuery>) -> Response {
    match context(&state, &q.t).await {
        Ok((actor, pass)) => page(&state, &actor, &pass, &q.t, None).await,
        Err(refused) => refused,
    }
}

pub async fn save(
    State(state): State<AppState>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let typed: BTreeMap<String, String> = pairs.into_iter().collect();
    let token = typed.get("t").cloned().unwrap_or_default();
    let (actor, pass) = match context(&state, &token).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let on = |name: &str| typed.get(name).is_some_and(|v| v == "on");
    let asked = PanelSettings {
        exclusions: Exclusions {
            contact_fax_opt_out: on("contact_fax_opt_out"),
            contact_do_not_call: on("contact_do_not_call"),
            contact_email_bounced: on("contact_email_bounced"),
            contact_consent_field: typed.get("contact_consent_field").cloned(),
            lead_do_not_call: on("lead_do_not_call"),
            lead_fax_opt_out: on("lead_fax_opt_out"),
        },
        sender_user_id: typed.get("sender_user_id").cloned(),
    };
    let note = match state.sonde.save_panel_settings(&actor, &pass, asked).await {
        Ok(_) => html! { p.notice role="status" { "Saved." } },
        Err(Error::Invalid { problems, message }) => html! {
            div.error role="alert" { p { (message) } ul { @for p in &problems { li { (p.field) ": " (p.message) } } } }
        },
        Err(e) => return failed(&pass, e),
    };
    page(&state, &actor, &pass, &token, Some(note)).await
}

pub async fn disconnect(
    State(state): State<AppState>,
    Form(f): Form<BTreeMap<String, String>>,
) -> Response {
    let token = f.get("t").cloned().unwrap_or_default();
    let (actor, pass) = match context(&state, &token).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    match state.sonde.disconnect_panel_org(&actor, &pass).await {
        Ok(n) => {
            let body = html! {
                h1 { "Disconnected" }
                p role="status" { "This Salesforce org is no longer linked to Sonde (" (n) " link" @if n != 1 { "s" } " revoked). Link it again from Sonde's Salesforce page to use the panel." }
            };
            crate::panel::bare_page(&pass, body)
        }
        Err(refusal) => crate::panel::refusal_page(refusal),
    }
}
