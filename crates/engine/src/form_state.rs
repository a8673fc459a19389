//! What a respondent page's form carries when nothing is stored for it yet. Opening a link
//! records nothing (mail scanners open every link they see): the first page's form carries
//! the response as it would start — its id, survey version, embedded data with provenance, a
//! personal link's token — signed, and the first POST stores it. A preview is never stored:
//! its whole state travels signed from page to page.
//!
//! A token is `base64url(JSON) "." base64url(HMAC-SHA256)`, the MAC keyed with an instance
//! secret (the same on every node) over a domain label and the JSON, so an edited token — say,
//! embedded data marked as signed that no link signed — is refused.

use crate::{Error, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use store::responses::{ResponseRow, ResponseStatus};

/// Whose answers a respondent page's form carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormState {
    /// A response in progress, stored: its id.
    Response(String),
    /// Nothing recorded yet: the signed start of a response, made when the link was opened.
    Start(String),
    /// A preview: its answers so far, signed; never stored.
    Preview(String),
}

impl FormState {
    pub fn is_preview(&self) -> bool {
        matches!(self, FormState::Preview(_))
    }

    /// The stored response's id, once there is one.
    pub fn response_id(&self) -> Option<&str> {
        match self {
            FormState::Response(id) => Some(id),
            _ => None,
        }
    }
}

/// What a form token holds back from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Held {
    Start,
    Preview,
}

/// A response kept in a form instead of the table (see the module's documentation).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct HeldResponse {
    pub held: Held,
    pub id: String,
    pub survey_id: String,
    pub survey_version: i64,
    pub contact_id: Option<String>,
    /// The personal link the response is claimed through when it is first stored.
    pub personal_link: Option<String>,
    pub channel: String,
    /// `survey::ResponseData` as JSON, as the row keeps it.
    pub data: String,
    pub cursor: Option<String>,
    pub progress: i64,
    pub started_at: i64,
    /// After this the token is refused: a stored response would have been closed by then.
    pub expires_at: i64,
}

impl HeldResponse {
    pub(crate) fn new(held: Held, row: &ResponseRow, personal_link: Option<String>) -> Self {
        Self {
            held,
            id: row.id.clone(),
            survey_id: row.survey_id.clone(),
            survey_version: row.survey_version,
            contact_id: row.contact_id.clone(),
            personal_link,
            channel: row.channel.clone(),
            data: row.data.clone(),
            cursor: row.cursor.clone(),
            progress: row.progress,
            started_at: row.started_at,
            expires_at: row.expires_at.unwrap_or(row.started_at),
        }
    }

    /// The response row it stands for, in progress, in `org_id` (the survey's organization:
    /// never taken from the token).
    pub(crate) fn row(&self, org_id: &str) -> ResponseRow {
        ResponseRow {
            id: self.id.clone(),
            org_id: org_id.to_string(),
            survey_id: self.survey_id.clone(),
            survey_version: self.survey_version,
            contact_id: self.contact_id.clone(),
            status: ResponseStatus::InProgress,
            data: self.data.clone(),
            cursor: self.cursor.clone(),
            progress: self.progress,
            channel: self.channel.clone(),
            started_at: self.started_at,
            updated_at: self.started_at,
            ended_at: None,
            recorded_at: None,
            expires_at: Some(self.expires_at),
        }
    }
}

const DOMAIN: &[u8] = b"sonde/respondent-form/v1\0";

/// Signs and checks form tokens with one key.
#[derive(Clone)]
pub(crate) struct FormSigner {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for FormSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FormSigner { .. }")
    }
}

impl FormSigner {
    pub(crate) fn new(key: &[u8]) -> Self {
        // HMAC takes keys of any length; this cannot fail.
        let mac = Hmac::<Sha256>::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        Self { mac }
    }

    /// A key of this process alone, for tools run without the instance key (`sonde serve`
    /// always has it, so every node signs alike).
    pub(crate) fn ephemeral() -> Self {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        Self::new(&key)
    }

    fn tag(&self, json: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(DOMAIN);
        mac.update(json);
        mac
    }

    pub(crate) fn seal(&self, held: &HeldResponse) -> Result<String> {
        let json = serde_json::to_vec(held)?;
        let tag = self.tag(&json).finalize().into_bytes();
        Ok(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&json),
            URL_SAFE_NO_PAD.encode(tag)
        ))
    }

    /// The response a token holds, if this instance signed it as `held` for `survey_id` and it
    /// has not expired at `now`.
    pub(crate) fn open(
        &self,
        token: &str,
        held: Held,
        survey_id: &str,
        now: i64,
    ) -> Result<HeldResponse> {
        let refused = || {
            Error::Forbidden(
                "this page's form was changed or did not come from this survey; open the survey link again"
                    .into(),
            )
        };
        let (body, tag) = token.trim().split_once('.').ok_or_else(refused)?;
        let json = URL_SAFE_NO_PAD.decode(body).map_err(|_| refused())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| refused())?;
        self.tag(&json).verify_slice(&tag).map_err(|_| refused())?;
        let opened: HeldResponse = serde_json::from_slice(&json).map_err(|_| refused())?;
        if opened.held != held || opened.survey_id != survey_id {
            return Err(refused());
        }
        if opened.expires_at < now {
            return Err(Error::Conflict(
                "this page was open too long ago to be answered; open the survey link again".into(),
            ));
        }
        Ok(opened)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(kind: Held) -> HeldResponse {
        HeldResponse {
            held: kind,
            id: "R_abc".into(),
            survey_id: "SV_1".into(),
            survey_version: 1,
            contact_id: None,
            personal_link: None,
            channel: "anonymous".into(),
            data: r#"{"embedded_data":{"CaseId":"500A"},"provenance":{"CaseId":"url"}}"#.into(),
            cursor: None,
            progress: 0,
            started_at: 10,
            expires_at: 100,
        }
    }

    #[test]
    fn a_token_opens_only_as_signed_for_its_survey_and_kind_until_it_expires() {
        let signer = FormSigner::new(b"key");
        let token = signer.seal(&held(Held::Start)).unwrap();
        let opened = signer.open(&token, Held::Start, "SV_1", 50).unwrap();
        assert_eq!(opened.data, held(Held::Start).data);
        assert!(matches!(
            signer.open(&token, Held::Preview, "SV_1", 50),
            Err(Error::Forbidden(_))
        ));
        assert!(matches!(
            signer.open(&token, Held::Start, "SV_2", 50),
            Err(Error::Forbidden(_))
        ));
        assert!(matches!(
            signer.open(&token, Held::Start, "SV_1", 101),
            Err(Error::Conflict(_))
        ));
        assert!(matches!(
            FormSigner::new(b"other").open(&token, Held::Start, "SV_1", 50),
            Err(Error::Forbidden(_))
        ));
    }

    #[test]
    fn an_edited_token_is_refused() {
        let signer = FormSigner::new(b"key");
        let token = signer.seal(&held(Held::Start)).unwrap();
        let (body, tag) = token.split_once('.').unwrap();
        let json = String::from_utf8(URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap();
        // Embedded data claimed as signed by a link that never signed it.
        let forged = URL_SAFE_NO_PAD.encode(json.replace("\\\"url\\\"", "\\\"signed_url\\\""));
        assert_ne!(forged, body);
        assert!(matches!(
            signer.open(&format!("{forged}.{tag}"), Held::Start, "SV_1", 50),
            Err(Error::Forbidden(_))
        ));
        assert!(signer.open("garbage", Held::Start, "SV_1", 50).is_err());
    }
}
