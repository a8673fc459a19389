//! `POST /hooks/salesforce/{token}`: where a linked Salesforce org sends the Outbound Messages
//! of a `salesforce_message` workflow (`engine::salesforce_messages`). There is no session or
//! API token: the unguessable token in the path names the workflow, and the message's
//! `OrganizationId` must be the workflow's linked org. Answers the SOAP `Ack` once every
//! notification is recorded, a SOAP fault (HTTP 500, nothing recorded) otherwise, and a bare 404
//! for a token that names no endpoint.

use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use engine::salesforce_messages::{fault_response, FaultCode, MessageRefusal};

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
    let xml = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("xml"));
    if !xml {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "this endpoint takes Salesforce Outbound Messages (Content-Type: text/xml)",
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
