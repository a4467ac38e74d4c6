//! `AppError` → `application/problem+json` (RFC 9457) with `code` and, for
//! validation, `errors: [{field, message}]`.
//!
//! The error type lives in the core crate, which knows no HTTP framework;
//! [`ApiError`] is its axum side: what every handler, extractor and
//! middleware returns.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::error::{AppError, FieldError};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// The body of every REST error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "type": "about:blank", "title": "Unprocessable Content", "status": 422,
    "detail": "the request has invalid fields", "code": "validation_failed",
    "errors": [{"field": "per_page", "message": "must be a whole number from 1 to 100"}]
}))]
pub struct Problem {
    /// Always `about:blank`: `code` carries the machine-readable meaning.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// One of bad_request, unauthorized, forbidden, not_found, conflict,
    /// precondition_failed, payload_too_large, unsupported_media_type,
    /// validation_failed, rate_limited, unavailable, method_not_allowed,
    /// request_timeout, internal.
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

impl From<&AppError> for Problem {
    fn from(err: &AppError) -> Self {
        Problem {
            kind: "about:blank",
            title: err.title(),
            status: err.status(),
            detail: err.to_string(),
            code: err.code(),
            errors: match err {
                AppError::Validation(fields) => Some(fields.clone()),
                _ => None,
            },
        }
    }
}

impl Problem {
    pub fn into_response_with_status(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
            body,
        )
            .into_response()
    }
}

/// An [`AppError`] as a REST answer. `?` turns any error the core converts
/// into an `AppError` (a service's, a database's) into one.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E> From<E> for ApiError
where
    AppError: From<E>,
{
    fn from(err: E) -> Self {
        ApiError(AppError::from(err))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let ApiError(err) = self;
        err.into_problem()
    }
}

/// The one way an [`AppError`] becomes a response, for code that is not a
/// handler (middleware, fallbacks): `err.into_problem()`.
pub trait IntoProblem {
    fn into_problem(self) -> Response;
}

impl IntoProblem for AppError {
    fn into_problem(self) -> Response {
        self.log_if_internal();
        let mut response = Problem::from(&self).into_response_with_status();
        let headers = response.headers_mut();
        match &self {
            AppError::Unauthenticated { invalid_token } => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(if *invalid_token {
                        "Bearer error=\"invalid_token\""
                    } else {
                        "Bearer"
                    }),
                );
            }
            AppError::RateLimited { retry_after_secs } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    headers.insert(header::RETRY_AFTER, v);
                }
            }
            AppError::Unavailable | AppError::Overloaded | AppError::TimedOut => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// 404 for any path no route matches.
pub async fn not_found() -> ApiError {
    ApiError(AppError::NotFound { resource: "route" })
}

/// 405 for a known path with the wrong method.
pub async fn method_not_allowed() -> Response {
    Problem {
        kind: "about:blank",
        title: "Method Not Allowed",
        status: 405,
        detail: "this method is not allowed on this resource".into(),
        code: "method_not_allowed",
        errors: None,
    }
    .into_response_with_status()
}

/// Middleware: a bare error response produced below the handlers (e.g. the
/// body-size layer's 413) is rewritten as problem+json like every other error.
pub fn problem_for_bare_errors(response: Response) -> Response {
    let status = response.status();
    // GraphQL refusals (limits, multipart) carry GraphQL errors already.
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(PROBLEM_JSON.as_bytes())
                || v.as_bytes()
                    .starts_with(b"application/graphql-response+json")
        });
    if is_problem || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge.into_problem(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            AppError::UnsupportedMediaType("the body must be application/json".into())
                .into_problem()
        }
        StatusCode::BAD_REQUEST => {
            AppError::BadRequest("the request could not be read".into()).into_problem()
        }
        _ => response,
    }
}
