//! Bylines, tags, sources and comment counts loaded for many articles at
//! once, and the URLs an article is served at.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::{
    cache::{CachedRow, RowCache},
    entities::{article, author, source, tag},
    error::AppError,
    state::AppState,
};

use super::*;

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
pub(super) async fn hydrate_with(
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

/// [`hydrate_from`] with the links already read (by [`super::read::find_with_links`]).
pub(super) async fn hydrate_linked(
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
pub(super) struct Link {
    pub(super) kind: char,
    pub(super) article_id: String,
    pub(super) target: String,
    pub(super) n: i64,
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

pub(super) fn unique<'a>(ids: impl Iterator<Item = &'a String>) -> Vec<String> {
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
