//! Email addresses as the directory stores them: trimmed, checked for the mistakes people
//! actually make in spreadsheets, with the domain lower-cased.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use crate::error::{quoted, FieldError};

/// An email address that passed [`EmailAddress::parse`].
///
/// This is a practical check, not RFC 5322: quoted local parts, comments and IP-literal domains
/// are refused because in a contact list they are far more often typos than real addresses.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct EmailAddress(String);

/// RFC 5321 path limit; longer addresses cannot be delivered.
const MAX_LEN: usize = 254;
/// RFC 5321 local-part limit.
const MAX_LOCAL_LEN: usize = 64;
/// DNS label limit.
const MAX_LABEL_LEN: usize = 63;
/// Characters RFC 5322 allows unquoted in a local part besides letters and digits.
const LOCAL_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-.";

impl EmailAddress {
    /// Parses an address, trimming surrounding whitespace and lower-casing the domain only
    /// (the local part is case-sensitive in principle, so it is kept as written).
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = input.trim();
        let bad = |why: &str| FieldError::new("email", format!("{} {why}", quoted(s)));
        if s.is_empty() {
            return Err(FieldError::new("email", "is empty"));
        }
        if s.len() > MAX_LEN {
            return Err(bad("is longer than 254 characters"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("contains a space; an email address has none"));
        }
        let (local, domain) = match s.split_once('@') {
            Some((l, d)) if !d.contains('@') => (l, d),
            Some(_) => return Err(bad("contains more than one @")),
            None => return Err(bad("is not an email address: it has no @")),
        };

        if local.is_empty() {
            return Err(bad("has nothing before the @"));
        }
        if local.len() > MAX_LOCAL_LEN {
            return Err(bad("has more than 64 characters before the @"));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(bad("has a misplaced dot before the @"));
        }
        if let Some(c) = local
            .chars()
            .find(|&c| !(c.is_alphanumeric() || LOCAL_SPECIALS.contains(c)))
        {
            return Err(bad(&format!("contains '{c}' before the @")));
        }

        // Lower-case before checking, so what is stored is exactly what was checked (some
        // capitals lower-case to letter + combining mark, which is not a valid domain character).
        let domain = domain.to_lowercase();
        let domain = domain.as_str();
        if domain.is_empty() {
            return Err(bad("has no domain after the @"));
        }
        if !domain.contains('.') {
            return Err(bad(
                "has a domain without a dot (expected something like example.com)",
            ));
        }
        for label in domain.split('.') {
            if label.is_empty() {
                return Err(bad("has a misplaced dot in the domain"));
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(bad("has a domain part longer than 63 characters"));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(bad("has a domain part starting or ending with '-'"));
            }
            if let Some(c) = label.chars().find(|&c| !(c.is_alphanumeric() || c == '-')) {
                return Err(bad(&format!("contains '{c}' in the domain")));
            }
        }
        // A numeric top-level label means an IP address, which mail senders refuse anyway.
        if domain
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(bad("has a domain that is an IP address, not a name"));
        }

        // Lower-casing can lengthen some characters; keep the length promise.
        if local.len() + 1 + domain.len() > MAX_LEN {
            return Err(bad("is longer than 254 characters"));
        }
        Ok(Self(format!("{local}@{domain}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, FieldError> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

impl Serialize for EmailAddress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        EmailAddress::parse(s).unwrap().to_string()
    }

    fn err(s: &str) -> String {
        EmailAddress::parse(s).unwrap_err().message
    }

    #[test]
    fn accepts_ordinary_addresses() {
        assert_eq!(ok("ada@example.com"), "ada@example.com");
        assert_eq!(
            ok("first.last+tag@mail.example.co.uk"),
            "first.last+tag@mail.example.co.uk"
        );
        assert_eq!(ok("o'brien@example.ie"), "o'brien@example.ie");
        assert_eq!(ok("josé@exämple.de"), "josé@exämple.de");
    }

    #[test]
    fn trims_and_lower_cases_only_the_domain() {
        assert_eq!(
            ok("  Ada.Lovelace@Example.COM \t"),
            "Ada.Lovelace@example.com"
        );
    }

    #[test]
    fn refuses_common_typos_with_a_reason() {
        assert!(err("ada.example.com").contains("no @"));
        assert!(err("ada@@example.com").contains("more than one @"));
        assert!(err("ada@example").contains("without a dot"));
        assert!(err("ada lovelace@example.com").contains("space"));
        assert!(err("@example.com").contains("nothing before"));
        assert!(err("ada@").contains("no domain"));
        assert!(err("ada.@example.com").contains("misplaced dot"));
        assert!(err("a..b@example.com").contains("misplaced dot"));
        assert!(err("ada@example..com").contains("misplaced dot"));
        assert!(err("ada@-example.com").contains("'-'"));
        assert!(err("ada@exa_mple.com").contains("'_'"));
        assert!(err("ada,b@example.com").contains("','"));
        assert!(err("ada@10.0.0.1").contains("IP address"));
        assert_eq!(err("   "), "is empty");
    }

    #[test]
    fn enforces_length_limits() {
        let local = "a".repeat(64);
        assert!(EmailAddress::parse(&format!("{local}@example.com")).is_ok());
        assert!(err(&format!("a{local}@example.com")).contains("64"));
        let domain = format!("{}.com", vec!["b".repeat(62); 4].join("."));
        assert!(err(&format!("ada@{domain}")).contains("254"));
    }

    #[test]
    fn errors_name_the_email_field() {
        let e = EmailAddress::parse("nope").unwrap_err();
        assert_eq!(e.field, "email");
        assert_eq!(
            e.to_string(),
            "email: \"nope\" is not an email address: it has no @"
        );
    }

    #[test]
    fn serde_round_trips_and_refuses_bad_json() {
        let e = EmailAddress::parse("ada@example.com").unwrap();
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, "\"ada@example.com\"");
        assert_eq!(serde_json::from_str::<EmailAddress>(&json).unwrap(), e);
        assert!(serde_json::from_str::<EmailAddress>("\"nope\"").is_err());
    }
}
