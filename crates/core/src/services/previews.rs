//! Preview links: signed, expiring tokens that read one article as it is now,
//! whatever its status (issue 24, finding 9). A token names the article, the
//! user who minted it with their session version, and the article's preview
//! version; it is refused once the article is deleted, its preview links are
//! revoked (the version moves on), or its maker is deactivated or has all
//! their sessions ended (password change, role change).

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, sea_query::OnConflict};

use crate::{
    auth::{Actor, Role, claims::PreviewClaims, policy},
    entities::{article, preview_grant, user},
    error::AppError,
    services::{
        articles::{ArticleView, byline_ids, find_by_id_or_slug, hydrate, may_see_unpublished},
        now,
    },
    state::AppState,
};
use chrono::{DateTime, Utc};

/// Default and bounds of a preview token's lifetime, in seconds.
pub const PREVIEW_TTL_DEFAULT: i64 = 3600;
pub const PREVIEW_TTL_MAX: i64 = 7 * 24 * 3600;

/// A minted preview token, and the article it reads.
#[derive(Debug, Clone)]
pub struct PreviewGrant {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub article_id: String,
}

/// The article `id_or_slug` if `actor` may mint or revoke its preview links
/// (staff who may see it unpublished: its bylined authors, editors, admins),
/// with the actor's id; otherwise 404 (as for a draft they cannot see).
async fn managed_article(
    state: &AppState,
    actor: &Actor,
    id_or_slug: &str,
) -> Result<(article::Model, String), AppError> {
    let (user_id, role) = policy::require_staff(actor)?;
    let user_id = user_id.to_string();
    let not_found = || AppError::NotFound {
        resource: "article",
    };
    let a = find_by_id_or_slug(&state.db, id_or_slug)
        .await?
        .ok_or_else(not_found)?;
    let bylines = byline_ids(&state.db, &a.id).await?;
    if !may_see_unpublished(actor, &bylines) && !matches!(role, Role::Admin | Role::Editor) {
        return Err(not_found());
    }
    Ok((a, user_id))
}

/// The article's current preview version (0 when never revoked).
async fn version(db: &impl ConnectionTrait, article_id: &str) -> Result<i32, AppError> {
    Ok(preview_grant::Entity::find_by_id(article_id.to_string())
        .one(db)
        .await?
        .map_or(0, |g| g.version))
}

/// Mint a preview token for one article (staff who may edit it): anyone
/// holding it may read that article's current content, whatever its status,
/// until it expires or is voided (see the module).
pub async fn preview_token(
    state: &AppState,
    actor: &Actor,
    id_or_slug: &str,
    ttl_secs: Option<i64>,
) -> Result<PreviewGrant, AppError> {
    policy::require_staff(actor)?;
    let ttl = ttl_secs.unwrap_or(PREVIEW_TTL_DEFAULT);
    if !(60..=PREVIEW_TTL_MAX).contains(&ttl) {
        return Err(AppError::validation(
            "ttl",
            format!("must be from 60 to {PREVIEW_TTL_MAX} seconds"),
        ));
    }
    let (a, user_id) = managed_article(state, actor, id_or_slug).await?;
    let maker = user::Entity::find_by_id(user_id.clone())
        .one(&state.db)
        .await?
        .filter(|u| u.active)
        .ok_or(AppError::Unauthenticated {
            invalid_token: true,
        })?;
    let grant = PreviewClaims {
        article_id: a.id.clone(),
        by: user_id,
        session_version: maker.session_version,
        preview_version: version(&state.db, &a.id).await?,
    };
    Ok(PreviewGrant {
        token: state.keys.issue_preview(&grant, ttl)?,
        expires_at: now() + chrono::Duration::seconds(ttl),
        article_id: a.id,
    })
}

/// Revoke every preview link of one article handed out so far (staff who may
/// mint them). Links minted afterwards work.
pub async fn revoke(state: &AppState, actor: &Actor, id_or_slug: &str) -> Result<(), AppError> {
    let (a, _) = managed_article(state, actor, id_or_slug).await?;
    let txn = crate::services::write_txn(state).await?;
    let next = version(&txn, &a.id).await?.saturating_add(1);
    preview_grant::Entity::insert(preview_grant::ActiveModel {
        article_id: Set(a.id.clone()),
        version: Set(next),
        updated_at: Set(now()),
    })
    .on_conflict(
        OnConflict::column(preview_grant::Column::ArticleId)
            .update_columns([
                preview_grant::Column::Version,
                preview_grant::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Read an article with a preview token: exactly the article it names, in
/// its current state, draft or scheduled. A bad or expired token, one for
/// another article, a revoked one, one whose article is gone or whose maker
/// is deactivated or signed out everywhere is 401 `invalid_token`.
pub async fn get_preview(
    state: &AppState,
    token: &str,
    id_or_slug: &str,
) -> Result<ArticleView, AppError> {
    let invalid = || AppError::Unauthenticated {
        invalid_token: true,
    };
    let claims = state.keys.verify_preview(token)?;
    let a = article::Entity::find_by_id(claims.article_id.clone())
        .one(&state.db)
        .await?
        .ok_or_else(invalid)?;
    if a.id != id_or_slug && a.slug != id_or_slug {
        return Err(invalid());
    }
    let maker_ok = user::Entity::find_by_id(claims.by.clone())
        .one(&state.db)
        .await?
        .is_some_and(|u| u.active && u.session_version == claims.session_version);
    if !maker_ok || version(&state.db, &a.id).await? != claims.preview_version {
        return Err(invalid());
    }
    hydrate(state, vec![a])
        .await?
        .pop()
        .ok_or(AppError::NotFound {
            resource: "article",
        })
}
