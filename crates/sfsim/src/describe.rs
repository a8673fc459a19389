//! describeGlobal and sObject describe: the shapes clients use to discover objects, fields,
//! picklists, child relationships and record types. Field-level security shows here the way
//! a real org shows it: hidden fields are absent, read-only ones are not createable/updateable.

use crate::metadata::{FieldAccess, FieldDef, FieldType, Metadata, ObjectDef, Profile};
use serde_json::{json, Value};

fn urls(o: &ObjectDef, v: &str) -> Value {
    let base = format!("/services/data/v{v}/sobjects/{}", o.name);
    json!({
        "compactLayouts": format!("{base}/describe/compactLayouts"),
        "rowTemplate": format!("{base}/{{ID}}"),
        "defaultValues": format!("{base}/defaultValues?recordTypeId&fields"),
        "describe": format!("{base}/describe"),
        "layouts": format!("{base}/describe/layouts"),
        "sobject": base,
    })
}

/// The object summary used in describeGlobal and `GET /sobjects/{Obj}`.
pub fn object_summary(o: &ObjectDef, v: &str) -> Value {
    json!({
        "activateable": false,
        "associateEntityType": null,
        "associateParentEntity": null,
        "createable": o.createable,
        "custom": o.custom,
        "customSetting": false,
        "deepCloneable": false,
        "deletable": o.deletable,
        "deprecatedAndHidden": false,
        "feedEnabled": !o.custom,
        "hasSubtypes": false,
        "isInterface": false,
        "isSubtype": false,
        "keyPrefix": o.key_prefix,
        "label": o.label,
        "labelPlural": o.label_plural,
        "layoutable": true,
        "mergeable": matches!(o.name.as_str(), "Account" | "Contact" | "Lead" | "Case"),
        "mruEnabled": true,
        "name": o.name,
        "queryable": true,
        "replicateable": true,
        "retrieveable": true,
        "searchable": true,
        "triggerable": true,
        "undeletable": o.deletable,
        "updateable": o.updateable,
        "urls": urls(o, v),
    })
}

pub fn describe_global(meta: &Metadata, v: &str) -> Value {
    json!({
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": meta.objects.iter().map(|o| object_summary(o, v)).collect::<Vec<_>>(),
    })
}

fn field_json(o: &ObjectDef, f: &FieldDef, access: Option<FieldAccess>) -> Value {
    let read_only = access == Some(FieldAccess::Read);
    let picklist: Vec<Value> = f
        .picklist
        .iter()
        .map(|p| {
            let default = f.default.as_ref().and_then(|d| d.as_str()) == Some(p.as_str());
            json!({"active": true, "defaultValue": default, "label": p, "validFor": null, "value": p})
        })
        .collect();
    let ftype = if f.name == "Id" {
        FieldType::Id
    } else {
        f.ftype
    };
    let length = if f.ftype.is_text() { f.length } else { 0 };
    let filterable = f.ftype != FieldType::Textarea || f.length <= 255;
    json!({
        "aggregatable": filterable,
        "autoNumber": f.auto_number,
        "byteLength": if f.ftype.is_text() { f.length * 3 } else { 0 },
        "calculated": f.calculated,
        "cascadeDelete": false,
        "caseSensitive": f.case_sensitive,
        "createable": f.createable && !read_only,
        "custom": f.custom,
        "defaultValue": f.default.as_ref().map(|d| d.to_json(false)).unwrap_or(Value::Null),
        "defaultedOnCreate": f.defaulted_on_create(),
        "dependentPicklist": false,
        "deprecatedAndHidden": false,
        "digits": if f.ftype == FieldType::Int { 9 } else { 0 },
        "externalId": f.external_id,
        "filterable": filterable,
        "groupable": filterable && !matches!(f.ftype, FieldType::Double | FieldType::Currency | FieldType::Percent | FieldType::Datetime),
        "htmlFormatted": o.name == "LiveChatTranscript" && f.name == "Body",
        "idLookup": f.name == "Id" || f.external_id || (f.name_field && o.name == "User") || f.name == "Username",
        "inlineHelpText": null,
        "label": f.label,
        "length": length,
        "name": f.name,
        "nameField": f.name_field,
        "namePointing": false,
        "nillable": f.nillable(),
        "permissionable": f.nillable() && !f.is_system() && f.createable,
        "picklistValues": picklist,
        "polymorphicForeignKey": false,
        "precision": if f.ftype.is_number() && f.ftype != FieldType::Int { f.precision } else { 0 },
        "referenceTargetField": null,
        "referenceTo": f.reference_to,
        "relationshipName": f.relationship_name,
        "relationshipOrder": if f.master_detail { json!(0) } else { Value::Null },
        "restrictedPicklist": f.restricted,
        "scale": if f.ftype.is_number() && f.ftype != FieldType::Int { f.scale } else { 0 },
        "soapType": f.ftype.soap_type(),
        "sortable": filterable,
        "type": ftype.api_name(),
        "unique": f.unique,
        "updateable": f.updateable && !read_only,
        "writeRequiresMasterRead": f.master_detail,
    })
}

/// `GET /sobjects/{Obj}/describe` for a user with `profile`.
pub fn describe(meta: &Metadata, o: &ObjectDef, profile: Option<&Profile>, v: &str) -> Value {
    let fields: Vec<Value> = o
        .fields
        .iter()
        .filter_map(|f| {
            let access = profile.and_then(|p| p.access(&o.name, &f.name));
            (access != Some(FieldAccess::Hidden)).then(|| field_json(o, f, access))
        })
        .collect();
    let children: Vec<Value> = meta
        .child_relationships(&o.name)
        .into_iter()
        .map(|(c, f)| {
            json!({
                "cascadeDelete": f.master_detail,
                "childSObject": c.name,
                "deprecatedAndHidden": false,
                "field": f.name,
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": f.child_relationship,
                "restrictedDelete": false,
            })
        })
        .collect();
    let mut record_types: Vec<Value> = o
        .record_types
        .iter()
        .map(|r| {
            json!({
                "active": r.active, "available": r.active,
                "defaultRecordTypeMapping": r.default, "developerName": r.developer_name,
                "master": false, "name": r.name, "recordTypeId": r.id,
                "urls": {"layout": format!("/services/data/v{v}/sobjects/{}/describe/layouts/{}", o.name, r.id)},
            })
        })
        .collect();
    // Every object has the master record type; it is the default only when there are no others.
    record_types.push(json!({
        "active": true, "available": true, "defaultRecordTypeMapping": o.record_types.is_empty(),
        "developerName": "Master", "master": true, "name": "Master", "recordTypeId": "012000000000000AAA",
        "urls": {"layout": format!("/services/data/v{v}/sobjects/{}/describe/layouts/012000000000000AAA", o.name)},
    }));
    let mut d = object_summary(o, v);
    if let Value::Object(m) = &mut d {
        m.insert("fields".into(), Value::Array(fields));
        m.insert("childRelationships".into(), Value::Array(children));
        m.insert("recordTypeInfos".into(), Value::Array(record_types));
        m.insert("compactLayoutable".into(), json!(true));
        m.insert("listviewable".into(), Value::Null);
        m.insert("lookupLayoutable".into(), Value::Null);
        m.insert("namedLayoutInfos".into(), json!([]));
        m.insert("networkScopeFieldName".into(), Value::Null);
        m.insert("searchLayoutable".into(), json!(true));
        m.insert(
            "supportedScopes".into(),
            json!([{"label": "All records", "name": "everything"}]),
        );
        m.insert("actionOverrides".into(), json!([]));
        m.insert("defaultImplementation".into(), Value::Null);
        m.insert("extendedBy".into(), Value::Null);
        m.insert("extendsInterfaces".into(), Value::Null);
        m.insert("implementedBy".into(), Value::Null);
        m.insert("implementsInterfaces".into(), Value::Null);
        m.insert("sobjectDescribeOption".into(), json!("FULL"));
    }
    d
}
