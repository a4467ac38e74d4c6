//! Password hashing with argon2id, and the gate every hash goes through.
//!
//! One argon2 hash (the crate's default parameters, as stored in the PHC
//! string) takes about 19 MB and tens of milliseconds of one core. Run
//! unbounded, 200 concurrent logins held gigabytes and starved the runtime,
//! so [`PasswordHasher`] runs hashes on the blocking pool, at most
//! `BROADSHEET_PASSWORD_HASH_CONCURRENCY` at once; a request that cannot get
//! a turn within `BROADSHEET_PASSWORD_HASH_WAIT_MS` is answered 503
//! `overloaded` (with `Retry-After`) instead of queueing without end.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use argon2::{
    Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use prometheus_client::metrics::counter::Counter;
use tokio::sync::Semaphore;

use crate::error::AppError;

/// Hash a password with argon2id and a random salt (PHC string format).
/// Blocking and expensive: on a server, go through [`PasswordHasher`].
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(anyhow::anyhow!("hashing a password: {e}")))
}

/// Whether `password` matches the PHC string `hash` (false for a malformed
/// hash, such as the one of an account imported without credentials).
/// Blocking and expensive: on a server, go through [`PasswordHasher`].
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when there is no account, so that an unknown
/// email costs the same argon2 work as a wrong password (no timing oracle
/// for account enumeration). Made on first use, on the blocking pool.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password("not a real password, only for timing").unwrap_or_default())
}

/// The hash to verify against, when it is one argon2 can check: anything
/// else would answer at once, telling such an account apart by its timing.
fn usable(hash: Option<&str>) -> Option<&str> {
    hash.filter(|h| PasswordHash::new(h).is_ok())
}

/// Runs argon2 on the blocking pool, a bounded number at once, and counts
/// every run (`broadsheet_password_hashes_total`).
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    wait: Duration,
    runs: Counter,
}

impl PasswordHasher {
    /// At most `concurrency` hashes at once (at least 1); a caller waits at
    /// most `wait` for its turn. `runs` counts the hashes run.
    pub fn new(concurrency: u32, wait: Duration, runs: Counter) -> Self {
        PasswordHasher {
            permits: Arc::new(Semaphore::new(concurrency.max(1) as usize)),
            wait,
            runs,
        }
    }

    /// For one-off commands (the CLI, the first-admin bootstrap): one hash
    /// at a time, patiently, counted nowhere.
    pub fn standalone() -> Self {
        Self::new(1, Duration::from_secs(3600), Counter::default())
    }

    /// Run `work` on the blocking pool once a turn is free. The turn is
    /// held by the blocking task itself, so a caller that goes away (a
    /// timeout, a closed connection) cannot free it while argon2 still runs.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| AppError::Overloaded)?
            .map_err(|_| AppError::Overloaded)?;
        self.runs.inc();
        tokio::task::spawn_blocking(move || {
            let _turn = permit;
            work()
        })
        .await
        .map_err(AppError::internal)
    }

    /// Whether `password` matches `hash`. `None` (no such account) and a
    /// hash that is no PHC string (an account imported without credentials)
    /// check against a dummy hash, so that every failure takes as long.
    pub async fn verify(&self, hash: Option<String>, password: String) -> Result<bool, AppError> {
        self.run(move || match usable(hash.as_deref()) {
            Some(hash) => verify_password(hash, &password),
            None => {
                verify_password(dummy_hash(), &password);
                false
            }
        })
        .await
    }

    /// A new argon2id hash of `password`.
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.run(move || hash_password(&password)).await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b);
        assert!(verify_password(&a, "correct horse"));
        assert!(!verify_password(&a, "wrong horse"));
        assert!(!verify_password("!imported-without-credentials", "x"));
    }

    #[test]
    fn accounts_without_a_usable_hash_are_checked_against_the_dummy() {
        let real = hash_password("correct horse").unwrap();
        assert_eq!(usable(Some(&real)), Some(real.as_str()));
        assert_eq!(usable(Some("!imported-without-credentials")), None);
        assert_eq!(usable(None), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caller_that_gets_no_turn_in_time_is_told_the_server_is_busy() {
        let runs = Counter::default();
        let hasher = Arc::new(PasswordHasher::new(
            1,
            Duration::from_millis(20),
            runs.clone(),
        ));
        // Hold the only turn, as a long hash would.
        let held = hasher.permits.clone().acquire_owned().await.unwrap();
        let refused = hasher.verify(None, "x".into()).await;
        assert!(matches!(refused, Err(AppError::Overloaded)), "{refused:?}");
        assert_eq!(runs.get(), 0, "nothing ran");
        drop(held);
        assert!(!hasher.verify(None, "x".into()).await.unwrap());
        assert_eq!(runs.get(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_hashes_run_at_once_than_the_concurrency() {
        let hasher = Arc::new(PasswordHasher::new(
            2,
            Duration::from_secs(60),
            Counter::default(),
        ));
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (hasher, running, peak) = (hasher.clone(), running.clone(), peak.clone());
                tokio::spawn(async move {
                    hasher
                        .run(move || {
                            use std::sync::atomic::Ordering::SeqCst;
                            let now = running.fetch_add(1, SeqCst) + 1;
                            peak.fetch_max(now, SeqCst);
                            verify_password(dummy_hash(), "x");
                            running.fetch_sub(1, SeqCst);
                        })
                        .await
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert!(peak.load(std::sync::atomic::Ordering::SeqCst) <= 2);
    }
}
