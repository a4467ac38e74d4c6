//! An article (row of `articles`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "articles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(unique)]
    pub slug: String,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub standfirst: Option<String>,
    /// Editor-given excerpt.
    #[sea_orm(column_type = "Text")]
    pub excerpt: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// `markdown` | `html`.
    pub body_format: String,
    /// Rendered and sanitized HTML.
    #[sea_orm(column_type = "Text")]
    pub body_html: String,
    #[sea_orm(column_type = "Text")]
    pub body_text: String,
    pub word_count: i32,
    /// `draft` | `published` | `archived`.
    pub status: String,
    pub published_at: Option<DateTimeUtc>,
    pub source_id: Option<String>,
    pub original_url: Option<String>,
    pub original_published_at: Option<DateTimeUtc>,
    /// `open` | `closed`.
    pub comment_status: String,
    pub feature_image_url: Option<String>,
    pub feature_image_alt: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
