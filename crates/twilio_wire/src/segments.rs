//! How many SMS segments a body takes, as carriers count (and Twilio bills) them. A body
//! written only in the GSM-7 alphabet fits 160 characters in one segment, 153 per segment
//! once split (the rest of each is the header that joins them); its extension characters
//! (`€ [ ] { } ^ ~ | \` and form feed) take two places and are never split across segments.
//! Any other character makes the whole body UCS-2: 70 UTF-16 units in one segment, 67 per
//! segment once split, a surrogate pair never split.

/// The alphabet a body is sent in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segments {
    pub encoding: Encoding,
    /// Segments the body takes (0 for an empty body).
    pub count: u32,
    /// Places used: GSM-7 septets or UTF-16 units.
    pub units: u32,
}

const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Places one character takes in GSM-7, or None if it needs UCS-2.
fn gsm7_width(c: char) -> Option<u32> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

pub fn segments(body: &str) -> Segments {
    let gsm: Option<Vec<u32>> = body.chars().map(gsm7_width).collect();
    let (encoding, widths, single, multi) = match gsm {
        Some(w) => (Encoding::Gsm7, w, 160, 153),
        None => (
            Encoding::Ucs2,
            body.chars().map(|c| c.len_utf16() as u32).collect(),
            70,
            67,
        ),
    };
    let units: u32 = widths.iter().sum();
    let count = if units == 0 {
        0
    } else if units <= single {
        1
    } else {
        // Fill segments in order; a character that does not fit starts the next one.
        let (mut count, mut used) = (1, 0);
        for w in widths {
            if used + w > multi {
                count += 1;
                used = 0;
            }
            used += w;
        }
        count
    };
    Segments {
        encoding,
        count,
        units,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm7_bodies() {
        assert_eq!(
            segments(""),
            Segments {
                encoding: Encoding::Gsm7,
                count: 0,
                units: 0
            }
        );
        assert_eq!(segments(&"a".repeat(160)).count, 1);
        assert_eq!(segments(&"a".repeat(161)).count, 2);
        assert_eq!(segments(&"a".repeat(306)).count, 2);
        assert_eq!(segments(&"a".repeat(307)).count, 3);
        let s = segments("Prix: 5€ [promo]");
        assert_eq!((s.encoding, s.units), (Encoding::Gsm7, 19));
        assert_eq!(
            segments("Ça coûte? Non: ça va.").encoding,
            Encoding::Ucs2,
            "û is not GSM-7"
        );
        assert_eq!(segments("Déjà vu à Zürich").encoding, Encoding::Gsm7);
    }

    #[test]
    fn extension_characters_are_not_split() {
        // 152 plain characters then '€' (2 places): the euro moves to segment two.
        let body = format!("{}€{}", "a".repeat(152), "a".repeat(10));
        let s = segments(&body);
        assert_eq!((s.units, s.count), (164, 2));
        let body = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(segments(&body).count, 3, "152 | 2+151 | 1");
    }

    #[test]
    fn ucs2_bodies() {
        assert_eq!(segments(&"ж".repeat(70)).count, 1);
        assert_eq!(segments(&"ж".repeat(71)).count, 2);
        assert_eq!(segments(&"ж".repeat(134)).count, 2);
        assert_eq!(segments(&"ж".repeat(135)).count, 3);
        let emoji = segments("👍");
        assert_eq!(
            (emoji.encoding, emoji.units, emoji.count),
            (Encoding::Ucs2, 2, 1)
        );
        // 66 units then an emoji (a surrogate pair) does not split it: 66 | 2+…
        let body = format!("{}👍{}", "ж".repeat(66), "ж".repeat(10));
        assert_eq!(segments(&body).count, 2);
    }
}
