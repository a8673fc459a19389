//! The two webhooks Twilio calls: each message's status (`StatusCallback`, given with every
//! message sent) and the replies to the account's numbers (the number's messaging webhook).
//! Neither has a session or a token: each request must carry `X-Twilio-Signature` made with
//! the account's auth token over the URL Twilio was given (Sonde's public URL and this path)
//! and the form's parameters. Anything unsigned or wrongly signed is a 403 and changes nothing.

use crate::error::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// The signed form of a webhook request, or the 403 that refuses it.
fn verified_form(
    state: &AppState,
    uri: &OriginalUri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Vec<(String, String)>, ApiError> {
    let params = twilio_wire::messages::parse_form(body);
    let signature = headers
        .get(twilio_wire::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let path = uri.0.path_and_query().map_or(uri.0.path(), |p| p.as_str());
    state.sonde.verify_twilio(path, &params, signature)?;
    Ok(params)
}

/// `POST /webhooks/twilio/status`: a message moved on (queued, sent, delivered,
/// undelivered, failed). Answers 204 whether or not Sonde knows the message: Twilio has
/// nothing to do about either.
pub async fn status(
    State(state): State<AppState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = verified_form(&state, &uri, &headers, &body)?;
    state.sonde.sms_status_callback(&params).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /webhooks/twilio/inbound`: a reply from a phone. Answers TwiML (empty: what Sonde
/// sends back goes through its queue).
pub async fn inbound(
    State(state): State<AppState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = verified_form(&state, &uri, &headers, &body)?;
    let twiml = state.sonde.sms_inbound(&params).await?;
    Ok((
        [(header::CONTENT_TYPE, twilio_wire::twiml::CONTENT_TYPE)],
        twiml,
    )
        .into_response())
}
