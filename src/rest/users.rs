//! `/api/v1/users`: admin-only account management, plus `/users/me` and
//! `/users/me/password` for every signed-in user.

use axum::{
    Json as AxumJson,
    extract::{OriginalUri, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::IntoResponse,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::problem::ApiError;
use crate::{
    auth::Role,
    entities::user,
    error::{AppError, FieldError},
    rest::{
        articles::PageParams,
        dto::ListMeta,
        extract::{Caller, Json, Query},
        pagination_headers, private_no_store,
    },
    services::{
        auth,
        users::{self, NewUser, UserPatch},
    },
    state::AppState,
};

/// An account that logs in (staff only).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    pub id: String,
    #[schema(example = "editor@example.org")]
    pub email: String,
    pub display_name: String,
    /// admin, editor, author or contributor.
    #[schema(example = "editor")]
    pub role: String,
    /// The author (byline) this user writes as.
    pub author_id: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<user::Model> for UserDto {
    fn from(u: user::Model) -> Self {
        UserDto {
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            role: u.role,
            author_id: u.author_id,
            active: u.active,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub data: Vec<UserDto>,
    pub meta: ListMeta,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    #[schema(example = "writer@example.org")]
    pub email: Option<String>,
    /// At least 8 characters.
    pub password: Option<String>,
    pub display_name: Option<String>,
    #[schema(example = "author")]
    pub role: Option<String>,
    pub author_id: Option<String>,
}

/// Every field optional; `author_id: null` unlinks the author.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    pub email: Option<String>,
    pub password: Option<String>,
    pub display_name: Option<String>,
    pub role: Option<String>,
    #[serde(default, deserialize_with = "crate::rest::dto::double_option")]
    #[schema(value_type = Option<String>)]
    pub author_id: Option<Option<String>>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// At least 8 characters.
    pub new_password: String,
}

fn parse_role(value: &str) -> Result<Role, FieldError> {
    Role::parse(value)
        .ok_or_else(|| FieldError::new("role", "must be one of admin, editor, author, contributor"))
}

impl TryFrom<CreateUserRequest> for NewUser {
    type Error = AppError;

    fn try_from(r: CreateUserRequest) -> Result<Self, AppError> {
        let mut errors = Vec::new();
        if r.email.as_deref().is_none_or(|e| e.trim().is_empty()) {
            errors.push(FieldError::new("email", "is required"));
        }
        if r.password.is_none() {
            errors.push(FieldError::new("password", "is required"));
        }
        let role = match r.role.as_deref() {
            None => {
                errors.push(FieldError::new("role", "is required"));
                None
            }
            Some(v) => parse_role(v).map_err(|e| errors.push(e)).ok(),
        };
        match (r.email, r.password, role) {
            (Some(email), Some(password), Some(role)) if errors.is_empty() => Ok(NewUser {
                email,
                password,
                display_name: r.display_name,
                role,
                author_id: r.author_id,
            }),
            _ => Err(AppError::Validation(errors)),
        }
    }
}

impl TryFrom<UpdateUserRequest> for UserPatch {
    type Error = AppError;

    fn try_from(r: UpdateUserRequest) -> Result<Self, AppError> {
        let role = r
            .role
            .as_deref()
            .map(parse_role)
            .transpose()
            .map_err(|e| AppError::Validation(vec![e]))?;
        Ok(UserPatch {
            email: r.email,
            password: r.password,
            display_name: r.display_name,
            role,
            author_id: r.author_id,
            active: r.active,
        })
    }
}

const PROBLEM: &str = "application/problem+json";

/// List users (admin).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(PageParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of users", body = UserList),
        (status = 401, description = "No or bad token", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 403, description = "Not an admin", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 422, description = "Bad pagination", body = crate::http::problem::Problem, content_type = PROBLEM),
    ))]
pub async fn list_users(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    OriginalUri(uri): OriginalUri,
    Query(params): Query<PageParams>,
) -> Result<impl IntoResponse, ApiError> {
    let page = params.parse(state.config.list_depth())?;
    let result = users::list(&state, &ctx.actor, page).await?;
    let mut headers = HeaderMap::new();
    pagination_headers(&mut headers, uri.path(), uri.query(), &result);
    private_no_store(&mut headers);
    let meta = ListMeta::from(&result);
    let data = result.items.into_iter().map(UserDto::from).collect();
    Ok((headers, AxumJson(UserList { data, meta })))
}

/// Create a user (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUserRequest, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = UserDto, headers(("Location" = String, description = "URL of the new user"))),
        (status = 400, description = "Malformed JSON", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 401, description = "No or bad token", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 403, description = "Not an admin", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 409, description = "Email already used (case-insensitively)", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 415, description = "Not JSON", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 422, description = "Invalid fields", body = crate::http::problem::Problem, content_type = PROBLEM),
    ))]
pub async fn create_user(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Json(body): Json<CreateUserRequest>,
) -> Result<impl IntoResponse, ApiError> {
    crate::auth::policy::require_admin(&ctx.actor)?;
    let input = NewUser::try_from(body)?;
    let user = users::create_as(&state, &ctx.actor, input).await?;
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/users/{}", user.id)) {
        headers.insert(header::LOCATION, v);
    }
    private_no_store(&mut headers);
    Ok((StatusCode::CREATED, headers, AxumJson(UserDto::from(user))))
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserDto),
        (status = 401, description = "No or bad token", body = crate::http::problem::Problem, content_type = PROBLEM),
    ))]
pub async fn get_me(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> Result<impl IntoResponse, ApiError> {
    let user = users::me(&state, &ctx.actor).await?;
    let mut headers = HeaderMap::new();
    private_no_store(&mut headers);
    Ok((headers, AxumJson(UserDto::from(user))))
}

/// Change one's own password; ends every session of the user at once (their
/// access tokens included). Checking the current password counts against the
/// login limits.
#[utoipa::path(post, path = "/api/v1/users/me/password", tag = "users", request_body = ChangePasswordRequest, security(("bearer" = [])),
    responses(
        (status = 204, description = "Changed"),
        (status = 401, description = "No or bad token", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 422, description = "Wrong current password or too short a new one", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 429, description = "Too many failed password checks (as for logins)", body = crate::http::problem::Problem, content_type = PROBLEM,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "Too many password checks at once (code overloaded)", body = crate::http::problem::Problem, content_type = PROBLEM,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Json(body): Json<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    auth::change_password(&state, &ctx, &body.current_password, &body.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One user (admin, or the user themself).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = UserDto),
        (status = 401, description = "No or bad token", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 403, description = "Not an admin", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 404, description = "No such user", body = crate::http::problem::Problem, content_type = PROBLEM),
    ))]
pub async fn get_user(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let user = users::get(&state, &ctx.actor, &id).await?;
    let mut headers = HeaderMap::new();
    private_no_store(&mut headers);
    Ok((headers, AxumJson(UserDto::from(user))))
}

/// Update a user (admin).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UpdateUserRequest, security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "The updated user", body = UserDto),
        (status = 400, description = "Malformed JSON", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 401, description = "No or bad token", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 403, description = "Not an admin", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 404, description = "No such user", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 409, description = "Email taken, or the last admin would be lost", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 415, description = "Not JSON", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 422, description = "Invalid fields", body = crate::http::problem::Problem, content_type = PROBLEM),
    ))]
pub async fn update_user(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Json(body): Json<UpdateUserRequest>,
) -> Result<impl IntoResponse, ApiError> {
    crate::auth::policy::require_admin(&ctx.actor)?;
    let patch = UserPatch::try_from(body)?;
    let user = users::update(&state, &ctx.actor, &id, patch).await?;
    let mut headers = HeaderMap::new();
    private_no_store(&mut headers);
    Ok((headers, AxumJson(UserDto::from(user))))
}

/// Delete a user (admin).
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad token", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 403, description = "Not an admin", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 404, description = "No such user", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 409, description = "The last admin", body = crate::http::problem::Problem, content_type = PROBLEM),
    ))]
pub async fn delete_user(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    users::delete(&state, &ctx.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
