//! Broadsheet's database schema as sea-orm migrations; the same code runs on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20260101_000001_create_authors;
mod m20260101_000002_create_sources;
mod m20260101_000003_create_tags;
mod m20260101_000004_create_users;
mod m20260101_000005_create_articles;
mod m20260101_000006_create_comments;
mod m20260101_000007_create_refresh_tokens;
mod m20260101_000008_article_search;
mod m20260101_000009_article_revisions;
mod m20260101_000010_webhooks;
mod m20260101_000011_create_import_refs;
mod m20260101_000012_search_prefix_index;
mod m20260101_000013_add_users_session_version;
mod m20260101_000015_create_preview_grants;

pub use m20260101_000008_article_search::SQLITE_REINDEX;

/// Runs Broadsheet's migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_create_authors::Migration),
            Box::new(m20260101_000002_create_sources::Migration),
            Box::new(m20260101_000003_create_tags::Migration),
            Box::new(m20260101_000004_create_users::Migration),
            Box::new(m20260101_000005_create_articles::Migration),
            Box::new(m20260101_000006_create_comments::Migration),
            Box::new(m20260101_000007_create_refresh_tokens::Migration),
            Box::new(m20260101_000008_article_search::Migration),
            Box::new(m20260101_000009_article_revisions::Migration),
            Box::new(m20260101_000010_webhooks::Migration),
            Box::new(m20260101_000011_create_import_refs::Migration),
            Box::new(m20260101_000012_search_prefix_index::Migration),
            Box::new(m20260101_000013_add_users_session_version::Migration),
            Box::new(m20260101_000015_create_preview_grants::Migration),
        ]
    }
}
