//! Authors (bylines), sources (outlets content is cross-posted from) and
//! tags: named things with slugs, readable by everyone, managed by admins and
//! editors. An author or source still used by an article cannot be deleted.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::{
    auth::{Actor, Role, policy},
    domain::{
        pagination::{Page, Window},
        slug, text,
        validate::is_http_url,
    },
    entities::{author, source, tag, user},
    error::{AppError, FieldError},
    services::{articles, assign_slug, new_id, now, resolve},
    state::AppState,
};

/// Longest name accepted.
pub const MAX_NAME_CHARS: usize = 200;

fn require_editor(actor: &Actor) -> Result<(), AppError> {
    match policy::require_staff(actor)? {
        (_, Role::Admin | Role::Editor) => Ok(()),
        _ => Err(AppError::Forbidden(
            "only admins and editors manage authors, sources and tags".into(),
        )),
    }
}

/// Checks shared by the three kinds: a name (required on create), a slug, URLs, lengths.
struct Check(Vec<FieldError>);

impl Check {
    fn name(mut self, name: &Option<String>, creating: bool) -> Self {
        match name.as_deref().map(str::trim) {
            None if creating => self.0.push(FieldError::new("name", "is required")),
            Some("") => self.0.push(FieldError::new("name", "must not be empty")),
            Some(n) if n.chars().count() > MAX_NAME_CHARS => self.0.push(FieldError::new(
                "name",
                format!("must be at most {MAX_NAME_CHARS} characters"),
            )),
            Some(n) => {
                if let Some(problem) = text::single_line_problem(n) {
                    self.0.push(FieldError::new("name", problem));
                }
            }
            _ => {}
        }
        self
    }
    fn slug(mut self, s: &Option<String>) -> Self {
        if let Some(s) = s
            && !slug::is_valid_slug(s)
        {
            self.0.push(FieldError::new(
                "slug",
                "must be lowercase ASCII letters and digits joined by single hyphens",
            ));
        }
        self
    }
    fn url(mut self, field: &str, v: &Option<Option<String>>) -> Self {
        if let Some(Some(u)) = v
            && !u.trim().is_empty()
            && !is_http_url(u.trim())
        {
            self.0
                .push(FieldError::new(field, "must be an absolute http(s) URL"));
        }
        self
    }
    /// Text of at most `max` characters: on one line (a title), or not
    /// (a bio), with no character a feed's XML could not carry.
    fn text(mut self, field: &str, v: &Option<Option<String>>, max: usize, one_line: bool) -> Self {
        if let Some(Some(t)) = v {
            if t.chars().count() > max {
                self.0.push(FieldError::new(
                    field,
                    format!("must be at most {max} characters"),
                ));
            } else if let Some(problem) = if one_line {
                text::single_line_problem(t)
            } else {
                text::multi_line_problem(t)
            } {
                self.0.push(FieldError::new(field, problem));
            }
        }
        self
    }
    fn done(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.0))
        }
    }
}

fn clean(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// `Page` numbers for a slice (pages exist only for page-aligned slices).
fn page_of<T>(items: Vec<T>, slice: Window, total: u64) -> Page<T> {
    Page {
        items,
        page: slice.offset / slice.limit.max(1) + 1,
        per_page: slice.limit,
        total,
    }
}

// ---------------------------------------------------------------- authors

/// Author fields as sent; `Some(None)` clears an optional field.
#[derive(Debug, Clone, Default)]
pub struct AuthorFields {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub title: Option<Option<String>>,
    pub bio: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
    pub website_url: Option<Option<String>>,
}

#[derive(Debug, Clone)]
pub struct AuthorView {
    pub author: author::Model,
    /// Visible articles credited to the author.
    pub article_count: u64,
    /// Users who write as this author (staff only).
    pub user_ids: Vec<String>,
}

async fn author_views(
    db: &impl ConnectionTrait,
    rows: Vec<author::Model>,
) -> Result<Vec<AuthorView>, AppError> {
    let ids: Vec<String> = rows.iter().map(|a| a.id.clone()).collect();
    let counts = articles::visible_counts_by_author(db, &ids).await?;
    let users: Vec<(String, Option<String>)> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::AuthorId)
        .filter(user::Column::AuthorId.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|a| AuthorView {
            article_count: counts.get(&a.id).copied().unwrap_or(0),
            user_ids: users
                .iter()
                .filter(|(_, aid)| aid.as_deref() == Some(&a.id))
                .map(|(u, _)| u.clone())
                .collect(),
            author: a,
        })
        .collect())
}

pub async fn list_authors(state: &AppState, page: Window) -> Result<Page<AuthorView>, AppError> {
    let total = author::Entity::find().count(&state.db).await?;
    let rows = if page.offset >= total || page.limit == 0 {
        Vec::new()
    } else {
        author::Entity::find()
            .order_by_asc(author::Column::Name)
            .order_by_asc(author::Column::Id)
            .offset(page.offset)
            .limit(page.limit)
            .all(&state.db)
            .await?
    };
    Ok(page_of(author_views(&state.db, rows).await?, page, total))
}

pub async fn get_author(state: &AppState, id_or_slug: &str) -> Result<AuthorView, AppError> {
    let found = resolve::<author::Entity>(
        &state.db,
        author::Column::Id,
        author::Column::Slug,
        id_or_slug,
    )
    .await?
    .ok_or(AppError::NotFound { resource: "author" })?;
    Ok(author_views(&state.db, vec![found]).await?.remove(0))
}

fn check_author(f: &AuthorFields, creating: bool) -> Result<(), AppError> {
    Check(Vec::new())
        .name(&f.name, creating)
        .slug(&f.slug)
        .text("title", &f.title, 200, true)
        .text("bio", &f.bio, 5_000, false)
        .url("avatar_url", &f.avatar_url)
        .url("website_url", &f.website_url)
        .done()
}

pub async fn create_author(
    state: &AppState,
    actor: &Actor,
    f: AuthorFields,
) -> Result<AuthorView, AppError> {
    require_editor(actor)?;
    check_author(&f, true)?;
    let txn = crate::services::write_txn(state).await?;
    let name = f.name.clone().unwrap_or_default().trim().to_string();
    let slug = assign_slug::<author::Entity>(
        &txn,
        author::Column::Id,
        author::Column::Slug,
        f.slug.as_deref(),
        &name,
        None,
    )
    .await?;
    let at = now();
    let model = author::ActiveModel {
        id: Set(new_id()),
        slug: Set(slug),
        name: Set(name),
        title: Set(clean(f.title.flatten())),
        bio: Set(clean(f.bio.flatten())),
        avatar_url: Set(clean(f.avatar_url.flatten())),
        website_url: Set(clean(f.website_url.flatten())),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(author_views(&state.db, vec![model]).await?.remove(0))
}

pub async fn update_author(
    state: &AppState,
    actor: &Actor,
    id: &str,
    f: AuthorFields,
) -> Result<AuthorView, AppError> {
    require_editor(actor)?;
    check_author(&f, false)?;
    let txn = crate::services::write_txn(state).await?;
    let current = author::Entity::find_by_id(id.to_string())
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound { resource: "author" })?;
    let mut m: author::ActiveModel = current.clone().into();
    if let Some(s) = f.slug.as_deref().filter(|s| *s != current.slug) {
        m.slug = Set(assign_slug::<author::Entity>(
            &txn,
            author::Column::Id,
            author::Column::Slug,
            Some(s),
            "",
            Some(id),
        )
        .await?);
    }
    if let Some(n) = f.name {
        m.name = Set(n.trim().to_string());
    }
    if let Some(v) = f.title {
        m.title = Set(clean(v));
    }
    if let Some(v) = f.bio {
        m.bio = Set(clean(v));
    }
    if let Some(v) = f.avatar_url {
        m.avatar_url = Set(clean(v));
    }
    if let Some(v) = f.website_url {
        m.website_url = Set(clean(v));
    }
    m.updated_at = Set(now());
    let saved = m.update(&txn).await?;
    txn.commit().await?;
    Ok(author_views(&state.db, vec![saved]).await?.remove(0))
}

pub async fn delete_author(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    require_editor(actor)?;
    let txn = crate::services::write_txn(state).await?;
    author::Entity::find_by_id(id.to_string())
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound { resource: "author" })?;
    let used = articles::usage_of_author(&txn, id).await?;
    if used > 0 {
        return Err(AppError::Conflict(format!(
            "the author is credited on {used} article(s); remove those bylines first"
        )));
    }
    author::Entity::delete_by_id(id.to_string())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- sources

#[derive(Debug, Clone, Default)]
pub struct SourceFields {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub homepage_url: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub logo_url: Option<Option<String>>,
    pub feed_url: Option<Option<String>>,
}

#[derive(Debug, Clone)]
pub struct SourceView {
    pub source: source::Model,
    pub article_count: u64,
}

async fn source_views(
    db: &impl ConnectionTrait,
    rows: Vec<source::Model>,
) -> Result<Vec<SourceView>, AppError> {
    let ids: Vec<String> = rows.iter().map(|s| s.id.clone()).collect();
    let counts = articles::visible_counts_by_source(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|s| SourceView {
            article_count: counts.get(&s.id).copied().unwrap_or(0),
            source: s,
        })
        .collect())
}

pub async fn list_sources(state: &AppState, page: Window) -> Result<Page<SourceView>, AppError> {
    let total = source::Entity::find().count(&state.db).await?;
    let rows = if page.offset >= total || page.limit == 0 {
        Vec::new()
    } else {
        source::Entity::find()
            .order_by_asc(source::Column::Name)
            .order_by_asc(source::Column::Id)
            .offset(page.offset)
            .limit(page.limit)
            .all(&state.db)
            .await?
    };
    Ok(page_of(source_views(&state.db, rows).await?, page, total))
}

pub async fn get_source(state: &AppState, id_or_slug: &str) -> Result<SourceView, AppError> {
    let found = resolve::<source::Entity>(
        &state.db,
        source::Column::Id,
        source::Column::Slug,
        id_or_slug,
    )
    .await?
    .ok_or(AppError::NotFound { resource: "source" })?;
    Ok(source_views(&state.db, vec![found]).await?.remove(0))
}

fn check_source(f: &SourceFields, creating: bool) -> Result<(), AppError> {
    Check(Vec::new())
        .name(&f.name, creating)
        .slug(&f.slug)
        .url("homepage_url", &f.homepage_url)
        .text("description", &f.description, 5_000, false)
        .url("logo_url", &f.logo_url)
        .url("feed_url", &f.feed_url)
        .done()
}

pub async fn create_source(
    state: &AppState,
    actor: &Actor,
    f: SourceFields,
) -> Result<SourceView, AppError> {
    require_editor(actor)?;
    check_source(&f, true)?;
    let txn = crate::services::write_txn(state).await?;
    let name = f.name.clone().unwrap_or_default().trim().to_string();
    let slug = assign_slug::<source::Entity>(
        &txn,
        source::Column::Id,
        source::Column::Slug,
        f.slug.as_deref(),
        &name,
        None,
    )
    .await?;
    let at = now();
    let model = source::ActiveModel {
        id: Set(new_id()),
        slug: Set(slug),
        name: Set(name),
        homepage_url: Set(clean(f.homepage_url.flatten())),
        description: Set(clean(f.description.flatten())),
        logo_url: Set(clean(f.logo_url.flatten())),
        feed_url: Set(clean(f.feed_url.flatten())),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(source_views(&state.db, vec![model]).await?.remove(0))
}

pub async fn update_source(
    state: &AppState,
    actor: &Actor,
    id: &str,
    f: SourceFields,
) -> Result<SourceView, AppError> {
    require_editor(actor)?;
    check_source(&f, false)?;
    let txn = crate::services::write_txn(state).await?;
    let current = source::Entity::find_by_id(id.to_string())
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound { resource: "source" })?;
    let mut m: source::ActiveModel = current.clone().into();
    if let Some(s) = f.slug.as_deref().filter(|s| *s != current.slug) {
        m.slug = Set(assign_slug::<source::Entity>(
            &txn,
            source::Column::Id,
            source::Column::Slug,
            Some(s),
            "",
            Some(id),
        )
        .await?);
    }
    if let Some(n) = f.name {
        m.name = Set(n.trim().to_string());
    }
    if let Some(v) = f.homepage_url {
        m.homepage_url = Set(clean(v));
    }
    if let Some(v) = f.description {
        m.description = Set(clean(v));
    }
    if let Some(v) = f.logo_url {
        m.logo_url = Set(clean(v));
    }
    if let Some(v) = f.feed_url {
        m.feed_url = Set(clean(v));
    }
    m.updated_at = Set(now());
    let saved = m.update(&txn).await?;
    txn.commit().await?;
    Ok(source_views(&state.db, vec![saved]).await?.remove(0))
}

pub async fn delete_source(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    require_editor(actor)?;
    let txn = crate::services::write_txn(state).await?;
    source::Entity::find_by_id(id.to_string())
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound { resource: "source" })?;
    let used = articles::usage_of_source(&txn, id).await?;
    if used > 0 {
        return Err(AppError::Conflict(format!(
            "the source is used by {used} article(s); change those first"
        )));
    }
    source::Entity::delete_by_id(id.to_string())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- tags

#[derive(Debug, Clone, Default)]
pub struct TagFields {
    pub name: Option<String>,
    pub slug: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TagView {
    pub tag: tag::Model,
    pub article_count: u64,
}

async fn tag_views(
    db: &impl ConnectionTrait,
    rows: Vec<tag::Model>,
) -> Result<Vec<TagView>, AppError> {
    let ids: Vec<String> = rows.iter().map(|t| t.id.clone()).collect();
    let counts: HashMap<String, u64> = articles::visible_counts_by_tag(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|t| TagView {
            article_count: counts.get(&t.id).copied().unwrap_or(0),
            tag: t,
        })
        .collect())
}

pub async fn list_tags(state: &AppState, page: Window) -> Result<Page<TagView>, AppError> {
    let total = tag::Entity::find().count(&state.db).await?;
    let rows = if page.offset >= total || page.limit == 0 {
        Vec::new()
    } else {
        tag::Entity::find()
            .order_by_asc(tag::Column::Name)
            .order_by_asc(tag::Column::Id)
            .offset(page.offset)
            .limit(page.limit)
            .all(&state.db)
            .await?
    };
    Ok(page_of(tag_views(&state.db, rows).await?, page, total))
}

pub async fn get_tag(state: &AppState, id_or_slug: &str) -> Result<TagView, AppError> {
    let found = resolve::<tag::Entity>(&state.db, tag::Column::Id, tag::Column::Slug, id_or_slug)
        .await?
        .ok_or(AppError::NotFound { resource: "tag" })?;
    Ok(tag_views(&state.db, vec![found]).await?.remove(0))
}

pub async fn create_tag(
    state: &AppState,
    actor: &Actor,
    f: TagFields,
) -> Result<TagView, AppError> {
    require_editor(actor)?;
    Check(Vec::new()).name(&f.name, true).slug(&f.slug).done()?;
    let txn = crate::services::write_txn(state).await?;
    let name = f.name.clone().unwrap_or_default().trim().to_string();
    let slug = assign_slug::<tag::Entity>(
        &txn,
        tag::Column::Id,
        tag::Column::Slug,
        f.slug.as_deref(),
        &name,
        None,
    )
    .await?;
    let at = now();
    let model = tag::ActiveModel {
        id: Set(new_id()),
        slug: Set(slug),
        name: Set(name),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(tag_views(&state.db, vec![model]).await?.remove(0))
}

pub async fn update_tag(
    state: &AppState,
    actor: &Actor,
    id: &str,
    f: TagFields,
) -> Result<TagView, AppError> {
    require_editor(actor)?;
    Check(Vec::new())
        .name(&f.name, false)
        .slug(&f.slug)
        .done()?;
    let txn = crate::services::write_txn(state).await?;
    let current = tag::Entity::find_by_id(id.to_string())
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound { resource: "tag" })?;
    let mut m: tag::ActiveModel = current.clone().into();
    if let Some(s) = f.slug.as_deref().filter(|s| *s != current.slug) {
        m.slug = Set(assign_slug::<tag::Entity>(
            &txn,
            tag::Column::Id,
            tag::Column::Slug,
            Some(s),
            "",
            Some(id),
        )
        .await?);
    }
    if let Some(n) = f.name {
        m.name = Set(n.trim().to_string());
    }
    m.updated_at = Set(now());
    let saved = m.update(&txn).await?;
    txn.commit().await?;
    Ok(tag_views(&state.db, vec![saved]).await?.remove(0))
}

/// Delete a tag; articles simply lose it.
pub async fn delete_tag(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    require_editor(actor)?;
    let res = tag::Entity::delete_by_id(id.to_string())
        .exec(&state.db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound { resource: "tag" });
    }
    state.response_cache.written();
    Ok(())
}
