//! The time in a transcript's "Chat Started:" header, which every message's elapsed stamp counts
//! from.
//!
//! Salesforce writes it as `Monday, December 17, 2018, 23:27:57 (-0500)`: weekday, month name and
//! two-digit day, year, 24-hour time, and the UTC offset in parentheses (the format in the
//! TransmogrifAI fixtures and in every public body copy found, and the pattern
//! `EEEE, MMMM d, y, H:m:ss (X)` a public Scala reader parses it with). Read by hand rather than
//! with a format string so the weekday is not checked (it adds nothing) and a missing offset
//! still gives a time.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

/// A start time, and whether the header gave its UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Started {
    pub at: DateTime<Utc>,
    pub offset_given: bool,
}

/// Reads the text after "Chat Started:"; `None` when it is not a date this reader knows.
pub(crate) fn read(text: &str) -> Option<Started> {
    let mut parts = text.split(',').map(str::trim);
    let mut first = parts.next()?;
    // The weekday leads; skip it when it does (a header without one still reads).
    if month_day(first).is_none() {
        first = parts.next()?;
    }
    let (month, day) = month_day(first)?;
    let year: i32 = parts.next()?.parse().ok()?;
    let clock_and_offset = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let (clock, offset) = match clock_and_offset.split_once('(') {
        Some((clock, offset)) => (clock.trim(), Some(offset.trim_end_matches(')').trim())),
        None => (clock_and_offset, None),
    };
    let mut hms = clock.split(':');
    let hour: u32 = hms.next()?.parse().ok()?;
    let minute: u32 = hms.next()?.parse().ok()?;
    let second: u32 = match hms.next() {
        Some(s) => s.parse().ok()?,
        None => 0,
    };
    if hms.next().is_some() {
        return None;
    }
    let local = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(hour, minute, second)?;
    let (zone, offset_given) = match offset {
        Some(offset) => (utc_offset(offset)?, true),
        None => (FixedOffset::east_opt(0)?, false),
    };
    let at = zone
        .from_local_datetime(&local)
        .single()?
        .with_timezone(&Utc);
    Some(Started { at, offset_given })
}

/// `December 17` (or `Dec 17`) as month and day numbers.
fn month_day(text: &str) -> Option<(u32, u32)> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let (name, day) = text.split_once(' ')?;
    let name = name.trim_end_matches('.');
    if name.len() < 3 {
        return None;
    }
    let month = MONTHS.iter().position(|m| {
        m.len() >= name.len() && m.as_bytes()[..name.len()].eq_ignore_ascii_case(name.as_bytes())
    })?;
    let day: u32 = day.trim().parse().ok()?;
    Some((u32::try_from(month).ok()? + 1, day))
}

/// `+0000`, `-0800`, `+05:30`, `GMT`, `UTC`.
fn utc_offset(text: &str) -> Option<FixedOffset> {
    if text.eq_ignore_ascii_case("gmt") || text.eq_ignore_ascii_case("utc") {
        return FixedOffset::east_opt(0);
    }
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|&c| c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> String {
        read(text).map(|s| s.at.to_rfc3339()).unwrap_or_default()
    }

    #[test]
    fn salesforce_header_dates_read_in_utc() {
        assert_eq!(
            utc("Monday, December 17, 2018, 23:27:57 (-0500)"),
            "2018-12-18T04:27:57+00:00"
        );
        assert_eq!(
            utc("Monday, March 02, 2026, 10:15:03 (+0000)"),
            "2026-03-02T10:15:03+00:00"
        );
        assert_eq!(
            utc("Thursday, December 28, 2017, 21:36:39 (+0800)"),
            "2017-12-28T13:36:39+00:00"
        );
    }

    #[test]
    fn missing_weekday_or_offset_still_reads() {
        let s = read("March 2, 2026, 10:15:03").unwrap();
        assert!(!s.offset_given);
        assert_eq!(s.at.to_rfc3339(), "2026-03-02T10:15:03+00:00");
        assert_eq!(
            utc("Mon, Mar 02, 2026, 10:15 (+05:30)"),
            "2026-03-02T04:45:00+00:00"
        );
    }

    #[test]
    fn nonsense_is_none() {
        for text in [
            "",
            "yesterday",
            "Monday, Smarch 02, 2026, 10:15:03 (+0000)",
            "Monday, March 32, 2026, 10:15:03 (+0000)",
            "Monday, March 02, 2026, 25:15:03 (+0000)",
            "Monday, March 02, 2026, 10:15:03 (+99)",
        ] {
            assert!(read(text).is_none(), "{text}");
        }
    }

    #[test]
    fn the_ends_of_chronos_range_do_not_panic() {
        // Whether these read or not, an offset past the last representable instant is no panic.
        let _ = read("Friday, December 31, 262142, 23:59:59 (-2359)");
        let _ = read("Monday, January 01, -262143, 00:00:00 (+2359)");
        let _ = read("Monday, January 01, 99999999999, 00:00:00 (+0000)");
    }
}
