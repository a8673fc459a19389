//! Linked-org pages beyond the list: the confirmation before a disconnect, naming the enabled
//! workflows that write through the org, and the sentences that report a disconnect or relink.

use crate::auth::WebUser;
use crate::error::PageError;
use crate::ui::page;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use engine::linked_orgs::{Disconnected, Linked, WorkflowUsingLink};
use maud::{html, Markup};

fn workflow_list(workflows: &[WorkflowUsingLink]) -> Markup {
    html! {
        ul.workflows {
            @for w in workflows {
                li { a href={ "/workflows/" (w.id) } { (w.name) } }
            }
        }
    }
}

/// `GET /salesforce/{id}/disconnect` (and a disconnect form posted without `confirm`): what
/// stops working, and the button that disconnects.
pub async fn confirm_disconnect(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    confirm_page(&state, &user, &id).await
}

pub(crate) async fn confirm_page(
    state: &AppState,
    user: &WebUser,
    id: &str,
) -> Result<Response, PageError> {
    let connection = state
        .sonde
        .salesforce_connections(&user.actor)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(engine::Error::NotFound("Salesforce connection"))?;
    let workflows = state.sonde.enabled_workflows_using(&user.actor, id).await?;
    let who = connection
        .username
        .clone()
        .unwrap_or_else(|| "the same Salesforce user".into());
    Ok(page(
        user,
        "Disconnect a Salesforce org",
        html! {
            h1 { "Disconnect " (connection.label) "?" }
            div.card id="disconnect-confirm" {
                @if workflows.is_empty() {
                    p { "No enabled workflow writes through this org." }
                } @else {
                    p.error role="alert" {
                        (workflows.len()) " enabled workflow" @if workflows.len() != 1 { "s" }
                        " write" @if workflows.len() == 1 { "s" } " through this org and will fail until you link it again:"
                    }
                    (workflow_list(&workflows))
                }
                p.muted { "Sonde revokes its access at Salesforce and forgets the tokens. Linking this org again as "
                    (who) " brings this same connection back, with its workflows; failed runs can then be retried." }
                form.inline method="post" action={ "/salesforce/" (id) "/disconnect" } {
                    input type="hidden" name="csrf" value=(user.csrf);
                    input type="hidden" name="confirm" value="yes";
                    button type="submit" id="disconnect-submit" { "Disconnect" }
                }
                " "
                a.button.secondary href="/salesforce" { "Keep it linked" }
            }
        },
    ))
}

/// The notice after a disconnect, naming the workflows that now fail.
pub(crate) fn disconnected_text(d: &Disconnected) -> String {
    let names: Vec<&str> = d
        .enabled_workflows
        .iter()
        .map(|w| w.name.as_str())
        .collect();
    let mut text = format!(
        "Disconnected {}: Sonde revoked its access and forgot the tokens.",
        d.connection.label
    );
    if !names.is_empty() {
        text.push_str(&format!(
            " Enabled workflows that now fail until you link this org again as {}: {}.",
            d.connection
                .username
                .as_deref()
                .unwrap_or("the same Salesforce user"),
            names.join(", ")
        ));
    }
    text
}

/// The notice after a sign-in at Salesforce.
pub(crate) fn linked_text(c: &engine::connections::SalesforceConnection, relinked: bool) -> String {
    if relinked {
        format!(
            "Relinked {}: the same connection, so its workflows write again; retry their failed runs.",
            c.label
        )
    } else {
        format!("Linked {}.", c.label)
    }
}

/// The API-side callback page's sentence.
pub(crate) fn linked_summary(l: &Linked) -> String {
    format!(
        "{} (connection {}). You can close this page.",
        linked_text(&l.connection, l.relinked),
        l.connection.id
    )
}
