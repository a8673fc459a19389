//! What a connector asks to redact: built-in detectors by name, admins' own patterns with their
//! masks, and word substitutions. Checked once, when the redactor is built.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::substitution::Substitutions;

/// A built-in detector, spelt in the API as `"card"`, `"iban"`, `"email"`, `"phone"`, `"ssn"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Detector {
    /// Payment card numbers that pass the Luhn check.
    Card,
    /// IBANs of the right length for their country that pass mod-97.
    Iban,
    /// Email addresses.
    Email,
    /// Telephone numbers, international and national forms.
    Phone,
    /// US Social Security numbers.
    Ssn,
}

impl Detector {
    pub const ALL: [Detector; 5] = [
        Detector::Card,
        Detector::Iban,
        Detector::Email,
        Detector::Phone,
        Detector::Ssn,
    ];

    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Detector::Card => "card",
            Detector::Iban => "iban",
            Detector::Email => "email",
            Detector::Phone => "phone",
            Detector::Ssn => "ssn",
        }
    }

    /// What the redacted text holds in place of what this detector found.
    pub fn mask(self) -> &'static str {
        match self {
            Detector::Card => "[CARD]",
            Detector::Iban => "[IBAN]",
            Detector::Email => "[EMAIL]",
            Detector::Phone => "[PHONE]",
            Detector::Ssn => "[SSN]",
        }
    }
}

impl fmt::Display for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown detector \"{0}\"; the detectors are card, iban, email, phone and ssn")]
pub struct UnknownDetector(pub String);

impl FromStr for Detector {
    type Err = UnknownDetector;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Detector::ALL
            .into_iter()
            .find(|d| d.as_str() == name)
            .ok_or_else(|| UnknownDetector(name.to_owned()))
    }
}

/// An admin's own pattern: what it finds is replaced by its mask and counted under its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomPattern {
    pub name: String,
    /// A regular expression in the syntax of the `regex` crate (no look-around, no
    /// backreferences, so every pattern runs in time linear in the text).
    pub pattern: String,
    /// Defaults to the name upper-cased in brackets: `order_id` is masked `[ORDER_ID]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask: Option<String>,
}

impl CustomPattern {
    pub fn new(name: impl Into<String>, pattern: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            pattern: pattern.into(),
            mask: None,
        }
    }

    pub fn with_mask(mut self, mask: impl Into<String>) -> Self {
        self.mask = Some(mask.into());
        self
    }

    /// The mask the redacted text holds in place of a match.
    pub fn mask(&self) -> String {
        match &self.mask {
            Some(mask) => mask.clone(),
            None => format!("[{}]", self.name.to_uppercase()),
        }
    }
}

/// Everything one inbound job redacts.
#[derive(Debug, Clone, Default)]
pub struct RedactionRules {
    /// Built-in detectors; naming one twice is the same as once.
    pub detectors: Vec<Detector>,
    pub custom: Vec<CustomPattern>,
    pub substitutions: Substitutions,
}

impl RedactionRules {
    /// All built-in detectors, no custom patterns, no substitutions.
    pub fn all_detectors() -> Self {
        Self {
            detectors: Detector::ALL.to_vec(),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("custom pattern \"{name}\": {problem}")]
    CustomPattern {
        name: String,
        problem: PatternProblem,
    },
    #[error("the substitutions cannot be compiled: {0}")]
    Substitutions(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternProblem {
    #[error("the name is empty")]
    EmptyName,
    #[error("the name is longer than {MAX_NAME} characters")]
    LongName,
    #[error("the name is a built-in detector's")]
    DetectorName,
    #[error("another custom pattern has the same name")]
    DuplicateName,
    #[error("the mask is empty")]
    EmptyMask,
    #[error("not a valid regular expression: {0}")]
    InvalidRegex(String),
    #[error("the pattern can match empty text, so it would mask between every two characters")]
    MatchesEmptyText,
}

pub(crate) const MAX_NAME: usize = 64;

/// Checks a custom pattern's name and mask against the ones before it; the regex is checked
/// where it is compiled.
pub(crate) fn check_name_and_mask(
    pattern: &CustomPattern,
    earlier: &[CustomPattern],
) -> Result<(), PatternProblem> {
    let name = pattern.name.trim();
    if name.is_empty() {
        return Err(PatternProblem::EmptyName);
    }
    if name.chars().count() > MAX_NAME {
        return Err(PatternProblem::LongName);
    }
    // The counts of a job are reported by name; "card" would be two different things.
    if Detector::ALL
        .iter()
        .any(|d| d.as_str().eq_ignore_ascii_case(name))
    {
        return Err(PatternProblem::DetectorName);
    }
    if earlier.iter().any(|p| p.name.trim() == name) {
        return Err(PatternProblem::DuplicateName);
    }
    if pattern.mask.as_deref().is_some_and(str::is_empty) {
        return Err(PatternProblem::EmptyMask);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detectors_are_spelt_in_lowercase_in_the_api() {
        let json = r#"["card","iban","email","phone","ssn"]"#;
        let detectors: Vec<Detector> = serde_json::from_str(json).unwrap();
        assert_eq!(detectors, Detector::ALL);
        assert_eq!(serde_json::to_string(&detectors).unwrap(), json);
        assert!(serde_json::from_str::<Detector>(r#""Card""#).is_err());
    }

    #[test]
    fn parsing_an_unknown_detector_names_it() {
        assert_eq!("phone".parse::<Detector>(), Ok(Detector::Phone));
        let err = "passport".parse::<Detector>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown detector \"passport\"; the detectors are card, iban, email, phone and ssn"
        );
    }

    #[test]
    fn each_detector_has_its_typed_mask() {
        let masks: Vec<_> = Detector::ALL.iter().map(|d| d.mask()).collect();
        assert_eq!(masks, ["[CARD]", "[IBAN]", "[EMAIL]", "[PHONE]", "[SSN]"]);
    }

    #[test]
    fn a_custom_mask_defaults_to_the_name_upper_cased() {
        assert_eq!(
            CustomPattern::new("order_id", r"ORD-\d+").mask(),
            "[ORDER_ID]"
        );
        assert_eq!(
            CustomPattern::new("order_id", r"ORD-\d+")
                .with_mask("[ORDER]")
                .mask(),
            "[ORDER]"
        );
        let parsed: CustomPattern =
            serde_json::from_str(r#"{"name":"ticket","pattern":"T-\\d{6}"}"#).unwrap();
        assert_eq!(parsed.mask(), "[TICKET]");
    }
}
