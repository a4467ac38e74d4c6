//! The metrics' HTTP side: the middleware that times and counts every
//! request, and `GET /metrics` (the registry is `broadsheet_core::metrics`).

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use prometheus_client::encoding::prometheus_text;

use crate::{error::AppError, http::problem::IntoProblem, state::AppState};

/// Middleware: time every request and count it under its route template
/// (`/api/v1/articles/{id}`, never the raw path, so the label set is bounded).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    // The methods the API serves keep their names; any other (a client may
    // send any token as a method) counts as "other", so the label set, the
    // memory it holds and the size of `/metrics` stay bounded.
    let method = request.method();
    let method: &'static str = [
        ("GET", Method::GET),
        ("POST", Method::POST),
        ("PUT", Method::PUT),
        ("PATCH", Method::PATCH),
        ("DELETE", Method::DELETE),
        ("HEAD", Method::HEAD),
        ("OPTIONS", Method::OPTIONS),
    ]
    .into_iter()
    .find(|(_, m)| m == method)
    .map_or("other", |(name, _)| name);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(request).await;
    state
        .metrics
        .observe(method, route, response.status().as_u16(), started.elapsed());
    response
}

/// `GET /metrics`: Prometheus text format. When `BROADSHEET_METRICS_TOKEN` is
/// set, the scraper must send it as a bearer token.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4", body = String, content_type = "text/plain"),
        (status = 401, description = "BROADSHEET_METRICS_TOKEN is set and the request did not send it", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn serve(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if let Some(token) = &state.config.metrics_token {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !sent.is_some_and(|s| constant_time_eq(s.as_bytes(), token.expose().as_bytes())) {
            return AppError::Unauthenticated {
                invalid_token: sent.is_some(),
            }
            .into_problem();
        }
    }
    match crate::metrics::render(&state).await {
        Ok(text) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(prometheus_text::CONTENT_TYPE),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            text,
        )
            .into_response(),
        Err(e) => AppError::internal(anyhow::anyhow!("encoding metrics: {e}")).into_problem(),
    }
}

/// Compares SHA-256 digests, not the strings: the time taken depends on
/// neither the token's content nor its length.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}
