//! The templates library: reusable email and SMS invitations of an organization. Saving checks
//! the template as `distribution::template` knows how (the survey link in every body, piped
//! text well formed, languages real), each problem naming its field.

use crate::{Actor, Error, FieldProblem, Result, Role, Sonde};
use distribution::segments::SmsSize;
use distribution::template::{EmailTemplate, SmsTemplate};
use distribution::{Channel, FieldError};
use store::distributions::TemplateRow;

/// A template as saved and answered: `channel` says which kind, the rest are its fields.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum TemplateDefinition {
    Email(EmailTemplate),
    Sms(SmsTemplate),
}

impl TemplateDefinition {
    pub fn channel(&self) -> &'static str {
        match self {
            TemplateDefinition::Email(_) => "email",
            TemplateDefinition::Sms(_) => "sms",
        }
    }

    pub fn name(&self) -> &str {
        match self {
            TemplateDefinition::Email(t) => &t.name,
            TemplateDefinition::Sms(t) => &t.name,
        }
    }

    fn validate(&self) -> std::result::Result<(), Vec<FieldError>> {
        match self {
            TemplateDefinition::Email(t) => t.validate(),
            TemplateDefinition::Sms(t) => t.validate(),
        }
    }

    /// Whether a distribution on `channel` can send this template.
    pub fn serves(&self, channel: Channel) -> bool {
        matches!(self, TemplateDefinition::Email(_)) != channel.is_sms()
    }
}

/// A saved template.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    pub id: String,
    pub owner_id: String,
    #[serde(flatten)]
    pub definition: TemplateDefinition,
    /// An SMS template's default message as it costs before piped text is filled in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_size: Option<SmsSize>,
    /// RFC 3339.
    pub created_at: String,
    pub updated_at: String,
}

impl Template {
    pub(crate) fn from_row(row: &TemplateRow) -> Result<Self> {
        let definition: TemplateDefinition = serde_json::from_str(&row.definition)?;
        let sms_size = match &definition {
            TemplateDefinition::Sms(t) => Some(distribution::segments::measure(&t.body)),
            TemplateDefinition::Email(_) => None,
        };
        Ok(Self {
            id: row.id.clone(),
            owner_id: row.owner_id.clone(),
            definition,
            sms_size,
            created_at: crate::responses::rfc3339(row.created_at),
            updated_at: crate::responses::rfc3339(row.updated_at),
        })
    }
}

/// The distribution crate's field errors as the engine reports them.
pub(crate) fn problems(errors: Vec<FieldError>) -> Vec<FieldProblem> {
    errors
        .into_iter()
        .map(|e| FieldProblem {
            field: e.field,
            message: e.message,
        })
        .collect()
}

fn checked(definition: &TemplateDefinition) -> Result<()> {
    definition.validate().map_err(|errors| {
        Error::invalid_fields("the template has invalid fields", problems(errors))
    })
}

impl Sonde {
    pub async fn create_template(
        &self,
        actor: &Actor,
        definition: TemplateDefinition,
    ) -> Result<Template> {
        actor.require(Role::Editor)?;
        checked(&definition)?;
        let now = store::now_ms();
        let row = TemplateRow {
            id: store::ids::message_template(),
            org_id: actor.org_id.clone(),
            owner_id: actor.user_id.clone(),
            name: definition.name().trim().to_string(),
            channel: definition.channel().into(),
            definition: serde_json::to_string(&definition)?,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_template(&row).await?;
        Template::from_row(&row)
    }

    /// Replaces a template; distributions already sent keep what they sent, scheduled ones
    /// and follow-ups still to come send the new text. Its channel cannot change.
    pub async fn update_template(
        &self,
        actor: &Actor,
        id: &str,
        definition: TemplateDefinition,
    ) -> Result<Template> {
        actor.require(Role::Editor)?;
        let mut row = self.template_row(&actor.org_id, id).await?;
        if row.channel != definition.channel() {
            return Err(Error::invalid_fields(
                "a template's channel cannot change",
                vec![FieldProblem {
                    field: "channel".into(),
                    message: format!(
                        "this template is an {} template; make a new one for {}",
                        row.channel,
                        definition.channel()
                    ),
                }],
            ));
        }
        checked(&definition)?;
        row.name = definition.name().trim().to_string();
        row.definition = serde_json::to_string(&definition)?;
        if !self.store.update_template(&row).await? {
            return Err(Error::NotFound("template"));
        }
        self.template(actor, id).await
    }

    pub async fn templates(&self, actor: &Actor) -> Result<Vec<Template>> {
        self.store
            .templates(&actor.org_id)
            .await?
            .iter()
            .map(Template::from_row)
            .collect()
    }

    pub async fn template(&self, actor: &Actor, id: &str) -> Result<Template> {
        Template::from_row(&self.template_row(&actor.org_id, id).await?)
    }

    /// Deletes a template no distribution uses; 409 naming the reason while one does.
    pub async fn delete_template(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Role::Editor)?;
        self.template_row(&actor.org_id, id).await?;
        if !self.store.delete_unused_template(&actor.org_id, id).await? {
            return Err(Error::Conflict(
                "a distribution uses this template (as its invitation, a reminder or a thank-you); \
                 it stays while that distribution does"
                    .into(),
            ));
        }
        Ok(())
    }

    pub(crate) async fn template_row(&self, org_id: &str, id: &str) -> Result<TemplateRow> {
        self.store
            .template(org_id, id)
            .await?
            .ok_or(Error::NotFound("template"))
    }
}
