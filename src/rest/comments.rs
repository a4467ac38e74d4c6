//! Comments: the public list and submission under an article, and the
//! moderation API under `/api/v1/comments`.

use axum::{
    Json as AxumJson,
    extract::{OriginalUri, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::problem::ApiError;
use crate::{
    rest::{
        articles::PageParams,
        cache::{Audience, json_response},
        dto::ListMeta,
        extract::{Caller, Json, Query},
        pagination_headers, private_no_store,
        problem::Problem,
    },
    services::comments::{self, CommentView, NewComment, QueueFilter},
    state::AppState,
};

const PROBLEM: &str = "application/problem+json";

/// A comment. Private fields (email, address, user agent, raw body) appear
/// only in staff responses; `status` also in the answer to its submitter.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentDto {
    pub id: String,
    pub article_id: String,
    /// The comment this one replies to.
    pub parent_id: Option<String>,
    /// 0 for a top-level comment, the parent's depth + 1 for a reply.
    pub depth: i32,
    #[schema(example = "A reader")]
    pub author_name: String,
    pub author_url: Option<String>,
    /// The body, escaped, in paragraphs, with bare links marked `nofollow ugc`.
    pub body_html: String,
    pub created_at: DateTime<Utc>,
    /// pending, approved, spam or trash (staff, and the submitter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_email: Option<String>,
    /// Staff only: the body as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Only in the answer to a reader's submission: the proof that they wrote
    /// this comment. Send it back as `commenter_token` with later comments:
    /// once this one is approved, they skip first-time moderation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commenter_token: Option<String>,
}

/// Who a comment is shown to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Viewer {
    Public,
    Submitter,
    Staff,
}

impl CommentDto {
    fn new(v: &CommentView, viewer: Viewer) -> Self {
        let c = &v.comment;
        let staff = viewer == Viewer::Staff;
        CommentDto {
            id: c.id.clone(),
            article_id: c.article_id.clone(),
            parent_id: c.parent_id.clone(),
            depth: c.depth,
            author_name: c.author_name.clone(),
            author_url: c.author_url.clone(),
            body_html: v.body_html.clone(),
            created_at: c.created_at,
            status: (viewer != Viewer::Public).then(|| c.status.clone()),
            author_email: staff.then(|| c.author_email.clone()),
            body: staff.then(|| c.body.clone()),
            ip: if staff { c.ip.clone() } else { None },
            user_agent: if staff { c.user_agent.clone() } else { None },
            commenter_token: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentList {
    pub data: Vec<CommentDto>,
    pub meta: ListMeta,
}

/// A reader's comment ("Leave a Reply": name, email and comment are required;
/// the email is never published).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitComment {
    #[schema(example = "A reader")]
    pub author_name: Option<String>,
    #[schema(example = "reader@example.org")]
    pub author_email: Option<String>,
    pub author_url: Option<String>,
    pub body: Option<String>,
    /// An approved comment of the same article to reply to.
    pub parent_id: Option<String>,
    /// The `commenter_token` answered to an earlier comment of yours: once
    /// that comment is approved, it lets this one skip first-time moderation.
    /// Without it (or with one that proves nothing) the comment is held.
    pub commenter_token: Option<String>,
}

/// A moderation change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModerateComment {
    /// pending, approved, spam or trash.
    pub status: Option<String>,
    pub body: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkModerate {
    pub ids: Vec<String>,
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    /// How many comments changed.
    pub updated: u64,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// pending (default), approved, spam, trash or any.
    pub status: Option<String>,
    /// Article id or slug.
    pub article: Option<String>,
    #[param(value_type = Option<u64>, minimum = 1)]
    pub page: Option<String>,
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
}

fn list_response(
    request: &HeaderMap,
    audience: Audience,
    viewer: Viewer,
    uri: &axum::http::Uri,
    page: crate::domain::pagination::Page<CommentView>,
) -> Response {
    let mut extra = HeaderMap::new();
    pagination_headers(&mut extra, uri.path(), uri.query(), &page);
    let body = CommentList {
        meta: ListMeta::from(&page),
        data: page
            .items
            .iter()
            .map(|v| CommentDto::new(v, viewer))
            .collect(),
    };
    json_response(request, audience, StatusCode::OK, &body, None, None, extra)
}

/// Approved comments of a visible article, oldest first, flat with `parent_id` and `depth`.
#[utoipa::path(get, path = "/api/v1/articles/{id_or_slug}/comments", tag = "comments",
    params(("id_or_slug" = String, Path, description = "Article id or slug"), PageParams),
    responses((status = 200, description = "A page of approved comments", body = CommentList),
              (status = 304, description = "Not modified"),
              (status = 404, description = "No such visible article", body = Problem, content_type = PROBLEM),
              (status = 422, description = "Bad pagination", body = Problem, content_type = PROBLEM)))]
pub async fn list_article_comments(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(article): Path<String>,
    Query(p): Query<PageParams>,
) -> Result<Response, ApiError> {
    let page = comments::list_public(&state, &article, p.parse(state.config.list_depth())?).await?;
    Ok(list_response(
        &headers,
        Audience::of(&ctx.actor),
        Viewer::Public,
        &uri,
        page,
    ))
}

/// Submit a comment; no token needed. 202 while it waits for moderation,
/// 201 when it is approved at once.
#[utoipa::path(post, path = "/api/v1/articles/{id_or_slug}/comments", tag = "comments", request_body = SubmitComment,
    params(("id_or_slug" = String, Path, description = "Article id or slug")),
    responses((status = 201, description = "Approved at once", body = CommentDto),
              (status = 202, description = "Held for moderation (`status: pending`)", body = CommentDto),
              (status = 400, description = "Malformed JSON", body = Problem, content_type = PROBLEM),
              (status = 403, description = "Comments are closed", body = Problem, content_type = PROBLEM),
              (status = 404, description = "No such visible article", body = Problem, content_type = PROBLEM),
              (status = 409, description = "The same comment was just posted", body = Problem, content_type = PROBLEM),
              (status = 413, description = "Body over 1 MiB", body = Problem, content_type = PROBLEM),
              (status = 415, description = "Not JSON", body = Problem, content_type = PROBLEM),
              (status = 422, description = "Invalid fields, each named", body = Problem, content_type = PROBLEM),
              (status = 429, description = "Too many comments from this address", body = Problem, content_type = PROBLEM,
                  headers(("Retry-After" = u64, description = "Seconds to wait")))))]
pub async fn submit_comment(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(article): Path<String>,
    Json(body): Json<SubmitComment>,
) -> Result<Response, ApiError> {
    let input = NewComment {
        author_name: body.author_name,
        author_email: body.author_email,
        author_url: body.author_url,
        body: body.body,
        parent_id: body.parent_id,
        commenter_token: body.commenter_token,
    };
    let comments::Submitted {
        view,
        commenter_token,
    } = comments::submit(&state, &ctx, &article, input).await?;
    let status = if view.comment.status == comments::APPROVED {
        StatusCode::CREATED
    } else {
        StatusCode::ACCEPTED
    };
    let mut headers = HeaderMap::new();
    private_no_store(&mut headers);
    if status == StatusCode::CREATED
        && let Ok(v) = HeaderValue::from_str(&format!(
            "/api/v1/articles/{}/comments",
            view.comment.article_id
        ))
    {
        headers.insert(header::LOCATION, v);
    }
    Ok((
        status,
        headers,
        AxumJson(CommentDto {
            commenter_token,
            ..CommentDto::new(&view, Viewer::Submitter)
        }),
    )
        .into_response())
}

/// The moderation queue, newest first, with private fields (admin, editor).
#[utoipa::path(get, path = "/api/v1/comments", tag = "comments", params(QueueParams), security(("bearer" = [])),
    responses((status = 200, description = "A page of comments", body = CommentList),
              (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
              (status = 403, description = "Not an admin or editor", body = Problem, content_type = PROBLEM),
              (status = 422, description = "Bad status or pagination", body = Problem, content_type = PROBLEM)))]
pub async fn list_comments(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Query(p): Query<QueueParams>,
) -> Result<Response, ApiError> {
    let page = crate::domain::pagination::PageRequest::parse(
        p.page.as_deref(),
        p.per_page.as_deref(),
        state.config.list_depth(),
    )?;
    let filter = QueueFilter {
        status: p.status,
        article: p.article,
    };
    let result = comments::queue(&state, &ctx.actor, filter, page.into()).await?;
    Ok(list_response(
        &headers,
        Audience::Staff,
        Viewer::Staff,
        &uri,
        result,
    ))
}

/// Comments per status (admin, editor).
#[utoipa::path(get, path = "/api/v1/comments/counts", tag = "comments", security(("bearer" = [])),
    responses((status = 200, description = "Counts per status", body = std::collections::HashMap<String, u64>, example = json!({"pending": 2, "approved": 10, "spam": 1, "trash": 0})),
              (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
              (status = 403, description = "Not an admin or editor", body = Problem, content_type = PROBLEM)))]
pub async fn comment_counts(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> Result<impl IntoResponse, ApiError> {
    let counts = comments::counts(&state, &ctx.actor).await?;
    let mut headers = HeaderMap::new();
    private_no_store(&mut headers);
    Ok((headers, AxumJson(counts)))
}

/// Approve, mark as spam, trash, restore (`pending`) or edit one comment (admin, editor).
#[utoipa::path(patch, path = "/api/v1/comments/{id}", tag = "comments", request_body = ModerateComment, security(("bearer" = [])),
    params(("id" = String, Path, description = "Comment id")),
    responses((status = 200, description = "The comment", body = CommentDto),
              (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
              (status = 403, description = "Not an admin or editor", body = Problem, content_type = PROBLEM),
              (status = 404, description = "No such comment", body = Problem, content_type = PROBLEM),
              (status = 422, description = "Invalid fields", body = Problem, content_type = PROBLEM)))]
pub async fn moderate_comment(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Json(body): Json<ModerateComment>,
) -> Result<impl IntoResponse, ApiError> {
    let view = comments::moderate(
        &state,
        &ctx.actor,
        &id,
        body.status.as_deref(),
        body.body.as_deref(),
    )
    .await?;
    let mut headers = HeaderMap::new();
    private_no_store(&mut headers);
    Ok((headers, AxumJson(CommentDto::new(&view, Viewer::Staff))))
}

/// Set the status of many comments at once (admin, editor).
#[utoipa::path(post, path = "/api/v1/comments/bulk", tag = "comments", request_body = BulkModerate, security(("bearer" = [])),
    responses((status = 200, description = "How many changed", body = BulkResult),
              (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
              (status = 403, description = "Not an admin or editor", body = Problem, content_type = PROBLEM),
              (status = 422, description = "Invalid fields", body = Problem, content_type = PROBLEM)))]
pub async fn bulk_moderate(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Json(body): Json<BulkModerate>,
) -> Result<impl IntoResponse, ApiError> {
    let updated = comments::moderate_many(&state, &ctx.actor, &body.ids, &body.status).await?;
    let mut headers = HeaderMap::new();
    private_no_store(&mut headers);
    Ok((headers, AxumJson(BulkResult { updated })))
}

/// Delete a comment and its replies (admin, editor).
#[utoipa::path(delete, path = "/api/v1/comments/{id}", tag = "comments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Comment id")),
    responses((status = 204, description = "Deleted"),
              (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
              (status = 403, description = "Not an admin or editor", body = Problem, content_type = PROBLEM),
              (status = 404, description = "No such comment", body = Problem, content_type = PROBLEM)))]
pub async fn delete_comment(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    comments::delete(&state, &ctx.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
