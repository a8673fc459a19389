//! Authored HTML as a plain-text message: the `text/plain` alternative of an email, for mail
//! programs that show no HTML and for people who prefer text. Unlike [`super::to_plain`] (one
//! line, for labels) it keeps the shape a reader needs: paragraphs, line breaks, list items,
//! and each link's address beside its text, since a text reader cannot click "Take the survey".
//!
//! It reads the same [`Pieces`] as the sanitizer, in one forward pass.

use super::{decode_entity, to_plain_attribute, Piece, Pieces};

/// Tags that start and end a paragraph of text.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "table",
    "tr",
    "blockquote",
];

/// Plain text of an HTML message: whitespace collapsed as a browser would, `<br>` a line
/// break, blocks separated by a blank line, list items as `- item`, links as `text (url)` (the
/// URL alone when it is its own text or the link has none), images as their `alt` text.
pub fn to_text(html: &str) -> String {
    let mut out = Text::default();
    // The open link's address and where its text starts in the output.
    let mut link: Option<(String, usize)> = None;
    for piece in Pieces::new(html) {
        match piece {
            Piece::Text(t) => out.words(t),
            Piece::Lt => out.words("<"),
            Piece::Amp => out.words("&"),
            Piece::Entity(e) => out.words(&decode_entity(e)),
            Piece::Tag(tag) => {
                if tag.is("br") {
                    out.wait(Break::Line);
                } else if tag.is("li") {
                    out.wait(Break::Line);
                    if !tag.closing {
                        out.flush();
                        out.text.push_str("- ");
                    }
                } else if BLOCKS.iter().any(|b| tag.is(b)) {
                    out.wait(Break::Paragraph);
                } else if tag.is("a") {
                    if let Some((href, start)) = link.take() {
                        out.link_end(&href, start);
                    }
                    if !tag.closing {
                        let href = attribute(&tag.attributes, "href");
                        link = href.map(|h| (h, out.len_with_pending()));
                    }
                } else if tag.is("img") && !tag.closing {
                    if let Some(alt) = attribute(&tag.attributes, "alt") {
                        out.words(&alt);
                    }
                }
            }
        }
    }
    if let Some((href, start)) = link.take() {
        out.link_end(&href, start);
    }
    // An empty last list item leaves its bullet's space.
    let end = out.text.trim_end().len();
    out.text.truncate(end);
    out.text
}

fn attribute(attributes: &[(&str, &str)], name: &str) -> Option<String> {
    attributes
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(name))
        .map(|(_, v)| to_plain_attribute(v).trim().to_string())
        .filter(|v| !v.is_empty())
}

/// What separates the next word from the text so far, strongest wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
enum Break {
    #[default]
    None,
    Space,
    Line,
    Paragraph,
}

/// The text being written; separators wait until a word follows, so none trails or doubles.
#[derive(Default)]
struct Text {
    text: String,
    pending: Break,
}

impl Text {
    fn wait(&mut self, separator: Break) {
        self.pending = self.pending.max(separator);
    }

    /// Where the next word will start once the waiting separator is written.
    fn len_with_pending(&mut self) -> usize {
        self.flush();
        self.text.len()
    }

    fn flush(&mut self) {
        if !self.text.is_empty() {
            match self.pending {
                Break::None => {}
                Break::Space if !self.text.ends_with(char::is_whitespace) => self.text.push(' '),
                Break::Space => {}
                Break::Line => self.text.push('\n'),
                Break::Paragraph => self.text.push_str("\n\n"),
            }
        }
        self.pending = Break::None;
    }

    fn words(&mut self, t: &str) {
        for c in t.chars() {
            // A no-break space is text in HTML, but spaces in plain text either way.
            if c.is_whitespace() {
                self.wait(Break::Space);
            } else {
                self.flush();
                self.text.push(c);
            }
        }
    }

    /// Puts the link's address after its text, or in place of no text.
    fn link_end(&mut self, href: &str, start: usize) {
        let shown = self.text.get(start..).unwrap_or_default().trim();
        if shown.is_empty() {
            self.words(href);
        } else if shown != href {
            self.wait(Break::Space);
            self.flush();
            self.text.push('(');
            self.text.push_str(href);
            self.text.push(')');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_breaks_and_lists_keep_their_shape() {
        assert_eq!(
            to_text(
                "<p>Hello  Ana,</p>\n<p>Line one<br>line\ttwo</p><ul><li>a</li><li>b</li></ul>end"
            ),
            "Hello Ana,\n\nLine one\nline two\n\n- a\n- b\n\nend"
        );
        assert_eq!(to_text("  <div><p> x </p></div>  "), "x");
        assert_eq!(to_text("<ul><li>a<li></ul>"), "- a\n-");
        assert_eq!(
            to_text("Tom &amp; Jerry&nbsp;&lt;3 &hellip;"),
            "Tom & Jerry <3 …"
        );
    }

    #[test]
    fn links_keep_their_address() {
        assert_eq!(
            to_text("<a href=\"https://x.example/s?a=1&amp;b=2\">Take the <b>survey</b></a>."),
            "Take the survey (https://x.example/s?a=1&b=2)."
        );
        assert_eq!(
            to_text("<a href=\"https://x.example/s\">https://x.example/s</a>"),
            "https://x.example/s"
        );
        assert_eq!(
            to_text("go <a href=\"https://x.example/s\"><img src=\"https://i/x.png\"></a> now"),
            "go https://x.example/s now"
        );
        assert_eq!(to_text("<a>no address</a>"), "no address");
        assert_eq!(
            to_text("<a href=\"https://x.example/\">open"),
            "open (https://x.example/)"
        );
        assert_eq!(to_text("<img alt=\"Logo\"> Acme"), "Logo Acme");
    }

    #[test]
    fn code_and_comments_leave_nothing() {
        assert_eq!(
            to_text("<style>p{}</style><!-- note --><script>x()</script>Hi"),
            "Hi"
        );
    }
}
