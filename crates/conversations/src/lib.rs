//! Salesforce conversations as ordered turns, as pure code: the inbound connector hands this crate
//! a chat transcript's `Body` or a messaging session's entry rows and gets back who said what,
//! when, in order, plus the joined client and agent verbatims a document of a conversation holds.
//! No I/O, no clock, no async: the connector queries, this crate reads what came back.
//!
//! - [`transcript`]: legacy Chat (`LiveChatTranscript.Body`), the HTML Salesforce writes, with
//!   participants classified by [`Classification`] (auto-detect, first is an agent, first is a
//!   client).
//! - [`messaging`]: Messaging (`MessagingSession` + `ConversationEntry` rows), grouped by
//!   conversation, ordered, and classified by `ActorType`.
//!
//! Nothing is dropped: a transcript this crate cannot read comes back as one [`Role::Unknown`]
//! turn holding its whole text, and every guess or oddity is a warning on the [`Conversation`].

mod html;
pub mod messaging;
mod participants;
mod started;
pub mod transcript;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use messaging::{conversations_from_entries, ConversationEntry, MessagingConversation};
pub use participants::Classification;
pub use transcript::{parse_transcript, ChatSettings};

/// Who a turn is from, as an analysis project groups them: the company's people, its customer,
/// its automation, and the platform's own notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A person answering for the company (a Salesforce user: agent or supervisor).
    Agent,
    /// The customer: the chat visitor or messaging end user.
    Client,
    /// A chatbot (Einstein Bot or another automated participant).
    Bot,
    /// A notice the platform wrote: transfers, joins, "Chat Ended by …".
    System,
    /// Text whose author could not be told: an unreadable transcript, an unknown `ActorType`.
    Unknown,
}

/// One message of a conversation, or one platform notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    pub role: Role,
    /// The name the participant wrote under (`"Jane D"`, `"Visitor"`); empty for notices and
    /// for text outside any message.
    pub name: String,
    /// When it was said. For a transcript, the "Chat Started" time plus the line's elapsed time;
    /// `None` when neither the body nor the caller gave a start.
    ///
    /// A `DateTime<Utc>` rather than epoch milliseconds: it serialises as RFC 3339, which the
    /// JSON API's readers and the document dates read without a unit to guess, and a time that
    /// is unknown stays `None` instead of passing a bare offset off as an instant.
    pub time: Option<DateTime<Utc>>,
    /// Seconds since the chat started, as the transcript line's `( 1m 5s )` stamp gave it. This
    /// keeps the order and spacing of turns when no start time is known; `None` for messaging
    /// entries, which carry absolute times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_secs: Option<u32>,
    /// What was said, entities decoded and tags stripped; the lines of a message that spans
    /// several lines are joined with `\n`.
    pub text: String,
}

/// A conversation's turns in the order they happened, and what the reading had to guess.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub turns: Vec<Turn>,
    /// One sentence per oddity: an unreadable body, an unknown `ActorType`, a guessed agent.
    /// The turns are still usable; a warning says where to look when they seem wrong.
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl Conversation {
    /// Everything the client said, one turn per line, in order.
    pub fn client_verbatim(&self) -> String {
        self.verbatim(Role::Client)
    }

    /// Everything the agents said, one turn per line, in order.
    pub fn agent_verbatim(&self) -> String {
        self.verbatim(Role::Agent)
    }

    /// The texts of one role's turns joined with newlines, in order.
    pub fn verbatim(&self, role: Role) -> String {
        let mut joined = String::new();
        for turn in self.turns.iter().filter(|t| t.role == role) {
            if !joined.is_empty() {
                joined.push('\n');
            }
            joined.push_str(&turn.text);
        }
        joined
    }
}
