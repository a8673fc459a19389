//! The three participant classification modes and the names that feed them.

use conversations::{parse_transcript, ChatSettings, Classification, Role};

use crate::speakers;

/// Two people nobody names: only the mode can tell them apart.
const TWO_STRANGERS: &str = "( 5s ) Kim Lo: hi, my order never arrived<br>( 40s ) Lou Park: I am sorry to hear that, let me look";

fn with(classification: Classification) -> ChatSettings {
    ChatSettings {
        classification,
        ..ChatSettings::default()
    }
}

#[test]
fn first_agent_and_first_client_decide_a_two_party_chat() {
    let agent_first = parse_transcript(TWO_STRANGERS, &with(Classification::FirstAgent));
    assert_eq!(
        speakers(&agent_first),
        vec![("Kim Lo", Role::Agent), ("Lou Park", Role::Client)]
    );
    assert!(agent_first.warnings.is_empty());

    let client_first = parse_transcript(TWO_STRANGERS, &with(Classification::FirstClient));
    assert_eq!(
        speakers(&client_first),
        vec![("Kim Lo", Role::Client), ("Lou Park", Role::Agent)]
    );
    assert!(client_first.warnings.is_empty());
}

#[test]
fn auto_guesses_the_first_writer_as_agent_and_says_so() {
    let chat = parse_transcript(TWO_STRANGERS, &with(Classification::Auto));
    assert_eq!(
        speakers(&chat),
        vec![("Kim Lo", Role::Agent), ("Lou Park", Role::Client)]
    );
    assert!(chat.warnings[0].contains("took 'Kim Lo'"));
}

#[test]
fn auto_uses_the_callers_agent_names_such_as_the_owner() {
    let settings = ChatSettings {
        agent_names: vec!["Lou Parker".into()],
        ..ChatSettings::default()
    };
    let chat = parse_transcript(TWO_STRANGERS, &settings);
    // Lou Park is not Lou Parker (a written-out surname must agree), so nothing names an
    // agent and the first writer is guessed.
    assert_eq!(
        speakers(&chat),
        vec![("Kim Lo", Role::Agent), ("Lou Park", Role::Client)]
    );
    assert_eq!(chat.warnings.len(), 1);
    let settings = ChatSettings {
        agent_names: vec!["lou park".into()],
        ..ChatSettings::default()
    };
    let chat = parse_transcript(TWO_STRANGERS, &settings);
    assert_eq!(
        speakers(&chat),
        vec![("Kim Lo", Role::Client), ("Lou Park", Role::Agent)]
    );
    assert!(chat.warnings.is_empty());
}

#[test]
fn a_lone_unknown_writer_is_the_client() {
    // Nobody answered: the only person who wrote is the customer, not a guessed agent.
    let chat = parse_transcript(
        "<p align=\"center\">Agent Jane D</p>( 5s ) Kim Lo: hello?<br>( 65s ) Kim Lo: anyone?",
        &ChatSettings::default(),
    );
    assert_eq!(speakers(&chat), vec![("Kim Lo", Role::Client)]);
    assert!(chat.warnings.is_empty());
}

#[test]
fn the_callers_bot_names_and_bot_markers_make_bots_in_every_mode() {
    let body = "( 1s ) Ava: Hi! I can track orders.<br>( 9s ) Kim Lo: where is 4471<br>\
( 12s ) Einstein Bot: Connecting you to an agent<br>( 50s ) Lou Park: Hi Kim, Lou here";
    for mode in [
        Classification::Auto,
        Classification::FirstAgent,
        Classification::FirstClient,
    ] {
        let settings = ChatSettings {
            classification: mode,
            bot_names: vec!["Ava".into()],
            ..ChatSettings::default()
        };
        let chat = parse_transcript(body, &settings);
        let got = speakers(&chat);
        assert_eq!(got[0], ("Ava", Role::Bot), "{mode:?}");
        assert_eq!(got[2], ("Einstein Bot", Role::Bot), "{mode:?}");
        // Bots are not participants: Kim is the first person, so first_agent makes her the
        // agent even though that is the wrong way round for this chat.
        let (kim, lou) = (got[1].1, got[3].1);
        match mode {
            Classification::FirstAgent => assert_eq!((kim, lou), (Role::Agent, Role::Client)),
            _ => assert_eq!((kim, lou), (Role::Client, Role::Agent), "{mode:?}"),
        }
    }
}

#[test]
fn in_a_two_party_chat_the_mode_outranks_the_header() {
    let body = "<p align=\"center\">Agent Lou Park</p>( 5s ) Kim Lo: hi<br>( 9s ) Lou Park: hello";
    let chat = parse_transcript(body, &with(Classification::FirstAgent));
    assert_eq!(
        speakers(&chat),
        vec![("Kim Lo", Role::Agent), ("Lou Park", Role::Client)]
    );
    let chat = parse_transcript(body, &with(Classification::Auto));
    assert_eq!(
        speakers(&chat),
        vec![("Kim Lo", Role::Client), ("Lou Park", Role::Agent)]
    );
}

#[test]
fn further_participants_go_by_the_auto_rules() {
    let transferred = "( 5s ) Kim Lo: hi<br>( 9s ) Lou Park: hello, one moment<br>\
<p align=\"center\">Chat Transferred From Lou Park To Ana Ruiz</p>( 2m 1s ) Ana Ruiz: Ana here<br>\
( 2m 9s ) Kim Lo: thanks";
    let chat = parse_transcript(transferred, &with(Classification::FirstClient));
    assert_eq!(
        speakers(&chat),
        vec![
            ("Kim Lo", Role::Client),
            ("Lou Park", Role::Agent),
            ("Ana Ruiz", Role::Agent)
        ]
    );

    // Without the transfer notice nothing names the third person, and first_client has
    // already found its agent by then: the third is a client.
    let unnamed = "( 5s ) Kim Lo: hi<br>( 9s ) Lou Park: hello<br>( 20s ) Max Roe: me too";
    let chat = parse_transcript(unnamed, &with(Classification::FirstClient));
    assert_eq!(
        speakers(&chat),
        vec![
            ("Kim Lo", Role::Client),
            ("Lou Park", Role::Agent),
            ("Max Roe", Role::Client)
        ]
    );

    // With first_agent and a joining agent named by the notice.
    let joined = "( 5s ) Lou Park: hello<br>( 9s ) Kim Lo: hi<br>\
<p align=\"center\">Agent Ana Ruiz joined the conference</p>( 30s ) Ana Ruiz: Ana from billing here";
    let chat = parse_transcript(joined, &with(Classification::FirstAgent));
    assert_eq!(
        speakers(&chat),
        vec![
            ("Lou Park", Role::Agent),
            ("Kim Lo", Role::Client),
            ("Ana Ruiz", Role::Agent)
        ]
    );
}

#[test]
fn a_bot_handover_names_the_bot_by_its_display_name() {
    let body = "( 2s ) Mark Molar: Hi, I can answer questions about aligners<br>( 9s ) Kim Lo: human please<br>\
<p align=\"center\">Agent Chatbot successfully transferred the chat to button Smile_Experts</p>\
<p align=\"center\">Chat Transferred From Mark Molar To Lou Park</p>( 1m 2s ) Lou Park: Lou here";
    let chat = parse_transcript(body, &ChatSettings::default());
    assert_eq!(
        speakers(&chat),
        vec![
            ("Mark Molar", Role::Bot),
            ("Kim Lo", Role::Client),
            ("Lou Park", Role::Agent)
        ]
    );
}

#[test]
fn a_customer_whose_name_shortens_to_the_agents_is_still_the_customer() {
    // The agent is "Omar K"; the customer "Omar Khan" would pass for a longer form of that
    // name, but the chat has them both, so they are two people.
    let body = "<p align=\"center\">Chat Started: Monday, March 02, 2026, 10:15:03 (+0000)</p>\
<p align=\"center\">Agent Chatbot</p>( 3s ) Chatbot: Hi! What can I help you with?<br>\
( 9s ) Omar Khan: I can't log in<br>Chat Transferred From Chatbot To Omar K<br>\
<p align=\"center\">Agent Omar K</p>( 5s ) Omar K: I've unlocked your account.<br>\
( 12s ) Omar Khan: It works now, thanks<br>";
    let chat = parse_transcript(body, &ChatSettings::default());
    assert_eq!(
        speakers(&chat),
        vec![
            ("Chatbot", Role::Bot),
            ("Omar Khan", Role::Client),
            ("Omar K", Role::Agent)
        ]
    );
    // Alone, a shortened name still finds its agent.
    let body = "<p align=\"center\">Agent Jane Doe</p>( 3s ) Jane D: Hello<br>( 9s ) Sam: hi<br>";
    let chat = parse_transcript(body, &ChatSettings::default());
    assert_eq!(
        speakers(&chat),
        vec![("Jane D", Role::Agent), ("Sam", Role::Client)]
    );
}

#[test]
fn classification_names_in_json() {
    for (mode, name) in [
        (Classification::Auto, "\"auto\""),
        (Classification::FirstAgent, "\"first_agent\""),
        (Classification::FirstClient, "\"first_client\""),
    ] {
        assert_eq!(serde_json::to_string(&mode).unwrap(), name);
        assert_eq!(serde_json::from_str::<Classification>(name).unwrap(), mode);
    }
    assert_eq!(Classification::default(), Classification::Auto);
}
