//! The panel's Settings tab: which Contact and Lead fields keep a record from ever receiving
//! an invitation (survey invitation exclusions), the Sonde user who sends for Salesforce users
//! without a Sonde account, and Disconnect. Kept per Sonde organization and Salesforce org.

use super::{PanelPass, PanelRefusal};
use crate::opt_out_sync::is_field_name;
use crate::{Actor, Error, FieldProblem, Result, Role, Sonde};
use serde::{Deserialize, Serialize};
use store::panel::PanelSettingsRow;

/// The checkboxes that exclude a record, beyond the email opt-out that always does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Exclusions {
    pub contact_fax_opt_out: bool,
    pub contact_do_not_call: bool,
    pub contact_email_bounced: bool,
    /// A Contact checkbox (such as `Survey_Consent_Withheld__c`) that, when true, means the
    /// person withheld consent to be surveyed.
    pub contact_consent_field: Option<String>,
    pub lead_do_not_call: bool,
    pub lead_fax_opt_out: bool,
}

/// One field that excludes, and how the Sent tab names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExclusionField {
    pub field: String,
    pub label: String,
}

fn field(name: &str, label: &str) -> ExclusionField {
    ExclusionField {
        field: name.into(),
        label: label.into(),
    }
}

impl Exclusions {
    /// The fields that exclude a record of `object` (`Contact` or `Lead`), email opt-out
    /// first: it is always on.
    pub fn fields(&self, object: &str) -> Vec<ExclusionField> {
        let mut out = vec![field("HasOptedOutOfEmail", "email opt-out")];
        match object {
            "Contact" => {
                if self.contact_fax_opt_out {
                    out.push(field("HasOptedOutOfFax", "fax opt-out"));
                }
                if self.contact_do_not_call {
                    out.push(field("DoNotCall", "do not call"));
                }
                if self.contact_email_bounced {
                    out.push(field("IsEmailBounced", "email bounced"));
                }
                if let Some(f) = self.contact_consent_field.as_deref() {
                    out.push(field(f, &format!("consent withheld ({f})")));
                }
            }
            "Lead" => {
                if self.lead_do_not_call {
                    out.push(field("DoNotCall", "do not call"));
                }
                if self.lead_fax_opt_out {
                    out.push(field("HasOptedOutOfFax", "fax opt-out"));
                }
            }
            _ => {}
        }
        out
    }
}

/// The Settings tab as saved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PanelSettings {
    pub exclusions: Exclusions,
    /// The Sonde user the panel acts as for a Salesforce user whose email has no Sonde
    /// account (none: such users are refused).
    pub sender_user_id: Option<String>,
}

fn refusal(pass: &PanelPass, error: Error) -> PanelRefusal {
    PanelRefusal {
        error,
        frame_ancestors: pass.frame_ancestors.clone(),
    }
}

impl Sonde {
    /// An organization's settings for a Salesforce org (defaults when never saved).
    pub(crate) async fn panel_settings_of(
        &self,
        org_id: &str,
        sf_org_id: &str,
    ) -> Result<PanelSettings> {
        Ok(match self.store.panel_settings(org_id, sf_org_id).await? {
            Some(row) => PanelSettings {
                exclusions: serde_json::from_str(&row.exclusions)?,
                sender_user_id: row.sender_user_id,
            },
            None => PanelSettings::default(),
        })
    }

    /// The settings a pass's page shows.
    pub async fn panel_settings(&self, actor: &Actor, pass: &PanelPass) -> Result<PanelSettings> {
        self.panel_settings_of(&actor.org_id, &pass.sf_org_id).await
    }

    /// Saves the Settings tab (admins). A consent field must be a field's API name and a
    /// sender an active user of the organization.
    pub async fn save_panel_settings(
        &self,
        actor: &Actor,
        pass: &PanelPass,
        mut asked: PanelSettings,
    ) -> Result<PanelSettings> {
        actor.require(Role::Admin)?;
        let mut problems = Vec::new();
        let consent = asked
            .exclusions
            .contact_consent_field
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_string);
        if let Some(f) = &consent {
            if !is_field_name(f) {
                problems.push(FieldProblem {
                    field: "contactConsentField".into(),
                    message: format!(
                        "{f:?} is not a field's API name (such as Survey_Consent_Withheld__c)"
                    ),
                });
            }
        }
        asked.exclusions.contact_consent_field = consent;
        if let Some(id) = asked.sender_user_id.as_deref().filter(|s| !s.is_empty()) {
            let active = self
                .store
                .user_in_org(&actor.org_id, id)
                .await?
                .is_some_and(|u| u.deactivated_at.is_none());
            if !active {
                problems.push(FieldProblem {
                    field: "senderUserId".into(),
                    message: "choose an active user of your organization".into(),
                });
            }
        } else {
            asked.sender_user_id = None;
        }
        if !problems.is_empty() {
            return Err(Error::invalid_fields(
                "the panel settings have invalid fields",
                problems,
            ));
        }
        self.store
            .save_panel_settings(&PanelSettingsRow {
                org_id: actor.org_id.clone(),
                sf_org_id: pass.sf_org_id.clone(),
                exclusions: serde_json::to_string(&asked.exclusions)?,
                sender_user_id: asked.sender_user_id.clone(),
                updated_by: actor.user_id.clone(),
                updated_at: store::now_ms(),
            })
            .await?;
        Ok(asked)
    }

    /// The sender an admin chose for people of this Salesforce org without a Sonde account,
    /// in the first of the linked organizations that chose one.
    pub(crate) async fn chosen_sender(
        &self,
        orgs: &[String],
        sf_org_id: &str,
    ) -> Result<Option<store::people::User>> {
        for org in orgs {
            if let Some(id) = self.panel_settings_of(org, sf_org_id).await?.sender_user_id {
                if let Some(u) = self
                    .store
                    .user_in_org(org, &id)
                    .await?
                    .filter(|u| u.deactivated_at.is_none())
                {
                    return Ok(Some(u));
                }
            }
        }
        Ok(None)
    }

    /// Disconnect (admins): every link of the organization to this Salesforce org is
    /// revoked at Salesforce and its tokens forgotten, so the org is no longer linked and its
    /// panel refuses to open. Answers how many links were disconnected.
    pub async fn disconnect_panel_org(
        &self,
        actor: &Actor,
        pass: &PanelPass,
    ) -> std::result::Result<usize, PanelRefusal> {
        actor.require(Role::Admin).map_err(|e| refusal(pass, e))?;
        let links = self
            .store
            .connections_to_org(&actor.org_id, &pass.sf_org_id)
            .await
            .map_err(|e| refusal(pass, e.into()))?;
        for row in &links {
            if let Ok(conn) = self.live_connection(&row.id).await {
                if let Err(e) = conn.revoke().await {
                    tracing::warn!(connection = %row.id, error = %e, "revoking at Salesforce failed; forgetting the tokens anyway");
                }
            }
        }
        let why = format!("disconnected from the Salesforce panel by {}", actor.email);
        let done: Result<()> = async {
            let mut tx = self.store.begin().await?;
            for row in &links {
                store::Store::revoke_connection_in(&mut tx, &row.id, &why).await?;
            }
            let label = format!("Salesforce org {}", pass.sf_org_id);
            crate::audit::record(
                &mut tx,
                actor,
                crate::audit::Action::SalesforceOrgDisconnected,
                crate::audit::Subject::new(&pass.sf_org_id, &label),
                serde_json::json!({ "links": links.iter().map(|l| l.id.clone()).collect::<Vec<_>>() }),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        }
        .await;
        done.map_err(|e| refusal(pass, e))?;
        for row in &links {
            self.forget_live(&row.id);
        }
        self.forget_account_contacts(&links.iter().map(|l| l.id.as_str()).collect::<Vec<_>>());
        Ok(links.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_opt_out_always_excludes_and_the_rest_only_when_chosen() {
        let none = Exclusions::default();
        let names = |e: &Exclusions, o: &str| -> Vec<String> {
            e.fields(o).into_iter().map(|f| f.field).collect()
        };
        assert_eq!(names(&none, "Contact"), ["HasOptedOutOfEmail"]);
        assert_eq!(names(&none, "Lead"), ["HasOptedOutOfEmail"]);
        let all = Exclusions {
            contact_fax_opt_out: true,
            contact_do_not_call: true,
            contact_email_bounced: true,
            contact_consent_field: Some("Consent_Withheld__c".into()),
            lead_do_not_call: true,
            lead_fax_opt_out: false,
        };
        assert_eq!(
            names(&all, "Contact"),
            [
                "HasOptedOutOfEmail",
                "HasOptedOutOfFax",
                "DoNotCall",
                "IsEmailBounced",
                "Consent_Withheld__c"
            ]
        );
        assert_eq!(names(&all, "Lead"), ["HasOptedOutOfEmail", "DoNotCall"]);
        assert!(is_field_name("Consent_Withheld__c"));
        assert!(!is_field_name("Id FROM User --"));
    }
}
