//! Syndication feeds: which articles a feed holds (the latest visible ones,
//! taken from [`articles::list`] as the anonymous public sees them, so the
//! visibility rule lives in one place), what the feed is called, and each
//! entry as a feed reader shows it — including the attribution of a
//! cross-post to the outlet it first ran in. The REST layer only writes the
//! result out as RSS 2.0 or Atom 1.0.

use chrono::{DateTime, Utc};

use crate::{
    auth::Actor,
    domain::{comment::escape, pagination::PageRequest},
    error::AppError,
    services::{
        articles::{self, ArticleFilter, ArticleSort, ArticleView},
        taxonomy,
    },
    state::AppState,
};

/// The publication's name in feed titles (there is no site-name setting yet).
pub const SITE_NAME: &str = "Broadsheet";

/// Whose articles a feed holds. Each names its author, source or tag by id or slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Site,
    Author(String),
    Source(String),
    Tag(String),
}

/// A feed, ready to be written in either format.
#[derive(Debug, Clone)]
pub struct Feed {
    pub title: String,
    pub description: String,
    /// The site's home page (the feed's `alternate` link).
    pub home_url: String,
    /// The feed's URL without the format file name, e.g.
    /// `https://site.example/feeds/authors/danny-haiphong`; append
    /// `/rss.xml` or `/atom.xml` (see [`Feed::self_url`]).
    pub base_url: String,
    /// The latest change to anything the feed shows, `None` when it shows
    /// nothing that has a date (an empty site feed).
    pub updated: Option<DateTime<Utc>>,
    /// Newest first.
    pub entries: Vec<Entry>,
}

impl Feed {
    /// The URL this feed is served at in the given format (`rss.xml`, `atom.xml`).
    pub fn self_url(&self, file: &str) -> String {
        format!("{}/{file}", self.base_url)
    }
}

/// A person credited on an entry (authors' emails are never published).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub url: Option<String>,
}

/// Where a cross-posted article first ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossPost {
    /// The outlet's name ("CGTN"), or the original URL's host when the
    /// article names no source.
    pub source_name: String,
    /// The outlet's home page, when known. The source's `feed_url` is
    /// staff-only (API.md) and so never appears in a public feed.
    pub source_home_url: Option<String>,
    /// The article as first published.
    pub original_url: Option<String>,
}

/// One article as a feed reader sees it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Stable and unique: `urn:uuid:<article id>` (slugs may change).
    pub id: String,
    pub title: String,
    /// The article on this site (for a cross-post too; the original is in `cross_post`).
    pub url: String,
    pub published: DateTime<Utc>,
    /// The later of the last edit and the publication instant (a scheduled
    /// article edited before it went out is new when it appears).
    pub updated: DateTime<Utc>,
    /// Bylines in order.
    pub authors: Vec<Person>,
    /// Tag names in order.
    pub categories: Vec<String>,
    /// Plain text: the excerpt (given, or derived from the first paragraph).
    pub summary: String,
    /// Sanitized HTML: the attribution of a cross-post, the editor's note
    /// (standfirst), the feature image and the whole body.
    pub content_html: String,
    pub cross_post: Option<CrossPost>,
}

/// The latest visible articles in `scope`, newest first, at most
/// `BROADSHEET_FEED_SIZE` of them. An unknown author, source or tag is
/// [`AppError::NotFound`].
pub async fn build(state: &AppState, scope: &Scope) -> Result<Feed, AppError> {
    let site = state.config.site_url.as_str();
    let (title, description, path, filter, subject_updated) = match scope {
        Scope::Site => (
            SITE_NAME.to_string(),
            format!("The latest articles from {SITE_NAME}"),
            "/feeds".to_string(),
            ArticleFilter::default(),
            None,
        ),
        Scope::Author(x) => {
            let a = taxonomy::get_author(state, x).await?.author;
            (
                format!("{SITE_NAME}: articles by {}", a.name),
                format!("The latest articles by {} on {SITE_NAME}", a.name),
                format!("/feeds/authors/{}", a.slug),
                ArticleFilter {
                    author: Some(a.id),
                    ..Default::default()
                },
                Some(a.updated_at),
            )
        }
        Scope::Source(x) => {
            let s = taxonomy::get_source(state, x).await?.source;
            (
                format!("{SITE_NAME}: from {}", s.name),
                format!(
                    "The latest articles {SITE_NAME} has republished from {}",
                    s.name
                ),
                format!("/feeds/sources/{}", s.slug),
                ArticleFilter {
                    source: Some(s.id),
                    ..Default::default()
                },
                Some(s.updated_at),
            )
        }
        Scope::Tag(x) => {
            let t = taxonomy::get_tag(state, x).await?.tag;
            (
                format!("{SITE_NAME}: {}", t.name),
                format!("The latest articles tagged {} on {SITE_NAME}", t.name),
                format!("/feeds/tags/{}", t.slug),
                ArticleFilter {
                    tag: Some(t.id),
                    ..Default::default()
                },
                Some(t.updated_at),
            )
        }
    };
    let page = PageRequest {
        page: 1,
        per_page: u64::from(state.config.feed_size.max(1)),
    };
    // Anonymous on purpose: a feed is public whoever fetches it.
    let views = articles::list(
        state,
        &Actor::Anonymous,
        filter,
        ArticleSort::PublishedDesc,
        page,
    )
    .await?
    .items;
    let updated = views.iter().map(last_change).chain(subject_updated).max();
    Ok(Feed {
        title,
        description,
        home_url: site.to_string(),
        base_url: format!("{site}{path}"),
        updated,
        entries: views.iter().map(|v| entry(site, v)).collect(),
    })
}

/// The latest change to anything an entry shows: the article, its
/// publication instant, its bylines, tags and source.
fn last_change(v: &ArticleView) -> DateTime<Utc> {
    let a = &v.article;
    std::iter::once(a.updated_at)
        .chain(a.published_at)
        .chain(v.authors.iter().map(|x| x.updated_at))
        .chain(v.tags.iter().map(|x| x.updated_at))
        .chain(v.source.iter().map(|x| x.updated_at))
        .max()
        .unwrap_or(a.updated_at)
}

fn entry(site: &str, v: &ArticleView) -> Entry {
    let a = &v.article;
    let published = a.published_at.unwrap_or(a.created_at);
    let cross_post = cross_post(v);
    Entry {
        id: format!("urn:uuid:{}", a.id),
        title: a.title.clone(),
        url: articles::local_url(site, a),
        published,
        updated: a.updated_at.max(published),
        authors: v
            .authors
            .iter()
            .map(|p| Person {
                name: p.name.clone(),
                url: p.website_url.clone().filter(|u| !u.is_empty()),
            })
            .collect(),
        categories: v.tags.iter().map(|t| t.name.clone()).collect(),
        summary: v.excerpt(),
        content_html: content_html(v, cross_post.as_ref()),
        cross_post,
    }
}

/// A cross-post is an article with a source or an original URL.
fn cross_post(v: &ArticleView) -> Option<CrossPost> {
    let original_url = v.article.original_url.clone().filter(|u| !u.is_empty());
    match (&v.source, original_url) {
        (Some(s), original_url) => Some(CrossPost {
            source_name: s.name.clone(),
            source_home_url: s.homepage_url.clone().filter(|u| !u.is_empty()),
            original_url,
        }),
        (None, Some(url)) => Some(CrossPost {
            source_name: host_of(&url).to_string(),
            source_home_url: None,
            original_url: Some(url),
        }),
        (None, None) => None,
    }
}

/// `news.cgtn.com` from `https://news.cgtn.com/news/...` (URLs are checked
/// to be absolute http(s) when written).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// The entry's HTML: attribution first (so a reader sees it before the
/// text), then the editor's note, the feature image and the body. Every
/// piece added here is escaped; the body was sanitized when it was written.
fn content_html(v: &ArticleView, cross_post: Option<&CrossPost>) -> String {
    let a = &v.article;
    let mut html = String::new();
    if let Some(c) = cross_post {
        let name = escape(&c.source_name);
        match c.original_url.as_deref().or(c.source_home_url.as_deref()) {
            Some(url) => html.push_str(&format!(
                "<p>Originally published by <a href=\"{}\">{name}</a>.</p>\n",
                escape(url)
            )),
            None => html.push_str(&format!("<p>Originally published by {name}.</p>\n")),
        }
    }
    if let Some(note) = a.standfirst.as_deref().filter(|s| !s.trim().is_empty()) {
        html.push_str(&format!("<p><em>{}</em></p>\n", escape(note)));
    }
    if let Some(src) = a.feature_image_url.as_deref().filter(|s| !s.is_empty()) {
        html.push_str(&format!(
            "<p><img src=\"{}\" alt=\"{}\"></p>\n",
            escape(src),
            escape(a.feature_image_alt.as_deref().unwrap_or(""))
        ));
    }
    html.push_str(&a.body_html);
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_names_an_unnamed_source() {
        assert_eq!(host_of("https://news.cgtn.com/news/x?y=1"), "news.cgtn.com");
        assert_eq!(host_of("http://example.org"), "example.org");
        assert_eq!(host_of("https://example.org#top"), "example.org");
    }
}
