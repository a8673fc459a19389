//! Distribution tasks: a workflow run sends its survey to one person — the one a Salesforce
//! notification names (or a response) — by email, SMS or two-way SMS with a template, at
//! once or after a delay ("24 h after the case closed").
//!
//! Each send is a distribution of its own, written in one transaction with its recipient's
//! decision (exclusions, frequency rules, opt-outs, and an opt-out read from Salesforce), the
//! personal link and the send job, like a batch of any audience. Its id comes from the run
//! and the task, so a run retried after a crash finds it and never sends twice. What made it
//! (`distributions.triggered_by`) carries the embedded data its link puts into the response
//! and the record's fields that `${sf://…}` reads in the template.

use crate::directory::{OptOutSource, Upsert};
use crate::distribution_audience::{frequency_verdicts, Candidate};
use crate::workflows::Event;
use crate::{Actor, Error, FieldProblem, Result, Sonde};
use directory::ContactInput;
use distribution::Channel;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::distributions::DistributionRow;
use store::Store;

/// Contact fields a distribution task's recipient is made of.
pub const RECIPIENT_FIELDS: &[&str] = &[
    "email",
    "firstName",
    "lastName",
    "phone",
    "language",
    "extRef",
];

/// Send the survey to the person the event names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DistributionTask {
    /// `email`, `sms` (a text with the personal link) or `sms_two_way`.
    pub channel: Channel,
    /// An email template for email, an SMS template for the two SMS channels.
    pub template_id: String,
    /// ISO 8601 duration after the event (`PT24H`, `P2D`); absent or null: at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<String>,
    /// The contact, as piped text per contact field (`email`, `firstName`, `lastName`,
    /// `phone`, `language`, `extRef`): saved in the directory before the send, found again by
    /// email or external reference.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub recipient: indexmap::IndexMap<String, String>,
    /// Embedded data the invitation's link carries into the response (`sfContactId`,
    /// `sfCaseId`, ...), as piped text.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub embedded_data: indexmap::IndexMap<String, String>,
}

impl DistributionTask {
    /// The delay in milliseconds (0 when none).
    pub fn delay_ms(&self) -> std::result::Result<i64, String> {
        match self.delay.as_deref().map(str::trim) {
            None | Some("") => Ok(0),
            Some(text) => distribution::delay::parse(text),
        }
    }
}

/// The recipient's own Salesforce record (a Contact or a Lead): where their opt-out is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceRecordRef {
    pub object: String,
    pub id: String,
}

impl SalesforceRecordRef {
    /// A Contact (`003…`) or Lead (`00Q…`) id, as an external reference usually is.
    pub fn of_id(id: &str) -> Option<Self> {
        let id = id.trim();
        if !matches!(id.len(), 15 | 18) || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        let object = match &id[..3] {
            "003" => "Contact",
            "00Q" => "Lead",
            _ => return None,
        };
        Some(SalesforceRecordRef {
            object: object.into(),
            id: id.into(),
        })
    }
}

/// What a distribution a task made records of what made it (`distributions.triggered_by`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggeredBy {
    pub workflow_id: String,
    pub run_id: String,
    pub task: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_id: Option<String>,
    /// The linked org the event came from: opt-outs are written back through it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salesforce_record: Option<SalesforceRecordRef>,
    /// Embedded data the personal link carries into the response.
    #[serde(default)]
    pub embedded_data: BTreeMap<String, String>,
    /// The notification's record, for `${sf://…}` in the template.
    #[serde(default)]
    pub record: BTreeMap<String, String>,
}

impl TriggeredBy {
    pub fn of_row(d: &DistributionRow) -> Option<Self> {
        serde_json::from_str(d.triggered_by.as_deref()?).ok()
    }
}

/// One invitation a run asks for.
pub(crate) struct Invitation<'a> {
    /// The workflow's owner, whom the contact is saved for.
    pub actor: &'a Actor,
    pub survey_id: String,
    pub channel: Channel,
    pub template_id: String,
    /// The recipient as the task's fields rendered them.
    pub contact: ContactInput,
    pub triggered: TriggeredBy,
    /// The recipient opted out in Salesforce: the field that says so. An email opt-out also
    /// unsubscribes the directory contact.
    pub salesforce_opt_out: Option<String>,
}

/// What became of an invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invited {
    pub distribution_id: String,
    /// Skipped, with the reason's code and words.
    pub excluded: Option<(String, String)>,
}

/// The distribution a run's task makes: one per run and task, so a retry finds it.
pub(crate) fn distribution_id_for(run_id: &str, task: usize) -> String {
    format!("EMD_{}_{task}", run_id.trim_start_matches("RN_"))
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
}

impl Sonde {
    /// What triggered a distribution, when a Salesforce notification did (none for others).
    pub(crate) async fn triggered_by(
        &self,
        org_id: &str,
        distribution_id: &str,
    ) -> Result<Option<TriggeredBy>> {
        Ok(self
            .store
            .distribution(org_id, distribution_id)
            .await?
            .as_ref()
            .and_then(TriggeredBy::of_row))
    }

    /// Checks a distribution task as saved: its template serves its channel, its delay reads,
    /// its recipient has the channel's address and only contact fields. Embedded data the
    /// survey flow does not declare would not reach the response: a warning names it.
    pub(crate) async fn validate_distribution_task(
        &self,
        actor: &Actor,
        at: &str,
        t: &DistributionTask,
        survey: &survey::SurveyDefinition,
        problems: &mut Vec<FieldProblem>,
        warnings: &mut Vec<FieldProblem>,
    ) -> Result<()> {
        if t.template_id.trim().is_empty() {
            problems.push(problem(
                format!("{at}.templateId"),
                "choose the template the invitation is written with",
            ));
        } else {
            self.check_template(
                actor,
                &t.template_id,
                t.channel,
                &format!("{at}.templateId"),
                problems,
            )
            .await?;
        }
        if let Err(e) = t.delay_ms() {
            problems.push(problem(format!("{at}.delay"), e));
        }
        for name in t.recipient.keys() {
            if !RECIPIENT_FIELDS.contains(&name.as_str()) {
                problems.push(problem(
                    format!("{at}.recipient.{name}"),
                    format!(
                        "not a contact field (known: {})",
                        RECIPIENT_FIELDS.join(", ")
                    ),
                ));
            }
        }
        let (needed, what) = if t.channel.is_sms() {
            ("phone", "a text message needs the recipient's phone number")
        } else {
            ("email", "an email needs the recipient's address")
        };
        if t.recipient.get(needed).is_none_or(|v| v.trim().is_empty()) {
            problems.push(problem(format!("{at}.recipient.{needed}"), what));
        }
        if t.channel == Channel::SmsTwoWay {
            if let Err(refused) = distribution::two_way::check_survey(survey) {
                problems.extend(
                    refused
                        .into_iter()
                        .map(|e| problem(format!("{at}.channel: {}", e.field), e.message)),
                );
            }
        }
        let declared = survey::flow::declared_embedded_fields(survey);
        for name in t.embedded_data.keys() {
            if name.trim().is_empty() {
                problems.push(problem(
                    format!("{at}.embeddedData"),
                    "an embedded data field needs a name",
                ));
            } else if !declared.iter().any(|f| f.name == *name) {
                warnings.push(problem(
                    format!("{at}.embeddedData.{name}"),
                    format!(
                        "{name} is not declared in the survey flow: the response will not keep it"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Writes a pass's invitations in one transaction (one commit however many), each in a
    /// savepoint of its own so one that fails takes nothing of the others with it. An
    /// invitation is the contact saved, the distribution, its recipient decided, the personal
    /// link and send job when it is sent, and the notification's outcome. A run retried after
    /// this committed finds its distribution and answers what was decided.
    pub(crate) async fn invite_all(
        &self,
        invitations: Vec<Invitation<'_>>,
    ) -> Vec<Result<Invited>> {
        let n = invitations.len();
        let mut tx = match self.store.begin().await {
            Ok(tx) => tx,
            Err(e) => return repeat_error(n, &e.into()),
        };
        let mut answers = Vec::with_capacity(n);
        for inv in invitations {
            let answer = match Store::savepoint(&mut tx).await {
                Ok(mut point) => match self.invite_in(&mut point, inv).await {
                    Ok(invited) => point
                        .commit()
                        .await
                        .map(|_| invited)
                        .map_err(|e| store::StoreError::from(e).into()),
                    Err(e) => {
                        // Rolling the savepoint back leaves the others as written.
                        if let Err(undo) = point.rollback().await {
                            return repeat_error(n, &store::StoreError::from(undo).into());
                        }
                        Err(e)
                    }
                },
                Err(e) => Err(e.into()),
            };
            answers.push(answer);
        }
        match tx.commit().await {
            Ok(()) => answers,
            Err(e) => repeat_error(n, &Error::from(store::StoreError::from(e))),
        }
    }

    async fn invite_in(
        &self,
        tx: &mut store::Transaction<'_, store::Any>,
        inv: Invitation<'_>,
    ) -> Result<Invited> {
        let id = distribution_id_for(&inv.triggered.run_id, inv.triggered.task);
        let org_id = inv.actor.org_id.as_str();
        let backend = self.store.backend();
        if Store::distribution_in(tx, backend, &id).await?.is_some() {
            let decided = Store::recipients_of_distribution_in(tx, &id).await?;
            let excluded = decided
                .into_iter()
                .find(|r| r.state == "skipped")
                .map(|r| (r.reason.unwrap_or_default(), r.detail.unwrap_or_default()));
            return Ok(Invited {
                distribution_id: id,
                excluded,
            });
        }
        let detail = Some(format!("run {}", inv.triggered.run_id));
        let (contact_id, _) = Upsert {
            actor: inv.actor,
            list_id: None,
            unsubscribe: false,
            source: OptOutSource::Workflow,
            detail: detail.clone(),
        }
        .write(tx, &inv.contact)
        .await?;
        let excluded = match &inv.salesforce_opt_out {
            None => None,
            Some(field) => {
                let record = inv
                    .triggered
                    .salesforce_record
                    .as_ref()
                    .map(|r| format!(" on {} {}", r.object, r.id))
                    .unwrap_or_default();
                let words = format!("opted out in Salesforce ({field}{record})");
                if !inv.channel.is_sms() {
                    // An opt-out anywhere holds everywhere: the directory learns it too.
                    Upsert {
                        actor: inv.actor,
                        list_id: None,
                        unsubscribe: true,
                        source: OptOutSource::Salesforce,
                        detail: None,
                    }
                    .unsubscribe(tx, &contact_id, Some(format!("{field}{record}")))
                    .await?;
                }
                Some(("opted_out_in_salesforce".to_string(), words))
            }
        };
        let now = store::now_ms();
        let notification = inv.triggered.notification_id.clone();
        let d = DistributionRow {
            id: id.clone(),
            org_id: org_id.to_string(),
            survey_id: inv.survey_id.clone(),
            owner_id: inv.actor.user_id.clone(),
            channel: inv.channel.as_str().into(),
            template_id: inv.template_id.clone(),
            audience: serde_json::to_string(&crate::distributions::Audience {
                mailing_list_id: None,
                contact_ids: Some(vec![contact_id.clone()]),
            })?,
            mailing_list_id: None,
            // Its whole audience is written here: it is sent as soon as it is made.
            status: "sent".into(),
            send_at: now,
            time_zone: "UTC".into(),
            link_expires_at: None,
            expanded_through: Some(contact_id.clone()),
            created_at: now,
            updated_at: now,
            started_at: Some(now),
            finished_at: Some(now),
            triggered_by: Some(serde_json::to_string(&inv.triggered)?),
        };
        Store::insert_distribution(tx, &d).await?;
        let members = Store::audience_contacts(tx, org_id, &[contact_id]).await?;
        let verdicts = frequency_verdicts(tx, &d, &members).await?;
        let candidates: Vec<Candidate> = members
            .iter()
            .zip(verdicts)
            .map(|(member, verdict)| Candidate {
                member,
                verdict,
                link: None,
                excluded: excluded.clone(),
            })
            .collect();
        let rows = self.decide(tx, &d, 0, "invitation", &candidates).await?;
        let excluded = rows.first().and_then(|r| {
            (r.state == "skipped").then(|| {
                (
                    r.reason.clone().unwrap_or_default(),
                    r.detail.clone().unwrap_or_default(),
                )
            })
        });
        if let Some(n) = &notification {
            let (status, words) = match &excluded {
                Some((_, words)) => ("excluded", Some(words.as_str())),
                None => ("invited", None),
            };
            Store::set_notification_outcome(tx, n, status, words, Some(&id)).await?;
        }
        Ok(Invited {
            distribution_id: id,
            excluded,
        })
    }
}

/// The same failure for every invitation of a pass whose transaction could not be written.
fn repeat_error(n: usize, e: &Error) -> Vec<Result<Invited>> {
    (0..n)
        .map(|_| {
            let words: Box<dyn std::error::Error + Send + Sync> = e.to_string().into();
            Err(if e.is_transient() {
                Error::Unavailable(words)
            } else {
                Error::Internal(words)
            })
        })
        .collect()
}

/// Whether a workflow of this event may pipe `${sf://…}`: only a notification has a record.
pub(crate) fn reads_record(event: Event) -> bool {
    event == Event::SalesforceMessage
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_and_lead_ids_name_their_object() {
        assert_eq!(
            SalesforceRecordRef::of_id("0035g00000ABCDEAAA").map(|r| r.object),
            Some("Contact".to_string())
        );
        assert_eq!(
            SalesforceRecordRef::of_id("00Q5g00000ABCDE").map(|r| r.object),
            Some("Lead".to_string())
        );
        assert_eq!(SalesforceRecordRef::of_id("5005g00000ABCDEAAA"), None);
        assert_eq!(SalesforceRecordRef::of_id("003' OR Id != '"), None);
    }

    #[test]
    fn a_task_is_read_in_the_documented_shape() {
        let t: DistributionTask = serde_json::from_value(serde_json::json!({
            "channel": "email", "templateId": "ET_1", "delay": "PT24H",
            "recipient": {"email": "${sf://Email}", "extRef": "${sf://Id}"},
            "embeddedData": {"sfContactId": "${sf://Id}"}
        }))
        .unwrap();
        assert_eq!(t.delay_ms(), Ok(86_400_000));
        assert_eq!(t.recipient.keys().collect::<Vec<_>>(), ["email", "extRef"]);
        let none: DistributionTask = serde_json::from_value(
            serde_json::json!({"channel": "sms", "templateId": "ET_2", "delay": null}),
        )
        .unwrap();
        assert_eq!(none.delay_ms(), Ok(0));
    }

    #[test]
    fn a_run_and_task_make_one_distribution_id() {
        assert_eq!(distribution_id_for("RN_abc", 2), "EMD_abc_2");
        assert_ne!(
            distribution_id_for("RN_abc", 1),
            distribution_id_for("RN_abc", 2)
        );
    }
}
