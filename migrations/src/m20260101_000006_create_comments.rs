//! Creates the `comments` table: threaded reader comments with a moderation status.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Secondary indexes on `comments`: name and columns.
const INDEXES: [(&str, &[Comments]); 4] = [
    (
        "idx_comments_article_status_created",
        &[Comments::ArticleId, Comments::Status, Comments::CreatedAt],
    ),
    (
        "idx_comments_status_created",
        &[Comments::Status, Comments::CreatedAt],
    ),
    ("idx_comments_parent", &[Comments::ParentId]),
    (
        "idx_comments_email_status",
        &[Comments::AuthorEmail, Comments::Status],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Comments::Table)
                    .col(string(Comments::Id).primary_key())
                    .col(string(Comments::ArticleId))
                    .col(string_null(Comments::ParentId))
                    .col(integer(Comments::Depth))
                    .col(string(Comments::AuthorName))
                    .col(string(Comments::AuthorEmail))
                    .col(string_null(Comments::AuthorUrl))
                    .col(string_null(Comments::UserId))
                    .col(text(Comments::Body))
                    // pending | approved | spam | trash
                    .col(string(Comments::Status))
                    .col(string_null(Comments::Ip))
                    .col(string_null(Comments::UserAgent))
                    .col(timestamp_with_time_zone(Comments::CreatedAt))
                    .col(timestamp_with_time_zone(Comments::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_comments_article")
                            .from(Comments::Table, Comments::ArticleId)
                            .to(Articles::Table, Articles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_comments_parent")
                            .from(Comments::Table, Comments::ParentId)
                            .to(Comments::Table, Comments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_comments_user")
                            .from(Comments::Table, Comments::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;

        for (name, cols) in INDEXES {
            let mut index = Index::create();
            index.name(name).table(Comments::Table);
            for &col in cols {
                index.col(col);
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES.iter().rev() {
            manager
                .drop_index(Index::drop().name(*name).table(Comments::Table).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Comments::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Comments {
    Table,
    Id,
    ArticleId,
    ParentId,
    Depth,
    AuthorName,
    AuthorEmail,
    AuthorUrl,
    UserId,
    Body,
    Status,
    Ip,
    UserAgent,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Articles {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
