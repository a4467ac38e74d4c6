//! REST response shapes (snake_case), mapped from service views. Entities are
//! never serialized directly, so a column rename cannot change the contract.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    domain::pagination::Page,
    entities::{author, source, tag},
    services::articles::ArticleView,
};

/// A byline as embedded in an article.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorDto {
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

impl From<&author::Model> for AuthorDto {
    fn from(a: &author::Model) -> Self {
        AuthorDto {
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

/// An outlet the article was first published by, as embedded in an article.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceDto {
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

impl From<&source::Model> for SourceDto {
    fn from(s: &source::Model) -> Self {
        SourceDto {
            id: s.id.clone(),
            slug: s.slug.clone(),
            name: s.name.clone(),
            homepage_url: s.homepage_url.clone(),
            description: s.description.clone(),
            logo_url: s.logo_url.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TagDto {
    pub id: String,
    #[schema(example = "multipolarity")]
    pub slug: String,
    #[schema(example = "Multipolarity")]
    pub name: String,
}

impl From<&tag::Model> for TagDto {
    fn from(t: &tag::Model) -> Self {
        TagDto {
            id: t.id.clone(),
            slug: t.slug.clone(),
            name: t.name.clone(),
        }
    }
}

/// `open` or `closed`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CommentStatusDto {
    Open,
    Closed,
}

/// An article as the public sees it.
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
    pub authors: Vec<AuthorDto>,
    pub tags: Vec<TagDto>,
    /// The outlet this article is cross-posted from, if any.
    pub source: Option<SourceDto>,
    pub original_url: Option<String>,
    pub original_published_at: Option<DateTime<Utc>>,
    /// `original_url` for a cross-post, else the article's URL on this site.
    pub canonical_url: String,
    pub comment_status: CommentStatusDto,
    /// Approved comments only.
    pub comment_count: u64,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl From<&ArticleView> for ArticleDto {
    fn from(v: &ArticleView) -> Self {
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
            authors: v.authors.iter().map(AuthorDto::from).collect(),
            tags: v.tags.iter().map(TagDto::from).collect(),
            source: v.source.as_ref().map(SourceDto::from),
            original_url: a.original_url.clone(),
            original_published_at: a.original_published_at,
            canonical_url: v.canonical_url.clone(),
            comment_status: if a.comment_status == "closed" {
                CommentStatusDto::Closed
            } else {
                CommentStatusDto::Open
            },
            comment_count: v.comment_count,
            published_at: a.published_at,
            updated_at: a.updated_at,
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

/// A page of articles.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleList {
    pub data: Vec<ArticleDto>,
    pub meta: ListMeta,
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
