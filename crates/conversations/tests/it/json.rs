//! The JSON a document's turns travel in: `{"turns":[{"role","name","time","text"}],…}`.

use chrono::{TimeZone, Utc};
use conversations::{parse_transcript, ChatSettings, Conversation, Role, Turn};
use serde_json::json;

#[test]
fn a_conversation_serialises_in_the_api_shape() {
    let chat = parse_transcript(
        "<p align=\"center\">Chat Started: Monday, March 02, 2026, 10:15:03 (+0000)</p>\
<p align=\"center\">Agent Jane D</p>( 8s ) Jane D: Hi!<br>( 9s ) Visitor: hello",
        &ChatSettings::default(),
    );
    assert_eq!(
        serde_json::to_value(&chat).unwrap(),
        json!({
            "turns": [
                {"role": "agent", "name": "Jane D", "time": "2026-03-02T10:15:11Z", "elapsed_secs": 8, "text": "Hi!"},
                {"role": "client", "name": "Visitor", "time": "2026-03-02T10:15:12Z", "elapsed_secs": 9, "text": "hello"},
            ],
            "warnings": [],
        })
    );
}

#[test]
fn roles_are_lowercase_and_a_turn_without_elapsed_reads_back() {
    for (role, name) in [
        (Role::Agent, "agent"),
        (Role::Client, "client"),
        (Role::Bot, "bot"),
        (Role::System, "system"),
        (Role::Unknown, "unknown"),
    ] {
        assert_eq!(serde_json::to_value(role).unwrap(), json!(name));
    }
    let read: Conversation = serde_json::from_value(json!({
        "turns": [{"role": "bot", "name": "Ava", "time": null, "text": "Hi"}]
    }))
    .unwrap();
    assert_eq!(
        read.turns,
        vec![Turn {
            role: Role::Bot,
            name: "Ava".into(),
            time: None,
            elapsed_secs: None,
            text: "Hi".into(),
        }]
    );
    assert!(read.warnings.is_empty());

    let turn = Turn {
        role: Role::Client,
        name: "Kim".into(),
        time: Some(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()),
        elapsed_secs: None,
        text: "hi".into(),
    };
    let value = serde_json::to_value(&turn).unwrap();
    assert_eq!(
        value,
        json!({"role": "client", "name": "Kim", "time": "2026-01-02T03:04:05Z", "text": "hi"})
    );
    assert_eq!(serde_json::from_value::<Turn>(value).unwrap(), turn);
}
