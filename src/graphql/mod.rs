//! The GraphQL transport: schema with limits, `POST /graphql` (and GET for
//! queries), GraphiQL on a browser GET. Resolvers translate; services decide.

pub mod comments;
pub mod cost;
pub mod error;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod types;
pub mod webhooks;

use std::net::SocketAddr;

use async_graphql::{EmptySubscription, Schema, http::GraphiQLSource};
use async_graphql_axum::GraphQLResponse;
use axum::{
    Router,
    body::Bytes,
    extract::{ConnectInfo, RawQuery, State},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};

use crate::{
    auth::RequestContext,
    error::AppError,
    http::{problem::IntoProblem, request_context},
    state::AppState,
};

pub type BroadsheetSchema = Schema<query::QueryRoot, mutation::MutationRoot, EmptySubscription>;

/// Most complex query accepted (each field costs 1, lists cost per item:
/// what the rows fetched may cost, once [`limits`] has bounded the document).
pub const MAX_COMPLEXITY: usize = 2_000;

/// Build the schema once; it is shared by every request.
pub fn schema(state: AppState) -> BroadsheetSchema {
    let depth = state.config.graphql.max_depth as usize;
    Schema::build(query::QueryRoot, mutation::MutationRoot, EmptySubscription)
        .data(state)
        .limit_depth(depth)
        .limit_complexity(MAX_COMPLEXITY)
        .extension(cost::ResolveBudget)
        .finish()
}

/// The SDL as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(query::QueryRoot, mutation::MutationRoot, EmptySubscription)
        .finish()
        .sdl()
}

#[derive(Clone)]
struct GraphqlState {
    schema: BroadsheetSchema,
    app: AppState,
}

/// `/graphql` routes.
pub fn router(state: AppState) -> Router<AppState> {
    let gql = GraphqlState {
        schema: schema(state.clone()),
        app: state,
    };
    Router::new().route(
        "/graphql",
        get(graphql_get).post(graphql_post).with_state(gql),
    )
}

/// A JSON request or batch. Multipart requests (the GraphQL upload
/// convention) are refused: the schema takes no uploads, and every write
/// should arrive in one shape.
async fn graphql_post(
    State(gql): State<GraphqlState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/") {
        return refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "GraphQL requests are JSON (application/json); multipart requests are not accepted"
                .into(),
            None,
        );
    }
    let limits = gql.app.config.graphql;
    if let Err(r) = limits::check_batch_len(&body, limits.max_batch) {
        return over_limit(r);
    }
    let batch: async_graphql::BatchRequest = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(e) => {
            return refused(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                format!("the body is not a GraphQL request: {e}"),
                None,
            );
        }
    };
    execute(&gql, &headers, peer, batch).await
}

/// GraphiQL for a browser (no `query` parameter), else a query over GET.
async fn graphql_get(
    State(gql): State<GraphqlState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let raw = raw.unwrap_or_default();
    if !raw.split('&').any(|p| p.starts_with("query=")) {
        // GraphiQL's page has inline script and loads its bundle from unpkg.
        const GRAPHIQL_CSP: &str = "default-src 'none'; script-src 'unsafe-inline' https://unpkg.com; style-src 'unsafe-inline' https://unpkg.com; font-src https://unpkg.com data:; img-src 'self' data: https:; connect-src 'self'; worker-src blob:; frame-ancestors 'none'; base-uri 'none'";
        return (
            [(
                axum::http::header::CONTENT_SECURITY_POLICY,
                axum::http::HeaderValue::from_static(GRAPHIQL_CSP),
            )],
            Html(GraphiQLSource::build().endpoint("/graphql").finish()),
        )
            .into_response();
    }
    let request = async_graphql::http::parse_query_string(&raw).map(|mut request| {
        check_limits(std::slice::from_mut(&mut request), &gql.app.config.graphql).map(|()| request)
    });
    match request {
        Ok(Err(r)) => over_limit(r),
        Ok(Ok(request)) if is_mutation(&request.query) => crate::http::problem::Problem {
            kind: "about:blank",
            title: "Method Not Allowed",
            status: 405,
            detail: "mutations must be sent with POST".into(),
            code: "method_not_allowed",
            errors: None,
        }
        .into_response_with_status(),
        Ok(Ok(request)) => execute(&gql, &headers, peer, request.into()).await,
        Err(e) => AppError::BadRequest(format!("invalid GraphQL GET request: {e}")).into_problem(),
    }
}

/// Whether a GraphQL document holds a mutation (GET must stay safe, and GET
/// answers may be cached).
fn is_mutation(query: &str) -> bool {
    async_graphql::parser::parse_query(query).is_ok_and(|doc| {
        doc.operations
            .iter()
            .any(|(_, op)| op.node.ty != async_graphql::parser::types::OperationType::Query)
    })
}

/// A whole-request failure as a GraphQL response (200 with `errors`).
fn request_error(err: AppError) -> Response {
    let err = error::ToGraphql::to_graphql(&err);
    let server_error = err.into_server_error(async_graphql::Pos::default());
    let mut server_error = server_error;
    server_error.locations.clear();
    GraphQLResponse::from(async_graphql::Response::from_errors(vec![server_error])).into_response()
}

fn value_has_nul(v: &async_graphql::Value) -> bool {
    use async_graphql::Value;
    match v {
        Value::String(s) => s.contains('\0'),
        Value::List(items) => items.iter().any(value_has_nul),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.contains('\0') || value_has_nul(v)),
        _ => false,
    }
}

/// Every operation of a request within [`limits`]: the batch's length,
/// then each document's bytes, tokens and nesting before it is parsed, then
/// the parsed document (kept for execution, so it is parsed once).
fn check_limits(
    ops: &mut [async_graphql::Request],
    limits: &crate::config::GraphqlLimits,
) -> Result<(), limits::Refused> {
    if ops.len() > limits.max_batch as usize {
        return Err(limits::Refused {
            code: limits::LIMIT_CODE,
            limit: "batch",
            max: Some(limits.max_batch),
            message: format!(
                "the request holds more than {} operations (limit `batch`)",
                limits.max_batch
            ),
        });
    }
    for op in ops.iter_mut() {
        limits::scan(&op.query, limits)?;
        limits::check_variables(&op.variables, limits.max_nesting)?;
        // A document that does not parse is left to async-graphql, which
        // reports where; the other operations of a batch still run.
        if let Ok(doc) = op.parsed_query() {
            limits::analyse(doc, limits)?;
        }
    }
    Ok(())
}

/// A request refused before it ran: `status` and one error with `code`.
fn refused(
    status: StatusCode,
    code: &'static str,
    message: String,
    extra: Option<&limits::Refused>,
) -> Response {
    let mut err = async_graphql::ServerError::new(message, None);
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", code);
    if let Some(r) = extra {
        ext.set("limit", r.limit);
        if let Some(max) = r.max {
            ext.set("max", max);
        }
    }
    err.extensions = Some(ext);
    let mut response =
        GraphQLResponse::from(async_graphql::Response::from_errors(vec![err])).into_response();
    *response.status_mut() = status;
    response
}

fn over_limit(r: limits::Refused) -> Response {
    refused(StatusCode::BAD_REQUEST, r.code, r.message.clone(), Some(&r))
}

async fn execute(
    gql: &GraphqlState,
    headers: &HeaderMap,
    peer: SocketAddr,
    mut batch: async_graphql::BatchRequest,
) -> Response {
    let checked = match &mut batch {
        async_graphql::BatchRequest::Single(op) => {
            check_limits(std::slice::from_mut(op), &gql.app.config.graphql)
        }
        async_graphql::BatchRequest::Batch(ops) => check_limits(ops, &gql.app.config.graphql),
    };
    if let Err(r) = checked {
        return over_limit(r);
    }
    let ops: Vec<&async_graphql::Request> = match &batch {
        async_graphql::BatchRequest::Single(op) => vec![op],
        async_graphql::BatchRequest::Batch(ops) => ops.iter().collect(),
    };
    // PostgreSQL cannot store NUL; refuse it here on every backend alike.
    if ops.iter().any(|op| {
        op.query.contains('\0')
            || op.query.contains("\\u0000")
            || op.variables.iter().any(|(_, v)| value_has_nul(v))
    }) {
        return request_error(AppError::BadRequest(crate::error::NUL_MESSAGE.into()));
    }
    for op in &ops {
        gql.app
            .metrics
            .graphql_operation(op.operation_name.as_deref());
    }
    // Preview reads must never be stored by any cache.
    let preview = ops.iter().any(|op| op.query.contains("previewToken"));
    let ctx: RequestContext = match request_context(&gql.app, headers, Some(peer)).await {
        Ok(ctx) => ctx,
        Err(e) => return request_error(e),
    };
    // A loader per request: its cache never outlives the request.
    let counts = loaders::CountLoader::new(loaders::ArticleCounts(gql.app.clone()));
    let comment_loaders = loaders::CommentLoaders::new(&gql.app);
    let batch = batch
        .data(ctx.actor.clone())
        .data(ctx)
        .data(counts)
        .data(comment_loaders)
        .data(cost::Budget::new(gql.app.config.graphql_cost.max_resolved));
    let mut response = gql.schema.execute_batch(batch).await;
    match &mut response {
        async_graphql::BatchResponse::Single(r) => code_uncoded_errors(r),
        async_graphql::BatchResponse::Batch(rs) => rs.iter_mut().for_each(code_uncoded_errors),
    }
    let mut response = GraphQLResponse::from(response).into_response();
    if preview {
        crate::http::caching::private_no_store(response.headers_mut());
    }
    response
}

/// async-graphql's own errors (syntax, validation, depth and complexity
/// limits, argument coercion) carry no `extensions.code`; they are all the
/// client's doing, so they get `BAD_USER_INPUT` like every other input error.
fn code_uncoded_errors(response: &mut async_graphql::Response) {
    for err in &mut response.errors {
        let extensions = err.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "BAD_USER_INPUT");
        }
    }
}
