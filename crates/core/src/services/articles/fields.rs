//! What a write sends and the rules it must pass: validation, bylines,
//! links, free slugs and the body rendered before the transaction.

use chrono::{DateTime, Datelike, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use crate::{
    auth::{Actor, Role},
    domain::{
        body::{BodyFormat, Rendered},
        slug, text,
        validate::is_http_url,
    },
    entities::{article, article_author, article_slug, article_tag, author, source, tag},
    error::{AppError, FieldError},
    state::AppState,
};

use super::*;

/// Article fields as a client sends them; `None` = not given. On update an
/// inner `None` clears an optional field.
#[derive(Debug, Clone, Default)]
pub struct ArticleFields {
    pub title: Option<String>,
    pub slug: Option<String>,
    pub standfirst: Option<Option<String>>,
    pub excerpt: Option<Option<String>>,
    pub body: Option<String>,
    pub body_format: Option<String>,
    pub status: Option<String>,
    pub published_at: Option<Option<DateTime<Utc>>>,
    pub author_ids: Option<Vec<String>>,
    pub tag_ids: Option<Vec<String>>,
    pub source_id: Option<Option<String>>,
    pub original_url: Option<Option<String>>,
    pub original_published_at: Option<Option<DateTime<Utc>>>,
    pub comment_status: Option<String>,
    pub feature_image_url: Option<Option<String>>,
    pub feature_image_alt: Option<Option<String>>,
}

/// How a client says which version it is updating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// No precondition: last write wins.
    Any,
    /// From an `If-Match` header: a mismatch is 412.
    IfMatch(Option<i32>),
    /// From a `version` field or `expectedVersion`: a mismatch is 409.
    Version(i32),
}

/// Bylines an article may carry (a longer list is 422).
pub const MAX_AUTHORS_PER_ARTICLE: usize = 20;
/// Tags an article may carry (a longer list is 422).
pub const MAX_TAGS_PER_ARTICLE: usize = 50;

/// Whether a date can be written in every format we serve (RFC 3339, RFC
/// 2822 in feeds, sitemaps): a four-digit year, 1 to 9999, in UTC.
pub fn is_representable(at: DateTime<Utc>) -> bool {
    (1..=9999).contains(&at.year())
}

/// Trimmed, and `None` when empty.
pub(super) fn clean(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Field-level validation shared by create and update. Collects every error.
pub(super) async fn validate(
    db: &impl ConnectionTrait,
    f: &mut ArticleFields,
    creating: bool,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    match f.title.as_deref().map(str::trim) {
        None if creating => errors.push(FieldError::new("title", "is required")),
        Some("") => errors.push(FieldError::new("title", "must not be empty")),
        Some(t) if t.chars().count() > MAX_TITLE_CHARS => errors.push(FieldError::new(
            "title",
            format!("must be at most {MAX_TITLE_CHARS} characters"),
        )),
        _ => {}
    }
    if let Some(s) = &f.slug
        && !slug::is_valid_slug(s)
    {
        errors.push(FieldError::new("slug", "must be lowercase ASCII letters and digits joined by single hyphens, at most 200 characters"));
    }
    if let Some(fmt) = &f.body_format
        && BodyFormat::parse(fmt).is_none()
    {
        errors.push(FieldError::new("body_format", "must be markdown or html"));
    }
    if let Some(st) = &f.status
        && ![DRAFT, PUBLISHED, ARCHIVED].contains(&st.as_str())
    {
        errors.push(FieldError::new(
            "status",
            "must be draft, published or archived",
        ));
    }
    if let Some(cs) = &f.comment_status
        && cs != "open"
        && cs != "closed"
    {
        errors.push(FieldError::new("comment_status", "must be open or closed"));
    }
    for (name, value) in [
        ("original_url", &f.original_url),
        ("feature_image_url", &f.feature_image_url),
    ] {
        if let Some(Some(url)) = value
            && !url.trim().is_empty()
            && !is_http_url(url.trim())
        {
            errors.push(FieldError::new(name, "must be an absolute http(s) URL"));
        }
    }
    // Single-line text goes into feeds' XML as is: no control characters.
    if let Some(problem) = f.title.as_deref().and_then(text::single_line_problem) {
        errors.push(FieldError::new("title", problem));
    }
    for (name, value, single_line) in [
        ("standfirst", &f.standfirst, false),
        ("excerpt", &f.excerpt, true),
        ("feature_image_alt", &f.feature_image_alt, true),
    ] {
        if let Some(Some(v)) = value {
            let problem = if single_line {
                text::single_line_problem(v)
            } else {
                text::multi_line_problem(v)
            };
            if let Some(problem) = problem {
                errors.push(FieldError::new(name, problem));
            }
        }
    }
    for (name, value, max) in [
        ("standfirst", &f.standfirst, 5_000),
        ("excerpt", &f.excerpt, 2_000),
        ("feature_image_alt", &f.feature_image_alt, 500),
    ] {
        if let Some(Some(v)) = value
            && v.chars().count() > max
        {
            errors.push(FieldError::new(
                name,
                format!("must be at most {max} characters"),
            ));
        }
    }
    for (name, value) in [
        ("published_at", &f.published_at),
        ("original_published_at", &f.original_published_at),
    ] {
        if let Some(Some(at)) = value
            && !is_representable(*at)
        {
            errors.push(FieldError::new(
                name,
                "must fall in the years 1 to 9999 (UTC)",
            ));
        }
    }
    // The lists are checked against the database below, only when they are
    // not already refused for their length.
    let mut too_long = [false; 2];
    for (i, (name, ids, max)) in [
        ("author_ids", &f.author_ids, MAX_AUTHORS_PER_ARTICLE),
        ("tag_ids", &f.tag_ids, MAX_TAGS_PER_ARTICLE),
    ]
    .into_iter()
    .enumerate()
    {
        if let Some(ids) = ids
            && ids.len() > max
        {
            errors.push(FieldError::new(name, format!("must list at most {max}")));
            too_long[i] = true;
        }
    }
    if let Some(ids) = f.author_ids.as_ref().filter(|_| !too_long[0]) {
        let wanted = unique(ids.iter());
        if wanted.len() != ids.len() {
            errors.push(FieldError::new("author_ids", "lists an author twice"));
        } else if !wanted.is_empty() {
            let known = author::Entity::find()
                .filter(author::Column::Id.is_in(wanted.clone()))
                .count(db)
                .await?;
            if known as usize != wanted.len() {
                errors.push(FieldError::new(
                    "author_ids",
                    "names an author that does not exist",
                ));
            }
        }
    }
    if let Some(ids) = f.tag_ids.as_ref().filter(|_| !too_long[1]) {
        let wanted = unique(ids.iter());
        if wanted.len() != ids.len() {
            errors.push(FieldError::new("tag_ids", "lists a tag twice"));
        } else if !wanted.is_empty() {
            let known = tag::Entity::find()
                .filter(tag::Column::Id.is_in(wanted.clone()))
                .count(db)
                .await?;
            if known as usize != wanted.len() {
                errors.push(FieldError::new(
                    "tag_ids",
                    "names a tag that does not exist",
                ));
            }
        }
    }
    if let Some(Some(id)) = &f.source_id
        && source::Entity::find_by_id(id.clone()).count(db).await? == 0
    {
        errors.push(FieldError::new(
            "source_id",
            "names a source that does not exist",
        ));
    }
    if errors.is_empty() {
        f.title = f.title.take().map(|t| t.trim().to_string());
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Roles that may publish.
pub(super) fn may_publish(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Editor | Role::Author)
}

/// Authors and contributors must stay a byline of what they write.
pub(super) fn check_byline(actor: &Actor, role: Role, bylines: &[String]) -> Result<(), AppError> {
    if matches!(role, Role::Admin | Role::Editor) {
        return Ok(());
    }
    match actor {
        Actor::User {
            author_id: Some(mine),
            ..
        } if bylines.iter().any(|b| b == mine) => Ok(()),
        Actor::User {
            author_id: None, ..
        } => Err(AppError::Forbidden(
            "your account is not linked to an author, so you cannot write articles".into(),
        )),
        _ => Err(AppError::Forbidden(
            "you may only write articles on which you are a byline".into(),
        )),
    }
}

/// Insert the article's byline and tag rows in order.
pub(crate) async fn write_links(
    db: &impl ConnectionTrait,
    article_id: &str,
    authors: Option<&[String]>,
    tags: Option<&[String]>,
) -> Result<(), AppError> {
    if let Some(authors) = authors {
        article_author::Entity::delete_many()
            .filter(article_author::Column::ArticleId.eq(article_id))
            .exec(db)
            .await?;
        for (position, author_id) in authors.iter().enumerate() {
            article_author::Entity::insert(article_author::ActiveModel {
                article_id: Set(article_id.to_string()),
                author_id: Set(author_id.clone()),
                position: Set(position as i32),
            })
            .exec_without_returning(db)
            .await?;
        }
    }
    if let Some(tags) = tags {
        article_tag::Entity::delete_many()
            .filter(article_tag::Column::ArticleId.eq(article_id))
            .exec(db)
            .await?;
        for (position, tag_id) in tags.iter().enumerate() {
            article_tag::Entity::insert(article_tag::ActiveModel {
                article_id: Set(article_id.to_string()),
                tag_id: Set(tag_id.clone()),
                position: Set(position as i32),
            })
            .exec_without_returning(db)
            .await?;
        }
    }
    Ok(())
}

/// Whether `candidate` is used by another article, now or as an old slug.
pub(crate) async fn slug_taken(
    db: &impl ConnectionTrait,
    candidate: &str,
    except_article: Option<&str>,
) -> Result<bool, AppError> {
    let mut current = article::Entity::find().filter(article::Column::Slug.eq(candidate));
    let mut old = article_slug::Entity::find().filter(article_slug::Column::Slug.eq(candidate));
    if let Some(id) = except_article {
        current = current.filter(article::Column::Id.ne(id));
        old = old.filter(article_slug::Column::ArticleId.ne(id));
    }
    Ok(current.count(db).await? > 0 || old.count(db).await? > 0)
}

/// A free slug for an article: `base`, `base-2`, `base-3`...
pub async fn free_slug(db: &impl ConnectionTrait, base: &str) -> Result<String, AppError> {
    for n in 1..1000u32 {
        let candidate = slug::candidate(base, n);
        if !slug_taken(db, &candidate, None).await? {
            return Ok(candidate);
        }
    }
    Err(AppError::Conflict(format!("no free slug near {base:?}")))
}

/// A body rendered before the write transaction: its source, format and output.
pub(super) struct Prepared {
    pub(super) source: String,
    pub(super) format: BodyFormat,
    pub(super) rendered: Rendered,
}

/// The body source and format a write stores: the given ones, else the
/// stored ones (`current`), else an empty Markdown body.
pub(super) fn body_of(f: &ArticleFields, current: Option<&article::Model>) -> (String, BodyFormat) {
    let format = f
        .body_format
        .as_deref()
        .and_then(BodyFormat::parse)
        .or_else(|| current.and_then(|c| BodyFormat::parse(&c.body_format)))
        .unwrap_or(BodyFormat::Markdown);
    let source = f
        .body
        .clone()
        .or_else(|| current.map(|c| c.body.clone()))
        .unwrap_or_default();
    (source, format)
}

/// Render the body a write stores, through the bounded renderer (422 on
/// `body` when too large or too deep). An unknown format is left for
/// [`validate`] to report.
pub(super) async fn prepare_body(
    state: &AppState,
    f: &ArticleFields,
    current: Option<&article::Model>,
) -> Result<Option<Prepared>, AppError> {
    if f.body_format
        .as_deref()
        .is_some_and(|v| BodyFormat::parse(v).is_none())
    {
        return Ok(None);
    }
    let (source, format) = body_of(f, current);
    let rendered = state.bodies.render("body", source.clone(), format).await?;
    Ok(Some(Prepared {
        source,
        format,
        rendered,
    }))
}
