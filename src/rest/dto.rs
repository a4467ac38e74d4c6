//! REST shapes (snake_case), mapped from service views. Entities are never
//! serialized directly, so a column rename cannot change the contract.
//! Private (staff-only) fields are absent — not null — in public responses.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::{
    domain::{
        kinds::{ArticleStatus, BodyFormat, CommentPolicy},
        pagination::Page,
    },
    entities::{author, source, tag},
    services::{
        articles::{ArticleFields, ArticleView},
        taxonomy::{AuthorFields, AuthorView, SourceFields, SourceView, TagFields, TagView},
    },
};

/// Distinguish an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// A byline as embedded in an article.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorRef {
    #[schema(example = "0193b0a4-8f7e-7c2a-9d1e-3f5a6b7c8d9e")]
    pub id: String,
    #[schema(example = "danny-haiphong")]
    pub slug: String,
    #[schema(example = "Danny Haiphong")]
    pub name: String,
    /// Role or position, e.g. "Co-editor".
    pub title: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub website_url: Option<String>,
}

impl From<&author::Model> for AuthorRef {
    fn from(a: &author::Model) -> Self {
        AuthorRef {
            id: a.id.clone(),
            slug: a.slug.clone(),
            name: a.name.clone(),
            title: a.title.clone(),
            bio: a.bio.clone(),
            avatar_url: a.avatar_url.clone(),
            website_url: a.website_url.clone(),
        }
    }
}

/// An author (byline) with its article count.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorDto {
    #[serde(flatten)]
    pub author: AuthorRef,
    /// Published, visible articles credited to the author.
    pub article_count: u64,
    /// Staff only: users who write as this author.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_ids: Option<Vec<String>>,
}

impl AuthorDto {
    pub fn new(v: &AuthorView, staff: bool) -> Self {
        AuthorDto {
            author: AuthorRef::from(&v.author),
            article_count: v.article_count,
            user_ids: staff.then(|| v.user_ids.clone()),
        }
    }
}

/// An outlet an article was first published by, as embedded in an article.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceRef {
    pub id: String,
    #[schema(example = "cgtn")]
    pub slug: String,
    #[schema(example = "CGTN")]
    pub name: String,
    #[schema(example = "https://news.cgtn.com")]
    pub homepage_url: Option<String>,
    pub description: Option<String>,
    pub logo_url: Option<String>,
}

impl From<&source::Model> for SourceRef {
    fn from(s: &source::Model) -> Self {
        SourceRef {
            id: s.id.clone(),
            slug: s.slug.clone(),
            name: s.name.clone(),
            homepage_url: s.homepage_url.clone(),
            description: s.description.clone(),
            logo_url: s.logo_url.clone(),
        }
    }
}

/// A source with its article count.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceDto {
    #[serde(flatten)]
    pub source: SourceRef,
    pub article_count: u64,
    /// Staff only: the outlet's own feed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feed_url: Option<String>,
}

impl SourceDto {
    pub fn new(v: &SourceView, staff: bool) -> Self {
        SourceDto {
            source: SourceRef::from(&v.source),
            article_count: v.article_count,
            feed_url: if staff {
                v.source.feed_url.clone()
            } else {
                None
            },
        }
    }
}

/// A tag as embedded in an article.
#[derive(Debug, Serialize, ToSchema)]
pub struct TagRef {
    pub id: String,
    #[schema(example = "multipolarity")]
    pub slug: String,
    #[schema(example = "Multipolarity")]
    pub name: String,
}

impl From<&tag::Model> for TagRef {
    fn from(t: &tag::Model) -> Self {
        TagRef {
            id: t.id.clone(),
            slug: t.slug.clone(),
            name: t.name.clone(),
        }
    }
}

/// A tag with its article count.
#[derive(Debug, Serialize, ToSchema)]
pub struct TagDto {
    #[serde(flatten)]
    pub tag: TagRef,
    pub article_count: u64,
}

impl From<&TagView> for TagDto {
    fn from(v: &TagView) -> Self {
        TagDto {
            tag: TagRef::from(&v.tag),
            article_count: v.article_count,
        }
    }
}

/// An article. Fields marked "staff only" are absent from public responses.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleDto {
    pub id: String,
    #[schema(
        example = "danny-haiphong-china-russia-partnership-is-a-model-for-global-cooperation-in-the-21st-century"
    )]
    pub slug: String,
    pub title: String,
    /// The editor's note shown above the body.
    pub standfirst: Option<String>,
    pub excerpt: String,
    /// Rendered and sanitized HTML.
    pub body_html: String,
    pub body_text: String,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    pub feature_image_url: Option<String>,
    pub feature_image_alt: Option<String>,
    /// Bylines, in order.
    pub authors: Vec<AuthorRef>,
    pub tags: Vec<TagRef>,
    /// The outlet this article is cross-posted from, if any.
    pub source: Option<SourceRef>,
    pub original_url: Option<String>,
    pub original_published_at: Option<DateTime<Utc>>,
    /// `original_url` for a cross-post, else the article's URL on this site.
    pub canonical_url: String,
    pub comment_status: CommentPolicy,
    /// Approved comments only.
    pub comment_count: u64,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// Staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ArticleStatus>,
    /// Staff only: the body as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_format: Option<BodyFormat>,
    /// Staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// Staff only: increases with every update; send it back as `version` or via `If-Match`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    /// Staff only: earlier slugs, which redirect here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_slugs: Option<Vec<String>>,
}

impl ArticleDto {
    pub fn new(v: &ArticleView, staff: bool) -> Self {
        let a = &v.article;
        ArticleDto {
            id: a.id.clone(),
            slug: a.slug.clone(),
            title: a.title.clone(),
            standfirst: a.standfirst.clone(),
            excerpt: v.excerpt(),
            body_html: a.body_html.clone(),
            body_text: a.body_text.clone(),
            word_count: a.word_count,
            reading_time_minutes: v.reading_time_minutes(),
            feature_image_url: a.feature_image_url.clone(),
            feature_image_alt: a.feature_image_alt.clone(),
            authors: v.authors.iter().map(AuthorRef::from).collect(),
            tags: v.tags.iter().map(TagRef::from).collect(),
            source: v.source.as_ref().map(SourceRef::from),
            original_url: a.original_url.clone(),
            original_published_at: a.original_published_at,
            canonical_url: v.canonical_url.clone(),
            comment_status: CommentPolicy::parse(&a.comment_status).unwrap_or_default(),
            comment_count: v.comment_count,
            published_at: a.published_at,
            updated_at: a.updated_at,
            status: staff.then(|| ArticleStatus::parse(&a.status).unwrap_or_default()),
            body: staff.then(|| a.body.clone()),
            body_format: staff.then(|| BodyFormat::parse(&a.body_format).unwrap_or_default()),
            created_at: staff.then_some(a.created_at),
            version: staff.then_some(a.version),
            previous_slugs: staff.then(|| v.previous_slugs.clone()),
        }
    }
}

/// Pagination numbers of a list response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListMeta {
    #[schema(example = 1)]
    pub page: u64,
    #[schema(example = 10)]
    pub per_page: u64,
    #[schema(example = 42)]
    pub total: u64,
    #[schema(example = 5)]
    pub total_pages: u64,
}

impl<T> From<&Page<T>> for ListMeta {
    fn from(p: &Page<T>) -> Self {
        ListMeta {
            page: p.page,
            per_page: p.per_page,
            total: p.total,
            total_pages: p.total_pages(),
        }
    }
}

macro_rules! list_type {
    ($(#[$doc:meta] $name:ident of $item:ty;)*) => {
        $(
            #[$doc]
            #[derive(Debug, Serialize, ToSchema)]
            pub struct $name {
                pub data: Vec<$item>,
                pub meta: ListMeta,
            }
        )*
    };
}

list_type! {
    /// A page of articles.
    ArticleList of ArticleDto;
    /// A page of authors.
    AuthorList of AuthorDto;
    /// A page of sources.
    SourceList of SourceDto;
    /// A page of tags.
    TagList of TagDto;
}

/// Article fields for `POST` and `PATCH /articles`. On `PATCH` every field is
/// optional and `null` clears an optional one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleWrite {
    /// Required on create; at most 300 characters.
    pub title: Option<String>,
    /// Generated from the title when absent.
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub standfirst: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub excerpt: Option<Option<String>>,
    pub body: Option<String>,
    /// `markdown` (the default) or `html`.
    // The kinds are read as text, so that a bad value is reported beside
    // every other bad field, not alone by serde.
    #[schema(value_type = Option<BodyFormat>)]
    pub body_format: Option<String>,
    /// `draft` (the default), `published` or `archived`.
    #[schema(value_type = Option<ArticleStatus>)]
    pub status: Option<String>,
    /// A future instant schedules a published article.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub published_at: Option<Option<DateTime<Utc>>>,
    /// Bylines in order.
    pub author_ids: Option<Vec<String>>,
    pub tag_ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub source_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub original_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub original_published_at: Option<Option<DateTime<Utc>>>,
    /// `open` (the default) or `closed`.
    #[schema(value_type = Option<CommentPolicy>)]
    pub comment_status: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub feature_image_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub feature_image_alt: Option<Option<String>>,
    /// On update: the version being edited; a stale one answers 409.
    pub version: Option<i32>,
}

impl From<ArticleWrite> for ArticleFields {
    fn from(w: ArticleWrite) -> Self {
        ArticleFields {
            title: w.title,
            slug: w.slug,
            standfirst: w.standfirst,
            excerpt: w.excerpt,
            body: w.body,
            body_format: w.body_format,
            status: w.status,
            published_at: w.published_at,
            author_ids: w.author_ids,
            tag_ids: w.tag_ids,
            source_id: w.source_id,
            original_url: w.original_url,
            original_published_at: w.original_published_at,
            comment_status: w.comment_status,
            feature_image_url: w.feature_image_url,
            feature_image_alt: w.feature_image_alt,
        }
    }
}

/// Author fields; `name` is required on create.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorWrite {
    pub name: Option<String>,
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub bio: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub avatar_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub website_url: Option<Option<String>>,
}

impl From<AuthorWrite> for AuthorFields {
    fn from(w: AuthorWrite) -> Self {
        AuthorFields {
            name: w.name,
            slug: w.slug,
            title: w.title,
            bio: w.bio,
            avatar_url: w.avatar_url,
            website_url: w.website_url,
        }
    }
}

/// Source fields; `name` is required on create.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceWrite {
    pub name: Option<String>,
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub homepage_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub logo_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub feed_url: Option<Option<String>>,
}

impl From<SourceWrite> for SourceFields {
    fn from(w: SourceWrite) -> Self {
        SourceFields {
            name: w.name,
            slug: w.slug,
            homepage_url: w.homepage_url,
            description: w.description,
            logo_url: w.logo_url,
            feed_url: w.feed_url,
        }
    }
}

/// Tag fields; `name` is required on create.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagWrite {
    pub name: Option<String>,
    pub slug: Option<String>,
}

impl From<TagWrite> for TagFields {
    fn from(w: TagWrite) -> Self {
        TagFields {
            name: w.name,
            slug: w.slug,
        }
    }
}
