//! Who in a chat transcript is an agent, a client or a bot. A transcript names speakers only by
//! the name they wrote under, so the job's setting says how to tell them apart.
//!
//! The rules, in the order they apply to each distinct speaker (in order of first message):
//!
//! 1. **Bots stay bots in every mode**: a name on the caller's bot list, a name that handed the
//!    chat over in a bot transfer ("Agent Chatbot successfully transferred the chat …" then
//!    "Chat Transferred From *Mark* To …"), or a name with a bot marker: the word "Bot" or
//!    "Chatbot" ("Einstein Bot", "Pepper Chatbot"), a CamelCase "…Bot" ("TecBot"), or "Virtual
//!    Assistant". Bots do not count as participants for the modes below.
//! 2. **`first_agent` / `first_client`**: the first person to write takes that role. In a
//!    two-party chat the other takes the other role, whatever the names say. With more
//!    people, the rest go through the auto rules, and the fallback below never adds a second
//!    guessed agent when the first already is one.
//! 3. **`auto`**: an agent is a name matching one the transcript names as an agent (its
//!    "Agent <name>" header lines, "Agent <name> joined …", the receiving side of "Chat
//!    Transferred From … To <name>") or one the caller knows (the transcript's Owner). A match
//!    ignores case and accepts the short forms chats use: "Jane D" or "Jane" for "Jane Doe".
//!    "Visitor", the name Salesforce gives an anonymous visitor, is a client.
//! 4. **Fallback**: when still no one is an agent, an agent's chat name may simply differ from
//!    every name known (one public body's header says "Agent Subashree S" while she writes as
//!    "Arlo Support"), so the first unclassified person to write is taken as the agent, provided
//!    someone else is (or will be) the client. A chat that opens with a bot is the exception:
//!    the first person is the customer the bot served, and the next one the agent. In `auto`
//!    the guess is a warning.
//! 5. Everyone else is a client.

use serde::{Deserialize, Serialize};

use crate::Role;

/// How a chat job tells agents from clients (the connector's "participant classification").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// Names in the transcript and the caller's lists decide (the module's rules 1, 3, 4).
    #[default]
    Auto,
    /// "First participant is an agent".
    FirstAgent,
    /// "First participant is a client".
    FirstClient,
}

/// What a transcript and its caller say about names.
#[derive(Debug, Default)]
pub(crate) struct Evidence<'a> {
    /// Names the transcript gives as agents: headers, joins, transfer targets.
    pub transcript_agents: Vec<&'a str>,
    /// Names the transcript shows handing a chat over as a bot.
    pub transcript_bots: Vec<&'a str>,
    /// Names the caller knows as agents (the transcript's Owner, a user list).
    pub known_agents: &'a [String],
    /// Names the caller knows as bots.
    pub known_bots: &'a [String],
}

/// The role of each speaker, in the order given.
pub(crate) fn classify(
    speakers: &[&str],
    mode: Classification,
    evidence: &Evidence<'_>,
    warnings: &mut Vec<String>,
) -> Vec<Role> {
    let mut roles: Vec<Option<Role>> = speakers
        .iter()
        .map(|name| is_bot(name, evidence).then_some(Role::Bot))
        .collect();
    let humans: Vec<usize> = (0..speakers.len())
        .filter(|&i| roles[i].is_none())
        .collect();

    let first_role = match mode {
        Classification::Auto => None,
        Classification::FirstAgent => Some(Role::Agent),
        Classification::FirstClient => Some(Role::Client),
    };
    if let (Some(role), Some(&first)) = (first_role, humans.first()) {
        roles[first] = Some(role);
        if let [_, other] = humans[..] {
            roles[other] = Some(other_side(role));
        }
    }

    for &i in &humans {
        if roles[i].is_none() {
            roles[i] = name_says(speakers[i], speakers, evidence);
        }
    }

    if !roles.contains(&Some(Role::Agent)) {
        let mut unclassified: Vec<usize> = humans
            .iter()
            .copied()
            .filter(|&i| roles[i].is_none())
            .collect();
        let opens_with_bot = roles.first() == Some(&Some(Role::Bot));
        if opens_with_bot && !roles.contains(&Some(Role::Client)) && !unclassified.is_empty() {
            roles[unclassified.remove(0)] = Some(Role::Client);
        }
        let has_client = roles.contains(&Some(Role::Client));
        if let Some(&first) = unclassified.first() {
            if has_client || unclassified.len() >= 2 {
                roles[first] = Some(Role::Agent);
                if mode == Classification::Auto {
                    warnings.push(format!(
                        "no participant matched a known agent name; took '{}' as the agent \
                         by the order people wrote in",
                        speakers[first]
                    ));
                }
            }
        }
    }

    roles
        .into_iter()
        .map(|role| role.unwrap_or(Role::Client))
        .collect()
}

fn other_side(role: Role) -> Role {
    if role == Role::Agent {
        Role::Client
    } else {
        Role::Agent
    }
}

/// An agent by name: the agent's own name, or a shortened form of it ("Jane D" for "Jane
/// Doe") — unless another speaker of the chat bears the agent's name as written, in which case
/// a merely similar name is someone else (the customer "Omar Khan" beside the agent "Omar K").
fn name_says(name: &str, speakers: &[&str], evidence: &Evidence<'_>) -> Option<Role> {
    let known = evidence.known_agents.iter().map(String::as_str);
    let is_agent = evidence
        .transcript_agents
        .iter()
        .copied()
        .chain(known)
        .any(|agent| {
            same_name(agent, name)
                || (same_person(agent, name)
                    && !speakers
                        .iter()
                        .any(|other| !same_name(other, name) && same_name(other, agent)))
        });
    if is_agent {
        Some(Role::Agent)
    } else if name.eq_ignore_ascii_case("visitor") {
        Some(Role::Client)
    } else {
        None
    }
}

fn is_bot(name: &str, evidence: &Evidence<'_>) -> bool {
    looks_like_bot(name)
        || evidence
            .known_bots
            .iter()
            .map(String::as_str)
            .chain(evidence.transcript_bots.iter().copied())
            .any(|bot| same_name(bot, name))
}

/// Whether a name carries a chatbot marker (rule 1).
pub(crate) fn looks_like_bot(name: &str) -> bool {
    let mut previous_virtual = false;
    for word in name.split(|c: char| c.is_whitespace() || c == '-' || c == '_') {
        if word.eq_ignore_ascii_case("bot") || ends_with_ignore_case(word, "chatbot") {
            return true;
        }
        // CamelCase "TecBot", "AdaBot"; not "Abbot" or "Talbot", which are surnames.
        if let Some(stem) = word.strip_suffix("Bot") {
            if stem.chars().last().is_some_and(char::is_lowercase) {
                return true;
            }
        }
        if previous_virtual && word.eq_ignore_ascii_case("assistant") {
            return true;
        }
        previous_virtual = word.eq_ignore_ascii_case("virtual");
    }
    false
}

fn ends_with_ignore_case(word: &str, suffix: &str) -> bool {
    word.len() >= suffix.len()
        && word.as_bytes()[word.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// The same name, ignoring case and spacing.
fn same_name(a: &str, b: &str) -> bool {
    let mut a = a.split_whitespace();
    let mut b = b.split_whitespace();
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if word_eq(x, y) => {}
            _ => return false,
        }
    }
}

/// Whether a chat name and a known name are one person: the first names agree, and each later
/// word agrees or is its initial ("Jane D." for "Jane Doe"); one side may stop early ("Jane").
pub(crate) fn same_person(known: &str, speaker: &str) -> bool {
    let mut known_words = known.split_whitespace();
    let mut speaker_words = speaker.split_whitespace();
    match (known_words.next(), speaker_words.next()) {
        (Some(k), Some(s)) if word_eq(k, s) => {}
        _ => return false,
    }
    loop {
        match (known_words.next(), speaker_words.next()) {
            (Some(k), Some(s)) if word_eq(k, s) || is_initial_of(s, k) || is_initial_of(k, s) => {}
            (Some(_), Some(_)) => return false,
            _ => return true,
        }
    }
}

fn word_eq(a: &str, b: &str) -> bool {
    let a = a.trim_end_matches('.');
    let b = b.trim_end_matches('.');
    a.eq_ignore_ascii_case(b) || (!a.is_ascii() && a.to_lowercase() == b.to_lowercase())
}

/// `D` or `D.` for `Doe`.
fn is_initial_of(initial: &str, word: &str) -> bool {
    let initial = initial.trim_end_matches('.');
    let mut chars = initial.chars();
    match (chars.next(), chars.next(), word.chars().next()) {
        (Some(i), None, Some(w)) => i.to_lowercase().eq(w.to_lowercase()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_chat_names_match_full_names() {
        assert!(same_person("Jane Doe", "Jane D"));
        assert!(same_person("Jane Doe", "jane d."));
        assert!(same_person("Jane Doe", "Jane"));
        assert!(same_person("Royalle G", "Royalle G"));
        assert!(!same_person("Jane Doe", "Jane Smith"));
        assert!(!same_person("Jane Doe", "John Doe"));
        assert!(!same_person("", "Jane"));
    }

    #[test]
    fn bot_markers() {
        for bot in [
            "Chatbot",
            "Einstein Bot",
            "Pepper Chatbot",
            "TecBot",
            "bot",
            "Virtual Assistant",
        ] {
            assert!(looks_like_bot(bot), "{bot}");
        }
        for person in [
            "Abbot Smith",
            "Jane Talbot",
            "Bottomley",
            "Robot Wars Fan",
            "Assistant Manager",
        ] {
            assert!(!looks_like_bot(person), "{person}");
        }
    }
}
