//! Creates the `authors` table: bylined people, independent of login accounts.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Authors::Table)
                    .col(string(Authors::Id).primary_key())
                    .col(string_uniq(Authors::Slug))
                    .col(string(Authors::Name))
                    .col(string_null(Authors::Title))
                    .col(text_null(Authors::Bio))
                    .col(string_null(Authors::AvatarUrl))
                    .col(string_null(Authors::WebsiteUrl))
                    .col(timestamp_with_time_zone(Authors::CreatedAt))
                    .col(timestamp_with_time_zone(Authors::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Authors::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Authors {
    Table,
    Id,
    Slug,
    Name,
    Title,
    Bio,
    AvatarUrl,
    WebsiteUrl,
    CreatedAt,
    UpdatedAt,
}
