//! `GET /api/v1/articles`: visibility, embedding, pagination and its errors.

use broadsheet::{
    domain::body::BodyFormat,
    services::articles::{self, NewArticle},
};
use chrono::{Duration, Utc};
use serde_json::Value;

use crate::{
    both_backends,
    helpers::{TestApp, assert_problem, problem_fields},
};

/// The title and slug of the demo article (`seed --demo`), a CGTN cross-post.
pub const DEMO_TITLE: &str = concat!(
    "Danny Haiphong: China-Russia partnership is a model for global cooperation",
    " in the 21st Century"
);
pub const DEMO_SLUG: &str = concat!(
    "danny-haiphong-china-russia-partnership-is-a-model-for-global-cooperation",
    "-in-the-21st-century"
);

/// Arrange an article directly through the service layer (the write API
/// arrives with the content issue). Returns its slug.
pub async fn arrange_article(
    app: &TestApp,
    title: &str,
    status: &'static str,
    published_ago_minutes: Option<i64>,
) -> String {
    let input = NewArticle {
        title: title.into(),
        slug: None,
        standfirst: None,
        excerpt: None,
        body: format!("Body of *{title}*."),
        body_format: BodyFormat::Markdown,
        status,
        published_at: published_ago_minutes
            .map(|m| broadsheet::services::now() - Duration::minutes(m)),
        author_ids: vec![],
        tag_ids: vec![],
        source_id: None,
        original_url: None,
        original_published_at: None,
        comment_status: "open",
        feature_image_url: None,
        feature_image_alt: None,
    };
    articles::insert(&app.state.db, input)
        .await
        .expect("arranged article")
        .slug
}

fn slugs(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .expect("data is a list")
        .iter()
        .map(|a| a["slug"].as_str().unwrap().to_string())
        .collect()
}

both_backends!(
    a_fresh_database_lists_no_articles,
    the_demo_article_lists_with_author_source_and_tags_embedded,
    drafts_archived_and_scheduled_articles_are_invisible,
    lists_are_newest_first_and_paginated_with_link_headers,
    out_of_range_pagination_is_422_naming_each_field
);

async fn a_fresh_database_lists_no_articles(app: TestApp) {
    let resp = app.get("/api/v1/articles").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-total-count"], "0");
    let body: Value = resp.json().await.unwrap();
    let empty = serde_json::json!({
        "data": [],
        "meta": {"page": 1, "per_page": 10, "total": 0, "total_pages": 0}
    });
    assert_eq!(body, empty);
}

async fn the_demo_article_lists_with_author_source_and_tags_embedded(app: TestApp) {
    let out = app.cli(&["seed", "--demo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body = app.get_json("/api/v1/articles", 200).await;
    assert_eq!(body["meta"]["total"], 1);
    let a = &body["data"][0];
    assert_eq!(a["slug"], DEMO_SLUG);
    assert_eq!(a["title"], DEMO_TITLE);
    assert_eq!(a["authors"][0]["name"], "Danny Haiphong");
    assert_eq!(
        a["authors"][0]["title"],
        "Co-editor, Friends of Socialist China"
    );
    assert_eq!(a["source"]["name"], "CGTN");
    assert_eq!(a["source"]["slug"], "cgtn");
    assert_eq!(a["tags"].as_array().unwrap().len(), 2);
    assert_eq!(a["comment_count"], 1);
    assert_eq!(a["comment_status"], "open");
    // A cross-post's canonical URL is the original.
    assert_eq!(a["canonical_url"], a["original_url"]);
    assert!(
        a["original_url"]
            .as_str()
            .unwrap()
            .starts_with("https://news.cgtn.com/")
    );
    assert!(a["standfirst"].as_str().unwrap().contains("CGTN"));
    assert!(a["body_html"].as_str().unwrap().starts_with("<p>"));
    assert!(a["word_count"].as_i64().unwrap() > 100);
    assert!(a["reading_time_minutes"].as_i64().unwrap() >= 1);
    // Private fields are absent, not null.
    for private in [
        "status",
        "body",
        "body_format",
        "created_at",
        "version",
        "feed_url",
    ] {
        assert!(a.get(private).is_none(), "public article exposes {private}");
        assert!(
            a["source"].get(private).is_none(),
            "public source exposes {private}"
        );
    }
    let raw = app.get("/api/v1/articles").await.text().await.unwrap();
    assert!(
        !raw.contains("reader@example.org"),
        "a commenter's email leaked"
    );

    // Seeding again changes nothing.
    let again = app.cli(&["seed", "--demo"]);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("already"));
    assert_eq!(
        app.get_json("/api/v1/articles", 200).await["meta"]["total"],
        1
    );
}

async fn drafts_archived_and_scheduled_articles_are_invisible(app: TestApp) {
    arrange_article(&app, "Visible one", "published", Some(10)).await;
    arrange_article(&app, "A draft", "draft", None).await;
    arrange_article(&app, "A dated draft", "draft", Some(5)).await;
    arrange_article(&app, "Archived", "archived", Some(20)).await;
    arrange_article(&app, "Scheduled", "published", Some(-60)).await;
    arrange_article(&app, "Published without date", "published", None).await;
    let body = app.get_json("/api/v1/articles", 200).await;
    assert_eq!(slugs(&body), vec!["visible-one"]);
    assert_eq!(body["meta"]["total"], 1);
    let gql = app
        .gql(
            "{ articles { totalCount edges { node { slug } } } }",
            Value::Null,
        )
        .await;
    assert_eq!(gql["data"]["articles"]["totalCount"], 1);
    assert_eq!(
        gql["data"]["articles"]["edges"][0]["node"]["slug"],
        "visible-one"
    );
}

async fn lists_are_newest_first_and_paginated_with_link_headers(app: TestApp) {
    for i in 0..25 {
        // i = 0 is the oldest.
        arrange_article(&app, &format!("Article {i}"), "published", Some(100 - i)).await;
    }
    let resp = app.get("/api/v1/articles?per_page=10&page=2").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-total-count"], "25");
    let link = resp.headers()["link"].to_str().unwrap().to_string();
    for rel in [
        "</api/v1/articles?per_page=10&page=1>; rel=\"first\"",
        "</api/v1/articles?per_page=10&page=1>; rel=\"prev\"",
        "</api/v1/articles?per_page=10&page=3>; rel=\"next\"",
        "</api/v1/articles?per_page=10&page=3>; rel=\"last\"",
    ] {
        assert!(link.contains(rel), "{rel} missing from {link}");
    }
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["meta"],
        serde_json::json!({"page": 2, "per_page": 10, "total": 25, "total_pages": 3})
    );
    let expected: Vec<String> = (5..15).rev().map(|i| format!("article-{i}")).collect();
    assert_eq!(slugs(&body), expected);

    let last = app
        .get_json("/api/v1/articles?per_page=10&page=3", 200)
        .await;
    assert_eq!(slugs(&last).len(), 5);
    assert_eq!(slugs(&last).last().unwrap(), "article-0");

    let past = app
        .get_json("/api/v1/articles?page=4&per_page=10", 200)
        .await;
    assert_eq!(past["data"], serde_json::json!([]));
    assert_eq!(past["meta"]["total"], 25);
    // Deeper than BROADSHEET_MAX_LIST_OFFSET: refused (issue 24, finding 6).
    let huge = app
        .get("/api/v1/articles?page=99999999999999999999999")
        .await;
    assert_eq!(huge.status(), 422);
}

async fn out_of_range_pagination_is_422_naming_each_field(app: TestApp) {
    for (query, fields) in [
        ("per_page=0", vec!["per_page"]),
        ("per_page=101", vec!["per_page"]),
        ("page=0", vec!["page"]),
        ("page=-1", vec!["page"]),
        ("page=abc&per_page=x", vec!["page", "per_page"]),
    ] {
        let resp = app.get(&format!("/api/v1/articles?{query}")).await;
        let body = assert_problem(resp, 422, "validation_failed").await;
        let named: Vec<&str> = problem_fields(&body);
        assert_eq!(named, fields, "{query}");
    }
}

#[test]
fn now_is_truncated_to_microseconds() {
    let now = broadsheet::services::now();
    assert_eq!(now.timestamp_subsec_nanos() % 1000, 0);
    assert!((Utc::now() - now).num_seconds() < 5);
}
