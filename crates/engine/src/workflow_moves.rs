//! Moving a survey's workflows to another linked org — a sandbox's to production. First the
//! plan: every workflow re-validated against the target org's describe (objects and fields
//! missing there, fields typed differently than in the org they were built on, values its
//! picklists do not allow, record types matched by DeveloperName and re-pointed to the
//! target's ids, the record fields a Salesforce message's tasks read), with each problem
//! named by its place. Workflows that name no org (directory tasks only) are left out. Nothing
//! changes until the plan has no problem; then each workflow is bound to the target (Salesforce tasks and the message's org) and a Salesforce-message
//! workflow gets a new endpoint, to paste into the target org's Flow.

use crate::workflows::{Event, FieldValue, Task, Workflow};
use crate::{Actor, Error, FieldProblem, Result, Role, Sonde};
use salesforce::rest::SObjectDescribe;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// The body of `POST /api/v1/surveys/{id}/workflows/move`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MoveRequest {
    /// The linked org (one of yours) to move to.
    pub connection_id: String,
    /// false (the default): only the plan. true: move, if the plan has no problem.
    #[serde(default)]
    pub apply: bool,
}

/// What moving would do, or did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MovePlan {
    pub connection_id: String,
    /// The target as linked orgs are labelled ("org name · production · username").
    pub connection_label: String,
    pub workflows: Vec<WorkflowMove>,
    /// Nothing stands in the way.
    pub ready: bool,
    /// The workflows were moved.
    pub applied: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowMove {
    pub workflow_id: String,
    pub name: String,
    /// Each named by its place (`tasks[0].fields.NPS_Score__c`), as a save names them.
    pub problems: Vec<FieldProblem>,
    pub record_types: Vec<RecordTypeRemap>,
    /// A Salesforce message's new endpoint, once moved: paste it into the target's Flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
}

/// A record type re-pointed to the target org's id for the same DeveloperName.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordTypeRemap {
    pub task: usize,
    pub developer_name: String,
    pub from: String,
    pub to: String,
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
}

/// Describes per (connection, object), each asked once per plan.
#[derive(Default)]
struct Describes(HashMap<(String, String), std::result::Result<Arc<SObjectDescribe>, String>>);

impl Describes {
    async fn get(
        &mut self,
        sonde: &Sonde,
        connection: &str,
        object: &str,
    ) -> std::result::Result<Arc<SObjectDescribe>, String> {
        let key = (connection.to_string(), object.to_ascii_lowercase());
        if !self.0.contains_key(&key) {
            let d = match sonde.live_connection(connection).await {
                Ok(c) => c.describe(object).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            self.0.insert(key.clone(), d);
        }
        self.0[&key].clone()
    }
}

/// Every `${sf://Field}` a workflow's tasks read.
fn record_fields_read(w: &Workflow) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut scan = |at: String, text: &str| {
        for token in text.split("${sf://").skip(1) {
            if let Some(name) = token.split('}').next() {
                out.push((at.clone(), name.to_string()));
            }
        }
    };
    for (i, t) in w.tasks.iter().enumerate() {
        match t {
            Task::Salesforce(s) => {
                if let Some(r) = &s.record_id {
                    scan(format!("tasks[{i}].recordId"), r);
                }
                for (k, v) in &s.fields {
                    if let FieldValue::Piped(p) = v {
                        scan(format!("tasks[{i}].fields.{k}"), p);
                    }
                }
            }
            Task::Directory(d) => {
                for (k, v) in &d.fields {
                    if let FieldValue::Piped(p) = v {
                        scan(format!("tasks[{i}].fields.{k}"), p);
                    }
                }
            }
            Task::Distribution(d) => {
                for (k, v) in &d.recipient {
                    scan(format!("tasks[{i}].recipient.{k}"), v);
                }
                for (k, v) in &d.embedded_data {
                    scan(format!("tasks[{i}].embeddedData.{k}"), v);
                }
            }
        }
    }
    out
}

impl Sonde {
    /// The plan of moving the survey's workflows to `connectionId`, carried out with `apply`
    /// when it has no problem (otherwise 400 with every problem, `workflows[k].…`).
    pub async fn move_workflows(
        &self,
        actor: &Actor,
        survey_id: &str,
        asked: MoveRequest,
    ) -> Result<MovePlan> {
        actor.require(Role::Editor)?;
        let survey = self.survey(actor, survey_id).await?;
        // Someone else's link is no link of the caller's: 404, as everywhere connections are.
        let target = self.own_connection(actor, &asked.connection_id).await?;
        let label = self
            .salesforce_connections(actor)
            .await?
            .into_iter()
            .find(|c| c.id == target.id)
            .map(|c| c.label)
            .unwrap_or_default();
        let mut describes = Describes::default();
        let mut moves = Vec::new();
        let mut inputs = Vec::new();
        for w in self.workflows(actor, &survey.id).await? {
            let bound = w.event == Event::SalesforceMessage
                || w.tasks.iter().any(|t| matches!(t, Task::Salesforce(_)));
            if !bound {
                // Nothing in it names an org: it stays as it is wherever the others go.
                continue;
            }
            let mut m = WorkflowMove {
                workflow_id: w.id.clone(),
                name: w.name.clone(),
                problems: Vec::new(),
                record_types: Vec::new(),
                endpoint_url: None,
            };
            if w.owner_id != actor.user_id {
                m.problems.push(problem(
                    "workflow",
                    "another user's workflow: its owner moves it (or copy it to your account first)",
                ));
                moves.push(m);
                inputs.push(None);
                continue;
            }
            let mut moved = w.clone();
            self.rebind(&mut moved, &target.id, &mut describes, &mut m)
                .await;
            match self.validate_workflow(actor, &survey, &moved.input()).await {
                Ok(_) => {}
                Err(Error::Invalid { problems, message }) => {
                    if problems.is_empty() {
                        m.problems.push(problem("workflow", message));
                    }
                    m.problems.extend(problems);
                }
                Err(e) => return Err(e),
            }
            moves.push(m);
            inputs.push(Some(moved.input()));
        }
        let ready = moves.iter().all(|m| m.problems.is_empty());
        let mut plan = MovePlan {
            connection_id: target.id.clone(),
            connection_label: label,
            workflows: moves,
            ready,
            applied: false,
        };
        if !asked.apply {
            return Ok(plan);
        }
        if !ready {
            let problems: Vec<FieldProblem> = plan
                .workflows
                .iter()
                .enumerate()
                .flat_map(|(k, m)| {
                    m.problems.iter().map(move |p| FieldProblem {
                        field: format!("workflows[{k}].{}", p.field),
                        message: format!("{}: {}", m.name, p.message),
                    })
                })
                .collect();
            return Err(Error::invalid_fields(
                format!(
                    "nothing was moved: {} problem{} in the target org",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                ),
                problems,
            ));
        }
        let before: HashMap<String, Option<String>> = self
            .workflows(actor, &survey.id)
            .await?
            .into_iter()
            .map(|w| (w.id, w.connection_id))
            .collect();
        for (m, input) in plan.workflows.iter_mut().zip(inputs) {
            let Some(input) = input else { continue };
            let triggered = input.event == Event::SalesforceMessage;
            let elsewhere = before.get(&m.workflow_id).cloned().flatten() != input.connection_id;
            if triggered && elsewhere {
                // The old endpoint belongs to the org moved away from: a new one for the new.
                self.store
                    .delete_endpoint_of_workflow(&m.workflow_id)
                    .await?;
            }
            let saved = self.update_workflow(actor, &m.workflow_id, input).await?;
            m.endpoint_url = saved.endpoint_url.filter(|_| triggered && elsewhere);
        }
        plan.applied = true;
        Ok(plan)
    }

    /// Binds a copy of the workflow to `target`: each Salesforce task's connection, the
    /// record types it names (by DeveloperName), a Salesforce message's org; what the target
    /// lacks, or types differently than the org it was built on, goes into the problems.
    async fn rebind(
        &self,
        w: &mut Workflow,
        target: &str,
        describes: &mut Describes,
        m: &mut WorkflowMove,
    ) {
        if w.event == Event::SalesforceMessage {
            let object = w.object.clone().unwrap_or_default();
            match describes.get(self, target, &object).await {
                Err(e) => m.problems.push(problem(
                    "object",
                    format!("the target org cannot describe {object}: {e}"),
                )),
                Ok(d) => {
                    for (at, field) in record_fields_read(w) {
                        if d.field(&field).is_none() {
                            m.problems.push(problem(
                                at,
                                format!("the target org's {object} has no field {field}"),
                            ));
                        }
                    }
                }
            }
            w.connection_id = Some(target.to_string());
        }
        for i in 0..w.tasks.len() {
            let Task::Salesforce(t) = &w.tasks[i] else {
                continue;
            };
            let source = t.connection_id.clone();
            let object = t.object.clone();
            let target_d = match describes.get(self, target, &object).await {
                Ok(d) => d,
                // The save's own check names a missing object.
                Err(_) => {
                    if let Task::Salesforce(t) = &mut w.tasks[i] {
                        t.connection_id = target.to_string();
                    }
                    continue;
                }
            };
            let source_d = describes.get(self, &source, &object).await.ok();
            let Task::Salesforce(t) = &mut w.tasks[i] else {
                continue;
            };
            t.connection_id = target.to_string();
            if let Some(src) = &source_d {
                for name in t.fields.keys() {
                    if let (Some(a), Some(b)) = (src.field(name), target_d.field(name)) {
                        if a.kind != b.kind {
                            m.problems.push(problem(
                                format!("tasks[{i}].fields.{name}"),
                                format!(
                                    "{name} is {} in the org it was built on but {} in the target org",
                                    a.kind, b.kind
                                ),
                            ));
                        }
                    }
                }
            }
            let Some((key, FieldValue::Value(Value::String(id)))) = t
                .fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("RecordTypeId"))
                .map(|(k, v)| (k.clone(), v.clone()))
            else {
                continue;
            };
            let at = format!("tasks[{i}].fields.{key}");
            let Some(src) = &source_d else {
                m.problems.push(problem(
                    at,
                    "the org it was built on cannot be read, so its record type cannot be matched by name",
                ));
                continue;
            };
            let same = |a: &str, b: &str| a.get(..15) == b.get(..15);
            let Some(dev) = src
                .record_type_infos
                .iter()
                .find(|r| r.record_type_id.as_deref().is_some_and(|r| same(r, &id)))
                .and_then(|r| r.developer_name.clone())
            else {
                m.problems.push(problem(
                    at,
                    format!("{id} is not a record type of {object} in the org it was built on"),
                ));
                continue;
            };
            match target_d
                .record_type_infos
                .iter()
                .find(|r| r.developer_name.as_deref() == Some(dev.as_str()))
                .and_then(|r| r.record_type_id.clone())
            {
                Some(to) => {
                    t.fields
                        .insert(key, FieldValue::Value(Value::String(to.clone())));
                    m.record_types.push(RecordTypeRemap {
                        task: i,
                        developer_name: dev,
                        from: id,
                        to,
                    });
                }
                None => m.problems.push(problem(
                    at,
                    format!("the target org's {object} has no record type {dev}"),
                )),
            }
        }
    }
}
