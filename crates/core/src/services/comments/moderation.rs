//! Moderation for editors and admins: the queue, counts, status changes.

use super::*;

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

pub(super) fn require_moderator(actor: &Actor) -> Result<(), AppError> {
    match policy::require_staff(actor)? {
        (_, Role::Admin | Role::Editor) => Ok(()),
        _ => Err(AppError::Forbidden(
            "only admins and editors moderate comments".into(),
        )),
    }
}

pub(super) fn parse_status(field: &str, s: &str) -> Result<&'static str, AppError> {
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
        crate::services::webhooks::comment_approved(&txn, &saved).await?;
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
        crate::services::webhooks::comment_approved(&txn, &c).await?;
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
