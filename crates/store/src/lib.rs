//! Sonde's storage: one schema and one set of queries for SQLite (the embedded default) and
//! PostgreSQL (several nodes), through sqlx's `Any` driver so no query is written twice.

pub mod connections;
pub mod directory;
pub mod ids;
pub mod link_keys;
pub mod people;
pub mod queue;
pub mod responses;
pub mod surveys;
pub mod workflows;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

pub use sqlx::{Any, Error as DbError, Transaction};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("{0} already exists")]
    Conflict(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which engine is behind the pool: the few statements that differ (locking) ask this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Store {
    /// Opens (creating if needed) the SQLite file `sonde.db` under `data_dir`.
    pub async fn open_data_dir(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Corrupt(format!(
                "cannot create data dir {}: {e}",
                data_dir.display()
            ))
        })?;
        let file = data_dir.join("sonde.db");
        Self::connect(&format!("sqlite://{}?mode=rwc", file.display())).await
    }

    /// Connects to `sqlite://...` or `postgres://...`. Migrations are not run here: call
    /// [`Store::migrate`] (the server does at start-up, `sonde migrate` does on demand).
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        };
        let options = AnyPoolOptions::new();
        let pool = match backend {
            // One writer at a time is SQLite's nature; WAL lets readers proceed meanwhile and the
            // busy timeout makes writers queue instead of failing.
            Backend::Sqlite => {
                options
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::query("PRAGMA journal_mode = WAL")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA busy_timeout = 10000")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA synchronous = NORMAL")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA foreign_keys = ON")
                                .execute(&mut *conn)
                                .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
            Backend::Postgres => options.max_connections(16).connect(url).await?,
        };
        Ok(Self { pool, backend })
    }

    /// Connects to a new, empty schema of a PostgreSQL database (tests and benchmarks, so they
    /// never touch the database's own tables). Returns the store and the schema's URL.
    pub async fn connect_fresh_schema(base_url: &str, prefix: &str) -> Result<(Self, String)> {
        let schema = format!("{prefix}_{}", ids::random_token(12).to_lowercase());
        let admin = Self::connect(base_url).await?;
        admin
            .execute_raw(&format!("CREATE SCHEMA {schema}"))
            .await?;
        admin.close().await;
        let sep = if base_url.contains('?') { '&' } else { '?' };
        let url = format!("{base_url}{sep}options=-c%20search_path%3D{schema}");
        Ok((Self::connect(&url).await?, url))
    }

    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn begin(&self) -> Result<Transaction<'static, Any>> {
        Ok(self.pool.begin().await?)
    }

    /// Runs one statement without parameters (administration and tests).
    pub async fn execute_raw(&self, sql: &str) -> Result<()> {
        sqlx::query(sql).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn healthy(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A named instance secret, created on first use. Racing nodes both try to insert; the
    /// loser reads the winner's value, so every node signs with the same key.
    pub async fn instance_secret(&self, name: &str) -> Result<String> {
        if let Some(row) = sqlx::query("SELECT value FROM instance_secrets WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
        {
            return Ok(row.try_get("value")?);
        }
        let fresh = ids::random_token(48);
        let _ = sqlx::query("INSERT INTO instance_secrets (name, value) VALUES ($1, $2)")
            .bind(name)
            .bind(&fresh)
            .execute(&self.pool)
            .await;
        let row = sqlx::query("SELECT value FROM instance_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("value")?)
    }
}

/// Milliseconds since the Unix epoch: the unit every timestamp column uses.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Keeps passwords out of error messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "<unparseable URL>".into(),
    }
}

/// Treats a unique-constraint violation as a conflict the caller can explain.
pub(crate) fn conflict_or(err: sqlx::Error, what: impl Into<String>) -> StoreError {
    if let sqlx::Error::Database(db) = &err {
        if db.is_unique_violation() {
            return StoreError::Conflict(what.into());
        }
    }
    StoreError::Database(err)
}

pub(crate) fn get_bool(row: &AnyRow, col: &str) -> Result<bool> {
    Ok(row.try_get::<i64, _>(col)? != 0)
}
