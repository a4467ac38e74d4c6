//! Creates `import_refs`: which local row an item of another system (a
//! WordPress post, comment, author) became, so that importing the same
//! export again updates those rows instead of duplicating them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ImportRefs::Table)
                    // `wordpress`
                    .col(string(ImportRefs::System))
                    // `article` | `comment` | `author`
                    .col(string(ImportRefs::Kind))
                    // The other system's id, e.g. the WordPress post id.
                    .col(string(ImportRefs::ExternalId))
                    // Our row's id. No foreign key: one column points into
                    // several tables; a ref to a deleted row is ignored.
                    .col(string(ImportRefs::LocalId))
                    .col(timestamp_with_time_zone(ImportRefs::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(ImportRefs::System)
                            .col(ImportRefs::Kind)
                            .col(ImportRefs::ExternalId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_import_refs_local")
                    .table(ImportRefs::Table)
                    .col(ImportRefs::LocalId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ImportRefs::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ImportRefs {
    Table,
    System,
    Kind,
    ExternalId,
    LocalId,
    CreatedAt,
}
