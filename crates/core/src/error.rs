//! `AppError`: the one error type outside `main`, with exactly one HTTP status,
//! one REST `code` and one GraphQL `extensions.code` per variant (API.md, "Errors").

use serde::Serialize;

/// One invalid input field, named as the client spelled it (REST snake_case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field, e.g. `per_page` or `title`.
    pub field: String,
    /// What is wrong with it, in plain words.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every failure a request can end in.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed request (unparseable JSON, bad cursor...).
    #[error("{0}")]
    BadRequest(String),
    /// One or more fields are invalid; each is named.
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    /// No credentials (`invalid_token == false`) or bad ones.
    #[error("{}", if *invalid_token { "the access token is invalid, expired or revoked" } else { "authentication is required" })]
    Unauthenticated { invalid_token: bool },
    /// A refresh token that is unknown, expired, already used or revoked.
    #[error("the refresh token is invalid, expired, already used or revoked")]
    InvalidRefreshToken,
    #[error("{0}")]
    Forbidden(String),
    #[error("{resource} not found")]
    NotFound { resource: &'static str },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("the request body is larger than the limit")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many requests; retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("the database is unavailable; retry shortly")]
    Unavailable,
    /// Load shedding: `BROADSHEET_MAX_CONCURRENT_REQUESTS` are already in flight.
    #[error("the server is busy; retry shortly")]
    Overloaded,
    /// The request ran longer than `BROADSHEET_REQUEST_TIMEOUT`.
    #[error("the request took too long and was stopped; retry shortly")]
    TimedOut,
    /// Anything unexpected. Logged with its cause; the client sees a generic detail.
    #[error("an internal error occurred")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(err.into())
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> u16 {
        match self {
            AppError::BadRequest(_) => 400,
            AppError::Unauthenticated { .. } | AppError::InvalidRefreshToken => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound { .. } => 404,
            AppError::Conflict(_) => 409,
            AppError::PreconditionFailed(_) => 412,
            AppError::PayloadTooLarge => 413,
            AppError::UnsupportedMediaType(_) => 415,
            AppError::Validation(_) => 422,
            AppError::RateLimited { .. } => 429,
            AppError::Internal(_) => 500,
            AppError::Unavailable | AppError::Overloaded | AppError::TimedOut => 503,
        }
    }

    /// The REST problem+json `code`.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Validation(_) => "validation_failed",
            AppError::Unauthenticated { .. } | AppError::InvalidRefreshToken => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound { .. } => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::PreconditionFailed(_) => "precondition_failed",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Unavailable => "unavailable",
            AppError::Overloaded => "overloaded",
            AppError::TimedOut => "timeout",
            AppError::Internal(_) => "internal",
        }
    }

    /// The GraphQL `extensions.code`.
    pub fn graphql_code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_)
            | AppError::Validation(_)
            | AppError::PayloadTooLarge
            | AppError::UnsupportedMediaType(_) => "BAD_USER_INPUT",
            AppError::Unauthenticated { .. } | AppError::InvalidRefreshToken => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::NotFound { .. } => "NOT_FOUND",
            AppError::Conflict(_) | AppError::PreconditionFailed(_) => "CONFLICT",
            AppError::RateLimited { .. } => "RATE_LIMITED",
            AppError::Unavailable | AppError::Overloaded | AppError::TimedOut => "UNAVAILABLE",
            AppError::Internal(_) => "INTERNAL",
        }
    }

    /// Short human title for the status (problem+json `title`).
    pub fn title(&self) -> &'static str {
        match self.status() {
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            409 => "Conflict",
            412 => "Precondition Failed",
            413 => "Payload Too Large",
            415 => "Unsupported Media Type",
            422 => "Unprocessable Content",
            429 => "Too Many Requests",
            503 => "Service Unavailable",
            _ => "Internal Server Error",
        }
    }

    /// Log an internal error once, with its cause chain (never shown to clients).
    pub fn log_if_internal(&self) {
        if let AppError::Internal(cause) = self {
            tracing::error!(error = ?cause, "internal error");
        }
    }
}

/// Why a request with a NUL character is refused (PostgreSQL cannot store one).
pub const NUL_MESSAGE: &str = "text must not contain NUL (U+0000) characters";

/// Whether a statement failed because the database went away (a dropped
/// connection, a pool that cannot reconnect) rather than because of the
/// statement: such failures are 503, not 500.
fn is_connection_lost(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr, sqlx::Error as Sqlx};
    match err {
        DbErr::Query(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Conn(RuntimeErr::SqlxError(e)) => {
            matches!(
                e.as_ref(),
                Sqlx::Io(_)
                    | Sqlx::Tls(_)
                    | Sqlx::Protocol(_)
                    | Sqlx::PoolTimedOut
                    | Sqlx::PoolClosed
                    | Sqlx::WorkerCrashed
            ) || matches!(e.as_ref(), Sqlx::Database(d) if d.code().is_some_and(|c| {
                // PostgreSQL: admin shutdown, crash shutdown, cannot connect
                // now; lock not available, deadlock, serialization failure.
                matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "55P03" | "40P01" | "40001")
            }) || d.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>().is_some()
                // SQLite: busy or locked past the busy timeout (primary codes
                // 5 and 6, with their extended codes).
                && d.code().and_then(|c| c.parse::<u32>().ok()).is_some_and(|n| matches!(n & 0xff, 5 | 6)))
        }
        _ => false,
    }
}

impl From<sea_orm::DbErr> for AppError {
    /// Map database errors at the service boundary: a unique violation is a
    /// conflict, a lost connection or a database too busy to answer in time
    /// is 503 (`Retry-After`), everything else is internal.
    fn from(err: sea_orm::DbErr) -> Self {
        use sea_orm::{DbErr, RuntimeErr, SqlErr};
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                return AppError::Conflict(
                    "a resource with the same unique value already exists".into(),
                );
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                return AppError::Conflict("the change conflicts with related resources".into());
            }
            _ => {}
        }
        if let DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e)) = &err
            && let sea_orm::sqlx::Error::Database(d) = e.as_ref()
            && d.code()
                .is_some_and(|c| matches!(c.as_ref(), "22021" | "22P05"))
        {
            // PostgreSQL refuses NUL and unencodable characters in text; the
            // input layers refuse them first, this is the safety net.
            return AppError::BadRequest(NUL_MESSAGE.into());
        }
        if is_connection_lost(&err) {
            return AppError::Unavailable;
        }
        match err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => AppError::Unavailable,
            other => AppError::Internal(anyhow::Error::new(other)),
        }
    }
}
