//! The OpenAPI 3.1 document, generated from the handlers' annotations with
//! utoipa. `broadsheet schema export` writes it to `openapi.yaml`; a test fails
//! when the committed copy drifts.

use axum::{http::header, response::IntoResponse};
use utoipa::OpenApi;

use crate::rest::{articles, dto, health, problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Broadsheet",
        description = "A headless content API: articles, authors, cross-posting sources, tags and reader comments. \
Errors are `application/problem+json` with a stable `code`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    paths(health::healthz, health::readyz, articles::list_articles),
    components(schemas(
        problem::Problem, crate::error::FieldError, dto::ArticleDto, dto::AuthorDto,
        dto::SourceDto, dto::TagDto, dto::ListMeta, dto::ArticleList, dto::CommentStatusDto,
        health::Status
    )),
    tags(
        (name = "articles", description = "Published articles"),
        (name = "operations", description = "Health checks"),
    )
)]
pub struct ApiDoc;

/// The document as YAML, exactly as committed in `openapi.yaml`.
pub fn yaml() -> String {
    ApiDoc::openapi()
        .to_yaml()
        .expect("the OpenAPI document serializes to YAML")
}

/// The document as pretty JSON.
pub fn json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes to JSON")
}

pub async fn serve_yaml() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/yaml")], yaml())
}

pub async fn serve_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], json())
}
