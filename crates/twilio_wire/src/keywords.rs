//! The reply words Twilio acts on by default for long codes and toll-free numbers: it blocks
//! the sender → number pair on an opt-out word (later sends fail with error 21610), lifts the
//! block on an opt-in word, answers help words, and passes the message on to the webhook in
//! every case. Only a message that is the word alone counts ("STOP PLEASE" does not), in any
//! letter case, surrounding white space ignored.
//!
//! A receiver must still treat the text as what it is in its own conversation: "YES" is an
//! opt-in word and may also be someone's answer to a yes/no question.

/// What a reply word asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Keyword {
    /// Stop sending to me.
    Unsubscribe,
    /// Send to me again.
    Resubscribe,
    /// Tell me who you are and how to stop.
    Help,
}

/// Twilio's default opt-out words.
pub const UNSUBSCRIBE: [&str; 8] = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
];
/// Twilio's default opt-in words.
pub const RESUBSCRIBE: [&str; 3] = ["START", "YES", "UNSTOP"];
/// Twilio's default help words.
pub const HELP: [&str; 2] = ["HELP", "INFO"];

/// The keyword a whole message body is, if it is one.
pub fn keyword(body: &str) -> Option<Keyword> {
    let word = body.trim();
    let is = |list: &[&str]| list.iter().any(|k| k.eq_ignore_ascii_case(word));
    if is(&UNSUBSCRIBE) {
        Some(Keyword::Unsubscribe)
    } else if is(&RESUBSCRIBE) {
        Some(Keyword::Resubscribe)
    } else if is(&HELP) {
        Some(Keyword::Help)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_word_is_recognised() {
        for w in UNSUBSCRIBE {
            assert_eq!(keyword(w), Some(Keyword::Unsubscribe), "{w}");
        }
        for w in RESUBSCRIBE {
            assert_eq!(keyword(w), Some(Keyword::Resubscribe), "{w}");
        }
        for w in HELP {
            assert_eq!(keyword(w), Some(Keyword::Help), "{w}");
        }
    }

    #[test]
    fn case_and_surrounding_space_do_not_matter() {
        assert_eq!(keyword("  stop\n"), Some(Keyword::Unsubscribe));
        assert_eq!(keyword("Unsubscribe"), Some(Keyword::Unsubscribe));
        assert_eq!(keyword("\tStart "), Some(Keyword::Resubscribe));
        assert_eq!(keyword("info"), Some(Keyword::Help));
    }

    #[test]
    fn only_the_word_alone_counts() {
        for text in [
            "STOP PLEASE",
            "please stop",
            "stop.",
            "S T O P",
            "",
            "10",
            "stopp",
        ] {
            assert_eq!(keyword(text), None, "{text:?}");
        }
    }
}
