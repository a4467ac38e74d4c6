//! `AppState`: what every request handler and resolver shares; cheap to clone.

use std::sync::{Arc, atomic::AtomicU64};

use sea_orm::DatabaseConnection;

use crate::{auth::claims::JwtKeys, config::Config, ratelimit::RateLimiter};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub keys: Arc<JwtKeys>,
    pub limits: Arc<Limits>,
    /// SQL statements run so far by this instance.
    pub db_statements: Arc<AtomicU64>,
}

/// Per-instance rate limiters.
pub struct Limits {
    /// Failed logins, keyed by `ip:<addr>` and by `account:<email>`.
    pub login_failures: RateLimiter,
    /// Comment submissions, keyed by client address.
    pub comments: RateLimiter,
}

impl Limits {
    pub fn from_config(config: &Config) -> Self {
        Limits {
            login_failures: RateLimiter::new(config.login_failures_per_minute),
            comments: RateLimiter::new(config.comment_rate_per_minute),
        }
    }
}
