//! `/api/v1`: JSON over the engine for API-token holders. Bodies are read as text and parsed
//! by the engine so that errors can name the line and column.

// The API's own Query: a parameter that does not parse is a JSON error naming it.
use crate::api_query::Query;
use crate::auth::ApiActor;
use crate::error::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use engine::responses::NewResponse;
use engine::surveys::Survey;
use serde::Deserialize;
use serde_json::{json, Value};
use store::responses::ResponseStatus;

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

fn survey_summary(state: &AppState, s: &Survey) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "ownerId": s.owner_id,
        "createdAt": engine::responses::rfc3339(s.created_at),
        "updatedAt": engine::responses::rfc3339(s.updated_at),
        "anonymousLink": state.sonde.anonymous_link(&s.id),
    })
}

pub async fn list_surveys(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Value>> {
    let surveys = state.sonde.surveys(&actor).await?;
    Ok(Json(json!({
        "surveys": surveys.iter().map(|s| survey_summary(&state, s)).collect::<Vec<_>>()
    })))
}

fn created(created: engine::surveys::Created) -> Response {
    (
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("/api/v1/surveys/{}", created.survey.id),
        )],
        Json(json!({ "id": created.survey.id, "warnings": created.warnings })),
    )
        .into_response()
}

pub async fn create_survey(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: Bytes,
) -> ApiResult<Response> {
    Ok(created(
        state.sonde.create_survey(&actor, utf8_owned(body)?).await?,
    ))
}

pub async fn import_survey(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: Bytes,
) -> ApiResult<Response> {
    Ok(created(
        state.sonde.import_qsf(&actor, utf8_owned(body)?).await?,
    ))
}

pub async fn get_survey(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let s = state.sonde.survey(&actor, &id).await?;
    let mut v = survey_summary(&state, &s);
    v["definition"] = serde_json::to_value(&s.definition).map_err(engine::Error::from)?;
    Ok(Json(v))
}

pub async fn update_survey(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let updated = state
        .sonde
        .update_survey(&actor, &id, utf8_owned(body)?)
        .await?;
    Ok(Json(
        json!({ "id": updated.survey.id, "warnings": updated.warnings }),
    ))
}

#[derive(Deserialize)]
pub struct ShareBody {
    email: String,
}

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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkBody {
    contact_id: String,
}

pub async fn get_link_signing(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<engine::link_signing::LinkSigning>> {
    Ok(Json(state.sonde.link_signing(&actor, &id).await?))
}

pub async fn set_link_signing(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<engine::link_signing::LinkSigning>> {
    let input = json_body(&body)?;
    Ok(Json(
        state.sonde.set_link_signing(&actor, &id, input).await?,
    ))
}

pub async fn rotate_link_secret(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<engine::link_signing::LinkSigning>> {
    Ok(Json(state.sonde.rotate_link_secret(&actor, &id).await?))
}

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
    Ok((StatusCode::CREATED, Json(json!({ "url": url }))).into_response())
}

fn response_json(survey: &Survey, r: &engine::responses::Response) -> Value {
    json!({
        "responseId": r.id,
        "surveyId": r.survey_id,
        "status": r.status.as_str(),
        "contactId": r.contact_id,
        "metadata": r.metadata,
        "answers": r.data.answers,
        "embeddedData": r.data.embedded_data,
        // Where each value came from: url (a link parameter anyone can edit), signed_url,
        // contact, survey, api.
        "embeddedDataProvenance": r.data.provenance,
        "values": survey::export::json_value(&survey.definition, &r.metadata, &r.data),
    })
}

#[derive(Deserialize)]
pub struct ListQuery {
    format: Option<String>,
    status: Option<String>,
    after: Option<String>,
    limit: Option<usize>,
}

pub async fn list_responses(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    if q.format.as_deref() == Some("csv") {
        let csv = state.sonde.export_csv(&actor, &id).await?;
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
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(ResponseStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown status {s:?}: use in_progress, complete or incomplete"
            ))
        })?),
    };
    let (survey, responses, next) = state
        .sonde
        .responses(
            &actor,
            &id,
            status,
            q.after.as_deref(),
            q.limit.unwrap_or(100),
        )
        .await?;
    Ok(Json(json!({
        "responses": responses.iter().map(|r| response_json(&survey, r)).collect::<Vec<_>>(),
        "next": next,
    }))
    .into_response())
}

pub async fn create_response(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: NewResponse = json_body(&body)?;
    let survey = state.sonde.survey(&actor, &id).await?;
    let r = state.sonde.create_response(&actor, &id, input).await?;
    Ok((StatusCode::CREATED, Json(response_json(&survey, &r))).into_response())
}

pub async fn update_response(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, rid)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let changes: engine::responses::ResponseChanges = json_body(&body)?;
    let survey = state.sonde.survey(&actor, &id).await?;
    let r = state
        .sonde
        .update_response(&actor, &id, &rid, changes)
        .await?;
    Ok(Json(response_json(&survey, &r)))
}

pub async fn get_response(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, rid)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let survey = state.sonde.survey(&actor, &id).await?;
    let r = state.sonde.response(&actor, &id, &rid).await?;
    Ok(Json(response_json(&survey, &r)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactQuery {
    list_id: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
}

pub async fn list_contacts(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<ContactQuery>,
) -> ApiResult<Json<Value>> {
    let contacts = state
        .sonde
        .contacts(
            &actor,
            q.list_id.as_deref(),
            q.offset.unwrap_or(0),
            q.limit.unwrap_or(100),
        )
        .await?;
    Ok(Json(json!({ "contacts": contacts })))
}

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
    Ok((status, Json(json!(contact))).into_response())
}

pub async fn get_contact(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.sonde.contact(&actor, &id).await?)))
}

pub async fn unsubscribe_contact(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(
        state.sonde.set_unsubscribed(&actor, &id, true).await?
    )))
}

pub async fn resubscribe_contact(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(
        state.sonde.set_unsubscribed(&actor, &id, false).await?
    )))
}

pub async fn contact_opt_out_events(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({ "events": state.sonde.opt_out_events(&actor, &id).await? }),
    ))
}

/// The report is streamed as the import goes: `{"errors": [...], "created", "updated",
/// "refused"}`, each batch's refused rows written once the batch is, so neither side holds
/// the whole report and the client hears from the server throughout a long import. The
/// import runs to the end even if the client goes away. Should the database fail midway,
/// `"stopped": {"line", "message"}` says from which line nothing was imported.
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
                    stopped = Some(json!({
                        "line": e.line,
                        "message": format!(
                            "the import stopped at line {} because of an internal error; the rows \
                             before it were imported, import the rest again",
                            e.line
                        ),
                    }));
                    break;
                }
            }
        }
        let totals = import.totals();
        let mut tail = format!(
            r#"],"created":{},"updated":{},"refused":{}"#,
            totals.created, totals.updated, totals.refused
        );
        if let Some(stopped) = stopped {
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

pub async fn list_mailing_lists(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({ "mailingLists": state.sonde.mailing_lists(&actor).await? }),
    ))
}

#[derive(Deserialize)]
pub struct NewList {
    name: String,
}

pub async fn create_mailing_list(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: Bytes,
) -> ApiResult<Response> {
    let body: NewList = json_body(&body)?;
    let list = state.sonde.create_mailing_list(&actor, &body.name).await?;
    Ok((StatusCode::CREATED, Json(json!(list))).into_response())
}

pub async fn get_mailing_list(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.sonde.mailing_list(&actor, &id).await?)))
}
