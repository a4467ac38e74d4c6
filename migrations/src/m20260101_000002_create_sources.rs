//! Creates the `sources` table: outlets that syndicated articles originally came from.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sources::Table)
                    .col(string(Sources::Id).primary_key())
                    .col(string_uniq(Sources::Slug))
                    .col(string(Sources::Name))
                    .col(string_null(Sources::HomepageUrl))
                    .col(text_null(Sources::Description))
                    .col(string_null(Sources::LogoUrl))
                    .col(string_null(Sources::FeedUrl))
                    .col(timestamp_with_time_zone(Sources::CreatedAt))
                    .col(timestamp_with_time_zone(Sources::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Sources::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Sources {
    Table,
    Id,
    Slug,
    Name,
    HomepageUrl,
    Description,
    LogoUrl,
    FeedUrl,
    CreatedAt,
    UpdatedAt,
}
