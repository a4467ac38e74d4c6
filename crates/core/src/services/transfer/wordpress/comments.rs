//! A post's threaded comments, parents before replies.

use std::collections::HashMap;

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use crate::services::transfer::{Notice, Report, wxr::Node};
use crate::{
    domain::body::{self, BodyFormat},
    entities::comment,
    services::{comments as comment_rules, new_id, now},
};

use super::*;

impl Context<'_> {
    /// The post's comments, parents before replies.
    pub(super) async fn comments(
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

    pub(super) async fn comment(
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
