//! The outbox: events written in the changing transaction and fanned out
//! into one delivery job per subscribed endpoint.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::{
    entities::{article, comment, webhook, webhook_delivery, webhook_event},
    error::AppError,
    services::{articles::ArticleView, new_id, now},
};

use super::*;

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
