//! Property tests over the open-ended inputs: any text as an SMS, any contact data in a
//! template, any reply to a two-way question, any invitation history, any subject and names in
//! a MIME message.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use directory::EmailAddress;
use distribution::frequency::{self, FrequencyRule, MessageKind, Planned, Scope, Sent, Verdict};
use distribution::mime::{self, Invitation, MessageId};
use distribution::segments::{self, Encoding};
use distribution::template::{EmailTemplate, MessageContext, SmsTemplate};
use distribution::two_way::{read_reply, Reply};
use mail_parser::MessageParser;
use proptest::prelude::*;
use survey::{Answer, SurveyDefinition};

/// Text mixing GSM-7 basic and extension characters, non-GSM letters and emoji.
fn sms_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(
            prop::sample::select(vec![
                'a', ' ', '€', '{', 'é', '\n', '’', 'ж', '👍', '|', '0'
            ]),
            0..400
        )
        .prop_map(|c| c.into_iter().collect()),
        proptest::collection::vec(prop::sample::select(vec!['a', '[', '~', 'Ä']), 0..400)
            .prop_map(|c| c.into_iter().collect()),
    ]
}

fn survey() -> SurveyDefinition {
    survey::sample::sample_definition()
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn segments_cover_the_text_within_their_limits(text in sms_text()) {
        let size = segments::measure(&text);
        let parts = segments::split(&text);
        prop_assert_eq!(parts.concat(), text.clone());
        prop_assert_eq!(size.segments, parts.len());
        prop_assert_eq!(size.characters, text.chars().count());
        let units = |s: &str| -> usize {
            match size.encoding {
                Encoding::Gsm7 => s.chars().map(|c| if "€{}[]~|^\\\u{c}".contains(c) { 2 } else { 1 }).sum(),
                Encoding::Ucs2 => s.encode_utf16().count(),
            }
        };
        prop_assert_eq!(size.units, units(&text));
        let (single, each) = match size.encoding {
            Encoding::Gsm7 => (160, 153),
            Encoding::Ucs2 => (70, 67),
        };
        if parts.len() <= 1 {
            prop_assert!(size.units <= single);
            prop_assert_eq!(parts.is_empty(), text.is_empty());
        } else {
            prop_assert!(size.units > single);
            for part in &parts {
                prop_assert!(units(part) <= each && !part.is_empty());
            }
            // Greedy: no segment could have taken the next segment's first character.
            for pair in parts.windows(2) {
                let next = pair[1].chars().next().unwrap().to_string();
                prop_assert!(units(pair[0]) + units(&next) > each);
            }
        }
    }

    #[test]
    fn any_contact_data_renders_safe_and_readable(
        first in any::<String>(),
        tier in "\\PC{0,40}",
        language in "[a-zA-Z_-]{0,8}",
    ) {
        let template = EmailTemplate {
            name: "t".into(),
            subject: "Hi ${m://FirstName}".into(),
            from_name: String::new(),
            reply_to: None,
            body: "<p>Dear ${m://FirstName} (${e://Field/Tier})</p><p>${l://SurveyLink}</p>".into(),
            default_language: "EN".into(),
            variants: BTreeMap::new(),
        };
        let contact = BTreeMap::from([
            ("FirstName".to_string(), first.clone()),
            ("Tier".to_string(), tier.clone()),
            ("Language".to_string(), language),
        ]);
        let definition = survey();
        let embedded = BTreeMap::new();
        let out = template.render(&MessageContext {
            survey: &definition,
            survey_name: "S",
            contact: &contact,
            embedded_data: &embedded,
            survey_url: "https://sonde.example/s/SV_1?l=t",
            opt_out_url: "https://sonde.example/optout/o",
            record: &survey::piped::NO_RECORD,
        });
        prop_assert_eq!(survey::html::sanitize(&out.html), out.html.clone());
        prop_assert!(out.html.contains("<a href=\"https://sonde.example/s/SV_1?l=t\">"));
        prop_assert!(!out.subject.contains(['\r', '\n']));
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        prop_assert!(out.text.contains(&words(&first)), "{:?} in {:?}", first, out.text);
        prop_assert!(out.text.contains(&words(&tier)));
        prop_assert!(out.text.ends_with("https://sonde.example/s/SV_1?l=t"));
    }

    #[test]
    fn any_template_input_is_judged_without_panicking(
        body in any::<String>(),
        code in "\\PC{0,6}",
        wanted in proptest::option::of("\\PC{0,8}"),
    ) {
        let template = SmsTemplate {
            name: "t".into(),
            body: body.clone(),
            default_language: "EN".into(),
            variants: BTreeMap::from([(code.clone(), distribution::template::SmsVariant { body })]),
        };
        let _ = template.validate();
        let picked = template.pick(wanted.as_deref()).language;
        prop_assert!(picked == "EN" || picked == code);
    }

    #[test]
    fn any_reply_reads_as_a_valid_answer_or_a_hint(reply in any::<String>(), n in 0u32..20) {
        let definition = survey();
        let nps = definition.question("QID3").unwrap();
        match read_reply(nps, &reply) {
            Reply::Answer(Answer::Number(x)) => prop_assert!(x.fract() == 0.0 && (0.0..=10.0).contains(&x)),
            Reply::Answer(other) => prop_assert!(false, "NPS answered with {:?}", other),
            Reply::Reask { hint } => prop_assert!(!hint.is_empty()),
        }
        let choice = definition.question("QID4").unwrap();
        for text in [reply.clone(), n.to_string()] {
            match read_reply(choice, &text) {
                Reply::Answer(answer) => prop_assert!(survey::validate::check_answer(choice, &answer).is_ok()),
                Reply::Reask { hint } => prop_assert_eq!(hint, "Please reply with a number from 1 to 5."),
            }
        }
    }

    #[test]
    fn a_cap_lifts_exactly_when_it_says(
        offsets in proptest::collection::vec((0i64..60 * 24, prop::bool::ANY), 0..12),
        max in 1u32..4,
        period in 1u32..20,
        gap in proptest::option::of(1u32..10),
        now_hours in 0i64..60 * 24,
    ) {
        let rule = FrequencyRule {
            scope: Scope::Organization,
            max_invitations: Some(max),
            period_days: Some(period),
            min_days_between: gap,
        };
        let now = start() + Duration::hours(now_hours);
        let history: Vec<Sent> = offsets
            .iter()
            .map(|(h, reminder)| Sent {
                at: start() + Duration::hours(*h),
                survey_id: "SV_a".into(),
                mailing_list_id: None,
                kind: if *reminder { MessageKind::Reminder } else { MessageKind::Invitation },
            })
            .filter(|s| s.at <= now)
            .collect();
        let planned = Planned { survey_id: "SV_b", mailing_list_id: None, kind: MessageKind::Invitation };
        let rules = [rule];
        let invitations: Vec<DateTime<Utc>> = history
            .iter()
            .filter(|s| s.kind == MessageKind::Invitation)
            .map(|s| s.at)
            .collect();
        let in_window = invitations.iter().filter(|t| **t > now - Duration::days(period.into())).count();
        let too_soon = gap.is_some_and(|g| invitations.iter().any(|t| *t + Duration::days(g.into()) > now));
        match frequency::check(&rules, &history, planned, now) {
            Verdict::Allowed => prop_assert!(in_window < max as usize && !too_soon),
            Verdict::Capped(cap) => {
                prop_assert!(in_window >= max as usize || too_soon);
                prop_assert!(cap.allowed_from > now);
                prop_assert_eq!(frequency::check(&rules, &history, planned, cap.allowed_from), Verdict::Allowed);
                let just_before = cap.allowed_from - Duration::seconds(1);
                prop_assert!(matches!(frequency::check(&rules, &history, planned, just_before), Verdict::Capped(_)));
            }
        }
    }

    #[test]
    fn any_subject_and_names_survive_the_wire(
        subject in "\\PC{1,120}",
        from_name in "\\PC{0,40}",
        to_name in "\\PC{0,40}",
    ) {
        let from = EmailAddress::parse("surveys@acme.example").unwrap();
        let to = EmailAddress::parse("ana@example.com").unwrap();
        let email = distribution::template::RenderedEmail {
            language: "EN".into(),
            subject: subject.clone(),
            html: "<p>x</p>".into(),
            text: "x".into(),
        };
        let id = MessageId::random(&from);
        let message = mime::build(&Invitation {
            from: &from,
            from_name: &from_name,
            reply_to: None,
            to: &to,
            to_name: &to_name,
            email: &email,
            opt_out_url: "https://sonde.example/optout/o",
            message_id: &id,
            date: start(),
        })
        .unwrap();
        let bytes = message.formatted();
        let parsed = MessageParser::default().parse(&bytes).unwrap();
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        prop_assert_eq!(words(parsed.subject().unwrap_or_default()), words(&subject));
        let to_seen = parsed.to().unwrap().first().unwrap();
        prop_assert_eq!(to_seen.address(), Some("ana@example.com"));
        prop_assert_eq!(words(to_seen.name().unwrap_or_default()), words(&to_name));
        prop_assert!(parsed.header_raw("Bcc").is_none());
    }
}
