//! Signed opt-out tokens for `${l://OptOutURL}`: the link in an email that lets one contact
//! unsubscribe without signing in, and cannot be forged to unsubscribe anyone else.
//!
//! Token layout before encoding: `version (1) ‖ contact id length (u32 BE) ‖ contact id ‖
//! organization id ‖ HMAC-SHA256 (32)`, all base64url without padding. Version 2 also names
//! the distribution that sent the invitation — the way back to the Salesforce record it came
//! from: `2 ‖ contact id length ‖ contact id ‖ organization id length (u32 BE) ‖
//! organization id ‖ distribution id ‖ HMAC`. Version 1 tokens already mailed still verify. The MAC covers a
//! domain-separation label and the payload, so a key shared with another feature cannot be used
//! to mint opt-out tokens from that feature's signatures.
//!
//! Tokens deliberately carry no expiry. An opt-out link must keep working for as long as the
//! email that carries it can be opened — people unsubscribe from messages months or years old,
//! and anti-spam law (CAN-SPAM, GDPR's "as easy to withdraw as to give") does not let the link
//! lapse. A token grants only "unsubscribe this one contact", which is idempotent and harmless to
//! replay; rotating the key is the way to retire every outstanding token at once.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const VERSION: u8 = 1;
const VERSION_WITH_DISTRIBUTION: u8 = 2;
const DOMAIN: &[u8] = b"sonde/opt-out/v1\0";
const MAC_LEN: usize = 32;
const HEADER_LEN: usize = 1 + 4;

/// Whom a verified token unsubscribes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptOutClaim {
    pub contact_id: String,
    pub organization_id: String,
    /// The distribution whose invitation carried the link (version 2 tokens).
    pub distribution_id: Option<String>,
}

/// Why a token was refused. Both mean "this link was not issued by us as it stands"; the page
/// should say the link is damaged and offer another way to unsubscribe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OptOutError {
    /// Not a token at all: bad characters, cut short, or an unknown layout.
    #[error("the opt-out link is damaged or incomplete")]
    Malformed,
    /// Well-formed, but the signature does not match: altered, or signed with another key.
    #[error("the opt-out link's signature does not match")]
    BadSignature,
}

/// Issues and checks opt-out tokens with one secret key.
#[derive(Clone)]
pub struct OptOutSigner {
    /// Keyed once; cloned per token so the key schedule isn't recomputed.
    mac: HmacSha256,
}

impl fmt::Debug for OptOutSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material, not even derived state.
        f.write_str("OptOutSigner { .. }")
    }
}

impl OptOutSigner {
    /// `key` should be at least 32 random bytes, kept in the server's secrets.
    pub fn new(key: &[u8]) -> Self {
        let mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
        Self { mac }
    }

    /// A URL-safe token (base64url, no padding) naming this contact in this organization.
    pub fn token(&self, contact_id: &str, organization_id: &str) -> String {
        let mut bytes =
            Vec::with_capacity(HEADER_LEN + contact_id.len() + organization_id.len() + MAC_LEN);
        bytes.push(VERSION);
        push_sized(&mut bytes, contact_id);
        bytes.extend_from_slice(organization_id.as_bytes());
        self.finish(bytes)
    }

    /// Like [`OptOutSigner::token`], naming also the distribution that sent the invitation.
    pub fn token_for_distribution(
        &self,
        contact_id: &str,
        organization_id: &str,
        distribution_id: &str,
    ) -> String {
        let mut bytes = Vec::with_capacity(
            HEADER_LEN * 2
                + contact_id.len()
                + organization_id.len()
                + distribution_id.len()
                + MAC_LEN,
        );
        bytes.push(VERSION_WITH_DISTRIBUTION);
        push_sized(&mut bytes, contact_id);
        push_sized(&mut bytes, organization_id);
        bytes.extend_from_slice(distribution_id.as_bytes());
        self.finish(bytes)
    }

    fn finish(&self, mut bytes: Vec<u8>) -> String {
        let tag = self.sign(&bytes);
        bytes.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Checks the signature (in constant time) before reading anything from the payload.
    pub fn verify(&self, token: &str) -> Result<OptOutClaim, OptOutError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| OptOutError::Malformed)?;
        if bytes.len() < HEADER_LEN + MAC_LEN {
            return Err(OptOutError::Malformed);
        }
        let (payload, tag) = bytes.split_at(bytes.len() - MAC_LEN);
        let mut mac = self.mac.clone();
        mac.update(DOMAIN);
        mac.update(payload);
        mac.verify_slice(tag)
            .map_err(|_| OptOutError::BadSignature)?;

        // Signed by us, so a bad layout below means a future version this build doesn't know.
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| OptOutError::Malformed);
        let (contact, rest) = take_sized(&payload[1..])?;
        match payload[0] {
            VERSION => Ok(OptOutClaim {
                contact_id: text(contact)?,
                organization_id: text(rest)?,
                distribution_id: None,
            }),
            VERSION_WITH_DISTRIBUTION => {
                let (organization, distribution) = take_sized(rest)?;
                Ok(OptOutClaim {
                    contact_id: text(contact)?,
                    organization_id: text(organization)?,
                    distribution_id: Some(text(distribution)?),
                })
            }
            _ => Err(OptOutError::Malformed),
        }
    }

    fn sign(&self, payload: &[u8]) -> [u8; MAC_LEN] {
        let mut mac = self.mac.clone();
        mac.update(DOMAIN);
        mac.update(payload);
        mac.finalize().into_bytes().into()
    }
}

/// A length (u32 BE) and the text.
fn push_sized(bytes: &mut Vec<u8>, text: &str) {
    let len = u32::try_from(text.len()).expect("an id shorter than 4 GiB");
    bytes.extend_from_slice(&len.to_be_bytes());
    bytes.extend_from_slice(text.as_bytes());
}

/// The sized text at the start of `bytes`, and what follows it.
fn take_sized(bytes: &[u8]) -> Result<(&[u8], &[u8]), OptOutError> {
    let len_bytes: [u8; 4] = bytes
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(OptOutError::Malformed)?;
    let len = usize::try_from(u32::from_be_bytes(len_bytes)).map_err(|_| OptOutError::Malformed)?;
    let rest = &bytes[4..];
    if len > rest.len() {
        return Err(OptOutError::Malformed);
    }
    Ok(rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn round_trips_and_is_url_safe() {
        let signer = OptOutSigner::new(KEY);
        let token = signer.token("CID_0012345", "org-42");
        assert!(token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(
            signer.verify(&token).unwrap(),
            OptOutClaim {
                contact_id: "CID_0012345".into(),
                organization_id: "org-42".into(),
                distribution_id: None,
            }
        );
    }

    #[test]
    fn a_distribution_travels_signed_too() {
        let signer = OptOutSigner::new(KEY);
        let token = signer.token_for_distribution("CID_1", "ORG_1", "EMD_abc_0");
        assert_eq!(
            signer.verify(&token).unwrap(),
            OptOutClaim {
                contact_id: "CID_1".into(),
                organization_id: "ORG_1".into(),
                distribution_id: Some("EMD_abc_0".into()),
            }
        );
        // Its ids cannot be shifted either.
        let shifted = signer.token_for_distribution("CID_1", "ORG_1E", "MD_abc_0");
        assert_ne!(token, shifted);
        assert_eq!(
            signer.verify(&shifted).unwrap().distribution_id.as_deref(),
            Some("MD_abc_0")
        );
    }

    #[test]
    fn ids_cannot_be_shifted_between_fields() {
        let signer = OptOutSigner::new(KEY);
        let a = signer.token("ab", "c");
        let b = signer.token("a", "bc");
        assert_ne!(a, b);
        assert_eq!(signer.verify(&b).unwrap().contact_id, "a");
    }

    #[test]
    fn refuses_foreign_key_tampering_and_truncation() {
        let signer = OptOutSigner::new(KEY);
        let token = signer.token("CID_1", "ORG_1");
        assert_eq!(
            OptOutSigner::new(b"another key").verify(&token),
            Err(OptOutError::BadSignature)
        );
        // Another contact's payload carrying this token's signature.
        let other = URL_SAFE_NO_PAD
            .decode(signer.token("CID_2", "ORG_1"))
            .unwrap();
        let mine = URL_SAFE_NO_PAD.decode(&token).unwrap();
        let mut spliced = other[..other.len() - MAC_LEN].to_vec();
        spliced.extend_from_slice(&mine[mine.len() - MAC_LEN..]);
        assert_eq!(
            signer.verify(&URL_SAFE_NO_PAD.encode(spliced)),
            Err(OptOutError::BadSignature)
        );
        assert!(signer.verify(&token[..token.len() - 1]).is_err());
        assert!(signer.verify(&token[..20]).is_err());
        assert_eq!(signer.verify(""), Err(OptOutError::Malformed));
        assert_eq!(signer.verify("not a token!"), Err(OptOutError::Malformed));
        assert_eq!(
            signer.verify(&format!("{token}=")),
            Err(OptOutError::Malformed)
        );
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let s = format!("{:?}", OptOutSigner::new(KEY));
        assert_eq!(s, "OptOutSigner { .. }");
    }
}
