//! `/api/v1/articles/{id}/revisions...`: staff list, read, diff and restore
//! earlier content of an article.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::problem::ApiError;
use crate::{
    entities::article_revision,
    rest::{
        dto::ArticleDto,
        extract::{Caller, Query},
        private_no_store,
        problem::Problem,
    },
    services::revisions,
    state::AppState,
};

const PROBLEM: &str = "application/problem+json";

/// An article's content before one of its updates.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionDto {
    pub id: String,
    pub article_id: String,
    /// The article's version while it had this content.
    pub version: i32,
    pub title: String,
    pub standfirst: Option<String>,
    pub excerpt: Option<String>,
    pub body: String,
    /// `markdown` or `html`.
    pub body_format: String,
    /// The byline, in order.
    pub author_ids: Vec<String>,
    pub source_id: Option<String>,
    pub original_url: Option<String>,
    pub original_published_at: Option<DateTime<Utc>>,
    /// The user whose update replaced this content.
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<article_revision::Model> for RevisionDto {
    fn from(r: article_revision::Model) -> Self {
        RevisionDto {
            author_ids: serde_json::from_str(&r.author_ids).unwrap_or_default(),
            id: r.id,
            article_id: r.article_id,
            version: r.version,
            title: r.title,
            standfirst: r.standfirst,
            excerpt: r.excerpt,
            body: r.body,
            body_format: r.body_format,
            source_id: r.source_id,
            original_url: r.original_url,
            original_published_at: r.original_published_at,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

/// Revisions of one article, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionList {
    pub data: Vec<RevisionDto>,
}

/// A unified diff of the body between two revisions (or a revision and now).
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionDiff {
    pub from: String,
    /// A revision id, or `current`.
    pub to: String,
    /// Unified diff (`---`/`+++` headers, `@@` hunks); empty when equal.
    pub diff: String,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffParams {
    /// The revision to compare with; the current content when omitted.
    pub to: Option<String>,
}

fn private(body: impl Serialize) -> Response {
    let mut response = (StatusCode::OK, axum::Json(body)).into_response();
    private_no_store(response.headers_mut());
    response
}

/// List an article's revisions (staff who may edit it).
#[utoipa::path(get, path = "/api/v1/articles/{id}/revisions", tag = "articles", security(("bearer" = [])),
    params(("id" = String, Path, description = "Article id or slug")),
    responses(
        (status = 200, description = "Newest first", body = RevisionList),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such article, or not one you may edit", body = Problem, content_type = PROBLEM),
    ))]
pub async fn list_revisions(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let data = revisions::list(&state, &ctx.actor, &id, None).await?;
    Ok(private(RevisionList {
        data: data.into_iter().map(RevisionDto::from).collect(),
    }))
}

/// One revision.
#[utoipa::path(get, path = "/api/v1/articles/{id}/revisions/{revision_id}", tag = "articles", security(("bearer" = [])),
    params(("id" = String, Path, description = "Article id or slug"), ("revision_id" = String, Path, description = "Revision id")),
    responses(
        (status = 200, description = "The revision", body = RevisionDto),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such article or revision", body = Problem, content_type = PROBLEM),
    ))]
pub async fn get_revision(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((id, revision)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let r = revisions::get(&state, &ctx.actor, &id, &revision).await?;
    Ok(private(RevisionDto::from(r)))
}

/// Diff a revision's body with another revision's or the current one.
#[utoipa::path(get, path = "/api/v1/articles/{id}/revisions/{revision_id}/diff", tag = "articles", security(("bearer" = [])),
    params(("id" = String, Path, description = "Article id or slug"), ("revision_id" = String, Path, description = "Revision id"), DiffParams),
    responses(
        (status = 200, description = "A unified text diff of the body", body = RevisionDiff),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such article or revision", body = Problem, content_type = PROBLEM),
    ))]
pub async fn diff_revision(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((id, revision)): Path<(String, String)>,
    Query(params): Query<DiffParams>,
) -> Result<Response, ApiError> {
    let diff = revisions::diff(&state, &ctx.actor, &id, &revision, params.to.as_deref()).await?;
    Ok(private(RevisionDiff {
        from: revision,
        to: params.to.unwrap_or_else(|| "current".into()),
        diff,
    }))
}

/// Restore a revision's content (itself stored as a new revision).
#[utoipa::path(post, path = "/api/v1/articles/{id}/revisions/{revision_id}/restore", tag = "articles", security(("bearer" = [])),
    params(("id" = String, Path, description = "Article id or slug"), ("revision_id" = String, Path, description = "Revision id")),
    responses(
        (status = 200, description = "The article with the revision's content", body = ArticleDto),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not allowed (e.g. a contributor on a published article)", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such article or revision", body = Problem, content_type = PROBLEM),
        (status = 422, description = "The revision names an author or source that no longer exists", body = Problem, content_type = PROBLEM),
    ))]
pub async fn restore_revision(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((id, revision)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let view = revisions::restore(&state, &ctx.actor, &id, &revision).await?;
    Ok(private(ArticleDto::new(&view, true)))
}
