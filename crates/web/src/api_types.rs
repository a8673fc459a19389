//! The API's request and response bodies that are not engine types, as Rust types: handlers
//! answer these, and the OpenAPI document's schemas are derived from them.

use engine::connections::SalesforceConnection;
use engine::directory::{Contact, MailingList, OptOutEvent, RowProblem, UnknownLanguage};
use engine::response_listing::ResponseSelection;
use engine::responses::Response as StoredResponse;
use engine::surveys::Survey;
use engine::workflows::{Run, Workflow};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::responses::ResponseStatus;
use survey::{Answer, Provenance, ResponseMetadata, SurveyDefinition};
use utoipa::{IntoParams, ToSchema};

/// A survey without its definition, as lists show it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SurveySummary {
    pub id: String,
    pub name: String,
    pub owner_id: String,
    /// RFC 3339.
    pub created_at: String,
    pub updated_at: String,
    /// The anonymous link respondents open.
    pub anonymous_link: String,
    /// When it was archived (RFC 3339): hidden from lists, closed to respondents, firing no
    /// workflow. None while it is open.
    pub archived_at: Option<String>,
    /// `draft` (never published: its links are not open yet), `published` or `closed`.
    #[schema(value_type = String)]
    pub status: engine::survey_lifecycle::SurveyStatus,
    /// The version respondents get (once published).
    pub version: i64,
    /// A newer version the builder made, not published yet.
    pub draft_version: Option<i64>,
    /// When it was closed (RFC 3339).
    pub closed_at: Option<String>,
}

impl SurveySummary {
    pub fn new(state: &crate::AppState, s: &Survey) -> Self {
        Self {
            id: s.id.clone(),
            name: s.name.clone(),
            owner_id: s.owner_id.clone(),
            created_at: engine::responses::rfc3339(s.created_at),
            updated_at: engine::responses::rfc3339(s.updated_at),
            anonymous_link: state.sonde.anonymous_link(&s.id),
            archived_at: s.archived_at.map(engine::responses::rfc3339),
            status: s.status(),
            version: s.version,
            draft_version: s.draft_version,
            closed_at: s.closed_at.map(engine::responses::rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SurveyList {
    pub surveys: Vec<SurveySummary>,
}

/// The query string of `GET /surveys`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SurveysQuery {
    /// true: list the archived surveys instead of the others.
    #[serde(default)]
    pub archived: bool,
}

/// A survey with its definition.
#[derive(Serialize, ToSchema)]
pub struct SurveyDetail {
    #[serde(flatten)]
    pub summary: SurveySummary,
    pub definition: SurveyDefinition,
}

/// A survey created, imported or replaced, and what validation or the import had to say.
#[derive(Serialize, ToSchema)]
pub struct SurveySaved {
    pub id: String,
    pub warnings: Vec<String>,
}

impl From<engine::surveys::Created> for SurveySaved {
    fn from(c: engine::surveys::Created) -> Self {
        Self {
            id: c.survey.id,
            warnings: c.warnings,
        }
    }
}

/// Body of `POST /surveys/{id}/collaborators`.
#[derive(Deserialize, ToSchema)]
pub struct ShareBody {
    pub email: String,
}

/// Body of `POST /surveys/{id}/links`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkBody {
    pub contact_id: String,
}

/// A unique personal link: one response per link.
#[derive(Serialize, ToSchema)]
pub struct PersonalLink {
    pub url: String,
}

/// A response as the API shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResponseView {
    pub response_id: String,
    pub survey_id: String,
    /// in_progress, complete or incomplete.
    pub status: &'static str,
    /// The contact of the personal link it came through.
    pub contact_id: Option<String>,
    pub metadata: ResponseMetadata,
    pub answers: BTreeMap<String, Answer>,
    pub embedded_data: BTreeMap<String, String>,
    /// Where each value came from: url (a link parameter anyone can edit), signed_url,
    /// contact, survey, api.
    pub embedded_data_provenance: BTreeMap<String, Provenance>,
    pub values: survey::export::ExportedResponse,
    /// The survey version it was answered under (`GET /surveys/{id}?version=` reads it);
    /// `values` and its labels are that version's.
    pub survey_version: i64,
}

impl ResponseView {
    /// `definition`: the version the response was answered under.
    pub fn new(definition: &SurveyDefinition, r: &StoredResponse) -> Self {
        Self {
            response_id: r.id.clone(),
            survey_id: r.survey_id.clone(),
            status: r.status.as_str(),
            contact_id: r.contact_id.clone(),
            metadata: r.metadata.clone(),
            answers: r.data.answers.clone(),
            embedded_data: r.data.embedded_data.clone(),
            embedded_data_provenance: r.data.provenance.clone(),
            values: survey::export::exported_response(definition, &r.metadata, &r.data),
            survey_version: r.survey_version,
        }
    }
}

/// One page of responses, oldest first.
#[derive(Serialize, ToSchema)]
pub struct ResponsePage {
    pub responses: Vec<ResponseView>,
    /// Pass as `after` for the next page; null on the last.
    pub next: Option<String>,
}

/// The query string of `GET /surveys/{id}/responses`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// json (default) or csv.
    pub format: Option<String>,
    /// in_progress, complete or incomplete.
    pub status: Option<String>,
    /// Only responses started at or after this instant (RFC 3339, e.g.
    /// `2026-11-01T00:00:00Z`), or from the start of this UTC day (`2026-11-01`).
    pub since: Option<String>,
    /// Only responses started before this instant (RFC 3339), or before the end of this UTC
    /// day (`2026-11-30` includes the 30th).
    pub until: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Page size, 1–1000 (default 100).
    pub limit: Option<usize>,
}

impl ListQuery {
    /// The responses these parameters select; a bad value is refused naming its parameter.
    pub fn selection(&self) -> Result<ResponseSelection, crate::error::ApiError> {
        let refuse = |field: &str, message: String| {
            crate::error::ApiError(engine::Error::invalid_fields(
                format!("the query parameter {field} is not valid: {message}"),
                vec![engine::FieldProblem {
                    field: field.into(),
                    message,
                }],
            ))
        };
        let status = match self.status.as_deref() {
            None | Some("") => None,
            Some(s) => Some(ResponseStatus::parse(s).ok_or_else(|| {
                refuse(
                    "status",
                    format!("unknown status {s:?}: use in_progress, complete or incomplete"),
                )
            })?),
        };
        // A day alone is a UTC day; `until` includes the whole of it.
        let instant = |field: &str, value: &Option<String>, days_after: i64| {
            let Some(v) = value.as_deref().filter(|v| !v.is_empty()) else {
                return Ok(None);
            };
            if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
                return Ok(Some(t.timestamp_millis()));
            }
            chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| Some(t.and_utc().timestamp_millis() + days_after * 86_400_000))
                .ok_or_else(|| {
                    refuse(
                        field,
                        format!(
                            "{v:?} is neither an RFC 3339 instant (2026-11-01T09:30:00Z) nor a day (2026-11-01)"
                        ),
                    )
                })
        };
        let selection = ResponseSelection {
            status,
            started_from: instant("since", &self.since, 0)?,
            started_before: instant("until", &self.until, 1)?,
        };
        if let (Some(from), Some(before)) = (selection.started_from, selection.started_before) {
            if before <= from {
                return Err(refuse("until", "must be later than since".to_string()));
            }
        }
        Ok(selection)
    }
}

/// The query string of the contact calls.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ContactQuery {
    /// Only this mailing list's contacts; on a save or an import, add them to it.
    pub list_id: Option<String>,
    /// Skip this many (listing).
    pub offset: Option<usize>,
    /// Page size (listing, default 100).
    pub limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct ContactList {
    pub contacts: Vec<Contact>,
}

#[derive(Serialize, ToSchema)]
pub struct OptOutHistory {
    pub events: Vec<OptOutEvent>,
}

/// A contact import's report, streamed as the rows are written.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactImportReport {
    pub errors: Vec<RowProblem>,
    pub created: usize,
    pub updated: usize,
    pub refused: usize,
    /// Well-formed language codes no language has (a typo such as `ZZ`): the contacts were
    /// imported with them as given; correct them and import again.
    pub unknown_languages: Vec<UnknownLanguage>,
    /// Present when the database failed midway: from this line on nothing was imported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<ImportStoppedAt>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportStoppedAt {
    pub line: usize,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MailingLists {
    pub mailing_lists: Vec<MailingList>,
}

/// Body of `POST /mailing-lists`.
#[derive(Deserialize, ToSchema)]
pub struct NewList {
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct ConnectionList {
    pub connections: Vec<SalesforceConnection>,
}

/// Where to send the browser to sign in to Salesforce.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizeUrl {
    pub authorize_url: String,
}

#[derive(Serialize, ToSchema)]
pub struct WorkflowList {
    pub workflows: Vec<Workflow>,
}

/// A workflow, and whether you may edit it (only its owner does).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowView {
    #[serde(flatten)]
    pub workflow: Workflow,
    pub can_edit: bool,
}

/// Body of `POST /workflows/{id}/copy`; may be empty.
#[derive(Deserialize, Default, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CopyInput {
    /// Bind the copy's Salesforce tasks to this connection of yours (else your first active one).
    #[serde(default)]
    pub connection_id: Option<String>,
}

/// The query string of `GET /workflows/{id}/runs`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsQuery {
    /// Only runs with this status (queued, running, succeeded, failed, skipped).
    pub status: Option<String>,
    /// At most this many (default 100).
    pub limit: Option<i64>,
}

/// Runs, newest first, and how many runs the workflow has per status.
#[derive(Serialize, ToSchema)]
pub struct RunList {
    pub runs: Vec<Run>,
    pub counts: BTreeMap<String, i64>,
}
