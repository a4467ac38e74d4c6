//! Creates `article_revisions`: the content an article had before each update.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ArticleRevisions::Table)
                    .col(string(ArticleRevisions::Id).primary_key())
                    .col(string(ArticleRevisions::ArticleId))
                    .col(integer(ArticleRevisions::Version))
                    .col(text(ArticleRevisions::Title))
                    .col(text_null(ArticleRevisions::Standfirst))
                    .col(text_null(ArticleRevisions::Excerpt))
                    .col(text(ArticleRevisions::Body))
                    .col(string(ArticleRevisions::BodyFormat))
                    // JSON array of author ids, in byline order.
                    .col(text(ArticleRevisions::AuthorIds))
                    .col(string_null(ArticleRevisions::SourceId))
                    .col(text_null(ArticleRevisions::OriginalUrl))
                    .col(timestamp_with_time_zone_null(
                        ArticleRevisions::OriginalPublishedAt,
                    ))
                    .col(string_null(ArticleRevisions::CreatedBy))
                    .col(timestamp_with_time_zone(ArticleRevisions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_article_revisions_article")
                            .from(ArticleRevisions::Table, ArticleRevisions::ArticleId)
                            .to(Articles::Table, Articles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_article_revisions_article")
                    .table(ArticleRevisions::Table)
                    .col(ArticleRevisions::ArticleId)
                    .col(ArticleRevisions::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ArticleRevisions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ArticleRevisions {
    Table,
    Id,
    ArticleId,
    Version,
    Title,
    Standfirst,
    Excerpt,
    Body,
    BodyFormat,
    AuthorIds,
    SourceId,
    OriginalUrl,
    OriginalPublishedAt,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Articles {
    Table,
    Id,
}
