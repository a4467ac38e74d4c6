//! Opening the database: SQLite tuned for a server (WAL, busy timeout, foreign
//! keys, `synchronous=NORMAL`) or PostgreSQL; migrations at start-up.

use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

use crate::config::{Config, redact_url};

/// Why the database could not be opened: always names `DATABASE_URL`.
#[derive(Debug, thiserror::Error)]
#[error("cannot open DATABASE_URL {url}: {reason}")]
pub struct ConnectError {
    url: String,
    reason: String,
}

/// Open a pool for `config.database_url` and check it answers.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, ConnectError> {
    let url = config.database_url.clone();
    let fail = |reason: String| ConnectError {
        url: redact_url(&url),
        reason,
    };
    let mut opts = ConnectOptions::new(url.clone());
    opts.max_connections(config.db_max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(config.db_acquire_timeout_secs.into()))
        .sqlx_logging(false);
    if config.is_sqlite() {
        opts.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
                // 1 MB of page cache per connection instead of SQLite's 2 MB:
                // the pool's connections each keep their own, and the
                // operating system caches the file for all of them anyway.
                .pragma("cache_size", "-1024")
        })
        .map_sqlx_sqlite_pool_opts(|pool| {
            pool.after_connect(|conn, _| Box::pin(prepare_connection(conn)))
        });
    }
    let db = Database::connect(opts)
        .await
        .map_err(|e| fail(describe_db_error(&e)))?;
    db.ping().await.map_err(|e| fail(describe_db_error(&e)))?;
    Ok(db)
}

/// Ready a new SQLite connection: the planner's stability guarantee and
/// the search ranking function (`fts5.rs`).
async fn prepare_connection(
    conn: &mut sea_orm::sqlx::SqliteConnection,
) -> Result<(), sea_orm::sqlx::Error> {
    stable_query_plans(conn).await?;
    let mut handle = conn.lock_handle().await?;
    // SAFETY: the connection is open, and the lock `handle` holds keeps every
    // other user of it out for the duration of the call.
    unsafe { crate::fts5::register(handle.as_raw_handle().as_ptr()) }
        .map_err(|e| sea_orm::sqlx::Error::Configuration(e.into()))
}

/// Turn on SQLite's query-planner stability guarantee for a new connection.
///
/// Without it SQLite plans a statement anew whenever a bound value its
/// planner looked at changes, and since 3.4x the planner looks at every
/// `LIMIT ?`, which sea-query always binds. sqlx binds every value again on
/// each run, so every run of a cached statement with a limit (an article
/// read, every list) was parsed and planned again: a quarter of the SQLite
/// threads' time in the cold-read benchmark. With the guarantee a plan never
/// depends on bound values; ours never needed them (no `LIKE ?` prefix
/// scans, no STAT4 samples).
async fn stable_query_plans(
    conn: &mut sea_orm::sqlx::SqliteConnection,
) -> Result<(), sea_orm::sqlx::Error> {
    use std::ffi::c_int;
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is the open connection whose lock `handle` holds for the
    // duration of the call; the option takes an int and an optional
    // out-pointer, passed as null.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as c_int,
            std::ptr::null_mut::<c_int>(),
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK {
        return Err(sea_orm::sqlx::Error::Configuration(
            format!("SQLITE_DBCONFIG_ENABLE_QPSG failed with code {rc}").into(),
        ));
    }
    Ok(())
}

/// A one-line reason from a sea-orm/sqlx error, without the debug noise.
fn describe_db_error(err: &sea_orm::DbErr) -> String {
    let text = err.to_string();
    let text = text
        .trim_start_matches("Connection Error: ")
        .trim_start_matches("Failed to acquire connection from pool: ");
    text.lines().next().unwrap_or("unknown error").to_string()
}

/// Count every SQL statement the connection runs (for `/metrics` and for the
/// tests that prove a request's statement count does not grow with its size).
pub fn count_statements(
    db: &mut DatabaseConnection,
    counter: prometheus_client::metrics::counter::Counter,
) {
    db.set_metric_callback(move |info| {
        counter.inc();
        // The statement text only, never its values (they may hold emails or hashes).
        tracing::trace!(
            target: "broadsheet::sql",
            elapsed_us = info.elapsed.as_micros() as u64,
            failed = info.failed,
            sql = %info.statement.sql
        );
    });
}

/// Open and idle connections of the pool, for `/metrics`.
pub fn pool_usage(db: &DatabaseConnection) -> Option<(u32, usize)> {
    match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            Some((pool.size(), pool.num_idle()))
        }
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            Some((pool.size(), pool.num_idle()))
        }
        _ => None,
    }
}

/// Apply all pending migrations.
pub async fn migrate_up(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    Migrator::up(db, None).await
}

/// True when every known migration has been applied (for `/readyz`).
pub async fn migrations_current(db: &DatabaseConnection) -> Result<bool, sea_orm::DbErr> {
    Ok(Migrator::get_pending_migrations_read_only(db)
        .await?
        .is_empty())
}

/// Round-trip to the database (for `/readyz`).
pub async fn ping(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    let sql = match db.get_database_backend() {
        DatabaseBackend::Postgres | DatabaseBackend::Sqlite => "SELECT 1",
        _ => "SELECT 1",
    };
    db.execute_unprepared(sql).await.map(|_| ())
}
