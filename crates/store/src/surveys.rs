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
    /// The newest version, not published yet, of a published survey (the builder's changes).
    pub draft_version: Option<i64>,
    /// When it was first published; None while it is a draft nobody can answer.
    pub published_at: Option<i64>,
    /// When it was closed to respondents.
    pub closed_at: Option<i64>,
}

impl SurveyRow {
    /// The version the builder shows and changes: the draft, else the current one.
    pub fn head_version(&self) -> i64 {
        self.draft_version.unwrap_or(self.version)
    }
}

/// Whether a survey's changes are published as they are made (a script's `PUT`) or kept as a
/// draft until someone publishes them (the builder).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publishing {
    Now,
    Draft,
}

/// What saving a version did.
#[derive(Debug)]
pub enum VersionSaved {
    Saved(SurveyRow),
    NotFound,
    /// The survey has moved on since the change was made: its newest version now.
    Moved {
        head: i64,
    },
}

/// One published version of a survey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedVersion {
    pub version: i64,
    /// 1 for the first version published, 2 for the next…
    pub number: i64,
    pub published_at: i64,
    /// Responses answered under it.
    pub responses: i64,
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
        draft_version: row.try_get("draft_version")?,
        published_at: row.try_get("published_at")?,
        closed_at: row.try_get("closed_at")?,
    })
}

const COLUMNS: &str = "s.id, s.org_id, s.owner_id, s.name, s.version, s.created_at, s.updated_at, \
     s.archived_at, s.draft_version, s.published_at, s.closed_at";
/// [`COLUMNS`] for a `RETURNING` clause, which names no table.
pub(crate) const RETURNED: &str = "id, org_id, owner_id, name, version, created_at, updated_at, \
     archived_at, draft_version, published_at, closed_at";

impl Store {
    /// A new survey at version 1, published at once or a draft.
    pub async fn create_survey(
        &self,
        org_id: &str,
        owner_id: &str,
        name: &str,
        definition: String,
        publishing: Publishing,
    ) -> Result<SurveyRow> {
        let id = ids::survey();
        let now = now_ms();
        let published_at = (publishing == Publishing::Now).then_some(now);
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO surveys (id, org_id, owner_id, name, version, created_at, updated_at, \
             published_at) VALUES ($1, $2, $3, $4, 1, $5, $6, $7)",
        )
        .bind(&id)
        .bind(org_id)
        .bind(owner_id)
        .bind(name)
        .bind(now)
        .bind(now)
        .bind(published_at)
        .execute(&mut *tx)
        .await?;
        insert_version(&mut tx, &id, 1, definition, now).await?;
        if published_at.is_some() {
            mark_published(&mut tx, &id, 1, now).await?;
        }
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
            draft_version: None,
            published_at,
            closed_at: None,
        })
    }

    /// Stores a new version; returns the survey at it, or `None` when there is no such survey
    /// in the organization. Published now, it becomes the version respondents get; as a draft
    /// of a published survey it waits in `draft_version` (a survey never published simply
    /// moves on: nobody answers it yet). Versions older than it that were never published and
    /// that no response uses are removed (the builder's intermediate steps).
    pub async fn update_survey_definition(
        &self,
        org_id: &str,
        id: &str,
        name: &str,
        definition: String,
        publishing: Publishing,
    ) -> Result<Option<SurveyRow>> {
        match self
            .save_survey_version(org_id, id, name, definition, publishing, None)
            .await?
        {
            VersionSaved::Saved(row) => Ok(Some(row)),
            VersionSaved::NotFound | VersionSaved::Moved { .. } => Ok(None),
        }
    }

    /// [`Store::update_survey_definition`], refused when the survey's newest version is no
    /// longer `expected_head` (checked with the row locked, so of two changes made from one
    /// version only the first is stored).
    pub async fn save_survey_version(
        &self,
        org_id: &str,
        id: &str,
        name: &str,
        definition: String,
        publishing: Publishing,
        expected_head: Option<i64>,
    ) -> Result<VersionSaved> {
        let Some(change) = self.begin_survey_change(org_id, id).await? else {
            return Ok(VersionSaved::NotFound);
        };
        if let Some(expected) = expected_head {
            if expected != change.survey.head_version() {
                return Ok(VersionSaved::Moved {
                    head: change.survey.head_version(),
                });
            }
        }
        change
            .finish(name, definition, publishing)
            .await
            .map(VersionSaved::Saved)
    }

    /// Takes the survey for a change made from its newest version: nobody else stores a
    /// version of it until [`SurveyChange::finish`] (or the change is dropped). On SQLite that
    /// holds the one writer, so the caller computes the change at once.
    pub async fn begin_survey_change(
        &self,
        org_id: &str,
        id: &str,
    ) -> Result<Option<SurveyChange>> {
        let mut tx = self.begin().await?;
        Ok(lock_survey(&mut tx, org_id, id)
            .await?
            .map(|survey| SurveyChange { tx, survey }))
    }
}

/// A survey taken for a change (see [`Store::begin_survey_change`]).
pub struct SurveyChange {
    tx: Transaction<'static, Any>,
    /// The survey as it is while taken.
    pub survey: SurveyRow,
}

impl SurveyChange {
    /// Stores `definition` as the next version and lets the survey go.
    pub async fn finish(
        mut self,
        name: &str,
        definition: String,
        publishing: Publishing,
    ) -> Result<SurveyRow> {
        let now = now_ms();
        let (tx, current, id) = (&mut self.tx, &self.survey, self.survey.id.clone());
        let id = id.as_str();
        let version = current.head_version() + 1;
        insert_version(tx, id, version, definition, now).await?;
        let as_draft = publishing == Publishing::Draft && current.published_at.is_some();
        let row = sqlx::query(&format!(
            "UPDATE surveys SET name = $1, updated_at = $2, \
             version = CASE WHEN $3 = 1 THEN version ELSE $4 END, \
             draft_version = CASE WHEN $5 = 1 THEN $6 ELSE NULL END \
             WHERE id = $7 RETURNING {RETURNED}"
        ))
        .bind(name)
        .bind(now)
        .bind(i64::from(as_draft))
        .bind(version)
        .bind(i64::from(as_draft))
        .bind(version)
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
        let survey = survey_from(&row)?;
        if publishing == Publishing::Now && survey.published_at.is_some() {
            mark_published(tx, id, version, now).await?;
        }
        remove_unused_drafts(tx, id, version).await?;
        self.tx.commit().await?;
        Ok(survey)
    }
}

impl Store {
    /// Publishes the survey's draft (or, never published, its version): respondents get it
    /// from now on, numbered as the next published version. `None` when there is no such
    /// survey; the survey unchanged when there was nothing to publish.
    pub async fn publish_survey(&self, org_id: &str, id: &str) -> Result<Option<SurveyRow>> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let Some(current) = lock_survey(&mut tx, org_id, id).await? else {
            return Ok(None);
        };
        if current.published_at.is_some() && current.draft_version.is_none() {
            return Ok(Some(current));
        }
        let version = current.head_version();
        let row = sqlx::query(&format!(
            "UPDATE surveys SET version = $1, draft_version = NULL, updated_at = $2, \
             published_at = COALESCE(published_at, $3) WHERE id = $4 RETURNING {RETURNED}"
        ))
        .bind(version)
        .bind(now)
        .bind(now)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        mark_published(&mut tx, id, version, now).await?;
        tx.commit().await?;
        survey_from(&row).map(Some)
    }

    /// Closes a survey to respondents (`true`) or opens it again; `None` when there is no
    /// such survey.
    pub async fn set_survey_closed(
        &self,
        org_id: &str,
        id: &str,
        closed: bool,
    ) -> Result<Option<SurveyRow>> {
        let row = sqlx::query(&format!(
            "UPDATE surveys SET closed_at = CASE WHEN $1 = 1 THEN COALESCE(closed_at, $2) \
             ELSE NULL END WHERE id = $3 AND org_id = $4 RETURNING {RETURNED}"
        ))
        .bind(i64::from(closed))
        .bind(now_ms())
        .bind(id)
        .bind(org_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(survey_from).transpose()
    }

    /// A survey's published versions, newest first, with how many responses each holds.
    pub async fn published_versions(&self, survey_id: &str) -> Result<Vec<PublishedVersion>> {
        let rows = sqlx::query(
            "SELECT v.version, v.published_number, v.published_at, \
             (SELECT COUNT(*) FROM responses r WHERE r.survey_id = v.survey_id \
              AND r.survey_version = v.version) AS responses \
             FROM survey_versions v WHERE v.survey_id = $1 AND v.published_number IS NOT NULL \
             ORDER BY v.published_number DESC",
        )
        .bind(survey_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PublishedVersion {
                    version: r.try_get("version")?,
                    number: r.try_get("published_number")?,
                    published_at: r.try_get("published_at")?,
                    responses: r.try_get("responses")?,
                })
            })
            .collect()
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
    /// not found; whether it is published or closed is the caller's to say.
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

/// The survey's row, locked for the rest of the transaction (PostgreSQL; SQLite's writer holds
/// the database), so two changes at once number their versions one after the other.
async fn lock_survey(
    tx: &mut Transaction<'_, Any>,
    org_id: &str,
    id: &str,
) -> Result<Option<SurveyRow>> {
    let row = sqlx::query(&format!(
        "UPDATE surveys SET version = version WHERE id = $1 AND org_id = $2 RETURNING {RETURNED}"
    ))
    .bind(id)
    .bind(org_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(survey_from).transpose()
}

/// Numbers `version` as the survey's next published one.
async fn mark_published(
    tx: &mut Transaction<'_, Any>,
    survey_id: &str,
    version: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE survey_versions SET published_at = $1, published_number = \
         (SELECT COALESCE(MAX(p.published_number), 0) + 1 FROM survey_versions p \
          WHERE p.survey_id = $2) WHERE survey_id = $3 AND version = $4 \
         AND published_number IS NULL",
    )
    .bind(now)
    .bind(survey_id)
    .bind(survey_id)
    .bind(version)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Forgets the versions before `head` that were never published and that no response uses.
async fn remove_unused_drafts(
    tx: &mut Transaction<'_, Any>,
    survey_id: &str,
    head: i64,
) -> Result<()> {
    sqlx::query(
        "DELETE FROM survey_versions WHERE survey_id = $1 AND version < $2 \
         AND published_number IS NULL AND NOT EXISTS \
         (SELECT 1 FROM responses r WHERE r.survey_id = survey_versions.survey_id \
          AND r.survey_version = survey_versions.version)",
    )
    .bind(survey_id)
    .bind(head)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
