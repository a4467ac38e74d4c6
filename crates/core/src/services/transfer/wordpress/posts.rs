//! One WordPress post (or page) into an article: fields, dates, body,
//! bylines, tags, source and slug history, then its comments.

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use crate::services::transfer::{Report, percent_decode, wxr::Node};
use crate::{
    domain::{
        body::{self, BodyFormat},
        slug,
        validate::is_http_url,
    },
    entities::{article, article_author, article_slug, article_tag},
    services::{
        articles::{self, DRAFT, PUBLISHED},
        new_id, now,
    },
};

use super::*;

impl Context<'_> {
    pub(super) async fn post(
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
            .filter(|u| is_http_url(u));
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
}
