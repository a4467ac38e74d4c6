//! How many password guesses anyone gets: one throttle for every endpoint
//! that checks a password (login and change of password, on both APIs).
//!
//! An attempt is counted before any hashing, under three keys:
//!
//! - the client address (an IPv6 client by its /64, which one host
//!   usually holds whole): `BROADSHEET_LOGIN_FAILURES_PER_MINUTE`, across
//!   all accounts, so one address cannot spray many accounts;
//! - the account *and* the client address: the same limit, so an attacker
//!   elsewhere cannot lock the real user out (before, five failures from
//!   anywhere locked the account for everyone for a minute);
//! - the account from addresses that have not signed in to it before:
//!   `BROADSHEET_LOGIN_ACCOUNT_FAILURES_PER_HOUR`, a ceiling against
//!   guessing spread over many addresses. An address where the right
//!   password was given (remembered for the refresh-token lifetime) is not
//!   held by this ceiling, so during such an attack the owner still signs in
//!   from where they usually do.
//!
//! A right password gives its attempt back (the limits count failures); so
//! does an attempt that never reached argon2 (the server was busy). The
//! account is keyed by its email trimmed and lower-cased (at most 254
//! characters; longer ones are refused before any of this).

use std::{net::IpAddr, sync::Arc, time::Duration};

use sha2::{Digest, Sha256};

use crate::{
    error::AppError,
    ratelimit::{Limiter, RateLimiter},
};

/// The longest email there is (RFC 5321: 254 octets for a path).
pub const MAX_EMAIL_LEN: usize = 254;

/// The account part of a limiter key: trimmed, lower-cased, length-capped.
pub fn account_key(email: &str) -> String {
    email
        .trim()
        .to_lowercase()
        .chars()
        .take(MAX_EMAIL_LEN)
        .collect()
}

/// The address part of a limiter key: an IPv4 address (also when written
/// as IPv4-mapped IPv6), or the /64 an IPv6 address belongs to (a single
/// host is commonly given a whole /64, and could otherwise rotate through
/// 2^64 addresses to escape a per-address limit).
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The login limits of one instance (see the module documentation).
pub struct LoginThrottle {
    /// `addr:<address>` and `acct:<email>|<address>`, per minute.
    per_minute: Arc<dyn Limiter>,
    /// `acct:<email>`, per hour, for addresses not known for the account.
    per_account: Arc<dyn Limiter>,
    /// (account, address) pairs where the right password was given.
    known: moka::sync::Cache<[u8; 16], ()>,
}

/// A counted attempt. Dropping it leaves it counted (a wrong password);
/// [`LoginThrottle::succeeded`] and [`LoginThrottle::void`] give it back.
#[must_use = "an attempt stays counted unless given back"]
pub struct Attempt {
    account: String,
    address: String,
    counted: Vec<(Which, String)>,
}

#[derive(Clone, Copy)]
enum Which {
    PerMinute,
    PerAccount,
}

fn known_key(account: &str, address: &str) -> [u8; 16] {
    let full = Sha256::digest(format!("{account}|{address}").as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

impl LoginThrottle {
    /// `per_minute` failures per address and per account and address,
    /// `per_account_hour` failures per account from unknown addresses (0 turns
    /// either off); each limiter keeps at most `max_keys` keys, and a known
    /// address is remembered for `known_for`.
    pub fn new(per_minute: u32, per_account_hour: u32, max_keys: u64, known_for: Duration) -> Self {
        LoginThrottle {
            per_minute: Arc::new(RateLimiter::new(per_minute, max_keys)),
            per_account: Arc::new(RateLimiter::with_window(
                per_account_hour,
                Duration::from_secs(3600),
                max_keys,
            )),
            known: moka::sync::Cache::builder()
                .max_capacity(max_keys)
                .time_to_live(known_for)
                .build(),
        }
    }

    fn limiter(&self, which: Which) -> &dyn Limiter {
        match which {
            Which::PerMinute => &*self.per_minute,
            Which::PerAccount => &*self.per_account,
        }
    }

    /// Count one password check of `email`'s account from `client`, before
    /// it is made: 429 `rate_limited` (nothing counted) over any limit.
    pub async fn begin(&self, email: &str, client: IpAddr) -> Result<Attempt, AppError> {
        let account = account_key(email);
        let address = address_key(client);
        let mut keys = vec![
            (Which::PerMinute, format!("addr:{address}")),
            (Which::PerMinute, format!("acct:{account}|{address}")),
        ];
        if !self.known.contains_key(&known_key(&account, &address)) {
            keys.push((Which::PerAccount, format!("acct:{account}")));
        }
        let mut attempt = Attempt {
            account,
            address,
            counted: Vec::with_capacity(keys.len()),
        };
        for (which, key) in keys {
            if let Err(retry) = self.limiter(which).hit(&key).await {
                self.void(attempt).await;
                return Err(retry.into());
            }
            attempt.counted.push((which, key));
        }
        Ok(attempt)
    }

    /// The password was right: the attempt does not count, and the address
    /// is known for the account from now on.
    pub async fn succeeded(&self, attempt: Attempt) {
        self.known
            .insert(known_key(&attempt.account, &attempt.address), ());
        self.void(attempt).await;
    }

    /// No password was checked after all (the server was busy, the database
    /// failed): the attempt does not count.
    pub async fn void(&self, attempt: Attempt) {
        for (which, key) in attempt.counted.iter().rev() {
            self.limiter(*which).undo(key).await;
        }
    }

    /// Keys held by the per-minute and per-account limiters (`/metrics`).
    pub fn keys(&self) -> [(&'static str, Option<u64>); 2] {
        [
            ("login", self.per_minute.keys()),
            ("login_account", self.per_account.keys()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn accounts_are_normalised_and_ipv6_clients_keyed_by_their_slash_64() {
        assert_eq!(account_key("  Editor@Example.ORG "), "editor@example.org");
        assert_eq!(account_key(&"a".repeat(10_000)).len(), MAX_EMAIL_LEN);
        assert_eq!(address_key(ip("203.0.113.7")), "203.0.113.7");
        assert_eq!(address_key(ip("::ffff:203.0.113.7")), "203.0.113.7");
        assert_eq!(
            address_key(ip("2001:db8:1:2:aaaa::1")),
            address_key(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            address_key(ip("2001:db8:1:2::1")),
            address_key(ip("2001:db8:1:3::1"))
        );
    }

    #[tokio::test]
    async fn failures_elsewhere_do_not_lock_the_owner_out() {
        let t = LoginThrottle::new(3, 0, 1_000, Duration::from_secs(60));
        for _ in 0..3 {
            let _ = t.begin("a@x.test", ip("198.51.100.1")).await.unwrap();
        }
        assert!(t.begin("a@x.test", ip("198.51.100.1")).await.is_err());
        assert!(
            t.begin("b@x.test", ip("198.51.100.1")).await.is_err(),
            "the address is spent"
        );
        let owner = t.begin("A@x.test", ip("203.0.113.5")).await.unwrap();
        t.succeeded(owner).await;
    }

    #[tokio::test]
    async fn the_account_ceiling_holds_unknown_addresses_but_not_known_ones() {
        let t = LoginThrottle::new(5, 2, 1_000, Duration::from_secs(60));
        let home = ip("203.0.113.5");
        let ok = t.begin("a@x.test", home).await.unwrap();
        t.succeeded(ok).await;
        for i in 0..2 {
            let _ = t
                .begin("a@x.test", ip(&format!("198.51.100.{i}")))
                .await
                .unwrap();
        }
        let refused = t.begin("a@x.test", ip("198.51.100.9")).await;
        assert!(matches!(refused, Err(AppError::RateLimited { .. })));
        assert!(t.begin("a@x.test", home).await.is_ok(), "home is known");
    }

    #[tokio::test]
    async fn a_refused_attempt_gives_back_what_it_had_counted() {
        let t = LoginThrottle::new(2, 0, 1_000, Duration::from_secs(60));
        let a = ip("198.51.100.1");
        let _ = t.begin("one@x.test", a).await.unwrap();
        let _ = t.begin("one@x.test", a).await.unwrap();
        // The address is spent: the refusal must not have counted anything.
        assert!(t.begin("two@x.test", a).await.is_err());
        let voided = t.begin("two@x.test", ip("198.51.100.2")).await.unwrap();
        t.void(voided).await;
        let _ = t.begin("two@x.test", ip("198.51.100.2")).await.unwrap();
        let _ = t.begin("two@x.test", ip("198.51.100.2")).await.unwrap();
        assert!(t.begin("two@x.test", ip("198.51.100.2")).await.is_err());
    }
}
