//! Article revisions: every update first stores the content it replaces
//! (title, standfirst, excerpt, body and format, byline, source fields), with
//! who and when; staff list them, read one, diff two and restore one. The
//! last `BROADSHEET_REVISIONS_KEEP` per article are kept.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::{
    auth::{Actor, Role, policy},
    entities::{article, article_revision},
    error::AppError,
    services::{
        articles::{self, ArticleFields, ArticleView, Expected},
        new_id, now,
    },
    state::AppState,
};

/// Store `current` (the content about to be replaced) as a revision, in the
/// updating transaction, and drop the oldest beyond `keep`.
pub(crate) async fn record(
    txn: &impl ConnectionTrait,
    current: &article::Model,
    bylines: &[String],
    by: Option<&str>,
    keep: u32,
) -> Result<(), AppError> {
    article_revision::Entity::insert(article_revision::ActiveModel {
        id: Set(new_id()),
        article_id: Set(current.id.clone()),
        version: Set(current.version),
        title: Set(current.title.clone()),
        standfirst: Set(current.standfirst.clone()),
        excerpt: Set(current.excerpt.clone()),
        body: Set(current.body.clone()),
        body_format: Set(current.body_format.clone()),
        author_ids: Set(serde_json::to_string(bylines).map_err(AppError::internal)?),
        source_id: Set(current.source_id.clone()),
        original_url: Set(current.original_url.clone()),
        original_published_at: Set(current.original_published_at),
        created_by: Set(by.map(str::to_string)),
        created_at: Set(now()),
    })
    .exec_without_returning(txn)
    .await?;
    // Ids are UUIDv7: newest sort last.
    let ids: Vec<String> = article_revision::Entity::find()
        .select_only()
        .column(article_revision::Column::Id)
        .filter(article_revision::Column::ArticleId.eq(current.id.clone()))
        .order_by_desc(article_revision::Column::Id)
        .into_tuple()
        .all(txn)
        .await?;
    let stale: Vec<String> = ids.into_iter().skip(keep as usize).collect();
    if !stale.is_empty() {
        article_revision::Entity::delete_many()
            .filter(article_revision::Column::Id.is_in(stale))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// The article `actor` may edit, or 401/404 (never revealing a draft).
async fn editable(state: &AppState, actor: &Actor, id: &str) -> Result<article::Model, AppError> {
    let (_, role) = policy::require_staff(actor)?;
    let a = articles::find_by_id_or_slug(&state.db, id)
        .await?
        .ok_or(AppError::NotFound {
            resource: "article",
        })?;
    if !matches!(role, Role::Admin | Role::Editor)
        && !articles::may_see_unpublished(actor, &articles::byline_ids(&state.db, &a.id).await?)
    {
        return Err(AppError::NotFound {
            resource: "article",
        });
    }
    Ok(a)
}

/// An article's revisions, newest first: all that are kept, or the newest `limit`.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    article_id: &str,
    limit: Option<u64>,
) -> Result<Vec<article_revision::Model>, AppError> {
    let a = editable(state, actor, article_id).await?;
    Ok(article_revision::Entity::find()
        .filter(article_revision::Column::ArticleId.eq(a.id))
        .order_by_desc(article_revision::Column::Id)
        .limit(limit)
        .all(&state.db)
        .await?)
}

/// One revision of an article.
pub async fn get(
    state: &AppState,
    actor: &Actor,
    article_id: &str,
    revision_id: &str,
) -> Result<article_revision::Model, AppError> {
    let a = editable(state, actor, article_id).await?;
    find(state, &a.id, revision_id).await
}

async fn find(
    state: &AppState,
    article_id: &str,
    revision_id: &str,
) -> Result<article_revision::Model, AppError> {
    article_revision::Entity::find_by_id(revision_id.to_string())
        .filter(article_revision::Column::ArticleId.eq(article_id))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound {
            resource: "revision",
        })
}

/// A unified diff of the body from revision `from` to revision `to` (or the
/// current body when `to` is `None`), with the title change in the header.
pub async fn diff(
    state: &AppState,
    actor: &Actor,
    article_id: &str,
    from: &str,
    to: Option<&str>,
) -> Result<String, AppError> {
    let a = editable(state, actor, article_id).await?;
    let old = find(state, &a.id, from).await?;
    let (new_label, new_body) = match to {
        Some(to) => {
            let r = find(state, &a.id, to).await?;
            (format!("revision {} (version {})", r.id, r.version), r.body)
        }
        None => (format!("current (version {})", a.version), a.body.clone()),
    };
    let old_label = format!("revision {} (version {})", old.id, old.version);
    let mut old_text = old.body;
    let mut new_text = new_body;
    for t in [&mut old_text, &mut new_text] {
        if !t.ends_with('\n') {
            t.push('\n');
        }
    }
    Ok(similar::TextDiff::from_lines(&old_text, &new_text)
        .unified_diff()
        .context_radius(3)
        .header(&old_label, &new_label)
        .to_string())
}

/// Put a revision's content back. This is an update like any other, so the
/// content it replaces becomes a new revision.
pub async fn restore(
    state: &AppState,
    actor: &Actor,
    article_id: &str,
    revision_id: &str,
) -> Result<ArticleView, AppError> {
    let a = editable(state, actor, article_id).await?;
    let r = find(state, &a.id, revision_id).await?;
    let author_ids: Vec<String> =
        serde_json::from_str(&r.author_ids).map_err(AppError::internal)?;
    let fields = ArticleFields {
        title: Some(r.title),
        standfirst: Some(r.standfirst),
        excerpt: Some(r.excerpt),
        body: Some(r.body),
        body_format: Some(r.body_format),
        author_ids: Some(author_ids),
        source_id: Some(r.source_id),
        original_url: Some(r.original_url),
        original_published_at: Some(r.original_published_at),
        ..Default::default()
    };
    articles::update(state, actor, &a.id, fields, Expected::Any).await
}
