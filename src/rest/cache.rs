//! HTTP caching for REST reads (API.md "Caching"): every public GET carries a
//! strong `ETag` (a hash of the exact body), `Cache-Control: public` with a
//! short max-age and, when known, `Last-Modified`; `If-None-Match` answers
//! 304. Responses to a request with a token are `private, no-store`.

use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// `max-age` of public responses, in seconds.
pub const PUBLIC_MAX_AGE: u32 = 30;

/// How a response may be cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Public,
    Staff,
}

impl Audience {
    pub fn of(actor: &crate::auth::Actor) -> Self {
        if actor.is_staff() {
            Audience::Staff
        } else {
            Audience::Public
        }
    }
}

/// A strong ETag for exact bytes.
pub fn etag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether an `If-None-Match` header matches `etag` (weak comparison, RFC 9110 §13.1.2).
pub fn none_match(request: &HeaderMap, etag: &str) -> bool {
    let Some(value) = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

/// An HTTP date (RFC 9110 IMF-fixdate).
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Serialize `body` as JSON with caching headers; 304 when the client's copy
/// is current. `etag` overrides the body hash (staff article reads use the
/// version ETag that `If-Match` accepts).
pub fn json_response<T: Serialize>(
    request: &HeaderMap,
    audience: Audience,
    status: StatusCode,
    body: &T,
    etag: Option<String>,
    last_modified: Option<DateTime<Utc>>,
    mut extra: HeaderMap,
) -> Response {
    let bytes = match serde_json::to_vec(body) {
        Ok(b) => b,
        Err(e) => return crate::error::AppError::internal(e).into_response(),
    };
    let etag = etag.unwrap_or_else(|| etag_of(&bytes));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        extra.insert(header::ETAG, v);
    }
    extra.insert(
        header::CACHE_CONTROL,
        match audience {
            Audience::Public => HeaderValue::from_str(&format!("public, max-age={PUBLIC_MAX_AGE}"))
                .unwrap_or(HeaderValue::from_static("public")),
            Audience::Staff => HeaderValue::from_static("private, no-store"),
        },
    );
    extra.insert(header::VARY, HeaderValue::from_static("Authorization"));
    if let Some(t) = last_modified
        && let Ok(v) = HeaderValue::from_str(&http_date(t))
    {
        extra.insert(header::LAST_MODIFIED, v);
    }
    if status == StatusCode::OK && none_match(request, &etag) {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
        *resp.headers_mut() = extra;
        return resp;
    }
    extra.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    *resp.headers_mut() = extra;
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_star() {
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"a\", W/\"b\""),
        );
        assert!(none_match(&h, "\"b\""));
        assert!(!none_match(&h, "\"c\""));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(none_match(&h, "\"c\""));
    }

    #[test]
    fn http_dates_are_imf_fixdate() {
        let t = DateTime::from_timestamp(784_111_777, 0).unwrap();
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
