//! What a respondent gave: answers by question id and embedded data, plus metadata.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Answers keyed by question id, and embedded data by field name. This is what a page
/// submission, the API and workflows all read and write.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResponseData {
    #[serde(default)]
    pub answers: BTreeMap<String, Answer>,
    #[serde(default)]
    pub embedded_data: BTreeMap<String, String>,
    /// Where each embedded data value came from. A value without an entry (recorded before
    /// Sonde tracked this) counts as unsigned, unless the response came through the API.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub provenance: BTreeMap<String, Provenance>,
}

/// Where an embedded data value came from, and so whether it can be trusted to pick which
/// Salesforce record a workflow changes: every source but a plain link parameter is signed
/// (Sonde itself, or an authenticated caller, vouches for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// A parameter of a link that carries no valid signature: anyone can edit it.
    Url,
    /// A link parameter covered by the survey's link signature.
    SignedUrl,
    /// The contact record behind a personal link.
    Contact,
    /// A fixed value in the survey definition.
    Survey,
    /// Given through the API by an authenticated caller.
    Api,
    /// Carried by a personal link a Salesforce notification's workflow sent: from the
    /// record the linked org sent, authenticated by the workflow's endpoint.
    Salesforce,
}

impl Provenance {
    pub fn is_signed(self) -> bool {
        self != Provenance::Url
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Provenance::Url => "url",
            Provenance::SignedUrl => "signed_url",
            Provenance::Contact => "contact",
            Provenance::Survey => "survey",
            Provenance::Api => "api",
            Provenance::Salesforce => "salesforce",
        }
    }
}

/// One question's answer. The JSON form is what `POST /api/v1/surveys/{id}/responses` accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DistributionChannel {
    #[default]
    Anonymous,
    Email,
    Sms,
    /// Answered by text message, one question per message (two-way SMS).
    #[serde(rename = "sms_two_way")]
    SmsTwoWay,
    Api,
    Preview,
}

impl DistributionChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anonymous => "anonymous",
            Self::Email => "email",
            Self::Sms => "sms",
            Self::SmsTwoWay => "sms_two_way",
            Self::Api => "api",
            Self::Preview => "preview",
        }
    }
}

/// Response metadata as Qualtrics names it; times are RFC 3339 UTC strings so this crate
/// needs no clock.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
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

impl ResponseMetadata {
    /// A metadata value by its Qualtrics name (`ResponseID`, `StartDate`, `EndDate`,
    /// `RecordedDate`, `Duration`, `Finished`, `Progress`, `DistributionChannel`), matched
    /// case-insensitively. `Finished` reads `1`/`0` as in Qualtrics' numeric exports.
    pub fn field(&self, name: &str) -> Option<String> {
        let value = match name.to_ascii_lowercase().as_str() {
            "responseid" => self.response_id.clone(),
            "startdate" => self.start_date.clone(),
            "enddate" => self.end_date.clone().unwrap_or_default(),
            "recordeddate" => self.recorded_date.clone().unwrap_or_default(),
            "duration" | "duration (in seconds)" => self.duration_seconds.to_string(),
            "finished" => if self.finished { "1" } else { "0" }.to_string(),
            "progress" => self.progress.to_string(),
            "distributionchannel" => self.distribution_channel.as_str().to_string(),
            _ => return None,
        };
        Some(value)
    }
}

/// The metadata names `ResponseMetadata::field` knows, in Qualtrics' spelling.
pub const METADATA_FIELDS: &[&str] = &[
    "ResponseID",
    "StartDate",
    "EndDate",
    "RecordedDate",
    "Duration",
    "Finished",
    "Progress",
    "DistributionChannel",
];

impl Answer {
    /// True when the respondent gave nothing: no choice, blank text, no rows or values.
    pub fn is_empty(&self) -> bool {
        match self {
            Answer::Choices { selected, .. } => selected.is_empty(),
            Answer::Matrix { rows } => rows.is_empty(),
            Answer::Slider { values } => values.is_empty(),
            Answer::Timing { .. } | Answer::Number(_) => false,
            Answer::Text(text) => text.trim().is_empty(),
        }
    }
}
