//! GraphQL comment types: `Comment` (private fields for staff only),
//! connections, and the submission payload.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::{
    auth::Actor,
    domain::pagination::Connection,
    error::AppError,
    graphql::{cost, error::GqlResultExt, loaders::CommentLoaders, types::PageInfo},
    services::comments::{self, CommentView},
    state::AppState,
};

/// A comment's moderation state.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum CommentModeration {
    Pending,
    Approved,
    Spam,
    Trash,
}

impl CommentModeration {
    pub fn as_str(self) -> &'static str {
        match self {
            CommentModeration::Pending => "pending",
            CommentModeration::Approved => "approved",
            CommentModeration::Spam => "spam",
            CommentModeration::Trash => "trash",
        }
    }
    pub fn parse(s: &str) -> Self {
        match s {
            "approved" => CommentModeration::Approved,
            "spam" => CommentModeration::Spam,
            "trash" => CommentModeration::Trash,
            _ => CommentModeration::Pending,
        }
    }
}

/// A reader comment. `authorEmail`, `status` and `body` answer `FORBIDDEN` to
/// everyone but admins and editors.
pub struct Comment(pub CommentView);

#[Object]
impl Comment {
    async fn id(&self) -> ID {
        ID(self.0.comment.id.clone())
    }
    async fn article_id(&self) -> ID {
        ID(self.0.comment.article_id.clone())
    }
    async fn parent_id(&self) -> Option<ID> {
        self.0.comment.parent_id.clone().map(ID)
    }
    /// 0 for a top-level comment; a reply is its parent's depth + 1.
    async fn depth(&self) -> i32 {
        self.0.comment.depth
    }
    async fn author_name(&self) -> &str {
        &self.0.comment.author_name
    }
    async fn author_url(&self) -> Option<&str> {
        self.0.comment.author_url.as_deref()
    }
    /// Escaped, in paragraphs, bare links marked `nofollow ugc`.
    async fn body_html(&self) -> &str {
        &self.0.body_html
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.comment.created_at
    }
    /// Approved replies, oldest first (batched across comments): the first
    /// `first` of them (default `BROADSHEET_GRAPHQL_REPLIES_DEFAULT`, 10; at
    /// most `BROADSHEET_GRAPHQL_REPLIES_MAX`, 100).
    #[graphql(
        complexity = "cost::list(cost::window(first, cost::REPLIES_PRICE, cost::REPLIES_CEILING), child_complexity)"
    )]
    async fn replies(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<Comment>> {
        let limits = ctx.data::<AppState>()?.config.graphql_cost;
        let take = match first {
            None => limits.replies_default as usize,
            Some(n) if (0..=limits.replies_max as i32).contains(&n) => n as usize,
            Some(_) => {
                return Err(AppError::validation(
                    "first",
                    format!("must be from 0 to {}", limits.replies_max),
                ))
                .gql();
            }
        };
        if take == 0 {
            return Ok(Vec::new());
        }
        let loaders = ctx.data::<CommentLoaders>()?;
        Ok(loaders
            .replies
            .load_one(self.0.comment.id.clone())
            .await?
            .unwrap_or_default()
            .into_iter()
            .take(take)
            .map(Comment)
            .collect())
    }
    /// The comment this one replies to, if it is approved.
    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Comment>> {
        let Some(pid) = self.0.comment.parent_id.clone() else {
            return Ok(None);
        };
        let loaders = ctx.data::<CommentLoaders>()?;
        Ok(loaders.by_id.load_one(pid).await?.map(Comment))
    }
    /// Admins and editors only (as the REST moderation queue).
    async fn author_email(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        require_moderator_field(ctx)?;
        Ok(Some(&self.0.comment.author_email))
    }
    /// Admins and editors only.
    async fn status(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<CommentModeration>> {
        require_moderator_field(ctx)?;
        Ok(Some(CommentModeration::parse(&self.0.comment.status)))
    }
    /// Admins and editors only: the body as written.
    async fn body(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        require_moderator_field(ctx)?;
        Ok(Some(&self.0.comment.body))
    }
}

/// A commenter's private details are the moderators' (one rule in
/// [`comments::may_see_private`]); a refusal nulls only the field.
fn require_moderator_field(ctx: &Context<'_>) -> async_graphql::Result<()> {
    let actor = ctx.data_opt::<Actor>().unwrap_or(&Actor::Anonymous);
    comments::may_see_private(actor).gql()
}

#[derive(SimpleObject)]
pub struct CommentEdge {
    pub cursor: String,
    pub node: Comment,
}

/// A window of comments.
#[derive(SimpleObject)]
pub struct CommentConnection {
    pub edges: Vec<CommentEdge>,
    pub page_info: PageInfo,
    pub total_count: u64,
}

impl CommentConnection {
    pub fn build(
        items: Vec<(String, Comment)>,
        next: bool,
        previous: bool,
        total_count: u64,
    ) -> Self {
        let edges: Vec<CommentEdge> = items
            .into_iter()
            .map(|(cursor, node)| CommentEdge { cursor, node })
            .collect();
        let page_info = PageInfo {
            has_next_page: next,
            has_previous_page: previous,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        };
        CommentConnection {
            edges,
            page_info,
            total_count,
        }
    }
}

impl From<Connection<CommentView>> for CommentConnection {
    fn from(c: Connection<CommentView>) -> Self {
        let items = c
            .edges
            .into_iter()
            .map(|(cur, v)| (cur.encode(), Comment(v)))
            .collect();
        CommentConnection::build(items, c.has_next_page, c.has_previous_page, c.total_count)
    }
}

/// What `submitComment` answers: the comment as its author may see it.
#[derive(SimpleObject)]
pub struct SubmitCommentPayload {
    /// PENDING while it waits for moderation, APPROVED when published at once.
    pub status: CommentModeration,
    pub comment: Comment,
    /// For readers: the proof that they wrote this comment. Send it back as
    /// `commenterToken` with later comments: once this one is approved, they
    /// skip first-time moderation. Null for staff.
    pub commenter_token: Option<String>,
}
