//! Hostile cases: lists, pagination and paths (issue 24, finding 6). Every
//! list on both APIs takes the one validated pagination input: a page or
//! cursor out of range is 422 `validation_failed` / `BAD_USER_INPUT`, never a
//! panic, a wrap to page 1 or another `meta.page` than the one asked for.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use broadsheet::config::Config;
use serde_json::{Value, json};

use super::{As, Body, Case};
use crate::{
    both_backends, both_backends_with,
    helpers::{TestApp, assert_gql_error},
};

/// The default `BROADSHEET_MAX_LIST_OFFSET`.
const DEEP: u64 = 100_000;

/// An opaque cursor as the API encodes them (`v1|order|key|id`).
fn cursor(order: &str, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1|{order}|{key}|0190-forged"))
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// REST lists: (path with its own query, who may read it).
const REST_LISTS: [(&str, As); 8] = [
    ("/api/v1/articles?", As::Anonymous),
    ("/api/v1/search?q=firm&", As::Anonymous),
    ("/api/v1/authors?", As::Anonymous),
    ("/api/v1/sources?", As::Anonymous),
    ("/api/v1/tags?", As::Anonymous),
    ("/api/v1/articles/{article}/comments?", As::Anonymous),
    ("/api/v1/comments?", As::Admin),
    ("/api/v1/users?", As::Admin),
];

/// Bad pagination query strings, each a 422.
const BAD_PAGES: [(&str, &str); 12] = [
    ("a huge page", "page=922337203685477590"),
    ("a huge page of one", "page=9223372036854775807&per_page=1"),
    ("a page past u64", "page=99999999999999999999999"),
    (
        "2^64 - 1 as the page",
        "page=18446744073709551615&per_page=100",
    ),
    ("one page past the deepest", "page=1001&per_page=100"),
    ("page zero", "page=0"),
    ("a negative page", "page=-1"),
    ("a non-numeric page", "page=abc"),
    ("a fractional page", "page=1.5"),
    ("per_page over the max", "per_page=101"),
    ("per_page zero", "per_page=0"),
    ("a negative per_page", "per_page=-10"),
];

/// A GraphQL query taking `$first` and `$after`, for a list `selection`.
fn window(selection: &str) -> String {
    format!("query($first: Int, $after: String) {{ {selection} }}")
}

/// GraphQL lists: (name, query taking `$first` and `$after`, who, the
/// order of its own cursors: `name` for offset lists, else a keyset order).
fn gql_lists() -> Vec<(&'static str, String, As, &'static str)> {
    vec![
        (
            "articles",
            window("articles(first: $first, after: $after) { totalCount }"),
            As::Anonymous,
            "published_at",
        ),
        (
            "search",
            window("search(query: \"firm\", first: $first, after: $after) { totalCount }"),
            As::Anonymous,
            "name",
        ),
        (
            "authors",
            window("authors(first: $first, after: $after) { totalCount }"),
            As::Anonymous,
            "name",
        ),
        (
            "sources",
            window("sources(first: $first, after: $after) { totalCount }"),
            As::Anonymous,
            "name",
        ),
        (
            "tags",
            window("tags(first: $first, after: $after) { totalCount }"),
            As::Anonymous,
            "name",
        ),
        (
            "an article's comments",
            window(
                "articles(first: 1) { edges { node { \
                 comments(first: $first, after: $after) { totalCount } } } }",
            ),
            As::Anonymous,
            "created_at",
        ),
        (
            "the moderation queue",
            window("comments(first: $first, after: $after) { totalCount }"),
            As::Admin,
            "name",
        ),
        (
            "users",
            window("users(first: $first, after: $after) { totalCount }"),
            As::Admin,
            "created_at",
        ),
    ]
}

pub fn cases() -> Vec<Case> {
    let mut cases = vec![
        Case::get(
            "a NUL in a path",
            "/api/v1/articles/abc%00def",
            400,
            "bad_request",
        ),
        Case::send(
            "a truncated JSON body",
            "POST",
            "/api/v1/articles",
            As::Admin,
            Body::Raw("application/json", b"{\"title\": ".to_vec()),
            400,
            "bad_request",
        ),
        Case::send(
            "a comment with no fields",
            "POST",
            "/api/v1/articles/{article}/comments",
            As::Anonymous,
            Body::Json(json!({})),
            422,
            "validation_failed",
        ),
        Case::gql(
            "a field that does not exist",
            "{ nope }",
            json!(null),
            200,
            "BAD_USER_INPUT",
        ),
    ];
    // Every REST list × every bad page (webhook deliveries: the named test
    // below, which needs a real endpoint).
    for (list, who) in REST_LISTS {
        for (what, query) in BAD_PAGES {
            cases.push(Case::send(
                leak(format!("finding 6: {what} on {list}")),
                "GET",
                format!("{list}{query}"),
                who,
                Body::None,
                422,
                "validation_failed",
            ));
        }
    }
    // Every GraphQL list × every bad window or cursor.
    let huge = u64::MAX.to_string();
    for (list, query, who, order) in gql_lists() {
        let other_order = if order == "name" {
            "published_at"
        } else {
            "name"
        };
        let deepest = if order == "name" {
            (DEEP - 5).to_string()
        } else {
            "1700000000000000".into()
        };
        let bad: Vec<(String, Value)> = vec![
            ("first over 100".into(), json!({"first": 101})),
            ("a negative first".into(), json!({"first": -1})),
            (
                "a forged cursor at offset 2^64 - 1".into(),
                json!({"after": cursor(order, &huge)}),
            ),
            (
                "a forged cursor at offset 2^63".into(),
                json!({"after": cursor(order, "9223372036854775808")}),
            ),
            (
                "a cursor that is not base64".into(),
                json!({"after": "!!not a cursor!!"}),
            ),
            (
                "a cursor of base64 garbage".into(),
                json!({"after": URL_SAFE_NO_PAD.encode([0xff, 0xfe, 0x00, 0x7c])}),
            ),
            (
                "a cursor of another list's order".into(),
                json!({"after": cursor(other_order, &deepest)}),
            ),
        ];
        let mut bad = bad;
        if order == "name" {
            bad.push((
                "a forged cursor with a negative key".into(),
                json!({"after": cursor(order, "-1")}),
            ));
            bad.push((
                "a cursor reaching past the deepest offset".into(),
                json!({"first": 10, "after": cursor(order, &deepest)}),
            ));
        }
        for (what, variables) in bad {
            cases.push(Case {
                who,
                ..Case::gql(
                    leak(format!("finding 6: {what} on GraphQL {list}")),
                    &query,
                    variables,
                    200,
                    "BAD_USER_INPUT",
                )
            });
        }
    }
    cases
}

/// `meta.page` of a REST list read.
async fn meta_page(app: &TestApp, admin: &str, path: &str) -> (u16, Value) {
    let resp = app.get_as(admin, path).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

both_backends!(
    finding_6_the_deepest_page_of_every_list_is_the_page_asked_for,
    finding_6_an_offset_cursor_at_2_pow_64_minus_1_does_not_wrap_to_the_first_page,
    finding_6_webhook_deliveries_refuse_forged_pages_and_cursors
);

async fn finding_6_the_deepest_page_of_every_list_is_the_page_asked_for(app: TestApp) {
    let admin = app.admin_token().await;
    let created = app
        .create_article(
            &admin,
            json!({
                "title": "Deep lists", "body": "Firm text.", "status": "published"}),
        )
        .await;
    let id = created.id.as_str();
    for (list, _) in REST_LISTS {
        let list = list.replace("{article}", id);
        for per_page in [1, 7, 100] {
            let deepest = DEEP / per_page;
            let (status, body) = meta_page(
                &app,
                &admin,
                &format!("{list}page={deepest}&per_page={per_page}"),
            )
            .await;
            assert_eq!(status, 200, "{list} page {deepest}: {body}");
            assert_eq!(body["meta"]["page"], json!(deepest), "{list}: {body}");
            assert_eq!(body["meta"]["per_page"], json!(per_page), "{list}: {body}");
            assert_eq!(body["data"], json!([]), "{list}: {body}");
            let (status, body) = meta_page(
                &app,
                &admin,
                &format!("{list}page={}&per_page={per_page}", deepest + 1),
            )
            .await;
            assert_eq!(status, 422, "{list} page {}: {body}", deepest + 1);
            assert_eq!(body["code"], "validation_failed");
            assert_eq!(body["errors"][0]["field"], "page", "{body}");
        }
    }
}

async fn finding_6_an_offset_cursor_at_2_pow_64_minus_1_does_not_wrap_to_the_first_page(
    app: TestApp,
) {
    let admin = app.admin_token().await;
    for name in ["alpha", "beta"] {
        let resp = app
            .post(Some(&admin), "/api/v1/tags", json!({"name": name}))
            .await;
        assert_eq!(resp.status(), 201);
    }
    let forged = cursor("name", &u64::MAX.to_string());
    let body = app
        .gql(
            "query($a: String) { tags(first: 5, after: $a) { edges { node { name } } } }",
            json!({"a": forged}),
        )
        .await;
    assert_gql_error(&body, "BAD_USER_INPUT");
    assert_eq!(body["data"], Value::Null, "{body}");
    // A real cursor still pages on.
    let first = app
        .gql(
            "{ tags(first: 1) { edges { cursor node { name } } } }",
            json!(null),
        )
        .await;
    let after = first["data"]["tags"]["edges"][0]["cursor"].clone();
    let next = app
        .gql(
            "query($a: String) { tags(first: 5, after: $a) { edges { node { name } } } }",
            json!({"a": after}),
        )
        .await;
    assert_eq!(
        next["data"]["tags"]["edges"],
        json!([{"node": {"name": "beta"}}]),
        "{next}"
    );
}

async fn finding_6_webhook_deliveries_refuse_forged_pages_and_cursors(app: TestApp) {
    let admin = app.admin_token().await;
    let hook = crate::hostile::network::stored_webhook(&app, "https://hooks.example.test/in").await;
    let path = format!("/api/v1/webhooks/{hook}/deliveries");
    for (what, query) in BAD_PAGES {
        let (status, body) = meta_page(&app, &admin, &format!("{path}?{query}")).await;
        assert_eq!(status, 422, "{what}: {body}");
        assert_eq!(body["code"], "validation_failed", "{what}: {body}");
    }
    let (status, body) = meta_page(&app, &admin, &format!("{path}?page=1000&per_page=100")).await;
    assert_eq!(
        (status, body["meta"]["page"].clone()),
        (200, json!(1000)),
        "{body}"
    );
    let query = "query($id: ID!, $first: Int, $after: String) { \
                 webhook(id: $id) { deliveries(first: $first, after: $after) { totalCount } } }";
    for variables in [
        json!({"id": hook, "after": cursor("created_at", &u64::MAX.to_string())}),
        json!({"id": hook, "after": cursor("name", "5")}),
        json!({"id": hook, "after": "%%%"}),
        json!({"id": hook, "first": 101}),
        json!({"id": hook, "first": -1}),
    ] {
        let body = app.gql_as(Some(&admin), query, variables.clone()).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{variables}: {body}"
        );
    }
}

fn a_list_depth_of_100(config: &mut Config) {
    config.max_list_offset = 100;
}

both_backends_with!(a_list_depth_of_100, finding_6_the_list_depth_is_a_setting);

async fn finding_6_the_list_depth_is_a_setting(app: TestApp) {
    let (ok, _) = (
        app.get("/api/v1/tags?page=10&per_page=10").await.status(),
        (),
    );
    assert_eq!(ok, 200);
    let resp = app.get("/api/v1/tags?page=11&per_page=10").await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("100"),
        "{body}"
    );
    let deep = cursor("name", "95");
    let body = app
        .gql(
            "query($a: String) { tags(first: 10, after: $a) { totalCount } }",
            json!({"a": deep}),
        )
        .await;
    assert_gql_error(&body, "BAD_USER_INPUT");
}
