//! `POST /hooks/salesforce/{token}`: where a linked Salesforce org sends the Outbound Messages
//! and Flow HTTP callouts of a `salesforce_message` workflow (`engine::salesforce_messages`).
//! There is no session or API token: the unguessable token in the path names the workflow; an
//! Outbound Message's `OrganizationId` must be the workflow's linked org, and a callout carries
//! the endpoint's secret in `X-Sonde-Secret`. An Outbound Message is answered with the SOAP
//! `Ack` once every notification is recorded, a SOAP fault (HTTP 500, nothing recorded)
//! otherwise; a callout (JSON) with `{"id", "duplicate"}` or the API's JSON error. A token that
//! names no endpoint is a bare 404.

use crate::error::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use engine::salesforce_messages::{fault_response, FaultCode, MessageRefusal, SECRET_HEADER};

const SOAP: &str = "text/xml; charset=utf-8";

fn fault(code: FaultCode, message: &str) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, SOAP)],
        fault_response(code, message),
    )
        .into_response()
}

pub async fn receive(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.contains("json") {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        return match state
            .sonde
            .receive_callout(&token, text(SECRET_HEADER), text("idempotency-key"), &body)
            .await
        {
            Ok(receipt) => Json(receipt).into_response(),
            Err(engine::Error::NotFound(_)) => StatusCode::NOT_FOUND.into_response(),
            Err(e) => ApiError::from(e).into_response(),
        };
    }
    if !content_type.contains("xml") {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "this endpoint takes Salesforce Outbound Messages (text/xml) and Flow HTTP callouts (application/json)",
        )
            .into_response();
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return fault(FaultCode::Client, "the message is not UTF-8");
    };
    match state.sonde.receive_outbound_message(&token, text).await {
        Ok(ack) => ([(header::CONTENT_TYPE, SOAP)], ack).into_response(),
        Err(MessageRefusal::Fault(code, message)) => fault(code, &message),
        Err(MessageRefusal::NoEndpoint) => StatusCode::NOT_FOUND.into_response(),
    }
}
