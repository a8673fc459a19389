//! Phone numbers normalised to E.164 (`+` and 8–15 digits), the only form SMS gateways accept
//! unambiguously. National numbers are completed from a default country given by the caller.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use crate::error::{quoted, FieldError};

/// A phone number in E.164 form, e.g. `+442079460958`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct PhoneNumber(String);

/// How a country writes its numbers nationally.
struct Country {
    iso: &'static str,
    calling_code: &'static str,
    /// Digits dialled before a national number that are dropped in international form
    /// (`0` in most of Europe, `1` in North America, `8` in Russia); empty when none.
    trunk: &'static str,
    /// Length of the national significant number where the plan fixes it. Used both to tell a
    /// trunk prefix from a real leading digit (`8 800…` vs `800…` in Russia) and to catch a
    /// missing digit in the most common plans.
    national_len: Option<usize>,
}

const fn c(
    iso: &'static str,
    calling_code: &'static str,
    trunk: &'static str,
    national_len: Option<usize>,
) -> Country {
    Country {
        iso,
        calling_code,
        trunk,
        national_len,
    }
}

/// Countries we can complete a national number for. Italy, Spain, Portugal, Norway, Denmark and
/// others have no trunk prefix: their leading 0 (Italy) is part of the number and must be kept.
const COUNTRIES: &[Country] = &[
    c("US", "1", "1", Some(10)),
    c("CA", "1", "1", Some(10)),
    c("GB", "44", "0", None),
    c("IE", "353", "0", None),
    c("FR", "33", "0", Some(9)),
    c("DE", "49", "0", None),
    c("IT", "39", "", None),
    c("ES", "34", "", Some(9)),
    c("PT", "351", "", Some(9)),
    c("NL", "31", "0", Some(9)),
    c("BE", "32", "0", None),
    c("LU", "352", "", None),
    c("CH", "41", "0", Some(9)),
    c("AT", "43", "0", None),
    c("SE", "46", "0", None),
    c("NO", "47", "", Some(8)),
    c("DK", "45", "", Some(8)),
    c("FI", "358", "0", None),
    c("PL", "48", "", Some(9)),
    c("CZ", "420", "", Some(9)),
    c("SK", "421", "0", None),
    c("HU", "36", "06", None),
    c("GR", "30", "", Some(10)),
    c("RO", "40", "0", None),
    c("TR", "90", "0", Some(10)),
    c("UA", "380", "0", Some(9)),
    c("RU", "7", "8", Some(10)),
    c("KZ", "7", "8", Some(10)),
    c("IL", "972", "0", None),
    c("AE", "971", "0", None),
    c("SA", "966", "0", None),
    c("EG", "20", "0", None),
    c("ZA", "27", "0", Some(9)),
    c("NG", "234", "0", None),
    c("KE", "254", "0", None),
    c("MA", "212", "0", Some(9)),
    c("IN", "91", "0", Some(10)),
    c("PK", "92", "0", None),
    c("BD", "880", "0", None),
    c("CN", "86", "0", None),
    c("JP", "81", "0", None),
    c("KR", "82", "0", None),
    c("TW", "886", "0", None),
    c("HK", "852", "", Some(8)),
    c("SG", "65", "", Some(8)),
    c("MY", "60", "0", None),
    c("TH", "66", "0", None),
    c("VN", "84", "0", None),
    c("ID", "62", "0", None),
    c("PH", "63", "0", None),
    c("AU", "61", "0", Some(9)),
    c("NZ", "64", "0", None),
    c("BR", "55", "0", None),
    c("MX", "52", "", Some(10)),
    c("AR", "54", "0", None),
    c("CL", "56", "", Some(9)),
    c("CO", "57", "", Some(10)),
    c("PE", "51", "0", None),
];

fn country(iso: &str) -> Option<&'static Country> {
    let iso = iso.trim();
    COUNTRIES.iter().find(|c| c.iso.eq_ignore_ascii_case(iso))
}

const MIN_DIGITS: usize = 8;
const MAX_DIGITS: usize = 15;
/// Punctuation people put in phone numbers; it carries no meaning and is dropped.
const SEPARATORS: &[char] = &[' ', '\u{a0}', '-', '.', '(', ')', '/'];

impl PhoneNumber {
    /// Parses `+44 20 7946 0958`, `0044 20 7946 0958`, or a national number such as
    /// `(415) 555-0100` when `default_country` (ISO 3166 alpha-2, e.g. `"US"`) says where it is.
    pub fn parse(input: &str, default_country: Option<&str>) -> Result<Self, FieldError> {
        let s = input.trim();
        let bad = |why: String| FieldError::new("phone", format!("{} {why}", quoted(s)));
        if s.is_empty() {
            return Err(FieldError::new("phone", "is empty"));
        }
        if s.chars().any(char::is_alphabetic) {
            return Err(bad(
                "contains letters; a phone number has only digits, spaces and + ( ) - .".into(),
            ));
        }

        let (mut international, body) = match s.strip_prefix('+') {
            Some(rest) => (true, rest.to_string()),
            None => (false, s.to_string()),
        };
        // "+44 (0)20 …" shows the trunk 0 for people dialling nationally; it is never dialled
        // from abroad, so it must not end up in the E.164 form.
        let body = if international || body.starts_with("00") {
            body.replace("(0)", "")
        } else {
            body
        };
        let mut digits = String::with_capacity(body.len());
        for ch in body.chars() {
            match ch {
                '0'..='9' => digits.push(ch),
                '+' => return Err(bad("has a + that is not at the start".into())),
                _ if SEPARATORS.contains(&ch) => {}
                _ => return Err(bad(format!("contains '{ch}'"))),
            }
        }
        if digits.is_empty() {
            return Err(bad("has no digits".into()));
        }
        if !international {
            if let Some(rest) = digits.strip_prefix("00") {
                international = true;
                digits = rest.to_string();
            }
        }

        let e164 = if international {
            if digits.starts_with('0') {
                return Err(bad("has a country code starting with 0".into()));
            }
            // Country codes 1 (North America) and 7 (Russia, Kazakhstan) are whole plans with a
            // fixed length, so a missing digit can be caught even in international form.
            if let Some(rest) = digits
                .strip_prefix('1')
                .or_else(|| digits.strip_prefix('7'))
            {
                if rest.len() != 10 && digits.len() >= MIN_DIGITS && digits.len() <= MAX_DIGITS {
                    return Err(bad(format!(
                        "has {} digits after the country code +{}; numbers there have 10",
                        rest.len(),
                        &digits[..1]
                    )));
                }
            }
            digits
        } else {
            let Some(iso) = default_country else {
                return Err(bad(
                    "has no country code; write it as + and the country code, e.g. +44 20 7946 0958"
                        .into(),
                ));
            };
            let Some(country) = country(iso) else {
                return Err(bad(format!(
                    "has no country code, and the default country {} is not one we know; write it as + and the country code",
                    quoted(iso)
                )));
            };
            let national = strip_trunk(&digits, country);
            if let Some(len) = country.national_len {
                if national.len() != len {
                    return Err(bad(format!(
                        "has {} digits; a {} number has {len} (without the leading {})",
                        national.len(),
                        country.iso,
                        if country.trunk.is_empty() {
                            "country code".to_string()
                        } else {
                            format!("{} or country code", country.trunk)
                        }
                    )));
                }
            }
            format!("{}{national}", country.calling_code)
        };

        if e164.len() < MIN_DIGITS {
            return Err(bad(format!(
                "is too short: {} digits with the country code, at least {MIN_DIGITS} expected",
                e164.len()
            )));
        }
        if e164.len() > MAX_DIGITS {
            return Err(bad(format!(
                "is too long: {} digits with the country code, at most {MAX_DIGITS} allowed",
                e164.len()
            )));
        }
        Ok(Self(format!("+{e164}")))
    }

    /// The E.164 form, e.g. `+14155550100`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn strip_trunk<'a>(digits: &'a str, country: &Country) -> &'a str {
    if country.trunk.is_empty() {
        return digits;
    }
    match digits.strip_prefix(country.trunk) {
        // Where the plan has a fixed length, only a number one trunk too long has a trunk
        // prefix; otherwise the leading digit is part of the number.
        Some(rest) => match country.national_len {
            Some(len) if rest.len() != len => digits,
            _ => rest,
        },
        None => digits,
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PhoneNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Without a default country: stored and API values are always international.
impl TryFrom<String> for PhoneNumber {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, FieldError> {
        Self::parse(&value, None)
    }
}

impl From<PhoneNumber> for String {
    fn from(value: PhoneNumber) -> Self {
        value.0
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str, cc: Option<&str>) -> String {
        match PhoneNumber::parse(s, cc) {
            Ok(p) => p.as_str().to_string(),
            Err(e) => panic!("{s:?} with {cc:?}: {e}"),
        }
    }

    fn err(s: &str, cc: Option<&str>) -> String {
        PhoneNumber::parse(s, cc).unwrap_err().message
    }

    #[test]
    fn international_forms() {
        assert_eq!(ok("+44 20 7946 0958", None), "+442079460958");
        assert_eq!(ok("+44 (0)20 7946 0958", None), "+442079460958");
        assert_eq!(ok("0044 20 7946 0958", None), "+442079460958");
        assert_eq!(ok("+1 (415) 555-0100", Some("FR")), "+14155550100");
        assert_eq!(ok("+33 1 23 45 67 89", None), "+33123456789");
        assert_eq!(ok("+49.30.1234567", None), "+49301234567");
    }

    #[test]
    fn national_numbers_use_the_default_country() {
        assert_eq!(ok("(415) 555-0100", Some("US")), "+14155550100");
        assert_eq!(ok("1-415-555-0100", Some("us")), "+14155550100");
        assert_eq!(ok("613 555 0199", Some("CA")), "+16135550199");
        assert_eq!(ok("020 7946 0958", Some("GB")), "+442079460958");
        assert_eq!(ok("01 23 45 67 89", Some("FR")), "+33123456789");
        assert_eq!(ok("030 1234567", Some("DE")), "+49301234567");
        assert_eq!(ok("(02) 9876 5432", Some("AU")), "+61298765432");
        assert_eq!(ok("098765 43210", Some("IN")), "+919876543210");
        assert_eq!(ok("06 1234 5678", Some("IT")), "+390612345678");
        assert_eq!(ok("8 495 123 45 67", Some("RU")), "+74951234567");
        assert_eq!(ok("800 123 45 67", Some("RU")), "+78001234567");
        assert_eq!(ok("06 1 234 5678", Some("HU")), "+3612345678");
    }

    #[test]
    fn refuses_with_clear_messages() {
        assert!(err("call me", Some("US")).contains("letters"));
        assert!(err("555-CALL-NOW", Some("US")).contains("letters"));
        assert!(err("+44 20 79", None).contains("too short"));
        assert!(err("+44 2079 4609 5812 3456", None).contains("too long"));
        assert!(err("(415) 555-0100", None).contains("no country code"));
        assert!(err("(415) 555-0100", Some("XX")).contains("\"XX\""));
        assert!(err("(415) 555-010", Some("US")).contains("a US number has 10"));
        assert!(err("+1 415 555 010", None).contains("numbers there have 10"));
        assert!(err("+0 123 456 789", None).contains("starting with 0"));
        assert!(err("44+20 7946 0958", None).contains("not at the start"));
        assert!(err("+44 20 7946 0958#", None).contains("'#'"));
        assert!(err("()- ", Some("US")).contains("no digits"));
        assert_eq!(err("", Some("US")), "is empty");
    }

    #[test]
    fn errors_name_the_phone_field() {
        assert_eq!(PhoneNumber::parse("x", None).unwrap_err().field, "phone");
    }

    #[test]
    fn table_codes_are_sane() {
        for c in COUNTRIES {
            assert_eq!(c.iso.len(), 2, "{}", c.iso);
            assert!(c.calling_code.chars().all(|d| d.is_ascii_digit()));
            assert!(!c.calling_code.starts_with('0'));
        }
        assert!(COUNTRIES.len() >= 40);
    }

    #[test]
    fn serde_refuses_national_numbers() {
        let p: PhoneNumber = serde_json::from_str("\"+14155550100\"").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"+14155550100\"");
        assert!(serde_json::from_str::<PhoneNumber>("\"4155550100\"").is_err());
    }
}
