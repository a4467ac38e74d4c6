//! Fixed-window counters per key (client address, account), in memory per
//! instance. Used for failed logins now and comment submissions later.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

const WINDOW: Duration = Duration::from_secs(60);
/// Prune expired windows once the map holds this many keys.
const PRUNE_AT: usize = 10_000;

/// Counts events per key within a one-minute window.
pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// `per_minute == 0` turns the limit off.
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(retry_after_secs)` when `key` has used up its window.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(key) {
            Some((start, count)) if start.elapsed() < WINDOW && *count >= self.per_minute => {
                Err((WINDOW - start.elapsed()).as_secs().max(1))
            }
            _ => Ok(()),
        }
    }

    /// Count one event for `key`.
    pub fn record(&self, key: &str) {
        if self.per_minute == 0 {
            return;
        }
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= PRUNE_AT {
            map.retain(|_, (start, _)| start.elapsed() < WINDOW);
        }
        let entry = map.entry(key.to_string()).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }

    /// Check, and count the event if allowed: for limits on attempts.
    pub fn hit(&self, key: &str) -> Result<(), u64> {
        self.check(key)?;
        self.record(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_after_the_limit_is_refused_with_a_retry_after() {
        let rl = RateLimiter::new(3);
        for _ in 0..3 {
            assert!(rl.hit("a").is_ok());
        }
        let retry = rl.hit("a").unwrap_err();
        assert!((1..=60).contains(&retry));
        assert!(rl.hit("b").is_ok(), "keys are independent");
    }

    #[test]
    fn zero_means_unlimited() {
        let rl = RateLimiter::new(0);
        for _ in 0..1000 {
            assert!(rl.hit("a").is_ok());
        }
    }
}
