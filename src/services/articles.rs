//! Articles: visibility, listing with authors/tags/source/comment counts
//! loaded in batches (a fixed number of queries per page), and writing.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::{
    auth::Actor,
    domain::{
        body::{self, BodyFormat},
        pagination::{Cursor, Page, PageRequest},
        slug,
    },
    entities::{article, article_author, article_tag, author, comment, source, tag},
    error::AppError,
    services::{new_id, now},
    state::AppState,
};

/// Article `status` values.
pub const DRAFT: &str = "draft";
pub const PUBLISHED: &str = "published";
pub const ARCHIVED: &str = "archived";

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
}

/// What the public may see: published, and not scheduled for later.
fn visible_to_public(at: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(article::Column::Status.eq(PUBLISHED))
        .add(article::Column::PublishedAt.lte(at))
}

/// The list query for an actor. Staff see the same list as readers unless
/// they filter by status (a later issue adds that filter).
fn list_condition(_actor: &Actor) -> Condition {
    visible_to_public(now())
}

/// One page of published articles, newest first (REST `GET /articles`).
pub async fn list(
    state: &AppState,
    actor: &Actor,
    page: PageRequest,
) -> Result<Page<ArticleView>, AppError> {
    let db = &state.db;
    let cond = list_condition(actor);
    let total = article::Entity::find()
        .filter(cond.clone())
        .count(db)
        .await?;
    let rows = if page.offset() >= total {
        Vec::new() // past the end: no need to ask
    } else {
        article::Entity::find()
            .filter(cond)
            .order_by_desc(article::Column::PublishedAt)
            .order_by_desc(article::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(db)
            .await?
    };
    Ok(Page {
        items: hydrate(state, rows).await?,
        page: page.page,
        per_page: page.per_page,
        total,
    })
}

/// Relay-style window arguments, already bounds-checked by the caller's
/// transport-independent validation in [`ConnectionArgs::validate`].
#[derive(Debug, Clone, Default)]
pub struct ConnectionArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// Largest `first`/`last` a connection accepts.
pub const MAX_CONNECTION_WINDOW: i32 = 100;
const DEFAULT_CONNECTION_WINDOW: i32 = 10;

/// A validated window: which way to read, how many, from where.
#[derive(Debug)]
struct Window {
    forward: bool,
    limit: u64,
    from: Option<Cursor>,
}

impl ConnectionArgs {
    fn validate(&self) -> Result<Window, AppError> {
        let mut errors = Vec::new();
        for (name, value) in [("first", self.first), ("last", self.last)] {
            if let Some(n) = value
                && !(0..=MAX_CONNECTION_WINDOW).contains(&n)
            {
                errors.push(crate::error::FieldError::new(
                    name,
                    format!("must be from 0 to {MAX_CONNECTION_WINDOW}"),
                ));
            }
        }
        if self.first.is_some() && self.last.is_some() {
            errors.push(crate::error::FieldError::new(
                "last",
                "cannot be combined with first",
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let after = self
            .after
            .as_deref()
            .map(|c| Cursor::decode("after", c))
            .transpose()?;
        let before = self
            .before
            .as_deref()
            .map(|c| Cursor::decode("before", c))
            .transpose()?;
        Ok(match (self.last, before) {
            (Some(n), before) => Window {
                forward: false,
                limit: n as u64,
                from: before,
            },
            (None, Some(before)) if after.is_none() => Window {
                forward: false,
                limit: DEFAULT_CONNECTION_WINDOW as u64,
                from: Some(before),
            },
            _ => Window {
                forward: true,
                limit: self.first.unwrap_or(DEFAULT_CONNECTION_WINDOW) as u64,
                from: after,
            },
        })
    }
}

/// One window of a connection.
#[derive(Debug, Clone)]
pub struct Connection<T> {
    pub edges: Vec<(Cursor, T)>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub total_count: u64,
}

/// The cursor of an article in the newest-first list.
fn cursor_of(a: &article::Model) -> Cursor {
    Cursor {
        at: a.published_at.unwrap_or(a.created_at),
        id: a.id.clone(),
    }
}

/// Published articles as a keyset-paginated connection, newest first
/// (GraphQL `articles`). Cursors stay valid when articles are added.
pub async fn connection(
    state: &AppState,
    actor: &Actor,
    args: ConnectionArgs,
) -> Result<Connection<ArticleView>, AppError> {
    let window = args.validate()?;
    let db = &state.db;
    let cond = list_condition(actor);
    let total_count = article::Entity::find()
        .filter(cond.clone())
        .count(db)
        .await?;
    let mut query = article::Entity::find().filter(cond);
    if let Some(c) = &window.from {
        use article::Column::{Id, PublishedAt};
        // Newest first: "after" a cursor means older; "before" means newer.
        let beyond = if window.forward {
            Condition::any().add(PublishedAt.lt(c.at)).add(
                Condition::all()
                    .add(PublishedAt.eq(c.at))
                    .add(Id.lt(c.id.clone())),
            )
        } else {
            Condition::any().add(PublishedAt.gt(c.at)).add(
                Condition::all()
                    .add(PublishedAt.eq(c.at))
                    .add(Id.gt(c.id.clone())),
            )
        };
        query = query.filter(beyond);
    }
    query = if window.forward {
        query
            .order_by_desc(article::Column::PublishedAt)
            .order_by_desc(article::Column::Id)
    } else {
        query
            .order_by_asc(article::Column::PublishedAt)
            .order_by_asc(article::Column::Id)
    };
    let mut rows = if window.limit == 0 {
        Vec::new()
    } else {
        query.limit(window.limit + 1).all(db).await?
    };
    let more = rows.len() as u64 > window.limit;
    rows.truncate(window.limit as usize);
    if !window.forward {
        rows.reverse();
    }
    let (has_next_page, has_previous_page) = if window.forward {
        (more, window.from.is_some())
    } else {
        (window.from.is_some(), more)
    };
    let views = hydrate(state, rows).await?;
    Ok(Connection {
        edges: views
            .into_iter()
            .map(|v| (cursor_of(&v.article), v))
            .collect(),
        has_next_page,
        has_previous_page,
        total_count,
    })
}

/// Load authors, tags, sources and comment counts for many articles at once:
/// a fixed number of queries whatever the number of articles.
pub async fn hydrate(
    state: &AppState,
    rows: Vec<article::Model>,
) -> Result<Vec<ArticleView>, AppError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let db = &state.db;
    let ids: Vec<String> = rows.iter().map(|a| a.id.clone()).collect();

    let author_links = article_author::Entity::find()
        .filter(article_author::Column::ArticleId.is_in(ids.clone()))
        .order_by_asc(article_author::Column::Position)
        .all(db)
        .await?;
    let authors: HashMap<String, author::Model> = author::Entity::find()
        .filter(author::Column::Id.is_in(unique(author_links.iter().map(|l| &l.author_id))))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();

    let tag_links = article_tag::Entity::find()
        .filter(article_tag::Column::ArticleId.is_in(ids.clone()))
        .order_by_asc(article_tag::Column::Position)
        .all(db)
        .await?;
    let tags: HashMap<String, tag::Model> = tag::Entity::find()
        .filter(tag::Column::Id.is_in(unique(tag_links.iter().map(|l| &l.tag_id))))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id.clone(), t))
        .collect();

    let source_ids = unique(rows.iter().filter_map(|a| a.source_id.as_ref()));
    let sources: HashMap<String, source::Model> = if source_ids.is_empty() {
        HashMap::new()
    } else {
        source::Entity::find()
            .filter(source::Column::Id.is_in(source_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect()
    };

    let counts = approved_comment_counts(db, &ids).await?;

    Ok(rows
        .into_iter()
        .map(|a| {
            let authors = author_links
                .iter()
                .filter(|l| l.article_id == a.id)
                .filter_map(|l| authors.get(&l.author_id).cloned())
                .collect();
            let tags = tag_links
                .iter()
                .filter(|l| l.article_id == a.id)
                .filter_map(|l| tags.get(&l.tag_id).cloned())
                .collect();
            let source = a.source_id.as_ref().and_then(|id| sources.get(id).cloned());
            let canonical_url = canonical_url(&state.config.site_url, &a);
            ArticleView {
                comment_count: counts.get(&a.id).copied().unwrap_or(0),
                authors,
                tags,
                source,
                canonical_url,
                article: a,
            }
        })
        .collect())
}

fn unique<'a>(ids: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut v: Vec<String> = ids.cloned().collect();
    v.sort();
    v.dedup();
    v
}

/// Approved comments per article, in one grouped query.
async fn approved_comment_counts(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<HashMap<String, u64>, AppError> {
    let rows: Vec<(String, i64)> = comment::Entity::find()
        .select_only()
        .column(comment::Column::ArticleId)
        .column_as(comment::Column::Id.count(), "n")
        .filter(comment::Column::ArticleId.is_in(ids.to_vec()))
        .filter(comment::Column::Status.eq("approved"))
        .group_by(comment::Column::ArticleId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, n.max(0) as u64))
        .collect())
}

/// `original_url` for a cross-post, else the article's own URL on the site.
pub fn canonical_url(site_url: &str, a: &article::Model) -> String {
    match &a.original_url {
        Some(url) if !url.is_empty() => url.clone(),
        _ => format!("{site_url}/articles/{}", a.slug),
    }
}

/// A complete, already-validated article to store (used by seeding now; the
/// content issue's `create` validates client input into this).
#[derive(Debug, Clone)]
pub struct NewArticle {
    pub title: String,
    pub slug: Option<String>,
    pub standfirst: Option<String>,
    pub excerpt: Option<String>,
    pub body: String,
    pub body_format: BodyFormat,
    pub status: &'static str,
    pub published_at: Option<DateTime<Utc>>,
    pub author_ids: Vec<String>,
    pub tag_ids: Vec<String>,
    pub source_id: Option<String>,
    pub original_url: Option<String>,
    pub original_published_at: Option<DateTime<Utc>>,
    pub comment_status: &'static str,
    pub feature_image_url: Option<String>,
    pub feature_image_alt: Option<String>,
}

/// A free slug for an article: `base`, `base-2`, `base-3`... checked against
/// current articles and their slug history.
pub async fn free_slug(db: &impl ConnectionTrait, base: &str) -> Result<String, AppError> {
    use crate::entities::article_slug;
    for n in 1..1000u32 {
        let candidate = slug::candidate(base, n);
        let taken = article::Entity::find()
            .filter(article::Column::Slug.eq(candidate.clone()))
            .count(db)
            .await?
            > 0
            || article_slug::Entity::find_by_id(candidate.clone())
                .count(db)
                .await?
                > 0;
        if !taken {
            return Ok(candidate);
        }
    }
    Err(AppError::Conflict(format!("no free slug near {base:?}")))
}

/// Store a new article with its byline and tags (inside the caller's transaction).
pub async fn insert(
    db: &impl ConnectionTrait,
    input: NewArticle,
) -> Result<article::Model, AppError> {
    let rendered = body::render(&input.body, input.body_format);
    let base = input
        .slug
        .clone()
        .unwrap_or_else(|| slug::slugify(&input.title));
    let base = if base.is_empty() {
        "article".to_string()
    } else {
        base
    };
    let slug = free_slug(db, &base).await?;
    let at = now();
    let id = new_id();
    let model = article::ActiveModel {
        id: Set(id.clone()),
        slug: Set(slug),
        title: Set(input.title),
        standfirst: Set(input.standfirst),
        excerpt: Set(input.excerpt),
        body: Set(input.body),
        body_format: Set(input.body_format.as_str().to_string()),
        body_html: Set(rendered.html),
        body_text: Set(rendered.text),
        word_count: Set(rendered.word_count),
        status: Set(input.status.to_string()),
        published_at: Set(input.published_at),
        source_id: Set(input.source_id),
        original_url: Set(input.original_url),
        original_published_at: Set(input.original_published_at),
        comment_status: Set(input.comment_status.to_string()),
        feature_image_url: Set(input.feature_image_url),
        feature_image_alt: Set(input.feature_image_alt),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
    };
    let saved = article::Entity::insert(model)
        .exec_with_returning(db)
        .await?;
    for (position, author_id) in input.author_ids.into_iter().enumerate() {
        article_author::Entity::insert(article_author::ActiveModel {
            article_id: Set(id.clone()),
            author_id: Set(author_id),
            position: Set(position as i32),
        })
        .exec_without_returning(db)
        .await?;
    }
    for (position, tag_id) in input.tag_ids.into_iter().enumerate() {
        article_tag::Entity::insert(article_tag::ActiveModel {
            article_id: Set(id.clone()),
            tag_id: Set(tag_id),
            position: Set(position as i32),
        })
        .exec_without_returning(db)
        .await?;
    }
    Ok(saved)
}

/// A free author slug: `base`, `base-2`...
pub async fn free_author_slug(db: &impl ConnectionTrait, base: &str) -> Result<String, AppError> {
    for n in 1..1000u32 {
        let candidate = slug::candidate(base, n);
        if author::Entity::find()
            .filter(author::Column::Slug.eq(candidate.clone()))
            .count(db)
            .await?
            == 0
        {
            return Ok(candidate);
        }
    }
    Err(AppError::Conflict(format!("no free slug near {base:?}")))
}
