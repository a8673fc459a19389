//! Messaging: `ConversationEntry` rows grouped into one conversation per session, ordered, and
//! classified by who Salesforce says wrote each entry.
//!
//! Facts from Salesforce's object reference for `ConversationEntry` (API 43.0+; reading it needs
//! the "Access Conversation Entries" permission from API 50.0): `ConversationId` is the
//! `MessagingSession` (or `VoiceCall`) the entry belongs to; `ActorType` is a restricted picklist
//! of `Agent`, `Bot`, `EndUser`, `Supervisor` and `System` (newer pages add more, and the
//! connector's brief knows `Chatbot`); `ActorName` is the author's name; `Message` (a textarea)
//! the text; `EntryTime` the entry's timestamp, with `EntryTimeMilliSecs` holding its last three
//! digits of milliseconds; `EntryType` says whether it is a message (`Text`) or an event
//! (`ChatbotEstablished`, `BotEscalated`, `EndUserOptedOut`, …). The same reference does not show
//! a sequence field in every version, so the order number is whatever the caller selected.
//!
//! Legacy LiveMessage (SMS): no public reference for a `LiveMessageTranscript` body was found,
//! so no body parser exists for one. Its per-message rows (as this project's Salesforce
//! simulator models them: `MessagingSessionId`, `SenderType`, `SenderName`, `Message`,
//! `MessageTime`) fill a [`ConversationEntry`] field for field, and read the same way.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Conversation, Role, Turn};

/// One row the connector read: a `ConversationEntry` (or a LiveMessage message) as the caller
/// filled it from its query result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationEntry {
    /// `ConversationId`: the messaging session the entry belongs to.
    pub conversation_id: String,
    /// `ActorType`: `Agent`, `Bot`, `Chatbot`, `EndUser`, `Supervisor`, `System`.
    pub actor_type: String,
    /// `ActorName`.
    pub actor_name: String,
    /// `Message`.
    pub message: String,
    /// `EntryTime`, with `EntryTimeMilliSecs` added when the query selected it.
    pub entry_time: Option<DateTime<Utc>>,
    /// The entry's sequence number in its conversation, when the query has one: it orders
    /// entries written in the same instant.
    pub sequence: Option<i64>,
    /// `EntryType`, when selected: anything but `Text` (or `Message`) is an event, a
    /// [`Role::System`] turn whatever its actor, so it stays out of the verbatims.
    pub entry_type: Option<String>,
}

/// One messaging session's conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagingConversation {
    pub conversation_id: String,
    pub conversation: Conversation,
}

/// Groups rows by conversation (in the order each conversation first appears), orders each
/// conversation's entries by entry time, then sequence number, then the order they arrived
/// (entries without a time or number sort after those with one), and turns them into turns.
/// Entries with an empty message that are not events say nothing and are left out.
pub fn conversations_from_entries(
    entries: impl IntoIterator<Item = ConversationEntry>,
) -> Vec<MessagingConversation> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<(String, Vec<ConversationEntry>)> = Vec::new();
    for entry in entries {
        let at = match index.get(&entry.conversation_id) {
            Some(&at) => at,
            None => {
                index.insert(entry.conversation_id.clone(), groups.len());
                groups.push((entry.conversation_id.clone(), Vec::new()));
                groups.len() - 1
            }
        };
        groups[at].1.push(entry);
    }
    groups
        .into_iter()
        .map(|(conversation_id, mut entries)| {
            // A stable sort keeps arrival order among entries with equal keys.
            entries.sort_by_key(|e| {
                (
                    e.entry_time.is_none(),
                    e.entry_time,
                    e.sequence.is_none(),
                    e.sequence,
                )
            });
            MessagingConversation {
                conversation: conversation(&conversation_id, entries),
                conversation_id,
            }
        })
        .collect()
}

fn conversation(id: &str, entries: Vec<ConversationEntry>) -> Conversation {
    let mut turns = Vec::with_capacity(entries.len());
    // Unknown actor types, with how many entries each: one warning per type, not per row.
    let mut unknown: Vec<(String, usize)> = Vec::new();
    for entry in entries {
        let event = entry
            .entry_type
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("text") && !t.eq_ignore_ascii_case("message"));
        let message = entry.message.trim();
        if message.is_empty() && !event {
            continue;
        }
        let role = if event {
            Role::System
        } else {
            match actor_role(&entry.actor_type) {
                Some(role) => role,
                None => {
                    match unknown.iter_mut().find(|(t, _)| *t == entry.actor_type) {
                        Some((_, count)) => *count += 1,
                        None => unknown.push((entry.actor_type.clone(), 1)),
                    }
                    Role::Unknown
                }
            }
        };
        let text = if message.is_empty() {
            // An event with no text still says what happened.
            entry.entry_type.unwrap_or_default()
        } else if message.len() == entry.message.len() {
            entry.message
        } else {
            message.to_string()
        };
        turns.push(Turn {
            role,
            name: entry.actor_name,
            time: entry.entry_time,
            elapsed_secs: None,
            text,
        });
    }
    let warnings = unknown
        .into_iter()
        .map(|(actor_type, count)| {
            format!(
                "conversation {id}: {count} entr{} with ActorType '{actor_type}', which is not \
                 Agent, Bot, Chatbot, EndUser, Supervisor or System, kept as unknown turns",
                if count == 1 { "y" } else { "ies" }
            )
        })
        .collect();
    Conversation { turns, warnings }
}

/// The role an `ActorType` stands for. A supervisor writing into the conversation answers for
/// the company, so counts as an agent.
fn actor_role(actor_type: &str) -> Option<Role> {
    let is = |name: &str| actor_type.trim().eq_ignore_ascii_case(name);
    if is("EndUser") {
        Some(Role::Client)
    } else if is("Agent") || is("Supervisor") {
        Some(Role::Agent)
    } else if is("Bot") || is("Chatbot") {
        Some(Role::Bot)
    } else if is("System") {
        Some(Role::System)
    } else {
        None
    }
}
