//! Sonde's storage: one schema and one set of queries for SQLite (the embedded default) and
//! PostgreSQL (several nodes), through sqlx's `Any` driver so no query is written twice.

pub mod audit;
pub mod availability;
pub mod connections;
pub mod credentials;
pub mod dashboards;
pub mod deletions;
pub mod directory;
pub mod discover;
pub mod discover_accounts;
pub mod discover_view;
pub mod distributions;
pub mod ids;
pub mod link_keys;
pub mod opt_out_sync;
pub mod panel;
pub mod people;
pub mod private_files;
pub mod queue;
pub mod recipients;
pub mod record_links;
pub mod responses;
pub mod salesforce_messages;
pub mod sealed;
pub mod sign_in_throttle;
pub mod sms;
pub mod suppressions;
pub mod surveys;
pub mod user_admin;
pub mod workflows;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use sqlx::{Any, Error as DbError, Transaction};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Runs the migrations named before `name` (copied into a directory of their own under
/// `scratch`), so a test can put data in that only older versions wrote and then migrate.
#[cfg(test)]
pub(crate) async fn migrate_before(store: &Store, scratch: &std::path::Path, name: &str) {
    let earlier = scratch.join(format!("migrations-before-{name}"));
    std::fs::create_dir_all(&earlier).unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for file in std::fs::read_dir(source).unwrap() {
        let path = file.unwrap().path();
        let file_name = path.file_name().unwrap().to_string_lossy().to_string();
        if file_name.as_str() < name {
            std::fs::copy(&path, earlier.join(file_name)).unwrap();
        }
    }
    sqlx::migrate::Migrator::new(earlier.as_path())
        .await
        .unwrap()
        .run(store.pool())
        .await
        .unwrap();
}

/// How long a write waits for another writer's lock before giving up with a transient error
/// (SQLite's busy timeout, PostgreSQL's `lock_timeout`). Long enough to ride out another
/// writer's ordinary transaction or a checkpoint; short enough that a request stuck behind a
/// lock another process holds hears 503 with `Retry-After` within a few seconds, well before
/// clients and proxies give up (commonly after 30 s), instead of a 500 after ten.
pub const LOCK_WAIT: Duration = Duration::from_secs(5);
/// How long a caller waits for a free pooled connection before the store counts as busy.
const ACQUIRE_WAIT: Duration = Duration::from_secs(10);
/// The SQLite writer's page cache (KiB): a fixed bound, so memory stays flat as tables grow.
const WRITER_CACHE_KIB: u32 = 32 * 1024;

/// Every SQLite connection's settings. One writer at a time is SQLite's nature; WAL lets
/// readers proceed meanwhile and the busy timeout makes writers queue instead of failing.
fn sqlite_settings(lock_wait_ms: u128) -> Vec<String> {
    vec![
        "PRAGMA journal_mode = WAL".to_string(),
        format!("PRAGMA busy_timeout = {lock_wait_ms}"),
        "PRAGMA synchronous = NORMAL".to_string(),
        "PRAGMA foreign_keys = ON".to_string(),
    ]
}

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
    /// Where write transactions run ([`Store::begin`]). On SQLite one connection of its own
    /// with a large page cache: SQLite empties a connection's cache whenever another
    /// connection has written since its last transaction, so writes spread over the pool's
    /// connections each started cold, reading every index page they touched again — the
    /// cost grew with the tables (a 100,000-recipient send wrote its last recipients four
    /// times slower than its first). One writer keeps its cache, and writers queue here, in
    /// order, instead of polling SQLite's lock. On PostgreSQL it is the pool itself.
    writer: AnyPool,
    /// One connection of its own for the health probe, so probing never waits for (or ties
    /// up) the connections requests use.
    probe_pool: AnyPool,
    probe_state: Arc<availability::ProbeState>,
    /// The SQLite data dir, whose disk the probe checks for room.
    data_dir: Option<Arc<Path>>,
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
    /// Opens (creating if needed) the SQLite file `sonde.db` under `data_dir`. The directory
    /// is made 0700 and the database files 0600: they hold sessions and the sealed secrets.
    pub async fn open_data_dir(data_dir: &Path) -> Result<Self> {
        let private = |what: &Path, e: std::io::Error| {
            StoreError::Corrupt(format!(
                "cannot make {} private to its owner: {e}",
                what.display()
            ))
        };
        private_files::create_private_dir(data_dir).map_err(|e| private(data_dir, e))?;
        let file = data_dir.join("sonde.db");
        // SQLite creates its files with 0644 (less the umask) and gives the -wal and -shm
        // files the database file's mode: an empty 0600 file is a valid new database.
        if !file.exists() {
            private_files::write_private(&file, b"").map_err(|e| private(&file, e))?;
        }
        for name in ["sonde.db", "sonde.db-wal", "sonde.db-shm"] {
            let path = data_dir.join(name);
            private_files::restrict_file(&path).map_err(|e| private(&path, e))?;
        }
        let mut store = Self::connect(&format!("sqlite://{}?mode=rwc", file.display())).await?;
        store.data_dir = Some(Arc::from(data_dir));
        Ok(store)
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
        let pool = Self::pool_options(backend, (8, 16), LOCK_WAIT)
            .connect(url)
            .await?;
        let writer = match backend {
            Backend::Sqlite => {
                // The same settings as every connection's, and the large cache (this
                // replaces `pool_options`' own `after_connect`).
                Self::pool_options(backend, (1, 1), LOCK_WAIT)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            let cache = format!("PRAGMA cache_size = -{WRITER_CACHE_KIB}");
                            for statement in sqlite_settings(LOCK_WAIT.as_millis())
                                .iter()
                                .chain([&cache])
                            {
                                sqlx::query(statement).execute(&mut *conn).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
            Backend::Postgres => pool.clone(),
        };
        // The probe gives up on a held lock before its own deadline, so it can say why.
        let probe_pool =
            Self::pool_options(backend, (1, 1), availability::PROBE_LOCK_WAIT).connect_lazy(url)?;
        Ok(Self {
            pool,
            writer,
            probe_pool,
            probe_state: Arc::default(),
            data_dir: None,
            backend,
        })
    }

    /// Pool settings for either engine: at most `(sqlite, postgres)` connections, each
    /// waiting `lock_wait` for another writer's lock.
    fn pool_options(
        backend: Backend,
        (sqlite, postgres): (u32, u32),
        lock_wait: Duration,
    ) -> AnyPoolOptions {
        let lock_wait = lock_wait.as_millis();
        AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => sqlite,
                Backend::Postgres => postgres,
            })
            .acquire_timeout(ACQUIRE_WAIT)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    let settings = match backend {
                        // One writer at a time is SQLite's nature; WAL lets readers proceed
                        // meanwhile and the busy timeout makes writers queue instead of failing.
                        Backend::Sqlite => sqlite_settings(lock_wait),
                        Backend::Postgres => vec![format!("SET lock_timeout = {lock_wait}")],
                    };
                    for statement in settings {
                        sqlx::query(&statement).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .after_release(move |conn, _| Box::pin(availability::fit_for_reuse(conn, backend)))
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
        let mut conn = self.pool.acquire().await?;
        if self.backend == Backend::Postgres {
            // Nodes starting together queue on the migrator's lock for as long as the first
            // one's migrations take, which may be longer than a request's lock wait.
            sqlx::query("SET lock_timeout = 0")
                .execute(&mut *conn)
                .await?;
        }
        let migrated = MIGRATOR.run(&mut *conn).await;
        if self.backend == Backend::Postgres {
            // Back to the wait every pooled connection has (or closed, should that fail).
            if sqlx::query(&format!("SET lock_timeout = {}", LOCK_WAIT.as_millis()))
                .execute(&mut *conn)
                .await
                .is_err()
            {
                let _ = conn.close().await;
            }
        }
        migrated?;
        // What cannot be written once for both backends: the documents' full-text index.
        for ddl in discover::search_ddl(self.backend) {
            sqlx::query(ddl).execute(&self.pool).await?;
        }
        self.backfill_response_records().await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The writer connection (on PostgreSQL, the pool): single-statement writes go here, so
    /// on SQLite they queue for the one writer instead of waiting in the busy handler.
    pub fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`): a deferred transaction that read first could not upgrade to a writer
    /// once another connection had committed (SQLITE_BUSY_SNAPSHOT), whatever the busy
    /// timeout; taking the lock up front makes writers queue for it instead.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        })
    }

    /// A savepoint inside `tx`: committing it keeps its writes in `tx`, rolling it back undoes
    /// only them, so a batch can write many things in one transaction and lose one alone.
    pub async fn savepoint<'t>(tx: &'t mut Transaction<'_, Any>) -> Result<Transaction<'t, Any>> {
        Ok(sqlx::Connection::begin(&mut **tx).await?)
    }

    /// Runs one statement without parameters (administration and tests).
    pub async fn execute_raw(&self, sql: &str) -> Result<()> {
        sqlx::query(sql).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.probe_pool.close().await;
        self.writer.close().await;
        self.pool.close().await;
    }

    /// The stored value of a named instance secret (sealed by the engine), if there is one.
    pub async fn instance_secret(&self, name: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM instance_secrets WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("value")).transpose()?)
    }

    /// Stores `value` unless the name has one already, and answers the value that is stored:
    /// racing nodes both try, the loser reads the winner's, so every node signs alike.
    pub async fn create_instance_secret(&self, name: &str, value: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO instance_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await?;
        self.instance_secret(name)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("instance secret {name} vanished")))
    }

    /// Replaces the value `old` of a named secret by `new` (a plain value sealed); false when
    /// another node changed it first.
    pub async fn replace_instance_secret(&self, name: &str, old: &str, new: &str) -> Result<bool> {
        let done =
            sqlx::query("UPDATE instance_secrets SET value = $1 WHERE name = $2 AND value = $3")
                .bind(new)
                .bind(name)
                .bind(old)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// Milliseconds since the Unix epoch: the unit every timestamp column uses.
pub fn now_ms() -> i64 {
    let real = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    real + CLOCK_AHEAD_MS.load(std::sync::atomic::Ordering::Relaxed)
}

/// How far this process's clock runs ahead of the system's: zero unless moved on.
static CLOCK_AHEAD_MS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Moves this process's clock on by `ms`, so what is scheduled for later (a reminder three
/// days after a send) falls due now. For tests and the demo: every time Sonde reads goes
/// through [`now_ms`], and the clock only ever moves forward.
pub fn advance_clock(ms: i64) {
    CLOCK_AHEAD_MS.fetch_add(ms.max(0), std::sync::atomic::Ordering::Relaxed);
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
