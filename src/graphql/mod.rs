//! The GraphQL transport: schema with limits, `POST /graphql` (and GET for
//! queries), GraphiQL on a browser GET. Resolvers translate; services decide.

pub mod error;
pub mod query;
pub mod types;

use async_graphql::{EmptyMutation, EmptySubscription, Schema, http::GraphiQLSource};
use async_graphql_axum::{GraphQLBatchRequest, GraphQLResponse};
use axum::{
    Router,
    extract::{RawQuery, State},
    response::{Html, IntoResponse, Response},
    routing::get,
};

use crate::{auth::Actor, error::AppError, state::AppState};

pub type BroadsheetSchema = Schema<query::QueryRoot, EmptyMutation, EmptySubscription>;

/// Deepest query accepted.
pub const MAX_DEPTH: usize = 12;
/// Most complex query accepted (each field costs 1, lists cost per item).
pub const MAX_COMPLEXITY: usize = 2_000;
/// Most operations in one batched request.
pub const MAX_BATCH: usize = 10;

/// Build the schema once; it is shared by every request.
pub fn schema(state: AppState) -> BroadsheetSchema {
    Schema::build(query::QueryRoot, EmptyMutation, EmptySubscription)
        .data(state)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

/// The SDL as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(query::QueryRoot, EmptyMutation, EmptySubscription)
        .finish()
        .sdl()
}

/// `/graphql` routes.
pub fn router(schema: BroadsheetSchema) -> Router<AppState> {
    Router::new().route(
        "/graphql",
        get(graphql_get).post(graphql_post).with_state(schema),
    )
}

async fn graphql_post(
    State(schema): State<BroadsheetSchema>,
    request: GraphQLBatchRequest,
) -> Response {
    execute(&schema, request.into_inner()).await
}

/// GraphiQL for a browser (no `query` parameter), else a query over GET.
async fn graphql_get(State(schema): State<BroadsheetSchema>, RawQuery(raw): RawQuery) -> Response {
    let raw = raw.unwrap_or_default();
    if !raw.split('&').any(|p| p.starts_with("query=")) {
        return Html(GraphiQLSource::build().endpoint("/graphql").finish()).into_response();
    }
    match async_graphql::http::parse_query_string(&raw) {
        Ok(request) => execute(&schema, request.into()).await,
        Err(e) => AppError::BadRequest(format!("invalid GraphQL GET request: {e}")).into_response(),
    }
}

async fn execute(schema: &BroadsheetSchema, batch: async_graphql::BatchRequest) -> Response {
    if let async_graphql::BatchRequest::Batch(ops) = &batch
        && ops.len() > MAX_BATCH
    {
        let err = async_graphql::ServerError::new(
            format!(
                "a batch may hold at most {MAX_BATCH} operations, this one has {}",
                ops.len()
            ),
            None,
        );
        let mut err = err;
        err.extensions = Some({
            let mut ext = async_graphql::ErrorExtensionValues::default();
            ext.set("code", "BAD_USER_INPUT");
            ext
        });
        let resp = async_graphql::Response::from_errors(vec![err]);
        return GraphQLResponse::from(resp).into_response();
    }
    let batch = batch.data(Actor::Anonymous);
    GraphQLResponse::from(schema.execute_batch(batch).await).into_response()
}
