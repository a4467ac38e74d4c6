//! Webhook endpoints: register, list, change and remove them (admins only).

use std::collections::HashSet;

use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, Set};

use crate::{
    auth::{Actor, policy},
    entities::webhook,
    error::{AppError, FieldError},
    services::{new_id, now},
    state::AppState,
};

use super::*;

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
pub(super) fn generate_secret() -> String {
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

pub(super) async fn find(db: &impl ConnectionTrait, id: &str) -> Result<webhook::Model, AppError> {
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
