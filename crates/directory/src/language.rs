//! A contact's preferred language as a short code (`EN`, `FR`, `PT-BR`, `ZH-HANS`), upper-cased
//! the way Qualtrics writes survey translation codes, so contacts and translations compare equal.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use crate::error::{quoted, FieldError};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Language(String);

impl Language {
    /// Accepts a 2–3 letter language code optionally followed by subtags of 1–8 letters or
    /// digits (`pt-br`, `pt_BR`, `es-419`); `_` becomes `-` and everything is upper-cased.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(FieldError::new("language", "is empty"));
        }
        let normalised = s.replace('_', "-").to_ascii_uppercase();
        let mut parts = normalised.split('-');
        let primary = parts.next().unwrap_or_default();
        let primary_ok =
            (2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic());
        let subtags_ok = parts
            .map(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
            .fold((true, 0usize), |(ok, n), this| (ok && this, n + 1));
        if !primary_ok || !subtags_ok.0 || subtags_ok.1 > 3 {
            return Err(FieldError::new(
                "language",
                format!(
                    "{} is not a language code; use a code such as EN, FR or PT-BR",
                    quoted(s)
                ),
            ));
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the primary subtag is a language ISO 639 knows (two letters: 639-1, three:
    /// 639-3). A well-formed code that none uses (`ZZ`) is most likely a typo worth reporting.
    pub fn is_known(&self) -> bool {
        let primary = self
            .0
            .split('-')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match primary.len() {
            2 => isolang::Language::from_639_1(&primary).is_some(),
            3 => isolang::Language::from_639_3(&primary).is_some(),
            _ => false,
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Language {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Language {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, FieldError> {
        Self::parse(&value)
    }
}

impl From<Language> for String {
    fn from(value: Language) -> Self {
        value.0
    }
}

impl Serialize for Language {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_separator() {
        for (input, want) in [
            ("en", "EN"),
            (" FR ", "FR"),
            ("pt-br", "PT-BR"),
            ("pt_BR", "PT-BR"),
            ("zh-Hans", "ZH-HANS"),
            ("es-419", "ES-419"),
            ("fil", "FIL"),
        ] {
            assert_eq!(Language::parse(input).unwrap().as_str(), want, "{input}");
        }
    }

    #[test]
    fn knows_real_languages_and_not_made_up_ones() {
        for known in ["EN", "pt-BR", "ZH-S", "fil", "es-419"] {
            assert!(Language::parse(known).unwrap().is_known(), "{known}");
        }
        for unknown in ["ZZ", "QQ-BR", "xyzq-1"] {
            if let Ok(l) = Language::parse(unknown) {
                assert!(!l.is_known(), "{unknown}");
            }
        }
    }

    #[test]
    fn refuses_names_and_junk() {
        for input in [
            "English",
            "e",
            "en-",
            "-en",
            "en--us",
            "e1",
            "en-toolongsubtag",
            "a-b-c-d-e",
            "中文",
        ] {
            let e = Language::parse(input).unwrap_err();
            assert_eq!(e.field, "language");
            assert!(e.message.contains("not a language code"), "{input}: {e}");
        }
        assert_eq!(Language::parse(" ").unwrap_err().message, "is empty");
    }
}
