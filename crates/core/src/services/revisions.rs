//! Article revisions: every update first stores the content it replaces
//! (title, standfirst, excerpt, body and format, byline, source fields), with
//! who and when; staff list them, read one, diff two and restore one. The
//! last `BROADSHEET_REVISIONS_KEEP` per article are kept.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::{
    auth::{Actor, Role, policy},
    entities::{article, article_revision},
    error::AppError,
    services::{
        articles::{self, ArticleFields, ArticleView, Expected},
        new_id, now,
    },
    state::AppState,
};

/// Store `current` (the content about to be replaced) as a revision, in the
/// updating transaction, and drop the oldest beyond `keep`.
pub(crate) async fn record(
    txn: &impl ConnectionTrait,
    current: &article::Model,
    bylines: &[String],
    by: Option<&str>,
    keep: u32,
) -> Result<(), AppError> {
    article_revision::Entity::insert(article_revision::ActiveModel {
        id: Set(new_id()),
        article_id: Set(current.id.clone()),
        version: Set(current.version),
        title: Set(current.title.clone()),
        standfirst: Set(current.standfirst.clone()),
        excerpt: Set(current.excerpt.clone()),
        body: Set(current.body.clone()),
        body_format: Set(current.body_format.clone()),
        author_ids: Set(serde_json::to_string(bylines).map_err(AppError::internal)?),
        source_id: Set(current.source_id.clone()),
        original_url: Set(current.original_url.clone()),
        original_published_at: Set(current.original_published_at),
        created_by: Set(by.map(str::to_string)),
        created_at: Set(now()),
    })
    .exec_without_returning(txn)
    .await?;
    // Ids are UUIDv7: newest sort last.
    let ids: Vec<String> = article_revision::Entity::find()
        .select_only()
        .column(article_revision::Column::Id)
        .filter(article_revision::Column::ArticleId.eq(current.id.clone()))
        .order_by_desc(article_revision::Column::Id)
        .into_tuple()
        .all(txn)
        .await?;
    let stale: Vec<String> = ids.into_iter().skip(keep as usize).collect();
    if !stale.is_empty() {
        article_revision::Entity::delete_many()
            .filter(article_revision::Column::Id.is_in(stale))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// The article `actor` may edit, or 401/404 (never revealing a draft).
async fn editable(state: &AppState, actor: &Actor, id: &str) -> Result<article::Model, AppError> {
    let (_, role) = policy::require_staff(actor)?;
    let a = articles::find_by_id_or_slug(&state.db, id)
        .await?
        .ok_or(AppError::NotFound {
            resource: "article",
        })?;
    if !matches!(role, Role::Admin | Role::Editor)
        && !articles::may_see_unpublished(actor, &articles::byline_ids(&state.db, &a.id).await?)
    {
        return Err(AppError::NotFound {
            resource: "article",
        });
    }
    Ok(a)
}

/// An article's revisions, newest first: all that are kept, or the newest `limit`.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    article_id: &str,
    limit: Option<u64>,
) -> Result<Vec<article_revision::Model>, AppError> {
    let a = editable(state, actor, article_id).await?;
    Ok(article_revision::Entity::find()
        .filter(article_revision::Column::ArticleId.eq(a.id))
        .order_by_desc(article_revision::Column::Id)
        .limit(limit)
        .all(&state.db)
        .await?)
}

/// One revision of an article.
pub async fn get(
    state: &AppState,
    actor: &Actor,
    article_id: &str,
    revision_id: &str,
) -> Result<article_revision::Model, AppError> {
    let a = editable(state, actor, article_id).await?;
    find(state, &a.id, revision_id).await
}

async fn find(
    state: &AppState,
    article_id: &str,
    revision_id: &str,
) -> Result<article_revision::Model, AppError> {
    article_revision::Entity::find_by_id(revision_id.to_string())
        .filter(article_revision::Column::ArticleId.eq(article_id))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound {
            resource: "revision",
        })
}

/// A unified diff of the body from revision `from` to revision `to` (or the
/// current body when `to` is `None`), with the title change in the header.
pub async fn diff(
    state: &AppState,
    actor: &Actor,
    article_id: &str,
    from: &str,
    to: Option<&str>,
) -> Result<String, AppError> {
    let a = editable(state, actor, article_id).await?;
    let old = find(state, &a.id, from).await?;
    let (new_label, new_body) = match to {
        Some(to) => {
            let r = find(state, &a.id, to).await?;
            (format!("revision {} (version {})", r.id, r.version), r.body)
        }
        None => (format!("current (version {})", a.version), a.body.clone()),
    };
    let old_label = format!("revision {} (version {})", old.id, old.version);
    Ok(bounded_diff(
        &old.body,
        &new_body,
        &old_label,
        &new_label,
        state.config.revision_diff_max_lines as usize,
    ))
}

/// How a diff is made: the lines both texts begin and end with are set
/// aside (linear), and the region between is compared line by line only
/// when it holds at most `max_lines` lines (old plus new): the comparison's
/// work grows with up to the square of that. A larger region is shown as
/// one replacement, said in the `+++` header.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    LineByLine,
    Replace { prefix: usize, suffix: usize },
}

fn plan(old: &[&str], new: &[&str], max_lines: usize) -> Plan {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let changed = (old.len() - prefix - suffix) + (new.len() - prefix - suffix);
    if changed <= max_lines {
        Plan::LineByLine
    } else {
        Plan::Replace { prefix, suffix }
    }
}

/// A unified diff of `old` to `new` with 3 lines of context, bounded by
/// `max_lines` (see [`Plan`]).
fn bounded_diff(
    old: &str,
    new: &str,
    old_label: &str,
    new_label: &str,
    max_lines: usize,
) -> String {
    let mut old_text = old.to_string();
    let mut new_text = new.to_string();
    for t in [&mut old_text, &mut new_text] {
        if !t.ends_with('\n') {
            t.push('\n');
        }
    }
    let old_lines: Vec<&str> = old_text.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new_text.split_inclusive('\n').collect();
    let (prefix, suffix) = match plan(&old_lines, &new_lines, max_lines) {
        Plan::LineByLine => {
            return similar::TextDiff::from_lines(&old_text, &new_text)
                .unified_diff()
                .context_radius(3)
                .header(old_label, new_label)
                .to_string();
        }
        Plan::Replace { prefix, suffix } => (prefix, suffix),
    };
    const CONTEXT: usize = 3;
    let before = prefix.saturating_sub(CONTEXT);
    let after_old = (old_lines.len() - suffix + CONTEXT).min(old_lines.len());
    let after_new = (new_lines.len() - suffix + CONTEXT).min(new_lines.len());
    let range = |start: usize, end: usize| {
        let len = end - start;
        // Unified diff: 1-based start; an empty range names the line before.
        let first = if len == 0 { start } else { start + 1 };
        format!("{first},{len}")
    };
    let mut out = format!(
        "--- {old_label}\n+++ {new_label} (the changed region is over {max_lines} lines: shown as one replacement)\n@@ -{} +{} @@\n",
        range(before, after_old),
        range(before, after_new)
    );
    for line in &old_lines[before..prefix] {
        out.push(' ');
        out.push_str(line);
    }
    for line in &old_lines[prefix..old_lines.len() - suffix] {
        out.push('-');
        out.push_str(line);
    }
    for line in &new_lines[prefix..new_lines.len() - suffix] {
        out.push('+');
        out.push_str(line);
    }
    for line in &old_lines[old_lines.len() - suffix..after_old] {
        out.push(' ');
        out.push_str(line);
    }
    out
}

/// Put a revision's content back. This is an update like any other, so the
/// content it replaces becomes a new revision.
pub async fn restore(
    state: &AppState,
    actor: &Actor,
    article_id: &str,
    revision_id: &str,
) -> Result<ArticleView, AppError> {
    let a = editable(state, actor, article_id).await?;
    let r = find(state, &a.id, revision_id).await?;
    let author_ids: Vec<String> =
        serde_json::from_str(&r.author_ids).map_err(AppError::internal)?;
    let fields = ArticleFields {
        title: Some(r.title),
        standfirst: Some(r.standfirst),
        excerpt: Some(r.excerpt),
        body: Some(r.body),
        body_format: Some(r.body_format),
        author_ids: Some(author_ids),
        source_id: Some(r.source_id),
        original_url: Some(r.original_url),
        original_published_at: Some(r.original_published_at),
        ..Default::default()
    };
    articles::update(state, actor, &a.id, fields, Expected::Any).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_changed_region_within_the_bound_is_compared_line_by_line() {
        let lines: Vec<String> = (0..20_000).map(|i| format!("line {i}\n")).collect();
        let old: Vec<&str> = lines.iter().map(String::as_str).collect();
        let mut new = old.clone();
        new.reverse();
        // 40,000 changed lines: over the bound, one replacement.
        assert_eq!(
            plan(&old, &new, 5_000),
            Plan::Replace {
                prefix: 0,
                suffix: 0
            }
        );
        // One line changed in the middle of 20,000: two changed lines.
        let mut edited = old.clone();
        edited[10_000] = "changed\n";
        assert_eq!(plan(&old, &edited, 5_000), Plan::LineByLine);
        // The bound is on the region, not on the length of the bodies.
        assert_eq!(plan(&old, &old, 100), Plan::LineByLine);
    }

    #[test]
    fn a_replacement_is_a_valid_unified_diff_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nX\nY\nZ\ng\nh\n";
        let d = bounded_diff(old, new, "old", "new", 0);
        assert_eq!(
            d,
            "--- old\n+++ new (the changed region is over 0 lines: shown as one replacement)\n@@ -2,7 +2,8 @@\n b\n c\n d\n-e\n-f\n+X\n+Y\n+Z\n g\n h\n"
        );
        // Within the bound, the usual line-by-line diff.
        assert!(bounded_diff(old, new, "old", "new", 100).contains("-e\n-f\n+X\n+Y\n+Z\n"));
    }
}
