//! The respondent's walk through a survey: opening a link, the page a response is on,
//! submitting a page (progress saved per page), the end page. Opening a link (GET or HEAD)
//! writes nothing — mail scanners open every link they are sent — so the response is stored by
//! the first page submitted, from what the opened page's form carries (`form_state`); a
//! preview is never stored. A response is shown and checked against the survey version it
//! started on, so editing a live survey strands no one.

use crate::form_state::{FormState, Held, HeldResponse};
use crate::responses::{metrics_response_recorded, Response};
use crate::surveys::Survey;
use crate::{Actor, Error, Result, Sonde};
use std::collections::BTreeMap;
use store::responses::{ResponseRow, ResponseStatus};
use store::Store;
use survey::flow::{self, Cursor, Page, Step};
use survey::{DistributionChannel, Provenance, ResponseData};

/// Shown to a respondent moved to the start because their page no longer exists.
const MOVED: &str = "This survey was changed while you were answering it. Your answers so far \
                     are kept; please check them and continue.";

/// The page number of the form shown when the survey has nothing (left) to answer: submitting
/// it records the response as complete. Pages of questions count from 1.
pub const FINISH_PAGE: usize = 0;

/// How a respondent arrived.
#[derive(Debug, Clone, Default)]
pub struct Arrival {
    /// The link's query string, in order.
    pub query: Vec<(String, String)>,
    /// A unique personal link's token, when the link was one.
    pub personal_link: Option<String>,
}

/// One submitted page: its number, the seconds since it was shown, its answer fields.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    pub page: usize,
    pub page_seconds: Option<f64>,
    pub fields: Vec<(String, String)>,
}

/// A page to answer. `errors` and `raw` are set when the last submission was refused.
#[derive(Debug, Clone)]
pub struct PageToAnswer {
    /// What the page's form carries back: the response, or what stands for it unstored.
    pub form: FormState,
    /// What authored text on the page is rendered with.
    pub ctx: RespondentContext,
    /// [`FINISH_PAGE`] when there is nothing to answer.
    pub number: usize,
    pub progress: u8,
    pub questions: Vec<String>,
    pub answers: BTreeMap<String, survey::Answer>,
    pub errors: BTreeMap<String, String>,
    pub raw: BTreeMap<String, String>,
    /// Said above the page when the respondent had to be moved: the survey changed and their
    /// page is gone.
    pub notice: Option<String>,
}

/// What the respondent sees next.
#[derive(Debug, Clone)]
pub enum PageView {
    Page(Box<PageToAnswer>),
    /// The end page, with the message already rendered as HTML; nothing was recorded when
    /// `preview`.
    End {
        message_html: String,
        preview: bool,
    },
    /// A personal link that was already used to the end.
    AlreadyCompleted,
    /// A link whose parameters are refused (tampered, expired, or unsigned where the survey
    /// requires signed links); `reason` is written for the respondent.
    LinkRefused {
        reason: String,
    },
}

/// Where the response being answered is kept.
enum Keeper {
    /// In the responses table.
    Stored,
    /// Nowhere yet: its first save inserts it, claiming its personal link in the same
    /// transaction.
    New { personal_link: Option<String> },
    /// Only in the form: a preview.
    Preview,
}

/// One submission being applied: the survey as it is now, where the response is kept, and
/// what was submitted (to apply again to another response, should it belong there).
struct Walk<'a> {
    current: &'a Survey,
    keeper: &'a Keeper,
    submission: &'a Submission,
}

/// What saving a response came to.
enum Kept {
    /// Saved; the next page's form carries this.
    Form(FormState),
    /// Nothing saved: the submission belongs to this stored response (another tab claimed the
    /// personal link first, or the same form was submitted twice at once).
    Elsewhere(String),
    /// Nothing saved: the personal link was used to the end meanwhile.
    AlreadyCompleted,
}

/// Where a response stands in its survey's flow.
enum Position {
    Page(Page),
    /// Nothing left to answer: the next submission finishes with this (piped) message.
    Finish {
        message: String,
    },
}

impl Position {
    fn number(&self) -> usize {
        match self {
            Position::Page(page) => page.number,
            Position::Finish { .. } => FINISH_PAGE,
        }
    }
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

impl Sonde {
    /// A survey as it is now, for respondents (reached by id alone): its published version.
    /// A draft is not found (nobody has been sent it); a closed one says so.
    async fn respondent_survey(&self, survey_id: &str) -> Result<Survey> {
        let row = self
            .store
            .survey_for_respondents(survey_id)
            .await?
            .filter(|s| s.published_at.is_some())
            .ok_or(Error::NotFound("survey"))?;
        if row.closed_at.is_some() {
            return Err(Error::Closed(row.name));
        }
        self.survey_from_row(row).await
    }

    /// A survey for a preview's next page, whether published, a draft or closed (the preview
    /// token, signed when the builder's preview began, names the version it shows).
    async fn previewed_survey(&self, survey_id: &str) -> Result<Survey> {
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

    /// Opens a survey for a respondent, writing nothing: the page of `resume` (or of the
    /// personal link's response) when it is still in progress, otherwise the first page of a
    /// response not stored yet, whose form carries the link's embedded data signed.
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
        // A personal link resumes its own response only; an anonymous one the browser's.
        let resume = match &link {
            Some(l) => l.response_id.clone(),
            None => resume.map(str::to_string),
        };
        if let Some(id) = resume {
            if let Some(row) = self.store.response_for_survey(&survey.id, &id).await? {
                if row.status == ResponseStatus::InProgress {
                    return self.present(&survey, row, &Keeper::Stored).await;
                }
                if link.is_some() {
                    return Ok(PageView::AlreadyCompleted);
                }
            }
        }
        if let Some(l) = &link {
            if l.expires_at.is_some_and(|at| at <= store::now_ms()) {
                return Ok(PageView::LinkRefused {
                    reason: "This survey link has expired.".into(),
                });
            }
        }
        // A personal link is sent by email unless a distribution sent it by text message.
        let channel = match link.as_ref().map(|l| l.channel.as_deref()) {
            Some(Some("sms")) => DistributionChannel::Sms,
            Some(_) => DistributionChannel::Email,
            None => DistributionChannel::Anonymous,
        };
        let contact_id = link.as_ref().map(|l| l.contact_id.clone());
        let link_data = match link.as_ref().and_then(|l| l.distribution_id.as_deref()) {
            Some(d) => self.triggered_embedded_data(&survey.org_id, d).await?,
            None => Vec::new(),
        };
        match self
            .fresh_response(&survey, contact_id, &link_data, channel, &arrival.query)
            .await?
        {
            Ok(row) => {
                let keeper = Keeper::New {
                    personal_link: link.map(|l| l.token),
                };
                self.present(&survey, row, &keeper).await
            }
            Err(reason) => Ok(PageView::LinkRefused { reason }),
        }
    }

    /// A GET of a personal link: its distribution's invitation, if it has one, is marked
    /// opened (once). No response is stored by opening, whoever opens it.
    pub async fn note_link_opened(&self, token: &str) -> Result<()> {
        self.store.mark_invitation_opened(token).await?;
        Ok(())
    }

    /// A preview of a survey the actor can see, with embedded data from `query`: the first
    /// page, whose form carries the whole preview. Nothing of it is ever stored, so it is in
    /// no listing, export or count and fires no workflow.
    pub async fn preview_survey(
        &self,
        actor: &Actor,
        survey_id: &str,
        query: &[(String, String)],
    ) -> Result<PageView> {
        // The builder's draft: what respondents will get once it is published.
        let survey = self.survey_head(actor, survey_id).await?;
        match self
            .fresh_response(&survey, None, &[], DistributionChannel::Preview, query)
            .await?
        {
            Ok(row) => self.present(&survey, row, &Keeper::Preview).await,
            Err(reason) => Ok(PageView::LinkRefused { reason }),
        }
    }

    /// The embedded data a personal link of a triggered distribution carries (the
    /// notification's `sfCaseId` and the like); none for other links.
    async fn triggered_embedded_data(
        &self,
        org_id: &str,
        distribution_id: &str,
    ) -> Result<Vec<(String, String)>> {
        Ok(self
            .triggered_by(org_id, distribution_id)
            .await?
            .map(|t| t.embedded_data.into_iter().collect())
            .unwrap_or_default())
    }

    /// A response as a link starts it, not stored: embedded data from a triggered
    /// distribution's link, the personal link's contact and then the link's parameters, on the first page. `Err(reason)` when the
    /// link's parameters are refused.
    async fn fresh_response(
        &self,
        survey: &Survey,
        contact_id: Option<String>,
        link_data: &[(String, String)],
        channel: DistributionChannel,
        query: &[(String, String)],
    ) -> Result<std::result::Result<ResponseRow, String>> {
        let verdict = self
            .link_verdict(&survey.id, &survey.definition, query)
            .await?;
        if let crate::link_signing::LinkVerdict::Refused(reason) = verdict {
            return Ok(Err(reason));
        }
        // A personal link's contact data is Sonde's own and comes first: an edited link
        // cannot override it. The query string fills what is left, signed or not.
        let contact: Vec<(String, String)> = self
            .contact_fields(&survey.org_id, contact_id.as_deref())
            .await?
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .collect();
        let data = flow::initial_embedded_data(
            &survey.definition,
            &[
                (Provenance::Salesforce, link_data),
                (Provenance::Contact, &contact),
                (verdict.provenance(), query),
            ],
        );
        let cursor = match flow::start(&survey.definition, &data) {
            Step::Page(page) => Some(serde_json::to_string(&page.cursor)?),
            Step::End { .. } => None,
        };
        let now = store::now_ms();
        Ok(Ok(ResponseRow {
            id: store::ids::response(),
            org_id: survey.org_id.clone(),
            survey_id: survey.id.clone(),
            survey_version: survey.version,
            contact_id,
            status: ResponseStatus::InProgress,
            data: serde_json::to_string(&data)?,
            cursor,
            progress: 0,
            channel: channel.as_str().into(),
            started_at: now,
            updated_at: now,
            ended_at: None,
            recorded_at: None,
            expires_at: Some(expiry(survey, now)),
        }))
    }

    /// The page `row` is on, for its keeper's form. Writes nothing.
    async fn present(
        &self,
        current: &Survey,
        mut row: ResponseRow,
        keeper: &Keeper,
    ) -> Result<PageView> {
        let (survey, position, notice) = self.locate(current, &mut row).await?;
        let form = self.form_for(keeper, &row)?;
        let page = self
            .page_view(&survey, row, form, &position, notice, keeper)
            .await?;
        Ok(PageView::Page(Box::new(page)))
    }

    /// Where `row` stands: the survey version it is shown in, and its page there. A response
    /// whose page is gone (its version was removed, so `current` is shown) is moved, in `row`
    /// only, to the start with a notice; one with nothing to answer is at the finish.
    async fn locate(
        &self,
        current: &Survey,
        row: &mut ResponseRow,
    ) -> Result<(Survey, Position, Option<String>)> {
        let survey = self.survey_for(current, row.survey_version).await?;
        let cursor: Option<Cursor> = row
            .cursor
            .as_deref()
            .map(serde_json::from_str)
            .transpose()?;
        if let Some(page) = cursor
            .as_ref()
            .and_then(|c| flow::page(&survey.definition, c))
        {
            return Ok((survey, Position::Page(page), None));
        }
        let notice = cursor.is_some().then(|| {
            tracing::warn!(response_id = %row.id, survey_id = %survey.id, "response moved to the start: its page is gone");
            MOVED.to_string()
        });
        let data: ResponseData = serde_json::from_str(&row.data)?;
        row.survey_version = survey.version;
        let position = match flow::start(&survey.definition, &data) {
            Step::Page(page) => {
                row.cursor = Some(serde_json::to_string(&page.cursor)?);
                row.progress = i64::from(flow::progress(&survey.definition, &page.cursor));
                Position::Page(page)
            }
            Step::End { message } => {
                row.cursor = None;
                Position::Finish { message }
            }
        };
        Ok((survey, position, notice))
    }

    /// What the form of `row`'s page carries back.
    fn form_for(&self, keeper: &Keeper, row: &ResponseRow) -> Result<FormState> {
        Ok(match keeper {
            Keeper::Stored => FormState::Response(row.id.clone()),
            Keeper::New { personal_link } => FormState::Start(
                self.forms
                    .seal(&HeldResponse::new(Held::Start, row, personal_link.clone()))?,
            ),
            Keeper::Preview => FormState::Preview(self.forms.seal(&HeldResponse::new(
                Held::Preview,
                row,
                None,
            ))?),
        })
    }

    async fn page_view(
        &self,
        survey: &Survey,
        row: ResponseRow,
        form: FormState,
        position: &Position,
        notice: Option<String>,
        keeper: &Keeper,
    ) -> Result<PageToAnswer> {
        let (number, questions, progress) = match position {
            Position::Page(page) => (
                page.number,
                page.questions.clone(),
                flow::progress(&survey.definition, &page.cursor),
            ),
            Position::Finish { .. } => (FINISH_PAGE, Vec::new(), 100),
        };
        let reads_record = survey
            .definition
            .questions
            .iter()
            .filter(|q| questions.contains(&q.id))
            .any(|q| serde_json::to_string(q).is_ok_and(|t| t.contains(RECORD_PIPE)));
        let record = if reads_record {
            self.triggering_record(&row, keeper).await?
        } else {
            BTreeMap::new()
        };
        let ctx = self.respondent_context(survey, row, record).await?;
        Ok(PageToAnswer {
            form,
            answers: ctx.response.data.answers.clone(),
            ctx,
            number,
            progress,
            questions,
            errors: BTreeMap::new(),
            raw: BTreeMap::new(),
            notice,
        })
    }

    /// Applies one page's form. The first page submitted stores the response (nothing was
    /// stored when the link was opened); a preview's stays in the form. Valid answers are
    /// saved even when others on the page are refused, so a re-rendered page loses nothing.
    /// The page number guards against a stale form (back button, double submit): such a form
    /// just shows the current page again.
    pub async fn submit_page(
        &self,
        survey_id: &str,
        form: &FormState,
        submission: &Submission,
    ) -> Result<PageView> {
        let current = match form {
            FormState::Preview(_) => self.previewed_survey(survey_id).await?,
            _ => self.respondent_survey(survey_id).await?,
        };
        let now = store::now_ms();
        let (row, keeper) = match form {
            FormState::Response(id) => (self.open_response(&current, id).await?, Keeper::Stored),
            FormState::Start(token) => {
                let start = self.forms.open(token, Held::Start, &current.id, now)?;
                if self
                    .store
                    .response_for_survey(&current.id, &start.id)
                    .await?
                    .is_some()
                {
                    // Submitted again (back button, double click): the first submission
                    // stored it, and this one is a submission of that response.
                    let stored = FormState::Response(start.id);
                    return Box::pin(self.submit_page(survey_id, &stored, submission)).await;
                }
                let keeper = Keeper::New {
                    personal_link: start.personal_link.clone(),
                };
                (start.row(&current.org_id), keeper)
            }
            FormState::Preview(token) => {
                let preview = self.forms.open(token, Held::Preview, &current.id, now)?;
                (preview.row(&current.org_id), Keeper::Preview)
            }
        };
        let walk = Walk {
            current: &current,
            keeper: &keeper,
            submission,
        };
        self.apply(&walk, row).await
    }

    /// A stored response still being answered.
    async fn open_response(&self, current: &Survey, id: &str) -> Result<ResponseRow> {
        let row = self
            .store
            .response_for_survey(&current.id, id)
            .await?
            .ok_or(Error::NotFound("response"))?;
        if row.status != ResponseStatus::InProgress {
            return Err(Error::Conflict(
                "this response is already closed; open the survey link again to start over".into(),
            ));
        }
        Ok(row)
    }

    async fn apply(&self, walk: &Walk<'_>, mut row: ResponseRow) -> Result<PageView> {
        let submission = walk.submission;
        // The answers are checked against the version the response started on.
        let (survey, position, notice) = self.locate(walk.current, &mut row).await?;
        let now = store::now_ms();
        row.updated_at = now;
        row.expires_at = Some(expiry(&survey, now));
        if position.number() != submission.page {
            let form = match self.save(walk, &row).await? {
                Ok(form) => form,
                Err(view) => return Ok(view),
            };
            let page = self
                .page_view(&survey, row, form, &position, notice, walk.keeper)
                .await?;
            return Ok(PageView::Page(Box::new(page)));
        }
        let mut data: ResponseData = serde_json::from_str(&row.data)?;
        let step = match &position {
            Position::Finish { message } => Step::End {
                message: message.clone(),
            },
            Position::Page(page) => {
                let fields = with_page_seconds(&survey, page, submission);
                let parsed = survey::form::parse_page(&survey.definition, &page.questions, &fields);
                for (qid, answer) in parsed.answers {
                    data.answers.insert(qid, answer);
                }
                // A cleared optional answer must not linger from an earlier visit.
                for qid in &page.questions {
                    if !form_mentions(&fields, qid) && !parsed.errors.contains_key(qid) {
                        data.answers.remove(qid);
                    }
                }
                row.data = serde_json::to_string(&data)?;
                if !parsed.errors.is_empty() {
                    let form = match self.save(walk, &row).await? {
                        Ok(form) => form,
                        Err(view) => return Ok(view),
                    };
                    let mut page = self
                        .page_view(&survey, row, form, &position, notice, walk.keeper)
                        .await?;
                    // Show what could be read of the refused questions too (a half-filled
                    // matrix).
                    page.answers.extend(parsed.partial);
                    page.errors = parsed.errors;
                    page.raw = parsed.raw;
                    return Ok(PageView::Page(Box::new(page)));
                }
                flow::next(&survey.definition, &page.cursor, &data)
            }
        };
        self.advance(walk, &survey, row, step, notice).await
    }

    /// Moves a response to `step` and saves it: the next page, or the end (recorded, and its
    /// workflows fired in the same transaction, unless it is a preview).
    async fn advance(
        &self,
        walk: &Walk<'_>,
        survey: &Survey,
        mut row: ResponseRow,
        step: Step,
        notice: Option<String>,
    ) -> Result<PageView> {
        let now = row.updated_at;
        match &step {
            Step::Page(next) => {
                row.cursor = Some(serde_json::to_string(&next.cursor)?);
                row.progress = i64::from(flow::progress(&survey.definition, &next.cursor));
            }
            Step::End { .. } => {
                row.status = ResponseStatus::Complete;
                row.cursor = None;
                row.progress = 100;
                row.ended_at = Some(now);
                row.recorded_at = Some(now);
                row.expires_at = None;
            }
        }
        let form = match self.save(walk, &row).await? {
            Ok(form) => form,
            Err(view) => return Ok(view),
        };
        match step {
            Step::End { message } => {
                let preview = matches!(walk.keeper, Keeper::Preview);
                if !preview {
                    metrics_response_recorded();
                }
                let data: ResponseData = serde_json::from_str(&row.data)?;
                Ok(PageView::End {
                    message_html: self
                        .render_end(survey, &row, &data, &message, walk.keeper)
                        .await?,
                    preview,
                })
            }
            Step::Page(page) => {
                let page = self
                    .page_view(
                        survey,
                        row,
                        form,
                        &Position::Page(page),
                        notice,
                        walk.keeper,
                    )
                    .await?;
                Ok(PageView::Page(Box::new(page)))
            }
        }
    }

    /// Saves `row` where `keeper` keeps it; `Err(view)` when the submission turned out to
    /// belong elsewhere, with what that gave.
    async fn save(
        &self,
        walk: &Walk<'_>,
        row: &ResponseRow,
    ) -> Result<std::result::Result<FormState, PageView>> {
        match self.keep(walk.keeper, row).await? {
            Kept::Form(form) => Ok(Ok(form)),
            Kept::AlreadyCompleted => Ok(Err(PageView::AlreadyCompleted)),
            Kept::Elsewhere(id) => {
                let stored = FormState::Response(id);
                let view =
                    Box::pin(self.submit_page(&walk.current.id, &stored, walk.submission)).await?;
                Ok(Err(view))
            }
        }
    }

    /// Writes `row`: an update of the stored response, its first insert (claiming its
    /// personal link), or nothing for a preview; a complete response fires the survey's
    /// "response created" workflows in the same transaction.
    async fn keep(&self, keeper: &Keeper, row: &ResponseRow) -> Result<Kept> {
        let complete = row.status == ResponseStatus::Complete;
        match keeper {
            Keeper::Preview => return Ok(Kept::Form(self.form_for(keeper, row)?)),
            Keeper::Stored => {
                let mut tx = self.store.begin().await?;
                if !Store::update_open_response(&mut tx, row).await? {
                    return Err(Error::Conflict("this response was closed meanwhile".into()));
                }
                if complete {
                    crate::delivery::fire(&mut tx, row, crate::workflows::Event::ResponseCreated)
                        .await?;
                }
                tx.commit().await?;
            }
            Keeper::New { personal_link } => {
                let mut tx = self.store.begin().await?;
                if let Some(token) = personal_link {
                    if !Store::claim_personal_link(&mut tx, token, &row.id).await? {
                        // Another tab claimed the link first: this submission is one of that
                        // response. Roll back now (not on drop) so this connection's write
                        // lock is released at once.
                        tx.rollback().await?;
                        return self.claimed_by(&row.survey_id, token).await;
                    }
                }
                if !Store::insert_new_response(&mut tx, row).await? {
                    tx.rollback().await?;
                    return Ok(Kept::Elsewhere(row.id.clone()));
                }
                if let Some(token) = personal_link {
                    // A distribution's link: the response records which distribution.
                    Store::record_response_distribution(&mut tx, token, &row.id).await?;
                }
                if complete {
                    crate::delivery::fire(&mut tx, row, crate::workflows::Event::ResponseCreated)
                        .await?;
                }
                tx.commit().await?;
                metrics_response_started();
            }
        }
        Ok(Kept::Form(FormState::Response(row.id.clone())))
    }

    /// The response a personal link was claimed by, if it is still being answered.
    async fn claimed_by(&self, survey_id: &str, token: &str) -> Result<Kept> {
        let claimed = self
            .store
            .personal_link(token)
            .await?
            .and_then(|l| l.response_id);
        if let Some(id) = claimed {
            if let Some(row) = self.store.response_for_survey(survey_id, &id).await? {
                if row.status == ResponseStatus::InProgress {
                    return Ok(Kept::Elsewhere(id));
                }
            }
        }
        Ok(Kept::AlreadyCompleted)
    }

    async fn render_end(
        &self,
        survey: &Survey,
        row: &ResponseRow,
        data: &ResponseData,
        message: &str,
        keeper: &Keeper,
    ) -> Result<String> {
        let record = if message.contains(RECORD_PIPE) {
            self.triggering_record(row, keeper).await?
        } else {
            BTreeMap::new()
        };
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
            record: &record,
        };
        let html = survey::piped::render_html(message, &ctx);
        self.definitions
            .heavy(0, move || survey::html::sanitize(&html))
            .await
    }

    /// The Salesforce record whose notification sent the invitation `row` answers, for
    /// `${sf://…}` in the survey's text; empty for any other response. A response not yet
    /// stored is found through its personal link, a stored one through its distribution.
    async fn triggering_record(
        &self,
        row: &ResponseRow,
        keeper: &Keeper,
    ) -> Result<BTreeMap<String, String>> {
        let distribution = match keeper {
            Keeper::New {
                personal_link: Some(token),
            } => self
                .store
                .personal_link(token)
                .await?
                .and_then(|l| l.distribution_id),
            Keeper::Stored => self.store.response_distribution(&row.id).await?,
            _ => None,
        };
        let Some(id) = distribution else {
            return Ok(BTreeMap::new());
        };
        Ok(self
            .triggered_by(&row.org_id, &id)
            .await?
            .map(|t| t.record)
            .unwrap_or_default())
    }

    /// What authored text (question text, choices) on a page of `row` is rendered with.
    async fn respondent_context(
        &self,
        survey: &Survey,
        row: ResponseRow,
        record: BTreeMap<String, String>,
    ) -> Result<RespondentContext> {
        let contact = self
            .contact_fields(&row.org_id, row.contact_id.as_deref())
            .await?;
        let links = self.links(&survey.id, &row.org_id, row.contact_id.as_deref())?;
        Ok(RespondentContext {
            survey: survey.clone(),
            response: Response::from_row(row)?,
            contact,
            links,
            record,
        })
    }
}

/// The page's fields with the time spent on it: measured by the server (render to submit),
/// so it works without JavaScript, and given to every timing question on the page.
fn with_page_seconds(
    survey: &Survey,
    page: &Page,
    submission: &Submission,
) -> Vec<(String, String)> {
    let mut fields = submission.fields.clone();
    if let Some(seconds) = submission.page_seconds {
        for qid in &page.questions {
            let is_timing = survey
                .definition
                .questions
                .iter()
                .any(|q| &q.id == qid && matches!(q.kind, survey::QuestionKind::Timing { .. }));
            if is_timing {
                fields.push((format!("{qid}_PAGE_SECONDS"), format!("{seconds:.3}")));
            }
        }
    }
    fields
}

/// What a respondent page needs to render authored text.
#[derive(Debug, Clone)]
pub struct RespondentContext {
    pub survey: Survey,
    pub response: Response,
    pub contact: BTreeMap<String, String>,
    pub links: BTreeMap<String, String>,
    /// The Salesforce record of a triggered invitation (`${sf://…}`), when the page reads it.
    pub record: BTreeMap<String, String>,
}

impl RespondentContext {
    pub fn pipe(&self) -> survey::piped::PipeContext<'_> {
        survey::piped::PipeContext {
            definition: &self.survey.definition,
            data: &self.response.data,
            metadata: Some(&self.response.metadata),
            contact: &self.contact,
            links: &self.links,
            record: &self.record,
        }
    }
}

/// Authored text that reads the triggering record: only then is it looked up.
const RECORD_PIPE: &str = "${sf://";

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
