//! Articles: visibility, listing (filters, sorts, page numbers or keyset
//! cursors) with bylines/tags/source/comment counts loaded in batches, and
//! the write rules — slugs and slug history, rendering, bylines, publishing
//! permissions and optimistic concurrency.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, FromQueryResult,
    PaginatorTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect, Select, Set,
    sea_query::{Expr, Func, Order, Query},
};

use crate::{
    auth::{Actor, Role, policy},
    cache::{CachedRow, RowCache},
    domain::{
        body::{self, BodyFormat, Rendered},
        pagination::{Cursor, Page, PageRequest},
        slug, text,
    },
    entities::{article, article_author, article_slug, article_tag, author, source, tag},
    error::{AppError, FieldError},
    services::{new_id, now, resolve},
    state::AppState,
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

// ---------------------------------------------------------------- listing

/// Longest search query accepted.
pub const MAX_QUERY_CHARS: usize = 256;

/// Which articles a list shows (API.md `GET /articles` query).
#[derive(Debug, Clone, Default)]
pub struct ArticleFilter {
    /// Author slug or id.
    pub author: Option<String>,
    /// Source slug or id.
    pub source: Option<String>,
    /// Tag slug or id.
    pub tag: Option<String>,
    /// Full-text search: words that must all match (accents, case and English
    /// word endings ignored), `prefix*` and `"exact phrases"`.
    pub query: Option<String>,
    /// Staff only: draft, published, scheduled, archived or any.
    pub status: Option<String>,
}

/// List orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArticleSort {
    #[default]
    PublishedDesc,
    PublishedAsc,
    TitleAsc,
    UpdatedDesc,
}

impl ArticleSort {
    /// REST `sort` values.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "-published_at" => Some(ArticleSort::PublishedDesc),
            "published_at" => Some(ArticleSort::PublishedAsc),
            "title" => Some(ArticleSort::TitleAsc),
            "-updated_at" => Some(ArticleSort::UpdatedDesc),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ArticleSort::PublishedDesc => "-published_at",
            ArticleSort::PublishedAsc => "published_at",
            ArticleSort::TitleAsc => "title",
            ArticleSort::UpdatedDesc => "-updated_at",
        }
    }

    fn descending(self) -> bool {
        matches!(self, ArticleSort::PublishedDesc | ArticleSort::UpdatedDesc)
    }

    /// The sort key expression. Public lists only hold dated articles, so the
    /// plain indexed column serves; staff lists may hold undated drafts, which
    /// sort by their creation time.
    fn key(self, undated_possible: bool) -> Expr {
        match self {
            ArticleSort::PublishedDesc | ArticleSort::PublishedAsc if undated_possible => {
                Func::coalesce([
                    Expr::col((article::Entity, article::Column::PublishedAt)),
                    Expr::col((article::Entity, article::Column::CreatedAt)),
                ])
                .into()
            }
            ArticleSort::PublishedDesc | ArticleSort::PublishedAsc => {
                Expr::col((article::Entity, article::Column::PublishedAt))
            }
            ArticleSort::TitleAsc => Expr::col((article::Entity, article::Column::Title)),
            ArticleSort::UpdatedDesc => Expr::col((article::Entity, article::Column::UpdatedAt)),
        }
    }

    fn cursor_of(self, a: &article::Model) -> Cursor {
        match self {
            ArticleSort::PublishedDesc | ArticleSort::PublishedAsc => {
                Cursor::at(self.name(), a.published_at.unwrap_or(a.created_at), &a.id)
            }
            ArticleSort::UpdatedDesc => Cursor::at(self.name(), a.updated_at, &a.id),
            ArticleSort::TitleAsc => Cursor {
                order: self.name().to_string(),
                key: a.title.clone(),
                id: a.id.clone(),
            },
        }
    }

    /// Rows strictly beyond `c` in the direction of travel.
    fn beyond(
        self,
        c: &Cursor,
        field: &str,
        undated_possible: bool,
        forward: bool,
    ) -> Result<Condition, AppError> {
        let key = self.key(undated_possible);
        let id = Expr::col((article::Entity, article::Column::Id));
        let value: sea_orm::Value = match self {
            ArticleSort::TitleAsc => c.key.clone().into(),
            _ => c.time(field)?.into(),
        };
        let down = self.descending() == forward;
        Ok(if down {
            Condition::any()
                .add(key.clone().lt(value.clone()))
                .add(Condition::all().add(key.eq(value)).add(id.lt(c.id.clone())))
        } else {
            Condition::any()
                .add(key.clone().gt(value.clone()))
                .add(Condition::all().add(key.eq(value)).add(id.gt(c.id.clone())))
        })
    }

    fn apply(
        self,
        q: Select<article::Entity>,
        undated_possible: bool,
        forward: bool,
    ) -> Select<article::Entity> {
        let order = if self.descending() == forward {
            Order::Desc
        } else {
            Order::Asc
        };
        q.order_by(self.key(undated_possible), order.clone())
            .order_by(article::Column::Id, order)
    }
}

/// The condition for a filter as `actor` may see it, and whether undated
/// (draft) rows may be in it.
async fn list_condition(
    state: &AppState,
    actor: &Actor,
    filter: &ArticleFilter,
) -> Result<Option<(Condition, bool)>, AppError> {
    let db = &state.db;
    let at = now();
    let (mut cond, undated_possible) = match filter.status.as_deref().map(str::trim) {
        None | Some("") => (visible_to_public(at), false),
        Some(status) => {
            let (_, role) = policy::require_staff(actor)?;
            let cond = match status {
                "published" => visible_to_public(at),
                "scheduled" => Condition::all()
                    .add(article::Column::Status.eq(PUBLISHED))
                    .add(article::Column::PublishedAt.gt(at)),
                DRAFT | ARCHIVED => Condition::all().add(article::Column::Status.eq(status)),
                "any" => Condition::all(),
                _ => {
                    return Err(AppError::validation(
                        "status",
                        "must be one of draft, published, scheduled, archived, any",
                    ));
                }
            };
            // Authors and contributors see other people's unpublished work nowhere.
            let cond = match (role, actor) {
                (Role::Admin | Role::Editor, _) => cond,
                (_, Actor::User { author_id, .. }) if status != "published" => {
                    cond.add(bylined_by(author_id.as_deref().unwrap_or("")))
                }
                _ => cond,
            };
            (cond, status != "published")
        }
    };
    if let Some(a) = filter.author.as_deref().filter(|s| !s.is_empty()) {
        match resolve::<author::Entity>(db, author::Column::Id, author::Column::Slug, a).await? {
            Some(found) => cond = cond.add(bylined_by(&found.id)),
            None => return Ok(None),
        }
    }
    if let Some(s) = filter.source.as_deref().filter(|s| !s.is_empty()) {
        match resolve::<source::Entity>(db, source::Column::Id, source::Column::Slug, s).await? {
            Some(found) => cond = cond.add(article::Column::SourceId.eq(found.id)),
            None => return Ok(None),
        }
    }
    if let Some(t) = filter.tag.as_deref().filter(|s| !s.is_empty()) {
        match resolve::<tag::Entity>(db, tag::Column::Id, tag::Column::Slug, t).await? {
            Some(found) => {
                cond = cond.add(
                    article::Column::Id.in_subquery(
                        Query::select()
                            .column(article_tag::Column::ArticleId)
                            .from(article_tag::Entity)
                            .and_where(Expr::col(article_tag::Column::TagId).eq(found.id))
                            .to_owned(),
                    ),
                )
            }
            None => return Ok(None),
        }
    }
    if let Some(q) = filter.query.as_deref() {
        // Full-text match (services::search); nothing searchable matches nothing.
        match super::search::SearchQuery::parse(q, "q")? {
            Some(query) => {
                cond = cond.add(super::search::matches(
                    state.db.get_database_backend(),
                    &query,
                ))
            }
            None => return Ok(None),
        }
    }
    Ok(Some((cond, undated_possible)))
}

/// One page of articles (REST `GET /articles` and the `/x/articles` lists).
pub async fn list(
    state: &AppState,
    actor: &Actor,
    filter: ArticleFilter,
    sort: ArticleSort,
    page: PageRequest,
) -> Result<Page<ArticleView>, AppError> {
    let db = &state.db;
    let empty = Page {
        items: Vec::new(),
        page: page.page,
        per_page: page.per_page,
        total: 0,
    };
    let Some((cond, undated)) = list_condition(state, actor, &filter).await? else {
        return Ok(empty);
    };
    let total = article::Entity::find()
        .filter(cond.clone())
        .count(db)
        .await?;
    let rows = if page.offset() >= total {
        Vec::new() // past the end: no need to ask
    } else {
        sort.apply(article::Entity::find().filter(cond), undated, true)
            .offset(page.offset())
            .limit(page.per_page)
            .all(db)
            .await?
    };
    Ok(Page {
        items: hydrate(state, rows).await?,
        total,
        ..empty
    })
}

/// Relay-style window arguments.
#[derive(Debug, Clone, Default)]
pub struct ConnectionArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

pub use crate::domain::pagination::{MAX_CONNECTION_WINDOW, first_window};
const DEFAULT_CONNECTION_WINDOW: i32 = 10;

/// A validated window: which way to read, how many, from where.
#[derive(Debug)]
struct Window {
    forward: bool,
    limit: u64,
    from: Option<Cursor>,
    field: &'static str,
}

impl ConnectionArgs {
    /// Refuse what [`connection`] would refuse, without reading anything
    /// (for a caller that takes only the count, from a batched loader).
    pub fn check(&self, sort: ArticleSort) -> Result<(), AppError> {
        self.validate(sort.name()).map(|_| ())
    }

    fn validate(&self, order: &str) -> Result<Window, AppError> {
        let mut errors = Vec::new();
        for (name, value) in [("first", self.first), ("last", self.last)] {
            if let Some(n) = value
                && !(0..=MAX_CONNECTION_WINDOW).contains(&n)
            {
                errors.push(FieldError::new(
                    name,
                    format!("must be from 0 to {MAX_CONNECTION_WINDOW}"),
                ));
            }
        }
        if self.first.is_some() && self.last.is_some() {
            errors.push(FieldError::new("last", "cannot be combined with first"));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let after = self
            .after
            .as_deref()
            .map(|c| Cursor::decode("after", order, c))
            .transpose()?;
        let before = self
            .before
            .as_deref()
            .map(|c| Cursor::decode("before", order, c))
            .transpose()?;
        Ok(match (self.last, before) {
            (Some(n), before) => Window {
                forward: false,
                limit: n as u64,
                from: before,
                field: "before",
            },
            (None, Some(before)) if after.is_none() => Window {
                forward: false,
                limit: DEFAULT_CONNECTION_WINDOW as u64,
                from: Some(before),
                field: "before",
            },
            _ => Window {
                forward: true,
                limit: self.first.unwrap_or(DEFAULT_CONNECTION_WINDOW) as u64,
                from: after,
                field: "after",
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

/// Articles as a keyset-paginated connection (GraphQL `articles`). Cursors
/// stay valid when articles are added between fetches.
pub async fn connection(
    state: &AppState,
    actor: &Actor,
    filter: ArticleFilter,
    sort: ArticleSort,
    args: ConnectionArgs,
) -> Result<Connection<ArticleView>, AppError> {
    let window = args.validate(sort.name())?;
    let db = &state.db;
    let Some((cond, undated)) = list_condition(state, actor, &filter).await? else {
        return Ok(Connection {
            edges: Vec::new(),
            has_next_page: false,
            has_previous_page: false,
            total_count: 0,
        });
    };
    let total_count = article::Entity::find()
        .filter(cond.clone())
        .count(db)
        .await?;
    let mut query = article::Entity::find().filter(cond);
    if let Some(c) = &window.from {
        query = query.filter(sort.beyond(c, window.field, undated, window.forward)?);
    }
    let query = sort.apply(query, undated, window.forward);
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
            .map(|v| (sort.cursor_of(&v.article), v))
            .collect(),
        has_next_page,
        has_previous_page,
        total_count,
    })
}

/// Load authors, tags, sources and comment counts for many articles at once:
/// a fixed number of queries whatever the number of articles. Bylines, tags
/// and sources already read in this cache generation are not read again.
pub async fn hydrate(
    state: &AppState,
    rows: Vec<article::Model>,
) -> Result<Vec<ArticleView>, AppError> {
    let cache = state.response_cache.rows();
    hydrate_from(&state.db, &state.config.site_url, cache.as_ref(), rows).await
}

/// [`hydrate`] inside a transaction: everything is read from it.
async fn hydrate_with(
    db: &impl ConnectionTrait,
    site_url: &str,
    rows: Vec<article::Model>,
) -> Result<Vec<ArticleView>, AppError> {
    hydrate_from(db, site_url, None, rows).await
}

async fn hydrate_from(
    db: &impl ConnectionTrait,
    site_url: &str,
    cache: Option<&RowCache<'_>>,
    rows: Vec<article::Model>,
) -> Result<Vec<ArticleView>, AppError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = rows.iter().map(|a| a.id.clone()).collect();
    // Every statement is a round trip (on SQLite, two thread hops), so the
    // links and the counts come in one, and the rows they name from the cache.
    let links = links_of(db, &ids).await?;
    hydrate_linked(db, site_url, cache, rows, links).await
}

/// [`hydrate_from`] with the links already read (by [`find_with_links`]).
async fn hydrate_linked(
    db: &impl ConnectionTrait,
    site_url: &str,
    cache: Option<&RowCache<'_>>,
    rows: Vec<article::Model>,
    mut links: Vec<Link>,
) -> Result<Vec<ArticleView>, AppError> {
    links.sort_by_key(|l| l.n);
    let targets = |kind: char| unique(links.iter().filter(|l| l.kind == kind).map(|l| &l.target));
    let authors: HashMap<String, author::Model> =
        rows_by_id::<author::Entity>(db, cache, author::Column::Id, targets('a')).await?;
    let tags: HashMap<String, tag::Model> =
        rows_by_id::<tag::Entity>(db, cache, tag::Column::Id, targets('t')).await?;
    let sources: HashMap<String, source::Model> = rows_by_id::<source::Entity>(
        db,
        cache,
        source::Column::Id,
        unique(rows.iter().filter_map(|a| a.source_id.as_ref())),
    )
    .await?;
    fn linked<'a>(
        links: &'a [Link],
        article_id: &'a str,
        kind: char,
    ) -> impl Iterator<Item = &'a str> {
        links
            .iter()
            .filter(move |l| l.kind == kind && l.article_id == article_id)
            .map(|l| l.target.as_str())
    }
    Ok(rows
        .into_iter()
        .map(|a| ArticleView {
            authors: linked(&links, &a.id, 'a')
                .filter_map(|id| authors.get(id).cloned())
                .collect(),
            tags: linked(&links, &a.id, 't')
                .filter_map(|id| tags.get(id).cloned())
                .collect(),
            source: a.source_id.as_ref().and_then(|id| sources.get(id).cloned()),
            comment_count: links
                .iter()
                .find(|l| l.kind == 'c' && l.article_id == a.id)
                .map_or(0, |l| u64::try_from(l.n).unwrap_or(0)),
            canonical_url: canonical_url(site_url, &a),
            previous_slugs: Vec::new(),
            article: a,
        })
        .collect())
}

/// One row of [`links_of`]: a byline (`a`, target an author id, `n` its
/// position), a tag (`t`, likewise) or the approved comment count (`c`, `n`).
struct Link {
    kind: char,
    article_id: String,
    target: String,
    n: i64,
}

/// The bylines, tags and approved comment counts of `ids`, in one statement.
async fn links_of(db: &impl ConnectionTrait, ids: &[String]) -> Result<Vec<Link>, AppError> {
    let backend = db.get_database_backend();
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(ids.len() * 3);
    let mut list = || {
        let start = values.len();
        values.extend(ids.iter().map(|id| id.clone().into()));
        (start + 1..=values.len())
            .map(|i| match backend {
                sea_orm::DatabaseBackend::Postgres => format!("${i}"),
                _ => "?".to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (authors, tags, comments) = (list(), list(), list());
    let sql = format!(
        "SELECT 'a' AS kind, article_id, author_id AS target, position AS n \
           FROM article_authors WHERE article_id IN ({authors}) \
         UNION ALL \
         SELECT 't', article_id, tag_id, position FROM article_tags WHERE article_id IN ({tags}) \
         UNION ALL \
         SELECT 'c', article_id, '', COUNT(*) FROM comments \
           WHERE article_id IN ({comments}) AND status = 'approved' GROUP BY article_id"
    );
    let stmt = sea_orm::Statement::from_sql_and_values(backend, sql, values);
    db.query_all_raw(stmt)
        .await?
        .iter()
        .map(|row| {
            Ok(Link {
                kind: row
                    .try_get::<String>("", "kind")?
                    .chars()
                    .next()
                    .unwrap_or('?'),
                article_id: row.try_get("", "article_id")?,
                target: row.try_get("", "target")?,
                n: row.try_get("", "n")?,
            })
        })
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(AppError::from)
}

/// Rows of `E` by id: those cached in this generation, the rest in one statement.
async fn rows_by_id<E>(
    db: &impl ConnectionTrait,
    cache: Option<&RowCache<'_>>,
    id: E::Column,
    ids: Vec<String>,
) -> Result<HashMap<String, E::Model>, AppError>
where
    E: EntityTrait,
    E::Model: CachedRow,
{
    let (mut found, missing) = match cache {
        Some(cache) => cache.get::<E::Model>(&ids),
        None => (HashMap::new(), ids),
    };
    if !missing.is_empty() {
        let read = E::find().filter(id.is_in(missing)).all(db).await?;
        if let Some(cache) = cache {
            cache.keep(&read);
        }
        found.extend(read.into_iter().map(|r| (r.id().to_string(), r)));
    }
    Ok(found)
}

fn unique<'a>(ids: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut v: Vec<String> = ids.cloned().collect();
    v.sort();
    v.dedup();
    v
}

/// `original_url` for a cross-post, else the article's own URL on the site.
pub fn canonical_url(site_url: &str, a: &article::Model) -> String {
    match &a.original_url {
        Some(url) if !url.is_empty() => url.clone(),
        _ => local_url(site_url, a),
    }
}

/// The article's own URL on the site, cross-post or not (feeds link here).
pub fn local_url(site_url: &str, a: &article::Model) -> String {
    format!("{site_url}/articles/{}", a.slug)
}

// ---------------------------------------------------------------- reading one

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

pub use super::previews::{
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

fn is_public(a: &article::Model) -> bool {
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

// ---------------------------------------------------------------- writing

/// Article fields as a client sends them; `None` = not given. On update an
/// inner `None` clears an optional field.
#[derive(Debug, Clone, Default)]
pub struct ArticleFields {
    pub title: Option<String>,
    pub slug: Option<String>,
    pub standfirst: Option<Option<String>>,
    pub excerpt: Option<Option<String>>,
    pub body: Option<String>,
    pub body_format: Option<String>,
    pub status: Option<String>,
    pub published_at: Option<Option<DateTime<Utc>>>,
    pub author_ids: Option<Vec<String>>,
    pub tag_ids: Option<Vec<String>>,
    pub source_id: Option<Option<String>>,
    pub original_url: Option<Option<String>>,
    pub original_published_at: Option<Option<DateTime<Utc>>>,
    pub comment_status: Option<String>,
    pub feature_image_url: Option<Option<String>>,
    pub feature_image_alt: Option<Option<String>>,
}

/// How a client says which version it is updating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// No precondition: last write wins.
    Any,
    /// From an `If-Match` header: a mismatch is 412.
    IfMatch(Option<i32>),
    /// From a `version` field or `expectedVersion`: a mismatch is 409.
    Version(i32),
}

/// Bylines an article may carry (a longer list is 422).
pub const MAX_AUTHORS_PER_ARTICLE: usize = 20;
/// Tags an article may carry (a longer list is 422).
pub const MAX_TAGS_PER_ARTICLE: usize = 50;

/// Whether a date can be written in every format we serve (RFC 3339, RFC
/// 2822 in feeds, sitemaps): a four-digit year, 1 to 9999, in UTC.
pub fn is_representable(at: DateTime<Utc>) -> bool {
    (1..=9999).contains(&at.year())
}

/// Whether `url` is an absolute http(s) URL with a host.
pub fn is_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty()
                && !url.chars().any(|c| c.is_whitespace() || c.is_control())
                && url.len() <= 2048
        }
        None => false,
    }
}

/// Trimmed, and `None` when empty.
fn clean(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Field-level validation shared by create and update. Collects every error.
async fn validate(
    db: &impl ConnectionTrait,
    f: &mut ArticleFields,
    creating: bool,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    match f.title.as_deref().map(str::trim) {
        None if creating => errors.push(FieldError::new("title", "is required")),
        Some("") => errors.push(FieldError::new("title", "must not be empty")),
        Some(t) if t.chars().count() > MAX_TITLE_CHARS => errors.push(FieldError::new(
            "title",
            format!("must be at most {MAX_TITLE_CHARS} characters"),
        )),
        _ => {}
    }
    if let Some(s) = &f.slug
        && !slug::is_valid_slug(s)
    {
        errors.push(FieldError::new("slug", "must be lowercase ASCII letters and digits joined by single hyphens, at most 200 characters"));
    }
    if let Some(fmt) = &f.body_format
        && BodyFormat::parse(fmt).is_none()
    {
        errors.push(FieldError::new("body_format", "must be markdown or html"));
    }
    if let Some(st) = &f.status
        && ![DRAFT, PUBLISHED, ARCHIVED].contains(&st.as_str())
    {
        errors.push(FieldError::new(
            "status",
            "must be draft, published or archived",
        ));
    }
    if let Some(cs) = &f.comment_status
        && cs != "open"
        && cs != "closed"
    {
        errors.push(FieldError::new("comment_status", "must be open or closed"));
    }
    for (name, value) in [
        ("original_url", &f.original_url),
        ("feature_image_url", &f.feature_image_url),
    ] {
        if let Some(Some(url)) = value
            && !url.trim().is_empty()
            && !is_http_url(url.trim())
        {
            errors.push(FieldError::new(name, "must be an absolute http(s) URL"));
        }
    }
    // Single-line text goes into feeds' XML as is: no control characters.
    if let Some(problem) = f.title.as_deref().and_then(text::single_line_problem) {
        errors.push(FieldError::new("title", problem));
    }
    for (name, value, single_line) in [
        ("standfirst", &f.standfirst, false),
        ("excerpt", &f.excerpt, true),
        ("feature_image_alt", &f.feature_image_alt, true),
    ] {
        if let Some(Some(v)) = value {
            let problem = if single_line {
                text::single_line_problem(v)
            } else {
                text::multi_line_problem(v)
            };
            if let Some(problem) = problem {
                errors.push(FieldError::new(name, problem));
            }
        }
    }
    for (name, value, max) in [
        ("standfirst", &f.standfirst, 5_000),
        ("excerpt", &f.excerpt, 2_000),
        ("feature_image_alt", &f.feature_image_alt, 500),
    ] {
        if let Some(Some(v)) = value
            && v.chars().count() > max
        {
            errors.push(FieldError::new(
                name,
                format!("must be at most {max} characters"),
            ));
        }
    }
    for (name, value) in [
        ("published_at", &f.published_at),
        ("original_published_at", &f.original_published_at),
    ] {
        if let Some(Some(at)) = value
            && !is_representable(*at)
        {
            errors.push(FieldError::new(
                name,
                "must fall in the years 1 to 9999 (UTC)",
            ));
        }
    }
    // The lists are checked against the database below, only when they are
    // not already refused for their length.
    let mut too_long = [false; 2];
    for (i, (name, ids, max)) in [
        ("author_ids", &f.author_ids, MAX_AUTHORS_PER_ARTICLE),
        ("tag_ids", &f.tag_ids, MAX_TAGS_PER_ARTICLE),
    ]
    .into_iter()
    .enumerate()
    {
        if let Some(ids) = ids
            && ids.len() > max
        {
            errors.push(FieldError::new(name, format!("must list at most {max}")));
            too_long[i] = true;
        }
    }
    if let Some(ids) = f.author_ids.as_ref().filter(|_| !too_long[0]) {
        let wanted = unique(ids.iter());
        if wanted.len() != ids.len() {
            errors.push(FieldError::new("author_ids", "lists an author twice"));
        } else if !wanted.is_empty() {
            let known = author::Entity::find()
                .filter(author::Column::Id.is_in(wanted.clone()))
                .count(db)
                .await?;
            if known as usize != wanted.len() {
                errors.push(FieldError::new(
                    "author_ids",
                    "names an author that does not exist",
                ));
            }
        }
    }
    if let Some(ids) = f.tag_ids.as_ref().filter(|_| !too_long[1]) {
        let wanted = unique(ids.iter());
        if wanted.len() != ids.len() {
            errors.push(FieldError::new("tag_ids", "lists a tag twice"));
        } else if !wanted.is_empty() {
            let known = tag::Entity::find()
                .filter(tag::Column::Id.is_in(wanted.clone()))
                .count(db)
                .await?;
            if known as usize != wanted.len() {
                errors.push(FieldError::new(
                    "tag_ids",
                    "names a tag that does not exist",
                ));
            }
        }
    }
    if let Some(Some(id)) = &f.source_id
        && source::Entity::find_by_id(id.clone()).count(db).await? == 0
    {
        errors.push(FieldError::new(
            "source_id",
            "names a source that does not exist",
        ));
    }
    if errors.is_empty() {
        f.title = f.title.take().map(|t| t.trim().to_string());
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Roles that may publish.
fn may_publish(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Editor | Role::Author)
}

/// Authors and contributors must stay a byline of what they write.
fn check_byline(actor: &Actor, role: Role, bylines: &[String]) -> Result<(), AppError> {
    if matches!(role, Role::Admin | Role::Editor) {
        return Ok(());
    }
    match actor {
        Actor::User {
            author_id: Some(mine),
            ..
        } if bylines.iter().any(|b| b == mine) => Ok(()),
        Actor::User {
            author_id: None, ..
        } => Err(AppError::Forbidden(
            "your account is not linked to an author, so you cannot write articles".into(),
        )),
        _ => Err(AppError::Forbidden(
            "you may only write articles on which you are a byline".into(),
        )),
    }
}

/// Insert the article's byline and tag rows in order.
pub(crate) async fn write_links(
    db: &impl ConnectionTrait,
    article_id: &str,
    authors: Option<&[String]>,
    tags: Option<&[String]>,
) -> Result<(), AppError> {
    if let Some(authors) = authors {
        article_author::Entity::delete_many()
            .filter(article_author::Column::ArticleId.eq(article_id))
            .exec(db)
            .await?;
        for (position, author_id) in authors.iter().enumerate() {
            article_author::Entity::insert(article_author::ActiveModel {
                article_id: Set(article_id.to_string()),
                author_id: Set(author_id.clone()),
                position: Set(position as i32),
            })
            .exec_without_returning(db)
            .await?;
        }
    }
    if let Some(tags) = tags {
        article_tag::Entity::delete_many()
            .filter(article_tag::Column::ArticleId.eq(article_id))
            .exec(db)
            .await?;
        for (position, tag_id) in tags.iter().enumerate() {
            article_tag::Entity::insert(article_tag::ActiveModel {
                article_id: Set(article_id.to_string()),
                tag_id: Set(tag_id.clone()),
                position: Set(position as i32),
            })
            .exec_without_returning(db)
            .await?;
        }
    }
    Ok(())
}

/// Whether `candidate` is used by another article, now or as an old slug.
pub(crate) async fn slug_taken(
    db: &impl ConnectionTrait,
    candidate: &str,
    except_article: Option<&str>,
) -> Result<bool, AppError> {
    let mut current = article::Entity::find().filter(article::Column::Slug.eq(candidate));
    let mut old = article_slug::Entity::find().filter(article_slug::Column::Slug.eq(candidate));
    if let Some(id) = except_article {
        current = current.filter(article::Column::Id.ne(id));
        old = old.filter(article_slug::Column::ArticleId.ne(id));
    }
    Ok(current.count(db).await? > 0 || old.count(db).await? > 0)
}

/// A free slug for an article: `base`, `base-2`, `base-3`...
pub async fn free_slug(db: &impl ConnectionTrait, base: &str) -> Result<String, AppError> {
    for n in 1..1000u32 {
        let candidate = slug::candidate(base, n);
        if !slug_taken(db, &candidate, None).await? {
            return Ok(candidate);
        }
    }
    Err(AppError::Conflict(format!("no free slug near {base:?}")))
}

/// A body rendered before the write transaction: its source, format and output.
struct Prepared {
    source: String,
    format: BodyFormat,
    rendered: Rendered,
}

/// The body source and format a write stores: the given ones, else the
/// stored ones (`current`), else an empty Markdown body.
fn body_of(f: &ArticleFields, current: Option<&article::Model>) -> (String, BodyFormat) {
    let format = f
        .body_format
        .as_deref()
        .and_then(BodyFormat::parse)
        .or_else(|| current.and_then(|c| BodyFormat::parse(&c.body_format)))
        .unwrap_or(BodyFormat::Markdown);
    let source = f
        .body
        .clone()
        .or_else(|| current.map(|c| c.body.clone()))
        .unwrap_or_default();
    (source, format)
}

/// Render the body a write stores, through the bounded renderer (422 on
/// `body` when too large or too deep). An unknown format is left for
/// [`validate`] to report.
async fn prepare_body(
    state: &AppState,
    f: &ArticleFields,
    current: Option<&article::Model>,
) -> Result<Option<Prepared>, AppError> {
    if f.body_format
        .as_deref()
        .is_some_and(|v| BodyFormat::parse(v).is_none())
    {
        return Ok(None);
    }
    let (source, format) = body_of(f, current);
    let rendered = state.bodies.render("body", source.clone(), format).await?;
    Ok(Some(Prepared {
        source,
        format,
        rendered,
    }))
}

/// Create an article. Authors and contributors are put on the byline when
/// none is given and must be on it otherwise; contributors may not publish.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    mut f: ArticleFields,
) -> Result<ArticleView, AppError> {
    let (_, role) = policy::require_staff(actor)?;
    let prepared = prepare_body(state, &f, None).await?;
    let txn = crate::services::write_txn(state).await?;
    validate(&txn, &mut f, true).await?;
    let status = f.status.clone().unwrap_or_else(|| DRAFT.to_string());
    if status == PUBLISHED && !may_publish(role) {
        return Err(AppError::Forbidden("contributors may not publish".into()));
    }
    let mut author_ids = f.author_ids.clone().unwrap_or_default();
    if author_ids.is_empty()
        && !matches!(role, Role::Admin | Role::Editor)
        && let Actor::User {
            author_id: Some(mine),
            ..
        } = actor
    {
        author_ids.push(mine.clone());
    }
    check_byline(actor, role, &author_ids)?;
    let title = f.title.clone().unwrap_or_default();
    let slug = match &f.slug {
        Some(s) => {
            if slug_taken(&txn, s, None).await? {
                return Err(AppError::Conflict(format!(
                    "the slug {s:?} is already used"
                )));
            }
            s.clone()
        }
        None => {
            let base = slug::slugify(&title);
            free_slug(&txn, if base.is_empty() { "article" } else { &base }).await?
        }
    };
    let Prepared {
        source: body_src,
        format,
        rendered,
    } = prepared
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("a new body is always rendered")))?;
    let at = now();
    let published_at = match f.published_at {
        Some(p) => p,
        None if status == PUBLISHED => Some(at),
        None => None,
    };
    let id = new_id();
    article::Entity::insert(article::ActiveModel {
        id: Set(id.clone()),
        slug: Set(slug),
        title: Set(title),
        standfirst: Set(clean(f.standfirst.clone().flatten())),
        excerpt: Set(clean(f.excerpt.clone().flatten())),
        body: Set(body_src),
        body_format: Set(format.as_str().to_string()),
        body_html: Set(rendered.html),
        body_text: Set(rendered.text),
        word_count: Set(rendered.word_count),
        status: Set(status),
        published_at: Set(published_at.map(trunc)),
        source_id: Set(f.source_id.clone().flatten()),
        original_url: Set(clean(f.original_url.clone().flatten())),
        original_published_at: Set(f.original_published_at.flatten().map(trunc)),
        comment_status: Set(f.comment_status.clone().unwrap_or_else(|| "open".into())),
        feature_image_url: Set(clean(f.feature_image_url.clone().flatten())),
        feature_image_alt: Set(clean(f.feature_image_alt.clone().flatten())),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
    })
    .exec_without_returning(&txn)
    .await?;
    write_links(
        &txn,
        &id,
        Some(&author_ids),
        Some(&f.tag_ids.clone().unwrap_or_default()),
    )
    .await?;
    let saved = article::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound {
            resource: "article",
        })?;
    let view = hydrate_with(&txn, &state.config.site_url, vec![saved])
        .await?
        .pop();
    super::webhooks::article_changed(&txn, None, view.as_ref()).await?;
    txn.commit().await?;
    state.webhook_wake.notify_one();
    note_schedule(state, view.as_ref());
    view.ok_or(AppError::NotFound {
        resource: "article",
    })
}

fn trunc(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}

/// Update an article. Refused without change when `expected` names another
/// version (412 for If-Match, 409 for a version field).
pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: &str,
    mut f: ArticleFields,
    expected: Expected,
) -> Result<ArticleView, AppError> {
    let (_, role) = policy::require_staff(actor)?;
    // A new body (or format) is rendered before the write lock is taken;
    // the body it applies to is checked again inside (a format-only change
    // renders the stored body).
    let prepared = if f.body.is_some() || f.body_format.is_some() {
        let before = article::Entity::find_by_id(id.to_string())
            .one(&state.db)
            .await?
            .ok_or(AppError::NotFound {
                resource: "article",
            })?;
        prepare_body(state, &f, Some(&before)).await?
    } else {
        None
    };
    let txn = crate::services::write_txn(state).await?;
    let current = article::Entity::find_by_id(id.to_string())
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound {
            resource: "article",
        })?;
    let bylines = byline_ids(&txn, id).await?;
    if !may_see_unpublished(actor, &bylines) && !matches!(role, Role::Admin | Role::Editor) {
        // Not theirs: do not reveal whether it exists unless it is public.
        return Err(if is_public(&current) {
            AppError::Forbidden("you may only edit articles on which you are a byline".into())
        } else {
            AppError::NotFound {
                resource: "article",
            }
        });
    }
    check_byline(actor, role, &bylines)?;
    if role == Role::Contributor && current.status != DRAFT {
        return Err(AppError::Forbidden(
            "contributors may only edit drafts".into(),
        ));
    }
    match expected {
        Expected::Any => {}
        Expected::IfMatch(v) if v == Some(current.version) => {}
        Expected::IfMatch(_) => {
            return Err(AppError::PreconditionFailed(format!(
                "the article has changed: its current ETag is {}",
                version_etag(current.version)
            )));
        }
        Expected::Version(v) if v == current.version => {}
        Expected::Version(_) => {
            return Err(AppError::Conflict(format!(
                "the article has changed: its current version is {}",
                current.version
            )));
        }
    }
    validate(&txn, &mut f, false).await?;
    // The content being replaced becomes a revision, in this transaction.
    super::revisions::record(
        &txn,
        &current,
        &bylines,
        policy::require_staff(actor).ok().map(|(id, _)| id),
        state.config.revisions_keep,
    )
    .await?;
    if f.status.as_deref() == Some(PUBLISHED) && current.status != PUBLISHED && !may_publish(role) {
        return Err(AppError::Forbidden("contributors may not publish".into()));
    }
    if let Some(ids) = &f.author_ids {
        check_byline(actor, role, ids)?;
    }
    let mut model: article::ActiveModel = current.clone().into();
    if let Some(t) = f.title.clone() {
        model.title = Set(t);
    }
    if let Some(new_slug) = f.slug.clone()
        && new_slug != current.slug
    {
        if slug_taken(&txn, &new_slug, Some(id)).await? {
            return Err(AppError::Conflict(format!(
                "the slug {new_slug:?} is already used"
            )));
        }
        // Keep the old slug for redirects; a slug taken back leaves the history.
        article_slug::Entity::delete_by_id(new_slug.clone())
            .exec(&txn)
            .await?;
        article_slug::Entity::insert(article_slug::ActiveModel {
            slug: Set(current.slug.clone()),
            article_id: Set(id.to_string()),
            created_at: Set(now()),
        })
        .exec_without_returning(&txn)
        .await?;
        model.slug = Set(new_slug);
    }
    if let Some(v) = f.standfirst.clone() {
        model.standfirst = Set(clean(v));
    }
    if let Some(v) = f.excerpt.clone() {
        model.excerpt = Set(clean(v));
    }
    if let Some(p) = prepared {
        let (src, format) = body_of(&f, Some(&current));
        if src != p.source || format != p.format {
            return Err(AppError::Conflict(
                "the article was changed by someone else at the same time; retry".into(),
            ));
        }
        let rendered = p.rendered;
        model.body = Set(src);
        model.body_format = Set(format.as_str().to_string());
        model.body_html = Set(rendered.html);
        model.body_text = Set(rendered.text);
        model.word_count = Set(rendered.word_count);
    }
    if let Some(st) = f.status.clone() {
        if st == PUBLISHED && current.published_at.is_none() && f.published_at.is_none() {
            model.published_at = Set(Some(now()));
        }
        model.status = Set(st);
    }
    if let Some(p) = f.published_at {
        model.published_at = Set(p.map(trunc));
    }
    if let Some(v) = f.source_id.clone() {
        model.source_id = Set(v);
    }
    if let Some(v) = f.original_url.clone() {
        model.original_url = Set(clean(v));
    }
    if let Some(v) = f.original_published_at {
        model.original_published_at = Set(v.map(trunc));
    }
    if let Some(v) = f.comment_status.clone() {
        model.comment_status = Set(v);
    }
    if let Some(v) = f.feature_image_url.clone() {
        model.feature_image_url = Set(clean(v));
    }
    if let Some(v) = f.feature_image_alt.clone() {
        model.feature_image_alt = Set(clean(v));
    }
    model.version = Set(current.version + 1);
    model.updated_at = Set(now());
    // Guard against a concurrent writer between our read and this write.
    let res = article::Entity::update_many()
        .set(model)
        .filter(article::Column::Id.eq(id))
        .filter(article::Column::Version.eq(current.version))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::Conflict(
            "the article was changed by someone else at the same time; retry".into(),
        ));
    }
    write_links(&txn, id, f.author_ids.as_deref(), f.tag_ids.as_deref()).await?;
    let saved = article::Entity::find_by_id(id.to_string())
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound {
            resource: "article",
        })?;
    let view = hydrate_with(&txn, &state.config.site_url, vec![saved])
        .await?
        .pop();
    super::webhooks::article_changed(&txn, Some(&current), view.as_ref()).await?;
    txn.commit().await?;
    state.webhook_wake.notify_one();
    note_schedule(state, view.as_ref());
    view.ok_or(AppError::NotFound {
        resource: "article",
    })
}

/// Publish now or at `at` (scheduling when in the future).
pub async fn publish(
    state: &AppState,
    actor: &Actor,
    id: &str,
    at: Option<DateTime<Utc>>,
) -> Result<ArticleView, AppError> {
    let fields = ArticleFields {
        status: Some(PUBLISHED.into()),
        published_at: Some(Some(at.unwrap_or_else(now))),
        ..Default::default()
    };
    update(state, actor, id, fields, Expected::Any).await
}

/// A saved article that is to appear later: cached reads must start over
/// when it does. (Only a write like this can bring the next change nearer;
/// one that takes a schedule away leaves at most one needless start-over.)
fn note_schedule(state: &AppState, view: Option<&ArticleView>) {
    if let Some(at) = view.and_then(|v| scheduled_after(&v.article, now())) {
        state.response_cache.scheduled(at);
    }
}

/// Delete an article (its comments, links and slug history go with it).
pub async fn delete(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    let (_, role) = policy::require_staff(actor)?;
    let txn = crate::services::write_txn(state).await?;
    let current = article::Entity::find_by_id(id.to_string())
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound {
            resource: "article",
        })?;
    let bylines = byline_ids(&txn, id).await?;
    if !matches!(role, Role::Admin | Role::Editor) {
        if !may_see_unpublished(actor, &bylines) {
            return Err(if is_public(&current) {
                AppError::Forbidden("you may only delete articles on which you are a byline".into())
            } else {
                AppError::NotFound {
                    resource: "article",
                }
            });
        }
        if role == Role::Contributor && current.status != DRAFT {
            return Err(AppError::Forbidden(
                "contributors may only delete drafts".into(),
            ));
        }
    }
    article::Entity::delete_by_id(id.to_string())
        .exec(&txn)
        .await?;
    super::webhooks::article_changed(&txn, Some(&current), None).await?;
    txn.commit().await?;
    state.webhook_wake.notify_one();
    Ok(())
}

/// A complete, already-validated article to store directly (seeding).
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

/// Store a seeded article with its byline and tags (inside the caller's transaction).
pub async fn insert(
    db: &impl ConnectionTrait,
    input: NewArticle,
) -> Result<article::Model, AppError> {
    let rendered = body::render(&input.body, input.body_format);
    let base = input
        .slug
        .clone()
        .unwrap_or_else(|| slug::slugify(&input.title));
    let slug = free_slug(db, if base.is_empty() { "article" } else { &base }).await?;
    let at = now();
    let id = new_id();
    let saved = article::Entity::insert(article::ActiveModel {
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
        published_at: Set(input.published_at.map(trunc)),
        source_id: Set(input.source_id),
        original_url: Set(input.original_url),
        original_published_at: Set(input.original_published_at.map(trunc)),
        comment_status: Set(input.comment_status.to_string()),
        feature_image_url: Set(input.feature_image_url),
        feature_image_alt: Set(input.feature_image_alt),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
    })
    .exec_with_returning(db)
    .await?;
    write_links(db, &id, Some(&input.author_ids), Some(&input.tag_ids)).await?;
    Ok(saved)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_http_urls_pass() {
        assert!(is_http_url("https://news.cgtn.com/news/x"));
        assert!(is_http_url("http://example.org"));
        assert!(!is_http_url("javascript:alert(1)"));
        assert!(!is_http_url("ftp://example.org"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("https://exa mple.org"));
        assert!(!is_http_url("/relative"));
    }

    #[test]
    fn sorts_parse_from_their_rest_names() {
        for s in ["-published_at", "published_at", "title", "-updated_at"] {
            assert_eq!(ArticleSort::parse(s).unwrap().name(), s);
        }
        assert!(ArticleSort::parse("random").is_none());
    }
}
