//! `AppState`: what every request handler and resolver shares; cheap to clone.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    auth::{claims::JwtKeys, passwords::PasswordHasher, throttle::LoginThrottle},
    config::Config,
    metrics::Metrics,
    ratelimit::RateLimiter,
};

/// Shared by every request: one reference count to bump per clone (axum
/// clones the state into each middleware and handler of every request, and
/// contended counters showed up at the top of the cached-read profile).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct Shared {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub keys: Arc<JwtKeys>,
    pub limits: Arc<Limits>,
    /// Every argon2 hash goes through here (bounded, on the blocking pool).
    pub passwords: Arc<PasswordHasher>,
    /// This instance's Prometheus metrics (`/metrics`).
    pub metrics: Arc<Metrics>,
    /// Anonymous read responses (`response_cache`).
    pub response_cache: Arc<crate::cache::ResponseCache>,
    /// Wakes this instance's webhook worker after a write queued deliveries.
    pub webhook_wake: Arc<tokio::sync::Notify>,
    /// Every article body is rendered through here (bounded, on the blocking
    /// pool, before the write transaction).
    pub bodies: Arc<crate::services::bodies::BodyRenderer>,
    /// `/readyz`'s check, shared by concurrent probes.
    pub readiness: Coalesced<bool>,
    /// The pending-comment count of `/metrics`, shared by concurrent scrapes.
    pub pending_comments: Coalesced<Option<u64>>,
}

impl AppState {
    /// Wire up one instance: rate limiters and metrics (the pool reports
    /// every SQL statement to them).
    pub fn new(mut db: DatabaseConnection, config: Config, keys: JwtKeys) -> Self {
        let metrics = Arc::new(Metrics::new(config.db_max_connections));
        crate::db::count_statements(&mut db, metrics.db_statements.clone());
        let response_cache = Arc::new(crate::cache::ResponseCache::new(
            u64::from(config.response_cache_mb) * 1024 * 1024,
            db.get_database_backend(),
        ));
        let passwords = Arc::new(PasswordHasher::new(
            config.password_hash_concurrency,
            std::time::Duration::from_millis(u64::from(config.password_hash_wait_ms)),
            metrics.password_hashes.clone(),
        ));
        let bodies = Arc::new(crate::services::bodies::BodyRenderer::new(
            config.render_concurrency,
            std::time::Duration::from_millis(u64::from(config.render_wait_ms)),
            crate::domain::body::BodyLimits {
                max_bytes: config.body_max_bytes as usize,
                max_depth: config.body_max_depth as usize,
            },
        ));
        AppState(Arc::new(Shared {
            bodies,
            passwords,
            webhook_wake: Arc::new(tokio::sync::Notify::new()),
            readiness: Coalesced::default(),
            pending_comments: Coalesced::default(),
            response_cache,
            db,
            limits: Arc::new(Limits::from_config(&config)),
            keys: Arc::new(keys),
            config: Arc::new(config),
            metrics,
        }))
    }
}

/// Per-instance rate limiters.
pub struct Limits {
    /// Password checks (logins, password changes), per address and account.
    pub login: LoginThrottle,
    /// Comment submissions, keyed by client address.
    pub comments: RateLimiter,
}

impl Limits {
    pub fn from_config(config: &Config) -> Self {
        let max_keys = u64::from(config.rate_limit_keys);
        Limits {
            login: LoginThrottle::new(
                config.login_failures_per_minute,
                config.login_account_failures_per_hour,
                max_keys,
                std::time::Duration::from_secs(config.refresh_token_ttl),
            ),
            comments: RateLimiter::new(config.comment_rate_per_minute, max_keys),
        }
    }

    /// Keys each limiter holds, by name (`/metrics`).
    pub fn keys(&self) -> Vec<(&'static str, Option<u64>)> {
        let mut out = self.login.keys().to_vec();
        out.push(("comments", Some(self.comments.len())));
        out
    }
}

/// One database check shared by every request that arrives while it runs:
/// a request reuses the answer of a check that started after it arrived (so
/// the answer is never older than the request) and otherwise runs its own.
/// For the anonymous operations endpoints outside the concurrency limit
/// (`/readyz`, the backlog gauge of `/metrics`): however many come at once,
/// at most one of their queries is in flight, and a flood of them cannot
/// take the pool from the API.
pub struct Coalesced<T> {
    last: tokio::sync::Mutex<Option<(std::time::Instant, T)>>,
}

impl<T: Clone> Default for Coalesced<T> {
    fn default() -> Self {
        Coalesced {
            last: tokio::sync::Mutex::new(None),
        }
    }
}

impl<T: Clone> Coalesced<T> {
    pub async fn get<Fut: std::future::Future<Output = T>>(
        &self,
        check: impl FnOnce() -> Fut,
    ) -> T {
        let arrived = std::time::Instant::now();
        let mut last = self.last.lock().await;
        if let Some((started, value)) = last.as_ref()
            && *started >= arrived
        {
            return value.clone();
        }
        let started = std::time::Instant::now();
        let value = check().await;
        *last = Some((started, value.clone()));
        value
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::Coalesced;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_check_and_never_get_an_older_answer() {
        let shared = std::sync::Arc::new(Coalesced::<u32>::default());
        let runs = std::sync::Arc::new(AtomicU32::new(0));
        let callers: Vec<_> = (0..100)
            .map(|_| {
                let (shared, runs) = (shared.clone(), runs.clone());
                tokio::spawn(async move {
                    shared
                        .get(|| async {
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            runs.fetch_add(1, Ordering::SeqCst) + 1
                        })
                        .await
                })
            })
            .collect();
        for caller in callers {
            caller.await.unwrap();
        }
        // The first caller's check, then one for everyone who came during it.
        assert!(runs.load(Ordering::SeqCst) <= 2, "{runs:?}");
        // A caller after those checks runs its own: answers are never stale.
        let later = shared.get(|| async { 99 }).await;
        assert_eq!(later, 99);
    }
}
