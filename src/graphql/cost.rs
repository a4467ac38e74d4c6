//! What answering a document may cost in data (audit 24, #1, #3, #4, #11).
//! The document limits ([`super::limits`] on the sec-graphql side, and
//! async-graphql's depth and complexity rules) count what is written; the
//! work behind it grows with the rows found. Two guards bound that:
//!
//! 1. **Pricing**, before anything runs: every list and connection field
//!    costs the items it may return times its children ([`window`]), and
//!    every connection a fixed [`CONNECTION`] for the count behind its
//!    `totalCount`, even with `first: 0`. Lists without `first` are priced at
//!    a typical size per parent ([`TAGS_PER_ARTICLE`], ...).
//! 2. **A budget while resolving** ([`ResolveBudget`]): every field resolved
//!    for one HTTP request (a batch shares it) is counted; past
//!    `BROADSHEET_GRAPHQL_MAX_RESOLVED` the rest of the request fails at once
//!    and the operation answers one `RESULT_TOO_LARGE` error. Every
//!    [`YIELD_EVERY`] fields the resolver yields to the runtime, so a
//!    resolution whose data is all loaded still lets the request timeout fire
//!    and other requests (`/healthz`) run on the same worker.

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicU64, Ordering},
};

use async_graphql::{
    Response, ServerError, ServerResult, Value,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, ResolveInfo,
    },
};

/// `extensions.code` of a request that resolved more than its budget.
pub const RESULT_TOO_LARGE: &str = "RESULT_TOO_LARGE";

/// Fixed price of a connection: its page query and the count behind `totalCount`.
pub const CONNECTION: usize = 10;
/// Price of `Article.tags` per article (it has no `first`).
pub const TAGS_PER_ARTICLE: usize = 10;
/// Price of `Article.authors` per article.
pub const AUTHORS_PER_ARTICLE: usize = 5;
/// Price of `Webhook.attempts` per delivery.
pub const ATTEMPTS_PER_DELIVERY: usize = 10;
/// Price of `Query.webhooks`.
pub const WEBHOOKS: usize = 20;
/// The most any connection returns at once.
pub const WINDOW_CEILING: i32 = 100;
/// `Comment.replies` without `first` is priced at this (the default of
/// `BROADSHEET_GRAPHQL_REPLIES_DEFAULT`).
pub const REPLIES_PRICE: i32 = 10;
/// `Article.revisions` without `first` is priced at this (the default of
/// `BROADSHEET_GRAPHQL_REVISIONS_MAX`).
pub const REVISIONS_PRICE: i32 = 20;
/// The largest `first` on `Comment.replies` any setting allows.
pub const REPLIES_CEILING: i32 = crate::config::GraphqlCost::REPLIES_CEILING as i32;
/// The largest `first` on `Article.revisions` any setting allows.
pub const REVISIONS_CEILING: i32 = crate::config::GraphqlCost::REVISIONS_CEILING as i32;
/// Yield to the runtime after this many fields.
pub const YIELD_EVERY: u64 = 256;

/// The items a list with `first` may return, clamped to `ceiling`.
pub fn window(first: Option<i32>, default: i32, ceiling: i32) -> usize {
    usize::try_from(first.unwrap_or(default).clamp(0, ceiling)).unwrap_or(0)
}

/// A connection's price: its window times its children, plus [`CONNECTION`].
pub fn connection(first: Option<i32>, default: i32, child: usize) -> usize {
    window(first, default, WINDOW_CEILING)
        .saturating_mul(child)
        .saturating_add(CONNECTION)
}

/// A plain list's price: `items` times its children, plus 1.
pub fn list(items: usize, child: usize) -> usize {
    items.saturating_mul(child).saturating_add(1)
}

/// The budget of one HTTP request: put in every operation's data.
#[derive(Debug)]
pub struct Budget {
    used: AtomicU64,
    max: u64,
    exceeded: AtomicBool,
}

impl Budget {
    pub fn new(max: u32) -> Arc<Budget> {
        Arc::new(Budget {
            used: AtomicU64::new(0),
            max: u64::from(max),
            exceeded: AtomicBool::new(false),
        })
    }

    fn error(&self) -> ServerError {
        let mut err = ServerError::new(
            format!(
                "the answer would hold more than {} fields (BROADSHEET_GRAPHQL_MAX_RESOLVED); ask for fewer items with `first`",
                self.max
            ),
            None,
        );
        let mut ext = async_graphql::ErrorExtensionValues::default();
        ext.set("code", RESULT_TOO_LARGE);
        ext.set("max", self.max);
        err.extensions = Some(ext);
        err
    }
}

/// The extension counting resolved fields against the request's [`Budget`].
pub struct ResolveBudget;

impl ExtensionFactory for ResolveBudget {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ResolveBudgetExtension)
    }
}

struct ResolveBudgetExtension;

#[async_graphql::async_trait::async_trait]
impl Extension for ResolveBudgetExtension {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let response = next.run(ctx, operation_name).await;
        match ctx.data_opt::<Arc<Budget>>() {
            // One clear error instead of a half-built answer and one error per field.
            Some(budget) if budget.exceeded.load(Ordering::Relaxed) => {
                Response::from_errors(vec![budget.error()])
            }
            _ => response,
        }
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if let Some(budget) = ctx.data_opt::<Arc<Budget>>() {
            let used = budget.used.fetch_add(1, Ordering::Relaxed) + 1;
            if used > budget.max {
                budget.exceeded.store(true, Ordering::Relaxed);
                return Err(budget.error());
            }
            if used % YIELD_EVERY == 0 {
                tokio::task::yield_now().await;
            }
        }
        next.run(ctx, info).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_costs_its_count_even_when_empty() {
        assert_eq!(connection(Some(0), 10, 500), CONNECTION);
        assert_eq!(connection(None, 10, 3), 40);
        assert_eq!(connection(Some(1_000), 10, 2), 210);
        assert_eq!(connection(Some(-5), 10, 2), CONNECTION);
        assert_eq!(list(usize::MAX, 2), usize::MAX);
    }
}
