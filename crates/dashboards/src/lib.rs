//! CX dashboards: a survey's responses summed up per question (NPS, CSAT, choices, matrix rows,
//! text answers) and over time, and the charts that show them. Pure: no I/O, no clock.
//!
//! A dashboard is built response by response ([`DashboardBuilder::add`]) so the caller can read
//! responses in pages and never hold them all; [`compute`] does it for a slice at once.
//!
//! Conventions, which the page and the API document:
//! - Every stored response counts, complete or partial (in progress or closed incomplete); a
//!   question's figures are over the responses that answered it.
//! - Days, weeks (Monday to Sunday) and months are UTC.
//! - Scores and percentages are rounded to one decimal place, half away from zero.
//! - NPS = % promoters (9–10) − % detractors (0–6), from −100 to 100.
//! - CSAT = % of answers on the top two points of a CSAT question (see [`csat_top_choices`]).

pub mod charts;
mod periods;
mod tally;

use serde::Serialize;
use survey::{QuestionKind, ResponseData, SurveyDefinition};
use utoipa::ToSchema;

pub use periods::Period;
pub use tally::DashboardBuilder;

/// Text answers a question lists at most (newest first); the count covers every one.
pub const TEXT_ANSWERS_SHOWN: usize = 50;
/// Texts typed beside an "Other" choice listed at most per choice, newest first.
pub const TYPED_TEXTS_SHOWN: usize = 20;
/// Volume is counted per day over a span of up to this many days, per week beyond.
pub const DAILY_VOLUME_UP_TO_DAYS: i64 = 92;
/// The NPS trend is per week over a span of up to this many days, per month beyond.
pub const WEEKLY_TREND_UP_TO_DAYS: i64 = 182;

/// One response as a dashboard reads it.
#[derive(Debug, Clone, Copy)]
pub struct DashboardResponse<'a> {
    pub data: &'a ResponseData,
    /// Milliseconds since the epoch.
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// Finished (status complete); anything else is partial.
    pub complete: bool,
    /// The survey version it was answered under, when not the one the dashboard sums over: a
    /// choice that version had and the current one lost is counted under its old label.
    pub answered_under: Option<&'a SurveyDefinition>,
}

/// A survey's dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub responses: ResponseCounts,
    /// Responses started per day, or per week over a long span.
    pub volume: ResponseVolume,
    /// One summary per question that has figures, in the order respondents see them.
    pub questions: Vec<QuestionSummary>,
}

impl Dashboard {
    /// The first NPS question's summary: the one a dashboard's headline and the record widget
    /// show.
    pub fn headline_nps(&self) -> Option<(&QuestionSummary, &NpsSummary)> {
        self.questions
            .iter()
            .find_map(|q| q.nps.as_ref().map(|n| (q, n)))
    }

    /// The first CSAT question's summary.
    pub fn headline_csat(&self) -> Option<(&QuestionSummary, &CsatSummary)> {
        self.questions
            .iter()
            .find_map(|q| q.csat.as_ref().map(|c| (q, c)))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResponseCounts {
    pub total: u64,
    pub complete: u64,
    /// In progress or closed incomplete.
    pub partial: u64,
    /// The first and last start among them (RFC 3339 UTC).
    pub first_started: Option<String>,
    pub last_started: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResponseVolume {
    pub period: Period,
    /// Every period from the first response's to the last's, empty ones included.
    pub points: Vec<VolumePoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VolumePoint {
    /// The period's first day, `YYYY-MM-DD`.
    pub start: String,
    pub responses: u64,
    pub complete: u64,
}

/// What a dashboard shows for one question.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuestionSummary {
    pub question_id: String,
    pub export_tag: String,
    /// The question's text as plain text (authored HTML dropped).
    pub text: String,
    pub kind: SummaryKind,
    /// Responses that answered it.
    pub answered: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nps: Option<NpsSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csat: Option<CsatSummary>,
    /// Per choice, in the authored order (CSAT questions have them too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<ChoiceCount>>,
    /// Answers naming no choice of the definition (a choice since removed, say).
    #[serde(skip_serializing_if = "is_zero")]
    pub unlisted: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matrix: Option<Vec<MatrixRow>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_answers: Option<TextAnswers>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SummaryKind {
    Nps,
    Csat,
    SingleChoice,
    MultipleChoice,
    Matrix,
    Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NpsSummary {
    /// % promoters − % detractors, one decimal; 0 when nobody answered.
    pub score: f64,
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
    pub promoters_percent: f64,
    pub passives_percent: f64,
    pub detractors_percent: f64,
    pub trend: NpsTrend,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NpsTrend {
    /// `week`, or `month` over a long span.
    pub period: Period,
    /// The periods with answers, oldest first.
    pub points: Vec<NpsPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NpsPoint {
    /// The period's first day, `YYYY-MM-DD`.
    pub start: String,
    pub answered: u64,
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CsatSummary {
    /// % of answers on the top two points, one decimal.
    pub score: f64,
    /// Answers on the top two points.
    pub satisfied: u64,
    /// The choices counted as satisfied (ids).
    pub top_choices: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChoiceCount {
    pub choice_id: String,
    /// The choice's text as plain text.
    pub label: String,
    /// Its recode (the id when it has none).
    pub recode: String,
    pub count: u64,
    /// Of the responses that answered the question (multiple answers may add up past 100).
    pub percent: f64,
    /// What respondents typed beside this choice ("Other: …"), newest first, at most
    /// [`TYPED_TEXTS_SHOWN`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub typed: Vec<String>,
    /// A choice an older version had and the current one does not, counted under the label
    /// respondents saw.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MatrixRow {
    pub statement_id: String,
    pub label: String,
    pub answered: u64,
    /// Per scale point, in the authored order.
    pub scale: Vec<ChoiceCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TextAnswers {
    /// Every non-empty text answer.
    pub total: u64,
    /// The newest, at most [`TEXT_ANSWERS_SHOWN`].
    pub shown: Vec<TextAnswer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TextAnswer {
    pub text: String,
    /// When the response ended, or started when it has not (RFC 3339 UTC).
    pub answered_at: String,
}

/// The dashboard of these responses.
pub fn compute(definition: &SurveyDefinition, responses: &[DashboardResponse<'_>]) -> Dashboard {
    let mut builder = DashboardBuilder::new(definition);
    for r in responses {
        builder.add(r);
    }
    builder.finish()
}

/// A rounded percentage: `part` of `whole`, one decimal, 0 of nothing.
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    round1(part as f64 * 100.0 / whole as f64)
}

/// The NPS of these counts, one decimal.
pub fn nps_score(promoters: u64, detractors: u64, answered: u64) -> f64 {
    if answered == 0 {
        return 0.0;
    }
    round1((promoters as f64 - detractors as f64) * 100.0 / answered as f64)
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The choices of a CSAT question that count as satisfied, or None when the question is not
/// one. A CSAT question is a single-answer multiple choice of exactly five points whose export
/// tag says `CSAT` or whose text says "satisf" (any case). Its top two points are the two
/// highest recodes when every recode is a number; otherwise the scale's ends are judged by
/// their words: when the first choice reads "dissatisfied" ("unsatisfied", "not satisfied")
/// the scale rises and the last two are the top, else it falls and the first two are.
pub fn csat_top_choices(question: &survey::Question) -> Option<Vec<String>> {
    let QuestionKind::MultipleChoice {
        multiple: false,
        choices,
    } = &question.kind
    else {
        return None;
    };
    let text = survey::html::to_plain(&question.text).to_lowercase();
    let tagged = question.export_tag.to_lowercase().contains("csat");
    if choices.len() != 5 || !(tagged || text.contains("satisf")) {
        return None;
    }
    let numbers: Option<Vec<f64>> = choices
        .iter()
        .map(|c| c.recode_value().trim().parse::<f64>().ok())
        .collect();
    if let Some(numbers) = numbers {
        let mut order: Vec<usize> = (0..choices.len()).collect();
        order.sort_by(|a, b| numbers[*b].total_cmp(&numbers[*a]));
        return Some(order[..2].iter().map(|i| choices[*i].id.clone()).collect());
    }
    let low = |t: &str| {
        let t = survey::html::to_plain(t).to_lowercase();
        t.contains("dissatisf") || t.contains("unsatisf") || t.contains("not satisf")
    };
    let rising = low(&choices[0].text);
    let top = if rising { &choices[3..] } else { &choices[..2] };
    Some(top.iter().map(|c| c.id.clone()).collect())
}

#[cfg(test)]
mod tests;
