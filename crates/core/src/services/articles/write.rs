//! Writing articles: create, update (optimistic concurrency, slug history),
//! publish, delete, and the direct insert used by seeding.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::{
    auth::{Actor, Role, policy},
    domain::{
        body::{self, BodyFormat},
        slug,
    },
    entities::{article, article_slug},
    error::AppError,
    services::{new_id, now},
    state::AppState,
};

use super::*;

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
    crate::services::webhooks::article_changed(&txn, None, view.as_ref()).await?;
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
    crate::services::revisions::record(
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
    crate::services::webhooks::article_changed(&txn, Some(&current), view.as_ref()).await?;
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
    crate::services::webhooks::article_changed(&txn, Some(&current), None).await?;
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
