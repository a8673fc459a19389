//! The workflow editor page: describe-driven pickers, problems shown beside the fields they
//! name, and the handlers that open, re-render and save it. Plain forms: every picker change is a
//! submit that re-renders; a script only presses the button for you.

use crate::auth::WebUser;
use crate::error::PageError;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use engine::connections::SalesforceConnection;
use engine::{Error, FieldProblem};
use maud::{html, Markup};
use serde::Deserialize;

type PageResult = Result<Response, PageError>;

use crate::ui::page_with_status;
use crate::ui_workflow_catalog::{
    condition_subjects, piped_options, Catalog, FieldOpt, CONTACT_FIELDS, OPERATORS,
};
use crate::ui_workflow_form::{Editor, TaskForm};
use crate::ui_workflows::read_only;

// ---------------------------------------------------------------- editor page

enum Flash {
    Saved,
    /// Not saved: the problems, named the engine's way (`tasks[1].object`).
    Refused(Vec<FieldProblem>),
}

struct EditorPage<'a> {
    title: String,
    action: String,
    survey: &'a engine::surveys::Survey,
    editor: &'a Editor,
    own: &'a [SalesforceConnection],
    lists: &'a [engine::directory::MailingList],
    templates: &'a [engine::message_templates::Template],
    catalog: &'a Catalog,
    flash: Option<Flash>,
    workflow_id: Option<String>,
    csrf: &'a str,
}

fn problems_at<'a>(problems: &'a [FieldProblem], prefix: &str) -> Vec<&'a FieldProblem> {
    problems
        .iter()
        .filter(|p| p.field == prefix || p.field.starts_with(&format!("{prefix}.")))
        .collect()
}

/// Problems beside the control they are about: the place is plain from where they sit.
pub(crate) fn problem_list(ps: &[&FieldProblem]) -> Markup {
    html! {
        @for p in ps { p.error { (p.message) } }
    }
}

/// Problems listed at the top, each named as the screen names it ("Task 2 · Object").
fn named_problems(e: &Editor, ps: &[FieldProblem]) -> Markup {
    html! {
        ul { @for x in ps { li { strong { (e.place(&x.field)) } ": " (x.message) } } }
    }
}

pub(crate) fn select_options(options: &[(String, String)], current: &str, blank: &str) -> Markup {
    let known = options.iter().any(|(v, _)| v == current);
    html! {
        option value="" selected[current.is_empty()] { (blank) }
        @if !known && !current.is_empty() { option value=(current) selected { (current) } }
        @for (v, l) in options { option value=(v) selected[v == current] { (l) } }
    }
}

fn editor_markup(p: &EditorPage) -> Markup {
    let e = p.editor;
    let problems: &[FieldProblem] = match &p.flash {
        Some(Flash::Refused(problems)) => problems,
        _ => &[],
    };
    let def = &p.survey.definition;
    let subjects = condition_subjects(def);
    // A Salesforce message's record fields first: they are what such a workflow reads.
    let mut piped = crate::ui_workflow_triggers::record_options(e, p.catalog);
    piped.extend(piped_options(def));
    let triggered = e.event == crate::ui_workflow_triggers::EVENT;
    let ops: Vec<(String, String)> = OPERATORS
        .iter()
        .map(|(v, l)| (v.to_string(), l.to_string()))
        .collect();
    let name_problems = problems_at(problems, "name");
    let task_problems = problems_at(problems, "tasks")
        .into_iter()
        .filter(|x| x.field == "tasks")
        .collect::<Vec<_>>();
    let cond_problems: Vec<&FieldProblem> = problems
        .iter()
        .filter(|x| x.field.starts_with("conditions"))
        .collect();
    html! {
      div.wide {
        p { a href={ "/surveys/" (p.survey.id) "/workflows" } { "← Workflows of " (p.survey.name) } }
        h1 { (p.title) }
        @if let Some(Flash::Saved) = &p.flash {
            p.ok role="status" id="saved" { "Workflow saved." }
        }
        @if !e.warnings.is_empty() {
            div.notice role="status" id="warnings" {
                p { strong { "Worth knowing about this workflow:" } }
                (named_problems(e, &e.warnings))
            }
        }
        @if let Some(Flash::Refused(problems)) = &p.flash {
            div.notice role="alert" id="form-errors" {
                p.error { "The workflow was not saved. Fix what is marked below:" }
                (named_problems(e, problems))
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
                    select id="wf-event" name="event" data-refresh="refresh-event" {
                        @for (v, l) in [("response_created", "A response is recorded (new)"), ("response_updated", "A response is updated"), ("incomplete_closed", "An incomplete response is closed"), ("salesforce_message", "A Salesforce message arrives (a Flow's Outbound Message or callout)")] {
                            option value=(v) selected[e.event == v] { (l) }
                        }
                    }
                    button.secondary type="submit" name="action" value="refresh" id="refresh-event" formnovalidate { "Change" }
                }
                label.opt for="wf-enabled" { input type="checkbox" id="wf-enabled" name="enabled" checked[e.enabled]; span { "Enabled" } }
                label.opt for="wf-allow-unsigned" {
                    input type="checkbox" id="wf-allow-unsigned" name="allow_unsigned_record_ids" checked[e.allow_unsigned_record_ids];
                    span { "Let update, delete and upsert tasks use record ids a respondent could have chosen (link parameters that are not signed, answers)" }
                }
            }
            @if triggered {
                (crate::ui_workflow_triggers::trigger_markup(e, p.own, p.catalog, problems))
            }
            @if !triggered {
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
                    div.actions { button.secondary type="submit" name="action" value="add_condition" formnovalidate { "Add condition row" } }
                }
            }
            }
            h2 { "Tasks, in order" }
            (problem_list(&task_problems))
            @if e.tasks.is_empty() {
                @if triggered {
                    p.muted id="no-tasks" { "No task yet: each message is recorded and shown. Add what each should do: send the survey, change the directory, write a Salesforce record." }
                } @else {
                    p.muted id="no-tasks" { "No task yet. Add what each matching response should do: write a Salesforce record, or change the directory." }
                }
            }
            @for (t, task) in e.tasks.iter().enumerate() {
                (task_markup(p, problems, t, task, &piped))
            }
            // "Add" buttons re-render the form; the name may still be empty then.
            div.actions {
                button.secondary type="submit" name="action" value="add_salesforce" formnovalidate { "Add Salesforce task" }
                button.secondary type="submit" name="action" value="add_directory" formnovalidate { "Add Directory task" }
                button.secondary type="submit" name="action" value="add_distribution" formnovalidate { "Add Distribution task" }
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
      }
    }
}

fn task_markup(
    p: &EditorPage,
    problems: &[FieldProblem],
    t: usize,
    task: &TaskForm,
    piped: &[(String, String)],
) -> Markup {
    let prefix = format!("tasks[{t}]");
    let all = problems_at(problems, &prefix);
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
    let title = match task.kind.as_str() {
        "salesforce" => "Salesforce",
        "distribution" => "Distribution",
        _ => "Directory",
    };
    html! {
        fieldset.task id={ "task-" (t) } {
            legend { "Task " (t + 1) ": " (title) }
            input type="hidden" name=(id("kind")) value=(task.kind);
            @if task.kind == "distribution" {
                (crate::ui_workflow_triggers::distribution_markup(t, task, p.templates, piped, &all))
            } @else if task.kind == "salesforce" {
                @let describe = p.catalog.describe(task);
                @let fields: &[FieldOpt] = match describe { Some(Ok(d)) => &d.fields, _ => &[] };
                div.row {
                    div {
                        label for=(id("connection")) { "Salesforce org" }
                        select id=(id("connection")) name=(id("connection")) data-refresh={ "refresh-" (t) } {
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
                        select id=(id("object")) name=(id("object")) data-refresh={ "refresh-" (t) } {
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
                        button.secondary type="submit" name="action" value="refresh" id={ "refresh-" (t) } formnovalidate { "Load fields" }
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
                @let writable: Vec<&FieldOpt> = fields.iter().filter(|f| f.createable || f.updateable).collect();
                (mapping_rows(t, task, &Fields::Salesforce(&writable), piped, &all, "fields"))
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
                (mapping_rows(t, task, &Fields::Contact, piped, &all, "fields"))
            }
            (problem_list(&loose))
            label.opt for=(id("remove")) { input type="checkbox" id=(id("remove")) name=(id("remove")); span { "Remove this task when saving" } }
        }
    }
}

/// What a task's mapping rows may name: a Salesforce object's writable fields, or a contact's.
pub(crate) enum Fields<'a> {
    Salesforce(&'a [&'a FieldOpt]),
    Contact,
}

impl Fields<'_> {
    /// (value, label, picklist values) of each field a row may pick.
    fn options(&self) -> Vec<(String, String, &[String])> {
        match self {
            Fields::Salesforce(fields) => fields
                .iter()
                .map(|f| {
                    let mut l = format!("{} — {} ({}", f.name, f.label, f.kind);
                    if !f.reference_to.is_empty() {
                        l.push_str(&format!(" → {}", f.reference_to.join("/")));
                    }
                    if f.required {
                        l.push_str(", required");
                    }
                    if !f.createable {
                        l.push_str(", not createable");
                    }
                    if !f.updateable {
                        l.push_str(", not updateable");
                    }
                    l.push(')');
                    (f.name.clone(), l, f.picklist.as_slice())
                })
                .collect(),
            Fields::Contact => CONTACT_FIELDS
                .iter()
                .map(|(v, l)| (v.to_string(), l.to_string(), &[][..]))
                .collect(),
        }
    }
}

/// The mapping rows: field, kind, the text (or, for a picklist's specified value, a list of
/// its values) and the piped-text picker that inserts into that text. Problems about a row's
/// field are named `tasks[t].{path}.Field` (`fields`, or a distribution's `recipient`).
pub(crate) fn mapping_rows(
    t: usize,
    task: &TaskForm,
    fields: &Fields,
    piped: &[(String, String)],
    problems: &[&FieldProblem],
    path: &str,
) -> Markup {
    let options = fields.options();
    let refresh = matches!(fields, Fields::Salesforce(_)).then(|| format!("refresh-{t}"));
    let about = |r: usize, field: &str| -> Vec<&FieldProblem> {
        let row = format!("tasks[{t}].rows[{r}]");
        let named = format!("tasks[{t}].{path}.");
        problems
            .iter()
            .copied()
            .filter(|x| {
                x.field == row
                    || (!field.is_empty()
                        && x.field
                            .strip_prefix(&named)
                            .is_some_and(|f| f.eq_ignore_ascii_case(field)))
            })
            .collect()
    };
    let heading = if path == "recipient" {
        "Recipient"
    } else {
        "Field mapping"
    };
    html! {
        h3 { (heading) }
        @for (r, row) in task.rows.iter().enumerate() {
            @let id = |s: &str| format!("t{t}_m{r}_{s}");
            @let picklist = options.iter().find(|(v, _, _)| *v == row.field).map(|(_, _, p)| *p).filter(|p| !p.is_empty());
            div.mapping id={ "t" (t) "-row-" (r) } {
                div {
                    label for=(id("field")) { "Field" }
                    select id=(id("field")) name=(id("field")) data-picklist-refresh=[refresh.as_deref()] {
                        option value="" selected[row.field.is_empty()] { "(unused row)" }
                        @if !row.field.is_empty() && picklist.is_none() && !options.iter().any(|(v, _, _)| *v == row.field) {
                            option value=(row.field) selected { (row.field) }
                        }
                        @for (v, l, p) in &options {
                            option value=(v) selected[*v == row.field] data-picklist[!p.is_empty()] { (l) }
                        }
                    }
                }
                div {
                    label for=(id("kind")) { "Value is" }
                    select id=(id("kind")) name=(id("kind")) data-refresh=[picklist.and(refresh.as_deref())] {
                        option value="piped" selected[row.kind != "value"] { "Piped text" }
                        option value="value" selected[row.kind == "value"] { "Specified value" }
                    }
                }
                div.text {
                    label for=(id("text")) { "Text or value" }
                    @match picklist.filter(|_| row.kind == "value") {
                        Some(values) => select id=(id("text")) name=(id("text")) {
                            @let values: Vec<(String, String)> = values.iter().map(|v| (v.clone(), v.clone())).collect();
                            (select_options(&values, &row.text, "(choose a value)"))
                        },
                        None => textarea id=(id("text")) name=(id("text")) rows="1" { (row.text) },
                    }
                }
                div {
                    label for=(id("pick")) { "Insert piped text" }
                    select id=(id("pick")) name=(id("pick")) data-pick-for=(id("text")) data-kind=(id("kind")) data-refresh=[refresh.as_deref()] {
                        (select_options(piped, "", "—"))
                    }
                }
                @let here = about(r, &row.field);
                @if !here.is_empty() { div.problems { (problem_list(&here)) } }
            }
        }
        div.actions { button.secondary type="submit" name="action" value={ "add_row_" (t) } formnovalidate { "Add mapping row" } }
    }
}

pub(crate) struct EditorContext {
    pub(crate) survey: engine::surveys::Survey,
    pub(crate) own: Vec<SalesforceConnection>,
    pub(crate) lists: Vec<engine::directory::MailingList>,
    pub(crate) templates: Vec<engine::message_templates::Template>,
}

pub(crate) async fn editor_context(
    state: &AppState,
    user: &WebUser,
    survey_id: &str,
) -> Result<EditorContext, PageError> {
    Ok(EditorContext {
        survey: state.sonde.survey(&user.actor, survey_id).await?,
        own: state.sonde.salesforce_connections(&user.actor).await?,
        lists: state.sonde.mailing_lists(&user.actor).await?,
        templates: state.sonde.templates(&user.actor).await?,
    })
}

async fn render_editor(
    state: &AppState,
    user: &WebUser,
    ctx: &EditorContext,
    editor: &Editor,
    workflow_id: Option<String>,
    flash: Option<Flash>,
) -> Response {
    let status = match flash {
        Some(Flash::Refused(_)) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    let catalog = Catalog::load(state, &ctx.own, &editor.described()).await;
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
        templates: &ctx.templates,
        catalog: &catalog,
        flash,
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
    let editor = Editor::new();
    Ok(render_editor(&state, &user, &ctx, &editor, None, None).await)
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
    saved: Option<&engine::workflows::Workflow>,
) -> PageResult {
    user.check_csrf(form_value(pairs, "csrf"))?;
    let workflow_id = saved.map(|w| w.id.clone());
    let mut editor = Editor::from_form(pairs);
    // Shown, not submitted: the endpoint stays the saved workflow's.
    editor.endpoint_url = saved.and_then(|w| w.endpoint_url.clone());
    let action = form_value(pairs, "action");
    let action = if action.is_empty() { "save" } else { action };
    if editor.apply(action, &ctx.own) {
        return Ok(render_editor(state, user, ctx, &editor, workflow_id, None).await);
    }
    let input = match editor.input() {
        Ok(i) => i,
        Err(problems) => {
            let flash = Some(Flash::Refused(problems));
            return Ok(render_editor(state, user, ctx, &editor, workflow_id, flash).await);
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
        // The engine's message is general; the page names each problem in the screen's words.
        Err(Error::Invalid { message, problems }) => {
            let problems = if problems.is_empty() {
                vec![FieldProblem {
                    field: String::new(),
                    message,
                }]
            } else {
                problems
            };
            let flash = Some(Flash::Refused(problems));
            Ok(render_editor(state, user, ctx, &editor, workflow_id, flash).await)
        }
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
    let saved = q.saved.is_some().then_some(Flash::Saved);
    Ok(render_editor(&state, &user, &ctx, &editor, Some(w.id.clone()), saved).await)
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
    submit_editor(&state, &user, &ctx, &pairs, Some(&w)).await
}
