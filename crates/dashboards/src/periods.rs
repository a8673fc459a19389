//! UTC days, Monday weeks and months as the buckets of a dashboard's series: responses are
//! counted per day while they are read, then rolled up into the period the span calls for.

use chrono::{DateTime, Datelike, NaiveDate};
use serde::Serialize;
use utoipa::ToSchema;

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
    Month,
}

/// Days since 1970-01-01 (UTC) of a moment in milliseconds.
pub(crate) fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

pub(crate) fn date_of_day(day: i64) -> NaiveDate {
    DateTime::from_timestamp_millis(day * DAY_MS)
        .map(|t| t.date_naive())
        .unwrap_or_default()
}

/// The first day of the period holding `day`.
pub(crate) fn period_start(period: Period, day: i64) -> i64 {
    match period {
        Period::Day => day,
        // 1970-01-01 was a Thursday: day 0 is three days after a Monday.
        Period::Week => day - (day + 3).rem_euclid(7),
        Period::Month => {
            let d = date_of_day(day);
            day - i64::from(d.day0())
        }
    }
}

/// The first day of the period after the one starting on `start`.
pub(crate) fn next_period(period: Period, start: i64) -> i64 {
    match period {
        Period::Day => start + 1,
        Period::Week => start + 7,
        Period::Month => {
            let d = date_of_day(start);
            let (y, m) = if d.month() == 12 {
                (d.year() + 1, 1)
            } else {
                (d.year(), d.month() + 1)
            };
            NaiveDate::from_ymd_opt(y, m, 1)
                .map(|n| n.signed_duration_since(NaiveDate::default()).num_days())
                .unwrap_or(start + 31)
        }
    }
}

/// `YYYY-MM-DD` of a day number.
pub(crate) fn day_label(day: i64) -> String {
    date_of_day(day).format("%Y-%m-%d").to_string()
}

pub(crate) fn rfc3339(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> i64 {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .unwrap()
            .signed_duration_since(NaiveDate::default())
            .num_days()
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        // 2026-12-07 is a Monday.
        assert_eq!(
            period_start(Period::Week, day("2026-12-07")),
            day("2026-12-07")
        );
        assert_eq!(
            period_start(Period::Week, day("2026-12-13")),
            day("2026-12-07")
        );
        assert_eq!(
            period_start(Period::Week, day("2026-12-14")),
            day("2026-12-14")
        );
        assert_eq!(
            period_start(Period::Week, day("1969-12-31")),
            day("1969-12-29")
        );
        assert_eq!(
            period_start(Period::Month, day("2026-02-28")),
            day("2026-02-01")
        );
        assert_eq!(
            next_period(Period::Month, day("2026-12-01")),
            day("2027-01-01")
        );
        assert_eq!(
            next_period(Period::Week, day("2026-12-07")),
            day("2026-12-14")
        );
        assert_eq!(day_label(day("2026-03-09")), "2026-03-09");
        assert_eq!(day_of(-1), -1);
    }
}
