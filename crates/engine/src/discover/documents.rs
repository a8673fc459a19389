//! A Salesforce row as a project's document: its natural id (the record Id), its date, the
//! default attributes and the job's mappings, and its text — one verbatim, or a
//! conversation's turns with the joined client and agent verbatims — redacted before it is
//! kept. The original text is never stored.

use super::{
    DataType, JobSettings, DEFAULT_FEEDBACK_TYPE, DEFAULT_SOURCE_VALUE, FEEDBACK_PROVIDER,
};
use crate::Result;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use store::discover::DocumentRow;

/// The attributes that join a conversation's client and agent turns.
const VERBATIMS: [&str; 2] = ["client_verbatim", "agent_verbatim"];

/// A document as the API answers it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    pub natural_id: String,
    pub document_date: Option<String>,
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verbatim: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub turns: Option<Vec<conversations::Turn>>,
}

pub(crate) fn document_of(row: &DocumentRow) -> Result<Document> {
    Ok(Document {
        natural_id: row.natural_id.clone(),
        document_date: row.document_date.map(crate::responses::rfc3339),
        attributes: serde_json::from_str(&row.attributes)?,
        verbatim: row.verbatim.clone(),
        turns: row.turns.as_deref().map(serde_json::from_str).transpose()?,
    })
}

/// A field of a row by its dotted path, case-insensitively (SOQL names are; a relationship's
/// fields come nested, `{"Account": {"Name": …}}`), as text.
pub(crate) fn field_text(row: &Map<String, Value>, path: &str) -> Option<String> {
    let mut current = row;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let (_, v) = current.iter().find(|(k, _)| k.eq_ignore_ascii_case(part))?;
        if parts.peek().is_none() {
            return match v {
                Value::Null => None,
                Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            };
        }
        current = v.as_object()?;
    }
    None
}

/// Salesforce's date/time as epoch ms: `2026-03-02T10:15:03.000+0000`, `…Z`, or a date.
pub(crate) fn salesforce_time(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(dt) = chrono::DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(dt.timestamp_millis());
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_millis());
    }
    chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().timestamp_millis())
}

/// What one row made, besides the document.
pub(crate) struct Built {
    pub document: DocumentRow,
    pub warnings: Vec<String>,
    pub redactions: u64,
    /// The date field's value (epoch ms) and the Id: where a cursor stands after this row.
    pub position: (i64, String),
}

pub(crate) struct Context<'a> {
    pub settings: &'a JobSettings,
    pub redactor: &'a redaction::Redactor,
    pub org_id: &'a str,
    pub job_id: &'a str,
    pub run_id: &'a str,
    pub job_name: &'a str,
    pub load_date: i64,
}

impl Context<'_> {
    fn redact(&self, text: &str, count: &mut u64) -> String {
        let r = self.redactor.redact(text);
        *count += r.applied.total();
        r.text
    }

    /// The document of one row: a feedback verbatim, a chat's transcript, or — for a
    /// messaging session — the conversation its ConversationEntry rows made (`entries`).
    pub(crate) fn build(
        &self,
        row: &Map<String, Value>,
        entries: Option<&conversations::Conversation>,
    ) -> Option<Built> {
        let id = field_text(row, "Id")?;
        let date_text = field_text(row, self.settings.date_field());
        let date = date_text.as_deref().and_then(salesforce_time);
        let mut warnings = Vec::new();
        let mut redactions = 0;
        let text = field_text(row, self.settings.text_field()).unwrap_or_default();
        let conversation = match (self.settings.data_type, entries) {
            (DataType::Chat, _) => Some(conversations::parse_transcript(
                &text,
                &conversations::ChatSettings {
                    classification: self.settings.participants,
                    ..Default::default()
                },
            )),
            (DataType::Messaging, Some(c)) => Some(c.clone()),
            (DataType::Messaging, None) => Some(conversations::Conversation {
                turns: Vec::new(),
                warnings: vec!["the session has no conversation entries".into()],
            }),
            (DataType::Feedback, _) => None,
        };
        let (verbatim, turns) = match conversation {
            Some(chat) => {
                warnings.extend(chat.warnings.iter().map(|w| format!("{id}: {w}")));
                let turns: Vec<conversations::Turn> = chat
                    .turns
                    .into_iter()
                    .map(|mut t| {
                        t.text = self.redact(&t.text, &mut redactions);
                        t
                    })
                    .collect();
                (None, Some(turns))
            }
            None => (Some(self.redact(&text, &mut redactions)), None),
        };
        let mut attributes = self.default_attributes();
        for (name, v) in super::mapping::mapped_attributes(&self.settings.mappings, row) {
            let v = match v {
                Value::String(s) => Value::String(self.redact(&s, &mut redactions)),
                other => other,
            };
            attributes.insert(name, v);
        }
        if self.settings.include_deleted {
            let deleted = field_text(row, "IsDeleted").is_some_and(|d| d == "true");
            attributes.insert("deleted".into(), Value::Bool(deleted));
        }
        if let Some(turns) = &turns {
            let conv = conversations::Conversation {
                turns: turns.clone(),
                warnings: Vec::new(),
            };
            attributes.insert(
                "client_verbatim".into(),
                Value::String(conv.client_verbatim()),
            );
            attributes.insert(
                "agent_verbatim".into(),
                Value::String(conv.agent_verbatim()),
            );
        }
        // A fixed document date dates every document alike; the cursor still follows the
        // date field.
        let document_date = self
            .settings
            .fixed_document_date
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc().timestamp_millis())
            .or(date);
        let document = self
            .document(&id, document_date, attributes, verbatim, turns)
            .ok()?;
        Some(Built {
            document,
            warnings,
            redactions,
            position: (date.unwrap_or(0), id),
        })
    }

    /// Whether a row's mapped attributes (transformed, not yet redacted) pass the job's
    /// filter; a row that does not is counted as filtered and not stored.
    pub(crate) fn passes_filter(&self, row: &Map<String, Value>) -> bool {
        self.settings.filter.is_empty()
            || super::mapping::passes(
                &self.settings.filter,
                &super::mapping::mapped_attributes(&self.settings.mappings, row),
            )
    }

    fn default_attributes(&self) -> Map<String, Value> {
        let s = self.settings;
        let text = |v: &str| Value::String(v.to_string());
        Map::from_iter([
            ("feedback_provider".to_string(), text(FEEDBACK_PROVIDER)),
            (
                "source_value".to_string(),
                text(s.source_value.as_deref().unwrap_or(DEFAULT_SOURCE_VALUE)),
            ),
            (
                "feedback_type".to_string(),
                text(s.feedback_type.as_deref().unwrap_or(DEFAULT_FEEDBACK_TYPE)),
            ),
            ("job_name".to_string(), text(self.job_name)),
        ])
    }

    fn document(
        &self,
        natural_id: &str,
        date: Option<i64>,
        mut attributes: Map<String, Value>,
        verbatim: Option<String>,
        turns: Option<Vec<conversations::Turn>>,
    ) -> Result<DocumentRow> {
        let turns_json = turns.as_ref().map(serde_json::to_string).transpose()?;
        // The digest leaves out loadDate: a row read again unchanged is unchanged.
        let mut digest = Sha256::new();
        digest.update(serde_json::to_string(&attributes)?);
        digest.update([0]);
        digest.update(verbatim.as_deref().unwrap_or_default());
        digest.update([0]);
        digest.update(turns_json.as_deref().unwrap_or_default());
        digest.update(date.unwrap_or_default().to_le_bytes());
        let content_hash = hex::encode(digest.finalize());
        let mut search_text = verbatim.clone().unwrap_or_default();
        for t in turns.iter().flatten() {
            search_text.push('\n');
            search_text.push_str(&t.text);
        }
        for (name, v) in &attributes {
            // The joined verbatims are the turns' text again: indexed once is enough.
            if let (Value::String(s), false) = (v, VERBATIMS.contains(&name.as_str())) {
                search_text.push('\n');
                search_text.push_str(s);
            }
        }
        attributes.insert(
            "loadDate".into(),
            Value::String(crate::responses::rfc3339(self.load_date)),
        );
        Ok(DocumentRow {
            project_id: self.settings.project_id.clone(),
            natural_id: natural_id.to_string(),
            org_id: self.org_id.to_string(),
            document_date: date,
            attributes: serde_json::to_string(&attributes)?,
            verbatim,
            turns: turns_json,
            search_text,
            content_hash,
            job_id: self.job_id.to_string(),
            run_id: self.run_id.to_string(),
            created_at: self.load_date,
            updated_at: self.load_date,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_found_case_insensitively_and_through_relationships() {
        let row: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "Id": "570000000000001AAA", "Account": {"Name": "Acme"}, "Score__c": 7, "Nothing": null
        }))
        .unwrap();
        assert_eq!(
            field_text(&row, "id").as_deref(),
            Some("570000000000001AAA")
        );
        assert_eq!(field_text(&row, "account.name").as_deref(), Some("Acme"));
        assert_eq!(field_text(&row, "Score__c").as_deref(), Some("7"));
        assert_eq!(field_text(&row, "Nothing"), None);
    }

    #[test]
    fn salesforce_times_read() {
        assert_eq!(
            salesforce_time("2026-03-02T10:15:03.000+0000"),
            salesforce_time("2026-03-02T10:15:03Z")
        );
        assert_eq!(salesforce_time("1970-01-02"), Some(86_400_000));
        assert_eq!(salesforce_time("yesterday"), None);
    }
}
