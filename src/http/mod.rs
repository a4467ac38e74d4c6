//! HTTP middleware shared by both APIs: the response cache's request side,
//! metrics, and the refusals that come before any handler.

pub mod caching;
pub mod metrics;
pub mod problem;
pub mod response_cache;

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::Request,
    http::{HeaderMap, header},
    middleware::Next,
    response::Response,
};

use crate::{
    auth::{self, RequestContext},
    error::{AppError, NUL_MESSAGE},
    http::problem::IntoProblem,
    state::AppState,
};

/// Middleware: a request whose path or query holds an encoded NUL (`%00`)
/// is refused before any handler reads it (PostgreSQL cannot store NUL, and
/// SQLite would; refusing it keeps both backends alike).
pub async fn refuse_nul(request: Request, next: Next) -> Response {
    if has_nul_in_uri(&request) {
        return AppError::BadRequest(NUL_MESSAGE.into()).into_problem();
    }
    next.run(request).await
}

fn has_nul_in_uri(request: &Request) -> bool {
    request.uri().path_and_query().is_some_and(|pq| {
        pq.as_str()
            .as_bytes()
            .windows(3)
            .any(|w| w.eq_ignore_ascii_case(b"%00"))
    })
}

/// Build the [`RequestContext`] from request headers and the peer address;
/// shared by the REST extractor and the GraphQL handler.
pub async fn request_context(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Result<RequestContext, AppError> {
    let authorization = match headers.get(header::AUTHORIZATION) {
        Some(v) => Some(v.to_str().map_err(|_| AppError::Unauthenticated {
            invalid_token: true,
        })?),
        None => None,
    };
    let actor = auth::authenticate(state, authorization).await?;
    let peer = peer.map(|p| p.ip()).unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(500).collect());
    Ok(RequestContext {
        actor,
        client_ip: auth::client_ip(peer, forwarded, &state.config.trusted_proxies),
        user_agent,
    })
}
