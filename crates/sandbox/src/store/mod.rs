//! Persistence: one [`Store`] over an `sqlx` [`AnyPool`], so the same SQL and the same
//! migrations run on SQLite (default: a file, or memory for tests) and PostgreSQL.
//!
//! Rules every repository function here follows:
//! - Placeholders are `$1, $2, …` (both SQLite and PostgreSQL accept them).
//! - A state change that depends on what was read is a compare-and-swap: the `UPDATE`
//!   repeats the value it expects in its `WHERE` clause and the caller looks at
//!   `rows_affected`. Two concurrent writers can then never both win, on either database.
//! - Multi-row changes run in one transaction ([`Store::begin`]) so nothing is left
//!   half-written.
//! - Expired rows (nonces, temporary keys) are swept at most every [`SWEEP_INTERVAL_MS`],
//!   not on every request; every read and every replay check compares the expiry itself,
//!   so a row past its time that is still there counts as gone.
//! - Applications (id and master key pair) never change once written, so they are kept
//!   in memory after their first read ([`Store::application`]).

mod activations;
mod application_settings;
mod applications;
mod callbacks;
mod cloud_access;
mod inbox;
mod nonces;
mod operations;
mod push;
mod recovery;
pub(crate) mod sweep;
mod temporary_keys;
mod tokens;
mod users;

pub use activations::{Activation, CommitPhase};
pub use applications::{Application, ApplicationVersion};
pub use callbacks::{CallbackAttempt, CallbackEvent, CallbackUrlRecord};
pub use inbox::InboxMessage;
pub use operations::{Operation, OperationStatus, Template, TemplateRemoval};
pub use push::{PUSH_CHANNEL, PushMessage};
pub use recovery::{RecoveryConfig, RecoveryLookup, RecoveryPuk, RecoveryRecord};
pub use temporary_keys::TemporaryKey;
pub use tokens::Token;
pub use users::{Role, User};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{Any, AnyPool, Transaction};
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// Connections to a SQLite file: readers run in parallel under WAL, writers take turns.
const SQLITE_CONNECTIONS: u32 = 8;
/// Connections to PostgreSQL.
const POSTGRES_CONNECTIONS: u32 = 16;

/// Why the database could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database refused or failed: connection lost, disk full, constraint violated
    /// in a way the caller did not expect, malformed URL.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date, e.g. the database was migrated by a
    /// newer sandbox or a migration file changed after it ran.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value does not parse (a key that is not Base64, an unknown state):
    /// someone edited the database by hand.
    #[error("corrupt stored value in {0}")]
    Corrupt(&'static str),
}

/// Which database the pool talks to; a few statements differ (transaction start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, file or in-memory.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

pub use sweep::SWEEP_INTERVAL_MS;

/// The sandbox's database. Cheap to clone (a pool handle).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    sweeps: std::sync::Arc<sweep::Sweeps>,
    applications: std::sync::Arc<applications::Cache>,
}

impl Store {
    /// Connects to `url` (`sqlite::memory:`, `sqlite://path?mode=rwc`, `postgres://…`)
    /// and runs the migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if backend == Backend::Sqlite && !in_memory {
            private_sqlite_file(url)?;
        }
        if !in_memory {
            // One direct connection first: an unreachable server or a bad path fails at
            // once with its real cause, instead of after the pool's acquire timeout.
            use sqlx::Connection as _;
            sqlx::AnyConnection::connect(url).await?.close().await?;
        }
        let options = if in_memory {
            // Every SQLite in-memory connection is its own database: keep exactly one,
            // forever.
            AnyPoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else if backend == Backend::Sqlite {
            // Write-ahead log: readers never wait for the writer, and a commit appends to
            // the log instead of rewriting pages. `synchronous=NORMAL` syncs the log at
            // checkpoints, not on every commit: a power cut may lose the last commits but
            // never corrupts the file (the sandbox's data is test data). Writers still
            // queue on SQLite's one write lock (`BEGIN IMMEDIATE`, busy timeout).
            AnyPoolOptions::new()
                .max_connections(SQLITE_CONNECTIONS)
                .after_connect(|connection, _| {
                    Box::pin(async move {
                        use sqlx::Executor as _;
                        connection
                            .execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
                            .await
                            .map(|_| ())
                    })
                })
        } else {
            AnyPoolOptions::new().max_connections(POSTGRES_CONNECTIONS)
        };
        let pool = options
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        let store = Self {
            pool,
            backend,
            sweeps: Default::default(),
            applications: Default::default(),
        };
        Migrator::new(EmbeddedMigrations)
            .await?
            .run(&store.pool)
            .await?;
        Ok(store)
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction that reads then writes cannot fail halfway
    /// on a lock upgrade; PostgreSQL relies on the compare-and-swap updates.
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Any>, StoreError> {
        let statement = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        Ok(self.pool.begin_with(statement).await?)
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Whether expired rows of `table` are due for a sweep (see [`sweep`]).
    pub(crate) fn sweep_due(&self, table: sweep::Table, now_ms: i64) -> bool {
        self.sweeps.due(table, now_ms)
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// Creates the SQLite file of `url` readable by its owner only (0600) before SQLite opens it,
/// and narrows an existing one (and its `-wal` and `-shm` files) to that: it holds the
/// master and server private keys and token secrets, enough to forge signatures. SQLite
/// gives the `-wal` and `-shm` files it creates the database file's permissions.
fn private_sqlite_file(url: &str) -> Result<(), StoreError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() {
        return Ok(());
    }
    let path = std::path::Path::new(path);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let may_create = url.contains("mode=rwc");
        if may_create && !path.exists() {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
            {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                // SQLite reports a missing folder or a denied path in its own words.
                Err(_) => return Ok(()),
            }
        }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let file = std::path::Path::new(&name);
            if let Ok(metadata) = std::fs::metadata(file)
                && metadata.is_file()
                && metadata.permissions().mode() & 0o077 != 0
            {
                let mode = metadata.permissions().mode() & 0o700;
                if let Err(error) =
                    std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode))
                {
                    tracing::warn!(file = %file.display(), %error, "cannot make the sandbox database private");
                } else {
                    tracing::info!(file = %file.display(), "sandbox database made readable by its owner only");
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The SQL files of `crates/sandbox/migrations`, compiled into the binary.
#[derive(Debug)]
struct EmbeddedMigrations;

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/0001_initial.sql"),
    ),
    (
        2,
        "operation templates",
        include_str!("../../migrations/0002_operation_templates.sql"),
    ),
    (
        3,
        "recovery codes",
        include_str!("../../migrations/0003_recovery_codes.sql"),
    ),
    (
        4,
        "operation template ids",
        include_str!("../../migrations/0004_operation_template_ids.sql"),
    ),
    (
        5,
        "recovery postcards",
        include_str!("../../migrations/0005_recovery_postcards.sql"),
    ),
    (
        6,
        "callbacks",
        include_str!("../../migrations/0006_callbacks.sql"),
    ),
    (
        7,
        "cloud user applications",
        include_str!("../../migrations/0007_cloud_user_applications.sql"),
    ),
    (
        8,
        "application config",
        include_str!("../../migrations/0008_application_config.sql"),
    ),
    (9, "oauth", include_str!("../../migrations/0009_oauth.sql")),
    (
        10,
        "templates ask for qr scan",
        include_str!("../../migrations/0010_templates_ask_for_qr_scan.sql"),
    ),
    (
        11,
        "facemap",
        include_str!("../../migrations/0011_facemap.sql"),
    ),
    (
        12,
        "profile jwt",
        include_str!("../../migrations/0012_profile_jwt.sql"),
    ),
    (
        13,
        "profile signed token",
        include_str!("../../migrations/0013_profile_signed_token.sql"),
    ),
    (
        14,
        "profile access order",
        include_str!("../../migrations/0014_profile_access_order.sql"),
    ),
];

impl MigrationSource<'static> for EmbeddedMigrations {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// Booleans are stored as BIGINT 0/1 (see the migration's header).
pub(crate) fn flag(value: bool) -> i64 {
    i64::from(value)
}
