//! Reading the settings: defaults < TOML file < environment, each value
//! validated and a refusal naming the setting.

use std::path::{Path, PathBuf};

use super::{raw::RawConfig, *};

impl Config {
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
}
