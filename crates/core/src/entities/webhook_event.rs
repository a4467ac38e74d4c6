//! One event in the webhook outbox (row of `webhook_events`), written in
//! the same transaction as the change it reports.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// `article.published`, `comment.created`...
    pub event_type: String,
    pub article_id: Option<String>,
    /// The JSON body sent to receivers.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    /// When it happens: at once, or a scheduled article's publication time.
    pub occurs_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
