//! Survey rows: the definition is stored as its native JSON; the engine parses it.

use crate::{ids, now_ms, Result, Store};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyRow {
    pub id: String,
    pub org_id: String,
    pub owner_id: String,
    pub name: String,
    pub definition: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn survey_from(row: &AnyRow) -> Result<SurveyRow> {
    Ok(SurveyRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        owner_id: row.try_get("owner_id")?,
        name: row.try_get("name")?,
        definition: row.try_get("definition")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const COLUMNS: &str =
    "s.id, s.org_id, s.owner_id, s.name, s.definition, s.created_at, s.updated_at";

impl Store {
    pub async fn create_survey(
        &self,
        org_id: &str,
        owner_id: &str,
        name: &str,
        definition: &str,
    ) -> Result<SurveyRow> {
        let id = ids::survey();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO surveys (id, org_id, owner_id, name, definition, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(org_id)
        .bind(owner_id)
        .bind(name)
        .bind(definition)
        .bind(now)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(SurveyRow {
            id,
            org_id: org_id.into(),
            owner_id: owner_id.into(),
            name: name.into(),
            definition: definition.into(),
            created_at: now,
            updated_at: now,
        })
    }

    pub async fn update_survey_definition(
        &self,
        org_id: &str,
        id: &str,
        name: &str,
        definition: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE surveys SET name = $1, definition = $2, updated_at = $3 WHERE id = $4 AND org_id = $5",
        )
        .bind(name)
        .bind(definition)
        .bind(now_ms())
        .bind(id)
        .bind(org_id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A survey of this organization; ids from another organization are not found.
    pub async fn survey(&self, org_id: &str, id: &str) -> Result<Option<SurveyRow>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM surveys s WHERE s.id = $1 AND s.org_id = $2"
        ))
        .bind(id)
        .bind(org_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(survey_from).transpose()
    }

    /// For respondent pages, which are reached by survey id alone.
    pub async fn survey_for_respondents(&self, id: &str) -> Result<Option<SurveyRow>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM surveys s WHERE s.id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(survey_from).transpose()
    }

    /// Surveys a user may see: all of the organization's when `all` (admins), otherwise those
    /// they own or collaborate on.
    pub async fn surveys_visible_to(
        &self,
        org_id: &str,
        user_id: &str,
        all: bool,
    ) -> Result<Vec<SurveyRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM surveys s WHERE s.org_id = $1 AND ($2 = 1 OR s.owner_id = $3 \
             OR EXISTS (SELECT 1 FROM survey_collaborators c WHERE c.survey_id = s.id AND c.user_id = $4)) \
             ORDER BY s.created_at DESC, s.id"
        ))
        .bind(org_id)
        .bind(i64::from(all))
        .bind(user_id)
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(survey_from).collect()
    }

    pub async fn is_collaborator(&self, survey_id: &str, user_id: &str) -> Result<bool> {
        let row = sqlx::query(
            "SELECT 1 AS one FROM survey_collaborators WHERE survey_id = $1 AND user_id = $2",
        )
        .bind(survey_id)
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.is_some())
    }

    pub async fn add_collaborator(&self, survey_id: &str, user_id: &str) -> Result<()> {
        if self.is_collaborator(survey_id, user_id).await? {
            return Ok(());
        }
        sqlx::query("INSERT INTO survey_collaborators (survey_id, user_id) VALUES ($1, $2)")
            .bind(survey_id)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn collaborators(&self, survey_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT user_id FROM survey_collaborators WHERE survey_id = $1 ORDER BY user_id",
        )
        .bind(survey_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get("user_id")?)).collect()
    }
}
