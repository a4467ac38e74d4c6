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

use std::time::Duration;

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

mod deliveries;
mod endpoints;
mod outbox;
mod worker;

pub use deliveries::*;
pub use endpoints::*;
pub(crate) use outbox::*;
pub use worker::*;

#[cfg(test)]
mod tests {
    use sea_orm::{EntityTrait, PaginatorTrait};
    use serde_json::json;

    use super::*;
    use crate::{
        entities::{comment, webhook, webhook_delivery, webhook_event},
        services::{new_id, now},
    };

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
