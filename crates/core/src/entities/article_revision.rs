//! An article's content before one of its updates (row of `article_revisions`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "article_revisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub article_id: String,
    /// The article's version when it had this content.
    pub version: i32,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub standfirst: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub excerpt: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub body_format: String,
    /// JSON array of author ids, in byline order.
    #[sea_orm(column_type = "Text")]
    pub author_ids: String,
    pub source_id: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub original_url: Option<String>,
    pub original_published_at: Option<DateTimeUtc>,
    /// The user whose update replaced this content.
    pub created_by: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
