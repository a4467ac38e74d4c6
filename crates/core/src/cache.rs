//! The store of a response cache for anonymous reads that is never stale.
//!
//! Which requests are answered from it, and what of a response is kept, is
//! the HTTP layer's business (the root crate's `http::response_cache`); this
//! module keeps answers under the generation they were computed in, and
//! knows when a generation ends.
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

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};

use crate::{
    entities::{author, source, tag},
    state::AppState,
};

/// The PostgreSQL channel invalidations travel on.
pub const CHANNEL: &str = "broadsheet_cache";
/// How often SQLite's `data_version` is polled.
const SQLITE_POLL: Duration = Duration::from_millis(200);

/// One stored answer. What to keep of a response, and when, is the HTTP
/// layer's business; the store keeps what it is given under a generation.
#[derive(Debug)]
pub struct Entry {
    generation: u64,
    pub status: StatusCode,
    /// The headers kept of the origin response, shared with the entry's
    /// expanded copy in the hot tier (a `HeaderMap` is several times larger).
    pub headers: Arc<[(HeaderName, HeaderValue)]>,
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

    /// Whether caching is on at all (a budget above 0).
    pub fn enabled(&self) -> bool {
        self.entries.is_some()
    }

    /// The generation an answer computed from now on belongs to, or `None`
    /// when it must not be stored (this instance might miss a write: the
    /// PostgreSQL listener is down). Taken *before* the answer is computed.
    pub fn ticket(&self) -> Option<u64> {
        let generation = self.generation.load(Ordering::SeqCst);
        self.live.load(Ordering::SeqCst).then_some(generation)
    }

    /// Keep an answer computed under `ticket`; served only while no write
    /// has happened since the ticket was taken.
    pub fn store(
        &self,
        key: String,
        ticket: u64,
        status: StatusCode,
        headers: Arc<[(HeaderName, HeaderValue)]>,
        body: &[u8],
    ) {
        if let Some(entries) = &self.entries {
            entries.insert(
                key,
                Arc::new(Entry {
                    generation: ticket,
                    status,
                    headers,
                    body: Stored::new(body),
                }),
            );
        }
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
    pub fn get(&self, key: &str) -> Option<(Arc<Entry>, Bytes)> {
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
    pub async fn follow_the_clock(&self, db: &DatabaseConnection) {
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
}
