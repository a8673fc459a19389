//! sObject Collections (`/composite/sobjects`): create, update, upsert and delete many records
//! with one API call per 200. Larger inputs are cut into chunks of 200 and sent in order;
//! results come back one per input record, in input order.
//!
//! `all_or_none` is atomic per chunk only (that is what Salesforce offers). When a chunk fails
//! with it set, later chunks are not sent, and their records report [`NOT_ATTEMPTED`].

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::connection::{Connection, Req};
use crate::error::{ApiError, Error, Result};
use crate::limits::CallKind;
use crate::rest::segment;

/// Salesforce's cap on records per collections call.
pub const MAX_RECORDS_PER_CALL: usize = 200;

/// Code given to records of chunks skipped after an all-or-none chunk failed. Not a Salesforce
/// code: these records were never sent.
pub const NOT_ATTEMPTED: &str = "NOT_ATTEMPTED";

/// The outcome for one input record.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct RecordResult {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub success: bool,
    #[serde(default)]
    pub errors: Vec<ApiError>,
    /// Upsert only: inserted (true) or updated (false).
    #[serde(default)]
    pub created: Option<bool>,
}

impl RecordResult {
    /// True when this record failed only for a transient reason (a locked row, or a chunk
    /// not sent / rolled back because of another record), so sending it again may succeed.
    pub fn is_retryable(&self) -> bool {
        !self.success
            && !self.errors.is_empty()
            && self.errors.iter().all(|e| {
                matches!(
                    e.code.as_str(),
                    "UNABLE_TO_LOCK_ROW" | "ALL_OR_NONE_OPERATION_ROLLED_BACK" | NOT_ATTEMPTED
                )
            })
    }

    fn not_attempted() -> Self {
        RecordResult {
            id: None,
            success: false,
            errors: vec![ApiError {
                code: NOT_ATTEMPTED.into(),
                message: "not sent: an earlier all-or-none chunk failed".into(),
                fields: Vec::new(),
            }],
            created: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CollectionBody<'a> {
    all_or_none: bool,
    records: &'a [Value],
}

impl Connection {
    /// Creates records of `object`, 200 per call.
    pub async fn create_many<R: Serialize>(
        &self,
        object: &str,
        records: &[R],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        let records = with_type(object, records)?;
        let path = self.data_path("/composite/sobjects");
        self.send_chunks(Method::POST, &path, &records, all_or_none)
            .await
    }

    /// Updates records of `object` (each must carry its `Id`), 200 per call.
    pub async fn update_many<R: Serialize>(
        &self,
        object: &str,
        records: &[R],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        let records = with_type(object, records)?;
        if let Some(i) = records.iter().position(|r| r.get("Id").is_none()) {
            return Err(Error::Config(format!(
                "update_many: record {i} has no Id field"
            )));
        }
        let path = self.data_path("/composite/sobjects");
        self.send_chunks(Method::PATCH, &path, &records, all_or_none)
            .await
    }

    /// Upserts records of `object` matched on `external_id_field`, 200 per call. Each result
    /// says whether the record was created.
    pub async fn upsert_many<R: Serialize>(
        &self,
        object: &str,
        external_id_field: &str,
        records: &[R],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        let records = with_type(object, records)?;
        let path = self.data_path(&format!(
            "/composite/sobjects/{}/{}",
            segment(object),
            segment(external_id_field)
        ));
        self.send_chunks(Method::PATCH, &path, &records, all_or_none)
            .await
    }

    /// Deletes records by id, 200 per call.
    pub async fn delete_many(
        &self,
        ids: &[impl AsRef<str>],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        let mut results = Vec::with_capacity(ids.len());
        let mut failed = false;
        for chunk in ids.chunks(MAX_RECORDS_PER_CALL) {
            if failed {
                results.extend(chunk.iter().map(|_| RecordResult::not_attempted()));
                continue;
            }
            let joined = chunk
                .iter()
                .map(|s| s.as_ref())
                .collect::<Vec<_>>()
                .join(",");
            let req = Req::new(
                CallKind::Collections,
                Method::DELETE,
                self.data_path("/composite/sobjects"),
            )
            .query("ids", joined)
            .query("allOrNone", all_or_none.to_string());
            let got: Vec<RecordResult> = self.send_json(&req).await?;
            failed = all_or_none && got.iter().any(|r| !r.success);
            results.extend(check_count(got, chunk.len())?);
        }
        Ok(results)
    }

    async fn send_chunks(
        &self,
        method: Method,
        path: &str,
        records: &[Value],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        let mut results = Vec::with_capacity(records.len());
        let mut failed = false;
        for chunk in records.chunks(MAX_RECORDS_PER_CALL) {
            if failed {
                results.extend(chunk.iter().map(|_| RecordResult::not_attempted()));
                continue;
            }
            let req =
                Req::new(CallKind::Collections, method.clone(), path).json(&CollectionBody {
                    all_or_none,
                    records: chunk,
                })?;
            let got: Vec<RecordResult> = self.send_json(&req).await?;
            failed = all_or_none && got.iter().any(|r| !r.success);
            results.extend(check_count(got, chunk.len())?);
        }
        Ok(results)
    }
}

/// Results map to inputs by position, so a short answer would pin errors on the wrong
/// records: refuse it.
fn check_count(got: Vec<RecordResult>, sent: usize) -> Result<Vec<RecordResult>> {
    if got.len() != sent {
        return Err(Error::Protocol(format!(
            "collections call answered {} results for {sent} records",
            got.len()
        )));
    }
    Ok(got)
}

/// Serialises records to JSON objects carrying `attributes.type`, which collections require.
fn with_type<R: Serialize>(object: &str, records: &[R]) -> Result<Vec<Value>> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut v = serde_json::to_value(r)
                .map_err(|e| Error::Config(format!("record {i} does not serialise: {e}")))?;
            let map = v
                .as_object_mut()
                .ok_or_else(|| Error::Config(format!("record {i} is not a JSON object")))?;
            let attrs = map
                .entry("attributes")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(a) = attrs.as_object_mut() {
                a.entry("type")
                    .or_insert_with(|| Value::String(object.to_string()));
            }
            Ok(v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_get_their_type() {
        let v = with_type(
            "Contact",
            &[
                json!({"LastName":"A"}),
                json!({"attributes":{"type":"Lead"}}),
            ],
        )
        .unwrap();
        assert_eq!(v[0]["attributes"]["type"], "Contact");
        assert_eq!(v[1]["attributes"]["type"], "Lead");
        assert!(with_type("Contact", &[json!(1)]).is_err());
    }

    #[test]
    fn results_parse_with_status_code() {
        let got: Vec<RecordResult> = serde_json::from_str(
            r#"[{"id":"003000000000001AAA","success":true,"errors":[]},
               {"success":false,"errors":[{"statusCode":"REQUIRED_FIELD_MISSING","message":"Required fields are missing: [LastName]","fields":["LastName"]}]}]"#,
        )
        .unwrap();
        assert!(got[0].success);
        assert_eq!(got[1].errors[0].code, "REQUIRED_FIELD_MISSING");
        assert!(!got[1].is_retryable());
        assert!(RecordResult::not_attempted().is_retryable());
        assert!(check_count(got, 3).is_err());
    }
}
