//! Deleting things, each act checked against the actor's role and recorded in the audit log in
//! its own transaction. Surveys are archived first (hidden from lists, closed to respondents,
//! firing no workflow, responses kept), then restored or purged: a purge deletes the survey
//! with its responses and workflows, and only an archived survey's owner or an admin may do
//! it. Responses, contacts (their opt-out is kept, see `suppressions`) and mailing lists (the
//! contacts stay) are deleted by editors. Each deletion has a preview: what it will remove,
//! for the page that asks before doing it.

use crate::audit::{self, Action, Subject};
use crate::directory::Contact;
use crate::surveys::Survey;
use crate::workflows::{DirectoryAction, Task, Workflow};
use crate::{Actor, Error, Result, Role, Sonde};
use serde::Serialize;
use serde_json::json;
use store::surveys::SurveyRow;
use store::{Any, Store, Transaction};
use utoipa::ToSchema;

/// What a purge deleted with the survey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SurveyPurged {
    pub id: String,
    pub name: String,
    pub responses_deleted: u64,
    pub workflows_deleted: u64,
}

/// What deleting a contact removed, and whether its opt-out was kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactDeleted {
    pub id: String,
    /// Its email, else its name, else its id.
    pub label: String,
    pub list_memberships_removed: u64,
    pub personal_links_removed: u64,
    /// It was unsubscribed: saving or importing the same email or external reference again
    /// gives an unsubscribed contact.
    pub opt_out_kept: bool,
}

/// A workflow that adds respondents to a mailing list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowUsingList {
    pub id: String,
    pub name: String,
    pub survey_id: String,
}

/// What deleting a mailing list removed; its contacts stay in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MailingListDeleted {
    pub id: String,
    pub name: String,
    pub memberships_removed: u64,
    /// Enabled workflows that add to this list: their runs now fail until they are changed.
    pub workflows_affected: Vec<WorkflowUsingList>,
}

/// What archiving a survey would stop.
#[derive(Debug, Clone)]
pub struct ArchivePreview {
    pub survey: Survey,
    /// Its responses, which are kept.
    pub responses: i64,
    /// Its enabled workflows, which stop firing.
    pub enabled_workflows: usize,
}

/// What purging a survey would delete.
#[derive(Debug, Clone)]
pub struct PurgePreview {
    pub survey: Survey,
    pub responses: i64,
    pub workflows: usize,
}

/// What deleting a contact would remove.
#[derive(Debug, Clone)]
pub struct ContactPreview {
    pub contact: Contact,
    pub label: String,
    /// The names of the lists it would leave.
    pub lists: Vec<String>,
    pub personal_links: i64,
    /// Its responses, which stay with their surveys.
    pub responses: i64,
}

/// A contact as the log and the pages name it.
fn contact_label(email: Option<&str>, first: &str, last: &str, id: &str) -> String {
    let name = format!("{first} {last}").trim().to_string();
    match email {
        Some(e) if !e.is_empty() => e.to_string(),
        _ if !name.is_empty() => name,
        _ => id.to_string(),
    }
}

/// Rolls back at once (releasing SQLite's write lock now, not on drop) and says `what` was
/// not found.
async fn not_found<T>(tx: Transaction<'_, Any>, what: &'static str) -> Result<T> {
    tx.rollback().await?;
    Err(Error::NotFound(what))
}

impl Sonde {
    /// A survey the actor may archive, restore or purge: one they see, with the editor role.
    async fn survey_to_change(&self, actor: &Actor, id: &str) -> Result<SurveyRow> {
        let row = self.survey_row(actor, id).await?;
        actor.require(Role::Editor)?;
        Ok(row)
    }

    /// What archiving would stop, once the actor may archive it (editors who see it, admins).
    pub async fn archive_preview(&self, actor: &Actor, id: &str) -> Result<ArchivePreview> {
        let row = self.survey_to_change(actor, id).await?;
        let responses = self.store.count_responses(&actor.org_id, &row.id).await?;
        let enabled_workflows = self
            .store
            .workflows_of_survey(&actor.org_id, &row.id)
            .await?
            .iter()
            .filter(|w| w.enabled)
            .count();
        Ok(ArchivePreview {
            survey: self.survey_from_row(row).await?,
            responses,
            enabled_workflows,
        })
    }

    /// Archives a survey: hidden from lists, its links say it is closed, its workflows stop
    /// firing (runs already queued are still delivered: they belong to responses recorded
    /// while it was open); its responses stay. Editors who see it, and admins.
    pub async fn archive_survey(&self, actor: &Actor, id: &str) -> Result<Survey> {
        self.set_archived(actor, id, true).await
    }

    /// Brings an archived survey back as it was.
    pub async fn restore_survey(&self, actor: &Actor, id: &str) -> Result<Survey> {
        self.set_archived(actor, id, false).await
    }

    async fn set_archived(&self, actor: &Actor, id: &str, archived: bool) -> Result<Survey> {
        let current = self.survey_to_change(actor, id).await?;
        let mut tx = self.store.begin().await?;
        let Some(row) =
            Store::set_survey_archived(&mut tx, &actor.org_id, &current.id, archived).await?
        else {
            tx.rollback().await?;
            return Err(Error::Conflict(if archived {
                format!(
                    "the survey \u{201c}{}\u{201d} is already archived",
                    current.name
                )
            } else {
                format!(
                    "the survey \u{201c}{}\u{201d} is not archived",
                    current.name
                )
            }));
        };
        let action = if archived {
            Action::SurveyArchived
        } else {
            Action::SurveyRestored
        };
        audit::record(
            &mut tx,
            actor,
            action,
            Subject::new(&row.id, &row.name),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        self.survey_from_row(row).await
    }

    /// What purging would delete, once the actor may purge it (see [`Sonde::purge_survey`]).
    pub async fn purge_preview(&self, actor: &Actor, id: &str) -> Result<PurgePreview> {
        let row = self.survey_to_change(actor, id).await?;
        if row.owner_id != actor.user_id && actor.role != Role::Admin {
            return Err(Error::Forbidden(
                "only the survey's owner or an admin can purge it".into(),
            ));
        }
        if row.archived_at.is_none() {
            return Err(Error::Conflict(format!(
                "the survey \u{201c}{}\u{201d} is not archived: archive it first; only an archived survey can be purged",
                row.name
            )));
        }
        let responses = self.store.count_responses(&actor.org_id, &row.id).await?;
        let workflows = self
            .store
            .workflows_of_survey(&actor.org_id, &row.id)
            .await?
            .len();
        Ok(PurgePreview {
            survey: self.survey_from_row(row).await?,
            responses,
            workflows,
        })
    }

    /// Deletes an archived survey for good, with its responses, workflows and their runs
    /// (queued deliveries are cancelled). Its owner (editor or above) or an admin; a survey
    /// not archived is refused (409).
    pub async fn purge_survey(&self, actor: &Actor, id: &str) -> Result<SurveyPurged> {
        let preview = self.purge_preview(actor, id).await?;
        let mut tx = self.store.begin().await?;
        let Some(row) =
            Store::lock_archived_survey(&mut tx, &actor.org_id, &preview.survey.id).await?
        else {
            tx.rollback().await?;
            return Err(Error::Conflict(
                "the survey was restored or purged meanwhile".into(),
            ));
        };
        let purged = Store::purge_survey(&mut tx, &actor.org_id, &row.id).await?;
        audit::record(
            &mut tx,
            actor,
            Action::SurveyPurged,
            Subject::new(&row.id, &row.name),
            json!({
                "responses": purged.responses,
                "workflows": purged.workflows,
                "queuedRunsCancelled": purged.jobs_cancelled,
            }),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(survey = %row.id, by = %actor.user_id, responses = purged.responses, "survey purged");
        Ok(SurveyPurged {
            id: row.id,
            name: row.name,
            responses_deleted: purged.responses,
            workflows_deleted: purged.workflows,
        })
    }

    /// Deletes one response of a survey the actor sees (editor role). Its waiting workflow
    /// runs fail saying so; a personal link it came through can be used again.
    pub async fn delete_response(&self, actor: &Actor, survey_id: &str, id: &str) -> Result<()> {
        actor.require(Role::Editor)?;
        let survey = self.survey(actor, survey_id).await?;
        let mut tx = self.store.begin().await?;
        let Some(removed) = Store::delete_response(&mut tx, &actor.org_id, &survey.id, id).await?
        else {
            return not_found(tx, "response").await;
        };
        audit::record(
            &mut tx,
            actor,
            Action::ResponseDeleted,
            Subject::new(id, &format!("{id} of \u{201c}{}\u{201d}", survey.name)),
            json!({
                "surveyId": survey.id,
                "status": removed.status,
                "contactId": removed.contact_id,
                "runsCancelled": removed.runs_cancelled,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// What deleting a contact would remove (editor role).
    pub async fn contact_preview(&self, actor: &Actor, id: &str) -> Result<ContactPreview> {
        actor.require(Role::Editor)?;
        let contact = self.contact(actor, id).await?;
        let lists = self
            .store
            .lists_of_contact(&actor.org_id, &contact.id)
            .await?;
        let (personal_links, responses) = self
            .store
            .contact_links_and_responses(&actor.org_id, &contact.id)
            .await?;
        Ok(ContactPreview {
            label: contact_label(
                contact.email.as_deref(),
                &contact.first_name,
                &contact.last_name,
                &contact.id,
            ),
            contact,
            lists,
            personal_links,
            responses,
        })
    }

    /// Deletes a contact with its list memberships and personal links (editor role). Its
    /// responses stay with their surveys. An unsubscribed contact's opt-out is kept, so saving
    /// or importing the same email or external reference gives an unsubscribed contact.
    pub async fn delete_contact(&self, actor: &Actor, id: &str) -> Result<ContactDeleted> {
        actor.require(Role::Editor)?;
        let mut tx = self.store.begin().await?;
        let Some(contact) = Store::lock_contact(&mut tx, &actor.org_id, id).await? else {
            return not_found(tx, "contact").await;
        };
        let opt_out_kept = crate::suppressions::keep_opt_out(&mut tx, &contact).await?;
        let removed = Store::delete_contact(&mut tx, &actor.org_id, &contact.id).await?;
        let label = contact_label(
            contact.email.as_deref(),
            &contact.first_name,
            &contact.last_name,
            &contact.id,
        );
        audit::record(
            &mut tx,
            actor,
            Action::ContactDeleted,
            Subject::new(&contact.id, &label),
            json!({
                "listMemberships": removed.list_memberships,
                "personalLinks": removed.personal_links,
                "optOutKept": opt_out_kept,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(ContactDeleted {
            id: contact.id,
            label,
            list_memberships_removed: removed.list_memberships,
            personal_links_removed: removed.personal_links,
            opt_out_kept,
        })
    }

    /// The enabled workflows (of surveys not archived) that add respondents to a list.
    pub async fn workflows_adding_to_list(
        &self,
        actor: &Actor,
        list_id: &str,
    ) -> Result<Vec<WorkflowUsingList>> {
        let mut out = Vec::new();
        for row in self.store.firing_workflows_of_org(&actor.org_id).await? {
            let w = Workflow::from_row(&row)?;
            let adds = w.tasks.iter().any(|t| {
                matches!(t, Task::Directory(d)
                    if d.action == DirectoryAction::AddToList && d.list_id.as_deref() == Some(list_id))
            });
            if adds {
                out.push(WorkflowUsingList {
                    id: w.id,
                    name: w.name,
                    survey_id: w.survey_id,
                });
            }
        }
        Ok(out)
    }

    /// Deletes a mailing list (editor role); its contacts stay in the directory. Workflows that
    /// add to it are named in the answer: their runs fail until they are changed.
    pub async fn delete_mailing_list(&self, actor: &Actor, id: &str) -> Result<MailingListDeleted> {
        actor.require(Role::Editor)?;
        let workflows_affected = self.workflows_adding_to_list(actor, id).await?;
        let mut tx = self.store.begin().await?;
        let Some((name, members)) = Store::delete_mailing_list(&mut tx, &actor.org_id, id).await?
        else {
            return not_found(tx, "mailing list").await;
        };
        audit::record(
            &mut tx,
            actor,
            Action::MailingListDeleted,
            Subject::new(id, &name),
            json!({
                "members": members,
                "workflowsAffected": workflows_affected.iter().map(|w| &w.id).collect::<Vec<_>>(),
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(MailingListDeleted {
            id: id.to_string(),
            name,
            memberships_removed: members,
            workflows_affected,
        })
    }
}
