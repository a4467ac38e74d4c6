//! The service layer: every rule (validation, permissions, slugs, visibility)
//! and all database access. REST handlers and GraphQL resolvers only translate.
//! A service function takes `(&AppState, &Actor, input)` and returns
//! `Result<T, AppError>`; it never sees axum or async-graphql types.

pub mod articles;
pub mod auth;
pub mod bodies;
pub mod comments;
pub mod feeds;
pub mod previews;
pub mod revisions;
pub mod search;
pub mod seed;
pub mod taxonomy;
pub mod transfer;
pub mod users;
pub mod webhooks;

use chrono::{DateTime, SubsecRound, Utc};

/// The current instant at the precision both databases store (microseconds),
/// so a value read back equals the value written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A new UUIDv7 id (time-ordered), as stored: lowercase hyphenated text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::{domain::slug, error::AppError};

/// Find a row by id or slug (API.md `{id_or_slug}`).
pub async fn resolve<E: EntityTrait>(
    db: &impl ConnectionTrait,
    id_col: E::Column,
    slug_col: E::Column,
    id_or_slug: &str,
) -> Result<Option<E::Model>, AppError> {
    Ok(E::find()
        .filter(
            Condition::any()
                .add(id_col.eq(id_or_slug))
                .add(slug_col.eq(id_or_slug)),
        )
        .one(db)
        .await?)
}

/// The slug for a named row: the given one (409 when another row has it),
/// or one made from `name` and de-duplicated with `-2`, `-3`...
pub async fn assign_slug<E>(
    db: &impl ConnectionTrait,
    id_col: E::Column,
    slug_col: E::Column,
    given: Option<&str>,
    name: &str,
    except_id: Option<&str>,
) -> Result<String, AppError>
where
    E: EntityTrait,
    E::Model: Sync,
{
    async fn taken<E>(
        db: &impl ConnectionTrait,
        id_col: E::Column,
        slug_col: E::Column,
        candidate: &str,
        except_id: Option<&str>,
    ) -> Result<bool, AppError>
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        let mut q = E::find().filter(slug_col.eq(candidate));
        if let Some(id) = except_id {
            q = q.filter(id_col.ne(id));
        }
        Ok(q.count(db).await? > 0)
    }
    if let Some(given) = given {
        if taken::<E>(db, id_col, slug_col, given, except_id).await? {
            return Err(AppError::Conflict(format!(
                "the slug {given:?} is already used"
            )));
        }
        return Ok(given.to_string());
    }
    let base = slug::slugify(name);
    let base = if base.is_empty() {
        "item".to_string()
    } else {
        base
    };
    for n in 1..1000u32 {
        let candidate = slug::candidate(&base, n);
        if !taken::<E>(db, id_col, slug_col, &candidate, except_id).await? {
            return Ok(candidate);
        }
    }
    Err(AppError::Conflict(format!("no free slug near {base:?}")))
}

/// A transaction that will write (see [`write_txn`]). Use it like any
/// connection; [`WriteTxn::commit`] ends it. Dropped uncommitted, it rolls back.
pub struct WriteTxn {
    // Field order matters: the transaction ends before the queue moves on.
    txn: sea_orm::DatabaseTransaction,
    /// Told once the commit succeeds (readers may see what it wrote).
    cache: Option<std::sync::Arc<crate::cache::ResponseCache>>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTxn {
    /// A nested transaction (a savepoint): committing it keeps its writes in
    /// this transaction; dropping or rolling it back undoes only them.
    pub async fn savepoint(&self) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
        use sea_orm::TransactionTrait;
        self.txn.begin().await
    }

    /// Commit; then, unless the writes are ones no reader sees, empty the
    /// response cache and have the other instances told (issue 24, finding
    /// 5: the write decides, whatever request shape or API carried it).
    pub async fn commit(self) -> Result<(), sea_orm::DbErr> {
        let WriteTxn { txn, cache, _turn } = self;
        txn.commit().await?;
        if let Some(cache) = cache {
            cache.written();
        }
        Ok(())
        // `_turn` is released here, after COMMIT.
    }
}

#[sea_orm::prelude::async_trait::async_trait]
impl sea_orm::ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> sea_orm::DbBackend {
        self.txn.get_database_backend()
    }
    async fn execute_raw(
        &self,
        stmt: sea_orm::Statement,
    ) -> Result<sea_orm::ExecResult, sea_orm::DbErr> {
        self.txn.execute_raw(stmt).await
    }
    async fn execute_unprepared(&self, sql: &str) -> Result<sea_orm::ExecResult, sea_orm::DbErr> {
        self.txn.execute_unprepared(sql).await
    }
    async fn query_one_raw(
        &self,
        stmt: sea_orm::Statement,
    ) -> Result<Option<sea_orm::QueryResult>, sea_orm::DbErr> {
        self.txn.query_one_raw(stmt).await
    }
    async fn query_all_raw(
        &self,
        stmt: sea_orm::Statement,
    ) -> Result<Vec<sea_orm::QueryResult>, sea_orm::DbErr> {
        self.txn.query_all_raw(stmt).await
    }
    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

/// One queue of writers per SQLite pool (keyed by its shared options).
fn sqlite_writer_queue(db: &sea_orm::DatabaseConnection) -> std::sync::Arc<tokio::sync::Mutex<()>> {
    use std::{
        collections::HashMap,
        sync::{Arc, LazyLock, Mutex},
    };
    static QUEUES: LazyLock<Mutex<HashMap<usize, Arc<tokio::sync::Mutex<()>>>>> =
        LazyLock::new(Default::default);
    let key = Arc::as_ptr(&db.get_sqlite_connection_pool().connect_options()) as usize;
    QUEUES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_default()
        .clone()
}

/// Run one write statement on its own (atomic by itself, no transaction
/// needed), in the same SQLite writer queue as [`write_txn`]; like its
/// commit, a success empties the response cache.
pub async fn write_one(
    state: &crate::state::AppState,
    stmt: sea_orm::Statement,
) -> Result<sea_orm::ExecResult, sea_orm::DbErr> {
    use sea_orm::ConnectionTrait;
    let _turn = writer_turn(&state.db).await;
    let done = state.db.execute_raw(stmt).await?;
    state.response_cache.written();
    Ok(done)
}

/// This writer's turn in the SQLite writer queue (none on PostgreSQL).
async fn writer_turn(db: &sea_orm::DatabaseConnection) -> Option<tokio::sync::OwnedMutexGuard<()>> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        Some(sqlite_writer_queue(db).lock_owned().await)
    } else {
        None
    }
}

/// Begin a transaction that will write. On SQLite, writers of this process
/// first queue in memory, one at a time (waiting on SQLite's busy handler
/// instead would sleep 1–100 ms per retry and collapse under load), then take
/// the write lock at once (`BEGIN IMMEDIATE`), so a transaction never fails
/// to upgrade a read lock midway; other processes are still waited for by
/// the busy timeout.
///
/// Its commit empties the response cache and tells the other instances, so
/// no reader is served what was true before it. Writes no reader ever sees
/// (sessions, webhook bookkeeping) use [`write_txn_unseen`].
pub async fn write_txn(state: &crate::state::AppState) -> Result<WriteTxn, sea_orm::DbErr> {
    let mut txn = write_txn_unseen(&state.db).await?;
    txn.cache = Some(state.response_cache.clone());
    Ok(txn)
}

/// [`write_txn`] for writes that change nothing a reader sees: sessions,
/// webhook deliveries, the search index's rebuild (the CLI tells running
/// instances itself).
pub async fn write_txn_unseen(
    db: &sea_orm::DatabaseConnection,
) -> Result<WriteTxn, sea_orm::DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    let sqlite = db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite;
    let turn = writer_turn(db).await;
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: sqlite.then_some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    Ok(WriteTxn {
        txn,
        cache: None,
        _turn: turn,
    })
}
