//! Workflows fired by a message from a linked Salesforce org (event `salesforce_message`).
//! Each such workflow has an endpoint — `{public URL}/hooks/salesforce/{token}`, the token
//! unguessable — that takes Outbound Messages (SOAP 1.1, up to 100 notifications each, as a
//! Flow's "Send Outbound Message" action or a Workflow Rule sends them), and JSON from a Flow's
//! HTTP callout: the record's fields as one object, with the endpoint's secret in the
//! [`SECRET_HEADER`] header, deduplicated by an `Idempotency-Key` header or else by the
//! record's `Id` and `LastModifiedDate` (the event's time).
//!
//! A message is refused whole, with a SOAP fault and nothing recorded, when it cannot be read,
//! when its `OrganizationId` is not the workflow's linked org, or when it holds records of
//! another object. Otherwise every notification is recorded in one transaction, and only then
//! is the `Ack` sent: a crash before the commit leaves Salesforce to send the message again.
//! Salesforce redelivers for 24 hours, duplicates and out of order: a notification is recorded
//! once per org (by its `Id`), and a redelivery only counts itself in `duplicates`.

use crate::workflows::{Event, Workflow, WorkflowInput};
use crate::{Actor, Error, FieldProblem, Result, Sonde};
use salesforce::outbound;
/// The web layer answers refusals with these.
pub use salesforce::outbound::{fault_response, FaultCode};
use serde::Serialize;
use store::salesforce_messages::{EndpointRow, NotificationRow};
use store::Store;

/// The header a Flow's HTTP callout carries the endpoint's secret in.
pub const SECRET_HEADER: &str = "X-Sonde-Secret";

/// Where and how Salesforce sends a workflow's messages (its owner's to see: it holds the
/// callout's secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageEndpoint {
    /// An Outbound Message's endpoint URL, and a Flow HTTP callout's.
    pub url: String,
    /// The header a callout sends `secret` in.
    pub secret_header: String,
    pub secret: String,
}

/// A Flow callout's answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CalloutReceipt {
    /// The recorded notification's id (the first one's, for a repeat).
    pub id: String,
    /// True when this key was received before: nothing more was recorded.
    pub duplicate: bool,
}

/// Why a message was not acknowledged: the SOAP fault to answer (HTTP 500), or no such
/// endpoint (404, which says nothing more).
#[derive(Debug)]
pub enum MessageRefusal {
    Fault(FaultCode, String),
    NoEndpoint,
}

impl From<store::StoreError> for MessageRefusal {
    fn from(e: store::StoreError) -> Self {
        Error::from(e).into()
    }
}

impl From<Error> for MessageRefusal {
    fn from(e: Error) -> Self {
        // Ours, not the sender's: Salesforce tries again later.
        tracing::warn!(error = %e, "a Salesforce message could not be recorded");
        MessageRefusal::Fault(
            FaultCode::Server,
            "the message could not be recorded; send it again later".into(),
        )
    }
}

/// One notification as received, in a workflow's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedNotification {
    pub id: String,
    /// The notification's own id (an Outbound Message's `Id`): what redeliveries repeat.
    pub notification_id: String,
    /// `outbound_message` or `callout`.
    pub source: String,
    pub object: String,
    pub record_id: Option<String>,
    /// The record's fields as Salesforce sent them (null for a field sent as nil).
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
    /// What its run made of it: `received` (run queued), `invited`, `excluded`, `done` (a
    /// run with no distribution), `failed`, or `ignored` (the workflow was disabled).
    pub status: String,
    /// What became of it, the invitation's fate included: `queued`, `sending`, `sent`,
    /// `excluded`, `bounced`, `failed`, `done` or `ignored`.
    pub outcome: String,
    /// Why it was excluded, as a code (`unsubscribed`, `missing_email`, `frequency_capped`,
    /// `opted_out_in_salesforce`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The outcome in words: the exclusion's reason, the run's error, the server's reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The run acting on it (`GET /api/v1/workflows/{id}/runs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The distribution that invited its recipient.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_id: Option<String>,
    /// How many times Salesforce sent it again after the first.
    pub duplicates: i64,
    /// RFC 3339 UTC.
    pub received_at: String,
}

/// A notification as it arrived, before it is recorded.
struct Received {
    /// The Outbound Message notification's `Id`, or the callout's idempotency key.
    key: String,
    source: &'static str,
    object: String,
    record_id: Option<String>,
    /// The record's fields, JSON.
    record: String,
}

fn problem(field: &str, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
}

/// An sObject name as describe spells them: letters, digits and underscores.
fn is_object_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A notification's outcome, reason and words: its invitation's state once it has one.
fn outcome_of(
    o: &store::salesforce_messages::NotificationOutcome,
) -> (String, Option<String>, Option<String>) {
    let n = &o.notification;
    let Some(state) = o.recipient_state.as_deref() else {
        let outcome = match n.status.as_str() {
            "received" | "invited" => "queued",
            other => other,
        };
        let reason = (n.status == "excluded").then(|| "excluded".to_string());
        return (outcome.into(), reason, n.detail.clone());
    };
    let outcome = match state {
        "skipped" => "excluded",
        "queued" | "sending" => "sending",
        "sent" | "delivered" | "opened" => "sent",
        other => other,
    };
    (
        outcome.into(),
        o.recipient_reason.clone(),
        o.recipient_detail.clone().or(n.detail.clone()),
    )
}

/// Salesforce writes org ids in 15 or 18 characters; the first 15 are the id.
fn same_org(a: &str, b: &str) -> bool {
    let short = |s: &str| s.get(..15).unwrap_or(s).to_string();
    short(a) == short(b)
}

impl Sonde {
    /// A `salesforce_message` workflow names a linked org of the actor's and an object; it has
    /// no response, so no conditions.
    pub(crate) async fn validate_message_trigger(
        &self,
        actor: &Actor,
        input: &WorkflowInput,
        problems: &mut Vec<FieldProblem>,
    ) {
        match input.connection_id.as_deref().map(str::trim) {
            None | Some("") => problems.push(problem(
                "connectionId",
                "choose the linked Salesforce org whose messages fire this workflow",
            )),
            Some(id) => {
                if self.own_connection(actor, id).await.is_err() {
                    problems.push(problem(
                        "connectionId",
                        "not one of your linked Salesforce orgs",
                    ));
                }
            }
        }
        match input.object.as_deref().map(str::trim) {
            None | Some("") => problems.push(problem(
                "object",
                "name the object whose records the messages carry (Contact, Case, ...)",
            )),
            Some(o) if !is_object_name(o) => {
                problems.push(problem("object", format!("{o} is not an object name")))
            }
            Some(_) => {}
        }
        if input.conditions.is_some() {
            problems.push(problem(
                "conditions",
                "a Salesforce message has no response to test: leave conditions out",
            ));
        }
    }

    /// The workflow with its endpoint URL, the endpoint made the first time it is asked for.
    pub(crate) async fn with_endpoint(&self, org_id: &str, mut w: Workflow) -> Result<Workflow> {
        if w.event != Event::SalesforceMessage {
            return Ok(w);
        }
        let endpoint = match self.store.endpoint_of_workflow(&w.id).await? {
            Some(e) => e,
            None => {
                let secrets = self.secret_box()?;
                self.store
                    .insert_endpoint(&EndpointRow {
                        token: store::ids::random_token(32),
                        workflow_id: w.id.clone(),
                        org_id: org_id.to_string(),
                        // For Flow HTTP callouts, which send it in a header.
                        secret: secrets.seal(&store::ids::random_token(32)),
                        created_at: store::now_ms(),
                    })
                    .await?;
                // Two first asks at once make one endpoint: read back the one kept.
                self.store
                    .endpoint_of_workflow(&w.id)
                    .await?
                    .ok_or_else(|| Error::Internal("the endpoint was not kept".into()))?
            }
        };
        w.endpoint_url = Some(format!(
            "{}/hooks/salesforce/{}",
            self.public_url(),
            endpoint.token
        ));
        Ok(w)
    }

    /// An Outbound Message to the endpoint `token`: recorded, then acknowledged (the `Ack`
    /// body to answer), or refused whole.
    pub async fn receive_outbound_message(
        &self,
        token: &str,
        body: &str,
    ) -> std::result::Result<String, MessageRefusal> {
        let (endpoint, workflow) = self
            .endpoint_workflow(token)
            .await?
            .ok_or(MessageRefusal::NoEndpoint)?;
        let client = |m: String| MessageRefusal::Fault(FaultCode::Client, m);
        let message = outbound::parse_notifications(body).map_err(|e| client(e.to_string()))?;
        let Some(sf_org) = self.linked_org(&workflow).await? else {
            return Err(client(
                "this workflow's Salesforce org is no longer linked in Sonde".into(),
            ));
        };
        if !same_org(&message.organization_id, &sf_org) {
            return Err(client(format!(
                "OrganizationId {} is not the Salesforce org linked to this workflow",
                message.organization_id
            )));
        }
        let object = workflow.object.clone().unwrap_or_default();
        if let Some(n) = message
            .notifications
            .iter()
            .find(|n| !n.sobject.object_type.eq_ignore_ascii_case(&object))
        {
            return Err(client(format!(
                "notification {} holds a {} record; this workflow takes {object} records",
                n.id, n.sobject.object_type
            )));
        }
        let received = message
            .notifications
            .iter()
            .map(|n| {
                Ok(Received {
                    key: n.id.clone(),
                    source: "outbound_message",
                    object: n.sobject.object_type.clone(),
                    record_id: n.sobject.id().map(str::to_string),
                    record: serde_json::to_string(&n.sobject.fields).map_err(Error::from)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        self.record_received(&endpoint, &workflow, &sf_org, received)
            .await?;
        Ok(outbound::ack_response(true))
    }

    /// The endpoint of a `salesforce_message` workflow with its callout secret (the owner's).
    pub async fn message_endpoint(
        &self,
        actor: &Actor,
        workflow_id: &str,
    ) -> Result<MessageEndpoint> {
        let w = self.workflow(actor, workflow_id).await?;
        if w.owner_id != actor.user_id {
            return Err(Error::Forbidden(
                "only this workflow's owner sees its endpoint's secret".into(),
            ));
        }
        let (Some(url), Some(e)) = (
            w.endpoint_url.clone(),
            self.store.endpoint_of_workflow(&w.id).await?,
        ) else {
            return Err(Error::NotFound(
                "endpoint (the workflow is not fired by Salesforce messages)",
            ));
        };
        let secret = self
            .secret_box()?
            .open(&e.secret)
            .map_err(|e| Error::Internal(e.to_string().into()))?;
        Ok(MessageEndpoint {
            url,
            secret_header: SECRET_HEADER.into(),
            secret,
        })
    }

    /// A Flow HTTP callout to the endpoint `token`: the record's fields as a JSON object.
    /// Recorded once per key; refused (nothing recorded) without the endpoint's secret, or
    /// when the body is not one record of the workflow's object.
    pub async fn receive_callout(
        &self,
        token: &str,
        secret: Option<&str>,
        idempotency_key: Option<&str>,
        body: &[u8],
    ) -> Result<CalloutReceipt> {
        use subtle::ConstantTimeEq;
        let (endpoint, workflow) = self
            .endpoint_workflow(token)
            .await?
            .ok_or(Error::NotFound("endpoint"))?;
        let expected = self
            .secret_box()?
            .open(&endpoint.secret)
            .map_err(|e| Error::Internal(e.to_string().into()))?;
        let given = secret.unwrap_or_default().as_bytes();
        if !bool::from(given.ct_eq(expected.as_bytes())) {
            return Err(Error::Forbidden(format!(
                "the {SECRET_HEADER} header does not hold this endpoint's secret"
            )));
        }
        let record: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body)
            .map_err(|e| {
                Error::invalid_fields(
                    "the body is not the record as a JSON object",
                    vec![problem(
                        &format!("line {}, column {}", e.line(), e.column()),
                        e.to_string(),
                    )],
                )
            })?;
        let object = workflow.object.clone().unwrap_or_default();
        if let Some(t) = record
            .get("attributes")
            .and_then(|a| a.get("type"))
            .and_then(|t| t.as_str())
        {
            if !t.eq_ignore_ascii_case(&object) {
                return Err(Error::invalid_fields(
                    format!("this workflow takes {object} records"),
                    vec![problem("attributes.type", format!("{t} is not {object}"))],
                ));
            }
        }
        let text = |name: &str| {
            record
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let key = match (
            idempotency_key.map(str::trim).filter(|k| !k.is_empty()),
            text("Id"),
            text("LastModifiedDate"),
        ) {
            (Some(k), _, _) => k.to_string(),
            (None, Some(id), Some(at)) => format!("{id}@{at}"),
            _ => {
                return Err(Error::invalid_fields(
                    "a callout is recorded once: say which event it is",
                    vec![problem(
                        "Idempotency-Key",
                        "send an Idempotency-Key header, or the record's Id and LastModifiedDate",
                    )],
                ))
            }
        };
        let sf_org = self.linked_org(&workflow).await?.ok_or_else(|| {
            Error::invalid("this workflow's Salesforce org is no longer linked in Sonde")
        })?;
        let fields: std::collections::BTreeMap<String, serde_json::Value> = record
            .into_iter()
            .filter(|(k, _)| k != "attributes")
            .collect();
        let received = Received {
            key,
            source: "callout",
            object,
            record_id: fields
                .get("Id")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            record: serde_json::to_string(&fields)?,
        };
        let kept = self
            .record_received(&endpoint, &workflow, &sf_org, vec![received])
            .await?;
        let (id, new) = kept
            .into_iter()
            .next()
            .ok_or_else(|| Error::Internal("the callout was not recorded".into()))?;
        Ok(CalloutReceipt {
            id,
            duplicate: !new,
        })
    }

    /// Records notifications in one transaction, each new one with the run that acts on it
    /// (its job in the same transaction). Answers each one's kept id and whether it was new.
    async fn record_received(
        &self,
        endpoint: &EndpointRow,
        workflow: &Workflow,
        sf_org: &str,
        received: Vec<Received>,
    ) -> Result<Vec<(String, bool)>> {
        let now = store::now_ms();
        let acts = workflow.enabled && !workflow.tasks.is_empty();
        let (status, detail) = if !workflow.enabled {
            ("ignored", Some("the workflow was disabled when it arrived"))
        } else {
            ("received", None)
        };
        let mut tx = self.store.begin().await?;
        let mut kept = Vec::with_capacity(received.len());
        for r in received {
            let row = NotificationRow {
                id: store::ids::ordered("SN_", 8),
                org_id: endpoint.org_id.clone(),
                workflow_id: workflow.id.clone(),
                sf_org_id: sf_org.to_string(),
                notification_id: r.key,
                source: r.source.into(),
                object: r.object,
                record_id: r.record_id,
                record: r.record,
                status: status.into(),
                detail: detail.map(str::to_string),
                duplicates: 0,
                received_at: now,
                updated_at: now,
                run_id: acts.then(crate::delivery::run_id),
                distribution_id: None,
            };
            let new = Store::record_notification(&mut tx, &row).await?;
            if new && acts {
                crate::delivery::fire_for_notification(&mut tx, workflow, &row).await?;
            }
            let id = if new {
                row.id
            } else {
                Store::notification_id_of(&mut tx, sf_org, &row.notification_id)
                    .await?
                    .unwrap_or(row.id)
            };
            kept.push((id, new));
        }
        tx.commit().await?;
        Ok(kept)
    }

    /// The endpoint `token` and its workflow, while that workflow is fired by Salesforce
    /// messages (one changed to another event keeps its endpoint, which then takes nothing).
    async fn endpoint_workflow(&self, token: &str) -> Result<Option<(EndpointRow, Workflow)>> {
        let Some(endpoint) = self.store.endpoint_by_token(token).await? else {
            return Ok(None);
        };
        let Some(row) = self
            .store
            .workflow(&endpoint.org_id, &endpoint.workflow_id)
            .await?
        else {
            return Ok(None);
        };
        let workflow = Workflow::from_row(&row)?;
        Ok((workflow.event == Event::SalesforceMessage).then_some((endpoint, workflow)))
    }

    /// The Salesforce org id of the workflow's linked connection (None once unlinked).
    async fn linked_org(&self, workflow: &Workflow) -> Result<Option<String>> {
        Ok(match workflow.connection_id.as_deref() {
            Some(id) => self
                .store
                .connection_by_id(id)
                .await?
                .and_then(|c| c.sf_org_id),
            None => None,
        })
    }

    /// The notifications a workflow received, newest first (at most 500).
    pub async fn workflow_notifications(
        &self,
        actor: &Actor,
        workflow_id: &str,
    ) -> Result<Vec<ReceivedNotification>> {
        let w = self.workflow(actor, workflow_id).await?;
        self.store
            .notifications_of_workflow(&actor.org_id, &w.id, 500)
            .await?
            .into_iter()
            .map(|o| {
                let (outcome, reason, detail) = outcome_of(&o);
                let n = o.notification;
                Ok(ReceivedNotification {
                    id: n.id,
                    notification_id: n.notification_id,
                    source: n.source,
                    object: n.object,
                    record_id: n.record_id,
                    record: serde_json::from_str(&n.record)?,
                    status: n.status,
                    outcome,
                    reason,
                    detail,
                    run_id: n.run_id,
                    distribution_id: n.distribution_id,
                    duplicates: n.duplicates,
                    received_at: crate::responses::rfc3339(n.received_at),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_ids_compare_by_their_first_15_characters() {
        assert!(same_org("00D000000000001AAA", "00D000000000001"));
        assert!(same_org("00D000000000001AAA", "00D000000000001AAA"));
        assert!(!same_org("00D000000000001AAA", "00D000000000002AAA"));
    }

    #[test]
    fn object_names_are_identifiers() {
        assert!(is_object_name("Case"));
        assert!(is_object_name("Survey_Response__c"));
        assert!(!is_object_name(""));
        assert!(!is_object_name("Case; DROP"));
        assert!(!is_object_name("1Case"));
    }
}
