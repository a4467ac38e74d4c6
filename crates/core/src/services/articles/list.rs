//! Listing articles: filters, sorts, page numbers and keyset cursors.

use sea_orm::{
    ColumnTrait, Condition, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
    sea_query::{Expr, Func, Order, Query},
};

use crate::{
    auth::{Actor, Role, policy},
    domain::pagination::{Connection, ConnectionArgs, Cursor, Page, PageRequest},
    entities::{article, article_tag, author, source, tag},
    error::AppError,
    services::{now, resolve},
    state::AppState,
};

use super::*;

/// Longest search query accepted.
pub const MAX_QUERY_CHARS: usize = 256;

/// Which articles a list shows (API.md `GET /articles` query).
#[derive(Debug, Clone, Default)]
pub struct ArticleFilter {
    /// Author slug or id.
    pub author: Option<String>,
    /// Source slug or id.
    pub source: Option<String>,
    /// Tag slug or id.
    pub tag: Option<String>,
    /// Full-text search: words that must all match (accents, case and English
    /// word endings ignored), `prefix*` and `"exact phrases"`.
    pub query: Option<String>,
    /// Staff only: draft, published, scheduled, archived or any.
    pub status: Option<String>,
}

/// List orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArticleSort {
    #[default]
    PublishedDesc,
    PublishedAsc,
    TitleAsc,
    UpdatedDesc,
}

impl ArticleSort {
    /// REST `sort` values.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "-published_at" => Some(ArticleSort::PublishedDesc),
            "published_at" => Some(ArticleSort::PublishedAsc),
            "title" => Some(ArticleSort::TitleAsc),
            "-updated_at" => Some(ArticleSort::UpdatedDesc),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ArticleSort::PublishedDesc => "-published_at",
            ArticleSort::PublishedAsc => "published_at",
            ArticleSort::TitleAsc => "title",
            ArticleSort::UpdatedDesc => "-updated_at",
        }
    }

    fn descending(self) -> bool {
        matches!(self, ArticleSort::PublishedDesc | ArticleSort::UpdatedDesc)
    }

    /// The sort key expression. Public lists only hold dated articles, so the
    /// plain indexed column serves; staff lists may hold undated drafts, which
    /// sort by their creation time.
    fn key(self, undated_possible: bool) -> Expr {
        match self {
            ArticleSort::PublishedDesc | ArticleSort::PublishedAsc if undated_possible => {
                Func::coalesce([
                    Expr::col((article::Entity, article::Column::PublishedAt)),
                    Expr::col((article::Entity, article::Column::CreatedAt)),
                ])
                .into()
            }
            ArticleSort::PublishedDesc | ArticleSort::PublishedAsc => {
                Expr::col((article::Entity, article::Column::PublishedAt))
            }
            ArticleSort::TitleAsc => Expr::col((article::Entity, article::Column::Title)),
            ArticleSort::UpdatedDesc => Expr::col((article::Entity, article::Column::UpdatedAt)),
        }
    }

    fn cursor_of(self, a: &article::Model) -> Cursor {
        match self {
            ArticleSort::PublishedDesc | ArticleSort::PublishedAsc => {
                Cursor::at(self.name(), a.published_at.unwrap_or(a.created_at), &a.id)
            }
            ArticleSort::UpdatedDesc => Cursor::at(self.name(), a.updated_at, &a.id),
            ArticleSort::TitleAsc => Cursor {
                order: self.name().to_string(),
                key: a.title.clone(),
                id: a.id.clone(),
            },
        }
    }

    /// Rows strictly beyond `c` in the direction of travel.
    fn beyond(
        self,
        c: &Cursor,
        field: &str,
        undated_possible: bool,
        forward: bool,
    ) -> Result<Condition, AppError> {
        let key = self.key(undated_possible);
        let id = Expr::col((article::Entity, article::Column::Id));
        let value: sea_orm::Value = match self {
            ArticleSort::TitleAsc => c.key.clone().into(),
            _ => c.time(field)?.into(),
        };
        let down = self.descending() == forward;
        Ok(if down {
            Condition::any()
                .add(key.clone().lt(value.clone()))
                .add(Condition::all().add(key.eq(value)).add(id.lt(c.id.clone())))
        } else {
            Condition::any()
                .add(key.clone().gt(value.clone()))
                .add(Condition::all().add(key.eq(value)).add(id.gt(c.id.clone())))
        })
    }

    fn apply(
        self,
        q: Select<article::Entity>,
        undated_possible: bool,
        forward: bool,
    ) -> Select<article::Entity> {
        let order = if self.descending() == forward {
            Order::Desc
        } else {
            Order::Asc
        };
        q.order_by(self.key(undated_possible), order.clone())
            .order_by(article::Column::Id, order)
    }
}

/// The condition for a filter as `actor` may see it, and whether undated
/// (draft) rows may be in it.
async fn list_condition(
    state: &AppState,
    actor: &Actor,
    filter: &ArticleFilter,
) -> Result<Option<(Condition, bool)>, AppError> {
    let db = &state.db;
    let at = now();
    let (mut cond, undated_possible) = match filter.status.as_deref().map(str::trim) {
        None | Some("") => (visible_to_public(at), false),
        Some(status) => {
            let (_, role) = policy::require_staff(actor)?;
            let cond = match status {
                "published" => visible_to_public(at),
                "scheduled" => Condition::all()
                    .add(article::Column::Status.eq(PUBLISHED))
                    .add(article::Column::PublishedAt.gt(at)),
                DRAFT | ARCHIVED => Condition::all().add(article::Column::Status.eq(status)),
                "any" => Condition::all(),
                _ => {
                    return Err(AppError::validation(
                        "status",
                        "must be one of draft, published, scheduled, archived, any",
                    ));
                }
            };
            // Authors and contributors see other people's unpublished work nowhere.
            let cond = match (role, actor) {
                (Role::Admin | Role::Editor, _) => cond,
                (_, Actor::User { author_id, .. }) if status != "published" => {
                    cond.add(bylined_by(author_id.as_deref().unwrap_or("")))
                }
                _ => cond,
            };
            (cond, status != "published")
        }
    };
    if let Some(a) = filter.author.as_deref().filter(|s| !s.is_empty()) {
        match resolve::<author::Entity>(db, author::Column::Id, author::Column::Slug, a).await? {
            Some(found) => cond = cond.add(bylined_by(&found.id)),
            None => return Ok(None),
        }
    }
    if let Some(s) = filter.source.as_deref().filter(|s| !s.is_empty()) {
        match resolve::<source::Entity>(db, source::Column::Id, source::Column::Slug, s).await? {
            Some(found) => cond = cond.add(article::Column::SourceId.eq(found.id)),
            None => return Ok(None),
        }
    }
    if let Some(t) = filter.tag.as_deref().filter(|s| !s.is_empty()) {
        match resolve::<tag::Entity>(db, tag::Column::Id, tag::Column::Slug, t).await? {
            Some(found) => {
                cond = cond.add(
                    article::Column::Id.in_subquery(
                        Query::select()
                            .column(article_tag::Column::ArticleId)
                            .from(article_tag::Entity)
                            .and_where(Expr::col(article_tag::Column::TagId).eq(found.id))
                            .to_owned(),
                    ),
                )
            }
            None => return Ok(None),
        }
    }
    if let Some(q) = filter.query.as_deref() {
        // Full-text match (services::search); nothing searchable matches nothing.
        match crate::services::search::SearchQuery::parse(q, "q")? {
            Some(query) => {
                cond = cond.add(crate::services::search::matches(
                    state.db.get_database_backend(),
                    &query,
                ))
            }
            None => return Ok(None),
        }
    }
    Ok(Some((cond, undated_possible)))
}

/// One page of articles (REST `GET /articles` and the `/x/articles` lists).
pub async fn list(
    state: &AppState,
    actor: &Actor,
    filter: ArticleFilter,
    sort: ArticleSort,
    page: PageRequest,
) -> Result<Page<ArticleView>, AppError> {
    let db = &state.db;
    let empty = Page {
        items: Vec::new(),
        page: page.page,
        per_page: page.per_page,
        total: 0,
    };
    let Some((cond, undated)) = list_condition(state, actor, &filter).await? else {
        return Ok(empty);
    };
    let total = article::Entity::find()
        .filter(cond.clone())
        .count(db)
        .await?;
    let rows = if page.offset() >= total {
        Vec::new() // past the end: no need to ask
    } else {
        sort.apply(article::Entity::find().filter(cond), undated, true)
            .offset(page.offset())
            .limit(page.per_page)
            .all(db)
            .await?
    };
    Ok(Page {
        items: hydrate(state, rows).await?,
        total,
        ..empty
    })
}

/// Articles as a keyset-paginated connection (GraphQL `articles`). Cursors
/// stay valid when articles are added between fetches.
pub async fn connection(
    state: &AppState,
    actor: &Actor,
    filter: ArticleFilter,
    sort: ArticleSort,
    args: ConnectionArgs,
) -> Result<Connection<ArticleView>, AppError> {
    let window = args.window(sort.name())?;
    let db = &state.db;
    let Some((cond, undated)) = list_condition(state, actor, &filter).await? else {
        return Ok(Connection {
            edges: Vec::new(),
            has_next_page: false,
            has_previous_page: false,
            total_count: 0,
        });
    };
    let total_count = article::Entity::find()
        .filter(cond.clone())
        .count(db)
        .await?;
    let mut query = article::Entity::find().filter(cond);
    if let Some(c) = &window.from {
        query = query.filter(sort.beyond(c, window.field, undated, window.forward)?);
    }
    let query = sort.apply(query, undated, window.forward);
    let mut rows = if window.limit == 0 {
        Vec::new()
    } else {
        query.limit(window.limit + 1).all(db).await?
    };
    let more = rows.len() as u64 > window.limit;
    rows.truncate(window.limit as usize);
    if !window.forward {
        rows.reverse();
    }
    let (has_next_page, has_previous_page) = if window.forward {
        (more, window.from.is_some())
    } else {
        (window.from.is_some(), more)
    };
    let views = hydrate(state, rows).await?;
    Ok(Connection {
        edges: views
            .into_iter()
            .map(|v| (sort.cursor_of(&v.article), v))
            .collect(),
        has_next_page,
        has_previous_page,
        total_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_parse_from_their_rest_names() {
        for s in ["-published_at", "published_at", "title", "-updated_at"] {
            assert_eq!(ArticleSort::parse(s).unwrap().name(), s);
        }
        assert!(ArticleSort::parse("random").is_none());
    }
}
