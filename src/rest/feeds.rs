//! `/feeds/...`: the site's, an author's, a source's and a tag's latest
//! articles as RSS 2.0 and Atom 1.0. The service decides what a feed holds;
//! this module only writes it in each format (with the `rss` and
//! `atom_syndication` crates) and answers with caching headers.
//!
//! Public and the same for everyone: a token, good or bad, changes nothing.

use atom_syndication as atom;
use axum::{
    extract::{Path, State},
    http::HeaderMap,
    response::Response,
};
use chrono::{DateTime, Utc};
use rss::extension::{atom::AtomExtension, dublincore::DublinCoreExtension};

use crate::http::problem::ApiError;
use crate::{
    error::AppError,
    rest::{cache::bytes_response, problem::Problem},
    services::feeds::{self, Feed, Scope},
    state::AppState,
};

const PROBLEM: &str = "application/problem+json";
const RSS: &str = "application/rss+xml; charset=utf-8";
const ATOM: &str = "application/atom+xml; charset=utf-8";

/// `max-age` of feeds, in seconds: readers poll, and a few minutes' delay
/// in seeing a new article costs nothing.
pub const FEED_MAX_AGE: u32 = 300;

/// The two formats, each at its own file name under a feed's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Rss,
    Atom,
}

async fn respond(
    state: &AppState,
    headers: &HeaderMap,
    scope: Scope,
    format: Format,
) -> Result<Response, ApiError> {
    let feed = feeds::build(state, &scope).await?;
    let (content_type, bytes) = match format {
        Format::Rss => (RSS, xml_chars_only(rss_bytes(&feed)?)),
        Format::Atom => (ATOM, xml_chars_only(atom_bytes(&feed)?)),
    };
    Ok(bytes_response(
        headers,
        content_type,
        bytes,
        feed.updated,
        FEED_MAX_AGE,
    ))
}

/// The document without the characters XML 1.0 forbids (control
/// characters in rows written before input refused them): a feed reader
/// drops a whole feed over one of them.
fn xml_chars_only(bytes: Vec<u8>) -> Vec<u8> {
    match String::from_utf8(bytes) {
        Ok(doc) => match crate::domain::text::xml_safe(&doc) {
            std::borrow::Cow::Borrowed(_) => doc.into_bytes(),
            std::borrow::Cow::Owned(clean) => clean.into_bytes(),
        },
        Err(e) => e.into_bytes(),
    }
}

/// RSS 2.0. Bylines go in `dc:creator` (RSS `<author>` must be an email
/// address, and authors' emails are never published); a cross-post names its
/// outlet in `<source>` and links the original with `atom:link rel="via"`.
fn rss_bytes(feed: &Feed) -> Result<Vec<u8>, AppError> {
    let items: Vec<rss::Item> = feed
        .entries
        .iter()
        .map(|e| {
            let mut links = Vec::new();
            let mut source = None;
            if let Some(c) = &e.cross_post {
                if let Some(url) = &c.original_url {
                    links.push(atom_link(
                        url,
                        "via",
                        Some(&c.source_name),
                        Some("text/html"),
                    ));
                }
                source = c
                    .source_home_url
                    .as_ref()
                    .or(c.original_url.as_ref())
                    .map(|url| {
                        rss::SourceBuilder::default()
                            .url(url.clone())
                            .title(c.source_name.clone())
                            .build()
                    });
            }
            rss::ItemBuilder::default()
                .title(e.title.clone())
                .link(e.url.clone())
                .guid(
                    rss::GuidBuilder::default()
                        .value(e.id.clone())
                        .permalink(false)
                        .build(),
                )
                .pub_date(rfc2822(e.published))
                .description(e.summary.clone())
                .content(e.content_html.clone())
                .categories(
                    e.categories
                        .iter()
                        .map(|name| rss::CategoryBuilder::default().name(name.clone()).build())
                        .collect::<Vec<_>>(),
                )
                .source(source)
                .dublin_core_ext((!e.authors.is_empty()).then(|| DublinCoreExtension {
                    creators: e.authors.iter().map(|p| p.name.clone()).collect(),
                    ..Default::default()
                }))
                .atom_ext((!links.is_empty()).then_some(AtomExtension { links }))
                .build()
        })
        .collect();
    let channel = rss::ChannelBuilder::default()
        .title(feed.title.clone())
        .link(feed.home_url.clone())
        .description(feed.description.clone())
        .generator(feeds::SITE_NAME.to_string())
        .last_build_date(feed.updated.map(rfc2822))
        .atom_ext(AtomExtension {
            links: vec![atom_link(
                &feed.self_url("rss.xml"),
                "self",
                None,
                Some("application/rss+xml"),
            )],
        })
        .items(items)
        .build();
    channel
        .write_to(Vec::new())
        .map_err(|e| AppError::internal(anyhow::anyhow!("writing an RSS feed: {e}")))
}

/// Atom 1.0. The `alternate` link of an entry is the article on this site;
/// a cross-post adds `rel="via"` to the original (RFC 4287 §4.2.7.2: the
/// source of the information) titled with the outlet's name.
fn atom_bytes(feed: &Feed) -> Result<Vec<u8>, AppError> {
    let entries: Vec<atom::Entry> = feed
        .entries
        .iter()
        .map(|e| {
            let mut links = vec![atom_link(&e.url, "alternate", None, Some("text/html"))];
            if let Some(c) = &e.cross_post
                && let Some(url) = &c.original_url
            {
                links.push(atom_link(
                    url,
                    "via",
                    Some(&c.source_name),
                    Some("text/html"),
                ));
            }
            atom::EntryBuilder::default()
                .title(atom::Text::plain(e.title.clone()))
                .id(e.id.clone())
                .updated(e.updated.fixed_offset())
                .published(Some(e.published.fixed_offset()))
                .authors(
                    e.authors
                        .iter()
                        .map(|p| atom::Person {
                            name: p.name.clone(),
                            uri: p.url.clone(),
                            ..Default::default()
                        })
                        .collect::<Vec<_>>(),
                )
                .categories(
                    e.categories
                        .iter()
                        .map(|name| atom::Category {
                            term: name.clone(),
                            ..Default::default()
                        })
                        .collect::<Vec<_>>(),
                )
                .links(links)
                .summary(Some(atom::Text::plain(e.summary.clone())))
                .content(Some(atom::Content {
                    // Relative links in a body resolve against the article.
                    base: Some(e.url.clone()),
                    value: Some(e.content_html.clone()),
                    content_type: Some("html".into()),
                    ..Default::default()
                }))
                .build()
        })
        .collect();
    let feed = atom::FeedBuilder::default()
        .title(atom::Text::plain(feed.title.clone()))
        .id(feed.self_url("atom.xml"))
        // Atom requires `updated`; an empty feed without a date says the epoch.
        .updated(
            feed.updated
                .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
                .fixed_offset(),
        )
        .subtitle(Some(atom::Text::plain(feed.description.clone())))
        // Entries without a byline fall back to the publication (RFC 4287 §4.1.1).
        .author(atom::Person {
            name: feeds::SITE_NAME.to_string(),
            ..Default::default()
        })
        .link(atom_link(
            &feed.self_url("atom.xml"),
            "self",
            None,
            Some("application/atom+xml"),
        ))
        .link(atom_link(
            &feed.home_url,
            "alternate",
            None,
            Some("text/html"),
        ))
        .generator(Some(atom::Generator {
            value: feeds::SITE_NAME.to_string(),
            ..Default::default()
        }))
        .entries(entries)
        .build();
    feed.write_to(Vec::new())
        .map_err(|e| AppError::internal(anyhow::anyhow!("writing an Atom feed: {e}")))
}

fn atom_link(href: &str, rel: &str, title: Option<&str>, mime_type: Option<&str>) -> atom::Link {
    atom::Link {
        href: href.to_string(),
        rel: rel.to_string(),
        title: title.map(str::to_string),
        mime_type: mime_type.map(str::to_string),
        ..Default::default()
    }
}

// ---------------------------------------------------------------- handlers

/// The site's latest articles as RSS 2.0.
#[utoipa::path(get, path = "/feeds/rss.xml", tag = "feeds",
    responses((status = 200, description = "RSS 2.0 feed of the latest visible articles, newest first", body = String, content_type = "application/rss+xml",
                headers(("ETag" = String, description = "Strong validator of these bytes"),
                        ("Last-Modified" = String, description = "Latest change to anything the feed shows"))),
              (status = 304, description = "Not modified (If-None-Match, or If-Modified-Since)")))]
pub async fn rss_feed(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    respond(&state, &headers, Scope::Site, Format::Rss).await
}

/// The site's latest articles as Atom 1.0.
#[utoipa::path(get, path = "/feeds/atom.xml", tag = "feeds",
    responses((status = 200, description = "Atom 1.0 feed of the latest visible articles, newest first", body = String, content_type = "application/atom+xml",
                headers(("ETag" = String, description = "Strong validator of these bytes"),
                        ("Last-Modified" = String, description = "Latest change to anything the feed shows"))),
              (status = 304, description = "Not modified (If-None-Match, or If-Modified-Since)")))]
pub async fn atom_feed(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    respond(&state, &headers, Scope::Site, Format::Atom).await
}

/// An author's latest articles as RSS 2.0.
#[utoipa::path(get, path = "/feeds/authors/{id_or_slug}/rss.xml", tag = "feeds",
    params(("id_or_slug" = String, Path, description = "Author id or slug")),
    responses((status = 200, description = "RSS 2.0 feed of the author's latest visible articles", body = String, content_type = "application/rss+xml",
                headers(("ETag" = String, description = "Strong validator of these bytes"),
                        ("Last-Modified" = String, description = "Latest change to anything the feed shows"))),
              (status = 304, description = "Not modified (If-None-Match, or If-Modified-Since)"),
              (status = 404, description = "No such author", body = Problem, content_type = PROBLEM)))]
pub async fn author_rss_feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(x): Path<String>,
) -> Result<Response, ApiError> {
    respond(&state, &headers, Scope::Author(x), Format::Rss).await
}

/// An author's latest articles as Atom 1.0.
#[utoipa::path(get, path = "/feeds/authors/{id_or_slug}/atom.xml", tag = "feeds",
    params(("id_or_slug" = String, Path, description = "Author id or slug")),
    responses((status = 200, description = "Atom 1.0 feed of the author's latest visible articles", body = String, content_type = "application/atom+xml",
                headers(("ETag" = String, description = "Strong validator of these bytes"),
                        ("Last-Modified" = String, description = "Latest change to anything the feed shows"))),
              (status = 304, description = "Not modified (If-None-Match, or If-Modified-Since)"),
              (status = 404, description = "No such author", body = Problem, content_type = PROBLEM)))]
pub async fn author_atom_feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(x): Path<String>,
) -> Result<Response, ApiError> {
    respond(&state, &headers, Scope::Author(x), Format::Atom).await
}

/// A source's latest cross-posted articles as RSS 2.0.
#[utoipa::path(get, path = "/feeds/sources/{id_or_slug}/rss.xml", tag = "feeds",
    params(("id_or_slug" = String, Path, description = "Source id or slug")),
    responses((status = 200, description = "RSS 2.0 feed of the latest visible articles cross-posted from the source", body = String, content_type = "application/rss+xml",
                headers(("ETag" = String, description = "Strong validator of these bytes"),
                        ("Last-Modified" = String, description = "Latest change to anything the feed shows"))),
              (status = 304, description = "Not modified (If-None-Match, or If-Modified-Since)"),
              (status = 404, description = "No such source", body = Problem, content_type = PROBLEM)))]
pub async fn source_rss_feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(x): Path<String>,
) -> Result<Response, ApiError> {
    respond(&state, &headers, Scope::Source(x), Format::Rss).await
}

/// A source's latest cross-posted articles as Atom 1.0.
#[utoipa::path(get, path = "/feeds/sources/{id_or_slug}/atom.xml", tag = "feeds",
    params(("id_or_slug" = String, Path, description = "Source id or slug")),
    responses((status = 200, description = "Atom 1.0 feed of the latest visible articles cross-posted from the source", body = String, content_type = "application/atom+xml",
                headers(("ETag" = String, description = "Strong validator of these bytes"),
                        ("Last-Modified" = String, description = "Latest change to anything the feed shows"))),
              (status = 304, description = "Not modified (If-None-Match, or If-Modified-Since)"),
              (status = 404, description = "No such source", body = Problem, content_type = PROBLEM)))]
pub async fn source_atom_feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(x): Path<String>,
) -> Result<Response, ApiError> {
    respond(&state, &headers, Scope::Source(x), Format::Atom).await
}

/// A tag's latest articles as RSS 2.0.
#[utoipa::path(get, path = "/feeds/tags/{id_or_slug}/rss.xml", tag = "feeds",
    params(("id_or_slug" = String, Path, description = "Tag id or slug")),
    responses((status = 200, description = "RSS 2.0 feed of the tag's latest visible articles", body = String, content_type = "application/rss+xml",
                headers(("ETag" = String, description = "Strong validator of these bytes"),
                        ("Last-Modified" = String, description = "Latest change to anything the feed shows"))),
              (status = 304, description = "Not modified (If-None-Match, or If-Modified-Since)"),
              (status = 404, description = "No such tag", body = Problem, content_type = PROBLEM)))]
pub async fn tag_rss_feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(x): Path<String>,
) -> Result<Response, ApiError> {
    respond(&state, &headers, Scope::Tag(x), Format::Rss).await
}

/// A tag's latest articles as Atom 1.0.
#[utoipa::path(get, path = "/feeds/tags/{id_or_slug}/atom.xml", tag = "feeds",
    params(("id_or_slug" = String, Path, description = "Tag id or slug")),
    responses((status = 200, description = "Atom 1.0 feed of the tag's latest visible articles", body = String, content_type = "application/atom+xml",
                headers(("ETag" = String, description = "Strong validator of these bytes"),
                        ("Last-Modified" = String, description = "Latest change to anything the feed shows"))),
              (status = 304, description = "Not modified (If-None-Match, or If-Modified-Since)"),
              (status = 404, description = "No such tag", body = Problem, content_type = PROBLEM)))]
pub async fn tag_atom_feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(x): Path<String>,
) -> Result<Response, ApiError> {
    respond(&state, &headers, Scope::Tag(x), Format::Atom).await
}

/// RFC 2822 date for RSS. chrono panics on years outside 0 to 9999, which
/// input validation refuses; a row stored before that check (or imported)
/// is clamped to the nearest date RSS can carry rather than failing the feed.
fn rfc2822(at: DateTime<Utc>) -> String {
    let first = DateTime::<Utc>::from_timestamp(-62_135_596_800, 0).unwrap_or(at); // 0001-01-01
    let last = DateTime::<Utc>::from_timestamp(253_402_300_799, 0).unwrap_or(at); // 9999-12-31T23:59:59
    at.clamp(first, last).to_rfc2822()
}
