//! `/api/v1/authors`, `/sources`, `/tags`: lists, single items, their
//! articles, and staff writes.

use axum::{
    extract::{OriginalUri, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};
use serde::Serialize;

use crate::http::problem::ApiError;
use crate::{
    rest::{
        articles::{PageParams, article_list_response},
        cache::{Audience, json_response},
        dto::{
            AuthorDto, AuthorList, AuthorWrite, ListMeta, SourceDto, SourceList, SourceWrite,
            TagDto, TagList, TagWrite,
        },
        extract::{Caller, Json, Query},
        pagination_headers,
        problem::Problem,
    },
    services::{
        articles::{self, ArticleFilter, ArticleSort},
        taxonomy,
    },
    state::AppState,
};

const PROBLEM: &str = "application/problem+json";

fn created<T: Serialize>(
    request: &HeaderMap,
    status: StatusCode,
    location: Option<String>,
    body: &T,
) -> Response {
    let mut extra = HeaderMap::new();
    if let Some(l) = location
        && let Ok(v) = HeaderValue::from_str(&l)
    {
        extra.insert(header::LOCATION, v);
    }
    json_response(request, Audience::Staff, status, body, None, None, extra)
}

fn listed<T: Serialize, P>(
    request: &HeaderMap,
    audience: Audience,
    path: &str,
    query: Option<&str>,
    page: &crate::domain::pagination::Page<P>,
    body: &T,
) -> Response {
    let mut extra = HeaderMap::new();
    pagination_headers(&mut extra, path, query, page);
    json_response(request, audience, StatusCode::OK, body, None, None, extra)
}

/// `/x/{id_or_slug}/articles`: that one's visible articles, newest first.
async fn articles_of(
    state: &AppState,
    ctx: &crate::auth::RequestContext,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    params: PageParams,
    filter: ArticleFilter,
) -> Result<Response, ApiError> {
    let page = params.parse(state.config.list_depth())?;
    let result = articles::list(state, &ctx.actor, filter, ArticleSort::default(), page).await?;
    Ok(article_list_response(
        headers,
        Audience::of(&ctx.actor),
        uri.path(),
        uri.query(),
        result,
    ))
}

// ---------------------------------------------------------------- authors

/// List authors by name.
#[utoipa::path(get, path = "/api/v1/authors", tag = "authors", params(PageParams),
    responses((status = 200, description = "A page of authors", body = AuthorList),
              (status = 304, description = "Not modified"),
              (status = 422, description = "Bad pagination", body = Problem, content_type = PROBLEM)))]
pub async fn list_authors(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Query(p): Query<PageParams>,
) -> Result<Response, ApiError> {
    let page = taxonomy::list_authors(&state, p.parse(state.config.list_depth())?.into()).await?;
    let staff = ctx.actor.is_staff();
    let body = AuthorList {
        meta: ListMeta::from(&page),
        data: page
            .items
            .iter()
            .map(|v| AuthorDto::new(v, staff))
            .collect(),
    };
    Ok(listed(
        &headers,
        Audience::of(&ctx.actor),
        uri.path(),
        uri.query(),
        &page,
        &body,
    ))
}

/// One author by id or slug.
#[utoipa::path(get, path = "/api/v1/authors/{id_or_slug}", tag = "authors",
    params(("id_or_slug" = String, Path, description = "Author id or slug")),
    responses((status = 200, description = "The author", body = AuthorDto),
              (status = 304, description = "Not modified"),
              (status = 404, description = "No such author", body = Problem, content_type = PROBLEM)))]
pub async fn get_author(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    Path(x): Path<String>,
) -> Result<Response, ApiError> {
    let v = taxonomy::get_author(&state, &x).await?;
    let body = AuthorDto::new(&v, ctx.actor.is_staff());
    Ok(json_response(
        &headers,
        Audience::of(&ctx.actor),
        StatusCode::OK,
        &body,
        None,
        Some(v.author.updated_at),
        HeaderMap::new(),
    ))
}

/// The author's visible articles, newest first.
#[utoipa::path(get, path = "/api/v1/authors/{id_or_slug}/articles", tag = "authors",
    params(("id_or_slug" = String, Path, description = "Author id or slug"), PageParams),
    responses((status = 200, description = "A page of articles", body = crate::rest::dto::ArticleList),
              (status = 404, description = "No such author", body = Problem, content_type = PROBLEM),
              (status = 422, description = "Bad pagination", body = Problem, content_type = PROBLEM)))]
pub async fn author_articles(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(x): Path<String>,
    Query(p): Query<PageParams>,
) -> Result<Response, ApiError> {
    let author = taxonomy::get_author(&state, &x).await?;
    let filter = ArticleFilter {
        author: Some(author.author.id),
        ..Default::default()
    };
    articles_of(&state, &ctx, &headers, &uri, p, filter).await
}

/// Create an author (admin, editor).
#[utoipa::path(post, path = "/api/v1/authors", tag = "authors", request_body = AuthorWrite, security(("bearer" = [])),
    responses((status = 201, description = "Created", body = AuthorDto, headers(("Location" = String, description = "URL of the author"))),
              (status = 400, description = "Malformed JSON", body = Problem, content_type = PROBLEM),
              (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
              (status = 403, description = "Not an admin or editor", body = Problem, content_type = PROBLEM),
              (status = 409, description = "Slug taken", body = Problem, content_type = PROBLEM),
              (status = 415, description = "Not JSON", body = Problem, content_type = PROBLEM),
              (status = 422, description = "Invalid fields", body = Problem, content_type = PROBLEM)))]
pub async fn create_author(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    Json(body): Json<AuthorWrite>,
) -> Result<Response, ApiError> {
    let v = taxonomy::create_author(&state, &ctx.actor, body.into()).await?;
    Ok(created(
        &headers,
        StatusCode::CREATED,
        Some(format!("/api/v1/authors/{}", v.author.id)),
        &AuthorDto::new(&v, true),
    ))
}

/// Update an author (admin, editor).
#[utoipa::path(patch, path = "/api/v1/authors/{id}", tag = "authors", request_body = AuthorWrite, security(("bearer" = [])),
    params(("id" = String, Path, description = "Author id")),
    responses((status = 200, description = "Updated", body = AuthorDto),
              (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
              (status = 403, description = "Not an admin or editor", body = Problem, content_type = PROBLEM),
              (status = 404, description = "No such author", body = Problem, content_type = PROBLEM),
              (status = 409, description = "Slug taken", body = Problem, content_type = PROBLEM),
              (status = 422, description = "Invalid fields", body = Problem, content_type = PROBLEM)))]
pub async fn update_author(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<AuthorWrite>,
) -> Result<Response, ApiError> {
    let v = taxonomy::update_author(&state, &ctx.actor, &id, body.into()).await?;
    Ok(created(
        &headers,
        StatusCode::OK,
        None,
        &AuthorDto::new(&v, true),
    ))
}

/// Delete an author (admin, editor); refused with 409 while articles credit them.
#[utoipa::path(delete, path = "/api/v1/authors/{id}", tag = "authors", security(("bearer" = [])),
    params(("id" = String, Path, description = "Author id")),
    responses((status = 204, description = "Deleted"),
              (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
              (status = 403, description = "Not an admin or editor", body = Problem, content_type = PROBLEM),
              (status = 404, description = "No such author", body = Problem, content_type = PROBLEM),
              (status = 409, description = "Still credited on articles (the detail gives the count)", body = Problem, content_type = PROBLEM)))]
pub async fn delete_author(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    taxonomy::delete_author(&state, &ctx.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- sources

/// List sources by name.
#[utoipa::path(get, path = "/api/v1/sources", tag = "sources", params(PageParams),
    responses((status = 200, description = "A page of sources", body = SourceList),
              (status = 304, description = "Not modified"),
              (status = 422, description = "Bad pagination", body = Problem, content_type = PROBLEM)))]
pub async fn list_sources(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Query(p): Query<PageParams>,
) -> Result<Response, ApiError> {
    let page = taxonomy::list_sources(&state, p.parse(state.config.list_depth())?.into()).await?;
    let staff = ctx.actor.is_staff();
    let body = SourceList {
        meta: ListMeta::from(&page),
        data: page
            .items
            .iter()
            .map(|v| SourceDto::new(v, staff))
            .collect(),
    };
    Ok(listed(
        &headers,
        Audience::of(&ctx.actor),
        uri.path(),
        uri.query(),
        &page,
        &body,
    ))
}

/// One source by id or slug.
#[utoipa::path(get, path = "/api/v1/sources/{id_or_slug}", tag = "sources",
    params(("id_or_slug" = String, Path, description = "Source id or slug")),
    responses((status = 200, description = "The source", body = SourceDto),
              (status = 304, description = "Not modified"),
              (status = 404, description = "No such source", body = Problem, content_type = PROBLEM)))]
pub async fn get_source(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    Path(x): Path<String>,
) -> Result<Response, ApiError> {
    let v = taxonomy::get_source(&state, &x).await?;
    let body = SourceDto::new(&v, ctx.actor.is_staff());
    Ok(json_response(
        &headers,
        Audience::of(&ctx.actor),
        StatusCode::OK,
        &body,
        None,
        Some(v.source.updated_at),
        HeaderMap::new(),
    ))
}

/// The source's visible articles ("more from CGTN"), newest first.
#[utoipa::path(get, path = "/api/v1/sources/{id_or_slug}/articles", tag = "sources",
    params(("id_or_slug" = String, Path, description = "Source id or slug"), PageParams),
    responses((status = 200, description = "A page of articles", body = crate::rest::dto::ArticleList),
              (status = 404, description = "No such source", body = Problem, content_type = PROBLEM),
              (status = 422, description = "Bad pagination", body = Problem, content_type = PROBLEM)))]
pub async fn source_articles(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(x): Path<String>,
    Query(p): Query<PageParams>,
) -> Result<Response, ApiError> {
    let source = taxonomy::get_source(&state, &x).await?;
    let filter = ArticleFilter {
        source: Some(source.source.id),
        ..Default::default()
    };
    articles_of(&state, &ctx, &headers, &uri, p, filter).await
}

/// Create a source (admin, editor).
#[utoipa::path(post, path = "/api/v1/sources", tag = "sources", request_body = SourceWrite, security(("bearer" = [])),
    responses((status = 201, description = "Created", body = SourceDto, headers(("Location" = String, description = "URL of the source"))),
              (status = 400, description = "Malformed JSON", body = Problem, content_type = PROBLEM),
              (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
              (status = 403, description = "Not an admin or editor", body = Problem, content_type = PROBLEM),
              (status = 409, description = "Slug taken", body = Problem, content_type = PROBLEM),
              (status = 415, description = "Not JSON", body = Problem, content_type = PROBLEM),
              (status = 422, description = "Invalid fields", body = Problem, content_type = PROBLEM)))]
pub async fn create_source(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    Json(body): Json<SourceWrite>,
) -> Result<Response, ApiError> {
    let v = taxonomy::create_source(&state, &ctx.actor, body.into()).await?;
    Ok(created(
        &headers,
        StatusCode::CREATED,
        Some(format!("/api/v1/sources/{}", v.source.id)),
        &SourceDto::new(&v, true),
    ))
}

/// Update a source (admin, editor).
#[utoipa::path(patch, path = "/api/v1/sources/{id}", tag = "sources", request_body = SourceWrite, security(("bearer" = [])),
    params(("id" = String, Path, description = "Source id")),
    responses((status = 200, description = "Updated", body = SourceDto),
              (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
              (status = 403, description = "Not an admin or editor", body = Problem, content_type = PROBLEM),
              (status = 404, description = "No such source", body = Problem, content_type = PROBLEM),
              (status = 409, description = "Slug taken", body = Problem, content_type = PROBLEM),
              (status = 422, description = "Invalid fields", body = Problem, content_type = PROBLEM)))]
pub async fn update_source(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<SourceWrite>,
) -> Result<Response, ApiError> {
    let v = taxonomy::update_source(&state, &ctx.actor, &id, body.into()).await?;
    Ok(created(
        &headers,
        StatusCode::OK,
        None,
        &SourceDto::new(&v, true),
    ))
}

/// Delete a source (admin, editor); refused with 409 while articles use it.
#[utoipa::path(delete, path = "/api/v1/sources/{id}", tag = "sources", security(("bearer" = [])),
    params(("id" = String, Path, description = "Source id")),
    responses((status = 204, description = "Deleted"),
              (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
              (status = 403, description = "Not an admin or editor", body = Problem, content_type = PROBLEM),
              (status = 404, description = "No such source", body = Problem, content_type = PROBLEM),
              (status = 409, description = "Still used by articles (the detail gives the count)", body = Problem, content_type = PROBLEM)))]
pub async fn delete_source(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    taxonomy::delete_source(&state, &ctx.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- tags

/// List tags by name.
#[utoipa::path(get, path = "/api/v1/tags", tag = "tags", params(PageParams),
    responses((status = 200, description = "A page of tags", body = TagList),
              (status = 304, description = "Not modified"),
              (status = 422, description = "Bad pagination", body = Problem, content_type = PROBLEM)))]
pub async fn list_tags(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Query(p): Query<PageParams>,
) -> Result<Response, ApiError> {
    let page = taxonomy::list_tags(&state, p.parse(state.config.list_depth())?.into()).await?;
    let body = TagList {
        meta: ListMeta::from(&page),
        data: page.items.iter().map(TagDto::from).collect(),
    };
    Ok(listed(
        &headers,
        Audience::of(&ctx.actor),
        uri.path(),
        uri.query(),
        &page,
        &body,
    ))
}

/// One tag by id or slug.
#[utoipa::path(get, path = "/api/v1/tags/{id_or_slug}", tag = "tags",
    params(("id_or_slug" = String, Path, description = "Tag id or slug")),
    responses((status = 200, description = "The tag", body = TagDto),
              (status = 304, description = "Not modified"),
              (status = 404, description = "No such tag", body = Problem, content_type = PROBLEM)))]
pub async fn get_tag(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    Path(x): Path<String>,
) -> Result<Response, ApiError> {
    let v = taxonomy::get_tag(&state, &x).await?;
    Ok(json_response(
        &headers,
        Audience::of(&ctx.actor),
        StatusCode::OK,
        &TagDto::from(&v),
        None,
        Some(v.tag.updated_at),
        HeaderMap::new(),
    ))
}

/// The tag's visible articles, newest first.
#[utoipa::path(get, path = "/api/v1/tags/{id_or_slug}/articles", tag = "tags",
    params(("id_or_slug" = String, Path, description = "Tag id or slug"), PageParams),
    responses((status = 200, description = "A page of articles", body = crate::rest::dto::ArticleList),
              (status = 404, description = "No such tag", body = Problem, content_type = PROBLEM),
              (status = 422, description = "Bad pagination", body = Problem, content_type = PROBLEM)))]
pub async fn tag_articles(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(x): Path<String>,
    Query(p): Query<PageParams>,
) -> Result<Response, ApiError> {
    let tag = taxonomy::get_tag(&state, &x).await?;
    let filter = ArticleFilter {
        tag: Some(tag.tag.id),
        ..Default::default()
    };
    articles_of(&state, &ctx, &headers, &uri, p, filter).await
}

/// Create a tag (admin, editor).
#[utoipa::path(post, path = "/api/v1/tags", tag = "tags", request_body = TagWrite, security(("bearer" = [])),
    responses((status = 201, description = "Created", body = TagDto, headers(("Location" = String, description = "URL of the tag"))),
              (status = 400, description = "Malformed JSON", body = Problem, content_type = PROBLEM),
              (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
              (status = 403, description = "Not an admin or editor", body = Problem, content_type = PROBLEM),
              (status = 409, description = "Slug taken", body = Problem, content_type = PROBLEM),
              (status = 415, description = "Not JSON", body = Problem, content_type = PROBLEM),
              (status = 422, description = "Invalid fields", body = Problem, content_type = PROBLEM)))]
pub async fn create_tag(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    Json(body): Json<TagWrite>,
) -> Result<Response, ApiError> {
    let v = taxonomy::create_tag(&state, &ctx.actor, body.into()).await?;
    Ok(created(
        &headers,
        StatusCode::CREATED,
        Some(format!("/api/v1/tags/{}", v.tag.id)),
        &TagDto::from(&v),
    ))
}

/// Update a tag (admin, editor).
#[utoipa::path(patch, path = "/api/v1/tags/{id}", tag = "tags", request_body = TagWrite, security(("bearer" = [])),
    params(("id" = String, Path, description = "Tag id")),
    responses((status = 200, description = "Updated", body = TagDto),
              (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
              (status = 403, description = "Not an admin or editor", body = Problem, content_type = PROBLEM),
              (status = 404, description = "No such tag", body = Problem, content_type = PROBLEM),
              (status = 409, description = "Slug taken", body = Problem, content_type = PROBLEM),
              (status = 422, description = "Invalid fields", body = Problem, content_type = PROBLEM)))]
pub async fn update_tag(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<TagWrite>,
) -> Result<Response, ApiError> {
    let v = taxonomy::update_tag(&state, &ctx.actor, &id, body.into()).await?;
    Ok(created(&headers, StatusCode::OK, None, &TagDto::from(&v)))
}

/// Delete a tag (admin, editor); articles lose it.
#[utoipa::path(delete, path = "/api/v1/tags/{id}", tag = "tags", security(("bearer" = [])),
    params(("id" = String, Path, description = "Tag id")),
    responses((status = 204, description = "Deleted"),
              (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
              (status = 403, description = "Not an admin or editor", body = Problem, content_type = PROBLEM),
              (status = 404, description = "No such tag", body = Problem, content_type = PROBLEM)))]
pub async fn delete_tag(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    taxonomy::delete_tag(&state, &ctx.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
