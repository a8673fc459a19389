//! Responses: a respondent's walk through the pages (progress saved per page), submissions
//! through the API that follow the same rules, listing and export, and closing abandoned
//! responses as incomplete.

use crate::surveys::Survey;
use crate::{Actor, Error, FieldProblem, Result, Sonde};
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::BTreeMap;
use store::responses::{ResponseFilter, ResponseRow, ResponseStatus};
use store::Store;
use survey::flow::{self, Cursor, Step};
use survey::{DistributionChannel, Provenance, ResponseData, ResponseMetadata};

/// How a respondent arrived.
#[derive(Debug, Clone, Default)]
pub struct Arrival {
    /// The link's query string, in order.
    pub query: Vec<(String, String)>,
    /// A unique personal link's token, when the link was one.
    pub personal_link: Option<String>,
    pub preview: bool,
}

/// What the respondent sees next.
#[derive(Debug, Clone)]
pub enum PageView {
    /// A page to answer. `errors` and `raw` are set when the last submission was refused.
    Page {
        response_id: String,
        number: usize,
        progress: u8,
        questions: Vec<String>,
        answers: BTreeMap<String, survey::Answer>,
        errors: BTreeMap<String, String>,
        raw: BTreeMap<String, String>,
    },
    /// The end page, with the message already rendered as HTML.
    End { message_html: String },
    /// A personal link that was already used to the end.
    AlreadyCompleted,
    /// A link whose parameters are refused (tampered, expired, or unsigned where the survey
    /// requires signed links); `reason` is written for the respondent.
    LinkRefused { reason: String },
}

/// A stored response with its survey-level meaning.
#[derive(Debug, Clone)]
pub struct Response {
    pub id: String,
    pub survey_id: String,
    pub contact_id: Option<String>,
    pub status: ResponseStatus,
    pub data: ResponseData,
    pub metadata: ResponseMetadata,
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

fn channel_of(s: &str) -> DistributionChannel {
    match s {
        "email" => DistributionChannel::Email,
        "sms" => DistributionChannel::Sms,
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
        })
    }
}

fn expiry(survey: &Survey, now: i64) -> i64 {
    now + i64::from(survey.definition.options.incomplete_after_hours) * 3_600_000
}

impl Sonde {
    async fn respondent_survey(&self, survey_id: &str) -> Result<Survey> {
        let row = self
            .store
            .survey_for_respondents(survey_id)
            .await?
            .ok_or(Error::NotFound("survey"))?;
        Survey::from_row(row)
    }

    /// Contact fields for `${m://...}` and the contact's embedded data.
    pub(crate) async fn contact_fields(
        &self,
        org_id: &str,
        contact_id: Option<&str>,
    ) -> Result<BTreeMap<String, String>> {
        let mut fields = BTreeMap::new();
        let Some(id) = contact_id else {
            return Ok(fields);
        };
        let Some(c) = self.store.contact(org_id, id).await? else {
            return Ok(fields);
        };
        let embedded: BTreeMap<String, String> =
            serde_json::from_str(&c.embedded_data).unwrap_or_default();
        fields.extend(embedded);
        fields.insert("FirstName".into(), c.first_name);
        fields.insert("LastName".into(), c.last_name);
        fields.insert("Email".into(), c.email.unwrap_or_default());
        fields.insert("PhoneNumber".into(), c.phone.unwrap_or_default());
        fields.insert("Language".into(), c.language.unwrap_or_default());
        fields.insert(
            "ExternalDataReference".into(),
            c.ext_ref.unwrap_or_default(),
        );
        Ok(fields)
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

    /// Opens a survey for a respondent: resumes `resume` when it is still in progress,
    /// otherwise starts a new response with embedded data from the link.
    pub async fn open_survey(
        &self,
        survey_id: &str,
        arrival: &Arrival,
        resume: Option<&str>,
    ) -> Result<PageView> {
        let survey = self.respondent_survey(survey_id).await?;
        let link = match &arrival.personal_link {
            Some(token) => Some(
                self.store
                    .personal_link(token)
                    .await?
                    .filter(|l| l.survey_id == survey.id)
                    .ok_or(Error::NotFound("survey link"))?,
            ),
            None => None,
        };
        let resume = link
            .as_ref()
            .and_then(|l| l.response_id.clone())
            .or_else(|| resume.map(str::to_string));
        if let Some(id) = resume {
            if let Some(row) = self.store.response_for_survey(&survey.id, &id).await? {
                if row.status == ResponseStatus::InProgress {
                    return self.current_page(&survey, row).await;
                }
                if link.is_some() {
                    return Ok(PageView::AlreadyCompleted);
                }
            }
        }
        let org_id = self
            .store
            .survey_for_respondents(&survey.id)
            .await?
            .map(|r| r.org_id)
            .ok_or(Error::NotFound("survey"))?;
        let contact_id = link.as_ref().map(|l| l.contact_id.clone());
        let verdict = self
            .link_verdict(&survey.id, &survey.definition, &arrival.query)
            .await?;
        if let crate::link_signing::LinkVerdict::Refused(reason) = verdict {
            return Ok(PageView::LinkRefused { reason });
        }
        // A personal link's contact data is Sonde's own and comes first: an edited link
        // cannot override it. The query string fills what is left, signed or not.
        let contact: Vec<(String, String)> = self
            .contact_fields(&org_id, contact_id.as_deref())
            .await?
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .collect();
        let data = flow::initial_embedded_data(
            &survey.definition,
            &[
                (Provenance::Contact, &contact),
                (verdict.provenance(), &arrival.query),
            ],
        );
        let channel = if arrival.preview {
            DistributionChannel::Preview
        } else if link.is_some() {
            DistributionChannel::Email
        } else {
            DistributionChannel::Anonymous
        };
        let now = store::now_ms();
        let id = store::ids::response();
        let step = flow::start(&survey.definition, &data);
        let mut row = ResponseRow {
            id: id.clone(),
            org_id,
            survey_id: survey.id.clone(),
            contact_id,
            status: ResponseStatus::InProgress,
            data: String::new(),
            cursor: None,
            progress: 0,
            channel: channel.as_str().into(),
            started_at: now,
            updated_at: now,
            ended_at: None,
            recorded_at: None,
            expires_at: Some(expiry(&survey, now)),
        };
        let mut tx = self.store.begin().await?;
        if let Some(l) = &link {
            if !Store::claim_personal_link(&mut tx, &l.token, &id).await? {
                // Another tab claimed the link first: its response is this one too. Roll back
                // now (not on drop) so this connection's write lock is released at once.
                tx.rollback().await?;
                return self.claimed_link_page(&survey, &l.token).await;
            }
        }
        let view = match &step {
            Step::Page(page) => {
                row.cursor = Some(serde_json::to_string(&page.cursor)?);
                row.data = serde_json::to_string(&data)?;
                Store::insert_response(&mut tx, &row).await?;
                None
            }
            // A survey with nothing to answer finishes at once.
            Step::End { message } => {
                row.status = ResponseStatus::Complete;
                row.progress = 100;
                row.ended_at = Some(now);
                row.recorded_at = Some(now);
                row.expires_at = None;
                row.data = serde_json::to_string(&data)?;
                Store::insert_response(&mut tx, &row).await?;
                Some(message.clone())
            }
        };
        tx.commit().await?;
        metrics_response_started();
        match view {
            Some(message) => Ok(PageView::End {
                message_html: self.render_end(&survey, &row, &data, &message).await?,
            }),
            None => self.current_page(&survey, row).await,
        }
    }

    /// The page of the response a personal link was claimed by, or "already completed".
    async fn claimed_link_page(&self, survey: &Survey, token: &str) -> Result<PageView> {
        let claimed = self
            .store
            .personal_link(token)
            .await?
            .and_then(|l| l.response_id);
        if let Some(id) = claimed {
            if let Some(row) = self.store.response_for_survey(&survey.id, &id).await? {
                if row.status == ResponseStatus::InProgress {
                    return self.current_page(survey, row).await;
                }
            }
        }
        Ok(PageView::AlreadyCompleted)
    }

    async fn current_page(&self, survey: &Survey, row: ResponseRow) -> Result<PageView> {
        let data: ResponseData = serde_json::from_str(&row.data)?;
        let cursor: Cursor = serde_json::from_str(row.cursor.as_deref().unwrap_or("null"))?;
        let page = flow::page(&survey.definition, &cursor).ok_or_else(|| {
            Error::Internal(format!("response {} points at a missing page", row.id).into())
        })?;
        Ok(PageView::Page {
            response_id: row.id,
            number: page.number,
            progress: flow::progress(&survey.definition, &cursor),
            questions: page.questions,
            answers: data.answers,
            errors: BTreeMap::new(),
            raw: BTreeMap::new(),
        })
    }

    /// Applies one page's form. Valid answers are saved even when others on the page are
    /// refused, so a re-rendered page loses nothing. `page_number` guards against a stale
    /// form (back button, double submit): such a form just shows the current page again.
    pub async fn submit_page(
        &self,
        survey_id: &str,
        response_id: &str,
        page_number: usize,
        page_seconds: Option<f64>,
        form: &[(String, String)],
    ) -> Result<PageView> {
        let survey = self.respondent_survey(survey_id).await?;
        let row = self
            .store
            .response_for_survey(&survey.id, response_id)
            .await?
            .ok_or(Error::NotFound("response"))?;
        if row.status != ResponseStatus::InProgress {
            return Err(Error::Conflict(
                "this response is already closed; open the survey link again to start over".into(),
            ));
        }
        let mut data: ResponseData = serde_json::from_str(&row.data)?;
        let cursor: Cursor = serde_json::from_str(row.cursor.as_deref().unwrap_or("null"))?;
        let page = flow::page(&survey.definition, &cursor).ok_or_else(|| {
            Error::Internal(format!("response {} points at a missing page", row.id).into())
        })?;
        if page.number != page_number {
            return self.current_page(&survey, row).await;
        }
        // Time on page is measured by the server (render to submit), so it works without
        // JavaScript; it fills every timing question on the page.
        let mut form = form.to_vec();
        if let Some(seconds) = page_seconds {
            for qid in &page.questions {
                let is_timing =
                    survey.definition.questions.iter().any(|q| {
                        &q.id == qid && matches!(q.kind, survey::QuestionKind::Timing { .. })
                    });
                if is_timing {
                    form.push((format!("{qid}_PAGE_SECONDS"), format!("{seconds:.3}")));
                }
            }
        }
        let form = &form[..];
        let submission = survey::form::parse_page(&survey.definition, &page.questions, form);
        for (qid, answer) in submission.answers {
            data.answers.insert(qid, answer);
        }
        // A cleared optional answer must not linger from an earlier visit.
        for qid in &page.questions {
            if !form_mentions(form, qid) && !submission.errors.contains_key(qid) {
                data.answers.remove(qid);
            }
        }
        let now = store::now_ms();
        let mut updated = row.clone();
        updated.data = serde_json::to_string(&data)?;
        updated.updated_at = now;
        updated.expires_at = Some(expiry(&survey, now));
        if !submission.errors.is_empty() {
            let mut tx = self.store.begin().await?;
            Store::update_open_response(&mut tx, &updated).await?;
            tx.commit().await?;
            // Show what could be read of the refused questions too (a half-filled matrix).
            let mut shown = data.answers;
            shown.extend(submission.partial);
            return Ok(PageView::Page {
                response_id: row.id,
                number: page.number,
                progress: flow::progress(&survey.definition, &cursor),
                questions: page.questions,
                answers: shown,
                errors: submission.errors,
                raw: submission.raw,
            });
        }
        let step = flow::next(&survey.definition, &cursor, &data);
        let end_message = match &step {
            Step::Page(next) => {
                updated.cursor = Some(serde_json::to_string(&next.cursor)?);
                updated.progress = i64::from(flow::progress(&survey.definition, &next.cursor));
                None
            }
            Step::End { message } => {
                updated.status = ResponseStatus::Complete;
                updated.cursor = None;
                updated.progress = 100;
                updated.ended_at = Some(now);
                updated.recorded_at = Some(now);
                updated.expires_at = None;
                Some(message.clone())
            }
        };
        let mut tx = self.store.begin().await?;
        if !Store::update_open_response(&mut tx, &updated).await? {
            return Err(Error::Conflict("this response was closed meanwhile".into()));
        }
        if updated.status == ResponseStatus::Complete {
            crate::delivery::fire(&mut tx, &updated, crate::workflows::Event::ResponseCreated)
                .await?;
        }
        tx.commit().await?;
        match end_message {
            Some(message) => {
                metrics_response_recorded();
                Ok(PageView::End {
                    message_html: self.render_end(&survey, &updated, &data, &message).await?,
                })
            }
            None => self.current_page(&survey, updated).await,
        }
    }

    async fn render_end(
        &self,
        survey: &Survey,
        row: &ResponseRow,
        data: &ResponseData,
        message: &str,
    ) -> Result<String> {
        let response = Response::from_row(row.clone())?;
        let contact = self
            .contact_fields(&row.org_id, row.contact_id.as_deref())
            .await?;
        let links = self.links(&survey.id, &row.org_id, row.contact_id.as_deref())?;
        let ctx = survey::piped::PipeContext {
            definition: &survey.definition,
            data,
            metadata: Some(&response.metadata),
            contact: &contact,
            links: &links,
        };
        Ok(survey::html::sanitize(&survey::piped::render_html(
            message, &ctx,
        )))
    }

    /// Renders authored text (question text, choices) for a respondent's page.
    pub async fn render_for_respondent(
        &self,
        survey_id: &str,
        response_id: &str,
    ) -> Result<RespondentContext> {
        let survey = self.respondent_survey(survey_id).await?;
        let row = self
            .store
            .response_for_survey(&survey.id, response_id)
            .await?
            .ok_or(Error::NotFound("response"))?;
        let contact = self
            .contact_fields(&row.org_id, row.contact_id.as_deref())
            .await?;
        let links = self.links(&survey.id, &row.org_id, row.contact_id.as_deref())?;
        let response = Response::from_row(row)?;
        Ok(RespondentContext {
            survey,
            response,
            contact,
            links,
        })
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
    pub async fn responses(
        &self,
        actor: &Actor,
        survey_id: &str,
        status: Option<ResponseStatus>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Survey, Vec<Response>, Option<String>)> {
        let survey = self.survey(actor, survey_id).await?;
        let after = after.map(decode_page_cursor).transpose()?;
        let limit = limit.clamp(1, 1000);
        let rows = self
            .store
            .responses(
                &actor.org_id,
                &survey.id,
                &ResponseFilter {
                    status,
                    after,
                    limit: limit as i64 + 1,
                },
            )
            .await?;
        let more = rows.len() > limit;
        let rows: Vec<ResponseRow> = rows.into_iter().take(limit).collect();
        let next = if more {
            rows.last().map(|r| encode_page_cursor(r.started_at, &r.id))
        } else {
            None
        };
        let responses = rows
            .into_iter()
            .map(Response::from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok((survey, responses, next))
    }

    pub async fn response_count(&self, actor: &Actor, survey_id: &str) -> Result<i64> {
        let survey = self.survey(actor, survey_id).await?;
        Ok(self
            .store
            .count_responses(&actor.org_id, &survey.id)
            .await?)
    }

    /// Every response of a survey as CSV, one column per question or sub-question.
    pub async fn export_csv(&self, actor: &Actor, survey_id: &str) -> Result<String> {
        let survey = self.survey(actor, survey_id).await?;
        let mut out = csv::Writer::from_writer(Vec::new());
        let csv_err = |e: csv::Error| Error::Internal(Box::new(e));
        for header in survey::export::csv_header_rows(&survey.definition) {
            out.write_record(&header).map_err(csv_err)?;
        }
        let mut after = None;
        loop {
            let rows = self
                .store
                .responses(
                    &actor.org_id,
                    &survey.id,
                    &ResponseFilter {
                        status: None,
                        after: after.clone(),
                        limit: 500,
                    },
                )
                .await?;
            let Some(last) = rows.last() else { break };
            after = Some((last.started_at, last.id.clone()));
            for row in rows {
                let r = Response::from_row(row)?;
                out.write_record(survey::export::csv_row(
                    &survey.definition,
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

/// What a respondent page needs to render authored text.
pub struct RespondentContext {
    pub survey: Survey,
    pub response: Response,
    pub contact: BTreeMap<String, String>,
    pub links: BTreeMap<String, String>,
}

impl RespondentContext {
    pub fn pipe(&self) -> survey::piped::PipeContext<'_> {
        survey::piped::PipeContext {
            definition: &self.survey.definition,
            data: &self.response.data,
            metadata: Some(&self.response.metadata),
            contact: &self.contact,
            links: &self.links,
        }
    }
}

fn form_mentions(form: &[(String, String)], qid: &str) -> bool {
    form.iter().any(|(k, v)| {
        !v.is_empty()
            && (k == qid
                || k.strip_prefix(qid)
                    .is_some_and(|rest| rest.starts_with('_')))
    })
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

fn encode_page_cursor(started_at: i64, id: &str) -> String {
    format!("{started_at}.{id}")
}

fn decode_page_cursor(s: &str) -> Result<(i64, String)> {
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

fn metrics_response_started() {
    metrics::counter!("sonde_responses_started_total").increment(1);
}

fn metrics_response_recorded() {
    metrics::counter!("sonde_responses_recorded_total").increment(1);
}
