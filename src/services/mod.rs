//! The service layer: every rule (validation, permissions, slugs, visibility)
//! and all database access. REST handlers and GraphQL resolvers only translate.
//! A service function takes `(&AppState, &Actor, input)` and returns
//! `Result<T, AppError>`; it never sees axum or async-graphql types.

pub mod articles;
pub mod auth;
pub mod comments;
pub mod feeds;
pub mod revisions;
pub mod search;
pub mod seed;
pub mod taxonomy;
pub mod users;

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

/// Begin a transaction that will write. On SQLite it takes the write lock at
/// once (`BEGIN IMMEDIATE`), so concurrent writers queue on the busy timeout
/// instead of failing to upgrade a read lock midway.
pub async fn write_txn(
    db: &sea_orm::DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    let sqlite = db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite;
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: sqlite.then_some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}
