//! Qualtrics' loosely typed values read one way: numbers written as strings, lists written
//! as numbered objects, booleans as "ON" or "1".

use crate::html;
use serde_json::{Map, Value};

/// NPS end labels, when the export carries them.
pub(super) fn label(p: &Map<String, Value>, low: bool) -> String {
    let Some(labels) = p.get("Labels").or_else(|| p.get("ColumnLabels")) else {
        return String::new();
    };
    let values = list_or_object_values(labels);
    let pick = if low { values.first() } else { values.last() };
    pick.and_then(|v| text_of(v.get("Display")))
        .map(|t| html::to_plain(&t))
        .unwrap_or_default()
}

/// The numbered entries ("0", "1", ...) of a Qualtrics logic object, in numeric order.
pub(super) fn numbered(map: &Map<String, Value>) -> Vec<&Value> {
    let mut entries: Vec<(u64, &Value)> = map
        .iter()
        .filter_map(|(k, v)| Some((k.parse::<u64>().ok()?, v)))
        .collect();
    entries.sort_by_key(|(k, _)| *k);
    entries.into_iter().map(|(_, v)| v).collect()
}

/// Qualtrics writes some payloads as a list in one export and a numbered object in another.
pub(super) fn list_or_object_values(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(list) => list.iter().collect(),
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by_key(|(k, _)| numeric_key(k));
            entries.into_iter().map(|(_, v)| v).collect()
        }
        _ => Vec::new(),
    }
}

/// Sorts "2" before "10", and non-numbers after numbers.
pub(super) fn numeric_key(k: &str) -> (u64, String) {
    (k.parse::<u64>().unwrap_or(u64::MAX), k.to_string())
}

/// Strings, numbers and booleans as text (exports mix `"1"` and `1`).
pub(super) fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(super) fn number_of(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `true`, `"true"`, `"1"`, `1`, `"ON"`, `"Yes"`.
pub(super) fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0),
        Some(Value::String(s)) => matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "on" | "yes"
        ),
        _ => false,
    }
}

/// `PartialData` such as "+1 week" or "+2 days", in hours.
pub(super) fn partial_hours(text: &str) -> Option<u32> {
    let mut parts = text.trim().trim_start_matches('+').split_whitespace();
    let n: u32 = parts.next()?.parse().ok()?;
    let unit = parts.next()?.trim_end_matches('s');
    let hours = match unit {
        "hour" => 1,
        "day" => 24,
        "week" => 24 * 7,
        "month" => 24 * 30,
        "year" => 24 * 365,
        _ => return None,
    };
    n.checked_mul(hours)
}
