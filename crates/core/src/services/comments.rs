//! Reader comments: public submission with moderation rules and abuse
//! limits, threads, the public list, and moderation for editors and admins.
//! A commenter's email, address and user agent never leave staff responses.

use std::collections::HashMap;

use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, Iterable,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, Query},
};

use crate::{
    auth::{Actor, RequestContext, Role, policy},
    config::Moderation,
    domain::{
        comment as text,
        pagination::{Connection, Cursor, Page, PageRequest, first_window},
        text as plain,
        validate::{is_http_url, valid_email},
    },
    entities::{article, comment, user, webhook},
    error::{AppError, FieldError},
    services::{articles, new_id, now},
    state::AppState,
};

/// Comment `status` values.
pub const PENDING: &str = "pending";
pub const APPROVED: &str = "approved";
pub const SPAM: &str = "spam";
pub const TRASH: &str = "trash";
pub const STATUSES: [&str; 4] = [PENDING, APPROVED, SPAM, TRASH];

/// Longest comment body, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;
/// An identical comment within this window is a duplicate.
const DUPLICATE_WINDOW_MINUTES: i64 = 10;

/// A comment as submitted.
#[derive(Debug, Clone, Default)]
pub struct NewComment {
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    pub author_url: Option<String>,
    pub body: Option<String>,
    pub parent_id: Option<String>,
    /// The commenter token of an earlier submission: with it, a commenter
    /// whose earlier comment was approved skips first-time moderation.
    pub commenter_token: Option<String>,
}

/// What a submission answers: the comment, and (for readers) the commenter
/// token to send with their next comments.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub view: CommentView,
    pub commenter_token: Option<String>,
}

/// A comment with its rendered body.
#[derive(Debug, Clone)]
pub struct CommentView {
    pub comment: comment::Model,
    pub body_html: String,
}

impl From<comment::Model> for CommentView {
    fn from(c: comment::Model) -> Self {
        CommentView {
            body_html: text::render(&c.body),
            comment: c,
        }
    }
}

/// A visible article by id or slug, or 404.
async fn visible_article(
    db: &impl ConnectionTrait,
    id_or_slug: &str,
) -> Result<article::Model, AppError> {
    // Found by primary key or unique slug, then checked here: a visibility
    // filter in the same query would lead SQLite to the status index instead.
    articles::find_by_id_or_slug(db, id_or_slug)
        .await?
        .filter(|a| articles::is_public_at(a, now()))
        .ok_or(AppError::NotFound {
            resource: "article",
        })
}

/// What a comment submission reads before the write lock: its article's
/// few columns it checks, and whether any webhook endpoint is active. Nothing
/// about the commenter's address: no answer may depend on whether it is known.
#[derive(sea_orm::FromQueryResult)]
struct SubmissionGate {
    id: String,
    status: String,
    published_at: Option<chrono::DateTime<chrono::Utc>>,
    comment_status: String,
    any_hook: bool,
}

/// The visible article `id_or_slug` (or 404) and whether any webhook
/// endpoint is active, in one statement.
async fn submission_gate(
    db: &impl ConnectionTrait,
    id_or_slug: &str,
) -> Result<SubmissionGate, AppError> {
    use sea_orm::ExprTrait as _;
    let any_hook = Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(webhook::Entity)
            .and_where(Expr::col(webhook::Column::Active).eq(true))
            .to_owned(),
    );
    // Found by primary key or unique slug, then checked here (as in
    // `visible_article`).
    article::Entity::find()
        .select_only()
        .columns([
            article::Column::Id,
            article::Column::Status,
            article::Column::PublishedAt,
            article::Column::CommentStatus,
        ])
        .column_as(any_hook, "any_hook")
        .filter(articles::is_id_or_slug(id_or_slug))
        .into_model::<SubmissionGate>()
        .one(db)
        .await?
        .filter(|a| articles::public_at(&a.status, a.published_at, now()))
        .ok_or(AppError::NotFound {
            resource: "article",
        })
}

/// What is wrong with a comment's fields (trimmed), as the API and the
/// WordPress importer both judge them: name 1–100 characters, a valid email,
/// an absolute http(s) URL when there is one, a body of 1 to
/// [`MAX_BODY_CHARS`] characters.
pub fn field_errors(name: &str, email: &str, url: Option<&str>, body: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if plain::is_blank(name) {
        errors.push(FieldError::new("author_name", "is required"));
    } else if name.chars().count() > 100 {
        errors.push(FieldError::new(
            "author_name",
            "must be at most 100 characters",
        ));
    } else if let Some(problem) = plain::single_line_problem(name) {
        errors.push(FieldError::new("author_name", problem));
    }
    if email.is_empty() {
        errors.push(FieldError::new("author_email", "is required"));
    } else if !valid_email(email) {
        errors.push(FieldError::new("author_email", "must be an email address"));
    }
    if let Some(u) = url
        && !is_http_url(u)
    {
        errors.push(FieldError::new(
            "author_url",
            "must be an absolute http(s) URL",
        ));
    }
    if let Err(problem) = check_body(body) {
        errors.push(FieldError::new("body", problem));
    }
    errors
}

/// A comment at `depth` (0 for top level) is refused once it reaches
/// `max_depth` (`BROADSHEET_COMMENT_MAX_DEPTH`), by the API and the importer.
pub fn depth_error(depth: i32, max_depth: u32) -> Option<FieldError> {
    (depth >= max_depth as i32).then(|| {
        FieldError::new(
            "parent_id",
            format!("threads are at most {max_depth} levels deep"),
        )
    })
}

/// Submit a comment. Signed-in staff comment as themselves, approved at once
/// and without the per-address limit; everyone else goes through the rules.
pub async fn submit(
    state: &AppState,
    ctx: &RequestContext,
    article_ref: &str,
    input: NewComment,
) -> Result<Submitted, AppError> {
    let cfg = &state.config;
    let staff = match &ctx.actor {
        Actor::User { id, .. } => Some(
            user::Entity::find_by_id(id.clone())
                .one(&state.db)
                .await?
                .ok_or(AppError::Unauthenticated {
                    invalid_token: true,
                })?,
        ),
        Actor::Anonymous => None,
    };
    if staff.is_none() {
        state
            .limits
            .comments
            .hit(&format!(
                "ip:{}",
                crate::auth::throttle::address_key(ctx.client_ip)
            ))
            .map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;
    }
    // Who is writing: staff as themselves, readers as they say.
    let (name, email) = match &staff {
        Some(u) => (Some(u.display_name.clone()), Some(u.email.clone())),
        None => (input.author_name.clone(), input.author_email.clone()),
    };
    let name = name.map(|n| n.trim().to_string()).unwrap_or_default();
    let email = email.map(|e| e.trim().to_string()).unwrap_or_default();
    // Read before the write lock, which every comment waits for: the
    // article and whether any endpoint is to be told.
    let gate = submission_gate(&state.db, article_ref).await?;
    let article = &gate;
    let closed_by_age = cfg.comments_close_after_days > 0
        && article
            .published_at
            .is_some_and(|p| now() - p > Duration::days(cfg.comments_close_after_days as i64));
    if article.comment_status == "closed" || closed_by_age {
        return Err(AppError::Forbidden(
            "comments are closed on this article".into(),
        ));
    }

    let url = input
        .author_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string);
    let body = input
        .body
        .as_deref()
        .map(str::trim)
        .unwrap_or("")
        .to_string();
    let mut errors = field_errors(&name, &email, url.as_deref(), &body);
    // The endpoints to tell, as of this moment (read only when there are).
    let hooks = if gate.any_hook {
        super::webhooks::active_hooks(&state.db).await?
    } else {
        Vec::new()
    };
    let parent_id = input.parent_id.clone().filter(|p| !p.is_empty());
    // With no parent to check and no endpoint to tell, the comment is one
    // atomic statement; otherwise it is written in a transaction.
    let announce = super::webhooks::subscribed(&hooks, super::webhooks::COMMENT_CREATED)
        || super::webhooks::subscribed(&hooks, super::webhooks::COMMENT_APPROVED);
    let txn = if parent_id.is_some() || announce {
        Some(crate::services::write_txn(state).await?)
    } else {
        None
    };
    let mut depth = 0;
    if let (Some(pid), Some(txn)) = (&parent_id, &txn) {
        match comment::Entity::find_by_id(pid.clone()).one(txn).await? {
            Some(p) if p.article_id == article.id && p.status == APPROVED => {
                depth = p.depth + 1;
                errors.extend(depth_error(depth, cfg.comment_max_depth));
            }
            _ => errors.push(FieldError::new(
                "parent_id",
                "must be an approved comment on the same article",
            )),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    // A known commenter is one who proves it: the token of their own
    // earlier comment, since approved, from this same address. Only a valid
    // token for this address leads to a read, so nothing else about the
    // address (known or not) changes the answer or its timing.
    let email_digest = digest_email(&email);
    let proven = match (&staff, input.commenter_token.as_deref()) {
        (None, Some(token)) => proven_commenter(state, token, &email_digest).await?,
        _ => false,
    };
    let at = now();
    let status = if staff.is_some() {
        APPROVED
    } else if text::link_count(&body) > cfg.comment_max_links as usize
        || blocklisted(
            &cfg.comment_blocklist,
            &[&name, &email, &body, url.as_deref().unwrap_or("")],
        )
    {
        PENDING
    } else {
        match cfg.comment_moderation {
            Moderation::None => APPROVED,
            Moderation::All => PENDING,
            Moderation::FirstTime if proven => APPROVED,
            Moderation::FirstTime => PENDING,
        }
    };
    let saved = comment::Model {
        id: new_id(),
        article_id: article.id.clone(),
        parent_id,
        depth,
        author_name: name,
        author_email: email,
        author_url: url,
        user_id: staff.map(|u| u.id),
        body,
        status: status.to_string(),
        ip: Some(ctx.client_ip.to_string()),
        user_agent: ctx.user_agent.clone(),
        created_at: at,
        updated_at: at,
    };
    let insert = insert_unless_duplicate(state.db.get_database_backend(), &saved)?;
    let inserted = match &txn {
        Some(txn) => txn.execute_raw(insert).await?,
        None => crate::services::write_one(state, insert).await?,
    }
    .rows_affected();
    if inserted == 0 {
        return Err(AppError::Conflict("you already posted this comment".into()));
    }
    if let Some(txn) = txn {
        super::webhooks::comment_created(&txn, &hooks, &saved).await?;
        txn.commit().await?;
        state.webhook_wake.notify_one();
    }
    // The token to keep: the one that proved them (while this comment
    // waits), else one naming this comment (valid once it is approved).
    let commenter_token = match (&saved.user_id, proven && saved.status != APPROVED) {
        (Some(_), _) => None,
        (None, true) => input.commenter_token.clone(),
        (None, false) => Some(state.keys.issue_commenter(
            &saved.id,
            &email_digest,
            i64::from(cfg.commenter_token_days) * 86_400,
        )?),
    };
    Ok(Submitted {
        view: saved.into(),
        commenter_token,
    })
}

/// Why a comment body is refused, if it is: empty once invisible characters
/// (zero-width spaces, joiners, BOM, bidi marks, whitespace) are set aside,
/// too long, or holding a character XML forbids.
fn check_body(body: &str) -> Result<(), String> {
    if plain::is_blank(body) {
        Err("is required (and must hold something visible)".into())
    } else if body.chars().count() > MAX_BODY_CHARS {
        Err(format!("must be at most {MAX_BODY_CHARS} characters"))
    } else if let Some(problem) = plain::multi_line_problem(body) {
        Err(problem.into())
    } else {
        Ok(())
    }
}

/// SHA-256 (hex) of an address, trimmed and lower-cased.
fn digest_email(email: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(email.trim().to_lowercase().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `token` proves its holder wrote an approved comment from the
/// address whose digest is `email_digest`.
async fn proven_commenter(
    state: &AppState,
    token: &str,
    email_digest: &str,
) -> Result<bool, AppError> {
    let Some(claims) = state.keys.verify_commenter(token) else {
        return Ok(false);
    };
    if claims.em != email_digest {
        return Ok(false);
    }
    let earlier = comment::Entity::find_by_id(claims.sub)
        .one(&state.db)
        .await?;
    Ok(earlier
        .is_some_and(|c| c.status == APPROVED && digest_email(&c.author_email) == email_digest))
}

/// The insert of `c`, unless the same address posted the same text to the
/// same article within the duplicate window: one statement, which affects
/// no row for a duplicate.
fn insert_unless_duplicate(
    backend: sea_orm::DatabaseBackend,
    c: &comment::Model,
) -> Result<sea_orm::Statement, AppError> {
    use sea_orm::ExprTrait as _;
    let duplicate = Query::select()
        .expr(Expr::val(1))
        .from(comment::Entity)
        .and_where(Expr::col(comment::Column::ArticleId).eq(c.article_id.clone()))
        // By the article's comments, never by all of an address's comments:
        // SQLite without statistics, and PostgreSQL with statistics older
        // than a prolific address, pick the address index and read every
        // comment it ever wrote (PostgreSQL: 23 ms at 20,000). An expression
        // on the column (`+` / `|| ''`) keeps them off it.
        .and_where(match backend {
            sea_orm::DatabaseBackend::Sqlite => {
                Expr::cust_with_values("+\"author_email\" = ?", [c.author_email.clone()])
            }
            _ => Expr::cust_with_values("\"author_email\" || '' = $1", [c.author_email.clone()]),
        })
        .and_where(Expr::col(comment::Column::Body).eq(c.body.clone()))
        // From the same client address: the answer to a repeat tells its
        // sender only about their own comments, never whether someone else
        // (or an address) posted this text.
        .and_where(Expr::col(comment::Column::Ip).eq(c.ip.clone()))
        .and_where(
            Expr::col(comment::Column::CreatedAt)
                .gt(c.created_at - Duration::minutes(DUPLICATE_WINDOW_MINUTES)),
        )
        .to_owned();
    let row = comment::ActiveModel::from(c.clone());
    let columns: Vec<comment::Column> = comment::Column::iter().collect();
    let mut values = Query::select();
    for col in &columns {
        values.expr(Expr::val(
            row.get(*col)
                .into_value()
                .unwrap_or(sea_orm::Value::String(None)),
        ));
    }
    values.and_where(Expr::exists(duplicate).not());
    let mut insert = Query::insert();
    insert
        .into_table(comment::Entity)
        .columns(columns)
        .select_from(values)
        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
    Ok(backend.build(&insert))
}

fn blocklisted(words: &[String], fields: &[&str]) -> bool {
    words
        .iter()
        .any(|w| fields.iter().any(|f| f.to_lowercase().contains(w.as_str())))
}

/// Approved comments of a visible article, oldest first, flat with `parent_id` and `depth`.
pub async fn list_public(
    state: &AppState,
    article_ref: &str,
    page: PageRequest,
) -> Result<Page<CommentView>, AppError> {
    let article = visible_article(&state.db, article_ref).await?;
    let q = comment::Entity::find()
        .filter(comment::Column::ArticleId.eq(article.id))
        .filter(comment::Column::Status.eq(APPROVED));
    let total = q.clone().count(&state.db).await?;
    let rows = if page.offset() >= total {
        Vec::new()
    } else {
        q.order_by_asc(comment::Column::CreatedAt)
            .order_by_asc(comment::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&state.db)
            .await?
    };
    Ok(Page {
        items: rows.into_iter().map(CommentView::from).collect(),
        page: page.page,
        per_page: page.per_page,
        total,
    })
}

/// Approved comments of one article as a keyset connection, oldest first
/// (GraphQL `Article.comments`). `top_level` keeps only depth-0 comments.
pub async fn connection_for_article(
    state: &AppState,
    article_id: &str,
    first: Option<i32>,
    after: Option<String>,
    top_level: bool,
) -> Result<Connection<CommentView>, AppError> {
    let limit = first_window(first, 50)?;
    let after = after
        .as_deref()
        .map(|c| Cursor::decode("after", "created_at", c))
        .transpose()?;
    let mut q = comment::Entity::find()
        .filter(comment::Column::ArticleId.eq(article_id))
        .filter(comment::Column::Status.eq(APPROVED));
    if top_level {
        q = q.filter(comment::Column::Depth.eq(0));
    }
    let total_count = q.clone().count(&state.db).await?;
    if let Some(c) = &after {
        let at = c.time("after")?;
        q = q.filter(
            Condition::any().add(comment::Column::CreatedAt.gt(at)).add(
                Condition::all()
                    .add(comment::Column::CreatedAt.eq(at))
                    .add(comment::Column::Id.gt(c.id.clone())),
            ),
        );
    }
    let mut rows = if limit == 0 {
        Vec::new()
    } else {
        q.order_by_asc(comment::Column::CreatedAt)
            .order_by_asc(comment::Column::Id)
            .limit(limit + 1)
            .all(&state.db)
            .await?
    };
    let has_next_page = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    Ok(Connection {
        edges: rows
            .into_iter()
            .map(|c| {
                (
                    Cursor::at("created_at", c.created_at, &c.id),
                    CommentView::from(c),
                )
            })
            .collect(),
        has_next_page,
        has_previous_page: after.is_some(),
        total_count,
    })
}

/// Approved replies of many comments at once (GraphQL `Comment.replies`).
pub async fn approved_replies(
    db: &impl ConnectionTrait,
    parent_ids: &[String],
    per_parent: u64,
) -> Result<HashMap<String, Vec<CommentView>>, AppError> {
    use sea_orm::sea_query::Alias;
    // Without statistics SQLite would rather walk the whole (status,
    // created_at) index in order than look the parents up (70 ms instead of
    // 0.2 ms on 100,000 comments); `+status` takes that index out of the race.
    let approved = if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        sea_orm::ExprTrait::eq(
            sea_orm::sea_query::Expr::cust("+\"comments\".\"status\""),
            APPROVED,
        )
    } else {
        sea_orm::ExprTrait::eq(
            sea_orm::sea_query::Expr::col((comment::Entity, comment::Column::Status)),
            APPROVED,
        )
    };
    // Only the first `per_parent` replies of each parent are read (and
    // rendered), however many a thread has gathered.
    let ranked = Query::select()
        .column(comment::Column::Id)
        .expr_as(
            Expr::cust(
                "ROW_NUMBER() OVER (PARTITION BY \"parent_id\" ORDER BY \"created_at\", \"id\")",
            ),
            Alias::new("rn"),
        )
        .from(comment::Entity)
        .and_where(comment::Column::ParentId.is_in(parent_ids.to_vec()))
        .and_where(approved)
        .to_owned();
    let first = Query::select()
        .column(Alias::new("id"))
        .from_subquery(ranked, Alias::new("ranked"))
        .and_where(sea_orm::ExprTrait::lte(
            Expr::col(Alias::new("rn")),
            per_parent,
        ))
        .to_owned();
    let rows = comment::Entity::find()
        .filter(comment::Column::Id.in_subquery(first))
        .order_by_asc(comment::Column::CreatedAt)
        .order_by_asc(comment::Column::Id)
        .all(db)
        .await?;
    let mut out: HashMap<String, Vec<CommentView>> = HashMap::new();
    for c in rows {
        if let Some(p) = c.parent_id.clone() {
            out.entry(p).or_default().push(c.into());
        }
    }
    Ok(out)
}

pub async fn approved_by_ids(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<HashMap<String, CommentView>, AppError> {
    Ok(comment::Entity::find()
        .filter(comment::Column::Id.is_in(ids.to_vec()))
        .filter(comment::Column::Status.eq(APPROVED))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c.into()))
        .collect())
}

// ---------------------------------------------------------------- moderation

/// Who may read a commenter's private details (email, moderation status,
/// the body as written): admins and editors, as the REST moderation queue.
/// Everyone else, signed in or not, is refused.
pub fn may_see_private(actor: &Actor) -> Result<(), AppError> {
    match actor {
        Actor::User {
            role: Role::Admin | Role::Editor,
            ..
        } => Ok(()),
        _ => Err(AppError::Forbidden(
            "only admins and editors see a commenter's email, status and body as written".into(),
        )),
    }
}

fn require_moderator(actor: &Actor) -> Result<(), AppError> {
    match policy::require_staff(actor)? {
        (_, Role::Admin | Role::Editor) => Ok(()),
        _ => Err(AppError::Forbidden(
            "only admins and editors moderate comments".into(),
        )),
    }
}

fn parse_status(field: &str, s: &str) -> Result<&'static str, AppError> {
    STATUSES
        .into_iter()
        .find(|x| *x == s)
        .ok_or_else(|| AppError::validation(field, "must be pending, approved, spam or trash"))
}

/// What the moderation queue shows.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// Default `pending`; `any` for all.
    pub status: Option<String>,
    /// Article id or slug.
    pub article: Option<String>,
}

/// The moderation queue, newest first (editors and admins).
pub async fn queue(
    state: &AppState,
    actor: &Actor,
    filter: QueueFilter,
    page: crate::domain::pagination::Window,
) -> Result<Page<CommentView>, AppError> {
    require_moderator(actor)?;
    let mut q = comment::Entity::find();
    match filter.status.as_deref().unwrap_or(PENDING) {
        "any" => {}
        s => q = q.filter(comment::Column::Status.eq(parse_status("status", s)?)),
    }
    if let Some(a) = filter.article.as_deref().filter(|a| !a.is_empty()) {
        let found = article::Entity::find()
            .filter(
                Condition::any()
                    .add(article::Column::Id.eq(a))
                    .add(article::Column::Slug.eq(a)),
            )
            .one(&state.db)
            .await?;
        q = q.filter(comment::Column::ArticleId.eq(found.map(|f| f.id).unwrap_or_default()));
    }
    let total = q.clone().count(&state.db).await?;
    let rows = if page.offset >= total || page.limit == 0 {
        Vec::new()
    } else {
        q.order_by_desc(comment::Column::CreatedAt)
            .order_by_desc(comment::Column::Id)
            .offset(page.offset)
            .limit(page.limit)
            .all(&state.db)
            .await?
    };
    Ok(Page {
        items: rows.into_iter().map(CommentView::from).collect(),
        page: page.offset / page.limit.max(1) + 1,
        per_page: page.limit,
        total,
    })
}

/// Comments per status (editors and admins).
pub async fn counts(state: &AppState, actor: &Actor) -> Result<HashMap<String, u64>, AppError> {
    require_moderator(actor)?;
    let rows: Vec<(String, i64)> = comment::Entity::find()
        .select_only()
        .column(comment::Column::Status)
        .column_as(comment::Column::Id.count(), "n")
        .group_by(comment::Column::Status)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut out: HashMap<String, u64> = STATUSES.iter().map(|s| (s.to_string(), 0)).collect();
    for (s, n) in rows {
        out.insert(s, u64::try_from(n).unwrap_or(0));
    }
    Ok(out)
}

/// Change status and/or body of one comment (editors and admins).
pub async fn moderate(
    state: &AppState,
    actor: &Actor,
    id: &str,
    status: Option<&str>,
    body: Option<&str>,
) -> Result<CommentView, AppError> {
    require_moderator(actor)?;
    let status = status.map(|s| parse_status("status", s)).transpose()?;
    if let Some(b) = body
        && let Err(problem) = check_body(b.trim())
    {
        return Err(AppError::validation("body", problem));
    }
    let txn = crate::services::write_txn(state).await?;
    let current = comment::Entity::find_by_id(id.to_string())
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound {
            resource: "comment",
        })?;
    let was_approved = current.status == APPROVED;
    let mut m: comment::ActiveModel = current.into();
    if let Some(s) = status {
        m.status = Set(s.to_string());
    }
    if let Some(b) = body {
        m.body = Set(b.trim().to_string());
    }
    m.updated_at = Set(now());
    let saved = m.update(&txn).await?;
    if !was_approved && saved.status == APPROVED {
        super::webhooks::comment_approved(&txn, &saved).await?;
    }
    txn.commit().await?;
    state.webhook_wake.notify_one();
    Ok(saved.into())
}

/// Set the status of many comments at once; returns how many changed.
pub async fn moderate_many(
    state: &AppState,
    actor: &Actor,
    ids: &[String],
    status: &str,
) -> Result<u64, AppError> {
    require_moderator(actor)?;
    let status = parse_status("status", status)?;
    if ids.is_empty() || ids.len() > 500 {
        return Err(AppError::validation(
            "ids",
            "must list 1 to 500 comment ids",
        ));
    }
    let txn = crate::services::write_txn(state).await?;
    // Comments this approval newly approves get `comment.approved`.
    let newly_approved = if status == APPROVED {
        comment::Entity::find()
            .filter(comment::Column::Id.is_in(ids.to_vec()))
            .filter(comment::Column::Status.ne(APPROVED))
            .all(&txn)
            .await?
    } else {
        Vec::new()
    };
    let at = now();
    let res = comment::Entity::update_many()
        .col_expr(
            comment::Column::Status,
            sea_orm::sea_query::Expr::value(status),
        )
        .col_expr(
            comment::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(at),
        )
        .filter(comment::Column::Id.is_in(ids.to_vec()))
        .exec(&txn)
        .await?;
    for mut c in newly_approved {
        c.status = APPROVED.to_string();
        c.updated_at = at;
        super::webhooks::comment_approved(&txn, &c).await?;
    }
    txn.commit().await?;
    state.webhook_wake.notify_one();
    Ok(res.rows_affected)
}

/// Delete a comment and its replies (editors and admins).
pub async fn delete(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    require_moderator(actor)?;
    let res = comment::Entity::delete_by_id(id.to_string())
        .exec(&state.db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound {
            resource: "comment",
        });
    }
    state.response_cache.written();
    Ok(())
}

/// Pending comments (for the moderation-backlog metric).
pub async fn pending_count(db: &impl ConnectionTrait) -> Result<u64, AppError> {
    Ok(comment::Entity::find()
        .filter(comment::Column::Status.eq(PENDING))
        .count(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocklisted_words_match_any_field_ignoring_case() {
        let words = vec!["casino".to_string()];
        assert!(blocklisted(&words, &["Best CASINO deals", ""]));
        assert!(!blocklisted(
            &words,
            &["A thoughtful reply", "reader@example.org"]
        ));
    }
}
