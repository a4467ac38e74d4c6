//! Articles: visibility, listing (filters, sorts, page numbers or keyset
//! cursors) with bylines/tags/source/comment counts loaded in batches, and
//! the write rules — slugs and slug history, rendering, bylines, publishing
//! permissions and optimistic concurrency.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, Query},
};

use crate::{
    auth::{Actor, Role},
    domain::body::{self},
    entities::{article, article_author, author, source, tag},
    services::now,
};

/// Article `status` values.
pub const DRAFT: &str = "draft";
pub const PUBLISHED: &str = "published";
pub const ARCHIVED: &str = "archived";

/// Longest title accepted.
pub const MAX_TITLE_CHARS: usize = 300;

/// An article with everything a reader sees alongside it.
#[derive(Debug, Clone)]
pub struct ArticleView {
    pub article: article::Model,
    /// Bylines in order.
    pub authors: Vec<author::Model>,
    /// Tags in order.
    pub tags: Vec<tag::Model>,
    pub source: Option<source::Model>,
    /// Approved comments only.
    pub comment_count: u64,
    pub canonical_url: String,
    /// Earlier slugs (staff only; empty unless loaded for a single article).
    pub previous_slugs: Vec<String>,
}

impl ArticleView {
    /// The given excerpt, or one derived from the first paragraph.
    pub fn excerpt(&self) -> String {
        match &self.article.excerpt {
            Some(e) if !e.trim().is_empty() => e.clone(),
            _ => body::derive_excerpt(&self.article.body_text),
        }
    }

    pub fn reading_time_minutes(&self) -> i32 {
        body::reading_time_minutes(self.article.word_count)
    }

    /// The value an `If-Match` header must carry to update this article.
    pub fn etag(&self) -> String {
        version_etag(self.article.version)
    }
}

/// The strong ETag of an article version, as staff GETs send it.
pub fn version_etag(version: i32) -> String {
    format!("\"v{version}\"")
}

/// What the public may see: published, and not scheduled for later.
pub fn visible_to_public(at: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(article::Column::Status.eq(PUBLISHED))
        .add(article::Column::PublishedAt.lte(at))
}

/// The rowids of articles the public cannot see at `at` (SQLite): drafts,
/// archived articles and those scheduled later. Each part is one range of
/// the (status, published_at) index, so the set costs what it holds, not
/// what the archive holds; searches exclude it with `NOT IN` instead of
/// testing every match against the much larger visible set.
pub fn hidden_rowids(at: DateTime<Utc>) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::UnionType;
    let part = |condition: Condition| {
        Query::select()
            .expr(Expr::cust("\"articles\".rowid"))
            .from(article::Entity)
            .cond_where(condition)
            .to_owned()
    };
    let published = || Condition::all().add(article::Column::Status.eq(PUBLISHED));
    part(Condition::all().add(article::Column::Status.lt(PUBLISHED)))
        .union(
            UnionType::All,
            part(Condition::all().add(article::Column::Status.gt(PUBLISHED))),
        )
        .union(
            UnionType::All,
            part(published().add(article::Column::PublishedAt.is_null())),
        )
        .union(
            UnionType::All,
            part(published().add(article::Column::PublishedAt.gt(at))),
        )
        .to_owned()
}

/// When the next scheduled article comes due (public lists change then).
pub async fn next_scheduled(
    db: &impl ConnectionTrait,
) -> Result<Option<DateTime<Utc>>, sea_orm::DbErr> {
    let next: Option<Option<DateTime<Utc>>> = article::Entity::find()
        .select_only()
        .column(article::Column::PublishedAt)
        .filter(article::Column::Status.eq(PUBLISHED))
        .filter(article::Column::PublishedAt.gt(now()))
        .order_by_asc(article::Column::PublishedAt)
        .into_tuple()
        .one(db)
        .await?;
    Ok(next.flatten())
}

/// The ids of articles credited to `author_id` (a subquery).
fn bylined_by(author_id: &str) -> Condition {
    Condition::all().add(
        article::Column::Id.in_subquery(
            Query::select()
                .column(article_author::Column::ArticleId)
                .from(article_author::Entity)
                .and_where(Expr::col(article_author::Column::AuthorId).eq(author_id))
                .to_owned(),
        ),
    )
}

/// Whether `actor` may see `a` even when it is not public.
pub(crate) fn may_see_unpublished(actor: &Actor, bylines: &[String]) -> bool {
    match actor {
        Actor::User {
            role: Role::Admin | Role::Editor,
            ..
        } => true,
        Actor::User {
            author_id: Some(mine),
            ..
        } => bylines.iter().any(|b| b == mine),
        _ => false,
    }
}

mod counts;
mod fields;
mod hydrate;
mod list;
mod read;
mod write;

pub use counts::*;
pub use fields::*;
pub use hydrate::*;
pub use list::*;
pub use read::*;
pub use write::*;
