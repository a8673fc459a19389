//! A survey's lifecycle: a draft nobody can answer, published (respondents get its current
//! version), closed (its links say so). The builder's changes to a published survey wait as a
//! draft version; publishing makes it the next numbered version ("v2") while responses keep
//! the version they were answered under. Before publishing, the workflows that would name a
//! question, choice or embedded data field the draft no longer has are named, so nobody learns
//! of it from a failed Salesforce write.

use crate::surveys::Survey;
use crate::workflow_survey::survey_problems;
use crate::workflows::Workflow;
use crate::{Actor, Error, FieldProblem, Result, Role, Sonde};
use serde::Serialize;
use store::surveys::PublishedVersion;

/// Where a survey is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SurveyStatus {
    /// Never published: its links say it is not open yet.
    Draft,
    Published,
    /// Its links say it is closed; nothing more is recorded.
    Closed,
}

impl SurveyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SurveyStatus::Draft => "draft",
            SurveyStatus::Published => "published",
            SurveyStatus::Closed => "closed",
        }
    }
}

impl Survey {
    pub fn status(&self) -> SurveyStatus {
        if self.closed_at.is_some() {
            SurveyStatus::Closed
        } else if self.published_at.is_none() {
            SurveyStatus::Draft
        } else {
            SurveyStatus::Published
        }
    }

    /// True when the builder holds changes respondents do not see yet.
    pub fn has_unpublished_changes(&self) -> bool {
        self.published_at.is_none() || self.draft_version.is_some()
    }

    /// Refuses what would record a response for a survey respondents cannot take.
    pub(crate) fn refuse_unless_open(&self, what: &str) -> Result<()> {
        match self.status() {
            SurveyStatus::Published => Ok(()),
            SurveyStatus::Draft => Err(Error::Conflict(format!(
                "the survey \u{201c}{}\u{201d} is a draft: publish it to {what}",
                self.name
            ))),
            SurveyStatus::Closed => Err(Error::Conflict(format!(
                "the survey \u{201c}{}\u{201d} is closed: reopen it to {what}",
                self.name
            ))),
        }
    }
}

/// A workflow that would name what the draft removes, with what it names.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowAtRisk {
    pub workflow_id: String,
    pub name: String,
    pub enabled: bool,
    /// Each place it names something gone, as a workflow save would name it.
    pub problems: Vec<FieldProblem>,
}

/// What publishing the draft would do.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishCheck {
    /// The version that would be published.
    pub version: i64,
    /// Its number once published ("v2").
    pub number: i64,
    pub workflows_at_risk: Vec<WorkflowAtRisk>,
}

impl Sonde {
    /// What publishing the survey's draft would change for its workflows.
    pub async fn publish_check(&self, actor: &Actor, id: &str) -> Result<PublishCheck> {
        let head = self.survey_head(actor, id).await?;
        let published = self.survey(actor, id).await?;
        let versions = self.store.published_versions(&head.id).await?;
        let workflows_at_risk = if head.published_at.is_some() && head.draft_version.is_some() {
            let workflows = self.workflows(actor, id).await?;
            at_risk(&workflows, &published, &head)
        } else {
            Vec::new()
        };
        Ok(PublishCheck {
            version: head.version,
            number: next_number(&versions, &head),
            workflows_at_risk,
        })
    }

    /// Publishes the draft: respondents get it from now on. Refused while a workflow would
    /// name what it removes, unless `despite_workflows` (the person saw them and went on).
    pub async fn publish_survey(
        &self,
        actor: &Actor,
        id: &str,
        despite_workflows: bool,
    ) -> Result<Survey> {
        actor.require(Role::Editor)?;
        let check = self.publish_check(actor, id).await?;
        if !despite_workflows && !check.workflows_at_risk.is_empty() {
            return Err(Error::invalid_fields(
                "publishing would leave workflows naming what this version removes: change them, or publish anyway",
                check
                    .workflows_at_risk
                    .iter()
                    .flat_map(|w| {
                        w.problems.iter().map(|p| FieldProblem {
                            field: format!("workflows.{}.{}", w.workflow_id, p.field),
                            message: format!("workflow \u{201c}{}\u{201d}: {}", w.name, p.message),
                        })
                    })
                    .collect(),
            ));
        }
        let row = self
            .store
            .publish_survey(&actor.org_id, id)
            .await?
            .ok_or(Error::NotFound("survey"))?;
        self.survey_from_row(row).await
    }

    /// Closes the survey (`true`: its links say so, nothing more is recorded) or opens it again.
    pub async fn set_survey_closed(&self, actor: &Actor, id: &str, closed: bool) -> Result<Survey> {
        actor.require(Role::Editor)?;
        let survey = self.survey_row(actor, id).await?;
        let row = self
            .store
            .set_survey_closed(&actor.org_id, &survey.id, closed)
            .await?
            .ok_or(Error::NotFound("survey"))?;
        self.survey_from_row(row).await
    }

    /// The survey's published versions, newest first.
    pub async fn survey_versions(&self, actor: &Actor, id: &str) -> Result<Vec<PublishedVersion>> {
        let survey = self.survey_row(actor, id).await?;
        Ok(self.store.published_versions(&survey.id).await?)
    }
}

/// The number the head would be published as: its own when published already.
fn next_number(versions: &[PublishedVersion], head: &Survey) -> i64 {
    match versions.iter().find(|v| v.version == head.version) {
        Some(v) => v.number,
        None => versions.iter().map(|v| v.number).max().unwrap_or(0) + 1,
    }
}

/// The workflows the draft breaks: problems found against the draft that the published
/// version did not have (a workflow already at odds with its survey is the editor's to show).
fn at_risk(workflows: &[Workflow], published: &Survey, draft: &Survey) -> Vec<WorkflowAtRisk> {
    workflows
        .iter()
        .filter_map(|w| {
            let input = w.input();
            let before = survey_problems(&input, &published.definition);
            let problems: Vec<FieldProblem> = survey_problems(&input, &draft.definition)
                .into_iter()
                .filter(|p| !before.contains(p))
                .collect();
            (!problems.is_empty()).then(|| WorkflowAtRisk {
                workflow_id: w.id.clone(),
                name: w.name.clone(),
                enabled: w.enabled,
                problems,
            })
        })
        .collect()
}

/// Which version of a survey to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionChoice {
    /// What respondents get.
    Published,
    /// The newest: the draft when there is one.
    Head,
    /// One version by its number of storage (`version`).
    Exactly(i64),
}

impl Sonde {
    /// A survey at the version asked for; a version removed (a builder's intermediate step) or
    /// never made is not found.
    pub async fn survey_at(
        &self,
        actor: &Actor,
        id: &str,
        choice: VersionChoice,
    ) -> Result<Survey> {
        match choice {
            VersionChoice::Published => self.survey(actor, id).await,
            VersionChoice::Head => self.survey_head(actor, id).await,
            VersionChoice::Exactly(version) => {
                let row = self.survey_row(actor, id).await?;
                let definition = self.definition(&row.id, version).await?;
                Ok(Survey {
                    version,
                    ..Survey::new(row, definition)
                })
            }
        }
    }
}
