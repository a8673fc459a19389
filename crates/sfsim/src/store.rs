//! The org's data: one table of records per object, kept in memory, with unique and
//! external-id indexes, validation as a real org does it, roll-up summaries, an undo log for
//! allOrNone, and JSON snapshots for `--state`.

use crate::error::ApiError;
use crate::ids::Id;
use crate::metadata::{
    field_from_spec, standard_objects, FieldAccess, FieldDef, FieldType, Metadata, MetadataFile,
    ObjectDef, Profile, RecordTypeDef, RollupOp,
};
use crate::val::{self, Val};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

mod rollups;
use rollups::Rollups;

impl Serialize for Id {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as15())
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Id, D::Error> {
        let s = String::deserialize(d)?;
        Id::parse(&s).ok_or_else(|| serde::de::Error::custom("bad id"))
    }
}

/// One record: sparse values keyed by the field's index in its object's definition.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    pub id: Id,
    pub deleted: bool,
    pub values: Vec<(u16, Val)>,
}

static NULL: Val = Val::Null;

impl Record {
    pub fn get(&self, idx: usize) -> &Val {
        match self.values.binary_search_by_key(&(idx as u16), |(i, _)| *i) {
            Ok(p) => &self.values[p].1,
            Err(_) => &NULL,
        }
    }

    pub fn set(&mut self, idx: usize, v: Val) {
        match self.values.binary_search_by_key(&(idx as u16), |(i, _)| *i) {
            Ok(p) => {
                if v.is_null() {
                    self.values.remove(p);
                } else {
                    self.values[p].1 = v;
                }
            }
            Err(p) => {
                if !v.is_null() {
                    self.values.insert(p, (idx as u16, v));
                }
            }
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Table {
    pub records: BTreeMap<Id, Record>,
    pub counter: u64,
    /// field index -> normalised value -> live records holding it (unique and external ids).
    #[serde(skip)]
    pub index: HashMap<u16, HashMap<String, Vec<Id>>>,
}

/// A user who can sign in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserCred {
    pub id: Id,
    pub username: String,
    pub password: String,
    pub profile_id: String,
    pub name: String,
    pub email: String,
}

/// What a write is done as: the clock reading and the user (with their profile for FLS).
#[derive(Clone, Debug)]
pub struct Ctx {
    pub now: i64,
    pub user: Id,
    pub profile: Option<Profile>,
}

/// A committed change, for outbound messages.
#[derive(Clone, Debug)]
pub struct Change {
    pub object: String,
    pub id: Id,
    pub created: bool,
}

enum Undo {
    Put(usize, Id, Option<Record>),
}

#[derive(Debug)]
pub enum Upserted {
    Created(Id),
    Updated(Id),
    Multiple(Vec<Id>),
}

#[derive(Serialize, Deserialize)]
pub struct Store {
    pub meta: Metadata,
    pub tables: Vec<Table>,
    pub org_id: Id,
    pub users: Vec<UserCred>,
    pub security_token: String,
    #[serde(skip)]
    undo: Option<Vec<Undo>>,
    #[serde(skip)]
    pub changes: Vec<Change>,
    /// Roll-up aggregates and children per parent, rebuilt by `reindex` after a load.
    #[serde(skip)]
    rollups: Rollups,
}

fn norm_key(f: &FieldDef, v: &Val) -> String {
    let t = v.to_text(f.is_integer());
    if f.case_sensitive {
        t
    } else {
        t.to_lowercase()
    }
}

fn indexed(f: &FieldDef) -> bool {
    f.unique || f.external_id
}

impl Store {
    /// An org with the standard objects, the built-in profiles and users.
    pub fn new(now: i64, password: &str) -> Store {
        let meta = Metadata::new(standard_objects());
        let tables: Vec<Table> = meta.objects.iter().map(|_| Table::default()).collect();
        let rollups = Rollups::build(&meta, &tables);
        // Every Salesforce org has an id of its own; two local orgs must not look like one
        // (clients tell linked orgs apart by it). A saved state keeps the id it was given.
        let org_id = Id::new("00D", rand::random::<u32>() as u64 + 1);
        let mut s = Store {
            meta,
            tables,
            org_id,
            users: Vec::new(),
            security_token: "SFSIMTOKEN0001".to_string(),
            undo: None,
            changes: Vec::new(),
            rollups,
        };
        s.bootstrap(now, password);
        s
    }

    fn bootstrap(&mut self, now: i64, password: &str) {
        let org = self.org_id;
        let admin_id = self.next_id_for("User").unwrap_or(Id::new("005", 1));
        let sys = Ctx {
            now,
            user: admin_id,
            profile: None,
        };
        let profiles = [
            ("System Administrator", true, "Standard"),
            ("Restricted Integration", true, "Standard"),
            ("Chatter Free User", false, "CsnOnly"),
        ];
        let mut profile_ids = Vec::new();
        for (name, api, utype) in profiles {
            let id = self.raw_insert(
                "Profile",
                &[
                    ("Name", Val::str(name)),
                    ("PermissionsApiEnabled", Val::Bool(api)),
                    ("UserType", Val::str(utype)),
                ],
                &sys,
            );
            let mut fields = HashMap::new();
            if name == "Restricted Integration" {
                // Field-level security a real integration profile typically has.
                fields.insert("contact.mobilephone".to_string(), FieldAccess::Hidden);
                fields.insert("account.annualrevenue".to_string(), FieldAccess::Hidden);
                fields.insert("contact.hasoptedoutofemail".to_string(), FieldAccess::Read);
            }
            self.meta.profiles.push(Profile {
                id: id.to18(),
                name: name.to_string(),
                api_enabled: api,
                fields,
            });
            profile_ids.push(id);
        }
        let users = [
            ("admin@sfsim.example", "Ada", "Admin", "aadmin", 0),
            (
                "integration@sfsim.example",
                "Ivan",
                "Integration",
                "iint",
                1,
            ),
            ("noapi@sfsim.example", "Nora", "Noapi", "nnoap", 2),
        ];
        for (username, first, last, alias, p) in users {
            let id = self.raw_insert(
                "User",
                &[
                    ("Username", Val::str(username)),
                    ("FirstName", Val::str(first)),
                    ("LastName", Val::str(last)),
                    ("Name", Val::str(&format!("{first} {last}"))),
                    ("Alias", Val::str(alias)),
                    ("Email", Val::str(username)),
                    ("IsActive", Val::Bool(true)),
                    ("ProfileId", Val::str(&profile_ids[p].to18())),
                    ("CompanyName", Val::str("Sfsim Demo Co")),
                ],
                &sys,
            );
            self.users.push(UserCred {
                id,
                username: username.to_string(),
                password: password.to_string(),
                profile_id: profile_ids[p].to18(),
                name: format!("{first} {last}"),
                email: username.to_string(),
            });
        }
        let oi = self.meta.object_index("Organization").unwrap_or(0);
        let mut rec = Record {
            id: org,
            deleted: false,
            values: Vec::new(),
        };
        for (f, v) in [
            ("Name", Val::str("Sfsim Demo Co")),
            ("OrganizationType", Val::str("Developer Edition")),
            ("InstanceName", Val::str("SIM1")),
            ("IsSandbox", Val::Bool(false)),
            ("TimeZoneSidKey", Val::str("America/Los_Angeles")),
            ("LanguageLocaleKey", Val::str("en_US")),
            ("DefaultLocaleSidKey", Val::str("en_US")),
        ] {
            if let Some(i) = self.meta.objects[oi].field_index(f) {
                rec.set(i, v);
            }
        }
        self.stamp(oi, &mut rec, &sys, true);
        self.tables[oi].records.insert(org, rec);
    }

    pub fn admin(&self) -> &UserCred {
        &self.users[0]
    }

    pub fn user(&self, id: Id) -> Option<&UserCred> {
        self.users.iter().find(|u| u.id == id)
    }

    /// Changes a user's email, on the sign-in record and on the User row alike.
    pub fn set_user_email(&mut self, username: &str, email: &str) -> bool {
        let Some(u) = self
            .users
            .iter_mut()
            .find(|u| u.username.eq_ignore_ascii_case(username))
        else {
            return false;
        };
        u.email = email.to_string();
        let id = u.id;
        if let Some(oi) = self.meta.object_index("User") {
            let fi = self.meta.objects[oi].field_index("Email");
            if let (Some(fi), Some(rec)) = (fi, self.tables[oi].records.get_mut(&id)) {
                rec.set(fi, Val::str(email));
            }
        }
        true
    }

    /// Rebuilds the derived indexes after loading a snapshot.
    pub fn reindex(&mut self) {
        self.meta.reindex();
        for (oi, t) in self.tables.iter_mut().enumerate() {
            t.index.clear();
            let o = &self.meta.objects[oi];
            for (fi, f) in o.fields.iter().enumerate() {
                if indexed(f) {
                    let mut m: HashMap<String, Vec<Id>> = HashMap::new();
                    for r in t.records.values().filter(|r| !r.deleted) {
                        let v = r.get(fi);
                        if !v.is_null() {
                            m.entry(norm_key(f, v)).or_default().push(r.id);
                        }
                    }
                    t.index.insert(fi as u16, m);
                }
            }
        }
        self.rollups = Rollups::build(&self.meta, &self.tables);
    }

    fn next_id(&mut self, oi: usize) -> Id {
        let t = &mut self.tables[oi];
        t.counter += 1;
        // Start counters past zero so ids look like a lived-in org.
        Id::new(&self.meta.objects[oi].key_prefix, 1_000_000 + t.counter)
    }

    fn next_id_for(&mut self, object: &str) -> Option<Id> {
        let oi = self.meta.object_index(object)?;
        let t = &self.tables[oi];
        Some(Id::new(
            &self.meta.objects[oi].key_prefix,
            1_000_001 + t.counter,
        ))
    }

    fn stamp(&self, oi: usize, rec: &mut Record, ctx: &Ctx, created: bool) {
        let o = &self.meta.objects[oi];
        let user = Val::str(&ctx.user.to18());
        let id18 = rec.id.to18();
        let mut put = |name: &str, v: Val| {
            if let Some(i) = o.field_index(name) {
                rec.set(i, v);
            }
        };
        if created {
            put("Id", Val::str(&id18));
            put("CreatedDate", Val::DateTime(ctx.now));
            put("CreatedById", user.clone());
            put("IsDeleted", Val::Bool(false));
        }
        put("LastModifiedDate", Val::DateTime(ctx.now));
        put("LastModifiedById", user);
        put("SystemModstamp", Val::DateTime(ctx.now));
    }

    /// Inserts without validation; for bootstrap and seeds.
    pub fn raw_insert(&mut self, object: &str, values: &[(&str, Val)], ctx: &Ctx) -> Id {
        let Some(oi) = self.meta.object_index(object) else {
            return Id::new("000", 0);
        };
        let id = self.next_id(oi);
        let mut rec = Record {
            id,
            deleted: false,
            values: Vec::new(),
        };
        for (f, v) in values {
            if let Some(i) = self.meta.objects[oi].field_index(f) {
                rec.set(i, v.clone());
            }
        }
        if self.meta.objects[oi].has_owner()
            && rec
                .get(self.meta.objects[oi].field_index("OwnerId").unwrap_or(0))
                .is_null()
        {
            if let Some(i) = self.meta.objects[oi].field_index("OwnerId") {
                rec.set(i, Val::str(&ctx.user.to18()));
            }
        }
        self.stamp(oi, &mut rec, ctx, true);
        self.put(oi, rec);
        id
    }

    /// Writes a record, keeping indexes and the undo log.
    fn put(&mut self, oi: usize, rec: Record) {
        let id = rec.id;
        let old = self.tables[oi].records.insert(id, rec);
        self.reindex_record(oi, id, old.as_ref());
        self.rollups
            .track(oi, old.as_ref(), self.tables[oi].records.get(&id));
        if let Some(log) = self.undo.as_mut() {
            log.push(Undo::Put(oi, id, old));
        }
    }

    fn reindex_record(&mut self, oi: usize, id: Id, old: Option<&Record>) {
        let o = &self.meta.objects[oi];
        let t = &mut self.tables[oi];
        let new = t.records.get(&id);
        for (fi, f) in o.fields.iter().enumerate() {
            if !indexed(f) {
                continue;
            }
            let m = t.index.entry(fi as u16).or_default();
            if let Some(old) = old.filter(|r| !r.deleted) {
                let v = old.get(fi);
                if !v.is_null() {
                    let k = norm_key(f, v);
                    if let Some(ids) = m.get_mut(&k) {
                        ids.retain(|x| *x != id);
                        if ids.is_empty() {
                            m.remove(&k);
                        }
                    }
                }
            }
            if let Some(new) = new.filter(|r| !r.deleted) {
                let v = new.get(fi);
                if !v.is_null() {
                    m.entry(norm_key(f, v)).or_default().push(id);
                }
            }
        }
    }

    /// Starts recording an undo log (allOrNone).
    pub fn begin(&mut self) {
        self.undo = Some(Vec::new());
    }

    pub fn commit(&mut self) {
        self.undo = None;
    }

    /// Undoes everything since `begin`, and forgets the changes it produced.
    pub fn rollback(&mut self, changes_before: usize) {
        if let Some(log) = self.undo.take() {
            for Undo::Put(oi, id, old) in log.into_iter().rev() {
                let cur = match old {
                    Some(r) => self.tables[oi].records.insert(id, r),
                    None => self.tables[oi].records.remove(&id),
                };
                self.reindex_record(oi, id, cur.as_ref());
                // The parents' roll-up fields come back from the log; their aggregates follow
                // the children they summarise.
                self.rollups
                    .track(oi, cur.as_ref(), self.tables[oi].records.get(&id));
            }
        }
        self.changes.truncate(changes_before);
    }

    pub fn object_of(&self, id: Id) -> Option<usize> {
        self.meta.object_index_by_prefix(id.prefix())
    }

    pub fn get(&self, oi: usize, id: Id) -> Option<&Record> {
        self.tables.get(oi)?.records.get(&id)
    }

    /// Finds live records whose indexed field `fi` equals `value`.
    pub fn find_by(&self, oi: usize, fi: usize, value: &str) -> Vec<Id> {
        let f = &self.meta.objects[oi].fields[fi];
        let key = if f.case_sensitive {
            value.to_string()
        } else {
            value.to_lowercase()
        };
        self.tables[oi]
            .index
            .get(&(fi as u16))
            .and_then(|m| m.get(&key))
            .cloned()
            .unwrap_or_default()
    }

    // ---------- validation ----------

    /// Turns a JSON body into typed values, with the errors a real org gives.
    fn coerce(
        &self,
        oi: usize,
        body: &Map<String, Value>,
        ctx: &Ctx,
        insert: bool,
    ) -> Result<Vec<(usize, Val)>, Vec<ApiError>> {
        let o = &self.meta.objects[oi];
        let mut out = Vec::new();
        let mut errors = Vec::new();
        let mut not_writable = Vec::new();
        for (key, value) in body {
            if key == "attributes" {
                continue;
            }
            let Some(fi) = o.field_index(key) else {
                // `"Account": {"Ext__c": "x"}` sets a lookup through the parent's external id.
                if let (Some((fi, f)), Value::Object(by)) = (o.relationship(key), value) {
                    let writable = if insert { f.createable } else { f.updateable };
                    if !writable {
                        not_writable.push(f.name.clone());
                        continue;
                    }
                    match self.resolve_foreign_key(f, by) {
                        Ok(id) => out.push((fi, Val::str(&id.to18()))),
                        Err(e) => errors.push(e),
                    }
                    continue;
                }
                errors.push(ApiError::bad(
                    "INVALID_FIELD",
                    format!("No such column '{key}' on sobject of type {}", o.name),
                ));
                continue;
            };
            let f = &o.fields[fi];
            let access = ctx
                .profile
                .as_ref()
                .and_then(|p| p.access(&o.name, &f.name));
            if access == Some(FieldAccess::Hidden) {
                errors.push(ApiError::bad(
                    "INVALID_FIELD",
                    format!("No such column '{key}' on sobject of type {}", o.name),
                ));
                continue;
            }
            if f.name == "Id" {
                // Clients often echo the Id back; it is allowed when it names the record.
                continue;
            }
            let writable = if insert { f.createable } else { f.updateable };
            if !writable || access == Some(FieldAccess::Read) {
                not_writable.push(f.name.clone());
                continue;
            }
            match self.coerce_value(o, f, value) {
                Ok(v) => out.push((fi, v)),
                Err(e) => errors.push(e),
            }
        }
        if !not_writable.is_empty() {
            errors.push(
                ApiError::bad(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    format!(
                        "Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                        not_writable.join(", ")
                    ),
                )
                .with_fields(not_writable),
            );
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }

    /// Finds the one parent record a `{"ExtField__c": value}` reference names.
    fn resolve_foreign_key(&self, f: &FieldDef, by: &Map<String, Value>) -> Result<Id, ApiError> {
        let target = f
            .reference_to
            .first()
            .and_then(|t| self.meta.object_index(t));
        let pair = by.iter().find(|(k, _)| k.as_str() != "attributes");
        let (Some(toi), Some((ext, value))) = (target, pair) else {
            return Err(ApiError::bad(
                "INVALID_FIELD",
                format!("Foreign key external ID for field {} is missing", f.name),
            ));
        };
        let to = &self.meta.objects[toi];
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let Some(efi) = to
            .field_index(ext)
            .filter(|&i| to.fields[i].external_id || to.fields[i].name == "Id")
        else {
            return Err(ApiError::bad(
                "INVALID_FIELD",
                format!(
                    "Field name provided, {ext} is not an External ID or indexed field for {}",
                    to.name
                ),
            ));
        };
        let ids = if to.fields[efi].name == "Id" {
            Id::parse(&text)
                .filter(|id| self.get(toi, *id).is_some_and(|r| !r.deleted))
                .into_iter()
                .collect()
        } else {
            self.find_by(toi, efi, &text)
        };
        match ids.as_slice() {
            [one] => Ok(*one),
            [] => Err(ApiError::bad(
                "INVALID_FIELD",
                format!("Foreign key external ID: {text} not found for field {} in entity {}", to.fields[efi].name, to.name),
            )),
            _ => Err(ApiError::bad(
                "INVALID_FIELD",
                format!("Foreign key external ID: {text} matches more than one record for field {} in entity {}", to.fields[efi].name, to.name),
            )),
        }
    }

    fn coerce_value(&self, o: &ObjectDef, f: &FieldDef, value: &Value) -> Result<Val, ApiError> {
        use FieldType::*;
        let deser = |what: &str| {
            let shown = match value {
                Value::String(s) => format!("VALUE_STRING value {s}"),
                Value::Bool(b) => format!("VALUE_{} value {b}", if *b { "TRUE" } else { "FALSE" }),
                Value::Number(n) => format!("VALUE_NUMBER_INT value {n}"),
                Value::Array(_) => "START_ARRAY value [".to_string(),
                Value::Object(_) => "START_OBJECT value {".to_string(),
                Value::Null => "VALUE_NULL".to_string(),
            };
            ApiError::json_parser(format!(
                "Cannot deserialize instance of {what} from {shown} or request may be missing a required field"
            ))
        };
        if value.is_null() {
            return Ok(Val::Null);
        }
        let v = match f.ftype {
            Boolean => match value {
                Value::Bool(b) => Val::Bool(*b),
                Value::String(s) if s.eq_ignore_ascii_case("true") => Val::Bool(true),
                Value::String(s) if s.eq_ignore_ascii_case("false") => Val::Bool(false),
                _ => return Err(deser("boolean")),
            },
            Int | Double | Currency | Percent => {
                let n = match value {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => s.trim().parse::<f64>().ok(),
                    _ => None,
                };
                let what = if f.ftype == Int { "int" } else { "double" };
                let n = n.ok_or_else(|| deser(what))?;
                if f.ftype == Int && n.fract() != 0.0 {
                    return Err(deser("int"));
                }
                let digits = f.precision.saturating_sub(f.scale);
                if digits > 0 && digits < 19 && n.abs() >= 10f64.powi(digits as i32) {
                    return Err(ApiError::bad(
                        "NUMBER_OUTSIDE_VALID_RANGE",
                        format!(
                            "{}: value outside of valid range on numeric field: {n}",
                            f.label
                        ),
                    )
                    .with_fields(vec![f.name.clone()]));
                }
                Val::Num(n)
            }
            Date => match value {
                Value::String(s) => Val::Date(val::parse_date(s).ok_or_else(|| deser("date"))?),
                _ => return Err(deser("date")),
            },
            Datetime => match value {
                Value::String(s) => {
                    Val::DateTime(val::parse_datetime(s).ok_or_else(|| deser("datetime"))?)
                }
                Value::Number(n) => Val::DateTime(n.as_i64().ok_or_else(|| deser("datetime"))?),
                _ => return Err(deser("datetime")),
            },
            Reference | Id => {
                let s = match value {
                    Value::String(s) => s.trim(),
                    _ => return Err(deser("reference")),
                };
                if s.is_empty() {
                    return Ok(Val::Null);
                }
                let id = crate::ids::Id::parse(s).filter(|id| {
                    f.reference_to.iter().any(|r| {
                        self.meta
                            .object(r)
                            .is_some_and(|t| t.key_prefix == id.prefix())
                    })
                });
                let Some(id) = id else {
                    return Err(ApiError::bad(
                        "FIELD_INTEGRITY_EXCEPTION",
                        format!("{}: id value of incorrect type: {s}", f.label),
                    )
                    .with_fields(vec![f.name.clone()]));
                };
                let live = self
                    .object_of(id)
                    .and_then(|oi| self.get(oi, id))
                    .map(|r| !r.deleted);
                match live {
                    Some(true) => Val::str(&id.to18()),
                    Some(false) => {
                        return Err(ApiError::bad("ENTITY_IS_DELETED", "entity is deleted")
                            .with_fields(vec![f.name.clone()]))
                    }
                    None => {
                        return Err(ApiError::bad(
                            "INVALID_CROSS_REFERENCE_KEY",
                            format!("invalid cross reference id: {s}"),
                        )
                        .with_fields(vec![f.name.clone()]))
                    }
                }
            }
            _ => {
                let s = match value {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return Err(deser("String")),
                };
                if s.chars().count() > f.length as usize && f.length > 0 {
                    return Err(ApiError::bad(
                        "STRING_TOO_LONG",
                        format!(
                            "{}: data value too large: {} (max length={})",
                            f.label,
                            s.chars().take(80).collect::<std::string::String>(),
                            f.length
                        ),
                    )
                    .with_fields(vec![f.name.clone()]));
                }
                if f.ftype == Email && !s.is_empty() && !valid_email(&s) {
                    return Err(ApiError::bad(
                        "INVALID_EMAIL_ADDRESS",
                        format!("{}: invalid email address: {s}", f.label),
                    )
                    .with_fields(vec![f.name.clone()]));
                }
                if f.ftype == Picklist && f.restricted && !s.is_empty() && !f.picklist.contains(&s)
                {
                    return Err(ApiError::bad(
                        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                        format!("{}: bad value for restricted picklist field: {s}", f.label),
                    )
                    .with_fields(vec![f.name.clone()]));
                }
                if s.is_empty() {
                    // Salesforce stores an empty string as null.
                    Val::Null
                } else {
                    Val::str(&s)
                }
            }
        };
        let _ = o;
        Ok(v)
    }

    /// Checks required fields, uniqueness and record types on the finished record.
    fn check_record(
        &self,
        oi: usize,
        rec: &Record,
        insert: bool,
        set: &[(usize, Val)],
    ) -> Result<(), Vec<ApiError>> {
        let o = &self.meta.objects[oi];
        let mut missing = Vec::new();
        for (fi, f) in o.fields.iter().enumerate() {
            if f.required && f.ftype != FieldType::Boolean && rec.get(fi).is_null() {
                // On update only the fields being set can newly go missing.
                let touched = insert || set.iter().any(|(i, _)| *i == fi);
                if touched && (f.createable || !insert) {
                    missing.push(f.name.clone());
                }
            }
        }
        if !missing.is_empty() {
            return Err(vec![ApiError::bad(
                "REQUIRED_FIELD_MISSING",
                format!("Required fields are missing: [{}]", missing.join(", ")),
            )
            .with_fields(missing)]);
        }
        for (fi, f) in o.fields.iter().enumerate() {
            if !f.unique {
                continue;
            }
            let v = rec.get(fi);
            if v.is_null() {
                continue;
            }
            let others: Vec<Id> = self
                .find_by(oi, fi, &v.to_text(f.is_integer()))
                .into_iter()
                .filter(|x| *x != rec.id)
                .collect();
            if let Some(other) = others.first() {
                return Err(vec![ApiError::bad(
                    "DUPLICATE_VALUE",
                    format!(
                        "duplicate value found: {} duplicates value on record with id: {}",
                        f.name,
                        other.to18()
                    ),
                )
                .with_fields(vec![f.name.clone()])]);
            }
        }
        if let Some(fi) = o.field_index("RecordTypeId") {
            if let Some(rt) = rec.get(fi).as_str() {
                if !o
                    .record_types
                    .iter()
                    .any(|r| Id::parse(&r.id).map(|i| i.to18()).as_deref() == Some(rt) && r.active)
                {
                    return Err(vec![ApiError::bad(
                        "INVALID_CROSS_REFERENCE_KEY",
                        format!("Record Type ID: this ID value isn't valid for the user: {rt}"),
                    )
                    .with_fields(vec!["RecordTypeId".to_string()])]);
                }
            }
        }
        Ok(())
    }

    /// Fields the org computes: compound names, auto numbers, closed flags.
    fn derive(&mut self, oi: usize, rec: &mut Record, insert: bool, ctx: &Ctx) {
        let o = &self.meta.objects[oi];
        let name = o.name.clone();
        let fidx = |n: &str| o.field_index(n);
        if matches!(name.as_str(), "Contact" | "Lead" | "User") {
            if let (Some(f), Some(l), Some(n)) = (fidx("FirstName"), fidx("LastName"), fidx("Name"))
            {
                let first = rec.get(f).to_text(false);
                let last = rec.get(l).to_text(false);
                let full = format!("{first} {last}").trim().to_string();
                rec.set(
                    n,
                    if full.is_empty() {
                        Val::Null
                    } else {
                        Val::str(&full)
                    },
                );
            }
        }
        if name == "Case" {
            if let (Some(s), Some(c), Some(cd)) =
                (fidx("Status"), fidx("IsClosed"), fidx("ClosedDate"))
            {
                let closed = rec.get(s).as_str() == Some("Closed");
                let was = rec.get(c) == &Val::Bool(true);
                rec.set(c, Val::Bool(closed));
                if closed && !was {
                    rec.set(cd, Val::DateTime(ctx.now));
                } else if !closed {
                    rec.set(cd, Val::Null);
                }
            }
        }
        if name == "Case" {
            // The contact's email and phones, as of the case's last write.
            let contact = fidx("ContactId")
                .and_then(|ci| rec.get(ci).as_str().and_then(Id::parse))
                .zip(self.meta.object_index("Contact"))
                .and_then(|(pid, poi)| self.get(poi, pid).map(|p| (poi, p.clone())));
            for (case_field, contact_field) in [
                ("ContactEmail", "Email"),
                ("ContactPhone", "Phone"),
                ("ContactMobile", "MobilePhone"),
            ] {
                let Some(mf) = fidx(case_field) else { continue };
                let v = contact
                    .as_ref()
                    .and_then(|(poi, p)| {
                        let pf = self.meta.objects[*poi].field_index(contact_field)?;
                        Some(p.get(pf).clone())
                    })
                    .unwrap_or(Val::Null);
                rec.set(mf, v);
            }
        }
        if name == "CampaignMember" {
            if let (Some(s), Some(h)) = (fidx("Status"), fidx("HasResponded")) {
                let responded = rec.get(s).as_str() == Some("Responded");
                rec.set(h, Val::Bool(responded));
            }
            for (src, link) in [("ContactId", "Contact"), ("LeadId", "Lead")] {
                let Some(si) = fidx(src) else { continue };
                let Some(pid) = rec.get(si).as_str().and_then(Id::parse) else {
                    continue;
                };
                let Some(poi) = self.meta.object_index(link) else {
                    continue;
                };
                if let Some(p) = self.get(poi, pid) {
                    let po = &self.meta.objects[poi];
                    for fname in ["FirstName", "LastName", "Email"] {
                        if let (Some(pf), Some(mf)) = (po.field_index(fname), fidx(fname)) {
                            let v = p.get(pf).clone();
                            rec.set(mf, v);
                        }
                    }
                }
            }
        }
        if insert {
            for (fi, f) in o.fields.iter().enumerate() {
                if f.auto_number
                    || (f.name_field
                        && !f.createable
                        && !f.calculated
                        && f.ftype == FieldType::String)
                {
                    let n = self.tables[oi].counter;
                    let text = match name.as_str() {
                        "Case" => format!("{:08}", 1000 + n),
                        "MessagingSession" => format!("MS-{:07}", n),
                        _ => format!("{:08}", n),
                    };
                    rec.set(fi, Val::str(&text));
                }
            }
        }
    }

    /// Fields a new record gets when the client leaves them out.
    fn defaults(&self, oi: usize, rec: &mut Record, ctx: &Ctx) {
        let o = &self.meta.objects[oi];
        for (fi, f) in o.fields.iter().enumerate() {
            if rec.get(fi).is_null() {
                if let Some(d) = &f.default {
                    rec.set(fi, d.clone());
                }
                // COUNT and SUM roll-ups read 0 on a parent with no children yet.
                if f.rollup
                    .as_ref()
                    .is_some_and(|r| matches!(r.op, RollupOp::Count | RollupOp::Sum))
                {
                    rec.set(fi, Val::Num(0.0));
                }
            }
        }
        if let Some(fi) = o.field_index("OwnerId") {
            if rec.get(fi).is_null() {
                rec.set(fi, Val::str(&ctx.user.to18()));
            }
        }
        if let Some(fi) = o.field_index("RecordTypeId") {
            if rec.get(fi).is_null() {
                if let Some(rt) = o.record_types.iter().find(|r| r.default) {
                    if let Some(id) = Id::parse(&rt.id) {
                        rec.set(fi, Val::str(&id.to18()));
                    }
                }
            }
        }
    }

    // ---------- writes ----------

    pub fn insert(
        &mut self,
        oi: usize,
        body: &Map<String, Value>,
        ctx: &Ctx,
    ) -> Result<Id, Vec<ApiError>> {
        let o = &self.meta.objects[oi];
        if !o.createable {
            return Err(vec![ApiError::bad(
                "INVALID_TYPE_FOR_OPERATION",
                format!("entity type {} does not support insert", o.name),
            )]);
        }
        let set = self.coerce(oi, body, ctx, true)?;
        let id = self.next_id(oi);
        let mut rec = Record {
            id,
            deleted: false,
            values: Vec::new(),
        };
        for (fi, v) in &set {
            rec.set(*fi, v.clone());
        }
        self.defaults(oi, &mut rec, ctx);
        self.derive(oi, &mut rec, true, ctx);
        self.check_record(oi, &rec, true, &set)?;
        self.stamp(oi, &mut rec, ctx, true);
        let parents = self.rollups.parents(oi, None, Some(&rec));
        self.put(oi, rec);
        self.refresh_rollups(parents, ctx);
        self.changes.push(Change {
            object: self.meta.objects[oi].name.clone(),
            id,
            created: true,
        });
        Ok(id)
    }

    pub fn update(
        &mut self,
        oi: usize,
        id: Id,
        body: &Map<String, Value>,
        ctx: &Ctx,
    ) -> Result<(), Vec<ApiError>> {
        let o = &self.meta.objects[oi];
        if !o.updateable {
            return Err(vec![ApiError::bad(
                "INVALID_TYPE_FOR_OPERATION",
                format!("entity type {} does not support update", o.name),
            )]);
        }
        let old = match self.get(oi, id) {
            None => return Err(vec![ApiError::not_found()]),
            Some(r) if r.deleted => {
                return Err(vec![ApiError::bad(
                    "ENTITY_IS_DELETED",
                    "entity is deleted",
                )])
            }
            Some(r) => r.clone(),
        };
        let set = self.coerce(oi, body, ctx, false)?;
        let mut rec = old.clone();
        for (fi, v) in &set {
            rec.set(*fi, v.clone());
        }
        self.derive(oi, &mut rec, false, ctx);
        self.check_record(oi, &rec, false, &set)?;
        self.stamp(oi, &mut rec, ctx, false);
        let parents = self.rollups.parents(oi, Some(&old), Some(&rec));
        self.put(oi, rec);
        self.refresh_rollups(parents, ctx);
        self.changes.push(Change {
            object: self.meta.objects[oi].name.clone(),
            id,
            created: false,
        });
        Ok(())
    }

    pub fn delete(&mut self, id: Id, ctx: &Ctx) -> Result<(), ApiError> {
        let oi = self
            .object_of(id)
            .ok_or_else(|| ApiError::bad("MALFORMED_ID", format!("malformed id {}", id.to18())))?;
        if !self.meta.objects[oi].deletable {
            return Err(ApiError::bad(
                "INVALID_TYPE_FOR_OPERATION",
                format!(
                    "entity type {} does not support delete",
                    self.meta.objects[oi].name
                ),
            ));
        }
        let old = match self.get(oi, id) {
            None => return Err(ApiError::not_found()),
            Some(r) if r.deleted => {
                return Err(ApiError::bad("ENTITY_IS_DELETED", "entity is deleted"))
            }
            Some(r) => r.clone(),
        };
        let mut rec = old.clone();
        rec.deleted = true;
        if let Some(fi) = self.meta.objects[oi].field_index("IsDeleted") {
            rec.set(fi, Val::Bool(true));
        }
        self.stamp(oi, &mut rec, ctx, false);
        let parents = self.rollups.parents(oi, Some(&old), None);
        self.put(oi, rec);
        // Master-detail children go with their master.
        let name = self.meta.objects[oi].name.clone();
        let mut children = Vec::new();
        for (coi, co) in self.meta.objects.iter().enumerate() {
            for (fi, f) in co.fields.iter().enumerate() {
                if f.master_detail && f.reference_to.iter().any(|r| r.eq_ignore_ascii_case(&name)) {
                    children.extend(self.rollups.children_of(coi, fi, id));
                }
            }
        }
        for c in children {
            let _ = self.delete(c, ctx);
        }
        self.refresh_rollups(parents, ctx);
        Ok(())
    }

    /// Upsert on an external id field (or `Id`). The caller checks the field is one.
    pub fn upsert(
        &mut self,
        oi: usize,
        fi: usize,
        value: &str,
        body: &Map<String, Value>,
        ctx: &Ctx,
        update_only: bool,
    ) -> Result<Upserted, Vec<ApiError>> {
        let f = &self.meta.objects[oi].fields[fi];
        let matches = if f.name == "Id" {
            match Id::parse(value) {
                Some(id) if self.get(oi, id).is_some_and(|r| !r.deleted) => vec![id],
                _ => vec![],
            }
        } else {
            self.find_by(oi, fi, value)
        };
        let fname = f.name.clone();
        match matches.len() {
            0 => {
                if update_only || fname == "Id" {
                    return Err(vec![ApiError::new(
                        404,
                        "NOT_FOUND",
                        "The requested resource does not exist",
                    )]);
                }
                let mut body = body.clone();
                body.retain(|k, _| !k.eq_ignore_ascii_case(&fname));
                body.insert(fname, Value::String(value.to_string()));
                self.insert(oi, &body, ctx).map(Upserted::Created)
            }
            1 => {
                let mut body = body.clone();
                body.retain(|k, _| !k.eq_ignore_ascii_case(&fname));
                self.update(oi, matches[0], &body, ctx)?;
                Ok(Upserted::Updated(matches[0]))
            }
            _ => Ok(Upserted::Multiple(matches)),
        }
    }

    // ---------- roll-up summaries ----------

    /// Writes the roll-up fields a change moved, from the running aggregates.
    fn refresh_rollups(&mut self, parents: Vec<(usize, usize, Id)>, ctx: &Ctx) {
        for (poi, pfi, pid) in parents {
            let Some(op) = self.meta.objects[poi].fields[pfi]
                .rollup
                .as_ref()
                .map(|r| r.op)
            else {
                continue;
            };
            let value = self.rollups.value(poi, pfi, pid, op);
            if let Some(mut rec) = self.get(poi, pid).cloned() {
                if rec.get(pfi) != &value {
                    rec.set(pfi, value);
                    self.stamp(poi, &mut rec, ctx, false);
                    self.put(poi, rec);
                }
            }
        }
    }

    /// Live children of a parent through a master-detail or roll-up field, from the index.
    pub fn children_of(&self, coi: usize, fi: usize, parent: Id) -> Vec<Id> {
        self.rollups.children_of(coi, fi, parent)
    }

    // ---------- metadata ----------

    /// Applies a metadata file: new custom objects, fields on existing objects, record types
    /// and profiles. Applying the same file twice is harmless (state reloads).
    pub fn apply_metadata(&mut self, file: &MetadataFile, ctx: &Ctx) -> anyhow::Result<()> {
        // Objects first, so lookups between new objects resolve in any order.
        for spec in &file.objects {
            if self.meta.object(&spec.name).is_some() {
                continue;
            }
            if !spec.name.ends_with("__c") {
                anyhow::bail!("{}: custom object names end in __c", spec.name);
            }
            let base = spec.name.trim_end_matches("__c").replace('_', " ");
            let label = spec.label.clone().unwrap_or(base.clone());
            let plural = spec.label_plural.clone().unwrap_or(format!("{label}s"));
            let prefix = spec
                .key_prefix
                .clone()
                .unwrap_or_else(|| self.meta.next_custom_prefix());
            let master = spec
                .fields
                .iter()
                .any(|f| f.ftype.eq_ignore_ascii_case("masterdetail"));
            let mut o = ObjectDef::new(&spec.name, &label, &plural, &prefix, !master);
            let mut name = FieldDef::new("Name", FieldType::String);
            name.length = 80;
            name.name_field = true;
            name.custom = false;
            name.label = spec
                .name_field_label
                .clone()
                .unwrap_or(format!("{label} Name"));
            if spec
                .name_field_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("autonumber"))
            {
                name.auto_number = true;
                name.createable = false;
                name.updateable = false;
            } else {
                name.required = false;
            }
            o.add(name);
            for f in ["CreatedDate", "LastModifiedDate", "SystemModstamp"] {
                o.add(FieldDef {
                    custom: false,
                    createable: false,
                    updateable: false,
                    ..FieldDef::new(f, FieldType::Datetime)
                });
            }
            for (f, rel) in [
                ("CreatedById", "CreatedBy"),
                ("LastModifiedById", "LastModifiedBy"),
            ] {
                let mut d = FieldDef::new(f, FieldType::Reference);
                d.reference_to = vec!["User".to_string()];
                d.relationship_name = Some(rel.to_string());
                d.createable = false;
                d.updateable = false;
                o.add(d);
            }
            self.meta.objects.push(o);
            self.tables.push(Table::default());
            self.meta.reindex();
        }
        for spec in &file.objects {
            let oi = self
                .meta
                .object_index(&spec.name)
                .ok_or_else(|| anyhow::anyhow!("{}: unknown object", spec.name))?;
            for fs in &spec.fields {
                if self.meta.objects[oi].field(&fs.name).is_some() {
                    continue;
                }
                let mut f = field_from_spec(&spec.name, fs)?;
                if let Some(to) = f.reference_to.first() {
                    let Some(target) = self.meta.object(to) else {
                        anyhow::bail!(
                            "{}.{}: referenceTo names unknown object {to}",
                            spec.name,
                            fs.name
                        );
                    };
                    f.reference_to = vec![target.name.clone()];
                }
                self.meta.objects[oi].add(f);
            }
            for rt in &spec.record_types {
                let exists = self.meta.objects[oi]
                    .record_types
                    .iter()
                    .any(|r| r.developer_name == rt.developer_name);
                if exists {
                    continue;
                }
                let active = rt.active.unwrap_or(true);
                let name = rt
                    .name
                    .clone()
                    .unwrap_or(rt.developer_name.replace('_', " "));
                let obj = self.meta.objects[oi].name.clone();
                let id = self.raw_insert(
                    "RecordType",
                    &[
                        ("Name", Val::str(&name)),
                        ("DeveloperName", Val::str(&rt.developer_name)),
                        ("SobjectType", Val::str(&obj)),
                        ("IsActive", Val::Bool(active)),
                        (
                            "Description",
                            rt.description.as_deref().map(Val::str).unwrap_or(Val::Null),
                        ),
                    ],
                    ctx,
                );
                let o = &mut self.meta.objects[oi];
                let first = o.record_types.is_empty();
                o.record_types.push(RecordTypeDef {
                    id: id.to18(),
                    name,
                    developer_name: rt.developer_name.clone(),
                    default: rt.default || first,
                    active,
                });
                if rt.default {
                    for r in o.record_types.iter_mut() {
                        r.default = r.developer_name == rt.developer_name;
                    }
                }
                if o.field_index("RecordTypeId").is_none() {
                    let mut f = FieldDef::new("RecordTypeId", FieldType::Reference);
                    f.reference_to = vec!["RecordType".to_string()];
                    f.relationship_name = Some("RecordType".to_string());
                    f.label = "Record Type ID".to_string();
                    f.custom = false;
                    o.add(f);
                }
            }
        }
        // Roll-ups: fill in the child's master-detail field when the file leaves it out.
        for oi in 0..self.meta.objects.len() {
            for fi in 0..self.meta.objects[oi].fields.len() {
                let Some(mut r) = self.meta.objects[oi].fields[fi].rollup.clone() else {
                    continue;
                };
                if r.via.is_empty() {
                    let parent = self.meta.objects[oi].name.clone();
                    let child = self.meta.object(&r.child).ok_or_else(|| {
                        anyhow::anyhow!("roll-up names unknown object {}", r.child)
                    })?;
                    let via = child
                        .fields
                        .iter()
                        .find(|f| {
                            f.master_detail
                                && f.reference_to
                                    .iter()
                                    .any(|t| t.eq_ignore_ascii_case(&parent))
                        })
                        .ok_or_else(|| {
                            anyhow::anyhow!("{}: no master-detail to {parent}", r.child)
                        })?;
                    r.via = via.name.clone();
                    self.meta.objects[oi].fields[fi].rollup = Some(r);
                }
            }
        }
        for ps in &file.profiles {
            let mut fields = HashMap::new();
            for f in &ps.hidden_fields {
                fields.insert(f.to_ascii_lowercase(), FieldAccess::Hidden);
            }
            for f in &ps.read_only_fields {
                fields.insert(f.to_ascii_lowercase(), FieldAccess::Read);
            }
            if let Some(p) = self.meta.profiles.iter_mut().find(|p| p.name == ps.name) {
                p.fields.extend(fields);
                if let Some(a) = ps.api_enabled {
                    p.api_enabled = a;
                }
            } else {
                let api = ps.api_enabled.unwrap_or(true);
                let id = self.raw_insert(
                    "Profile",
                    &[
                        ("Name", Val::str(&ps.name)),
                        ("PermissionsApiEnabled", Val::Bool(api)),
                    ],
                    ctx,
                );
                self.meta.profiles.push(Profile {
                    id: id.to18(),
                    name: ps.name.clone(),
                    api_enabled: api,
                    fields,
                });
            }
        }
        self.meta.reindex();
        self.reindex();
        Ok(())
    }

    /// Ids of every live record of an object, in id order (used by tests and seeds).
    pub fn live_ids(&self, oi: usize) -> Vec<Id> {
        self.tables[oi]
            .records
            .values()
            .filter(|r| !r.deleted)
            .map(|r| r.id)
            .collect()
    }

    /// The set of key prefixes in use, for diagnostics.
    pub fn prefixes(&self) -> HashSet<String> {
        self.meta
            .objects
            .iter()
            .map(|o| o.key_prefix.clone())
            .collect()
    }
}

fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(' ')
}
