//! The REST API under `/services/data/vXX.X/`: resources, limits, describe, records, upsert by
//! external id, sObject Collections and `/composite`. Requests are routed here from the gate in
//! `server`, which has already authenticated and counted them.

use crate::describe;
use crate::error::{ApiError, RestError};
use crate::ids::Id;
use crate::metadata::FieldAccess;
use crate::org::{OrgState, Session};
use crate::store::{Record, Store, Upserted};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// A parsed API request: the path after the version, decoded.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: Method,
    pub segs: Vec<String>,
    pub query: HashMap<String, String>,
    pub body: bytes::Bytes,
    pub headers: HeaderMap,
    /// `59.0`
    pub version: String,
}

/// What a handler answers.
pub enum Reply {
    Json(u16, Value),
    /// JSON already written as text (query pages are rendered straight to bytes).
    Text(u16, String),
    Empty(u16),
    Raw(Response),
}

impl From<RestError> for Reply {
    fn from(e: RestError) -> Reply {
        let status = e.status();
        Reply::Json(
            status,
            Value::Array(e.0.iter().map(ApiError::rest_json).collect()),
        )
    }
}

impl From<ApiError> for Reply {
    fn from(e: ApiError) -> Reply {
        Reply::from(RestError::from(e))
    }
}

/// Store access for one request: reads share the lock, writes (and composite) hold it alone.
pub enum Guard<'a> {
    R(&'a Store),
    W(&'a mut Store),
}

impl Guard<'_> {
    pub fn r(&self) -> &Store {
        match self {
            Guard::R(s) => s,
            Guard::W(s) => s,
        }
    }
    fn w(&mut self) -> Result<&mut Store, ApiError> {
        match self {
            Guard::W(s) => Ok(s),
            Guard::R(_) => Err(ApiError::new(
                405,
                "METHOD_NOT_ALLOWED",
                "HTTP Method not allowed",
            )),
        }
    }
}

/// The name each endpoint is counted under (see `RunningOrg::calls`).
pub fn endpoint_name(method: &Method, segs: &[String]) -> &'static str {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = method.as_str();
    match (m, s.as_slice()) {
        ("GET", []) => "resources",
        ("GET", ["limits"]) => "limits",
        ("GET", ["sobjects"]) => "describeGlobal",
        ("GET", ["sobjects", _]) => "sobject.info",
        ("POST", ["sobjects", _]) => "sobject.create",
        ("GET", ["sobjects", _, "describe"]) => "sobject.describe",
        ("GET", ["sobjects", _, _]) => "sobject.retrieve",
        ("PATCH", ["sobjects", _, _]) => "sobject.update",
        ("DELETE", ["sobjects", _, _]) => "sobject.delete",
        ("GET", ["sobjects", _, _, _]) => "sobject.retrieveByExternalId",
        ("PATCH", ["sobjects", _, _, _]) => "sobject.upsert",
        ("DELETE", ["sobjects", _, _, _]) => "sobject.deleteByExternalId",
        ("GET", ["query"]) => "query",
        ("GET", ["queryAll"]) => "queryAll",
        ("GET", ["query" | "queryAll", _]) => "queryMore",
        ("POST", ["composite", "sobjects"]) => "collections.create",
        ("PATCH", ["composite", "sobjects"]) => "collections.update",
        ("DELETE", ["composite", "sobjects"]) => "collections.delete",
        ("GET" | "POST", ["composite", "sobjects", _]) => "collections.retrieve",
        ("PATCH", ["composite", "sobjects", _, _]) => "collections.upsert",
        ("POST", ["composite"]) => "composite",
        ("POST", ["jobs", "query"]) => "bulk.createQueryJob",
        ("GET", ["jobs", "query"]) => "bulk.listQueryJobs",
        ("GET", ["jobs", "query", _]) => "bulk.getQueryJob",
        ("PATCH", ["jobs", "query", _]) => "bulk.abortQueryJob",
        ("DELETE", ["jobs", "query", _]) => "bulk.deleteQueryJob",
        ("GET", ["jobs", "query", _, "results"]) => "bulk.getQueryResults",
        _ => "unknown",
    }
}

/// Parses a JSON body the way Salesforce reports bad JSON: 400 JSON_PARSER_ERROR with a position.
pub fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::json_parser(
            "No content to map due to end-of-input at [line:1, column:0]",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        let near = body
            .iter()
            .copied()
            .find(|b| !b.is_ascii_whitespace())
            .map(|b| b as char)
            .unwrap_or(' ');
        ApiError::json_parser(format!(
            "Unexpected character ('{near}' (code {})): {} at [line:{}, column:{}]",
            near as u32,
            e.to_string()
                .split(" at line")
                .next()
                .unwrap_or("invalid JSON"),
            e.line(),
            e.column()
        ))
    })
}

fn parse_object_body(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match parse_body(body)? {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::json_parser(
            "Cannot deserialize instance of SObject from START_ARRAY value [ or request may be missing a required field at [line:1, column:1]",
        )),
    }
}

pub fn record_url(v: &str, object: &str, id: Id) -> String {
    format!("/services/data/v{v}/sobjects/{object}/{}", id.to18())
}

/// A record as REST returns it: `attributes` first, then fields in describe order.
pub fn render_record(
    store: &Store,
    oi: usize,
    rec: &Record,
    fields: Option<&[usize]>,
    s: &Session,
    v: &str,
) -> Value {
    let o = &store.meta.objects[oi];
    let mut m = Map::new();
    m.insert(
        "attributes".into(),
        json!({"type": o.name, "url": record_url(v, &o.name, rec.id)}),
    );
    let all: Vec<usize>;
    let list = match fields {
        Some(f) => f,
        None => {
            all = (0..o.fields.len()).collect();
            &all
        }
    };
    for &fi in list {
        let f = &o.fields[fi];
        if s.ctx_profile
            .as_ref()
            .and_then(|p| p.access(&o.name, &f.name))
            == Some(FieldAccess::Hidden)
        {
            continue;
        }
        m.insert(f.name.clone(), rec.get(fi).to_json(f.is_integer()));
    }
    Value::Object(m)
}

fn object_index(store: &Store, name: &str) -> Result<usize, ApiError> {
    store
        .meta
        .object_index(name)
        .ok_or_else(ApiError::not_found)
}

fn version_number(v: &str) -> f64 {
    v.parse().unwrap_or(62.0)
}

/// Runs one API request against the store.
pub fn execute(state: &Arc<OrgState>, s: &Session, req: &Req, g: &mut Guard<'_>) -> Reply {
    match execute_inner(state, s, req, g) {
        Ok(r) => r,
        Err(e) => e.into(),
    }
}

fn execute_inner(
    state: &Arc<OrgState>,
    s: &Session,
    req: &Req,
    g: &mut Guard<'_>,
) -> Result<Reply, RestError> {
    let v = req.version.as_str();
    let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    let method = req.method.as_str();
    match (method, segs.as_slice()) {
        ("GET", []) => Ok(Reply::Json(200, resources(state, s, v))),
        ("GET", ["limits"]) => Ok(Reply::Json(200, limits(state))),
        ("GET", ["sobjects"]) => Ok(Reply::Json(200, describe::describe_global(&g.r().meta, v))),
        ("GET", ["sobjects", obj]) => {
            let store = g.r();
            let oi = object_index(store, obj)?;
            let o = &store.meta.objects[oi];
            let recent: Vec<Value> = store.tables[oi]
                .records
                .values()
                .rev()
                .filter(|r| !r.deleted)
                .take(10)
                .map(|r| json!({"attributes": {"type": o.name, "url": record_url(v, &o.name, r.id)}, "Id": r.id.to18()}))
                .collect();
            Ok(Reply::Json(
                200,
                json!({"objectDescribe": describe::object_summary(o, v), "recentItems": recent}),
            ))
        }
        ("GET", ["sobjects", obj, "describe"]) => {
            let store = g.r();
            let oi = object_index(store, obj)?;
            Ok(Reply::Json(
                200,
                describe::describe(
                    &store.meta,
                    &store.meta.objects[oi],
                    s.ctx_profile.as_ref(),
                    v,
                ),
            ))
        }
        ("POST", ["sobjects", obj]) => {
            let body = parse_object_body(&req.body)?;
            let ctx = state.ctx(s);
            let store = g.w()?;
            let oi = object_index(store, obj)?;
            let id = store.insert(oi, &body, &ctx)?;
            Ok(Reply::Json(
                201,
                json!({"id": id.to18(), "success": true, "errors": []}),
            ))
        }
        ("GET", ["sobjects", obj, id]) => {
            let store = g.r();
            let oi = object_index(store, obj)?;
            let rec = find_record(store, oi, id)?;
            let fields = field_list(store, oi, req.query.get("fields"), s)?;
            Ok(Reply::Json(
                200,
                render_record(store, oi, rec, fields.as_deref(), s, v),
            ))
        }
        ("PATCH", ["sobjects", obj, id]) => {
            let body = parse_object_body(&req.body)?;
            let ctx = state.ctx(s);
            let store = g.w()?;
            let oi = object_index(store, obj)?;
            let rid = find_record(store, oi, id)?.id;
            store.update(oi, rid, &body, &ctx)?;
            Ok(Reply::Empty(204))
        }
        ("DELETE", ["sobjects", obj, id]) => {
            let ctx = state.ctx(s);
            let store = g.w()?;
            let oi = object_index(store, obj)?;
            let rid = find_record(store, oi, id)?.id;
            store.delete(rid, &ctx)?;
            Ok(Reply::Empty(204))
        }
        (_, ["sobjects", obj, field, value]) => by_external_id(state, s, req, g, obj, field, value),
        ("GET", ["query" | "queryAll"]) => {
            let q = req.query.get("q").cloned().unwrap_or_default();
            let all = segs[0] == "queryAll";
            let batch = batch_size(&req.headers);
            let out = crate::query::run(state, g.r(), s, &q, all, batch, v)?;
            Ok(Reply::Text(200, out))
        }
        ("GET", ["query" | "queryAll", locator]) => {
            let out = crate::query::more(state, g.r(), s, locator, v)?;
            Ok(Reply::Text(200, out))
        }
        ("POST", ["composite", "sobjects"]) => {
            collections_write(state, s, req, g, CollectionOp::Create)
        }
        ("PATCH", ["composite", "sobjects"]) => {
            collections_write(state, s, req, g, CollectionOp::Update)
        }
        ("DELETE", ["composite", "sobjects"]) => collections_delete(state, s, req, g),
        ("GET" | "POST", ["composite", "sobjects", obj]) => collections_retrieve(s, req, g, obj),
        ("PATCH", ["composite", "sobjects", obj, field]) => collections_write(
            state,
            s,
            req,
            g,
            CollectionOp::Upsert(obj.to_string(), field.to_string()),
        ),
        ("POST", ["composite"]) => composite(state, s, req, g),
        (_, ["jobs", "query", ..]) => crate::bulk::route(state, s, req, g.r()),
        _ => Err(ApiError::not_found().into()),
    }
}

fn batch_size(h: &HeaderMap) -> usize {
    h.get("sforce-query-options")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| {
            s.split(',')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("batchSize"))
                .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        })
        .map(|n| n.clamp(200, 2000))
        .unwrap_or(2000)
}

fn find_record<'a>(store: &'a Store, oi: usize, id: &str) -> Result<&'a Record, ApiError> {
    let bad = || {
        ApiError::new(
            404,
            "NOT_FOUND",
            format!("Provided external ID field does not exist or is not accessible: {id}"),
        )
    };
    let rid = Id::parse(id).ok_or_else(bad)?;
    if rid.prefix() != store.meta.objects[oi].key_prefix {
        return Err(bad());
    }
    match store.get(oi, rid) {
        Some(r) if !r.deleted => Ok(r),
        _ => Err(ApiError::not_found()),
    }
}

fn field_list(
    store: &Store,
    oi: usize,
    fields: Option<&String>,
    s: &Session,
) -> Result<Option<Vec<usize>>, ApiError> {
    let Some(fields) = fields.filter(|f| !f.trim().is_empty()) else {
        return Ok(None);
    };
    let o = &store.meta.objects[oi];
    let mut out = vec![0];
    for name in fields.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let fi = o.field_index(name).filter(|&fi| {
            s.ctx_profile
                .as_ref()
                .and_then(|p| p.access(&o.name, &o.fields[fi].name))
                != Some(FieldAccess::Hidden)
        });
        match fi {
            Some(fi) if !out.contains(&fi) => out.push(fi),
            Some(_) => {}
            None => {
                return Err(ApiError::bad(
                    "INVALID_FIELD",
                    format!("No such column '{name}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", o.name),
                ))
            }
        }
    }
    Ok(Some(out))
}

/// The external id field for upsert-style calls, or 404 as Salesforce answers.
fn external_field(store: &Store, oi: usize, field: &str, s: &Session) -> Result<usize, ApiError> {
    let o = &store.meta.objects[oi];
    let fi = o.field_index(field).filter(|&fi| {
        let f = &o.fields[fi];
        let hidden = s
            .ctx_profile
            .as_ref()
            .and_then(|p| p.access(&o.name, &f.name))
            == Some(FieldAccess::Hidden);
        !hidden && (f.external_id || f.name == "Id")
    });
    fi.ok_or_else(|| {
        ApiError::new(
            404,
            "NOT_FOUND",
            format!("Provided external ID field does not exist or is not accessible: {field}"),
        )
    })
}

fn by_external_id(
    state: &Arc<OrgState>,
    s: &Session,
    req: &Req,
    g: &mut Guard<'_>,
    obj: &str,
    field: &str,
    value: &str,
) -> Result<Reply, RestError> {
    let v = req.version.as_str();
    match req.method.as_str() {
        "GET" => {
            let store = g.r();
            let oi = object_index(store, obj)?;
            let fi = external_field(store, oi, field, s)?;
            let ids = matches_for(store, oi, fi, value);
            match ids.as_slice() {
                [] => Err(ApiError::not_found().into()),
                [one] => {
                    let fields = field_list(store, oi, req.query.get("fields"), s)?;
                    let rec = store.get(oi, *one).ok_or_else(ApiError::not_found)?;
                    Ok(Reply::Json(
                        200,
                        render_record(store, oi, rec, fields.as_deref(), s, v),
                    ))
                }
                many => Ok(Reply::Json(
                    300,
                    multiple(v, &store.meta.objects[oi].name, many),
                )),
            }
        }
        "PATCH" => {
            let body = parse_object_body(&req.body)?;
            let ctx = state.ctx(s);
            let update_only = req.query.get("updateOnly").is_some_and(|u| u == "true");
            let store = g.w()?;
            let oi = object_index(store, obj)?;
            let fi = external_field(store, oi, field, s)?;
            let name = store.meta.objects[oi].name.clone();
            match store.upsert(oi, fi, value, &body, &ctx, update_only)? {
                Upserted::Created(id) => Ok(Reply::Json(
                    201,
                    json!({"id": id.to18(), "success": true, "errors": [], "created": true}),
                )),
                Upserted::Updated(id) => {
                    if version_number(v) < 46.0 {
                        Ok(Reply::Empty(204))
                    } else {
                        Ok(Reply::Json(
                            200,
                            json!({"id": id.to18(), "success": true, "errors": [], "created": false}),
                        ))
                    }
                }
                Upserted::Multiple(ids) => Ok(Reply::Json(300, multiple(v, &name, &ids))),
            }
        }
        "DELETE" => {
            let ctx = state.ctx(s);
            let store = g.w()?;
            let oi = object_index(store, obj)?;
            let fi = external_field(store, oi, field, s)?;
            let ids = matches_for(store, oi, fi, value);
            match ids.as_slice() {
                [] => Err(ApiError::not_found().into()),
                [one] => {
                    store.delete(*one, &ctx)?;
                    Ok(Reply::Empty(204))
                }
                many => Ok(Reply::Json(
                    300,
                    multiple(v, &store.meta.objects[oi].name, many),
                )),
            }
        }
        _ => Err(ApiError::new(
            405,
            "METHOD_NOT_ALLOWED",
            format!(
                "HTTP Method '{}' not allowed. Allowed are GET,PATCH,DELETE",
                req.method
            ),
        )
        .into()),
    }
}

fn matches_for(store: &Store, oi: usize, fi: usize, value: &str) -> Vec<Id> {
    if store.meta.objects[oi].fields[fi].name == "Id" {
        return Id::parse(value)
            .filter(|id| store.get(oi, *id).is_some_and(|r| !r.deleted))
            .into_iter()
            .collect();
    }
    store.find_by(oi, fi, value)
}

fn multiple(v: &str, object: &str, ids: &[Id]) -> Value {
    Value::Array(
        ids.iter()
            .map(|id| Value::String(record_url(v, object, *id)))
            .collect(),
    )
}

// ---------- sObject Collections ----------

enum CollectionOp {
    Create,
    Update,
    Upsert(String, String),
}

fn rolled_back() -> Value {
    json!({"success": false, "errors": [{
        "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
        "fields": [],
    }]})
}

fn failed(id: Option<Id>, errors: &[ApiError]) -> Value {
    let errs: Vec<Value> = errors.iter().map(ApiError::result_json).collect();
    match id {
        Some(id) => json!({"id": id.to18(), "success": false, "errors": errs}),
        None => json!({"success": false, "errors": errs}),
    }
}

fn collections_write(
    state: &Arc<OrgState>,
    s: &Session,
    req: &Req,
    g: &mut Guard<'_>,
    op: CollectionOp,
) -> Result<Reply, RestError> {
    let body = parse_object_body(&req.body)?;
    let all_or_none = body
        .get("allOrNone")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let records = match body.get("records") {
        Some(Value::Array(r)) => r.clone(),
        _ => return Err(ApiError::json_parser("Cannot deserialize instance of SObject[] or request may be missing a required field: records").into()),
    };
    if records.len() > 200 {
        return Err(ApiError::bad(
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        )
        .into());
    }
    let ctx = state.ctx(s);
    let store = g.w()?;
    let changes_before = store.changes.len();
    if all_or_none {
        store.begin();
    }
    let mut results: Vec<Value> = Vec::with_capacity(records.len());
    let mut any_failed = false;
    for r in &records {
        let Value::Object(fields) = r else {
            results.push(failed(
                None,
                &[ApiError::bad(
                    "INVALID_TYPE",
                    "Must send a concrete entity type.",
                )],
            ));
            any_failed = true;
            continue;
        };
        let ty = fields
            .get("attributes")
            .and_then(|a| a.get("type"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let outcome = match &op {
            CollectionOp::Create => {
                let Some(oi) = ty.as_deref().and_then(|t| store.meta.object_index(t)) else {
                    results.push(failed(
                        None,
                        &[ApiError::bad(
                            "INVALID_TYPE",
                            "Must send a concrete entity type.",
                        )],
                    ));
                    any_failed = true;
                    continue;
                };
                if fields.contains_key("Id") || fields.contains_key("id") {
                    Err((
                        None,
                        vec![ApiError::bad(
                            "INVALID_FIELD",
                            "Cannot specify Id in an insert call",
                        )],
                    ))
                } else {
                    store
                        .insert(oi, fields, &ctx)
                        .map(|id| json!({"id": id.to18(), "success": true, "errors": []}))
                        .map_err(|e| (None, e))
                }
            }
            CollectionOp::Update => {
                let id = fields
                    .get("Id")
                    .or_else(|| fields.get("id"))
                    .and_then(Value::as_str)
                    .and_then(Id::parse);
                match id {
                    None => Err((
                        None,
                        vec![ApiError::bad(
                            "MISSING_ARGUMENT",
                            "Id not specified in an update call",
                        )],
                    )),
                    Some(id) => match store.object_of(id) {
                        Some(oi)
                            if ty.as_deref().is_none_or(|t| {
                                t.eq_ignore_ascii_case(&store.meta.objects[oi].name)
                            }) =>
                        {
                            let mut f = fields.clone();
                            f.remove("id");
                            store
                                .update(oi, id, &f, &ctx)
                                .map(|_| json!({"id": id.to18(), "success": true, "errors": []}))
                                .map_err(|e| (Some(id), e))
                        }
                        _ => Err((
                            Some(id),
                            vec![ApiError::bad(
                                "MALFORMED_ID",
                                format!("bad id {}", id.to18()),
                            )],
                        )),
                    },
                }
            }
            CollectionOp::Upsert(obj, field) => {
                let oi = object_index(store, obj)?;
                let fi = external_field(store, oi, field, s)?;
                let fname = store.meta.objects[oi].fields[fi].name.clone();
                let value = fields
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&fname))
                    .map(|(_, v)| match v {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    })
                    .unwrap_or_default();
                if value.is_empty() && fname != "Id" {
                    Err((
                        None,
                        vec![
                            ApiError::bad("MISSING_ARGUMENT", format!("{fname} not specified"))
                                .with_fields(vec![fname.clone()]),
                        ],
                    ))
                } else {
                    match store.upsert(oi, fi, &value, fields, &ctx, false) {
                        Ok(Upserted::Created(id)) => Ok(
                            json!({"id": id.to18(), "success": true, "errors": [], "created": true}),
                        ),
                        Ok(Upserted::Updated(id)) => Ok(
                            json!({"id": id.to18(), "success": true, "errors": [], "created": false}),
                        ),
                        Ok(Upserted::Multiple(ids)) => Err((
                            None,
                            vec![ApiError::new(
                                300,
                                "DUPLICATE_EXTERNAL_ID",
                                format!(
                                    "{fname}: more than one record found for external id field: {}",
                                    ids.iter().map(|i| i.to18()).collect::<Vec<_>>().join(", ")
                                ),
                            )
                            .with_fields(vec![fname.clone()])],
                        )),
                        Err(e) => Err((None, e)),
                    }
                }
            }
        };
        match outcome {
            Ok(v) => results.push(v),
            Err((id, errs)) => {
                any_failed = true;
                results.push(failed(id, &errs));
            }
        }
    }
    if all_or_none && any_failed {
        store.rollback(changes_before);
        for r in results.iter_mut() {
            if r["success"] == json!(true) {
                *r = rolled_back();
            }
        }
    } else if all_or_none {
        store.commit();
    }
    Ok(Reply::Json(200, Value::Array(results)))
}

fn collections_delete(
    state: &Arc<OrgState>,
    s: &Session,
    req: &Req,
    g: &mut Guard<'_>,
) -> Result<Reply, RestError> {
    let ids: Vec<String> = req
        .query
        .get("ids")
        .map(|i| {
            i.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if ids.len() > 200 {
        return Err(ApiError::bad(
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        )
        .into());
    }
    let all_or_none = req.query.get("allOrNone").is_some_and(|v| v == "true");
    let ctx = state.ctx(s);
    let store = g.w()?;
    let before = store.changes.len();
    if all_or_none {
        store.begin();
    }
    let mut results = Vec::new();
    let mut any_failed = false;
    for raw in &ids {
        match Id::parse(raw) {
            None => {
                any_failed = true;
                results.push(failed(
                    None,
                    &[ApiError::bad("MALFORMED_ID", format!("malformed id {raw}"))],
                ));
            }
            Some(id) => match store.delete(id, &ctx) {
                Ok(()) => results.push(json!({"id": id.to18(), "success": true, "errors": []})),
                Err(e) => {
                    any_failed = true;
                    let e = if e.code == "NOT_FOUND" {
                        ApiError::bad("ENTITY_IS_DELETED", "entity is deleted")
                    } else {
                        e
                    };
                    results.push(failed(Some(id), &[e]));
                }
            },
        }
    }
    if all_or_none && any_failed {
        store.rollback(before);
        for r in results.iter_mut() {
            if r["success"] == json!(true) {
                *r = rolled_back();
            }
        }
    } else if all_or_none {
        store.commit();
    }
    Ok(Reply::Json(200, Value::Array(results)))
}

fn collections_retrieve(
    s: &Session,
    req: &Req,
    g: &mut Guard<'_>,
    obj: &str,
) -> Result<Reply, RestError> {
    let (ids, fields) = if req.method == Method::POST {
        let b = parse_object_body(&req.body)?;
        let ids: Vec<String> = b
            .get("ids")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let fields: Vec<String> = b
            .get("fields")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        (ids, fields.join(","))
    } else {
        let ids = req
            .query
            .get("ids")
            .map(|i| i.split(',').map(str::to_string).collect())
            .unwrap_or_default();
        (ids, req.query.get("fields").cloned().unwrap_or_default())
    };
    let store = g.r();
    let oi = object_index(store, obj)?;
    if fields.trim().is_empty() {
        return Err(ApiError::bad("MISSING_ARGUMENT", "fields is required").into());
    }
    let list = field_list(store, oi, Some(&fields), s)?;
    let out: Vec<Value> = ids
        .iter()
        .map(|raw| match find_record(store, oi, raw.trim()) {
            Ok(rec) => render_record(store, oi, rec, list.as_deref(), s, &req.version),
            Err(_) => Value::Null,
        })
        .collect();
    Ok(Reply::Json(200, Value::Array(out)))
}

// ---------- /composite ----------

/// Replaces `@{ref.path}` with values from earlier subrequest results.
fn substitute(text: &str, refs: &HashMap<String, Value>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("@{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(text.to_string());
        };
        let expr = &after[..end];
        let mut parts = expr.split('.');
        let name = parts.next().unwrap_or("");
        let mut cur = refs.get(name).ok_or_else(|| expr.to_string())?.clone();
        for p in parts {
            let (key, idx) = match p.split_once('[') {
                Some((k, i)) => (k, i.trim_end_matches(']').parse::<usize>().ok()),
                None => (p, None),
            };
            cur = cur.get(key).cloned().ok_or_else(|| expr.to_string())?;
            if let Some(i) = idx {
                cur = cur.get(i).cloned().ok_or_else(|| expr.to_string())?;
            }
        }
        match cur {
            Value::String(s) => out.push_str(&s),
            Value::Null => return Err(expr.to_string()),
            other => out.push_str(&other.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn halted(msg: &str) -> Value {
    json!([{"errorCode": "PROCESSING_HALTED", "message": msg}])
}

fn composite(
    state: &Arc<OrgState>,
    s: &Session,
    req: &Req,
    g: &mut Guard<'_>,
) -> Result<Reply, RestError> {
    let body = parse_object_body(&req.body)?;
    let all_or_none = body
        .get("allOrNone")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let subs = match body.get("compositeRequest") {
        Some(Value::Array(a)) => a.clone(),
        _ => return Err(ApiError::json_parser("Cannot deserialize instance of CompositeRequest or request may be missing a required field: compositeRequest").into()),
    };
    if subs.len() > 25 {
        return Err(ApiError::bad(
            "LIMIT_EXCEEDED",
            "Limit Exceeded: Maximum number of subrequests allowed is 25",
        )
        .into());
    }
    let store = g.w()?;
    let before = store.changes.len();
    store.begin();
    let mut refs: HashMap<String, Value> = HashMap::new();
    let mut out: Vec<Value> = Vec::new();
    let mut failed_at: Option<usize> = None;
    for (i, sub) in subs.iter().enumerate() {
        let ref_id = sub
            .get("referenceId")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if failed_at.is_some() && all_or_none {
            out.push(json!({"body": halted("The transaction was rolled back since another operation in the same transaction failed."), "httpHeaders": {}, "httpStatusCode": 400, "referenceId": ref_id}));
            continue;
        }
        let method = sub
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("GET")
            .to_ascii_uppercase();
        let url_text = sub.get("url").and_then(Value::as_str).unwrap_or("");
        let resolved = substitute(url_text, &refs).and_then(|u| {
            let b = match sub.get("body") {
                Some(b) => substitute(&b.to_string(), &refs)?,
                None => String::new(),
            };
            Ok((u, b))
        });
        let (url_text, body_text) = match resolved {
            Ok(x) => x,
            Err(expr) => {
                failed_at.get_or_insert(i);
                out.push(json!({"body": halted(&format!("Invalid reference specified. No value for {expr} found in {ref_id}. Provided referenceId ({ref_id}) must be a valid referenceId of a previous subrequest.")), "httpHeaders": {}, "httpStatusCode": 400, "referenceId": ref_id}));
                continue;
            }
        };
        let reply = match sub_request(&method, &url_text, body_text, req) {
            Some(sub_req)
                if !sub_req
                    .segs
                    .first()
                    .is_some_and(|s| s == "composite" || s == "jobs") =>
            {
                let mut inner = Guard::W(&mut *store);
                execute(state, s, &sub_req, &mut inner)
            }
            _ => Reply::from(ApiError::not_found()),
        };
        let (status, body) = match reply {
            Reply::Json(st, b) => (st, b),
            Reply::Text(st, t) => (st, serde_json::from_str(&t).unwrap_or(Value::Null)),
            Reply::Empty(st) => (st, Value::Null),
            Reply::Raw(_) => (400, halted("unsupported subrequest")),
        };
        if status >= 400 {
            failed_at.get_or_insert(i);
        }
        let mut headers = json!({});
        if status == 201 {
            if let Some(id) = body.get("id").and_then(Value::as_str) {
                headers = json!({"Location": format!("{}/{}", url_text.split('?').next().unwrap_or(""), id)});
            }
        }
        refs.insert(ref_id.clone(), body.clone());
        out.push(json!({"body": body, "httpHeaders": headers, "httpStatusCode": status, "referenceId": ref_id}));
    }
    if let (true, Some(f)) = (all_or_none, failed_at) {
        store.rollback(before);
        for (i, r) in out.iter_mut().enumerate() {
            if i < f {
                r["body"] = halted("The transaction was rolled back since another operation in the same transaction failed.");
                r["httpStatusCode"] = json!(400);
                r["httpHeaders"] = json!({});
            }
        }
    } else {
        store.commit();
    }
    Ok(Reply::Json(200, json!({"compositeResponse": out})))
}

fn sub_request(method: &str, url_text: &str, body: String, parent: &Req) -> Option<Req> {
    let u = url::Url::parse("http://sub.invalid")
        .ok()?
        .join(url_text)
        .ok()?;
    let path = u.path().strip_prefix("/services/data/")?;
    let mut segs = path.split('/').filter(|s| !s.is_empty()).map(|s| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    });
    let version = segs.next()?.strip_prefix('v')?.to_string();
    Some(Req {
        method: Method::from_bytes(method.as_bytes()).ok()?,
        segs: segs.collect(),
        query: u.query_pairs().into_owned().collect(),
        body: bytes::Bytes::from(body),
        headers: parent.headers.clone(),
        version,
    })
}

fn resources(state: &OrgState, s: &Session, v: &str) -> Value {
    let b = format!("/services/data/v{v}");
    json!({
        "identity": format!("{}/id/{}/{}", state.login_url(), state.org_id().to18(), s.user.to18()),
        "tooling": format!("{b}/tooling"),
        "composite": format!("{b}/composite"),
        "jobs": format!("{b}/jobs"),
        "query": format!("{b}/query"),
        "queryAll": format!("{b}/queryAll"),
        "sobjects": format!("{b}/sobjects"),
        "limits": format!("{b}/limits"),
        "search": format!("{b}/search"),
        "recent": format!("{b}/recent"),
    })
}

fn limits(state: &OrgState) -> Value {
    let (used, max) = state.limits.usage(state.clock.now_ms());
    let pair = |max: u64, rem: u64| json!({"Max": max, "Remaining": rem});
    json!({
        "DailyApiRequests": pair(max, max.saturating_sub(used)),
        "DailyBulkV2QueryJobs": pair(10000, 10000 - (state.jobs.lock().len() as u64).min(10000)),
        "DailyBulkV2QueryFileStorageMB": pair(976562, 976562),
        "DailyAsyncApexExecutions": pair(250000, 250000),
        "DailyBulkApiBatches": pair(15000, 15000),
        "DailyWorkflowEmails": pair(2000, 2000),
        "DataStorageMB": pair(1024, 1000),
        "FileStorageMB": pair(20480, 20480),
        "SingleEmail": pair(5000, 5000),
        "MassEmail": pair(5000, 5000),
        "HourlyTimeBasedWorkflow": pair(1000, 1000),
    })
}
