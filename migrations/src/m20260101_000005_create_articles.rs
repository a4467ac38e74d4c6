//! Creates `articles` and its satellite tables: `article_authors`, `article_tags` and `article_slugs` (slug history).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // articles
        manager
            .create_table(
                Table::create()
                    .table(Articles::Table)
                    .col(string(Articles::Id).primary_key())
                    .col(string_uniq(Articles::Slug))
                    .col(string(Articles::Title))
                    .col(text_null(Articles::Standfirst))
                    .col(text_null(Articles::Excerpt))
                    .col(text(Articles::Body))
                    // markdown | html
                    .col(string(Articles::BodyFormat))
                    .col(text(Articles::BodyHtml))
                    .col(text(Articles::BodyText))
                    .col(integer(Articles::WordCount))
                    // draft | published | archived
                    .col(string(Articles::Status))
                    .col(timestamp_with_time_zone_null(Articles::PublishedAt))
                    .col(string_null(Articles::SourceId))
                    .col(string_null(Articles::OriginalUrl))
                    .col(timestamp_with_time_zone_null(Articles::OriginalPublishedAt))
                    // open | closed
                    .col(string(Articles::CommentStatus))
                    .col(string_null(Articles::FeatureImageUrl))
                    .col(string_null(Articles::FeatureImageAlt))
                    .col(integer(Articles::Version))
                    .col(timestamp_with_time_zone(Articles::CreatedAt))
                    .col(timestamp_with_time_zone(Articles::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_articles_source")
                            .from(Articles::Table, Articles::SourceId)
                            .to(Sources::Table, Sources::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("idx_articles_status_published")
                    .table(Articles::Table)
                    .col(Articles::Status)
                    .col(Articles::PublishedAt)
                    .col(Articles::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_articles_source_published")
                    .table(Articles::Table)
                    .col(Articles::SourceId)
                    .col(Articles::Status)
                    .col(Articles::PublishedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_articles_updated")
                    .table(Articles::Table)
                    .col(Articles::UpdatedAt)
                    .to_owned(),
            )
            .await?;

        // article_authors
        manager
            .create_table(
                Table::create()
                    .table(ArticleAuthors::Table)
                    .col(string(ArticleAuthors::ArticleId))
                    .col(string(ArticleAuthors::AuthorId))
                    .col(integer(ArticleAuthors::Position))
                    .primary_key(
                        Index::create()
                            .name("pk_article_authors")
                            .col(ArticleAuthors::ArticleId)
                            .col(ArticleAuthors::AuthorId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_article_authors_article")
                            .from(ArticleAuthors::Table, ArticleAuthors::ArticleId)
                            .to(Articles::Table, Articles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_article_authors_author")
                            .from(ArticleAuthors::Table, ArticleAuthors::AuthorId)
                            .to(Authors::Table, Authors::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_article_authors_author")
                    .table(ArticleAuthors::Table)
                    .col(ArticleAuthors::AuthorId)
                    .col(ArticleAuthors::ArticleId)
                    .to_owned(),
            )
            .await?;

        // article_tags
        manager
            .create_table(
                Table::create()
                    .table(ArticleTags::Table)
                    .col(string(ArticleTags::ArticleId))
                    .col(string(ArticleTags::TagId))
                    .col(integer(ArticleTags::Position))
                    .primary_key(
                        Index::create()
                            .name("pk_article_tags")
                            .col(ArticleTags::ArticleId)
                            .col(ArticleTags::TagId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_article_tags_article")
                            .from(ArticleTags::Table, ArticleTags::ArticleId)
                            .to(Articles::Table, Articles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_article_tags_tag")
                            .from(ArticleTags::Table, ArticleTags::TagId)
                            .to(Tags::Table, Tags::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_article_tags_tag")
                    .table(ArticleTags::Table)
                    .col(ArticleTags::TagId)
                    .col(ArticleTags::ArticleId)
                    .to_owned(),
            )
            .await?;

        // article_slugs: previous slugs of an article, for redirects
        manager
            .create_table(
                Table::create()
                    .table(ArticleSlugs::Table)
                    .col(string(ArticleSlugs::Slug).primary_key())
                    .col(string(ArticleSlugs::ArticleId))
                    .col(timestamp_with_time_zone(ArticleSlugs::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_article_slugs_article")
                            .from(ArticleSlugs::Table, ArticleSlugs::ArticleId)
                            .to(Articles::Table, Articles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_article_slugs_article")
                    .table(ArticleSlugs::Table)
                    .col(ArticleSlugs::ArticleId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Reverse creation order: each table after its own indexes.
        manager
            .drop_index(
                Index::drop()
                    .name("idx_article_slugs_article")
                    .table(ArticleSlugs::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ArticleSlugs::Table).to_owned())
            .await?;

        manager
            .drop_index(
                Index::drop()
                    .name("idx_article_tags_tag")
                    .table(ArticleTags::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ArticleTags::Table).to_owned())
            .await?;

        manager
            .drop_index(
                Index::drop()
                    .name("idx_article_authors_author")
                    .table(ArticleAuthors::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ArticleAuthors::Table).to_owned())
            .await?;

        for name in [
            "idx_articles_updated",
            "idx_articles_source_published",
            "idx_articles_status_published",
        ] {
            manager
                .drop_index(Index::drop().name(name).table(Articles::Table).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Articles::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Articles {
    Table,
    Id,
    Slug,
    Title,
    Standfirst,
    Excerpt,
    Body,
    BodyFormat,
    BodyHtml,
    BodyText,
    WordCount,
    Status,
    PublishedAt,
    SourceId,
    OriginalUrl,
    OriginalPublishedAt,
    CommentStatus,
    FeatureImageUrl,
    FeatureImageAlt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ArticleAuthors {
    Table,
    ArticleId,
    AuthorId,
    Position,
}

#[derive(DeriveIden)]
enum ArticleTags {
    Table,
    ArticleId,
    TagId,
    Position,
}

#[derive(DeriveIden)]
enum ArticleSlugs {
    Table,
    Slug,
    ArticleId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Authors {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Sources {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Tags {
    Table,
    Id,
}
