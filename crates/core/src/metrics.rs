//! Prometheus metrics for `/metrics`: requests and latency by route template
//! and status, GraphQL operations by name, SQL statements, database pool use
//! and the comment moderation backlog.
//!
//! One registry per running instance (kept in `AppState`), not a process-wide
//! recorder, so several servers in one process (the tests) never mix counts.

use std::{borrow::Cow, collections::HashSet, sync::Mutex, time::Duration};

use prometheus_client::{
    encoding::{EncodeLabelSet, prometheus_text},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

use crate::state::AppState;

/// Distinct GraphQL operation names tracked before the rest count as `other`
/// (names come from clients, so their number must be bounded).
const MAX_OPERATION_NAMES: usize = 200;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: Cow<'static, str>,
    route: String,
    status: u16,
}

/// Webhook attempts by what became of the delivery.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WebhookLabels {
    /// `succeeded`, `pending` (will retry), `failed` (gave up) or `cancelled`.
    pub outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimiterLabels {
    limiter: &'static str,
}

/// Every metric of one instance.
pub struct Metrics {
    registry: Registry,
    requests: Family<HttpLabels, Counter>,
    latency: Family<HttpLabels, Histogram, fn() -> Histogram>,
    graphql_operations: Family<OperationLabels, Counter>,
    operation_names: Mutex<HashSet<String>>,
    /// SQL statements run (incremented by the database metric callback).
    pub db_statements: Counter,
    pool_connections: Gauge,
    pool_idle: Gauge,
    pool_max: Gauge,
    comments_pending: Gauge,
    shed: Counter,
    /// Response cache hits and misses (`response_cache`).
    pub cache_hits: Counter,
    pub cache_misses: Counter,
    cache_entries: Gauge,
    cache_bytes: Gauge,
    /// Webhook delivery attempts, by outcome.
    pub webhook_deliveries: Family<WebhookLabels, Counter>,
    /// argon2 runs (password checks and new hashes), counted by `PasswordHasher`.
    pub password_hashes: Counter,
    rate_limit_keys: Family<LimiterLabels, Gauge>,
    /// Client connections open now (`server`).
    pub http_connections: Gauge,
    /// Connections closed at once because `BROADSHEET_MAX_CONNECTIONS` were open.
    pub http_connections_refused: Counter,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms .. ~8 s
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

impl Metrics {
    pub fn new(pool_max: u32) -> Self {
        let mut registry = Registry::with_prefix("broadsheet");
        let requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        let latency = Family::<HttpLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency, by method, route template and status",
            latency.clone(),
        );
        let graphql_operations = Family::<OperationLabels, Counter>::default();
        registry.register(
            "graphql_operations",
            "GraphQL operations executed, by operation name (anonymous, other when too many names)",
            graphql_operations.clone(),
        );
        let db_statements = Counter::default();
        registry.register("db_statements", "SQL statements run", db_statements.clone());
        let pool_connections = Gauge::default();
        registry.register(
            "db_pool_connections",
            "Open database connections in the pool",
            pool_connections.clone(),
        );
        let pool_idle = Gauge::default();
        registry.register(
            "db_pool_idle_connections",
            "Idle database connections in the pool",
            pool_idle.clone(),
        );
        let pool_max_gauge = Gauge::default();
        pool_max_gauge.set(i64::from(pool_max));
        registry.register(
            "db_pool_max_connections",
            "Largest pool size (BROADSHEET_DB_MAX_CONNECTIONS)",
            pool_max_gauge.clone(),
        );
        let comments_pending = Gauge::default();
        registry.register(
            "comments_pending",
            "Comments waiting for a moderator",
            comments_pending.clone(),
        );
        let shed = Counter::default();
        registry.register(
            "http_requests_shed",
            "Requests refused with 503 because BROADSHEET_MAX_CONCURRENT_REQUESTS were in flight",
            shed.clone(),
        );
        let cache_hits = Counter::default();
        registry.register(
            "response_cache_hits",
            "Anonymous reads answered from the response cache",
            cache_hits.clone(),
        );
        let cache_misses = Counter::default();
        registry.register(
            "response_cache_misses",
            "Cacheable anonymous reads that had to be computed",
            cache_misses.clone(),
        );
        let cache_entries = Gauge::default();
        registry.register(
            "response_cache_entries",
            "Responses held by the response cache",
            cache_entries.clone(),
        );
        let cache_bytes = Gauge::default();
        registry.register(
            "response_cache_bytes",
            "Bytes the response cache counts against BROADSHEET_RESPONSE_CACHE_MB (bodies, keys, headers, 1.5 KB of bookkeeping per entry)",
            cache_bytes.clone(),
        );
        let webhook_deliveries = Family::<WebhookLabels, Counter>::default();
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts, by outcome (succeeded, pending = will retry, failed = gave up, cancelled)",
            webhook_deliveries.clone(),
        );
        let password_hashes = Counter::default();
        registry.register(
            "password_hashes",
            "argon2 password hashes run (logins, password changes, new passwords)",
            password_hashes.clone(),
        );
        let rate_limit_keys = Family::<LimiterLabels, Gauge>::default();
        registry.register(
            "rate_limit_keys",
            "Keys (addresses, accounts) a rate limiter holds, by limiter; at most BROADSHEET_RATE_LIMIT_KEYS each",
            rate_limit_keys.clone(),
        );
        let http_connections = Gauge::default();
        registry.register(
            "http_connections",
            "Client connections open",
            http_connections.clone(),
        );
        let http_connections_refused = Counter::default();
        registry.register(
            "http_connections_refused",
            "Client connections closed at once because BROADSHEET_MAX_CONNECTIONS were open",
            http_connections_refused.clone(),
        );
        Metrics {
            password_hashes,
            rate_limit_keys,
            http_connections,
            http_connections_refused,
            webhook_deliveries,
            cache_hits,
            cache_misses,
            cache_entries,
            cache_bytes,
            registry,
            requests,
            latency,
            graphql_operations,
            operation_names: Mutex::new(HashSet::new()),
            db_statements,
            pool_connections,
            pool_idle,
            pool_max: pool_max_gauge,
            comments_pending,
            shed,
        }
    }

    /// Count one GraphQL operation under its (client-chosen) name.
    pub fn graphql_operation(&self, name: Option<&str>) {
        let name = match name {
            None | Some("") => "anonymous".to_string(),
            Some(n) => {
                let valid =
                    n.len() <= 64 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                let mut known = self
                    .operation_names
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                if valid && (known.contains(n) || known.len() < MAX_OPERATION_NAMES) {
                    known.insert(n.to_string());
                    n.to_string()
                } else {
                    "other".to_string()
                }
            }
        };
        self.graphql_operations
            .get_or_create(&OperationLabels { operation: name })
            .inc();
    }

    /// A request refused by load shedding.
    pub fn shed(&self) {
        self.shed.inc();
    }

    /// Count one answered request under its method name (a bounded set:
    /// the HTTP layer maps unknown methods to `other`), route template and
    /// status.
    pub fn observe(&self, method: &'static str, route: String, status: u16, elapsed: Duration) {
        let labels = HttpLabels {
            method: Cow::Borrowed(method),
            route,
            status,
        };
        self.requests.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(8 * 1024);
        prometheus_text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// Bring the gauges up to date (pool, limiter keys, cache usage, the
/// moderation backlog) and encode every metric in Prometheus text format.
pub async fn render(state: &AppState) -> Result<String, std::fmt::Error> {
    let m = &state.metrics;
    if let Some((size, idle)) = crate::db::pool_usage(&state.db) {
        m.pool_connections.set(i64::from(size));
        m.pool_idle.set(idle as i64);
    }
    m.pool_max.set(i64::from(state.config.db_max_connections));
    for (limiter, keys) in state.limits.keys() {
        if let Some(keys) = keys {
            m.rate_limit_keys
                .get_or_create(&LimiterLabels { limiter })
                .set(i64::try_from(keys).unwrap_or(i64::MAX));
        }
    }
    let (entries, bytes) = state.response_cache.usage();
    m.cache_entries
        .set(i64::try_from(entries).unwrap_or(i64::MAX));
    m.cache_bytes.set(i64::try_from(bytes).unwrap_or(i64::MAX));
    // The backlog needs the database; when it is down the last value stays.
    let pending = state
        .pending_comments
        .get(|| async {
            crate::services::comments::pending_count(&state.db)
                .await
                .ok()
        })
        .await;
    if let Some(pending) = pending {
        m.comments_pending
            .set(i64::try_from(pending).unwrap_or(i64::MAX));
    }
    m.encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_bounded_and_sanitized() {
        let m = Metrics::new(4);
        m.graphql_operation(Some("FrontPage"));
        m.graphql_operation(None);
        m.graphql_operation(Some("bad name\"}"));
        for i in 0..(MAX_OPERATION_NAMES + 10) {
            m.graphql_operation(Some(&format!("Op{i}")));
        }
        let text = m.encode().unwrap();
        assert!(text.contains("broadsheet_graphql_operations_total{operation=\"FrontPage\"} 1"));
        assert!(text.contains("operation=\"anonymous\"} 1"));
        assert!(!text.contains("bad name"));
        // 11 over the cap (10 new names plus FrontPage's slot) and the bad one.
        assert!(text.contains("operation=\"other\"} 12"), "{text}");
    }
}
