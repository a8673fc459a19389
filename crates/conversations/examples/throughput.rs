//! How fast transcript bodies read: generates ~100,000 realistic `LiveChatTranscript` bodies
//! (the `<p>` and `<div>` header shapes, bot handovers, agent transfers, multi-line messages,
//! entities, plain-text copies), reads them all once, and prints transcripts/s and MB/s.
//!
//! `cargo run --release -p conversations --example throughput [-- COUNT]`

use std::hint::black_box;
use std::time::Instant;

use conversations::{parse_transcript, ChatSettings, Role};

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let mut random = Random(0x5eed_c0ffee_u64);
    let bodies: Vec<String> = (0..count).map(|i| body(i, &mut random)).collect();
    let bytes: usize = bodies.iter().map(String::len).sum();
    let settings = ChatSettings {
        agent_names: vec!["Jane Doe".into()],
        ..ChatSettings::default()
    };

    // Warm the caches and the allocator before timing.
    for body in bodies.iter().take(1000) {
        black_box(parse_transcript(body, &settings));
    }

    let began = Instant::now();
    let cpu_began = on_cpu_ns();
    let mut turns = 0usize;
    let mut client_turns = 0usize;
    let mut warned = 0usize;
    for body in &bodies {
        let chat = parse_transcript(black_box(body), &settings);
        turns += chat.turns.len();
        client_turns += chat.turns.iter().filter(|t| t.role == Role::Client).count();
        warned += usize::from(!chat.warnings.is_empty());
        black_box(&chat);
    }
    let seconds = began.elapsed().as_secs_f64();
    let cpu_seconds = match (cpu_began, on_cpu_ns()) {
        (Some(a), Some(b)) => Some((b - a) as f64 / 1e9),
        _ => None,
    };

    println!(
        "{count} transcripts, {:.1} MB ({} bytes on average), {turns} turns ({client_turns} client), {warned} with warnings",
        bytes as f64 / 1e6,
        bytes / count.max(1)
    );
    let figures = |label: &str, seconds: f64| {
        println!(
            "{label}: {seconds:.3} s, {:.0} transcripts/s, {:.1} MB/s, {:.0} turns/s (one thread)",
            count as f64 / seconds,
            bytes as f64 / 1e6 / seconds,
            turns as f64 / seconds
        );
    };
    figures("wall clock", seconds);
    // On a shared machine the thread waits for a core; time on the CPU is the steadier figure.
    if let Some(cpu_seconds) = cpu_seconds {
        figures("on CPU    ", cpu_seconds);
    }
}

/// Nanoseconds this thread has run on a CPU (Linux's schedstat), when the system says.
fn on_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// xorshift64*: deterministic bodies without a dependency.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

const AGENTS: &[&str] = &["Jane D", "Marco B", "Sam K", "Ana R", "Lee W", "Priya S"];
const CLIENTS: &[&str] = &[
    "Visitor",
    "Omar Haddad",
    "Lena Fischer",
    "Kim Lo",
    "Marcus Thomas",
];
const WORDS: &[&str] = &[
    "I",
    "my",
    "order",
    "invoice",
    "was",
    "charged",
    "twice",
    "refund",
    "please",
    "thanks",
    "account",
    "the",
    "camera",
    "isn&#39;t",
    "working",
    "can",
    "you",
    "check",
    "email",
    "address",
    "&amp;",
    "phone",
    "number",
    "&quot;Premium&quot;",
    "plan",
    "today",
    "yesterday",
    "sorry",
    "for",
    "wait",
    "let",
    "me",
    "look",
    "into",
    "this",
    "one",
    "moment",
    "delivery",
    "tracking",
    "we&#39;ll",
    "send",
    "a",
    "replacement",
    "café",
    "naïve",
    "€20",
    "—",
    "OK",
    "sure",
    "great",
];

fn sentence(random: &mut Random) -> String {
    let n = 4 + random.below(18);
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(random.pick(WORDS));
    }
    s
}

fn stamp(seconds: usize) -> String {
    match (seconds / 3600, seconds / 60 % 60, seconds % 60) {
        (0, 0, s) => format!("( {s}s )"),
        (0, m, s) => format!("( {m}m {s}s )"),
        (h, m, s) => format!("( {h}h {m}m {s}s )"),
    }
}

fn body(i: usize, random: &mut Random) -> String {
    let agent = random.pick(AGENTS);
    let client = random.pick(CLIENTS);
    let shape = random.below(20);
    let (open, close) = if shape < 4 {
        ("<div align=\"center\">", "</div>")
    } else {
        ("<p align=\"center\">", "</p>")
    };
    let plain = shape == 19;
    let header = |text: &str| {
        if plain {
            format!("{text}\n")
        } else {
            format!("{open}{text}{close}")
        }
    };
    let separator = if plain { "\n" } else { "<br>" };
    let start = format!(
        "Chat Started: Monday, March {:02}, 2026, {:02}:{:02}:{:02} (+0000)",
        1 + i % 28,
        8 + i % 10,
        i % 60,
        (i * 7) % 60
    );
    let mut body = String::with_capacity(4096);
    let mut seconds = 3 + random.below(20);
    if shape >= 16 && !plain {
        // A bot's part, its handover, and the agent's own header.
        body.push_str(&header(&start));
        for _ in 0..2 + random.below(3) {
            let who = if random.below(2) == 0 {
                "Acme Assistant"
            } else {
                client
            };
            body.push_str(&format!(
                "{} {who}: {}{separator}",
                stamp(seconds),
                sentence(random)
            ));
            seconds += 2 + random.below(15);
        }
        body.push_str(&header(
            "Agent Chatbot successfully transferred the chat to button Billing_EN",
        ));
        body.push_str(&header(&start));
        body.push_str(&header(&format!(
            "Chat Transferred From Acme Assistant To {agent}"
        )));
    } else {
        body.push_str(&header(&start));
        body.push_str(&header("Chat Origin: Billing Chat Button"));
        body.push_str(&header(&format!("Agent {agent}")));
    }
    let messages = 8 + random.below(32);
    for m in 0..messages {
        let who = if m % 2 == 0 { agent } else { client };
        body.push_str(&format!("{} {who}: {}", stamp(seconds), sentence(random)));
        if random.below(8) == 0 {
            // A message that goes on over more lines.
            body.push_str(separator);
            body.push_str(&sentence(random));
        }
        body.push_str(separator);
        seconds += 5 + random.below(90);
        if m == messages / 2 && random.below(10) == 0 {
            body.push_str(&header(&format!("Chat Transferred From {agent} To Ana R")));
        }
    }
    body.push_str(&header("Chat Ended by Visitor"));
    body
}
