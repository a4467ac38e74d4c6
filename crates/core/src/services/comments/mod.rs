//! Reader comments: public submission with moderation rules and abuse
//! limits, threads, the public list, and moderation for editors and admins.
//! A commenter's email, address and user agent never leave staff responses.

mod moderation;
mod submit;

pub use moderation::*;
pub use submit::*;

use std::collections::HashMap;

use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, Iterable,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, Query},
};

use crate::{
    auth::{Actor, RequestContext, Role, policy},
    config::Moderation,
    domain::{
        comment as text,
        pagination::{Connection, Cursor, Page, PageRequest, first_window},
        text as plain,
        validate::{is_http_url, valid_email},
    },
    entities::{article, comment, user, webhook},
    error::{AppError, FieldError},
    services::{articles, new_id, now},
    state::AppState,
};

/// Comment `status` values.
pub const PENDING: &str = "pending";
pub const APPROVED: &str = "approved";
pub const SPAM: &str = "spam";
pub const TRASH: &str = "trash";
pub const STATUSES: [&str; 4] = [PENDING, APPROVED, SPAM, TRASH];

/// Longest comment body, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;
/// An identical comment within this window is a duplicate.
const DUPLICATE_WINDOW_MINUTES: i64 = 10;

/// A comment as submitted.
#[derive(Debug, Clone, Default)]
pub struct NewComment {
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    pub author_url: Option<String>,
    pub body: Option<String>,
    pub parent_id: Option<String>,
    /// The commenter token of an earlier submission: with it, a commenter
    /// whose earlier comment was approved skips first-time moderation.
    pub commenter_token: Option<String>,
}

/// What a submission answers: the comment, and (for readers) the commenter
/// token to send with their next comments.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub view: CommentView,
    pub commenter_token: Option<String>,
}

/// A comment with its rendered body.
#[derive(Debug, Clone)]
pub struct CommentView {
    pub comment: comment::Model,
    pub body_html: String,
}

impl From<comment::Model> for CommentView {
    fn from(c: comment::Model) -> Self {
        CommentView {
            body_html: text::render(&c.body),
            comment: c,
        }
    }
}

/// Approved comments of a visible article, oldest first, flat with `parent_id` and `depth`.
pub async fn list_public(
    state: &AppState,
    article_ref: &str,
    page: PageRequest,
) -> Result<Page<CommentView>, AppError> {
    let article = visible_article(&state.db, article_ref).await?;
    let q = comment::Entity::find()
        .filter(comment::Column::ArticleId.eq(article.id))
        .filter(comment::Column::Status.eq(APPROVED));
    let total = q.clone().count(&state.db).await?;
    let rows = if page.offset() >= total {
        Vec::new()
    } else {
        q.order_by_asc(comment::Column::CreatedAt)
            .order_by_asc(comment::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&state.db)
            .await?
    };
    Ok(Page {
        items: rows.into_iter().map(CommentView::from).collect(),
        page: page.page,
        per_page: page.per_page,
        total,
    })
}

/// Approved comments of one article as a keyset connection, oldest first
/// (GraphQL `Article.comments`). `top_level` keeps only depth-0 comments.
pub async fn connection_for_article(
    state: &AppState,
    article_id: &str,
    first: Option<i32>,
    after: Option<String>,
    top_level: bool,
) -> Result<Connection<CommentView>, AppError> {
    let limit = first_window(first, 50)?;
    let after = after
        .as_deref()
        .map(|c| Cursor::decode("after", "created_at", c))
        .transpose()?;
    let mut q = comment::Entity::find()
        .filter(comment::Column::ArticleId.eq(article_id))
        .filter(comment::Column::Status.eq(APPROVED));
    if top_level {
        q = q.filter(comment::Column::Depth.eq(0));
    }
    let total_count = q.clone().count(&state.db).await?;
    if let Some(c) = &after {
        let at = c.time("after")?;
        q = q.filter(
            Condition::any().add(comment::Column::CreatedAt.gt(at)).add(
                Condition::all()
                    .add(comment::Column::CreatedAt.eq(at))
                    .add(comment::Column::Id.gt(c.id.clone())),
            ),
        );
    }
    let mut rows = if limit == 0 {
        Vec::new()
    } else {
        q.order_by_asc(comment::Column::CreatedAt)
            .order_by_asc(comment::Column::Id)
            .limit(limit + 1)
            .all(&state.db)
            .await?
    };
    let has_next_page = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    Ok(Connection {
        edges: rows
            .into_iter()
            .map(|c| {
                (
                    Cursor::at("created_at", c.created_at, &c.id),
                    CommentView::from(c),
                )
            })
            .collect(),
        has_next_page,
        has_previous_page: after.is_some(),
        total_count,
    })
}

/// Approved replies of many comments at once (GraphQL `Comment.replies`).
pub async fn approved_replies(
    db: &impl ConnectionTrait,
    parent_ids: &[String],
    per_parent: u64,
) -> Result<HashMap<String, Vec<CommentView>>, AppError> {
    use sea_orm::sea_query::Alias;
    // Without statistics SQLite would rather walk the whole (status,
    // created_at) index in order than look the parents up (70 ms instead of
    // 0.2 ms on 100,000 comments); `+status` takes that index out of the race.
    let approved = if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        sea_orm::ExprTrait::eq(
            sea_orm::sea_query::Expr::cust("+\"comments\".\"status\""),
            APPROVED,
        )
    } else {
        sea_orm::ExprTrait::eq(
            sea_orm::sea_query::Expr::col((comment::Entity, comment::Column::Status)),
            APPROVED,
        )
    };
    // Only the first `per_parent` replies of each parent are read (and
    // rendered), however many a thread has gathered.
    let ranked = Query::select()
        .column(comment::Column::Id)
        .expr_as(
            Expr::cust(
                "ROW_NUMBER() OVER (PARTITION BY \"parent_id\" ORDER BY \"created_at\", \"id\")",
            ),
            Alias::new("rn"),
        )
        .from(comment::Entity)
        .and_where(comment::Column::ParentId.is_in(parent_ids.to_vec()))
        .and_where(approved)
        .to_owned();
    let first = Query::select()
        .column(Alias::new("id"))
        .from_subquery(ranked, Alias::new("ranked"))
        .and_where(sea_orm::ExprTrait::lte(
            Expr::col(Alias::new("rn")),
            per_parent,
        ))
        .to_owned();
    let rows = comment::Entity::find()
        .filter(comment::Column::Id.in_subquery(first))
        .order_by_asc(comment::Column::CreatedAt)
        .order_by_asc(comment::Column::Id)
        .all(db)
        .await?;
    let mut out: HashMap<String, Vec<CommentView>> = HashMap::new();
    for c in rows {
        if let Some(p) = c.parent_id.clone() {
            out.entry(p).or_default().push(c.into());
        }
    }
    Ok(out)
}

pub async fn approved_by_ids(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<HashMap<String, CommentView>, AppError> {
    Ok(comment::Entity::find()
        .filter(comment::Column::Id.is_in(ids.to_vec()))
        .filter(comment::Column::Status.eq(APPROVED))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c.into()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocklisted_words_match_any_field_ignoring_case() {
        let words = vec!["casino".to_string()];
        assert!(blocklisted(&words, &["Best CASINO deals", ""]));
        assert!(!blocklisted(
            &words,
            &["A thoughtful reply", "reader@example.org"]
        ));
    }
}
