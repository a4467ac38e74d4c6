//! DataLoaders: nested fields that would otherwise cost a query per item are
//! batched into one query per request and field.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Context,
    dataloader::{DataLoader, HashMapCache, Loader},
};

use crate::{
    services::articles::{self, ArticleView},
    state::AppState,
};

/// The per-request, caching loader of visible-article counts.
#[derive(Clone)]
pub struct CountLoader(pub Arc<DataLoader<ArticleCounts, HashMapCache>>);

impl CountLoader {
    pub fn new(counts: ArticleCounts) -> Self {
        CountLoader(Arc::new(DataLoader::with_cache(
            counts,
            tokio::spawn,
            HashMapCache::default(),
        )))
    }
}

/// Load, in one batch, every count a page of articles will ask for, so that
/// the nested `articleCount` fields are answered from the cache whatever the
/// page size (batching by timing alone would split large pages).
pub async fn prime_counts(ctx: &Context<'_>, views: &[&ArticleView]) -> async_graphql::Result<()> {
    let node = ctx.look_ahead().field("edges").field("node");
    let mut keys = Vec::new();
    if node.field("authors").field("articleCount").exists() {
        keys.extend(
            views
                .iter()
                .flat_map(|v| v.authors.iter().map(|a| (CountOf::Author, a.id.clone()))),
        );
    }
    if node.field("tags").field("articleCount").exists() {
        keys.extend(
            views
                .iter()
                .flat_map(|v| v.tags.iter().map(|t| (CountOf::Tag, t.id.clone()))),
        );
    }
    if node.field("source").field("articleCount").exists() {
        keys.extend(
            views
                .iter()
                .filter_map(|v| v.source.as_ref().map(|s| (CountOf::Source, s.id.clone()))),
        );
    }
    if !keys.is_empty() {
        let loader = ctx.data::<CountLoader>()?;
        loader.0.load_many(keys).await?;
    }
    Ok(())
}

/// What a visible-article count is counted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CountOf {
    Author,
    Source,
    Tag,
}

/// Visible articles per author, source or tag.
pub struct ArticleCounts(pub AppState);

impl Loader<(CountOf, String)> for ArticleCounts {
    type Value = u64;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(CountOf, String)],
    ) -> Result<HashMap<(CountOf, String), u64>, Self::Error> {
        use crate::graphql::error::ToGraphql;
        let db = &self.0.db;
        let mut out = HashMap::new();
        for kind in [CountOf::Author, CountOf::Source, CountOf::Tag] {
            let ids: Vec<String> = keys
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, id)| id.clone())
                .collect();
            if ids.is_empty() {
                continue;
            }
            let counts = match kind {
                CountOf::Author => articles::visible_counts_by_author(db, &ids).await,
                CountOf::Source => articles::visible_counts_by_source(db, &ids).await,
                CountOf::Tag => articles::visible_counts_by_tag(db, &ids).await,
            }
            .map_err(|e| e.to_graphql())?;
            for id in ids {
                let n = counts.get(&id).copied().unwrap_or(0);
                out.insert((kind, id), n);
            }
        }
        Ok(out)
    }
}

/// Approved replies per parent comment, at most `BROADSHEET_GRAPHQL_REPLIES_MAX` each.
pub struct Replies(pub AppState);

impl Loader<String> for Replies {
    type Value = Vec<crate::services::comments::CommentView>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        use crate::graphql::error::ToGraphql;
        // As many as the largest `first` may ask for; the field takes its own.
        let per_parent = u64::from(self.0.config.graphql_cost.replies_max);
        crate::services::comments::approved_replies(&self.0.db, keys, per_parent)
            .await
            .map_err(|e| e.to_graphql())
    }
}

/// Approved comments by id (for `Comment.parent`).
pub struct ApprovedComments(pub AppState);

impl Loader<String> for ApprovedComments {
    type Value = crate::services::comments::CommentView;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        use crate::graphql::error::ToGraphql;
        crate::services::comments::approved_by_ids(&self.0.db, keys)
            .await
            .map_err(|e| e.to_graphql())
    }
}

/// The comment loaders of one request (cached for that request only).
#[derive(Clone)]
pub struct CommentLoaders {
    pub replies: Arc<DataLoader<Replies, HashMapCache>>,
    pub by_id: Arc<DataLoader<ApprovedComments, HashMapCache>>,
}

impl CommentLoaders {
    pub fn new(state: &AppState) -> Self {
        CommentLoaders {
            replies: Arc::new(DataLoader::with_cache(
                Replies(state.clone()),
                tokio::spawn,
                HashMapCache::default(),
            )),
            by_id: Arc::new(DataLoader::with_cache(
                ApprovedComments(state.clone()),
                tokio::spawn,
                HashMapCache::default(),
            )),
        }
    }
}
