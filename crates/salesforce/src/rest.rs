//! The REST API under `/services/data/vXX.X/`: versions, limits, describeGlobal, describe
//! (cached per object per connection) and single-record create/retrieve/update/delete/upsert.

use std::collections::BTreeMap;
use std::sync::Arc;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::connection::{Connection, Req};
use crate::error::{ApiError, Error, Result};
use crate::limits::CallKind;

/// A record as Salesforce sends it: field name to JSON value, with `attributes {type,url}`.
pub type Record = serde_json::Map<String, serde_json::Value>;

/// RFC 3986 unreserved characters stay; everything else in a path segment is escaped.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub(crate) fn segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// One entry of `GET /services/data/`.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiVersion {
    pub version: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub url: String,
}

/// One limit of `GET /limits` (other keys, such as per-app breakdowns, are ignored).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub struct Limit {
    #[serde(rename = "Max")]
    pub max: i64,
    #[serde(rename = "Remaining")]
    pub remaining: i64,
}

/// `GET /sobjects`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeGlobal {
    #[serde(default)]
    pub encoding: Option<String>,
    #[serde(default)]
    pub max_batch_size: Option<u32>,
    pub sobjects: Vec<SObjectSummary>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SObjectSummary {
    pub name: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub key_prefix: Option<String>,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub createable: bool,
    #[serde(default)]
    pub updateable: bool,
    #[serde(default)]
    pub deletable: bool,
    #[serde(default)]
    pub queryable: bool,
    #[serde(default)]
    pub urls: BTreeMap<String, String>,
}

/// `GET /sobjects/{Obj}/describe`, the parts Sonde uses to check mappings.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SObjectDescribe {
    pub name: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub key_prefix: Option<String>,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub createable: bool,
    #[serde(default)]
    pub updateable: bool,
    #[serde(default)]
    pub deletable: bool,
    #[serde(default)]
    pub queryable: bool,
    #[serde(default)]
    pub fields: Vec<Field>,
    #[serde(default)]
    pub child_relationships: Vec<ChildRelationship>,
    #[serde(default)]
    pub record_type_infos: Vec<RecordTypeInfo>,
}

impl SObjectDescribe {
    /// Field names are case-insensitive in Salesforce.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// Fields that must be given on create: not nillable, not defaulted, createable.
    pub fn required_on_create(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| {
            f.createable && !f.nillable && !f.defaulted_on_create && f.kind != "boolean"
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    pub name: String,
    #[serde(default)]
    pub label: String,
    /// `id`, `string`, `picklist`, `reference`, `boolean`, `double`, `date`, `datetime`, ...
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub length: i64,
    #[serde(default)]
    pub nillable: bool,
    #[serde(default)]
    pub createable: bool,
    #[serde(default)]
    pub updateable: bool,
    #[serde(default)]
    pub defaulted_on_create: bool,
    #[serde(default)]
    pub external_id: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub id_lookup: bool,
    #[serde(default)]
    pub calculated: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub reference_to: Vec<String>,
    #[serde(default)]
    pub relationship_name: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub picklist_values: Vec<PicklistValue>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PicklistValue {
    pub value: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub default_value: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildRelationship {
    #[serde(rename = "childSObject")]
    pub child_sobject: String,
    pub field: String,
    #[serde(default)]
    pub relationship_name: Option<String>,
    #[serde(default)]
    pub cascade_delete: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordTypeInfo {
    pub record_type_id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub developer_name: Option<String>,
    #[serde(default)]
    pub available: bool,
    #[serde(default)]
    pub default_record_type_mapping: bool,
    #[serde(default)]
    pub master: bool,
}

fn null_as_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `{"id","success","errors"}` as returned by create (and, with `created`, by upsert).
#[derive(Debug, Clone, Deserialize)]
pub struct SaveResult {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub success: bool,
    #[serde(default)]
    pub errors: Vec<ApiError>,
    #[serde(default)]
    pub created: Option<bool>,
}

/// What an upsert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpsertResult {
    /// Absent only for old API versions that answer an update with 204 and no body.
    pub id: Option<String>,
    pub created: bool,
}

impl Connection {
    /// `GET /services/data/`: the API versions the org serves.
    pub async fn versions(&self) -> Result<Vec<ApiVersion>> {
        self.send_json(&Req::new(
            CallKind::Metadata,
            Method::GET,
            "/services/data/",
        ))
        .await
    }

    /// `GET /limits`: `DailyApiRequests` and friends.
    pub async fn limits(&self) -> Result<BTreeMap<String, Limit>> {
        let raw: BTreeMap<String, serde_json::Value> = self
            .send_json(&Req::new(
                CallKind::Metadata,
                Method::GET,
                self.data_path("/limits"),
            ))
            .await?;
        // Keep only entries of the {Max, Remaining} shape; Salesforce adds others over time.
        Ok(raw
            .into_iter()
            .filter_map(|(k, v)| serde_json::from_value(v).ok().map(|l| (k, l)))
            .collect())
    }

    /// `GET /sobjects` (describeGlobal), answered from this connection's cache after the
    /// first call, as [`Connection::describe`] is.
    pub async fn describe_global(&self) -> Result<Arc<DescribeGlobal>> {
        let cached = self
            .global_cache()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(g) = cached {
            return Ok(g);
        }
        let g: Arc<DescribeGlobal> = Arc::new(
            self.send_json(&Req::new(
                CallKind::Metadata,
                Method::GET,
                self.data_path("/sobjects"),
            ))
            .await?,
        );
        *self
            .global_cache()
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(g.clone());
        Ok(g)
    }

    /// `GET /sobjects/{Obj}/describe`, answered from this connection's cache after the first
    /// call: metadata changes rarely and describes are large.
    pub async fn describe(&self, object: &str) -> Result<Arc<SObjectDescribe>> {
        let key = object.to_ascii_lowercase();
        if let Some(d) = self.cached_describe(&key) {
            return Ok(d);
        }
        let d: SObjectDescribe = self
            .send_json(&Req::new(
                CallKind::Metadata,
                Method::GET,
                self.data_path(&format!("/sobjects/{}/describe", segment(object))),
            ))
            .await?;
        let d = Arc::new(d);
        self.describe_cache()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, d.clone());
        Ok(d)
    }

    fn cached_describe(&self, key: &str) -> Option<Arc<SObjectDescribe>> {
        self.describe_cache()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    /// Forgets cached describes (after the org's metadata changed).
    pub fn clear_describe_cache(&self) {
        self.describe_cache()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        *self
            .global_cache()
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// `POST /sobjects/{Obj}`: creates one record and returns its id.
    pub async fn create(&self, object: &str, fields: &impl Serialize) -> Result<String> {
        let req = Req::new(
            CallKind::Record,
            Method::POST,
            self.data_path(&format!("/sobjects/{}", segment(object))),
        )
        .json(fields)?;
        let r: SaveResult = self.send_json(&req).await?;
        save_result_id(r)
    }

    /// `GET /sobjects/{Obj}/{id}[?fields=...]`.
    pub async fn retrieve<T: DeserializeOwned>(
        &self,
        object: &str,
        id: &str,
        fields: Option<&[&str]>,
    ) -> Result<T> {
        let mut req = Req::new(
            CallKind::Record,
            Method::GET,
            self.data_path(&format!("/sobjects/{}/{}", segment(object), segment(id))),
        );
        if let Some(fields) = fields {
            req = req.query("fields", fields.join(","));
        }
        self.send_json(&req).await
    }

    /// `PATCH /sobjects/{Obj}/{id}` (204).
    pub async fn update(&self, object: &str, id: &str, fields: &impl Serialize) -> Result<()> {
        let req = Req::new(
            CallKind::Record,
            Method::PATCH,
            self.data_path(&format!("/sobjects/{}/{}", segment(object), segment(id))),
        )
        .json(fields)?;
        self.send(&req).await.map(drop)
    }

    /// `DELETE /sobjects/{Obj}/{id}` (204).
    pub async fn delete(&self, object: &str, id: &str) -> Result<()> {
        let req = Req::new(
            CallKind::Record,
            Method::DELETE,
            self.data_path(&format!("/sobjects/{}/{}", segment(object), segment(id))),
        );
        self.send(&req).await.map(drop)
    }

    /// `PATCH /sobjects/{Obj}/{ExtIdField}/{value}`: inserts or updates by external id. Several
    /// matching records give [`Error::MultipleMatches`].
    pub async fn upsert(
        &self,
        object: &str,
        external_id_field: &str,
        external_id: &str,
        fields: &impl Serialize,
    ) -> Result<UpsertResult> {
        self.upsert_inner(object, external_id_field, external_id, fields, false)
            .await
    }

    /// Like [`Connection::upsert`] with `?updateOnly=true`: never inserts.
    pub async fn upsert_update_only(
        &self,
        object: &str,
        external_id_field: &str,
        external_id: &str,
        fields: &impl Serialize,
    ) -> Result<UpsertResult> {
        self.upsert_inner(object, external_id_field, external_id, fields, true)
            .await
    }

    async fn upsert_inner(
        &self,
        object: &str,
        external_id_field: &str,
        external_id: &str,
        fields: &impl Serialize,
        update_only: bool,
    ) -> Result<UpsertResult> {
        let mut req = Req::new(
            CallKind::Record,
            Method::PATCH,
            self.data_path(&format!(
                "/sobjects/{}/{}/{}",
                segment(object),
                segment(external_id_field),
                segment(external_id)
            )),
        )
        .json(fields)?;
        if update_only {
            req = req.query("updateOnly", "true");
        }
        let resp = self.send(&req).await?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await?;
        if body.is_empty() {
            // 204: an update on an old API version.
            return Ok(UpsertResult {
                id: None,
                created: status == 201,
            });
        }
        let r: SaveResult = serde_json::from_slice(&body)
            .map_err(|e| Error::Protocol(format!("upsert answer: {e}")))?;
        let created = r.created.unwrap_or(status == 201);
        let id = save_result_id(r)?;
        Ok(UpsertResult {
            id: Some(id),
            created,
        })
    }
}

fn save_result_id(r: SaveResult) -> Result<String> {
    if !r.success {
        let first = r.errors.first().cloned().unwrap_or(ApiError {
            code: "UNKNOWN".into(),
            message: "save failed without an error".into(),
            fields: Vec::new(),
        });
        return Err(Error::Permanent {
            status: 400,
            code: first.code,
            message: first.message,
            fields: first.fields,
            errors: r.errors,
        });
    }
    r.id.ok_or_else(|| Error::Protocol("save result without an id".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_parses_salesforce_shape() {
        let d: SObjectDescribe = serde_json::from_str(
            r#"{"name":"Contact","label":"Contact","keyPrefix":"003","custom":false,"createable":true,
            "fields":[{"name":"Id","type":"id","length":18,"nillable":false,"createable":false,"updateable":false,
              "defaultedOnCreate":true,"referenceTo":[],"relationshipName":null,"picklistValues":[]},
              {"name":"LastName","type":"string","length":80,"nillable":false,"createable":true,"updateable":true,
              "defaultedOnCreate":false,"referenceTo":[],"picklistValues":[]},
              {"name":"AccountId","type":"reference","nillable":true,"createable":true,"referenceTo":["Account"],
              "relationshipName":"Account","picklistValues":null},
              {"name":"LeadSource","type":"picklist","nillable":true,"picklistValues":[{"value":"Web","label":"Web","active":true,"defaultValue":false}]}],
            "childRelationships":[{"childSObject":"Case","field":"ContactId","relationshipName":"Cases","cascadeDelete":false}],
            "recordTypeInfos":[{"recordTypeId":"012000000000000AAA","name":"Master","developerName":"Master","available":true,"defaultRecordTypeMapping":true,"master":true}],
            "extra":"ignored"}"#,
        )
        .unwrap();
        assert_eq!(d.field("accountid").unwrap().reference_to, vec!["Account"]);
        assert_eq!(
            d.field("LeadSource").unwrap().picklist_values[0].value,
            "Web"
        );
        let required: Vec<_> = d.required_on_create().map(|f| f.name.as_str()).collect();
        assert_eq!(required, vec!["LastName"]);
        assert_eq!(d.child_relationships[0].child_sobject, "Case");
        assert!(d.record_type_infos[0].master);
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
        assert_eq!(segment("Ext_Id__c"), "Ext_Id__c");
    }

    #[test]
    fn failed_save_result_is_permanent() {
        let r: SaveResult = serde_json::from_str(
            r#"{"id":null,"success":false,"errors":[{"statusCode":"STRING_TOO_LONG","message":"too long","fields":["Name"]}]}"#,
        )
        .unwrap();
        let e = save_result_id(r).unwrap_err();
        assert_eq!(e.code(), Some("STRING_TOO_LONG"));
    }
}
