//! A login account (row of `users`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Unique case-insensitively (index on `lower(email)`).
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    /// `admin` | `editor` | `author` | `contributor`.
    pub role: String,
    pub author_id: Option<String>,
    pub active: bool,
    /// Bumped whenever all of the user's sessions end; access tokens carry
    /// the value they were issued under and are refused once it moved on.
    pub session_version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
