//! Full-text search over articles, with each database's own engine.
//!
//! - SQLite: an FTS5 table `article_fts` (porter stemming, unicode61 with
//!   diacritics removed) whose rowid is the article's rowid, kept in step by
//!   triggers, so the index changes in the same transaction as the article.
//! - PostgreSQL: a generated `search_vector` column (title weighted A,
//!   standfirst and excerpt B, body C) under the `broadsheet_search` text
//!   search configuration (English stemming after `unaccent`), with a GIN index.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The SQLite statements that (re)fill `article_fts` from `articles`; also
/// what `broadsheet search reindex` runs.
pub const SQLITE_REINDEX: &[&str] = &[
    "DELETE FROM article_fts",
    "INSERT INTO article_fts(rowid, title, standfirst, excerpt, body_text) \
     SELECT rowid, title, coalesce(standfirst, ''), coalesce(excerpt, ''), body_text FROM articles",
];

const SQLITE_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE article_fts USING fts5(title, standfirst, excerpt, body_text, \
     tokenize = 'porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN \
     INSERT INTO article_fts(rowid, title, standfirst, excerpt, body_text) \
     VALUES (new.rowid, new.title, coalesce(new.standfirst, ''), coalesce(new.excerpt, ''), new.body_text); END",
    "CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN \
     DELETE FROM article_fts WHERE rowid = old.rowid; END",
    "CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, standfirst, excerpt, body_text ON articles BEGIN \
     DELETE FROM article_fts WHERE rowid = old.rowid; \
     INSERT INTO article_fts(rowid, title, standfirst, excerpt, body_text) \
     VALUES (new.rowid, new.title, coalesce(new.standfirst, ''), coalesce(new.excerpt, ''), new.body_text); END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS articles_fts_update",
    "DROP TRIGGER IF EXISTS articles_fts_delete",
    "DROP TRIGGER IF EXISTS articles_fts_insert",
    "DROP TABLE IF EXISTS article_fts",
];

const POSTGRES_UP: &[&str] = &[
    // unaccent is a trusted extension (PostgreSQL 13+): a database owner may create it.
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE TEXT SEARCH CONFIGURATION broadsheet_search (COPY = pg_catalog.english)",
    "ALTER TEXT SEARCH CONFIGURATION broadsheet_search \
     ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem",
    "ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ( \
     setweight(to_tsvector('broadsheet_search', title), 'A') || \
     setweight(to_tsvector('broadsheet_search', coalesce(standfirst, '')), 'B') || \
     setweight(to_tsvector('broadsheet_search', coalesce(excerpt, '')), 'B') || \
     setweight(to_tsvector('broadsheet_search', body_text), 'C')) STORED",
    "CREATE INDEX idx_articles_search ON articles USING GIN (search_vector)",
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS idx_articles_search",
    "ALTER TABLE articles DROP COLUMN IF EXISTS search_vector",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS broadsheet_search",
];

async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                run(manager, SQLITE_UP).await?;
                run(manager, SQLITE_REINDEX).await
            }
            DatabaseBackend::Postgres => run(manager, POSTGRES_UP).await,
            other => Err(DbErr::Migration(format!(
                "full-text search is not available on {other:?}"
            ))),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => run(manager, SQLITE_DOWN).await,
            DatabaseBackend::Postgres => run(manager, POSTGRES_DOWN).await,
            _ => Ok(()),
        }
    }
}
