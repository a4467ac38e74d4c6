//! The mutation root: every write goes through a service function.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};

use crate::{
    auth::{Actor, RequestContext},
    domain::kinds,
    graphql::comments::{Comment, CommentModeration, SubmitCommentPayload},
    graphql::{
        error::GqlResultExt,
        types::{
            Article, ArticleStatus, AuthPayload, Author, BodyFormat, CommentStatus, Role, Source,
            Tag, User,
        },
    },
    services::{
        articles::{self, ArticleFields, Expected},
        auth,
        comments::{self, NewComment},
        taxonomy::{self, AuthorFields, SourceFields, TagFields},
        users::{self, NewUser, UserPatch},
    },
    state::AppState,
};

pub struct MutationRoot;

/// A new account.
#[derive(InputObject)]
pub struct CreateUserInput {
    pub email: String,
    /// At least 8 characters.
    pub password: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub author_id: Option<ID>,
}

/// Changes to an account; omitted fields stay as they are, `authorId: null` unlinks.
#[derive(InputObject, Default)]
pub struct UpdateUserInput {
    pub email: Option<String>,
    pub password: Option<String>,
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub author_id: MaybeUndefined<ID>,
    pub active: Option<bool>,
}

/// Article fields; on update omitted fields stay, `null` clears optional ones.
#[derive(InputObject, Default)]
pub struct ArticleInput {
    /// Required on create; at most 300 characters.
    pub title: Option<String>,
    /// Generated from the title when absent.
    pub slug: Option<String>,
    pub standfirst: MaybeUndefined<String>,
    pub excerpt: MaybeUndefined<String>,
    pub body: Option<String>,
    pub body_format: Option<BodyFormat>,
    pub status: Option<ArticleStatus>,
    /// A future instant schedules a published article.
    pub published_at: MaybeUndefined<DateTime<Utc>>,
    /// Bylines in order.
    pub author_ids: Option<Vec<ID>>,
    pub tag_ids: Option<Vec<ID>>,
    pub source_id: MaybeUndefined<ID>,
    pub original_url: MaybeUndefined<String>,
    pub original_published_at: MaybeUndefined<DateTime<Utc>>,
    pub comment_status: Option<CommentStatus>,
    pub feature_image_url: MaybeUndefined<String>,
    pub feature_image_alt: MaybeUndefined<String>,
}

/// `MaybeUndefined` → the service's "absent / clear / set".
fn tri<T, U>(v: MaybeUndefined<T>, f: impl FnOnce(T) -> U) -> Option<Option<U>> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(x) => Some(Some(f(x))),
    }
}

impl From<ArticleInput> for ArticleFields {
    fn from(i: ArticleInput) -> Self {
        let ids = |v: Vec<ID>| v.into_iter().map(|id| id.0).collect();
        ArticleFields {
            title: i.title,
            slug: i.slug,
            standfirst: tri(i.standfirst, |x| x),
            excerpt: tri(i.excerpt, |x| x),
            body: i.body,
            body_format: i
                .body_format
                .map(|f| kinds::BodyFormat::from(f).to_string()),
            status: i.status.map(|s| kinds::ArticleStatus::from(s).to_string()),
            published_at: tri(i.published_at, |x| x),
            author_ids: i.author_ids.map(ids),
            tag_ids: i.tag_ids.map(ids),
            source_id: tri(i.source_id, |x| x.0),
            original_url: tri(i.original_url, |x| x),
            original_published_at: tri(i.original_published_at, |x| x),
            comment_status: i
                .comment_status
                .map(|c| kinds::CommentPolicy::from(c).to_string()),
            feature_image_url: tri(i.feature_image_url, |x| x),
            feature_image_alt: tri(i.feature_image_alt, |x| x),
        }
    }
}

/// Author fields; `name` is required on create.
#[derive(InputObject, Default)]
pub struct AuthorInput {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub title: MaybeUndefined<String>,
    pub bio: MaybeUndefined<String>,
    pub avatar_url: MaybeUndefined<String>,
    pub website_url: MaybeUndefined<String>,
}

impl From<AuthorInput> for AuthorFields {
    fn from(i: AuthorInput) -> Self {
        AuthorFields {
            name: i.name,
            slug: i.slug,
            title: tri(i.title, |x| x),
            bio: tri(i.bio, |x| x),
            avatar_url: tri(i.avatar_url, |x| x),
            website_url: tri(i.website_url, |x| x),
        }
    }
}

/// Source fields; `name` is required on create.
#[derive(InputObject, Default)]
pub struct SourceInput {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub homepage_url: MaybeUndefined<String>,
    pub description: MaybeUndefined<String>,
    pub logo_url: MaybeUndefined<String>,
    pub feed_url: MaybeUndefined<String>,
}

impl From<SourceInput> for SourceFields {
    fn from(i: SourceInput) -> Self {
        SourceFields {
            name: i.name,
            slug: i.slug,
            homepage_url: tri(i.homepage_url, |x| x),
            description: tri(i.description, |x| x),
            logo_url: tri(i.logo_url, |x| x),
            feed_url: tri(i.feed_url, |x| x),
        }
    }
}

/// A reader's comment: name, email and body are required (staff may omit
/// name and email); the email is never published.
#[derive(InputObject)]
pub struct SubmitCommentInput {
    /// Article id or slug.
    pub article_id: String,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    pub author_url: Option<String>,
    pub body: String,
    /// An approved comment of the same article to reply to.
    pub parent_id: Option<ID>,
    /// The `commenterToken` answered to an earlier comment of yours: once
    /// that comment is approved, it lets this one skip first-time moderation.
    /// Without it (or with one that proves nothing) the comment is held.
    pub commenter_token: Option<String>,
}

/// Tag fields; `name` is required on create.
#[derive(InputObject, Default)]
pub struct TagInput {
    pub name: Option<String>,
    pub slug: Option<String>,
}

fn parts<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<(&'a AppState, &'a RequestContext)> {
    Ok((ctx.data::<AppState>()?, ctx.data::<RequestContext>()?))
}

fn actor<'a>(ctx: &'a Context<'_>) -> &'a Actor {
    ctx.data_opt::<Actor>().unwrap_or(&Actor::Anonymous)
}

#[Object]
impl MutationRoot {
    /// Exchange email and password for tokens. A wrong password and an unknown
    /// email get the same `UNAUTHENTICATED` answer; repeated failures
    /// `RATE_LIMITED` (with `extensions.retryAfter` in seconds).
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
    ) -> async_graphql::Result<AuthPayload> {
        let (state, req) = parts(ctx)?;
        auth::login(state, req, &email, &password)
            .await
            .map(Into::into)
            .gql()
    }

    /// Rotate a refresh token. Reusing a spent one revokes the whole session.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> async_graphql::Result<AuthPayload> {
        let (state, _) = parts(ctx)?;
        auth::refresh(state, &refresh_token)
            .await
            .map(Into::into)
            .gql()
    }

    /// Revoke the session a refresh token belongs to; its access tokens are
    /// refused from then on. Always true.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> async_graphql::Result<bool> {
        let (state, _) = parts(ctx)?;
        auth::logout(state, &refresh_token)
            .await
            .map(|_| true)
            .gql()
    }

    /// Change one's own password (ends every session at once, this one
    /// included). Checking the current password counts against the login
    /// limits: repeated wrong ones get `RATE_LIMITED`. Always true.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> async_graphql::Result<bool> {
        let (state, req) = parts(ctx)?;
        auth::change_password(state, req, &current_password, &new_password)
            .await
            .map(|_| true)
            .gql()
    }

    /// Register a webhook endpoint (admin); the answer carries its `secret` once.
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        input: crate::graphql::webhooks::WebhookInput,
    ) -> async_graphql::Result<crate::graphql::webhooks::Webhook> {
        let (state, _) = parts(ctx)?;
        crate::services::webhooks::create(state, actor(ctx), input.into())
            .await
            .map(crate::graphql::webhooks::Webhook)
            .gql()
    }

    /// Change a webhook endpoint (admin).
    async fn update_webhook(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: crate::graphql::webhooks::WebhookInput,
    ) -> async_graphql::Result<crate::graphql::webhooks::Webhook> {
        let (state, _) = parts(ctx)?;
        crate::services::webhooks::update(state, actor(ctx), &id, input.into())
            .await
            .map(crate::graphql::webhooks::Webhook)
            .gql()
    }

    /// Delete a webhook endpoint and its delivery records (admin). Always true.
    async fn delete_webhook(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let (state, _) = parts(ctx)?;
        crate::services::webhooks::delete(state, actor(ctx), &id)
            .await
            .map(|_| true)
            .gql()
    }

    /// Send a delivery's event again, as a new delivery due now (admin).
    async fn redeliver_webhook_delivery(
        &self,
        ctx: &Context<'_>,
        webhook_id: ID,
        delivery_id: ID,
    ) -> async_graphql::Result<crate::graphql::webhooks::WebhookDelivery> {
        let (state, _) = parts(ctx)?;
        crate::services::webhooks::redeliver(state, actor(ctx), &webhook_id, &delivery_id)
            .await
            .map(crate::graphql::webhooks::WebhookDelivery)
            .gql()
    }

    /// Create an account (admin).
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        input: CreateUserInput,
    ) -> async_graphql::Result<User> {
        let (state, _) = parts(ctx)?;
        let input = NewUser {
            email: input.email,
            password: input.password,
            display_name: input.display_name,
            role: input.role.into(),
            author_id: input.author_id.map(|id| id.0),
        };
        users::create_as(state, actor(ctx), input)
            .await
            .map(User)
            .gql()
    }

    /// Update an account (admin).
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateUserInput,
    ) -> async_graphql::Result<User> {
        let (state, _) = parts(ctx)?;
        let patch = UserPatch {
            email: input.email,
            password: input.password,
            display_name: input.display_name,
            role: input.role.map(Into::into),
            author_id: match input.author_id {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(v) => Some(Some(v.0)),
            },
            active: input.active,
        };
        users::update(state, actor(ctx), &id, patch)
            .await
            .map(User)
            .gql()
    }

    /// Delete an account (admin). Always true.
    async fn delete_user(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let (state, _) = parts(ctx)?;
        users::delete(state, actor(ctx), &id)
            .await
            .map(|_| true)
            .gql()
    }

    /// Create an article (any staff; contributors may not publish).
    async fn create_article(
        &self,
        ctx: &Context<'_>,
        input: ArticleInput,
    ) -> async_graphql::Result<Article> {
        let (state, _) = parts(ctx)?;
        articles::create(state, actor(ctx), input.into())
            .await
            .map(Article)
            .gql()
    }

    /// Update an article. With `expectedVersion`, a stale version is refused
    /// with `CONFLICT` and nothing changes.
    async fn update_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ArticleInput,
        expected_version: Option<i32>,
    ) -> async_graphql::Result<Article> {
        let (state, _) = parts(ctx)?;
        let expected = expected_version
            .map(Expected::Version)
            .unwrap_or(Expected::Any);
        articles::update(state, actor(ctx), &id, input.into(), expected)
            .await
            .map(Article)
            .gql()
    }

    /// Put an earlier revision's content back (itself stored as a new revision).
    async fn restore_article_revision(
        &self,
        ctx: &Context<'_>,
        article_id: ID,
        revision_id: ID,
    ) -> async_graphql::Result<Article> {
        let (state, _) = parts(ctx)?;
        crate::services::revisions::restore(state, actor(ctx), &article_id, &revision_id)
            .await
            .map(Article)
            .gql()
    }

    /// A signed, expiring token that lets anyone holding it read this one
    /// article (draft or scheduled, current content) with
    /// `article(id, previewToken)` or REST `?preview=`. Staff who may edit
    /// the article; `ttl` in seconds, 60 to 604800, default 3600.
    async fn create_preview_token(
        &self,
        ctx: &Context<'_>,
        article_id: ID,
        ttl: Option<i32>,
    ) -> async_graphql::Result<PreviewToken> {
        let (state, _) = parts(ctx)?;
        let grant = articles::preview_token(state, actor(ctx), &article_id, ttl.map(i64::from))
            .await
            .gql()?;
        Ok(PreviewToken {
            token: grant.token,
            expires_at: grant.expires_at,
        })
    }

    /// Revoke every preview token of this article handed out so far (staff
    /// who may mint them); tokens minted afterwards work. Always true.
    async fn revoke_preview_tokens(
        &self,
        ctx: &Context<'_>,
        article_id: ID,
    ) -> async_graphql::Result<bool> {
        let (state, _) = parts(ctx)?;
        crate::services::previews::revoke(state, actor(ctx), &article_id)
            .await
            .gql()?;
        Ok(true)
    }

    /// Publish now, or at `at` (a future instant schedules it).
    async fn publish_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
        at: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Article> {
        let (state, _) = parts(ctx)?;
        articles::publish(state, actor(ctx), &id, at)
            .await
            .map(Article)
            .gql()
    }

    /// Delete an article with its comments. Always true.
    async fn delete_article(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let (state, _) = parts(ctx)?;
        articles::delete(state, actor(ctx), &id)
            .await
            .map(|_| true)
            .gql()
    }

    /// Create an author (admin, editor).
    async fn create_author(
        &self,
        ctx: &Context<'_>,
        input: AuthorInput,
    ) -> async_graphql::Result<Author> {
        let (state, _) = parts(ctx)?;
        taxonomy::create_author(state, actor(ctx), input.into())
            .await
            .map(|v| Author(v.author))
            .gql()
    }

    /// Update an author (admin, editor).
    async fn update_author(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: AuthorInput,
    ) -> async_graphql::Result<Author> {
        let (state, _) = parts(ctx)?;
        taxonomy::update_author(state, actor(ctx), &id, input.into())
            .await
            .map(|v| Author(v.author))
            .gql()
    }

    /// Delete an author no article credits (admin, editor). Always true.
    async fn delete_author(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let (state, _) = parts(ctx)?;
        taxonomy::delete_author(state, actor(ctx), &id)
            .await
            .map(|_| true)
            .gql()
    }

    /// Create a source (admin, editor).
    async fn create_source(
        &self,
        ctx: &Context<'_>,
        input: SourceInput,
    ) -> async_graphql::Result<Source> {
        let (state, _) = parts(ctx)?;
        taxonomy::create_source(state, actor(ctx), input.into())
            .await
            .map(|v| Source(v.source))
            .gql()
    }

    /// Update a source (admin, editor).
    async fn update_source(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: SourceInput,
    ) -> async_graphql::Result<Source> {
        let (state, _) = parts(ctx)?;
        taxonomy::update_source(state, actor(ctx), &id, input.into())
            .await
            .map(|v| Source(v.source))
            .gql()
    }

    /// Delete a source no article uses (admin, editor). Always true.
    async fn delete_source(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let (state, _) = parts(ctx)?;
        taxonomy::delete_source(state, actor(ctx), &id)
            .await
            .map(|_| true)
            .gql()
    }

    /// Create a tag (admin, editor).
    async fn create_tag(&self, ctx: &Context<'_>, input: TagInput) -> async_graphql::Result<Tag> {
        let (state, _) = parts(ctx)?;
        let fields = TagFields {
            name: input.name,
            slug: input.slug,
        };
        taxonomy::create_tag(state, actor(ctx), fields)
            .await
            .map(|v| Tag(v.tag))
            .gql()
    }

    /// Update a tag (admin, editor).
    async fn update_tag(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: TagInput,
    ) -> async_graphql::Result<Tag> {
        let (state, _) = parts(ctx)?;
        let fields = TagFields {
            name: input.name,
            slug: input.slug,
        };
        taxonomy::update_tag(state, actor(ctx), &id, fields)
            .await
            .map(|v| Tag(v.tag))
            .gql()
    }

    /// Delete a tag (admin, editor); articles lose it. Always true.
    async fn delete_tag(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let (state, _) = parts(ctx)?;
        taxonomy::delete_tag(state, actor(ctx), &id)
            .await
            .map(|_| true)
            .gql()
    }

    /// Leave a reply; no token needed. Staff comment as themselves, approved at once.
    async fn submit_comment(
        &self,
        ctx: &Context<'_>,
        input: SubmitCommentInput,
    ) -> async_graphql::Result<SubmitCommentPayload> {
        let (state, req) = parts(ctx)?;
        let new = NewComment {
            author_name: input.author_name,
            author_email: input.author_email,
            author_url: input.author_url,
            body: Some(input.body),
            parent_id: input.parent_id.map(|p| p.0),
            commenter_token: input.commenter_token,
        };
        let comments::Submitted {
            view,
            commenter_token,
        } = comments::submit(state, req, &input.article_id, new)
            .await
            .gql()?;
        Ok(SubmitCommentPayload {
            status: kinds::CommentStatus::parse(&view.comment.status)
                .unwrap_or_default()
                .into(),
            comment: Comment(view),
            commenter_token,
        })
    }

    /// Approve, mark as spam, trash or restore (PENDING) a comment, and/or edit its body (admin, editor).
    async fn moderate_comment(
        &self,
        ctx: &Context<'_>,
        id: ID,
        status: Option<CommentModeration>,
        body: Option<String>,
    ) -> async_graphql::Result<Comment> {
        let (state, _) = parts(ctx)?;
        comments::moderate(
            state,
            actor(ctx),
            &id,
            status.map(|s| kinds::CommentStatus::from(s).as_str()),
            body.as_deref(),
        )
        .await
        .map(Comment)
        .gql()
    }

    /// Set the status of many comments; returns how many changed (admin, editor).
    async fn moderate_comments(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
        status: CommentModeration,
    ) -> async_graphql::Result<u64> {
        let (state, _) = parts(ctx)?;
        let ids: Vec<String> = ids.into_iter().map(|i| i.0).collect();
        comments::moderate_many(
            state,
            actor(ctx),
            &ids,
            kinds::CommentStatus::from(status).as_str(),
        )
        .await
        .gql()
    }

    /// Delete a comment and its replies (admin, editor). Always true.
    async fn delete_comment(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let (state, _) = parts(ctx)?;
        comments::delete(state, actor(ctx), &id)
            .await
            .map(|_| true)
            .gql()
    }
}

/// A preview link's token.
#[derive(async_graphql::SimpleObject)]
pub struct PreviewToken {
    /// Pass as `previewToken` to `article`, or as REST `?preview=`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
}
