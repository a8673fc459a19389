//! Legacy Chat: a `LiveChatTranscript.Body` (a `textarea` of up to 131,072 characters, per the
//! field reference) read into turns.
//!
//! What a body holds, from public copies of real ones (salesforce/TransmogrifAI test fixtures,
//! chat-analysis scripts quoting Arlo, Pepperstone, SmileDirectClub and Tec de Monterrey
//! transcripts, and a Lightning component rendering one):
//!
//! - A header, each line its own block: `Chat Started: Monday, December 17, 2018, 23:27:57
//!   (-0500)`, `Chat Origin: Live Chat Button`, `Agent Royalle G`. The agent line may name the
//!   agent differently from how they write ("Agent Subashree S", messages from "Arlo Support"),
//!   or hold an unfilled merge field ("Agent (UserFirstName)").
//! - One line per message, `( 10s ) Royalle G: Hi, …`, the stamp being the time since the chat
//!   started (`( 44s )`, `( 1m 13s )`, `( 25m 21s )`), lines separated by `<br>`. A message of
//!   several lines goes on without a stamp ("refid:5744z000000kAR9AAM" under an agent's line).
//! - An anonymous visitor writes as "Visitor".
//! - Notices: "Chat Transferred From Pepper Chatbot To Support", "Agent Chatbot successfully
//!   transferred the chat to button ButtonId …", "Agent Chatbot failed to transfer the chat …",
//!   "Agent vamshi t requested a file transfer", "File transfer succeeded.", "Chat Ended by …".
//! - A chat a bot hands over carries a second header: the bot's part, the transfer notice, then
//!   `Chat Started:` and `Chat Origin:` again for the agent's part. Stamps after a header count
//!   from that header's start (each part is timed on its own, which is why it is restated).
//!
//! Orgs in other languages get a translated header ("Ha comenzado el chat", "Origen de chat");
//! only the English one is read as a header, and such lines become text outside any message,
//! while their message lines still read. Participant rules are in [`crate::Classification`]'s
//! module.

use chrono::{DateTime, Duration, Utc};

use crate::html::{self, Line};
use crate::participants::{self, looks_like_bot, Classification, Evidence};
use crate::{started, Conversation, Role, Turn};

/// What a chat job knows beside the body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatSettings {
    pub classification: Classification,
    /// Names the caller knows as agents, such as the transcript Owner's name.
    pub agent_names: Vec<String>,
    /// Names the caller knows as bots, such as the org's Einstein Bot names.
    pub bot_names: Vec<String>,
    /// The chat's start when the body has no "Chat Started" line (the record's `StartTime`);
    /// turn times count from it.
    pub started: Option<DateTime<Utc>>,
}

/// Reads a transcript body into turns. Never fails: a body with no message lines comes back as
/// one [`Role::Unknown`] turn holding its whole text, with a warning saying why.
pub fn parse_transcript(body: &str, settings: &ChatSettings) -> Conversation {
    let lines = html::lines(body);
    if lines.is_empty() {
        return Conversation {
            turns: Vec::new(),
            warnings: vec!["the transcript body is empty".to_string()],
        };
    }
    let mut reading = Reading::new(settings, lines.len());
    for line in lines.iter() {
        reading.line(line);
    }
    if reading.speakers.is_empty() {
        let mut warnings = reading.warnings;
        warnings.push("no '( Ns ) Name:' lines found; the whole text is kept as one turn".into());
        return Conversation {
            turns: vec![Turn {
                role: Role::Unknown,
                name: String::new(),
                time: reading.first_start.or(settings.started),
                elapsed_secs: None,
                text: lines.joined(),
            }],
            warnings,
        };
    }
    reading.finish()
}

/// What a turn is, until the speakers are classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A stamped message, by speaker index.
    Message(usize),
    Notice,
    /// Text outside any message: before the first, or after a notice.
    Stray,
}

struct Reading<'a> {
    settings: &'a ChatSettings,
    turns: Vec<Turn>,
    kinds: Vec<Kind>,
    speakers: Vec<&'a str>,
    evidence: Evidence<'a>,
    /// What the stamps of the current part count from.
    start: Option<DateTime<Utc>>,
    first_start: Option<DateTime<Utc>>,
    headers_seen: usize,
    messages_in_part: bool,
    /// A bot just said it transferred the chat: the next "Chat Transferred From X" names it.
    bot_handing_over: bool,
    warnings: Vec<String>,
}

impl<'a> Reading<'a> {
    fn new(settings: &'a ChatSettings, lines: usize) -> Self {
        Reading {
            settings,
            turns: Vec::with_capacity(lines),
            kinds: Vec::with_capacity(lines),
            speakers: Vec::new(),
            evidence: Evidence {
                known_agents: &settings.agent_names,
                known_bots: &settings.bot_names,
                ..Evidence::default()
            },
            start: settings.started,
            first_start: None,
            headers_seen: 0,
            messages_in_part: false,
            bot_handing_over: false,
            warnings: Vec::new(),
        }
    }

    fn line(&mut self, line: Line<'a>) {
        let text = line.text;
        if let Some(message) = message_line(text) {
            self.message(message);
        } else if let Some(rest) = strip_prefix_ignore_case(text, "Chat Started:") {
            self.chat_started(rest.trim());
        } else if strip_prefix_ignore_case(text, "Chat Origin:").is_some() {
            // The button or queue the chat came from: the record's data, not a turn.
        } else if let Some(rest) = strip_prefix_ignore_case(text, "Agent ") {
            if let Some(actor) = agent_notice_actor(rest) {
                self.agent_notice(actor, rest);
                self.notice(text);
            } else if line.centered || !self.messages_in_part {
                // The header's "Agent" is whoever took the chat, a bot's user included.
                let agent = rest.trim();
                if looks_like_bot(agent) {
                    self.evidence.transcript_bots.push(agent);
                } else {
                    self.evidence.transcript_agents.push(agent);
                }
            } else {
                self.text_without_stamp(text);
            }
        } else if let Some(rest) = strip_prefix_ignore_case(text, "Chat Transferred From ") {
            self.transfer(rest);
            self.notice(text);
        } else if line.centered
            || strip_prefix_ignore_case(text, "Chat Transferred ").is_some()
            || strip_prefix_ignore_case(text, "Chat Ended ").is_some()
            || is_file_transfer_notice(text)
        {
            if line.centered {
                self.joined(text);
            }
            self.notice(text);
        } else {
            self.text_without_stamp(text);
        }
    }

    fn message(&mut self, message: Message<'a>) {
        let speaker = match self.speakers.iter().position(|&s| s == message.name) {
            Some(known) => known,
            None => {
                self.speakers.push(message.name);
                self.speakers.len() - 1
            }
        };
        self.turns.push(Turn {
            role: Role::Unknown,
            name: message.name.to_string(),
            // Checked: a start at the end of chrono's range plus a stamp is no time, not a panic.
            time: self.start.and_then(|start| {
                start.checked_add_signed(Duration::seconds(i64::from(message.elapsed)))
            }),
            elapsed_secs: Some(message.elapsed),
            text: message.text.to_string(),
        });
        self.kinds.push(Kind::Message(speaker));
        self.messages_in_part = true;
    }

    fn chat_started(&mut self, date: &str) {
        self.messages_in_part = false;
        let first = self.headers_seen == 0;
        self.headers_seen += 1;
        match started::read(date) {
            Some(read) => {
                self.start = Some(read.at);
                self.first_start = self.first_start.or(Some(read.at));
                if !read.offset_given {
                    self.warnings.push(format!(
                        "'Chat Started: {date}' gives no UTC offset; read as UTC"
                    ));
                }
            }
            None => {
                // The first part can still count from the caller's start; a later part cannot.
                if !first {
                    self.start = None;
                }
                self.warnings
                    .push(format!("could not read the chat start time '{date}'"));
            }
        }
    }

    fn notice(&mut self, text: &str) {
        self.turns.push(Turn {
            role: Role::System,
            name: String::new(),
            time: None,
            elapsed_secs: None,
            text: text.to_string(),
        });
        self.kinds.push(Kind::Notice);
    }

    /// A line with no stamp: the next line of the message before it, or text outside any.
    fn text_without_stamp(&mut self, text: &str) {
        match (self.turns.last_mut(), self.kinds.last()) {
            (Some(last), Some(Kind::Message(_) | Kind::Stray)) => {
                last.text.push('\n');
                last.text.push_str(text);
            }
            _ => {
                self.turns.push(Turn {
                    role: Role::Unknown,
                    name: String::new(),
                    time: None,
                    elapsed_secs: None,
                    text: text.to_string(),
                });
                self.kinds.push(Kind::Stray);
            }
        }
    }

    /// "Agent <actor> joined / requested / successfully transferred …": the actor is a
    /// Salesforce user (an agent), or the bot's user ("Chatbot") announcing a handover.
    fn agent_notice(&mut self, actor: &'a str, rest: &str) {
        if actor.is_empty() {
            return;
        }
        if looks_like_bot(actor) {
            self.evidence.transcript_bots.push(actor);
            if contains_word(rest, "transferred") || contains_word(rest, "transfer") {
                self.bot_handing_over = true;
            }
        } else {
            self.evidence.transcript_agents.push(actor);
        }
    }

    /// "Chat Transferred From <from> To <to>": `to` takes the chat, so is an agent (or a bot);
    /// `from` is a bot when a bot just announced the handover, else the agent handing over.
    fn transfer(&mut self, rest: &'a str) {
        let Some(at) = find_ignore_case(rest, " to ") else {
            return;
        };
        let from = rest[..at].trim();
        let to = rest[at + 4..].trim().trim_end_matches('.');
        if self.bot_handing_over || looks_like_bot(from) {
            self.evidence.transcript_bots.push(from);
        } else if !from.is_empty() {
            self.evidence.transcript_agents.push(from);
        }
        if looks_like_bot(to) {
            self.evidence.transcript_bots.push(to);
        } else if !to.is_empty() {
            self.evidence.transcript_agents.push(to);
        }
        self.bot_handing_over = false;
    }

    /// A centred "<name> joined the conference" / "<name> has joined": the joiner is an agent.
    fn joined(&mut self, text: &'a str) {
        let Some(at) = find_word(text, "joined") else {
            return;
        };
        let name = text[..at].trim_end();
        let name = name.strip_suffix(" has").unwrap_or(name).trim();
        if !name.is_empty() && name.split(' ').count() <= 5 {
            self.evidence.transcript_agents.push(name);
        }
    }

    fn finish(mut self) -> Conversation {
        let roles = participants::classify(
            &self.speakers,
            self.settings.classification,
            &self.evidence,
            &mut self.warnings,
        );
        let mut stray = 0;
        for (turn, kind) in self.turns.iter_mut().zip(&self.kinds) {
            match kind {
                Kind::Message(speaker) => turn.role = roles[*speaker],
                Kind::Notice => {}
                Kind::Stray => stray += 1,
            }
        }
        if stray > 0 {
            self.warnings.push(format!(
                "{stray} block(s) of text outside any message kept as unknown turns"
            ));
        }
        Conversation {
            turns: self.turns,
            warnings: self.warnings,
        }
    }
}

/// A stamped message line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Message<'a> {
    elapsed: u32,
    name: &'a str,
    text: &'a str,
}

/// The longest name read before a `:`; past it the line is taken as text, not a message.
const MAX_NAME_BYTES: usize = 120;

/// `( 1h 2m 3s ) Name: text`, spaces inside the parentheses optional; `None` for any other line.
/// A stamp whose name lacks a `: ` (`( 3m 32s )` alone, `( 5s ) http://…`) is not a message, so
/// its text stays with the message before it.
fn message_line(line: &str) -> Option<Message<'_>> {
    let bytes = line.as_bytes();
    if bytes.first() != Some(&b'(') {
        return None;
    }
    let mut i = 1;
    let mut elapsed: u32 = 0;
    let mut parts = 0;
    loop {
        while bytes.get(i) == Some(&b' ') {
            i += 1;
        }
        match bytes.get(i) {
            Some(b')') if parts > 0 => {
                i += 1;
                break;
            }
            Some(b) if b.is_ascii_digit() => {
                let from = i;
                while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                // Nine digits always fit a u32; a longer number is no stamp.
                if i - from > 9 {
                    return None;
                }
                let amount: u32 = line[from..i].parse().ok()?;
                let unit = match bytes.get(i).map(u8::to_ascii_lowercase) {
                    Some(b'h') => 3600,
                    Some(b'm') => 60,
                    Some(b's') => 1,
                    _ => return None,
                };
                i += 1;
                elapsed = elapsed.saturating_add(amount.saturating_mul(unit));
                parts += 1;
            }
            _ => return None,
        }
    }
    let rest = line[i..].trim_start();
    let colon = rest.bytes().take(MAX_NAME_BYTES).position(|b| b == b':')?;
    if !matches!(rest.as_bytes().get(colon + 1), None | Some(b' ')) {
        return None;
    }
    let name = rest[..colon].trim();
    if name.is_empty() {
        return None;
    }
    Some(Message {
        elapsed,
        name,
        text: rest[colon + 1..].trim(),
    })
}

/// Words that make "Agent …" a notice rather than the header naming the agent.
const NOTICE_WORDS: &[&str] = &[
    "accepted",
    "cancelled",
    "canceled",
    "conference",
    "declined",
    "disconnected",
    "ended",
    "failed",
    "joined",
    "left",
    "raised",
    "lowered",
    "requested",
    "successfully",
    "transfer",
    "transferred",
];

/// For "Agent <rest>" that is a notice, the actor's name (the words before the first notice
/// word, less "has"/"was"); `None` when it is the header naming the agent.
fn agent_notice_actor(rest: &str) -> Option<&str> {
    let mut offset = 0;
    for word in rest.split(' ') {
        let bare = word.trim_matches(|c: char| c.is_ascii_punctuation());
        if NOTICE_WORDS.iter().any(|n| bare.eq_ignore_ascii_case(n)) {
            let actor = rest[..offset].trim_end();
            let actor = ["has", "was", "is"]
                .iter()
                .find_map(|aux| strip_suffix_ignore_case(actor, aux))
                .unwrap_or(actor)
                .trim_end();
            return Some(actor);
        }
        offset += word.len() + 1;
    }
    None
}

/// "File transfer succeeded." and its like: short, so a client's sentence starting the same
/// way stays their text.
fn is_file_transfer_notice(text: &str) -> bool {
    strip_prefix_ignore_case(text, "File transfer ").is_some() && text.split(' ').count() <= 4
}

fn strip_prefix_ignore_case<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.as_bytes().get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix.as_bytes())
        .then(|| &text[prefix.len()..])
}

fn strip_suffix_ignore_case<'t>(text: &'t str, word: &str) -> Option<&'t str> {
    let cut = text.len().checked_sub(word.len() + 1)?;
    let tail = text.as_bytes().get(cut..)?;
    (tail[0] == b' ' && tail[1..].eq_ignore_ascii_case(word.as_bytes())).then(|| &text[..cut])
}

fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Where `word` starts as a whole word (ignoring case and trailing punctuation).
fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut offset = 0;
    for w in text.split(' ') {
        if w.trim_end_matches(|c: char| c.is_ascii_punctuation())
            .eq_ignore_ascii_case(word)
        {
            return Some(offset);
        }
        offset += w.len() + 1;
    }
    None
}

fn contains_word(text: &str, word: &str) -> bool {
    find_word(text, word).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_in_every_form() {
        let m = message_line("( 1h 2m 3s ) Jane D: Re: your order").unwrap();
        assert_eq!(
            (m.elapsed, m.name, m.text),
            (3723, "Jane D", "Re: your order")
        );
        assert_eq!(message_line("(10s) V: hi").unwrap().elapsed, 10);
        assert_eq!(message_line("( 1m 5s ) V:").unwrap().text, "");
        for not in [
            "( 3m 32s )",
            "( 5s ) http://example.com",
            "() V: hi",
            "( 5x ) V: hi",
            "( 1234567890s ) V: hi",
            "( 5s ) : hi",
            "hello ( 5s ) V: hi",
        ] {
            assert!(message_line(not).is_none(), "{not}");
        }
    }

    #[test]
    fn agent_lines_tell_header_from_notice() {
        assert_eq!(agent_notice_actor("Royalle G"), None);
        assert_eq!(
            agent_notice_actor("Chatbot successfully transferred the chat to button X"),
            Some("Chatbot")
        );
        assert_eq!(
            agent_notice_actor("vamshi t requested a file transfer"),
            Some("vamshi t")
        );
        assert_eq!(
            agent_notice_actor("Jane D has joined the conference."),
            Some("Jane D")
        );
    }
}
