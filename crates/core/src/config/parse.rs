//! Parsers and checks shared by the settings.

use std::{net::SocketAddr, str::FromStr};

use super::*;

pub(super) fn validate_database_url(url: &str) -> Result<(), ConfigError> {
    let ok = url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://");
    if ok {
        Ok(())
    } else {
        Err(bad(
            "DATABASE_URL",
            format!(
                "{} is neither sqlite://PATH nor postgres://...",
                redact_url(url)
            ),
        ))
    }
}

/// A database URL with any password replaced by `***`, safe to print.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

pub(super) fn resolve_bind(value: &str) -> Option<SocketAddr> {
    if let Ok(addr) = SocketAddr::from_str(value) {
        return Some(addr);
    }
    // Accept `localhost:8080` too.
    let (host, port) = value.rsplit_once(':')?;
    if host == "localhost" {
        return Some(SocketAddr::from(([127, 0, 0, 1], port.parse().ok()?)));
    }
    None
}

/// `a=x,b=y` into pairs; every item needs a non-empty name and value.
pub(super) fn parse_pairs(setting: &str, v: &str) -> Result<Vec<(String, String)>, ConfigError> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| match item.split_once('=') {
            Some((k, val)) if !k.trim().is_empty() && !val.trim().is_empty() => {
                Ok((k.trim().to_string(), val.trim().to_string()))
            }
            _ => Err(bad(
                setting,
                format!("{item:?} is not of the form name=value"),
            )),
        })
        .collect()
}

/// One argon2 hash per core at once: more only queue for the same cores
/// while each holds its 19 MB.
pub(super) fn default_hash_concurrency() -> u32 {
    std::thread::available_parallelism()
        .map(|n| u32::try_from(n.get()).unwrap_or(1024).min(1024))
        .unwrap_or(2)
}

pub(super) fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

pub(super) fn parse_in_range(v: &str, min: u32, max: u32) -> Option<u32> {
    v.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
}
