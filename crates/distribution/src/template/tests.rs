use super::*;
use std::collections::BTreeMap;

pub(crate) fn email() -> EmailTemplate {
    EmailTemplate {
        name: "Invitation".into(),
        subject: "${m://FirstName}, a minute for ${e://Field/SurveyName}?".into(),
        from_name: "Acme Support".into(),
        reply_to: Some("help@acme.example".into()),
        body: "<p>Hello ${m://FirstName},</p><p>${l://SurveyLink?d=Take the survey}</p>\
               <p><a href=\"${l://OptOutURL}\">Unsubscribe</a></p>"
            .into(),
        default_language: "EN".into(),
        variants: BTreeMap::from([
            (
                "fr".to_string(),
                EmailVariant {
                    subject: "${m://FirstName}, une minute ?".into(),
                    body: "<p>Bonjour ${m://FirstName}</p><p>${l://SurveyURL}</p>".into(),
                },
            ),
            (
                "PT-BR".to_string(),
                EmailVariant {
                    subject: "Olá".into(),
                    body: "${l://SurveyLink}".into(),
                },
            ),
        ]),
    }
}

fn sms() -> SmsTemplate {
    SmsTemplate {
        name: "Text invitation".into(),
        body: "Hi ${m://FirstName}, tell us how we did: ${l://SurveyURL}".into(),
        default_language: "EN".into(),
        variants: BTreeMap::from([(
            "DE".to_string(),
            SmsVariant {
                body: "Hallo ${m://FirstName}: ${l://SurveyLink}".into(),
            },
        )]),
    }
}

fn fields(result: Result<(), Vec<FieldError>>) -> Vec<(String, String)> {
    result
        .unwrap_err()
        .into_iter()
        .map(|e| (e.field, e.message))
        .collect()
}

#[test]
fn a_good_template_passes() {
    assert_eq!(email().validate(), Ok(()));
    assert_eq!(sms().validate(), Ok(()));
}

#[test]
fn the_survey_link_must_reach_the_recipient() {
    let mut t = email();
    t.body = "<p>No link here, only ${l://OptOutLink}</p>".into();
    t.variants.get_mut("fr").unwrap().body = "<!-- ${l://SurveyLink} -->".into();
    t.variants.get_mut("PT-BR").unwrap().body = "<a href=\"${l://SurveyURL}\">Responder</a>".into();
    let found = fields(t.validate());
    let names: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(names, vec!["body", "variants.fr.body"], "{found:?}");
    assert!(found[0].1.contains("${l://SurveyLink} or ${l://SurveyURL}"));

    let mut s = sms();
    s.body = "Hi, reply to us".into();
    s.variants.get_mut("DE").unwrap().body = "${l://SurveyURL}".into();
    assert_eq!(fields(s.validate())[0].0, "body");
}

#[test]
fn each_bad_field_is_named() {
    let mut t = email();
    t.name = " ".into();
    t.subject = String::new();
    t.reply_to = Some("help.acme.example".into());
    t.body.push_str("${l://Nowhere} ${e://Field/Open");
    t.default_language = "English".into();
    t.variants.insert(
        "zz".into(),
        EmailVariant {
            subject: "x".into(),
            body: "${l://SurveyURL}".into(),
        },
    );
    let found = fields(t.validate());
    let names: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "name",
            "replyTo",
            "subject",
            "body",
            "body",
            "defaultLanguage",
            "variants.zz"
        ],
        "{found:?}"
    );
    assert_eq!(found[2].1, "is empty");
    assert!(found[1].1.contains("no @"), "{found:?}");
    assert!(
        found[3].1.contains("unknown link ${l://Nowhere}"),
        "{found:?}"
    );
    assert!(found[4].1.contains("unterminated"), "{found:?}");
    assert!(found[5].1.contains("not a language code"), "{found:?}");
    assert_eq!(found[6].1, "ZZ is not a language ISO 639 knows");
}

#[test]
fn a_variant_cannot_repeat_the_default_or_another_variant() {
    let mut t = sms();
    t.variants.insert(
        "en".into(),
        SmsVariant {
            body: "${l://SurveyURL}".into(),
        },
    );
    t.variants.insert(
        "de".into(),
        SmsVariant {
            body: "${l://SurveyURL}".into(),
        },
    );
    let found = fields(t.validate());
    assert_eq!(
        found,
        vec![
            ("variants.de".to_string(), "DE is given twice".to_string()),
            (
                "variants.en".to_string(),
                "EN is the default language: its message is the template's own".to_string()
            ),
        ]
    );
}

#[test]
fn an_sms_longer_than_a_gateway_takes_is_refused() {
    let mut t = sms();
    t.body = format!("{} ${{l://SurveyURL}}", "a".repeat(1_600));
    assert_eq!(fields(t.validate())[0].0, "body");
}

#[test]
fn a_contact_gets_their_language_then_its_primary_then_the_default() {
    let t = email();
    let pick = |l: Option<&str>| t.pick(l).language;
    assert_eq!(pick(Some("FR")), "fr");
    assert_eq!(pick(Some("fr-CA")), "fr");
    assert_eq!(pick(Some("pt_br")), "PT-BR");
    assert_eq!(pick(Some("PT")), "EN", "PT-BR does not stand in for PT");
    assert_eq!(pick(Some("de")), "EN");
    assert_eq!(pick(Some("en-GB")), "EN");
    assert_eq!(pick(Some("not a code")), "EN");
    assert_eq!(pick(None), "EN");
    assert_eq!(t.pick(Some("fr")).subject, "${m://FirstName}, une minute ?");
    assert_eq!(sms().pick(Some("de-AT")).language, "DE");
}

fn context<'a>(
    survey: &'a SurveyDefinition,
    contact: &'a BTreeMap<String, String>,
    embedded: &'a BTreeMap<String, String>,
) -> MessageContext<'a> {
    MessageContext {
        survey,
        survey_name: "Support follow-up",
        contact,
        embedded_data: embedded,
        survey_url: "https://sonde.example/s/SV_1?l=tok&x=1",
        opt_out_url: "https://sonde.example/optout/OPT",
        record: &survey::piped::NO_RECORD,
    }
}

fn contact(first: &str, language: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("FirstName".to_string(), first.to_string()),
        ("Language".to_string(), language.to_string()),
    ])
}

#[test]
fn an_email_renders_escaped_sanitized_with_a_text_part() {
    let survey = empty_survey();
    let person = contact("Ana <b>\"&", "EN");
    let embedded = BTreeMap::new();
    let mut t = email();
    t.body
        .push_str("<script>alert(1)</script><img src=x onerror=alert(1)>");
    let out = t.render(&context(&survey, &person, &embedded));
    assert_eq!(out.language, "EN");
    assert_eq!(out.subject, "Ana <b>\"&, a minute for Support follow-up?");
    assert_eq!(
        out.html,
        "<p>Hello Ana &lt;b&gt;&quot;&amp;,</p>\
         <p><a href=\"https://sonde.example/s/SV_1?l=tok&amp;x=1\">Take the survey</a></p>\
         <p><a href=\"https://sonde.example/optout/OPT\">Unsubscribe</a></p><img>"
    );
    assert_eq!(
        out.text,
        "Hello Ana <b>\"&,\n\nTake the survey (https://sonde.example/s/SV_1?l=tok&x=1)\n\n\
         Unsubscribe (https://sonde.example/optout/OPT)"
    );
}

#[test]
fn survey_link_is_a_link_in_html_and_the_url_in_text() {
    let survey = empty_survey();
    let person = contact("João", "pt-BR");
    let embedded = BTreeMap::from([("Tier".to_string(), "Gold".to_string())]);
    let mut t = email();
    t.variants.get_mut("PT-BR").unwrap().body =
        "${l://SurveyLink} ${e://Field/Tier} ${l://SurveyURL}".into();
    let out = t.render(&context(&survey, &person, &embedded));
    assert_eq!(out.language, "PT-BR");
    let url = "https://sonde.example/s/SV_1?l=tok&amp;x=1";
    assert_eq!(out.html, format!("<a href=\"{url}\">{url}</a> Gold {url}"));
    let url = "https://sonde.example/s/SV_1?l=tok&x=1";
    assert_eq!(out.text, format!("{url} Gold {url}"));
}

#[test]
fn a_subject_stays_on_one_line() {
    let survey = empty_survey();
    let person = contact("Ana\r\nBcc: x@evil.example", "EN");
    let embedded = BTreeMap::new();
    let out = email().render(&context(&survey, &person, &embedded));
    assert_eq!(
        out.subject,
        "Ana Bcc: x@evil.example, a minute for Support follow-up?"
    );
}

#[test]
fn an_sms_renders_plain_with_its_cost() {
    let survey = empty_survey();
    let person = contact("Zoë", "de");
    let embedded = BTreeMap::new();
    let out = sms().render(&context(&survey, &person, &embedded));
    assert_eq!(out.language, "DE");
    assert_eq!(
        out.body,
        "Hallo Zoë: https://sonde.example/s/SV_1?l=tok&x=1"
    );
    assert_eq!(out.size.encoding, crate::segments::Encoding::Ucs2);
    assert_eq!(out.size.segments, 1);
}

#[test]
fn templates_read_and_write_the_api_json() {
    let json = serde_json::json!({
        "name": "Invitation", "subject": "Hi", "fromName": "Acme", "replyTo": "a@b.example",
        "body": "${l://SurveyLink}", "defaultLanguage": "EN",
        "variants": {"FR": {"subject": "Salut", "body": "${l://SurveyURL}"}}
    });
    let t: EmailTemplate = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(t.validate(), Ok(()));
    assert_eq!(serde_json::to_value(&t).unwrap(), json);
    let typo = serde_json::json!({"name": "x", "subject": "s", "htmlBody": "b", "body": "b"});
    let e = serde_json::from_value::<EmailTemplate>(typo).unwrap_err();
    assert!(e.to_string().contains("htmlBody"), "{e}");
}
