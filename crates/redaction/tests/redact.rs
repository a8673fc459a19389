//! Redaction as a connector job sees it: rules in, texts in, masked texts and counts out.

use proptest::prelude::*;
use redaction::{
    Applied, CustomPattern, Detector, PatternProblem, RedactionRules, Redactor, RulesError,
    Substitutions,
};

fn all_detectors() -> Redactor {
    Redactor::new(RedactionRules::all_detectors()).unwrap()
}

fn only(detectors: &[Detector]) -> Redactor {
    Redactor::new(RedactionRules {
        detectors: detectors.to_vec(),
        ..RedactionRules::default()
    })
    .unwrap()
}

#[test]
fn a_chat_with_one_of_each_comes_out_masked_and_counted() {
    let chat = "Hi, I'm Zoë. Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, \
                mail zoe.m+shop@example.co.uk. Call +44 20 7946 0958 or (415) 555-0132; \
                SSN 123-45-6789. Order 12345678 on 2026-12-03 for $1,234.56 — merci!";
    let redacted = all_detectors().redact(chat);
    assert_eq!(
        redacted.text,
        "Hi, I'm Zoë. Card [CARD], IBAN [IBAN], mail [EMAIL]. Call [PHONE] or [PHONE]; \
         SSN [SSN]. Order 12345678 on 2026-12-03 for $1,234.56 — merci!"
    );
    let applied = &redacted.applied;
    assert_eq!(
        (
            applied.card,
            applied.iban,
            applied.email,
            applied.phone,
            applied.ssn
        ),
        (1, 1, 1, 2, 1)
    );
    assert_eq!(applied.total(), 6);
    assert_eq!(applied.detector(Detector::Phone), 2);
}

#[test]
fn only_the_detectors_asked_for_run() {
    let text = "4111111111111111 a@b.com 415-555-0132";
    assert_eq!(
        only(&[Detector::Email]).redact(text).text,
        "4111111111111111 [EMAIL] 415-555-0132"
    );
    assert_eq!(
        only(&[Detector::Card, Detector::Card]).redact(text).text,
        "[CARD] a@b.com 415-555-0132"
    );
    assert_eq!(only(&[]).redact(text).text, text);
}

#[test]
fn card_numbers_and_ibans_go_before_phones() {
    let redactor = all_detectors();
    // The phone detector alone would take "+1 4111 1111 1111".
    assert_eq!(
        only(&[Detector::Phone])
            .redact("+1 4111 1111 1111 1111")
            .text,
        "[PHONE] 1111"
    );
    assert_eq!(redactor.redact("+1 4111 1111 1111 1111").text, "+1 [CARD]");
    // And "0417 1643 00", the digits of a Dutch IBAN, is shaped like a phone.
    assert_eq!(
        only(&[Detector::Phone])
            .redact("NL91 ABNA 0417 1643 00")
            .text,
        "NL91 ABNA [PHONE]"
    );
    assert_eq!(redactor.redact("NL91 ABNA 0417 1643 00").text, "[IBAN]");
    let applied = redactor.redact("NL91 ABNA 0417 1643 00").applied;
    assert_eq!((applied.iban, applied.phone), (1, 0));
}

#[test]
fn an_email_is_kept_whole_over_the_number_in_it() {
    assert_eq!(
        all_detectors().redact("sms 4155550132@txt.att.net").text,
        "sms [EMAIL]"
    );
    assert_eq!(
        all_detectors()
            .redact("x.4111111111111111@example.com")
            .text,
        "[EMAIL]"
    );
}

#[test]
fn near_misses_stay() {
    let redactor = all_detectors();
    for text in [
        "order 4111111111111112 shipped",
        "tracking 94111111111111111",
        "on 2026-12-03 at 10:30, or 03/12/2026",
        "total $1,234.56 (1 234 567 points)",
        "SSN 666-12-3456? no, 000-12-3456",
        "IBAN DE88 3704 0044 0532 0130 00",
        "user@localhost and @handle",
        "server 10.200.30.40 v1.2.3",
    ] {
        let redacted = redactor.redact(text);
        assert_eq!(redacted.text, text);
        assert_eq!(redacted.applied, Applied::default());
    }
}

#[test]
fn custom_patterns_mask_with_their_own_mask_and_count_by_name() {
    let redactor = Redactor::new(RedactionRules {
        detectors: Detector::ALL.to_vec(),
        custom: vec![
            CustomPattern::new("order_id", r"\bORD-\d{8}\b"),
            CustomPattern::new("member", r"\bM\d{6}\b").with_mask("[MEMBER]"),
        ],
        ..RedactionRules::default()
    })
    .unwrap();
    let redacted =
        redactor.redact("ORD-12345678 and ORD-87654321 for M123456, card 4111111111111111");
    assert_eq!(
        redacted.text,
        "[ORDER_ID] and [ORDER_ID] for [MEMBER], card [CARD]"
    );
    assert_eq!(redacted.applied.custom["order_id"], 2);
    assert_eq!(redacted.applied.custom["member"], 1);
    assert_eq!(redacted.applied.total(), 4);
}

#[test]
fn a_custom_pattern_never_takes_digits_out_of_a_card_number() {
    let redactor = Redactor::new(RedactionRules {
        detectors: vec![Detector::Card],
        custom: vec![CustomPattern::new("digits", r"\d{4}")],
        ..RedactionRules::default()
    })
    .unwrap();
    assert_eq!(
        redactor.redact("4111 1111 1111 1111 and 2026").text,
        "[CARD] and [DIGITS]"
    );
}

fn refused(pattern: CustomPattern) -> (String, PatternProblem) {
    let rules = RedactionRules {
        custom: vec![CustomPattern::new("ok", "x"), pattern],
        ..RedactionRules::default()
    };
    match Redactor::new(rules).unwrap_err() {
        RulesError::CustomPattern { name, problem } => (name, problem),
        other => panic!("{other}"),
    }
}

#[test]
fn a_bad_custom_pattern_is_refused_naming_it_and_what_is_wrong() {
    let (name, problem) = refused(CustomPattern::new("ticket", r"T-(\d+"));
    assert_eq!(name, "ticket");
    assert!(
        matches!(&problem, PatternProblem::InvalidRegex(why) if why.contains("unclosed group")),
        "{problem}"
    );
    let err = Redactor::new(RedactionRules {
        custom: vec![CustomPattern::new("ticket", r"T-(\d+")],
        ..RedactionRules::default()
    })
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("custom pattern \"ticket\": not a valid regular expression"),
        "{err}"
    );

    assert_eq!(
        refused(CustomPattern::new("lazy", r"\d*")).1,
        PatternProblem::MatchesEmptyText
    );
    assert_eq!(
        refused(CustomPattern::new("ok", "y")).1,
        PatternProblem::DuplicateName
    );
    assert_eq!(
        refused(CustomPattern::new("Card", "y")).1,
        PatternProblem::DetectorName
    );
    assert_eq!(
        refused(CustomPattern::new(" ", "y")).1,
        PatternProblem::EmptyName
    );
    assert_eq!(
        refused(CustomPattern::new("x", "y").with_mask("")).1,
        PatternProblem::EmptyMask
    );
}

#[test]
fn substitutions_apply_to_what_the_detectors_leave() {
    let redactor = Redactor::new(RedactionRules {
        detectors: Detector::ALL.to_vec(),
        substitutions: Substitutions::parse(
            "# people and places\nJane Doe: [AGENT]\nAcme: [COMPANY]\nAcme Bank: [BANK]\n\
             card 4111: [NEVER]\nhotline: call 415-555-0132\n",
        )
        .unwrap(),
        ..RedactionRules::default()
    })
    .unwrap();
    let redacted = redactor.redact(
        "Jane Doe at Acme Bank (Acme's partner, not Acmeco): card 4111111111111111, ring the hotline",
    );
    assert_eq!(
        redacted.text,
        "[AGENT] at [BANK] ([COMPANY]'s partner, not Acmeco): card [CARD], ring the call 415-555-0132"
    );
    // The replacement's phone number is the admin's own text, written after detection.
    assert_eq!(redacted.applied.substitution, 4);
    assert_eq!(redacted.applied.card, 1);
    assert_eq!(redacted.applied.phone, 0);
}

#[test]
fn substitutions_alone_leave_numbers_alone() {
    let redactor = Redactor::new(RedactionRules {
        substitutions: Substitutions::from_pairs([("Acme", "[COMPANY]")]).unwrap(),
        ..RedactionRules::default()
    })
    .unwrap();
    assert_eq!(
        redactor.redact("Acme card 4111111111111111").text,
        "[COMPANY] card 4111111111111111"
    );
}

#[test]
fn a_redactor_is_shared_between_workers() {
    fn shared<T: Send + Sync>() {}
    shared::<Redactor>();
    let redactor = all_detectors();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| assert_eq!(redactor.redact("a@b.com").text, "[EMAIL]"));
        }
    });
}

#[test]
fn a_jobs_counts_add_up_and_serialise() {
    let redactor = Redactor::new(RedactionRules {
        detectors: Detector::ALL.to_vec(),
        custom: vec![CustomPattern::new("order_id", r"ORD-\d+")],
        ..RedactionRules::default()
    })
    .unwrap();
    let mut job = Applied::default();
    for text in ["a@b.com ORD-1", "ORD-2 4111111111111111", "nothing here"] {
        job.add(&redactor.redact(text).applied);
    }
    assert_eq!(
        (job.email, job.card, job.custom["order_id"], job.total()),
        (1, 1, 2, 4)
    );
    let json = serde_json::to_value(&job).unwrap();
    assert_eq!(json["custom"]["order_id"], 2);
    assert_eq!(json["card"], 1);
}

/// A card number of 13 to 19 digits with a valid Luhn check digit.
fn card_number() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!['2', '3', '4', '5', '6']),
        prop::collection::vec(0u8..10, 11..=17),
    )
        .prop_map(|(first, rest)| {
            let mut digits: Vec<u8> = std::iter::once(first as u8 - b'0').chain(rest).collect();
            digits.push(luhn_check_digit(&digits));
            digits.iter().map(|d| char::from(b'0' + d)).collect()
        })
}

fn luhn_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// The number as people type it: whole, or in fours with spaces or dashes.
fn typed(number: &str, style: u8) -> String {
    let separator = match style {
        0 => return number.to_owned(),
        1 => " ",
        _ => "-",
    };
    let groups: Vec<&str> = number
        .as_bytes()
        .chunks(4)
        .map(|chunk| std::str::from_utf8(chunk).unwrap())
        .collect();
    groups.join(separator)
}

/// Words of a chat with nothing sensitive: letters, accents, punctuation, and numbers of up to
/// four digits that never stand next to each other.
fn harmless_words() -> impl Strategy<Value = Vec<String>> {
    let word = prop_oneof![
        "[a-zA-Z]{1,10}",
        "[a-zà-ÿ]{1,6}",
        prop::sample::select(vec![
            ",", ".", "!", "?", "—", "-", "(", ")", "@team", "#1", "+", "&", ":)", "€", "$"
        ])
        .prop_map(str::to_owned),
    ];
    let number = prop::option::of("[0-9]{1,4}");
    prop::collection::vec((word, number), 0..40).prop_map(|pairs| {
        pairs
            .into_iter()
            .flat_map(|(word, number)| std::iter::once(word).chain(number))
            .collect()
    })
}

proptest! {
    #[test]
    fn a_luhn_valid_card_number_among_words_never_comes_out(
        number in card_number(),
        style in 0u8..3,
        words in harmless_words(),
        at in any::<prop::sample::Index>(),
    ) {
        let card = typed(&number, style);
        let mut words = words;
        let at = at.index(words.len() + 1);
        words.insert(at, card.clone());
        let text = words.join(" ");
        let redacted = all_detectors().redact(&text);
        prop_assert!(!redacted.text.contains(&card), "{} -> {}", text, redacted.text);
        prop_assert!(!redacted.text.contains(&number), "{} -> {}", text, redacted.text);
        prop_assert!(redacted.text.contains("[CARD]"));
        prop_assert!(redacted.applied.card >= 1);
    }

    #[test]
    fn text_with_nothing_sensitive_comes_out_unchanged(words in harmless_words()) {
        let text = words.join(" ");
        let redacted = all_detectors().redact(&text);
        prop_assert_eq!(&redacted.text, &text);
        prop_assert_eq!(redacted.applied.total(), 0);
    }

    #[test]
    fn emails_among_words_never_come_out_and_masks_are_never_redacted_again(
        local in "[a-z]{1,8}(\\.[a-z0-9]{1,8})?(\\+[a-z]{1,5})?",
        domain in "[a-z]{1,8}(-[a-z]{1,4})?\\.(com|org|co\\.uk|de|fr)",
        trailing in prop::sample::select(vec!["", ".", ",", ")", "!"]),
        words in harmless_words(),
    ) {
        let email = format!("{local}@{domain}");
        let text = format!("{} {email}{trailing} {}", words.join(" "), words.join(" "));
        let redactor = all_detectors();
        let redacted = redactor.redact(&text);
        prop_assert!(!redacted.text.contains(&email));
        let masked = format!("[EMAIL]{trailing}");
        prop_assert!(redacted.text.contains(&masked));
        prop_assert_eq!(redacted.applied.email, 1);
        let again = redactor.redact(&redacted.text);
        prop_assert_eq!(again.text, redacted.text);
        prop_assert_eq!(again.applied.total(), 0);
    }

    #[test]
    fn any_text_is_redacted_without_panicking(text in "[0-9 .,:/()+@a-zA-Z€£é_#-]{0,80}") {
        let redactor = Redactor::new(RedactionRules {
            detectors: Detector::ALL.to_vec(),
            custom: vec![CustomPattern::new("euro", "€[0-9]+")],
            substitutions: Substitutions::parse("é: e\nA1: [A]\n+: plus").unwrap(),
        })
        .unwrap();
        let redacted = redactor.redact(&text);
        prop_assert_eq!(redacted.applied.total() == 0, redacted.text == text);
    }
}
