//! What the workflow editor's pickers offer: objects, fields and record types from the owner's
//! live connections (describe), and the survey's piped-text choices and condition subjects.

use crate::AppState;
use engine::connections::SalesforceConnection;
use std::collections::HashMap;
use survey::{Operator, QuestionKind, SurveyDefinition};

use crate::ui_workflow_form::TaskForm;

pub(crate) fn plain(s: &str, max: usize) -> String {
    let out = survey::html::to_plain(s);
    if out.chars().count() > max {
        format!("{}…", out.chars().take(max).collect::<String>())
    } else {
        out
    }
}

// ---------------------------------------------------------------- describe for pickers

pub(crate) struct ObjectOpt {
    pub(crate) name: String,
    pub(crate) label: String,
}

pub(crate) struct FieldOpt {
    pub(crate) name: String,
    pub(crate) label: String,
    pub(crate) kind: String,
    pub(crate) required: bool,
    pub(crate) createable: bool,
    pub(crate) updateable: bool,
    pub(crate) external_id: bool,
    pub(crate) reference_to: Vec<String>,
    /// A picklist's active values, offered as a list when the row specifies a value.
    pub(crate) picklist: Vec<String>,
}

pub(crate) struct RecordTypeOpt {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) default: bool,
}

#[derive(Default)]
pub(crate) struct ObjectDescribe {
    pub(crate) fields: Vec<FieldOpt>,
    pub(crate) record_types: Vec<RecordTypeOpt>,
}

/// What the pickers show, read through the owner's live connections (describe is cached per
/// connection by the client; describeGlobal once per page).
#[derive(Default)]
pub(crate) struct Catalog {
    pub(crate) objects: HashMap<String, Result<Vec<ObjectOpt>, String>>,
    pub(crate) describes: HashMap<(String, String), Result<ObjectDescribe, String>>,
}

impl Catalog {
    pub(crate) async fn load(
        state: &AppState,
        own: &[SalesforceConnection],
        tasks: &[TaskForm],
    ) -> Self {
        let mut cat = Catalog::default();
        for t in tasks.iter().filter(|t| t.kind == "salesforce") {
            // Only the caller's own active links are read (live_connection does not check).
            if !own
                .iter()
                .any(|c| c.id == t.connection && c.status == "active")
            {
                continue;
            }
            let conn = match state.sonde.live_connection(&t.connection).await {
                Ok(c) => c,
                Err(e) => {
                    cat.objects.insert(t.connection.clone(), Err(e.to_string()));
                    continue;
                }
            };
            if !cat.objects.contains_key(&t.connection) {
                let objects = conn.describe_global().await.map(|g| {
                    let mut v: Vec<ObjectOpt> = g
                        .sobjects
                        .iter()
                        .filter(|o| o.createable || o.updateable || o.deletable)
                        .map(|o| ObjectOpt {
                            name: o.name.clone(),
                            label: o.label.clone(),
                        })
                        .collect();
                    v.sort_by_key(|a| a.label.to_lowercase());
                    v
                });
                cat.objects.insert(
                    t.connection.clone(),
                    objects.map_err(|e| format!("Salesforce could not list objects: {e}")),
                );
            }
            if t.object.is_empty() {
                continue;
            }
            let key = (t.connection.clone(), t.object.to_ascii_lowercase());
            if cat.describes.contains_key(&key) {
                continue;
            }
            let d = conn.describe(&t.object).await.map(|d| {
                let required: Vec<String> =
                    d.required_on_create().map(|f| f.name.clone()).collect();
                ObjectDescribe {
                    fields: d
                        .fields
                        .iter()
                        .map(|f| FieldOpt {
                            name: f.name.clone(),
                            label: f.label.clone(),
                            kind: f.kind.clone(),
                            required: required.contains(&f.name),
                            createable: f.createable,
                            updateable: f.updateable,
                            external_id: f.external_id || f.id_lookup,
                            reference_to: f.reference_to.clone(),
                            picklist: f
                                .picklist_values
                                .iter()
                                .filter(|v| v.active)
                                .map(|v| v.value.clone())
                                .collect(),
                        })
                        .collect(),
                    record_types: d
                        .record_type_infos
                        .iter()
                        .filter(|r| r.available && !r.master)
                        .filter_map(|r| {
                            Some(RecordTypeOpt {
                                id: r.record_type_id.clone()?,
                                name: r.name.clone(),
                                default: r.default_record_type_mapping,
                            })
                        })
                        .collect(),
                }
            });
            cat.describes.insert(
                key,
                d.map_err(|e| format!("Salesforce could not describe {}: {e}", t.object)),
            );
        }
        cat
    }

    pub(crate) fn describe(&self, t: &TaskForm) -> Option<&Result<ObjectDescribe, String>> {
        self.describes
            .get(&(t.connection.clone(), t.object.to_ascii_lowercase()))
    }
}

/// Piped-text choices from the survey: answers, embedded data and response metadata.
pub(crate) fn piped_options(def: &SurveyDefinition) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for q in &def.questions {
        let text = plain(&q.text, 40);
        let tag = if q.export_tag.is_empty() {
            q.id.clone()
        } else {
            q.export_tag.clone()
        };
        let base = format!("{tag} · {text}");
        match &q.kind {
            QuestionKind::MultipleChoice { .. } => {
                out.push((
                    format!("${{q://{}/ChoiceGroup/SelectedChoices}}", q.id),
                    format!("{base} (selected choices)"),
                ));
                out.push((
                    format!("${{q://{}/SelectedChoicesRecode}}", q.id),
                    format!("{base} (recode)"),
                ));
            }
            QuestionKind::Nps { .. } | QuestionKind::TextEntry { .. } => out.push((
                format!("${{q://{}/ChoiceTextEntryValue}}", q.id),
                format!("{base} (answer)"),
            )),
            QuestionKind::Matrix { statements, .. } => {
                for s in statements {
                    out.push((
                        format!("${{q://{}/SelectedAnswerRecode/{}}}", q.id, s.id),
                        format!("{base} / {} (recode)", plain(&s.text, 30)),
                    ));
                }
            }
            QuestionKind::Slider { statements, .. } => {
                for s in statements {
                    out.push((
                        format!("${{q://{}/ChoiceNumericEntryValue/{}}}", q.id, s.id),
                        format!("{base} / {}", plain(&s.text, 30)),
                    ));
                }
            }
            _ => {}
        }
    }
    for f in survey::flow::declared_embedded_fields(def) {
        out.push((
            format!("${{e://Field/{}}}", f.name),
            format!("Embedded data · {}", f.name),
        ));
    }
    for m in survey::response::METADATA_FIELDS {
        out.push((format!("${{rm://{m}}}"), format!("Response · {m}")));
    }
    out
}

/// Condition subjects: `q:QID`, `e:Field`, `m:Field`.
pub(crate) fn condition_subjects(def: &SurveyDefinition) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for q in &def.questions {
        if matches!(
            q.kind,
            QuestionKind::Descriptive | QuestionKind::Timing { .. }
        ) {
            continue;
        }
        out.push((
            format!("q:{}", q.id),
            format!("Answer · {} {}", q.id, plain(&q.text, 40)),
        ));
    }
    for f in survey::flow::declared_embedded_fields(def) {
        out.push((
            format!("e:{}", f.name),
            format!("Embedded data · {}", f.name),
        ));
    }
    for m in survey::response::METADATA_FIELDS {
        out.push((format!("m:{m}"), format!("Metadata · {m}")));
    }
    out
}

pub(crate) const OPERATORS: &[(&str, &str)] = &[
    ("equals", "is equal to"),
    ("not_equals", "is not equal to"),
    ("selected", "has selected"),
    ("not_selected", "has not selected"),
    ("displayed", "was displayed"),
    ("greater_than", ">"),
    ("greater_or_equal", "≥"),
    ("less_than", "<"),
    ("less_or_equal", "≤"),
    ("contains", "contains"),
    ("does_not_contain", "does not contain"),
    ("is_empty", "is empty"),
    ("is_not_empty", "is not empty"),
];

pub(crate) const CONTACT_FIELDS: &[(&str, &str)] = &[
    ("email", "Email"),
    ("firstName", "First name"),
    ("lastName", "Last name"),
    ("phone", "Phone"),
    ("language", "Language"),
    ("extRef", "External data reference"),
];

pub(crate) fn op_str(op: Operator) -> String {
    serde_json::to_value(op)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
