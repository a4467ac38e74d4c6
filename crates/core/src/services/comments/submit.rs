//! Submitting a comment: who may, what is held for moderation, abuse limits.

use super::*;

/// A visible article by id or slug, or 404.
pub(super) async fn visible_article(
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
pub(super) struct SubmissionGate {
    id: String,
    status: String,
    published_at: Option<chrono::DateTime<chrono::Utc>>,
    comment_status: String,
    any_hook: bool,
}

/// The visible article `id_or_slug` (or 404) and whether any webhook
/// endpoint is active, in one statement.
pub(super) async fn submission_gate(
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
        crate::services::webhooks::active_hooks(&state.db).await?
    } else {
        Vec::new()
    };
    let parent_id = input.parent_id.clone().filter(|p| !p.is_empty());
    // With no parent to check and no endpoint to tell, the comment is one
    // atomic statement; otherwise it is written in a transaction.
    let announce =
        crate::services::webhooks::subscribed(&hooks, crate::services::webhooks::COMMENT_CREATED)
            || crate::services::webhooks::subscribed(
                &hooks,
                crate::services::webhooks::COMMENT_APPROVED,
            );
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
        crate::services::webhooks::comment_created(&txn, &hooks, &saved).await?;
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
pub(super) fn check_body(body: &str) -> Result<(), String> {
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
pub(super) fn digest_email(email: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(email.trim().to_lowercase().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `token` proves its holder wrote an approved comment from the
/// address whose digest is `email_digest`.
pub(super) async fn proven_commenter(
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
pub(super) fn insert_unless_duplicate(
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

pub(super) fn blocklisted(words: &[String], fields: &[&str]) -> bool {
    words
        .iter()
        .any(|w| fields.iter().any(|f| f.to_lowercase().contains(w.as_str())))
}
