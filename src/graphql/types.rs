//! GraphQL object types, mapped from service views (never from entities
//! directly, so the schema is a contract of its own).

use async_graphql::{Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::{
    entities::{author, source, tag},
    services::articles::{self, ArticleView},
};

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
}

/// Whether readers may comment on an article.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum CommentStatus {
    Open,
    Closed,
}

/// An article as the public sees it.
pub struct Article(pub ArticleView);

#[Object]
impl Article {
    async fn id(&self) -> ID {
        ID(self.0.article.id.clone())
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
    async fn authors(&self) -> Vec<Author> {
        self.0.authors.iter().cloned().map(Author).collect()
    }
    /// Tags, in order.
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
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.article.published_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.article.updated_at
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

/// One article in a connection, with its opaque cursor.
#[derive(SimpleObject)]
pub struct ArticleEdge {
    pub cursor: String,
    pub node: Article,
}

/// A window of articles (Relay connection), keyset-paginated: cursors stay
/// valid when articles are published between page fetches.
#[derive(SimpleObject)]
pub struct ArticleConnection {
    pub edges: Vec<ArticleEdge>,
    pub page_info: PageInfo,
    /// Number of articles matching, over all pages.
    pub total_count: u64,
}

impl From<articles::Connection<ArticleView>> for ArticleConnection {
    fn from(c: articles::Connection<ArticleView>) -> Self {
        let edges: Vec<ArticleEdge> = c
            .edges
            .into_iter()
            .map(|(cursor, view)| ArticleEdge {
                cursor: cursor.encode(),
                node: Article(view),
            })
            .collect();
        ArticleConnection {
            page_info: PageInfo {
                has_next_page: c.has_next_page,
                has_previous_page: c.has_previous_page,
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
            total_count: c.total_count,
        }
    }
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

#[derive(SimpleObject)]
pub struct UserEdge {
    pub cursor: String,
    pub node: User,
}

/// A window of users.
#[derive(SimpleObject)]
pub struct UserConnection {
    pub edges: Vec<UserEdge>,
    pub page_info: PageInfo,
    pub total_count: u64,
}

impl From<articles::Connection<crate::entities::user::Model>> for UserConnection {
    fn from(c: articles::Connection<crate::entities::user::Model>) -> Self {
        let edges: Vec<UserEdge> = c
            .edges
            .into_iter()
            .map(|(cursor, u)| UserEdge {
                cursor: cursor.encode(),
                node: User(u),
            })
            .collect();
        UserConnection {
            page_info: PageInfo {
                has_next_page: c.has_next_page,
                has_previous_page: c.has_previous_page,
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
            total_count: c.total_count,
        }
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
