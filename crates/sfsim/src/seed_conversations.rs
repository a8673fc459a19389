//! The demo seed's conversations and feedback: legacy chat transcripts with Body HTML as
//! Salesforce writes it, enhanced messaging sessions with their ConversationEntry turns, and
//! free-text feedback cases holding the personal data a redaction pass has to find.
//!
//! Everything is fixed (times from one start date, choices by index or a seeded RNG), so two
//! demo orgs hold the same text and a test can name what it expects.

use crate::ids::Id;
use crate::seed::ins;
use crate::store::{Ctx, Store};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// A seeded contact, as the conversations name and link it.
pub(crate) struct Customer {
    pub id: Id,
    pub account: Id,
    pub first: String,
    pub last: String,
    pub email: String,
}

/// A seeded case and the index of its contact in the customers list.
pub(crate) struct CaseLink {
    pub id: Id,
    pub customer: usize,
}

const AGENTS: &[&str] = &["Jane D", "Omar K", "Priya S", "Tom B"];
const BOT: &str = "Chatbot";

/// Who writes a line of a script.
#[derive(Clone, Copy, PartialEq)]
enum Who {
    Customer,
    Agent,
    /// The agent a transfer hands over to.
    SecondAgent,
    Bot,
    /// The transfer notice Salesforce writes (its text depends on who hands over to whom).
    Notice,
}

use Who::{Agent, Bot, Customer as Cust, Notice, SecondAgent};

/// Chat scripts; a `\n` inside a message is a message of several lines. Characters that HTML
/// escapes (`&`, `'`, `"`, `<`, `>`) are here on purpose: the Body holds them as entities.
const CHATS: &[&[(Who, &str)]] = &[
    &[
        (Agent, "Hi, thanks for contacting Support. How can I help?"),
        (Cust, "Hi, I was charged twice for order 48213."),
        (Agent, "Sorry about that! Let me check the order."),
        (Agent, "I can see the duplicate charge & I've refunded it."),
        (Cust, "Great, thanks for the quick help."),
    ],
    &[
        (Bot, "Hi! I'm the virtual assistant. What can I help you with?"),
        (Cust, "I can't log in to the portal"),
        (Bot, "I'm sorry to hear that. Have you tried resetting your password?"),
        (Cust, "yes twice, it says \"account locked\""),
        (Bot, "Let me connect you with an agent."),
        (Notice, ""),
        (Agent, "Hi, I'm taking over from the assistant. I've unlocked your account."),
        (Cust, "It works now, thank you!"),
    ],
    &[
        (Agent, "Hello, you're chatting with Support."),
        (Cust, "My delivery arrived damaged.\nThe box was crushed and two mugs are broken.\nCan I get a replacement?"),
        (Agent, "I'm so sorry. I'll pass you to our returns team who can arrange that."),
        (Notice, ""),
        (SecondAgent, "Hi, returns here. I've booked a replacement for Thursday."),
        (Cust, "Perfect, thanks"),
    ],
    &[
        (Agent, "Hi there, how can I help today?"),
        (Cust, "Is the <Pro> plan cheaper if we pay yearly?"),
        (Agent, "Yes, yearly billing is 2 months free: $480 instead of $576."),
        (Cust, "ok we'll switch at renewal"),
    ],
    &[
        (Bot, "Welcome back! Ask me anything about your booking."),
        (Cust, "wifi in room 214 doesn't work"),
        (Bot, "I couldn't find an answer for that. Transferring you to a person."),
        (Notice, ""),
        (Agent, "Hi, front desk here. A technician is on the way to room 214."),
        (Cust, "Thanks!!"),
        (Agent, "You're welcome, enjoy your stay."),
    ],
    &[
        (Agent, "Thanks for waiting. What's the issue?"),
        (Cust, "The appointment reminder never arrived and I missed my slot :("),
        (Agent, "I apologise. I've rebooked you for Monday 9:30 and checked your number."),
        (Cust, "thank you\nand please send the reminder by email too"),
        (Agent, "Done, you'll get both an SMS and an email."),
    ],
];

/// Escapes message text the way the transcript Body holds it.
fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `( 10s )`, `( 1m 13s )`: time since the part of the chat began.
fn stamp(secs: i64) -> String {
    if secs < 60 {
        format!("( {secs}s )")
    } else {
        format!("( {}m {}s )", secs / 60, secs % 60)
    }
}

/// The header lines Salesforce writes at the start of a chat and of each part after a transfer
/// from a bot; every fourth chat wraps them in `<div>` instead of `<p>`, as some orgs' bodies do.
fn header(started: DateTime<Utc>, origin: &str, agent: &str, div: bool) -> String {
    let lines = [
        format!(
            "Chat Started: {}",
            started.format("%A, %B %d, %Y, %H:%M:%S (+0000)")
        ),
        format!("Chat Origin: {origin}"),
        format!("Agent {agent}"),
    ];
    lines
        .iter()
        .map(|l| {
            if div {
                format!("<div style=\"text-align: center;\">{l}</div>")
            } else {
                format!("<p align=\"center\">{l}</p>")
            }
        })
        .collect()
}

pub(crate) fn seed(
    store: &mut Store,
    ctx: &Ctx,
    customers: &[Customer],
    cases: &[CaseLink],
) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(12);
    let first_day = Utc
        .with_ymd_and_hms(2026, 3, 2, 10, 15, 3)
        .single()
        .ok_or_else(|| anyhow::anyhow!("seed start date"))?;
    transcripts(store, ctx, customers, cases, first_day, &mut rng)?;
    messaging(store, ctx, customers, cases, first_day, &mut rng)?;
    feedback(store, ctx, customers, first_day)?;
    Ok(())
}

fn transcripts(
    store: &mut Store,
    ctx: &Ctx,
    customers: &[Customer],
    cases: &[CaseLink],
    first_day: DateTime<Utc>,
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    for i in 0..30 {
        let case = &cases[i % cases.len()];
        let who = &customers[case.customer];
        // Every seventh visitor did not give a name in the pre-chat form.
        let visitor = if i % 7 == 6 {
            "Visitor".to_string()
        } else {
            format!("{} {}", who.first, who.last)
        };
        let requested =
            first_day + Duration::days(i as i64) + Duration::minutes(rng.gen_range(0..480));
        let mut fields = chat(i, &visitor, requested, rng);
        fields.insert("ContactId".into(), json!(who.id.to18()));
        fields.insert("AccountId".into(), json!(who.account.to18()));
        fields.insert("CaseId".into(), json!(case.id.to18()));
        ins(store, ctx, "LiveChatTranscript", Value::Object(fields))?;
    }
    Ok(())
}

/// The fields of the `i`th chat script's transcript, requested at `requested` by `visitor`:
/// the Body as Salesforce writes it, times, status, browser.
fn chat(
    i: usize,
    visitor: &str,
    requested: DateTime<Utc>,
    rng: &mut StdRng,
) -> serde_json::Map<String, Value> {
    let agent = AGENTS[i % AGENTS.len()];
    let second = AGENTS[(i + 1) % AGENTS.len()];
    let script = CHATS[i % CHATS.len()];
    let origin = ["Web Chat", "Support Chat", "Live Chat Button"][i % 3];
    let div = i % 4 == 3;
    let wait = rng.gen_range(3..90);
    let started = requested + Duration::seconds(wait);
    let bot_first = script[0].0 == Bot;
    let mut body = header(started, origin, if bot_first { BOT } else { agent }, div);
    let (mut part_start, mut t) = (started, 0i64);
    for (who_writes, text) in script.iter() {
        t += rng.gen_range(6..45);
        let name = match who_writes {
            Agent => agent,
            SecondAgent => second,
            Bot => BOT,
            Cust => visitor,
            Notice => {
                let notice = if bot_first {
                    format!("Chat Transferred From {BOT} To {agent}")
                } else {
                    format!("Chat Transferred From {agent} To {second}")
                };
                body.push_str(&html(&notice));
                body.push_str("<br>");
                if bot_first {
                    // The agent's part gets a header of its own; its stamps count from it.
                    part_start += Duration::seconds(t + 20);
                    t = 0;
                    body.push_str(&header(part_start, origin, agent, div));
                }
                continue;
            }
        };
        let mut lines = text.split('\n');
        let first_line = lines.next().unwrap_or_default();
        body.push_str(&format!("{} {name}: {}<br>", stamp(t), html(first_line)));
        for more in lines {
            body.push_str(&html(more));
            body.push_str("<br>");
        }
    }
    let ended = part_start + Duration::seconds(t + 15);
    let Value::Object(fields) = json!({
        "Body": body, "ChatDuration": (ended - started).num_seconds(), "WaitTime": wait,
        "RequestTime": requested.to_rfc3339(), "StartTime": started.to_rfc3339(), "EndTime": ended.to_rfc3339(),
        "Status": "Completed", "ChatKey": format!("chat-{:04}", i + 1),
        "Browser": (["Chrome", "Safari", "Firefox", "Edge"][i % 4]),
        "Platform": (["MacOSX", "Win10", "iOS", "Android"][(i / 2) % 4]),
        "EndedBy": if i.is_multiple_of(3) { "Agent" } else { "Visitor" },
    }) else {
        unreachable!("a JSON object literal")
    };
    fields
}

const VISITORS: &[&str] = &[
    "Ana Lima",
    "Ben Okafor",
    "Chloe Martin",
    "Dev Patel",
    "Elif Kaya",
    "Visitor",
    "Femi Adeyemi",
    "Grace Chen",
    "Hugo Rossi",
];

/// `count` more chat transcripts (`/_sim/generate`), for loads no demo needs: the demo's
/// scripts in turn, `per_second` of them created in each second from `from_ms` on (so many
/// rows share a timestamp, as real bursts do). Returns the ids made.
pub(crate) fn generate_chats(
    store: &mut Store,
    ctx: &Ctx,
    count: usize,
    from_ms: i64,
    per_second: usize,
) -> anyhow::Result<usize> {
    let oi = store
        .meta
        .object_index("LiveChatTranscript")
        .ok_or_else(|| anyhow::anyhow!("no object LiveChatTranscript"))?;
    let mut rng = StdRng::seed_from_u64(count as u64 ^ from_ms as u64);
    let per_second = per_second.max(1);
    for i in 0..count {
        let at = from_ms + (i / per_second) as i64 * 1000;
        let requested = DateTime::from_timestamp_millis(at - 120_000).unwrap_or_default();
        let mut fields = chat(i, VISITORS[i % VISITORS.len()], requested, &mut rng);
        fields.insert("ChatKey".into(), json!(format!("gen-{at}-{i}")));
        // Half the visitors leave an email, a tenth a card number: what redaction must find.
        let visitor = VISITORS[i % VISITORS.len()];
        let mut extra = String::new();
        if i % 2 == 0 {
            let handle = visitor.to_ascii_lowercase().replace(' ', ".");
            extra.push_str(&format!(" reach me at {handle}{i}@example.com"));
        }
        if i % 10 == 0 {
            extra.push_str(" card 4111 1111 1111 1111");
        }
        if !extra.is_empty() {
            if let Some(Value::String(body)) = fields.get_mut("Body") {
                body.push_str(&format!("( 59m 0s ) {visitor}:{extra}<br>"));
            }
        }
        let ctx = Ctx {
            now: at,
            user: ctx.user,
            profile: ctx.profile.clone(),
        };
        store.insert(oi, &fields, &ctx).map_err(|e| {
            let why = e.first().map(|e| e.message.clone()).unwrap_or_default();
            anyhow::anyhow!("generating chats: {why}")
        })?;
    }
    Ok(count)
}

/// Messaging scripts: (ActorType, EntryType, text). `Agent` and `EndUser` names are filled in.
const SESSIONS: &[&[(&str, &str, &str)]] = &[
    &[
        (
            "System",
            "RoutingRequested",
            "Conversation routed to Support queue",
        ),
        (
            "EndUser",
            "Text",
            "Hi, is my appointment still on for Thursday?",
        ),
        (
            "Agent",
            "Text",
            "Hi! Yes, Thursday at 10:30. Reply C to confirm.",
        ),
        ("EndUser", "Text", "C"),
        ("Agent", "Text", "Confirmed, see you then!"),
        ("EndUser", "Text", "Can I bring my partner along?"),
        ("Agent", "Text", "Of course, there's room for two."),
        ("System", "ConversationEnded", "Conversation ended by agent"),
    ],
    &[
        (
            "Bot",
            "Text",
            "Hi, I'm the virtual assistant. How can I help?",
        ),
        ("EndUser", "Text", "my card was declined at checkout"),
        (
            "Bot",
            "Text",
            "Sorry about that. Is it the card ending in 1111?",
        ),
        ("EndUser", "Text", "yes"),
        ("Bot", "BotEscalated", "Transferring you to an agent"),
        ("System", "OperatorJoined", "Agent joined the conversation"),
        (
            "Agent",
            "Text",
            "Hi, I can see the bank flagged the payment. Please try again now.",
        ),
        ("EndUser", "Text", "worked, thanks"),
        ("Agent", "Text", "Great! Anything else?"),
        ("EndUser", "Text", "no that's all"),
        (
            "System",
            "ConversationEnded",
            "Conversation ended by end user",
        ),
    ],
    &[
        (
            "EndUser",
            "Text",
            "Hello, the invoice for March shows the wrong amount",
        ),
        ("System", "OperatorJoined", "Agent joined the conversation"),
        (
            "Agent",
            "Text",
            "Thanks for flagging it. Which invoice number is it?",
        ),
        ("EndUser", "Text", "INV-2026-0311"),
        (
            "Agent",
            "Text",
            "Found it: a discount was missing. A corrected invoice is on its way.",
        ),
        ("System", "ConversationEnded", "Conversation ended by agent"),
    ],
    &[
        (
            "Bot",
            "Text",
            "Welcome! Are you asking about an order, a return or something else?",
        ),
        ("EndUser", "Text", "return"),
        (
            "Bot",
            "Text",
            "You can start a return from your orders page. Did that help?",
        ),
        ("EndUser", "Text", "the button is greyed out"),
        ("Bot", "BotEscalated", "Transferring you to an agent"),
        ("System", "OperatorJoined", "Agent joined the conversation"),
        (
            "Agent",
            "Text",
            "Hi, that order is past 30 days, but I've made an exception and opened the return.",
        ),
        ("EndUser", "Text", "amazing, thank you so much"),
        ("Agent", "Text", "My pleasure. The label is in your inbox."),
        ("EndUser", "Text", "got it"),
        ("Agent", "Text", "Have a good day!"),
        ("System", "ConversationEnded", "Conversation ended by agent"),
    ],
];

fn messaging(
    store: &mut Store,
    ctx: &Ctx,
    customers: &[Customer],
    cases: &[CaseLink],
    first_day: DateTime<Utc>,
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    for i in 0..20 {
        let case = &cases[(i * 3 + 1) % cases.len()];
        let who = &customers[case.customer];
        let agent = AGENTS[(i + 2) % AGENTS.len()];
        let script = SESSIONS[i % SESSIONS.len()];
        // 4 to 12 entries: the script, cut short for some sessions, always with its last entry.
        let keep = (4 + (i * 5) % 9).min(script.len());
        let chosen = script[..keep - 1].iter().chain(script.last());
        let start = first_day
            + Duration::days(i as i64)
            + Duration::hours(3)
            + Duration::minutes(rng.gen_range(0..300));
        let mut at = start;
        let mut entries = Vec::new();
        for (seq, (actor, kind, text)) in chosen.enumerate() {
            at += Duration::seconds(rng.gen_range(8..120));
            let name = match *actor {
                "Agent" => agent.to_string(),
                "EndUser" => format!("{} {}", who.first, who.last),
                "Bot" => BOT.to_string(),
                _ => "System".to_string(),
            };
            let message = match (*actor, *kind) {
                ("System", "OperatorJoined") => format!("{agent} joined the conversation"),
                _ => text.to_string(),
            };
            entries.push((seq as i64 + 1, *actor, *kind, name, message, at));
        }
        let session = ins(
            store,
            ctx,
            "MessagingSession",
            json!({
                "Status": "Ended", "ChannelType": (["EmbeddedMessaging", "WhatsApp", "Text", "Facebook"][i % 4]),
                "StartTime": start.to_rfc3339(), "AcceptTime": (start + Duration::seconds(30)).to_rfc3339(),
                "EndTime": (at + Duration::seconds(5)).to_rfc3339(),
                "EndUserContactId": who.id.to18(), "EndUserAccountId": who.account.to18(),
                "CaseId": case.id.to18(), "Origin": if i % 5 == 4 { "OutboundInitiated" } else { "InboundInitiated" },
            }),
        )?;
        for (seq, actor, kind, name, message, at) in entries {
            ins(
                store,
                ctx,
                "ConversationEntry",
                json!({
                    "ConversationId": session.to18(), "Seq": seq, "ActorType": actor, "ActorName": name,
                    "EntryType": kind, "Message": message, "EntryTime": at.to_rfc3339(),
                    "EntryEndTime": at.to_rfc3339(), "HasAttachments": false,
                }),
            )?;
        }
    }
    Ok(())
}

/// Feedback sentences; `{card}`, `{email}`, `{phone}` and `{name}` are filled in, so some cases
/// hold a card number (Luhn-valid test numbers), an email address or a phone number.
const FEEDBACK: &[&str] = &[
    "The checkout page kept timing out, I tried three times before it went through.",
    "Please charge my card {card} for the renewal instead of the one on file.",
    "You can reach me at {email} if you need more details about the broken hinge.",
    "Call me back on {phone} after 5pm, the agent hung up before we finished.",
    "Great service from {name} at the front desk, very patient with my questions.",
    "I was billed twice. Card used: {card}. Please refund one of the charges.",
    "The survey link in your email did not open on my phone.",
    "My new email is {email}, please update it and stop sending to the old one.",
    "Delivery driver left the parcel in the rain. Not happy. Phone {phone}.",
    "Love the new portal, much faster than before!",
    "Card {card} expired last month, the new one ends in 4444 but I can't add it online.",
    "Pricing page says one thing and the invoice says another. Contact: {email} / {phone}",
    "Nothing to add, all good.",
];

/// Luhn-valid numbers card networks publish for testing, written as people type them.
const TEST_CARDS: &[&str] = &[
    "4111 1111 1111 1111",
    "5555-5555-5555-4444",
    "4012888888881881",
    "3782 822463 10005",
    "6011 1111 1111 1117",
];

fn feedback(
    store: &mut Store,
    ctx: &Ctx,
    customers: &[Customer],
    first_day: DateTime<Utc>,
) -> anyhow::Result<()> {
    for i in 0..50 {
        let who = &customers[(i * 7 + 3) % customers.len()];
        let first = FEEDBACK[i % FEEDBACK.len()];
        // Some feedback runs to a second sentence, taken further along the list.
        let second = if i % 3 == 1 {
            format!(" {}", FEEDBACK[(i * 5 + 2) % FEEDBACK.len()])
        } else {
            String::new()
        };
        let description = format!("{first}{second}")
            .replace("{card}", TEST_CARDS[i % TEST_CARDS.len()])
            .replace("{email}", &who.email)
            .replace(
                "{phone}",
                &format!("+1 (555) 01{}-{:04}", i % 10, 4000 + i * 13),
            )
            .replace("{name}", AGENTS[i % AGENTS.len()]);
        let received = first_day + Duration::days((i / 2) as i64) + Duration::hours(i as i64 % 9);
        let supplied: Value = if i % 4 == 0 {
            json!(format!("{} {}", who.first, who.last))
        } else {
            Value::Null
        };
        ins(
            store,
            ctx,
            "Case",
            json!({
                "AccountId": who.account.to18(), "ContactId": who.id.to18(),
                "Subject": format!("Customer feedback {}", received.format("%Y-%m-%d")),
                "Status": (["New", "Working", "Closed"][i % 3]), "Priority": (["Low", "Medium", "High"][i % 3]),
                "Origin": (["Web", "Email", "Chat"][i % 3]), "Type": (["Question", "Problem", "Feature Request"][i % 3]),
                "Description": description, "SuppliedName": supplied,
            }),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_and_entities_are_written_as_salesforce_writes_them() {
        assert_eq!(stamp(10), "( 10s )");
        assert_eq!(stamp(73), "( 1m 13s )");
        assert_eq!(
            html("Tom's <b> & \"x\""),
            "Tom&#39;s &lt;b&gt; &amp; &quot;x&quot;"
        );
    }

    #[test]
    fn test_cards_pass_the_luhn_check() {
        for card in TEST_CARDS {
            let digits: Vec<u32> = card.chars().filter_map(|c| c.to_digit(10)).collect();
            let sum: u32 = digits
                .iter()
                .rev()
                .enumerate()
                .map(|(k, d)| match (k % 2, d * 2) {
                    (1, twice) if twice > 9 => twice - 9,
                    (1, twice) => twice,
                    _ => *d,
                })
                .sum();
            assert_eq!(sum % 10, 0, "{card}");
        }
    }
}
