//! The workflow editor's parts for workflows fired by Salesforce: the trigger (the linked org
//! and the object whose messages fire it, the endpoint URL to paste into Salesforce with the
//! steps to set it up) and the distribution task (channel, template, delay, the recipient
//! mapped from the record, the embedded data the invitation's link carries).

use crate::ui_workflow_catalog::Catalog;
use crate::ui_workflow_editor::{problem_list, select_options, Fields};
use crate::ui_workflow_form::{Editor, TaskForm};
use engine::connections::SalesforceConnection;
use engine::message_templates::Template;
use engine::FieldProblem;
use maud::{html, Markup};

pub(crate) const EVENT: &str = "salesforce_message";

/// `${sf://Field}` for each field of the trigger's object, for the piped-text pickers.
pub(crate) fn record_options(e: &Editor, catalog: &Catalog) -> Vec<(String, String)> {
    if e.event != EVENT || e.trigger_object.is_empty() {
        return Vec::new();
    }
    let key = (
        e.trigger_connection.clone(),
        e.trigger_object.to_ascii_lowercase(),
    );
    match catalog.describes.get(&key) {
        Some(Ok(d)) => d
            .fields
            .iter()
            .map(|f| {
                (
                    format!("${{sf://{}}}", f.name),
                    format!("{} · {} ({})", e.trigger_object, f.label, f.name),
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The trigger: org and object pickers, and once saved the endpoint with setup steps.
pub(crate) fn trigger_markup(
    e: &Editor,
    own: &[SalesforceConnection],
    catalog: &Catalog,
    problems: &[FieldProblem],
) -> Markup {
    let at = |f: &str| problems.iter().filter(|p| p.field == f).collect::<Vec<_>>();
    let connections: Vec<(String, String)> = own
        .iter()
        .filter(|c| c.status == "active")
        .map(|c| (c.id.clone(), c.label.clone()))
        .collect();
    let objects: Vec<(String, String)> = match catalog.objects.get(&e.trigger_connection) {
        Some(Ok(objs)) => objs
            .iter()
            .map(|o| (o.name.clone(), format!("{} ({})", o.label, o.name)))
            .collect(),
        _ => Vec::new(),
    };
    html! {
        fieldset.card id="trigger" {
            legend { "Salesforce message" }
            p.muted { "A Flow's “Send Outbound Message” action (or an HTTP callout) in the linked org fires this workflow, once per record it sends." }
            div.row {
                div {
                    label for="trigger-connection" { "Salesforce org" }
                    select id="trigger-connection" name="trigger_connection" data-refresh="refresh-trigger" {
                        (select_options(&connections, &e.trigger_connection, "(choose an org)"))
                    }
                    (problem_list(&at("connectionId")))
                }
                div {
                    label for="trigger-object" { "Object" }
                    select id="trigger-object" name="trigger_object" data-refresh="refresh-trigger" {
                        (select_options(&objects, &e.trigger_object, "(choose an object)"))
                    }
                    (problem_list(&at("object")))
                }
                div {
                    button.secondary type="submit" name="action" value="refresh" id="refresh-trigger" formnovalidate { "Load fields" }
                }
            }
            @match &e.endpoint_url {
                Some(url) => {
                    p { strong { "Endpoint URL: " } code.link id="endpoint-url" { (url) } " "
                        button.secondary type="button" data-copy="endpoint-url" { "Copy URL" } }
                    details {
                        summary { "Setting Salesforce up" }
                        ol {
                            li { "In Setup, open " strong { "Outbound Messages" } " and create one on " (e.trigger_object) ": paste the endpoint URL, and pick the fields the tasks below read (" code { "${sf://…}" } ")." }
                            li { "Create a record-triggered Flow on " (e.trigger_object) " (for example when a case is closed) and add the action " strong { "Send Outbound Message" } " with that message." }
                            li { "Or, for a Flow HTTP callout, post the record as JSON to the same URL with the header " code { "X-Sonde-Secret" } " (its value is the workflow's secret, " code { "GET /api/v1/workflows/{id}/endpoint" } ")." }
                            li { "Salesforce retries what is not acknowledged for 24 hours; Sonde acts on each notification once." }
                        }
                    }
                }
                None => p.muted { "Save the workflow to get its endpoint URL." }
            }
        }
    }
}

/// A distribution task's fieldset contents.
pub(crate) fn distribution_markup(
    t: usize,
    task: &TaskForm,
    templates: &[Template],
    piped: &[(String, String)],
    problems: &[&FieldProblem],
) -> Markup {
    let prefix = format!("tasks[{t}]");
    let id = |s: &str| format!("t{t}_{s}");
    let own = |s: &str| {
        problems
            .iter()
            .copied()
            .filter(|x| x.field == format!("{prefix}.{s}"))
            .collect::<Vec<_>>()
    };
    let sms = task.channel.starts_with("sms");
    let choices: Vec<(String, String)> = templates
        .iter()
        .filter(|tpl| (tpl.definition.channel() == "sms") == sms)
        .map(|tpl| (tpl.id.clone(), tpl.definition.name().to_string()))
        .collect();
    let embedded_problems = |name: &str| {
        problems
            .iter()
            .copied()
            .filter(|x| x.field == format!("{prefix}.embeddedData.{name}"))
            .collect::<Vec<_>>()
    };
    html! {
        div.row {
            div {
                label for=(id("channel")) { "Send by" }
                select id=(id("channel")) name=(id("channel")) data-refresh={ "refresh-" (t) } {
                    @for (v, l) in [("email", "Email"), ("sms", "Text message (SMS)"), ("sms_two_way", "Two-way SMS (the survey by text)")] {
                        option value=(v) selected[task.channel == v] { (l) }
                    }
                }
                (problem_list(&own("channel")))
            }
            div {
                label for=(id("template")) { "Template" }
                select id=(id("template")) name=(id("template")) {
                    (select_options(&choices, &task.template, "(choose a template)"))
                }
                (problem_list(&own("templateId")))
            }
            div {
                label for=(id("delay")) { "Delay after the event" }
                input type="text" id=(id("delay")) name=(id("delay")) value=(task.delay) placeholder="PT24H" aria-describedby=(id("delay-hint"));
                span.muted id=(id("delay-hint")) { "ISO 8601: PT24H is 24 hours, P2D two days; empty sends at once." }
                (problem_list(&own("delay")))
            }
            div {
                button.secondary type="submit" name="action" value="refresh" id={ "refresh-" (t) } formnovalidate { "Update" }
            }
        }
        (crate::ui_workflow_editor::mapping_rows(t, task, &Fields::Contact, piped, problems, "recipient"))
        h3 { "Embedded data the link carries" }
        @for (r, row) in task.embedded.iter().enumerate() {
            @let eid = |s: &str| format!("t{t}_e{r}_{s}");
            div.mapping.embedded id={ "t" (t) "-embedded-" (r) } {
                div {
                    label for=(eid("field")) { "Name" }
                    input type="text" id=(eid("field")) name=(eid("field")) value=(row.field) placeholder="sfCaseId";
                }
                div.text {
                    label for=(eid("text")) { "Value (piped text)" }
                    textarea id=(eid("text")) name=(eid("text")) rows="1" { (row.text) }
                }
                div {
                    label for=(eid("pick")) { "Insert piped text" }
                    select id=(eid("pick")) name=(eid("pick")) data-pick-for=(eid("text")) {
                        (select_options(piped, "", "—"))
                    }
                }
                @let here = embedded_problems(&row.field);
                @if !here.is_empty() { div.problems { (problem_list(&here)) } }
            }
        }
        div.actions { button.secondary type="submit" name="action" value={ "add_embedded_" (t) } formnovalidate { "Add embedded data" } }
    }
}
