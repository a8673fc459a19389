//! The built-in detectors, one module each, as hand-written scanners over the text's bytes.
//! Each reports every candidate it accepts; the redactor decides between overlapping ones.

pub(crate) mod card;
pub(crate) mod email;
pub(crate) mod iban;
pub(crate) mod phone;
pub(crate) mod ssn;

/// What a finding is. The order is the precedence between two findings that start at the same
/// place and are as long as each other: the earlier variant wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Card,
    Iban,
    Email,
    Ssn,
    Phone,
    /// The custom pattern at this index in the rules.
    Custom(usize),
}

impl Kind {
    /// Card numbers and IBANs carry a checksum and an email has a grammar, so they are trusted
    /// over the shape-only detectors (phone, SSN) and admins' patterns, which are resolved
    /// only in the text those leave.
    pub(crate) fn is_checked(self) -> bool {
        matches!(self, Kind::Card | Kind::Iban | Kind::Email)
    }
}

/// One detector's search over a text, adding what it finds.
pub(crate) type Scanner = fn(&[u8], &mut Vec<Finding>);

/// A stretch of the text a detector or custom pattern wants masked, as byte offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Finding {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

/// Letters and digits glue a number into a longer token (an ID like `SO4111…`, a word).
pub(crate) fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

pub(crate) fn next_digit(text: &[u8], from: usize) -> Option<usize> {
    text.get(from..)?
        .iter()
        .position(u8::is_ascii_digit)
        .map(|at| from + at)
}

/// Where the run of letters and digits holding `at` ends.
pub(crate) fn end_of_token(text: &[u8], at: usize) -> usize {
    text[at..]
        .iter()
        .position(|&b| !is_word_byte(b))
        .map_or(text.len(), |len| at + len)
}

/// The Luhn check over the digits of `text`, ignoring anything else (group separators).
pub(crate) fn luhn_valid(text: &[u8]) -> bool {
    let mut sum = 0u32;
    let mut double = false;
    for &b in text.iter().rev().filter(|b| b.is_ascii_digit()) {
        let mut digit = u32::from(b - b'0');
        if double {
            digit *= 2;
            if digit > 9 {
                digit -= 9;
            }
        }
        sum += digit;
        double = !double;
    }
    sum.is_multiple_of(10)
}

/// The texts one detector accepts, for unit tests.
#[cfg(test)]
pub(crate) fn found(find: Scanner, text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    find(text.as_bytes(), &mut out);
    out.iter().map(|f| &text[f.start..f.end]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_known_test_cards_and_refuses_a_changed_digit() {
        assert!(luhn_valid(b"4111111111111111"));
        assert!(luhn_valid(b"4111 1111 1111 1111"));
        assert!(luhn_valid(b"378282246310005"));
        assert!(luhn_valid(b"5555555555554444"));
        assert!(!luhn_valid(b"4111111111111112"));
        assert!(!luhn_valid(b"378282246310006"));
    }

    #[test]
    fn precedence_puts_checked_detectors_before_shape_detectors() {
        assert!(Kind::Card < Kind::Iban && Kind::Iban < Kind::Email);
        assert!(Kind::Email < Kind::Ssn && Kind::Ssn < Kind::Phone);
        assert!(Kind::Phone < Kind::Custom(0) && Kind::Custom(0) < Kind::Custom(1));
        assert!(Kind::Card.is_checked() && !Kind::Phone.is_checked());
    }
}
