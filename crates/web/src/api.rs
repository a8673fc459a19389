//! `/api/v1`: JSON over the engine for API-token holders. Bodies are read as text and parsed
//! by the engine so that errors can name the line and column.

// The API's own Query: a parameter that does not parse is a JSON error naming it.
use crate::api_query::Query;
use crate::api_types::{
    ContactImportReport, ContactList, ContactQuery, ImportStoppedAt, LinkBody, ListQuery,
    MailingLists, NewList, OptOutHistory, PersonalLink, ResponsePage, ResponseView, ShareBody,
    SurveyDetail, SurveyList, SurveySaved, SurveySummary, SurveysQuery,
};
use crate::auth::ApiActor;
use crate::error::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use engine::directory::{Contact, MailingList};
use engine::link_signing::{LinkSigning, LinkSigningInput};
use engine::responses::{NewResponse, ResponseChanges};
use serde_json::Value;
use survey::SurveyDefinition;

pub(crate) type ApiResult<T> = Result<T, ApiError>;

fn utf8(body: &Bytes) -> ApiResult<&str> {
    std::str::from_utf8(body).map_err(not_utf8)
}

/// The body as text in the buffer it arrived in: a big survey is not copied.
fn utf8_owned(body: Bytes) -> ApiResult<String> {
    String::from_utf8(Vec::from(body)).map_err(|e| not_utf8(e.utf8_error()))
}

fn not_utf8(e: std::str::Utf8Error) -> ApiError {
    ApiError(engine::Error::invalid_fields(
        "the request body is not UTF-8 text",
        vec![engine::FieldProblem {
            field: format!("byte {}", e.valid_up_to()),
            message: "invalid UTF-8 sequence".into(),
        }],
    ))
}

/// A JSON request body, with serde's line and column on error. An empty body reads as `{}`,
/// so calls whose body is all optional (a retry, a relink) may send none.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    let text = if body.iter().all(u8::is_ascii_whitespace) {
        "{}"
    } else {
        utf8(body)?
    };
    serde_json::from_str(text).map_err(|e| {
        ApiError(engine::Error::invalid_fields(
            "the request body is not valid JSON for this call",
            vec![engine::FieldProblem {
                field: format!("line {}, column {}", e.line(), e.column()),
                message: e.to_string(),
            }],
        ))
    })
}

/// List the surveys you can see (archived ones with `?archived=true`)
#[utoipa::path(get, path = "/surveys", tag = "surveys", params(SurveysQuery),
    responses((status = 200, body = SurveyList)))]
pub async fn list_surveys(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<SurveysQuery>,
) -> ApiResult<Json<SurveyList>> {
    let surveys = if q.archived {
        state.sonde.archived_surveys(&actor).await?
    } else {
        state.sonde.surveys(&actor).await?
    };
    Ok(Json(SurveyList {
        surveys: surveys
            .iter()
            .map(|s| SurveySummary::new(&state, s))
            .collect(),
    }))
}

fn created(created: engine::surveys::Created) -> Response {
    (
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("/api/v1/surveys/{}", created.survey.id),
        )],
        Json(SurveySaved::from(created)),
    )
        .into_response()
}

/// `?status=draft` on a create.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct CreateStatus {
    /// `draft`: kept as a draft until published (`POST …/publish`); absent or `published`:
    /// respondents can take it at once.
    pub status: Option<String>,
}

fn publishing_of(status: Option<&str>) -> ApiResult<store::surveys::Publishing> {
    match status {
        None | Some("published") => Ok(store::surveys::Publishing::Now),
        Some("draft") => Ok(store::surveys::Publishing::Draft),
        Some(other) => Err(engine::Error::invalid_fields(
            "unknown status",
            vec![engine::FieldProblem {
                field: "status".into(),
                message: format!(
                    "{other:?} is not a status a survey starts in: draft or published"
                ),
            }],
        )
        .into()),
    }
}

/// Create a survey from the native JSON definition (docs/survey-definition.md)
#[utoipa::path(post, path = "/surveys", tag = "surveys", request_body = SurveyDefinition,
    params(CreateStatus), responses((status = 201, body = SurveySaved)))]
pub async fn create_survey(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    crate::api_query::Query(q): crate::api_query::Query<CreateStatus>,
    body: Bytes,
) -> ApiResult<Response> {
    let publishing = publishing_of(q.status.as_deref())?;
    Ok(created(
        state
            .sonde
            .create_survey_as(&actor, utf8_owned(body)?, publishing)
            .await?,
    ))
}

/// Import a Qualtrics .qsf export (the raw file as the body)
#[utoipa::path(post, path = "/surveys/import", tag = "surveys",
    request_body(content = Object, content_type = "application/json", description = "A Qualtrics .qsf file"),
    responses((status = 201, body = SurveySaved)))]
pub async fn import_survey(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: Bytes,
) -> ApiResult<Response> {
    Ok(created(
        state.sonde.import_qsf(&actor, utf8_owned(body)?).await?,
    ))
}

/// `?format=qsf` and `?version=` on a survey's read.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct SurveyFormat {
    /// `qsf`: the survey as a Qualtrics `.qsf` file (which Sonde's import reads back to the
    /// same definition), downloaded; absent: Sonde's JSON.
    pub format: Option<String>,
    /// `published` (the default: what respondents get), `draft` (the newest, with the
    /// builder's unpublished changes) or a stored version's number (a response's
    /// `surveyVersion`).
    pub version: Option<String>,
}

fn version_choice(v: Option<&str>) -> ApiResult<engine::survey_lifecycle::VersionChoice> {
    use engine::survey_lifecycle::VersionChoice;
    match v {
        None | Some("published") => Ok(VersionChoice::Published),
        Some("draft") => Ok(VersionChoice::Head),
        Some(n) => n.parse().map(VersionChoice::Exactly).map_err(|_| {
            engine::Error::invalid_fields(
                "unknown version",
                vec![engine::FieldProblem {
                    field: "version".into(),
                    message: format!("{n:?} is not a version: published, draft or a number"),
                }],
            )
            .into()
        }),
    }
}

/// A survey with its definition, or as a `.qsf` file
#[utoipa::path(get, path = "/surveys/{id}", tag = "surveys", params(SurveyFormat),
    responses((status = 200, body = SurveyDetail,
        description = "Sonde's JSON; with `format=qsf`, the Qualtrics `.qsf` document as an attachment")))]
pub async fn get_survey(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    crate::api_query::Query(f): crate::api_query::Query<SurveyFormat>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let choice = version_choice(f.version.as_deref())?;
    let s = state.sonde.survey_at(&actor, &id, choice).await?;
    match f.format.as_deref() {
        None | Some("json") => Ok(Json(SurveyDetail {
            summary: SurveySummary::new(&state, &s),
            definition: (*s.definition).clone(),
        })
        .into_response()),
        Some("qsf") => Ok(qsf_download(&s).into_response()),
        Some(other) => Err(engine::Error::invalid_fields(
            "unknown format",
            vec![engine::FieldProblem {
                field: "format".into(),
                message: format!("{other:?} is not a format Sonde writes: json or qsf"),
            }],
        )
        .into()),
    }
}

/// A survey as a Qualtrics `.qsf` attachment, named after it.
pub(crate) fn qsf_download(s: &engine::surveys::Survey) -> impl axum::response::IntoResponse {
    (
        crate::downloads::attachment(&s.id, "survey.qsf", "application/json"),
        survey::qsf::export::to_qsf_string(&s.definition),
    )
}

/// `?publish=false` on a replace.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct ReplacePublishing {
    /// false: keep the new definition as the survey's draft (as the builder does) until
    /// `POST …/publish`; default true: respondents get it at once.
    pub publish: Option<bool>,
}

/// Replace a survey's definition
#[utoipa::path(put, path = "/surveys/{id}", tag = "surveys", request_body = SurveyDefinition,
    params(ReplacePublishing), responses((status = 200, body = SurveySaved)))]
pub async fn update_survey(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    crate::api_query::Query(q): crate::api_query::Query<ReplacePublishing>,
    body: Bytes,
) -> ApiResult<Json<SurveySaved>> {
    let publishing = if q.publish.unwrap_or(true) {
        store::surveys::Publishing::Now
    } else {
        store::surveys::Publishing::Draft
    };
    let updated = state
        .sonde
        .update_survey_as(&actor, &id, utf8_owned(body)?, publishing)
        .await?;
    Ok(Json(updated.into()))
}

/// Share a survey with a colleague of your organization
#[utoipa::path(post, path = "/surveys/{id}/collaborators", tag = "surveys", request_body = ShareBody,
    responses((status = 204, description = "Shared")))]
pub async fn share_survey(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let body: ShareBody = json_body(&body)?;
    state.sonde.share_survey(&actor, &id, &body.email).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Signed links (editors): the HMAC-SHA256 secret, whether unsigned link parameters are
/// refused, and how the signed string is formed (docs/signed-links.md)
#[utoipa::path(get, path = "/surveys/{id}/link-signing", tag = "surveys",
    responses((status = 200, body = LinkSigning)))]
pub async fn get_link_signing(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<LinkSigning>> {
    Ok(Json(state.sonde.link_signing(&actor, &id).await?))
}

/// Require signed link parameters or not; creates the secret on first use
#[utoipa::path(put, path = "/surveys/{id}/link-signing", tag = "surveys", request_body = LinkSigningInput,
    responses((status = 200, body = LinkSigning)))]
pub async fn set_link_signing(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<LinkSigning>> {
    let input: LinkSigningInput = json_body(&body)?;
    Ok(Json(
        state.sonde.set_link_signing(&actor, &id, input).await?,
    ))
}

/// A new signing secret: links signed with the old one stop working
#[utoipa::path(post, path = "/surveys/{id}/link-signing/rotate", tag = "surveys",
    responses((status = 200, body = LinkSigning)))]
pub async fn rotate_link_secret(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<LinkSigning>> {
    Ok(Json(state.sonde.rotate_link_secret(&actor, &id).await?))
}

/// Create a unique personal link for a contact: one response per link
#[utoipa::path(post, path = "/surveys/{id}/links", tag = "surveys", request_body = LinkBody,
    responses((status = 201, body = PersonalLink)))]
pub async fn create_personal_link(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let body: LinkBody = json_body(&body)?;
    let url = state
        .sonde
        .personal_link(&actor, &id, &body.contact_id)
        .await?;
    Ok((StatusCode::CREATED, Json(PersonalLink { url })).into_response())
}

/// List responses (paged JSON, oldest first) or export them (`?format=csv`)
#[utoipa::path(get, path = "/surveys/{id}/responses", tag = "responses", params(ListQuery),
    responses((status = 200, content((ResponsePage = "application/json"), (String = "text/csv")))))]
pub async fn list_responses(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let selection = q.selection()?;
    if q.format.as_deref() == Some("csv") {
        let csv = state.sonde.export_csv(&actor, &id, &selection).await?;
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{id}-responses.csv\""),
                ),
            ],
            csv,
        )
            .into_response());
    }
    if let Some(f) = q.format.as_deref().filter(|f| *f != "json") {
        return Err(ApiError::bad_request(format!(
            "unknown format {f:?}: use csv or json"
        )));
    }
    let (survey, responses, next) = state
        .sonde
        .select_responses(
            &actor,
            &id,
            &selection,
            q.after.as_deref(),
            q.limit.unwrap_or(100),
        )
        .await?;
    let versions = state.sonde.answered_versions(&survey, &responses).await?;
    Ok(Json(ResponsePage {
        responses: responses
            .iter()
            .map(|r| ResponseView::new(versions.of(r), r))
            .collect(),
        next,
    })
    .into_response())
}

/// Create a response as a respondent's submission would
///
/// Answers are type-checked against the definition, and a finished response must answer every
/// required question on the path the flow takes.
#[utoipa::path(post, path = "/surveys/{id}/responses", tag = "responses", request_body = NewResponse,
    responses((status = 201, body = ResponseView)))]
pub async fn create_response(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: NewResponse = json_body(&body)?;
    let survey = state.sonde.survey(&actor, &id).await?;
    let r = state.sonde.create_response(&actor, &id, input).await?;
    let def = state.sonde.answered_under(&survey, &r).await?;
    Ok((StatusCode::CREATED, Json(ResponseView::new(&def, &r))).into_response())
}

/// Change a recorded response
///
/// Answers and embedded data are merged over the response (`null` removes an embedded data
/// field); its "response updated" workflows fire.
#[utoipa::path(patch, path = "/surveys/{id}/responses/{response_id}", tag = "responses",
    request_body = ResponseChanges, responses((status = 200, body = ResponseView)))]
pub async fn update_response(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, rid)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<ResponseView>> {
    let changes: ResponseChanges = json_body(&body)?;
    let survey = state.sonde.survey(&actor, &id).await?;
    let r = state
        .sonde
        .update_response(&actor, &id, &rid, changes)
        .await?;
    let def = state.sonde.answered_under(&survey, &r).await?;
    Ok(Json(ResponseView::new(&def, &r)))
}

/// One response
#[utoipa::path(get, path = "/surveys/{id}/responses/{response_id}", tag = "responses",
    responses((status = 200, body = ResponseView)))]
pub async fn get_response(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, rid)): Path<(String, String)>,
) -> ApiResult<Json<ResponseView>> {
    let survey = state.sonde.survey(&actor, &id).await?;
    let r = state.sonde.response(&actor, &id, &rid).await?;
    let def = state.sonde.answered_under(&survey, &r).await?;
    Ok(Json(ResponseView::new(&def, &r)))
}

/// List contacts (optionally of one mailing list)
#[utoipa::path(get, path = "/contacts", tag = "directory", params(ContactQuery),
    responses((status = 200, body = ContactList)))]
pub async fn list_contacts(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<ContactQuery>,
) -> ApiResult<Json<ContactList>> {
    let contacts = state
        .sonde
        .contacts(
            &actor,
            q.list_id.as_deref(),
            q.offset.unwrap_or(0),
            q.limit.unwrap_or(100),
        )
        .await?;
    Ok(Json(ContactList { contacts }))
}

/// Add or update a contact
///
/// Matched by email, case-insensitively, else by extRef. `unsubscribed: true` unsubscribes,
/// but no upsert ever clears an opt-out (see resubscribe).
#[utoipa::path(post, path = "/contacts", tag = "directory", params(ContactQuery),
    request_body = directory::ContactInput,
    responses((status = 201, description = "Created", body = Contact), (status = 200, description = "Updated", body = Contact)))]
pub async fn create_contact(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<ContactQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    let value: Value = json_body(&body)?;
    let (contact, created) = state
        .sonde
        .save_contact(&actor, &value, q.list_id.as_deref())
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(contact)).into_response())
}

/// One contact
#[utoipa::path(get, path = "/contacts/{id}", tag = "directory", responses((status = 200, body = Contact)))]
pub async fn get_contact(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Contact>> {
    Ok(Json(state.sonde.contact(&actor, &id).await?))
}

/// Unsubscribe a contact (recorded in its opt-out history)
#[utoipa::path(post, path = "/contacts/{id}/unsubscribe", tag = "directory",
    responses((status = 200, body = Contact)))]
pub async fn unsubscribe_contact(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Contact>> {
    Ok(Json(state.sonde.set_unsubscribed(&actor, &id, true).await?))
}

/// Clear a contact's opt-out: the only way one is cleared; editor role; recorded
#[utoipa::path(post, path = "/contacts/{id}/resubscribe", tag = "directory",
    responses((status = 200, body = Contact)))]
pub async fn resubscribe_contact(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Contact>> {
    Ok(Json(
        state.sonde.set_unsubscribed(&actor, &id, false).await?,
    ))
}

/// A contact's opt-out history, oldest first
#[utoipa::path(get, path = "/contacts/{id}/opt-out-events", tag = "directory",
    responses((status = 200, body = OptOutHistory)))]
pub async fn contact_opt_out_events(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<OptOutHistory>> {
    Ok(Json(OptOutHistory {
        events: state.sonde.opt_out_events(&actor, &id).await?,
    }))
}

/// Import contacts from CSV (the body) in batches that let other writes in
///
/// The report is streamed as the import goes: `{"errors": [...], "created", "updated",
/// "refused"}`, each batch's refused rows written once the batch is, so neither side holds
/// the whole report and the client hears from the server throughout a long import. The
/// import runs to the end even if the client goes away. Should the database fail midway,
/// `"stopped": {"line", "message"}` says from which line nothing was imported.
#[utoipa::path(post, path = "/contacts/import", tag = "directory", params(ContactQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ContactImportReport)))]
pub async fn import_contacts(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<ContactQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    let mut import = state
        .sonde
        .start_contact_import(&actor, Vec::from(body), q.list_id.as_deref())
        .await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    tokio::spawn(async move {
        // A client that went away stops reading, not the import.
        let send = |chunk: Vec<u8>| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(Bytes::from(chunk)).await;
            }
        };
        send(br#"{"errors":["#.to_vec()).await;
        let mut first = true;
        let mut stopped = None;
        loop {
            match import.next_batch().await {
                Ok(Some(batch)) if batch.problems.is_empty() => {}
                Ok(Some(batch)) => {
                    let mut chunk = Vec::new();
                    for p in &batch.problems {
                        if !std::mem::take(&mut first) {
                            chunk.push(b',');
                        }
                        // A RowProblem always serializes.
                        let _ = serde_json::to_writer(&mut chunk, p);
                    }
                    send(chunk).await;
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::error!(error = %e, "contact import stopped");
                    stopped = Some(ImportStoppedAt {
                        line: e.line,
                        message: format!(
                            "the import stopped at line {} because of an internal error; the rows \
                             before it were imported, import the rest again",
                            e.line
                        ),
                    });
                    break;
                }
            }
        }
        let totals = import.totals();
        // Codes and counts only: serialising cannot fail.
        let unknown = serde_json::to_string(import.unknown_languages()).unwrap_or_default();
        let mut tail = format!(
            r#"],"created":{},"updated":{},"refused":{},"unknownLanguages":{unknown}"#,
            totals.created, totals.updated, totals.refused
        );
        if let Some(stopped) = stopped {
            // Two plain fields: serialising cannot fail.
            let stopped = serde_json::to_string(&stopped).unwrap_or_default();
            tail.push_str(&format!(r#","stopped":{stopped}"#));
        }
        tail.push('}');
        send(tail.into_bytes()).await;
    });
    let chunks = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::convert::Infallible>(chunk), rx))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(chunks),
    )
        .into_response())
}

/// List mailing lists
#[utoipa::path(get, path = "/mailing-lists", tag = "directory", responses((status = 200, body = MailingLists)))]
pub async fn list_mailing_lists(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<MailingLists>> {
    Ok(Json(MailingLists {
        mailing_lists: state.sonde.mailing_lists(&actor).await?,
    }))
}

/// Create a mailing list
#[utoipa::path(post, path = "/mailing-lists", tag = "directory", request_body = NewList,
    responses((status = 201, body = MailingList)))]
pub async fn create_mailing_list(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: Bytes,
) -> ApiResult<Response> {
    let body: NewList = json_body(&body)?;
    let list = state.sonde.create_mailing_list(&actor, &body.name).await?;
    Ok((StatusCode::CREATED, Json(list)).into_response())
}

/// One mailing list
#[utoipa::path(get, path = "/mailing-lists/{id}", tag = "directory", responses((status = 200, body = MailingList)))]
pub async fn get_mailing_list(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<MailingList>> {
    Ok(Json(state.sonde.mailing_list(&actor, &id).await?))
}
