//! Canvas signed requests: Salesforce POSTs `signed_request` =
//! `base64(HMAC-SHA256(consumer secret, base64 context)) "." base64 context` to a Canvas app.
//! The HMAC covers the Base64 text of the context, as Salesforce's Canvas SDK computes it.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::oauth::Secret;
use crate::rest::Record;

/// Why a signed request was refused. Nothing in an unverified request is trusted or echoed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanvasError {
    #[error("signed request is not `signature.context`")]
    Format,
    #[error("signed request is not valid Base64")]
    Encoding,
    #[error("signed request signature does not match the consumer secret")]
    BadSignature,
    #[error("signed request uses algorithm {0:?}, not HMACSHA256")]
    Algorithm(String),
    #[error("signed request context is not the documented JSON: {0}")]
    Context(String),
}

/// The verified CanvasRequest.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanvasRequest {
    #[serde(default)]
    pub algorithm: String,
    #[serde(default)]
    pub user_id: Option<String>,
    pub client: CanvasClient,
    #[serde(default)]
    pub context: CanvasContext,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanvasClient {
    /// An access token for the user; use it with `instance_url`.
    pub oauth_token: Secret,
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    pub instance_url: String,
    #[serde(default)]
    pub target_origin: Option<String>,
    #[serde(default)]
    pub instance_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanvasContext {
    #[serde(default)]
    pub user: CanvasUser,
    #[serde(default)]
    pub organization: CanvasOrganization,
    #[serde(default)]
    pub environment: CanvasEnvironment,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanvasUser {
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub user_name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub profile_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanvasOrganization {
    #[serde(default)]
    pub organization_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub currency_iso_code: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanvasEnvironment {
    /// Custom parameters set where the app is placed.
    #[serde(default)]
    pub parameters: serde_json::Value,
    /// The record the app is shown on (`Id` and `attributes.type`), when there is one.
    #[serde(default)]
    pub record: Option<Record>,
    #[serde(default)]
    pub display_location: Option<String>,
    #[serde(default)]
    pub location_url: Option<String>,
}

impl CanvasEnvironment {
    /// The id of the record the app is shown on.
    pub fn record_id(&self) -> Option<&str> {
        self.record.as_ref()?.get("Id")?.as_str()
    }

    /// The object type of that record (`Contact`, `Lead`, `Campaign`...).
    pub fn record_type(&self) -> Option<&str> {
        self.record
            .as_ref()?
            .get("attributes")?
            .get("type")?
            .as_str()
    }
}

/// Salesforce emits standard Base64; be liberal about padding and the URL-safe alphabet, which
/// some proxies and re-posts produce.
fn decode_b64(s: &str) -> Result<Vec<u8>, CanvasError> {
    let s = s.trim();
    STANDARD
        .decode(s)
        .or_else(|_| STANDARD_NO_PAD.decode(s))
        .or_else(|_| URL_SAFE.decode(s))
        .or_else(|_| URL_SAFE_NO_PAD.decode(s))
        .map_err(|_| CanvasError::Encoding)
}

/// Verifies a `signed_request` with the connected app's consumer secret and returns the context.
pub fn verify_signed_request(
    signed_request: &str,
    consumer_secret: &Secret,
) -> Result<CanvasRequest, CanvasError> {
    let (sig_b64, context_b64) = signed_request
        .trim()
        .split_once('.')
        .ok_or(CanvasError::Format)?;
    let signature = decode_b64(sig_b64)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(consumer_secret.expose().as_bytes())
        .map_err(|_| CanvasError::BadSignature)?;
    mac.update(context_b64.trim().as_bytes());
    let expected = mac.finalize().into_bytes();
    // ct_eq on different lengths is false without leaking where they differ.
    if !bool::from(expected.as_slice().ct_eq(&signature)) {
        return Err(CanvasError::BadSignature);
    }
    let json = decode_b64(context_b64)?;
    let request: CanvasRequest =
        serde_json::from_slice(&json).map_err(|e| CanvasError::Context(e.to_string()))?;
    if !request.algorithm.is_empty() && !request.algorithm.eq_ignore_ascii_case("HMACSHA256") {
        return Err(CanvasError::Algorithm(request.algorithm));
    }
    Ok(request)
}

/// Signs a context the way Salesforce does (for tests and local development panels).
pub fn sign_request(context_json: &str, consumer_secret: &Secret) -> String {
    let context_b64 = STANDARD.encode(context_json.as_bytes());
    let mut mac = Hmac::<Sha256>::new_from_slice(consumer_secret.expose().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(context_b64.as_bytes());
    format!(
        "{}.{}",
        STANDARD.encode(mac.finalize().into_bytes()),
        context_b64
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTEXT: &str = r#"{"algorithm":"HMACSHA256","issuedAt":null,"userId":"005000000000001AAA",
      "client":{"instanceId":"06P000000000001","instanceUrl":"https://acme.my.salesforce.com","oauthToken":"00D!token",
        "refreshToken":null,"targetOrigin":"https://acme.my.salesforce.com"},
      "context":{"user":{"userId":"005000000000001AAA","userName":"ada@acme.example","email":"ada@acme.example","fullName":"Ada L"},
        "organization":{"organizationId":"00D000000000001EAA","name":"Acme","currencyIsoCode":"USD"},
        "environment":{"displayLocation":"Visualforce","parameters":{"survey":"SV_1"},
          "record":{"attributes":{"type":"Contact","url":"/services/data/v62.0/sobjects/Contact/003000000000001AAA"},"Id":"003000000000001AAA"}},
        "application":{"name":"Sonde"}}}"#;

    #[test]
    fn verifies_and_reads_context() {
        let secret = Secret::new("consumer-secret");
        let signed = sign_request(CONTEXT, &secret);
        let r = verify_signed_request(&signed, &secret).unwrap();
        assert_eq!(r.client.instance_url, "https://acme.my.salesforce.com");
        assert_eq!(r.client.oauth_token.expose(), "00D!token");
        assert_eq!(r.context.user.user_name, "ada@acme.example");
        assert_eq!(r.context.organization.organization_id, "00D000000000001EAA");
        assert_eq!(
            r.context.environment.record_id(),
            Some("003000000000001AAA")
        );
        assert_eq!(r.context.environment.record_type(), Some("Contact"));
        assert_eq!(r.context.environment.parameters["survey"], "SV_1");
        assert!(!format!("{r:?}").contains("00D!token"));
    }

    #[test]
    fn wrong_secret_or_tampering_is_refused() {
        let signed = sign_request(CONTEXT, &Secret::new("right"));
        assert_eq!(
            verify_signed_request(&signed, &Secret::new("wrong")).unwrap_err(),
            CanvasError::BadSignature
        );
        let (sig, ctx) = signed.split_once('.').unwrap();
        let other = STANDARD.encode(CONTEXT.replace("Acme", "Evil"));
        assert_eq!(
            verify_signed_request(&format!("{sig}.{other}"), &Secret::new("right")).unwrap_err(),
            CanvasError::BadSignature
        );
        assert_eq!(
            verify_signed_request(ctx, &Secret::new("right")).unwrap_err(),
            CanvasError::Format
        );
        assert_eq!(
            verify_signed_request("!!!.???", &Secret::new("right")).unwrap_err(),
            CanvasError::Encoding
        );
    }

    #[test]
    fn signature_over_garbage_context_is_a_context_error() {
        let secret = Secret::new("s");
        let signed = sign_request("not json", &secret);
        assert!(matches!(
            verify_signed_request(&signed, &secret),
            Err(CanvasError::Context(_))
        ));
    }
}
