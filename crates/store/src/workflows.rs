//! Workflows (event, conditions and tasks as JSON, owned by one user) and their runs: one run
//! per firing, written with its job in the response's transaction.

use crate::{now_ms, Result, Store};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowRow {
    pub id: String,
    pub org_id: String,
    pub survey_id: String,
    pub owner_id: String,
    pub name: String,
    pub event: String,
    pub enabled: bool,
    pub definition: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const WF_COLUMNS: &str =
    "id, org_id, survey_id, owner_id, name, event, enabled, definition, created_at, updated_at";

fn workflow_from(row: &AnyRow) -> Result<WorkflowRow> {
    Ok(WorkflowRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        survey_id: row.try_get("survey_id")?,
        owner_id: row.try_get("owner_id")?,
        name: row.try_get("name")?,
        event: row.try_get("event")?,
        enabled: crate::get_bool(row, "enabled")?,
        definition: row.try_get("definition")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub id: String,
    pub org_id: String,
    pub workflow_id: String,
    pub response_id: String,
    pub trigger: String,
    pub status: String,
    pub condition_met: Option<bool>,
    /// Per-task record (JSON array).
    pub tasks: String,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// A run fired by a Salesforce notification names it (and `response_id` is empty).
    pub notification_id: Option<String>,
}

const RUN_COLUMNS: &str = "id, org_id, workflow_id, response_id, trigger, status, condition_met, \
                           tasks, error, created_at, updated_at, notification_id";

fn run_from(row: &AnyRow) -> Result<RunRow> {
    let met: Option<i64> = row.try_get("condition_met")?;
    Ok(RunRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        workflow_id: row.try_get("workflow_id")?,
        response_id: row.try_get("response_id")?,
        trigger: row.try_get("trigger")?,
        status: row.try_get("status")?,
        condition_met: met.map(|m| m != 0),
        tasks: row.try_get("tasks")?,
        error: row.try_get("error")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        notification_id: row.try_get("notification_id")?,
    })
}

impl Store {
    pub async fn insert_workflow(&self, w: &WorkflowRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO workflows ({WF_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&w.id)
        .bind(&w.org_id)
        .bind(&w.survey_id)
        .bind(&w.owner_id)
        .bind(&w.name)
        .bind(&w.event)
        .bind(i64::from(w.enabled))
        .bind(&w.definition)
        .bind(w.created_at)
        .bind(w.updated_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn update_workflow(&self, w: &WorkflowRow) -> Result<()> {
        sqlx::query(
            "UPDATE workflows SET name = $1, event = $2, enabled = $3, definition = $4, updated_at = $5 \
             WHERE id = $6 AND org_id = $7",
        )
        .bind(&w.name)
        .bind(&w.event)
        .bind(i64::from(w.enabled))
        .bind(&w.definition)
        .bind(now_ms())
        .bind(&w.id)
        .bind(&w.org_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn delete_workflow(&self, org_id: &str, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM workflows WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn workflow(&self, org_id: &str, id: &str) -> Result<Option<WorkflowRow>> {
        let row = sqlx::query(&format!(
            "SELECT {WF_COLUMNS} FROM workflows WHERE id = $1 AND org_id = $2"
        ))
        .bind(id)
        .bind(org_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(workflow_from).transpose()
    }

    pub async fn workflows_of_survey(
        &self,
        org_id: &str,
        survey_id: &str,
    ) -> Result<Vec<WorkflowRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {WF_COLUMNS} FROM workflows WHERE survey_id = $1 AND org_id = $2 ORDER BY created_at, id"
        ))
        .bind(survey_id)
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(workflow_from).collect()
    }

    /// The organization's enabled workflows whose survey is not archived: those that fire.
    pub async fn firing_workflows_of_org(&self, org_id: &str) -> Result<Vec<WorkflowRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {WF_COLUMNS} FROM workflows WHERE org_id = $1 AND enabled = 1 \
             AND NOT EXISTS (SELECT 1 FROM surveys s WHERE s.id = workflows.survey_id \
                             AND s.archived_at IS NOT NULL) \
             ORDER BY created_at, id"
        ))
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(workflow_from).collect()
    }

    /// Enabled workflows listening to `event` on a survey, read inside the response's
    /// transaction so the firing commits with it. An archived survey's fire none.
    pub async fn workflows_for_event(
        tx: &mut Transaction<'_, Any>,
        survey_id: &str,
        event: &str,
    ) -> Result<Vec<WorkflowRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {WF_COLUMNS} FROM workflows WHERE survey_id = $1 AND event = $2 AND enabled = 1 \
             AND NOT EXISTS (SELECT 1 FROM surveys s WHERE s.id = workflows.survey_id \
                             AND s.archived_at IS NOT NULL) \
             ORDER BY created_at, id"
        ))
        .bind(survey_id)
        .bind(event)
        .fetch_all(&mut **tx)
        .await?;
        rows.iter().map(workflow_from).collect()
    }

    pub async fn insert_run(tx: &mut Transaction<'_, Any>, r: &RunRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO workflow_runs ({RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(&r.id)
        .bind(&r.org_id)
        .bind(&r.workflow_id)
        .bind(&r.response_id)
        .bind(&r.trigger)
        .bind(&r.status)
        .bind(r.condition_met.map(i64::from))
        .bind(&r.tasks)
        .bind(&r.error)
        .bind(r.created_at)
        .bind(r.updated_at)
        .bind(&r.notification_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub async fn update_run(
        &self,
        id: &str,
        status: &str,
        condition_met: Option<bool>,
        tasks: &str,
        error: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::update_run_in(&mut tx, id, status, condition_met, tasks, error).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn update_run_in(
        tx: &mut Transaction<'_, Any>,
        id: &str,
        status: &str,
        condition_met: Option<bool>,
        tasks: &str,
        error: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE workflow_runs SET status = $1, condition_met = $2, tasks = $3, error = $4, \
             updated_at = $5 WHERE id = $6",
        )
        .bind(status)
        .bind(condition_met.map(i64::from))
        .bind(tasks)
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub async fn run_by_id(&self, id: &str) -> Result<Option<RunRow>> {
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM workflow_runs WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(run_from).transpose()
    }

    /// Newest first.
    pub async fn runs_of_workflow(
        &self,
        org_id: &str,
        workflow_id: &str,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RunRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM workflow_runs WHERE workflow_id = $1 AND org_id = $2 \
             AND ($3 = '' OR status = $4) ORDER BY created_at DESC, id DESC LIMIT $5"
        ))
        .bind(workflow_id)
        .bind(org_id)
        .bind(status.unwrap_or(""))
        .bind(status.unwrap_or(""))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(run_from).collect()
    }

    /// The runs one response fired, oldest first.
    pub async fn runs_of_response(&self, org_id: &str, response_id: &str) -> Result<Vec<RunRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM workflow_runs WHERE response_id = $1 AND org_id = $2 \
             ORDER BY created_at, id"
        ))
        .bind(response_id)
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(run_from).collect()
    }

    pub async fn run_counts(&self, org_id: &str, workflow_id: &str) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM workflow_runs WHERE workflow_id = $1 AND org_id = $2 GROUP BY status",
        )
        .bind(workflow_id)
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("status")?, r.try_get("n")?)))
            .collect()
    }
}
