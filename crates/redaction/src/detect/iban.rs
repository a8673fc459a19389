//! International bank account numbers: a country code, two check digits and the national
//! account number, compact or printed in groups of four, the length the country's IBANs have,
//! and mod-97 equal to 1 (ISO 13616).

use super::{end_of_token, is_word_byte, next_digit, Finding, Kind};

/// The longest IBAN of any country (Saint Lucia's, 32) is within this.
const MAX_LEN: usize = 34;

/// IBAN length by country, from the SWIFT IBAN registry. A country missing here is not
/// detected: without its length, any code-plus-digits token would have to be tried.
const LENGTHS: &[([u8; 2], usize)] = &[
    (*b"AD", 24),
    (*b"AE", 23),
    (*b"AL", 28),
    (*b"AT", 20),
    (*b"AZ", 28),
    (*b"BA", 20),
    (*b"BE", 16),
    (*b"BG", 22),
    (*b"BH", 22),
    (*b"BR", 29),
    (*b"BY", 28),
    (*b"CH", 21),
    (*b"CR", 22),
    (*b"CY", 28),
    (*b"CZ", 24),
    (*b"DE", 22),
    (*b"DK", 18),
    (*b"DO", 28),
    (*b"EE", 20),
    (*b"EG", 29),
    (*b"ES", 24),
    (*b"FI", 18),
    (*b"FO", 18),
    (*b"FR", 27),
    (*b"GB", 22),
    (*b"GE", 22),
    (*b"GI", 23),
    (*b"GL", 18),
    (*b"GR", 27),
    (*b"GT", 28),
    (*b"HR", 21),
    (*b"HU", 28),
    (*b"IE", 22),
    (*b"IL", 23),
    (*b"IQ", 23),
    (*b"IS", 26),
    (*b"IT", 27),
    (*b"JO", 30),
    (*b"KW", 30),
    (*b"KZ", 20),
    (*b"LB", 28),
    (*b"LC", 32),
    (*b"LI", 21),
    (*b"LT", 20),
    (*b"LU", 20),
    (*b"LV", 21),
    (*b"MC", 27),
    (*b"MD", 24),
    (*b"ME", 22),
    (*b"MK", 19),
    (*b"MR", 27),
    (*b"MT", 31),
    (*b"MU", 30),
    (*b"NL", 18),
    (*b"NO", 15),
    (*b"PK", 24),
    (*b"PL", 28),
    (*b"PS", 29),
    (*b"PT", 25),
    (*b"QA", 29),
    (*b"RO", 24),
    (*b"RS", 22),
    (*b"SA", 24),
    (*b"SC", 31),
    (*b"SE", 24),
    (*b"SI", 19),
    (*b"SK", 24),
    (*b"SM", 27),
    (*b"ST", 25),
    (*b"SV", 28),
    (*b"TL", 23),
    (*b"TN", 24),
    (*b"TR", 26),
    (*b"UA", 29),
    (*b"VA", 22),
    (*b"VG", 24),
    (*b"XK", 20),
];

fn iban_length(country: [u8; 2]) -> Option<usize> {
    LENGTHS
        .binary_search_by_key(&country, |&(code, _)| code)
        .ok()
        .map(|at| LENGTHS[at].1)
}

pub(crate) fn find(text: &[u8], out: &mut Vec<Finding>) {
    let mut from = 0;
    // An IBAN's first digits are its check digits, right after the two letters of the country.
    while let Some(digit) = next_digit(text, from) {
        // Only the first digit of a run can follow the country code.
        from = end_of_token(text, digit);
        let Some(start) = digit.checked_sub(2) else {
            continue;
        };
        let starts_token = start == 0 || !is_word_byte(text[start - 1]);
        if !starts_token
            || !text[start].is_ascii_alphabetic()
            || !text[start + 1].is_ascii_alphabetic()
        {
            continue;
        }
        if let Some(end) = read_iban(text, start) {
            out.push(Finding {
                start,
                end,
                kind: Kind::Iban,
            });
            from = end;
        }
    }
}

/// Reads an IBAN starting at the country code; returns where it ends.
fn read_iban(text: &[u8], start: usize) -> Option<usize> {
    let country = [
        text[start].to_ascii_uppercase(),
        text[start + 1].to_ascii_uppercase(),
    ];
    let len = iban_length(country)?;
    let mut chars = [0u8; MAX_LEN];
    let mut count = 0;
    let mut at = start;
    // Printed IBANs have a space after every four characters; a compact one has none.
    let mut grouped = None;
    while count < len {
        if count > 0 && count % 4 == 0 {
            let spaced = text.get(at) == Some(&b' ');
            if *grouped.get_or_insert(spaced) != spaced {
                return None;
            }
            if spaced {
                at += 1;
            }
        }
        let &b = text.get(at)?;
        if !b.is_ascii_alphanumeric() {
            return None;
        }
        chars[count] = b.to_ascii_uppercase();
        count += 1;
        at += 1;
    }
    if text.get(at).is_some_and(|&b| is_word_byte(b)) {
        return None;
    }
    let iban = &chars[..len];
    let [tens, units] = [iban[2], iban[3]];
    if !tens.is_ascii_digit() || !units.is_ascii_digit() {
        return None;
    }
    // The check digits are 98 minus a remainder, so 00, 01 and 99 are never issued.
    let check = (tens - b'0') * 10 + (units - b'0');
    ((2..=98).contains(&check) && iso_7064_remainder(iban) == 1).then_some(at)
}

/// ISO 7064 mod 97-10 over the IBAN with its first four characters moved to the end, letters
/// counting as 10 (A) to 35 (Z).
fn iso_7064_remainder(iban: &[u8]) -> u32 {
    let rest = mod_97(&iban[4..], 0);
    mod_97(&iban[..4], rest)
}

fn mod_97(chars: &[u8], mut remainder: u32) -> u32 {
    for &c in chars {
        remainder = if c.is_ascii_digit() {
            (remainder * 10 + u32::from(c - b'0')) % 97
        } else {
            (remainder * 100 + u32::from(c - b'A') + 10) % 97
        };
    }
    remainder
}

#[cfg(test)]
mod tests {
    use super::super::found;
    use super::*;

    fn ibans(text: &str) -> Vec<&str> {
        found(find, text)
    }

    #[test]
    fn the_country_table_is_sorted_for_binary_search() {
        assert!(LENGTHS.windows(2).all(|pair| pair[0].0 < pair[1].0));
        assert!(LENGTHS.iter().all(|&(_, len)| len <= MAX_LEN));
    }

    #[test]
    fn finds_ibans_of_the_sepa_countries_compact_and_printed() {
        let examples = [
            "DE89 3704 0044 0532 0130 00",
            "GB82 WEST 1234 5698 7654 32",
            "FR14 2004 1010 0505 0001 3M02 606",
            "NL91 ABNA 0417 1643 00",
            "ES91 2100 0418 4502 0005 1332",
            "IT60 X054 2811 1010 0000 0123 456",
            "BE68 5390 0754 7034",
            "CH93 0076 2011 6238 5295 7",
            "AT61 1904 3002 3457 3201",
            "IE29 AIBK 9311 5212 3456 78",
            "PL61 1090 1014 0000 0712 1981 2874",
            "PT50 0002 0123 1234 5678 9015 4",
            "SE45 5000 0000 0583 9825 7466",
            "DK50 0040 0440 1162 43",
            "NO93 8601 1117 947",
            "FI21 1234 5600 0007 85",
            "LU28 0019 4006 4475 0000",
        ];
        for printed in examples {
            let compact: String = printed.split(' ').collect();
            let text = format!("IBAN: {printed}, thanks");
            assert_eq!(ibans(&text), [printed], "printed {printed}");
            let text = format!("iban {compact}.");
            assert_eq!(ibans(&text), [compact.as_str()], "compact {compact}");
        }
    }

    #[test]
    fn case_does_not_matter() {
        assert_eq!(ibans("de89370400440532013000"), ["de89370400440532013000"]);
        assert_eq!(
            ibans("gb82 west 1234 5698 7654 32"),
            ["gb82 west 1234 5698 7654 32"]
        );
    }

    #[test]
    fn leaves_a_wrong_check_digit_or_a_typo() {
        assert!(ibans("DE88 3704 0044 0532 0130 00").is_empty());
        assert!(ibans("DE89 3704 0044 0532 0130 01").is_empty());
        assert!(ibans("GB82 WEST 1234 5698 7654 33").is_empty());
    }

    #[test]
    fn leaves_the_wrong_length_for_the_country() {
        // A valid German IBAN is 22 characters; one short, or the same digits as Belgian.
        assert!(ibans("DE89 3704 0044 0532 0130 0").is_empty());
        assert!(ibans("DE89370400440532013000 1").len() == 1);
        assert!(ibans("DE893704004405320130001").is_empty());
        assert!(ibans("BE89370400440532013000").is_empty());
    }

    #[test]
    fn leaves_unknown_countries_and_glued_tokens() {
        assert!(ibans("XX89 3704 0044 0532 0130 00").is_empty());
        assert!(ibans("ADE89370400440532013000").is_empty());
    }

    #[test]
    fn leaves_irregular_grouping() {
        assert!(ibans("DE89 37040044 0532013000").is_empty());
        assert!(ibans("DE8937040044 0532 0130 00").is_empty());
        assert!(ibans("DE89  3704 0044 0532 0130 00").is_empty());
    }
}
