//! Survey rows and their definitions by version. A definition is stored as its native JSON in
//! `survey_versions`, never changed once written: an edit adds a version, and a response in
//! progress keeps the one it started on. The engine parses (and caches) definitions.

use crate::{ids, now_ms, Result, Store};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// A survey without its definition (fetched by version with [`Store::survey_definition`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyRow {
    pub id: String,
    pub org_id: String,
    pub owner_id: String,
    pub name: String,
    /// The current definition's version, from 1.
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// When it was archived: hidden from lists, closed to respondents, firing no workflow.
    pub archived_at: Option<i64>,
}

pub(crate) fn survey_from(row: &AnyRow) -> Result<SurveyRow> {
    Ok(SurveyRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        owner_id: row.try_get("owner_id")?,
        name: row.try_get("name")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        archived_at: row.try_get("archived_at")?,
    })
}

const COLUMNS: &str =
    "s.id, s.org_id, s.owner_id, s.name, s.version, s.created_at, s.updated_at, s.archived_at";

impl Store {
    /// A new survey at version 1.
    pub async fn create_survey(
        &self,
        org_id: &str,
        owner_id: &str,
        name: &str,
        definition: String,
    ) -> Result<SurveyRow> {
        let id = ids::survey();
        let now = now_ms();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO surveys (id, org_id, owner_id, name, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $6)",
        )
        .bind(&id)
        .bind(org_id)
        .bind(owner_id)
        .bind(name)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_version(&mut tx, &id, 1, definition, now).await?;
        tx.commit().await?;
        Ok(SurveyRow {
            id,
            org_id: org_id.into(),
            owner_id: owner_id.into(),
            name: name.into(),
            version: 1,
            created_at: now,
            updated_at: now,
            archived_at: None,
        })
    }

    /// Stores a new version and makes it current; returns the survey at it, or `None` when
    /// there is no such survey in the organization. Versions older than it that no response
    /// in progress uses are removed.
    pub async fn update_survey_definition(
        &self,
        org_id: &str,
        id: &str,
        name: &str,
        definition: String,
    ) -> Result<Option<SurveyRow>> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "UPDATE surveys SET name = $1, version = version + 1, updated_at = $2 \
             WHERE id = $3 AND org_id = $4 \
             RETURNING id, org_id, owner_id, name, version, created_at, updated_at, archived_at",
        )
        .bind(name)
        .bind(now)
        .bind(id)
        .bind(org_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let survey = survey_from(&row)?;
        let version = survey.version;
        insert_version(&mut tx, id, version, definition, now).await?;
        sqlx::query(
            "DELETE FROM survey_versions WHERE survey_id = $1 AND version < $2 AND NOT EXISTS \
             (SELECT 1 FROM responses r WHERE r.survey_id = survey_versions.survey_id \
              AND r.survey_version = survey_versions.version AND r.status = 'in_progress')",
        )
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(survey))
    }

    /// One version's definition JSON; `None` once it was removed (or never existed).
    pub async fn survey_definition(&self, survey_id: &str, version: i64) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT definition FROM survey_versions WHERE survey_id = $1 AND version = $2",
        )
        .bind(survey_id)
        .bind(version)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| Ok(r.try_get("definition")?)).transpose()
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

    /// For respondent pages, which are reached by survey id alone. An archived survey is
    /// closed to them: not found.
    pub async fn survey_for_respondents(&self, id: &str) -> Result<Option<SurveyRow>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM surveys s WHERE s.id = $1 AND s.archived_at IS NULL"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(survey_from).transpose()
    }

    /// Surveys a user may see: all of the organization's when `all` (admins), otherwise those
    /// they own or collaborate on; the archived ones when `archived`, else the others.
    pub async fn surveys_visible_to(
        &self,
        org_id: &str,
        user_id: &str,
        all: bool,
        archived: bool,
    ) -> Result<Vec<SurveyRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM surveys s WHERE s.org_id = $1 AND ($2 = 1 OR s.owner_id = $3 \
             OR EXISTS (SELECT 1 FROM survey_collaborators c WHERE c.survey_id = s.id AND c.user_id = $4)) \
             AND (s.archived_at IS NOT NULL) = ($5 = 1) \
             ORDER BY s.created_at DESC, s.id"
        ))
        .bind(org_id)
        .bind(i64::from(all))
        .bind(user_id)
        .bind(user_id)
        .bind(i64::from(archived))
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

async fn insert_version(
    tx: &mut Transaction<'_, Any>,
    survey_id: &str,
    version: i64,
    definition: String,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO survey_versions (survey_id, version, definition, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(survey_id)
    .bind(version)
    .bind(definition)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
