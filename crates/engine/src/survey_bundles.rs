//! A survey as one file, with what sends it and acts on its responses: its definition, the
//! templates its workflows' distribution tasks use, its workflows and its opt-out sync
//! override — native JSON (`sonde.survey-bundle/1`), so a survey moves to another Sonde
//! account or instance. Salesforce bindings do not travel (another account has other linked
//! orgs): importing binds every Salesforce task and Salesforce-message trigger to a linked
//! org of the importer's, and validates each workflow there as a save would. An import that
//! cannot be completed leaves nothing behind.

use crate::message_templates::TemplateDefinition;
use crate::opt_out_sync::SurveyOptOutSync;
use crate::workflows::{Event, Task, WorkflowInput};
use crate::{Actor, Error, FieldProblem, Result, Role, Sonde};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub const BUNDLE_FORMAT: &str = "sonde.survey-bundle/1";

/// `GET /api/v1/surveys/{id}/bundle`, and the body of `POST /api/v1/surveys/bundle`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SurveyBundle {
    /// `sonde.survey-bundle/1`.
    pub format: String,
    /// The native survey definition (`docs/survey-definition.md`).
    #[schema(value_type = Object)]
    pub survey: serde_json::Value,
    /// Templates the workflows use, each with the id the workflows name it by.
    #[serde(default)]
    pub templates: Vec<BundledTemplate>,
    #[serde(default)]
    pub workflows: Vec<BundledWorkflow>,
    /// The survey's opt-out sync override (null follows the organization).
    #[serde(default)]
    pub opt_out_sync: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundledTemplate {
    pub id: String,
    #[schema(value_type = Object)]
    pub template: TemplateDefinition,
}

/// A workflow without its Salesforce bindings (the importer's linked org takes their place).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundledWorkflow {
    pub name: String,
    pub event: Event,
    pub enabled: bool,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub conditions: Option<survey::Condition>,
    pub tasks: Vec<Task>,
    #[serde(default)]
    pub allow_unsigned_record_ids: bool,
    #[serde(default)]
    pub object: Option<String>,
}

/// What an import made.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BundleImported {
    pub survey_id: String,
    pub workflow_ids: Vec<String>,
    pub template_ids: Vec<String>,
    /// The linked org the Salesforce tasks and triggers were bound to.
    pub connection_id: Option<String>,
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
}

impl Sonde {
    /// The survey with its templates, workflows and opt-out override.
    pub async fn export_bundle(&self, actor: &Actor, survey_id: &str) -> Result<SurveyBundle> {
        let survey = self.survey(actor, survey_id).await?;
        let workflows = self.workflows(actor, &survey.id).await?;
        let mut template_ids: Vec<String> = Vec::new();
        for w in &workflows {
            for t in &w.tasks {
                if let Task::Distribution(d) = t {
                    if !template_ids.contains(&d.template_id) {
                        template_ids.push(d.template_id.clone());
                    }
                }
            }
        }
        let mut templates = Vec::new();
        for id in template_ids {
            if let Ok(t) = self.template(actor, &id).await {
                templates.push(BundledTemplate {
                    id,
                    template: t.definition,
                });
            }
        }
        Ok(SurveyBundle {
            format: BUNDLE_FORMAT.into(),
            survey: serde_json::to_value(&*survey.definition)?,
            templates,
            workflows: workflows
                .into_iter()
                .map(|w| BundledWorkflow {
                    name: w.name,
                    event: w.event,
                    enabled: w.enabled,
                    conditions: w.conditions,
                    tasks: w.tasks,
                    allow_unsigned_record_ids: w.allow_unsigned_record_ids,
                    object: w.object,
                })
                .collect(),
            opt_out_sync: self
                .store
                .survey_opt_out_sync(&actor.org_id, &survey.id)
                .await?,
        })
    }

    /// A new survey from a bundle, its Salesforce tasks bound to `connection_id` (default:
    /// the importer's first active linked org). Every workflow is validated; if one is
    /// refused, what the import made is taken back and the problems are answered, each named
    /// `workflows[i].…`.
    pub async fn import_bundle(
        &self,
        actor: &Actor,
        bundle: SurveyBundle,
        connection_id: Option<&str>,
    ) -> Result<BundleImported> {
        actor.require(Role::Editor)?;
        if bundle.format != BUNDLE_FORMAT {
            return Err(Error::invalid_fields(
                "this is not a Sonde survey bundle",
                vec![problem(
                    "format",
                    format!("{:?} is not {BUNDLE_FORMAT}", bundle.format),
                )],
            ));
        }
        let needs_org = bundle.workflows.iter().any(|w| {
            w.event == Event::SalesforceMessage
                || w.tasks.iter().any(|t| matches!(t, Task::Salesforce(_)))
        });
        let connection = match connection_id {
            Some(id) => Some(self.own_connection(actor, id).await?.id),
            None => self
                .store
                .connections_of_user(&actor.org_id, &actor.user_id)
                .await?
                .into_iter()
                .find(|c| c.status == "active")
                .map(|c| c.id),
        };
        if needs_org && connection.is_none() {
            return Err(Error::invalid_fields(
                "the bundle's workflows write to Salesforce: link a Salesforce org first",
                vec![problem(
                    "connectionId",
                    "none of your linked orgs is active",
                )],
            ));
        }
        let created = self
            .create_survey(actor, serde_json::to_string(&bundle.survey)?)
            .await?;
        let survey_id = created.survey.id.clone();
        let mut made = BundleImported {
            survey_id: survey_id.clone(),
            workflow_ids: Vec::new(),
            template_ids: Vec::new(),
            connection_id: connection.clone().filter(|_| needs_org),
        };
        match self
            .import_parts(actor, &bundle, connection.as_deref(), &mut made)
            .await
        {
            Ok(()) => Ok(made),
            Err(e) => {
                self.take_back(actor, &made).await;
                Err(e)
            }
        }
    }

    async fn import_parts(
        &self,
        actor: &Actor,
        bundle: &SurveyBundle,
        connection: Option<&str>,
        made: &mut BundleImported,
    ) -> Result<()> {
        let mut ids: HashMap<String, String> = HashMap::new();
        for t in &bundle.templates {
            let saved = self.create_template(actor, t.template.clone()).await?;
            made.template_ids.push(saved.id.clone());
            ids.insert(t.id.clone(), saved.id);
        }
        if let Some(on) = bundle.opt_out_sync {
            self.set_survey_opt_out_sync(
                actor,
                &made.survey_id,
                SurveyOptOutSync { enabled: Some(on) },
            )
            .await?;
        }
        for (i, w) in bundle.workflows.iter().enumerate() {
            let mut tasks = w.tasks.clone();
            for t in &mut tasks {
                match t {
                    Task::Salesforce(s) => s.connection_id = connection.unwrap_or_default().into(),
                    Task::Distribution(d) => {
                        if let Some(new) = ids.get(&d.template_id) {
                            d.template_id = new.clone();
                        }
                    }
                    Task::Directory(_) => {}
                }
            }
            let input = WorkflowInput {
                name: w.name.clone(),
                event: w.event,
                enabled: w.enabled,
                conditions: w.conditions.clone(),
                tasks,
                allow_unsigned_record_ids: w.allow_unsigned_record_ids,
                connection_id: connection
                    .map(str::to_string)
                    .filter(|_| w.event == Event::SalesforceMessage),
                object: w.object.clone(),
            };
            match self.create_workflow(actor, &made.survey_id, input).await {
                Ok(saved) => made.workflow_ids.push(saved.id),
                Err(Error::Invalid { message, problems }) => {
                    let problems = problems
                        .into_iter()
                        .map(|p| problem(format!("workflows[{i}].{}", p.field), p.message))
                        .collect();
                    return Err(Error::invalid_fields(
                        format!("nothing was imported: workflow {:?}: {message}", w.name),
                        problems,
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Undoes a failed import (best effort: each part is the importer's own).
    async fn take_back(&self, actor: &Actor, made: &BundleImported) {
        for id in &made.workflow_ids {
            let _ = self.delete_workflow(actor, id).await;
        }
        let _ = self.archive_survey(actor, &made.survey_id).await;
        let _ = self.purge_survey(actor, &made.survey_id).await;
        for id in &made.template_ids {
            let _ = self.delete_template(actor, id).await;
        }
    }
}
