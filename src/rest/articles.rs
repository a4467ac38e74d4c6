//! `/api/v1/articles` handlers: translate HTTP to service calls and back.

use axum::{
    extract::{OriginalUri, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::problem::ApiError;
use crate::{
    domain::pagination::PageRequest,
    error::AppError,
    rest::{
        cache::{Audience, json_response},
        dto::{ArticleDto, ArticleList, ArticleWrite, ListMeta},
        extract::{Caller, Json, Query},
        pagination_headers,
        problem::Problem,
    },
    services::articles::{self, ArticleFilter, ArticleSort, ArticleView, Expected, Found},
    state::AppState,
};

const PROBLEM: &str = "application/problem+json";

/// Query parameters of article lists. Values are validated by the service
/// layer, so a bad one is a 422 naming the field.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListArticlesParams {
    /// 1-based page number (default 1). A page past the end is empty.
    #[param(value_type = Option<u64>, minimum = 1, example = 1)]
    pub page: Option<String>,
    /// Items per page, 1 to 100 (default 10).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, example = 10)]
    pub per_page: Option<String>,
    /// Author slug or id.
    pub author: Option<String>,
    /// Source slug or id.
    pub source: Option<String>,
    /// Tag slug or id.
    pub tag: Option<String>,
    /// Full-text search: words that must all match (accents, case and English
    /// word endings ignored), `prefix*` and `"exact phrases"`.
    pub q: Option<String>,
    /// `-published_at` (default), `published_at`, `title` or `-updated_at`.
    pub sort: Option<String>,
    /// Staff only: draft, published, scheduled, archived or any.
    pub status: Option<String>,
}

/// Page-number query parameters only.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1-based page number (default 1). A page past the end is empty.
    #[param(value_type = Option<u64>, minimum = 1, example = 1)]
    pub page: Option<String>,
    /// Items per page, 1 to 100 (default 10).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, example = 10)]
    pub per_page: Option<String>,
}

impl PageParams {
    /// Validate against the list depth bound (`state.config.list_depth()`).
    pub fn parse(&self, max_offset: u64) -> Result<PageRequest, AppError> {
        PageRequest::parse(self.page.as_deref(), self.per_page.as_deref(), max_offset)
    }
}

impl ListArticlesParams {
    fn into_query(
        self,
        max_offset: u64,
    ) -> Result<(ArticleFilter, ArticleSort, PageRequest), AppError> {
        let page = PageRequest::parse(self.page.as_deref(), self.per_page.as_deref(), max_offset)?;
        let sort = match self.sort.as_deref().map(str::trim) {
            None | Some("") => ArticleSort::default(),
            Some(s) => ArticleSort::parse(s).ok_or_else(|| {
                AppError::validation(
                    "sort",
                    "must be -published_at, published_at, title or -updated_at",
                )
            })?,
        };
        let filter = ArticleFilter {
            author: self.author,
            source: self.source,
            tag: self.tag,
            query: self.q,
            status: self.status,
        };
        Ok((filter, sort, page))
    }
}

/// Render a page of articles with pagination and caching headers.
pub fn article_list_response(
    request: &HeaderMap,
    audience: Audience,
    path: &str,
    query: Option<&str>,
    page: crate::domain::pagination::Page<ArticleView>,
) -> Response {
    let mut headers = HeaderMap::new();
    pagination_headers(&mut headers, path, query, &page);
    let staff = audience == Audience::Staff;
    let last_modified = page.items.iter().map(|v| v.article.updated_at).max();
    let body = ArticleList {
        meta: ListMeta::from(&page),
        data: page
            .items
            .iter()
            .map(|v| ArticleDto::new(v, staff))
            .collect(),
    };
    json_response(
        request,
        audience,
        StatusCode::OK,
        &body,
        None,
        last_modified,
        headers,
    )
}

/// List articles (published and visible, newest first, unless staff ask for a status).
#[utoipa::path(get, path = "/api/v1/articles", tag = "articles",
    params(ListArticlesParams),
    responses(
        (status = 200, description = "A page of articles; `Link` and `X-Total-Count` carry the same numbers", body = ArticleList,
            headers(("Link" = String, description = "RFC 8288 links: first, prev, next, last"),
                    ("X-Total-Count" = u64, description = "Total number of matching articles"),
                    ("ETag" = String, description = "Strong validator of the body"))),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 400, description = "Malformed query string", body = Problem, content_type = PROBLEM),
        (status = 401, description = "`status` without a token, or a bad token", body = Problem, content_type = PROBLEM),
        (status = 422, description = "A parameter out of range", body = Problem, content_type = PROBLEM),
    ))]
pub async fn list_articles(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Query(params): Query<ListArticlesParams>,
) -> Result<Response, ApiError> {
    let (filter, sort, page) = params.into_query(state.config.list_depth())?;
    let result = articles::list(&state, &ctx.actor, filter, sort, page).await?;
    Ok(article_list_response(
        &headers,
        Audience::of(&ctx.actor),
        uri.path(),
        uri.query(),
        result,
    ))
}

/// One article by id or slug, with authors, tags and source embedded. An old
/// slug answers 301 to the current one.
#[utoipa::path(get, path = "/api/v1/articles/{id_or_slug}", tag = "articles",
    params(("id_or_slug" = String, Path, description = "Article id, current slug or an earlier slug"), PreviewParams),
    responses(
        (status = 200, description = "The article (private fields for staff, with a version ETag); with `preview`, the previewed article as it is now, `Cache-Control: private, no-store`", body = ArticleDto,
            headers(("ETag" = String, description = "Body hash; for staff the version tag that If-Match accepts"))),
        (status = 301, description = "An earlier slug: `Location` names the current URL"),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 401, description = "A bad token, or a preview token that is expired, tampered with or for another article", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such article, or not visible", body = Problem, content_type = PROBLEM),
    ))]
pub async fn get_article(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(id_or_slug): Path<String>,
    Query(params): Query<PreviewParams>,
) -> Result<Response, ApiError> {
    if let Some(token) = params.preview {
        // A preview: exactly this article as it is now, for this client only.
        let view = articles::get_preview(&state, &token, &id_or_slug).await?;
        return Ok(json_response(
            &headers,
            Audience::Staff,
            StatusCode::OK,
            &ArticleDto::new(&view, false),
            None,
            Some(view.article.updated_at),
            HeaderMap::new(),
        ));
    }
    match articles::get(&state, &ctx.actor, &id_or_slug).await? {
        Found::MovedTo(slug) => {
            let mut location = format!("/api/v1/articles/{slug}");
            if let Some(q) = uri.query() {
                location = format!("{location}?{q}");
            }
            let mut resp = StatusCode::MOVED_PERMANENTLY.into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            Ok(resp)
        }
        Found::Article(view) => Ok(single(
            &headers,
            Audience::of(&ctx.actor),
            StatusCode::OK,
            &view,
        )),
    }
}

fn single(
    request: &HeaderMap,
    audience: Audience,
    status: StatusCode,
    view: &ArticleView,
) -> Response {
    let staff = audience == Audience::Staff;
    let mut extra = HeaderMap::new();
    if status == StatusCode::CREATED
        && let Ok(v) = HeaderValue::from_str(&format!("/api/v1/articles/{}", view.article.id))
    {
        extra.insert(header::LOCATION, v);
    }
    json_response(
        request,
        audience,
        status,
        &ArticleDto::new(view, staff),
        staff.then(|| view.etag()),
        Some(view.article.updated_at),
        extra,
    )
}

/// Create an article.
#[utoipa::path(post, path = "/api/v1/articles", tag = "articles", request_body = ArticleWrite, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = ArticleDto, headers(("Location" = String, description = "URL of the article"), ("ETag" = String, description = "Version tag for If-Match"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = PROBLEM),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not allowed (e.g. a contributor publishing, or not a byline)", body = Problem, content_type = PROBLEM),
        (status = 409, description = "The slug is taken", body = Problem, content_type = PROBLEM),
        (status = 413, description = "Body over 1 MiB", body = Problem, content_type = PROBLEM),
        (status = 415, description = "Not JSON", body = Problem, content_type = PROBLEM),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = PROBLEM),
    ))]
pub async fn create_article(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    Json(body): Json<ArticleWrite>,
) -> Result<Response, ApiError> {
    let view = articles::create(&state, &ctx.actor, body.into()).await?;
    Ok(single(
        &headers,
        Audience::Staff,
        StatusCode::CREATED,
        &view,
    ))
}

/// Parse `If-Match`: `"v<N>"` names a version, `*` matches any.
fn expected_from(headers: &HeaderMap, version: Option<i32>) -> Expected {
    match headers
        .get(header::IF_MATCH)
        .map(|v| v.to_str().unwrap_or("").trim())
    {
        Some("*") => Expected::Any,
        Some(tag) => Expected::IfMatch(tag.split(',').map(str::trim).find_map(|t| {
            t.strip_prefix("\"v")
                .and_then(|t| t.strip_suffix('"'))
                .and_then(|n| n.parse().ok())
        })),
        None => version.map(Expected::Version).unwrap_or(Expected::Any),
    }
}

/// Update an article. Send `If-Match` (from a staff GET's `ETag`) or a
/// `version` field to be refused instead of overwriting someone else's change.
#[utoipa::path(patch, path = "/api/v1/articles/{id}", tag = "articles", request_body = ArticleWrite, security(("bearer" = [])),
    params(("id" = String, Path, description = "Article id"),
           ("If-Match" = Option<String>, Header, description = "The ETag of the version being edited")),
    responses(
        (status = 200, description = "The updated article", body = ArticleDto),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = PROBLEM),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not allowed", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such article", body = Problem, content_type = PROBLEM),
        (status = 409, description = "Stale `version`, or the slug is taken", body = Problem, content_type = PROBLEM),
        (status = 412, description = "Stale `If-Match`", body = Problem, content_type = PROBLEM),
        (status = 413, description = "Body over 1 MiB", body = Problem, content_type = PROBLEM),
        (status = 415, description = "Not JSON", body = Problem, content_type = PROBLEM),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = PROBLEM),
    ))]
pub async fn update_article(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<ArticleWrite>,
) -> Result<Response, ApiError> {
    let expected = expected_from(&headers, body.version);
    let view = articles::update(&state, &ctx.actor, &id, body.into(), expected).await?;
    Ok(single(
        &HeaderMap::new(),
        Audience::Staff,
        StatusCode::OK,
        &view,
    ))
}

/// Delete an article with its comments.
#[utoipa::path(delete, path = "/api/v1/articles/{id}", tag = "articles", security(("bearer" = [])),
    params(("id" = String, Path, description = "Article id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not allowed", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such article", body = Problem, content_type = PROBLEM),
    ))]
pub async fn delete_article(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    articles::delete(&state, &ctx.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_wins_over_the_version_field() {
        let mut h = HeaderMap::new();
        assert_eq!(expected_from(&h, Some(3)), Expected::Version(3));
        assert_eq!(expected_from(&h, None), Expected::Any);
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"v7\""));
        assert_eq!(expected_from(&h, Some(3)), Expected::IfMatch(Some(7)));
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"abc\""));
        assert_eq!(expected_from(&h, None), Expected::IfMatch(None));
        h.insert(header::IF_MATCH, HeaderValue::from_static("*"));
        assert_eq!(expected_from(&h, Some(1)), Expected::Any);
    }
}

/// Query parameters of `/api/v1/search`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What to look for (at most 256 characters): words, all of which must
    /// match (accents, case and English word endings ignored), `prefix*`, and
    /// `"exact phrases"`. Any other syntax is read as plain text.
    #[param(example = "Heihe \"cable car\"")]
    pub q: Option<String>,
    /// 1-based page number (default 1). A page past the end is empty.
    #[param(value_type = Option<u64>, minimum = 1, example = 1)]
    pub page: Option<String>,
    /// Items per page, 1 to 100 (default 10).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, example = 10)]
    pub per_page: Option<String>,
}

/// One search result.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SearchHitDto {
    pub article: ArticleDto,
    /// Text around the matches, HTML-escaped, each match in `<mark>`.
    #[schema(
        example = "the <mark>Heihe</mark> <mark>cable</mark> <mark>car</mark> across the Amur"
    )]
    pub snippet: String,
    /// Relevance, higher first; comparable within one result list only.
    pub rank: f64,
}

/// A page of search results, most relevant first (relevance is scored for the
/// 1,000 newest matches; older matches follow them, newest first).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    pub data: Vec<SearchHitDto>,
    pub meta: SearchMeta,
}

/// Pagination of search results. Matches are counted up to 1,000 (or to the
/// end of the page asked for, when further); past that `total` is a lower
/// bound, always larger than the end of this page when more matches follow,
/// and `total_exact` is false.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SearchMeta {
    #[serde(flatten)]
    pub list: ListMeta,
    /// Whether `total` counts every match (false: there are at least `total`).
    #[schema(example = true)]
    pub total_exact: bool,
}

/// Full-text search over visible articles: ranked, with highlighted snippets.
#[utoipa::path(get, path = "/api/v1/search", tag = "articles",
    params(SearchParams),
    responses(
        (status = 200, description = "Matching visible articles, most relevant first among the 1,000 newest matches, then newest first", body = SearchResults,
            headers(("Link" = String, description = "RFC 8288 links: first, prev, next, last"),
                    ("X-Total-Count" = u64, description = "Number of matching articles: exact up to 1,000 (or the end of the page), past it a lower bound (`meta.total_exact`)"),
                    ("ETag" = String, description = "Strong validator of the body"))),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 400, description = "Malformed query string", body = Problem, content_type = PROBLEM),
        (status = 401, description = "A bad token", body = Problem, content_type = PROBLEM),
        (status = 422, description = "`q` missing or longer than 256 characters, or bad pagination", body = Problem, content_type = PROBLEM),
    ))]
pub async fn search(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Query(params): Query<SearchParams>,
) -> Result<Response, ApiError> {
    let page = PageRequest::parse(
        params.page.as_deref(),
        params.per_page.as_deref(),
        state.config.list_depth(),
    )?;
    let q = params.q.unwrap_or_default();
    if q.trim().is_empty() {
        return Err(AppError::validation("q", "is required").into());
    }
    let (hits, total) = crate::services::search::search(
        &state,
        &q,
        "q",
        crate::domain::pagination::Window::from(page),
    )
    .await?;
    let page = crate::domain::pagination::Page {
        items: hits,
        page: page.page,
        per_page: page.per_page,
        total: total.count,
    };
    let mut extra = HeaderMap::new();
    pagination_headers(&mut extra, uri.path(), uri.query(), &page);
    let audience = Audience::of(&ctx.actor);
    let staff = audience == Audience::Staff;
    let last_modified = page
        .items
        .iter()
        .map(|h| h.article.article.updated_at)
        .max();
    let body = SearchResults {
        meta: SearchMeta {
            list: ListMeta::from(&page),
            total_exact: total.exact,
        },
        data: page
            .items
            .iter()
            .map(|h| SearchHitDto {
                article: ArticleDto::new(&h.article, staff),
                snippet: h.snippet.clone(),
                rank: h.rank,
            })
            .collect(),
    };
    Ok(json_response(
        &headers,
        audience,
        StatusCode::OK,
        &body,
        None,
        last_modified,
        extra,
    ))
}

/// `?preview=` on a single-article read.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PreviewParams {
    /// A preview token from `POST /api/v1/articles/{id}/preview-token`: reads
    /// that article, whatever its status, without logging in.
    pub preview: Option<String>,
}

/// `POST /api/v1/articles/{id}/preview-token` body (optional).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewTokenRequest {
    /// Lifetime in seconds, 60 to 604800 (default 3600).
    #[schema(example = 3600)]
    pub ttl_seconds: Option<i64>,
}

/// A preview link's token.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PreviewToken {
    pub article_id: String,
    /// Pass as `?preview=` (REST) or `previewToken` (GraphQL `article`).
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// The REST path that reads the preview.
    #[schema(example = "/api/v1/articles/my-draft?preview=eyJ...")]
    pub path: String,
}

/// Mint a preview token for one article (staff who may edit it).
#[utoipa::path(post, path = "/api/v1/articles/{id}/preview-token", tag = "articles", security(("bearer" = [])),
    params(("id" = String, Path, description = "Article id or slug")),
    request_body(content = Option<PreviewTokenRequest>, description = "Optional; omit for a one-hour token"),
    responses(
        (status = 201, description = "A signed, expiring token for this article only", body = PreviewToken),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = PROBLEM),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such article, or not one you may edit", body = Problem, content_type = PROBLEM),
        (status = 422, description = "`ttl_seconds` out of range", body = Problem, content_type = PROBLEM),
    ))]
pub async fn create_preview_token(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let request: PreviewTokenRequest = if body.iter().all(u8::is_ascii_whitespace) {
        PreviewTokenRequest::default()
    } else {
        crate::rest::extract::parse_json(&body)?
    };
    let grant = articles::preview_token(&state, &ctx.actor, &id, request.ttl_seconds).await?;
    let body = PreviewToken {
        path: format!(
            "/api/v1/articles/{}?preview={}",
            grant.article_id, grant.token
        ),
        article_id: grant.article_id,
        token: grant.token,
        expires_at: grant.expires_at,
    };
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    crate::http::caching::private_no_store(response.headers_mut());
    Ok(response)
}

/// Revoke every preview link of one article handed out so far (staff who
/// may mint them); links minted afterwards work.
#[utoipa::path(delete, path = "/api/v1/articles/{id}/preview-token", tag = "articles", security(("bearer" = [])),
    params(("id" = String, Path, description = "Article id or slug")),
    responses(
        (status = 204, description = "Every earlier preview token of this article is refused from now on"),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such article, or not one you may edit", body = Problem, content_type = PROBLEM),
    ))]
pub async fn revoke_preview_tokens(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    crate::services::previews::revoke(&state, &ctx.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
