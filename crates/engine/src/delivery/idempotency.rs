//! Creates that a retry must not repeat. When Salesforce saved a record but its reply was lost
//! (a timeout, a dropped connection), the run is retried and a plain create would write the
//! record again. A create that maps the response id to an external id is sent as an upsert
//! (see [`idempotency_field`]); one that maps it to another unique field is a marker Salesforce
//! can be asked about, so a retry first looks up what an earlier attempt wrote (one query per
//! group and field); a create with neither is warned about when the workflow is saved.

use super::{idempotency_field, Item, Pending};
use crate::workflows::{FieldValue, SalesforceTask, Task};
use crate::{FieldProblem, Sonde};
use salesforce::rest::SObjectDescribe;
use serde_json::Value;
use std::collections::BTreeMap;

/// Whether piped text carries the response id (`${rm://ResponseID}`, `${e://Field/ResponseID}`).
pub(super) fn from_response_id(v: &FieldValue) -> bool {
    matches!(v, FieldValue::Piped(text) if text.contains("ResponseID}"))
}

/// A unique field the create fills from the response id: records an interrupted attempt wrote
/// can be found by it.
pub(super) fn retry_marker_field(t: &SalesforceTask, describe: &SObjectDescribe) -> Option<String> {
    t.fields.iter().find_map(|(name, v)| {
        let field = describe.field(name)?;
        (from_response_id(v) && (field.unique || field.id_lookup || field.external_id))
            .then(|| field.name.clone())
    })
}

/// What saving says about a create whose retry could write the record twice.
pub(crate) fn duplicate_warning(
    at: &str,
    t: &SalesforceTask,
    describe: &SObjectDescribe,
) -> Option<FieldProblem> {
    if idempotency_field(t, describe).is_some() || retry_marker_field(t, describe).is_some() {
        return None;
    }
    let object = &describe.name;
    let known = describe
        .fields
        .iter()
        .find(|f| f.external_id && f.createable)
        .map(|f| format!(" ({object} already has {}: map it)", f.name))
        .unwrap_or_default();
    Some(FieldProblem {
        field: at.to_string(),
        message: format!(
            "if Salesforce's reply to this create is lost (a timeout or a dropped connection after it saved the record), \
             the retry creates a second {object}. Add an External ID field to {object} (Text, External ID, Unique, \
             e.g. Sonde_Response_Id__c) and map ${{rm://ResponseID}} to it{known}: Sonde then upserts on it, so a \
             retry updates the record it already made"
        ),
    })
}

impl Sonde {
    /// Before a plain create is retried: records an earlier attempt already wrote (found by
    /// their retry marker, one query per field and 200 values) count as this attempt's result
    /// and leave the call.
    pub(super) async fn skip_already_created(
        &self,
        conn: &salesforce::Connection,
        describe: &SObjectDescribe,
        items: &mut [Item],
        entries: &mut Vec<Pending>,
    ) {
        let mut by_field: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (n, (i, t, _)) in entries.iter().enumerate() {
            let Task::Salesforce(task) = &items[*i].workflow.tasks[*t] else {
                continue;
            };
            // The first attempt has nothing to find.
            if items[*i].tasks[*t].attempts <= 1 {
                continue;
            }
            if let Some(field) = retry_marker_field(task, describe) {
                by_field.entry(field).or_default().push(n);
            }
        }
        let mut done = Vec::new();
        for (field, members) in by_field {
            for chunk in members.chunks(salesforce::collections::MAX_RECORDS_PER_CALL) {
                let values: Vec<String> = chunk
                    .iter()
                    .filter_map(|&n| entries[n].2.get(&field).and_then(Value::as_str))
                    .map(str::to_string)
                    .collect();
                let existing = self
                    .existing_by_external_id(conn, &describe.name, &field, &values)
                    .await;
                for &n in chunk {
                    let (i, t, record) = &entries[n];
                    let found = record
                        .get(&field)
                        .and_then(Value::as_str)
                        .and_then(|v| existing.get(v));
                    if let Some(id) = found {
                        let rec = &mut items[*i].tasks[*t];
                        rec.status = "succeeded".into();
                        rec.record_id = Some(id.clone());
                        rec.created = Some(true);
                        rec.error = None;
                        done.push(n);
                    }
                }
            }
        }
        let mut n = 0;
        entries.retain(|_| {
            let keep = !done.contains(&n);
            n += 1;
            keep
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflows::Operation;
    use serde_json::json;

    fn describe() -> SObjectDescribe {
        serde_json::from_value(json!({
            "name": "Case",
            "fields": [
                {"name": "Subject", "type": "string", "createable": true},
                {"name": "Sonde_Response__c", "type": "string", "createable": true, "unique": true},
                {"name": "Plain__c", "type": "string", "createable": true}
            ]
        }))
        .unwrap()
    }

    fn create(fields: &[(&str, &str)]) -> SalesforceTask {
        SalesforceTask {
            connection_id: "SC_1".into(),
            object: "Case".into(),
            operation: Operation::Create,
            external_id_field: None,
            record_id: None,
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), FieldValue::Piped(v.to_string())))
                .collect(),
        }
    }

    #[test]
    fn a_unique_field_holding_the_response_id_is_a_retry_marker() {
        let d = describe();
        let marked = create(&[
            ("Subject", "x"),
            ("Sonde_Response__c", "${rm://ResponseID}"),
        ]);
        assert_eq!(
            retry_marker_field(&marked, &d).as_deref(),
            Some("Sonde_Response__c")
        );
        assert!(duplicate_warning("tasks[0]", &marked, &d).is_none());
        // Not unique, or not the response id: no marker, and saving says so.
        for t in [
            create(&[("Plain__c", "${rm://ResponseID}")]),
            create(&[("Sonde_Response__c", "fixed")]),
        ] {
            assert_eq!(retry_marker_field(&t, &d), None);
            let w = duplicate_warning("tasks[0]", &t, &d).unwrap();
            assert!(w.message.contains("External ID") && w.message.contains("${rm://ResponseID}"));
        }
    }
}
