//! Fixed-window counters per key (a client address, an account), kept in
//! memory per instance: failed password checks and comment submissions.
//!
//! What the rest of the code relies on is the small [`Limiter`] interface:
//! `hit` counts one attempt atomically *before* the work it guards (so two
//! hundred concurrent attempts cannot all pass a check made before any of
//! them is counted) and `undo` gives one back when the attempt turned out
//! not to count (the password was right, nothing was checked). A store
//! shared by several instances (PostgreSQL, Redis) can implement the same
//! interface later; it is asynchronous for that reason.
//!
//! The in-memory [`RateLimiter`] keeps its windows in one map under a
//! fixed-size digest of each key, at most `max_keys` of them (under 90
//! bytes each: 100,000 keys measured 8.7 MB, where a `moka` cache took 50
//! MB). When the map is full, expired windows go first, then keys seen only
//! once (what a flood of made-up keys consists of), then arbitrary ones
//! down to nine tenths: the counter of an attacked account or a busy
//! attacker survives a flood, and each prune makes room for a tenth of the
//! map, so its cost is spread over that many new keys.

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::Mutex,
    time::{Duration, Instant},
};

use sha2::{Digest, Sha256};

/// How long to wait before the next attempt can pass, in whole seconds (≥ 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

impl From<RetryAfter> for crate::error::AppError {
    fn from(r: RetryAfter) -> Self {
        crate::error::AppError::RateLimited {
            retry_after_secs: r.0,
        }
    }
}

/// A boxed future, so that [`Limiter`] can be used as `dyn Limiter`.
pub type LimitFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Counts attempts per key against a limit.
pub trait Limiter: Send + Sync {
    /// Count one attempt for `key`, or refuse it (nothing counted) when the
    /// key's window is used up. Check and count are one atomic step.
    fn hit<'a>(&'a self, key: &'a str) -> LimitFuture<'a, Result<(), RetryAfter>>;
    /// Give back one attempt counted by [`Limiter::hit`] in the current window.
    fn undo<'a>(&'a self, key: &'a str) -> LimitFuture<'a, ()>;
    /// How many keys are held, when the store can tell cheaply (`/metrics`).
    fn keys(&self) -> Option<u64> {
        None
    }
}

/// One key's current window.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// Milliseconds since the limiter's `epoch`.
    start_ms: u64,
    count: u32,
}

/// The in-memory [`Limiter`]: `limit` attempts per key per `window`.
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    max_keys: usize,
    epoch: Instant,
    windows: Mutex<HashMap<[u8; 16], Window>>,
}

/// Keys are stored as a 128-bit digest: every entry has the same small size
/// however long the key a client managed to send.
fn digest(key: &str) -> [u8; 16] {
    let full = Sha256::digest(key.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

impl RateLimiter {
    /// `limit` events per minute; `limit == 0` turns the limit off. At most
    /// `max_keys` keys are kept.
    pub fn new(limit: u32, max_keys: u64) -> Self {
        Self::with_window(limit, Duration::from_secs(60), max_keys)
    }

    /// `limit` events per `window`; `limit == 0` turns the limit off.
    pub fn with_window(limit: u32, window: Duration, max_keys: u64) -> Self {
        RateLimiter {
            limit,
            window,
            max_keys: usize::try_from(max_keys).unwrap_or(usize::MAX).max(10),
            epoch: Instant::now(),
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn window_ms(&self) -> u64 {
        u64::try_from(self.window.as_millis()).unwrap_or(u64::MAX)
    }

    /// Make room for a tenth of `max_keys` (see the module documentation).
    fn prune(&self, map: &mut HashMap<[u8; 16], Window>, now_ms: u64) {
        let room = self.max_keys - self.max_keys / 10;
        let window_ms = self.window_ms();
        map.retain(|_, w| now_ms.saturating_sub(w.start_ms) < window_ms);
        if map.len() >= room {
            map.retain(|_, w| w.count > 1);
        }
        if map.len() >= room {
            let excess = map.len() - room;
            let victims: Vec<[u8; 16]> = map.keys().take(excess).copied().collect();
            for key in victims {
                map.remove(&key);
            }
        }
    }

    /// Count one event for `key`, or `Err(retry_after_secs)` (nothing
    /// counted) when the key has used up its window.
    pub fn hit(&self, key: &str) -> Result<(), u64> {
        if self.limit == 0 {
            return Ok(());
        }
        let key = digest(key);
        let now_ms = self.now_ms();
        let window_ms = self.window_ms();
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.max_keys && !map.contains_key(&key) {
            self.prune(&mut map, now_ms);
        }
        let w = map.entry(key).or_insert(Window {
            start_ms: now_ms,
            count: 0,
        });
        let elapsed = now_ms.saturating_sub(w.start_ms);
        if elapsed >= window_ms {
            *w = Window {
                start_ms: now_ms,
                count: 0,
            };
        }
        if w.count >= self.limit {
            let left_ms = window_ms.saturating_sub(now_ms.saturating_sub(w.start_ms));
            return Err(left_ms.div_ceil(1000).max(1));
        }
        w.count += 1;
        Ok(())
    }

    /// Give back one event counted by [`RateLimiter::hit`] in the current window.
    pub fn undo(&self, key: &str) {
        if self.limit == 0 {
            return;
        }
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = map.get_mut(&digest(key)) {
            w.count = w.count.saturating_sub(1);
        }
    }

    /// Keys held now (expired ones included until the next prune).
    pub fn len(&self) -> u64 {
        self.windows.lock().unwrap_or_else(|e| e.into_inner()).len() as u64
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Limiter for RateLimiter {
    fn hit<'a>(&'a self, key: &'a str) -> LimitFuture<'a, Result<(), RetryAfter>> {
        Box::pin(async move { RateLimiter::hit(self, key).map_err(RetryAfter) })
    }

    fn undo<'a>(&'a self, key: &'a str) -> LimitFuture<'a, ()> {
        Box::pin(async move { RateLimiter::undo(self, key) })
    }

    fn keys(&self) -> Option<u64> {
        Some(self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_after_the_limit_is_refused_with_a_retry_after() {
        let rl = RateLimiter::new(3, 1_000);
        for _ in 0..3 {
            assert!(rl.hit("a").is_ok());
        }
        let retry = rl.hit("a").unwrap_err();
        assert!((1..=60).contains(&retry));
        assert!(rl.hit("b").is_ok(), "keys are independent");
    }

    #[test]
    fn zero_means_unlimited() {
        let rl = RateLimiter::new(0, 1_000);
        for _ in 0..1000 {
            assert!(rl.hit("a").is_ok());
        }
        assert!(rl.is_empty(), "an unlimited limiter keeps nothing");
    }

    #[test]
    fn an_undone_event_frees_its_place() {
        let rl = RateLimiter::new(2, 1_000);
        rl.hit("a").unwrap();
        rl.hit("a").unwrap();
        rl.undo("a");
        assert!(rl.hit("a").is_ok());
        assert!(rl.hit("a").is_err());
        rl.undo("never seen");
        assert_eq!(rl.len(), 1, "undo creates no key");
    }

    #[test]
    fn concurrent_hits_never_pass_more_than_the_limit() {
        let rl = std::sync::Arc::new(RateLimiter::new(5, 1_000));
        let passed: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..16)
                .map(|_| {
                    let rl = rl.clone();
                    s.spawn(move || (0..50).filter(|_| rl.hit("one").is_ok()).count())
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(passed, 5);
    }

    #[test]
    fn memory_stays_bounded_however_many_and_long_the_keys() {
        let rl = RateLimiter::new(5, 1_000);
        let long = "x".repeat(10_000);
        for i in 0..20_000 {
            let _ = rl.hit(&format!("{long}{i}"));
        }
        assert!(rl.len() <= 1_000, "{} keys kept", rl.len());
    }

    #[test]
    fn a_flood_of_new_keys_does_not_reset_a_spent_key() {
        let rl = RateLimiter::new(5, 1_000);
        for _ in 0..5 {
            rl.hit("attacked").unwrap();
        }
        for i in 0..100_000 {
            let _ = rl.hit(&format!("noise-{i}"));
        }
        assert!(
            rl.hit("attacked").is_err(),
            "the spent key survived the flood"
        );
    }

    #[test]
    fn a_window_ends_and_the_key_starts_over() {
        let rl = RateLimiter::with_window(1, Duration::from_millis(50), 1_000);
        rl.hit("a").unwrap();
        assert_eq!(rl.hit("a"), Err(1), "retry-after is at least a second");
        std::thread::sleep(Duration::from_millis(80));
        assert!(rl.hit("a").is_ok());
    }
}
