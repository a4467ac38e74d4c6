//! GraphQL webhook types (admin only): endpoints, their deliveries and
//! attempts, and the inputs of their mutations.

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::{
    auth::Actor,
    domain::pagination::Connection,
    entities::webhook_attempt,
    graphql::{error::GqlResultExt, types::PageInfo},
    services::webhooks::{self, DeliveryView, WebhookFields, WebhookView},
    state::AppState,
};

/// An event a webhook may subscribe to.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum WebhookEventType {
    /// An article became visible (at once, or when its scheduled time came).
    ArticlePublished,
    /// A visible article changed.
    ArticleUpdated,
    /// A visible article was taken back to draft, archived or rescheduled.
    ArticleUnpublished,
    ArticleDeleted,
    /// A reader comment was submitted (any moderation state).
    CommentCreated,
    /// A comment became approved (by a moderator, or at once).
    CommentApproved,
}

impl WebhookEventType {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEventType::ArticlePublished => webhooks::ARTICLE_PUBLISHED,
            WebhookEventType::ArticleUpdated => webhooks::ARTICLE_UPDATED,
            WebhookEventType::ArticleUnpublished => webhooks::ARTICLE_UNPUBLISHED,
            WebhookEventType::ArticleDeleted => webhooks::ARTICLE_DELETED,
            WebhookEventType::CommentCreated => webhooks::COMMENT_CREATED,
            WebhookEventType::CommentApproved => webhooks::COMMENT_APPROVED,
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            WebhookEventType::ArticlePublished,
            WebhookEventType::ArticleUpdated,
            WebhookEventType::ArticleUnpublished,
            WebhookEventType::ArticleDeleted,
            WebhookEventType::CommentCreated,
            WebhookEventType::CommentApproved,
        ]
        .into_iter()
        .find(|e| e.as_str() == s)
    }
}

/// A delivery's state.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum WebhookDeliveryState {
    /// Due, or waiting to retry.
    Pending,
    Succeeded,
    /// Given up after BROADSHEET_WEBHOOK_RETRY_WINDOW.
    Failed,
    Cancelled,
}

impl WebhookDeliveryState {
    fn parse(s: &str) -> Self {
        match s {
            webhooks::SUCCEEDED => WebhookDeliveryState::Succeeded,
            webhooks::FAILED => WebhookDeliveryState::Failed,
            webhooks::CANCELLED => WebhookDeliveryState::Cancelled,
            _ => WebhookDeliveryState::Pending,
        }
    }
}

/// A registered endpoint.
pub struct Webhook(pub WebhookView);

#[Object]
impl Webhook {
    async fn id(&self) -> ID {
        ID(self.0.webhook.id.clone())
    }
    async fn url(&self) -> &str {
        &self.0.webhook.url
    }
    async fn events(&self) -> Vec<WebhookEventType> {
        self.0
            .events
            .iter()
            .filter_map(|e| WebhookEventType::parse(e))
            .collect()
    }
    async fn active(&self) -> bool {
        self.0.webhook.active
    }
    async fn description(&self) -> Option<&str> {
        self.0.webhook.description.as_deref()
    }
    /// The signing secret: only in the answer to `createWebhook`, or to
    /// `updateWebhook` when it set a new one; null otherwise.
    async fn secret(&self) -> Option<&str> {
        self.0.secret.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.webhook.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.webhook.updated_at
    }
    /// Deliveries, newest first. `first` at most 100 (default 20).
    #[graphql(complexity = "crate::graphql::cost::connection(first, 20, child_complexity)")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<WebhookDeliveryConnection> {
        let state = ctx.data::<AppState>()?;
        let actor = ctx.data_opt::<Actor>().unwrap_or(&Actor::Anonymous);
        webhooks::delivery_connection(state, actor, &self.0.webhook.id, first, after)
            .await
            .map(WebhookDeliveryConnection::from)
            .gql()
    }
}

/// One HTTP request made for a delivery.
#[derive(SimpleObject)]
pub struct WebhookAttempt {
    /// 1 for the first.
    pub attempt: i32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i32,
    /// The receiver's HTTP status; null when no response came.
    pub status_code: Option<i32>,
    pub error: Option<String>,
    /// The first 1 KiB of the response body.
    pub response_excerpt: Option<String>,
}

impl From<webhook_attempt::Model> for WebhookAttempt {
    fn from(a: webhook_attempt::Model) -> Self {
        WebhookAttempt {
            attempt: a.attempt,
            started_at: a.started_at,
            duration_ms: a.duration_ms,
            status_code: a.status_code,
            error: a.error,
            response_excerpt: a.response_excerpt,
        }
    }
}

/// Delivering one event to one endpoint.
pub struct WebhookDelivery(pub DeliveryView);

#[Object]
impl WebhookDelivery {
    async fn id(&self) -> ID {
        ID(self.0.delivery.id.clone())
    }
    async fn webhook_id(&self) -> ID {
        ID(self.0.delivery.webhook_id.clone())
    }
    async fn event_id(&self) -> ID {
        ID(self.0.delivery.event_id.clone())
    }
    async fn event(&self) -> Option<WebhookEventType> {
        WebhookEventType::parse(&self.0.event_type)
    }
    async fn state(&self) -> WebhookDeliveryState {
        WebhookDeliveryState::parse(&self.0.delivery.state)
    }
    /// Attempts made so far.
    async fn attempt_count(&self) -> i32 {
        self.0.delivery.attempts
    }
    /// When the next attempt is due (pending only).
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.0.delivery.state == webhooks::PENDING).then_some(self.0.delivery.next_attempt_at)
    }
    async fn last_status(&self) -> Option<i32> {
        self.0.delivery.last_status
    }
    async fn last_error(&self) -> Option<&str> {
        self.0.delivery.last_error.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.delivery.created_at
    }
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivery.completed_at
    }
    /// The JSON body sent, as text.
    async fn payload(&self) -> &str {
        &self.0.payload
    }
    /// Every attempt, oldest first.
    #[graphql(
        complexity = "crate::graphql::cost::list(crate::graphql::cost::ATTEMPTS_PER_DELIVERY, child_complexity)"
    )]
    async fn attempts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<WebhookAttempt>> {
        let state = ctx.data::<AppState>()?;
        let actor = ctx.data_opt::<Actor>().unwrap_or(&Actor::Anonymous);
        webhooks::attempts(state, actor, &self.0.delivery.id)
            .await
            .map(|list| list.into_iter().map(WebhookAttempt::from).collect())
            .gql()
    }
}

#[derive(SimpleObject)]
pub struct WebhookDeliveryEdge {
    pub cursor: String,
    pub node: WebhookDelivery,
}

/// A window of deliveries.
#[derive(SimpleObject)]
pub struct WebhookDeliveryConnection {
    pub edges: Vec<WebhookDeliveryEdge>,
    pub page_info: PageInfo,
    pub total_count: u64,
}

impl From<Connection<DeliveryView>> for WebhookDeliveryConnection {
    fn from(c: Connection<DeliveryView>) -> Self {
        let edges: Vec<WebhookDeliveryEdge> = c
            .edges
            .into_iter()
            .map(|(cur, v)| WebhookDeliveryEdge {
                cursor: cur.encode(),
                node: WebhookDelivery(v),
            })
            .collect();
        let page_info = PageInfo {
            has_next_page: c.has_next_page,
            has_previous_page: c.has_previous_page,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        };
        WebhookDeliveryConnection {
            edges,
            page_info,
            total_count: c.total_count,
        }
    }
}

/// A new endpoint, or changes to one (`url` and `events` required on create;
/// `secret` generated when omitted).
#[derive(InputObject, Default)]
pub struct WebhookInput {
    /// An http(s) URL; private and loopback addresses are refused unless
    /// BROADSHEET_WEBHOOK_ALLOW_PRIVATE is set.
    pub url: Option<String>,
    pub events: Option<Vec<WebhookEventType>>,
    /// 16 to 256 characters.
    pub secret: Option<String>,
    pub active: Option<bool>,
    pub description: MaybeUndefined<String>,
}

impl From<WebhookInput> for WebhookFields {
    fn from(i: WebhookInput) -> Self {
        WebhookFields {
            url: i.url,
            events: i
                .events
                .map(|e| e.into_iter().map(|e| e.as_str().to_string()).collect()),
            secret: i.secret,
            active: i.active,
            description: match i.description {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(v) => Some(Some(v)),
            },
        }
    }
}
