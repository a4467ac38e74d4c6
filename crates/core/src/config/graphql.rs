//! What one GraphQL request may hold and what answering it may cost.

/// What one GraphQL request may hold, checked before async-graphql parses,
/// validates or runs it (README "GraphQL documents and caching").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphqlLimits {
    /// `BROADSHEET_GRAPHQL_MAX_BATCH`: operations in one batched request (default 10).
    pub max_batch: u32,
    /// `BROADSHEET_GRAPHQL_MAX_QUERY_BYTES`: bytes of one document (default 32768).
    pub max_query_bytes: u32,
    /// `BROADSHEET_GRAPHQL_MAX_TOKENS`: lexical tokens of one document (default 1000).
    pub max_tokens: u32,
    /// `BROADSHEET_GRAPHQL_MAX_NESTING`: brackets open at once in a document, and
    /// nesting of the variables' JSON (default 32).
    pub max_nesting: u32,
    /// `BROADSHEET_GRAPHQL_MAX_ALIASES`: aliased fields in one document (default 15).
    pub max_aliases: u32,
    /// `BROADSHEET_GRAPHQL_MAX_DIRECTIVES`: directives in one document (default 50).
    pub max_directives: u32,
    /// `BROADSHEET_GRAPHQL_MAX_SPREADS`: fragment spreads written in one document (default 100).
    pub max_spreads: u32,
    /// `BROADSHEET_GRAPHQL_MAX_DEPTH`: fields nested in one another, fragments
    /// flattened (default 16; GraphiQL's introspection query needs 13).
    pub max_depth: u32,
    /// `BROADSHEET_GRAPHQL_MAX_COST`: fields selected once every fragment is
    /// flattened, each counted once per use (default 5000).
    pub max_cost: u32,
}

impl Default for GraphqlLimits {
    fn default() -> Self {
        GraphqlLimits {
            max_batch: 10,
            max_query_bytes: 32_768,
            max_tokens: 1_000,
            max_nesting: 32,
            max_aliases: 15,
            max_directives: 50,
            max_spreads: 100,
            max_depth: 16,
            max_cost: 5_000,
        }
    }
}

/// What answering one GraphQL request may cost in data, whatever the
/// document (README "GraphQL cost of data"; audit 24, #1, #3, #11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphqlCost {
    /// `BROADSHEET_GRAPHQL_REPLIES_DEFAULT`: `Comment.replies` without `first` (default 10).
    pub replies_default: u32,
    /// `BROADSHEET_GRAPHQL_REPLIES_MAX`: the largest `first` on `Comment.replies` (default 100).
    pub replies_max: u32,
    /// `BROADSHEET_GRAPHQL_REVISIONS_MAX`: the largest `first` on
    /// `Article.revisions`, and its default (default 20).
    pub revisions_max: u32,
    /// `BROADSHEET_GRAPHQL_MAX_RESOLVED`: fields resolved for one HTTP request
    /// (a batch shares it); beyond, the request fails with `RESULT_TOO_LARGE`
    /// (default 50000).
    pub max_resolved: u32,
}

impl GraphqlCost {
    /// The most `BROADSHEET_GRAPHQL_REPLIES_MAX` may be: the complexity rule
    /// prices `replies` by `first` clamped to this.
    pub const REPLIES_CEILING: u32 = 100;
    /// The most `BROADSHEET_GRAPHQL_REVISIONS_MAX` may be.
    pub const REVISIONS_CEILING: u32 = 50;
}

impl Default for GraphqlCost {
    fn default() -> Self {
        GraphqlCost {
            replies_default: 10,
            replies_max: 100,
            revisions_max: 20,
            max_resolved: 50_000,
        }
    }
}
