//! The query root.

use async_graphql::{Context, Enum, ID, InputObject, Object};

use crate::{
    auth::Actor,
    domain::pagination::{ConnectionArgs, Page},
    entities::{author, source, tag},
    error::AppError,
    graphql::{
        error::GqlResultExt,
        types::{
            Article, ArticleConnection, Author, AuthorConnection, SearchConnection, SearchHit,
            Source, SourceConnection, Tag, TagConnection, User, UserConnection, article_connection,
            offset_edges, offset_window,
        },
    },
    services::{
        articles::{self, ArticleFilter as Filter, ArticleSort, Found},
        resolve, search, taxonomy, users,
    },
    state::AppState,
};

pub struct QueryRoot;

/// Which articles a list shows.
#[derive(InputObject, Default)]
pub struct ArticleFilter {
    /// Author slug or id.
    pub author: Option<String>,
    /// Source slug or id.
    pub source: Option<String>,
    /// Tag slug or id.
    pub tag: Option<String>,
    /// Full-text search: words that must all match (accents, case and English
    /// word endings ignored), `prefix*` and `"exact phrases"`.
    pub query: Option<String>,
    /// Staff only: draft, published, scheduled, archived or any.
    pub status: Option<String>,
}

/// Article list orders.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum ArticleOrder {
    #[default]
    PublishedAtDesc,
    PublishedAtAsc,
    TitleAsc,
    UpdatedAtDesc,
}

impl From<ArticleOrder> for ArticleSort {
    fn from(o: ArticleOrder) -> Self {
        match o {
            ArticleOrder::PublishedAtDesc => ArticleSort::PublishedDesc,
            ArticleOrder::PublishedAtAsc => ArticleSort::PublishedAsc,
            ArticleOrder::TitleAsc => ArticleSort::TitleAsc,
            ArticleOrder::UpdatedAtDesc => ArticleSort::UpdatedDesc,
        }
    }
}

fn ctx_parts<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<(&'a AppState, Actor)> {
    Ok((
        ctx.data::<AppState>()?,
        ctx.data_opt::<Actor>().cloned().unwrap_or(Actor::Anonymous),
    ))
}

/// Exactly one of `id` and `slug`.
fn id_or_slug(id: Option<ID>, slug: Option<String>) -> async_graphql::Result<String> {
    match (id, slug) {
        (Some(id), None) => Ok(id.0),
        (None, Some(slug)) => Ok(slug),
        _ => Err(AppError::validation(
            "id",
            "give exactly one of id and slug",
        ))
        .gql(),
    }
}

#[Object]
impl QueryRoot {
    /// Articles, newest first unless ordered otherwise. Without a `status`
    /// filter only published, visible articles. `first`/`last` at most 100.
    #[graphql(
        complexity = "crate::graphql::cost::connection(first.or(last), 10, child_complexity)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ArticleFilter>,
        order_by: Option<ArticleOrder>,
    ) -> async_graphql::Result<ArticleConnection> {
        let (state, actor) = ctx_parts(ctx)?;
        let f = filter.unwrap_or_default();
        let filter = Filter {
            author: f.author,
            source: f.source,
            tag: f.tag,
            query: f.query,
            status: f.status,
        };
        let conn = articles::connection(
            state,
            &actor,
            filter,
            order_by.unwrap_or_default().into(),
            ConnectionArgs {
                first,
                after,
                last,
                before,
            },
        )
        .await
        .gql()?;
        article_connection(ctx, conn).await
    }

    /// One article by id or slug (an earlier slug finds it too); null when
    /// there is none the caller may see. With `previewToken` (from
    /// `createPreviewToken`), the article it names as it is now, whatever its
    /// status; a bad, expired or other article's token is `UNAUTHENTICATED`.
    async fn article(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        slug: Option<String>,
        preview_token: Option<String>,
    ) -> async_graphql::Result<Option<Article>> {
        let (state, actor) = ctx_parts(ctx)?;
        let key = id_or_slug(id, slug)?;
        if let Some(token) = preview_token {
            return Ok(Some(Article(
                articles::get_preview(state, &token, &key).await.gql()?,
            )));
        }
        let found = match articles::get(state, &actor, &key).await {
            Ok(Found::Article(v)) => Some(*v),
            Ok(Found::MovedTo(current)) => {
                match articles::get(state, &actor, &current).await.gql()? {
                    Found::Article(v) => Some(*v),
                    Found::MovedTo(_) => None,
                }
            }
            Err(AppError::NotFound { .. }) => None,
            Err(e) => return Err(e).gql(),
        };
        Ok(found.map(Article))
    }

    /// A unified diff of an article's body from one revision to another (or
    /// to the current body when `toRevisionId` is omitted). Staff who may edit it.
    async fn article_revision_diff(
        &self,
        ctx: &Context<'_>,
        article_id: ID,
        from_revision_id: ID,
        to_revision_id: Option<ID>,
    ) -> async_graphql::Result<String> {
        let (state, actor) = ctx_parts(ctx)?;
        crate::services::revisions::diff(
            state,
            &actor,
            &article_id,
            &from_revision_id,
            to_revision_id.as_ref().map(|id| id.as_str()),
        )
        .await
        .gql()
    }

    /// Full-text search over visible articles, most relevant first (among the
    /// 1,000 newest matches; older matches follow, newest first), each hit
    /// with a highlighted snippet. `query`: words (all must match; accents,
    /// case and English word endings ignored), `prefix*` and `"exact
    /// phrases"`, at most 256 characters; any other syntax is plain text.
    #[graphql(complexity = "crate::graphql::cost::connection(first, 10, child_complexity)")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        query: String,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<SearchConnection> {
        let (state, _) = ctx_parts(ctx)?;
        let slice = offset_window(state, first, after.as_deref()).gql()?;
        let (hits, total) = search::search(state, &query, "query", slice).await.gql()?;
        let page = Page {
            items: hits,
            page: 0,
            per_page: slice.limit,
            total: total.count,
        };
        let (items, next, previous, _) = offset_edges(
            slice,
            page,
            |h| h.article.article.id.clone(),
            |h| SearchHit {
                article: Article(h.article),
                snippet: h.snippet,
                rank: h.rank,
            },
        );
        Ok(SearchConnection::build(items, next, previous, total))
    }

    /// One author by id or slug.
    async fn author(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        slug: Option<String>,
    ) -> async_graphql::Result<Option<Author>> {
        let (state, _) = ctx_parts(ctx)?;
        let key = id_or_slug(id, slug)?;
        resolve::<author::Entity>(&state.db, author::Column::Id, author::Column::Slug, &key)
            .await
            .map(|o| o.map(Author))
            .gql()
    }

    /// Authors by name.
    #[graphql(complexity = "crate::graphql::cost::connection(first, 10, child_complexity)")]
    async fn authors(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AuthorConnection> {
        let (state, _) = ctx_parts(ctx)?;
        let slice = offset_window(state, first, after.as_deref()).gql()?;
        let page = taxonomy::list_authors(state, slice).await.gql()?;
        let (items, next, previous, total) =
            offset_edges(slice, page, |v| v.author.id.clone(), |v| Author(v.author));
        Ok(AuthorConnection::build(items, next, previous, total))
    }

    /// One source by id or slug.
    async fn source(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        slug: Option<String>,
    ) -> async_graphql::Result<Option<Source>> {
        let (state, _) = ctx_parts(ctx)?;
        let key = id_or_slug(id, slug)?;
        resolve::<source::Entity>(&state.db, source::Column::Id, source::Column::Slug, &key)
            .await
            .map(|o| o.map(Source))
            .gql()
    }

    /// Sources by name.
    #[graphql(complexity = "crate::graphql::cost::connection(first, 10, child_complexity)")]
    async fn sources(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<SourceConnection> {
        let (state, _) = ctx_parts(ctx)?;
        let slice = offset_window(state, first, after.as_deref()).gql()?;
        let page = taxonomy::list_sources(state, slice).await.gql()?;
        let (items, next, previous, total) =
            offset_edges(slice, page, |v| v.source.id.clone(), |v| Source(v.source));
        Ok(SourceConnection::build(items, next, previous, total))
    }

    /// One tag by id or slug.
    async fn tag(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        slug: Option<String>,
    ) -> async_graphql::Result<Option<Tag>> {
        let (state, _) = ctx_parts(ctx)?;
        let key = id_or_slug(id, slug)?;
        resolve::<tag::Entity>(&state.db, tag::Column::Id, tag::Column::Slug, &key)
            .await
            .map(|o| o.map(Tag))
            .gql()
    }

    /// Tags by name.
    #[graphql(complexity = "crate::graphql::cost::connection(first, 10, child_complexity)")]
    async fn tags(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<TagConnection> {
        let (state, _) = ctx_parts(ctx)?;
        let slice = offset_window(state, first, after.as_deref()).gql()?;
        let page = taxonomy::list_tags(state, slice).await.gql()?;
        let (items, next, previous, total) =
            offset_edges(slice, page, |v| v.tag.id.clone(), |v| Tag(v.tag));
        Ok(TagConnection::build(items, next, previous, total))
    }

    /// The signed-in user (`UNAUTHENTICATED` without a token).
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let (state, actor) = ctx_parts(ctx)?;
        users::me(state, &actor).await.map(User).gql()
    }

    /// One account (admin, or the user themself).
    async fn user(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<User> {
        let (state, actor) = ctx_parts(ctx)?;
        users::get(state, &actor, &id).await.map(User).gql()
    }

    /// Every webhook endpoint (admin).
    #[graphql(
        complexity = "crate::graphql::cost::list(crate::graphql::cost::WEBHOOKS, child_complexity)"
    )]
    async fn webhooks(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::graphql::webhooks::Webhook>> {
        let (state, actor) = ctx_parts(ctx)?;
        crate::services::webhooks::list(state, &actor)
            .await
            .map(|l| {
                l.into_iter()
                    .map(crate::graphql::webhooks::Webhook)
                    .collect()
            })
            .gql()
    }

    /// One webhook endpoint (admin); `NOT_FOUND` when there is none.
    async fn webhook(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<crate::graphql::webhooks::Webhook> {
        let (state, actor) = ctx_parts(ctx)?;
        crate::services::webhooks::get(state, &actor, &id)
            .await
            .map(crate::graphql::webhooks::Webhook)
            .gql()
    }

    /// All accounts, oldest first (admin). `first` at most 100.
    #[graphql(complexity = "crate::graphql::cost::connection(first, 50, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<UserConnection> {
        let (state, actor) = ctx_parts(ctx)?;
        users::connection(state, &actor, first, after)
            .await
            .map(UserConnection::from)
            .gql()
    }

    /// The moderation queue, newest first (admin, editor): `status` defaults
    /// to PENDING; `article` is an id or slug.
    #[graphql(complexity = "crate::graphql::cost::connection(first, 10, child_complexity)")]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        status: Option<crate::graphql::comments::CommentModeration>,
        article: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<crate::graphql::comments::CommentConnection> {
        use crate::graphql::comments::{Comment, CommentConnection};
        let (state, actor) = ctx_parts(ctx)?;
        let slice = offset_window(state, first, after.as_deref()).gql()?;
        let filter = crate::services::comments::QueueFilter {
            status: status.map(|s| s.as_str().to_string()),
            article,
        };
        let page = crate::services::comments::queue(state, &actor, filter, slice)
            .await
            .gql()?;
        let (items, next, previous, total) =
            offset_edges(slice, page, |v| v.comment.id.clone(), Comment);
        Ok(CommentConnection::build(items, next, previous, total))
    }
}
