//! Redacts about 50 MB of generated chat lines with every detector on and prints MB/s, texts/s
//! and what was redacted, checked against what the generator put in.
//!
//! cargo run --release -p redaction --example throughput

use std::time::Instant;

use redaction::{Applied, RedactionRules, Redactor};

const TARGET_BYTES: usize = 50 * 1024 * 1024;
const PASSES: usize = 5;

const PLAIN: &[&str] = &[
    "Hi, I'd like to check on the status of my order please.",
    "Thanks for waiting, let me look that up for you.",
    "The delivery was late and the box was damaged when it arrived.",
    "Can you help me reset my password? The link in the mail has expired.",
    "Sure! Is there anything else I can help you with today?",
    "I was charged twice this month and nobody answered my last message.",
    "Great service, the agent was friendly and fixed it in minutes.",
    "Merci beaucoup pour votre aide, tout est réglé maintenant.",
    "Das Paket ist leider nicht angekommen, können Sie nachsehen?",
    "I've been a customer for years and this is the first time I'm disappointed.",
    "Ok, I'll wait for the confirmation email then.",
    "Could you transfer me to someone in billing?",
];

/// Digits and dots that are not sensitive: order numbers, dates, times, amounts, addresses.
const NEAR_MISSES: &[&str] = &[
    "Order 4111111111111112 was shipped on 2026-12-03.",
    "Your total is $1,234.56 and the ticket is 1234-5678.",
    "We open at 09:00 and close at 17:30, last day 03/12/2026.",
    "Reference 94111111111111111 came from 10.200.30.40 at 10:30:45.",
    "You have 1 234 567 points, worth 12.50 EUR, since 3.12.2026.",
    "Version 2.4.1 fixed it for 12 of our 340 stores.",
];

/// Valid IBANs of a few SEPA countries, printed and compact.
const IBANS: &[&str] = &[
    "DE89 3704 0044 0532 0130 00",
    "GB82WEST12345698765432",
    "FR14 2004 1010 0505 0001 3M02 606",
    "NL91ABNA0417164300",
    "ES91 2100 0418 4502 0005 1332",
];

const NAMES: &[&str] = &[
    "jane",
    "li.wei",
    "o.brien",
    "zoe+shop",
    "m_mueller",
    "sam99",
];
const DOMAINS: &[&str] = &["example.com", "mail.example.co.uk", "shop.de", "web.fr"];

struct Lines {
    state: u64,
}

impl Lines {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic, so every run redacts the same texts.
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }

    fn card(&mut self) -> String {
        let len = [16, 16, 16, 15, 13, 19][self.below(6)];
        let mut digits: Vec<u8> = std::iter::once(4 + self.below(3) as u8)
            .chain((1..len - 1).map(|_| self.below(10) as u8))
            .collect();
        let sum: u32 = digits
            .iter()
            .rev()
            .enumerate()
            .map(|(i, &d)| {
                let d = u32::from(d) * if i % 2 == 0 { 2 } else { 1 };
                if d > 9 {
                    d - 9
                } else {
                    d
                }
            })
            .sum();
        digits.push(((10 - sum % 10) % 10) as u8);
        let number: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
        match self.below(3) {
            0 => number,
            style => number
                .as_bytes()
                .chunks(4)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(if style == 1 { " " } else { "-" }),
        }
    }

    fn phone(&mut self) -> String {
        let n = |lines: &mut Self| char::from(b'2' + lines.below(8) as u8);
        match self.below(5) {
            0 => format!(
                "({}{}) {}{}-{}",
                n(self),
                self.digits(2),
                n(self),
                self.digits(2),
                self.digits(4)
            ),
            1 => format!("+44 20 {} {}", self.digits(4), self.digits(4)),
            2 => format!(
                "06 {} {} {} {}",
                self.digits(2),
                self.digits(2),
                self.digits(2),
                self.digits(2)
            ),
            3 => format!("+49 151 {}", self.digits(8)),
            _ => format!(
                "{}{}.{}{}.{}",
                n(self),
                self.digits(2),
                n(self),
                self.digits(2),
                self.digits(4)
            ),
        }
    }

    fn ssn(&mut self) -> String {
        let area = 1 + self.below(665);
        format!(
            "{area:03}-{:02}-{:04}",
            1 + self.below(99),
            1 + self.below(9999)
        )
    }

    /// One chat text and how many of each sensitive kind it holds.
    fn text(&mut self, expected: &mut Applied) -> String {
        let mut text = String::from(self.pick(PLAIN));
        for _ in 0..self.below(3) {
            text.push(' ');
            match self.below(20) {
                0..=1 => {
                    text.push_str(&format!("My card is {}, expiry 12/27.", self.card()));
                    expected.card += 1;
                }
                2 => {
                    let (name, domain) = (self.pick(NAMES), self.pick(DOMAINS));
                    text.push_str(&format!("Write to {name}@{domain}."));
                    expected.email += 1;
                }
                3..=4 => {
                    text.push_str(&format!("Call me back on {} after 6pm.", self.phone()));
                    expected.phone += 1;
                }
                5 => {
                    text.push_str(&format!("Refund to {} please.", self.pick(IBANS)));
                    expected.iban += 1;
                }
                6 => {
                    text.push_str(&format!("SSN {} for the tax form.", self.ssn()));
                    expected.ssn += 1;
                }
                7..=9 => text.push_str(self.pick(NEAR_MISSES)),
                _ => text.push_str(self.pick(PLAIN)),
            }
        }
        text
    }
}

fn main() {
    let mut lines = Lines {
        state: 0x5eed_f00d_cafe,
    };
    let mut expected = Applied::default();
    let mut texts = Vec::new();
    let mut bytes = 0;
    while bytes < TARGET_BYTES {
        let text = lines.text(&mut expected);
        bytes += text.len();
        texts.push(text);
    }
    let redactor =
        Redactor::new(RedactionRules::all_detectors()).expect("the built-ins need no checking");

    // The machine is shared: five passes, and the median is the figure.
    let mut passes = Vec::new();
    let mut applied = Applied::default();
    let mut out_bytes = 0;
    for _ in 0..PASSES {
        let started = Instant::now();
        applied = Applied::default();
        out_bytes = 0;
        for text in &texts {
            let redacted = redactor.redact(text);
            out_bytes += redacted.text.len();
            applied.add(&redacted.applied);
        }
        passes.push(started.elapsed().as_secs_f64());
    }
    passes.sort_by(f64::total_cmp);
    let seconds = passes[PASSES / 2];

    let mb = bytes as f64 / 1e6;
    println!(
        "{:.1} MB in {} texts, median of {PASSES} passes {:.3} s on one thread: {:.0} MB/s, {:.0} texts/s (best {:.0} MB/s)",
        mb,
        texts.len(),
        seconds,
        mb / seconds,
        texts.len() as f64 / seconds,
        mb / passes[0],
    );
    println!(
        "redactions per pass: {} (card {}, iban {}, email {}, phone {}, ssn {}); {:.1} MB out",
        applied.total(),
        applied.card,
        applied.iban,
        applied.email,
        applied.phone,
        applied.ssn,
        out_bytes as f64 / 1e6
    );
    if applied == expected {
        println!("every inserted item found, nothing else");
    } else {
        println!(
            "MISMATCH: inserted card {}, iban {}, email {}, phone {}, ssn {}",
            expected.card, expected.iban, expected.email, expected.phone, expected.ssn
        );
        std::process::exit(1);
    }
}
