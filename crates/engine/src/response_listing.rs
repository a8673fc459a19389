//! Responses as the admin UI lists them: selected by status and by when they started, counted,
//! and one response with the workflow runs it fired.

use crate::responses::{decode_page_cursor, encode_page_cursor, Response};
use crate::surveys::Survey;
use crate::workflows::{run_from, Run};
use crate::{Actor, Result, Sonde};
use store::responses::{ResponseFilter, ResponseRow, ResponseStatus};

/// Which of a survey's responses to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseSelection {
    pub status: Option<ResponseStatus>,
    /// Started at or after this moment (ms since the epoch).
    pub started_from: Option<i64>,
    /// Started before this moment (ms).
    pub started_before: Option<i64>,
}

impl ResponseSelection {
    pub(crate) fn filter(&self, after: Option<(i64, String)>, limit: i64) -> ResponseFilter {
        ResponseFilter {
            status: self.status,
            after,
            limit,
            started_from: self.started_from,
            started_before: self.started_before,
        }
    }
}

/// A run one response fired, with its workflow's name to show beside it.
#[derive(Debug, Clone)]
pub struct FiredRun {
    pub run: Run,
    pub workflow_name: String,
}

impl Sonde {
    /// One page of the selected responses, oldest first, and the cursor for the next page.
    pub async fn select_responses(
        &self,
        actor: &Actor,
        survey_id: &str,
        selection: &ResponseSelection,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Survey, Vec<Response>, Option<String>)> {
        let survey = self.survey(actor, survey_id).await?;
        let after = after.map(decode_page_cursor).transpose()?;
        let limit = limit.clamp(1, 1000);
        let rows = self
            .store
            .responses(
                &actor.org_id,
                &survey.id,
                &selection.filter(after, limit as i64 + 1),
            )
            .await?;
        let more = rows.len() > limit;
        let rows: Vec<ResponseRow> = rows.into_iter().take(limit).collect();
        let next = if more {
            rows.last().map(|r| encode_page_cursor(r.started_at, &r.id))
        } else {
            None
        };
        let responses = rows
            .into_iter()
            .map(Response::from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok((survey, responses, next))
    }

    /// How many responses the selection holds, every page of them.
    pub async fn count_selected_responses(
        &self,
        actor: &Actor,
        survey_id: &str,
        selection: &ResponseSelection,
    ) -> Result<i64> {
        let survey = self.survey(actor, survey_id).await?;
        Ok(self
            .store
            .count_selected_responses(&actor.org_id, &survey.id, &selection.filter(None, 0))
            .await?)
    }

    /// The workflow runs a response fired, oldest first; whoever sees the response sees them,
    /// as they see the workflows' run history.
    pub async fn runs_fired_by(
        &self,
        actor: &Actor,
        survey_id: &str,
        response_id: &str,
    ) -> Result<Vec<FiredRun>> {
        let response = self.response(actor, survey_id, response_id).await?;
        let workflows = self
            .store
            .workflows_of_survey(&actor.org_id, &response.survey_id)
            .await?;
        let mut fired = Vec::new();
        for row in self
            .store
            .runs_of_response(&actor.org_id, &response.id)
            .await?
        {
            let attempts = self
                .store
                .job(&row.id)
                .await?
                .map(|j| j.attempts)
                .unwrap_or(0);
            let workflow_name = workflows
                .iter()
                .find(|w| w.id == row.workflow_id)
                .map_or_else(|| "a deleted workflow".to_string(), |w| w.name.clone());
            fired.push(FiredRun {
                run: run_from(&row, attempts)?,
                workflow_name,
            });
        }
        Ok(fired)
    }
}
