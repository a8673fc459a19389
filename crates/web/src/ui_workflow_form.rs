//! The workflow editor's state: read from a stored workflow or a submitted form, turned into
//! the engine's input, and changed by the editor's add buttons.

use engine::connections::SalesforceConnection;
use engine::triggered_sends::DistributionTask;
use engine::workflows::{
    DirectoryAction, DirectoryTask, Event, FieldMap, FieldValue, Operation, SalesforceTask, Task,
    Workflow, WorkflowInput,
};
use engine::FieldProblem;
use serde_json::Value;
use std::collections::HashMap;
use survey::{Condition, Operator};

use crate::ui_workflow_catalog::{op_str, CONTACT_FIELDS};

// ---------------------------------------------------------------- editor state

#[derive(Clone, Default)]
pub(crate) struct CondRow {
    pub(crate) subject: String,
    pub(crate) op: String,
    pub(crate) value: String,
}

#[derive(Clone, Default)]
pub(crate) struct MapRow {
    pub(crate) field: String,
    /// `piped` or `value`.
    pub(crate) kind: String,
    pub(crate) text: String,
}

#[derive(Clone, Default)]
pub(crate) struct TaskForm {
    /// `salesforce`, `directory` or `distribution`.
    pub(crate) kind: String,
    pub(crate) remove: bool,
    pub(crate) connection: String,
    pub(crate) operation: String,
    pub(crate) object: String,
    pub(crate) record_type: String,
    pub(crate) external_id: String,
    pub(crate) record_id: String,
    pub(crate) action: String,
    pub(crate) list: String,
    /// Salesforce and directory fields; a distribution's recipient fields.
    pub(crate) rows: Vec<MapRow>,
    /// A distribution: channel, template, delay and the embedded data its link carries.
    pub(crate) channel: String,
    pub(crate) template: String,
    pub(crate) delay: String,
    pub(crate) embedded: Vec<MapRow>,
}

#[derive(Clone, Default)]
pub(crate) struct Editor {
    pub(crate) name: String,
    pub(crate) event: String,
    pub(crate) enabled: bool,
    pub(crate) any: bool,
    pub(crate) conds: Vec<CondRow>,
    /// Conditions the row editor cannot show (nested groups, negation): kept as they are.
    pub(crate) kept_conditions: Option<Condition>,
    pub(crate) tasks: Vec<TaskForm>,
    pub(crate) allow_unsigned_record_ids: bool,
    /// A Salesforce message's org and object.
    pub(crate) trigger_connection: String,
    pub(crate) trigger_object: String,
    /// Where its messages go, once saved (shown, not part of the form).
    pub(crate) endpoint_url: Option<String>,
    /// What the last save warned about (shown, not part of the form).
    pub(crate) warnings: Vec<FieldProblem>,
}

pub(crate) fn blank_rows(n: usize) -> Vec<MapRow> {
    (0..n)
        .map(|_| MapRow {
            kind: "piped".into(),
            ..Default::default()
        })
        .collect()
}

pub(crate) fn new_task(kind: &str, own: &[SalesforceConnection]) -> TaskForm {
    TaskForm {
        kind: kind.into(),
        connection: own
            .iter()
            .find(|c| c.status == "active")
            .map(|c| c.id.clone())
            .unwrap_or_default(),
        operation: "create".into(),
        action: "upsert_contact".into(),
        channel: "email".into(),
        rows: blank_rows(3),
        embedded: blank_rows(if kind == "distribution" { 2 } else { 0 }),
        ..Default::default()
    }
}

pub(crate) fn leaf_row(c: &Condition) -> Option<CondRow> {
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

pub(crate) fn value_text(v: &FieldValue) -> (String, String) {
    match v {
        FieldValue::Piped(t) => ("piped".into(), t.clone()),
        FieldValue::Value(Value::String(s)) => ("value".into(), s.clone()),
        FieldValue::Value(other) => ("value".into(), other.to_string()),
    }
}

impl Editor {
    pub(crate) fn new() -> Self {
        Editor {
            name: String::new(),
            event: "response_created".into(),
            enabled: true,
            any: false,
            conds: vec![CondRow::default()],
            kept_conditions: None,
            // No task until one is added: an empty one would only make the first save fail.
            tasks: Vec::new(),
            allow_unsigned_record_ids: false,
            warnings: Vec::new(),
            ..Default::default()
        }
    }

    pub(crate) fn from_workflow(w: &Workflow) -> Self {
        let mut e = Editor {
            name: w.name.clone(),
            event: w.event.as_str().into(),
            enabled: w.enabled,
            allow_unsigned_record_ids: w.allow_unsigned_record_ids,
            warnings: w.warnings.clone(),
            trigger_connection: w.connection_id.clone().unwrap_or_default(),
            trigger_object: w.object.clone().unwrap_or_default(),
            endpoint_url: w.endpoint_url.clone(),
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
                Task::Distribution(d) => {
                    f.kind = "distribution".into();
                    f.channel = d.channel.as_str().into();
                    f.template = d.template_id.clone();
                    f.delay = d.delay.clone().unwrap_or_default();
                    let piped = |(name, text): (&String, &String)| MapRow {
                        field: name.clone(),
                        kind: "piped".into(),
                        text: text.clone(),
                    };
                    f.rows.extend(d.recipient.iter().map(piped));
                    f.embedded.extend(d.embedded_data.iter().map(piped));
                    f.embedded.extend(blank_rows(2));
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
    pub(crate) fn from_form(pairs: &[(String, String)]) -> Self {
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
            trigger_connection: get("trigger_connection"),
            trigger_object: get("trigger_object"),
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
                channel: k("channel"),
                template: k("template"),
                delay: k("delay"),
                embedded: Vec::new(),
            };
            let mut r = 0;
            while m.contains_key(format!("t{t}_e{r}_field").as_str()) {
                let rk = |s: &str| get(&format!("t{t}_e{r}_{s}"));
                let mut text = rk("text");
                text.push_str(&rk("pick"));
                task.embedded.push(MapRow {
                    field: rk("field"),
                    kind: "piped".into(),
                    text,
                });
                r += 1;
            }
            let mut r = 0;
            while m.contains_key(format!("t{t}_m{r}_field").as_str()) {
                let rk = |s: &str| get(&format!("t{t}_m{r}_{s}"));
                let mut text = rk("text");
                let pick = rk("pick");
                // Without the script, a pick arrives here; it is piped text whatever the row was.
                let kind = if rk("kind") == "value" && pick.is_empty() {
                    "value"
                } else {
                    "piped"
                };
                if !pick.is_empty() {
                    text.push_str(&pick);
                }
                task.rows.push(MapRow {
                    field: rk("field"),
                    kind: kind.into(),
                    text,
                });
                r += 1;
            }
            e.tasks.push(task);
            t += 1;
        }
        e
    }

    pub(crate) fn conditions(&self) -> Result<Option<Condition>, Vec<FieldProblem>> {
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

    /// The engine's input; what the form itself can tell is missing (an operator, the field a
    /// typed value goes into) comes back as problems named like the engine's.
    pub(crate) fn input(&self) -> Result<WorkflowInput, Vec<FieldProblem>> {
        let (conditions, mut problems) = match self.conditions() {
            Ok(c) => (c, Vec::new()),
            Err(problems) => (None, problems),
        };
        for (i, t) in self.tasks.iter().filter(|t| !t.remove).enumerate() {
            for (r, row) in t.rows.iter().enumerate() {
                if row.field.is_empty() && !row.text.trim().is_empty() {
                    problems.push(FieldProblem {
                        field: format!("tasks[{i}].rows[{r}]"),
                        message: "no field is chosen for this value: pick the field it goes into, or clear the text".into(),
                    });
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let event = Event::parse(&self.event).unwrap_or_default();
        let mut tasks = Vec::new();
        for t in self.tasks.iter().filter(|t| !t.remove) {
            let mut fields = FieldMap::new();
            for r in t.rows.iter().filter(|r| !r.field.is_empty()) {
                let v = if r.kind == "value" {
                    FieldValue::Value(Value::String(r.text.clone()))
                } else {
                    FieldValue::Piped(r.text.clone())
                };
                fields.insert(r.field.clone(), v);
            }
            let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
            if t.kind == "distribution" {
                let texts = |rows: &[MapRow]| -> indexmap::IndexMap<String, String> {
                    rows.iter()
                        .filter(|r| !r.field.trim().is_empty())
                        .map(|r| (r.field.trim().to_string(), r.text.clone()))
                        .collect()
                };
                let channel = serde_json::from_value(Value::String(t.channel.clone()))
                    .unwrap_or(distribution::Channel::Email);
                tasks.push(Task::Distribution(DistributionTask {
                    channel,
                    template_id: t.template.clone(),
                    delay: opt(&t.delay),
                    recipient: texts(&t.rows),
                    embedded_data: texts(&t.embedded),
                }));
                continue;
            }
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
            connection_id: Some(self.trigger_connection.clone())
                .filter(|_| event == Event::SalesforceMessage),
            object: Some(self.trigger_object.trim().to_string())
                .filter(|_| event == Event::SalesforceMessage),
        })
    }

    /// What the pickers need described: each Salesforce task's object, and a Salesforce
    /// message's object (whose fields are `${sf://…}`).
    pub(crate) fn described(&self) -> Vec<TaskForm> {
        let mut out: Vec<TaskForm> = self
            .tasks
            .iter()
            .filter(|t| t.kind == "salesforce")
            .cloned()
            .collect();
        if self.event == "salesforce_message" && !self.trigger_connection.is_empty() {
            out.push(TaskForm {
                kind: "salesforce".into(),
                connection: self.trigger_connection.clone(),
                object: self.trigger_object.clone(),
                ..Default::default()
            });
        }
        out
    }

    /// Where a problem is, in the screen's words: `tasks[1].object` is "Task 2 · Object",
    /// `conditions.conditions[0].question` the first condition row in use.
    pub(crate) fn place(&self, path: &str) -> String {
        if let Some((task, rest)) = indexed(path, "tasks[") {
            let what = match rest {
                "" => return format!("Task {}", task + 1),
                "connectionId" => "Salesforce org".to_string(),
                "object" => "Object".into(),
                "operation" => "Operation".into(),
                "externalIdField" => "External id field".into(),
                "recordId" => "Record id".into(),
                "action" => "Action".into(),
                "listId" => "Mailing list".into(),
                "channel" => "Send by".into(),
                "templateId" => "Template".into(),
                "delay" => "Delay".into(),
                r if r.starts_with("recipient.") => {
                    let name = &r["recipient.".len()..];
                    let label = CONTACT_FIELDS
                        .iter()
                        .find(|(v, _)| *v == name)
                        .map_or(name, |(_, l)| l);
                    format!("recipient {label}")
                }
                r if r.starts_with("embeddedData") => {
                    format!(
                        "embedded data {}",
                        r.trim_start_matches("embeddedData").trim_start_matches('.')
                    )
                }
                r if r.eq_ignore_ascii_case("fields.RecordTypeId") => "Record type".into(),
                r if r.starts_with("fields.") => {
                    let name = &r["fields.".len()..];
                    let label = CONTACT_FIELDS
                        .iter()
                        .find(|(v, _)| {
                            *v == name
                                && self.tasks.get(task).is_some_and(|t| t.kind == "directory")
                        })
                        .map_or(name, |(_, l)| l);
                    format!("field {label}")
                }
                r => match indexed(r, "rows[") {
                    Some((row, _)) => format!("mapping row {}", row + 1),
                    None => r.to_string(),
                },
            };
            return format!("Task {} · {what}", task + 1);
        }
        if let Some((row, rest)) = indexed(path, "conditions[") {
            return match rest {
                "op" => format!("Condition {} · Operator", row + 1),
                _ => format!("Condition {}", row + 1),
            };
        }
        if let Some(rest) = path.strip_prefix("conditions.") {
            // The engine counts the conditions in use; the screen counts rows, blank ones too.
            let used: Vec<usize> = (0..self.conds.len())
                .filter(|&i| !self.conds[i].subject.is_empty())
                .collect();
            let row = indexed(rest, "conditions[").map_or(0, |(k, _)| k);
            return match used.get(row) {
                Some(i) if self.kept_conditions.is_none() => format!("Condition {}", i + 1),
                _ => "Conditions".into(),
            };
        }
        match path {
            "name" => "Name".into(),
            "connectionId" => "Salesforce message · Salesforce org".into(),
            "object" => "Salesforce message · Object".into(),
            "tasks" => "Tasks".into(),
            "conditions" => "Conditions".into(),
            other => other.into(),
        }
    }

    /// Applies an "add …" or "refresh" button; false for "save".
    pub(crate) fn apply(&mut self, action: &str, own: &[SalesforceConnection]) -> bool {
        self.tasks.retain(|t| !t.remove);
        if self.event == "salesforce_message" && self.trigger_connection.is_empty() {
            self.trigger_connection = own
                .iter()
                .find(|c| c.status == "active")
                .map(|c| c.id.clone())
                .unwrap_or_default();
        }
        match action {
            "add_condition" => self.conds.push(CondRow::default()),
            "add_salesforce" => self.tasks.push(new_task("salesforce", own)),
            "add_directory" => self.tasks.push(new_task("directory", own)),
            "add_distribution" => self.tasks.push(new_task("distribution", own)),
            a if a.starts_with("add_embedded_") => {
                if let Some(t) = a["add_embedded_".len()..]
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| self.tasks.get_mut(i))
                {
                    t.embedded.extend(blank_rows(1));
                }
            }
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

/// `prefix` `N` `]` and what follows its dot: `("tasks[2].object", "tasks[")` is `(2, "object")`.
fn indexed<'a>(path: &'a str, prefix: &str) -> Option<(usize, &'a str)> {
    let (n, rest) = path.strip_prefix(prefix)?.split_once(']')?;
    Some((n.parse().ok()?, rest.strip_prefix('.').unwrap_or(rest)))
}
