//! `import_refs` bookkeeping (which row an earlier import made for a
//! WordPress item) and WordPress date fields.

use chrono::{DateTime, NaiveDateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::services::transfer::wxr::Node;
use crate::{entities::import_ref, services::now};

use super::*;

/// The row an earlier import made for WordPress item `external_id`, if it still exists.
pub(super) async fn find_ref<E>(
    db: &impl ConnectionTrait,
    kind: &str,
    external_id: &str,
) -> Result<Option<E::Model>, Fail>
where
    E: EntityTrait,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<String>,
{
    let r = import_ref::Entity::find_by_id((
        SYSTEM.to_string(),
        kind.to_string(),
        external_id.to_string(),
    ))
    .one(db)
    .await?;
    match r {
        Some(r) => Ok(E::find_by_id(r.local_id).one(db).await?),
        None => Ok(None),
    }
}

pub(super) async fn set_ref(
    db: &impl ConnectionTrait,
    kind: &str,
    external_id: &str,
    local_id: &str,
) -> Result<(), Fail> {
    import_ref::Entity::delete_by_id((
        SYSTEM.to_string(),
        kind.to_string(),
        external_id.to_string(),
    ))
    .exec(db)
    .await?;
    import_ref::Entity::insert(import_ref::ActiveModel {
        system: Set(SYSTEM.into()),
        kind: Set(kind.into()),
        external_id: Set(external_id.into()),
        local_id: Set(local_id.into()),
        created_at: Set(now()),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The ids of one article's link rows, in position order.
pub(super) async fn link_ids<E: EntityTrait>(
    db: &impl ConnectionTrait,
    article_col: E::Column,
    id_col: E::Column,
    position_col: E::Column,
    article_id: &str,
) -> Result<Vec<String>, Fail> {
    Ok(E::find()
        .select_only()
        .column(id_col)
        .filter(article_col.eq(article_id))
        .order_by_asc(position_col)
        .into_tuple()
        .all(db)
        .await?)
}

/// A WordPress date: the GMT field, or the local one read as UTC when the
/// GMT one is unset (`0000-00-00 00:00:00`, as drafts have). `None` when
/// both are unset; an error naming the field when one cannot be read.
pub(super) fn post_date(n: &Node, gmt: &str, local: &str) -> Result<Option<DateTime<Utc>>, Fail> {
    for field in [gmt, local] {
        let value = n.get(field);
        if value.is_empty() || value.starts_with("0000-00-00") {
            continue;
        }
        return NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S")
            .map(|d| Some(d.and_utc()))
            .map_err(|_| {
                Fail(format!(
                    "invalid date {value:?} in <{field}> (expected YYYY-MM-DD HH:MM:SS)"
                ))
            });
    }
    Ok(None)
}
