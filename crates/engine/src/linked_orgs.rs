//! Which connection a sign-in at Salesforce belongs to (one per Sonde user, Salesforce org and
//! Salesforce user, revived by relinking), how links are labelled, what the org says about
//! itself, and the connection check that makes a real API call before judging workflows.

use crate::connections::SalesforceConnection;
use crate::workflows::{Task, Workflow};
use crate::{Actor, Error, Result, Sonde};
use salesforce::Connection;
use serde::Serialize;
use serde_json::Value;
use store::connections::ConnectionRow;

/// The Salesforce error codes that mean "this user may not use the API at all".
const API_DISABLED_CODES: &[&str] = &["API_CURRENTLY_DISABLED", "API_DISABLED_FOR_ORG"];

/// How a link is shown wherever one is picked: org name, environment and username.
pub(crate) fn label(row: &ConnectionRow) -> String {
    let org = match (&row.sf_org_name, &row.sf_org_id) {
        (Some(name), _) if !name.trim().is_empty() => name.trim().to_string(),
        (_, Some(id)) => format!("Org {id}"),
        _ => "Salesforce org".to_string(),
    };
    let user = row.username.as_deref().unwrap_or("(user unknown)");
    match org_environment(row) {
        Some(env) => format!("{org} · {env} · {user}"),
        None => format!("{org} · {user}"),
    }
}

/// Production or sandbox: what the org said, else what the login URL implies (a My Domain
/// login says nothing until the org has been asked).
pub(crate) fn org_environment(row: &ConnectionRow) -> Option<&'static str> {
    match (row.sf_is_sandbox, row.environment.as_str()) {
        (Some(true), _) | (None, "sandbox") => Some("sandbox"),
        (Some(false), _) | (None, "production") => Some("production"),
        _ => None,
    }
}

/// The existing link a new sign-in as this Salesforce user belongs to, if any: a live one
/// first (the oldest, should an older version have made several), else the link most
/// recently disconnected, which relinking revives so its workflows work again.
pub(crate) fn same_identity<'a>(
    candidates: &'a [ConnectionRow],
    signing_in: &str,
) -> Option<&'a ConnectionRow> {
    let others = || candidates.iter().filter(|c| c.id != signing_in);
    others()
        .find(|c| c.status != "revoked")
        .or_else(|| others().max_by_key(|c| c.updated_at))
}

/// What Salesforce answered a call it refused, without the client's wrapping.
fn salesforce_message(e: &salesforce::Error) -> String {
    match e {
        salesforce::Error::Permanent { message, .. }
        | salesforce::Error::Auth { message, .. }
        | salesforce::Error::RateLimited { message }
        | salesforce::Error::Retryable { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// The org's own name and sandbox flag.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OrgFacts {
    pub name: Option<String>,
    pub is_sandbox: Option<bool>,
}

/// The result of one real API call made as the linked user.
pub(crate) enum ApiProbe {
    /// The API answered; the org described itself if the user may read it.
    Open(OrgFacts),
    /// Salesforce refused: what it said, in its own words.
    Refused(ApiRefusal),
}

/// Asks the org about itself: the call that proves API access (userinfo does not need it)
/// and tells the org's name. Refusals other than "no API" still prove the API serves the user.
pub(crate) async fn probe_api(conn: &Connection) -> ApiProbe {
    let soql = "SELECT Id, Name, IsSandbox FROM Organization LIMIT 1";
    match conn
        .query_page::<Value>(soql, salesforce::query::QueryOptions::default())
        .await
    {
        Ok(page) => {
            let org = page.records.first();
            ApiProbe::Open(OrgFacts {
                name: org.and_then(|o| o["Name"].as_str()).map(str::to_string),
                is_sandbox: org.and_then(|o| o["IsSandbox"].as_bool()),
            })
        }
        Err(e) if e.code().is_some_and(|c| API_DISABLED_CODES.contains(&c)) => {
            ApiProbe::Refused(ApiRefusal {
                error_code: e.code().map(str::to_string),
                message: salesforce_message(&e),
                hint: Some("The linked Salesforce user may not use the API: its profile or a permission set needs \"API Enabled\". Link a user who has it, or ask your Salesforce admin.".into()),
            })
        }
        Err(e @ salesforce::Error::Permanent { .. }) => {
            tracing::debug!(error = %e, "the linked user cannot read Organization; the API answered");
            ApiProbe::Open(OrgFacts {
                name: None,
                is_sandbox: None,
            })
        }
        Err(e) => ApiProbe::Refused(ApiRefusal {
            error_code: e.code().map(str::to_string),
            message: if e.needs_reconnect() {
                format!("reconnect this org: {}", salesforce_message(&e))
            } else {
                e.to_string()
            },
            hint: None,
        }),
    }
}

/// The end of a successful sign-in at Salesforce.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Linked {
    pub connection: SalesforceConnection,
    /// An existing link took the new tokens, keeping its id so its workflows write again: a
    /// reconnect, or a sign-in as an org and Salesforce user already linked (revoked or not).
    pub relinked: bool,
}

/// A workflow, by name, that writes through a link.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowUsingLink {
    pub id: String,
    pub name: String,
    pub survey_id: String,
}

/// The answer to a disconnect: the link as it is now and the enabled workflows whose runs
/// fail until the same Salesforce user links the org again.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Disconnected {
    pub connection: SalesforceConnection,
    pub enabled_workflows: Vec<WorkflowUsingLink>,
    pub message: String,
}

/// What a connection check found: whether the linked user may use the API (from a real
/// call), and per workflow writing through the link whether that user may do what it does.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionCheck {
    pub connection_id: String,
    pub label: String,
    pub api_access: bool,
    /// When Salesforce refused the call: its error code (`API_CURRENTLY_DISABLED`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// When Salesforce refused the call: what it said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When Salesforce refused the call: what to do about it, when Sonde knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The linked user, once the API answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<CheckedUser>,
    /// The org as it describes itself, once the API answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<CheckedOrg>,
    /// API access, and every workflow's rights.
    pub ok: bool,
    pub workflows: Vec<WorkflowCheck>,
}

/// Salesforce's answer to a call it refused.
#[derive(Debug, Clone)]
pub(crate) struct ApiRefusal {
    pub error_code: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckedUser {
    pub ok: bool,
    pub username: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckedOrg {
    pub name: Option<String>,
    /// production or sandbox (null for a My Domain login whose org has not said).
    pub environment: Option<&'static str>,
}

/// One workflow's rights through the link, named as when it is saved.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowCheck {
    pub workflow_id: String,
    pub name: String,
    pub ok: bool,
    pub problems: Vec<crate::FieldProblem>,
    pub warnings: Vec<crate::FieldProblem>,
}

impl Sonde {
    /// The caller's own workflows with a Salesforce task bound to `connection_id`.
    pub(crate) async fn workflows_using(
        &self,
        actor: &Actor,
        connection_id: &str,
    ) -> Result<Vec<Workflow>> {
        let mut out = Vec::new();
        // Archived surveys' too: restored, they would write through the link again.
        let mut surveys = self.surveys(actor).await?;
        surveys.extend(self.archived_surveys(actor).await?);
        for s in surveys {
            for w in self.store.workflows_of_survey(&actor.org_id, &s.id).await? {
                if w.owner_id != actor.user_id {
                    continue;
                }
                let w = Workflow::from_row(&w)?;
                let uses = w
                    .tasks
                    .iter()
                    .any(|t| matches!(t, Task::Salesforce(s) if s.connection_id == connection_id));
                if uses {
                    out.push(w);
                }
            }
        }
        Ok(out)
    }

    /// The enabled workflows that stop working if this link is disconnected: the UI names
    /// them before asking, the API answers them with the disconnect.
    pub async fn enabled_workflows_using(
        &self,
        actor: &Actor,
        connection_id: &str,
    ) -> Result<Vec<WorkflowUsingLink>> {
        self.own_connection(actor, connection_id).await?;
        Ok(self
            .workflows_using(actor, connection_id)
            .await?
            .into_iter()
            .filter(|w| w.enabled)
            .map(|w| WorkflowUsingLink {
                id: w.id,
                name: w.name,
                survey_id: w.survey_id,
            })
            .collect())
    }

    /// Decides which row a completed sign-in's tokens go to. `row` is the link being signed
    /// in (new and pending, or a reconnect of an existing one). Returns the row to store the
    /// tokens in and whether it is an existing link other than `row`.
    pub(crate) async fn link_target(
        &self,
        row: &ConnectionRow,
        sf_org_id: Option<&str>,
        sf_user_id: Option<&str>,
    ) -> Result<(ConnectionRow, bool)> {
        if row.status != "pending" {
            // A reconnect must be the same Salesforce user of the same org: its workflows
            // were checked against that user's rights and write as that user.
            let same = |known: &Option<String>, now: Option<&str>| match (known, now) {
                (Some(k), Some(n)) => k == n,
                _ => true,
            };
            if !same(&row.sf_org_id, sf_org_id) || !same(&row.sf_user_id, sf_user_id) {
                return Err(Error::invalid(format!(
                    "this connection is for {} and you signed in to Salesforce as someone else; sign in as that user to reconnect it, or link the other user as a new org",
                    label(row)
                )));
            }
            return Ok((row.clone(), false));
        }
        let existing = match (sf_org_id, sf_user_id) {
            (Some(o), Some(u)) => {
                self.store
                    .connections_for_identity(&row.org_id, &row.user_id, o, u)
                    .await?
            }
            _ => Vec::new(),
        };
        let owner = self.owner_actor(&row.org_id, &row.user_id).await?;
        match same_identity(&existing, &row.id) {
            Some(found) => {
                if found.status == "revoked" {
                    self.ensure_room_for_connection(&owner).await?;
                }
                let mut target = found.clone();
                // The new sign-in's route to the org is the one that works now.
                target.environment = row.environment.clone();
                target.login_url = row.login_url.clone();
                Ok((target, true))
            }
            None => {
                self.ensure_room_for_connection(&owner).await?;
                Ok((row.clone(), false))
            }
        }
    }

    /// Re-reads who is linked and what the org is called, for the labels. Failures keep what
    /// was known: a user without API access still links (the check then says why it fails).
    pub(crate) async fn refresh_link_facts(&self, row: &mut ConnectionRow) -> Result<()> {
        let Ok(conn) = self.live_connection(&row.id).await else {
            return Ok(());
        };
        if let Ok(info) = conn.userinfo().await {
            if let Some(u) = info.preferred_username.or(info.email) {
                row.username = Some(u);
            }
        }
        let facts = match probe_api(&conn).await {
            ApiProbe::Open(facts) => facts,
            ApiProbe::Refused(_) => OrgFacts {
                name: None,
                is_sandbox: None,
            },
        };
        self.remember_org_facts(row, &facts).await
    }

    async fn remember_org_facts(&self, row: &mut ConnectionRow, facts: &OrgFacts) -> Result<()> {
        if facts.name.is_some() {
            row.sf_org_name = facts.name.clone();
        }
        if facts.is_sandbox.is_some() {
            row.sf_is_sandbox = facts.is_sandbox;
        }
        // Only these columns: the calls above may have refreshed and saved the tokens.
        self.store
            .save_connection_facts(
                &row.id,
                row.username.as_deref(),
                row.sf_org_name.as_deref(),
                row.sf_is_sandbox,
            )
            .await?;
        Ok(())
    }

    /// Makes a real API call as the linked user, then reports per workflow using the
    /// connection whether that user may do what the workflow does (object and field rights,
    /// record types, from describe). Without API access, Salesforce's own answer is the report.
    /// Forgets the objects and fields this node keeps for the link (describeGlobal and each
    /// object's describe, read once per live connection), so the next read asks Salesforce.
    /// A relink builds a new connection, which starts with none.
    pub async fn refresh_salesforce_metadata(&self, actor: &Actor, id: &str) -> Result<()> {
        self.own_connection(actor, id).await?;
        self.live_connection(id).await?.clear_describe_cache();
        Ok(())
    }

    pub async fn check_salesforce_connection(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<ConnectionCheck> {
        let mut row = self.own_connection(actor, id).await?;
        let conn = self.live_connection(id).await?;
        let facts = match probe_api(&conn).await {
            ApiProbe::Open(facts) => facts,
            ApiProbe::Refused(refusal) => {
                return Ok(ConnectionCheck {
                    connection_id: row.id.clone(),
                    label: label(&row),
                    api_access: false,
                    error_code: refusal.error_code,
                    message: Some(refusal.message),
                    hint: refusal.hint,
                    user: None,
                    org: None,
                    ok: false,
                    workflows: Vec::new(),
                });
            }
        };
        if let Ok(Some(u)) = conn.userinfo().await.map(|i| i.preferred_username) {
            row.username = Some(u);
        }
        self.remember_org_facts(&mut row, &facts).await?;
        let username = row.username.clone();
        let mut reports = Vec::new();
        let mut all_ok = true;
        for w in self.workflows_using(actor, id).await? {
            let mut problems = Vec::new();
            let mut warnings = Vec::new();
            for (i, task) in w.tasks.iter().enumerate() {
                if let Task::Salesforce(t) = task {
                    if t.connection_id == id {
                        self.validate_salesforce_task(
                            actor,
                            &format!("tasks[{i}]"),
                            t,
                            None,
                            &mut problems,
                            &mut warnings,
                        )
                        .await;
                    }
                }
            }
            all_ok &= problems.is_empty();
            reports.push(WorkflowCheck {
                workflow_id: w.id,
                name: w.name,
                ok: problems.is_empty(),
                problems,
                warnings,
            });
        }
        Ok(ConnectionCheck {
            connection_id: row.id.clone(),
            label: label(&row),
            api_access: true,
            error_code: None,
            message: None,
            hint: None,
            user: Some(CheckedUser { ok: true, username }),
            org: Some(CheckedOrg {
                name: row.sf_org_name.clone(),
                environment: org_environment(&row),
            }),
            ok: all_ok,
            workflows: reports,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, status: &str, updated_at: i64) -> ConnectionRow {
        ConnectionRow {
            id: id.into(),
            org_id: "OR_1".into(),
            user_id: "UR_1".into(),
            environment: "custom".into(),
            login_url: "https://acme.my.salesforce.com".into(),
            status: status.into(),
            tokens: None,
            pkce_verifier: None,
            oauth_state: None,
            instance_url: None,
            sf_org_id: Some("00D5g0000000001EAA".into()),
            sf_user_id: Some("0055g0000000001AAA".into()),
            username: Some("ada@acme.example".into()),
            sf_org_name: None,
            sf_is_sandbox: None,
            paused_until: None,
            last_error: None,
            created_at: updated_at,
            updated_at,
        }
    }

    #[test]
    fn labels_say_org_environment_and_user_as_far_as_known() {
        let mut r = row("SC_1", "active", 1);
        assert_eq!(label(&r), "Org 00D5g0000000001EAA · ada@acme.example");
        r.sf_org_name = Some("Acme".into());
        r.sf_is_sandbox = Some(true);
        assert_eq!(label(&r), "Acme · sandbox · ada@acme.example");
        r.sf_is_sandbox = None;
        r.environment = "production".into();
        assert_eq!(label(&r), "Acme · production · ada@acme.example");
        // What the org says wins over how it was reached.
        r.sf_is_sandbox = Some(false);
        r.environment = "sandbox".into();
        assert_eq!(label(&r), "Acme · production · ada@acme.example");
        r.username = None;
        assert_eq!(label(&r), "Acme · production · (user unknown)");
    }

    #[test]
    fn a_sign_in_goes_to_the_live_link_else_the_last_disconnected_one() {
        let pending = row("SC_new", "pending", 9);
        let old_revoked = row("SC_a", "revoked", 2);
        let new_revoked = row("SC_b", "revoked", 5);
        let live = row("SC_c", "reconnect", 1);
        let all = vec![
            old_revoked.clone(),
            new_revoked.clone(),
            live.clone(),
            pending.clone(),
        ];
        assert_eq!(same_identity(&all, "SC_new").unwrap().id, "SC_c");
        let revoked_only = vec![old_revoked, new_revoked, pending.clone()];
        assert_eq!(same_identity(&revoked_only, "SC_new").unwrap().id, "SC_b");
        assert!(same_identity(&[pending], "SC_new").is_none());
    }
}
