//! Authors and terms: WordPress users become authors, categories and tags
//! become tags, and mapped categories become sources.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::services::transfer::{Report, percent_decode, wxr::Node};
use crate::{
    domain::slug,
    entities::{author, source, tag},
    services::{new_id, now},
};

use super::*;

impl Context<'_> {
    pub(super) async fn author(
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
    pub(super) async fn term(
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

    pub(super) fn mapped_source(&self, nicename: &str, name: &str) -> Option<String> {
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
    pub(super) async fn tag(
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
    pub(super) async fn source(
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
}
