//! A chat transcript's `Body` as lines of plain text: tags stripped, entities decoded, runs of
//! whitespace collapsed to one space, and each line marked when it sat in a centred block.
//!
//! Salesforce writes the body as HTML fragments, not a document: header and notice lines each in
//! a `<p align="center">` (or `<div align="center">`), messages separated by `<br>`, apostrophes
//! and the like as entities (`I&#39;ll`). Facts from public copies of real bodies:
//! salesforce/TransmogrifAI's `ChatTranscriptTransformerTest` fixtures (`<p align="center">Chat
//! Started: …</p><p align="center">Chat Origin: …</p><p align="center">Agent Royalle G</p>( 10s )
//! Royalle G: … I&#39;ll …<br>( 44s ) …`) and a Lightning component sample that renders a body
//! written with `<div align="center">` lines ("Agent vamshi t requested a file transfer",
//! "File transfer succeeded."). Centring is kept because it is what tells a notice from the next
//! line of a message. A body with no block tags at all is plain text (as copies pasted from the
//! console are), and there a newline ends a line; in HTML a newline is only whitespace.
//!
//! One pass, no regex: a SIMD search (`memchr`) finds the next `<` or `&`, and the text before it
//! is copied whole once an eight-bytes-at-a-time check shows it needs no whitespace work, which
//! is nearly always.

use std::ops::Range;

/// One line of the body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    pub text: &'a str,
    /// Inside a `<p>` or `<div>` whose attributes centre it: Salesforce's header and notices.
    pub centered: bool,
}

/// The body's lines, held in one buffer so reading a transcript allocates twice, not per line.
pub(crate) struct Lines {
    text: String,
    spans: Vec<(Range<usize>, bool)>,
}

impl Lines {
    pub fn iter(&self) -> impl Iterator<Item = Line<'_>> {
        self.spans.iter().map(|(range, centered)| Line {
            text: &self.text[range.clone()],
            centered: *centered,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// The whole text, one line per line: what an unreadable transcript is kept as.
    pub fn joined(&self) -> String {
        let mut all = String::with_capacity(self.text.len() + self.spans.len());
        for line in self.iter() {
            if !all.is_empty() {
                all.push('\n');
            }
            all.push_str(line.text);
        }
        all
    }
}

/// Reads `body` into lines.
pub(crate) fn lines(body: &str) -> Lines {
    let mut reader = Reader {
        lines: Lines {
            text: String::with_capacity(body.len()),
            // Messages run to about a hundred bytes a line; a guess saves the regrowing.
            spans: Vec::with_capacity(body.len() / 64 + 4),
        },
        line_start: 0,
        line_centered: false,
        pending_space: false,
        blocks: Vec::new(),
        centered_depth: 0,
    };
    let html = looks_like_html(body);
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Everything up to the next tag or entity is text; in plain text `<` is text too. Tags
        // often follow tags (`</p><p …>`), so look at the next byte before searching.
        let next = match bytes[i] {
            b'&' => Some(0),
            b'<' if html => Some(0),
            _ if html => memchr::memchr2(b'<', b'&', &bytes[i..]),
            _ => memchr::memchr(b'&', &bytes[i..]),
        };
        let stop = next.map_or(bytes.len(), |at| i + at);
        if stop > i {
            if html {
                reader.text(&body[i..stop]);
            } else {
                let mut pieces = body[i..stop].split('\n');
                if let Some(first) = pieces.next() {
                    reader.text(first);
                }
                for piece in pieces {
                    reader.end_line();
                    reader.text(piece);
                }
            }
            i = stop;
            continue;
        }
        if bytes[i] == b'<' {
            match tag_at(body, i) {
                Some((end, tag)) => {
                    reader.tag(tag);
                    i = end;
                }
                None => {
                    reader.push_str("<");
                    i += 1;
                }
            }
        } else {
            match entity_at(body, i) {
                Some((end, c)) => {
                    reader.push_char(c);
                    i = end;
                }
                None => {
                    reader.push_str("&");
                    i += 1;
                }
            }
        }
    }
    reader.end_line();
    reader.lines
}

struct Reader {
    lines: Lines,
    line_start: usize,
    line_centered: bool,
    /// A space seen since the last text; written only before more text on the same line, so
    /// lines come out trimmed and with single spaces.
    pending_space: bool,
    /// Open `<p>`/`<div>` blocks, each marked when centred.
    blocks: Vec<bool>,
    centered_depth: usize,
}

impl Reader {
    /// Text between markup, whitespace collapsed.
    fn text(&mut self, text: &str) {
        if is_collapsed(text) {
            // The common case, copied whole: single spaces, at most one at either end.
            let (lead, rest) = match text.strip_prefix(' ') {
                Some(rest) => (true, rest),
                None => (false, text),
            };
            let (core, trail) = match rest.strip_suffix(' ') {
                Some(core) => (core, true),
                None => (rest, false),
            };
            self.pending_space |= lead;
            self.push_str(core);
            self.pending_space |= trail;
        } else {
            if text.starts_with(char::is_whitespace) {
                self.pending_space = true;
            }
            let mut words = text.split_whitespace();
            if let Some(first) = words.next() {
                self.push_str(first);
            }
            for word in words {
                self.pending_space = true;
                self.push_str(word);
            }
            self.pending_space |= text.ends_with(char::is_whitespace);
        }
    }

    fn push_str(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        let text = &mut self.lines.text;
        if text.len() == self.line_start {
            self.line_centered = self.centered_depth > 0;
        } else if self.pending_space {
            text.push(' ');
        }
        self.pending_space = false;
        text.push_str(s);
    }

    fn push_char(&mut self, c: char) {
        if c.is_whitespace() {
            self.pending_space = true;
        } else {
            let mut utf8 = [0; 4];
            self.push_str(c.encode_utf8(&mut utf8));
        }
    }

    fn end_line(&mut self) {
        let end = self.lines.text.len();
        if end > self.line_start {
            self.lines
                .spans
                .push((self.line_start..end, self.line_centered));
        }
        self.line_start = end;
        self.pending_space = false;
    }

    fn tag(&mut self, tag: Tag) {
        match tag {
            Tag::Inline => {}
            Tag::Break => self.end_line(),
            Tag::Open { centered } => {
                self.end_line();
                self.blocks.push(centered);
                self.centered_depth += usize::from(centered);
            }
            Tag::Close => {
                self.end_line();
                if let Some(centered) = self.blocks.pop() {
                    self.centered_depth -= usize::from(centered);
                }
            }
        }
    }
}

/// Whether text needs no whitespace work: no control characters (tabs, newlines), no Unicode
/// spaces, no double spaces. Nearly all chat text is like this, and copying it whole is most of
/// this reader's speed, so the check reads eight bytes at a time.
fn is_collapsed(text: &str) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const LOWS: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let bytes = text.as_bytes();
    let mut chunks = bytes.chunks_exact(8);
    let (mut controls, mut high, mut double) = (0u64, 0u64, 0u64);
    // Whether the byte before the current chunk was a space, as a flag on byte 0's high bit.
    let mut space_before = 0u64;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        high |= x;
        // Some byte below 0x20 (exact as a yes/no for ASCII; high bytes are checked apart).
        controls |= x.wrapping_sub(ONES * 0x20) & !x;
        // The high bit of each byte that is exactly a space.
        let s = x ^ (ONES * 0x20);
        let spaces = !(((s & LOWS).wrapping_add(LOWS)) | s | LOWS);
        double |= spaces & ((spaces >> 8) | (space_before >> 56));
        space_before = spaces & (0x80 << 56);
    }
    let mut previous_space = space_before != 0;
    for &b in chunks.remainder() {
        controls |= u64::from(b < 0x20) << 7;
        high |= u64::from(b);
        double |= u64::from(previous_space && b == b' ') << 7;
        previous_space = b == b' ';
    }
    controls & HIGHS == 0 && double == 0 && (high & HIGHS == 0 || !has_unicode_space(bytes))
}

/// Whether UTF-8 text holds a Unicode space (U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028,
/// U+2029, U+202F, U+205F, U+3000): found by their lead bytes, then their exact bytes.
fn has_unicode_space(bytes: &[u8]) -> bool {
    let after = |at: usize| (bytes.get(at + 1).copied(), bytes.get(at + 2).copied());
    let space_at = |at: usize| {
        matches!(
            (bytes[at], after(at)),
            (0xC2, (Some(0x85 | 0xA0), _))
                | (0xE1, (Some(0x9A), Some(0x80)))
                | (0xE2, (Some(0x80), Some(0x80..=0x8A | 0xA8 | 0xA9 | 0xAF)))
                | (0xE2, (Some(0x81), Some(0x9F)))
                | (0xE3, (Some(0x80), Some(0x80)))
        )
    };
    memchr::memchr3_iter(0xC2, 0xE2, 0xE3, bytes).any(space_at)
        || memchr::memchr_iter(0xE1, bytes).any(space_at)
}

/// Whether the body is HTML: it has a `<br>`, `<p>` or `<div>` tag somewhere.
fn looks_like_html(body: &str) -> bool {
    let bytes = body.as_bytes();
    let mut from = 0;
    while let Some(at) = memchr::memchr(b'<', &bytes[from..]) {
        let start = from + at + 1;
        let rest = &bytes[start..];
        let rest = rest.strip_prefix(b"/").unwrap_or(rest);
        let name_len = rest.iter().take_while(|b| b.is_ascii_alphabetic()).count();
        let name = &rest[..name_len];
        if [&b"br"[..], b"p", b"div"]
            .iter()
            .any(|known| name.eq_ignore_ascii_case(known))
        {
            return true;
        }
        from = start;
    }
    false
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    /// Formatting (`<b>`, `<a>`, `<span>`) or a comment: dropped, its text kept.
    Inline,
    /// `<br>`, `<hr>`: ends the line.
    Break,
    /// A block opens: ends the line.
    Open { centered: bool },
    /// A block closes: ends the line.
    Close,
}

/// The tag starting at `at` (a `<`) and the index just past its `>`, or `None` when the `<` is
/// text (`a < b`, `<3`, or a `<` with no `>` after it).
fn tag_at(body: &str, at: usize) -> Option<(usize, Tag)> {
    let bytes = body.as_bytes();
    let rest = &bytes[at + 1..];
    if rest.starts_with(b"!--") {
        let end = find(rest, b"-->")?;
        return Some((at + 1 + end + 3, Tag::Inline));
    }
    let closing = rest.first() == Some(&b'/');
    let name_from = usize::from(closing);
    let name_len = rest[name_from..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let starts_with_letter = rest.get(name_from).is_some_and(|b| b.is_ascii_alphabetic());
    if !starts_with_letter && rest.first() != Some(&b'!') {
        return None;
    }
    // Tags are short: a plain search beats setting up a vector one; long ones fall back to it.
    let end = match rest.iter().take(64).position(|&b| b == b'>') {
        Some(end) => end,
        None => 64 + memchr::memchr(b'>', rest.get(64..)?)?,
    };
    let attributes = &rest[name_from + name_len..end];
    let mut lower = [0u8; 10];
    let name = match rest.get(name_from..name_from + name_len) {
        Some(name) if name.len() <= lower.len() => {
            lower[..name.len()].copy_from_slice(name);
            lower[..name.len()].make_ascii_lowercase();
            &lower[..name.len()]
        }
        _ => &[][..],
    };
    let tag = match name {
        b"br" | b"hr" => Tag::Break,
        b"p" | b"div" | b"li" | b"ul" | b"ol" | b"tr" | b"table" | b"blockquote" | b"h1"
        | b"h2" | b"h3" | b"h4" | b"h5" | b"h6" => {
            if closing {
                Tag::Close
            } else if attributes.ends_with(b"/") {
                Tag::Break
            } else {
                // `align="center"`, `style="text-align: center"`: either way the word is there.
                Tag::Open {
                    centered: find_ignore_case(attributes, b"center").is_some(),
                }
            }
        }
        _ => Tag::Inline,
    };
    Some((at + 1 + end + 1, tag))
}

/// The character an entity starting at `at` (a `&`) stands for, and the index just past its
/// `;`; `None` leaves the `&` as text, as a browser shows an entity it does not know.
fn entity_at(body: &str, at: usize) -> Option<(usize, char)> {
    let bytes = body.as_bytes();
    // The longest entity read here is `&#x10FFFF;` (10 bytes); names are shorter.
    let window = &bytes[at + 1..bytes.len().min(at + 12)];
    let semicolon = window.iter().position(|&b| b == b';')?;
    let name = &body[at + 1..at + 1 + semicolon];
    let c = if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse::<u32>().ok()?,
        };
        // `&#0;` and surrogates are not characters; leave them as written.
        char::from_u32(code).filter(|&c| c != '\0')?
    } else {
        named_entity(name)?
    };
    Some((at + 1 + semicolon + 1, c))
}

/// The named entities chat text uses: markup escapes, typographic punctuation Salesforce and
/// browsers substitute, and the Latin-1 letters of European names.
fn named_entity(name: &str) -> Option<char> {
    const NAMED: &[(&str, char)] = &[
        ("amp", '&'),
        ("lt", '<'),
        ("gt", '>'),
        ("quot", '"'),
        ("apos", '\''),
        ("nbsp", '\u{a0}'),
        ("ensp", '\u{2002}'),
        ("emsp", '\u{2003}'),
        ("thinsp", '\u{2009}'),
        ("copy", '©'),
        ("reg", '®'),
        ("trade", '™'),
        ("hellip", '…'),
        ("mdash", '—'),
        ("ndash", '–'),
        ("lsquo", '‘'),
        ("rsquo", '’'),
        ("sbquo", '‚'),
        ("ldquo", '“'),
        ("rdquo", '”'),
        ("bdquo", '„'),
        ("laquo", '«'),
        ("raquo", '»'),
        ("bull", '•'),
        ("middot", '·'),
        ("deg", '°'),
        ("euro", '€'),
        ("pound", '£'),
        ("yen", '¥'),
        ("cent", '¢'),
        ("sect", '§'),
        ("para", '¶'),
        ("times", '×'),
        ("divide", '÷'),
        ("plusmn", '±'),
        ("frac12", '½'),
        ("frac14", '¼'),
        ("frac34", '¾'),
        ("iexcl", '¡'),
        ("iquest", '¿'),
        ("szlig", 'ß'),
        ("aelig", 'æ'),
        ("AElig", 'Æ'),
        ("oslash", 'ø'),
        ("Oslash", 'Ø'),
        ("ccedil", 'ç'),
        ("Ccedil", 'Ç'),
        ("ntilde", 'ñ'),
        ("Ntilde", 'Ñ'),
        ("aring", 'å'),
        ("Aring", 'Å'),
        ("yuml", 'ÿ'),
    ];
    if let Some(&(_, c)) = NAMED.iter().find(|(n, _)| *n == name) {
        return Some(c);
    }
    accented(name)
}

/// `&eacute;`, `&Uuml;` and the rest of Latin-1's accented vowels: a base letter and an accent.
fn accented(name: &str) -> Option<char> {
    const ACCENTS: &[(&str, &str, &str)] = &[
        // (accent, lowercase vowels a e i o u y with it, uppercase), '-' where Latin-1 has none.
        ("grave", "àèìòù-", "ÀÈÌÒÙ-"),
        ("acute", "áéíóúý", "ÁÉÍÓÚÝ"),
        ("circ", "âêîôû-", "ÂÊÎÔÛ-"),
        ("tilde", "ã--õ--", "Ã--Õ--"),
        ("uml", "äëïöü-", "ÄËÏÖÜ-"),
    ];
    let mut chars = name.chars();
    let base = chars.next()?;
    let accent = chars.as_str();
    let (_, lower, upper) = ACCENTS.iter().find(|(a, _, _)| *a == accent)?;
    let position = "aeiouy".find(base.to_ascii_lowercase())?;
    let row = if base.is_ascii_uppercase() {
        upper
    } else {
        lower
    };
    row.chars().nth(position).filter(|&c| c != '-')
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn find_ignore_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(body: &str) -> Vec<(String, bool)> {
        lines(body)
            .iter()
            .map(|l| (l.text.to_string(), l.centered))
            .collect()
    }

    #[test]
    fn centred_paragraphs_and_breaks_make_lines() {
        let got = texts(
            "<p align=\"center\">Chat Started: x</p><p align=\"center\">Agent Jo</p>( 1s ) Jo: hi<br>( 2s ) V: yo<br>",
        );
        assert_eq!(
            got,
            vec![
                ("Chat Started: x".into(), true),
                ("Agent Jo".into(), true),
                ("( 1s ) Jo: hi".into(), false),
                ("( 2s ) V: yo".into(), false),
            ]
        );
    }

    #[test]
    fn entities_decode_and_unknown_ones_stay() {
        let got = texts("I&#39;ll &amp; you&#x2019;re &eacute;t&eacute; &Uuml; &bogus; a&b &#0;");
        assert_eq!(got[0].0, "I'll & you’re été Ü &bogus; a&b &#0;");
    }

    #[test]
    fn a_lone_angle_bracket_is_text() {
        assert_eq!(texts("<br>I <3 you & 2 < 3")[0].0, "I <3 you & 2 < 3");
        assert_eq!(texts("no tags < here")[0].0, "no tags < here");
    }

    #[test]
    fn newlines_end_lines_only_in_plain_text() {
        assert_eq!(texts("a\nb").len(), 2);
        assert_eq!(texts("<br>a\nb")[0].0, "a b");
    }

    #[test]
    fn text_next_to_markup_keeps_its_spacing() {
        assert_eq!(texts("a\tb&amp;c d &amp; e")[0].0, "a b&c d & e");
        assert_eq!(texts("<br>x <b>y</b> z<i> </i>w")[0].0, "x y z w");
        assert_eq!(
            texts("<br>caf\u{e9}\u{2019}s\u{2003}ok")[0].0,
            "caf\u{e9}\u{2019}s ok"
        );
    }

    #[test]
    fn clean_text_is_told_from_text_needing_work() {
        let clean = [
            "",
            "a",
            "a b",
            " a b ",
            "twelve chars here, and then some more ok",
            "caf\u{e9}\u{2019}s",
        ];
        for text in clean {
            assert!(is_collapsed(text), "{text:?}");
        }
        let mut needs_work = vec![
            "a\tb".to_string(),
            "a\nb".to_string(),
            "a\u{a0}b".to_string(),
            "a\u{3000}b".to_string(),
            "a\u{2003}b".to_string(),
            "a\u{1680}b".to_string(),
        ];
        // A double space at every position, including across the eight-byte words.
        for at in 0..20 {
            needs_work.push(format!("{}  {}", "x".repeat(at), "y".repeat(20 - at)));
        }
        for text in &needs_work {
            assert!(!is_collapsed(text), "{text:?}");
        }
    }

    #[test]
    fn whitespace_collapses_including_nbsp() {
        assert_eq!(texts("  a \t&nbsp; b\u{a0}\u{3000}c  ")[0].0, "a b c");
    }
}
