//! Field values as the org stores them: compact, typed, and rendered on output in the
//! exact text forms Salesforce uses (`2024-01-15T10:30:00.000+0000`, `2024-01-15`).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;
use std::cmp::Ordering;
use std::sync::Arc;

/// One stored field value. Dates are days since 1970-01-01, datetimes milliseconds since epoch.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Val {
    Null,
    Bool(bool),
    Num(f64),
    Str(Arc<str>),
    Date(i32),
    DateTime(i64),
}

impl Val {
    pub fn str(s: &str) -> Val {
        Val::Str(Arc::from(s))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    /// JSON as the REST API renders it; `int` fields come back without a fraction.
    pub fn to_json(&self, integer: bool) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(n) => {
                if integer && n.fract() == 0.0 && n.abs() < 9.0e15 {
                    Value::from(*n as i64)
                } else {
                    serde_json::Number::from_f64(*n)
                        .map(Value::Number)
                        .unwrap_or(Value::Null)
                }
            }
            Val::Str(s) => Value::String(s.to_string()),
            Val::Date(d) => Value::String(format_date(*d)),
            Val::DateTime(ms) => Value::String(format_datetime(*ms)),
        }
    }

    /// Text for CSV and SOAP: empty for null, `true`/`false`, numbers without needless `.0`.
    pub fn to_text(&self, integer: bool) -> String {
        match self {
            Val::Null => String::new(),
            Val::Bool(b) => b.to_string(),
            Val::Num(n) => {
                if (integer || n.fract() == 0.0) && n.abs() < 9.0e15 {
                    format!("{}", *n as i64)
                } else {
                    format!("{n}")
                }
            }
            Val::Str(s) => s.to_string(),
            Val::Date(d) => format_date(*d),
            Val::DateTime(ms) => format_datetime(*ms),
        }
    }

    /// Ordering used by ORDER BY and comparisons; nulls are handled by the caller.
    pub fn cmp_loose(&self, other: &Val) -> Option<Ordering> {
        match (self, other) {
            (Val::Num(a), Val::Num(b)) => a.partial_cmp(b),
            (Val::Str(a), Val::Str(b)) => Some(cmp_ci(a, b)),
            (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
            (Val::Date(a), Val::Date(b)) => Some(a.cmp(b)),
            (Val::DateTime(a), Val::DateTime(b)) => Some(a.cmp(b)),
            (Val::Date(a), Val::DateTime(b)) => Some((*a as i64 * 86_400_000).cmp(b)),
            (Val::DateTime(a), Val::Date(b)) => Some(a.cmp(&(*b as i64 * 86_400_000))),
            _ => None,
        }
    }
}

/// SOQL compares text case-insensitively.
pub fn cmp_ci(a: &str, b: &str) -> Ordering {
    let mut ai = a.chars().flat_map(char::to_lowercase);
    let mut bi = b.chars().flat_map(char::to_lowercase);
    loop {
        match (ai.next(), bi.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => match x.cmp(&y) {
                Ordering::Equal => continue,
                o => return o,
            },
        }
    }
}

pub fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

pub fn date_from_naive(d: NaiveDate) -> i32 {
    (d - epoch()).num_days() as i32
}

/// Out-of-range day numbers (from hostile input) clamp to the epoch instead of panicking.
pub fn naive_from_days(days: i32) -> NaiveDate {
    chrono::TimeDelta::try_days(days as i64)
        .and_then(|d| epoch().checked_add_signed(d))
        .unwrap_or_else(epoch)
}

pub fn format_date(days: i32) -> String {
    naive_from_days(days).format("%Y-%m-%d").to_string()
}

pub fn format_datetime(ms: i64) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
        None => String::new(),
    }
}

/// Accepts `YYYY-MM-DD` and also a datetime (Salesforce keeps the date part).
pub fn parse_date(s: &str) -> Option<i32> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(date_from_naive(d));
    }
    parse_datetime(s).map(|ms| ms.div_euclid(86_400_000) as i32)
}

/// Accepts the ISO 8601 shapes clients send: `Z`, `+0000`, `+00:00`, with or without millis.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_millis());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.timestamp_millis());
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(date_from_naive(d) as i64 * 86_400_000);
    }
    None
}

pub fn year_of(days: i32) -> i32 {
    naive_from_days(days).year()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let ms = parse_datetime("2024-01-15T10:30:00Z").unwrap();
        assert_eq!(format_datetime(ms), "2024-01-15T10:30:00.000+0000");
        assert_eq!(parse_datetime("2024-01-15T10:30:00.000+0000"), Some(ms));
        assert_eq!(format_date(parse_date("2024-02-29").unwrap()), "2024-02-29");
    }
}
