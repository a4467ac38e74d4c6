//! One HTTP request made for a delivery (row of `webhook_attempts`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_attempts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub delivery_id: String,
    /// 1 for the first request.
    pub attempt: i32,
    pub started_at: DateTimeUtc,
    pub duration_ms: i32,
    /// The receiver's HTTP status; none when no response came.
    pub status_code: Option<i32>,
    /// Why it failed without a response (timeout, refused address...).
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    /// The start of the receiver's response body.
    #[sea_orm(column_type = "Text", nullable)]
    pub response_excerpt: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
