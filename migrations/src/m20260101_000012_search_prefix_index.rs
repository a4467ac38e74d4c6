//! SQLite: rebuild `article_fts` with prefix indexes for 2, 3 and 4
//! characters. Without them a query like `selm*` merges the lists of every
//! indexed word that starts that way, on every search and again for every
//! snippet; at 100,000 articles a 2-letter prefix took 0.3 s. The index
//! grows by about 5 KB per article. The triggers of migration 8 name the
//! table, not its definition, so they keep working. PostgreSQL: nothing to do
//! (its GIN index answers `:*` prefixes).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::m20260101_000008_article_search::SQLITE_REINDEX;

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn rebuild(manager: &SchemaManager<'_>, options: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Sqlite {
        return Ok(());
    }
    let db = manager.get_connection();
    db.execute_unprepared("DROP TABLE IF EXISTS article_fts")
        .await?;
    db.execute_unprepared(&format!(
        "CREATE VIRTUAL TABLE article_fts USING fts5(title, standfirst, excerpt, body_text, \
         tokenize = 'porter unicode61 remove_diacritics 2'{options})"
    ))
    .await?;
    for sql in SQLITE_REINDEX {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(manager, ", prefix = '2 3 4'").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(manager, "").await
    }
}
