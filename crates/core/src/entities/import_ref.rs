//! Which local row an item of another system became (row of `import_refs`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "import_refs")]
pub struct Model {
    /// `wordpress`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub system: String,
    /// `article` | `comment` | `author`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    /// The other system's id (a WordPress post id, comment id, author login).
    #[sea_orm(primary_key, auto_increment = false)]
    pub external_id: String,
    pub local_id: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
