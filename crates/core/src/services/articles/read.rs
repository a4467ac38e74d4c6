//! Reading one article by id or slug, and the visibility rules it applies.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QueryResult, QuerySelect, sea_query::Expr,
};

use crate::{
    auth::Actor,
    entities::{article, article_author, article_slug},
    error::AppError,
    services::now,
    state::AppState,
};

use super::*;

/// The result of looking an article up by id or slug.
#[derive(Debug)]
pub enum Found {
    Article(Box<ArticleView>),
    /// The slug is an old one; the article now lives at this slug.
    MovedTo(String),
}

/// One article by id or slug, as `actor` may see it. An old slug answers
/// [`Found::MovedTo`]; an article the actor may not see is "not found".
pub async fn get(state: &AppState, actor: &Actor, id_or_slug: &str) -> Result<Found, AppError> {
    let db = &state.db;
    let not_found = || AppError::NotFound {
        resource: "article",
    };
    let found = find_with_links(db, id_or_slug).await?;
    let Some((a, links)) = found else {
        let old = article_slug::Entity::find_by_id(id_or_slug.to_string())
            .one(db)
            .await?
            .ok_or_else(not_found)?;
        let current = article::Entity::find_by_id(old.article_id)
            .one(db)
            .await?
            .ok_or_else(not_found)?;
        if !is_public(&current) && !may_see_unpublished(actor, &byline_ids(db, &current.id).await?)
        {
            return Err(not_found());
        }
        return Ok(Found::MovedTo(current.slug));
    };
    if !is_public(&a) {
        let bylines: Vec<String> = links
            .iter()
            .filter(|l| l.kind == 'a')
            .map(|l| l.target.clone())
            .collect();
        if !may_see_unpublished(actor, &bylines) {
            return Err(not_found());
        }
    }
    let cache = state.response_cache.rows();
    let mut view = hydrate_linked(db, &state.config.site_url, cache.as_ref(), vec![a], links)
        .await?
        .pop()
        .ok_or_else(not_found)?;
    if actor.is_staff() {
        view.previous_slugs = article_slug::Entity::find()
            .filter(article_slug::Column::ArticleId.eq(view.article.id.clone()))
            .order_by_asc(article_slug::Column::CreatedAt)
            .all(db)
            .await?
            .into_iter()
            .map(|s| s.slug)
            .collect();
    }
    Ok(Found::Article(Box::new(view)))
}

pub use crate::services::previews::{
    PREVIEW_TTL_DEFAULT, PREVIEW_TTL_MAX, PreviewGrant, get_preview, preview_token,
};

/// The article whose id or current slug is `id_or_slug`, with its bylines,
/// tags and approved comment count ([`Link`]s), in one statement: a cold read
/// of one article is then this and nothing else when the rows it names are
/// in the row cache.
async fn find_with_links(
    db: &impl ConnectionTrait,
    id_or_slug: &str,
) -> Result<Option<(article::Model, Vec<Link>)>, AppError> {
    /// `string_agg(… ORDER BY …)` is both PostgreSQL's and SQLite's (3.44+);
    /// ids are UUIDs, so a comma cannot occur inside one.
    const AUTHORS: &str = "(SELECT string_agg(author_id, ',' ORDER BY position) \
        FROM article_authors WHERE article_id = articles.id)";
    const TAGS: &str = "(SELECT string_agg(tag_id, ',' ORDER BY position) \
        FROM article_tags WHERE article_id = articles.id)";
    const APPROVED: &str = "(SELECT COUNT(*) FROM comments \
        WHERE article_id = articles.id AND status = 'approved')";
    struct Row(article::Model, Vec<Link>);
    impl FromQueryResult for Row {
        fn from_query_result(row: &QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
            let a = article::Model::from_query_result(row, pre)?;
            let mut links = Vec::new();
            for (kind, column) in [('a', "link_authors"), ('t', "link_tags")] {
                let ids: Option<String> = row.try_get(pre, column)?;
                links.extend(ids.iter().flat_map(|ids| ids.split(',')).enumerate().map(
                    |(n, id)| Link {
                        kind,
                        article_id: a.id.clone(),
                        target: id.to_string(),
                        n: n as i64,
                    },
                ));
            }
            let approved: i64 = row.try_get(pre, "link_comments")?;
            if approved > 0 {
                links.push(Link {
                    kind: 'c',
                    article_id: a.id.clone(),
                    target: String::new(),
                    n: approved,
                });
            }
            Ok(Row(a, links))
        }
    }
    Ok(article::Entity::find()
        .filter(is_id_or_slug(id_or_slug))
        .column_as(Expr::cust(AUTHORS), "link_authors")
        .column_as(Expr::cust(TAGS), "link_tags")
        .column_as(Expr::cust(APPROVED), "link_comments")
        .into_model::<Row>()
        .one(db)
        .await?
        .map(|Row(a, links)| (a, links)))
}

/// Articles whose id or current slug is `id_or_slug`.
pub(crate) fn is_id_or_slug(id_or_slug: &str) -> Condition {
    Condition::any()
        .add(article::Column::Id.eq(id_or_slug))
        .add(article::Column::Slug.eq(id_or_slug))
}

/// An article by id or current slug.
pub(crate) async fn find_by_id_or_slug(
    db: &impl ConnectionTrait,
    id_or_slug: &str,
) -> Result<Option<article::Model>, AppError> {
    Ok(article::Entity::find()
        .filter(is_id_or_slug(id_or_slug))
        .one(db)
        .await?)
}

pub(super) fn is_public(a: &article::Model) -> bool {
    is_public_at(a, now())
}

/// Whether the public may see `a` at `at` (the row-level twin of [`visible_to_public`]).
pub(crate) fn is_public_at(a: &article::Model, at: DateTime<Utc>) -> bool {
    public_at(&a.status, a.published_at, at)
}

/// [`is_public_at`] from the two columns it reads.
pub(crate) fn public_at(
    status: &str,
    published_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> bool {
    status == PUBLISHED && published_at.is_some_and(|p| p <= at)
}

/// When `a`, published with a time after `at`, is to appear (`None`: it is
/// not scheduled).
pub(crate) fn scheduled_after(a: &article::Model, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    a.published_at.filter(|p| a.status == PUBLISHED && *p > at)
}

pub(crate) async fn byline_ids(
    db: &impl ConnectionTrait,
    article_id: &str,
) -> Result<Vec<String>, AppError> {
    Ok(article_author::Entity::find()
        .filter(article_author::Column::ArticleId.eq(article_id))
        .order_by_asc(article_author::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.author_id)
        .collect())
}
