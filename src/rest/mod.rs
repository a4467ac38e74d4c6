//! The REST transport: `/api/v1/...` JSON routes, `/feeds/...` (RSS and
//! Atom), `/healthz`, `/readyz` and `/openapi.yaml`. Handlers translate; the
//! service layer decides.

pub mod articles;
pub mod auth;
pub mod comments;
pub mod docs;
pub mod dto;
pub mod extract;
pub mod feeds;
pub mod health;
pub mod openapi;
pub mod revisions;
pub mod taxonomy;
pub mod users;
pub mod webhooks;

// Shared with GraphQL and the middleware (`crate::http`).
pub use crate::http::{caching as cache, caching::private_no_store, problem};

use axum::{
    Router,
    http::{HeaderMap, HeaderValue},
    routing::{get, post},
};

use crate::{domain::pagination::Page, state::AppState};

/// Health checks and metrics: outside the concurrency limit and the request
/// timeout, so a load balancer and Prometheus still get answers under load.
pub fn ops_router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(crate::http::metrics::serve))
}

/// Every REST route but the operations ones.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.yaml", get(openapi::serve_yaml))
        .route("/openapi.json", get(openapi::serve_json))
        .route("/docs", get(docs::docs))
        .route("/feeds/rss.xml", get(feeds::rss_feed))
        .route("/feeds/atom.xml", get(feeds::atom_feed))
        .route("/feeds/authors/{id}/rss.xml", get(feeds::author_rss_feed))
        .route("/feeds/authors/{id}/atom.xml", get(feeds::author_atom_feed))
        .route("/feeds/sources/{id}/rss.xml", get(feeds::source_rss_feed))
        .route("/feeds/sources/{id}/atom.xml", get(feeds::source_atom_feed))
        .route("/feeds/tags/{id}/rss.xml", get(feeds::tag_rss_feed))
        .route("/feeds/tags/{id}/atom.xml", get(feeds::tag_atom_feed))
        .route(
            "/api/v1/articles",
            get(articles::list_articles).post(articles::create_article),
        )
        .route("/api/v1/search", get(articles::search))
        .route(
            "/api/v1/articles/{id}/preview-token",
            post(articles::create_preview_token).delete(articles::revoke_preview_tokens),
        )
        .route(
            "/api/v1/articles/{id}/revisions",
            get(revisions::list_revisions),
        )
        .route(
            "/api/v1/articles/{id}/revisions/{rev}",
            get(revisions::get_revision),
        )
        .route(
            "/api/v1/articles/{id}/revisions/{rev}/diff",
            get(revisions::diff_revision),
        )
        .route(
            "/api/v1/articles/{id}/revisions/{rev}/restore",
            post(revisions::restore_revision),
        )
        .route(
            "/api/v1/articles/{id}",
            get(articles::get_article)
                .patch(articles::update_article)
                .delete(articles::delete_article),
        )
        .route(
            "/api/v1/authors",
            get(taxonomy::list_authors).post(taxonomy::create_author),
        )
        .route(
            "/api/v1/authors/{id}",
            get(taxonomy::get_author)
                .patch(taxonomy::update_author)
                .delete(taxonomy::delete_author),
        )
        .route(
            "/api/v1/authors/{id}/articles",
            get(taxonomy::author_articles),
        )
        .route(
            "/api/v1/sources",
            get(taxonomy::list_sources).post(taxonomy::create_source),
        )
        .route(
            "/api/v1/sources/{id}",
            get(taxonomy::get_source)
                .patch(taxonomy::update_source)
                .delete(taxonomy::delete_source),
        )
        .route(
            "/api/v1/sources/{id}/articles",
            get(taxonomy::source_articles),
        )
        .route(
            "/api/v1/tags",
            get(taxonomy::list_tags).post(taxonomy::create_tag),
        )
        .route(
            "/api/v1/tags/{id}",
            get(taxonomy::get_tag)
                .patch(taxonomy::update_tag)
                .delete(taxonomy::delete_tag),
        )
        .route("/api/v1/tags/{id}/articles", get(taxonomy::tag_articles))
        .route(
            "/api/v1/articles/{id}/comments",
            get(comments::list_article_comments).post(comments::submit_comment),
        )
        .route("/api/v1/comments", get(comments::list_comments))
        .route("/api/v1/comments/counts", get(comments::comment_counts))
        .route("/api/v1/comments/bulk", post(comments::bulk_moderate))
        .route(
            "/api/v1/comments/{id}",
            axum::routing::patch(comments::moderate_comment).delete(comments::delete_comment),
        )
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/refresh", post(auth::refresh))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route(
            "/api/v1/users",
            get(users::list_users).post(users::create_user),
        )
        .route("/api/v1/users/me", get(users::get_me))
        .route("/api/v1/users/me/password", post(users::change_password))
        .route(
            "/api/v1/users/{id}",
            get(users::get_user)
                .patch(users::update_user)
                .delete(users::delete_user),
        )
        .route(
            "/api/v1/webhooks",
            get(webhooks::list_webhooks).post(webhooks::create_webhook),
        )
        .route(
            "/api/v1/webhooks/{id}",
            get(webhooks::get_webhook)
                .patch(webhooks::update_webhook)
                .delete(webhooks::delete_webhook),
        )
        .route(
            "/api/v1/webhooks/{id}/deliveries",
            get(webhooks::list_deliveries),
        )
        .route(
            "/api/v1/webhooks/{id}/deliveries/{delivery_id}",
            get(webhooks::get_delivery),
        )
        .route(
            "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
            post(webhooks::redeliver),
        )
}

/// `Link` (first, prev, next, last) and `X-Total-Count` for a page-numbered
/// list, keeping the request's other query parameters as they were.
pub fn pagination_headers<T>(
    headers: &mut HeaderMap,
    path: &str,
    query: Option<&str>,
    page: &Page<T>,
) {
    let others: Vec<&str> = query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("page=") && *p != "page")
        .collect();
    let link = |n: u64, rel: &str| {
        let mut q = others.clone();
        let page_param = format!("page={n}");
        q.push(&page_param);
        format!("<{path}?{}>; rel=\"{rel}\"", q.join("&"))
    };
    let last = page.total_pages().max(1);
    let mut links = vec![link(1, "first")];
    if page.page > 1 {
        links.push(link((page.page - 1).min(last), "prev"));
    }
    if page.page < last {
        links.push(link(page.page + 1, "next"));
    }
    links.push(link(last, "last"));
    if let Ok(v) = HeaderValue::from_str(&links.join(", ")) {
        headers.insert("link", v);
    }
    headers.insert("x-total-count", HeaderValue::from(page.total));
}
