use crate::choices;
use proptest::prelude::*;
use std::collections::BTreeMap;
use survey::piped::{lint, lint_with, render, render_html, PipeContext};
use survey::sample::sample_definition;
use survey::{Answer, DistributionChannel, ResponseData, ResponseMetadata, SurveyDefinition};

struct Fixture {
    definition: SurveyDefinition,
    data: ResponseData,
    metadata: ResponseMetadata,
    contact: BTreeMap<String, String>,
    links: BTreeMap<String, String>,
    record: BTreeMap<String, String>,
}

impl Fixture {
    fn new() -> Self {
        let mut data = ResponseData::default();
        data.answers.insert("QID3".into(), Answer::Number(6.0));
        data.answers.insert("QID4".into(), choices(&["2"]));
        data.answers.insert(
            "QID5".into(),
            Answer::Choices {
                selected: vec!["1".into(), "5".into()],
                text: [("5".to_string(), "Fax <machine>".to_string())].into(),
            },
        );
        data.answers.insert(
            "QID6".into(),
            Answer::Matrix {
                rows: [("2".to_string(), "4".to_string())].into(),
            },
        );
        data.answers.insert(
            "QID7".into(),
            Answer::Slider {
                values: [("1".to_string(), 7.5)].into(),
            },
        );
        data.answers
            .insert("QID9".into(), Answer::Text("Tom & Jerry".into()));
        data.embedded_data.insert("CaseId".into(), "500-42".into());
        let metadata = ResponseMetadata {
            response_id: "R_abcdefghijklmno".into(),
            start_date: "2026-11-22T04:00:00Z".into(),
            end_date: Some("2026-11-22T04:05:00Z".into()),
            recorded_date: Some("2026-11-22T04:05:01Z".into()),
            progress: 100,
            duration_seconds: 300,
            finished: true,
            distribution_channel: DistributionChannel::Email,
        };
        let contact: BTreeMap<String, String> = [
            ("FirstName", "Ana"),
            ("LastName", "Silva"),
            ("Email", "ana@example.com"),
            ("Tier", "Gold"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let links: BTreeMap<String, String> = [
            ("SurveyURL", "https://sonde.example/s/SV_1?t=a&b=c"),
            ("OptOutURL", "https://sonde.example/optout/tok"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Fixture {
            definition: sample_definition(),
            data,
            metadata,
            contact,
            links,
            record: BTreeMap::from([
                ("Id".to_string(), "5003000000D8cuI".to_string()),
                ("CaseNumber".to_string(), "00001026".to_string()),
            ]),
        }
    }

    fn ctx(&self) -> PipeContext<'_> {
        PipeContext {
            definition: &self.definition,
            data: &self.data,
            metadata: Some(&self.metadata),
            contact: &self.contact,
            links: &self.links,
            record: &self.record,
        }
    }
}

#[test]
fn every_scheme_renders() {
    let f = Fixture::new();
    let ctx = f.ctx();
    let cases = [
        ("${e://Field/CaseId}", "500-42"),
        ("${e://Field/ResponseID}", "R_abcdefghijklmno"),
        ("${e://Field/RecipientFirstName}", "Ana"),
        ("${q://QID4/ChoiceGroup/SelectedChoices}", "Satisfied"),
        ("${q://QID4/SelectedChoicesRecode}", "4"),
        ("${q://QID5/ChoiceGroup/SelectedChoices}", "Phone, Other"),
        ("${q://QID5/ChoiceGroup/SelectedChoicesTextEntry}", "Phone, Fax <machine>"),
        ("${q://QID5/SelectedChoicesRecode}", "1, 99"),
        ("${q://QID5/ChoiceTextEntryValue/5}", "Fax <machine>"),
        ("${q://QID5/ChoiceGroup/UnselectedChoices}", "Email, Live chat, Community forum"),
        ("${q://QID3/ChoiceGroup/SelectedChoices}", "6"),
        ("${q://QID9/ChoiceTextEntryValue}", "Tom & Jerry"),
        ("${q://QID7/ChoiceNumericEntryValue/1}", "7.5"),
        ("${q://QID6/ChoiceGroup/SelectedAnswers/2}", "Agree"),
        ("${q://QID6/SelectedAnswerRecode/2}", "4"),
        ("${q://QID6/SelectedAnswerRecode/1}", ""),
        ("${q://QID11/ChoiceTextEntryValue}", ""),
        ("${q://QID1/QuestionText}", "Hello ${m://FirstName}, thank you for contacting Acme Support. This survey takes about two minutes."),
        ("${m://FirstName} ${m://LastName} <${m://Email}>", "Ana Silva <ana@example.com>"),
        ("${m://Field/Tier}", "Gold"),
        ("${l://SurveyURL}", "https://sonde.example/s/SV_1?t=a&b=c"),
        ("${l://OptOutURL}", "https://sonde.example/optout/tok"),
        ("${sf://CaseNumber}", "00001026"),
        ("${sf://casenumber}", "00001026"),
        ("${sf://Subject}", ""),
        ("${l://OptOutLink?d=Unsubscribe}", "https://sonde.example/optout/tok"),
        ("${rm://StartDate}", "2026-11-22T04:00:00Z"),
        ("${rm://Field/EndDate}|${e://Field/RecordedDate}", "2026-11-22T04:05:00Z|2026-11-22T04:05:01Z"),
        ("${e://Field/Duration}s ${e://Field/Finished} ${e://Field/DistributionChannel}", "300s 1 email"),
    ];
    for (text, expected) in cases {
        assert_eq!(render(text, &ctx), expected, "{text}");
    }
}

#[test]
fn html_rendering_escapes_values_but_not_the_authored_markup() {
    let f = Fixture::new();
    let ctx = f.ctx();
    assert_eq!(
        render_html("<b>You said:</b> ${q://QID9/ChoiceTextEntryValue}", &ctx),
        "<b>You said:</b> Tom &amp; Jerry"
    );
    assert_eq!(
        render_html("${l://OptOutLink?d=Unsubscribe}", &ctx),
        "<a href=\"https://sonde.example/optout/tok\">Unsubscribe</a>"
    );
    assert_eq!(
        render_html("${l://SurveyLink} or ${l://SurveyURL}", &ctx),
        "<a href=\"https://sonde.example/s/SV_1?t=a&amp;b=c\">https://sonde.example/s/SV_1?t=a&amp;b=c</a> or https://sonde.example/s/SV_1?t=a&amp;b=c"
    );
    assert_eq!(
        render("${l://SurveyLink}", &ctx),
        "https://sonde.example/s/SV_1?t=a&b=c"
    );
    assert_eq!(
        render_html("${q://QID5/ChoiceTextEntryValue/5}", &ctx),
        "Fax &lt;machine&gt;"
    );
}

#[test]
fn malformed_and_unknown_placeholders_render_empty_and_are_reported() {
    let f = Fixture::new();
    let ctx = f.ctx();
    assert_eq!(render("a ${x://Y} b", &ctx), "a  b");
    assert_eq!(render("a ${e://Field/Missing} b", &ctx), "a  b");
    assert_eq!(render("a ${e://Field/CaseId b", &ctx), "a  b");
    assert_eq!(render("${", &ctx), "");
    assert_eq!(render("${}${date://CurrentDate/SL}", &ctx), "");
    assert_eq!(render("cost: $5 {ok}", &ctx), "cost: $5 {ok}");

    let issues = lint("fine ${e://Field/X}\n  ${e://Field/Y");
    assert_eq!(issues.len(), 1);
    assert_eq!(
        (issues[0].line, issues[0].column, issues[0].offset),
        (2, 3, 22)
    );
    assert!(issues[0].message.contains("unterminated"));
    let issues = lint("${q://QID1/Nonsense} ${m://Shoe} ${l://Elsewhere} ${rm://Mood} ${zz://a}");
    assert_eq!(issues.len(), 5, "{issues:?}");
    let def = sample_definition();
    assert!(lint_with("${q://QID3/ChoiceGroup/SelectedChoices}", Some(&def)).is_empty());
    assert_eq!(
        lint_with("${q://QID30/ChoiceGroup/SelectedChoices}", Some(&def)).len(),
        1
    );
    assert_eq!(
        lint_with("${q://QID5/ChoiceTextEntryValue/9}", Some(&def)).len(),
        1
    );
}

proptest! {
    #[test]
    fn render_and_lint_never_panic(text in "(\\$\\{|\\}|://|/|[a-zA-Z]{0,6}|QID[0-9]|e|q|m|l|rm|\\?d=|\n|é|<|&| ){0,40}") {
        let f = Fixture::new();
        let ctx = f.ctx();
        let _ = render(&text, &ctx);
        let _ = render_html(&text, &ctx);
        let issues = lint_with(&text, Some(&f.definition));
        for issue in issues {
            prop_assert!(issue.offset < text.len());
        }
    }

    #[test]
    fn arbitrary_unicode_never_panics(text in "\\PC{0,60}") {
        let f = Fixture::new();
        let ctx = f.ctx();
        let _ = render(&text, &ctx);
        let _ = render_html(&text, &ctx);
        let _ = lint(&text);
        let _ = survey::html::sanitize(&text);
        let _ = survey::html::to_plain(&text);
    }

    #[test]
    fn sanitized_html_keeps_only_safe_tags_and_attributes(
        text in "(<|>|</|script|style|img|a|b|href|src|alt|on[a-z]{1,5}|=|\"|'|javascript:|&#106;|https://x|/| |x|&|;){0,50}"
    ) {
        let clean = survey::html::sanitize(&text).to_ascii_lowercase();
        prop_assert!(!clean.contains("<script") && !clean.contains("<style"), "{}", clean);
        for tag in clean.split('<').skip(1) {
            // Spaces inside quoted values are not attribute separators.
            let mut quoted = false;
            let tag: String = tag
                .split('>')
                .next()
                .unwrap_or("")
                .chars()
                .map(|c| {
                    if c == '"' {
                        quoted = !quoted;
                    }
                    if quoted && c == ' ' { '_' } else { c }
                })
                .collect();
            let mut parts = tag.split(' ');
            let name = parts.next().unwrap_or("").trim_start_matches('/');
            prop_assert!(
                ["b", "i", "u", "em", "strong", "br", "p", "span", "div", "ul", "ol", "li",
                 "h1", "h2", "h3", "h4", "a", "img"].contains(&name),
                "tag {} in {}", name, clean
            );
            for attr in parts {
                let (attr_name, value) = attr.split_once('=').unwrap_or((attr, ""));
                prop_assert!(["href", "src", "alt"].contains(&attr_name), "attribute {} in {}", attr_name, clean);
                if attr_name != "alt" {
                    let value = value.trim_matches('"');
                    prop_assert!(
                        value.starts_with("http://") || value.starts_with("https://") || value.starts_with("mailto:"),
                        "url {} in {}", value, clean
                    );
                }
            }
        }
    }
}

#[test]
fn safe_html_sanitizes_authored_text_then_pipes() {
    let def = sample_definition();
    let mut data = ResponseData::default();
    data.embedded_data
        .insert("CaseId".into(), "<b>42</b>".into());
    let ctx = PipeContext::new(&def, &data);
    assert_eq!(
        survey::piped::render_safe_html(
            "<p onclick=\"x()\">Case ${e://Field/CaseId}</p><script>alert(1)</script>",
            &ctx
        ),
        "<p>Case &lt;b&gt;42&lt;/b&gt;</p>"
    );
    assert_eq!(render("Hi ${m://FirstName}!", &ctx), "Hi !");
}
