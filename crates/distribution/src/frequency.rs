//! Contact frequency rules: how often one person may be invited, so a busy organization does not
//! wear its contacts out. A rule counts invitations in a rolling window ("at most 2 in 30 days")
//! and/or sets a gap ("at least 7 days between invitations"), across the organization or for one
//! survey or one mailing list.
//!
//! Only invitations count and only invitations are capped: a reminder or a thank-you belongs to
//! an invitation already allowed, and stopping it would leave that invitation half done.
//!
//! Times are given by the caller (no clock here). The window is rolling: an invitation counts
//! while it is less than `period_days` × 24 hours old, so "2 in 30 days" never allows a third
//! within any 30 days. An invitation recorded later than `now` (another node's clock ahead of
//! this one's) counts as just sent.

use chrono::{DateTime, Duration, Utc};
use directory::FieldError;
use serde::{Deserialize, Serialize};

/// Which invitations a rule counts, and which new ones it can stop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Scope {
    /// Every invitation to the contact.
    Organization,
    /// Invitations to one survey.
    #[serde(rename_all = "camelCase")]
    Survey { survey_id: String },
    /// Invitations sent through one mailing list.
    #[serde(rename_all = "camelCase")]
    MailingList { mailing_list_id: String },
}

/// One frequency rule. At least one of the two limits is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FrequencyRule {
    pub scope: Scope,
    /// At most this many invitations within `period_days`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_invitations: Option<u32>,
    /// The rolling window `max_invitations` counts in, in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_days: Option<u32>,
    /// At least this many days between two invitations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_days_between: Option<u32>,
}

/// What a message to a contact was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Invitation,
    Reminder,
    ThankYou,
}

/// A message sent to the contact before (or about to be sent: the new one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub at: DateTime<Utc>,
    pub survey_id: String,
    /// The list the distribution went to; `None` for chosen contacts.
    pub mailing_list_id: Option<String>,
    pub kind: MessageKind,
}

/// A message about to be sent, judged against the contact's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned<'a> {
    pub survey_id: &'a str,
    pub mailing_list_id: Option<&'a str>,
    pub kind: MessageKind,
}

/// The rule that stops a message, and why in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Cap {
    /// The rule's position in the list given to [`check`].
    pub rule_index: usize,
    pub rule: FrequencyRule,
    /// When this rule would allow the invitation.
    #[schema(value_type = String, format = DateTime)]
    pub allowed_from: DateTime<Utc>,
    /// "at most 2 invitations in 30 days across the organization: 2 since 2026-…"
    pub message: String,
}

/// Whether a message may go out under the frequency rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    Capped(Box<Cap>),
}

impl FrequencyRule {
    /// Every problem with the rule, each naming its field (`maxInvitations`, `scope.surveyId`).
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut problems = Vec::new();
        let blank = |id: &str| id.trim().is_empty();
        match &self.scope {
            Scope::Survey { survey_id } if blank(survey_id) => {
                problems.push(FieldError::new("scope.surveyId", "is empty"))
            }
            Scope::MailingList { mailing_list_id } if blank(mailing_list_id) => {
                problems.push(FieldError::new("scope.mailingListId", "is empty"))
            }
            _ => {}
        }
        if self.max_invitations.is_none() && self.min_days_between.is_none() {
            problems.push(FieldError::new(
                "maxInvitations",
                "a rule needs maxInvitations (with periodDays), minDaysBetween, or both",
            ));
        }
        for (field, value) in [
            ("maxInvitations", self.max_invitations),
            ("periodDays", self.period_days),
            ("minDaysBetween", self.min_days_between),
        ] {
            if value == Some(0) {
                problems.push(FieldError::new(field, "must be at least 1"));
            }
        }
        match (self.max_invitations, self.period_days) {
            (Some(_), None) => problems.push(FieldError::new(
                "periodDays",
                "is needed with maxInvitations: the number of days the invitations are counted in",
            )),
            (None, Some(_)) => problems.push(FieldError::new(
                "periodDays",
                "counts invitations for maxInvitations, which is not set",
            )),
            _ => {}
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Whether this rule speaks about a message for this survey and list.
    fn covers(&self, survey_id: &str, mailing_list_id: Option<&str>) -> bool {
        match &self.scope {
            Scope::Organization => true,
            Scope::Survey { survey_id: s } => s == survey_id,
            Scope::MailingList { mailing_list_id: l } => Some(l.as_str()) == mailing_list_id,
        }
    }

    fn scope_words(&self) -> String {
        match &self.scope {
            Scope::Organization => "across the organization".into(),
            Scope::Survey { survey_id } => format!("for survey {survey_id}"),
            Scope::MailingList { mailing_list_id } => format!("through list {mailing_list_id}"),
        }
    }

    /// Why this rule stops an invitation now, given the invitations it counts.
    fn cap(
        &self,
        counted: &[DateTime<Utc>],
        now: DateTime<Utc>,
    ) -> Option<(DateTime<Utc>, String)> {
        let days = |n: u32| Duration::days(i64::from(n));
        let plural = |n: u32, one: &str| {
            if n == 1 {
                one.to_string()
            } else {
                format!("{one}s")
            }
        };
        let mut worst: Option<(DateTime<Utc>, String)> = None;
        if let (Some(max), Some(period)) = (self.max_invitations, self.period_days) {
            let window_start = now - days(period);
            let mut within: Vec<DateTime<Utc>> = counted
                .iter()
                .copied()
                .filter(|t| *t > window_start)
                .collect();
            if within.len() >= max as usize {
                within.sort_unstable();
                // Allowed again once enough of them have left the window.
                let leaving = within[within.len() - max as usize];
                let from = leaving + days(period);
                let message = format!(
                    "at most {max} {} in {period} {} {}: {} sent since {}",
                    plural(max, "invitation"),
                    plural(period, "day"),
                    self.scope_words(),
                    within.len(),
                    window_start.format("%Y-%m-%d %H:%M UTC"),
                );
                worst = Some((from, message));
            }
        }
        if let Some(gap) = self.min_days_between {
            if let Some(last) = counted.iter().max().copied() {
                let from = last + days(gap);
                if from > now && worst.as_ref().is_none_or(|(w, _)| from > *w) {
                    let message = format!(
                        "at least {gap} {} between invitations {}: the last was sent {}",
                        plural(gap, "day"),
                        self.scope_words(),
                        last.format("%Y-%m-%d %H:%M UTC"),
                    );
                    worst = Some((from, message));
                }
            }
        }
        worst
    }
}

/// Whether `planned` may go to a contact with this history now. Reminders and thank-yous are
/// always allowed; an invitation is capped by the first rule (in the order given) that stops it.
pub fn check(
    rules: &[FrequencyRule],
    history: &[Sent],
    planned: Planned,
    now: DateTime<Utc>,
) -> Verdict {
    if planned.kind != MessageKind::Invitation {
        return Verdict::Allowed;
    }
    for (rule_index, rule) in rules.iter().enumerate() {
        if !rule.covers(planned.survey_id, planned.mailing_list_id) {
            continue;
        }
        let counted: Vec<DateTime<Utc>> = history
            .iter()
            .filter(|s| s.kind == MessageKind::Invitation)
            .filter(|s| rule.covers(&s.survey_id, s.mailing_list_id.as_deref()))
            .map(|s| s.at)
            .collect();
        if let Some((allowed_from, message)) = rule.cap(&counted, now) {
            return Verdict::Capped(Box::new(Cap {
                rule_index,
                rule: rule.clone(),
                allowed_from,
                message,
            }));
        }
    }
    Verdict::Allowed
}

#[cfg(test)]
mod tests;
