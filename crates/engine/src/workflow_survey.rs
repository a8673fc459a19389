//! Workflows checked against their survey when saved: piped text and conditions name only
//! questions, statements, choices and embedded data the survey has, and a piped value has a
//! type its Salesforce field (or contact field) can take. Problems are named like describe's.

use crate::workflows::FieldMap;
use crate::workflows::{FieldValue, Task, WorkflowInput};
use crate::FieldProblem;
use salesforce::rest::Field;
use survey::piped::{sources, PipeSource};
use survey::piped_values::{check_condition, check_piped, PipedKind};
use survey::SurveyDefinition;

fn problem(field: impl Into<String>, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
}

fn piped_fields(piped: &mut impl FnMut(String, &str), i: usize, fields: &FieldMap) {
    for (name, value) in fields {
        if let FieldValue::Piped(text) = value {
            piped(format!("tasks[{i}].fields.{name}"), text);
        }
    }
}

/// Everything in the workflow that names what the survey does not have, each at its path
/// (`tasks[0].fields.NPS_Score__c`, `conditions.conditions[1].question`).
pub(crate) fn survey_problems(input: &WorkflowInput, def: &SurveyDefinition) -> Vec<FieldProblem> {
    let mut out = Vec::new();
    if let Some(c) = &input.conditions {
        for p in check_condition(c, def) {
            let at = if p.path.is_empty() {
                "conditions".to_string()
            } else {
                format!("conditions.{}", p.path)
            };
            out.push(problem(at, p.message));
        }
    }
    let reads_record = crate::triggered_sends::reads_record(input.event);
    let mut piped = |at: String, text: &str| {
        for message in check_piped(text, def).problems {
            out.push(problem(at.clone(), message));
        }
        if !reads_record && sources(text).contains(&PipeSource::SalesforceRecord) {
            out.push(problem(
                at,
                "${sf://...} reads the record of a Salesforce message: this workflow's event has none",
            ));
        }
    };
    for (i, task) in input.tasks.iter().enumerate() {
        match task {
            Task::Salesforce(t) => {
                if let Some(r) = &t.record_id {
                    piped(format!("tasks[{i}].recordId"), r);
                }
                piped_fields(&mut piped, i, &t.fields);
            }
            Task::Directory(t) => piped_fields(&mut piped, i, &t.fields),
            Task::Distribution(t) => {
                for (name, text) in &t.recipient {
                    piped(format!("tasks[{i}].recipient.{name}"), text);
                }
                for (name, text) in &t.embedded_data {
                    piped(format!("tasks[{i}].embeddedData.{name}"), text);
                }
            }
        }
    }
    for (i, task) in input.tasks.iter().enumerate() {
        if let Task::Directory(t) = task {
            if let Some(FieldValue::Piped(text)) = t.fields.get("email") {
                if let Some(kind) = check_piped(text, def).kind {
                    if !matches!(kind, PipedKind::Email | PipedKind::Text) {
                        out.push(problem(
                            format!("tasks[{i}].fields.email"),
                            format!(
                                "a contact's email needs an email address, but {text} gives {}",
                                kind.describe()
                            ),
                        ));
                    }
                }
            }
        }
    }
    out
}

fn looks_like_id(v: &str) -> bool {
    (v.len() == 15 || v.len() == 18) && v.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Why piped `text` cannot fit the Salesforce field, if it cannot: a matrix's labels into a
/// number, a date into a lookup, several answers into one picklist value, a label the
/// picklist does not have. Free text is let through (it may well fit; delivery says if not).
pub(crate) fn fit_problem(field: &Field, text: &str, def: &SurveyDefinition) -> Option<String> {
    let kind = check_piped(text, def).kind?;
    let name = &field.name;
    let gives = || format!("{text} gives {}", kind.describe());
    match field.kind.as_str() {
        "double" | "int" | "currency" | "percent" => {
            (!matches!(kind, PipedKind::Number | PipedKind::Text))
                .then(|| format!("{name} is a number field, but {}", gives()))
        }
        "date" | "datetime" => (!matches!(kind, PipedKind::DateTime | PipedKind::Text))
            .then(|| format!("{name} is a date field, but {}", gives())),
        "reference" | "id" => {
            let fits = match &kind {
                PipedKind::Text => true,
                PipedKind::Choice { values, multiple } => {
                    !multiple && values.iter().all(|v| looks_like_id(v))
                }
                _ => false,
            };
            (!fits).then(|| format!("{name} needs a Salesforce record id, but {}", gives()))
        }
        "picklist" | "multipicklist" => {
            let allowed: Vec<&str> = field
                .picklist_values
                .iter()
                .filter(|p| p.active)
                .map(|p| p.value.as_str())
                .collect();
            match &kind {
                PipedKind::Choice { multiple: true, .. } | PipedKind::Numbers => Some(format!(
                    "{name} takes {}, but {}",
                    if field.kind == "picklist" {
                        "one value"
                    } else {
                        "values separated by ;"
                    },
                    gives()
                )),
                PipedKind::Choice {
                    values,
                    multiple: false,
                } if !allowed.is_empty() => {
                    let missing: Vec<&str> = values
                        .iter()
                        .map(String::as_str)
                        .filter(|v| !allowed.contains(v))
                        .collect();
                    (!missing.is_empty()).then(|| {
                        format!(
                            "{name} does not allow {} that {text} can give (allowed: {})",
                            missing.join(", "),
                            allowed.join(", ")
                        )
                    })
                }
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(name: &str, kind: &str) -> Field {
        serde_json::from_value(json!({"name": name, "type": kind, "createable": true,
            "picklistValues": [{"value": "Phone", "active": true}, {"value": "Email", "active": true}]}))
        .unwrap()
    }

    #[test]
    fn piped_values_must_fit_the_fields_type() {
        let def = survey::sample::sample_definition();
        let fit = |kind: &str, text: &str| fit_problem(&field("F__c", kind), text, &def);
        // Numbers: the NPS, a matrix recode; not the matrix's labels, a date, an email.
        assert_eq!(fit("double", "${q://QID3/ChoiceTextEntryValue}"), None);
        assert_eq!(fit("int", "${q://QID6/SelectedAnswerRecode/1}"), None);
        let m = fit("double", "${q://QID6/ChoiceGroup/SelectedAnswers/1}").unwrap();
        assert!(
            m.starts_with("F__c is a number field, but ${q://QID6/ChoiceGroup/SelectedAnswers/1} gives one of Strongly disagree"),
            "{m}"
        );
        assert!(fit("currency", "${rm://StartDate}").is_some());
        assert!(fit("percent", "${q://QID10/ChoiceTextEntryValue}").is_some());
        // Free text may be a number; delivery refuses it if it is not.
        assert_eq!(fit("double", "${q://QID9/ChoiceTextEntryValue}"), None);
        // Dates, ids.
        assert_eq!(fit("datetime", "${rm://StartDate}"), None);
        assert!(fit("date", "${q://QID3/ChoiceTextEntryValue}").is_some());
        assert_eq!(fit("reference", "${e://Field/sfAccountId}"), None);
        assert!(fit("reference", "${q://QID3/ChoiceTextEntryValue}").is_some());
        // Picklists: one allowed value.
        assert!(fit("picklist", "${q://QID5/ChoiceGroup/SelectedChoices}")
            .unwrap()
            .contains("takes one value"));
        let m = fit("picklist", "${q://QID4/ChoiceGroup/SelectedChoices}").unwrap();
        assert!(m.contains("does not allow Very satisfied"), "{m}");
        assert_eq!(
            fit("string", "${q://QID6/ChoiceGroup/SelectedAnswers/1}"),
            None
        );
        assert_eq!(fit("boolean", "${q://QID3/ChoiceTextEntryValue}"), None);
        // A reference that renders nothing is reported by survey_problems, not here.
        assert_eq!(fit("double", "${q://QID999/ChoiceTextEntryValue}"), None);
    }

    #[test]
    fn every_place_a_workflow_names_the_survey_is_checked() {
        let def = survey::sample::sample_definition();
        let input: WorkflowInput = serde_json::from_value(json!({
            "name": "w",
            "conditions": {"type": "answer", "question": "QID999", "op": "is_not_empty"},
            "tasks": [
                {"type": "salesforce", "connectionId": "SC_1", "object": "Case", "operation": "update",
                 "recordId": "${e://Field/sfCaseId}",
                 "fields": {"Status": {"value": "Closed"}, "Subject": {"piped": "About ${q://QID77/QuestionText}"}}},
                {"type": "directory", "action": "upsert_contact",
                 "fields": {"email": {"piped": "${q://QID3/ChoiceTextEntryValue}"}, "firstName": {"piped": "${m://FirstName}"}}}
            ]
        }))
        .unwrap();
        let found: Vec<String> = survey_problems(&input, &def)
            .into_iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect();
        assert_eq!(
            found,
            vec![
                "conditions.question: QID999 is not a question of this survey",
                "tasks[0].recordId: embedded data field sfCaseId is not declared in the survey flow",
                "tasks[0].fields.Subject: QID77 is not a question of this survey",
                "tasks[1].fields.email: a contact's email needs an email address, but ${q://QID3/ChoiceTextEntryValue} gives a number",
            ]
        );
    }
}
