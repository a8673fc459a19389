//! Authored HTML made safe to show respondents: imported question text keeps simple
//! formatting, and nothing that runs (scripts, styles, event handlers, `javascript:` URLs) survives.

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

/// Keeps a small whitelist of formatting tags, drops other tags (keeping their text, except
/// for script-like tags whose content is dropped too), escapes stray markup characters and
/// closes any tag left open so formatting cannot leak into the rest of the page.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut open: Vec<&'static str> = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let c = rest.chars().next().expect("i is within text");
        if c == '<' {
            if let Some(comment) = rest.strip_prefix("<!--") {
                i += 4 + comment.find("-->").map_or(comment.len(), |e| e + 3);
                continue;
            }
            if rest.starts_with("<!") || rest.starts_with("<?") {
                i += rest.find('>').map_or(rest.len(), |e| e + 1);
                continue;
            }
            if let Some(tag) = parse_tag(rest) {
                i += tag.len;
                let name = tag.name.as_str();
                if let Some(dropped) = DROP_CONTENT.iter().find(|d| **d == name) {
                    if !tag.closing && !tag.self_closing {
                        i += skip_content(&text[i..], dropped);
                    }
                    continue;
                }
                let Some(allowed) = ALLOWED.iter().find(|a| **a == name).copied() else {
                    continue;
                };
                if tag.closing {
                    if let Some(pos) = open.iter().rposition(|t| *t == allowed) {
                        for t in open.drain(pos..).rev() {
                            out.push_str(&format!("</{t}>"));
                        }
                    }
                    continue;
                }
                out.push('<');
                out.push_str(allowed);
                for (attr, value) in &tag.attributes {
                    if let Some(value) = allowed_attribute(allowed, attr, value) {
                        out.push_str(&format!(" {attr}=\"{}\"", escape(&value)));
                    }
                }
                out.push('>');
                if !VOID.contains(&allowed) {
                    open.push(allowed);
                }
                continue;
            }
            out.push_str("&lt;");
            i += 1;
            continue;
        }
        match c {
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '&' => {
                if entity_len(rest).is_some() {
                    out.push('&');
                } else {
                    out.push_str("&amp;");
                }
            }
            _ => out.push(c),
        }
        i += c.len_utf8();
    }
    for t in open.into_iter().rev() {
        out.push_str(&format!("</{t}>"));
    }
    out
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
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let c = rest.chars().next().expect("i is within text");
        if c == '<' {
            if let Some(comment) = rest.strip_prefix("<!--") {
                i += 4 + comment.find("-->").map_or(comment.len(), |e| e + 3);
                continue;
            }
            if let Some(tag) = parse_tag(rest) {
                i += tag.len;
                if DROP_CONTENT.contains(&tag.name.as_str()) && !tag.closing && !tag.self_closing {
                    i += skip_content(&text[i..], &tag.name);
                }
                if matches!(
                    tag.name.as_str(),
                    "br" | "p" | "div" | "li" | "h1" | "h2" | "h3" | "h4" | "tr" | "td"
                ) {
                    out.push(' ');
                }
                continue;
            }
        }
        if c == '&' {
            if let Some(len) = entity_len(rest) {
                out.push_str(&decode_entity(&rest[..len]));
                i += len;
                continue;
            }
        }
        out.push(c);
        i += c.len_utf8();
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

struct Tag {
    name: String,
    closing: bool,
    self_closing: bool,
    attributes: Vec<(String, String)>,
    len: usize,
}

/// Parses `<name attr="v" ...>` or `</name>` at the start of `s`; `None` when `s` does not
/// start a tag (then the `<` is text).
fn parse_tag(s: &str) -> Option<Tag> {
    let bytes = s.as_bytes();
    let mut i = 1;
    let closing = bytes.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    let name_start = i;
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric()) {
        i += 1;
    }
    if i == name_start || !bytes[name_start].is_ascii_alphabetic() {
        return None;
    }
    let name = s[name_start..i].to_ascii_lowercase();
    let mut attributes = Vec::new();
    let mut self_closing = false;
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            if bytes[i] == b'/' {
                self_closing = true;
            }
            i += 1;
        }
        let &b = bytes.get(i)?;
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
        let attr = s[attr_start..i].to_ascii_lowercase();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            match bytes.get(i) {
                Some(&q) if q == b'"' || q == b'\'' => {
                    let end = s[i + 1..].find(q as char)? + i + 1;
                    value = s[i + 1..end].to_string();
                    i = end + 1;
                }
                _ => {
                    let start = i;
                    while i < bytes.len() && bytes[i] != b'>' && !bytes[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    value = s[start..i].to_string();
                }
            }
        }
        if !attr.is_empty() {
            attributes.push((attr, value));
        }
    }
    Some(Tag {
        name,
        closing,
        self_closing,
        attributes,
        len: i,
    })
}

/// Bytes up to and including `</name>` (or everything when it never closes).
fn skip_content(s: &str, name: &str) -> usize {
    let lower = s.to_ascii_lowercase();
    let close = format!("</{name}");
    match lower.find(&close) {
        Some(pos) => pos + s[pos..].find('>').map_or(s.len() - pos, |e| e + 1),
        None => s.len(),
    }
}

fn allowed_attribute(tag: &str, attr: &str, value: &str) -> Option<String> {
    let value = to_plain_attribute(value);
    let lower = value.trim().to_ascii_lowercase();
    let web = lower.starts_with("http://") || lower.starts_with("https://");
    match (tag, attr) {
        ("a", "href") if web || lower.starts_with("mailto:") => Some(value.trim().to_string()),
        ("img", "src") if web => Some(value.trim().to_string()),
        ("img", "alt") => Some(value),
        _ => None,
    }
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

/// Length of a well-formed entity (`&amp;`, `&#39;`, `&#x27;`) at the start of `s`.
fn entity_len(s: &str) -> Option<usize> {
    let body = s.strip_prefix('&')?;
    let end = body.find(';')?;
    let name = &body[..end];
    let ok = if let Some(num) = name.strip_prefix('#') {
        if let Some(hex) = num.strip_prefix(['x', 'X']) {
            !hex.is_empty() && hex.len() <= 6 && hex.chars().all(|c| c.is_ascii_hexdigit())
        } else {
            !num.is_empty() && num.len() <= 7 && num.chars().all(|c| c.is_ascii_digit())
        }
    } else {
        !name.is_empty() && name.len() <= 10 && name.chars().all(|c| c.is_ascii_alphanumeric())
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
    }

    #[test]
    fn plain_text_of_authored_html() {
        assert_eq!(
            to_plain("<p>How <b>likely</b>&nbsp;are you&hellip;</p><br>"),
            "How likely are you…"
        );
    }
}
