//! Opt-outs kept in sync with linked Salesforce orgs: one switch per organization (on unless
//! an admin turns it off), which a survey may override. While it is on, a triggered send
//! first reads the recipient's opt-out checkbox on their Contact or Lead (from the
//! notification when it carries it, else one query per 200 recipients) and an opted-out
//! recipient is excluded and unsubscribed in the directory; and an opt-out in Sonde (the
//! invitation's link, an SMS STOP) sets the checkbox on the record it came from, through the
//! queue.

use crate::{Actor, Error, FieldProblem, Result, Role, Sonde};
use serde::{Deserialize, Serialize};
use store::opt_out_sync::OptOutSyncRow;

/// Salesforce's standard email opt-out checkbox on Contact and Lead.
pub const DEFAULT_EMAIL_FIELD: &str = "HasOptedOutOfEmail";

/// The organization's switch and the fields it reads and writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OptOutSync {
    pub enabled: bool,
    /// The Contact/Lead checkbox that means "no email" (default `HasOptedOutOfEmail`).
    #[serde(default = "default_email_field")]
    pub email_field: String,
    /// The Contact/Lead checkbox that means "no texts" (none by default: Salesforce has no
    /// standard one).
    #[serde(default)]
    pub sms_field: Option<String>,
}

fn default_email_field() -> String {
    DEFAULT_EMAIL_FIELD.into()
}

impl Default for OptOutSync {
    fn default() -> Self {
        OptOutSync {
            enabled: true,
            email_field: default_email_field(),
            sms_field: None,
        }
    }
}

impl OptOutSync {
    /// The checkbox a channel's opt-out is kept in, if any.
    pub fn field_for(&self, sms: bool) -> Option<&str> {
        if sms {
            self.sms_field.as_deref()
        } else {
            Some(&self.email_field)
        }
    }
}

/// A survey's override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SurveyOptOutSync {
    /// true or false, or null to follow the organization's switch.
    pub enabled: Option<bool>,
}

/// A custom field's API name or a standard one: letters, digits, underscores, at most 80
/// (what may be put into a SOQL field list without quoting).
pub(crate) fn is_field_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.len() <= 80
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Sonde {
    /// The organization's switch (every member may read it).
    pub async fn opt_out_sync(&self, actor: &Actor) -> Result<OptOutSync> {
        self.org_opt_out_sync(&actor.org_id).await
    }

    async fn org_opt_out_sync(&self, org_id: &str) -> Result<OptOutSync> {
        Ok(match self.store.opt_out_sync(org_id).await? {
            Some(row) => OptOutSync {
                enabled: row.enabled,
                email_field: row.email_field,
                sms_field: row.sms_field,
            },
            None => OptOutSync::default(),
        })
    }

    /// Admins change the switch and its fields.
    pub async fn set_opt_out_sync(&self, actor: &Actor, asked: OptOutSync) -> Result<OptOutSync> {
        actor.require(Role::Admin)?;
        let mut problems = Vec::new();
        let email = asked.email_field.trim().to_string();
        if !is_field_name(&email) {
            problems.push(FieldProblem {
                field: "emailField".into(),
                message: format!("{email:?} is not a Salesforce field name"),
            });
        }
        let sms = asked
            .sms_field
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty());
        if let Some(f) = sms.as_deref().filter(|f| !is_field_name(f)) {
            problems.push(FieldProblem {
                field: "smsField".into(),
                message: format!("{f:?} is not a Salesforce field name"),
            });
        }
        if !problems.is_empty() {
            return Err(Error::invalid_fields(
                "opt-out fields are Salesforce field names: letters, digits and underscores",
                problems,
            ));
        }
        self.store
            .save_opt_out_sync(&OptOutSyncRow {
                org_id: actor.org_id.clone(),
                enabled: asked.enabled,
                email_field: email,
                sms_field: sms,
            })
            .await?;
        self.opt_out_sync(actor).await
    }

    /// A survey's override, as saved.
    pub async fn survey_opt_out_sync(
        &self,
        actor: &Actor,
        survey_id: &str,
    ) -> Result<SurveyOptOutSync> {
        let survey = self.survey(actor, survey_id).await?;
        Ok(SurveyOptOutSync {
            enabled: self
                .store
                .survey_opt_out_sync(&actor.org_id, &survey.id)
                .await?,
        })
    }

    /// Editors who see the survey set or clear its override.
    pub async fn set_survey_opt_out_sync(
        &self,
        actor: &Actor,
        survey_id: &str,
        asked: SurveyOptOutSync,
    ) -> Result<SurveyOptOutSync> {
        actor.require(Role::Editor)?;
        let survey = self.survey(actor, survey_id).await?;
        self.store
            .set_survey_opt_out_sync(&actor.org_id, &survey.id, asked.enabled)
            .await?;
        self.survey_opt_out_sync(actor, &survey.id).await
    }

    /// What holds for sends of this survey: the organization's fields, switched on or off
    /// by the survey's override when it has one.
    pub(crate) async fn opt_out_sync_for(
        &self,
        org_id: &str,
        survey_id: &str,
    ) -> Result<OptOutSync> {
        let mut sync = self.org_opt_out_sync(org_id).await?;
        if let Some(on) = self.store.survey_opt_out_sync(org_id, survey_id).await? {
            sync.enabled = on;
        }
        Ok(sync)
    }
}

/// An opt-out to write back to Salesforce: the update of one record's checkbox, run as a
/// run of the workflow whose invitation it was (so it shows in that workflow's history).
#[derive(Debug, Clone)]
pub(crate) struct OptOutWrite {
    pub org_id: String,
    pub workflow_id: String,
    pub distribution_id: String,
    /// `email` or `sms`: one write per invitation and channel.
    pub channel: &'static str,
    pub task: crate::workflows::SalesforceTask,
}

impl Sonde {
    /// The write an opt-out from this distribution's invitation calls for: none unless the
    /// invitation came from a Salesforce record of a linked org, sync is on for its survey
    /// and the channel has a checkbox.
    pub(crate) async fn salesforce_opt_out_write(
        &self,
        org_id: &str,
        distribution_id: &str,
        sms: bool,
    ) -> Result<Option<OptOutWrite>> {
        let Some(d) = self.store.distribution(org_id, distribution_id).await? else {
            return Ok(None);
        };
        let Some(t) = crate::triggered_sends::TriggeredBy::of_row(&d) else {
            return Ok(None);
        };
        let (Some(connection), Some(record)) = (t.connection_id, t.salesforce_record) else {
            return Ok(None);
        };
        let sync = self.opt_out_sync_for(org_id, &d.survey_id).await?;
        let Some(field) = sync.field_for(sms).filter(|_| sync.enabled) else {
            return Ok(None);
        };
        let mut fields = crate::workflows::FieldMap::new();
        fields.insert(
            field.to_string(),
            crate::workflows::FieldValue::Value(serde_json::Value::Bool(true)),
        );
        Ok(Some(OptOutWrite {
            org_id: org_id.to_string(),
            workflow_id: t.workflow_id,
            distribution_id: d.id,
            channel: if sms { "sms" } else { "email" },
            task: crate::workflows::SalesforceTask {
                connection_id: connection,
                object: record.object,
                operation: crate::workflows::Operation::Update,
                external_id_field: None,
                record_id: Some(record.id),
                fields,
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_reads_the_standard_email_checkbox_and_no_sms_one() {
        let s = OptOutSync::default();
        assert!(s.enabled);
        assert_eq!(s.field_for(false), Some("HasOptedOutOfEmail"));
        assert_eq!(s.field_for(true), None);
        let parsed: OptOutSync = serde_json::from_str(r#"{"enabled": false}"#).unwrap();
        assert_eq!(parsed.email_field, "HasOptedOutOfEmail");
    }

    #[test]
    fn field_names_are_api_names() {
        assert!(is_field_name("SMS_Opt_Out__c"));
        assert!(!is_field_name("Opt Out"));
        assert!(!is_field_name("x; DELETE"));
    }
}
