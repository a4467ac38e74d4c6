//! Extractors whose rejections speak problem+json like every other error:
//! the caller (`Caller`), query strings (`Query`) and JSON bodies (`Json`).

use std::net::SocketAddr;

use axum::{
    body::Bytes,
    extract::{
        ConnectInfo, FromRef, FromRequest, FromRequestParts, Request, rejection::QueryRejection,
    },
    http::{header, request::Parts},
};
use serde::de::DeserializeOwned;

use crate::http::problem::ApiError;
use crate::{
    auth::RequestContext,
    error::{AppError, FieldError},
    state::AppState,
};

/// `axum::extract::Query` with a 400 problem+json rejection.
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e: QueryRejection| {
                AppError::BadRequest(format!("invalid query string: {}", e.body_text())).into()
            })
    }
}

/// The caller: anonymous without an `Authorization` header; a bad token is
/// refused (401) even on public routes.
pub struct Caller(pub RequestContext);

impl<S> FromRequestParts<S> for Caller
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        let ctx = crate::http::request_context(&state, &parts.headers, peer).await?;
        Ok(Caller(ctx))
    }
}

/// A JSON body: 415 without a JSON content type, 413 over the size limit,
/// 400 when it is not JSON at all, 422 naming the field when it is JSON of the
/// wrong shape (including unknown fields).
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json"
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(
                AppError::UnsupportedMediaType("the body must be application/json".into()).into(),
            );
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::BadRequest("the request body could not be read".into())
            }
        })?;
        Ok(parse_json(&bytes).map(Json)?)
    }
}

/// Whether any string (or key) in a JSON value holds a NUL character.
fn json_has_nul(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(json_has_nul),
        serde_json::Value::Object(map) => {
            map.iter().any(|(k, v)| k.contains('\0') || json_has_nul(v))
        }
        _ => false,
    }
}

/// Parse a JSON body into `T` with the error rules above.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(AppError::BadRequest(format!(
            "the body is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        )));
    }
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        return Err(AppError::BadRequest(format!(
            "the body is not valid JSON: {e}"
        )));
    }
    // A NUL can only arrive as the escape `\u0000`; look closer only then.
    if bytes.windows(6).any(|w| w == b"\\u0000")
        && serde_json::from_slice::<serde_json::Value>(bytes).is_ok_and(|v| json_has_nul(&v))
    {
        return Err(AppError::BadRequest(crate::error::NUL_MESSAGE.into()));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let message = inner
            .split(" at line ")
            .next()
            .unwrap_or(&inner)
            .to_string();
        // serde names an unknown field in its message; report it as the field.
        let field = if let Some(rest) = message.strip_prefix("unknown field `") {
            let name = rest.split('`').next().unwrap_or("");
            // serde_path_to_error already ends the path with the unknown key.
            if path == "." || !path.ends_with(name) {
                name.to_string()
            } else {
                path
            }
        } else if let Some(rest) = message.strip_prefix("missing field `") {
            rest.split('`').next().unwrap_or("").to_string()
        } else if path == "." {
            "body".to_string()
        } else {
            path
        };
        let message = if message.starts_with("unknown field") {
            "is not a known field".to_string()
        } else if message.starts_with("missing field") {
            "is required".to_string()
        } else {
            message
        };
        AppError::Validation(vec![FieldError::new(field, message)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Login {
        email: String,
        count: Option<u32>,
    }

    fn field_of(body: &str) -> String {
        match parse_json::<Login>(body.as_bytes()) {
            Err(AppError::Validation(f)) => f[0].field.clone(),
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn malformed_json_is_400_and_wrong_shapes_name_the_field() {
        assert!(matches!(
            parse_json::<Login>(b"{nope"),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<Login>(b"\xff\xfe"),
            Err(AppError::BadRequest(_))
        ));
        assert_eq!(field_of(r#"{"email": "a", "extra": 1}"#), "extra");
        assert_eq!(field_of(r#"{"count": 1}"#), "email");
        assert_eq!(field_of(r#"{"email": "a", "count": "x"}"#), "count");
        assert_eq!(field_of("5"), "body");
    }
}
