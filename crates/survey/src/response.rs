//! What a respondent gave: answers by question id and embedded data, plus metadata.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Answers keyed by question id, and embedded data by field name. This is what a page
/// submission, the API and workflows all read and write.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseData {
    #[serde(default)]
    pub answers: BTreeMap<String, Answer>,
    #[serde(default)]
    pub embedded_data: BTreeMap<String, String>,
}

/// One question's answer. The JSON form is what `POST /api/v1/surveys/{id}/responses` accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    /// Multiple choice: the selected choice ids, with any text typed beside a choice.
    Choices {
        selected: Vec<String>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        text: BTreeMap<String, String>,
    },
    /// Matrix: statement id → selected scale choice id.
    Matrix { rows: BTreeMap<String, String> },
    /// Slider: statement id → value.
    Slider { values: BTreeMap<String, f64> },
    /// Timing: seconds spent on the page.
    Timing { page_seconds: f64 },
    /// NPS (0–10).
    Number(f64),
    /// Text entry.
    Text(String),
}

/// How the response came in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DistributionChannel {
    #[default]
    Anonymous,
    Email,
    Sms,
    Api,
    Preview,
}

impl DistributionChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anonymous => "anonymous",
            Self::Email => "email",
            Self::Sms => "sms",
            Self::Api => "api",
            Self::Preview => "preview",
        }
    }
}

/// Response metadata as Qualtrics names it; times are RFC 3339 UTC strings so this crate
/// needs no clock.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseMetadata {
    pub response_id: String,
    pub start_date: String,
    #[serde(default)]
    pub end_date: Option<String>,
    #[serde(default)]
    pub recorded_date: Option<String>,
    /// Percent of the flow's pages completed.
    pub progress: u8,
    /// Seconds from start to end (or to the last activity).
    pub duration_seconds: u64,
    pub finished: bool,
    pub distribution_channel: DistributionChannel,
}
