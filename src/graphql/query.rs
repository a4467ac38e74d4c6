//! The query root.

use async_graphql::{Context, Object};

use crate::{
    auth::Actor,
    graphql::{error::GqlResultExt, types::ArticleConnection},
    services::articles::{self, ConnectionArgs},
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
}
