//! `/api/v1/articles` handlers: translate HTTP to service calls and back.

use axum::{
    Json,
    extract::{OriginalUri, State},
    http::{HeaderMap, HeaderValue, header},
    response::IntoResponse,
};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    auth::Actor,
    domain::pagination::PageRequest,
    error::AppError,
    rest::{
        dto::{ArticleDto, ArticleList, ListMeta},
        extract::Query,
        pagination_headers,
    },
    services::articles,
    state::AppState,
};

/// Query parameters of `GET /articles`. Values are validated by the service
/// layer so that a bad one yields 422 naming the field.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListArticlesParams {
    /// 1-based page number (default 1). A page past the end is empty.
    #[param(value_type = Option<u64>, minimum = 1, example = 1)]
    pub page: Option<String>,
    /// Items per page, 1 to 100 (default 10).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, example = 10)]
    pub per_page: Option<String>,
}

/// List published articles, newest first.
#[utoipa::path(get, path = "/api/v1/articles", tag = "articles",
    params(ListArticlesParams),
    responses(
        (status = 200, description = "A page of articles; `Link` and `X-Total-Count` headers carry the same numbers", body = ArticleList,
            headers(("Link" = String, description = "RFC 8288 links: first, prev, next, last"),
                    ("X-Total-Count" = u64, description = "Total number of matching articles"))),
        (status = 400, description = "Malformed query string", body = crate::rest::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`page` or `per_page` out of range", body = crate::rest::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_articles(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    Query(params): Query<ListArticlesParams>,
) -> Result<impl IntoResponse, AppError> {
    let page = PageRequest::parse(params.page.as_deref(), params.per_page.as_deref())?;
    let result = articles::list(&state, &Actor::Anonymous, page).await?;
    let mut headers = HeaderMap::new();
    pagination_headers(&mut headers, uri.path(), uri.query(), &result);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=10"),
    );
    let body = ArticleList {
        meta: ListMeta::from(&result),
        data: result.items.iter().map(ArticleDto::from).collect(),
    };
    Ok((headers, Json(body)))
}
