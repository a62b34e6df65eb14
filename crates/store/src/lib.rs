//! The device registry: organizations and projects, devices, their encrypted credentials, and the
//! hash-chained audit log — one repository API over SQLite (embedded default) and PostgreSQL.
//!
//! Both backends run the same SQL through sqlx's `Any` driver, so a behaviour is written once and
//! the same test suite runs against each. Dialect differences are confined to the migrations
//! (`migrations/sqlite`, `migrations/postgres`, same schema) and to how a write transaction takes
//! its lock ([`Store::begin_write`]).
//!
//! Every mutation is one transaction that also appends its audit event, so a change and its
//! record land together or not at all. Records of what happened elsewhere and need no answer
//! (tool calls) go through [`Store::audit_queue`] instead, which commits them in groups. Writes
//! are serialized (SQLite `BEGIN IMMEDIATE`, a PostgreSQL advisory transaction lock): the audit
//! chain needs a total order, and registry writes are rare enough that one writer at a time
//! costs nothing.

mod audit;
mod audit_queue;
pub mod binary_backups;
mod console;
mod credentials;
mod devices;
pub mod jobs;
pub mod plans;
pub mod runbooks;
pub mod snapshots;
mod tenancy;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;
mod tokens;

pub use audit::{
    AuditContext, AuditEvent, AuditFilter, ChainBreak, ChainReport, ProjectAuditFilter,
};
pub use audit_queue::{AuditQueueLimits, AuditQueueStats, AuditWriter};

/// Appends an audit event inside a write transaction from [`Store::begin_write`], for crates
/// whose own changes must land together with their record.
pub async fn append_audit_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    ctx: &AuditContext,
    action: &str,
    target: &str,
    details: serde_json::Value,
) -> Result<i64, StoreError> {
    audit::append(tx, ctx, action, target, details).await
}
pub use console::{ConsoleLogin, ConsoleSession};
pub use credentials::{Credentials, RotationProgress};
pub use devices::{Device, DeviceFilter, DevicePage, DevicePatch, Facts, NewDevice};
pub use tenancy::{Organization, Project};
pub use tokens::{ApiToken, NewApiToken};

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use vault::ExposeSecret;
use vault::SecretString;

/// Where the registry lives.
#[derive(Clone)]
pub enum Target {
    /// A SQLite file, created (with its parent directory) on first use.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (may carry a password; never displayed).
    Postgres(SecretString),
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Sqlite(path) => write!(f, "Sqlite({})", path.display()),
            Target::Postgres(_) => f.write_str("Postgres(<url hidden>)"),
        }
    }
}

/// Which SQL dialect a store speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Everything the registry can refuse or fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("cannot open the {backend} database: {source}")]
    Connect {
        backend: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "the database was migrated by a newer release (migration {version}, \"{description}\", is \
         unknown to this one): run that release, or restore the backup taken before the upgrade"
    )]
    NewerSchema { version: i64, description: String },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("organization \"{0}\" already exists")]
    OrgExists(String),
    #[error("organization \"{0}\" does not exist; see `routeros-mcp org list`")]
    OrgNotFound(String),
    #[error("project \"{0}\" already exists")]
    ProjectExists(String),
    #[error("project \"{0}\" does not exist; see `routeros-mcp project list`")]
    ProjectNotFound(String),
    #[error("a device named \"{name}\" already exists in project {project}")]
    DuplicateDevice { project: String, name: String },
    #[error("no device \"{what}\" in {scope}; see `routeros-mcp device list`")]
    DeviceNotFound { what: String, scope: String },
    #[error(
        "device name \"{name}\" is used in several projects ({projects}); say which with --project"
    )]
    AmbiguousDevice { name: String, projects: String },
    #[error("device \"{0}\" is decommissioned")]
    Decommissioned(String),
    #[error("device \"{0}\" has no stored credentials")]
    NoCredentials(String),
    #[error("no API token with id \"{0}\"; see `routeros-mcp token list`")]
    TokenNotFound(String),
    #[error("API token \"{0}\" is already revoked")]
    TokenRevoked(String),
    #[error(transparent)]
    Vault(#[from] vault::VaultError),
    /// A row holds a value the application would never have written.
    #[error("the database holds an invalid value in {0}; was it edited by hand?")]
    Corrupt(String),
    /// An operation was stopped by its caller (e.g. a progress callback) and rolled back.
    #[error("stopped before completion, nothing was changed: {0}")]
    Aborted(String),
    /// A queued audit record holds text the database cannot store.
    #[error(
        "the audit {field} contains a NUL character, which the database cannot store; the record was not queued"
    )]
    AuditText { field: &'static str },
    /// The audit writer stopped (its database pool was closed), so nothing more can be queued.
    #[error(
        "the audit writer has stopped because the database was closed; the record was not written"
    )]
    AuditWriterStopped,
    #[error(
        "runbook {runbook} is already running on this device (run {run_id}); continue it with \
         runbook.run run_id={run_id}, or end it with runbook.record_outcome outcome=abandoned"
    )]
    RunbookBusy { runbook: String, run_id: String },
    #[error(
        "run {0} was moved on by another call meanwhile; read it again and continue from there"
    )]
    RunbookRunMoved(String),
    #[error("runbook {name} already has this content as version {id} ({status})")]
    RunbookVersionExists {
        name: String,
        id: String,
        status: String,
    },
    #[error("no runbook version \"{0}\"; `routeros-mcp runbook review list` shows the proposals")]
    RunbookVersionNotFound(String),
    #[error("runbook version {id} is {status}; this needs a proposal that is {allowed}")]
    RunbookReviewState {
        id: String,
        status: String,
        allowed: String,
    },
    /// A fleet job kind or key the jobs table does not accept.
    #[error("{0}")]
    InvalidJob(String),
}

/// The registry. Cheap to clone (a connection pool inside).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The SQLite file, for what must be shared by every process that opens it (file locks).
    sqlite_path: Option<PathBuf>,
    /// The group-commit writer for queued audit records, started on first use and shared by
    /// every clone, so one store has one writer task.
    audit_queue: Arc<OnceLock<AuditWriter>>,
}

/// Key of the PostgreSQL advisory lock that serializes registry writes ("ros-mcp" in ASCII).
const WRITE_LOCK_KEY: i64 = 0x0072_6f73_2d6d_6370;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

impl Store {
    /// Opens (creating a SQLite file if needed) without migrating.
    pub async fn open(target: &Target, pool_size: u32) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, options) = match target {
            Target::Sqlite(path) => {
                create_private_file(path).map_err(|e| StoreError::Connect {
                    backend: "sqlite",
                    source: sqlx::Error::Io(e),
                })?;
                let url = format!("sqlite://{}?mode=rwc", path.display());
                (Backend::Sqlite, url)
            }
            Target::Postgres(url) => (Backend::Postgres, url.expose_secret().to_owned()),
        };
        let connect_err = |source| StoreError::Connect {
            backend: backend.as_str(),
            source,
        };
        let options = AnyConnectOptions::from_str(&options).map_err(connect_err)?;
        let pool = AnyPoolOptions::new()
            .max_connections(pool_size.max(1))
            .acquire_timeout(Duration::from_secs(15))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers proceed during a write; the busy timeout makes
                        // concurrent writers queue instead of failing.
                        sqlx::raw_sql("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
                            .execute(conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(connect_err)?;
        let sqlite_path = match target {
            Target::Sqlite(path) => Some(path.clone()),
            Target::Postgres(_) => None,
        };
        Ok(Self {
            pool,
            backend,
            sqlite_path,
            audit_queue: Arc::new(OnceLock::new()),
        })
    }

    /// Opens and applies pending migrations: what every command does at startup.
    pub async fn open_and_migrate(target: &Target, pool_size: u32) -> Result<Self, StoreError> {
        let store = Self::open(target, pool_size).await?;
        store.migrate().await?;
        Ok(store)
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies pending migrations; returns the versions and descriptions applied now.
    pub async fn migrate(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let before = self.applied_migrations().await.unwrap_or_default();
        let known = self.known_migrations();
        if let Some((version, description)) = before.iter().find(|m| !known.contains(m)) {
            return Err(StoreError::NewerSchema {
                version: *version,
                description: description.clone(),
            });
        }
        self.migrator().run(&self.pool).await?;
        let after = self.applied_migrations().await?;
        Ok(after.into_iter().filter(|m| !before.contains(m)).collect())
    }

    /// Reverts every migration down to (and excluding) `target_version`; `0` reverts all.
    pub async fn migrate_down_to(&self, target_version: i64) -> Result<(), StoreError> {
        self.migrator().undo(&self.pool, target_version).await?;
        Ok(())
    }

    /// Applied migrations (version, description), oldest first.
    pub async fn applied_migrations(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT version, description FROM _sqlx_migrations WHERE success = TRUE ORDER BY version",
        )
        .fetch_all(&self.pool)
        .await
        .or_else(|e| match &e {
            // No table yet: nothing applied.
            sqlx::Error::Database(_) => Ok(Vec::new()),
            _ => Err(e),
        })?;
        Ok(rows)
    }

    /// Migrations this binary knows (version, description).
    pub fn known_migrations(&self) -> Vec<(i64, String)> {
        self.migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| (m.version, m.description.to_string()))
            .collect()
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for crates that add their own tables through later migrations.
    /// The SQLite file this store opened (`None` on PostgreSQL).
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        self.sqlite_path.as_deref()
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Begins a transaction that holds the registry's write lock until commit or rollback.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        begin_write(&self.pool, self.backend).await
    }

    /// The store's group-commit queue for audit records nobody waits on (tool calls); started on
    /// first use (inside a Tokio runtime). Records whose caller must know they are durable, or
    /// that belong to a change, use [`Store::append_audit`] or [`append_audit_in`]. Call
    /// [`AuditWriter::flush`] before [`Store::close`]: closing stops the writer.
    pub fn audit_queue(&self) -> &AuditWriter {
        self.audit_queue.get_or_init(|| {
            AuditWriter::spawn(self.pool.clone(), self.backend, AuditQueueLimits::default())
        })
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A transaction on `pool` that holds the registry's write lock: SQLite `BEGIN IMMEDIATE`, or a
/// PostgreSQL advisory transaction lock (shared by every server instance on the database).
pub(crate) async fn begin_write(
    pool: &AnyPool,
    backend: Backend,
) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
    match backend {
        Backend::Sqlite => Ok(pool.begin_with("BEGIN IMMEDIATE").await?),
        Backend::Postgres => {
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(WRITE_LOCK_KEY)
                .execute(&mut *tx)
                .await?;
            Ok(tx)
        }
    }
}

/// Creates the SQLite file (and its directory) readable by its owner only, if it does not exist
/// yet; SQLite gives its `-wal` and `-shm` files the same mode.
fn create_private_file(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Maps a unique-constraint violation to a domain error, passing anything else through.
pub(crate) fn on_unique_violation(
    err: sqlx::Error,
    duplicate: impl FnOnce() -> StoreError,
) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => duplicate(),
        _ => StoreError::Database(err),
    }
}

/// A new UUIDv7 as text (ids sort by creation time).
pub(crate) fn new_id() -> String {
    domain::DeviceId::new().to_string()
}

/// Parses a text column into a vocabulary type, reporting which column held garbage.
pub(crate) fn parse_column<T: FromStr>(value: &str, column: &str) -> Result<T, StoreError> {
    value
        .parse()
        .map_err(|_| StoreError::Corrupt(column.to_owned()))
}
