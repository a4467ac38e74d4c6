//! `/api/v1/webhooks...`: admins register endpoints, list their deliveries
//! with every attempt, and redeliver one.

use axum::{
    Json as AxumJson,
    extract::{OriginalUri, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::problem::ApiError;
use crate::{
    entities::webhook_attempt,
    rest::{
        articles::PageParams,
        dto::ListMeta,
        extract::{Caller, Json, Query},
        pagination_headers, private_no_store,
        problem::Problem,
    },
    services::webhooks::{self, DeliveryView, WebhookFields, WebhookView},
    state::AppState,
};

const PROBLEM: &str = "application/problem+json";

/// A webhook endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDto {
    pub id: String,
    #[schema(example = "https://builder.example.org/hooks/broadsheet")]
    pub url: String,
    /// Subscribed events.
    #[schema(example = json!(["article.published", "article.updated"]))]
    pub events: Vec<String>,
    pub active: bool,
    pub description: Option<String>,
    /// The signing secret: only in the answer to a creation or a secret change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<WebhookView> for WebhookDto {
    fn from(v: WebhookView) -> Self {
        WebhookDto {
            id: v.webhook.id,
            url: v.webhook.url,
            events: v.events,
            active: v.webhook.active,
            description: v.webhook.description,
            secret: v.secret,
            created_at: v.webhook.created_at,
            updated_at: v.webhook.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub data: Vec<WebhookDto>,
}

/// A new endpoint or changes to one: `url` and `events` are required on
/// create; `secret` is generated when omitted.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookWrite {
    /// An http(s) URL; private and loopback addresses are refused unless
    /// `BROADSHEET_WEBHOOK_ALLOW_PRIVATE` is set.
    pub url: Option<String>,
    /// Any of article.published, article.updated, article.unpublished,
    /// article.deleted, comment.created, comment.approved.
    pub events: Option<Vec<String>>,
    /// 16 to 256 characters.
    pub secret: Option<String>,
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "crate::rest::dto::double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

impl From<WebhookWrite> for WebhookFields {
    fn from(w: WebhookWrite) -> Self {
        WebhookFields {
            url: w.url,
            events: w.events,
            secret: w.secret,
            active: w.active,
            description: w.description,
        }
    }
}

/// One HTTP request made for a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptDto {
    /// 1 for the first.
    pub attempt: i32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i32,
    /// The receiver's status; null when no response came.
    pub status_code: Option<i32>,
    /// Why it failed without a response, or which status it got.
    pub error: Option<String>,
    /// The first 1 KiB of the receiver's response body.
    pub response_excerpt: Option<String>,
}

impl From<webhook_attempt::Model> for AttemptDto {
    fn from(a: webhook_attempt::Model) -> Self {
        AttemptDto {
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
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDto {
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    #[schema(example = "article.published")]
    pub event: String,
    /// `pending` (due or waiting to retry), `succeeded`, `failed` (gave up
    /// after BROADSHEET_WEBHOOK_RETRY_WINDOW) or `cancelled`.
    pub state: String,
    pub attempts: i32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The JSON body sent (single delivery only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub payload: Option<serde_json::Value>,
    /// Every attempt, oldest first (single delivery only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt_log: Option<Vec<AttemptDto>>,
}

impl DeliveryDto {
    fn new(v: DeliveryView, detailed: bool) -> Self {
        let d = v.delivery;
        DeliveryDto {
            next_attempt_at: (d.state == webhooks::PENDING).then_some(d.next_attempt_at),
            id: d.id,
            webhook_id: d.webhook_id,
            event_id: d.event_id,
            event: v.event_type,
            state: d.state,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            created_at: d.created_at,
            completed_at: d.completed_at,
            payload: detailed.then(|| serde_json::from_str(&v.payload).unwrap_or_default()),
            attempt_log: detailed.then(|| v.attempts.into_iter().map(AttemptDto::from).collect()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub data: Vec<DeliveryDto>,
    pub meta: ListMeta,
}

fn private(status: StatusCode, location: Option<String>, body: impl Serialize) -> Response {
    let mut response = (status, AxumJson(body)).into_response();
    private_no_store(response.headers_mut());
    if let Some(l) = location
        && let Ok(v) = HeaderValue::from_str(&l)
    {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// List webhook endpoints (admin).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every endpoint", body = WebhookList),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not an admin", body = Problem, content_type = PROBLEM),
    ))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> Result<Response, ApiError> {
    let data = webhooks::list(&state, &ctx.actor).await?;
    Ok(private(
        StatusCode::OK,
        None,
        WebhookList {
            data: data.into_iter().map(WebhookDto::from).collect(),
        },
    ))
}

/// Register an endpoint (admin). The answer carries the signing secret once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = WebhookWrite, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created, with its secret", body = WebhookDto, headers(("Location" = String, description = "URL of the webhook"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = PROBLEM),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not an admin", body = Problem, content_type = PROBLEM),
        (status = 415, description = "Not JSON", body = Problem, content_type = PROBLEM),
        (status = 422, description = "Invalid fields (a URL that is not http(s) or points at a private address, an unknown event)", body = Problem, content_type = PROBLEM),
    ))]
pub async fn create_webhook(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Json(body): Json<WebhookWrite>,
) -> Result<Response, ApiError> {
    let v = webhooks::create(&state, &ctx.actor, body.into()).await?;
    let location = format!("/api/v1/webhooks/{}", v.webhook.id);
    Ok(private(
        StatusCode::CREATED,
        Some(location),
        WebhookDto::from(v),
    ))
}

/// One endpoint (admin).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The endpoint (without its secret)", body = WebhookDto),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not an admin", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such webhook", body = Problem, content_type = PROBLEM),
    ))]
pub async fn get_webhook(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let v = webhooks::get(&state, &ctx.actor, &id).await?;
    Ok(private(StatusCode::OK, None, WebhookDto::from(v)))
}

/// Change an endpoint (admin); a new `secret` is shown in the answer.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", request_body = WebhookWrite, security(("bearer" = [])),
    params(("id" = String, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "Updated", body = WebhookDto),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = PROBLEM),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not an admin", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such webhook", body = Problem, content_type = PROBLEM),
        (status = 415, description = "Not JSON", body = Problem, content_type = PROBLEM),
        (status = 422, description = "Invalid fields", body = Problem, content_type = PROBLEM),
    ))]
pub async fn update_webhook(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Json(body): Json<WebhookWrite>,
) -> Result<Response, ApiError> {
    let v = webhooks::update(&state, &ctx.actor, &id, body.into()).await?;
    Ok(private(StatusCode::OK, None, WebhookDto::from(v)))
}

/// Delete an endpoint with its delivery records (admin).
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Webhook id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not an admin", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such webhook", body = Problem, content_type = PROBLEM),
    ))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    webhooks::delete(&state, &ctx.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An endpoint's deliveries, newest first (admin).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = String, Path, description = "Webhook id"), PageParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryList),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not an admin", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such webhook", body = Problem, content_type = PROBLEM),
        (status = 422, description = "Bad pagination", body = Problem, content_type = PROBLEM),
    ))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    let page = params.parse(state.config.list_depth())?;
    let result = webhooks::deliveries(&state, &ctx.actor, &id, page).await?;
    let mut headers = HeaderMap::new();
    pagination_headers(&mut headers, uri.path(), uri.query(), &result);
    let meta = ListMeta::from(&result);
    let data = result
        .items
        .into_iter()
        .map(|d| DeliveryDto::new(d, false))
        .collect();
    let mut response = private(StatusCode::OK, None, DeliveryList { data, meta });
    response.headers_mut().extend(headers);
    Ok(response)
}

/// One delivery with its payload and every attempt (admin).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Webhook id"), ("delivery_id" = String, Path, description = "Delivery id")),
    responses(
        (status = 200, description = "The delivery", body = DeliveryDto),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not an admin", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such webhook or delivery", body = Problem, content_type = PROBLEM),
    ))]
pub async fn get_delivery(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let v = webhooks::delivery(&state, &ctx.actor, &id, &delivery_id).await?;
    Ok(private(StatusCode::OK, None, DeliveryDto::new(v, true)))
}

/// Send a delivery's event again, as a new delivery due now (admin).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Webhook id"), ("delivery_id" = String, Path, description = "Delivery id")),
    responses(
        (status = 202, description = "Queued: the new delivery", body = DeliveryDto, headers(("Location" = String, description = "URL of the new delivery"))),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not an admin", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such webhook or delivery", body = Problem, content_type = PROBLEM),
    ))]
pub async fn redeliver(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let v = webhooks::redeliver(&state, &ctx.actor, &id, &delivery_id).await?;
    let location = format!("/api/v1/webhooks/{id}/deliveries/{}", v.delivery.id);
    Ok(private(
        StatusCode::ACCEPTED,
        Some(location),
        DeliveryDto::new(v, false),
    ))
}
