//! How many visible articles each author, tag or source has, and how many
//! articles of any status use one (deleting one in use is refused).

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::Query,
};

use crate::{
    entities::{article, article_author, article_tag},
    error::AppError,
    services::now,
};

use super::*;

/// Visible articles per key of a link table (`article_authors`, `article_tags`), in one query.
async fn visible_counts_via<E: EntityTrait>(
    db: &impl ConnectionTrait,
    key: E::Column,
    article_id: E::Column,
    ids: &[String],
) -> Result<HashMap<String, u64>, AppError> {
    let visible = Query::select()
        .column(article::Column::Id)
        .from(article::Entity)
        .cond_where(visible_to_public(now()))
        .to_owned();
    let rows: Vec<(String, i64)> = E::find()
        .select_only()
        .column(key)
        .column_as(article_id.count(), "n")
        .filter(key.is_in(ids.to_vec()))
        .filter(article_id.in_subquery(visible))
        .group_by(key)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// Articles per author/source/tag that the public can see, in one query.
pub async fn visible_counts_by_author(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<HashMap<String, u64>, AppError> {
    visible_counts_via::<article_author::Entity>(
        db,
        article_author::Column::AuthorId,
        article_author::Column::ArticleId,
        ids,
    )
    .await
}

pub async fn visible_counts_by_tag(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<HashMap<String, u64>, AppError> {
    visible_counts_via::<article_tag::Entity>(
        db,
        article_tag::Column::TagId,
        article_tag::Column::ArticleId,
        ids,
    )
    .await
}

pub async fn visible_counts_by_source(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<HashMap<String, u64>, AppError> {
    let rows: Vec<(String, i64)> = article::Entity::find()
        .select_only()
        .column(article::Column::SourceId)
        .column_as(article::Column::Id.count(), "n")
        .filter(article::Column::SourceId.is_in(ids.to_vec()))
        .filter(visible_to_public(now()))
        .group_by(article::Column::SourceId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// How many articles (any status) use an author or a source: deleting one in
/// use is refused with this count.
pub async fn usage_of_author(db: &impl ConnectionTrait, author_id: &str) -> Result<u64, AppError> {
    Ok(article_author::Entity::find()
        .filter(article_author::Column::AuthorId.eq(author_id))
        .count(db)
        .await?)
}

pub async fn usage_of_source(db: &impl ConnectionTrait, source_id: &str) -> Result<u64, AppError> {
    Ok(article::Entity::find()
        .filter(article::Column::SourceId.eq(source_id))
        .count(db)
        .await?)
}
