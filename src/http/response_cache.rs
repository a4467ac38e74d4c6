//! The response cache's HTTP side: which requests may be answered from
//! the store (`broadsheet_core::cache`, which also explains why an answer is
//! never stale), and what of a response is kept.
//!
//! What is cached: complete `200` answers (for GraphQL, answers without
//! `errors`) to `GET`/`HEAD` requests without an `Authorization` header, and
//! to GraphQL queries posted without one (mutations never), keyed by method,
//! URI and, for GraphQL, a hash of the body. A hit answers `304` itself when
//! `If-None-Match` matches, without touching the database; a request
//! revalidating by `If-Modified-Since` alone is left to the handler (only
//! feeds trust their `Last-Modified`).

use std::sync::Arc;

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::Response,
};
use sha2::{Digest, Sha256};

use crate::{cache::Entry, error::AppError, http::problem::IntoProblem, state::AppState};

/// Largest response body kept.
const MAX_ENTRY_BYTES: usize = 2 * 1024 * 1024;
/// Headers of the origin response kept with the entry.
const KEPT_HEADERS: [header::HeaderName; 7] = [
    header::CONTENT_TYPE,
    header::ETAG,
    header::LAST_MODIFIED,
    header::CACHE_CONTROL,
    header::VARY,
    header::LINK,
    header::LOCATION,
];

/// What a request is, for the cache. Writes are not the middleware's
/// business: the service layer invalidates when one commits, whatever
/// request carried it (`services::write_txn`).
enum Kind {
    /// A read that may be served from and stored in the cache, under this key.
    Cacheable(String),
    /// Anything else: passed on, never stored.
    Bypass,
}

/// Paths never cached: their answers change with no write (health, metrics).
const UNCACHED_PATHS: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// Whether a GraphQL POST body holds queries only (`None`: it cannot be read,
/// or is over a limit; the handler will say why). Each document is scanned
/// within the GraphQL limits before it is parsed.
fn graphql_is_query(body: &[u8], limits: &crate::config::GraphqlLimits) -> Option<bool> {
    use crate::graphql::limits;
    limits::check_batch_len(body, limits.max_batch).ok()?;
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let ops: Vec<&serde_json::Value> = match &value {
        serde_json::Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut query = true;
    for op in ops {
        let text = op.get("query")?.as_str()?;
        limits::scan(text, limits).ok()?;
        let doc = async_graphql::parser::parse_query(text).ok()?;
        query &= doc
            .operations
            .iter()
            .all(|(_, op)| op.node.ty == async_graphql::parser::types::OperationType::Query);
    }
    Some(query)
}

/// Whether a GraphQL answer (or every answer of a batch) is complete: no
/// `errors`. An answer with errors is never stored (issue 24, finding 5).
fn graphql_complete(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Answer {
        errors: Option<serde::de::IgnoredAny>,
    }
    let batch = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    if batch {
        serde_json::from_slice::<Vec<Answer>>(body)
            .is_ok_and(|answers| answers.iter().all(|a| a.errors.is_none()))
    } else {
        serde_json::from_slice::<Answer>(body).is_ok_and(|a| a.errors.is_none())
    }
}

/// Middleware: serve and fill the cache with complete, successful answers
/// to anonymous reads.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let cache = &state.response_cache;
    if !cache.enabled() {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let authorized = request.headers().contains_key(header::AUTHORIZATION);
    let path = request.uri().path();
    let preview = request
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("preview=")));
    let uri = request.uri().clone();
    let graphql = path == "/graphql";

    let (request, kind) = if authorized
        || path.starts_with("/api/v1/auth/")
        || path.starts_with("/api/v1/users")
        || path.starts_with("/api/v1/webhooks")
    {
        // Private answers, sessions and accounts.
        (request, Kind::Bypass)
    } else if method == Method::GET || method == Method::HEAD {
        // (GraphQL over GET is queries only: the handler refuses mutations.)
        let kind = if preview
            || uri.query().is_some_and(|q| q.contains("previewToken"))
            || UNCACHED_PATHS.contains(&path)
        {
            Kind::Bypass
        } else {
            Kind::Cacheable(format!("{method} {uri}"))
        };
        (request, kind)
    } else if method == Method::POST && graphql {
        let (parts, body) = request.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, crate::MAX_BODY_BYTES).await else {
            return AppError::PayloadTooLarge.into_problem();
        };
        let key = format!(
            "POST {uri} {}",
            crate::http::caching::hex(&Sha256::digest(&bytes)[..16])
        );
        // Only queries are ever stored, so the same bytes found in the cache
        // are a query: served without parsing them again.
        cache.follow_the_clock(&state.db).await;
        if let Some((entry, body)) = cache.get(&key) {
            state.metrics.cache_hits.inc();
            return answer(&entry, body, &parts.headers, false);
        }
        let kind = match graphql_is_query(&bytes, &state.config.graphql) {
            Some(true) => Kind::Cacheable(key),
            // Mutations, and bodies the handler will refuse.
            _ => Kind::Bypass,
        };
        (Request::from_parts(parts, Body::from(bytes)), kind)
    } else {
        (request, Kind::Bypass)
    };

    let Kind::Cacheable(key) = kind else {
        return next.run(request).await;
    };
    cache.follow_the_clock(&state.db).await;
    // The cache answers `If-None-Match` itself. A request that
    // revalidates by date alone goes to the handler, which alone knows
    // whether its `Last-Modified` covers everything in the body (feeds
    // answer 304 to it; JSON reads do not).
    let by_date_only = request.headers().contains_key(header::IF_MODIFIED_SINCE)
        && !request.headers().contains_key(header::IF_NONE_MATCH);
    if !by_date_only && let Some((entry, body)) = cache.get(&key) {
        state.metrics.cache_hits.inc();
        return answer(&entry, body, request.headers(), method == Method::HEAD);
    }
    state.metrics.cache_misses.inc();
    let ticket = cache.ticket();
    let response = next.run(request).await;
    let Some(ticket) =
        ticket.filter(|_| response.status() == StatusCode::OK && method != Method::HEAD)
    else {
        return response;
    };
    let (parts, body) = response.into_parts();
    // Only an answer known to fit is kept; a larger one (a long
    // list of long articles) is passed on as it is, uncached.
    let fits = axum::body::HttpBody::size_hint(&body)
        .upper()
        .is_some_and(|n| n <= MAX_ENTRY_BYTES as u64);
    if !fits {
        return Response::from_parts(parts, body);
    }
    let bytes = match axum::body::to_bytes(body, MAX_ENTRY_BYTES).await {
        Ok(b) => b,
        Err(e) => return AppError::internal(anyhow::anyhow!("{e}")).into_problem(),
    };
    let headers: Arc<[_]> = KEPT_HEADERS
        .iter()
        .flat_map(|name| {
            parts
                .headers
                .get_all(name)
                .iter()
                .map(|v| (name.clone(), v.clone()))
        })
        .collect();
    // Responses meant for one client only are never shared.
    let private = parts
        .headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("no-store") || v.contains("private"));
    let complete = !graphql || graphql_complete(&bytes);
    if !private && complete {
        cache.store(key, ticket, parts.status, headers, &bytes);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A response from an entry and its expanded body: 304 when the client's
/// copy is current.
fn answer(entry: &Entry, body: Bytes, request: &HeaderMap, head: bool) -> Response {
    let not_modified = entry
        .headers
        .iter()
        .find(|(name, _)| name == header::ETAG)
        .and_then(|(_, v)| v.to_str().ok())
        .is_some_and(|etag| crate::http::caching::none_match(request, etag));
    let length = body.len();
    let mut response = if not_modified || head {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(body))
    };
    *response.status_mut() = if not_modified {
        StatusCode::NOT_MODIFIED
    } else {
        entry.status
    };
    let headers = response.headers_mut();
    for (name, value) in entry.headers.iter() {
        if not_modified && name == header::CONTENT_TYPE {
            continue;
        }
        headers.append(name, value.clone());
    }
    if !not_modified && head {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphql_operations_are_told_apart() {
        let limits = crate::config::GraphqlLimits::default();
        let is_query = |body: &[u8]| graphql_is_query(body, &limits);
        let q = br#"{"query": "query Front { articles { totalCount } }"}"#;
        assert_eq!(is_query(q), Some(true));
        let m = br#"{"query": "mutation { submitComment(input: {}) { status } }"}"#;
        assert_eq!(is_query(m), Some(false));
        let batch = br#"[{"query": "{ articles { totalCount } }"}, {"query": "mutation M { deleteTag(id: \"x\") }"}]"#;
        assert_eq!(is_query(batch), Some(false));
        let mixed = br#"{"query": "query A { articles { totalCount } } mutation B { deleteTag(id: \"x\") }", "operationName": "A"}"#;
        assert_eq!(is_query(mixed), Some(false));
        assert_eq!(is_query(b"{\"query\": \"{\"}"), None);
        assert_eq!(is_query(b"not json"), None);
    }

    #[test]
    fn only_answers_without_errors_are_complete() {
        assert!(graphql_complete(br#"{"data":{"a":1}}"#));
        assert!(graphql_complete(br#"[{"data":{"a":1}},{"data":null}]"#));
        assert!(!graphql_complete(
            br#"{"data":null,"errors":[{"message":"x"}]}"#
        ));
        assert!(!graphql_complete(br#"[{"data":{}},{"errors":[]}]"#));
        assert!(!graphql_complete(b"not json"));
    }
}
