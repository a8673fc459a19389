use super::*;
use chrono::TimeZone;

fn day(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, d, 12, 0, 0).unwrap()
}

fn sent(d: u32, survey: &str, list: Option<&str>, kind: MessageKind) -> Sent {
    Sent {
        at: day(d),
        survey_id: survey.into(),
        mailing_list_id: list.map(String::from),
        kind,
    }
}

fn invite(d: u32, survey: &str) -> Sent {
    sent(d, survey, None, MessageKind::Invitation)
}

fn rule(scope: Scope, max: Option<u32>, period: Option<u32>, gap: Option<u32>) -> FrequencyRule {
    FrequencyRule {
        scope,
        max_invitations: max,
        period_days: period,
        min_days_between: gap,
    }
}

fn planned<'a>(survey: &'a str, list: Option<&'a str>) -> Planned<'a> {
    Planned {
        survey_id: survey,
        mailing_list_id: list,
        kind: MessageKind::Invitation,
    }
}

fn cap(verdict: Verdict) -> Cap {
    match verdict {
        Verdict::Capped(cap) => *cap,
        Verdict::Allowed => panic!("expected a cap"),
    }
}

#[test]
fn at_most_n_in_a_rolling_window() {
    let rules = [rule(Scope::Organization, Some(2), Some(10), None)];
    let history = [invite(1, "SV_a"), invite(5, "SV_b")];
    // Day 10: both are younger than 10 days.
    let c = cap(check(&rules, &history, planned("SV_c", None), day(10)));
    assert_eq!(c.rule_index, 0);
    assert_eq!(
        c.allowed_from,
        day(11),
        "the day-1 invitation leaves the window"
    );
    assert_eq!(
        c.message,
        "at most 2 invitations in 10 days across the organization: 2 sent since 2026-02-28 12:00 UTC"
    );
    // Day 11 at noon the first is exactly 10 days old: it no longer counts.
    assert_eq!(
        check(&rules, &history, planned("SV_c", None), day(11)),
        Verdict::Allowed
    );
}

#[test]
fn at_least_d_days_between() {
    let rules = [rule(Scope::Organization, None, None, Some(7))];
    let history = [invite(1, "SV_a"), invite(4, "SV_b")];
    let c = cap(check(&rules, &history, planned("SV_c", None), day(10)));
    assert_eq!(c.allowed_from, day(11));
    assert_eq!(
        c.message,
        "at least 7 days between invitations across the organization: the last was sent 2026-03-04 12:00 UTC"
    );
    assert_eq!(
        check(&rules, &history, planned("SV_c", None), day(11)),
        Verdict::Allowed
    );
}

#[test]
fn both_limits_report_the_later_release() {
    let rules = [rule(Scope::Organization, Some(1), Some(3), Some(10))];
    let history = [invite(1, "SV_a")];
    let c = cap(check(&rules, &history, planned("SV_b", None), day(2)));
    assert_eq!(c.allowed_from, day(11));
    assert!(c.message.starts_with("at least 10 days"), "{}", c.message);
}

#[test]
fn reminders_and_thank_yous_neither_count_nor_are_capped() {
    let rules = [rule(Scope::Organization, Some(1), Some(30), Some(30))];
    let history = [
        sent(1, "SV_a", None, MessageKind::Reminder),
        sent(2, "SV_a", None, MessageKind::ThankYou),
    ];
    assert_eq!(
        check(&rules, &history, planned("SV_a", None), day(3)),
        Verdict::Allowed
    );
    let history = [invite(1, "SV_a")];
    for kind in [MessageKind::Reminder, MessageKind::ThankYou] {
        let p = Planned {
            kind,
            ..planned("SV_a", None)
        };
        assert_eq!(check(&rules, &history, p, day(2)), Verdict::Allowed);
    }
}

#[test]
fn a_scoped_rule_counts_and_stops_only_its_survey_or_list() {
    let survey_rule = rule(
        Scope::Survey {
            survey_id: "SV_a".into(),
        },
        Some(1),
        Some(30),
        None,
    );
    let list_rule = rule(
        Scope::MailingList {
            mailing_list_id: "ML_1".into(),
        },
        None,
        None,
        Some(14),
    );
    let rules = [survey_rule, list_rule];
    let history = [
        invite(1, "SV_a"),
        sent(2, "SV_b", Some("ML_1"), MessageKind::Invitation),
    ];
    // Another survey through another list: neither rule speaks.
    assert_eq!(
        check(&rules, &history, planned("SV_c", Some("ML_2")), day(5)),
        Verdict::Allowed
    );
    // SV_a again: the survey rule.
    assert_eq!(
        cap(check(&rules, &history, planned("SV_a", None), day(5))).rule_index,
        0
    );
    // Through ML_1: the list rule, counting only what went through ML_1.
    let c = cap(check(
        &rules,
        &history,
        planned("SV_c", Some("ML_1")),
        day(5),
    ));
    assert_eq!(c.rule_index, 1);
    assert_eq!(c.allowed_from, day(16));
    assert!(c.message.contains("through list ML_1"), "{}", c.message);
}

#[test]
fn an_invitation_from_a_clock_ahead_counts_as_just_sent() {
    let rules = [rule(Scope::Organization, None, None, Some(1))];
    let history = [invite(12, "SV_a")];
    assert!(matches!(
        check(&rules, &history, planned("SV_b", None), day(10)),
        Verdict::Capped(_)
    ));
}

#[test]
fn validation_names_each_field() {
    let problems = |r: FrequencyRule| -> Vec<String> {
        r.validate()
            .unwrap_err()
            .into_iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect()
    };
    assert_eq!(
        rule(Scope::Organization, Some(3), Some(30), Some(7)).validate(),
        Ok(())
    );
    assert_eq!(
        problems(rule(Scope::Organization, None, None, None)),
        vec!["maxInvitations: a rule needs maxInvitations (with periodDays), minDaysBetween, or both"]
    );
    assert_eq!(
        problems(rule(Scope::Organization, Some(0), Some(0), Some(0))),
        vec![
            "maxInvitations: must be at least 1",
            "periodDays: must be at least 1",
            "minDaysBetween: must be at least 1"
        ]
    );
    assert_eq!(
        problems(rule(Scope::Organization, Some(2), None, None)),
        vec!["periodDays: is needed with maxInvitations: the number of days the invitations are counted in"]
    );
    assert_eq!(
        problems(rule(
            Scope::Survey {
                survey_id: " ".into()
            },
            None,
            Some(3),
            Some(2)
        )),
        vec![
            "scope.surveyId: is empty",
            "periodDays: counts invitations for maxInvitations, which is not set"
        ]
    );
}

#[test]
fn rules_read_the_api_json() {
    let json = serde_json::json!({
        "scope": {"type": "mailing_list", "mailingListId": "ML_1"},
        "maxInvitations": 2, "periodDays": 30
    });
    let r: FrequencyRule = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(r.max_invitations, Some(2));
    assert_eq!(serde_json::to_value(&r).unwrap(), json);
}
