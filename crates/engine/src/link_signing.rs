//! Signed survey links: a survey's link parameters may carry an HMAC-SHA256 signature made with
//! the survey's secret (by Apex, a Flow's Apex action, or any server), so the embedded data taken
//! from them can be trusted to pick Salesforce records. A survey can require it; editors see and
//! rotate the secret through the API. The canonical form is in `docs/signed-links.md`.

use crate::{Actor, Error, Result, Role, Sonde};
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use store::link_keys::LinkKeyRow;
use survey::{Provenance, SurveyDefinition};

/// The parameter that carries the signature.
pub const SIGNATURE_PARAM: &str = "sig";
/// The optional parameter (Unix time in seconds, signed like any other) after which the link
/// is refused.
pub const EXPIRES_PARAM: &str = "expires";

/// The string a link's signature covers: every parameter of the link except `sig`, ordered by
/// name and then value (byte order), each written `name=value` with both parts
/// form-urlencoded (letters, digits and `*-._` kept, space as `+`, every other byte `%XX` in
/// upper case: what Apex's `EncodingUtil.urlEncode(s, 'UTF-8')`, Java's `URLEncoder` and
/// JavaScript's `URLSearchParams` produce), joined with `&`. It is itself a valid query string.
pub fn canonical_string(params: &[(String, String)]) -> String {
    let mut signed: Vec<&(String, String)> = params
        .iter()
        .filter(|(k, _)| k != SIGNATURE_PARAM)
        .collect();
    signed.sort();
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in signed {
        out.append_pair(k, v);
    }
    out.finish()
}

fn mac(secret: &str, canonical: &str) -> Hmac<Sha256> {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(canonical.as_bytes());
    mac
}

/// The signature of a link's parameters, as lowercase hex (Apex:
/// `EncodingUtil.convertToHex(Crypto.generateMac('HmacSHA256', Blob.valueOf(canonical),
/// Blob.valueOf(secret)))`).
pub fn sign(secret: &str, params: &[(String, String)]) -> String {
    hex::encode(
        mac(secret, &canonical_string(params))
            .finalize()
            .into_bytes(),
    )
}

/// Hex (either case) or base64url, with or without padding.
fn decode_signature(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if text.len() == 64 {
        if let Ok(bytes) = hex::decode(text) {
            return Some(bytes);
        }
    }
    URL_SAFE_NO_PAD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .ok()
        .filter(|b| b.len() == 32)
}

/// What a link's parameters are worth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LinkVerdict {
    /// Recorded, but marked unsigned: anyone could have edited them.
    Unsigned,
    /// The signature covers them.
    Signed,
    /// The link is not used; the reason is for the respondent.
    Refused(String),
}

impl LinkVerdict {
    pub(crate) fn provenance(&self) -> Provenance {
        match self {
            LinkVerdict::Signed => Provenance::SignedUrl,
            _ => Provenance::Url,
        }
    }
}

const ASK_FOR_A_NEW_LINK: &str = "Ask whoever sent it to you for a new link.";

/// Judges a link's parameters against the survey's key (`secret`, `required`) at `now_s`.
pub(crate) fn verdict(
    key: Option<(&str, bool)>,
    definition: &SurveyDefinition,
    params: &[(String, String)],
    now_s: i64,
) -> LinkVerdict {
    let signatures: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == SIGNATURE_PARAM)
        .map(|(_, v)| v.as_str())
        .collect();
    let refused = |why: &str| LinkVerdict::Refused(format!("{why} {ASK_FOR_A_NEW_LINK}"));
    match (signatures.as_slice(), key) {
        ([], Some((_, true))) => {
            if params
                .iter()
                .any(|(k, _)| survey::flow::is_url_field(definition, k))
            {
                refused("This survey only accepts signed links, and this one is not signed.")
            } else {
                LinkVerdict::Unsigned
            }
        }
        ([], _) => LinkVerdict::Unsigned,
        ([_], None) => refused("This link carries a signature this survey cannot check."),
        ([given], Some((secret, _))) => {
            let Some(bytes) = decode_signature(given) else {
                return refused("This link's signature is damaged.");
            };
            if mac(secret, &canonical_string(params))
                .verify_slice(&bytes)
                .is_err()
            {
                return refused(
                    "This link was changed after it was made (or made with an old key), so it cannot be used.",
                );
            }
            match params.iter().find(|(k, _)| k == EXPIRES_PARAM) {
                None => LinkVerdict::Signed,
                Some((_, at)) => match at.trim().parse::<i64>() {
                    Ok(at) if at >= now_s => LinkVerdict::Signed,
                    Ok(at) => refused(&format!(
                        "This link expired on {}.",
                        crate::responses::rfc3339(at.saturating_mul(1000))
                    )),
                    Err(_) => refused("This link's expiry is not a time."),
                },
            }
        }
        _ => refused("This link carries more than one signature."),
    }
}

/// A survey's link signing as the API shows it to editors.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkSigning {
    pub survey_id: String,
    /// Link parameters that are not signed are refused.
    pub required: bool,
    /// The HMAC key (its UTF-8 bytes); `None` until signing is set up.
    pub secret: Option<String>,
    pub created_at: Option<i64>,
    pub rotated_at: Option<i64>,
    pub signature_parameter: &'static str,
    pub expires_parameter: &'static str,
    /// How the signed string is formed, for whoever builds links.
    pub canonical_form: &'static str,
}

/// The body of `PUT /api/v1/surveys/{id}/link-signing`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkSigningInput {
    pub required: bool,
}

const CANONICAL_FORM: &str = "HMAC-SHA256 keyed with the secret's UTF-8 bytes over every link parameter except sig, \
     sorted by name then value, each name=value form-urlencoded (EncodingUtil.urlEncode(s, 'UTF-8')), joined with &; \
     sig = lowercase hex (or base64url) of the MAC; optional expires = Unix seconds, signed like the rest";

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Sonde {
    /// The survey's key for respondents' links: (secret, required), opened.
    pub(crate) async fn link_key(&self, survey_id: &str) -> Result<Option<(String, bool)>> {
        let Some(row) = self.store.link_key(survey_id).await? else {
            return Ok(None);
        };
        let secret = self
            .secret_box()?
            .open(&row.secret)
            .map_err(|e| Error::Internal(Box::new(e)))?;
        Ok(Some((secret, row.required)))
    }

    /// Whether the survey refuses link parameters that are not signed.
    pub(crate) async fn links_must_be_signed(&self, survey_id: &str) -> Result<bool> {
        Ok(self
            .store
            .link_key(survey_id)
            .await?
            .is_some_and(|k| k.required))
    }

    /// Judges the parameters of a link that opens `definition`'s survey.
    pub(crate) async fn link_verdict(
        &self,
        survey_id: &str,
        definition: &SurveyDefinition,
        params: &[(String, String)],
    ) -> Result<LinkVerdict> {
        let key = if params.is_empty() {
            None
        } else {
            self.link_key(survey_id).await?
        };
        Ok(verdict(
            key.as_ref().map(|(s, r)| (s.as_str(), *r)),
            definition,
            params,
            store::now_ms() / 1000,
        ))
    }

    async fn link_signing_of(&self, actor: &Actor, survey_id: &str) -> Result<LinkSigning> {
        actor.require(Role::Editor)?;
        let survey = self.survey(actor, survey_id).await?;
        let row = self.store.link_key(&survey.id).await?;
        let secret = match &row {
            Some(r) => Some(
                self.secret_box()?
                    .open(&r.secret)
                    .map_err(|e| Error::Internal(Box::new(e)))?,
            ),
            None => None,
        };
        Ok(LinkSigning {
            survey_id: survey.id,
            required: row.as_ref().is_some_and(|r| r.required),
            secret,
            created_at: row.as_ref().map(|r| r.created_at),
            rotated_at: row.as_ref().map(|r| r.rotated_at),
            signature_parameter: SIGNATURE_PARAM,
            expires_parameter: EXPIRES_PARAM,
            canonical_form: CANONICAL_FORM,
        })
    }

    /// `GET /api/v1/surveys/{id}/link-signing` (editors: the secret is shown).
    pub async fn link_signing(&self, actor: &Actor, survey_id: &str) -> Result<LinkSigning> {
        self.link_signing_of(actor, survey_id).await
    }

    /// Sets whether unsigned link parameters are refused; creates the secret on first use.
    pub async fn set_link_signing(
        &self,
        actor: &Actor,
        survey_id: &str,
        input: LinkSigningInput,
    ) -> Result<LinkSigning> {
        let current = self.link_signing_of(actor, survey_id).await?;
        let secret = current.secret.unwrap_or_else(new_secret);
        self.save_link_key(actor, survey_id, &secret, input.required)
            .await?;
        self.link_signing_of(actor, survey_id).await
    }

    /// A new secret: links signed with the old one stop working at once.
    pub async fn rotate_link_secret(&self, actor: &Actor, survey_id: &str) -> Result<LinkSigning> {
        let current = self.link_signing_of(actor, survey_id).await?;
        self.save_link_key(actor, survey_id, &new_secret(), current.required)
            .await?;
        self.link_signing_of(actor, survey_id).await
    }

    async fn save_link_key(
        &self,
        actor: &Actor,
        survey_id: &str,
        secret: &str,
        required: bool,
    ) -> Result<()> {
        let now = store::now_ms();
        self.store
            .save_link_key(&LinkKeyRow {
                survey_id: survey_id.to_string(),
                org_id: actor.org_id.clone(),
                secret: self.secret_box()?.seal(secret),
                required,
                created_at: now,
                rotated_at: now,
            })
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_canonical_string_sorts_and_form_encodes_every_parameter_but_sig() {
        let params = p(&[
            ("sfCaseId", "500000000000001AAA"),
            ("Name", "Ada Lovelace & Co"),
            ("sig", "ignored"),
            ("expires", "1900000000"),
            ("Note", "é=*~"),
        ]);
        assert_eq!(
            canonical_string(&params),
            "Name=Ada+Lovelace+%26+Co&Note=%C3%A9%3D*%7E&expires=1900000000&sfCaseId=500000000000001AAA"
        );
    }

    #[test]
    fn a_known_signature_verifies_in_hex_and_base64url() {
        // Worked example in docs/signed-links.md: HMAC-SHA256("s3cret", "sfCaseId=500000000000001AAA").
        let params = p(&[("sfCaseId", "500000000000001AAA")]);
        let hex = sign("s3cret", &params);
        // Computed independently (Python's hmac module).
        assert_eq!(
            hex,
            "61092632b51a93bdf319c013ec0f48e4ad17dfdd662a1454728ac5777a1cdb25"
        );
        let def = survey::sample::sample_definition();
        let mut signed = params.clone();
        signed.push(("sig".into(), hex.to_uppercase()));
        assert_eq!(
            verdict(Some(("s3cret", true)), &def, &signed, 0),
            LinkVerdict::Signed
        );
        let b64 = URL_SAFE_NO_PAD.encode(hex::decode(&hex).unwrap());
        let mut signed = params.clone();
        signed.push(("sig".into(), b64));
        assert_eq!(
            verdict(Some(("s3cret", false)), &def, &signed, 0),
            LinkVerdict::Signed
        );
    }

    #[test]
    fn tampered_expired_and_unsigned_links() {
        let def = survey::sample::sample_definition();
        let good = p(&[("CaseId", "500A"), ("expires", "1000")]);
        let mut link = good.clone();
        link.push(("sig".into(), sign("k", &good)));
        assert_eq!(
            verdict(Some(("k", false)), &def, &link, 999),
            LinkVerdict::Signed
        );
        assert!(matches!(
            verdict(Some(("k", false)), &def, &link, 1001),
            LinkVerdict::Refused(m) if m.contains("expired")
        ));
        let mut edited = link.clone();
        edited[0].1 = "500B".into();
        assert!(matches!(
            verdict(Some(("k", false)), &def, &edited, 0),
            LinkVerdict::Refused(m) if m.contains("changed")
        ));
        let mut added = link.clone();
        added.push(("OptOut".into(), "True".into()));
        assert!(matches!(
            verdict(Some(("k", false)), &def, &added, 0),
            LinkVerdict::Refused(_)
        ));
        assert!(matches!(
            verdict(Some(("other key", false)), &def, &link, 0),
            LinkVerdict::Refused(_)
        ));
        // Unsigned: fine unless required; a link without declared fields is always fine.
        let plain = p(&[("CaseId", "500A")]);
        assert_eq!(verdict(None, &def, &plain, 0), LinkVerdict::Unsigned);
        assert_eq!(
            verdict(Some(("k", false)), &def, &plain, 0),
            LinkVerdict::Unsigned
        );
        assert!(matches!(
            verdict(Some(("k", true)), &def, &plain, 0),
            LinkVerdict::Refused(m) if m.contains("only accepts signed")
        ));
        let tracking = p(&[("utm_source", "mail")]);
        assert_eq!(
            verdict(Some(("k", true)), &def, &tracking, 0),
            LinkVerdict::Unsigned
        );
        assert!(matches!(
            verdict(None, &def, &link, 0),
            LinkVerdict::Refused(_)
        ));
    }
}
