//! The audit log: one event per administrative act — who (user id and email at the time), in
//! which organization, what (an [`Action`]), to what (a [`Subject`] with a human label), when,
//! and a small JSON detail. [`record`] writes it inside the act's own transaction, so an act
//! that fails records nothing and one that commits is never unrecorded. Admins read their
//! organization's events, newest first ([`Sonde::audit_events`]).
//!
//! Recording a new kind of act: add one line to `actions!` below and call [`record`] in the
//! transaction that does it.

use crate::responses::{decode_page_cursor, encode_page_cursor, rfc3339};
use crate::{Actor, Error, FieldProblem, Result, Role, Sonde};
use serde_json::Value;
use store::audit::{AuditEventRow, AuditFilter};
use store::{Any, Store, Transaction};

/// Defines [`Action`] from one line per act: the variant, its name in the log
/// (`subject_kind.past_tense`) and what the log says it did.
macro_rules! actions {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, $says:literal;)*) => {
        /// An administrative act the audit log records.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($(#[$doc])* $variant,)*
        }

        impl Action {
            /// Every action, in the order the log's filter offers them.
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            /// The name stored and shown in the API, e.g. `survey.purged`.
            pub fn as_str(self) -> &'static str {
                match self { $(Action::$variant => $name,)* }
            }

            /// What the actor did, as the log's page says it ("purged survey").
            pub fn says(self) -> &'static str {
                match self { $(Action::$variant => $says,)* }
            }
        }
    };
}

actions! {
    /// Hidden from lists and closed to respondents; its responses kept.
    SurveyArchived = "survey.archived", "archived survey";
    SurveyRestored = "survey.restored", "restored survey";
    /// Deleted for good with its responses and workflows.
    SurveyPurged = "survey.purged", "purged survey";
    ContactDeleted = "contact.deleted", "deleted contact";
    MailingListDeleted = "mailing_list.deleted", "deleted mailing list";
    ResponseDeleted = "response.deleted", "deleted response";
    ApiTokenRevoked = "api_token.revoked", "revoked API token";
    /// An invitation link made (or made again, replacing the pending one).
    InvitationCreated = "invitation.created", "invited";
    InvitationRevoked = "invitation.revoked", "revoked the invitation of";
    /// The invitee chose a password and became a user.
    InvitationAccepted = "invitation.accepted", "accepted the invitation of";
    UserRoleChanged = "user.role_changed", "changed the role of";
    /// Sessions ended, API tokens revoked, signing in refused.
    UserDeactivated = "user.deactivated", "deactivated user";
    UserReactivated = "user.reactivated", "reactivated user";
    /// Every link of the organization to a Salesforce org revoked from the Salesforce panel.
    SalesforceOrgDisconnected = "salesforce_org.disconnected", "disconnected the Salesforce org";
}

impl Action {
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.as_str() == name)
    }

    /// The kind of thing it acts on: the part of its name before the dot (`survey`).
    pub fn subject_kind(self) -> &'static str {
        self.as_str()
            .split_once('.')
            .map_or(self.as_str(), |(kind, _)| kind)
    }
}

/// What an act was done to: its id and what people call it (a survey's name, a contact's
/// email), kept because the thing itself may be gone.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub id: &'a str,
    pub label: &'a str,
}

impl<'a> Subject<'a> {
    pub fn new(id: &'a str, label: &'a str) -> Self {
        Self { id, label }
    }
}

/// Who acted: a signed-in user, or the operator at the command line (for an organization).
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    User(&'a Actor),
    CommandLine { org_id: &'a str },
}

impl<'a> From<&'a Actor> for By<'a> {
    fn from(actor: &'a Actor) -> Self {
        By::User(actor)
    }
}

/// How the log names the operator acting from the command line.
pub const COMMAND_LINE: &str = "the command line";

/// Records an act inside the transaction that does it. `detail` is a JSON object (anything
/// else is kept under `"value"`).
pub async fn record<'a>(
    tx: &mut Transaction<'_, Any>,
    by: impl Into<By<'a>>,
    action: Action,
    subject: Subject<'_>,
    detail: Value,
) -> Result<()> {
    let (org_id, actor_id, actor_email) = match by.into() {
        By::User(a) => (a.org_id.as_str(), Some(a.user_id.clone()), a.email.clone()),
        By::CommandLine { org_id } => (org_id, None, COMMAND_LINE.to_string()),
    };
    let detail = match detail {
        Value::Object(_) => detail,
        Value::Null => Value::Object(Default::default()),
        other => serde_json::json!({ "value": other }),
    };
    Store::insert_audit_event(
        tx,
        &AuditEventRow {
            id: store::ids::audit_event(),
            org_id: org_id.to_string(),
            actor_id,
            actor_email,
            action: action.as_str().to_string(),
            subject_kind: action.subject_kind().to_string(),
            subject_id: subject.id.to_string(),
            subject_label: subject.label.to_string(),
            detail: detail.to_string(),
            created_at: store::now_ms(),
        },
    )
    .await?;
    Ok(())
}

/// Who did it, as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditActor {
    /// None when the operator acted from the command line.
    pub user_id: Option<String>,
    /// Their email when they acted.
    pub email: String,
}

/// What it was done to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct AuditSubject {
    /// survey, contact, mailing_list, response, api_token, ...
    pub kind: String,
    pub id: String,
    /// What it was called then: a survey's name, a contact's email, a token's name.
    pub label: String,
}

/// One recorded act.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub id: String,
    /// When, RFC 3339.
    pub at: String,
    pub actor: AuditActor,
    /// survey.archived, survey.restored, survey.purged, contact.deleted,
    /// mailing_list.deleted, response.deleted, api_token.revoked, ...
    pub action: String,
    pub subject: AuditSubject,
    /// Facts of the act, e.g. `{"responses": 12}` for a purge.
    #[schema(value_type = Object)]
    pub detail: Value,
}

impl AuditEvent {
    fn from_row(r: AuditEventRow) -> Self {
        Self {
            at: rfc3339(r.created_at),
            actor: AuditActor {
                user_id: r.actor_id,
                email: r.actor_email,
            },
            action: r.action,
            subject: AuditSubject {
                kind: r.subject_kind,
                id: r.subject_id,
                label: r.subject_label,
            },
            detail: serde_json::from_str(&r.detail).unwrap_or(Value::Null),
            id: r.id,
        }
    }

    /// The action as a known one (None for one this version does not know).
    pub fn known_action(&self) -> Option<Action> {
        Action::parse(&self.action)
    }
}

/// Which events to list; all fields optional.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery<'a> {
    pub action: Option<&'a str>,
    pub subject_kind: Option<&'a str>,
    pub subject_id: Option<&'a str>,
    /// The `next` of the previous page.
    pub after: Option<&'a str>,
    pub limit: usize,
}

/// A filter's value, when one is given.
fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// The most events one page holds.
pub const MAX_PAGE: usize = 500;

fn unknown(field: &str, value: &str, known: Vec<&str>) -> Error {
    Error::invalid_fields(
        format!("{field}: unknown value {value:?}"),
        vec![FieldProblem {
            field: field.into(),
            message: format!("{value:?} is not one of {}", known.join(", ")),
        }],
    )
}

impl Sonde {
    /// A page of the organization's audit log, newest first, and the cursor of the next page
    /// (admins only).
    pub async fn audit_events(
        &self,
        actor: &Actor,
        q: &AuditQuery<'_>,
    ) -> Result<(Vec<AuditEvent>, Option<String>)> {
        actor.require(Role::Admin)?;
        if let Some(a) = given(q.action) {
            if Action::parse(a).is_none() {
                return Err(unknown(
                    "action",
                    a,
                    Action::ALL.iter().map(|a| a.as_str()).collect(),
                ));
            }
        }
        if let Some(k) = given(q.subject_kind) {
            if !Action::ALL.iter().any(|a| a.subject_kind() == k) {
                let mut kinds: Vec<&str> = Action::ALL.iter().map(|a| a.subject_kind()).collect();
                kinds.sort_unstable();
                kinds.dedup();
                return Err(unknown("subjectKind", k, kinds));
            }
        }
        let limit = q.limit.clamp(1, MAX_PAGE);
        let rows = self
            .store
            .audit_events(
                &actor.org_id,
                &AuditFilter {
                    action: given(q.action).map(str::to_string),
                    subject_kind: given(q.subject_kind).map(str::to_string),
                    subject_id: given(q.subject_id).map(str::to_string),
                    before: given(q.after).map(decode_page_cursor).transpose()?,
                    // One more than asked, to know whether there is a next page.
                    limit: limit as i64 + 1,
                },
            )
            .await?;
        let more = rows.len() > limit;
        let rows: Vec<AuditEventRow> = rows.into_iter().take(limit).collect();
        let next = match rows.last() {
            Some(last) if more => Some(encode_page_cursor(last.created_at, &last.id)),
            _ => None,
        };
        Ok((rows.into_iter().map(AuditEvent::from_row).collect(), next))
    }
}

#[cfg(test)]
mod tests {
    use super::Action;
    use std::collections::HashSet;

    /// A new action's name must read `subject_kind.past_tense` and be its own: the log files
    /// events under the kind and filters by the name.
    #[test]
    fn every_action_is_named_kind_dot_what_happened_once() {
        let mut names = HashSet::new();
        for a in Action::ALL {
            let name = a.as_str();
            assert!(names.insert(name), "{name} twice");
            let (kind, verb) = name.split_once('.').expect("kind.verb");
            assert_eq!(a.subject_kind(), kind);
            assert!(!verb.is_empty() && !verb.contains('.'), "{name}");
            assert!(name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.'));
            assert_eq!(Action::parse(name), Some(*a));
            assert!(!a.says().is_empty());
        }
        assert_eq!(Action::parse("survey.eaten"), None);
    }
}
