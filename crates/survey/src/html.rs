//! Authored HTML made safe to show respondents: imported question text keeps simple
//! formatting, and nothing that runs (scripts, styles, event handlers, `javascript:` URLs) survives.
//!
//! Both [`sanitize`] and [`to_plain`] read the text in one forward pass ([`Pieces`]): a tag
//! that never closes makes the rest of the text plain text, entities are looked for only as
//! far as the longest one, and a skipped element's end is searched for once — so hostile text
//! costs time in proportion to its length, never its square (issue #8: 80 KB of `<a b` took
//! seconds per page view).

mod text;
pub use text::to_text;

/// Tags kept (without attributes, except `href` on `a` and `src`/`alt` on `img`).
const ALLOWED: &[&str] = &[
    "b", "i", "u", "em", "strong", "br", "p", "span", "div", "ul", "ol", "li", "h1", "h2", "h3",
    "h4", "a", "img",
];
/// Tags with no closing tag.
const VOID: &[&str] = &["br", "img"];
/// Tags whose content is code or metadata, dropped with the tag.
const DROP_CONTENT: &[&str] = &[
    "script", "style", "iframe", "object", "embed", "template", "noscript", "textarea", "title",
    "head", "svg", "math", "xmp", "noembed", "noframes", "select", "option",
];
/// Tags that end a line or block: a space in plain text.
const BREAKS: &[&str] = &["br", "p", "div", "li", "h1", "h2", "h3", "h4", "tr", "td"];

/// Keeps a small whitelist of formatting tags, drops other tags (keeping their text, except
/// for script-like tags whose content is dropped too), escapes stray markup characters and
/// closes any tag left open so formatting cannot leak into the rest of the page.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Open allowed tags, innermost last, and how many of each are open: a closing tag that
    // matches nothing open is dropped without searching the stack.
    let mut open: Vec<usize> = Vec::new();
    let mut open_count = [0usize; ALLOWED.len()];
    for piece in Pieces::new(text) {
        match piece {
            Piece::Text(t) => {
                for c in t.chars() {
                    match c {
                        '>' => out.push_str("&gt;"),
                        '"' => out.push_str("&quot;"),
                        _ => out.push(c),
                    }
                }
            }
            Piece::Lt => out.push_str("&lt;"),
            Piece::Amp => out.push_str("&amp;"),
            Piece::Entity(e) => out.push_str(e),
            Piece::Tag(tag) => {
                let Some(allowed) = ALLOWED.iter().position(|a| tag.is(a)) else {
                    continue;
                };
                let name = ALLOWED[allowed];
                if tag.closing {
                    if open_count[allowed] > 0 {
                        let pos = open.iter().rposition(|t| *t == allowed).unwrap_or(0);
                        for t in open.drain(pos..).rev() {
                            open_count[t] -= 1;
                            close(&mut out, ALLOWED[t]);
                        }
                    }
                    continue;
                }
                out.push('<');
                out.push_str(name);
                for (attr, value) in &tag.attributes {
                    if let Some((attr, value)) = allowed_attribute(name, attr, value) {
                        out.push(' ');
                        out.push_str(attr);
                        out.push_str("=\"");
                        out.push_str(&escape(&value));
                        out.push('"');
                    }
                }
                out.push('>');
                if !VOID.contains(&name) {
                    open.push(allowed);
                    open_count[allowed] += 1;
                }
            }
        }
    }
    for t in open.into_iter().rev() {
        close(&mut out, ALLOWED[t]);
    }
    out
}

fn close(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Plain text of authored HTML: tags dropped (`<br>` and block ends become spaces), common
/// entities decoded, whitespace collapsed. Used for export labels and piped choice text.
pub fn to_plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for piece in Pieces::new(text) {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Lt => out.push('<'),
            Piece::Amp => out.push('&'),
            Piece::Entity(e) => out.push_str(&decode_entity(e)),
            Piece::Tag(tag) => {
                if BREAKS.iter().any(|b| tag.is(b)) {
                    out.push(' ');
                }
            }
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One piece of authored HTML, in order.
#[derive(Debug, PartialEq)]
enum Piece<'a> {
    /// Text holding neither `<` nor `&`.
    Text(&'a str),
    /// A `<` that starts no tag.
    Lt,
    /// A `&` that starts no entity.
    Amp,
    /// A well-formed entity (`&amp;`, `&#39;`, `&#x27;`).
    Entity(&'a str),
    /// A start or end tag. Comments, declarations and the elements of [`DROP_CONTENT`] with
    /// everything inside them are skipped, never given out.
    Tag(Tag<'a>),
}

#[derive(Debug, PartialEq)]
struct Tag<'a> {
    /// As written; compare with [`Tag::is`].
    name: &'a str,
    closing: bool,
    self_closing: bool,
    /// Names as written, values raw (entities not decoded).
    attributes: Vec<(&'a str, &'a str)>,
}

impl Tag<'_> {
    fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// The pieces of a text, read front to back once.
struct Pieces<'a> {
    text: &'a str,
    at: usize,
    /// Set once a tag ran to the end of the text unclosed: from there on every `<` is text,
    /// so no later `<` scans the same rest again.
    text_only: bool,
}

impl<'a> Pieces<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            at: 0,
            text_only: false,
        }
    }
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        loop {
            let rest = &self.text[self.at..];
            let first = *rest.as_bytes().first()?;
            match first {
                b'&' => {
                    return Some(match entity_len(rest) {
                        Some(len) => {
                            self.at += len;
                            Piece::Entity(&rest[..len])
                        }
                        None => {
                            self.at += 1;
                            Piece::Amp
                        }
                    });
                }
                b'<' if !self.text_only => {
                    if let Some(comment) = rest.strip_prefix("<!--") {
                        self.at += 4 + comment.find("-->").map_or(comment.len(), |e| e + 3);
                        continue;
                    }
                    if rest.starts_with("<!") || rest.starts_with("<?") {
                        self.at += rest.find('>').map_or(rest.len(), |e| e + 1);
                        continue;
                    }
                    match parse_tag(rest) {
                        Parsed::Tag(tag, len) => {
                            self.at += len;
                            if DROP_CONTENT.iter().any(|d| tag.is(d)) {
                                if !tag.closing && !tag.self_closing {
                                    self.at += skip_content(&self.text[self.at..], tag.name);
                                }
                                continue;
                            }
                            return Some(Piece::Tag(tag));
                        }
                        Parsed::NotATag => {}
                        Parsed::Unclosed => self.text_only = true,
                    }
                    self.at += 1;
                    return Some(Piece::Lt);
                }
                b'<' => {
                    self.at += 1;
                    return Some(Piece::Lt);
                }
                _ => {
                    let len = rest.find(['<', '&']).unwrap_or(rest.len());
                    self.at += len;
                    return Some(Piece::Text(&rest[..len]));
                }
            }
        }
    }
}

enum Parsed<'a> {
    /// A tag and its length in bytes.
    Tag(Tag<'a>, usize),
    /// The `<` is not followed by a tag name: it is text.
    NotATag,
    /// A tag whose `>` (or an attribute value's closing quote) never comes.
    Unclosed,
}

/// Parses `<name attr="v" ...>` or `</name>` at the start of `s`.
fn parse_tag(s: &str) -> Parsed<'_> {
    let bytes = s.as_bytes();
    let mut i = 1;
    let closing = bytes.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    let name_start = i;
    while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
        i += 1;
    }
    if i == name_start || !bytes[name_start].is_ascii_alphabetic() {
        return Parsed::NotATag;
    }
    let name = &s[name_start..i];
    let mut attributes = Vec::new();
    let mut self_closing = false;
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            if bytes[i] == b'/' {
                self_closing = true;
            }
            i += 1;
        }
        let Some(&b) = bytes.get(i) else {
            return Parsed::Unclosed;
        };
        if b == b'>' {
            i += 1;
            break;
        }
        self_closing = false;
        let attr_start = i;
        while i < bytes.len()
            && !matches!(bytes[i], b'=' | b'>' | b'/')
            && !bytes[i].is_ascii_whitespace()
        {
            i += 1;
        }
        let attr = &s[attr_start..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = "";
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            match bytes.get(i) {
                Some(&q) if q == b'"' || q == b'\'' => {
                    let Some(len) = s[i + 1..].find(q as char) else {
                        return Parsed::Unclosed;
                    };
                    value = &s[i + 1..i + 1 + len];
                    i += len + 2;
                }
                _ => {
                    let start = i;
                    while i < bytes.len() && bytes[i] != b'>' && !bytes[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    value = &s[start..i];
                }
            }
        }
        if !attr.is_empty() {
            attributes.push((attr, value));
        }
    }
    Parsed::Tag(
        Tag {
            name,
            closing,
            self_closing,
            attributes,
        },
        i,
    )
}

/// Bytes up to and including `</name>` (or everything when it never closes), found in one
/// scan without copying the text.
fn skip_content(s: &str, name: &str) -> usize {
    let bytes = s.as_bytes();
    for (pos, _) in s.match_indices("</") {
        let after = pos + 2;
        let matches = bytes
            .get(after..after + name.len())
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()));
        if matches {
            return s[pos..].find('>').map_or(s.len(), |e| pos + e + 1);
        }
    }
    s.len()
}

/// The attribute kept (its name lower-cased) and its decoded value, if it may stay.
fn allowed_attribute(tag: &str, attr: &str, value: &str) -> Option<(&'static str, String)> {
    let name = ["href", "src", "alt"]
        .into_iter()
        .find(|n| attr.eq_ignore_ascii_case(n))?;
    let value = to_plain_attribute(value);
    let lower = value.trim().to_ascii_lowercase();
    let web = lower.starts_with("http://") || lower.starts_with("https://");
    let kept = match (tag, name) {
        ("a", "href") if web || lower.starts_with("mailto:") => value.trim().to_string(),
        ("img", "src") if web => value.trim().to_string(),
        ("img", "alt") => value,
        _ => return None,
    };
    Some((name, kept))
}

/// Attribute values are decoded before the scheme check, so `&#106;avascript:` is caught.
fn to_plain_attribute(value: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < value.len() {
        let rest = &value[i..];
        if let Some(len) = entity_len(rest) {
            out.push_str(&decode_entity(&rest[..len]));
            i += len;
        } else {
            let c = rest.chars().next().expect("i is within value");
            // Control characters and whitespace inside a scheme are tricks, never content.
            if !c.is_control() {
                out.push(c);
            }
            i += c.len_utf8();
        }
    }
    out
}

/// The longest entity body accepted: `#` and 7 digits, `#x` and 6 hex digits, or 10 letters.
const ENTITY_BODY_MAX: usize = 10;

/// Length of a well-formed entity (`&amp;`, `&#39;`, `&#x27;`) at the start of `s`. Looks no
/// further than the longest entity, so a text of many `&` stays linear.
fn entity_len(s: &str) -> Option<usize> {
    let body = s.strip_prefix('&')?.as_bytes();
    let window = &body[..body.len().min(ENTITY_BODY_MAX + 1)];
    let end = window.iter().position(|&b| b == b';')?;
    let name = &body[..end];
    let ok = if let Some(num) = name.strip_prefix(b"#") {
        if let Some(hex) = num.strip_prefix(b"x").or_else(|| num.strip_prefix(b"X")) {
            !hex.is_empty() && hex.len() <= 6 && hex.iter().all(u8::is_ascii_hexdigit)
        } else {
            !num.is_empty() && num.len() <= 7 && num.iter().all(u8::is_ascii_digit)
        }
    } else {
        !name.is_empty() && name.iter().all(u8::is_ascii_alphanumeric)
    };
    ok.then_some(end + 2)
}

fn decode_entity(entity: &str) -> String {
    let name = &entity[1..entity.len() - 1];
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => num.parse().ok(),
        };
        return code
            .and_then(char::from_u32)
            .map(String::from)
            .unwrap_or_default();
    }
    match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        "nbsp" => " ",
        "ndash" => "–",
        "mdash" => "—",
        "rsquo" => "’",
        "lsquo" => "‘",
        "rdquo" => "”",
        "ldquo" => "“",
        "hellip" => "…",
        _ => return entity.to_string(),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_formatting_and_drops_everything_that_runs() {
        assert_eq!(
            sanitize("<b>Bold</b> <span style=\"color:red\" onclick=\"x()\">red</span>"),
            "<b>Bold</b> <span>red</span>"
        );
        assert_eq!(sanitize("<script>alert(1)</script>Hi"), "Hi");
        assert_eq!(sanitize("<STYLE>body{}</STYLE>ok"), "ok");
        assert_eq!(sanitize("<img src=x onerror=alert(1)>"), "<img>");
        assert_eq!(
            sanitize("<a href=\"javascript:alert(1)\">x</a>"),
            "<a>x</a>"
        );
        assert_eq!(
            sanitize("<a href=\"&#106;avascript:alert(1)\">x</a>"),
            "<a>x</a>"
        );
        assert_eq!(
            sanitize("<a href='https://example.com/?a=1&b=2' target=_blank>x</a>"),
            "<a href=\"https://example.com/?a=1&amp;b=2\">x</a>"
        );
        assert_eq!(sanitize("<svg onload=alert(1)><circle/></svg>ok"), "ok");
        assert_eq!(sanitize("1 < 2 & 3 > 2"), "1 &lt; 2 &amp; 3 &gt; 2");
        assert_eq!(sanitize("<b>open"), "<b>open</b>");
        assert_eq!(sanitize("<font face=x>t</font>&nbsp;"), "t&nbsp;");
        assert_eq!(sanitize("<!-- <script> -->x"), "x");
        assert_eq!(sanitize("<i><b>x</i>"), "<i><b>x</b></i>");
        assert_eq!(sanitize("<SCRIPT>x</ScRiPt >after"), "after");
    }

    #[test]
    fn a_tag_left_open_at_the_end_makes_the_rest_text() {
        assert_eq!(sanitize("<a b<a b"), "&lt;a b&lt;a b");
        assert_eq!(
            sanitize("ok <a x=\"<b>bold</b>"),
            "ok &lt;a x=&quot;&lt;b&gt;bold&lt;/b&gt;"
        );
        assert_eq!(to_plain("x <a b"), "x <a b");
    }

    #[test]
    fn entities_are_looked_for_only_as_far_as_the_longest() {
        assert_eq!(sanitize("&&;"), "&amp;&amp;;");
        assert_eq!(
            sanitize("&hellip;&#x2026;&#8230;"),
            "&hellip;&#x2026;&#8230;"
        );
        assert_eq!(sanitize("&abcdefghijk;"), "&amp;abcdefghijk;");
    }

    #[test]
    fn plain_text_of_authored_html() {
        assert_eq!(
            to_plain("<p>How <b>likely</b>&nbsp;are you&hellip;</p><br>"),
            "How likely are you…"
        );
    }
}
