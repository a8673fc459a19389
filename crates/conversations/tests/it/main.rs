//! The conversations crate as the connector uses it: realistic chat transcript bodies and
//! messaging rows in, turns and verbatims out. One test binary, so one link step.

mod classification;
mod json;
mod messaging;
mod properties;
mod transcripts;

use conversations::{Conversation, Role};

/// Each turn as (role, name, text), the shape most assertions read best in.
pub fn turns(conversation: &Conversation) -> Vec<(Role, &str, &str)> {
    conversation
        .turns
        .iter()
        .map(|t| (t.role, t.name.as_str(), t.text.as_str()))
        .collect()
}

/// The role each distinct speaker got, in order of first message.
pub fn speakers(conversation: &Conversation) -> Vec<(&str, Role)> {
    let mut seen: Vec<(&str, Role)> = Vec::new();
    for turn in &conversation.turns {
        if !turn.name.is_empty() && !seen.iter().any(|(n, _)| *n == turn.name) {
            seen.push((turn.name.as_str(), turn.role));
        }
    }
    seen
}
