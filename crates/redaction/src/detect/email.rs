//! Email addresses: a local part of letters, digits and `._%+-` without leading, trailing or
//! doubled dots, an `@`, and a domain of dotted labels ending in a top-level domain of two
//! or more letters. Trailing punctuation stays outside ("mail a@b.com." keeps the dot).

use super::{Finding, Kind};

const MAX_LOCAL: usize = 64;
const MAX_LABEL: usize = 63;
const MAX_DOMAIN: usize = 253;

fn is_local_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

pub(crate) fn find(text: &[u8], out: &mut Vec<Finding>) {
    let mut taken = 0;
    for at in memchr::memchr_iter(b'@', text) {
        if at < taken {
            continue;
        }
        let (Some(start), Some(end)) = (local_start(text, at), domain_end(text, at + 1)) else {
            continue;
        };
        out.push(Finding {
            start,
            end,
            kind: Kind::Email,
        });
        taken = end;
    }
}

/// Where the local part before the `@` at `at` starts, if it is one.
fn local_start(text: &[u8], at: usize) -> Option<usize> {
    let mut start = text[..at]
        .iter()
        .rposition(|&b| !is_local_byte(b))
        .map_or(0, |before| before + 1);
    // "see:.john@…" — a dot cannot start an address, so it is the sentence's.
    while start < at && text[start] == b'.' {
        start += 1;
    }
    let local = &text[start..at];
    let valid = !local.is_empty()
        && local.len() <= MAX_LOCAL
        && !local.ends_with(b".")
        && !local.windows(2).any(|pair| pair == b"..");
    valid.then_some(start)
}

/// Where the domain starting at `from` ends, if it is one.
fn domain_end(text: &[u8], from: usize) -> Option<usize> {
    let mut end = text[from..]
        .iter()
        .position(|&b| !is_domain_byte(b))
        .map_or(text.len(), |len| from + len);
    // The full stop or dash after an address belongs to the sentence.
    while end > from && matches!(text[end - 1], b'.' | b'-') {
        end -= 1;
    }
    // "a@b.com.5" — if the last label is no top-level domain, the address may end before it.
    loop {
        let domain = &text[from..end];
        let last_dot = domain.iter().rposition(|&b| b == b'.')?;
        if is_domain(domain, last_dot) {
            return Some(end);
        }
        end = from + last_dot;
    }
}

fn is_domain(domain: &[u8], last_dot: usize) -> bool {
    let tld = &domain[last_dot + 1..];
    domain.len() <= MAX_DOMAIN
        && tld.len() >= 2
        && tld.iter().all(u8::is_ascii_alphabetic)
        && domain.split(|&b| b == b'.').all(|label| {
            !label.is_empty()
                && label.len() <= MAX_LABEL
                && !label.starts_with(b"-")
                && !label.ends_with(b"-")
        })
}

#[cfg(test)]
mod tests {
    use super::super::found;
    use super::*;

    fn emails(text: &str) -> Vec<&str> {
        found(find, text)
    }

    #[test]
    fn finds_addresses_with_dots_tags_and_subdomains() {
        assert_eq!(emails("a@b.co"), ["a@b.co"]);
        assert_eq!(
            emails("write to jane.doe@example.com today"),
            ["jane.doe@example.com"]
        );
        assert_eq!(
            emails("jane+surveys@mail.eu.example.org"),
            ["jane+surveys@mail.eu.example.org"]
        );
        assert_eq!(
            emails("<j_o-e%x@sub-domain.example.co.uk>"),
            ["j_o-e%x@sub-domain.example.co.uk"]
        );
        assert_eq!(emails("JANE@EXAMPLE.COM"), ["JANE@EXAMPLE.COM"]);
        assert_eq!(emails("4155550132@txt.att.net"), ["4155550132@txt.att.net"]);
        assert_eq!(emails("a@b.com,c@d.org"), ["a@b.com", "c@d.org"]);
    }

    #[test]
    fn keeps_trailing_punctuation_outside() {
        assert_eq!(emails("mail me at a@b.com."), ["a@b.com"]);
        assert_eq!(emails("(a@b.com)"), ["a@b.com"]);
        assert_eq!(emails("a@b.com... or"), ["a@b.com"]);
        assert_eq!(emails("\"a@b.com\"?"), ["a@b.com"]);
        assert_eq!(emails("a@b.com-"), ["a@b.com"]);
        assert_eq!(emails("...a@b.com"), ["a@b.com"]);
        assert_eq!(emails("mailto:a@b.com"), ["a@b.com"]);
    }

    #[test]
    fn ends_before_a_label_that_is_no_top_level_domain() {
        assert_eq!(emails("a@example.com.5"), ["a@example.com"]);
    }

    #[test]
    fn leaves_near_misses() {
        for text in [
            "@handle",
            "user@",
            "user@localhost",
            "a@b.c",
            "a@b.c0m",
            "a@b..com",
            "a@-b.com",
            "a@b-.com",
            "john..doe@example.com",
            "john.@example.com",
            "meet @ 5",
            "price 3@4.50",
            "a@.com",
        ] {
            assert!(emails(text).is_empty(), "{text}");
        }
    }
}
