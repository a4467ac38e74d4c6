//! Login, refresh-token rotation with reuse detection, logout, and password
//! changes. Refresh tokens are random 256-bit values stored only as SHA-256
//! hashes; each login starts a family (the session), and presenting an
//! already-used token revokes its whole family. Access tokens name their
//! family and the user's session version, so ending a session ends them too
//! (`auth::authenticate`). Every password check is counted by the login
//! throttle before argon2 runs (`auth::throttle`).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, ExprTrait, QueryFilter, Set,
    sea_query::{Expr, Func},
};
use sha2::{Digest, Sha256};

use crate::{
    auth::{
        RequestContext, Role,
        claims::Session,
        policy,
        throttle::{self, MAX_EMAIL_LEN},
    },
    entities::{refresh_token, user},
    error::{AppError, FieldError},
    services::{new_id, now, users},
    state::AppState,
};

/// Longer than any refresh token we issue (43 characters): refused unread.
const MAX_REFRESH_TOKEN_LEN: usize = 128;

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

/// Exchange email and password for tokens. Every attempt is counted per
/// client address and per account and address before the password is
/// checked (`auth::throttle`); a right password gives its attempt back.
pub async fn login(
    state: &AppState,
    ctx: &RequestContext,
    email: &str,
    password: &str,
) -> Result<TokenPair, AppError> {
    let mut errors = Vec::new();
    let email = email.trim();
    if email.is_empty() {
        errors.push(FieldError::new("email", "is required"));
    } else if email.len() > MAX_EMAIL_LEN {
        // Refused before anything is counted or looked up: no limiter key,
        // no query, no hash for an input no account can have.
        errors.push(FieldError::new(
            "email",
            format!("must be at most {MAX_EMAIL_LEN} characters"),
        ));
    }
    if password.is_empty() {
        errors.push(FieldError::new("password", "is required"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let throttle = &state.limits.login;
    let attempt = throttle.begin(email, ctx.client_ip).await?;
    let checked = async {
        let found = user::Entity::find()
            .filter(
                Expr::expr(Func::lower(Expr::col(user::Column::Email))).eq(email.to_lowercase()),
            )
            .one(&state.db)
            .await?;
        let hash = found.as_ref().map(|u| u.password_hash.clone());
        let ok = state.passwords.verify(hash, password.to_string()).await?;
        Ok::<_, AppError>(found.filter(|u| ok && u.active))
    }
    .await;
    let user = match checked {
        Ok(Some(user)) => {
            throttle.succeeded(attempt).await;
            user
        }
        // A wrong password or no such account: the attempt stays counted.
        Ok(None) => return Err(bad_credentials()),
        // Nothing was checked (busy, database down): it does not count.
        Err(e) => {
            throttle.void(attempt).await;
            return Err(e);
        }
    };
    let role = Role::parse(&user.role).ok_or_else(bad_credentials)?;
    let family = new_id();
    let refresh_token = store_refresh(&state.db, state, &user.id, &family).await?;
    Ok(TokenPair {
        access_token: state.keys.issue(
            &user.id,
            role,
            Session {
                id: &family,
                version: user.session_version,
            },
        )?,
        expires_in: state.keys.ttl_secs(),
        refresh_token,
    })
}

/// The stored row of a presented refresh token, if any. Tokens longer than
/// any we issue are not even hashed.
async fn find_refresh(
    db: &impl sea_orm::ConnectionTrait,
    presented: &str,
) -> Result<Option<refresh_token::Model>, AppError> {
    if presented.len() > MAX_REFRESH_TOKEN_LEN {
        return Ok(None);
    }
    Ok(refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash_refresh(presented)))
        .one(db)
        .await?)
}

/// Rotate a refresh token: the presented one is spent, a new one in the same
/// family is returned. A spent or revoked token revokes the whole family.
pub async fn refresh(state: &AppState, presented: &str) -> Result<TokenPair, AppError> {
    if presented.trim().is_empty() {
        return Err(AppError::validation("refresh_token", "is required"));
    }
    let invalid = || AppError::InvalidRefreshToken;
    // An unknown token is refused on a plain read: only a token that exists
    // queues for the write lock, which on SQLite every write of the site
    // shares (a flood of made-up tokens must not stall them).
    if find_refresh(&state.db, presented.trim()).await?.is_none() {
        return Err(invalid());
    }
    let txn = crate::services::write_txn_unseen(&state.db).await?;
    let Some(token) = find_refresh(&txn, presented.trim()).await? else {
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
        access_token: state.keys.issue(
            &user.id,
            role,
            Session {
                id: &token.family_id,
                version: user.session_version,
            },
        )?,
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

/// Revoke the session a refresh token belongs to, and with it the access
/// tokens issued in it. Unknown tokens are ignored (logging out twice is not
/// an error).
pub async fn logout(state: &AppState, presented: &str) -> Result<(), AppError> {
    if presented.trim().is_empty() {
        return Err(AppError::validation("refresh_token", "is required"));
    }
    if let Some(token) = find_refresh(&state.db, presented.trim()).await? {
        revoke_family(&state.db, &token.family_id).await?;
    }
    Ok(())
}

/// End every session of a user (after a password change, deactivation...):
/// revoke their refresh tokens and move their session version on, which
/// refuses every access token issued before.
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
    user::Entity::update_many()
        .col_expr(
            user::Column::SessionVersion,
            Expr::col(user::Column::SessionVersion).add(1),
        )
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Change one's own password; the current one is required, and checking it
/// counts against the same limits as a login (`auth::throttle`), so a batch
/// of aliased mutations gets no more guesses than the same number of logins.
pub async fn change_password(
    state: &AppState,
    ctx: &RequestContext,
    current: &str,
    new: &str,
) -> Result<(), AppError> {
    let (id, _) = policy::require_staff(&ctx.actor)?;
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
    let throttle = &state.limits.login;
    let attempt = throttle
        .begin(&throttle::account_key(&user.email), ctx.client_ip)
        .await?;
    match state
        .passwords
        .verify(Some(user.password_hash.clone()), current.to_string())
        .await
    {
        Ok(true) => throttle.succeeded(attempt).await,
        Ok(false) => {
            return Err(AppError::validation(
                "current_password",
                "is not your current password",
            ));
        }
        Err(e) => {
            throttle.void(attempt).await;
            return Err(e);
        }
    }
    let hash = state.passwords.hash(new.to_string()).await?;
    let txn = crate::services::write_txn_unseen(&state.db).await?;
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
