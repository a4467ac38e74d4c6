//! Login, refresh-token rotation with reuse detection, logout, and password
//! changes. Refresh tokens are random 256-bit values stored only as SHA-256
//! hashes; each login starts a family, and presenting an already-used token
//! revokes its whole family.

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, ExprTrait, QueryFilter, Set,
    sea_query::{Expr, Func},
};
use sha2::{Digest, Sha256};

use crate::{
    auth::{Actor, RequestContext, Role, policy},
    entities::{refresh_token, user},
    error::{AppError, FieldError},
    services::{new_id, now, users},
    state::AppState,
};

/// What a successful login or refresh returns.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
}

/// The one answer for an unknown email and a wrong password alike.
fn bad_credentials() -> AppError {
    AppError::Unauthenticated {
        invalid_token: false,
    }
}

/// A hash to verify against when the email is unknown, so that both failures
/// cost the same argon2 work (no timing oracle for account enumeration).
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        users::hash_password("not a real password, only for timing").unwrap_or_default()
    })
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Check a password on a blocking thread (argon2 is deliberately slow).
async fn verify_password_blocking(hash: String, password: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .map_err(AppError::internal)
}

fn hash_refresh(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn new_refresh_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut bytes[..]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Store a new refresh token in `family` and return the secret.
async fn store_refresh(
    db: &impl sea_orm::ConnectionTrait,
    state: &AppState,
    user_id: &str,
    family: &str,
) -> Result<String, AppError> {
    let secret = new_refresh_secret();
    let at = now();
    refresh_token::Entity::insert(refresh_token::ActiveModel {
        id: Set(new_id()),
        user_id: Set(user_id.to_string()),
        family_id: Set(family.to_string()),
        token_hash: Set(hash_refresh(&secret)),
        expires_at: Set(at + Duration::seconds(state.config.refresh_token_ttl as i64)),
        used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(secret)
}

/// Exchange email and password for tokens. Failed attempts are limited per
/// client address and per account (checked before the password is).
pub async fn login(
    state: &AppState,
    ctx: &RequestContext,
    email: &str,
    password: &str,
) -> Result<TokenPair, AppError> {
    let mut errors = Vec::new();
    if email.trim().is_empty() {
        errors.push(FieldError::new("email", "is required"));
    }
    if password.is_empty() {
        errors.push(FieldError::new("password", "is required"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let email_key = format!("account:{}", email.trim().to_lowercase());
    let ip_key = format!("ip:{}", ctx.client_ip);
    let limiter = &state.limits.login_failures;
    for key in [&ip_key, &email_key] {
        limiter
            .check(key)
            .map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;
    }
    let found = user::Entity::find()
        .filter(
            Expr::expr(Func::lower(Expr::col(user::Column::Email))).eq(email.trim().to_lowercase()),
        )
        .one(&state.db)
        .await?;
    let hash = found
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    let ok = verify_password_blocking(hash, password.to_string()).await?;
    let user = match found {
        Some(u) if ok && u.active => u,
        _ => {
            limiter.record(&ip_key);
            limiter.record(&email_key);
            return Err(bad_credentials());
        }
    };
    let role = Role::parse(&user.role).ok_or_else(bad_credentials)?;
    let refresh_token = store_refresh(&state.db, state, &user.id, &new_id()).await?;
    Ok(TokenPair {
        access_token: state.keys.issue(&user.id, role)?,
        expires_in: state.keys.ttl_secs(),
        refresh_token,
    })
}

/// Rotate a refresh token: the presented one is spent, a new one in the same
/// family is returned. A spent or revoked token revokes the whole family.
pub async fn refresh(state: &AppState, presented: &str) -> Result<TokenPair, AppError> {
    if presented.trim().is_empty() {
        return Err(AppError::validation("refresh_token", "is required"));
    }
    let invalid = || AppError::InvalidRefreshToken;
    let txn = crate::services::write_txn(&state.db).await?;
    let Some(token) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash_refresh(presented.trim())))
        .one(&txn)
        .await?
    else {
        return Err(invalid());
    };
    let at = now();
    if token.used_at.is_some() || token.revoked_at.is_some() {
        revoke_family(&txn, &token.family_id).await?;
        txn.commit().await?;
        return Err(invalid());
    }
    if token.expires_at <= at {
        return Err(invalid());
    }
    // Spend it only if nobody else has in the meantime (concurrent reuse).
    let spent = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(at))
        .filter(refresh_token::Column::Id.eq(token.id.clone()))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        revoke_family(&txn, &token.family_id).await?;
        txn.commit().await?;
        return Err(invalid());
    }
    let user = user::Entity::find_by_id(token.user_id.clone())
        .one(&txn)
        .await?
        .filter(|u| u.active)
        .ok_or_else(invalid)?;
    let role = Role::parse(&user.role).ok_or_else(invalid)?;
    let refresh_token = store_refresh(&txn, state, &user.id, &token.family_id).await?;
    txn.commit().await?;
    Ok(TokenPair {
        access_token: state.keys.issue(&user.id, role)?,
        expires_in: state.keys.ttl_secs(),
        refresh_token,
    })
}

async fn revoke_family(db: &impl sea_orm::ConnectionTrait, family: &str) -> Result<(), AppError> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now()))
        .filter(refresh_token::Column::FamilyId.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Revoke the session a refresh token belongs to. Unknown tokens are ignored
/// (logging out twice is not an error).
pub async fn logout(state: &AppState, presented: &str) -> Result<(), AppError> {
    if presented.trim().is_empty() {
        return Err(AppError::validation("refresh_token", "is required"));
    }
    if let Some(token) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash_refresh(presented.trim())))
        .one(&state.db)
        .await?
    {
        revoke_family(&state.db, &token.family_id).await?;
    }
    Ok(())
}

/// Revoke every session of a user (after a password change, deactivation...).
pub async fn revoke_all_sessions(
    db: &impl sea_orm::ConnectionTrait,
    user_id: &str,
) -> Result<(), AppError> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now()))
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Change one's own password; the current one is required.
pub async fn change_password(
    state: &AppState,
    actor: &Actor,
    current: &str,
    new: &str,
) -> Result<(), AppError> {
    let (id, _) = policy::require_staff(actor)?;
    let user = user::Entity::find_by_id(id.to_string())
        .one(&state.db)
        .await?
        .ok_or(AppError::Unauthenticated {
            invalid_token: true,
        })?;
    if new.chars().count() < users::MIN_PASSWORD_CHARS {
        return Err(AppError::validation(
            "new_password",
            format!("must be at least {} characters", users::MIN_PASSWORD_CHARS),
        ));
    }
    if !verify_password_blocking(user.password_hash.clone(), current.to_string()).await? {
        return Err(AppError::validation(
            "current_password",
            "is not your current password",
        ));
    }
    let hash = users::hash_password(new)?;
    let txn = crate::services::write_txn(&state.db).await?;
    let mut active: user::ActiveModel = user.into();
    active.password_hash = Set(hash);
    active.updated_at = Set(now());
    let user = active.update(&txn).await?;
    revoke_all_sessions(&txn, &user.id).await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_secrets_are_256_bit_and_hashed_with_sha256() {
        let s = new_refresh_secret();
        assert_eq!(URL_SAFE_NO_PAD.decode(&s).unwrap().len(), 32);
        assert_eq!(hash_refresh(&s).len(), 64);
        assert_ne!(hash_refresh(&s), s);
    }
}
