//! Messaging sessions from `ConversationEntry` rows, as a query returns them: unordered, mixed.

use chrono::{DateTime, TimeZone, Utc};
use conversations::{conversations_from_entries, ConversationEntry, Role};

use crate::turns;

fn t(minute: u32, second: u32) -> Option<DateTime<Utc>> {
    Some(
        Utc.with_ymd_and_hms(2026, 3, 2, 14, minute, second)
            .unwrap(),
    )
}

fn entry(
    session: &str,
    actor_type: &str,
    actor_name: &str,
    message: &str,
    entry_time: Option<DateTime<Utc>>,
    sequence: Option<i64>,
) -> ConversationEntry {
    ConversationEntry {
        conversation_id: session.into(),
        actor_type: actor_type.into(),
        actor_name: actor_name.into(),
        message: message.into(),
        entry_time,
        sequence,
        entry_type: None,
    }
}

#[test]
fn unordered_rows_of_two_sessions_group_and_order() {
    let rows = vec![
        entry(
            "0Mw2",
            "Agent",
            "Lou Park",
            "Your package left the depot.",
            t(7, 0),
            Some(2),
        ),
        entry("0Mw1", "EndUser", "+15550100", "C", t(5, 10), Some(3)),
        entry(
            "0Mw1",
            "Bot",
            "Appointment Bot",
            "Reply C to confirm Thursday 10:30.",
            t(5, 0),
            Some(2),
        ),
        entry(
            "0Mw2",
            "EndUser",
            "Kim Lo",
            "Where is my order?",
            t(6, 0),
            Some(1),
        ),
        entry(
            "0Mw1",
            "EndUser",
            "+15550100",
            "Is my appointment still on?",
            t(4, 50),
            Some(1),
        ),
        entry(
            "0Mw1",
            "Agent",
            "Jane D",
            "Confirmed, see you then!",
            t(5, 30),
            Some(4),
        ),
        entry(
            "0Mw2",
            "Chatbot",
            "Einstein Bot",
            "An agent will reply shortly.",
            t(6, 0),
            Some(0),
        ),
    ];
    let sessions = conversations_from_entries(rows);
    assert_eq!(
        sessions
            .iter()
            .map(|s| s.conversation_id.as_str())
            .collect::<Vec<_>>(),
        vec!["0Mw2", "0Mw1"],
        "sessions in the order they first appear"
    );
    let first = &sessions[1].conversation;
    assert_eq!(
        turns(first),
        vec![
            (Role::Client, "+15550100", "Is my appointment still on?"),
            (
                Role::Bot,
                "Appointment Bot",
                "Reply C to confirm Thursday 10:30."
            ),
            (Role::Client, "+15550100", "C"),
            (Role::Agent, "Jane D", "Confirmed, see you then!"),
        ]
    );
    assert_eq!(first.client_verbatim(), "Is my appointment still on?\nC");
    assert_eq!(first.agent_verbatim(), "Confirmed, see you then!");
    assert_eq!(first.turns[0].time, t(4, 50));
    assert_eq!(first.turns[0].elapsed_secs, None);

    // Same second: the sequence number decides.
    let second = &sessions[0].conversation;
    assert_eq!(
        turns(second),
        vec![
            (Role::Bot, "Einstein Bot", "An agent will reply shortly."),
            (Role::Client, "Kim Lo", "Where is my order?"),
            (Role::Agent, "Lou Park", "Your package left the depot."),
        ]
    );
    assert!(second.warnings.is_empty());
}

#[test]
fn rows_without_time_or_sequence_keep_arrival_order_after_the_rest() {
    let rows = vec![
        entry("s", "EndUser", "Kim", "third, no time", None, None),
        entry("s", "EndUser", "Kim", "fourth, no time", None, None),
        entry("s", "Agent", "Lou", "second", t(1, 0), None),
        entry("s", "Agent", "Lou", "first", t(1, 0), Some(1)),
    ];
    let sessions = conversations_from_entries(rows);
    let texts: Vec<&str> = sessions[0]
        .conversation
        .turns
        .iter()
        .map(|t| t.text.as_str())
        .collect();
    assert_eq!(
        texts,
        vec!["first", "second", "third, no time", "fourth, no time"]
    );
}

#[test]
fn actor_types_map_to_roles_and_unknown_ones_warn_once_per_type() {
    let rows = vec![
        entry("s", "enduser", "Kim", "hi", t(0, 1), None),
        entry(
            "s",
            "Supervisor",
            "Max Roe",
            "Jumping in to help",
            t(0, 2),
            None,
        ),
        entry("s", "System", "", "Session transferred", t(0, 3), None),
        entry("s", "Copilot", "Helper", "draft reply", t(0, 4), None),
        entry("s", "Copilot", "Helper", "another", t(0, 5), None),
        entry("s", "", "", "who?", t(0, 6), None),
    ];
    let chat = &conversations_from_entries(rows)[0].conversation;
    let roles: Vec<Role> = chat.turns.iter().map(|t| t.role).collect();
    assert_eq!(
        roles,
        vec![
            Role::Client,
            Role::Agent,
            Role::System,
            Role::Unknown,
            Role::Unknown,
            Role::Unknown
        ]
    );
    assert_eq!(chat.warnings.len(), 2, "{:?}", chat.warnings);
    assert!(chat.warnings[0].contains("2 entries with ActorType 'Copilot'"));
    assert!(chat.warnings[1].contains("1 entry with ActorType ''"));
}

#[test]
fn events_are_system_turns_and_empty_messages_are_left_out() {
    let mut established = entry("s", "Bot", "Einstein Bot", "", t(0, 0), None);
    established.entry_type = Some("ChatbotEstablished".into());
    let mut text = entry("s", "EndUser", "Kim", "  hello  ", t(0, 1), None);
    text.entry_type = Some("Text".into());
    let mut escalated = entry(
        "s",
        "Bot",
        "Einstein Bot",
        "Transferring you",
        t(0, 2),
        None,
    );
    escalated.entry_type = Some("BotEscalated".into());
    let blank = entry("s", "Agent", "Lou", " ", t(0, 3), None);
    let chat =
        &conversations_from_entries(vec![established, text, escalated, blank])[0].conversation;
    assert_eq!(
        turns(chat),
        vec![
            (Role::System, "Einstein Bot", "ChatbotEstablished"),
            (Role::Client, "Kim", "hello"),
            (Role::System, "Einstein Bot", "Transferring you"),
        ]
    );
    assert_eq!(chat.verbatim(Role::Bot), "");
}

#[test]
fn no_rows_no_conversations() {
    assert!(conversations_from_entries(Vec::new()).is_empty());
}
