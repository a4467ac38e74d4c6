//! The next of each kind (issue 24): faults of the review's classes that a
//! second look found elsewhere, each a named test on both backends.
//! `audit_N` is the number in the follow-up audit.

use broadsheet::config::Config;
use serde_json::{Value, json};

use super::{As, Body, Case};
use crate::{
    both_backends, both_backends_with,
    helpers::{TestApp, assert_gql_error, assert_problem},
};

pub fn cases() -> Vec<Case> {
    vec![
        Case::send(
            "a publication date before the year 1 once its offset is applied",
            "POST",
            "/api/v1/articles",
            As::Admin,
            Body::Json(
                json!({"title": "Ancient", "body": "x", "status": "published",
                "published_at": "0000-01-01T00:00:00+23:59"}),
            ),
            422,
            "validation_failed",
        ),
        Case::send(
            "an original publication date after the year 9999 once its offset is applied",
            "POST",
            "/api/v1/articles",
            As::Admin,
            Body::Json(json!({"title": "Future", "body": "x",
                "original_published_at": "9999-12-31T23:59:59-23:59"})),
            422,
            "validation_failed",
        ),
        Case::send(
            "an update scheduling the standing article before the year 1",
            "PATCH",
            "/api/v1/articles/{article}",
            As::Admin,
            Body::Json(json!({"published_at": "0000-06-01T00:00:00Z"})),
            422,
            "validation_failed",
        ),
        Case::send(
            "51 tags on one article",
            "POST",
            "/api/v1/articles",
            As::Admin,
            Body::Json(json!({"title": "Tagged", "body": "x",
                "tag_ids": (0..51).map(|i| format!("t{i}")).collect::<Vec<_>>()})),
            422,
            "validation_failed",
        ),
    ]
}

both_backends!(
    audit_2_made_up_methods_leave_the_metrics_bounded,
    audit_5_feeds_survive_any_stored_date_and_dates_are_checked_on_both_apis,
    audit_7_long_id_lists_are_refused_before_the_database_sees_them,
    audit_17_a_client_request_id_is_echoed_only_when_it_is_a_short_token
);

async fn audit_2_made_up_methods_leave_the_metrics_bounded(app: TestApp) {
    // Before: each unknown method was a label kept forever (9 KB each;
    // /metrics grew to 410 MB after 5,000 of them).
    app.get("/healthz").await;
    let before = app.metrics().await.len();
    for i in 0..200 {
        let method = reqwest::Method::from_bytes(format!("ZZ{i:04}QQ").as_bytes()).unwrap();
        let resp = app
            .client
            .request(method, app.url("/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 405);
    }
    let page = app.metrics().await;
    assert!(
        !page.contains("ZZ0001QQ"),
        "a made-up method became a label"
    );
    assert!(
        page.contains("method=\"other\""),
        "made-up methods are counted as other"
    );
    assert!(
        page.len() < before + 8_000,
        "200 made-up methods grew /metrics from {before} to {} bytes",
        page.len()
    );
}

async fn audit_5_feeds_survive_any_stored_date_and_dates_are_checked_on_both_apis(app: TestApp) {
    let admin = app.admin_token().await;
    // Before: accepted, stored as year -1, and every RSS feed it was in
    // answered 500 (a panic formatting the date).
    let resp = app
        .post(
            Some(&admin),
            "/api/v1/articles",
            json!({
            "title": "Ancient", "body": "x", "status": "published",
            "published_at": "0000-01-01T00:00:00+23:59"}),
        )
        .await;
    let problem = assert_problem(resp, 422, "validation_failed").await;
    assert!(problem.to_string().contains("published_at"), "{problem}");
    let create = "mutation { createArticle(input: {title: \"Old\", body: \"x\", \
                  status: PUBLISHED, publishedAt: \"0000-01-01T00:00:00+23:59\"}) { id } }";
    let gql = app.gql_as(Some(&admin), create, Value::Null).await;
    assert_gql_error(&gql, "BAD_USER_INPUT");
    // The earliest and latest dates that are accepted still make feeds.
    for at in ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"] {
        let resp = app
            .post(
                Some(&admin),
                "/api/v1/articles",
                json!({
                "title": format!("Dated {at}"), "body": "x", "status": "published",
                "published_at": at, "original_published_at": at}),
            )
            .await;
        assert_eq!(resp.status(), 201, "{at}");
    }
    let resp = app.get("/feeds/rss.xml").await;
    assert_eq!(resp.status(), 200);
    let xml = resp.text().await.unwrap();
    assert!(
        xml.contains("Mon, 1 Jan 0001 00:00:00 +0000") || xml.contains("01 Jan 0001"),
        "{xml}"
    );
    assert_eq!(app.get("/feeds/atom.xml").await.status(), 200);
}

async fn audit_7_long_id_lists_are_refused_before_the_database_sees_them(app: TestApp) {
    // Before: 40,000 tag ids were 40,000 SQL variables: 500 internal.
    let admin = app.admin_token().await;
    let ids: Vec<String> = (0..40_000).map(|i| format!("t{i}")).collect();
    for field in ["tag_ids", "author_ids"] {
        let resp = app
            .post(
                Some(&admin),
                "/api/v1/articles",
                json!({
                "title": "Many", "body": "x", field: ids}),
            )
            .await;
        let problem = assert_problem(resp, 422, "validation_failed").await;
        assert!(problem.to_string().contains("at most"), "{problem}");
    }
    let create = "mutation($ids: [ID!]) { \
                  createArticle(input: {title: \"Many\", body: \"x\", tagIds: $ids}) { id } }";
    let gql = app.gql_as(Some(&admin), create, json!({"ids": ids})).await;
    assert_gql_error(&gql, "BAD_USER_INPUT");
    assert_eq!(
        app.get_json("/api/v1/articles", 200).await["meta"]["total"],
        0
    );
}

async fn audit_17_a_client_request_id_is_echoed_only_when_it_is_a_short_token(app: TestApp) {
    let resp = app
        .get_with("/healthz", &[("x-request-id", "a".repeat(7_000))])
        .await;
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(id.len() <= 64 && !id.starts_with("aaaa"), "{id}");
    let resp = app
        .get_with("/healthz", &[("x-request-id", "lb-7f3a.1:9")])
        .await;
    assert_eq!(resp.headers()["x-request-id"], "lb-7f3a.1:9");
    let resp = app
        .get_with("/healthz", &[("x-request-id", "has space")])
        .await;
    assert_ne!(resp.headers()["x-request-id"], "has space");
}

/// Behind a proxy at 127.0.0.1 (so a test picks its client address), five
/// comments a minute per client.
fn behind_a_proxy_five_comments_a_minute(config: &mut Config) {
    config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    config.comment_rate_per_minute = 5;
}

both_backends_with!(
    behind_a_proxy_five_comments_a_minute,
    audit_8_comment_limit_counts_an_ipv6_client_by_its_64
);

/// Comments are limited per client network: an IPv6 client by its /64 (it
/// holds 2^64 addresses), a mapped IPv4 address as the IPv4 one.
async fn audit_8_comment_limit_counts_an_ipv6_client_by_its_64(app: TestApp) {
    let admin = app.admin_token().await;
    let made = app
        .create_article(
            &admin,
            json!({
                    "title": "Open", "body": "x", "status": "published"}),
        )
        .await;
    let path = format!("/api/v1/articles/{}/comments", made.id.as_str());
    let comment = |ip: String, i: usize| {
        let app = app.clone();
        let path = path.clone();
        async move {
            app.client
                .post(app.url(&path))
                .header("x-forwarded-for", ip)
                .json(
                    &json!({"author_name": "R", "author_email": format!("r{i}@example.net"),
                            "body": format!("Comment {i}")}),
                )
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for i in 0..5 {
        let status = comment(format!("2001:db8:1:2::{:x}", i + 1), i).await;
        assert!(status == 201 || status == 202, "{status}");
    }
    // Before: a new address of the same /64 was a new budget.
    assert_eq!(comment("2001:db8:1:2:ffff::9".into(), 5).await, 429);
    assert_eq!(comment("::ffff:198.51.100.7".into(), 6).await / 100, 2);
    for i in 0..4 {
        assert_eq!(comment("198.51.100.7".into(), 7 + i).await / 100, 2);
    }
    assert_eq!(comment("::ffff:198.51.100.7".into(), 11).await, 429);
    // Another network is not held.
    assert_eq!(comment("2001:db8:1:3::1".into(), 12).await / 100, 2);
}
