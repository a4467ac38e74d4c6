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
    let txn = crate::services::write_txn(state).await?;
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

/// What `seed --synthetic` made.
#[derive(Debug, PartialEq, Eq)]
pub struct SyntheticOutcome {
    pub articles: u64,
    pub comments: u64,
    /// Slugs of every article made, for load generators.
    pub slugs: Vec<String>,
}

const WORDS: &[&str] = &[
    "cooperation",
    "trade",
    "river",
    "border",
    "summit",
    "policy",
    "energy",
    "railway",
    "port",
    "harvest",
    "market",
    "province",
    "delegation",
    "treaty",
    "investment",
    "festival",
    "school",
    "bridge",
    "museum",
    "archive",
    "history",
    "climate",
    "village",
    "science",
    "industry",
    "network",
    "language",
    "culture",
    "minister",
    "farmers",
    "workers",
    "students",
    "council",
    "agreement",
    "development",
    "infrastructure",
    "exchange",
    "research",
    "dialogue",
    "region",
    "ceremony",
    "economy",
    "transport",
    "capital",
    "friendship",
    "sovereignty",
    "planning",
    "multipolar",
    "partnership",
    "century",
    "the",
    "of",
    "and",
    "a",
    "in",
    "to",
    "for",
    "with",
    "on",
    "across",
    "between",
    "after",
    "before",
    "during",
    "new",
    "old",
    "long",
    "short",
];

/// A synthetic archive for benchmarks: `articles` published articles with
/// ~5 KB Markdown bodies, 1–3 authors each, 1–4 tags, a third cross-posted
/// from one of five sources, and `comments_per_article` approved comments
/// each (every fourth a reply). Deterministic for a given `seed`; written in
/// transactions of 250 articles; `progress` is called after each.
pub async fn synthetic(
    state: &AppState,
    articles: u64,
    comments_per_article: u64,
    seed: u64,
    mut progress: impl FnMut(u64),
) -> Result<SyntheticOutcome, AppError> {
    use rand::{Rng, SeedableRng, rngs::StdRng};
    let mut rng = StdRng::seed_from_u64(seed);
    let at = now();
    let run = &new_id()[..8];

    let txn = crate::services::write_txn(state).await?;
    let mut authors = Vec::new();
    for i in 0..40 {
        let id = new_id();
        author::Entity::insert(author::ActiveModel {
            id: Set(id.clone()),
            slug: Set(format!("synthetic-author-{run}-{i}")),
            name: Set(format!("Synthetic Author {i}")),
            title: Set(Some("Correspondent".into())),
            bio: Set(Some("Writes synthetic copy for benchmarks.".into())),
            avatar_url: Set(None),
            website_url: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
        })
        .exec_without_returning(&txn)
        .await?;
        authors.push(id);
    }
    let mut sources = Vec::new();
    for i in 0..5 {
        let id = new_id();
        source::Entity::insert(source::ActiveModel {
            id: Set(id.clone()),
            slug: Set(format!("synthetic-source-{run}-{i}")),
            name: Set(format!("Synthetic Outlet {i}")),
            homepage_url: Set(Some(format!("https://outlet{i}.example"))),
            description: Set(None),
            logo_url: Set(None),
            feed_url: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
        })
        .exec_without_returning(&txn)
        .await?;
        sources.push(id);
    }
    let mut tags = Vec::new();
    for i in 0..30 {
        let id = new_id();
        tag::Entity::insert(tag::ActiveModel {
            id: Set(id.clone()),
            slug: Set(format!("synthetic-tag-{run}-{i}")),
            name: Set(format!("Topic {run} {i}")),
            created_at: Set(at),
            updated_at: Set(at),
        })
        .exec_without_returning(&txn)
        .await?;
        tags.push(id);
    }
    txn.commit().await?;

    // Six in ten words from a small common list, the rest from ~4,000 made-up
    // content words drawn with a skew (a few frequent, most rare), so that
    // searches match some articles, not all.
    let words = |rng: &mut StdRng, n: usize| -> String {
        (0..n)
            .map(|_| {
                if rng.random_bool(0.6) {
                    WORDS[rng.random_range(0..WORDS.len())].to_string()
                } else {
                    let u: f64 = rng.random();
                    content_word((u * u * u * 4096.0) as usize)
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut slugs = Vec::with_capacity(articles as usize);
    let mut comments = 0u64;
    // A readership, not ten readers: about four comments per address, as on
    // a real site (PostgreSQL plans lookups by address from how many there are).
    let readers = (articles * comments_per_article / 4).max(10);
    let mut made = 0u64;
    while made < articles {
        let txn = crate::services::write_txn(state).await?;
        let batch = (articles - made).min(250);
        for _ in 0..batch {
            let n = made;
            made += 1;
            // ~5 KB of Markdown: eight paragraphs of ~95 words.
            let body = (0..8)
                .map(|_| {
                    let mut p = words(&mut rng, 95);
                    p.push('.');
                    p
                })
                .collect::<Vec<_>>()
                .join("\n\n");
            let mut byline: Vec<String> = (0..rng.random_range(1..=3))
                .map(|_| authors[rng.random_range(0..authors.len())].clone())
                .collect();
            let mut seen = std::collections::HashSet::new();
            byline.retain(|a| seen.insert(a.clone()));
            let mut topics: Vec<String> = (0..rng.random_range(1..=4))
                .map(|_| tags[rng.random_range(0..tags.len())].clone())
                .collect();
            topics.sort();
            topics.dedup();
            let cross_post = n.is_multiple_of(3);
            // Spread over the last ~3 years, newest last.
            let published = at - chrono::Duration::minutes(((articles - n) * 17) as i64);
            let saved = articles::insert(
                &txn,
                NewArticle {
                    title: format!("{} {n}", capitalise(&words(&mut rng, 8))),
                    slug: None,
                    standfirst: Some(capitalise(&words(&mut rng, 25))),
                    excerpt: None,
                    body,
                    body_format: BodyFormat::Markdown,
                    status: articles::PUBLISHED,
                    published_at: Some(published),
                    author_ids: byline,
                    tag_ids: topics,
                    source_id: cross_post
                        .then(|| sources[rng.random_range(0..sources.len())].clone()),
                    original_url: cross_post
                        .then(|| format!("https://outlet.example/original/{run}/{n}")),
                    original_published_at: cross_post.then_some(published),
                    comment_status: "open",
                    feature_image_url: None,
                    feature_image_alt: None,
                },
            )
            .await?;
            let mut top_level: Vec<String> = Vec::new();
            for c in 0..comments_per_article {
                let id = new_id();
                let parent = (c % 4 == 3).then(|| top_level.last().cloned()).flatten();
                if parent.is_none() {
                    top_level.push(id.clone());
                }
                comment::Entity::insert(comment::ActiveModel {
                    id: Set(id),
                    article_id: Set(saved.id.clone()),
                    depth: Set(i32::from(parent.is_some())),
                    parent_id: Set(parent),
                    author_name: Set(format!("Reader {c}")),
                    author_email: Set(format!(
                        "reader{}@example.net",
                        rng.random_range(0..readers)
                    )),
                    author_url: Set(None),
                    user_id: Set(None),
                    body: Set(capitalise(&words(&mut rng, 40))),
                    status: Set("approved".into()),
                    ip: Set(None),
                    user_agent: Set(None),
                    created_at: Set(published + chrono::Duration::minutes(c as i64 + 1)),
                    updated_at: Set(published + chrono::Duration::minutes(c as i64 + 1)),
                })
                .exec_without_returning(&txn)
                .await?;
                comments += 1;
            }
            slugs.push(saved.slug);
        }
        txn.commit().await?;
        progress(made);
    }
    Ok(SyntheticOutcome {
        articles: made,
        comments,
        slugs,
    })
}

/// The `k`th made-up content word: three syllables.
fn content_word(k: usize) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ran", "tu", "sel", "vo", "dar", "ne", "pi", "gor", "za", "bel", "qu",
        "fen", "os",
    ];
    format!(
        "{}{}{}",
        SYLLABLES[k % 16],
        SYLLABLES[(k / 16) % 16],
        SYLLABLES[(k / 256) % 16]
    )
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
