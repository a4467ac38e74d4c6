//! `broadsheet seed --demo`: a small publication modelled on the reference
//! content — a republished CGTN opinion piece with an editor's note, its
//! author, two tags and one approved reader comment. The body text is our own.

use chrono::{TimeZone, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use crate::{
    domain::body::BodyFormat,
    entities::{article, author, comment, source, tag},
    error::AppError,
    services::{
        articles::{self, NewArticle},
        new_id, now,
    },
    state::AppState,
};

/// Slug of the demo article.
pub const DEMO_ARTICLE_SLUG: &str =
    "danny-haiphong-china-russia-partnership-is-a-model-for-global-cooperation-in-the-21st-century";

const DEMO_BODY: &str = "\
Leaders of two large neighbouring countries met by video link in mid-December \
and described their relationship as a model for cooperation between states in \
this century.

Their meeting followed weeks of pressure from Washington: talk of an imminent \
“invasion”, a “diplomatic boycott” of the Winter Olympics in Beijing and a \
summit that cast both governments as adversaries. Pressure of that kind tends \
to push its targets closer together.

Yet the partnership did not begin as a reaction. The Shanghai Cooperation \
Organization and a bilateral friendship treaty both date from 2001, long before \
either country was described as a threat to the international order. Trade has \
grown every year since, and cross-border projects such as the cable car between \
Heihe and Blagoveshchensk cut journeys that once took hours to minutes.

The argument of this piece is that a multipolar approach — respect for \
sovereignty, non-interference and development first — offers the rest of the \
world a practical alternative to bloc politics.";

const DEMO_STANDFIRST: &str = "\
Friends of Socialist China co-editor Danny Haiphong published the following \
article in CGTN, arguing that China–Russia relations serve as a model for \
global cooperation and solidarity in the 21st century and beyond.";

const DEMO_COMMENT: &str = "\
Thank you for republishing this. The cable car between Heihe and \
Blagoveshchensk is a small project, but it says more about cooperation than \
any summit communiqué.";

/// What seeding did.
#[derive(Debug, PartialEq, Eq)]
pub enum SeedOutcome {
    Created { article_slug: String },
    AlreadyPresent,
}

/// Insert the demo publication in one transaction; a second run changes nothing.
pub async fn demo(state: &AppState) -> Result<SeedOutcome, AppError> {
    let txn = crate::services::write_txn(&state.db).await?;
    let exists = article::Entity::find()
        .filter(article::Column::Slug.eq(DEMO_ARTICLE_SLUG))
        .count(&txn)
        .await?
        > 0;
    if exists {
        return Ok(SeedOutcome::AlreadyPresent);
    }
    let at = now();
    let author_id = new_id();
    author::Entity::insert(author::ActiveModel {
        id: Set(author_id.clone()),
        slug: Set(crate::services::assign_slug::<author::Entity>(
            &txn,
            author::Column::Id,
            author::Column::Slug,
            None,
            "Danny Haiphong",
            None,
        )
        .await?),
        name: Set("Danny Haiphong".into()),
        title: Set(Some("Co-editor, Friends of Socialist China".into())),
        bio: Set(Some(
            "Writer and broadcaster on US foreign policy and China.".into(),
        )),
        avatar_url: Set(None),
        website_url: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
    })
    .exec_without_returning(&txn)
    .await?;

    let source_id = match source::Entity::find()
        .filter(source::Column::Slug.eq("cgtn"))
        .one(&txn)
        .await?
    {
        Some(s) => s.id,
        None => {
            let id = new_id();
            source::Entity::insert(source::ActiveModel {
                id: Set(id.clone()),
                slug: Set("cgtn".into()),
                name: Set("CGTN".into()),
                homepage_url: Set(Some("https://news.cgtn.com".into())),
                description: Set(Some("China Global Television Network".into())),
                logo_url: Set(None),
                feed_url: Set(None),
                created_at: Set(at),
                updated_at: Set(at),
            })
            .exec_without_returning(&txn)
            .await?;
            id
        }
    };

    let mut tag_ids = Vec::new();
    for (slug, name) in [
        ("china-russia-relations", "China–Russia relations"),
        ("multipolarity", "Multipolarity"),
    ] {
        let id = match tag::Entity::find()
            .filter(tag::Column::Slug.eq(slug))
            .one(&txn)
            .await?
        {
            Some(t) => t.id,
            None => {
                let id = new_id();
                tag::Entity::insert(tag::ActiveModel {
                    id: Set(id.clone()),
                    slug: Set(slug.into()),
                    name: Set(name.into()),
                    created_at: Set(at),
                    updated_at: Set(at),
                })
                .exec_without_returning(&txn)
                .await?;
                id
            }
        };
        tag_ids.push(id);
    }

    let saved = articles::insert(
        &txn,
        NewArticle {
            title: "Danny Haiphong: China-Russia partnership is a model for global cooperation in the 21st Century".into(),
            slug: None,
            standfirst: Some(DEMO_STANDFIRST.into()),
            excerpt: None,
            body: DEMO_BODY.into(),
            body_format: BodyFormat::Markdown,
            status: articles::PUBLISHED,
            published_at: Some(at),
            author_ids: vec![author_id],
            tag_ids,
            source_id: Some(source_id),
            original_url: Some("https://news.cgtn.com/news/china-russia-partnership-model-global-cooperation".into()),
            original_published_at: Some(Utc.with_ymd_and_hms(2021, 12, 17, 9, 0, 0).single().unwrap_or(at)),
            comment_status: "open",
            feature_image_url: None,
            feature_image_alt: None,
        },
    )
    .await?;

    comment::Entity::insert(comment::ActiveModel {
        id: Set(new_id()),
        article_id: Set(saved.id.clone()),
        parent_id: Set(None),
        depth: Set(0),
        author_name: Set("A reader".into()),
        author_email: Set("reader@example.org".into()),
        author_url: Set(None),
        user_id: Set(None),
        body: Set(DEMO_COMMENT.into()),
        status: Set("approved".into()),
        ip: Set(None),
        user_agent: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(SeedOutcome::Created {
        article_slug: saved.slug,
    })
}
