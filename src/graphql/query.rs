//! The query root.

use async_graphql::{Context, ID, Object};

use crate::{
    auth::Actor,
    graphql::{
        error::GqlResultExt,
        types::{ArticleConnection, User, UserConnection},
    },
    services::{
        articles::{self, ConnectionArgs},
        users,
    },
    state::AppState,
};

pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// Published articles, newest first. `first`/`last` at most 100.
    #[graphql(
        complexity = "first.or(last).unwrap_or(10).clamp(0, 100) as usize * child_complexity + 1"
    )]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<ArticleConnection> {
        let state = ctx.data::<AppState>()?;
        let actor = ctx.data_opt::<Actor>().cloned().unwrap_or(Actor::Anonymous);
        let args = ConnectionArgs {
            first,
            after,
            last,
            before,
        };
        articles::connection(state, &actor, args)
            .await
            .map(ArticleConnection::from)
            .gql()
    }

    /// The signed-in user (`UNAUTHENTICATED` without a token).
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let state = ctx.data::<AppState>()?;
        let actor = ctx.data_opt::<Actor>().cloned().unwrap_or(Actor::Anonymous);
        users::me(state, &actor).await.map(User).gql()
    }

    /// One account (admin, or the user themself).
    async fn user(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<User> {
        let state = ctx.data::<AppState>()?;
        let actor = ctx.data_opt::<Actor>().cloned().unwrap_or(Actor::Anonymous);
        users::get(state, &actor, &id).await.map(User).gql()
    }

    /// All accounts, oldest first (admin). `first` at most 100.
    #[graphql(complexity = "first.unwrap_or(50).clamp(0, 100) as usize * child_complexity + 1")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<UserConnection> {
        let state = ctx.data::<AppState>()?;
        let actor = ctx.data_opt::<Actor>().cloned().unwrap_or(Actor::Anonymous);
        users::connection(state, &actor, first, after)
            .await
            .map(UserConnection::from)
            .gql()
    }
}
