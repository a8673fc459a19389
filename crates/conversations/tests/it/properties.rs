//! Whatever a body holds, reading it never panics and never loses what people wrote.

use conversations::{parse_transcript, ChatSettings, Classification, Conversation};
use proptest::prelude::*;

/// Pieces real bodies are made of, so arbitrary input hits the reader's edges often.
fn body_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<br>".to_string()),
        Just("<p align=\"center\">".to_string()),
        Just("</p>".to_string()),
        Just("<div>".to_string()),
        Just("</div>".to_string()),
        Just("<!--".to_string()),
        Just("&amp;".to_string()),
        Just("&#".to_string()),
        Just("&#x1F600;".to_string()),
        Just("( 5s ) ".to_string()),
        Just("( 1h 2m 3s ) ".to_string()),
        Just("Agent ".to_string()),
        Just("Chat Started: Monday, March 02, 2026, 10:15:03 (+0000)".to_string()),
        Just("Chat Transferred From A To B".to_string()),
        Just("Visitor: ".to_string()),
        Just("\n".to_string()),
        "[a-zA-Z0-9 :;()<>&#]{0,8}",
        any::<char>().prop_map(String::from),
    ]
}

fn any_settings() -> impl Strategy<Value = ChatSettings> {
    prop_oneof![
        Just(Classification::Auto),
        Just(Classification::FirstAgent),
        Just(Classification::FirstClient),
    ]
    .prop_map(|classification| ChatSettings {
        classification,
        agent_names: vec!["A".into()],
        bot_names: vec!["Ava".into()],
        started: None,
    })
}

/// A word of text: no whitespace, no markup, nothing that starts a header or notice line.
fn word() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9.,!?'\"()*/+=-]{1,10}".prop_filter("a header word", |w| {
        !["agent", "chat", "file"]
            .iter()
            .any(|h| w.eq_ignore_ascii_case(h))
    })
}

fn words(max: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(word(), 1..max)
}

/// A speaker's name: one to three words of letters.
fn name() -> impl Strategy<Value = String> {
    prop::collection::vec("[A-Z][a-z]{0,6}", 1..4).prop_map(|w| w.join(" "))
}

/// One line of a transcript: a stamped message, or a line of text without a stamp.
#[derive(Debug, Clone)]
enum Written {
    Message {
        seconds: u32,
        name: String,
        words: Vec<String>,
    },
    Text(Vec<String>),
}

fn written() -> impl Strategy<Value = Written> {
    prop_oneof![
        3 => (0u32..5000, name(), words(8)).prop_map(|(seconds, name, words)| Written::Message {
            seconds,
            name,
            words
        }),
        1 => words(6).prop_map(Written::Text),
    ]
}

fn stamp(seconds: u32) -> String {
    match (seconds / 3600, seconds / 60 % 60, seconds % 60) {
        (0, 0, s) => format!("( {s}s )"),
        (0, m, s) => format!("( {m}m {s}s )"),
        (h, m, s) => format!("( {h}h {m}m {s}s )"),
    }
}

fn html_escape(word: &str) -> String {
    word.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Every word appears in some turn's text, every name in some turn's name.
fn keeps_everything(lines: &[Written], chat: &Conversation) -> Result<(), TestCaseError> {
    let kept: Vec<&str> = chat
        .turns
        .iter()
        .flat_map(|t| t.text.split_whitespace())
        .collect();
    for line in lines {
        let (name, words) = match line {
            Written::Message { name, words, .. } => (Some(name), words),
            Written::Text(words) => (None, words),
        };
        for word in words {
            prop_assert!(kept.contains(&word.as_str()), "lost {word:?} from {line:?}");
        }
        if let Some(name) = name {
            prop_assert!(
                chat.turns.iter().any(|t| &t.name == name),
                "lost speaker {name:?}"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_input_never_panics(body in any::<String>(), settings in any_settings()) {
        let chat = parse_transcript(&body, &settings);
        prop_assert!(!chat.turns.is_empty() || !chat.warnings.is_empty());
    }

    #[test]
    fn body_like_input_never_panics(
        pieces in prop::collection::vec(body_piece(), 0..60),
        settings in any_settings(),
    ) {
        let body: String = pieces.concat();
        let chat = parse_transcript(&body, &settings);
        prop_assert!(!chat.turns.is_empty() || !chat.warnings.is_empty());
        for turn in &chat.turns {
            prop_assert!(!turn.text.contains('\0') || body.contains('\0'), "a NUL appeared");
        }
    }

    #[test]
    fn plain_text_without_chat_lines_is_kept_whole(
        lines in prop::collection::vec(words(12), 1..10),
    ) {
        let body = lines.iter().map(|l| l.join(" ")).collect::<Vec<_>>().join("\n");
        let chat = parse_transcript(&body, &ChatSettings::default());
        let written: Vec<Written> = lines.into_iter().map(Written::Text).collect();
        keeps_everything(&written, &chat)?;
        prop_assert_eq!(chat.turns.len(), 1);
    }

    #[test]
    fn plain_transcripts_keep_every_word_and_speaker(lines in prop::collection::vec(written(), 1..25)) {
        let body = lines
            .iter()
            .map(|line| match line {
                Written::Message { seconds, name, words } => {
                    format!("{} {name}: {}", stamp(*seconds), words.join(" "))
                }
                Written::Text(words) => words.join("  "),
            })
            .collect::<Vec<_>>()
            .join("\n");
        let chat = parse_transcript(&body, &ChatSettings::default());
        keeps_everything(&lines, &chat)?;
        let messages = lines.iter().filter(|l| matches!(l, Written::Message { .. })).count();
        let named = chat.turns.iter().filter(|t| !t.name.is_empty()).count();
        prop_assert_eq!(messages, named);
    }

    #[test]
    fn html_transcripts_keep_every_word_through_entities(
        lines in prop::collection::vec((written(), any::<bool>()), 1..25),
    ) {
        let mut body = String::from(
            "<p align=\"center\">Chat Started: Monday, March 02, 2026, 10:15:03 (+0000)</p>",
        );
        for (line, centred) in &lines {
            let text = match line {
                Written::Message { seconds, name, words } => format!(
                    "{} {name}: {}",
                    stamp(*seconds),
                    words.iter().map(|w| html_escape(w)).collect::<Vec<_>>().join(" ")
                ),
                Written::Text(words) => {
                    words.iter().map(|w| html_escape(w)).collect::<Vec<_>>().join(" \n ")
                }
            };
            if *centred {
                body.push_str(&format!("<p align=\"center\">{text}</p>"));
            } else {
                body.push_str(&text);
                body.push_str("<br>");
            }
        }
        let chat = parse_transcript(&body, &ChatSettings::default());
        let written: Vec<Written> = lines.into_iter().map(|(line, _)| line).collect();
        keeps_everything(&written, &chat)?;
        for turn in chat.turns.iter().filter(|t| !t.name.is_empty()) {
            prop_assert!(turn.time.is_some());
        }
    }
}
