//! Users (accounts that log in): creation with argon2id password hashes and
//! the first-admin bootstrap.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, Func},
};

pub use crate::auth::passwords::hash_password;
use crate::{
    auth::{Actor, Role, passwords::PasswordHasher, policy},
    domain::{
        pagination::{Page, PageRequest},
        validate::valid_email,
    },
    entities::{author, user},
    error::{AppError, FieldError},
    services::{new_id, now},
    state::AppState,
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

/// Create a user. Emails are unique case-insensitively (409 on a duplicate).
/// The password is hashed through `hasher` (on the blocking pool).
pub async fn create(
    db: &impl ConnectionTrait,
    hasher: &PasswordHasher,
    input: NewUser,
) -> Result<user::Model, AppError> {
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
    if let Some(problem) = input
        .display_name
        .as_deref()
        .and_then(crate::domain::text::single_line_problem)
    {
        errors.push(FieldError::new("display_name", problem));
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
    let password_hash = hasher.hash(input.password).await?;
    let model = user::ActiveModel {
        id: Set(new_id()),
        email: Set(email),
        password_hash: Set(password_hash),
        display_name: Set(display_name),
        role: Set(input.role.as_str().to_string()),
        author_id: Set(input.author_id),
        active: Set(true),
        session_version: Set(0),
        created_at: Set(at),
        updated_at: Set(at),
    };
    // A concurrent insert of the same email still hits the unique index → 409.
    Ok(user::Entity::insert(model).exec_with_returning(db).await?)
}

/// Changes to a user; `None` leaves a field as it is. `author_id: Some(None)` unlinks.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub email: Option<String>,
    pub password: Option<String>,
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub author_id: Option<Option<String>>,
    pub active: Option<bool>,
}

async fn find(db: &impl ConnectionTrait, id: &str) -> Result<user::Model, AppError> {
    user::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(AppError::NotFound { resource: "user" })
}

async fn check_author_exists(
    db: &impl ConnectionTrait,
    author_id: &Option<String>,
) -> Result<(), AppError> {
    if let Some(id) = author_id
        && author::Entity::find_by_id(id.clone()).count(db).await? == 0
    {
        return Err(AppError::validation("author_id", "no author has this id"));
    }
    Ok(())
}

/// All users, oldest first (admin only).
pub async fn list(
    state: &AppState,
    actor: &Actor,
    page: PageRequest,
) -> Result<Page<user::Model>, AppError> {
    policy::require_admin(actor)?;
    let total = user::Entity::find().count(&state.db).await?;
    let items = if page.offset() >= total {
        Vec::new()
    } else {
        user::Entity::find()
            .order_by_asc(user::Column::CreatedAt)
            .order_by_asc(user::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&state.db)
            .await?
    };
    Ok(Page {
        items,
        page: page.page,
        per_page: page.per_page,
        total,
    })
}

/// One user: admins see anyone, others only themselves.
pub async fn get(state: &AppState, actor: &Actor, id: &str) -> Result<user::Model, AppError> {
    let (me, role) = policy::require_staff(actor)?;
    if me != id && role != Role::Admin {
        return Err(AppError::Forbidden(
            "only an admin may see other users".into(),
        ));
    }
    find(&state.db, id).await
}

/// The signed-in user.
pub async fn me(state: &AppState, actor: &Actor) -> Result<user::Model, AppError> {
    let (me, _) = policy::require_staff(actor)?;
    find(&state.db, me).await
}

/// Create a user (admin only).
pub async fn create_as(
    state: &AppState,
    actor: &Actor,
    input: NewUser,
) -> Result<user::Model, AppError> {
    policy::require_admin(actor)?;
    check_author_exists(&state.db, &input.author_id).await?;
    create(&state.db, &state.passwords, input).await
}

/// Whether some active admin other than `except` exists.
async fn another_admin_exists(db: &impl ConnectionTrait, except: &str) -> Result<bool, AppError> {
    Ok(user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Id.ne(except))
        .count(db)
        .await?
        > 0)
}

/// Update a user (admin only). Demoting or deactivating the last active admin
/// is refused; a password change, deactivation or role change ends the
/// user's sessions.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: &str,
    patch: UserPatch,
) -> Result<user::Model, AppError> {
    policy::require_admin(actor)?;
    let mut errors = Vec::new();
    if let Some(email) = &patch.email
        && !valid_email(email)
    {
        errors.push(FieldError::new("email", "must be an email address"));
    }
    if let Some(pw) = &patch.password
        && pw.chars().count() < MIN_PASSWORD_CHARS
    {
        errors.push(FieldError::new(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if let Some(name) = &patch.display_name {
        if name.trim().is_empty() {
            errors.push(FieldError::new("display_name", "must not be empty"));
        } else if let Some(problem) = crate::domain::text::single_line_problem(name) {
            errors.push(FieldError::new("display_name", problem));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    // Hashed before the write transaction: on SQLite it holds the one write
    // lock of the site, which must not wait for argon2.
    let password_hash = match &patch.password {
        Some(pw) => Some(state.passwords.hash(pw.clone()).await?),
        None => None,
    };
    let txn = crate::services::write_txn(state).await?;
    let current = find(&txn, id).await?;
    if let Some(author_id) = &patch.author_id {
        check_author_exists(&txn, author_id).await?;
    }
    let loses_admin = current.role == Role::Admin.as_str()
        && current.active
        && (patch.role.is_some_and(|r| r != Role::Admin) || patch.active == Some(false));
    if loses_admin && !another_admin_exists(&txn, id).await? {
        return Err(AppError::Conflict(
            "at least one active admin must remain".into(),
        ));
    }
    if let Some(email) = &patch.email {
        let taken = user::Entity::find()
            .filter(
                Expr::expr(Func::lower(Expr::col(user::Column::Email)))
                    .eq(email.trim().to_lowercase()),
            )
            .filter(user::Column::Id.ne(id))
            .count(&txn)
            .await?
            > 0;
        if taken {
            return Err(AppError::Conflict(format!(
                "a user with email {} already exists",
                email.trim()
            )));
        }
    }
    let ends_sessions = patch.password.is_some()
        || patch.active == Some(false)
        || patch.role.is_some_and(|r| r.as_str() != current.role);
    let mut model: user::ActiveModel = current.into();
    if let Some(email) = patch.email {
        model.email = Set(email.trim().to_string());
    }
    if let Some(hash) = password_hash {
        model.password_hash = Set(hash);
    }
    if let Some(name) = patch.display_name {
        model.display_name = Set(name.trim().to_string());
    }
    if let Some(role) = patch.role {
        model.role = Set(role.as_str().to_string());
    }
    if let Some(author_id) = patch.author_id {
        model.author_id = Set(author_id);
    }
    if let Some(active) = patch.active {
        model.active = Set(active);
    }
    model.updated_at = Set(now());
    let saved = model.update(&txn).await?;
    if ends_sessions {
        crate::services::auth::revoke_all_sessions(&txn, &saved.id).await?;
    }
    txn.commit().await?;
    Ok(saved)
}

/// Delete a user (admin only); the last active admin cannot be deleted.
pub async fn delete(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    policy::require_admin(actor)?;
    let txn = crate::services::write_txn(state).await?;
    let current = find(&txn, id).await?;
    if current.role == Role::Admin.as_str()
        && current.active
        && !another_admin_exists(&txn, id).await?
    {
        return Err(AppError::Conflict(
            "at least one active admin must remain".into(),
        ));
    }
    user::Entity::delete_by_id(id.to_string())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
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
        &PasswordHasher::standalone(),
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

/// Users as a keyset-paginated connection, oldest first (admin only).
pub async fn connection(
    state: &AppState,
    actor: &Actor,
    first: Option<i32>,
    after: Option<String>,
) -> Result<crate::domain::pagination::Connection<user::Model>, AppError> {
    use crate::domain::pagination::Cursor;
    policy::require_admin(actor)?;
    let limit = crate::domain::pagination::first_window(first, 50)?;
    let after = after
        .as_deref()
        .map(|c| Cursor::decode("after", "created_at", c))
        .transpose()?;
    let after_at = after.as_ref().map(|c| c.time("after")).transpose()?;
    let total_count = user::Entity::find().count(&state.db).await?;
    let mut query = user::Entity::find()
        .order_by_asc(user::Column::CreatedAt)
        .order_by_asc(user::Column::Id);
    if let (Some(c), Some(at)) = (&after, after_at) {
        query = query.filter(
            sea_orm::Condition::any()
                .add(user::Column::CreatedAt.gt(at))
                .add(
                    sea_orm::Condition::all()
                        .add(user::Column::CreatedAt.eq(at))
                        .add(user::Column::Id.gt(c.id.clone())),
                ),
        );
    }
    let mut rows = if limit == 0 {
        Vec::new()
    } else {
        query.limit(limit + 1).all(&state.db).await?
    };
    let has_next_page = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    Ok(crate::domain::pagination::Connection {
        edges: rows
            .into_iter()
            .map(|u| (Cursor::at("created_at", u.created_at, &u.id), u))
            .collect(),
        has_next_page,
        has_previous_page: after.is_some(),
        total_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let p = generate_password();
        assert_eq!(p.len(), 20);
        assert_ne!(p, generate_password());
    }
}
