//! A distribution's times as people write them: an instant with its offset (RFC 3339), or a
//! wall-clock time in the distribution's time zone, which is what "send at 9:00 in Paris"
//! means across a daylight-saving change.

use chrono::{DateTime, LocalResult, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;

/// Milliseconds since the epoch of `text`: RFC 3339 (`2026-12-24T09:00:00+01:00`), or a local
/// time without offset (`2026-12-24T09:00` or with seconds) read in `zone`. A local time that
/// happens twice (clocks going back) is the first; one that never happens (clocks jumping
/// forward) is refused.
pub(crate) fn parse_instant(text: &str, zone: Tz) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.timestamp_millis());
    }
    let local = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .ok_or_else(|| {
            format!(
                "{text:?} is not a time: use RFC 3339 (2026-12-24T09:00:00+01:00) or a local \
                 time in timeZone (2026-12-24T09:00)"
            )
        })?;
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => Ok(at.timestamp_millis()),
        LocalResult::None => Err(format!(
            "{text} does not exist in {zone}: the clocks jump over it"
        )),
    }
}

/// An instant written in a time zone (RFC 3339 with that zone's offset); UTC when the zone is
/// not one chrono-tz knows.
pub(crate) fn rfc3339_in(ms: i64, zone: &str) -> String {
    let at = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    match zone.parse::<Tz>() {
        Ok(tz) => at
            .with_timezone(&tz)
            .to_rfc3339_opts(SecondsFormat::Secs, true),
        Err(_) => at.to_rfc3339_opts(SecondsFormat::Secs, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_with_their_offset_or_in_the_zone() {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
        assert_eq!(
            parse_instant("2026-12-24T09:00:00Z", paris),
            Ok(utc("2026-12-24T09:00:00Z"))
        );
        // Winter in Paris is UTC+1, summer UTC+2.
        assert_eq!(
            parse_instant("2026-12-24T09:00", paris),
            Ok(utc("2026-12-24T08:00:00Z"))
        );
        assert_eq!(
            parse_instant("2026-07-01T09:00:00", paris),
            Ok(utc("2026-07-01T07:00:00Z"))
        );
        // 02:30 on the last Sunday of March does not happen in Paris.
        let gap = parse_instant("2026-03-29T02:30", paris).unwrap_err();
        assert!(gap.contains("does not exist"), "{gap}");
        assert!(parse_instant("tomorrow", paris)
            .unwrap_err()
            .contains("RFC 3339"));
        assert_eq!(
            rfc3339_in(utc("2026-12-24T08:00:00Z"), "Europe/Paris"),
            "2026-12-24T09:00:00+01:00"
        );
    }
}
