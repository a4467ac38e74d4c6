//! `GET /healthz` (the process is up) and `GET /readyz` (the database answers
//! and every migration is applied).

use axum::{Json, extract::State};
use serde::Serialize;

use crate::http::problem::ApiError;
use crate::{db, error::AppError, state::AppState};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Status {
    /// `ok` or `ready`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: answers as long as the process serves requests.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is up", body = Status)))]
pub async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// Readiness: a database round-trip and no pending migrations.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Status),
        (status = 503, description = "Database unreachable or migrations pending", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    // Probes arriving together share one check (they are anonymous and
    // outside the concurrency limit: a flood must not take the pool).
    let ready = state
        .readiness
        .get(|| async {
            db::ping(&state.db).await.is_ok()
                && db::migrations_current(&state.db).await.unwrap_or(false)
        })
        .await;
    if !ready {
        return Err(AppError::Unavailable.into());
    }
    Ok(Json(Status { status: "ready" }))
}
