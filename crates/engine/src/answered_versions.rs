//! Responses read with the survey version they were answered under: a choice since renamed or
//! deleted keeps the label the respondent saw, and a question since removed keeps its column.
//! Each version's definition comes from the per-node cache, loaded once per listing.

use crate::responses::Response;
use crate::surveys::Survey;
use crate::{Error, Result, Sonde};
use std::collections::BTreeMap;
use std::sync::Arc;
use survey::export::Column;
use survey::SurveyDefinition;

/// The definitions a set of responses was answered under.
pub struct AnsweredVersions {
    current: Arc<SurveyDefinition>,
    /// By stored version; a version no longer stored reads as the current one.
    by_version: BTreeMap<i64, Arc<SurveyDefinition>>,
    /// Stored version → its published number ("v2").
    numbers: BTreeMap<i64, i64>,
}

impl AnsweredVersions {
    /// The definition `r` was answered under.
    pub fn of(&self, r: &Response) -> &SurveyDefinition {
        self.at(r.survey_version)
    }

    /// The definition of stored version `version` (the current one when it is gone).
    pub fn at(&self, version: i64) -> &SurveyDefinition {
        self.by_version.get(&version).unwrap_or(&self.current)
    }

    /// The published number of the version `r` was answered under ("2" for v2).
    pub fn number(&self, r: &Response) -> Option<i64> {
        self.numbers.get(&r.survey_version).copied()
    }

    /// The survey's current definition.
    pub fn current(&self) -> &SurveyDefinition {
        &self.current
    }

    /// True when the responses span more than one version.
    pub fn several(&self) -> bool {
        self.by_version.len() > 1
    }

    /// Export columns over every version: the current one's, then what only older ones had.
    pub fn columns(&self) -> Vec<Column> {
        let older = self.by_version.values().rev().map(|d| d.as_ref());
        survey::export::columns_over(std::iter::once(self.current.as_ref()).chain(older))
    }
}

impl Sonde {
    /// The definitions of `versions` of `survey` (the current one included).
    pub(crate) async fn versions_of(
        &self,
        survey: &Survey,
        versions: Vec<i64>,
    ) -> Result<AnsweredVersions> {
        let mut by_version = BTreeMap::new();
        by_version.insert(survey.version, survey.definition.clone());
        for v in versions {
            if by_version.contains_key(&v) {
                continue;
            }
            match self.definition(&survey.id, v).await {
                Ok(d) => {
                    by_version.insert(v, d);
                }
                // Removed before this was kept (an older release removed versions nobody
                // was answering): read as the current one.
                Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let numbers = self
            .store
            .published_versions(&survey.id)
            .await?
            .into_iter()
            .map(|v| (v.version, v.number))
            .collect();
        Ok(AnsweredVersions {
            current: survey.definition.clone(),
            by_version,
            numbers,
        })
    }

    /// The definitions `responses` were answered under.
    pub async fn answered_versions(
        &self,
        survey: &Survey,
        responses: &[Response],
    ) -> Result<AnsweredVersions> {
        // Collected first: a borrowing iterator held across the awaits would not be Send.
        let versions: Vec<i64> = responses.iter().map(|r| r.survey_version).collect();
        self.versions_of(survey, versions).await
    }

    /// The definition one response was answered under.
    pub async fn answered_under(
        &self,
        survey: &Survey,
        r: &Response,
    ) -> Result<Arc<SurveyDefinition>> {
        if r.survey_version == survey.version {
            return Ok(survey.definition.clone());
        }
        match self.definition(&survey.id, r.survey_version).await {
            Err(Error::NotFound(_)) => Ok(survey.definition.clone()),
            other => other,
        }
    }

    /// The definitions of every version any response of the survey was answered under (an
    /// export's columns are known before its first row).
    pub(crate) async fn all_answered_versions(&self, survey: &Survey) -> Result<AnsweredVersions> {
        let versions = self
            .store
            .answered_versions(&survey.org_id, &survey.id)
            .await?;
        self.versions_of(survey, versions).await
    }
}
