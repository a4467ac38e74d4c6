//! `/api/v1/auth/*`: login, refresh (rotating), logout.

use axum::{Json as AxumJson, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::problem::ApiError;
use crate::{
    rest::extract::{Caller, Json},
    services::auth::{self, TokenPair},
    state::AppState,
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "editor@example.org")]
    pub email: String,
    #[schema(example = "correct horse battery staple")]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from a login or an earlier refresh.
    pub refresh_token: String,
}

/// Tokens for an authenticated session.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// A JWT for `Authorization: Bearer …`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    /// Opaque; exchange it at `/auth/refresh` for new tokens. Single use.
    pub refresh_token: String,
}

impl From<TokenPair> for TokenResponse {
    fn from(t: TokenPair) -> Self {
        TokenResponse {
            access_token: t.access_token,
            token_type: "Bearer",
            expires_in: t.expires_in,
            refresh_token: t.refresh_token,
        }
    }
}

/// Log in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 400, description = "Malformed JSON", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unknown email or wrong password (the same answer for both)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing or unknown fields, or an email over 254 characters", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed password checks from this address, or for this account from this address (or from new addresses)", body = crate::http::problem::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "Too many password checks at once (code overloaded)", body = crate::http::problem::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub async fn login(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Json(body): Json<LoginRequest>,
) -> Result<AxumJson<TokenResponse>, ApiError> {
    let tokens = auth::login(&state, &ctx, &body.email, &body.password).await?;
    Ok(AxumJson(tokens.into()))
}

/// Exchange a refresh token for new tokens. The presented token is spent;
/// presenting it again revokes the whole session.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 401, description = "Unknown, expired, revoked or reused refresh token", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing field", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> Result<AxumJson<TokenResponse>, ApiError> {
    Ok(AxumJson(
        auth::refresh(&state, &body.refresh_token).await?.into(),
    ))
}

/// Revoke the session a refresh token belongs to; its access tokens are
/// refused from then on.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 204, description = "Logged out (also for an unknown token)"),
        (status = 422, description = "Missing field", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn logout(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    auth::logout(&state, &body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}
