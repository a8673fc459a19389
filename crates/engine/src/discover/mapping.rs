//! Pure rules of an inbound job's attributes: how a mapping makes an attribute from a row (a
//! field as is, a field transformed, or a fixed value) and whether a row's mapped attributes
//! pass the job's filter. No I/O, so every rule is unit-tested here.

use super::documents::{field_text, salesforce_time};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// How one attribute is made. The plain string form (`"Subject"`) is the field as it is, as
/// jobs saved before transforms existed have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Mapping {
    /// The field's value as it is (a dotted path such as `Account.Name`).
    Field(String),
    /// The same value on every document (`{"value": "Web"}`).
    Fixed(FixedValue),
    /// The field's value transformed (`{"field": "Subject", "transform": "lowercase"}`).
    Transformed(TransformedField),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FixedValue {
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransformedField {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<Transform>,
}

/// What is done to a field's value before it is kept. A value that does not read as a date
/// or a number is kept as it came, so a transform never loses data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Transform {
    Lowercase,
    Uppercase,
    /// Spaces at both ends removed.
    Trim,
    /// A date or date/time as its UTC day, `2026-03-02`.
    Date,
    /// A JSON number instead of text (`"7.50"` → `7.5`).
    Number,
    /// Text put in front (`{"prefix": "case-"}`).
    Prefix(String),
}

impl Mapping {
    /// The field this mapping reads, if it reads one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Mapping::Field(f) => Some(f),
            Mapping::Transformed(t) => Some(&t.field),
            Mapping::Fixed(_) => None,
        }
    }

    /// The attribute's value for `row` (null when the field is empty or absent).
    pub fn value(&self, row: &Map<String, Value>) -> Value {
        match self {
            Mapping::Fixed(v) => Value::String(v.value.clone()),
            Mapping::Field(f) => field_text(row, f).map_or(Value::Null, Value::String),
            Mapping::Transformed(t) => match field_text(row, &t.field) {
                None => Value::Null,
                Some(text) => match &t.transform {
                    None => Value::String(text),
                    Some(tr) => tr.apply(text),
                },
            },
        }
    }
}

impl Transform {
    pub fn apply(&self, text: String) -> Value {
        match self {
            Transform::Lowercase => Value::String(text.to_lowercase()),
            Transform::Uppercase => Value::String(text.to_uppercase()),
            Transform::Trim => Value::String(text.trim().to_string()),
            Transform::Prefix(p) => Value::String(format!("{p}{text}")),
            Transform::Date => {
                match salesforce_time(&text).and_then(chrono::DateTime::from_timestamp_millis) {
                    Some(t) => Value::String(t.format("%Y-%m-%d").to_string()),
                    None => Value::String(text),
                }
            }
            Transform::Number => {
                let t = text.trim();
                if let Ok(i) = t.parse::<i64>() {
                    return Value::from(i);
                }
                match t.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                    Some(n) => Value::Number(n),
                    None => Value::String(text),
                }
            }
        }
    }
}

/// The mapped attributes of a row, before redaction.
pub fn mapped_attributes(
    mappings: &BTreeMap<String, Mapping>,
    row: &Map<String, Value>,
) -> Map<String, Value> {
    mappings
        .iter()
        .map(|(name, m)| (name.clone(), m.value(row)))
        .collect()
}

/// One condition of a job's filter on a mapped attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Filter {
    /// The attribute's name, as in `mappings`.
    pub attribute: String,
    pub op: FilterOp,
    pub value: FilterValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    Equals,
    NotEquals,
    Contains,
    In,
}

/// One text for equals, not_equals and contains; a list for in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum FilterValue {
    One(String),
    Many(Vec<String>),
}

/// The text a condition compares: strings as they are, numbers and booleans as JSON writes
/// them; an empty value has none.
fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl Filter {
    /// Whether the attributes pass this condition. Comparisons are exact (case-sensitive; a
    /// `lowercase` transform makes them not); an empty attribute equals nothing.
    pub fn passes(&self, attributes: &Map<String, Value>) -> bool {
        let got = text_of(attributes.get(&self.attribute));
        match (self.op, &self.value, got) {
            (FilterOp::NotEquals, FilterValue::One(v), got) => got.as_deref() != Some(v),
            (_, _, None) => false,
            (FilterOp::Equals, FilterValue::One(v), Some(g)) => &g == v,
            (FilterOp::Contains, FilterValue::One(v), Some(g)) => g.contains(v.as_str()),
            (FilterOp::In, FilterValue::Many(vs), Some(g)) => vs.contains(&g),
            // Refused when the job is saved; a row never passes a condition that cannot hold.
            _ => false,
        }
    }

    /// Why this condition cannot be saved, as (field suffix, message).
    pub fn problem(&self, mappings: &BTreeMap<String, Mapping>) -> Option<(&'static str, String)> {
        if !mappings.contains_key(&self.attribute) {
            let known: Vec<&str> = mappings.keys().map(String::as_str).collect();
            return Some((
                "attribute",
                format!(
                    "{:?} is not a mapped attribute (mapped: {})",
                    self.attribute,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
        match (self.op, &self.value) {
            (FilterOp::In, FilterValue::One(_)) => {
                Some(("value", "in takes a list of values".into()))
            }
            (FilterOp::In, FilterValue::Many(_)) => None,
            (_, FilterValue::Many(_)) => Some(("value", "takes one value, not a list".into())),
            (_, FilterValue::One(_)) => None,
        }
    }
}

/// Whether a row's mapped attributes pass every condition.
pub fn passes(filter: &[Filter], attributes: &Map<String, Value>) -> bool {
    filter.iter().all(|f| f.passes(attributes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row() -> Map<String, Value> {
        serde_json::from_value(json!({
            "Id": "500000000000001AAA", "Subject": "  Broken Kettle ", "Score__c": "7.50",
            "Count__c": 3, "CreatedDate": "2026-03-02T23:15:03.000+0000",
            "Account": {"Name": "Acme"}, "Empty": null
        }))
        .unwrap()
    }

    fn mapping(v: Value) -> Mapping {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn every_form_of_mapping_reads() {
        let r = row();
        assert_eq!(mapping(json!("Account.Name")).value(&r), json!("Acme"));
        assert_eq!(mapping(json!({"value": "Web"})).value(&r), json!("Web"));
        let t = |tr: Value| mapping(json!({"field": "Subject", "transform": tr})).value(&r);
        assert_eq!(t(json!("lowercase")), json!("  broken kettle "));
        assert_eq!(t(json!("uppercase")), json!("  BROKEN KETTLE "));
        assert_eq!(t(json!("trim")), json!("Broken Kettle"));
        assert_eq!(
            t(json!({"prefix": "case: "})),
            json!("case:   Broken Kettle ")
        );
        let on = |f: &str, tr: &str| mapping(json!({"field": f, "transform": tr})).value(&r);
        assert_eq!(on("CreatedDate", "date"), json!("2026-03-02"));
        assert_eq!(on("Score__c", "number"), json!(7.5));
        assert_eq!(on("Count__c", "number"), json!(3));
        // What does not read as a number or a date is kept, not lost.
        assert_eq!(on("Subject", "number"), json!("  Broken Kettle "));
        assert_eq!(on("Subject", "date"), json!("  Broken Kettle "));
        assert_eq!(on("Empty", "trim"), Value::Null);
        assert_eq!(
            mapping(json!({"field": "Subject"})).value(&r),
            json!("  Broken Kettle ")
        );
    }

    #[test]
    fn mappings_round_trip_in_their_own_form() {
        for v in [
            json!("Subject"),
            json!({"value": "X"}),
            json!({"field": "Subject", "transform": "trim"}),
            json!({"field": "Subject", "transform": {"prefix": "p"}}),
        ] {
            assert_eq!(serde_json::to_value(mapping(v.clone())).unwrap(), v);
        }
        assert!(serde_json::from_value::<Mapping>(json!({"value": "X", "field": "Y"})).is_err());
        assert!(
            serde_json::from_value::<Mapping>(json!({"field": "Y", "transform": "shout"})).is_err()
        );
    }

    fn filter(v: Value) -> Filter {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn filters_compare_mapped_values() {
        let attrs: Map<String, Value> =
            serde_json::from_value(json!({"status": "Closed", "score": 7, "none": null})).unwrap();
        let f = |v: Value| filter(v).passes(&attrs);
        assert!(f(
            json!({"attribute": "status", "op": "equals", "value": "Closed"})
        ));
        assert!(!f(
            json!({"attribute": "status", "op": "equals", "value": "closed"})
        ));
        assert!(f(
            json!({"attribute": "status", "op": "not_equals", "value": "New"})
        ));
        assert!(f(
            json!({"attribute": "status", "op": "contains", "value": "los"})
        ));
        assert!(f(
            json!({"attribute": "status", "op": "in", "value": ["New", "Closed"]})
        ));
        assert!(!f(
            json!({"attribute": "status", "op": "in", "value": ["New"]})
        ));
        assert!(f(
            json!({"attribute": "score", "op": "equals", "value": "7"})
        ));
        assert!(!f(
            json!({"attribute": "none", "op": "equals", "value": ""})
        ));
        assert!(f(
            json!({"attribute": "none", "op": "not_equals", "value": "x"})
        ));
        let all = [
            filter(json!({"attribute": "status", "op": "equals", "value": "Closed"})),
            filter(json!({"attribute": "score", "op": "equals", "value": "8"})),
        ];
        assert!(!passes(&all, &attrs));
        assert!(passes(&all[..1], &attrs));
    }

    #[test]
    fn filters_that_cannot_hold_are_named() {
        let mappings = BTreeMap::from([("status".to_string(), mapping(json!("Status")))]);
        let p = |v: Value| filter(v).problem(&mappings).map(|(f, _)| f);
        assert_eq!(
            p(json!({"attribute": "Status", "op": "equals", "value": "x"})),
            Some("attribute")
        );
        assert_eq!(
            p(json!({"attribute": "status", "op": "in", "value": "x"})),
            Some("value")
        );
        assert_eq!(
            p(json!({"attribute": "status", "op": "equals", "value": ["x"]})),
            Some("value")
        );
        assert_eq!(
            p(json!({"attribute": "status", "op": "in", "value": ["x"]})),
            None
        );
    }
}
