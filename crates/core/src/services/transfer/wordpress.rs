//! `broadsheet import wordpress FILE.xml`: a WordPress WXR export into
//! articles, authors, tags (categories and tags), sources (mapped
//! categories) and threaded comments. Each post and its comments is one unit
//! (a savepoint): a post that fails leaves nothing behind. Posts are written
//! in transactions of `batch_size` entries (one transaction for everything
//! with `all_or_nothing`). WordPress ids are kept in `import_refs`, so
//! importing the same export again updates rows instead of duplicating them.

use std::{collections::HashMap, io::BufRead};

use chrono::{DateTime, NaiveDateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::{
    Notice, Progress, Report, percent_decode,
    wxr::{Entry, Located, Node, WxrReader},
};
use crate::{
    domain::{
        body::{self, BodyFormat},
        slug,
    },
    entities::{
        article, article_author, article_slug, article_tag, author, comment, import_ref, source,
        tag,
    },
    error::AppError,
    services::{
        articles::{self, DRAFT, PUBLISHED},
        comments as comment_rules, new_id, now, write_txn,
    },
    state::AppState,
};

/// `import_refs.system` for WordPress.
pub const SYSTEM: &str = "wordpress";

/// How to import.
#[derive(Debug, Clone)]
pub struct Options {
    /// Category (name or slug, any case) → source (name or slug; made when missing).
    pub source_map: Vec<(String, String)>,
    /// Keep nothing when any item fails or the file cannot be read to the end.
    pub all_or_nothing: bool,
    /// Entries per transaction.
    pub batch_size: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            source_map: Vec::new(),
            all_or_nothing: false,
            batch_size: 100,
        }
    }
}

/// Post types that are WordPress machinery, not content: skipped quietly.
const INTERNAL_TYPES: [&str; 10] = [
    "nav_menu_item",
    "revision",
    "wp_block",
    "wp_template",
    "wp_template_part",
    "wp_global_styles",
    "wp_navigation",
    "custom_css",
    "customize_changeset",
    "oembed_cache",
];

/// What one entry turned into.
enum Done {
    Imported,
    Skipped(String),
}

/// An item failure: the reason (the caller adds where it is).
struct Fail(String);

impl From<AppError> for Fail {
    fn from(e: AppError) -> Self {
        Fail(match e {
            AppError::Internal(e) => format!("database error: {e:#}"),
            other => other.to_string(),
        })
    }
}

impl From<sea_orm::DbErr> for Fail {
    fn from(e: sea_orm::DbErr) -> Self {
        Fail(format!("database error: {e}"))
    }
}

/// Import a WXR document read from `input` (`bytes_total` for progress).
pub async fn import<R: BufRead>(
    state: &AppState,
    input: R,
    bytes_total: Option<u64>,
    opts: &Options,
    mut progress: impl FnMut(Progress),
) -> Result<Report, AppError> {
    let mut reader = WxrReader::with_max_depth(input, state.config.import_max_depth as usize);
    let mut report = Report::default();
    let mut ctx = Context {
        state,
        opts,
        authors: HashMap::new(),
        line: 0,
    };
    let batch_size = opts.batch_size.max(1);
    let mut txn = Some(write_txn(state).await?);
    let mut in_batch = 0usize;
    loop {
        let located = match reader.next_entry() {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                report.stopped = Some(Notice {
                    line: Some(e.line),
                    item: String::new(),
                    reason: e.message,
                });
                break;
            }
        };
        if reader.wxr_version.is_none() {
            report.stopped = Some(Notice {
                line: Some(located.line),
                item: String::new(),
                reason: "not a WordPress export: no <wp:wxr_version> before the first entry".into(),
            });
            break;
        }
        report.entries += 1;
        let current = match txn.take() {
            Some(t) => t,
            None => write_txn(state).await?,
        };
        let line = located.line;
        let item = describe(&located);
        ctx.line = line;
        // Each entry in a savepoint: a failure undoes only that entry.
        let sp = current.savepoint().await?;
        // Counted apart, and kept only when the entry's writes are.
        let mut entry_report = Report::default();
        let done = ctx.entry(&sp, located, &mut entry_report).await;
        if done.is_ok() {
            report.absorb(entry_report);
        }
        match done {
            Ok(Done::Imported) => sp.commit().await?,
            Ok(Done::Skipped(reason)) => {
                sp.commit().await?;
                report.skipped.push(Notice {
                    line: Some(line),
                    item,
                    reason,
                });
            }
            Err(Fail(reason)) => {
                sp.rollback().await?;
                report.failed.push(Notice {
                    line: Some(line),
                    item,
                    reason,
                });
            }
        }
        in_batch += 1;
        if !opts.all_or_nothing && in_batch >= batch_size {
            current.commit().await?;
            in_batch = 0;
        } else {
            txn = Some(current);
        }
        progress(Progress {
            entries: report.entries,
            bytes_read: reader.bytes_read(),
            bytes_total,
        });
    }
    if let Some(t) = txn.take() {
        if opts.all_or_nothing && !report.is_clean() {
            drop(t); // rolls back everything
            report.rolled_back = true;
            report.counts.clear();
        } else {
            t.commit().await?;
        }
    }
    if report.entries == 0 && report.stopped.is_none() {
        report.stopped = Some(Notice {
            line: None,
            item: String::new(),
            reason: "no WordPress channel found (expected <rss><channel> with <wp:wxr_version>)"
                .into(),
        });
    }
    Ok(report)
}

/// `post 12 "Title"` and the like, for messages.
fn describe(l: &Located) -> String {
    match &l.entry {
        Entry::Author(n) => format!("author {:?}", n.get("wp:author_login")),
        Entry::Term(n) => {
            let slug = ["wp:category_nicename", "wp:tag_slug", "wp:term_slug"]
                .iter()
                .map(|k| n.get(k))
                .find(|v| !v.is_empty())
                .unwrap_or("");
            format!("{} {slug:?}", n.name.trim_start_matches("wp:"))
        }
        Entry::Item(n) => {
            let kind = match n.get("wp:post_type") {
                "" => "item",
                t => t,
            };
            format!("{kind} {} {:?}", n.get("wp:post_id"), n.get("title"))
        }
    }
}

struct Context<'a> {
    state: &'a AppState,
    opts: &'a Options,
    /// WordPress login → author id, for authors already imported.
    authors: HashMap<String, String>,
    /// The line of the entry being imported.
    line: u64,
}

impl Context<'_> {
    async fn entry(
        &mut self,
        db: &impl ConnectionTrait,
        located: Located,
        report: &mut Report,
    ) -> Result<Done, Fail> {
        match located.entry {
            Entry::Author(n) => self.author(db, &n, report).await,
            Entry::Term(n) => self.term(db, &n, report).await,
            Entry::Item(n) => self.post(db, &n, report).await,
        }
    }

    async fn author(
        &mut self,
        db: &impl ConnectionTrait,
        n: &Node,
        report: &mut Report,
    ) -> Result<Done, Fail> {
        let login = n.get("wp:author_login").to_string();
        if login.is_empty() {
            return Err(Fail("a <wp:author> without <wp:author_login>".into()));
        }
        let name = match n.get("wp:author_display_name") {
            "" => {
                let full = format!(
                    "{} {}",
                    n.get("wp:author_first_name"),
                    n.get("wp:author_last_name")
                );
                let full = full.trim().to_string();
                if full.is_empty() { login.clone() } else { full }
            }
            d => d.to_string(),
        };
        if let Some(existing) = find_ref::<author::Entity>(db, "author", &login).await? {
            if existing.name == name {
                report.count("authors").unchanged += 1;
            } else {
                let mut am: author::ActiveModel = existing.clone().into();
                am.name = Set(name);
                am.updated_at = Set(now());
                am.update(db).await?;
                report.count("authors").updated += 1;
            }
            self.authors.insert(login, existing.id);
            return Ok(Done::Imported);
        }
        let at = now();
        let id = new_id();
        let slug = crate::services::assign_slug::<author::Entity>(
            db,
            author::Column::Id,
            author::Column::Slug,
            None,
            &name,
            None,
        )
        .await?;
        author::Entity::insert(author::ActiveModel {
            id: Set(id.clone()),
            slug: Set(slug),
            name: Set(name),
            title: Set(None),
            bio: Set(None),
            avatar_url: Set(None),
            website_url: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
        })
        .exec_without_returning(db)
        .await?;
        set_ref(db, "author", &login, &id).await?;
        report.count("authors").created += 1;
        self.authors.insert(login, id);
        Ok(Done::Imported)
    }

    /// A `wp:category` / `wp:tag`: a tag, or a source when the map names it.
    async fn term(
        &mut self,
        db: &impl ConnectionTrait,
        n: &Node,
        report: &mut Report,
    ) -> Result<Done, Fail> {
        let (nicename, name) = match n.name.as_str() {
            "wp:category" => (n.get("wp:category_nicename"), n.get("wp:cat_name")),
            "wp:tag" => (n.get("wp:tag_slug"), n.get("wp:tag_name")),
            _ => {
                if !matches!(n.get("wp:term_taxonomy"), "category" | "post_tag") {
                    return Ok(Done::Skipped(format!(
                        "terms of taxonomy {:?} are not imported",
                        n.get("wp:term_taxonomy")
                    )));
                }
                (n.get("wp:term_slug"), n.get("wp:term_name"))
            }
        };
        if let Some(source) = self.mapped_source(nicename, name) {
            self.source(db, &source, report, true).await?;
            return Ok(Done::Imported);
        }
        if n.name == "wp:category" && nicename == "uncategorized" {
            return Ok(Done::Skipped("WordPress's default category".into()));
        }
        self.tag(db, nicename, name, report, true).await?;
        Ok(Done::Imported)
    }

    fn mapped_source(&self, nicename: &str, name: &str) -> Option<String> {
        self.opts
            .source_map
            .iter()
            .find(|(category, _)| {
                category.eq_ignore_ascii_case(name)
                    || category.eq_ignore_ascii_case(nicename)
                    || category.eq_ignore_ascii_case(&percent_decode(nicename))
            })
            .map(|(_, source)| source.clone())
    }

    /// The tag for a term, made when missing.
    async fn tag(
        &self,
        db: &impl ConnectionTrait,
        nicename: &str,
        name: &str,
        report: &mut Report,
        from_term: bool,
    ) -> Result<String, Fail> {
        let name = if name.is_empty() { nicename } else { name };
        let decoded = percent_decode(nicename);
        let slug = if slug::is_valid_slug(&decoded) {
            decoded
        } else {
            slug::slugify(name)
        };
        if slug.is_empty() {
            return Err(Fail(format!("the term {name:?} has no usable slug")));
        }
        if let Some(t) = tag::Entity::find()
            .filter(tag::Column::Slug.eq(&slug))
            .one(db)
            .await?
        {
            if from_term {
                report.count("tags").unchanged += 1;
            }
            return Ok(t.id);
        }
        let at = now();
        let id = new_id();
        tag::Entity::insert(tag::ActiveModel {
            id: Set(id.clone()),
            slug: Set(slug),
            name: Set(name.to_string()),
            created_at: Set(at),
            updated_at: Set(at),
        })
        .exec_without_returning(db)
        .await?;
        report.count("tags").created += 1;
        Ok(id)
    }

    /// The source named (by slug or name) `wanted`, made when missing.
    async fn source(
        &self,
        db: &impl ConnectionTrait,
        wanted: &str,
        report: &mut Report,
        from_term: bool,
    ) -> Result<String, Fail> {
        let slug = slug::slugify(wanted);
        let found = source::Entity::find()
            .filter(
                sea_orm::Condition::any()
                    .add(source::Column::Slug.eq(wanted))
                    .add(source::Column::Slug.eq(&slug))
                    .add(source::Column::Name.eq(wanted)),
            )
            .one(db)
            .await?;
        if let Some(s) = found {
            if from_term {
                report.count("sources").unchanged += 1;
            }
            return Ok(s.id);
        }
        if slug.is_empty() {
            return Err(Fail(format!("the source {wanted:?} has no usable slug")));
        }
        let at = now();
        let id = new_id();
        source::Entity::insert(source::ActiveModel {
            id: Set(id.clone()),
            slug: Set(slug),
            name: Set(wanted.to_string()),
            homepage_url: Set(None),
            description: Set(None),
            logo_url: Set(None),
            feed_url: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
        })
        .exec_without_returning(db)
        .await?;
        report.count("sources").created += 1;
        Ok(id)
    }

    async fn post(
        &mut self,
        db: &impl ConnectionTrait,
        n: &Node,
        report: &mut Report,
    ) -> Result<Done, Fail> {
        let post_type = n.get("wp:post_type");
        match post_type {
            "post" => {}
            "page" => return Ok(Done::Skipped("pages are not imported".into())),
            "attachment" => {
                return Ok(Done::Skipped(
                    "attachments (media files) are not imported".into(),
                ));
            }
            t if INTERNAL_TYPES.contains(&t) => {
                return Ok(Done::Skipped(format!(
                    "WordPress {t} entries are not content"
                )));
            }
            "" => return Err(Fail("no <wp:post_type>".into())),
            other => {
                return Ok(Done::Skipped(format!("unknown post type {other:?}")));
            }
        }
        let post_id = n.get("wp:post_id");
        if post_id.is_empty() || post_id.parse::<u64>().is_err() {
            return Err(Fail(format!("bad or missing <wp:post_id> {post_id:?}")));
        }
        let wp_status = n.get("wp:status");
        let status = match wp_status {
            "publish" | "future" => PUBLISHED,
            "draft" | "pending" | "auto-draft" | "private" => DRAFT,
            "trash" => {
                return Ok(Done::Skipped(
                    "posts in the WordPress trash are not imported".into(),
                ));
            }
            other => return Err(Fail(format!("unknown post status {other:?}"))),
        };
        let title = match n.get("title") {
            "" => "(no title)".to_string(),
            t => t.to_string(),
        };
        if title.chars().count() > articles::MAX_TITLE_CHARS {
            return Err(Fail(format!(
                "the title is longer than {} characters",
                articles::MAX_TITLE_CHARS
            )));
        }
        let date = post_date(n, "wp:post_date_gmt", "wp:post_date")?;
        let published_at = if status == PUBLISHED {
            Some(date.ok_or_else(|| {
                Fail("a published post without a date (wp:post_date_gmt, wp:post_date)".into())
            })?)
        } else {
            None
        };
        let login = n.get("dc:creator");
        let author_ids = if login.is_empty() {
            Vec::new()
        } else {
            match self.authors.get(login) {
                Some(id) => vec![id.clone()],
                None => {
                    return Err(Fail(format!(
                        "the author {login:?} (dc:creator) is not among the export's <wp:author> entries"
                    )));
                }
            }
        };
        let mut tag_ids: Vec<String> = Vec::new();
        let mut source_id = None;
        for c in n.all("category") {
            let domain = c.attr("domain").unwrap_or("category");
            let nicename = c.attr("nicename").unwrap_or("");
            let name = c.text.trim();
            if !matches!(domain, "category" | "post_tag") {
                continue;
            }
            if domain == "category"
                && let Some(wanted) = self.mapped_source(nicename, name)
            {
                if source_id.is_none() {
                    source_id = Some(self.source(db, &wanted, report, false).await?);
                }
                continue;
            }
            if domain == "category" && nicename == "uncategorized" {
                continue;
            }
            let id = self.tag(db, nicename, name, report, false).await?;
            if !tag_ids.contains(&id) {
                tag_ids.push(id);
            }
        }
        let original_url = n
            .all("wp:postmeta")
            .find(|m| {
                matches!(
                    m.get("wp:meta_key"),
                    "original_url" | "syndication_source_url" | "_original_url"
                )
            })
            .map(|m| m.get("wp:meta_value").to_string())
            .filter(|u| articles::is_http_url(u));
        let body_src = autop(n.raw("content:encoded"));
        let excerpt = Some(n.get("excerpt:encoded").to_string()).filter(|e| !e.is_empty());
        let comment_status = if n.get("wp:comment_status") == "closed" {
            "closed"
        } else {
            "open"
        };
        let wanted_slug = {
            let decoded = percent_decode(n.get("wp:post_name"));
            if decoded.is_empty() {
                None
            } else if slug::is_valid_slug(&decoded) {
                Some(decoded)
            } else {
                Some(slug::slugify(&decoded)).filter(|s| !s.is_empty())
            }
        };

        let existing = find_ref::<article::Entity>(db, "article", post_id).await?;
        let at = now();
        let rendered = body::render(&body_src, BodyFormat::Html);
        let article_id = match existing {
            None => {
                let slug = match wanted_slug {
                    Some(s) => {
                        if articles::slug_taken(db, &s, None).await? {
                            return Err(Fail(format!(
                                "duplicate slug: {s:?} is already used by another article"
                            )));
                        }
                        s
                    }
                    None => {
                        let base = slug::slugify(&title);
                        articles::free_slug(db, if base.is_empty() { "article" } else { &base })
                            .await?
                    }
                };
                let id = new_id();
                let created = date.unwrap_or(at);
                // WordPress's last edit, when it can be read; never before creation.
                let modified = post_date(n, "wp:post_modified_gmt", "wp:post_modified")
                    .ok()
                    .flatten()
                    .map_or(created, |m| m.max(created));
                article::Entity::insert(article::ActiveModel {
                    id: Set(id.clone()),
                    slug: Set(slug),
                    title: Set(title),
                    standfirst: Set(None),
                    excerpt: Set(excerpt),
                    body: Set(body_src),
                    body_format: Set(BodyFormat::Html.as_str().into()),
                    body_html: Set(rendered.html),
                    body_text: Set(rendered.text),
                    word_count: Set(rendered.word_count),
                    status: Set(status.into()),
                    published_at: Set(published_at),
                    source_id: Set(source_id.clone()),
                    original_url: Set(original_url.clone()),
                    original_published_at: Set(source_id.as_ref().and(published_at)),
                    comment_status: Set(comment_status.into()),
                    feature_image_url: Set(None),
                    feature_image_alt: Set(None),
                    version: Set(1),
                    created_at: Set(created),
                    updated_at: Set(modified),
                })
                .exec_without_returning(db)
                .await?;
                articles::write_links(db, &id, Some(&author_ids), Some(&tag_ids)).await?;
                set_ref(db, "article", post_id, &id).await?;
                report.count("articles").created += 1;
                id
            }
            Some(current) => {
                let bylines = link_ids::<article_author::Entity>(
                    db,
                    article_author::Column::ArticleId,
                    article_author::Column::AuthorId,
                    article_author::Column::Position,
                    &current.id,
                )
                .await?;
                let tags_now = link_ids::<article_tag::Entity>(
                    db,
                    article_tag::Column::ArticleId,
                    article_tag::Column::TagId,
                    article_tag::Column::Position,
                    &current.id,
                )
                .await?;
                let slug = wanted_slug.unwrap_or_else(|| current.slug.clone());
                let original_published_at = source_id.as_ref().and(published_at);
                let same = current.title == title
                    && current.slug == slug
                    && current.excerpt == excerpt
                    && current.body == body_src
                    && current.body_format == BodyFormat::Html.as_str()
                    && current.status == status
                    && current.published_at == published_at
                    && current.source_id == source_id
                    && current.original_url == original_url
                    && current.original_published_at == original_published_at
                    && current.comment_status == comment_status
                    && bylines == author_ids
                    && tags_now == tag_ids;
                if same {
                    report.count("articles").unchanged += 1;
                } else {
                    crate::services::revisions::record(
                        db,
                        &current,
                        &bylines,
                        None,
                        self.state.config.revisions_keep,
                    )
                    .await?;
                    let mut am: article::ActiveModel = current.clone().into();
                    if slug != current.slug {
                        if articles::slug_taken(db, &slug, Some(&current.id)).await? {
                            return Err(Fail(format!(
                                "duplicate slug: {slug:?} is already used by another article"
                            )));
                        }
                        // Keep the old slug for redirects, as an edit would.
                        article_slug::Entity::delete_by_id(slug.clone())
                            .exec(db)
                            .await?;
                        article_slug::Entity::insert(article_slug::ActiveModel {
                            slug: Set(current.slug.clone()),
                            article_id: Set(current.id.clone()),
                            created_at: Set(at),
                        })
                        .exec_without_returning(db)
                        .await?;
                        am.slug = Set(slug);
                    }
                    am.title = Set(title);
                    am.excerpt = Set(excerpt);
                    am.body = Set(body_src);
                    am.body_format = Set(BodyFormat::Html.as_str().into());
                    am.body_html = Set(rendered.html);
                    am.body_text = Set(rendered.text);
                    am.word_count = Set(rendered.word_count);
                    am.status = Set(status.into());
                    am.published_at = Set(published_at);
                    am.source_id = Set(source_id);
                    am.original_url = Set(original_url);
                    am.original_published_at = Set(original_published_at);
                    am.comment_status = Set(comment_status.into());
                    am.version = Set(current.version + 1);
                    am.updated_at = Set(at);
                    am.update(db).await?;
                    articles::write_links(db, &current.id, Some(&author_ids), Some(&tag_ids))
                        .await?;
                    report.count("articles").updated += 1;
                }
                current.id
            }
        };
        self.comments(db, n, &article_id, report).await?;
        Ok(Done::Imported)
    }

    /// The post's comments, parents before replies.
    async fn comments(
        &self,
        db: &impl ConnectionTrait,
        n: &Node,
        article_id: &str,
        report: &mut Report,
    ) -> Result<(), Fail> {
        let mut pending: Vec<&Node> = n.all("wp:comment").collect();
        pending.sort_by_key(|c| c.get("wp:comment_id").parse::<u64>().unwrap_or(u64::MAX));
        // WordPress comment id → (our id, depth); `None` for a skipped comment,
        // whose replies move up to its parent.
        let mut done: HashMap<String, Option<(String, i32)>> = HashMap::new();
        let mut parent_of: HashMap<String, String> = HashMap::new();
        for c in &pending {
            parent_of.insert(
                c.get("wp:comment_id").to_string(),
                c.get("wp:comment_parent").to_string(),
            );
        }
        while !pending.is_empty() {
            let before = pending.len();
            let mut later = Vec::new();
            for c in pending {
                let wp_id = c.get("wp:comment_id").to_string();
                let parent_wp = c.get("wp:comment_parent");
                let parent = if parent_wp.is_empty() || parent_wp == "0" {
                    None
                } else {
                    match resolve_parent(parent_wp, &done, &parent_of) {
                        Resolved::Found(p) => p,
                        Resolved::NotYet => {
                            later.push(c);
                            continue;
                        }
                        Resolved::Missing => {
                            return Err(Fail(format!(
                                "comment {wp_id}: its parent comment {parent_wp} is not in the export"
                            )));
                        }
                    }
                };
                let result = self
                    .comment(db, c, article_id, parent.as_ref(), report)
                    .await?;
                done.insert(wp_id, result);
            }
            if later.len() == before {
                return Err(Fail("comments whose replies form a loop".into()));
            }
            pending = later;
        }
        Ok(())
    }

    async fn comment(
        &self,
        db: &impl ConnectionTrait,
        c: &Node,
        article_id: &str,
        parent: Option<&(String, i32)>,
        report: &mut Report,
    ) -> Result<Option<(String, i32)>, Fail> {
        let wp_id = c.get("wp:comment_id");
        if wp_id.is_empty() {
            return Err(Fail("a comment without <wp:comment_id>".into()));
        }
        let kind = c.get("wp:comment_type");
        if !matches!(kind, "" | "comment") {
            report.skipped.push(Notice {
                line: Some(self.line),
                item: format!("comment {wp_id}"),
                reason: format!("{kind}s are not imported"),
            });
            return Ok(None);
        }
        let status = match c.get("wp:comment_approved") {
            "1" => comment_rules::APPROVED,
            "0" => comment_rules::PENDING,
            "spam" => comment_rules::SPAM,
            "trash" | "post-trashed" => comment_rules::TRASH,
            other => {
                return Err(Fail(format!(
                    "comment {wp_id}: unknown wp:comment_approved {other:?}"
                )));
            }
        };
        let created = post_date(c, "wp:comment_date_gmt", "wp:comment_date")
            .map_err(|Fail(r)| Fail(format!("comment {wp_id}: {r}")))?
            .ok_or_else(|| Fail(format!("comment {wp_id}: no date")))?;
        let body_text = body::render(&autop(c.raw("wp:comment_content")), BodyFormat::Html).text;
        let name = match c.get("wp:comment_author") {
            "" => "Anonymous".to_string(),
            a => a.to_string(),
        };
        let email = c.get("wp:comment_author_email").to_string();
        let url = Some(c.get("wp:comment_author_url").to_string()).filter(|u| !u.is_empty());
        let ip = Some(c.get("wp:comment_author_IP").to_string()).filter(|u| !u.is_empty());
        let (parent_id, depth) = match parent {
            Some((id, d)) => (Some(id.clone()), d + 1),
            None => (None, 0),
        };
        // What the API would refuse is refused here too, by the same rules:
        // the comment (and so each reply that would sit under it too deep)
        // is reported as failed and left out; the post and its other
        // comments are imported.
        let mut errors = comment_rules::field_errors(
            name.trim(),
            email.trim(),
            url.as_deref().map(str::trim),
            body_text.trim(),
        );
        errors.extend(comment_rules::depth_error(
            depth,
            self.state.config.comment_max_depth,
        ));
        if !errors.is_empty() {
            let reasons: Vec<String> = errors
                .iter()
                .map(|e| format!("{} {}", e.field, e.message))
                .collect();
            report.failed.push(Notice {
                line: Some(self.line),
                item: format!("comment {wp_id}"),
                reason: reasons.join("; "),
            });
            return Ok(None);
        }
        if let Some(current) = find_ref::<comment::Entity>(db, "comment", wp_id).await? {
            let same = current.article_id == article_id
                && current.parent_id == parent_id
                && current.depth == depth
                && current.author_name == name
                && current.author_email == email
                && current.author_url == url
                && current.body == body_text
                && current.status == status
                && current.ip == ip
                && current.created_at == created;
            if same {
                report.count("comments").unchanged += 1;
            } else {
                let mut am: comment::ActiveModel = current.clone().into();
                am.article_id = Set(article_id.to_string());
                am.parent_id = Set(parent_id);
                am.depth = Set(depth);
                am.author_name = Set(name);
                am.author_email = Set(email);
                am.author_url = Set(url);
                am.body = Set(body_text);
                am.status = Set(status.into());
                am.ip = Set(ip);
                am.created_at = Set(created);
                am.updated_at = Set(now());
                am.update(db).await?;
                report.count("comments").updated += 1;
            }
            return Ok(Some((current.id, depth)));
        }
        let id = new_id();
        comment::Entity::insert(comment::ActiveModel {
            id: Set(id.clone()),
            article_id: Set(article_id.to_string()),
            parent_id: Set(parent_id),
            depth: Set(depth),
            author_name: Set(name),
            author_email: Set(email),
            author_url: Set(url),
            user_id: Set(None),
            body: Set(body_text),
            status: Set(status.into()),
            ip: Set(ip),
            user_agent: Set(None),
            created_at: Set(created),
            updated_at: Set(created),
        })
        .exec_without_returning(db)
        .await?;
        set_ref(db, "comment", wp_id, &id).await?;
        report.count("comments").created += 1;
        Ok(Some((id, depth)))
    }
}

enum Resolved {
    Found(Option<(String, i32)>),
    NotYet,
    Missing,
}

/// The nearest imported ancestor of WordPress comment `wp_id`.
fn resolve_parent(
    wp_id: &str,
    done: &HashMap<String, Option<(String, i32)>>,
    parent_of: &HashMap<String, String>,
) -> Resolved {
    let mut at = wp_id.to_string();
    for _ in 0..1000 {
        match done.get(&at) {
            Some(Some(p)) => return Resolved::Found(Some(p.clone())),
            Some(None) => match parent_of.get(&at).map(String::as_str) {
                None | Some("") | Some("0") => return Resolved::Found(None),
                Some(up) => at = up.to_string(),
            },
            None if parent_of.contains_key(&at) => return Resolved::NotYet,
            None => return Resolved::Missing,
        }
    }
    Resolved::Missing
}

/// The row an earlier import made for WordPress item `external_id`, if it still exists.
async fn find_ref<E>(
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

async fn set_ref(
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
async fn link_ids<E: EntityTrait>(
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
fn post_date(n: &Node, gmt: &str, local: &str) -> Result<Option<DateTime<Utc>>, Fail> {
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

/// WordPress stores paragraphs as text separated by blank lines and adds the
/// `<p>`s when it renders (`wpautop`); do the same, leaving chunks that
/// already are block-level HTML (or block-editor comments) as they are.
pub fn autop(content: &str) -> String {
    const BLOCKS: [&str; 20] = [
        "<p",
        "<div",
        "<h1",
        "<h2",
        "<h3",
        "<h4",
        "<h5",
        "<h6",
        "<ul",
        "<ol",
        "<li",
        "<blockquote",
        "<pre",
        "<table",
        "<figure",
        "<hr",
        "<!--",
        "<iframe",
        "<section",
        "<dl",
    ];
    let text = strip_block_comments(&content.replace("\r\n", "\n"));
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let lower = p.to_ascii_lowercase();
            if BLOCKS.iter().any(|b| lower.starts_with(b)) {
                p.to_string()
            } else {
                format!("<p>{}</p>", p.replace('\n', "<br />\n"))
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Drop the block editor's `<!-- wp:... -->` / `<!-- /wp:... -->` markers
/// (WordPress removes them when it renders a post).
fn strip_block_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        let after = rest[start + 4..].trim_start();
        let Some(end) = rest[start..].find("-->") else {
            break;
        };
        out.push_str(&rest[..start]);
        if !(after.starts_with("wp:") || after.starts_with("/wp:")) {
            out.push_str(&rest[start..start + end + 3]);
        }
        rest = &rest[start + end + 3..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autop_wraps_plain_paragraphs_and_leaves_blocks() {
        assert_eq!(
            autop("One\nline two\n\n<h2>Head</h2>\n\nThree"),
            "<p>One<br />\nline two</p>\n<h2>Head</h2>\n<p>Three</p>"
        );
        assert_eq!(autop("  "), "");
        assert_eq!(
            autop("<!-- wp:paragraph -->\n<p>Hi</p>\n<!-- /wp:paragraph -->\n\n<!-- a note -->"),
            "<p>Hi</p>\n<!-- a note -->"
        );
    }
}
