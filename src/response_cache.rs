//! A response cache for anonymous reads that is never stale.
//!
//! What is cached: complete `200` answers (for GraphQL, answers without
//! `errors`) to `GET`/`HEAD` requests without an `Authorization` header, and
//! to GraphQL queries posted without one (mutations never), keyed by method,
//! URI and, for GraphQL, a hash of the body. A hit answers `304` itself when `If-None-Match` matches, without
//! touching the database; a request revalidating by `If-Modified-Since`
//! alone is left to the handler (only feeds trust their `Last-Modified`).
//!
//! Why it is never stale:
//! - every entry carries the *generation* it was computed in, and any write
//!   bumps the generation when it commits, before its answer leaves the
//!   server (the service layer does it: `services::write_txn`), so no entry
//!   computed before an acknowledged write is served after it (a read racing
//!   the write stores its result under the old generation, and is ignored);
//! - time alone changes what readers see only when a scheduled article comes
//!   due: the cache knows the next such moment and starts over at it (it
//!   reads it from the database at start and when another writer changed
//!   something; an article saved here with a later time tells it directly);
//! - other writers: on PostgreSQL every instance `NOTIFY`s the others after
//!   a write and `LISTEN`s for theirs (while the listener is down, the cache
//!   is bypassed); on SQLite a watcher polls `PRAGMA data_version`, which
//!   moves when any other connection or process commits.
//!
//! The same generations keep a second, smaller cache honest: the bylines,
//! tags and sources that article reads attach ([`RowCache`]). An article
//! read missing the response cache then costs one statement, not five.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};
use sha2::{Digest, Sha256};

use crate::{
    entities::{author, source, tag},
    error::AppError,
    state::AppState,
};

/// The PostgreSQL channel invalidations travel on.
pub const CHANNEL: &str = "broadsheet_cache";
/// Largest response body kept.
const MAX_ENTRY_BYTES: usize = 2 * 1024 * 1024;
/// How often SQLite's `data_version` is polled.
const SQLITE_POLL: Duration = Duration::from_millis(200);
/// Headers of the origin response kept with the entry.
const KEPT_HEADERS: [header::HeaderName; 7] = [
    header::CONTENT_TYPE,
    header::ETAG,
    header::LAST_MODIFIED,
    header::CACHE_CONTROL,
    header::VARY,
    header::LINK,
    header::LOCATION,
];

#[derive(Debug)]
struct Entry {
    generation: u64,
    status: StatusCode,
    /// The [`KEPT_HEADERS`] the origin sent, shared with the entry's
    /// expanded copy in the hot tier (a `HeaderMap` is several times larger).
    headers: Arc<[(header::HeaderName, HeaderValue)]>,
    body: Stored,
}

/// What an entry costs beyond its key, body and header bytes, counted
/// against the budget: moka's bookkeeping (its hash table, access and write
/// order queues), the `Entry`, the header slice and allocator rounding.
/// Measured: with 256 counted instead, the cache's real footprint was 1.4×
/// its budget after the cold-read benchmark.
const ENTRY_OVERHEAD_BYTES: usize = 1536;

impl Entry {
    /// Bytes this entry is counted for against the budget.
    fn weight(&self, key: &str) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        key.len() + self.body.weight() + headers + ENTRY_OVERHEAD_BYTES
    }
}

/// Bodies from this size on are kept compressed when that saves a quarter.
const COMPRESS_FROM_BYTES: usize = 2048;

/// A cached body as kept in memory.
///
/// Bodies are mostly JSON with the same article text two or three times
/// (Markdown, HTML, plain text), so LZ4 keeps them in a third of the space:
/// the same budget holds three times the entries. A hit on one pays a few
/// microseconds to expand its body (an uncached read costs about a hundred
/// times that), and the expanded copy is kept in a small hot tier, so the
/// answers read most often are served as they are.
#[derive(Debug)]
enum Stored {
    Plain(Bytes),
    Lz4 { data: Box<[u8]>, len: usize },
}

impl Stored {
    fn new(body: &[u8]) -> Self {
        if body.len() >= COMPRESS_FROM_BYTES {
            let data = lz4_flex::block::compress(body);
            if data.len() <= body.len() / 4 * 3 {
                return Stored::Lz4 {
                    data: data.into_boxed_slice(),
                    len: body.len(),
                };
            }
        }
        // An exact-size copy: a serializer's buffer can be up to twice the
        // length it holds, and the weigher counts only the length.
        Stored::Plain(Bytes::copy_from_slice(body))
    }

    /// Bytes held in memory.
    fn weight(&self) -> usize {
        match self {
            Stored::Plain(b) => b.len(),
            Stored::Lz4 { data, .. } => data.len(),
        }
    }

    /// The body served; `None` only if compressed data failed to expand
    /// (the request is then answered as a miss).
    fn body(&self) -> Option<Bytes> {
        match self {
            Stored::Plain(b) => Some(b.clone()),
            Stored::Lz4 { data, len } => lz4_flex::block::decompress(data, *len)
                .ok()
                .filter(|body| body.len() == *len)
                .map(Bytes::from),
        }
    }
}

/// One instance's cache and the state that keeps it honest.
pub struct ResponseCache {
    entries: Option<moka::sync::Cache<String, Arc<Entry>>>,
    /// Entries served lately, with their bodies expanded: an eighth of the
    /// budget, so the most read answers cost no decompression.
    hot: Option<moka::sync::Cache<String, Arc<Entry>>>,
    generation: AtomicU64,
    /// False while invalidations from other instances could be missed.
    live: AtomicBool,
    /// Unix ms of the next scheduled publication (`i64::MAX`: none known).
    next_change_ms: AtomicI64,
    /// Sent with our notifications so we skip our own.
    instance: String,
    rows: Mutex<RowMaps>,
    /// Woken after each write, to tell the other instances (PostgreSQL).
    to_notify: tokio::sync::Notify,
}

/// Rows most reads attach, by id, as of one generation.
#[derive(Default)]
#[doc(hidden)]
pub struct RowMaps {
    generation: u64,
    authors: HashMap<String, author::Model>,
    tags: HashMap<String, tag::Model>,
    sources: HashMap<String, source::Model>,
}

/// Most rows of one kind kept; past it the kind starts over.
const MAX_ROWS: usize = 10_000;

/// A row kind the [`RowCache`] keeps.
pub trait CachedRow: Clone {
    fn id(&self) -> &str;
    #[doc(hidden)]
    fn map(maps: &mut RowMaps) -> &mut HashMap<String, Self>;
}

macro_rules! cached_row {
    ($model:ty, $field:ident) => {
        impl CachedRow for $model {
            fn id(&self) -> &str {
                &self.id
            }
            fn map(maps: &mut RowMaps) -> &mut HashMap<String, Self> {
                &mut maps.$field
            }
        }
    };
}
cached_row!(author::Model, authors);
cached_row!(tag::Model, tags);
cached_row!(source::Model, sources);

/// Rows read in one generation, served only while no write has happened
/// since: a reader takes [`RowCache::generation`] *before* it reads the
/// database and keeps what it read under it, so rows read before a write can
/// never be served after the write is acknowledged.
pub struct RowCache<'a> {
    cache: &'a ResponseCache,
    generation: u64,
}

impl RowCache<'_> {
    /// The cached rows among `ids`, and the ids still to read.
    pub fn get<T: CachedRow>(&self, ids: &[String]) -> (HashMap<String, T>, Vec<String>) {
        let mut maps = self.cache.rows.lock().unwrap_or_else(|e| e.into_inner());
        if maps.generation != self.generation {
            if maps.generation < self.generation {
                *maps = RowMaps {
                    generation: self.generation,
                    ..RowMaps::default()
                };
            }
            return (HashMap::new(), ids.to_vec());
        }
        let map = T::map(&mut maps);
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        for id in ids {
            match map.get(id) {
                Some(row) => {
                    found.insert(id.clone(), row.clone());
                }
                None => missing.push(id.clone()),
            }
        }
        (found, missing)
    }

    /// Keep rows read since [`ResponseCache::rows`] was called.
    pub fn keep<'r, T: CachedRow + 'r>(&self, rows: impl IntoIterator<Item = &'r T>) {
        let mut maps = self.cache.rows.lock().unwrap_or_else(|e| e.into_inner());
        if maps.generation != self.generation
            || self.cache.generation.load(Ordering::SeqCst) != self.generation
        {
            return;
        }
        let map = T::map(&mut maps);
        for row in rows {
            if map.len() >= MAX_ROWS {
                map.clear();
            }
            map.insert(row.id().to_string(), row.clone());
        }
    }
}

impl ResponseCache {
    /// `max_bytes` 0 turns caching off.
    pub fn new(max_bytes: u64, backend: DatabaseBackend) -> Self {
        let tier = |max_bytes: u64| {
            moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|k: &String, e: &Arc<Entry>| {
                    u32::try_from(e.weight(k)).unwrap_or(u32::MAX)
                })
                .time_to_live(Duration::from_secs(300))
                .build()
        };
        let hot_bytes = max_bytes / 8;
        ResponseCache {
            entries: (max_bytes > 0).then(|| tier(max_bytes - hot_bytes)),
            hot: (max_bytes > 0).then(|| tier(hot_bytes)),
            generation: AtomicU64::new(0),
            // PostgreSQL: not until the listener is up.
            live: AtomicBool::new(backend != DatabaseBackend::Postgres),
            next_change_ms: AtomicI64::new(i64::MIN),
            instance: crate::services::new_id(),
            rows: Mutex::new(RowMaps::default()),
            to_notify: tokio::sync::Notify::new(),
        }
    }

    /// The row cache as of now; `None` when this instance might not hear of
    /// every write (caching off, or PostgreSQL's listener down).
    pub fn rows(&self) -> Option<RowCache<'_>> {
        (self.entries.is_some() && self.live.load(Ordering::SeqCst)).then(|| RowCache {
            cache: self,
            generation: self.generation.load(Ordering::SeqCst),
        })
    }

    /// Entries held and the bytes they count against the budget (for `/metrics`).
    pub fn usage(&self) -> (u64, u64) {
        [&self.entries, &self.hot]
            .into_iter()
            .flatten()
            .fold((0, 0), |(n, bytes), tier| {
                tier.run_pending_tasks();
                (n + tier.entry_count(), bytes + tier.weighted_size())
            })
    }

    /// Forget everything cached so far.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        for tier in [&self.entries, &self.hot].into_iter().flatten() {
            tier.invalidate_all();
        }
    }

    /// The current entry for `key` and its body, expanded. A compressed
    /// entry is expanded once and kept in the hot tier for the next reads.
    fn get(&self, key: &str) -> Option<(Arc<Entry>, Bytes)> {
        let (entries, hot) = (self.entries.as_ref()?, self.hot.as_ref()?);
        if !self.live.load(Ordering::SeqCst) {
            return None;
        }
        let current = |e: &Arc<Entry>| e.generation == self.generation.load(Ordering::SeqCst);
        let entry = hot
            .get(key)
            .filter(current)
            .or_else(|| entries.get(key).filter(current))?;
        let body = entry.body.body()?;
        if let Stored::Plain(_) = entry.body {
            return Some((entry, body));
        }
        // Same generation as the kept entry, so an invalidation racing this
        // leaves it as unservable as the entry it came from.
        let expanded = Arc::new(Entry {
            generation: entry.generation,
            status: entry.status,
            headers: entry.headers.clone(),
            body: Stored::Plain(body.clone()),
        });
        hot.insert(key.to_string(), expanded.clone());
        Some((expanded, body))
    }

    /// A write readers may see is committed (called by the service layer,
    /// see `services::write_txn`): invalidate here, then have the other
    /// instances told (by [`notify_postgres`], which sends one `NOTIFY` for
    /// every write made while the previous one was on its way).
    pub fn written(&self) {
        self.invalidate();
        self.to_notify.notify_one();
    }

    /// An article was scheduled for `at` (by this instance: the others hear
    /// of it and look the schedule up again).
    pub fn scheduled(&self, at: chrono::DateTime<chrono::Utc>) {
        self.next_change_ms
            .fetch_min(at.timestamp_millis(), Ordering::SeqCst);
    }

    /// Look up when the next scheduled article comes due.
    async fn refresh_next_change(&self, db: &DatabaseConnection) {
        let next = match crate::services::articles::next_scheduled(db).await {
            Ok(Some(at)) => at.timestamp_millis(),
            Ok(None) => i64::MAX,
            // Unknown: look again in a second.
            Err(_) => crate::services::now().timestamp_millis() + 1_000,
        };
        self.next_change_ms.fetch_min(next, Ordering::SeqCst);
    }

    /// When a scheduled article has come due, start over.
    async fn follow_the_clock(&self, db: &DatabaseConnection) {
        let next = self.next_change_ms.load(Ordering::SeqCst);
        if crate::services::now().timestamp_millis() < next {
            return;
        }
        if self
            .next_change_ms
            .compare_exchange(next, i64::MAX, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            self.invalidate();
            self.refresh_next_change(db).await;
        }
    }
}

/// Tell running instances that this process (the CLI) changed content:
/// PostgreSQL instances hear it at once; SQLite ones see `data_version` move.
pub async fn notify_other_instances(db: &DatabaseConnection) {
    if db.get_database_backend() == DatabaseBackend::Postgres {
        notify(db, "cli").await;
    }
}

/// One `NOTIFY` on [`CHANNEL`], from `sender` (instances skip their own).
async fn notify(db: &DatabaseConnection, sender: &str) {
    let sql = format!("SELECT pg_notify('{CHANNEL}', '{sender}')");
    if let Err(e) = db.execute_unprepared(&sql).await {
        tracing::warn!(error = %e, "could not notify other instances of a change");
    }
}

/// Start the tasks that tell other instances of our writes and hear about
/// theirs (see the module docs).
pub fn watch_other_writers(state: &AppState) {
    if state.db.get_database_backend() == DatabaseBackend::Postgres {
        // Whether or not this instance caches, the others may.
        let state = state.clone();
        tokio::spawn(async move { notify_postgres(state).await });
    }
    if state.response_cache.entries.is_none() {
        return;
    }
    match state.db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = state.db.get_postgres_connection_pool().clone();
            let state = state.clone();
            tokio::spawn(async move { listen_postgres(pool, state).await });
        }
        DatabaseBackend::Sqlite => {
            let url = state.config.database_url.clone();
            let state = state.clone();
            tokio::spawn(async move { poll_sqlite(url, state).await });
        }
        _ => {}
    }
}

/// Tell the other instances after our writes: one `NOTIFY` per wake-up, so
/// writes made while one is on its way share the next (a write's answer
/// does not wait for it; the others hear within a round trip or two).
async fn notify_postgres(state: AppState) {
    let cache = &state.response_cache;
    loop {
        cache.to_notify.notified().await;
        notify(&state.db, &cache.instance).await;
    }
}

async fn listen_postgres(pool: sea_orm::sqlx::PgPool, state: AppState) {
    use sea_orm::sqlx::postgres::PgListener;
    let cache = &state.response_cache;
    loop {
        cache.live.store(false, Ordering::SeqCst);
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(_) => {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if listener.listen(CHANNEL).await.is_err() {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        // Whatever happened while we were deaf is forgotten.
        cache.invalidate();
        cache.live.store(true, Ordering::SeqCst);
        // Until the connection drops (then reconnect from scratch).
        while let Ok(Some(n)) = listener.try_recv().await {
            if n.payload() != cache.instance {
                cache.invalidate();
                cache.refresh_next_change(&state.db).await;
            }
        }
        cache.live.store(false, Ordering::SeqCst);
        cache.invalidate();
    }
}

async fn poll_sqlite(url: String, state: AppState) {
    use sea_orm::sqlx::{Connection, Row, SqliteConnection};
    let cache = &state.response_cache;
    let mut last: Option<i64> = None;
    let mut conn: Option<SqliteConnection> = None;
    loop {
        tokio::time::sleep(SQLITE_POLL).await;
        if conn.is_none() {
            conn = SqliteConnection::connect(&url).await.ok();
        }
        let Some(c) = conn.as_mut() else { continue };
        match sea_orm::sqlx::query("PRAGMA data_version")
            .fetch_one(&mut *c)
            .await
            .and_then(|row| row.try_get::<i64, _>(0))
        {
            Ok(version) => {
                if last.is_some_and(|l| l != version) {
                    cache.invalidate();
                    cache.refresh_next_change(&state.db).await;
                }
                last = Some(version);
            }
            Err(_) => {
                conn = None;
                last = None;
                cache.invalidate();
            }
        }
    }
}

/// What a request is, for the cache. Writes are not the middleware's
/// business: the service layer invalidates when one commits, whatever
/// request carried it (`services::write_txn`).
enum Kind {
    /// A read that may be served from and stored in the cache, under this key.
    Cacheable(String),
    /// Anything else: passed on, never stored.
    Bypass,
}

/// Paths never cached: their answers change with no write (health, metrics).
const UNCACHED_PATHS: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// Whether a GraphQL POST body holds queries only (`None`: it cannot be read,
/// or is over a limit; the handler will say why). Each document is scanned
/// within the GraphQL limits before it is parsed.
fn graphql_is_query(body: &[u8], limits: &crate::config::GraphqlLimits) -> Option<bool> {
    use crate::graphql::limits;
    limits::check_batch_len(body, limits.max_batch).ok()?;
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let ops: Vec<&serde_json::Value> = match &value {
        serde_json::Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut query = true;
    for op in ops {
        let text = op.get("query")?.as_str()?;
        limits::scan(text, limits).ok()?;
        let doc = async_graphql::parser::parse_query(text).ok()?;
        query &= doc
            .operations
            .iter()
            .all(|(_, op)| op.node.ty == async_graphql::parser::types::OperationType::Query);
    }
    Some(query)
}

/// Whether a GraphQL answer (or every answer of a batch) is complete: no
/// `errors`. An answer with errors is never stored (issue 24, finding 5).
fn graphql_complete(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Answer {
        errors: Option<serde::de::IgnoredAny>,
    }
    let batch = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    if batch {
        serde_json::from_slice::<Vec<Answer>>(body)
            .is_ok_and(|answers| answers.iter().all(|a| a.errors.is_none()))
    } else {
        serde_json::from_slice::<Answer>(body).is_ok_and(|a| a.errors.is_none())
    }
}

/// Middleware: serve and fill the cache with complete, successful answers
/// to anonymous reads.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let cache = &state.response_cache;
    if cache.entries.is_none() {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let authorized = request.headers().contains_key(header::AUTHORIZATION);
    let path = request.uri().path();
    let preview = request
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("preview=")));
    let uri = request.uri().clone();
    let graphql = path == "/graphql";

    let (request, kind) = if authorized
        || path.starts_with("/api/v1/auth/")
        || path.starts_with("/api/v1/users")
        || path.starts_with("/api/v1/webhooks")
    {
        // Private answers, sessions and accounts.
        (request, Kind::Bypass)
    } else if method == Method::GET || method == Method::HEAD {
        // (GraphQL over GET is queries only: the handler refuses mutations.)
        let kind = if preview
            || uri.query().is_some_and(|q| q.contains("previewToken"))
            || UNCACHED_PATHS.contains(&path)
        {
            Kind::Bypass
        } else {
            Kind::Cacheable(format!("{method} {uri}"))
        };
        (request, kind)
    } else if method == Method::POST && graphql {
        let (parts, body) = request.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, crate::MAX_BODY_BYTES).await else {
            return AppError::PayloadTooLarge.into_response();
        };
        let key = format!(
            "POST {uri} {}",
            crate::rest::cache::hex(&Sha256::digest(&bytes)[..16])
        );
        // Only queries are ever stored, so the same bytes found in the cache
        // are a query: served without parsing them again.
        cache.follow_the_clock(&state.db).await;
        if let Some((entry, body)) = cache.get(&key) {
            state.metrics.cache_hits.inc();
            return answer(&entry, body, &parts.headers, false);
        }
        let kind = match graphql_is_query(&bytes, &state.config.graphql) {
            Some(true) => Kind::Cacheable(key),
            // Mutations, and bodies the handler will refuse.
            _ => Kind::Bypass,
        };
        (Request::from_parts(parts, Body::from(bytes)), kind)
    } else {
        (request, Kind::Bypass)
    };

    let Kind::Cacheable(key) = kind else {
        return next.run(request).await;
    };
    cache.follow_the_clock(&state.db).await;
    // The cache answers `If-None-Match` itself. A request that
    // revalidates by date alone goes to the handler, which alone knows
    // whether its `Last-Modified` covers everything in the body (feeds
    // answer 304 to it; JSON reads do not).
    let by_date_only = request.headers().contains_key(header::IF_MODIFIED_SINCE)
        && !request.headers().contains_key(header::IF_NONE_MATCH);
    if !by_date_only && let Some((entry, body)) = cache.get(&key) {
        state.metrics.cache_hits.inc();
        return answer(&entry, body, request.headers(), method == Method::HEAD);
    }
    state.metrics.cache_misses.inc();
    let generation = cache.generation.load(Ordering::SeqCst);
    let live = cache.live.load(Ordering::SeqCst);
    let response = next.run(request).await;
    if response.status() != StatusCode::OK || !live || method == Method::HEAD {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Only an answer known to fit is kept; a larger one (a long
    // list of long articles) is passed on as it is, uncached.
    let fits = axum::body::HttpBody::size_hint(&body)
        .upper()
        .is_some_and(|n| n <= MAX_ENTRY_BYTES as u64);
    if !fits {
        return Response::from_parts(parts, body);
    }
    let bytes = match axum::body::to_bytes(body, MAX_ENTRY_BYTES).await {
        Ok(b) => b,
        Err(e) => return AppError::internal(anyhow::anyhow!("{e}")).into_response(),
    };
    let headers: Arc<[_]> = KEPT_HEADERS
        .iter()
        .flat_map(|name| {
            parts
                .headers
                .get_all(name)
                .iter()
                .map(|v| (name.clone(), v.clone()))
        })
        .collect();
    // Responses meant for one client only are never shared.
    let private = parts
        .headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("no-store") || v.contains("private"));
    let complete = !graphql || graphql_complete(&bytes);
    if !private
        && complete
        && let Some(entries) = &cache.entries
    {
        entries.insert(
            key,
            Arc::new(Entry {
                generation,
                status: parts.status,
                headers,
                body: Stored::new(&bytes),
            }),
        );
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A response from an entry and its expanded body: 304 when the client's
/// copy is current.
fn answer(entry: &Entry, body: Bytes, request: &HeaderMap, head: bool) -> Response {
    let not_modified = entry
        .headers
        .iter()
        .find(|(name, _)| name == header::ETAG)
        .and_then(|(_, v)| v.to_str().ok())
        .is_some_and(|etag| crate::rest::cache::none_match(request, etag));
    let length = body.len();
    let mut response = if not_modified || head {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(body))
    };
    *response.status_mut() = if not_modified {
        StatusCode::NOT_MODIFIED
    } else {
        entry.status
    };
    let headers = response.headers_mut();
    for (name, value) in entry.headers.iter() {
        if not_modified && name == header::CONTENT_TYPE {
            continue;
        }
        headers.append(name, value.clone());
    }
    if !not_modified && head {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_bodies_come_back_byte_for_byte() {
        let article = format!(
            r#"{{"title":"A “quoted” title","body":"{text}","body_html":"<p>{text}</p>","body_text":"{text}"}}"#,
            text = "Trade routes across the region, résumé and naïve café. ".repeat(60)
        );
        let stored = Stored::new(article.as_bytes());
        assert!(
            matches!(stored, Stored::Lz4 { .. }),
            "a repetitive article is compressed"
        );
        assert!(
            stored.weight() * 3 < article.len(),
            "{} of {}",
            stored.weight(),
            article.len()
        );
        assert_eq!(stored.body().as_deref(), Some(article.as_bytes()));

        let small = br#"{"data":[],"meta":{"total":0}}"#;
        let stored = Stored::new(small);
        assert!(matches!(stored, Stored::Plain(_)));
        assert_eq!(stored.body().as_deref(), Some(&small[..]));

        // Incompressible bytes are kept as they are.
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        let noise: Vec<u8> = (0..8192)
            .map(|_| {
                // xorshift64: bytes with no repeats for LZ4 to find
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 56) as u8
            })
            .collect();
        let stored = Stored::new(&noise);
        assert!(matches!(stored, Stored::Plain(_)));
        assert_eq!(stored.body().as_deref(), Some(&noise[..]));
    }

    #[test]
    fn graphql_operations_are_told_apart() {
        let limits = crate::config::GraphqlLimits::default();
        let is_query = |body: &[u8]| graphql_is_query(body, &limits);
        let q = br#"{"query": "query Front { articles { totalCount } }"}"#;
        assert_eq!(is_query(q), Some(true));
        let m = br#"{"query": "mutation { submitComment(input: {}) { status } }"}"#;
        assert_eq!(is_query(m), Some(false));
        let batch = br#"[{"query": "{ articles { totalCount } }"}, {"query": "mutation M { deleteTag(id: \"x\") }"}]"#;
        assert_eq!(is_query(batch), Some(false));
        let mixed = br#"{"query": "query A { articles { totalCount } } mutation B { deleteTag(id: \"x\") }", "operationName": "A"}"#;
        assert_eq!(is_query(mixed), Some(false));
        assert_eq!(is_query(b"{\"query\": \"{\"}"), None);
        assert_eq!(is_query(b"not json"), None);
    }

    #[test]
    fn only_answers_without_errors_are_complete() {
        assert!(graphql_complete(br#"{"data":{"a":1}}"#));
        assert!(graphql_complete(br#"[{"data":{"a":1}},{"data":null}]"#));
        assert!(!graphql_complete(
            br#"{"data":null,"errors":[{"message":"x"}]}"#
        ));
        assert!(!graphql_complete(br#"[{"data":{}},{"errors":[]}]"#));
        assert!(!graphql_complete(b"not json"));
    }
}
