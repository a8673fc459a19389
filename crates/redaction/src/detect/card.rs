//! Payment card numbers: 13–19 digits that pass the Luhn check, written whole
//! (`378282246310005`) or in the groups printed on the card (`4111 1111 1111 1111`).

use super::{end_of_token, is_word_byte, luhn_valid, next_digit, Finding, Kind};

const MIN_DIGITS: usize = 13;
const MAX_DIGITS: usize = 19;
/// The most groups a card is printed in (4-4-4-4-3).
const MAX_GROUPS: usize = 5;

/// Digits between two separators, as byte offsets.
#[derive(Debug, Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
    /// The separator before this group (a space or a dash); 0 for the first of a run.
    separator: u8,
}

impl Group {
    fn len(&self) -> usize {
        self.end - self.start
    }
}

pub(crate) fn find(text: &[u8], out: &mut Vec<Finding>) {
    let mut groups = Vec::new();
    let mut from = 0;
    while let Some(digit) = next_digit(text, from) {
        if digit > 0 && is_word_byte(text[digit - 1]) {
            // Digits glued to letters are an ID (`SO4111…`), not a card someone typed.
            from = end_of_token(text, digit);
            continue;
        }
        let end = read_groups(text, digit, &mut groups);
        let glued_at_end = end < text.len() && is_word_byte(text[end]);
        let usable = if glued_at_end {
            groups.len() - 1
        } else {
            groups.len()
        };
        pick_cards(text, &groups[..usable], out);
        from = if glued_at_end {
            end_of_token(text, end)
        } else {
            end
        };
    }
}

/// Reads the digit groups joined by single spaces or dashes from `start`; returns where the
/// run ends. The whole run is read so that a card is never cut out of the middle of a longer
/// digit run (an order number).
fn read_groups(text: &[u8], start: usize, groups: &mut Vec<Group>) -> usize {
    groups.clear();
    let mut at = start;
    let mut separator = 0;
    loop {
        let end = text[at..]
            .iter()
            .position(|b| !b.is_ascii_digit())
            .map_or(text.len(), |len| at + len);
        groups.push(Group {
            start: at,
            end,
            separator,
        });
        let joined = matches!(text.get(end), Some(b' ' | b'-'))
            && text.get(end + 1).is_some_and(u8::is_ascii_digit);
        if !joined {
            return end;
        }
        separator = text[end];
        at = end + 1;
    }
}

/// Takes cards from the run's groups, leftmost first, each as long as it can be. A card may
/// stand beside other numbers across a space (`4111 1111 1111 1111 1226`, the expiry), but a
/// dash makes one token of its groups (`4111-1111-1111-1111-1111` is an ID).
fn pick_cards(text: &[u8], groups: &[Group], out: &mut Vec<Finding>) {
    let apart = |at: usize| at == 0 || at == groups.len() || groups[at].separator == b' ';
    let mut first = 0;
    while first < groups.len() {
        let longest = (first + 1..=groups.len().min(first + MAX_GROUPS))
            .rev()
            .find(|&end| apart(first) && apart(end) && is_card(text, &groups[first..end]));
        match longest {
            Some(end) => {
                out.push(Finding {
                    start: groups[first].start,
                    end: groups[end - 1].end,
                    kind: Kind::Card,
                });
                first = end;
            }
            None => first += 1,
        }
    }
}

fn is_card(text: &[u8], groups: &[Group]) -> bool {
    let digits: usize = groups.iter().map(Group::len).sum();
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&digits) || !is_printed_grouping(groups) {
        return false;
    }
    luhn_valid(&text[groups[0].start..groups[groups.len() - 1].end])
}

/// Whole (one group), or the groupings cards are printed in: fours with a shorter last group
/// (4-4-4-4, 4-4-4-4-3, 4-4-4-1) or the 4-6-5 and 4-6-4 of American Express and Diners, with
/// one separator throughout. Arbitrary groupings would make any list of numbers a card one
/// time in ten.
fn is_printed_grouping(groups: &[Group]) -> bool {
    let [first, rest @ ..] = groups else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    if rest.iter().any(|g| g.separator != rest[0].separator) {
        return false;
    }
    let lens = || groups.iter().map(Group::len);
    let fours = first.len() == 4
        && lens().take(groups.len() - 1).all(|len| len == 4)
        && (1..=4).contains(&groups[groups.len() - 1].len());
    let amex_diners = groups.len() == 3
        && first.len() == 4
        && rest[0].len() == 6
        && (4..=5).contains(&rest[1].len());
    fours || amex_diners
}

#[cfg(test)]
mod tests {
    use super::super::found;
    use super::*;

    fn cards(text: &str) -> Vec<&str> {
        found(find, text)
    }

    #[test]
    fn finds_whole_and_grouped_card_numbers() {
        assert_eq!(cards("card 4111111111111111 ok"), ["4111111111111111"]);
        assert_eq!(cards("4111 1111 1111 1111"), ["4111 1111 1111 1111"]);
        assert_eq!(cards("(4111-1111-1111-1111)"), ["4111-1111-1111-1111"]);
        assert_eq!(cards("amex 378282246310005."), ["378282246310005"]);
        assert_eq!(cards("amex 3782 822463 10005"), ["3782 822463 10005"]);
        assert_eq!(cards("diners 3056 930902 5904"), ["3056 930902 5904"]);
        assert_eq!(
            cards("mc 5555555555554444, visa 4012888888881881"),
            ["5555555555554444", "4012888888881881"]
        );
        // 13 and 19 digits, the shortest and longest card numbers.
        assert_eq!(cards("4222222222222"), ["4222222222222"]);
        assert_eq!(
            cards("6011 0009 9013 9424 009"),
            ["6011 0009 9013 9424 009"]
        );
        assert_eq!(cards("6011000990139424009"), ["6011000990139424009"]);
    }

    #[test]
    fn finds_a_card_beside_other_numbers_in_the_same_run() {
        // The expiry after the number, or a count before it, is not part of the card.
        assert_eq!(cards("4111 1111 1111 1111 1226"), ["4111 1111 1111 1111"]);
        assert_eq!(cards("2 4111 1111 1111 1111"), ["4111 1111 1111 1111"]);
        assert_eq!(cards("2 4111111111111111"), ["4111111111111111"]);
    }

    #[test]
    fn leaves_a_card_shape_dashed_into_a_longer_id() {
        assert!(cards("ID 4111-1111-1111-1111-1111").is_empty());
        assert!(cards("ref 12-4111111111111111").is_empty());
        assert!(cards("4111111111111111-12").is_empty());
    }

    #[test]
    fn leaves_luhn_invalid_numbers_and_longer_digit_runs() {
        assert!(cards("order 4111111111111112").is_empty());
        assert!(cards("4111 1111 1111 1112").is_empty());
        // A Luhn-valid 16 digits inside a 17- or 20-digit order number.
        assert!(cards("order 41111111111111110").is_empty());
        assert!(cards("order 94111111111111111").is_empty());
        assert!(cards("00004111111111111111").is_empty());
        // Glued to letters: an ID, not a typed card number.
        assert!(cards("SO4111111111111111").is_empty());
        assert!(cards("4111111111111111x").is_empty());
    }

    #[test]
    fn leaves_numbers_too_short_or_too_long() {
        // 12 digits, Luhn-valid.
        assert!(cards("411111111117").is_empty());
        // 20 digits, Luhn-valid.
        assert!(cards("41111111111111111115").is_empty());
    }

    #[test]
    fn leaves_groupings_no_card_is_printed_in() {
        // Luhn-valid 4111111111111111 grouped as nobody writes a card.
        assert!(cards("41 11 11 11 11 11 11 11").is_empty());
        assert!(cards("411 111 111 111 1111").is_empty());
        // Mixed separators.
        assert!(cards("4111 1111-1111 1111").is_empty());
        // Two spaces are two fields, not one number.
        assert!(cards("4111  1111  1111  1111").is_empty());
    }
}
