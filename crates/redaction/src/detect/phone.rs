//! Telephone numbers, from their shape: international (`+44 20 7946 0958`, `+14155550132`)
//! and national forms (`(415) 555-0132`, `415.555.0132`, `020 7946 0958`, `06 12 34 56 78`),
//! 7 to 15 digits. Dates, times, amounts, IP addresses and bare digit runs are not phones.

use super::{end_of_token, is_word_byte, next_digit, Finding, Kind};

const MIN_DIGITS: usize = 7;
/// E.164's longest number.
const MAX_DIGITS: usize = 15;
/// A run longer than this is a table of numbers, not something to carve phones out of.
const MAX_GROUPS: usize = 16;

/// Digits between two separators, or a parenthesised area code `(415)`.
#[derive(Debug, Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
    digits: usize,
    /// The first two digits (the second is 0 for a one-digit group).
    lead: [u8; 2],
    parenthesised: bool,
    /// The separator before this group: a space, dash or dot; 0 for none (`(415)555…`) and for
    /// the first group of a run.
    separator: u8,
}

pub(crate) fn find(text: &[u8], out: &mut Vec<Finding>) {
    let mut groups = Vec::new();
    let mut from = 0;
    while let Some(digit) = next_digit(text, from) {
        let (start, plus) = run_start(text, digit);
        if let Some(barrier) = date_or_time(text, digit) {
            from = barrier;
            continue;
        }
        if !stands_alone_on_the_left(text, start) {
            from = end_of_token(text, digit);
            continue;
        }
        let end = read_run(text, start + usize::from(plus), &mut groups);
        trim_right(text, &mut groups);
        pick_phones(&groups, plus.then_some(start), out);
        from = end.max(digit + 1);
    }
}

/// A run may start with a `+` and an opening parenthesis before its first digit.
fn run_start(text: &[u8], digit: usize) -> (usize, bool) {
    let mut start = digit;
    if start > 0 && text[start - 1] == b'(' && parenthesised_group(text, start - 1).is_some() {
        start -= 1;
    }
    let plus = start > 0 && text[start - 1] == b'+';
    (start - usize::from(plus), plus)
}

fn stands_alone_on_the_left(text: &[u8], start: usize) -> bool {
    let before = &text[..start];
    match before {
        [] => true,
        // The decimals of an amount, the rest of a date or a time, a fraction.
        [.., d, b'.' | b',' | b'/' | b':'] if d.is_ascii_digit() => false,
        [.., b] if is_word_byte(*b) || *b == b'+' => false,
        _ => !after_currency(before),
    }
}

fn after_currency(before: &[u8]) -> bool {
    let before = before.strip_suffix(b" ").unwrap_or(before);
    ["$", "€", "£", "¥", "₹"]
        .iter()
        .any(|symbol| before.ends_with(symbol.as_bytes()))
}

/// Reads the groups of a run from `at`, stopping before a date or time; returns where the run
/// ends.
fn read_run(text: &[u8], mut at: usize, groups: &mut Vec<Group>) -> usize {
    groups.clear();
    let mut separator = 0;
    loop {
        if !groups.is_empty() && date_or_time(text, at).is_some() {
            break;
        }
        let Some(group) = read_group(text, at, separator) else {
            break;
        };
        groups.push(group);
        at = group.end;
        if groups.len() > MAX_GROUPS {
            break;
        }
        let next = text.get(at + 1).copied().unwrap_or(0);
        let group_follows = next.is_ascii_digit() || next == b'(';
        match text.get(at) {
            Some(&b @ (b' ' | b'-' | b'.')) if group_follows => {
                separator = b;
                at += 1;
            }
            Some(b) if group.parenthesised && b.is_ascii_digit() => separator = 0,
            _ => break,
        }
    }
    groups.last().map_or(at, |g| g.end)
}

fn read_group(text: &[u8], at: usize, separator: u8) -> Option<Group> {
    if text.get(at) == Some(&b'(') {
        let end = parenthesised_group(text, at)?;
        return Some(Group {
            start: at,
            end,
            digits: end - at - 2,
            lead: [text[at + 1], if end - at > 3 { text[at + 2] } else { 0 }],
            parenthesised: true,
            separator,
        });
    }
    let digits = text
        .get(at..)?
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    (digits > 0).then(|| Group {
        start: at,
        end: at + digits,
        digits,
        lead: [text[at], if digits > 1 { text[at + 1] } else { 0 }],
        parenthesised: false,
        separator,
    })
}

/// `(415)` or `(0)`: where it ends, if the parenthesis at `at` holds one to five digits.
fn parenthesised_group(text: &[u8], at: usize) -> Option<usize> {
    let digits = text[at + 1..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let close = at + 1 + digits;
    ((1..=5).contains(&digits) && text.get(close) == Some(&b')')).then_some(close + 1)
}

/// Drops the last group when what follows shows it belongs to something else: letters
/// (`0132kg`), decimals (`567,89`), a fraction or date (`12/26`).
fn trim_right(text: &[u8], groups: &mut Vec<Group>) {
    let Some(last) = groups.last() else {
        return;
    };
    let after = &text[last.end..];
    let belongs_elsewhere = match after {
        [b'.' | b',' | b'/' | b':', d, ..] => d.is_ascii_digit(),
        [b, ..] => is_word_byte(*b),
        [] => false,
    };
    if belongs_elsewhere {
        groups.pop();
    }
}

/// Takes phones from the run, leftmost first and each as long as it can be. A run is cut only
/// at spaces (`5 415-555-0132`, two numbers side by side), and a piece cut out must show a
/// phone's punctuation: otherwise any list of numbers (`4111 1111 1111 1112`, a mistyped card)
/// would have a "phone" inside it.
fn pick_phones(groups: &[Group], plus: Option<usize>, out: &mut Vec<Finding>) {
    if groups.is_empty() {
        return;
    }
    if is_phone(groups, plus.is_some()) {
        out.push(Finding {
            start: plus.unwrap_or(groups[0].start),
            end: groups[groups.len() - 1].end,
            kind: Kind::Phone,
        });
        return;
    }
    if groups.len() == 1 {
        return;
    }
    let cuts: Vec<usize> = (0..groups.len())
        .filter(|&i| i == 0 || groups[i].separator == b' ')
        .chain([groups.len()])
        .collect();
    let mut first = 0;
    while first + 1 < cuts.len() {
        let piece = (first + 1..cuts.len()).rev().find_map(|last| {
            let piece = &groups[cuts[first]..cuts[last]];
            let plus = first == 0 && plus.is_some();
            let punctuated = plus
                || piece
                    .iter()
                    .any(|g| g.parenthesised || matches!(g.separator, b'-' | b'.'));
            let whole = first == 0 && last == cuts.len() - 1;
            (!whole && punctuated && is_phone(piece, plus)).then_some((piece, last))
        });
        match piece {
            Some((piece, last)) => {
                let start = match plus {
                    Some(plus) if first == 0 => plus,
                    _ => piece[0].start,
                };
                out.push(Finding {
                    start,
                    end: piece[piece.len() - 1].end,
                    kind: Kind::Phone,
                });
                first = last;
            }
            None => first += 1,
        }
    }
}

fn is_phone(groups: &[Group], plus: bool) -> bool {
    let digits: usize = groups.iter().map(|g| g.digits).sum();
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&digits) {
        return false;
    }
    // People write a leading + before a phone number and before little else.
    if plus {
        return true;
    }
    let first = groups[0];
    let trunk = first.lead[0] == b'0';
    let international = first.lead == *b"00";
    if groups.len() == 1 {
        // A bare digit run is an order or account number far more often than a phone, unless
        // it opens with a trunk (0612345678) or international (0044…) prefix.
        return !first.parenthesised
            && ((trunk && (10..=11).contains(&digits)) || (international && digits >= 11));
    }
    if is_ssn_shaped(groups) || is_amount(groups) || is_ip_address(groups) {
        return false;
    }
    if first.parenthesised {
        return digits <= 12 && groups[1..].iter().all(|g| g.digits >= 2);
    }
    if trunk {
        let longest = if international { MAX_DIGITS } else { 12 };
        return (9..=longest).contains(&digits)
            && groups.iter().all(|g| (2..=8).contains(&g.digits));
    }
    let in_small_groups = groups.len() >= 3
        && (9..=12).contains(&digits)
        && groups.iter().all(|g| (2..=4).contains(&g.digits));
    (in_small_groups && !is_list(groups)) || is_north_american(groups)
}

/// Numbers all as long as each other (`12 34 56 78 90`, `2019 2020 2021`) are a list; a phone
/// number mixes group lengths, but for the 3-3-3 of nine-digit plans (`612 345 678`).
fn is_list(groups: &[Group]) -> bool {
    let same_length = groups.iter().all(|g| g.digits == groups[0].digits);
    same_length && !(groups.len() == 3 && groups[0].digits == 3)
}

/// `1 415 555 0132`, `1-(415)-555-0132`, or a seven-digit local `555-0132`; area codes and
/// exchanges never start with 0 or 1.
fn is_north_american(groups: &[Group]) -> bool {
    let groups = match groups {
        [one, rest @ ..] if one.digits == 1 && one.lead[0] == b'1' => rest,
        _ => groups,
    };
    let plan = |g: &Group| (b'2'..=b'9').contains(&g.lead[0]);
    match groups {
        [area, exchange, line] => {
            area.digits == 3
                && exchange.digits == 3
                && line.digits == 4
                && plan(area)
                && plan(exchange)
                && !exchange.parenthesised
                && !line.parenthesised
        }
        [exchange, line] => {
            exchange.digits == 3
                && line.digits == 4
                && plan(exchange)
                && line.separator == b'-'
                && !exchange.parenthesised
                && !line.parenthesised
        }
        _ => false,
    }
}

/// `123-45-6789` is the SSN detector's to judge; a phone is never written that way.
fn is_ssn_shaped(groups: &[Group]) -> bool {
    matches!(groups, [a, b, c]
        if a.digits == 3 && b.digits == 2 && c.digits == 4
            && !a.parenthesised
            && matches!(b.separator, b'-' | b' ')
            && c.separator == b.separator)
}

/// Thousands grouping: `1 234 567`, `12 345 678`, `1.234.567`, `123.456.789`.
fn is_amount(groups: &[Group]) -> bool {
    let first = groups[0];
    let rest = &groups[1..];
    let thousands = rest.iter().all(|g| g.digits == 3 && !g.parenthesised);
    let dotted = rest.iter().all(|g| g.separator == b'.');
    !first.parenthesised && thousands && (first.digits < 3 || dotted)
}

/// `10.200.30.40`.
fn is_ip_address(groups: &[Group]) -> bool {
    groups.len() == 4
        && groups[1..].iter().all(|g| g.separator == b'.')
        && groups.iter().all(|g| g.digits <= 3 && !g.parenthesised)
}

/// Where the date (`2026-12-03`, `03/12/2026`, `3.12.2026`) or time (`10:30`, `10:30:45`)
/// starting at `at` ends, if one does.
fn date_or_time(text: &[u8], at: usize) -> Option<usize> {
    let run = |from: usize| {
        text.get(from..).map_or(0, |rest| {
            rest.iter().take_while(|b| b.is_ascii_digit()).count()
        })
    };
    let value = |from: usize, len: usize| {
        text[from..from + len]
            .iter()
            .fold(0u32, |n, b| n * 10 + u32::from(b - b'0'))
    };
    let first = run(at);
    let after_first = at + first;
    let separator = *text.get(after_first)?;
    if separator == b':' && (1..=2).contains(&first) && run(after_first + 1) == 2 {
        let minutes = after_first + 1;
        let end = minutes + 2;
        let plausible = value(at, first) <= 24 && value(minutes, 2) <= 59;
        let end = if text.get(end) == Some(&b':') && run(end + 1) == 2 {
            end + 3
        } else {
            end
        };
        return plausible.then_some(end);
    }
    if !matches!(separator, b'-' | b'.' | b'/') {
        return None;
    }
    let second_at = after_first + 1;
    let second = run(second_at);
    let third_at = second_at + second + 1;
    if !(1..=2).contains(&second) || text.get(third_at - 1) != Some(&separator) {
        return None;
    }
    let third = run(third_at);
    let year = |from: usize| (1900..=2099).contains(&value(from, 4));
    let day_or_month = |n: u32| (1..=31).contains(&n);
    let plausible = match (first, third) {
        (4, 1..=2) => {
            year(at)
                && (1..=12).contains(&value(second_at, second))
                && day_or_month(value(third_at, third))
        }
        (1..=2, 4) => {
            let (a, b) = (value(at, first), value(second_at, second));
            year(third_at) && day_or_month(a) && day_or_month(b) && (a <= 12 || b <= 12)
        }
        _ => false,
    };
    plausible.then_some(third_at + third)
}

#[cfg(test)]
mod tests {
    use super::super::found;
    use super::*;

    fn phones(text: &str) -> Vec<&str> {
        found(find, text)
    }

    #[test]
    fn finds_international_numbers() {
        for phone in [
            "+14155550132",
            "+1 415 555 0132",
            "+1 (415) 555-0132",
            "+1-415-555-0132",
            "+44 20 7946 0958",
            "+44 (0)20 7946 0958",
            "+44.20.7946.0958",
            "+33 6 12 34 56 78",
            "+49 151 12345678",
            "+353 1 234 5678",
            "+4915112345678",
        ] {
            assert_eq!(phones(&format!("call {phone} now")), [phone], "{phone}");
            assert_eq!(phones(&format!("tel:{phone}.")), [phone], "{phone}");
        }
    }

    #[test]
    fn finds_national_numbers() {
        for phone in [
            "(415) 555-0132",
            "(415)555-0132",
            "415-555-0132",
            "415.555.0132",
            "415 555 0132",
            "1-415-555-0132",
            "1 (415) 555-0132",
            "555-0132",
            "020 7946 0958",
            "(020) 7946 0958",
            "06 12 34 56 78",
            "06.12.34.56.78",
            "06-12345678",
            "0151 12345678",
            "07911 123456",
            "0612345678",
            "07911123456",
            "0044 20 7946 0958",
            "00442079460958",
            "612 34 56 78",
            "612 345 678",
            "91 123 45 67",
        ] {
            assert_eq!(
                phones(&format!("Call me on {phone}, thanks")),
                [phone],
                "{phone}"
            );
        }
    }

    #[test]
    fn finds_two_numbers_side_by_side_or_after_other_digits() {
        assert_eq!(
            phones("415-555-0132 415-555-0199"),
            ["415-555-0132", "415-555-0199"]
        );
        assert_eq!(phones("press 5 415-555-0132"), ["415-555-0132"]);
        assert_eq!(phones("+1 415 555 0132, 2 times"), ["+1 415 555 0132"]);
        assert_eq!(phones("call 415-555-0132 10:30 or 11:00"), ["415-555-0132"]);
        assert_eq!(phones("2026-12-03 415-555-0132"), ["415-555-0132"]);
    }

    #[test]
    fn leaves_dates_and_times() {
        for text in [
            "2026-12-03",
            "2026.12.03",
            "2026/12/03",
            "03/12/2026",
            "12-03-2026",
            "03.12.2026",
            "3.12.2026",
            "03.12.2026 10:30",
            "2026-12-03 10:30:45",
            "2026-12-03T10:30:00Z",
            "10:30",
            "from 9:00 to 17:30",
            "12/03/26",
        ] {
            assert!(phones(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn leaves_amounts_and_plain_numbers() {
        for text in [
            "$1,234.56",
            "$1234567.89",
            "€ 1.234.567",
            "1 234 567 €",
            "12 345 678 people",
            "1.234.567",
            "1 234 567,89",
            "42",
            "12345",
            "order 12345678",
            "order 4155550132",
            "ticket 1234-5678",
            "lottery 12 34 56 78 90",
            "in 2019 2020 2021",
            "5+5551234",
            "x4155550132",
        ] {
            assert!(phones(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn leaves_ip_addresses_ssns_and_card_shapes() {
        for text in [
            "10.200.30.40",
            "192.168.1.1",
            "123-45-6789",
            "123 45 6789",
            "4111 1111 1111 1112",
            "4111-1111-1111-1111",
            "4111111111111111",
            "DE89 3704 0044 0532 0130 00",
        ] {
            assert!(phones(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn leaves_too_few_or_too_many_digits() {
        assert!(phones("+123456").is_empty());
        assert!(phones("+1234567890123456").is_empty());
        assert!(phones("0612 34").is_empty());
    }
}
