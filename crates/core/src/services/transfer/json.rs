//! The lossless JSON format (`broadsheet export` / `broadsheet import json`):
//! every row of every content table with every column, ids and timestamps
//! (microseconds) as stored, so that exporting, importing into an empty
//! database (SQLite or PostgreSQL) and exporting again gives the same
//! document. Refresh tokens (sessions) are left out; password hashes only
//! with `include_credentials`. README.md documents the format.

use std::{collections::HashMap, io::Read};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};

use crate::{
    entities::{
        article, article_author, article_revision, article_slug, article_tag, author, comment,
        import_ref, refresh_token, source, tag, user,
    },
    error::AppError,
    services::{now, write_txn},
    state::AppState,
};

/// The `format` member of every export.
pub const FORMAT: &str = "broadsheet-export";
/// The format version this build writes and reads.
pub const VERSION: u64 = 1;
/// The password hash given to imported accounts when the export carries
/// none: no password matches it, so an admin must set one.
pub const NO_PASSWORD: &str = "!imported-without-credentials";

/// A whole export. Each list holds one table's rows, sorted by primary key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub format: String,
    pub version: u64,
    pub exported_at: DateTime<Utc>,
    /// Whether `users[].password_hash` is present.
    pub includes_credentials: bool,
    pub authors: Vec<author::Model>,
    pub sources: Vec<source::Model>,
    pub tags: Vec<tag::Model>,
    pub users: Vec<User>,
    pub articles: Vec<article::Model>,
    pub article_authors: Vec<article_author::Model>,
    pub article_tags: Vec<article_tag::Model>,
    pub article_slugs: Vec<article_slug::Model>,
    pub article_revisions: Vec<article_revision::Model>,
    pub comments: Vec<comment::Model>,
    pub import_refs: Vec<import_ref::Model>,
}

/// A `users` row; `password_hash` only when credentials are included.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub id: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    pub display_name: String,
    pub role: String,
    pub author_id: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Read every content table into a [`Document`].
pub async fn export(
    db: &impl ConnectionTrait,
    include_credentials: bool,
) -> Result<Document, AppError> {
    let mut authors = author::Entity::find().all(db).await?;
    authors.sort_by(|a, b| a.id.cmp(&b.id));
    let mut sources = source::Entity::find().all(db).await?;
    sources.sort_by(|a, b| a.id.cmp(&b.id));
    let mut tags = tag::Entity::find().all(db).await?;
    tags.sort_by(|a, b| a.id.cmp(&b.id));
    let mut users: Vec<User> = user::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|u| User {
            id: u.id,
            email: u.email,
            password_hash: include_credentials.then_some(u.password_hash),
            display_name: u.display_name,
            role: u.role,
            author_id: u.author_id,
            active: u.active,
            created_at: u.created_at,
            updated_at: u.updated_at,
        })
        .collect();
    users.sort_by(|a, b| a.id.cmp(&b.id));
    let mut articles = article::Entity::find().all(db).await?;
    articles.sort_by(|a, b| a.id.cmp(&b.id));
    let mut article_authors = article_author::Entity::find().all(db).await?;
    article_authors
        .sort_by(|a, b| (&a.article_id, &a.author_id).cmp(&(&b.article_id, &b.author_id)));
    let mut article_tags = article_tag::Entity::find().all(db).await?;
    article_tags.sort_by(|a, b| (&a.article_id, &a.tag_id).cmp(&(&b.article_id, &b.tag_id)));
    let mut article_slugs = article_slug::Entity::find().all(db).await?;
    article_slugs.sort_by(|a, b| a.slug.cmp(&b.slug));
    let mut article_revisions = article_revision::Entity::find().all(db).await?;
    article_revisions.sort_by(|a, b| a.id.cmp(&b.id));
    let mut comments = comment::Entity::find().all(db).await?;
    comments.sort_by(|a, b| a.id.cmp(&b.id));
    let mut import_refs = import_ref::Entity::find().all(db).await?;
    import_refs.sort_by(|a, b| {
        (&a.system, &a.kind, &a.external_id).cmp(&(&b.system, &b.kind, &b.external_id))
    });
    Ok(Document {
        format: FORMAT.into(),
        version: VERSION,
        exported_at: now(),
        includes_credentials: include_credentials,
        authors,
        sources,
        tags,
        users,
        articles,
        article_authors,
        article_tags,
        article_slugs,
        article_revisions,
        comments,
        import_refs,
    })
}

/// Why a JSON import did not happen.
#[derive(Debug)]
pub enum ImportError {
    /// The file is not a readable export of this version, or the database
    /// is not empty: nothing was written.
    Refused(String),
    /// Writing failed part way: the transaction was rolled back, nothing kept.
    Failed(String),
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::Refused(m) | ImportError::Failed(m) => f.write_str(m),
        }
    }
}

impl From<AppError> for ImportError {
    fn from(e: AppError) -> Self {
        ImportError::Failed(match e {
            AppError::Internal(e) => format!("{e:#}"),
            other => other.to_string(),
        })
    }
}

impl From<sea_orm::DbErr> for ImportError {
    fn from(e: sea_orm::DbErr) -> Self {
        ImportError::Failed(format!("database error: {e}"))
    }
}

/// Only `format` and `version`, read before the rest so that another
/// version is named rather than failing on some field.
#[derive(Deserialize)]
struct Header {
    format: Option<serde_json::Value>,
    version: Option<serde_json::Value>,
}

/// Check that `input` starts an export of this format and version.
pub fn check_header(input: impl Read) -> Result<(), ImportError> {
    let header: Header = serde_json::from_reader(input)
        .map_err(|e| ImportError::Refused(format!("not a JSON document ({e})")))?;
    match header.format.as_ref().and_then(|v| v.as_str()) {
        Some(FORMAT) => {}
        other => {
            return Err(ImportError::Refused(format!(
                "not a Broadsheet export: \"format\" is {}, expected {FORMAT:?}",
                other.map_or("missing".to_string(), |f| format!("{f:?}"))
            )));
        }
    }
    match header.version.as_ref().and_then(|v| v.as_u64()) {
        Some(VERSION) => Ok(()),
        _ => Err(ImportError::Refused(format!(
            "export format version {} is not supported: this Broadsheet reads version {VERSION}",
            header
                .version
                .map_or("(missing)".to_string(), |v| v.to_string())
        ))),
    }
}

/// Parse a whole export (after [`check_header`]), naming the field and line of an error.
pub fn parse(input: impl Read) -> Result<Document, ImportError> {
    let mut de = serde_json::Deserializer::from_reader(input);
    serde_path_to_error::deserialize(&mut de)
        .map_err(|e| ImportError::Refused(format!("bad export at {}: {}", e.path(), e.inner())))
}

/// Rows per table that [`import`] wrote.
pub type Restored = Vec<(&'static str, u64)>;

/// Restore `doc` into an empty database in one transaction: all of it, or
/// nothing. Users whose email already has an account (the bootstrap admin)
/// replace that account, keeping its password when the export has none.
pub async fn import(state: &AppState, doc: Document) -> Result<Restored, ImportError> {
    let txn = write_txn(state).await?;
    let mut busy = Vec::new();
    for (table, n) in [
        ("authors", author::Entity::find().count(&txn).await?),
        ("sources", source::Entity::find().count(&txn).await?),
        ("tags", tag::Entity::find().count(&txn).await?),
        ("articles", article::Entity::find().count(&txn).await?),
        ("comments", comment::Entity::find().count(&txn).await?),
        ("import_refs", import_ref::Entity::find().count(&txn).await?),
    ] {
        if n > 0 {
            busy.push(format!("{n} {table}"));
        }
    }
    if !busy.is_empty() {
        return Err(ImportError::Refused(format!(
            "the database already holds content ({}): import json restores into an empty database only",
            busy.join(", ")
        )));
    }
    let mut restored: Restored = Vec::new();
    restored.push(("authors", insert_all("authors", &txn, doc.authors).await?));
    restored.push(("sources", insert_all("sources", &txn, doc.sources).await?));
    restored.push(("tags", insert_all("tags", &txn, doc.tags).await?));

    let existing: HashMap<String, user::Model> = user::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|u| (u.email.to_lowercase(), u))
        .collect();
    let mut users = Vec::with_capacity(doc.users.len());
    for u in doc.users {
        let mut hash = u.password_hash;
        // Session state is not exported (like refresh tokens); a replaced
        // account starts past the old one's version, so no access token
        // issued before the import is accepted for it.
        let mut session_version = 0;
        if let Some(old) = existing.get(&u.email.to_lowercase()) {
            session_version = old.session_version.saturating_add(1);
            hash = hash.or(Some(old.password_hash.clone()));
            // The account is replaced by the exported one; its sessions end.
            refresh_token::Entity::delete_many()
                .filter(refresh_token::Column::UserId.eq(old.id.clone()))
                .exec(&txn)
                .await?;
            user::Entity::delete_by_id(old.id.clone())
                .exec(&txn)
                .await?;
        }
        users.push(user::Model {
            id: u.id,
            email: u.email,
            password_hash: hash.unwrap_or_else(|| NO_PASSWORD.to_string()),
            display_name: u.display_name,
            role: u.role,
            author_id: u.author_id,
            active: u.active,
            session_version,
            created_at: u.created_at,
            updated_at: u.updated_at,
        });
    }
    restored.push(("users", insert_all("users", &txn, users).await?));
    restored.push((
        "articles",
        insert_all("articles", &txn, doc.articles).await?,
    ));
    restored.push((
        "article_authors",
        insert_all("article_authors", &txn, doc.article_authors).await?,
    ));
    restored.push((
        "article_tags",
        insert_all("article_tags", &txn, doc.article_tags).await?,
    ));
    restored.push((
        "article_slugs",
        insert_all("article_slugs", &txn, doc.article_slugs).await?,
    ));
    restored.push((
        "article_revisions",
        insert_all("article_revisions", &txn, doc.article_revisions).await?,
    ));
    // Parents before replies.
    let mut comments = doc.comments;
    comments.sort_by(|a, b| (a.depth, &a.id).cmp(&(b.depth, &b.id)));
    restored.push(("comments", insert_all("comments", &txn, comments).await?));
    restored.push((
        "import_refs",
        insert_all("import_refs", &txn, doc.import_refs).await?,
    ));
    txn.commit().await?;
    Ok(restored)
}

/// Insert rows exactly as given, in chunks; an error names the table and rows.
async fn insert_all<M, A>(
    table: &'static str,
    db: &impl ConnectionTrait,
    rows: Vec<M>,
) -> Result<u64, ImportError>
where
    M: IntoActiveModel<A>,
    A: sea_orm::ActiveModelTrait + Send,
{
    let total = rows.len() as u64;
    let mut rows = rows.into_iter().peekable();
    let mut first = 0u64;
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows
            .by_ref()
            .take(100)
            .map(|m| m.into_active_model())
            .collect();
        let n = chunk.len() as u64;
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(db)
            .await
            .map_err(|e| {
                ImportError::Failed(format!(
                    "restoring {table} (rows {}–{}) failed, nothing was kept: {e}",
                    first + 1,
                    first + n
                ))
            })?;
        first += n;
    }
    Ok(total)
}
