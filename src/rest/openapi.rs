//! The OpenAPI 3.1 document, generated from the handlers' annotations with
//! utoipa. `broadsheet schema export` writes it to `openapi.yaml`; a test fails
//! when the committed copy drifts.

use axum::{http::header, response::IntoResponse};
use utoipa::OpenApi;

use utoipa::{
    Modify,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::rest::{
    articles, auth, comments, dto, feeds, health, problem, revisions, taxonomy, users, webhooks,
};

/// Declares the `bearer` security scheme used by staff operations.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from POST /api/v1/auth/login"))
                    .build(),
            ),
        );
    }
}

/// Adds the errors any operation can answer, so each is documented: 400
/// (malformed request) and 401 (a bad token, even on public reads) everywhere;
/// 413, 415 and 422 wherever a JSON body is taken; 422 wherever there are
/// query parameters; 503 (database unavailable) everywhere.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            Ref, RefOr, content::ContentBuilder, path::ParameterIn, response::ResponseBuilder,
        };
        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            )
        };
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
                &mut item.put,
            ];
            for op in ops.into_iter().flatten() {
                let has_body = op.request_body.is_some();
                let has_query = op
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| p.parameter_in == ParameterIn::Query);
                let mut add = |code: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(code.to_string())
                        .or_insert_with(|| problem(description));
                };
                add("400", "Malformed request (query string or JSON)");
                add("401", "Missing, bad, expired or revoked token");
                if has_body {
                    add("413", "Body over 1 MiB");
                    add("415", "Body not application/json");
                    add("422", "Invalid fields, each named in `errors`");
                }
                if has_query {
                    add("422", "A query parameter out of range, named in `errors`");
                }
                add("503", "The database is unavailable; retry shortly");
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Broadsheet",
        description = "A headless content API: articles, authors, cross-posting sources, tags and reader comments. \
Errors are `application/problem+json` with a stable `code`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    modifiers(&BearerAuth, &CommonErrors),
    paths(
        health::healthz, health::readyz, crate::http::metrics::serve,
        articles::list_articles, articles::create_article, articles::get_article,
        articles::update_article, articles::delete_article, articles::search,
        articles::create_preview_token, articles::revoke_preview_tokens, revisions::list_revisions, revisions::get_revision,
        revisions::diff_revision, revisions::restore_revision,
        comments::list_article_comments, comments::submit_comment, comments::list_comments,
        comments::comment_counts, comments::moderate_comment, comments::bulk_moderate,
        comments::delete_comment,
        taxonomy::list_authors, taxonomy::create_author, taxonomy::get_author,
        taxonomy::update_author, taxonomy::delete_author, taxonomy::author_articles,
        taxonomy::list_sources, taxonomy::create_source, taxonomy::get_source,
        taxonomy::update_source, taxonomy::delete_source, taxonomy::source_articles,
        taxonomy::list_tags, taxonomy::create_tag, taxonomy::get_tag,
        taxonomy::update_tag, taxonomy::delete_tag, taxonomy::tag_articles,
        auth::login, auth::refresh, auth::logout,
        users::list_users, users::create_user, users::get_me, users::change_password,
        users::get_user, users::update_user, users::delete_user,
        feeds::rss_feed, feeds::atom_feed, feeds::author_rss_feed, feeds::author_atom_feed,
        feeds::source_rss_feed, feeds::source_atom_feed, feeds::tag_rss_feed, feeds::tag_atom_feed,
        webhooks::list_webhooks, webhooks::create_webhook, webhooks::get_webhook,
        webhooks::update_webhook, webhooks::delete_webhook, webhooks::list_deliveries,
        webhooks::get_delivery, webhooks::redeliver,
    ),
    components(schemas(
        problem::Problem, crate::error::FieldError, dto::ArticleDto, dto::AuthorDto,
        dto::SourceDto, dto::TagDto, dto::AuthorRef, dto::SourceRef, dto::TagRef,
        dto::ListMeta, dto::ArticleList, articles::SearchHitDto, articles::SearchResults, articles::SearchMeta, articles::PreviewToken, articles::PreviewTokenRequest,
        revisions::RevisionDto, revisions::RevisionList, revisions::RevisionDiff, dto::AuthorList, dto::SourceList, dto::TagList,
        comments::CommentDto, comments::CommentList, comments::SubmitComment,
        comments::ModerateComment, comments::BulkModerate, comments::BulkResult,
        dto::CommentStatusDto, dto::ArticleWrite, dto::AuthorWrite, dto::SourceWrite, dto::TagWrite,
        health::Status, auth::LoginRequest, auth::RefreshRequest, auth::TokenResponse,
        users::UserDto, users::UserList, users::CreateUserRequest, users::UpdateUserRequest,
        users::ChangePasswordRequest,
        webhooks::WebhookDto, webhooks::WebhookList, webhooks::WebhookWrite, webhooks::AttemptDto,
        webhooks::DeliveryDto, webhooks::DeliveryList,
    )),
    tags(
        (name = "articles", description = "Articles: public reads, staff writes"),
        (name = "comments", description = "Reader comments and their moderation"),
        (name = "authors", description = "Bylines"),
        (name = "sources", description = "Outlets that content is cross-posted from"),
        (name = "tags", description = "Topic labels"),
        (name = "auth", description = "Login, token refresh and logout"),
        (name = "users", description = "Accounts (admin), and the signed-in user"),
        (name = "feeds", description = "RSS 2.0 and Atom 1.0 feeds of the latest visible articles"),
        (name = "operations", description = "Health checks and Prometheus metrics"),
        (name = "webhooks", description = "Signed event deliveries to registered endpoints (admin)"),
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

static YAML: std::sync::OnceLock<String> = std::sync::OnceLock::new();
static JSON: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// `GET /openapi.yaml` (built once per process).
pub async fn serve_yaml() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/yaml")],
        YAML.get_or_init(yaml).as_str(),
    )
}

/// `GET /openapi.json` (built once per process).
pub async fn serve_json() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        JSON.get_or_init(json).as_str(),
    )
}
