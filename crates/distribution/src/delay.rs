//! How long after the event a triggered invitation waits: an ISO 8601 duration (`PT24H`,
//! `P1D`, `PT30M`, `P1W`, `P2DT12H`). Years and months are refused: their length depends on
//! the calendar, and "24 h after the case closed" should mean exactly that.

/// The longest delay: a year of days.
pub const MAX_DELAY_MS: i64 = 365 * 86_400_000;

/// The delay in milliseconds, or what is wrong with it in words.
pub fn parse(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let parsed = iso8601::duration(t).map_err(|_| {
        format!("{t:?} is not an ISO 8601 duration (write PT24H for 24 hours, P2D for 2 days)")
    })?;
    let ms = match parsed {
        iso8601::Duration::Weeks(w) => i64::from(w) * 7 * 86_400_000,
        iso8601::Duration::YMDHMS {
            year,
            month,
            day,
            hour,
            minute,
            second,
            millisecond,
        } => {
            if year != 0 || month != 0 {
                return Err(format!(
                    "{t:?}: give the delay in weeks, days, hours or minutes (P30D rather than P1M)"
                ));
            }
            i64::from(day) * 86_400_000
                + i64::from(hour) * 3_600_000
                + i64::from(minute) * 60_000
                + i64::from(second) * 1_000
                + i64::from(millisecond)
        }
    };
    if ms > MAX_DELAY_MS {
        return Err(format!(
            "{t:?} is longer than the longest delay, a year (P365D)"
        ));
    }
    Ok(ms)
}

/// A delay as people read it: `24 h`, `2 d 12 h`, `30 min`.
pub fn describe(ms: i64) -> String {
    let (days, rest) = (ms / 86_400_000, ms % 86_400_000);
    let (hours, rest) = (rest / 3_600_000, rest % 3_600_000);
    let minutes = rest / 60_000;
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} d"));
    }
    if hours > 0 {
        parts.push(format!("{hours} h"));
    }
    if minutes > 0 || parts.is_empty() {
        parts.push(format!("{minutes} min"));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_become_milliseconds() {
        assert_eq!(parse("PT24H"), Ok(86_400_000));
        assert_eq!(parse("P1D"), Ok(86_400_000));
        assert_eq!(parse(" PT30M "), Ok(1_800_000));
        assert_eq!(parse("P1W"), Ok(7 * 86_400_000));
        assert_eq!(parse("P2DT12H"), Ok(60 * 3_600_000));
        assert_eq!(parse("PT0S"), Ok(0));
    }

    #[test]
    fn calendar_lengths_and_nonsense_are_refused_in_words() {
        assert!(parse("P1M").unwrap_err().contains("P30D rather than P1M"));
        assert!(parse("P1Y").is_err());
        assert!(parse("24h").unwrap_err().contains("PT24H"));
        assert!(parse("P400D").unwrap_err().contains("a year"));
    }

    #[test]
    fn delays_read_as_people_say_them() {
        assert_eq!(describe(86_400_000), "1 d");
        assert_eq!(describe(60 * 3_600_000), "2 d 12 h");
        assert_eq!(describe(1_800_000), "30 min");
        assert_eq!(describe(0), "0 min");
    }
}
