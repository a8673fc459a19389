//! The respondent's walk through a survey: opening a link, the page a response is on,
//! submitting a page (progress saved per page), the end page. A response is shown and checked
//! against the survey version it started on, so editing a live survey strands no one.

use crate::responses::{metrics_response_recorded, Response};
use crate::surveys::Survey;
use crate::{Error, Result, Sonde};
use std::collections::BTreeMap;
use store::responses::{ResponseRow, ResponseStatus};
use store::Store;
use survey::flow::{self, Cursor, Page, Step};
use survey::{DistributionChannel, Provenance, ResponseData};

/// Shown to a respondent moved to the start because their page no longer exists.
const MOVED: &str = "This survey was changed while you were answering it. Your answers so far \
                     are kept; please check them and continue.";

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
        /// Said above the page when the respondent had to be moved (see `move_to_start`).
        notice: Option<String>,
    },
    /// The end page, with the message already rendered as HTML.
    End { message_html: String },
    /// A personal link that was already used to the end.
    AlreadyCompleted,
    /// A link whose parameters are refused (tampered, expired, or unsigned where the survey
    /// requires signed links); `reason` is written for the respondent.
    LinkRefused { reason: String },
}

/// When an unfinished response is closed as incomplete. Never sooner than the shortest window
/// allowed (definitions stored before that limit may hold less).
fn expiry(survey: &Survey, now: i64) -> i64 {
    let hours = survey
        .definition
        .options
        .incomplete_after_hours
        .max(survey::limits::MIN_INCOMPLETE_AFTER_HOURS);
    now + i64::from(hours) * 3_600_000
}

/// A page to show, with the answers so far.
fn page_view(
    survey: &Survey,
    row: ResponseRow,
    page: Page,
    notice: Option<String>,
) -> Result<PageView> {
    let data: ResponseData = serde_json::from_str(&row.data)?;
    Ok(PageView::Page {
        response_id: row.id,
        number: page.number,
        progress: flow::progress(&survey.definition, &page.cursor),
        questions: page.questions,
        answers: data.answers,
        errors: BTreeMap::new(),
        raw: BTreeMap::new(),
        notice,
    })
}

impl Sonde {
    /// A survey as it is now, for respondents (reached by id alone).
    async fn respondent_survey(&self, survey_id: &str) -> Result<Survey> {
        let row = self
            .store
            .survey_for_respondents(survey_id)
            .await?
            .ok_or(Error::NotFound("survey"))?;
        self.survey_from_row(row).await
    }

    /// The survey as a response started on it: `version` of `current`. Should that version be
    /// gone, the current one (the page check then moves the respondent if need be).
    async fn survey_for(&self, current: &Survey, version: i64) -> Result<Survey> {
        if version == current.version {
            return Ok(current.clone());
        }
        match self.definition(&current.id, version).await {
            Ok(definition) => Ok(Survey {
                version,
                definition,
                ..current.clone()
            }),
            Err(Error::NotFound(_)) => Ok(current.clone()),
            Err(e) => Err(e),
        }
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
                    let started_on = self.survey_for(&survey, row.survey_version).await?;
                    return self.current_page(&started_on, row).await;
                }
                if link.is_some() {
                    return Ok(PageView::AlreadyCompleted);
                }
            }
        }
        let org_id = survey.org_id.clone();
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
            survey_version: survey.version,
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
                    let started_on = self.survey_for(survey, row.survey_version).await?;
                    return self.current_page(&started_on, row).await;
                }
            }
        }
        Ok(PageView::AlreadyCompleted)
    }

    /// The page a response in progress is on. Should its page be gone (its version was
    /// removed, so `survey` is the current one), the respondent is moved to the start.
    async fn current_page(&self, survey: &Survey, row: ResponseRow) -> Result<PageView> {
        let cursor: Cursor = serde_json::from_str(row.cursor.as_deref().unwrap_or("null"))?;
        match flow::page(&survey.definition, &cursor) {
            Some(page) => page_view(survey, row, page, None),
            None => self.move_to_start(survey, row).await,
        }
    }

    /// Puts a response whose page no longer exists on the first page of `survey` (answers
    /// kept), saying so; or records it when that survey has nothing left to show.
    async fn move_to_start(&self, survey: &Survey, row: ResponseRow) -> Result<PageView> {
        tracing::warn!(response_id = %row.id, survey_id = %survey.id, "response moved to the start: its page is gone");
        let data: ResponseData = serde_json::from_str(&row.data)?;
        let step = flow::start(&survey.definition, &data);
        let mut moved = row;
        moved.survey_version = survey.version;
        moved.updated_at = store::now_ms();
        self.advance(survey, moved, &data, step, Some(MOVED.to_string()))
            .await
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
        let current = self.respondent_survey(survey_id).await?;
        let row = self
            .store
            .response_for_survey(&current.id, response_id)
            .await?
            .ok_or(Error::NotFound("response"))?;
        if row.status != ResponseStatus::InProgress {
            return Err(Error::Conflict(
                "this response is already closed; open the survey link again to start over".into(),
            ));
        }
        // The answers are checked against the version the response started on.
        let survey = self.survey_for(&current, row.survey_version).await?;
        let mut data: ResponseData = serde_json::from_str(&row.data)?;
        let cursor: Cursor = serde_json::from_str(row.cursor.as_deref().unwrap_or("null"))?;
        let Some(page) = flow::page(&survey.definition, &cursor) else {
            return self.move_to_start(&survey, row).await;
        };
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
        updated.survey_version = survey.version;
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
                notice: None,
            });
        }
        let step = flow::next(&survey.definition, &cursor, &data);
        self.advance(&survey, updated, &data, step, None).await
    }

    /// Saves a response moved to `step`: the next page, or the end (recorded, workflows
    /// fired in the same transaction).
    async fn advance(
        &self,
        survey: &Survey,
        mut updated: ResponseRow,
        data: &ResponseData,
        step: Step,
        notice: Option<String>,
    ) -> Result<PageView> {
        let now = updated.updated_at;
        match &step {
            Step::Page(next) => {
                updated.cursor = Some(serde_json::to_string(&next.cursor)?);
                updated.progress = i64::from(flow::progress(&survey.definition, &next.cursor));
            }
            Step::End { .. } => {
                updated.status = ResponseStatus::Complete;
                updated.cursor = None;
                updated.progress = 100;
                updated.ended_at = Some(now);
                updated.recorded_at = Some(now);
                updated.expires_at = None;
            }
        }
        let mut tx = self.store.begin().await?;
        if !Store::update_open_response(&mut tx, &updated).await? {
            return Err(Error::Conflict("this response was closed meanwhile".into()));
        }
        if updated.status == ResponseStatus::Complete {
            crate::delivery::fire(&mut tx, &updated, crate::workflows::Event::ResponseCreated)
                .await?;
        }
        tx.commit().await?;
        match step {
            Step::End { message } => {
                metrics_response_recorded();
                Ok(PageView::End {
                    message_html: self.render_end(survey, &updated, data, &message).await?,
                })
            }
            Step::Page(page) => page_view(survey, updated, page, notice),
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
        let html = survey::piped::render_html(message, &ctx);
        self.definitions
            .heavy(0, move || survey::html::sanitize(&html))
            .await
    }

    /// Renders authored text (question text, choices) for a respondent's page.
    pub async fn render_for_respondent(
        &self,
        survey_id: &str,
        response_id: &str,
    ) -> Result<RespondentContext> {
        let current = self.respondent_survey(survey_id).await?;
        let row = self
            .store
            .response_for_survey(&current.id, response_id)
            .await?
            .ok_or(Error::NotFound("response"))?;
        let survey = self.survey_for(&current, row.survey_version).await?;
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

fn metrics_response_started() {
    metrics::counter!("sonde_responses_started_total").increment(1);
}
