//! HTTP caching for REST reads (API.md "Caching"): every public GET carries a
//! strong `ETag` (a hash of the exact body), `Cache-Control: public` with a
//! short max-age and, when known, `Last-Modified`; `If-None-Match` answers
//! 304. Responses to a request with a token are `private, no-store`.

use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};
use chrono::{DateTime, Utc};
use serde::Serialize;

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

/// A strong ETag for exact bytes: their 128-bit SipHash-1-3 (fixed keys, so
/// every instance and every restart gives the same tag). Not a
/// cryptographic digest, and it needs not be one: it only tells versions of
/// one resource apart. It runs at several GB/s where SHA-256 without the CPU's
/// SHA extensions runs at ~150 MB/s, and every uncached read hashes its body.
pub fn etag_of(bytes: &[u8]) -> String {
    let hash = siphasher::sip128::SipHasher13::new_with_keys(0, 0).hash(bytes);
    format!("\"{:032x}\"", hash.as_u128())
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
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
        Err(e) => {
            return crate::http::problem::IntoProblem::into_problem(
                crate::error::AppError::internal(e),
            );
        }
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

/// Whether `If-Modified-Since` shows the client's copy is current: its date
/// is at or after `last_modified` (compared in whole seconds, as HTTP dates
/// are). Ignored when the request has `If-None-Match`, which takes precedence
/// (RFC 9110 §13.1.3), or when the date does not parse.
pub fn not_modified_since(request: &HeaderMap, last_modified: DateTime<Utc>) -> bool {
    if request.contains_key(header::IF_NONE_MATCH) {
        return false;
    }
    let Some(since) = request
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v.trim()).ok())
    else {
        return false;
    };
    let since: DateTime<Utc> = since.into();
    last_modified.timestamp() <= since.timestamp()
}

/// A public, non-JSON representation (feeds): strong `ETag` over the exact
/// bytes, `Last-Modified` when known, `Cache-Control: public` with `max_age`;
/// 304 for a matching `If-None-Match`, or — without one — for an
/// `If-Modified-Since` at or after `Last-Modified`. The same bytes go to
/// every caller, token or not, so nothing varies on `Authorization`.
pub fn bytes_response(
    request: &HeaderMap,
    content_type: &'static str,
    bytes: Vec<u8>,
    last_modified: Option<DateTime<Utc>>,
    max_age: u32,
) -> Response {
    let etag = etag_of(&bytes);
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        headers.insert(header::CACHE_CONTROL, v);
    }
    if let Some(t) = last_modified
        && let Ok(v) = HeaderValue::from_str(&http_date(t))
    {
        headers.insert(header::LAST_MODIFIED, v);
    }
    let fresh =
        none_match(request, &etag) || last_modified.is_some_and(|t| not_modified_since(request, t));
    let mut resp = if fresh {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
        resp
    } else {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        Response::new(Body::from(bytes))
    };
    *resp.headers_mut() = headers;
    resp
}

/// Responses to staff requests must not be stored by any cache.
pub fn private_no_store(headers: &mut HeaderMap) {
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
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
    fn if_modified_since_compares_whole_seconds_and_yields_to_if_none_match() {
        let t = DateTime::from_timestamp(784_111_777, 500_000_000).unwrap();
        let mut h = HeaderMap::new();
        assert!(!not_modified_since(&h, t));
        h.insert(
            header::IF_MODIFIED_SINCE,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert!(not_modified_since(&h, t));
        assert!(!not_modified_since(&h, t + chrono::Duration::seconds(1)));
        // The obsolete formats recipients must still accept (RFC 9110 §5.6.7).
        h.insert(
            header::IF_MODIFIED_SINCE,
            HeaderValue::from_static("Sunday, 06-Nov-94 08:49:37 GMT"),
        );
        assert!(not_modified_since(&h, t));
        h.insert(
            header::IF_MODIFIED_SINCE,
            HeaderValue::from_static("yesterday"),
        );
        assert!(!not_modified_since(&h, t));
        h.insert(
            header::IF_MODIFIED_SINCE,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert!(!not_modified_since(&h, t));
    }

    #[test]
    fn http_dates_are_imf_fixdate() {
        let t = DateTime::from_timestamp(784_111_777, 0).unwrap();
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
