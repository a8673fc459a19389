//! How many SMS segments a text costs. Carriers bill per segment, and one character outside the
//! GSM-7 alphabet (an emoji, a curly quote) switches the whole message to UCS-2, cutting a
//! segment from 160 to 70 characters: template authors need to see that while they write.
//!
//! - **GSM-7** (3GPP TS 23.038 default alphabet): 160 septets in one message; a longer message
//!   is sent in segments of 153 (the rest is the concatenation header). Characters of the
//!   extension table (`{ } [ ] ~ \ | ^ €` and form feed) take two septets (escape + code), and
//!   a pair is never split across segments.
//! - **UCS-2**: 70 UTF-16 code units in one message, 67 per segment when longer; a character
//!   outside the Basic Multilingual Plane (most emoji) takes two units, never split.
//!
//! Some gateways substitute look-alike GSM characters for curly quotes and dashes ("smart
//! encoding"); this count is what the text costs as written, which is what a gateway that does
//! not substitute charges.

use serde::{Deserialize, Serialize};

/// The alphabet a message is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

/// What a text costs as an SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SmsSize {
    pub encoding: Encoding,
    /// Messages billed; 0 for an empty text.
    pub segments: usize,
    /// Characters as a person counts them (Unicode scalar values).
    pub characters: usize,
    /// What the limits count: septets for GSM-7, UTF-16 code units for UCS-2.
    pub units: usize,
}

/// Units that fit in a single message, and in each segment of a longer one.
const GSM_SINGLE: usize = 160;
const GSM_SEGMENT: usize = 153;
const UCS2_SINGLE: usize = 70;
const UCS2_SEGMENT: usize = 67;

/// The GSM-7 default alphabet beyond ASCII letters, digits and the ASCII punctuation it shares
/// (escape, 0x1B, is left out: it only introduces the extension table).
const GSM_BASIC_OTHER: &str = "£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà";

/// Septets a character takes in GSM-7, or `None` when the alphabet lacks it.
fn septets(c: char) -> Option<usize> {
    match c {
        'A'..='Z' | 'a'..='z' | '0'..='9' => Some(1),
        ' ' | '!' | '"' | '#' | '$' | '%' | '&' | '\'' | '(' | ')' | '*' | '+' | ',' | '-'
        | '.' | '/' | ':' | ';' | '<' | '=' | '>' | '?' | '@' | '_' | '\n' | '\r' => Some(1),
        '\u{c}' | '^' | '{' | '}' | '\\' | '[' | '~' | ']' | '|' | '€' => Some(2),
        c if GSM_BASIC_OTHER.contains(c) => Some(1),
        _ => None,
    }
}

/// The alphabet `text` needs: GSM-7 when every character is in it.
pub fn encoding(text: &str) -> Encoding {
    if text.chars().all(|c| septets(c).is_some()) {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    }
}

/// Units one character takes in an encoding.
fn units(c: char, encoding: Encoding) -> usize {
    match encoding {
        Encoding::Gsm7 => septets(c).unwrap_or(1),
        Encoding::Ucs2 => c.len_utf16(),
    }
}

/// The size of `text` as one SMS: encoding, segments, characters and units.
pub fn measure(text: &str) -> SmsSize {
    let encoding = encoding(text);
    let units = text.chars().map(|c| units(c, encoding)).sum();
    SmsSize {
        encoding,
        segments: split(text).len(),
        characters: text.chars().count(),
        units,
    }
}

/// The segments a long text is sent in, as a phone network cuts it: each as long as fits,
/// without separating an escape from its character or the halves of a surrogate pair.
pub fn split(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    let encoding = encoding(text);
    let (single, segment) = match encoding {
        Encoding::Gsm7 => (GSM_SINGLE, GSM_SEGMENT),
        Encoding::Ucs2 => (UCS2_SINGLE, UCS2_SEGMENT),
    };
    let total: usize = text.chars().map(|c| units(c, encoding)).sum();
    if total <= single {
        return vec![text];
    }
    let mut parts = Vec::new();
    let mut start = 0;
    let mut used = 0;
    for (at, c) in text.char_indices() {
        let cost = units(c, encoding);
        if used + cost > segment {
            parts.push(&text[start..at]);
            start = at;
            used = 0;
        }
        used += cost;
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(text: &str) -> (Encoding, usize, usize, usize) {
        let s = measure(text);
        (s.encoding, s.segments, s.characters, s.units)
    }

    #[test]
    fn gsm_text_fits_160_then_153_per_segment() {
        assert_eq!(size(""), (Encoding::Gsm7, 0, 0, 0));
        assert_eq!(size(&"a".repeat(160)), (Encoding::Gsm7, 1, 160, 160));
        assert_eq!(size(&"a".repeat(161)), (Encoding::Gsm7, 2, 161, 161));
        assert_eq!(size(&"a".repeat(306)), (Encoding::Gsm7, 2, 306, 306));
        assert_eq!(size(&"a".repeat(307)), (Encoding::Gsm7, 3, 307, 307));
        assert_eq!(
            size("Ça coûte 5 € à Zoë"),
            (Encoding::Ucs2, 1, 18, 18),
            "û and ë are not GSM-7"
        );
        assert_eq!(size("Ça coute 5 € à Zoé"), (Encoding::Gsm7, 1, 18, 19));
    }

    #[test]
    fn extension_characters_take_two_septets_and_are_not_split() {
        assert_eq!(size(&"{".repeat(80)), (Encoding::Gsm7, 1, 80, 160));
        assert_eq!(size(&"€".repeat(81)), (Encoding::Gsm7, 2, 81, 162));
        // 152 septets then a two-septet character: it moves whole to the second segment.
        let text = format!("{}[{}", "a".repeat(152), "b".repeat(10));
        let parts = split(&text);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], "a".repeat(152));
        assert!(parts[1].starts_with('['));
    }

    #[test]
    fn one_character_outside_gsm_makes_it_ucs2() {
        assert_eq!(size(&"a".repeat(70)), (Encoding::Gsm7, 1, 70, 70));
        let curly = format!("{}’", "a".repeat(69));
        assert_eq!(size(&curly), (Encoding::Ucs2, 1, 70, 70));
        assert_eq!(size(&format!("{curly}a")), (Encoding::Ucs2, 2, 71, 71));
        assert_eq!(size(&"é".repeat(134)), (Encoding::Gsm7, 1, 134, 134));
        assert_eq!(
            size("`"),
            (Encoding::Ucs2, 1, 1, 1),
            "backtick is not GSM-7"
        );
    }

    #[test]
    fn surrogate_pairs_count_two_and_stay_together() {
        assert_eq!(size("👍"), (Encoding::Ucs2, 1, 1, 2));
        assert_eq!(size(&"👍".repeat(35)), (Encoding::Ucs2, 1, 35, 70));
        // 66 units then an emoji: 68 would not fit the first segment of 67.
        let text = format!("{}👍{}", "é".repeat(65) + "’", "x".repeat(10));
        let parts = split(&text);
        assert_eq!(parts.len(), 2);
        assert!(parts[1].starts_with('👍'));
        assert_eq!(parts.concat(), text);
    }
}
