//! Webhooks: admins register endpoints; every change that a receiver may
//! care about writes an event to an outbox **in the changing transaction**
//! (no event without its change, no change without its event), fanned out
//! into one delivery job per subscribed endpoint. A background worker in
//! each instance claims due jobs under a lease (on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED`, on SQLite under the write lock), so each job is
//! sent by one instance; it signs the body with HMAC-SHA256, records every
//! attempt and retries failures with exponential backoff for
//! `BROADSHEET_WEBHOOK_RETRY_WINDOW` (24 h).
//!
//! Signature (README "Webhooks"): header
//! `Broadsheet-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
    sea_query::{Expr, Query},
};
use serde_json::json;

use crate::{
    auth::{Actor, policy},
    domain::pagination::{Page, PageRequest},
    entities::{article, comment, webhook, webhook_attempt, webhook_delivery, webhook_event},
    error::{AppError, FieldError},
    services::{articles::ArticleView, new_id, now},
    state::AppState,
};

/// Every event a webhook may subscribe to.
pub const EVENTS: [&str; 6] = [
    ARTICLE_PUBLISHED,
    ARTICLE_UPDATED,
    ARTICLE_UNPUBLISHED,
    ARTICLE_DELETED,
    COMMENT_CREATED,
    COMMENT_APPROVED,
];
pub const ARTICLE_PUBLISHED: &str = "article.published";
pub const ARTICLE_UPDATED: &str = "article.updated";
pub const ARTICLE_UNPUBLISHED: &str = "article.unpublished";
pub const ARTICLE_DELETED: &str = "article.deleted";
pub const COMMENT_CREATED: &str = "comment.created";
pub const COMMENT_APPROVED: &str = "comment.approved";

/// Delivery `state` values.
pub const PENDING: &str = "pending";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";
pub const CANCELLED: &str = "cancelled";

/// The signature header and the others sent with every delivery.
pub const SIGNATURE_HEADER: &str = "Broadsheet-Signature";

const MAX_DESCRIPTION_CHARS: usize = 500;
const EXCERPT_BYTES: usize = 1024;
/// Retries never wait longer than this between two attempts.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(3600);
/// Finished events (and their delivery records) are kept this many days.
const KEEP_DAYS: i64 = 30;
/// Jobs claimed at once by one instance.
const CLAIM_BATCH: u64 = 16;

// ---------------------------------------------------------------- endpoints

/// A registered endpoint as admins see it (the secret only at creation).
#[derive(Debug, Clone)]
pub struct WebhookView {
    pub webhook: webhook::Model,
    pub events: Vec<String>,
    /// Set only in the answer to a creation or a secret change.
    pub secret: Option<String>,
}

impl WebhookView {
    fn new(webhook: webhook::Model, reveal_secret: bool) -> Self {
        WebhookView {
            events: serde_json::from_str(&webhook.events).unwrap_or_default(),
            secret: reveal_secret.then(|| webhook.secret.clone()),
            webhook,
        }
    }
}

/// Fields of a new or changed endpoint; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct WebhookFields {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// At least 16 characters; generated when a new endpoint has none.
    pub secret: Option<String>,
    pub active: Option<bool>,
    pub description: Option<Option<String>>,
}

async fn validate_fields(
    state: &AppState,
    f: &mut WebhookFields,
    creating: bool,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    match &f.url {
        Some(url) => {
            if let Err(refused) =
                crate::outbound::check_url(url, state.config.webhook_allow_private).await
            {
                errors.push(FieldError::new("url", url_message(&refused)));
            }
        }
        None if creating => errors.push(FieldError::new("url", "is required")),
        None => {}
    }
    match &mut f.events {
        Some(events) => {
            let mut seen = HashSet::new();
            events.retain(|e| seen.insert(e.clone()));
            if events.is_empty() {
                errors.push(FieldError::new(
                    "events",
                    format!("must list at least one of {}", EVENTS.join(", ")),
                ));
            }
            for e in events.iter() {
                if !EVENTS.contains(&e.as_str()) {
                    errors.push(FieldError::new(
                        "events",
                        format!("{e:?} is not one of {}", EVENTS.join(", ")),
                    ));
                }
            }
        }
        None if creating => errors.push(FieldError::new(
            "events",
            format!("is required: a list of {}", EVENTS.join(", ")),
        )),
        None => {}
    }
    if let Some(secret) = &f.secret {
        let n = secret.chars().count();
        if !(16..=256).contains(&n) || secret.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "secret",
                "must be 16 to 256 printable characters",
            ));
        }
    }
    if let Some(Some(d)) = &f.description
        && d.chars().count() > MAX_DESCRIPTION_CHARS
    {
        errors.push(FieldError::new(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// What a refused webhook URL's `url` field error says.
fn url_message(refused: &crate::outbound::Refused) -> String {
    match refused {
        crate::outbound::Refused::NotPublic => {
            "points at a private, loopback, link-local or otherwise non-public address, \
             which is refused (an admin may allow it with BROADSHEET_WEBHOOK_ALLOW_PRIVATE)"
                .to_string()
        }
        other => other.to_string(),
    }
}

/// A new random signing secret: `whsec_` and 32 random bytes, base64url.
fn generate_secret() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut bytes[..]);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

pub async fn list(state: &AppState, actor: &Actor) -> Result<Vec<WebhookView>, AppError> {
    policy::require_admin(actor)?;
    Ok(webhook::Entity::find()
        .order_by_asc(webhook::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|w| WebhookView::new(w, false))
        .collect())
}

async fn find(db: &impl ConnectionTrait, id: &str) -> Result<webhook::Model, AppError> {
    webhook::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(AppError::NotFound {
            resource: "webhook",
        })
}

pub async fn get(state: &AppState, actor: &Actor, id: &str) -> Result<WebhookView, AppError> {
    policy::require_admin(actor)?;
    Ok(WebhookView::new(find(&state.db, id).await?, false))
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    mut f: WebhookFields,
) -> Result<WebhookView, AppError> {
    let admin = policy::require_admin(actor)?.to_string();
    validate_fields(state, &mut f, true).await?;
    let at = now();
    let model = webhook::Model {
        id: new_id(),
        url: f.url.unwrap_or_default().trim().to_string(),
        secret: f.secret.unwrap_or_else(generate_secret),
        events: serde_json::to_string(&f.events.unwrap_or_default()).map_err(AppError::internal)?,
        active: f.active.unwrap_or(true),
        description: f.description.flatten().filter(|d| !d.trim().is_empty()),
        created_by: Some(admin),
        created_at: at,
        updated_at: at,
    };
    webhook::Entity::insert(webhook::ActiveModel::from(model.clone()))
        .exec_without_returning(&state.db)
        .await?;
    Ok(WebhookView::new(model, true))
}

pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: &str,
    mut f: WebhookFields,
) -> Result<WebhookView, AppError> {
    policy::require_admin(actor)?;
    let current = find(&state.db, id).await?;
    validate_fields(state, &mut f, false).await?;
    let new_secret = f.secret.is_some();
    let mut m: webhook::ActiveModel = current.into();
    if let Some(url) = f.url {
        m.url = Set(url.trim().to_string());
    }
    if let Some(events) = f.events {
        m.events = Set(serde_json::to_string(&events).map_err(AppError::internal)?);
    }
    if let Some(secret) = f.secret {
        m.secret = Set(secret);
    }
    if let Some(active) = f.active {
        m.active = Set(active);
    }
    if let Some(d) = f.description {
        m.description = Set(d.filter(|d| !d.trim().is_empty()));
    }
    m.updated_at = Set(now());
    let saved = sea_orm::ActiveModelTrait::update(m, &state.db).await?;
    Ok(WebhookView::new(saved, new_secret))
}

/// Delete an endpoint with its pending deliveries and their records.
pub async fn delete(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    policy::require_admin(actor)?;
    let res = webhook::Entity::delete_by_id(id.to_string())
        .exec(&state.db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound {
            resource: "webhook",
        });
    }
    Ok(())
}

// ---------------------------------------------------------------- outbox

fn article_payload(a: &article::Model, view: Option<&ArticleView>) -> serde_json::Value {
    let mut data = json!({
        "id": a.id,
        "slug": a.slug,
        "title": a.title,
        "status": a.status,
        "published_at": a.published_at,
        "updated_at": a.updated_at,
        "version": a.version,
    });
    if let Some(v) = view {
        data["url"] = json!(v.canonical_url);
        data["authors"] = json!(
            v.authors
                .iter()
                .map(|au| json!({"id": au.id, "slug": au.slug, "name": au.name}))
                .collect::<Vec<_>>()
        );
        data["tags"] = json!(v.tags.iter().map(|t| &t.slug).collect::<Vec<_>>());
        data["source"] = v.source.as_ref().map_or(
            serde_json::Value::Null,
            |s| json!({"id": s.id, "slug": s.slug, "name": s.name}),
        );
    }
    json!({ "article": data })
}

fn comment_payload(c: &comment::Model) -> serde_json::Value {
    // Never the email, address or user agent: those are not published.
    json!({ "comment": {
        "id": c.id,
        "article_id": c.article_id,
        "parent_id": c.parent_id,
        "author_name": c.author_name,
        "author_url": c.author_url,
        "body": c.body,
        "status": c.status,
        "created_at": c.created_at,
    }})
}

/// Write one event and a delivery per subscribed active endpoint, in `txn`.
/// Nothing is written when no endpoint subscribes.
async fn enqueue(
    txn: &impl ConnectionTrait,
    event_type: &str,
    article_id: Option<&str>,
    data: serde_json::Value,
    occurs_at: DateTime<Utc>,
) -> Result<(), AppError> {
    let hooks = active_hooks(txn).await?;
    enqueue_to(txn, &hooks, event_type, article_id, data, occurs_at).await
}

/// The active endpoints (read once when a write raises several events).
pub(crate) async fn active_hooks(
    txn: &impl ConnectionTrait,
) -> Result<Vec<webhook::Model>, AppError> {
    Ok(webhook::Entity::find()
        .filter(webhook::Column::Active.eq(true))
        .all(txn)
        .await?)
}

fn subscribes(hook: &webhook::Model, event_type: &str) -> bool {
    serde_json::from_str::<Vec<String>>(&hook.events)
        .is_ok_and(|events| events.iter().any(|e| e == event_type))
}

/// Whether any of `active` subscribes to `event_type`.
pub(crate) fn subscribed(active: &[webhook::Model], event_type: &str) -> bool {
    active.iter().any(|w| subscribes(w, event_type))
}

/// [`enqueue`] to those of `active` that subscribe to `event_type`.
async fn enqueue_to(
    txn: &impl ConnectionTrait,
    active: &[webhook::Model],
    event_type: &str,
    article_id: Option<&str>,
    data: serde_json::Value,
    occurs_at: DateTime<Utc>,
) -> Result<(), AppError> {
    let hooks: Vec<&webhook::Model> = active
        .iter()
        .filter(|w| subscribes(w, event_type))
        .collect();
    if hooks.is_empty() {
        return Ok(());
    }
    let at = now();
    let id = new_id();
    let payload = json!({
        "id": id,
        "type": event_type,
        "created_at": at,
        "occurred_at": occurs_at,
        "data": data,
    });
    webhook_event::Entity::insert(webhook_event::ActiveModel {
        id: Set(id.clone()),
        event_type: Set(event_type.to_string()),
        article_id: Set(article_id.map(str::to_string)),
        payload: Set(payload.to_string()),
        occurs_at: Set(occurs_at),
        created_at: Set(at),
    })
    .exec_without_returning(txn)
    .await?;
    webhook_delivery::Entity::insert_many(hooks.iter().map(|w| webhook_delivery::ActiveModel {
        id: Set(new_id()),
        event_id: Set(id.clone()),
        webhook_id: Set(w.id.clone()),
        state: Set(PENDING.into()),
        attempts: Set(0),
        next_attempt_at: Set(occurs_at),
        locked_until: Set(None),
        locked_by: Set(None),
        last_status: Set(None),
        last_error: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
        completed_at: Set(None),
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Events for an article write, in its transaction: `before` is the row
/// before the change (none when created), `after` the result (none when
/// deleted). A scheduled article gets its `article.published` at its time;
/// any later change first withdraws that pending event.
pub(crate) async fn article_changed(
    txn: &impl ConnectionTrait,
    before: Option<&article::Model>,
    after: Option<&ArticleView>,
) -> Result<(), AppError> {
    let at = now();
    let Some(id) = after.map(|v| &v.article.id).or(before.map(|b| &b.id)) else {
        return Ok(());
    };
    if before.is_some() {
        // Withdraw a publication announced for later that has not come yet.
        webhook_event::Entity::delete_many()
            .filter(webhook_event::Column::ArticleId.eq(id.as_str()))
            .filter(webhook_event::Column::EventType.eq(ARTICLE_PUBLISHED))
            .filter(webhook_event::Column::OccursAt.gt(at))
            .exec(txn)
            .await?;
    }
    let was_visible = before.is_some_and(|b| crate::services::articles::is_public_at(b, at));
    // One read of the endpoints, whatever the events this write raises.
    let hooks = active_hooks(txn).await?;
    let Some(view) = after else {
        let b = before.expect("a deletion has the deleted row");
        let data = article_payload(b, None);
        return enqueue_to(txn, &hooks, ARTICLE_DELETED, Some(id), data, at).await;
    };
    let a = &view.article;
    let visible = crate::services::articles::is_public_at(a, at);
    let data = article_payload(a, Some(view));
    let event = match (was_visible, visible) {
        (false, true) => Some(ARTICLE_PUBLISHED),
        (true, true) => Some(ARTICLE_UPDATED),
        (true, false) => Some(ARTICLE_UNPUBLISHED),
        (false, false) => None,
    };
    if let Some(event) = event {
        enqueue_to(txn, &hooks, event, Some(id), data.clone(), at).await?;
    }
    if let Some(when) = crate::services::articles::scheduled_after(a, at) {
        enqueue_to(txn, &hooks, ARTICLE_PUBLISHED, Some(id), data, when).await?;
    }
    Ok(())
}

/// `comment.created`, and `comment.approved` when it was approved at once.
pub(crate) async fn comment_created(
    txn: &impl ConnectionTrait,
    hooks: &[webhook::Model],
    c: &comment::Model,
) -> Result<(), AppError> {
    let at = now();
    enqueue_to(
        txn,
        hooks,
        COMMENT_CREATED,
        Some(&c.article_id),
        comment_payload(c),
        at,
    )
    .await?;
    if c.status == crate::services::comments::APPROVED {
        enqueue_to(
            txn,
            hooks,
            COMMENT_APPROVED,
            Some(&c.article_id),
            comment_payload(c),
            at,
        )
        .await?;
    }
    Ok(())
}

/// `comment.approved` for a comment that moderation has just approved.
pub(crate) async fn comment_approved(
    txn: &impl ConnectionTrait,
    c: &comment::Model,
) -> Result<(), AppError> {
    enqueue(
        txn,
        COMMENT_APPROVED,
        Some(&c.article_id),
        comment_payload(c),
        now(),
    )
    .await
}

// ---------------------------------------------------------------- deliveries

/// One delivery with its event, for admins.
#[derive(Debug, Clone)]
pub struct DeliveryView {
    pub delivery: webhook_delivery::Model,
    pub event_type: String,
    /// The JSON body sent.
    pub payload: String,
    /// Every attempt, oldest first (only for a single delivery).
    pub attempts: Vec<webhook_attempt::Model>,
}

/// Events by id.
async fn events_by_id(
    db: &impl ConnectionTrait,
    ids: Vec<String>,
) -> Result<HashMap<String, webhook_event::Model>, AppError> {
    Ok(webhook_event::Entity::find()
        .filter(webhook_event::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id.clone(), e))
        .collect())
}

async fn views(
    db: &impl ConnectionTrait,
    deliveries: Vec<webhook_delivery::Model>,
) -> Result<Vec<DeliveryView>, AppError> {
    let events = events_by_id(db, deliveries.iter().map(|d| d.event_id.clone()).collect()).await?;
    Ok(deliveries
        .into_iter()
        .map(|d| {
            let e = events.get(&d.event_id);
            DeliveryView {
                event_type: e.map(|e| e.event_type.clone()).unwrap_or_default(),
                payload: e.map(|e| e.payload.clone()).unwrap_or_default(),
                delivery: d,
                attempts: Vec::new(),
            }
        })
        .collect())
}

/// An endpoint's deliveries, newest first.
pub async fn deliveries(
    state: &AppState,
    actor: &Actor,
    webhook_id: &str,
    page: PageRequest,
) -> Result<Page<DeliveryView>, AppError> {
    policy::require_admin(actor)?;
    find(&state.db, webhook_id).await?;
    let q =
        webhook_delivery::Entity::find().filter(webhook_delivery::Column::WebhookId.eq(webhook_id));
    let total = q.clone().count(&state.db).await?;
    let rows = q
        .order_by_desc(webhook_delivery::Column::Id)
        .offset(page.offset())
        .limit(page.per_page)
        .all(&state.db)
        .await?;
    Ok(Page {
        items: views(&state.db, rows).await?,
        page: page.page,
        per_page: page.per_page,
        total,
    })
}

/// An endpoint's deliveries, newest first, as a keyset connection (GraphQL).
pub async fn delivery_connection(
    state: &AppState,
    actor: &Actor,
    webhook_id: &str,
    first: Option<i32>,
    after: Option<String>,
) -> Result<crate::services::articles::Connection<DeliveryView>, AppError> {
    use crate::domain::pagination::Cursor;
    policy::require_admin(actor)?;
    find(&state.db, webhook_id).await?;
    let limit = crate::services::articles::first_window(first, 20)?;
    let after = after
        .as_deref()
        .map(|c| Cursor::decode("after", "created_at", c))
        .transpose()?;
    // The position is the id; the instant must still be one (a forged key is refused).
    if let Some(c) = &after {
        c.time("after")?;
    }
    let all =
        webhook_delivery::Entity::find().filter(webhook_delivery::Column::WebhookId.eq(webhook_id));
    let total_count = all.clone().count(&state.db).await?;
    let mut query = all.order_by_desc(webhook_delivery::Column::Id);
    if let Some(c) = &after {
        query = query.filter(webhook_delivery::Column::Id.lt(c.id.clone()));
    }
    let mut rows = if limit == 0 {
        Vec::new()
    } else {
        query.limit(limit + 1).all(&state.db).await?
    };
    let has_next_page = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    Ok(crate::services::articles::Connection {
        edges: views(&state.db, rows)
            .await?
            .into_iter()
            .map(|v| {
                (
                    Cursor::at("created_at", v.delivery.created_at, &v.delivery.id),
                    v,
                )
            })
            .collect(),
        has_next_page,
        has_previous_page: after.is_some(),
        total_count,
    })
}

async fn find_delivery(
    db: &impl ConnectionTrait,
    webhook_id: &str,
    delivery_id: &str,
) -> Result<webhook_delivery::Model, AppError> {
    webhook_delivery::Entity::find_by_id(delivery_id.to_string())
        .filter(webhook_delivery::Column::WebhookId.eq(webhook_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound {
            resource: "delivery",
        })
}

/// One delivery with every attempt.
pub async fn delivery(
    state: &AppState,
    actor: &Actor,
    webhook_id: &str,
    delivery_id: &str,
) -> Result<DeliveryView, AppError> {
    policy::require_admin(actor)?;
    let d = find_delivery(&state.db, webhook_id, delivery_id).await?;
    let attempts = attempts(state, actor, &d.id).await?;
    let mut view = views(&state.db, vec![d]).await?.remove(0);
    view.attempts = attempts;
    Ok(view)
}

/// Every attempt of one delivery, oldest first.
pub async fn attempts(
    state: &AppState,
    actor: &Actor,
    delivery_id: &str,
) -> Result<Vec<webhook_attempt::Model>, AppError> {
    policy::require_admin(actor)?;
    Ok(webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.eq(delivery_id))
        .order_by_asc(webhook_attempt::Column::Attempt)
        .all(&state.db)
        .await?)
}

/// Send an event again: a new delivery of the same event to the same
/// endpoint, due now (the old one and its attempts stay as they were).
pub async fn redeliver(
    state: &AppState,
    actor: &Actor,
    webhook_id: &str,
    delivery_id: &str,
) -> Result<DeliveryView, AppError> {
    policy::require_admin(actor)?;
    let old = find_delivery(&state.db, webhook_id, delivery_id).await?;
    let at = now();
    let fresh = webhook_delivery::Model {
        id: new_id(),
        event_id: old.event_id,
        webhook_id: old.webhook_id,
        state: PENDING.into(),
        attempts: 0,
        next_attempt_at: at,
        locked_until: None,
        locked_by: None,
        last_status: None,
        last_error: None,
        created_at: at,
        updated_at: at,
        completed_at: None,
    };
    webhook_delivery::Entity::insert(webhook_delivery::ActiveModel::from(fresh.clone()))
        .exec_without_returning(&state.db)
        .await?;
    state.webhook_wake.notify_one();
    Ok(views(&state.db, vec![fresh]).await?.remove(0))
}

// ---------------------------------------------------------------- worker

/// `t=<unix>,v1=<hex>`: HMAC-SHA256 with `secret` over `"<t>.<body>"`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key size");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// The delay before attempt `attempts + 1`: base × 2^(attempts − 1), at most an hour.
pub fn retry_delay(base_ms: u32, attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 30) as u32 - 1;
    let ms = u64::from(base_ms).saturating_mul(1u64 << Ord::min(exp, 40));
    Duration::from_millis(ms).min(MAX_RETRY_DELAY)
}

/// Start this instance's delivery worker; it stops when `stop` flips to true.
pub fn spawn_worker(
    state: AppState,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let worker = match Worker::new(state) {
            Ok(w) => Arc::new(w),
            Err(e) => {
                tracing::error!(error = %e, "webhook worker cannot start");
                return;
            }
        };
        let poll = Duration::from_millis(worker.state.config.webhook_poll_ms.into());
        let mut next_prune = Instant::now();
        loop {
            if *stop.borrow() {
                break;
            }
            if Instant::now() >= next_prune {
                next_prune = Instant::now() + Duration::from_secs(3600);
                match prune(&worker.state.db, KEEP_DAYS).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(events = n, "pruned old webhook events"),
                    Err(e) => tracing::warn!(error = %e, "could not prune webhook events"),
                }
            }
            let claimed = match worker.claim().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook worker could not claim deliveries");
                    Vec::new()
                }
            };
            let busy = !claimed.is_empty();
            if busy {
                let mut set = tokio::task::JoinSet::new();
                for job in claimed {
                    let w = worker.clone();
                    set.spawn(async move { w.deliver(job).await });
                }
                while set.join_next().await.is_some() {}
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = worker.state.webhook_wake.notified() => {}
                _ = stop.changed() => {}
            }
        }
    })
}

struct Job {
    delivery: webhook_delivery::Model,
    event: webhook_event::Model,
    webhook: webhook::Model,
}

struct Worker {
    state: AppState,
    client: crate::outbound::Client,
    /// Who holds a lease (`locked_by`).
    instance: String,
}

impl Worker {
    fn new(state: AppState) -> Result<Self, reqwest::Error> {
        let timeout = Duration::from_secs(state.config.webhook_timeout_secs.into());
        // Redirects are never followed: a receiver answers where it was
        // registered (and the signature is for that endpoint).
        let client = crate::outbound::Client::new(crate::outbound::Options {
            allow_private: state.config.webhook_allow_private,
            timeout,
            redirects: None,
            user_agent: concat!("Broadsheet-Webhooks/", env!("CARGO_PKG_VERSION")).into(),
        })?;
        Ok(Worker {
            state,
            client,
            instance: new_id(),
        })
    }

    /// Lease up to [`CLAIM_BATCH`] due jobs for this instance.
    async fn claim(&self) -> Result<Vec<Job>, AppError> {
        let at = now();
        let lease =
            chrono::Duration::seconds(i64::from(self.state.config.webhook_timeout_secs) + 60);
        let until = at + lease;
        // Look before taking the write lock: idle polls stay read-only.
        let due = webhook_delivery::Entity::find()
            .select_only()
            .column(webhook_delivery::Column::Id)
            .filter(webhook_delivery::Column::State.eq(PENDING))
            .filter(webhook_delivery::Column::NextAttemptAt.lte(at))
            .filter(
                sea_orm::Condition::any()
                    .add(webhook_delivery::Column::LockedUntil.is_null())
                    .add(webhook_delivery::Column::LockedUntil.lt(at)),
            )
            .into_tuple::<String>()
            .one(&self.state.db)
            .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        let txn = crate::services::write_txn_unseen(&self.state.db).await?;
        let backend = txn.get_database_backend();
        let stmt = match backend {
            DbBackend::Postgres => Statement::from_sql_and_values(
                backend,
                "UPDATE webhook_deliveries SET locked_until = $1, locked_by = $2, updated_at = $3 \
                 WHERE id IN (SELECT id FROM webhook_deliveries \
                   WHERE state = 'pending' AND next_attempt_at <= $3 \
                   AND (locked_until IS NULL OR locked_until < $3) \
                   ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
                 AND state = 'pending' AND (locked_until IS NULL OR locked_until < $3) \
                 RETURNING id",
                [
                    until.into(),
                    self.instance.clone().into(),
                    at.into(),
                    (CLAIM_BATCH as i64).into(),
                ],
            ),
            _ => Statement::from_sql_and_values(
                backend,
                "UPDATE webhook_deliveries SET locked_until = ?, locked_by = ?, updated_at = ? \
                 WHERE id IN (SELECT id FROM webhook_deliveries \
                   WHERE state = 'pending' AND next_attempt_at <= ? \
                   AND (locked_until IS NULL OR locked_until < ?) \
                   ORDER BY next_attempt_at LIMIT ?) \
                 RETURNING id",
                [
                    until.into(),
                    self.instance.clone().into(),
                    at.into(),
                    at.into(),
                    at.into(),
                    (CLAIM_BATCH as i64).into(),
                ],
            ),
        };
        let ids: Vec<String> = txn
            .query_all_raw(stmt)
            .await?
            .iter()
            .map(|row| row.try_get::<String>("", "id"))
            .collect::<Result<_, _>>()?;
        txn.commit().await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let db = &self.state.db;
        let deliveries = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::Id.is_in(ids))
            .all(db)
            .await?;
        let event_ids: Vec<String> = deliveries.iter().map(|d| d.event_id.clone()).collect();
        let hook_ids: Vec<String> = deliveries.iter().map(|d| d.webhook_id.clone()).collect();
        let events = events_by_id(db, event_ids).await?;
        let hooks: HashMap<String, webhook::Model> = webhook::Entity::find()
            .filter(webhook::Column::Id.is_in(hook_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|w| (w.id.clone(), w))
            .collect();
        Ok(deliveries
            .into_iter()
            .filter_map(|d| {
                let event = events.get(&d.event_id)?.clone();
                let webhook = hooks.get(&d.webhook_id)?.clone();
                Some(Job {
                    delivery: d,
                    event,
                    webhook,
                })
            })
            .collect())
    }

    /// One HTTP attempt for `job`, then its record and the job's new state.
    async fn deliver(&self, job: Job) {
        let Job {
            delivery,
            event,
            webhook,
        } = job;
        let attempt = delivery.attempts + 1;
        let started_at = now();
        let clock = Instant::now();
        let outcome = if !webhook.active {
            Outcome::Cancelled("the webhook is inactive".into())
        } else {
            self.send(&delivery, &event, &webhook).await
        };
        let duration_ms = i32::try_from(clock.elapsed().as_millis()).unwrap_or(i32::MAX);
        let config = &self.state.config;
        let at = now();
        let (state, next, status, error, excerpt) = match outcome {
            Outcome::Delivered { status, excerpt } => (SUCCEEDED, at, Some(status), None, excerpt),
            Outcome::Cancelled(why) => (CANCELLED, at, None, Some(why), None),
            Outcome::Failed {
                status,
                error,
                excerpt,
            } => {
                let delay = retry_delay(config.webhook_retry_base_ms, attempt);
                let next = at + chrono::Duration::from_std(delay).unwrap_or_default();
                let deadline = std::cmp::max(delivery.created_at, event.occurs_at)
                    + chrono::Duration::seconds(config.webhook_retry_window_secs.into());
                let state = if next > deadline { FAILED } else { PENDING };
                (state, next, status, error, excerpt)
            }
        };
        let done = state != PENDING;
        let record = async {
            let txn = crate::services::write_txn_unseen(&self.state.db).await?;
            webhook_attempt::Entity::insert(webhook_attempt::ActiveModel {
                id: Set(new_id()),
                delivery_id: Set(delivery.id.clone()),
                attempt: Set(attempt),
                started_at: Set(started_at),
                duration_ms: Set(duration_ms),
                status_code: Set(status),
                error: Set(error.clone()),
                response_excerpt: Set(excerpt),
            })
            .exec_without_returning(&txn)
            .await?;
            // Only while this instance still holds the lease.
            webhook_delivery::Entity::update_many()
                .col_expr(webhook_delivery::Column::State, Expr::value(state))
                .col_expr(
                    webhook_delivery::Column::Attempts,
                    Expr::col(webhook_delivery::Column::Attempts).add(1),
                )
                .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(next))
                .col_expr(
                    webhook_delivery::Column::LockedUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(
                    webhook_delivery::Column::LockedBy,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(webhook_delivery::Column::LastStatus, Expr::value(status))
                .col_expr(webhook_delivery::Column::LastError, Expr::value(error))
                .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(at))
                .col_expr(
                    webhook_delivery::Column::CompletedAt,
                    Expr::value(done.then_some(at)),
                )
                .filter(webhook_delivery::Column::Id.eq(delivery.id.clone()))
                .filter(webhook_delivery::Column::LockedBy.eq(self.instance.clone()))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            Ok::<(), AppError>(())
        };
        if let Err(e) = record.await {
            tracing::warn!(delivery = %delivery.id, error = %e, "could not record a webhook attempt");
        }
        self.state
            .metrics
            .webhook_deliveries
            .get_or_create(&crate::metrics::WebhookLabels {
                outcome: state.to_string(),
            })
            .inc();
        tracing::info!(
            delivery = %delivery.id,
            event = %event.event_type,
            attempt,
            state,
            status = ?status,
            duration_ms,
            "webhook delivery"
        );
    }

    async fn send(
        &self,
        delivery: &webhook_delivery::Model,
        event: &webhook_event::Model,
        webhook: &webhook::Model,
    ) -> Outcome {
        // Refused before any connection: a non-public address literal (a
        // name's addresses are judged by the client's resolver).
        let request = match self.client.request(reqwest::Method::POST, &webhook.url) {
            Ok(request) => request,
            Err(crate::outbound::Refused::NotPublic) => {
                return Outcome::Cancelled(
                    "the URL points at a private, loopback or other non-public address, \
                     which is refused"
                        .into(),
                );
            }
            Err(refused) => return Outcome::Cancelled(format!("the URL {refused}")),
        };
        let timestamp = Utc::now().timestamp();
        let body = event.payload.clone().into_bytes();
        let request = request
            .header("content-type", "application/json")
            .header("Broadsheet-Event", &event.event_type)
            .header("Broadsheet-Event-Id", &event.id)
            .header("Broadsheet-Delivery-Id", &delivery.id)
            .header("Broadsheet-Timestamp", timestamp.to_string())
            .header(
                SIGNATURE_HEADER,
                signature(&webhook.secret, timestamp, &body),
            )
            .body(body);
        match request.send().await {
            Ok(mut response) => {
                let status = i32::from(response.status().as_u16());
                let mut excerpt = Vec::new();
                let mut read_error = None;
                while excerpt.len() < EXCERPT_BYTES {
                    match response.chunk().await {
                        Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                        Ok(None) => break,
                        Err(e) => {
                            read_error = Some(describe(&e, &self.state));
                            break;
                        }
                    }
                }
                excerpt.truncate(EXCERPT_BYTES);
                // PostgreSQL refuses NUL in text: a receiver answering one
                // must not make the attempt unrecordable (and so retried
                // forever). Other control characters go too, except line breaks.
                let excerpt = Some(
                    String::from_utf8_lossy(&excerpt)
                        .chars()
                        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
                        .collect::<String>(),
                );
                if response.status().is_success() {
                    Outcome::Delivered { status, excerpt }
                } else {
                    Outcome::Failed {
                        status: Some(status),
                        error: read_error.or(Some(format!("the receiver answered {status}"))),
                        excerpt,
                    }
                }
            }
            Err(e) => Outcome::Failed {
                status: None,
                error: Some(describe(&e, &self.state)),
                excerpt: None,
            },
        }
    }
}

enum Outcome {
    Delivered {
        status: i32,
        excerpt: Option<String>,
    },
    Failed {
        status: Option<i32>,
        error: Option<String>,
        excerpt: Option<String>,
    },
    Cancelled(String),
}

/// One line for a failed request, with its causes.
fn describe(e: &reqwest::Error, state: &AppState) -> String {
    if e.is_timeout() {
        return format!(
            "no answer within {} s (BROADSHEET_WEBHOOK_TIMEOUT)",
            state.config.webhook_timeout_secs
        );
    }
    let mut text = if e.is_connect() {
        "could not connect".to_string()
    } else {
        "the request failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Delete events older than `days` whose deliveries are all finished
/// (with their deliveries and attempts).
pub async fn prune(db: &impl ConnectionTrait, days: i64) -> Result<u64, AppError> {
    let before = now() - chrono::Duration::days(days);
    let res = webhook_event::Entity::delete_many()
        .filter(webhook_event::Column::CreatedAt.lt(before))
        .filter(
            webhook_event::Column::Id.not_in_subquery(
                Query::select()
                    .column(webhook_delivery::Column::EventId)
                    .from(webhook_delivery::Entity)
                    .and_where(Expr::col(webhook_delivery::Column::State).eq(PENDING))
                    .to_owned(),
            ),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_vector() {
        // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec_test_secret_123'
        let sig = signature("whsec_test_secret_123", 1_700_000_000, br#"{"a":1}"#);
        assert_eq!(
            sig,
            "t=1700000000,v1=e89dcbfdce3392fb275033fb083d8c81e095a63bf687d9a2cd50e7d5f55e21f6"
        );
    }

    /// The outbox shares the writer's transaction: rolled back, no event
    /// and no delivery remain; committed, both do.
    #[tokio::test]
    async fn a_rolled_back_write_leaves_no_event() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let db = crate::db::connect(&crate::config::Config::with_database(url))
            .await
            .unwrap();
        crate::db::migrate_up(&db).await.unwrap();
        let at = now();
        webhook::Entity::insert(webhook::ActiveModel::from(webhook::Model {
            id: new_id(),
            url: "https://hooks.example.org/x".into(),
            secret: generate_secret(),
            events: json!([COMMENT_CREATED]).to_string(),
            active: true,
            description: None,
            created_by: None,
            created_at: at,
            updated_at: at,
        }))
        .exec_without_returning(&db)
        .await
        .unwrap();
        let c = comment::Model {
            id: new_id(),
            article_id: new_id(),
            parent_id: None,
            depth: 0,
            author_name: "A reader".into(),
            author_email: "reader@example.org".into(),
            author_url: None,
            user_id: None,
            body: "Leave a reply".into(),
            status: "pending".into(),
            ip: None,
            user_agent: None,
            created_at: at,
            updated_at: at,
        };
        let txn = crate::services::write_txn_unseen(&db).await.unwrap();
        comment_created(&txn, &active_hooks(&txn).await.unwrap(), &c)
            .await
            .unwrap();
        drop(txn);
        assert_eq!(webhook_event::Entity::find().count(&db).await.unwrap(), 0);
        assert_eq!(
            webhook_delivery::Entity::find().count(&db).await.unwrap(),
            0
        );
        let txn = crate::services::write_txn_unseen(&db).await.unwrap();
        comment_created(&txn, &active_hooks(&txn).await.unwrap(), &c)
            .await
            .unwrap();
        txn.commit().await.unwrap();
        assert_eq!(webhook_event::Entity::find().count(&db).await.unwrap(), 1);
        assert_eq!(
            webhook_delivery::Entity::find().count(&db).await.unwrap(),
            1
        );
        db.close().await.unwrap();
    }

    #[test]
    fn retries_double_up_to_an_hour() {
        assert_eq!(retry_delay(10_000, 1), Duration::from_secs(10));
        assert_eq!(retry_delay(10_000, 2), Duration::from_secs(20));
        assert_eq!(retry_delay(10_000, 4), Duration::from_secs(80));
        assert_eq!(retry_delay(10_000, 20), Duration::from_secs(3600));
        assert_eq!(retry_delay(10_000, 1000), Duration::from_secs(3600));
    }
}
