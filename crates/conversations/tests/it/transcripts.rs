//! Transcript bodies in the shapes Salesforce writes them, read with the default (auto) rules.

use chrono::{DateTime, TimeZone, Utc};
use conversations::{parse_transcript, ChatSettings, Conversation, Role};

use crate::{speakers, turns};

fn read(body: &str) -> Conversation {
    parse_transcript(body, &ChatSettings::default())
}

fn at(h: u32, m: u32, s: u32) -> Option<DateTime<Utc>> {
    Some(Utc.with_ymd_and_hms(2026, 3, 2, h, m, s).unwrap())
}

/// The common shape: a centred `<p>` header, `<br>`-separated messages, an end notice.
const BILLING_P: &str = "<p align=\"center\">Chat Started: Monday, March 02, 2026, 10:15:03 (+0000)</p>\
<p align=\"center\">Chat Origin: Billing Chat Button</p><p align=\"center\">Agent Jane D</p>\
( 8s ) Jane D: Hi, this is Jane with Acme billing. I&#39;ll be glad to help.<br>\
( 31s ) Priya Natarajan: Hello, I was charged twice for March &amp; I&#39;d like a refund<br>\
( 1m 5s ) Jane D: Sorry about that! Let me check your account.<br>\
( 2m 40s ) Jane D: I see both charges &quot;ACME*SUB&quot; on 03/01. I&#39;ve refunded the second one.<br>\
( 3m 2s ) Priya Natarajan: Thank you!<br><p align=\"center\">Chat Ended by Visitor</p>";

#[test]
fn a_p_variant_body_reads_into_ordered_turns() {
    let chat = read(BILLING_P);
    assert_eq!(
        turns(&chat),
        vec![
            (
                Role::Agent,
                "Jane D",
                "Hi, this is Jane with Acme billing. I'll be glad to help."
            ),
            (
                Role::Client,
                "Priya Natarajan",
                "Hello, I was charged twice for March & I'd like a refund"
            ),
            (
                Role::Agent,
                "Jane D",
                "Sorry about that! Let me check your account."
            ),
            (
                Role::Agent,
                "Jane D",
                "I see both charges \"ACME*SUB\" on 03/01. I've refunded the second one."
            ),
            (Role::Client, "Priya Natarajan", "Thank you!"),
            (Role::System, "", "Chat Ended by Visitor"),
        ]
    );
    let times: Vec<_> = chat.turns.iter().map(|t| t.time).collect();
    assert_eq!(
        times,
        vec![
            at(10, 15, 11),
            at(10, 15, 34),
            at(10, 16, 8),
            at(10, 17, 43),
            at(10, 18, 5),
            None
        ]
    );
    assert_eq!(chat.turns[2].elapsed_secs, Some(65));
    assert!(chat.warnings.is_empty(), "{:?}", chat.warnings);
    assert_eq!(
        chat.client_verbatim(),
        "Hello, I was charged twice for March & I'd like a refund\nThank you!"
    );
    assert_eq!(chat.agent_verbatim().lines().count(), 3);
}

#[test]
fn a_div_variant_body_with_file_transfer_notices() {
    let body = "<div align=\"center\">Chat Started: Friday, April 16, 2021, 12:45:46 (+0000)</div>\
<div align=\"center\">Chat Origin: Support Web</div><div align=\"center\">Agent Marco B</div>\
<div>( 12s ) Marco B: Good afternoon! Could you send a photo of the damaged box?</div>\
<div align=\"center\">Agent Marco B requested a file transfer</div>\
<div align=\"center\">File transfer succeeded.</div>\
<div>( 1m 40s ) Visitor: Sent. The corner is crushed</div>\
<div>( 2m 1s ) Marco B: Thanks, a replacement ships today.</div>";
    let chat = read(body);
    assert_eq!(
        turns(&chat),
        vec![
            (
                Role::Agent,
                "Marco B",
                "Good afternoon! Could you send a photo of the damaged box?"
            ),
            (Role::System, "", "Agent Marco B requested a file transfer"),
            (Role::System, "", "File transfer succeeded."),
            (Role::Client, "Visitor", "Sent. The corner is crushed"),
            (Role::Agent, "Marco B", "Thanks, a replacement ships today."),
        ]
    );
    assert_eq!(
        chat.turns[0].time,
        Some(Utc.with_ymd_and_hms(2021, 4, 16, 12, 45, 58).unwrap())
    );
}

#[test]
fn a_message_spanning_several_lines_stays_one_turn() {
    let body = "<p align=\"center\">Chat Started: Sunday, December 01, 2024, 07:09:55 (-0800)</p>\
<p align=\"center\">Chat Origin: HelpCenter Chat Queue</p><p align=\"center\">Agent Sam K</p>\
( 53s ) Sam K: Welcome! Before we start, please check:<br>1. the camera is charged<br>\
2. the app is up to date<br>refid:5744z000000kAR9AAM<br>\
( 2m 3s ) Lena Fischer: Both done<br><br>still no recordings though<br>\
( 2m 30s ) Sam K: Thanks, Lena.";
    let chat = read(body);
    assert_eq!(
        turns(&chat),
        vec![
            (
                Role::Agent,
                "Sam K",
                "Welcome! Before we start, please check:\n1. the camera is charged\n2. the app is up to date\nrefid:5744z000000kAR9AAM"
            ),
            (Role::Client, "Lena Fischer", "Both done\nstill no recordings though"),
            (Role::Agent, "Sam K", "Thanks, Lena."),
        ]
    );
    // 07:09:55 at -08:00 is 15:09:55 UTC; the first message came 53 s later.
    assert_eq!(
        chat.turns[0].time,
        Some(Utc.with_ymd_and_hms(2024, 12, 1, 15, 10, 48).unwrap())
    );
}

#[test]
fn entities_named_and_numeric_decode() {
    let body = "<p align=\"center\">Agent Ola N</p>( 4s ) Ola N: Use &lt;b&gt; not &lt;strong&gt; &ndash; it&#8217;s fine &#x1F600;<br>\
( 9s ) Visitor: Price was 20&nbsp;&euro; &amp; &copy; stays, &bogus; too &eacute;t&eacute;";
    let chat = read(body);
    assert_eq!(
        turns(&chat),
        vec![
            (Role::Agent, "Ola N", "Use <b> not <strong> – it’s fine 😀"),
            (
                Role::Client,
                "Visitor",
                "Price was 20 € & © stays, &bogus; too été"
            ),
        ]
    );
}

#[test]
fn a_bot_hands_over_to_an_agent_in_a_second_part() {
    let body =
        "<p align=\"center\">Chat Started: Wednesday, February 26, 2025, 10:27:21 (+0800)</p>\
( 2s ) Acme Assistant: Hi, I&#39;m Acme&#39;s assistant. What can I help with?<br>\
( 12s ) Visitor: my card was declined<br>\
( 14s ) Acme Assistant: Let me connect you with a specialist.<br>\
<p align=\"center\">Agent Chatbot successfully transferred the chat to button Billing_EN</p>\
<p align=\"center\">Chat Started: Wednesday, February 26, 2025, 10:27:35 (+0800)</p>\
<p align=\"center\">Chat Origin: Chat EN</p>\
<p align=\"center\">Chat Transferred From Acme Assistant To Support</p>\
( 1m 32s ) Visitor: hello? my card was declined<br>\
( 2m 57s ) Support: Sorry for the wait, I can see the declined payment.";
    let chat = read(body);
    assert_eq!(
        speakers(&chat),
        vec![
            ("Acme Assistant", Role::Bot),
            ("Visitor", Role::Client),
            ("Support", Role::Agent)
        ]
    );
    assert_eq!(chat.turns[3].role, Role::System);
    assert_eq!(
        chat.turns[4].text,
        "Chat Transferred From Acme Assistant To Support"
    );
    // The agent's part counts from its own start, 10:27:35 +08:00.
    let visitor_again = &chat.turns[5];
    assert_eq!(
        visitor_again.time,
        Some(Utc.with_ymd_and_hms(2025, 2, 26, 2, 29, 7).unwrap())
    );
    assert_eq!(
        chat.agent_verbatim(),
        "Sorry for the wait, I can see the declined payment."
    );
    assert_eq!(
        chat.client_verbatim(),
        "my card was declined\nhello? my card was declined"
    );
    assert_eq!(chat.verbatim(Role::Bot).lines().count(), 2);
    assert!(chat.warnings.is_empty(), "{:?}", chat.warnings);
}

#[test]
fn a_transfer_between_agents_makes_both_agents() {
    let body = "<p align=\"center\">Chat Started: Tuesday, March 03, 2026, 09:00:00 (+0100)</p>\
<p align=\"center\">Chat Origin: Sales</p><p align=\"center\">Agent Lee W</p>\
( 5s ) Lee W: Hello Omar, how can I help?<br>( 40s ) Omar Haddad: I need a quote for 40 seats<br>\
( 1m 2s ) Lee W: Let me bring in our enterprise team.<br>\
<p align=\"center\">Chat Transferred From Lee W To Ana R</p>\
( 4m 1s ) Ana R: Hi Omar, Ana here. 40 seats qualifies for volume pricing.<br>\
( 4m 30s ) Omar Haddad: Great";
    let chat = read(body);
    assert_eq!(
        speakers(&chat),
        vec![
            ("Lee W", Role::Agent),
            ("Omar Haddad", Role::Client),
            ("Ana R", Role::Agent)
        ]
    );
    assert_eq!(
        chat.turns[3],
        conversations::Turn {
            role: Role::System,
            name: String::new(),
            time: None,
            elapsed_secs: None,
            text: "Chat Transferred From Lee W To Ana R".into(),
        }
    );
}

#[test]
fn an_empty_body_has_no_turns_and_says_so() {
    for body in ["", "   ", "<p></p><br><div> </div>"] {
        let chat = read(body);
        assert!(chat.turns.is_empty(), "{body:?}");
        assert_eq!(
            chat.warnings,
            vec!["the transcript body is empty".to_string()]
        );
    }
}

#[test]
fn plain_text_without_chat_lines_is_one_unknown_turn() {
    let chat = read("Customer phoned about invoice 4471.\nPromised a callback & a credit note.");
    assert_eq!(
        turns(&chat),
        vec![(
            Role::Unknown,
            "",
            "Customer phoned about invoice 4471.\nPromised a callback & a credit note."
        )]
    );
    assert!(
        chat.warnings[0].contains("no '( Ns ) Name:' lines found"),
        "{:?}",
        chat.warnings
    );
}

#[test]
fn a_header_only_chat_keeps_its_text_and_start() {
    let body = "<p align=\"center\">Chat Started: Monday, March 02, 2026, 10:15:03 (+0000)</p>\
<p align=\"center\">Chat Origin: Web</p><p align=\"center\">Agent Jane D</p>";
    let chat = read(body);
    assert_eq!(chat.turns.len(), 1);
    assert_eq!(chat.turns[0].role, Role::Unknown);
    assert_eq!(
        chat.turns[0].text,
        "Chat Started: Monday, March 02, 2026, 10:15:03 (+0000)\nChat Origin: Web\nAgent Jane D"
    );
    assert_eq!(chat.turns[0].time, at(10, 15, 3));
}

#[test]
fn a_console_copy_in_plain_text_reads_too() {
    let body = "Chat Started: Wednesday, March 05, 2025, 16:07:05 (+0800)\n\
( 19s ) Visitor: I need to change my phone number\n\
( 3m 38s ) Support: Thanks for contacting us. I can help with that.\n\
Please confirm your account email first.";
    let chat = read(body);
    assert_eq!(
        turns(&chat),
        vec![
            (Role::Client, "Visitor", "I need to change my phone number"),
            (
                Role::Agent,
                "Support",
                "Thanks for contacting us. I can help with that.\nPlease confirm your account email first."
            ),
        ]
    );
    // "Support" is named nowhere as an agent: taken as one because the visitor is the client,
    // and the guess is said.
    assert_eq!(chat.warnings.len(), 1, "{:?}", chat.warnings);
    assert!(chat.warnings[0].contains("'Support'"));
}

#[test]
fn an_agent_writing_under_a_team_name_is_guessed_and_flagged() {
    let body = "<p align=\"center\">Chat Started: Sunday, December 01, 2024, 07:09:55 (-0800)</p>\
<p align=\"center\">Agent Subashree S</p>( 53s ) Acme Support: Dear Marcus, welcome!<br>\
( 8m 43s ) Marcus Thomas: Ok<br>( 9m 3s ) Acme Support: Thank you for the response";
    let chat = read(body);
    assert_eq!(
        speakers(&chat),
        vec![
            ("Acme Support", Role::Agent),
            ("Marcus Thomas", Role::Client)
        ]
    );
    assert_eq!(chat.warnings.len(), 1);
    assert!(
        chat.warnings[0].contains("'Acme Support'"),
        "{:?}",
        chat.warnings
    );
}

#[test]
fn the_header_full_name_matches_a_first_name_chat_name() {
    // The shape this project's Salesforce simulator writes: `<br>` header lines, agents by
    // first name, `( 0m 12s )` stamps.
    let body = "Chat Started: Monday, March 02, 2026, 10:15:03 (+0000)<br>Chat Origin: Support Chat<br>\
Agent Jane Doe<br>( 0m 12s ) Jane: Hi, how can I help?<br>( 0m 40s ) Maria: I was double charged.<br>";
    let chat = read(body);
    assert_eq!(
        speakers(&chat),
        vec![("Jane", Role::Agent), ("Maria", Role::Client)]
    );
    assert!(chat.warnings.is_empty(), "{:?}", chat.warnings);
}

#[test]
fn times_count_from_the_callers_start_or_stay_unknown() {
    let body = "( 10s ) Agent Smith: Hi<br>( 1h 2m 3s ) Visitor: Still there?";
    let chat = read(body);
    assert_eq!(chat.turns[1].time, None);
    assert_eq!(chat.turns[1].elapsed_secs, Some(3723));

    let settings = ChatSettings {
        started: at(9, 0, 0),
        ..ChatSettings::default()
    };
    let chat = parse_transcript(body, &settings);
    assert_eq!(chat.turns[0].time, at(9, 0, 10));
    assert_eq!(chat.turns[1].time, at(10, 2, 3));
}

#[test]
fn an_unreadable_start_is_a_warning_not_a_failure() {
    let body = "<p align=\"center\">Chat Started: sometime last week</p>( 10s ) Visitor: hi<br>( 12s ) Jo: hello";
    let chat = read(body);
    assert_eq!(chat.turns.len(), 2);
    assert_eq!(chat.turns[0].time, None);
    assert!(chat.warnings[0].contains("could not read the chat start time"));
}

#[test]
fn text_before_the_first_message_is_kept_as_unknown() {
    let body = "Chat 01267967\nProduct: Outdoor Camera\n( 2s ) Visitor: hi\n( 5s ) Rui: hello";
    let chat = read(body);
    assert_eq!(
        turns(&chat)[0],
        (Role::Unknown, "", "Chat 01267967\nProduct: Outdoor Camera")
    );
    assert!(chat
        .warnings
        .iter()
        .any(|w| w.contains("outside any message")));
}

#[test]
fn a_start_at_the_end_of_time_gives_no_time_rather_than_a_panic() {
    let body =
        "<p align=\"center\">Chat Started: Friday, December 31, 262142, 23:59:59 (+0000)</p>\
( 1h 0m 0s ) Visitor: hello<br>( 1h 0m 5s ) Jo: hi";
    let chat = read(body);
    assert_eq!(chat.turns.len(), 2);
    assert_eq!(chat.turns[0].time, None);
    assert_eq!(chat.turns[0].elapsed_secs, Some(3600));
    assert!(
        !chat.warnings.iter().any(|w| w.contains("could not read")),
        "the start itself reads: {:?}",
        chat.warnings
    );

    let settings = ChatSettings {
        started: Some(DateTime::<Utc>::MAX_UTC),
        ..ChatSettings::default()
    };
    let chat = parse_transcript("( 10s ) Visitor: hello", &settings);
    assert_eq!(chat.turns[0].time, None);
}
