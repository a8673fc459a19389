//! The demo's chats, messaging sessions and feedback, read back the way Sonde's connector reads
//! them: through the REST query endpoint.

use crate::*;
use std::collections::HashMap;

fn records(a: &Answer) -> Vec<Value> {
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["done"], true);
    a.json["records"].as_array().unwrap().clone()
}

#[tokio::test]
async fn chat_transcripts_hold_body_html_as_salesforce_writes_it() {
    let t = demo().await;
    let chats = records(&t.query("SELECT Id, Body, StartTime, EndTime, CreatedDate, LastModifiedDate FROM LiveChatTranscript").await);
    assert_eq!(chats.len(), 30);
    let bodies: Vec<&str> = chats.iter().map(|c| c["Body"].as_str().unwrap()).collect();
    assert!(bodies[0].starts_with("<p align=\"center\">Chat Started: Monday, March 02, 2026, "));
    assert!(bodies[0].contains("(+0000)</p><p align=\"center\">Chat Origin: Web Chat</p><p align=\"center\">Agent Jane D</p>( "));
    let has = |needle: &str| bodies.iter().filter(|b| b.contains(needle)).count();
    assert!(has("<div style=\"text-align: center;\">Chat Started: ") > 0);
    assert!(has("&#39;") > 0 && has("&amp;") > 0 && has("&quot;") > 0 && has("&lt;Pro&gt;") > 0);
    assert!(
        has("Chat Transferred From Chatbot To ") > 0,
        "a bot hands over"
    );
    assert!(
        has("Chat Transferred From Jane D To Omar K") > 0,
        "an agent hands over"
    );
    // A handed-over chat restates the header for the agent's part.
    let handed = bodies
        .iter()
        .find(|b| b.contains("Chat Transferred From Chatbot"))
        .unwrap();
    assert_eq!(handed.matches("Chat Started:").count(), 2, "{handed}");
    assert!(handed.contains("Agent Chatbot</p>") && handed.contains(" Chatbot: "));
    // A message of several lines: the next line has no stamp.
    assert!(has("<br>The box was crushed and two mugs are broken.<br>") > 0);
    assert!(has("( 1m ") > 0, "stamps past a minute");
    for c in &chats {
        let (start, end) = (
            c["StartTime"].as_str().unwrap(),
            c["EndTime"].as_str().unwrap(),
        );
        assert!(start < end, "{start} {end}");
        assert!(c["CreatedDate"].is_string() && c["LastModifiedDate"].is_string());
    }
}

#[tokio::test]
async fn messaging_sessions_have_ordered_conversation_entries() {
    let t = demo().await;
    let entries = records(&t.query("SELECT Id, ConversationId, ActorType, ActorName, Message, EntryTime FROM ConversationEntry ORDER BY EntryTime").await);
    let times: Vec<&str> = entries
        .iter()
        .map(|e| e["EntryTime"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "ordered by EntryTime"
    );
    let mut per_session: HashMap<&str, usize> = HashMap::new();
    for e in &entries {
        *per_session
            .entry(e["ConversationId"].as_str().unwrap())
            .or_default() += 1;
        assert!(
            e["Message"].is_string() && e["ActorName"].is_string(),
            "{e}"
        );
    }
    assert_eq!(per_session.len(), 20);
    assert!(
        per_session.values().all(|n| (4..=12).contains(n)),
        "{per_session:?}"
    );
    for actor in ["EndUser", "Agent", "Bot", "System"] {
        assert!(entries.iter().any(|e| e["ActorType"] == actor), "{actor}");
    }
    let sessions = records(
        &t.query("SELECT Id, (SELECT Seq, ActorType FROM ConversationEntries ORDER BY Seq) FROM MessagingSession WHERE EndUserContactId != null")
            .await,
    );
    let with_entries = sessions
        .iter()
        .find(|s| !s["ConversationEntries"].is_null())
        .expect("a session with entries");
    assert_eq!(with_entries["ConversationEntries"]["records"][0]["Seq"], 1);
}

#[tokio::test]
async fn feedback_cases_carry_personal_data_in_their_text() {
    let t = demo().await;
    let cases = records(
        &t.query("SELECT Description FROM Case WHERE Subject LIKE 'Customer feedback%'")
            .await,
    );
    assert_eq!(cases.len(), 50);
    let text: Vec<&str> = cases
        .iter()
        .map(|c| c["Description"].as_str().unwrap())
        .collect();
    let has = |needle: &str| text.iter().filter(|d| d.contains(needle)).count();
    assert!(has("4111 1111 1111 1111") > 0);
    assert!(has("5555-5555-5555-4444") > 0);
    assert!(has("@") > 0 && has(".example") > 0, "email addresses");
    assert!(has("+1 (555) 01") > 0, "phone numbers");
    assert!(
        text.iter().any(|d| !d.chars().any(|c| c.is_ascii_digit())),
        "and plain feedback"
    );
}
