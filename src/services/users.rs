//! Users (accounts that log in): creation with argon2id password hashes and
//! the first-admin bootstrap.

use argon2::{
    Argon2, PasswordHasher,
    password_hash::{SaltString, rand_core::OsRng},
};
use sea_orm::{
    ConnectionTrait, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter, Set,
    sea_query::{Expr, Func},
};

use crate::{
    auth::Role,
    entities::user,
    error::{AppError, FieldError},
    services::{new_id, now},
};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub password: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub author_id: Option<String>,
}

/// Check an email the way the API does: trimmed, one `@`, something on both sides.
pub fn valid_email(email: &str) -> bool {
    let email = email.trim();
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(char::is_whitespace)
                && email.len() <= 254
        }
        None => false,
    }
}

/// Hash a password with argon2id and a random salt (PHC string format).
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(anyhow::anyhow!("hashing a password: {e}")))
}

/// Create a user. Emails are unique case-insensitively (409 on a duplicate).
pub async fn create(db: &impl ConnectionTrait, input: NewUser) -> Result<user::Model, AppError> {
    let email = input.email.trim().to_string();
    let mut errors = Vec::new();
    if !valid_email(&email) {
        errors.push(FieldError::new("email", "must be an email address"));
    }
    if input.password.chars().count() < MIN_PASSWORD_CHARS {
        errors.push(FieldError::new(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let taken = user::Entity::find()
        .filter(Expr::expr(Func::lower(Expr::col(user::Column::Email))).eq(email.to_lowercase()))
        .count(db)
        .await?
        > 0;
    if taken {
        return Err(AppError::Conflict(format!(
            "a user with email {email} already exists"
        )));
    }
    let at = now();
    let display_name = input
        .display_name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| email.split('@').next().unwrap_or("").to_string());
    let model = user::ActiveModel {
        id: Set(new_id()),
        email: Set(email),
        password_hash: Set(hash_password(&input.password)?),
        display_name: Set(display_name),
        role: Set(input.role.as_str().to_string()),
        author_id: Set(input.author_id),
        active: Set(true),
        created_at: Set(at),
        updated_at: Set(at),
    };
    // A concurrent insert of the same email still hits the unique index → 409.
    Ok(user::Entity::insert(model).exec_with_returning(db).await?)
}

/// How many users exist.
pub async fn count(db: &impl ConnectionTrait) -> Result<u64, AppError> {
    Ok(user::Entity::find().count(db).await?)
}

/// What the bootstrap did at start-up.
#[derive(Debug, PartialEq, Eq)]
pub enum Bootstrap {
    /// Users exist already: nothing to do.
    NotNeeded,
    /// Created the admin from `BROADSHEET_ADMIN_EMAIL`/`_PASSWORD`.
    FromConfig { email: String },
    /// No settings: created an admin with a generated password (shown once).
    Generated { email: String, password: String },
}

/// Email of the admin created when no bootstrap settings are given.
pub const GENERATED_ADMIN_EMAIL: &str = "admin@broadsheet.local";

/// Create the first admin when no user exists.
pub async fn bootstrap_admin(
    db: &impl ConnectionTrait,
    email: Option<&str>,
    password: Option<&str>,
) -> Result<Bootstrap, AppError> {
    if count(db).await? > 0 {
        return Ok(Bootstrap::NotNeeded);
    }
    let (email, password, generated) = match (email, password) {
        (Some(e), Some(p)) => (e.to_string(), p.to_string(), false),
        _ => (GENERATED_ADMIN_EMAIL.to_string(), generate_password(), true),
    };
    create(
        db,
        NewUser {
            email: email.clone(),
            password: password.clone(),
            display_name: Some("Administrator".into()),
            role: Role::Admin,
            author_id: None,
        },
    )
    .await?;
    Ok(if generated {
        Bootstrap::Generated { email, password }
    } else {
        Bootstrap::FromConfig { email }
    })
}

/// 20 random characters from an unambiguous alphabet (~115 bits).
fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_need_one_at_and_no_spaces() {
        assert!(valid_email("reader@example.org"));
        assert!(!valid_email("reader"));
        assert!(!valid_email("a@b@c"));
        assert!(!valid_email("a b@c.d"));
        assert!(!valid_email("@c.d"));
    }

    #[test]
    fn hashes_are_argon2id_and_salted() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let p = generate_password();
        assert_eq!(p.len(), 20);
        assert_ne!(p, generate_password());
    }
}
