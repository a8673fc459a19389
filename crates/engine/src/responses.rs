//! Responses: submissions through the API that follow the respondent's rules, changes to
//! recorded responses, listing and export, and closing abandoned responses as incomplete.
//! The respondent's walk through the pages is `respondent`.

use crate::surveys::Survey;
use crate::{Actor, Error, FieldProblem, Result, Sonde};
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::BTreeMap;
use store::responses::{ResponseRow, ResponseStatus};
use store::Store;
use survey::flow;
use survey::{DistributionChannel, Provenance, ResponseData, ResponseMetadata};

pub use crate::respondent::{Arrival, PageToAnswer, PageView, RespondentContext, Submission};

/// A stored response with its survey-level meaning.
#[derive(Debug, Clone)]
pub struct Response {
    pub id: String,
    pub survey_id: String,
    pub contact_id: Option<String>,
    pub status: ResponseStatus,
    pub data: ResponseData,
    pub metadata: ResponseMetadata,
    /// The survey version it was answered under (see `answered_versions`).
    pub survey_version: i64,
}

/// How often a change to a recorded response is merged again after losing a race to another
/// change; each round at least one contender wins, so this covers far more concurrent changes
/// of one response than any client makes.
const UPDATE_ATTEMPTS: usize = 100;

/// The body of `PATCH /api/v1/surveys/{id}/responses/{responseId}`: answers and embedded data
/// to set (merged over what the response has; `null` removes an embedded data field).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseChanges {
    #[serde(default)]
    pub answers: BTreeMap<String, survey::Answer>,
    // Documented as `embeddedData`, as responses show it; the snake-case spelling still works.
    #[serde(default, rename = "embeddedData", alias = "embedded_data")]
    pub embedded_data: BTreeMap<String, Option<String>>,
}

/// The body of `POST /api/v1/surveys/{id}/responses`.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResponse {
    #[serde(default)]
    pub answers: BTreeMap<String, survey::Answer>,
    #[serde(default, rename = "embeddedData", alias = "embedded_data")]
    pub embedded_data: BTreeMap<String, String>,
    #[serde(default)]
    pub finished: bool,
}

pub fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A contact as piped text names its fields (`FirstName`, `Email`, ...) over its embedded data.
pub(crate) fn piped_contact_fields(c: store::directory::ContactRow) -> BTreeMap<String, String> {
    let mut fields: BTreeMap<String, String> =
        serde_json::from_str(&c.embedded_data).unwrap_or_default();
    fields.insert("FirstName".into(), c.first_name);
    fields.insert("LastName".into(), c.last_name);
    fields.insert("Email".into(), c.email.unwrap_or_default());
    fields.insert("PhoneNumber".into(), c.phone.unwrap_or_default());
    fields.insert("Language".into(), c.language.unwrap_or_default());
    fields.insert(
        "ExternalDataReference".into(),
        c.ext_ref.unwrap_or_default(),
    );
    fields
}

fn channel_of(s: &str) -> DistributionChannel {
    match s {
        "email" => DistributionChannel::Email,
        "sms" => DistributionChannel::Sms,
        "sms_two_way" => DistributionChannel::SmsTwoWay,
        "api" => DistributionChannel::Api,
        "preview" => DistributionChannel::Preview,
        _ => DistributionChannel::Anonymous,
    }
}

impl Response {
    pub(crate) fn from_row(row: ResponseRow) -> Result<Self> {
        let data: ResponseData = serde_json::from_str(&row.data)?;
        let last = row.ended_at.unwrap_or(row.updated_at);
        let metadata = ResponseMetadata {
            response_id: row.id.clone(),
            start_date: rfc3339(row.started_at),
            end_date: row.ended_at.map(rfc3339),
            recorded_date: row.recorded_at.map(rfc3339),
            progress: row.progress.clamp(0, 100) as u8,
            duration_seconds: ((last - row.started_at).max(0) / 1000) as u64,
            finished: row.status == ResponseStatus::Complete,
            distribution_channel: channel_of(&row.channel),
        };
        Ok(Self {
            id: row.id,
            survey_id: row.survey_id,
            contact_id: row.contact_id,
            status: row.status,
            data,
            metadata,
            survey_version: row.survey_version,
        })
    }
}

impl Sonde {
    /// Contact fields for `${m://...}` and the contact's embedded data.
    pub(crate) async fn contact_fields(
        &self,
        org_id: &str,
        contact_id: Option<&str>,
    ) -> Result<BTreeMap<String, String>> {
        let Some(id) = contact_id else {
            return Ok(BTreeMap::new());
        };
        Ok(self
            .store
            .contact(org_id, id)
            .await?
            .map(piped_contact_fields)
            .unwrap_or_default())
    }

    /// Links for `${l://...}`: the survey link, and the opt-out link when a contact is known.
    pub(crate) fn links(
        &self,
        survey_id: &str,
        org_id: &str,
        contact_id: Option<&str>,
    ) -> Result<BTreeMap<String, String>> {
        let mut links = BTreeMap::new();
        links.insert("SurveyURL".into(), self.anonymous_link(survey_id));
        if let Some(contact) = contact_id {
            links.insert("OptOutURL".into(), self.opt_out_link(org_id, contact)?);
        }
        Ok(links)
    }

    /// Creates a response through the API exactly as a respondent's submission would: the
    /// answers are type-checked, the flow is walked with them, and a finished response must
    /// have every required question on its path answered.
    pub async fn create_response(
        &self,
        actor: &Actor,
        survey_id: &str,
        input: NewResponse,
    ) -> Result<Response> {
        // Recording a response fires the survey's workflows, which write to Salesforce.
        actor.require(crate::Role::Editor)?;
        let survey = self.survey(actor, survey_id).await?;
        survey.refuse_if_archived("record responses")?;
        survey.refuse_unless_open("record responses")?;
        let given: Vec<(String, String)> = input.embedded_data.clone().into_iter().collect();
        let mut data =
            flow::initial_embedded_data(&survey.definition, &[(Provenance::Api, &given)]);
        data.answers = input.answers;
        // The API may also carry fields the flow does not declare (integration ids).
        for (k, v) in input.embedded_data {
            if !data.embedded_data.contains_key(&k) {
                data.provenance.insert(k.clone(), Provenance::Api);
                data.embedded_data.insert(k, v);
            }
        }
        if let Err(errors) = survey::validate::check_answers(&survey.definition, &data) {
            return Err(answer_problems("answers do not fit the survey", errors));
        }
        if input.finished {
            let missing = survey::validate::check_required(&survey.definition, &data);
            if !missing.is_empty() {
                return Err(answer_problems(
                    "a finished response must answer every required question on its path",
                    missing,
                ));
            }
        }
        let now = store::now_ms();
        let status = if input.finished {
            ResponseStatus::Complete
        } else {
            ResponseStatus::Incomplete
        };
        let row = ResponseRow {
            id: store::ids::response(),
            org_id: actor.org_id.clone(),
            survey_id: survey.id.clone(),
            survey_version: survey.version,
            contact_id: None,
            status,
            data: serde_json::to_string(&data)?,
            cursor: None,
            progress: if input.finished {
                100
            } else {
                answered_progress(&survey, &data)
            },
            channel: DistributionChannel::Api.as_str().into(),
            started_at: now,
            updated_at: now,
            ended_at: Some(now),
            recorded_at: Some(now),
            expires_at: None,
        };
        let mut tx = self.store.begin().await?;
        Store::insert_response(&mut tx, &row).await?;
        let event = if input.finished {
            crate::workflows::Event::ResponseCreated
        } else {
            crate::workflows::Event::IncompleteClosed
        };
        crate::delivery::fire(&mut tx, &row, event).await?;
        tx.commit().await?;
        metrics_response_recorded();
        Response::from_row(row)
    }

    /// Changes a recorded response (answers, embedded data) and fires the survey's
    /// "response updated" workflows in the same transaction.
    ///
    /// The changes are merged over the response as read, and written only if it is still as
    /// read; otherwise it is read and merged again. So concurrent changes to one response all
    /// land, and each acknowledged change fires the workflows once (its `updated_at` is new for
    /// the response, and names the firing).
    pub async fn update_response(
        &self,
        actor: &Actor,
        survey_id: &str,
        id: &str,
        changes: ResponseChanges,
    ) -> Result<Response> {
        actor.require(crate::Role::Editor)?;
        let survey = self.survey(actor, survey_id).await?;
        survey.refuse_if_archived("change its responses")?;
        for attempt in 0..UPDATE_ATTEMPTS {
            let mut row = self
                .store
                .response(&actor.org_id, id)
                .await?
                .filter(|r| r.survey_id == survey.id)
                .ok_or(Error::NotFound("response"))?;
            if row.status == ResponseStatus::InProgress {
                return Err(Error::Conflict(
                    "this response is still being answered; it can be changed once recorded".into(),
                ));
            }
            let mut data: ResponseData = serde_json::from_str(&row.data)?;
            data.answers.extend(changes.answers.clone());
            for (k, v) in &changes.embedded_data {
                match v {
                    Some(v) => {
                        data.provenance.insert(k.clone(), Provenance::Api);
                        data.embedded_data.insert(k.clone(), v.clone());
                    }
                    None => {
                        data.provenance.remove(k);
                        data.embedded_data.remove(k);
                    }
                };
            }
            if let Err(errors) = survey::validate::check_answers(&survey.definition, &data) {
                return Err(answer_problems("answers do not fit the survey", errors));
            }
            let (read_data, read_updated_at) = (row.data, row.updated_at);
            row.data = serde_json::to_string(&data)?;
            row.updated_at = store::now_ms().max(read_updated_at + 1);
            let mut tx = self.store.begin().await?;
            if Store::update_recorded_response(
                &mut tx,
                &actor.org_id,
                id,
                &read_data,
                read_updated_at,
                &row.data,
                row.updated_at,
            )
            .await?
            {
                crate::delivery::fire(&mut tx, &row, crate::workflows::Event::ResponseUpdated)
                    .await?;
                tx.commit().await?;
                return Response::from_row(row);
            }
            tx.rollback().await?;
            // Another change landed first: let the others through before reading again.
            let jitter = rand::random::<u64>() % (2 + attempt as u64 * 2);
            tokio::time::sleep(std::time::Duration::from_millis(jitter)).await;
        }
        Err(Error::Conflict(
            "the response kept changing while this change was applied; try again".into(),
        ))
    }

    pub async fn response(&self, actor: &Actor, survey_id: &str, id: &str) -> Result<Response> {
        let survey = self.survey(actor, survey_id).await?;
        let row = self
            .store
            .response(&actor.org_id, id)
            .await?
            .filter(|r| r.survey_id == survey.id)
            .ok_or(Error::NotFound("response"))?;
        Response::from_row(row)
    }

    /// One page of responses, oldest first, and the cursor for the next page.
    /// One page of a survey's responses of one status (or all): [`Sonde::select_responses`]
    /// with only a status.
    pub async fn responses(
        &self,
        actor: &Actor,
        survey_id: &str,
        status: Option<ResponseStatus>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Survey, Vec<Response>, Option<String>)> {
        let selection = crate::response_listing::ResponseSelection {
            status,
            ..Default::default()
        };
        self.select_responses(actor, survey_id, &selection, after, limit)
            .await
    }

    pub async fn response_count(&self, actor: &Actor, survey_id: &str) -> Result<i64> {
        let survey = self.survey(actor, survey_id).await?;
        Ok(self
            .store
            .count_responses(&actor.org_id, &survey.id)
            .await?)
    }

    /// The selected responses of a survey as CSV, one column per question or sub-question.
    pub async fn export_csv(
        &self,
        actor: &Actor,
        survey_id: &str,
        selection: &crate::response_listing::ResponseSelection,
    ) -> Result<String> {
        let survey = self.survey(actor, survey_id).await?;
        // Each response is written with the version it was answered under.
        let versions = self.all_answered_versions(&survey).await?;
        let columns = versions.columns();
        let mut out = csv::Writer::from_writer(Vec::new());
        let csv_err = |e: csv::Error| Error::Internal(Box::new(e));
        for header in survey::export::header_rows_of(&columns) {
            out.write_record(&header).map_err(csv_err)?;
        }
        let mut after = None;
        loop {
            let rows = self
                .store
                .responses(
                    &actor.org_id,
                    &survey.id,
                    &selection.filter(after.clone(), 500),
                )
                .await?;
            let Some(last) = rows.last() else { break };
            after = Some((last.started_at, last.id.clone()));
            for row in rows {
                let r = Response::from_row(row)?;
                out.write_record(survey::export::csv_row_in(
                    &columns,
                    versions.of(&r),
                    &r.metadata,
                    &r.data,
                ))
                .map_err(csv_err)?;
            }
        }
        let bytes = out
            .into_inner()
            .map_err(|e| Error::Internal(Box::new(e.into_error())))?;
        String::from_utf8(bytes).map_err(|e| Error::Internal(Box::new(e)))
    }

    /// Closes every abandoned response whose window has passed. Safe to run on every node:
    /// each response is closed by exactly one UPDATE.
    pub async fn close_abandoned_responses(&self) -> Result<usize> {
        let mut tx = self.store.begin().await?;
        let closed = Store::close_expired_responses_in(&mut tx, store::now_ms()).await?;
        for r in &closed {
            crate::delivery::fire(&mut tx, r, crate::workflows::Event::IncompleteClosed).await?;
        }
        tx.commit().await?;
        metrics::counter!("sonde_responses_closed_incomplete_total").increment(closed.len() as u64);
        for r in &closed {
            tracing::info!(response_id = %r.id, survey_id = %r.survey_id, "response closed as incomplete");
        }
        Ok(closed.len())
    }
}

fn answered_progress(survey: &Survey, data: &ResponseData) -> i64 {
    let total = survey.definition.questions.len().max(1);
    ((data.answers.len() * 100) / total).min(99) as i64
}

fn answer_problems(message: &str, errors: Vec<survey::validate::AnswerError>) -> Error {
    Error::invalid_fields(
        message,
        errors
            .into_iter()
            .map(|e| FieldProblem {
                field: format!("answers.{}", e.question),
                message: e.message,
            })
            .collect(),
    )
}

pub(crate) fn encode_page_cursor(started_at: i64, id: &str) -> String {
    format!("{started_at}.{id}")
}

pub(crate) fn decode_page_cursor(s: &str) -> Result<(i64, String)> {
    let bad = || {
        Error::invalid_fields(
            "bad page cursor",
            vec![FieldProblem {
                field: "after".into(),
                message: "use the `next` value from the previous page".into(),
            }],
        )
    };
    let (t, id) = s.split_once('.').ok_or_else(bad)?;
    Ok((t.parse().map_err(|_| bad())?, id.to_string()))
}

pub(crate) fn metrics_response_recorded() {
    metrics::counter!("sonde_responses_recorded_total").increment(1);
}
