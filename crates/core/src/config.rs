//! Configuration: defaults, then an optional TOML file (`--config`), then the
//! environment (`DATABASE_URL`, `BROADSHEET_*`). Validated once at start-up;
//! an invalid value stops the process with one line naming the setting.

use std::{
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
    str::FromStr,
};

use serde::Deserialize;

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

/// What one GraphQL request may hold, checked before async-graphql parses,
/// validates or runs it (README "GraphQL documents and caching").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphqlLimits {
    /// `BROADSHEET_GRAPHQL_MAX_BATCH`: operations in one batched request (default 10).
    pub max_batch: u32,
    /// `BROADSHEET_GRAPHQL_MAX_QUERY_BYTES`: bytes of one document (default 32768).
    pub max_query_bytes: u32,
    /// `BROADSHEET_GRAPHQL_MAX_TOKENS`: lexical tokens of one document (default 1000).
    pub max_tokens: u32,
    /// `BROADSHEET_GRAPHQL_MAX_NESTING`: brackets open at once in a document, and
    /// nesting of the variables' JSON (default 32).
    pub max_nesting: u32,
    /// `BROADSHEET_GRAPHQL_MAX_ALIASES`: aliased fields in one document (default 15).
    pub max_aliases: u32,
    /// `BROADSHEET_GRAPHQL_MAX_DIRECTIVES`: directives in one document (default 50).
    pub max_directives: u32,
    /// `BROADSHEET_GRAPHQL_MAX_SPREADS`: fragment spreads written in one document (default 100).
    pub max_spreads: u32,
    /// `BROADSHEET_GRAPHQL_MAX_DEPTH`: fields nested in one another, fragments
    /// flattened (default 16; GraphiQL's introspection query needs 13).
    pub max_depth: u32,
    /// `BROADSHEET_GRAPHQL_MAX_COST`: fields selected once every fragment is
    /// flattened, each counted once per use (default 5000).
    pub max_cost: u32,
}

impl Default for GraphqlLimits {
    fn default() -> Self {
        GraphqlLimits {
            max_batch: 10,
            max_query_bytes: 32_768,
            max_tokens: 1_000,
            max_nesting: 32,
            max_aliases: 15,
            max_directives: 50,
            max_spreads: 100,
            max_depth: 16,
            max_cost: 5_000,
        }
    }
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

/// The raw, unvalidated settings as read from the TOML file; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    database_url: Option<String>,
    bind: Option<String>,
    jwt_secret: Option<String>,
    site_url: Option<String>,
    admin_email: Option<String>,
    admin_password: Option<String>,
    log_level: Option<String>,
    log_format: Option<String>,
    migrate_on_start: Option<toml::Value>,
    db_max_connections: Option<toml::Value>,
    jwt_algorithm: Option<String>,
    jwt_kid: Option<String>,
    jwt_previous_secrets: Option<String>,
    jwt_private_key_file: Option<String>,
    jwt_public_keys: Option<String>,
    jwt_issuer: Option<String>,
    jwt_audience: Option<String>,
    access_token_ttl: Option<toml::Value>,
    refresh_token_ttl: Option<toml::Value>,
    login_failures_per_minute: Option<toml::Value>,
    login_account_failures_per_hour: Option<toml::Value>,
    password_hash_concurrency: Option<toml::Value>,
    password_hash_wait_ms: Option<toml::Value>,
    rate_limit_keys: Option<toml::Value>,
    trusted_proxies: Option<String>,
    comment_moderation: Option<String>,
    comment_rate_per_minute: Option<toml::Value>,
    comment_max_links: Option<toml::Value>,
    comment_blocklist: Option<String>,
    comment_max_depth: Option<toml::Value>,
    comments_close_after_days: Option<toml::Value>,
    commenter_token_days: Option<toml::Value>,
    body_max_bytes: Option<toml::Value>,
    body_max_depth: Option<toml::Value>,
    render_concurrency: Option<toml::Value>,
    render_wait_ms: Option<toml::Value>,
    revision_diff_max_lines: Option<toml::Value>,
    cors_origins: Option<String>,
    request_timeout: Option<toml::Value>,
    max_concurrent_requests: Option<toml::Value>,
    shutdown_timeout: Option<toml::Value>,
    header_read_timeout: Option<toml::Value>,
    keep_alive_timeout: Option<toml::Value>,
    body_read_timeout: Option<toml::Value>,
    send_timeout: Option<toml::Value>,
    max_connections: Option<toml::Value>,
    db_acquire_timeout: Option<toml::Value>,
    metrics_token: Option<String>,
    response_cache_mb: Option<toml::Value>,
    revisions_keep: Option<toml::Value>,
    graphql_replies_default: Option<toml::Value>,
    graphql_replies_max: Option<toml::Value>,
    graphql_revisions_max: Option<toml::Value>,
    graphql_max_resolved: Option<toml::Value>,
    max_list_offset: Option<toml::Value>,
    import_max_depth: Option<toml::Value>,
    feed_size: Option<toml::Value>,
    webhook_worker: Option<toml::Value>,
    webhook_allow_private: Option<toml::Value>,
    webhook_timeout: Option<toml::Value>,
    webhook_retry_base_ms: Option<toml::Value>,
    webhook_retry_window: Option<toml::Value>,
    webhook_poll_ms: Option<toml::Value>,
    graphql_max_batch: Option<toml::Value>,
    graphql_max_query_bytes: Option<toml::Value>,
    graphql_max_tokens: Option<toml::Value>,
    graphql_max_nesting: Option<toml::Value>,
    graphql_max_aliases: Option<toml::Value>,
    graphql_max_directives: Option<toml::Value>,
    graphql_max_spreads: Option<toml::Value>,
    graphql_max_depth: Option<toml::Value>,
    graphql_max_cost: Option<toml::Value>,
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

    /// Like [`Config::load`] with an injectable environment (for unit tests).
    pub fn load_from(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let raw = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| bad("--config", format!("cannot read {}: {e}", path.display())))?;
                toml::from_str::<RawConfig>(&text).map_err(|e| {
                    bad(
                        "--config",
                        format!("{}: {}", path.display(), e.message().trim()),
                    )
                })?
            }
            None => RawConfig::default(),
        };
        // Environment wins over the file; empty variables count as unset.
        let env = |key: &str| env(key).filter(|v| !v.trim().is_empty());
        let toml_scalar = |v: Option<toml::Value>| {
            v.map(|v| match v {
                toml::Value::String(s) => s,
                other => other.to_string(),
            })
        };

        let mut cfg = Config::with_database(
            env("DATABASE_URL")
                .or(raw.database_url)
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
        );
        validate_database_url(&cfg.database_url)?;

        if let Some(bind) = env("BROADSHEET_BIND").or(raw.bind) {
            cfg.bind = resolve_bind(&bind).ok_or_else(|| {
                bad(
                    "BROADSHEET_BIND",
                    format!("{bind:?} is not an address like 127.0.0.1:8080"),
                )
            })?;
        }
        if let Some(secret) = env("BROADSHEET_JWT_SECRET").or(raw.jwt_secret) {
            if secret.len() < 32 {
                return Err(bad(
                    "BROADSHEET_JWT_SECRET",
                    format!("must be at least 32 bytes, got {}", secret.len()),
                ));
            }
            cfg.jwt_secret = Some(Secret::new(secret));
        }
        if let Some(site) = env("BROADSHEET_SITE_URL").or(raw.site_url) {
            let site = site.trim_end_matches('/').to_string();
            if !(site.starts_with("http://") || site.starts_with("https://"))
                || site.len() <= "https://".len()
            {
                return Err(bad(
                    "BROADSHEET_SITE_URL",
                    format!("{site:?} is not an http(s) URL"),
                ));
            }
            cfg.site_url = site;
        }
        cfg.admin_email = env("BROADSHEET_ADMIN_EMAIL").or(raw.admin_email);
        cfg.admin_password = env("BROADSHEET_ADMIN_PASSWORD")
            .or(raw.admin_password)
            .map(Secret::new);
        match (&cfg.admin_email, &cfg.admin_password) {
            (Some(email), Some(_)) if !email.contains('@') => {
                return Err(bad(
                    "BROADSHEET_ADMIN_EMAIL",
                    format!("{email:?} is not an email address"),
                ));
            }
            (Some(_), None) => {
                return Err(bad(
                    "BROADSHEET_ADMIN_PASSWORD",
                    "must be set together with BROADSHEET_ADMIN_EMAIL",
                ));
            }
            (None, Some(_)) => {
                return Err(bad(
                    "BROADSHEET_ADMIN_EMAIL",
                    "must be set together with BROADSHEET_ADMIN_PASSWORD",
                ));
            }
            _ => {}
        }
        if let Some(pw) = &cfg.admin_password
            && pw.expose().chars().count() < 8
        {
            return Err(bad(
                "BROADSHEET_ADMIN_PASSWORD",
                "must be at least 8 characters",
            ));
        }
        if let Some(level) = env("BROADSHEET_LOG_LEVEL").or(raw.log_level) {
            tracing_subscriber::EnvFilter::try_new(&level)
                .map_err(|e| bad("BROADSHEET_LOG_LEVEL", format!("{level:?}: {e}")))?;
            cfg.log_level = level;
        }
        if let Some(format) = env("BROADSHEET_LOG_FORMAT").or(raw.log_format) {
            cfg.log_format = match format.to_ascii_lowercase().as_str() {
                "human" | "text" | "pretty" => LogFormat::Human,
                "json" => LogFormat::Json,
                _ => {
                    return Err(bad(
                        "BROADSHEET_LOG_FORMAT",
                        format!("{format:?} is not one of human, json"),
                    ));
                }
            };
        }
        for (key, file_value, slot) in [
            (
                "BROADSHEET_WEBHOOK_WORKER",
                raw.webhook_worker,
                &mut cfg.webhook_worker,
            ),
            (
                "BROADSHEET_WEBHOOK_ALLOW_PRIVATE",
                raw.webhook_allow_private,
                &mut cfg.webhook_allow_private,
            ),
        ] {
            if let Some(v) = env(key).or(toml_scalar(file_value)) {
                *slot = parse_bool(&v)
                    .ok_or_else(|| bad(key, format!("{v:?} is not true or false")))?;
            }
        }
        if let Some(v) = env("BROADSHEET_MIGRATE_ON_START").or(toml_scalar(raw.migrate_on_start)) {
            cfg.migrate_on_start = parse_bool(&v).ok_or_else(|| {
                bad(
                    "BROADSHEET_MIGRATE_ON_START",
                    format!("{v:?} is not true or false"),
                )
            })?;
        }
        if let Some(v) =
            env("BROADSHEET_DB_MAX_CONNECTIONS").or(toml_scalar(raw.db_max_connections))
        {
            cfg.db_max_connections = parse_in_range(&v, 1, 1000).ok_or_else(|| {
                bad(
                    "BROADSHEET_DB_MAX_CONNECTIONS",
                    format!("{v:?} is not a whole number from 1 to 1000"),
                )
            })?;
        }
        if let Some(v) = env("BROADSHEET_JWT_ALGORITHM").or(raw.jwt_algorithm) {
            cfg.jwt_algorithm = match v.to_ascii_uppercase().as_str() {
                "HS256" => JwtAlgorithm::Hs256,
                "EDDSA" => JwtAlgorithm::EdDsa,
                "RS256" => JwtAlgorithm::Rs256,
                _ => {
                    return Err(bad(
                        "BROADSHEET_JWT_ALGORITHM",
                        format!("{v:?} is not one of HS256, EdDSA, RS256"),
                    ));
                }
            };
        }
        if let Some(v) = env("BROADSHEET_JWT_KID").or(raw.jwt_kid) {
            cfg.jwt_kid = v;
        }
        if let Some(v) = env("BROADSHEET_JWT_PREVIOUS_SECRETS").or(raw.jwt_previous_secrets) {
            for (kid, secret) in parse_pairs("BROADSHEET_JWT_PREVIOUS_SECRETS", &v)? {
                if secret.len() < 32 {
                    return Err(bad(
                        "BROADSHEET_JWT_PREVIOUS_SECRETS",
                        format!("the secret for {kid:?} must be at least 32 bytes"),
                    ));
                }
                cfg.jwt_previous_secrets.push((kid, Secret::new(secret)));
            }
        }
        cfg.jwt_private_key_file = env("BROADSHEET_JWT_PRIVATE_KEY_FILE")
            .or(raw.jwt_private_key_file)
            .map(PathBuf::from);
        if let Some(v) = env("BROADSHEET_JWT_PUBLIC_KEYS").or(raw.jwt_public_keys) {
            cfg.jwt_public_keys = parse_pairs("BROADSHEET_JWT_PUBLIC_KEYS", &v)?
                .into_iter()
                .map(|(k, p)| (k, PathBuf::from(p)))
                .collect();
        }
        if cfg.jwt_algorithm != JwtAlgorithm::Hs256 {
            if cfg.jwt_private_key_file.is_none() {
                return Err(bad(
                    "BROADSHEET_JWT_PRIVATE_KEY_FILE",
                    "is required with an EdDSA or RS256 BROADSHEET_JWT_ALGORITHM",
                ));
            }
            if !cfg.jwt_public_keys.iter().any(|(k, _)| *k == cfg.jwt_kid) {
                return Err(bad(
                    "BROADSHEET_JWT_PUBLIC_KEYS",
                    format!(
                        "must include the signing key's public half as {}=PATH",
                        cfg.jwt_kid
                    ),
                ));
            }
        }
        if let Some(v) = env("BROADSHEET_JWT_ISSUER").or(raw.jwt_issuer) {
            cfg.jwt_issuer = v;
        }
        if let Some(v) = env("BROADSHEET_JWT_AUDIENCE").or(raw.jwt_audience) {
            cfg.jwt_audience = v;
        }
        if let Some(v) = env("BROADSHEET_ACCESS_TOKEN_TTL").or(toml_scalar(raw.access_token_ttl)) {
            cfg.access_token_ttl = parse_in_range(&v, 10, 86_400).ok_or_else(|| {
                bad(
                    "BROADSHEET_ACCESS_TOKEN_TTL",
                    format!("{v:?} is not a number of seconds from 10 to 86400"),
                )
            })? as u64;
        }
        if let Some(v) = env("BROADSHEET_REFRESH_TOKEN_TTL").or(toml_scalar(raw.refresh_token_ttl))
        {
            cfg.refresh_token_ttl = parse_in_range(&v, 60, 366 * 86_400).ok_or_else(|| {
                bad(
                    "BROADSHEET_REFRESH_TOKEN_TTL",
                    format!("{v:?} is not a number of seconds from 60 to 31622400"),
                )
            })? as u64;
        }
        if let Some(v) = env("BROADSHEET_LOGIN_FAILURES_PER_MINUTE")
            .or(toml_scalar(raw.login_failures_per_minute))
        {
            cfg.login_failures_per_minute = parse_in_range(&v, 0, 100_000).ok_or_else(|| {
                bad(
                    "BROADSHEET_LOGIN_FAILURES_PER_MINUTE",
                    format!("{v:?} is not a whole number (0 turns the limit off)"),
                )
            })?;
        }
        let password_limits: [(&str, Option<toml::Value>, &mut u32, u32, u32); 4] = [
            (
                "BROADSHEET_LOGIN_ACCOUNT_FAILURES_PER_HOUR",
                raw.login_account_failures_per_hour,
                &mut cfg.login_account_failures_per_hour,
                0,
                1_000_000,
            ),
            (
                "BROADSHEET_PASSWORD_HASH_CONCURRENCY",
                raw.password_hash_concurrency,
                &mut cfg.password_hash_concurrency,
                1,
                1_024,
            ),
            (
                "BROADSHEET_PASSWORD_HASH_WAIT_MS",
                raw.password_hash_wait_ms,
                &mut cfg.password_hash_wait_ms,
                0,
                60_000,
            ),
            (
                "BROADSHEET_RATE_LIMIT_KEYS",
                raw.rate_limit_keys,
                &mut cfg.rate_limit_keys,
                1_000,
                10_000_000,
            ),
        ];
        for (key, file_value, slot, min, max) in password_limits {
            if let Some(v) = env(key).or(toml_scalar(file_value)) {
                *slot = parse_in_range(&v, min, max).ok_or_else(|| {
                    bad(
                        key,
                        format!("{v:?} is not a whole number from {min} to {max}"),
                    )
                })?;
            }
        }
        if let Some(v) = env("BROADSHEET_TRUSTED_PROXIES").or(raw.trusted_proxies) {
            for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let net = item
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        bad(
                            "BROADSHEET_TRUSTED_PROXIES",
                            format!("{item:?} is not a CIDR such as 10.0.0.0/8"),
                        )
                    })?;
                cfg.trusted_proxies.push(net);
            }
        }
        if let Some(v) = env("BROADSHEET_COMMENT_MODERATION").or(raw.comment_moderation) {
            cfg.comment_moderation = match v.trim().to_ascii_lowercase().as_str() {
                "all" => Moderation::All,
                "first_time" => Moderation::FirstTime,
                "none" => Moderation::None,
                _ => {
                    return Err(bad(
                        "BROADSHEET_COMMENT_MODERATION",
                        format!("{v:?} is not one of all, first_time, none"),
                    ));
                }
            };
        }
        let counts: [(&str, Option<toml::Value>, &mut u32, u32, u32); 31] = [
            (
                "BROADSHEET_COMMENT_RATE_PER_MINUTE",
                raw.comment_rate_per_minute,
                &mut cfg.comment_rate_per_minute,
                0,
                100_000,
            ),
            (
                "BROADSHEET_COMMENT_MAX_LINKS",
                raw.comment_max_links,
                &mut cfg.comment_max_links,
                0,
                1_000,
            ),
            (
                "BROADSHEET_COMMENT_MAX_DEPTH",
                raw.comment_max_depth,
                &mut cfg.comment_max_depth,
                1,
                100,
            ),
            (
                "BROADSHEET_COMMENTS_CLOSE_AFTER_DAYS",
                raw.comments_close_after_days,
                &mut cfg.comments_close_after_days,
                0,
                36_500,
            ),
            (
                "BROADSHEET_REQUEST_TIMEOUT",
                raw.request_timeout,
                &mut cfg.request_timeout_secs,
                1,
                3_600,
            ),
            (
                "BROADSHEET_MAX_CONCURRENT_REQUESTS",
                raw.max_concurrent_requests,
                &mut cfg.max_concurrent_requests,
                1,
                1_000_000,
            ),
            (
                "BROADSHEET_SHUTDOWN_TIMEOUT",
                raw.shutdown_timeout,
                &mut cfg.shutdown_timeout_secs,
                0,
                3_600,
            ),
            (
                "BROADSHEET_HEADER_READ_TIMEOUT",
                raw.header_read_timeout,
                &mut cfg.header_read_timeout_secs,
                1,
                600,
            ),
            (
                "BROADSHEET_KEEP_ALIVE_TIMEOUT",
                raw.keep_alive_timeout,
                &mut cfg.keep_alive_timeout_secs,
                0,
                3_600,
            ),
            (
                "BROADSHEET_BODY_READ_TIMEOUT",
                raw.body_read_timeout,
                &mut cfg.body_read_timeout_secs,
                1,
                3_600,
            ),
            (
                "BROADSHEET_SEND_TIMEOUT",
                raw.send_timeout,
                &mut cfg.send_timeout_secs,
                1,
                3_600,
            ),
            (
                "BROADSHEET_MAX_CONNECTIONS",
                raw.max_connections,
                &mut cfg.max_connections,
                1,
                1_000_000,
            ),
            (
                "BROADSHEET_REVISIONS_KEEP",
                raw.revisions_keep,
                &mut cfg.revisions_keep,
                1,
                10_000,
            ),
            (
                "BROADSHEET_MAX_LIST_OFFSET",
                raw.max_list_offset,
                &mut cfg.max_list_offset,
                100,
                1_000_000_000,
            ),
            (
                "BROADSHEET_IMPORT_MAX_DEPTH",
                raw.import_max_depth,
                &mut cfg.import_max_depth,
                8,
                1_000,
            ),
            (
                "BROADSHEET_RESPONSE_CACHE_MB",
                raw.response_cache_mb,
                &mut cfg.response_cache_mb,
                0,
                65_536,
            ),
            (
                "BROADSHEET_DB_ACQUIRE_TIMEOUT",
                raw.db_acquire_timeout,
                &mut cfg.db_acquire_timeout_secs,
                1,
                600,
            ),
            (
                "BROADSHEET_WEBHOOK_TIMEOUT",
                raw.webhook_timeout,
                &mut cfg.webhook_timeout_secs,
                1,
                300,
            ),
            (
                "BROADSHEET_WEBHOOK_RETRY_BASE_MS",
                raw.webhook_retry_base_ms,
                &mut cfg.webhook_retry_base_ms,
                10,
                3_600_000,
            ),
            (
                "BROADSHEET_WEBHOOK_RETRY_WINDOW",
                raw.webhook_retry_window,
                &mut cfg.webhook_retry_window_secs,
                0,
                30 * 86_400,
            ),
            (
                "BROADSHEET_WEBHOOK_POLL_MS",
                raw.webhook_poll_ms,
                &mut cfg.webhook_poll_ms,
                10,
                600_000,
            ),
            (
                "BROADSHEET_GRAPHQL_MAX_BATCH",
                raw.graphql_max_batch,
                &mut cfg.graphql.max_batch,
                1,
                1_000,
            ),
            (
                "BROADSHEET_GRAPHQL_MAX_QUERY_BYTES",
                raw.graphql_max_query_bytes,
                &mut cfg.graphql.max_query_bytes,
                64,
                1_048_576,
            ),
            (
                "BROADSHEET_GRAPHQL_MAX_TOKENS",
                raw.graphql_max_tokens,
                &mut cfg.graphql.max_tokens,
                10,
                1_000_000,
            ),
            (
                "BROADSHEET_GRAPHQL_MAX_NESTING",
                raw.graphql_max_nesting,
                &mut cfg.graphql.max_nesting,
                4,
                128,
            ),
            (
                "BROADSHEET_GRAPHQL_MAX_ALIASES",
                raw.graphql_max_aliases,
                &mut cfg.graphql.max_aliases,
                0,
                100_000,
            ),
            (
                "BROADSHEET_GRAPHQL_MAX_DIRECTIVES",
                raw.graphql_max_directives,
                &mut cfg.graphql.max_directives,
                0,
                100_000,
            ),
            (
                "BROADSHEET_GRAPHQL_MAX_SPREADS",
                raw.graphql_max_spreads,
                &mut cfg.graphql.max_spreads,
                0,
                100_000,
            ),
            (
                "BROADSHEET_GRAPHQL_MAX_DEPTH",
                raw.graphql_max_depth,
                &mut cfg.graphql.max_depth,
                2,
                128,
            ),
            (
                "BROADSHEET_GRAPHQL_MAX_COST",
                raw.graphql_max_cost,
                &mut cfg.graphql.max_cost,
                1,
                10_000_000,
            ),
            (
                "BROADSHEET_FEED_SIZE",
                raw.feed_size,
                &mut cfg.feed_size,
                1,
                crate::domain::pagination::MAX_PER_PAGE as u32,
            ),
        ];
        for (key, file_value, slot, min, max) in counts {
            if let Some(v) = env(key).or(toml_scalar(file_value)) {
                *slot = parse_in_range(&v, min, max).ok_or_else(|| {
                    bad(
                        key,
                        format!("{v:?} is not a whole number from {min} to {max}"),
                    )
                })?;
            }
        }
        // Bodies, comments and revisions (issue 24: 3, 7, 9).
        let content_limits: [(&str, Option<toml::Value>, &mut u32, u32, u32); 6] = [
            (
                "BROADSHEET_COMMENTER_TOKEN_DAYS",
                raw.commenter_token_days,
                &mut cfg.commenter_token_days,
                1,
                3_650,
            ),
            (
                "BROADSHEET_BODY_MAX_BYTES",
                raw.body_max_bytes,
                &mut cfg.body_max_bytes,
                1_024,
                crate::config::MAX_BODY_BYTES as u32,
            ),
            (
                "BROADSHEET_BODY_MAX_DEPTH",
                raw.body_max_depth,
                &mut cfg.body_max_depth,
                4,
                1_000,
            ),
            (
                "BROADSHEET_RENDER_CONCURRENCY",
                raw.render_concurrency,
                &mut cfg.render_concurrency,
                1,
                1_024,
            ),
            (
                "BROADSHEET_RENDER_WAIT_MS",
                raw.render_wait_ms,
                &mut cfg.render_wait_ms,
                0,
                60_000,
            ),
            (
                "BROADSHEET_REVISION_DIFF_MAX_LINES",
                raw.revision_diff_max_lines,
                &mut cfg.revision_diff_max_lines,
                100,
                1_000_000,
            ),
        ];
        for (key, file_value, slot, min, max) in content_limits {
            if let Some(v) = env(key).or(toml_scalar(file_value)) {
                *slot = parse_in_range(&v, min, max).ok_or_else(|| {
                    bad(
                        key,
                        format!("{v:?} is not a whole number from {min} to {max}"),
                    )
                })?;
            }
        }
        let cost: [(&str, Option<toml::Value>, &mut u32, u32, u32); 4] = [
            (
                "BROADSHEET_GRAPHQL_REPLIES_DEFAULT",
                raw.graphql_replies_default,
                &mut cfg.graphql_cost.replies_default,
                1,
                GraphqlCost::REPLIES_CEILING,
            ),
            (
                "BROADSHEET_GRAPHQL_REPLIES_MAX",
                raw.graphql_replies_max,
                &mut cfg.graphql_cost.replies_max,
                1,
                GraphqlCost::REPLIES_CEILING,
            ),
            (
                "BROADSHEET_GRAPHQL_REVISIONS_MAX",
                raw.graphql_revisions_max,
                &mut cfg.graphql_cost.revisions_max,
                1,
                GraphqlCost::REVISIONS_CEILING,
            ),
            (
                "BROADSHEET_GRAPHQL_MAX_RESOLVED",
                raw.graphql_max_resolved,
                &mut cfg.graphql_cost.max_resolved,
                100,
                100_000_000,
            ),
        ];
        for (key, file_value, slot, min, max) in cost {
            if let Some(v) = env(key).or(toml_scalar(file_value)) {
                *slot = parse_in_range(&v, min, max).ok_or_else(|| {
                    bad(
                        key,
                        format!("{v:?} is not a whole number from {min} to {max}"),
                    )
                })?;
            }
        }
        if cfg.graphql_cost.replies_default > cfg.graphql_cost.replies_max {
            return Err(bad(
                "BROADSHEET_GRAPHQL_REPLIES_DEFAULT",
                "must not exceed BROADSHEET_GRAPHQL_REPLIES_MAX",
            ));
        }
        if let Some(v) = env("BROADSHEET_COMMENT_BLOCKLIST").or(raw.comment_blocklist) {
            cfg.comment_blocklist = v
                .split(',')
                .map(|w| w.trim().to_lowercase())
                .filter(|w| !w.is_empty())
                .collect();
        }
        if let Some(v) = env("BROADSHEET_CORS_ORIGINS").or(raw.cors_origins) {
            for origin in v.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                let origin = origin.trim_end_matches('/');
                let valid = (origin.starts_with("http://") || origin.starts_with("https://"))
                    && !origin["https://".len().min(origin.len())..].contains('/')
                    && http::HeaderValue::from_str(origin).is_ok();
                if !valid {
                    return Err(bad(
                        "BROADSHEET_CORS_ORIGINS",
                        format!("{origin:?} is not an origin such as https://www.example.org"),
                    ));
                }
                cfg.cors_origins.push(origin.to_string());
            }
        }
        if let Some(v) = env("BROADSHEET_METRICS_TOKEN").or(raw.metrics_token) {
            if v.len() < 16 {
                return Err(bad(
                    "BROADSHEET_METRICS_TOKEN",
                    format!("must be at least 16 bytes, got {}", v.len()),
                ));
            }
            cfg.metrics_token = Some(Secret::new(v));
        }
        Ok(cfg)
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

/// What answering one GraphQL request may cost in data, whatever the
/// document (README "GraphQL cost of data"; audit 24, #1, #3, #11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphqlCost {
    /// `BROADSHEET_GRAPHQL_REPLIES_DEFAULT`: `Comment.replies` without `first` (default 10).
    pub replies_default: u32,
    /// `BROADSHEET_GRAPHQL_REPLIES_MAX`: the largest `first` on `Comment.replies` (default 100).
    pub replies_max: u32,
    /// `BROADSHEET_GRAPHQL_REVISIONS_MAX`: the largest `first` on
    /// `Article.revisions`, and its default (default 20).
    pub revisions_max: u32,
    /// `BROADSHEET_GRAPHQL_MAX_RESOLVED`: fields resolved for one HTTP request
    /// (a batch shares it); beyond, the request fails with `RESULT_TOO_LARGE`
    /// (default 50000).
    pub max_resolved: u32,
}

impl GraphqlCost {
    /// The most `BROADSHEET_GRAPHQL_REPLIES_MAX` may be: the complexity rule
    /// prices `replies` by `first` clamped to this.
    pub const REPLIES_CEILING: u32 = 100;
    /// The most `BROADSHEET_GRAPHQL_REVISIONS_MAX` may be.
    pub const REVISIONS_CEILING: u32 = 50;
}

impl Default for GraphqlCost {
    fn default() -> Self {
        GraphqlCost {
            replies_default: 10,
            replies_max: 100,
            revisions_max: 20,
            max_resolved: 50_000,
        }
    }
}

fn validate_database_url(url: &str) -> Result<(), ConfigError> {
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

fn resolve_bind(value: &str) -> Option<SocketAddr> {
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
fn parse_pairs(setting: &str, v: &str) -> Result<Vec<(String, String)>, ConfigError> {
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
fn default_hash_concurrency() -> u32 {
    std::thread::available_parallelism()
        .map(|n| u32::try_from(n.get()).unwrap_or(1024).min(1024))
        .unwrap_or(2)
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn parse_in_range(v: &str, min: u32, max: u32) -> Option<u32> {
    v.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
}

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
