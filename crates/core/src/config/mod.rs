//! Configuration: defaults, then an optional TOML file (`--config`), then the
//! environment (`DATABASE_URL`, `BROADSHEET_*`). Validated once at start-up;
//! an invalid value stops the process with one line naming the setting.

use std::{
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
};

/// Largest request body accepted (API.md: 413 above it).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A secret string whose `Debug`/`Display` never print the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The JWT signing algorithm (pinned: tokens in any other are refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    Hs256,
    EdDsa,
    Rs256,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// The validated configuration of one process.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite://PATH?mode=rwc` or `postgres://...`.
    pub database_url: String,
    /// `BROADSHEET_BIND`: address to listen on (port 0 picks a free port).
    pub bind: SocketAddr,
    /// `BROADSHEET_JWT_SECRET`: HS256 secret, at least 32 bytes; `None` = ephemeral.
    pub jwt_secret: Option<Secret>,
    /// `BROADSHEET_SITE_URL`: public base URL of the site, no trailing slash.
    pub site_url: String,
    /// `BROADSHEET_ADMIN_EMAIL` / `BROADSHEET_ADMIN_PASSWORD`: first admin, created when no user exists.
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret>,
    /// `BROADSHEET_LOG_LEVEL`: a tracing filter such as `info` or `broadsheet=debug`.
    pub log_level: String,
    /// `BROADSHEET_LOG_FORMAT`: `human` (default) or `json`.
    pub log_format: LogFormat,
    /// `BROADSHEET_MIGRATE_ON_START`: apply pending migrations at start-up (default true).
    pub migrate_on_start: bool,
    /// `BROADSHEET_DB_MAX_CONNECTIONS`: pool size (default 16 on PostgreSQL,
    /// 4 on SQLite: each SQLite connection is a thread with its own page
    /// cache, and on a few cores more of them cost memory and speed).
    pub db_max_connections: u32,
    /// `BROADSHEET_JWT_ALGORITHM`: `HS256` (default), `EdDSA` or `RS256`.
    pub jwt_algorithm: JwtAlgorithm,
    /// `BROADSHEET_JWT_KID`: key id put in the header of tokens we sign (default `default`).
    pub jwt_kid: String,
    /// `BROADSHEET_JWT_PREVIOUS_SECRETS`: `kid=secret,...` still accepted for HS256 verification.
    pub jwt_previous_secrets: Vec<(String, Secret)>,
    /// `BROADSHEET_JWT_PRIVATE_KEY_FILE`: PEM signing key for EdDSA/RS256.
    pub jwt_private_key_file: Option<PathBuf>,
    /// `BROADSHEET_JWT_PUBLIC_KEYS`: `kid=path.pem,...` verification keys for EdDSA/RS256
    /// (must include the signing key's public half under `BROADSHEET_JWT_KID`).
    pub jwt_public_keys: Vec<(String, PathBuf)>,
    /// `BROADSHEET_JWT_ISSUER` / `BROADSHEET_JWT_AUDIENCE` (default `broadsheet`).
    pub jwt_issuer: String,
    pub jwt_audience: String,
    /// `BROADSHEET_ACCESS_TOKEN_TTL` seconds (default 900).
    pub access_token_ttl: u64,
    /// `BROADSHEET_REFRESH_TOKEN_TTL` seconds (default 30 days).
    pub refresh_token_ttl: u64,
    /// `BROADSHEET_LOGIN_FAILURES_PER_MINUTE` per client address, and per
    /// account from one address (default 5, 0 = off). Counts every password
    /// check: logins and password changes.
    pub login_failures_per_minute: u32,
    /// `BROADSHEET_LOGIN_ACCOUNT_FAILURES_PER_HOUR`: failed password checks per
    /// account from addresses that have not signed in to it before (default
    /// 100, 0 = off): a ceiling against guessing spread over many addresses.
    pub login_account_failures_per_hour: u32,
    /// `BROADSHEET_PASSWORD_HASH_CONCURRENCY`: argon2 hashes run at once
    /// (default: the number of cores).
    pub password_hash_concurrency: u32,
    /// `BROADSHEET_PASSWORD_HASH_WAIT_MS`: how long a password check waits for
    /// a turn before it is answered 503 (default 2000).
    pub password_hash_wait_ms: u32,
    /// `BROADSHEET_RATE_LIMIT_KEYS`: keys (addresses, accounts) each rate
    /// limiter keeps at most, which bounds its memory (default 50000).
    pub rate_limit_keys: u32,
    /// `BROADSHEET_TRUSTED_PROXIES`: CIDRs whose `X-Forwarded-For` is believed (none by default).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `BROADSHEET_COMMENT_MODERATION`: which comments wait for a moderator.
    pub comment_moderation: Moderation,
    /// `BROADSHEET_COMMENT_RATE_PER_MINUTE` per client address (default 5, 0 = off).
    pub comment_rate_per_minute: u32,
    /// `BROADSHEET_COMMENT_MAX_LINKS`: more links than this holds a comment (default 2).
    pub comment_max_links: u32,
    /// `BROADSHEET_COMMENT_BLOCKLIST`: comma-separated words that hold a comment.
    pub comment_blocklist: Vec<String>,
    /// `BROADSHEET_COMMENT_MAX_DEPTH`: thread levels (default 5: depths 0-4).
    pub comment_max_depth: u32,
    /// `BROADSHEET_COMMENTS_CLOSE_AFTER_DAYS`: close comments this long after publication (0 = never).
    pub comments_close_after_days: u32,
    /// `BROADSHEET_COMMENTER_TOKEN_DAYS`: how long a commenter token (the proof
    /// that lets a known commenter skip first-time moderation) stays valid (default 365).
    pub commenter_token_days: u32,
    /// `BROADSHEET_BODY_MAX_BYTES`: longest article body, in bytes (default 524288).
    pub body_max_bytes: u32,
    /// `BROADSHEET_BODY_MAX_DEPTH`: deepest nesting of quotes, lists and elements
    /// in an article body (default 64).
    pub body_max_depth: u32,
    /// `BROADSHEET_RENDER_CONCURRENCY`: bodies rendered at once (default: the number of cores).
    pub render_concurrency: u32,
    /// `BROADSHEET_RENDER_WAIT_MS`: how long a write waits for a rendering turn
    /// before it is answered 503 (default 5000).
    pub render_wait_ms: u32,
    /// `BROADSHEET_REVISION_DIFF_MAX_LINES`: the largest changed region (old plus
    /// new lines, after the lines both bodies begin and end with) a revision diff
    /// compares line by line; beyond it the region is shown as one replacement
    /// (default 5000). The diff's work grows at most with the square of this.
    pub revision_diff_max_lines: u32,
    /// `BROADSHEET_CORS_ORIGINS`: comma-separated origins allowed to call the API from a browser (none by default).
    pub cors_origins: Vec<String>,
    /// `BROADSHEET_REQUEST_TIMEOUT`: seconds a request may take before it is answered 503 (default 30).
    pub request_timeout_secs: u32,
    /// `BROADSHEET_MAX_CONCURRENT_REQUESTS`: requests served at once; more are shed with 503 (default 1024).
    pub max_concurrent_requests: u32,
    /// `BROADSHEET_SHUTDOWN_TIMEOUT`: seconds in-flight requests get to finish after SIGTERM (default 30).
    pub shutdown_timeout_secs: u32,
    /// `BROADSHEET_HEADER_READ_TIMEOUT`: seconds a client has to send a whole request head,
    /// from the connection's opening or the head's first byte (default 10).
    pub header_read_timeout_secs: u32,
    /// `BROADSHEET_KEEP_ALIVE_TIMEOUT`: seconds an idle kept-alive connection stays open
    /// (default 75; 0 closes each connection after its response).
    pub keep_alive_timeout_secs: u32,
    /// `BROADSHEET_BODY_READ_TIMEOUT`: seconds a client has to send a whole request body (default 30).
    pub body_read_timeout_secs: u32,
    /// `BROADSHEET_SEND_TIMEOUT`: seconds a client may take no part of a response before the
    /// connection is closed (default 30).
    pub send_timeout_secs: u32,
    /// `BROADSHEET_MAX_CONNECTIONS`: client connections open at once; more are closed at once (default 1024).
    pub max_connections: u32,
    /// `BROADSHEET_DB_ACQUIRE_TIMEOUT`: seconds to wait for a database connection before answering 503 (default 3).
    pub db_acquire_timeout_secs: u32,
    /// `BROADSHEET_METRICS_TOKEN`: when set, `/metrics` requires it as a bearer token.
    pub metrics_token: Option<Secret>,
    /// `BROADSHEET_RESPONSE_CACHE_MB`: memory for cached anonymous responses (default 24, 0 = off).
    pub response_cache_mb: u32,
    /// `BROADSHEET_REVISIONS_KEEP`: revisions kept per article (default 50).
    pub revisions_keep: u32,
    /// `BROADSHEET_GRAPHQL_REPLIES_*`, `_REVISIONS_MAX`, `_MAX_RESOLVED`: what
    /// answering a GraphQL document may cost in data (README "GraphQL cost of data").
    pub graphql_cost: GraphqlCost,
    /// `BROADSHEET_MAX_LIST_OFFSET`: how deep any list may be read, `page × per_page`
    /// or an offset cursor's position plus `first` (default 100,000); deeper is 422.
    pub max_list_offset: u32,
    /// `BROADSHEET_IMPORT_MAX_DEPTH`: deepest element nesting `import wordpress` reads
    /// (default 64); a deeper element stops the import there (exit code 2 or 3).
    pub import_max_depth: u32,
    /// `BROADSHEET_FEED_SIZE`: articles in each RSS/Atom feed (default 20, at most 100).
    pub feed_size: u32,
    /// `BROADSHEET_WEBHOOK_WORKER`: deliver webhooks from this instance (default true).
    pub webhook_worker: bool,
    /// `BROADSHEET_WEBHOOK_ALLOW_PRIVATE`: allow webhook URLs on private, loopback and
    /// link-local addresses (default false: refused, against SSRF).
    pub webhook_allow_private: bool,
    /// `BROADSHEET_WEBHOOK_TIMEOUT`: seconds a receiver gets to answer (default 10).
    pub webhook_timeout_secs: u32,
    /// `BROADSHEET_WEBHOOK_RETRY_BASE_MS`: first retry delay, doubled each time up to an hour (default 10000).
    pub webhook_retry_base_ms: u32,
    /// `BROADSHEET_WEBHOOK_RETRY_WINDOW`: seconds after an event that retries stop (default 86400).
    pub webhook_retry_window_secs: u32,
    /// `BROADSHEET_WEBHOOK_POLL_MS`: how often the worker looks for due deliveries (default 1000).
    pub webhook_poll_ms: u32,
    /// `BROADSHEET_GRAPHQL_*`: what one GraphQL request may hold.
    pub graphql: GraphqlLimits,
}

/// Comment moderation policy (API.md `COMMENT_MODERATION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moderation {
    /// Hold every comment.
    All,
    /// Hold comments from emails without an earlier approved comment (WordPress's default).
    FirstTime,
    /// Hold none (the link and blocklist rules still apply).
    None,
}

/// Why the configuration was refused: the setting and the reason.
#[derive(Debug, thiserror::Error)]
#[error("invalid {setting}: {message}")]
pub struct ConfigError {
    pub setting: String,
    pub message: String,
}

fn bad(setting: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.to_string(),
        message: message.into(),
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://broadsheet.db?mode=rwc";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_SITE_URL: &str = "http://localhost:8080";
pub const DEFAULT_FEED_SIZE: u32 = 20;

impl Config {
    /// A configuration with defaults for everything but the database; used by tests
    /// and as the base that files and the environment override.
    pub fn with_database(database_url: impl Into<String>) -> Self {
        let database_url = database_url.into();
        let db_max_connections = if database_url.starts_with("sqlite:") {
            4
        } else {
            16
        };
        Config {
            database_url,
            bind: DEFAULT_BIND.parse().expect("default bind address is valid"),
            jwt_secret: None,
            site_url: DEFAULT_SITE_URL.to_string(),
            admin_email: None,
            admin_password: None,
            log_level: "info".into(),
            log_format: LogFormat::Human,
            migrate_on_start: true,
            db_max_connections,
            jwt_algorithm: JwtAlgorithm::Hs256,
            jwt_kid: "default".into(),
            jwt_previous_secrets: Vec::new(),
            jwt_private_key_file: None,
            jwt_public_keys: Vec::new(),
            jwt_issuer: "broadsheet".into(),
            jwt_audience: "broadsheet".into(),
            access_token_ttl: 900,
            refresh_token_ttl: 30 * 24 * 3600,
            login_failures_per_minute: 5,
            login_account_failures_per_hour: 100,
            password_hash_concurrency: default_hash_concurrency(),
            password_hash_wait_ms: 2_000,
            rate_limit_keys: 50_000,
            trusted_proxies: Vec::new(),
            comment_moderation: Moderation::FirstTime,
            comment_rate_per_minute: 5,
            comment_max_links: 2,
            comment_blocklist: Vec::new(),
            comment_max_depth: 5,
            comments_close_after_days: 0,
            commenter_token_days: 365,
            body_max_bytes: 512 * 1024,
            body_max_depth: 64,
            render_concurrency: default_hash_concurrency(),
            render_wait_ms: 5_000,
            revision_diff_max_lines: 5_000,
            cors_origins: Vec::new(),
            request_timeout_secs: 30,
            max_concurrent_requests: 1024,
            shutdown_timeout_secs: 30,
            header_read_timeout_secs: 10,
            keep_alive_timeout_secs: 75,
            body_read_timeout_secs: 30,
            send_timeout_secs: 30,
            max_connections: 1024,
            db_acquire_timeout_secs: 3,
            metrics_token: None,
            response_cache_mb: 24,
            revisions_keep: 50,
            graphql_cost: GraphqlCost::default(),
            max_list_offset: crate::domain::pagination::DEFAULT_MAX_LIST_OFFSET,
            import_max_depth: crate::services::transfer::wxr::DEFAULT_MAX_DEPTH,
            feed_size: DEFAULT_FEED_SIZE,
            webhook_worker: true,
            webhook_allow_private: false,
            webhook_timeout_secs: 10,
            webhook_retry_base_ms: 10_000,
            webhook_retry_window_secs: 86_400,
            webhook_poll_ms: 1_000,
            graphql: GraphqlLimits::default(),
        }
    }

    /// Read defaults < TOML file < process environment, and validate.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, |key| std::env::var(key).ok())
    }

    /// Whether the configured database is SQLite.
    /// [`Config::max_list_offset`] as the pagination inputs take it.
    pub fn list_depth(&self) -> u64 {
        u64::from(self.max_list_offset)
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

mod graphql;
mod load;
mod parse;
mod raw;

pub use graphql::*;
pub use parse::*;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load_from(None, |k| map.get(k).cloned())
    }

    #[test]
    fn defaults_serve_sqlite_on_localhost_8080() {
        let cfg = load(&[]).unwrap();
        assert_eq!(cfg.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(cfg.bind.to_string(), "127.0.0.1:8080");
        assert!(cfg.migrate_on_start);
        assert!(cfg.jwt_secret.is_none());
    }

    #[test]
    fn each_bad_value_names_its_setting() {
        for (key, value) in [
            ("DATABASE_URL", "mysql://x"),
            ("BROADSHEET_BIND", "not-an-address"),
            ("BROADSHEET_JWT_SECRET", "too-short"),
            ("BROADSHEET_SITE_URL", "ftp://example.org"),
            ("BROADSHEET_LOG_FORMAT", "xml"),
            ("BROADSHEET_LOG_LEVEL", "info,[[["),
            ("BROADSHEET_MIGRATE_ON_START", "perhaps"),
            ("BROADSHEET_DB_MAX_CONNECTIONS", "0"),
            ("BROADSHEET_JWT_ALGORITHM", "none"),
            ("BROADSHEET_JWT_PREVIOUS_SECRETS", "old"),
            ("BROADSHEET_ACCESS_TOKEN_TTL", "-5"),
            ("BROADSHEET_REFRESH_TOKEN_TTL", "forever"),
            ("BROADSHEET_LOGIN_FAILURES_PER_MINUTE", "many"),
            ("BROADSHEET_LOGIN_ACCOUNT_FAILURES_PER_HOUR", "-1"),
            ("BROADSHEET_PASSWORD_HASH_CONCURRENCY", "0"),
            ("BROADSHEET_PASSWORD_HASH_WAIT_MS", "60001"),
            ("BROADSHEET_RATE_LIMIT_KEYS", "10"),
            ("BROADSHEET_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("BROADSHEET_COMMENT_MODERATION", "sometimes"),
            ("BROADSHEET_COMMENT_RATE_PER_MINUTE", "-1"),
            ("BROADSHEET_COMMENT_MAX_DEPTH", "0"),
            ("BROADSHEET_FEED_SIZE", "0"),
            ("BROADSHEET_FEED_SIZE", "101"),
            ("BROADSHEET_CORS_ORIGINS", "example.org"),
            ("BROADSHEET_HEADER_READ_TIMEOUT", "0"),
            ("BROADSHEET_KEEP_ALIVE_TIMEOUT", "-1"),
            ("BROADSHEET_BODY_READ_TIMEOUT", "0"),
            ("BROADSHEET_SEND_TIMEOUT", "forever"),
            ("BROADSHEET_MAX_CONNECTIONS", "0"),
            ("BROADSHEET_CORS_ORIGINS", "https://example.org/path"),
        ] {
            let err = load(&[(key, value)]).unwrap_err();
            assert_eq!(err.setting, key, "{key}={value} gave {err}");
        }
    }

    #[test]
    fn asymmetric_keys_need_a_private_key_and_its_public_half() {
        let err = load(&[("BROADSHEET_JWT_ALGORITHM", "EdDSA")]).unwrap_err();
        assert_eq!(err.setting, "BROADSHEET_JWT_PRIVATE_KEY_FILE");
        let err = load(&[
            ("BROADSHEET_JWT_ALGORITHM", "EdDSA"),
            ("BROADSHEET_JWT_PRIVATE_KEY_FILE", "/k.pem"),
            ("BROADSHEET_JWT_PUBLIC_KEYS", "old=/old.pem"),
        ])
        .unwrap_err();
        assert_eq!(err.setting, "BROADSHEET_JWT_PUBLIC_KEYS");
        let cfg = load(&[
            ("BROADSHEET_JWT_ALGORITHM", "EdDSA"),
            ("BROADSHEET_JWT_KID", "k2"),
            ("BROADSHEET_JWT_PRIVATE_KEY_FILE", "/k2.pem"),
            ("BROADSHEET_JWT_PUBLIC_KEYS", "k2=/k2.pub, k1=/k1.pub"),
            ("BROADSHEET_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1"),
        ])
        .unwrap();
        assert_eq!(cfg.jwt_public_keys.len(), 2);
        assert_eq!(cfg.trusted_proxies.len(), 2);
    }

    #[test]
    fn admin_email_and_password_come_together() {
        let err = load(&[("BROADSHEET_ADMIN_EMAIL", "a@example.org")]).unwrap_err();
        assert_eq!(err.setting, "BROADSHEET_ADMIN_PASSWORD");
        let cfg = load(&[
            ("BROADSHEET_ADMIN_EMAIL", "a@example.org"),
            ("BROADSHEET_ADMIN_PASSWORD", "correct horse"),
        ])
        .unwrap();
        assert_eq!(cfg.admin_email.as_deref(), Some("a@example.org"));
        assert!(!format!("{cfg:?}").contains("correct horse"));
    }

    #[test]
    fn toml_file_is_read_and_environment_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broadsheet.toml");
        std::fs::write(
            &path,
            "bind = \"127.0.0.1:9000\"\nsite_url = \"https://example.org/\"\ndb_max_connections = 6\n",
        )
        .unwrap();
        let cfg = Config::load_from(Some(&path), |k| {
            (k == "BROADSHEET_BIND").then(|| "127.0.0.1:9100".to_string())
        })
        .unwrap();
        assert_eq!(cfg.bind.port(), 9100);
        assert_eq!(cfg.site_url, "https://example.org");
        assert_eq!(cfg.db_max_connections, 6);

        std::fs::write(&path, "colour = \"blue\"\n").unwrap();
        let err = Config::load_from(Some(&path), |_| None).unwrap_err();
        assert_eq!(err.setting, "--config");
        assert!(err.message.contains("colour"), "{err}");
    }

    #[test]
    fn passwords_are_redacted_from_database_urls() {
        assert_eq!(
            redact_url("postgres://bob:hunter2@db:5432/x"),
            "postgres://bob:***@db:5432/x"
        );
        assert_eq!(redact_url("sqlite://a.db"), "sqlite://a.db");
    }
}
