//! Deliveries and their attempts, as admins read, retry or cancel them.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::{
    auth::{Actor, policy},
    domain::pagination::{Page, PageRequest},
    entities::{webhook_attempt, webhook_delivery, webhook_event},
    error::AppError,
    services::{new_id, now},
    state::AppState,
};

use super::*;

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
pub(super) async fn events_by_id(
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
) -> Result<crate::domain::pagination::Connection<DeliveryView>, AppError> {
    use crate::domain::pagination::Cursor;
    policy::require_admin(actor)?;
    find(&state.db, webhook_id).await?;
    let limit = crate::domain::pagination::first_window(first, 20)?;
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
    Ok(crate::domain::pagination::Connection {
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
