//! `/feeds/...`: RSS 2.0 and Atom 1.0 of the latest visible articles — what
//! they hold (bylines, tags, full HTML, cross-post attribution), what they
//! never hold (drafts, scheduled articles, private fields), per-author,
//! per-source and per-tag filtering, escaping, and HTTP caching.

use atom_syndication as atom;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::{
    articles::arrange_article,
    both_backends,
    helpers::{Created, TestApp, assert_problem},
};

const CROSS_POST_TITLE: &str =
    "Danny Haiphong: China-Russia partnership is a model for global cooperation";
const ORIGINAL_URL: &str = "https://news.cgtn.com/news/2021-12-17/china-russia-partnership";
const TRICKY_TITLE: &str = "Xi & Putin: “<partners>” — ‘21st’ <b>century</b> & </title> ]]>";

/// The attribution line under a cross-post's body.
fn attribution() -> String {
    format!("Originally published by <a href=\"{ORIGINAL_URL}\">CGTN</a>")
}

/// What the arranged publication holds.
struct Arranged {
    /// The published CGTN cross-post, as the REST API shows it.
    cross_post: Value,
    /// A published local article by the second author only, newer than the cross-post.
    local: Value,
    danny: Created,
    renee: Created,
    tag: Created,
}

/// Through the REST API as the admin: two authors, CGTN (with a private
/// feed URL), a tag; a published cross-post by both authors with the tag, a
/// newer local article by the second author, a draft and a scheduled article.
async fn arrange(app: &TestApp) -> Arranged {
    let admin = app.admin_token().await;
    let authors = "/api/v1/authors";
    let danny = json!({"name": "Danny Haiphong", "website_url": "https://danny.example"});
    let danny = app.create(&admin, authors, danny).await;
    let renee = json!({"name": "Renée Çelik"});
    let renee = app.create(&admin, authors, renee).await;
    let cgtn = json!({
        "name": "CGTN",
        "homepage_url": "https://news.cgtn.com",
        "feed_url": "https://news.cgtn.com/private-feed.xml"
    });
    let cgtn = app.create(&admin, "/api/v1/sources", cgtn).await;
    let tag = json!({"name": "Multipolarity"});
    let tag = app.create(&admin, "/api/v1/tags", tag).await;
    let hours_ago = |h: i64| (Utc::now() - Duration::hours(h)).to_rfc3339();
    let cross_post = json!({
        "title": CROSS_POST_TITLE,
        "standfirst": "Friends of Socialist China co-editor Danny Haiphong \
                       published the following article in CGTN.",
        "excerpt": "China–Russia relations as a model for cooperation.",
        "body": "First *paragraph* “quoted” & more.\n\n\
                 Second, with [a link](https://example.org/x?a=1&b=2).",
        "status": "published", "published_at": hours_ago(2),
        "author_ids": [danny.id, renee.id], "tag_ids": [tag.id], "source_id": cgtn.id,
        "original_url": ORIGINAL_URL, "original_published_at": "2021-12-17T09:00:00Z"
    });
    let cross_post = app.create_article(&admin, cross_post).await;
    let local = json!({
        "title": "Home grown", "body": "Written here.", "status": "published",
        "published_at": hours_ago(1), "author_ids": [renee.id]
    });
    let local = app.create_article(&admin, local).await;
    let draft = json!({
        "title": "Secret draft", "body": "Not yet.",
        "author_ids": [danny.id], "tag_ids": [tag.id], "source_id": cgtn.id
    });
    app.create_article(&admin, draft).await;
    let scheduled = json!({
        "title": "Scheduled piece", "body": "Tomorrow.", "status": "published",
        "published_at": (Utc::now() + Duration::days(1)).to_rfc3339(),
        "author_ids": [danny.id], "tag_ids": [tag.id], "source_id": cgtn.id
    });
    app.create_article(&admin, scheduled).await;
    // Both as the public sees them.
    let public = |slug: &str| format!("/api/v1/articles/{slug}");
    Arranged {
        cross_post: app.get_json(&public(&cross_post.slug), 200).await,
        local: app.get_json(&public(&local.slug), 200).await,
        danny,
        renee,
        tag,
    }
}

/// GET a feed: 200, the content type, and well-formed, namespace-correct XML
/// (checked by roxmltree, independently of the feed crates). Returns the text.
async fn fetch(app: &TestApp, path: &str, content_type: &str) -> String {
    let resp = app.get(path).await;
    assert_eq!(resp.status(), 200, "GET {path}");
    assert_eq!(resp.headers()["content-type"], content_type, "GET {path}");
    let text = resp.text().await.unwrap();
    if let Err(e) = roxmltree::Document::parse(&text) {
        panic!("GET {path} is not well-formed XML: {e}\n{text}");
    }
    text
}

async fn rss_of(app: &TestApp, path: &str) -> (rss::Channel, String) {
    let text = fetch(app, path, "application/rss+xml; charset=utf-8").await;
    let channel = rss::Channel::read_from(text.as_bytes())
        .unwrap_or_else(|e| panic!("GET {path} is not RSS: {e}\n{text}"));
    (channel, text)
}

async fn atom_of(app: &TestApp, path: &str) -> (atom::Feed, String) {
    let text = fetch(app, path, "application/atom+xml; charset=utf-8").await;
    let feed = atom::Feed::read_from(text.as_bytes())
        .unwrap_or_else(|e| panic!("GET {path} is not Atom: {e}\n{text}"));
    (feed, text)
}

fn rss_titles(c: &rss::Channel) -> Vec<String> {
    c.items()
        .iter()
        .map(|i| i.title().unwrap_or_default().to_string())
        .collect()
}

fn atom_titles(f: &atom::Feed) -> Vec<String> {
    f.entries()
        .iter()
        .map(|e| e.title().value.clone())
        .collect()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

/// Nothing unpublished, scheduled or private may appear in a feed's text.
fn assert_only_public(text: &str) {
    for hidden in [
        "Secret draft",
        "secret-draft",
        "Scheduled piece",
        "scheduled-piece",
        "private-feed.xml",
    ] {
        assert!(!text.contains(hidden), "a feed shows {hidden:?}");
    }
}

both_backends!(
    the_rss_feed_holds_the_published_cross_post_in_full_with_its_attribution,
    the_atom_feed_holds_the_published_cross_post_in_full_with_its_attribution,
    author_source_and_tag_feeds_hold_only_their_articles,
    feeds_answer_304_to_a_matching_etag_or_an_if_modified_since_at_or_after_last_modified,
    titles_with_curly_quotes_ampersands_and_angle_brackets_round_trip,
    an_empty_feed_is_a_valid_feed_without_last_modified,
    a_feed_holds_the_latest_twenty_visible_articles_newest_first
);

async fn the_rss_feed_holds_the_published_cross_post_in_full_with_its_attribution(app: TestApp) {
    let a = arrange(&app).await;
    let (channel, text) = rss_of(&app, "/feeds/rss.xml").await;
    assert_only_public(&text);
    assert_eq!(channel.title(), "Broadsheet");
    assert_eq!(channel.link(), "https://site.example");
    let self_link = &channel.atom_ext().expect("atom:link rel=self").links()[0];
    assert_eq!(
        (self_link.rel(), self_link.href()),
        ("self", "https://site.example/feeds/rss.xml")
    );
    assert!(channel.last_build_date().is_some());
    assert_eq!(
        rss_titles(&channel),
        vec!["Home grown", CROSS_POST_TITLE],
        "newest first, nothing hidden"
    );

    let item = &channel.items()[1];
    let cp = &a.cross_post;
    assert_eq!(
        item.link(),
        Some(format!("https://site.example/articles/{}", s(&cp["slug"])).as_str())
    );
    let guid = item.guid().unwrap();
    assert_eq!(guid.value(), format!("urn:uuid:{}", s(&cp["id"])));
    assert!(!guid.is_permalink());
    // RFC 822 dates carry whole seconds.
    let published = DateTime::parse_from_rfc2822(item.pub_date().unwrap()).unwrap();
    assert_eq!(
        published.timestamp(),
        DateTime::parse_from_rfc3339(s(&cp["published_at"]))
            .unwrap()
            .timestamp()
    );
    let creators = item.dublin_core_ext().expect("dc:creator").creators();
    assert_eq!(creators, ["Danny Haiphong", "Renée Çelik"]);
    assert!(
        item.author().is_none(),
        "RSS <author> is an email, which is never published"
    );
    let categories: Vec<&str> = item.categories().iter().map(|c| c.name()).collect();
    assert_eq!(categories, ["Multipolarity"]);
    assert_eq!(
        item.description(),
        Some("China–Russia relations as a model for cooperation.")
    );
    let content = item.content().expect("content:encoded");
    // (The rss reader trims the trailing newline of the CDATA.)
    assert!(
        content.contains(s(&cp["body_html"]).trim_end()),
        "the full sanitized body: {content}"
    );
    assert!(content.contains(&attribution()), "{content}");
    assert!(
        content.contains("published the following article in CGTN"),
        "the editor's note: {content}"
    );
    let source = item.source().expect("<source>");
    assert_eq!(
        (source.title(), source.url()),
        (Some("CGTN"), "https://news.cgtn.com")
    );
    let via = &item.atom_ext().expect("atom:link rel=via").links()[0];
    assert_eq!(
        (via.rel(), via.href(), via.title()),
        ("via", ORIGINAL_URL, Some("CGTN"))
    );
    // Namespaces as declared in the document (prefixes are the writer's choice).
    let doc = roxmltree::Document::parse(&text).unwrap();
    let dc = doc
        .descendants()
        .filter(|n| n.has_tag_name(("http://purl.org/dc/elements/1.1/", "creator")))
        .count();
    assert_eq!(
        dc, 3,
        "two bylines on the cross-post, one on the local article"
    );

    let local = &channel.items()[0];
    assert!(
        local.source().is_none() && local.atom_ext().is_none(),
        "a local article is not attributed"
    );
    assert!(!local.content().unwrap().contains("Originally published"));
    assert_eq!(local.dublin_core_ext().unwrap().creators(), ["Renée Çelik"]);

    // A token changes nothing: the feed is the public's.
    let admin = app.admin_token().await;
    let with_token = app.get_as(&admin, "/feeds/rss.xml").await;
    assert_eq!(with_token.headers()["cache-control"], "public, max-age=300");
    assert_eq!(with_token.text().await.unwrap(), text);
    let bad_token = app.get_as("not-a-token", "/feeds/rss.xml").await;
    assert_eq!(bad_token.status(), 200);
}

async fn the_atom_feed_holds_the_published_cross_post_in_full_with_its_attribution(app: TestApp) {
    let a = arrange(&app).await;
    let (feed, text) = atom_of(&app, "/feeds/atom.xml").await;
    assert_only_public(&text);
    assert_eq!(feed.title().value, "Broadsheet");
    assert_eq!(feed.id(), "https://site.example/feeds/atom.xml");
    let rels: Vec<(&str, &str)> = feed.links().iter().map(|l| (l.rel(), l.href())).collect();
    assert!(
        rels.contains(&("self", "https://site.example/feeds/atom.xml")),
        "{rels:?}"
    );
    assert!(
        rels.contains(&("alternate", "https://site.example")),
        "{rels:?}"
    );
    assert_eq!(atom_titles(&feed), vec!["Home grown", CROSS_POST_TITLE]);

    let cp = &a.cross_post;
    let entry = &feed.entries()[1];
    assert_eq!(entry.id(), format!("urn:uuid:{}", s(&cp["id"])));
    let links: Vec<(&str, &str, Option<&str>)> = entry
        .links()
        .iter()
        .map(|l| (l.rel(), l.href(), l.title()))
        .collect();
    let local_url = format!("https://site.example/articles/{}", s(&cp["slug"]));
    assert_eq!(
        links,
        vec![
            ("alternate", local_url.as_str(), None),
            ("via", ORIGINAL_URL, Some("CGTN"))
        ]
    );
    let names: Vec<&str> = entry.authors().iter().map(|p| p.name()).collect();
    assert_eq!(names, ["Danny Haiphong", "Renée Çelik"]);
    assert_eq!(entry.authors()[0].uri(), Some("https://danny.example"));
    assert!(entry.authors().iter().all(|p| p.email().is_none()));
    let terms: Vec<&str> = entry.categories().iter().map(|c| c.term()).collect();
    assert_eq!(terms, ["Multipolarity"]);
    let published = DateTime::parse_from_rfc3339(s(&cp["published_at"])).unwrap();
    assert_eq!(entry.published().copied(), Some(published));
    assert!(*entry.updated() >= published);
    assert_eq!(
        entry.summary().unwrap().value,
        "China–Russia relations as a model for cooperation."
    );
    let content = entry.content().expect("<content>");
    assert_eq!(content.content_type(), Some("html"));
    let html = content.value().unwrap();
    assert!(
        html.contains(s(&cp["body_html"])),
        "the full sanitized body: {html}"
    );
    assert!(html.contains(&attribution()), "{html}");
    assert_eq!(
        *feed.updated(),
        *feed.entries()[0].updated().max(entry.updated()),
        "the feed is as new as its newest entry"
    );

    let local = &feed.entries()[0];
    assert_eq!(local.links().len(), 1, "a local article has no via link");
    assert_eq!(local.authors()[0].name(), "Renée Çelik");
    assert_eq!(s(&a.local["title"]), "Home grown");
    assert!(
        local
            .content()
            .unwrap()
            .value()
            .unwrap()
            .contains(s(&a.local["body_html"]))
    );
}

async fn author_source_and_tag_feeds_hold_only_their_articles(app: TestApp) {
    let a = arrange(&app).await;
    let danny = &a.danny.slug;
    let renee = &a.renee.slug;
    let tag = &a.tag.slug;
    let both = vec!["Home grown".to_string(), CROSS_POST_TITLE.to_string()];
    let cross_only = vec![CROSS_POST_TITLE.to_string()];
    let at_site = |path: &str| format!("https://site.example{path}");
    for (path, expected, title, home) in [
        (
            format!("/feeds/authors/{renee}"),
            &both,
            "Broadsheet: articles by Renée Çelik",
            at_site(&format!("/feeds/authors/{renee}")),
        ),
        (
            format!("/feeds/authors/{danny}"),
            &cross_only,
            "Broadsheet: articles by Danny Haiphong",
            at_site(&format!("/feeds/authors/{danny}")),
        ),
        (
            format!("/feeds/authors/{}", a.danny.id),
            &cross_only,
            "Broadsheet: articles by Danny Haiphong",
            at_site(&format!("/feeds/authors/{danny}")),
        ),
        (
            "/feeds/sources/cgtn".to_string(),
            &cross_only,
            "Broadsheet: from CGTN",
            at_site("/feeds/sources/cgtn"),
        ),
        (
            format!("/feeds/tags/{tag}"),
            &cross_only,
            "Broadsheet: Multipolarity",
            at_site(&format!("/feeds/tags/{tag}")),
        ),
        (
            format!("/feeds/tags/{}", a.tag.id),
            &cross_only,
            "Broadsheet: Multipolarity",
            at_site(&format!("/feeds/tags/{tag}")),
        ),
    ] {
        let (channel, text) = rss_of(&app, &format!("{path}/rss.xml")).await;
        assert_only_public(&text);
        assert_eq!(&rss_titles(&channel), expected, "{path}/rss.xml");
        assert_eq!(channel.title(), title);
        let (feed, text) = atom_of(&app, &format!("{path}/atom.xml")).await;
        assert_only_public(&text);
        assert_eq!(&atom_titles(&feed), expected, "{path}/atom.xml");
        assert_eq!(feed.title().value, title);
        // Self links name the feed by slug, however it was asked for.
        assert_eq!(feed.id(), format!("{home}/atom.xml"));
        assert_eq!(
            channel.atom_ext().unwrap().links()[0].href(),
            format!("{home}/rss.xml")
        );
    }
    for kind in ["authors", "sources", "tags"] {
        for file in ["rss.xml", "atom.xml"] {
            let resp = app
                .get(&format!("/feeds/{kind}/no-such-thing/{file}"))
                .await;
            assert_problem(resp, 404, "not_found").await;
        }
    }
}

async fn feeds_answer_304_to_a_matching_etag_or_an_if_modified_since_at_or_after_last_modified(
    app: TestApp,
) {
    let a = arrange(&app).await;
    for path in [
        "/feeds/rss.xml",
        "/feeds/atom.xml",
        "/feeds/tags/multipolarity/atom.xml",
    ] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), 200);
        let h = resp.headers().clone();
        let body = resp.bytes().await.unwrap();
        let etag = h["etag"].to_str().unwrap().to_string();
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "a strong ETag: {etag}"
        );
        assert_eq!(h["cache-control"], "public, max-age=300");
        let last_modified = h["last-modified"].to_str().unwrap().to_string();
        let lm = DateTime::parse_from_rfc2822(&last_modified).unwrap();
        assert!(
            lm <= Utc::now() && lm > Utc::now() - Duration::minutes(5),
            "{last_modified}"
        );

        let again = app.get(path).await;
        assert_eq!(
            again.headers()["etag"].to_str().unwrap(),
            etag,
            "the same bytes, the same ETag"
        );
        assert_eq!(again.bytes().await.unwrap(), body);

        let cond = app.get_with(path, &[("if-none-match", &etag)]).await;
        assert_eq!(cond.status(), 304, "{path} If-None-Match");
        assert_eq!(cond.headers()["etag"].to_str().unwrap(), etag);
        assert!(cond.bytes().await.unwrap().is_empty());

        let other = app
            .get_with(path, &[("if-none-match", "\"something-else\"")])
            .await;
        assert_eq!(other.status(), 200);

        let since = app
            .get_with(path, &[("if-modified-since", &last_modified)])
            .await;
        assert_eq!(
            since.status(),
            304,
            "{path} If-Modified-Since = Last-Modified"
        );
        assert_eq!(
            since.headers()["last-modified"].to_str().unwrap(),
            last_modified
        );
        let later = (lm + Duration::hours(1))
            .to_utc()
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let since = app.get_with(path, &[("if-modified-since", &later)]).await;
        assert_eq!(
            since.status(),
            304,
            "{path} If-Modified-Since after Last-Modified"
        );
        let earlier = (lm - Duration::hours(1))
            .to_utc()
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let since = app.get_with(path, &[("if-modified-since", &earlier)]).await;
        assert_eq!(
            since.status(),
            200,
            "{path} If-Modified-Since before Last-Modified"
        );
        // If-None-Match wins over If-Modified-Since (RFC 9110 §13.1.3).
        let both = app
            .get_with(
                path,
                &[
                    ("if-none-match", "\"something-else\""),
                    ("if-modified-since", last_modified.as_str()),
                ],
            )
            .await;
        assert_eq!(
            both.status(),
            200,
            "{path} a stale ETag with a current date"
        );
    }

    // An edit changes the bytes, so the old ETag no longer matches.
    let before = app.get("/feeds/rss.xml").await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let admin = app.admin_token().await;
    let excerpt = json!({"excerpt": "A new excerpt."});
    let id = s(&a.cross_post["id"]);
    let resp = app.update_article(&admin, id, excerpt).await;
    assert_eq!(resp.status(), 200);
    let after = app
        .get_with("/feeds/rss.xml", &[("if-none-match", &before)])
        .await;
    assert_eq!(after.status(), 200);
    assert_ne!(after.headers()["etag"].to_str().unwrap(), before);
    assert!(after.text().await.unwrap().contains("A new excerpt."));
}

async fn titles_with_curly_quotes_ampersands_and_angle_brackets_round_trip(app: TestApp) {
    let admin = app.admin_token().await;
    let tag = json!({"name": "Q&A <live>"});
    let tag = app.create(&admin, "/api/v1/tags", tag).await;
    let author = json!({"name": "O’Brien & “Sons” <ltd>"});
    let author = app.create(&admin, "/api/v1/authors", author).await;
    let fields = json!({
        "title": TRICKY_TITLE, "standfirst": "Note with <b>markup</b> & “quotes”.",
        "body": "Text & <script>alert(1)</script> more ]]> end.", "body_format": "html",
        "status": "published", "author_ids": [author.id], "tag_ids": [tag.id]
    });
    app.create_article(&admin, fields).await;
    let (channel, text) = rss_of(&app, "/feeds/rss.xml").await;
    assert_eq!(rss_titles(&channel), vec![TRICKY_TITLE]);
    let item = &channel.items()[0];
    assert_eq!(
        item.dublin_core_ext().unwrap().creators(),
        ["O’Brien & “Sons” <ltd>"]
    );
    assert_eq!(item.categories()[0].name(), "Q&A <live>");
    assert!(
        text.contains("Xi &amp; Putin: “&lt;partners&gt;”")
            || text.contains("Xi &amp; Putin: “&lt;partners>”"),
        "{text}"
    );
    let content = item.content().unwrap();
    let note = "<p><em>Note with &lt;b&gt;markup&lt;/b&gt; &amp; “quotes”.</em></p>";
    assert!(content.contains(note), "{content}");
    assert!(!content.contains("<script>"), "{content}");
    assert!(
        content.contains("]]&gt;") || content.contains("]]>"),
        "{content}"
    );

    let (feed, _) = atom_of(&app, "/feeds/atom.xml").await;
    assert_eq!(atom_titles(&feed), vec![TRICKY_TITLE]);
    let entry = &feed.entries()[0];
    assert_eq!(entry.authors()[0].name(), "O’Brien & “Sons” <ltd>");
    assert_eq!(entry.categories()[0].term(), "Q&A <live>");
    assert_eq!(
        entry.content().unwrap().value().unwrap(),
        content,
        "the same HTML in both formats"
    );
}

async fn an_empty_feed_is_a_valid_feed_without_last_modified(app: TestApp) {
    let (channel, _) = rss_of(&app, "/feeds/rss.xml").await;
    assert!(channel.items().is_empty());
    let (feed, _) = atom_of(&app, "/feeds/atom.xml").await;
    assert!(feed.entries().is_empty());
    let resp = app.get("/feeds/atom.xml").await;
    assert!(resp.headers().get("last-modified").is_none());
    assert!(resp.headers().get("etag").is_some());
}

async fn a_feed_holds_the_latest_twenty_visible_articles_newest_first(app: TestApp) {
    for i in 0..23 {
        // i = 0 is the oldest.
        arrange_article(&app, &format!("Article {i}"), "published", Some(100 - i)).await;
    }
    arrange_article(&app, "Future", "published", Some(-10)).await;
    let (channel, _) = rss_of(&app, "/feeds/rss.xml").await;
    let expected: Vec<String> = (3..23).rev().map(|i| format!("Article {i}")).collect();
    assert_eq!(rss_titles(&channel), expected);
    let (feed, _) = atom_of(&app, "/feeds/atom.xml").await;
    assert_eq!(atom_titles(&feed), expected);
}
