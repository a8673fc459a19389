//! Contact frequency rules, set by admins in the directory's settings: how often one contact
//! may be invited (`distribution::frequency` holds the rule itself). Distributions read them
//! when they write their audience.

use crate::{Actor, Error, FieldProblem, Result, Role, Sonde};
pub use distribution::frequency::{FrequencyRule, Scope};
use store::distributions::FrequencyRuleRow;

/// A saved rule.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SavedFrequencyRule {
    pub id: String,
    #[serde(flatten)]
    pub rule: FrequencyRule,
    /// RFC 3339.
    pub created_at: String,
}

/// The rule a row holds. A row names its scope by kind and id.
pub(crate) fn rule_of(row: &FrequencyRuleRow) -> FrequencyRule {
    let id = row.scope_id.clone().unwrap_or_default();
    let days = |v: Option<i64>| v.and_then(|n| u32::try_from(n).ok());
    FrequencyRule {
        scope: match row.scope.as_str() {
            "survey" => Scope::Survey { survey_id: id },
            "mailing_list" => Scope::MailingList {
                mailing_list_id: id,
            },
            _ => Scope::Organization,
        },
        max_invitations: days(row.max_invitations),
        period_days: days(row.period_days),
        min_days_between: days(row.min_days_between),
    }
}

/// The longest look back any of these rules needs, in days.
pub(crate) fn longest_window_days(rules: &[FrequencyRule]) -> u32 {
    rules
        .iter()
        .flat_map(|r| [r.period_days, r.min_days_between])
        .flatten()
        .max()
        .unwrap_or(0)
}

impl Sonde {
    pub async fn frequency_rules(&self, actor: &Actor) -> Result<Vec<SavedFrequencyRule>> {
        Ok(self
            .store
            .frequency_rules(&actor.org_id)
            .await?
            .iter()
            .map(|row| SavedFrequencyRule {
                id: row.id.clone(),
                rule: rule_of(row),
                created_at: crate::responses::rfc3339(row.created_at),
            })
            .collect())
    }

    /// Adds a rule (admins): checked as a rule, and its survey or list must be the
    /// organization's.
    pub async fn create_frequency_rule(
        &self,
        actor: &Actor,
        rule: FrequencyRule,
    ) -> Result<SavedFrequencyRule> {
        actor.require(Role::Admin)?;
        rule.validate().map_err(|errors| {
            Error::invalid_fields(
                "the frequency rule has invalid fields",
                crate::message_templates::problems(errors),
            )
        })?;
        let unknown = |field: &str, what: &str| {
            Error::invalid_fields(
                format!("the rule names an unknown {what}"),
                vec![FieldProblem {
                    field: field.into(),
                    message: format!("no {what} of your organization has this id"),
                }],
            )
        };
        let (scope, scope_id) = match &rule.scope {
            Scope::Organization => ("organization", None),
            Scope::Survey { survey_id } => {
                if self.store.survey(&actor.org_id, survey_id).await?.is_none() {
                    return Err(unknown("scope.surveyId", "survey"));
                }
                ("survey", Some(survey_id.clone()))
            }
            Scope::MailingList { mailing_list_id } => {
                if self
                    .store
                    .mailing_list(&actor.org_id, mailing_list_id)
                    .await?
                    .is_none()
                {
                    return Err(unknown("scope.mailingListId", "mailing list"));
                }
                ("mailing_list", Some(mailing_list_id.clone()))
            }
        };
        let row = FrequencyRuleRow {
            id: store::ids::frequency_rule(),
            org_id: actor.org_id.clone(),
            scope: scope.into(),
            scope_id,
            max_invitations: rule.max_invitations.map(i64::from),
            period_days: rule.period_days.map(i64::from),
            min_days_between: rule.min_days_between.map(i64::from),
            created_at: store::now_ms(),
        };
        self.store.insert_frequency_rule(&row).await?;
        Ok(SavedFrequencyRule {
            id: row.id.clone(),
            rule: rule_of(&row),
            created_at: crate::responses::rfc3339(row.created_at),
        })
    }

    pub async fn delete_frequency_rule(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Role::Admin)?;
        if !self.store.delete_frequency_rule(&actor.org_id, id).await? {
            return Err(Error::NotFound("frequency rule"));
        }
        Ok(())
    }
}
