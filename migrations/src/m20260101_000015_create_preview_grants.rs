//! Creates `preview_grants`: per article, the version its preview links must
//! carry. Revoking an article's preview links moves the version on, so every
//! link handed out before is refused at once. An article without a row is at
//! version 0. No foreign key: a preview of a deleted article is refused
//! because the article is gone.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PreviewGrants::Table)
                    .col(string(PreviewGrants::ArticleId).primary_key())
                    .col(integer(PreviewGrants::Version).default(0))
                    .col(timestamp_with_time_zone(PreviewGrants::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PreviewGrants::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum PreviewGrants {
    Table,
    ArticleId,
    Version,
    UpdatedAt,
}
