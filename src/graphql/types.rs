//! GraphQL object types, mapped from service views (never from entities
//! directly, so the schema is a contract of its own). Staff-only fields
//! resolve to a `FORBIDDEN` error for everyone else, never to the value.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::{
    auth::Actor,
    domain::pagination::{Connection, ConnectionArgs, Window},
    entities::{author, source, tag},
    error::AppError,
    graphql::{
        cost,
        error::GqlResultExt,
        loaders::{CountLoader, CountOf, prime_counts},
    },
    services::articles::{self, ArticleFilter, ArticleSort, ArticleView},
    state::AppState,
};

/// Refuse a staff-only field to anyone else. Such fields are nullable, so a
/// refusal nulls only that field (with a `FORBIDDEN` error), not its parent.
pub fn require_staff_field(ctx: &Context<'_>) -> async_graphql::Result<()> {
    match ctx.data_opt::<Actor>() {
        Some(a) if a.is_staff() => Ok(()),
        _ => Err(AppError::Forbidden(
            "this field is only visible to staff".into(),
        ))
        .gql(),
    }
}

async fn visible_count(ctx: &Context<'_>, kind: CountOf, id: &str) -> async_graphql::Result<u64> {
    let loader = ctx.data::<CountLoader>()?;
    Ok(loader
        .0
        .load_one((kind, id.to_string()))
        .await?
        .unwrap_or(0))
}

/// The articles of one author, source or tag as a connection. Asked for
/// `totalCount` alone, it is answered by the request's count loader: one
/// batched query for every author, source and tag in the request, instead
/// of a count each (audit 24, #3).
async fn articles_of(
    ctx: &Context<'_>,
    of: (CountOf, &str),
    filter: ArticleFilter,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<ArticleConnection> {
    let state = ctx.data::<AppState>()?;
    let actor = ctx.data_opt::<Actor>().cloned().unwrap_or(Actor::Anonymous);
    let args = ConnectionArgs {
        first,
        after,
        ..Default::default()
    };
    let look = ctx.look_ahead();
    if !look.field("edges").exists() && !look.field("pageInfo").exists() {
        args.check(ArticleSort::default().name()).gql()?;
        let total = visible_count(ctx, of.0, of.1).await?;
        return Ok(ArticleConnection::build(Vec::new(), false, false, total));
    }
    let conn = articles::connection(state, &actor, filter, ArticleSort::default(), args)
        .await
        .gql()?;
    article_connection(ctx, conn).await
}

/// Map a service connection, priming the count loader for its articles.
pub async fn article_connection(
    ctx: &Context<'_>,
    conn: Connection<ArticleView>,
) -> async_graphql::Result<ArticleConnection> {
    let views: Vec<&ArticleView> = conn.edges.iter().map(|(_, v)| v).collect();
    prime_counts(ctx, &views).await?;
    Ok(ArticleConnection::from(conn))
}

/// A byline: a person articles are credited to.
pub struct Author(pub author::Model);

#[Object]
impl Author {
    /// UUIDv7.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// URL-safe unique name, e.g. `danny-haiphong`.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Role or position, e.g. "Co-editor".
    async fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }
    async fn bio(&self) -> Option<&str> {
        self.0.bio.as_deref()
    }
    async fn avatar_url(&self) -> Option<&str> {
        self.0.avatar_url.as_deref()
    }
    async fn website_url(&self) -> Option<&str> {
        self.0.website_url.as_deref()
    }
    /// Published, visible articles credited to this author.
    async fn article_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        visible_count(ctx, CountOf::Author, &self.0.id).await
    }
    /// This author's visible articles, newest first.
    #[graphql(complexity = "cost::connection(first, 10, child_complexity)")]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ArticleConnection> {
        articles_of(
            ctx,
            (CountOf::Author, &self.0.id),
            ArticleFilter {
                author: Some(self.0.id.clone()),
                ..Default::default()
            },
            first,
            after,
        )
        .await
    }
}

/// An outside outlet that content is cross-posted from, such as CGTN.
pub struct Source(pub source::Model);

#[Object]
impl Source {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn homepage_url(&self) -> Option<&str> {
        self.0.homepage_url.as_deref()
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn logo_url(&self) -> Option<&str> {
        self.0.logo_url.as_deref()
    }
    /// Staff only: the outlet's own feed.
    async fn feed_url(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        require_staff_field(ctx)?;
        Ok(self.0.feed_url.as_deref())
    }
    /// Published, visible articles from this source.
    async fn article_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        visible_count(ctx, CountOf::Source, &self.0.id).await
    }
    /// Visible articles from this source ("more from CGTN"), newest first.
    #[graphql(complexity = "cost::connection(first, 10, child_complexity)")]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ArticleConnection> {
        articles_of(
            ctx,
            (CountOf::Source, &self.0.id),
            ArticleFilter {
                source: Some(self.0.id.clone()),
                ..Default::default()
            },
            first,
            after,
        )
        .await
    }
}

/// A topic label.
pub struct Tag(pub tag::Model);

#[Object]
impl Tag {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Published, visible articles with this tag.
    async fn article_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        visible_count(ctx, CountOf::Tag, &self.0.id).await
    }
    /// Visible articles with this tag, newest first.
    #[graphql(complexity = "cost::connection(first, 10, child_complexity)")]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ArticleConnection> {
        articles_of(
            ctx,
            (CountOf::Tag, &self.0.id),
            ArticleFilter {
                tag: Some(self.0.id.clone()),
                ..Default::default()
            },
            first,
            after,
        )
        .await
    }
}

/// Whether readers may comment on an article.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum CommentStatus {
    Open,
    Closed,
}

impl CommentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CommentStatus::Open => "open",
            CommentStatus::Closed => "closed",
        }
    }
}

/// An article's workflow state.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ArticleStatus {
    Draft,
    Published,
    Archived,
}

impl ArticleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "draft",
            ArticleStatus::Published => "published",
            ArticleStatus::Archived => "archived",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "published" => ArticleStatus::Published,
            "archived" => ArticleStatus::Archived,
            _ => ArticleStatus::Draft,
        }
    }
}

/// How an article body is written.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum BodyFormat {
    Markdown,
    Html,
}

impl BodyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            BodyFormat::Markdown => "markdown",
            BodyFormat::Html => "html",
        }
    }
}

/// An article. Staff-only fields answer `FORBIDDEN` to everyone else.
pub struct Article(pub ArticleView);

#[Object]
impl Article {
    async fn id(&self) -> ID {
        ID(self.0.article.id.clone())
    }
    /// Earlier content, newest first (staff who may edit the article): the
    /// newest `first` (default and at most `BROADSHEET_GRAPHQL_REVISIONS_MAX`, 20).
    #[graphql(
        complexity = "cost::list(cost::window(first, cost::REVISIONS_PRICE, cost::REVISIONS_CEILING), child_complexity)"
    )]
    async fn revisions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> async_graphql::Result<Option<Vec<ArticleRevision>>> {
        require_staff_field(ctx)?;
        let state = ctx.data::<AppState>()?;
        let actor = ctx.data::<Actor>()?;
        let max = state.config.graphql_cost.revisions_max;
        let limit = match first {
            None => max,
            Some(n) if (0..=max as i32).contains(&n) => n as u32,
            Some(_) => {
                return Err(AppError::validation(
                    "first",
                    format!("must be from 0 to {max}"),
                ))
                .gql();
            }
        };
        let list = crate::services::revisions::list(
            state,
            actor,
            &self.0.article.id,
            Some(u64::from(limit)),
        )
        .await
        .gql()?;
        Ok(Some(list.into_iter().map(ArticleRevision::from).collect()))
    }
    async fn slug(&self) -> &str {
        &self.0.article.slug
    }
    async fn title(&self) -> &str {
        &self.0.article.title
    }
    /// The editor's note shown above the body.
    async fn standfirst(&self) -> Option<&str> {
        self.0.article.standfirst.as_deref()
    }
    /// Given by the editor, or derived from the first paragraph.
    async fn excerpt(&self) -> String {
        self.0.excerpt()
    }
    /// Rendered, sanitized HTML.
    async fn body_html(&self) -> &str {
        &self.0.article.body_html
    }
    /// Plain text of the body.
    async fn body_text(&self) -> &str {
        &self.0.article.body_text
    }
    async fn word_count(&self) -> i32 {
        self.0.article.word_count
    }
    async fn reading_time_minutes(&self) -> i32 {
        self.0.reading_time_minutes()
    }
    async fn feature_image_url(&self) -> Option<&str> {
        self.0.article.feature_image_url.as_deref()
    }
    async fn feature_image_alt(&self) -> Option<&str> {
        self.0.article.feature_image_alt.as_deref()
    }
    /// Bylines, in order.
    #[graphql(complexity = "cost::list(cost::AUTHORS_PER_ARTICLE, child_complexity)")]
    async fn authors(&self) -> Vec<Author> {
        self.0.authors.iter().cloned().map(Author).collect()
    }
    /// Tags, in order.
    #[graphql(complexity = "cost::list(cost::TAGS_PER_ARTICLE, child_complexity)")]
    async fn tags(&self) -> Vec<Tag> {
        self.0.tags.iter().cloned().map(Tag).collect()
    }
    /// The outlet this article is cross-posted from, if any.
    async fn source(&self) -> Option<Source> {
        self.0.source.clone().map(Source)
    }
    /// Where the article first ran, for a cross-post.
    async fn original_url(&self) -> Option<&str> {
        self.0.article.original_url.as_deref()
    }
    async fn original_published_at(&self) -> Option<DateTime<Utc>> {
        self.0.article.original_published_at
    }
    /// `originalUrl` for a cross-post, else the article's URL on this site.
    async fn canonical_url(&self) -> &str {
        &self.0.canonical_url
    }
    async fn comment_status(&self) -> CommentStatus {
        if self.0.article.comment_status == "closed" {
            CommentStatus::Closed
        } else {
            CommentStatus::Open
        }
    }
    /// Approved comments only.
    async fn comment_count(&self) -> u64 {
        self.0.comment_count
    }
    /// Approved comments, oldest first. `topLevel: true` keeps only
    /// depth-0 comments (follow `replies` for the threads).
    #[graphql(complexity = "cost::connection(first, 50, child_complexity)")]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        top_level: Option<bool>,
    ) -> async_graphql::Result<crate::graphql::comments::CommentConnection> {
        let state = ctx.data::<AppState>()?;
        crate::services::comments::connection_for_article(
            state,
            &self.0.article.id,
            first,
            after,
            top_level.unwrap_or(false),
        )
        .await
        .map(Into::into)
        .gql()
    }
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.article.published_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.article.updated_at
    }
    /// Staff only.
    async fn status(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ArticleStatus>> {
        require_staff_field(ctx)?;
        Ok(Some(ArticleStatus::parse(&self.0.article.status)))
    }
    /// Staff only: the body as written.
    async fn body(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        require_staff_field(ctx)?;
        Ok(Some(&self.0.article.body))
    }
    /// Staff only.
    async fn body_format(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<BodyFormat>> {
        require_staff_field(ctx)?;
        Ok(Some(if self.0.article.body_format == "html" {
            BodyFormat::Html
        } else {
            BodyFormat::Markdown
        }))
    }
    /// Staff only.
    async fn created_at(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<DateTime<Utc>>> {
        require_staff_field(ctx)?;
        Ok(Some(self.0.article.created_at))
    }
    /// Staff only: pass it as `expectedVersion` to `updateArticle`.
    async fn version(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i32>> {
        require_staff_field(ctx)?;
        Ok(Some(self.0.article.version))
    }
    /// Staff only: earlier slugs (filled on single-article reads).
    async fn previous_slugs(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&[String]>> {
        require_staff_field(ctx)?;
        Ok(Some(&self.0.previous_slugs))
    }
}

/// Relay page information.
#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

impl PageInfo {
    fn new(cursors: &[&str], next: bool, previous: bool) -> Self {
        PageInfo {
            has_next_page: next,
            has_previous_page: previous,
            start_cursor: cursors.first().map(|c| c.to_string()),
            end_cursor: cursors.last().map(|c| c.to_string()),
        }
    }
}

macro_rules! connection_type {
    ($(#[$doc:meta] $conn:ident, $edge:ident of $node:ident;)*) => {
        $(
            /// One item in a connection, with its opaque cursor.
            #[derive(SimpleObject)]
            pub struct $edge {
                pub cursor: String,
                pub node: $node,
            }

            #[$doc]
            #[derive(SimpleObject)]
            pub struct $conn {
                pub edges: Vec<$edge>,
                pub page_info: PageInfo,
                /// Number of items matching, over all pages.
                pub total_count: u64,
            }

            impl $conn {
                pub fn build(items: Vec<(String, $node)>, next: bool, previous: bool, total_count: u64) -> Self {
                    let edges: Vec<$edge> = items.into_iter().map(|(cursor, node)| $edge { cursor, node }).collect();
                    let cursors: Vec<&str> = edges.iter().map(|e| e.cursor.as_str()).collect();
                    $conn { page_info: PageInfo::new(&cursors, next, previous), edges, total_count }
                }
            }
        )*
    };
}

connection_type! {
    /// A window of articles, keyset-paginated: cursors stay valid when articles are published between fetches.
    ArticleConnection, ArticleEdge of Article;
    /// A window of authors, by name.
    AuthorConnection, AuthorEdge of Author;
    /// A window of sources, by name.
    SourceConnection, SourceEdge of Source;
    /// A window of tags, by name.
    TagConnection, TagEdge of Tag;
    /// A window of users.
    UserConnection, UserEdge of User;
}

/// One search result in a connection, with its opaque cursor.
#[derive(SimpleObject)]
pub struct SearchEdge {
    pub cursor: String,
    pub node: SearchHit,
}

/// A window of search results, most relevant first.
#[derive(SimpleObject)]
pub struct SearchConnection {
    pub edges: Vec<SearchEdge>,
    pub page_info: PageInfo,
    /// Number of matching articles: counted up to 1,000 (or to the end of
    /// the window asked for, when further); past that a lower bound, always
    /// beyond this window when more matches follow.
    pub total_count: u64,
    /// Whether `totalCount` counts every match (false: there are at least that many).
    pub total_count_is_exact: bool,
}

impl SearchConnection {
    pub fn build(
        items: Vec<(String, SearchHit)>,
        next: bool,
        previous: bool,
        total: crate::services::search::Total,
    ) -> Self {
        let edges: Vec<SearchEdge> = items
            .into_iter()
            .map(|(cursor, node)| SearchEdge { cursor, node })
            .collect();
        let cursors: Vec<&str> = edges.iter().map(|e| e.cursor.as_str()).collect();
        SearchConnection {
            page_info: PageInfo::new(&cursors, next, previous),
            edges,
            total_count: total.count,
            total_count_is_exact: total.exact,
        }
    }
}

/// One search result.
#[derive(SimpleObject)]
pub struct SearchHit {
    pub article: Article,
    /// Text around the matches, HTML-escaped, each match in `<mark>`.
    pub snippet: String,
    /// Relevance, higher first; comparable within one result list only.
    pub rank: f64,
}

impl From<Connection<ArticleView>> for ArticleConnection {
    fn from(c: Connection<ArticleView>) -> Self {
        let items = c
            .edges
            .into_iter()
            .map(|(cur, v)| (cur.encode(), Article(v)))
            .collect();
        ArticleConnection::build(items, c.has_next_page, c.has_previous_page, c.total_count)
    }
}

impl From<Connection<crate::entities::user::Model>> for UserConnection {
    fn from(c: Connection<crate::entities::user::Model>) -> Self {
        let items = c
            .edges
            .into_iter()
            .map(|(cur, u)| (cur.encode(), User(u)))
            .collect();
        UserConnection::build(items, c.has_next_page, c.has_previous_page, c.total_count)
    }
}

/// Edges with offset cursors for one window of an offset-ordered list, plus
/// `(hasNextPage, hasPreviousPage, totalCount)`.
pub fn offset_edges<V, N>(
    window: Window,
    page: crate::domain::pagination::Page<V>,
    id: impl Fn(&V) -> String,
    node: impl Fn(V) -> N,
) -> (Vec<(String, N)>, bool, bool, u64) {
    let end = window.offset + page.items.len() as u64;
    let items = page
        .items
        .into_iter()
        .enumerate()
        .map(|(i, v)| (Window::cursor(window.offset + i as u64, &id(&v)), node(v)))
        .collect();
    (items, end < page.total, window.offset > 0, page.total)
}

/// The window after the offset cursor `after` (see [`Window::after`]), bounded
/// by `BROADSHEET_MAX_LIST_OFFSET`.
pub fn offset_window(
    state: &crate::state::AppState,
    first: Option<i32>,
    after: Option<&str>,
) -> Result<Window, AppError> {
    Window::after(first, after, state.config.list_depth())
}

/// A staff role.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::auth::Role")]
pub enum Role {
    Admin,
    Editor,
    Author,
    Contributor,
}

/// An account that logs in (staff only).
pub struct User(pub crate::entities::user::Model);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    async fn role(&self) -> Role {
        crate::auth::Role::parse(&self.0.role)
            .unwrap_or(crate::auth::Role::Contributor)
            .into()
    }
    /// The author (byline) this user writes as.
    async fn author_id(&self) -> Option<ID> {
        self.0.author_id.clone().map(ID)
    }
    /// Inactive users cannot log in.
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Tokens for an authenticated session.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// A JWT for `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Opaque and single-use: exchange it with `refreshToken` for new tokens.
    pub refresh_token: String,
}

impl From<crate::services::auth::TokenPair> for AuthPayload {
    fn from(t: crate::services::auth::TokenPair) -> Self {
        AuthPayload {
            access_token: t.access_token,
            token_type: "Bearer".into(),
            expires_in: t.expires_in,
            refresh_token: t.refresh_token,
        }
    }
}

/// An article's content before one of its updates.
#[derive(SimpleObject)]
pub struct ArticleRevision {
    pub id: ID,
    /// The article's version while it had this content.
    pub version: i32,
    pub title: String,
    pub standfirst: Option<String>,
    pub excerpt: Option<String>,
    pub body: String,
    pub body_format: String,
    /// The byline, in order.
    pub author_ids: Vec<ID>,
    pub source_id: Option<ID>,
    pub original_url: Option<String>,
    pub original_published_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The user whose update replaced this content.
    pub created_by: Option<ID>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<crate::entities::article_revision::Model> for ArticleRevision {
    fn from(r: crate::entities::article_revision::Model) -> Self {
        let authors: Vec<String> = serde_json::from_str(&r.author_ids).unwrap_or_default();
        ArticleRevision {
            id: ID(r.id),
            version: r.version,
            title: r.title,
            standfirst: r.standfirst,
            excerpt: r.excerpt,
            body: r.body,
            body_format: r.body_format,
            author_ids: authors.into_iter().map(ID).collect(),
            source_id: r.source_id.map(ID),
            original_url: r.original_url,
            original_published_at: r.original_published_at,
            created_by: r.created_by.map(ID),
            created_at: r.created_at,
        }
    }
}
