//! Which record a Salesforce task may change: update, delete and upsert tasks pick an existing
//! record by a value (the record id, the external id), and a value a respondent could have
//! chosen (a link parameter that is not signed, an answer they typed) must not decide which
//! record is changed unless the workflow's owner accepted that (`allowUnsignedRecordIds`).

use crate::responses::Response;
use crate::workflows::{FieldValue, Operation, SalesforceTask};
use crate::FieldProblem;
use survey::piped::PipeSource;
use survey::{DistributionChannel, SurveyDefinition};

/// The text that picks the record, and where it sits in the workflow, for tasks that pick one.
fn record_pick(task: &SalesforceTask) -> Option<(String, &str)> {
    match task.operation {
        Operation::Update | Operation::Delete => Some((
            "recordId".to_string(),
            task.record_id.as_deref().unwrap_or(""),
        )),
        Operation::Upsert => {
            let field = task.external_id_field.as_deref()?;
            let (name, value) = task
                .fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(field))?;
            match value {
                FieldValue::Piped(text) => Some((format!("fields.{name}"), text.as_str())),
                // A value written into the workflow is the owner's own.
                FieldValue::Value(_) => None,
            }
        }
        Operation::Create => None,
    }
}

fn verb(op: Operation) -> &'static str {
    match op {
        Operation::Update => "update",
        Operation::Delete => "delete",
        Operation::Upsert => "overwrite",
        Operation::Create => "create",
    }
}

/// At save: the places a record-picking value may come from that a respondent controls on this
/// survey (links it does not require to be signed, answers).
fn choosable_by_respondents(
    text: &str,
    definition: &SurveyDefinition,
    signing_required: bool,
) -> Vec<String> {
    survey::piped::sources(text)
        .into_iter()
        .filter_map(|s| match s {
            PipeSource::EmbeddedData(name)
                if !signing_required && survey::flow::is_url_field(definition, &name) =>
            {
                Some(format!(
                    "embedded data {name}, which the survey takes from its link"
                ))
            }
            PipeSource::Answer(question) => Some(format!("the answer to {question}")),
            _ => None,
        })
        .collect()
}

/// What saving a workflow should say about a task that picks its record by a value a
/// respondent may choose: how runs will be refused and the ways out, or, with the opt-in,
/// what the owner accepted.
pub(crate) fn unsigned_pick_warning(
    at: &str,
    task: &SalesforceTask,
    definition: &SurveyDefinition,
    signing_required: bool,
    allow_unsigned: bool,
) -> Option<FieldProblem> {
    let (place, text) = record_pick(task)?;
    let sources = choosable_by_respondents(text, definition, signing_required);
    if sources.is_empty() {
        return None;
    }
    let verb = verb(task.operation);
    let object = &task.object;
    let from = sources.join(" and ");
    Some(if allow_unsigned {
        FieldProblem {
            field: "allowUnsignedRecordIds".into(),
            message: format!(
                "{at} picks the {object} to {verb} by {from}: with unsigned record ids allowed, \
                 anyone who edits a survey link (or types an id) can make this workflow {verb} \
                 any {object} the linked Salesforce user can reach"
            ),
        }
    } else {
        FieldProblem {
            field: format!("{at}.{place}"),
            message: format!(
                "this picks the {object} to {verb} by {from}, which a respondent can choose: \
                 a run whose value is not signed fails instead of letting someone {verb} \
                 another person's {object}. Send personal links or signed links (require them \
                 with PUT /api/v1/surveys/{{id}}/link-signing), or set allowUnsignedRecordIds \
                 if any record is acceptable"
            ),
        }
    })
}

/// At run time: why this response may not pick the task's record, if it may not. A value is
/// trusted when Sonde or an authenticated caller vouches for it: contact data, signed links,
/// the API, the survey's fixed values, response metadata.
pub(crate) fn unsigned_pick(
    task: &SalesforceTask,
    response: &Response,
    allow_unsigned: bool,
) -> Option<String> {
    if allow_unsigned {
        return None;
    }
    let (_, text) = record_pick(task)?;
    let through_api = response.metadata.distribution_channel == DistributionChannel::Api;
    let unsigned: Vec<String> = survey::piped::sources(text)
        .into_iter()
        .filter_map(|s| match s {
            PipeSource::EmbeddedData(name) => {
                // Not in the response: metadata or the contact's fields fill it (trusted).
                response.data.embedded_data.get(&name)?;
                let provenance = response.data.provenance.get(&name).copied();
                let signed = match provenance {
                    Some(p) => p.is_signed(),
                    // Recorded before provenance was kept: only the API's word counts.
                    None => through_api,
                };
                (!signed).then(|| {
                    format!(
                        "embedded data {name}, which this response took from a link parameter that is not signed"
                    )
                })
            }
            PipeSource::Answer(question) if !through_api => {
                Some(format!("the answer to {question}, typed by the respondent"))
            }
            _ => None,
        })
        .collect();
    if unsigned.is_empty() {
        return None;
    }
    let verb = verb(task.operation);
    let object = &task.object;
    Some(format!(
        "not run: the {object} to {verb} comes from {}, so anyone could have put another {object}'s id there. \
         Send personal or signed links, or let the workflow accept unsigned record ids (allowUnsignedRecordIds)",
        unsigned.join(" and ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use survey::Provenance;

    fn delete_case(record_id: &str) -> SalesforceTask {
        SalesforceTask {
            connection_id: "SC_1".into(),
            object: "Case".into(),
            operation: Operation::Delete,
            external_id_field: None,
            record_id: Some(record_id.into()),
            fields: Default::default(),
        }
    }

    fn response(channel: DistributionChannel, provenance: Option<Provenance>) -> Response {
        let mut data = survey::ResponseData::default();
        data.embedded_data.insert("CaseId".into(), "500A".into());
        if let Some(p) = provenance {
            data.provenance.insert("CaseId".into(), p);
        }
        Response {
            id: "R_1".into(),
            survey_id: "SV_1".into(),
            contact_id: None,
            status: store::responses::ResponseStatus::Complete,
            data,
            metadata: survey::ResponseMetadata {
                distribution_channel: channel,
                ..Default::default()
            },
            survey_version: 1,
        }
    }

    #[test]
    fn only_signed_values_pick_records_at_run_time() {
        let task = delete_case("${e://Field/CaseId}");
        let anon = DistributionChannel::Anonymous;
        let why = unsigned_pick(&task, &response(anon, Some(Provenance::Url)), false).unwrap();
        assert!(
            why.contains("CaseId") && why.contains("allowUnsignedRecordIds"),
            "{why}"
        );
        assert!(unsigned_pick(&task, &response(anon, Some(Provenance::Url)), true).is_none());
        for p in [
            Provenance::SignedUrl,
            Provenance::Contact,
            Provenance::Api,
            Provenance::Survey,
        ] {
            assert!(unsigned_pick(&task, &response(anon, Some(p)), false).is_none());
        }
        // Before provenance was kept: unsigned unless the API recorded it.
        assert!(unsigned_pick(&task, &response(anon, None), false).is_some());
        assert!(unsigned_pick(&task, &response(DistributionChannel::Api, None), false).is_none());
        let typed = delete_case("${q://QID1/ChoiceTextEntryValue}");
        assert!(unsigned_pick(&typed, &response(anon, None), false).is_some());
        assert!(unsigned_pick(
            &delete_case("${rm://ResponseID}"),
            &response(anon, None),
            false
        )
        .is_none());
        assert!(unsigned_pick(
            &delete_case("500000000000001"),
            &response(anon, None),
            false
        )
        .is_none());
    }

    #[test]
    fn saving_explains_unsigned_picks() {
        let def = survey::sample::sample_definition();
        let task = delete_case("${e://Field/CaseId}");
        let w = unsigned_pick_warning("tasks[0]", &task, &def, false, false).unwrap();
        assert_eq!(w.field, "tasks[0].recordId");
        assert!(w.message.contains("link-signing"), "{}", w.message);
        let w = unsigned_pick_warning("tasks[0]", &task, &def, false, true).unwrap();
        assert_eq!(w.field, "allowUnsignedRecordIds");
        assert!(unsigned_pick_warning("tasks[0]", &task, &def, true, false).is_none());
        let fixed = delete_case("${e://Field/SurveySource}");
        assert!(unsigned_pick_warning("tasks[0]", &fixed, &def, false, false).is_none());
    }
}
