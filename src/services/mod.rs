//! The service layer: every rule (validation, permissions, slugs, visibility)
//! and all database access. REST handlers and GraphQL resolvers only translate.
//! A service function takes `(&AppState, &Actor, input)` and returns
//! `Result<T, AppError>`; it never sees axum or async-graphql types.

pub mod articles;
pub mod auth;
pub mod seed;
pub mod users;

use chrono::{DateTime, SubsecRound, Utc};

/// The current instant at the precision both databases store (microseconds),
/// so a value read back equals the value written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A new UUIDv7 id (time-ordered), as stored: lowercase hyphenated text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
