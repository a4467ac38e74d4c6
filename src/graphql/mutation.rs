//! The mutation root: every write goes through a service function.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};

use crate::{
    auth::{Actor, RequestContext},
    graphql::{
        error::GqlResultExt,
        types::{AuthPayload, Role, User},
    },
    services::{
        auth,
        users::{self, NewUser, UserPatch},
    },
    state::AppState,
};

pub struct MutationRoot;

/// A new account.
#[derive(InputObject)]
pub struct CreateUserInput {
    pub email: String,
    /// At least 8 characters.
    pub password: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub author_id: Option<ID>,
}

/// Changes to an account; omitted fields stay as they are, `authorId: null` unlinks.
#[derive(InputObject, Default)]
pub struct UpdateUserInput {
    pub email: Option<String>,
    pub password: Option<String>,
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub author_id: MaybeUndefined<ID>,
    pub active: Option<bool>,
}

fn parts<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<(&'a AppState, &'a RequestContext)> {
    Ok((ctx.data::<AppState>()?, ctx.data::<RequestContext>()?))
}

fn actor<'a>(ctx: &'a Context<'_>) -> &'a Actor {
    ctx.data_opt::<Actor>().unwrap_or(&Actor::Anonymous)
}

#[Object]
impl MutationRoot {
    /// Exchange email and password for tokens. A wrong password and an unknown
    /// email get the same `UNAUTHENTICATED` answer; repeated failures `RATE_LIMITED`.
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
    ) -> async_graphql::Result<AuthPayload> {
        let (state, req) = parts(ctx)?;
        auth::login(state, req, &email, &password)
            .await
            .map(Into::into)
            .gql()
    }

    /// Rotate a refresh token. Reusing a spent one revokes the whole session.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> async_graphql::Result<AuthPayload> {
        let (state, _) = parts(ctx)?;
        auth::refresh(state, &refresh_token)
            .await
            .map(Into::into)
            .gql()
    }

    /// Revoke the session a refresh token belongs to. Always true.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> async_graphql::Result<bool> {
        let (state, _) = parts(ctx)?;
        auth::logout(state, &refresh_token)
            .await
            .map(|_| true)
            .gql()
    }

    /// Change one's own password (ends every session). Always true.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> async_graphql::Result<bool> {
        let (state, _) = parts(ctx)?;
        auth::change_password(state, actor(ctx), &current_password, &new_password)
            .await
            .map(|_| true)
            .gql()
    }

    /// Create an account (admin).
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        input: CreateUserInput,
    ) -> async_graphql::Result<User> {
        let (state, _) = parts(ctx)?;
        let input = NewUser {
            email: input.email,
            password: input.password,
            display_name: input.display_name,
            role: input.role.into(),
            author_id: input.author_id.map(|id| id.0),
        };
        users::create_as(state, actor(ctx), input)
            .await
            .map(User)
            .gql()
    }

    /// Update an account (admin).
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateUserInput,
    ) -> async_graphql::Result<User> {
        let (state, _) = parts(ctx)?;
        let patch = UserPatch {
            email: input.email,
            password: input.password,
            display_name: input.display_name,
            role: input.role.map(Into::into),
            author_id: match input.author_id {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(v) => Some(Some(v.0)),
            },
            active: input.active,
        };
        users::update(state, actor(ctx), &id, patch)
            .await
            .map(User)
            .gql()
    }

    /// Delete an account (admin). Always true.
    async fn delete_user(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let (state, _) = parts(ctx)?;
        users::delete(state, actor(ctx), &id)
            .await
            .map(|_| true)
            .gql()
    }
}
