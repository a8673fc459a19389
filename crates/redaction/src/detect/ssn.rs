//! US Social Security numbers written `ddd-dd-dddd` or `ddd dd dddd`, without the ones the
//! SSA never issues (area 000, 666 or 900–999, group 00, serial 0000).

use super::{end_of_token, is_word_byte, next_digit, Finding, Kind};

const LEN: usize = 11;

pub(crate) fn find(text: &[u8], out: &mut Vec<Finding>) {
    let mut from = 0;
    while let Some(start) = next_digit(text, from) {
        let end = start + LEN;
        if let Some(candidate) = text.get(start..end) {
            if is_ssn(candidate) && stands_alone(text, start, end, candidate[3]) {
                out.push(Finding {
                    start,
                    end,
                    kind: Kind::Ssn,
                });
                from = end;
                continue;
            }
        }
        from = end_of_token(text, start);
    }
}

fn is_ssn(candidate: &[u8]) -> bool {
    let digits = |range: std::ops::Range<usize>| candidate[range].iter().all(u8::is_ascii_digit);
    let separator = candidate[3];
    let shaped = matches!(separator, b'-' | b' ')
        && candidate[6] == separator
        && digits(0..3)
        && digits(4..6)
        && digits(7..11);
    if !shaped {
        return false;
    }
    let area = &candidate[0..3];
    let issued_area = area != b"000" && area != b"666" && area[0] != b'9';
    issued_area && &candidate[4..6] != b"00" && &candidate[7..11] != b"0000"
}

/// Not glued to letters or digits, nor one more group of a longer run in the same style
/// (`1-123-45-6789`, `123 45 6789 12`).
fn stands_alone(text: &[u8], start: usize, end: usize, separator: u8) -> bool {
    let continues_left = start > 0
        && (is_word_byte(text[start - 1])
            || (start > 1 && text[start - 1] == separator && text[start - 2].is_ascii_digit()));
    let continues_right = text.get(end).is_some_and(|&b| is_word_byte(b))
        || (text.get(end) == Some(&separator) && text.get(end + 1).is_some_and(u8::is_ascii_digit));
    !continues_left && !continues_right
}

#[cfg(test)]
mod tests {
    use super::super::found;
    use super::*;

    fn ssns(text: &str) -> Vec<&str> {
        found(find, text)
    }

    #[test]
    fn finds_dashed_and_spaced_numbers() {
        assert_eq!(ssns("SSN 123-45-6789."), ["123-45-6789"]);
        assert_eq!(ssns("ssn: 123 45 6789"), ["123 45 6789"]);
        assert_eq!(ssns("(078-05-1120)"), ["078-05-1120"]);
        assert_eq!(
            ssns("899-99-9999 and 001-01-0001"),
            ["899-99-9999", "001-01-0001"]
        );
    }

    #[test]
    fn leaves_numbers_never_issued() {
        for text in [
            "000-12-3456",
            "666-12-3456",
            "900-12-3456",
            "999-12-3456",
            "123-00-4567",
            "123-45-0000",
        ] {
            assert!(ssns(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn leaves_other_shapes_and_longer_runs() {
        for text in [
            "123-45-678",
            "123-456-789",
            "123-45 6789",
            "123456789",
            "1123-45-6789",
            "123-45-67890",
            "1-123-45-6789",
            "123-45-6789-1",
            "1 123 45 6789",
            "A123-45-6789",
            "123-45-6789x",
        ] {
            assert!(ssns(text).is_empty(), "{text}");
        }
    }
}
