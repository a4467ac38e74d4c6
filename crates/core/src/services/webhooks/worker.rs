//! The delivery worker: claims due jobs under a lease, signs and sends them,
//! records each attempt and retries with exponential backoff.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, ExprTrait, QueryFilter, QuerySelect, Set,
    Statement,
    sea_query::{Expr, Query},
};

use crate::{
    entities::{webhook, webhook_attempt, webhook_delivery, webhook_event},
    error::AppError,
    services::{new_id, now},
    state::AppState,
};

use super::*;

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
