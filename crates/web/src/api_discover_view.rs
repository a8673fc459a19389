//! `/api/v1/discover/projects/{id}/…` reads of a project's documents: filtered and paged, one
//! document, the volume over time, and the CSV export (streamed).

use crate::api::ApiResult;
use crate::api_query::Query;
use crate::auth::ApiActor;
use crate::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use engine::discover::documents::Document;
use engine::discover_view::{DocumentPage, DocumentQuery, Volume};
use engine::{Actor, Sonde};
use futures::StreamExt;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct Paging {
    /// Documents to skip (default 0).
    offset: Option<i64>,
    /// At most this many (default 100, at most 1,000).
    limit: Option<i64>,
}

/// A project's documents, newest first, filtered: full-text search, an attribute's value,
/// document dates from and to (UTC days)
#[utoipa::path(get, path = "/discover/projects/{id}/documents", tag = "discover",
    params(DocumentQuery, Paging), responses((status = 200, body = DocumentPage)))]
pub async fn list_documents(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(filter): Query<DocumentQuery>,
    Query(paging): Query<Paging>,
) -> ApiResult<Json<DocumentPage>> {
    Ok(Json(
        state
            .sonde
            .discover_document_page(
                &actor,
                &id,
                &filter,
                paging.offset.unwrap_or(0),
                paging.limit.unwrap_or(100),
            )
            .await?,
    ))
}

/// One document of a project by its natural id, with its attributes and its verbatim or turns
#[utoipa::path(get, path = "/discover/projects/{id}/documents/{naturalId}", tag = "discover",
    params(("id" = String, Path), ("naturalId" = String, Path)),
    responses((status = 200, body = Document)))]
pub async fn get_document(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, natural_id)): Path<(String, String)>,
) -> ApiResult<Json<Document>> {
    Ok(Json(
        state
            .sonde
            .discover_document(&actor, &id, &natural_id)
            .await?,
    ))
}

/// How many of the filtered documents there are per day of their dates (per week, or per
/// several weeks, when they span more than 92 days)
#[utoipa::path(get, path = "/discover/projects/{id}/volume", tag = "discover",
    params(DocumentQuery), responses((status = 200, body = Volume)))]
pub async fn volume(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(filter): Query<DocumentQuery>,
) -> ApiResult<Json<Volume>> {
    Ok(Json(
        state.sonde.discover_volume(&actor, &id, &filter).await?,
    ))
}

/// The filtered documents as CSV: naturalId, documentDate, one column per attribute, and
/// verbatim (a conversation's turns one a line, `role name: text`)
#[utoipa::path(get, path = "/discover/projects/{id}/export.csv", tag = "discover",
    params(DocumentQuery), responses((status = 200, content((String = "text/csv")))))]
pub async fn export_csv(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(filter): Query<DocumentQuery>,
) -> ApiResult<Response> {
    Ok(csv_response(&state.sonde, &actor, &id, &filter).await?)
}

/// The export as a streamed download (the API's and the admin UI's).
pub(crate) async fn csv_response(
    sonde: &Sonde,
    actor: &Actor,
    project_id: &str,
    filter: &DocumentQuery,
) -> Result<Response, engine::Error> {
    let chunks = sonde
        .discover_export_csv(actor, project_id, filter)
        .await?
        .map(|chunk| chunk.map(axum::body::Bytes::from));
    Ok((
        crate::downloads::attachment(project_id, "documents.csv", crate::downloads::CSV),
        Body::from_stream(chunks),
    )
        .into_response())
}
