//! Hostile cases: GraphQL documents (issue 24, finding 1) and what the
//! response cache keeps of GraphQL answers (finding 5, in `cache_rules.rs`).

use std::time::{Duration, Instant};

#[allow(unused_imports)]
use super::{As, Body, Case};
use serde_json::{Value, json};

use crate::{
    both_backends, both_backends_with,
    helpers::{TestApp, assert_gql_error},
};

const LIMIT: &str = "QUERY_LIMIT_EXCEEDED";

/// `levels` fragments, each spreading the next twice, the last selecting
/// `__typename`: 2^(levels-1) fields once expanded.
pub fn fragment_bomb(levels: usize) -> String {
    let mut q = String::from("query Bomb { ...F0 }\n");
    for i in 0..levels - 1 {
        q.push_str(&format!(
            "fragment F{i} on QueryRoot {{ ...F{n} ...F{n} }}\n",
            n = i + 1
        ));
    }
    q.push_str(&format!(
        "fragment F{} on QueryRoot {{ __typename }}\n",
        levels - 1
    ));
    q
}

/// The query GraphiQL sends: graphql-js `getIntrospectionQuery()` with
/// descriptions, `specifiedByURL`, `isRepeatable`, the schema's description
/// and deprecated input values.
pub const INTROSPECTION: &str = include_str!("../../fixtures/introspection.graphql");

/// Our front page (as `bench/run.sh` sends it).
const FRONT_PAGE: &str = "{ articles(first: 10) { edges { node { \
                          title slug excerpt publishedAt commentCount authors { name slug } \
                          source { name } tags { name slug } } } } }";

/// A Relay client's paginated list: a fragment per component, cursors and
/// `pageInfo`, variables.
const RELAY: &str = r#"
query ArticleListPaginationQuery($count: Int!, $cursor: String) {
  ...ArticleList_query
}
fragment ArticleList_query on QueryRoot {
  articles(first: $count, after: $cursor) {
    edges { cursor node { id ...ArticleCard_article __typename } }
    pageInfo { endCursor hasNextPage hasPreviousPage startCursor }
    totalCount
  }
}
fragment ArticleCard_article on Article {
  id title slug excerpt publishedAt readingTimeMinutes
  authors { id ...Byline_author }
  tags { id name slug }
}
fragment Byline_author on Author { name slug }
"#;

/// An Apollo client's article page: `__typename` on every object, a
/// fragment, a directive switched by a variable.
const APOLLO: &str = r#"
query ArticlePage($slug: String!, $withComments: Boolean!) {
  article(slug: $slug) {
    ...ArticleFields
    comments(first: 20, topLevel: true) @include(if: $withComments) {
      totalCount
      edges {
        node {
          id authorName bodyHtml createdAt replies { id authorName bodyHtml __typename } __typename
        }
        __typename
      }
      pageInfo { hasNextPage endCursor __typename }
      __typename
    }
    __typename
  }
}
fragment ArticleFields on Article {
  id title standfirst bodyHtml publishedAt canonicalUrl
  authors { id name slug __typename }
  tags { id name slug __typename }
  source { id name homepageUrl __typename }
}
"#;

fn nested(open: &str, close: &str, levels: usize, inner: &str) -> String {
    format!("{}{inner}{}", open.repeat(levels), close.repeat(levels))
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn cases() -> Vec<Case> {
    let aliases: String = (0..16).map(|i| format!("a{i}: __typename ")).collect();
    let directives = "__typename @include(if: true) ".repeat(51);
    let spreads = "...A ".repeat(101);
    let batch: Vec<Value> = (0..11)
        .map(|_| json!({"query": "{ __typename }"}))
        .collect();
    let multipart = b"--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n\
                      {\"query\":\"{ __typename }\"}\r\n--x--\r\n"
        .to_vec();
    let chain: String = (0..40)
        .map(|i| format!("fragment F{i} on QueryRoot {{ ...F{} }}\n", i + 1))
        .collect::<String>()
        + "fragment F40 on QueryRoot { __typename }";
    vec![
        Case::gql(
            "16 aliases",
            format!("{{ {aliases} }}"),
            json!({}),
            400,
            LIMIT,
        ),
        Case::gql(
            "51 directives",
            format!("{{ {directives} }}"),
            json!({}),
            400,
            LIMIT,
        ),
        Case::gql(
            "1,001 tokens",
            format!("{{ {} }}", "__typename ".repeat(999)),
            json!({}),
            400,
            LIMIT,
        ),
        Case::gql(
            "a 40 KB document of comments",
            format!("# {}\n{{ __typename }}", "x".repeat(40_000)),
            json!({}),
            400,
            LIMIT,
        ),
        Case::gql(
            "101 fragment spreads",
            format!("{{ {spreads} }} fragment A on QueryRoot {{ __typename }}"),
            json!({}),
            400,
            LIMIT,
        ),
        Case::gql(
            "fields nested 17 deep",
            nested("{ a ", "}", 17, "{ b }"),
            json!({}),
            400,
            LIMIT,
        ),
        Case::gql(
            "the fragment bomb at 25 levels costs 2^24 fields",
            fragment_bomb(25),
            json!({}),
            400,
            LIMIT,
        ),
        Case::gql(
            "the fragment bomb at 40 levels",
            fragment_bomb(40),
            json!({}),
            400,
            LIMIT,
        ),
        Case::gql(
            "a fragment cycle",
            "{ ...A } fragment A on QueryRoot { articles { edges { node { ...B } } } } \
             fragment B on Article { id ...C } fragment C on Article { ...B }",
            json!({}),
            400,
            "BAD_USER_INPUT",
        ),
        Case::gql(
            "a fragment spreading itself",
            "{ ...A } fragment A on QueryRoot { ...A }",
            json!({}),
            400,
            "BAD_USER_INPUT",
        ),
        Case::gql(
            "41 fragments spread one inside the other",
            format!("{{ ...F0 }}\n{chain}"),
            json!({}),
            400,
            LIMIT,
        ),
        Case::gql(
            "selection sets 40 deep",
            nested("{ a ", "}", 40, ""),
            json!({}),
            400,
            LIMIT,
        ),
        Case::gql(
            "selection sets 5,000 deep",
            nested("{ a ", "}", 5_000, ""),
            json!({}),
            400,
            LIMIT,
        ),
        Case::gql(
            "a list argument 40 deep",
            format!(
                "{{ articles(first: {}) {{ totalCount }} }}",
                nested("[", "]", 40, "1")
            ),
            json!({}),
            400,
            LIMIT,
        ),
        Case::gql(
            "an object argument 40 deep",
            format!(
                "{{ articles(filter: {}) {{ totalCount }} }}",
                nested("{ a: ", "}", 40, "1")
            ),
            json!({}),
            400,
            LIMIT,
        ),
        Case::gql(
            "variables nested 40 deep",
            "query Q($v: Int) { __typename }",
            json!({"v": serde_json::from_str::<Value>(&nested("[", "]", 40, "1")).unwrap()}),
            400,
            LIMIT,
        ),
        Case::send(
            "variables nested 1,000 deep",
            "POST",
            "/graphql",
            As::Anonymous,
            Body::Raw(
                "application/json",
                format!(
                    r#"{{"query": "query Q($v: Int) {{ __typename }}", "variables": {{"v": {}}}}}"#,
                    nested("[", "]", 1_000, "1")
                )
                .into_bytes(),
            ),
            400,
            "BAD_USER_INPUT",
        ),
        Case::send(
            "a batch of 11 operations",
            "POST",
            "/graphql",
            As::Anonymous,
            Body::Json(Value::Array(batch)),
            400,
            LIMIT,
        ),
        Case::send(
            "a batch of 100,000 empty members",
            "POST",
            "/graphql",
            As::Anonymous,
            Body::Raw(
                "application/json",
                format!("[{}]", vec!["{}"; 100_000].join(",")).into_bytes(),
            ),
            400,
            LIMIT,
        ),
        Case::send(
            "a batch holding one member over a limit",
            "POST",
            "/graphql",
            As::Anonymous,
            Body::Json(json!([{"query": "{ __typename }"}, {"query": fragment_bomb(25)}])),
            400,
            LIMIT,
        ),
        Case::get(
            "the fragment bomb over GET",
            format!("/graphql?query={}", encode(&fragment_bomb(25))),
            400,
            LIMIT,
        ),
        Case::get(
            "16 aliases over GET",
            format!("/graphql?query={}", encode(&format!("{{ {aliases} }}"))),
            400,
            LIMIT,
        ),
        Case::send(
            "a multipart GraphQL request",
            "POST",
            "/graphql",
            As::Anonymous,
            Body::Raw("multipart/form-data; boundary=x", multipart),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        Case::send(
            "a body that is not JSON",
            "POST",
            "/graphql",
            As::Anonymous,
            Body::Raw("application/json", b"{\"query\": ".to_vec()),
            400,
            "BAD_USER_INPUT",
        ),
    ]
}

/// POST a document; (status, body, time taken).
async fn post(app: &TestApp, query: &str, variables: Value) -> (u16, Value, Duration) {
    let started = Instant::now();
    let resp = app
        .post(
            None,
            "/graphql",
            json!({"query": query, "variables": variables}),
        )
        .await;
    let status = resp.status().as_u16();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body, started.elapsed())
}

both_backends!(
    finding_1_the_fragment_bomb_is_refused_in_milliseconds,
    finding_1_our_own_queries_pass_the_limits
);

async fn finding_1_the_fragment_bomb_is_refused_in_milliseconds(app: TestApp) {
    for levels in [25, 40] {
        let (status, body, took) = post(&app, &fragment_bomb(levels), json!({})).await;
        assert_eq!(status, 400, "{levels}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], LIMIT, "{body}");
        // At 25 levels the cost bites; at 40, the fragments spread one
        // inside the other, before the cost does.
        let (limit, max) = if levels == 25 {
            ("cost", 5000)
        } else {
            ("nesting", 32)
        };
        assert_eq!(body["errors"][0]["extensions"]["limit"], limit, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["max"], max, "{body}");
        // Milliseconds even in a debug build on a busy machine.
        assert!(
            took < Duration::from_millis(500),
            "{levels} levels took {took:?}"
        );
    }
    assert_eq!(app.get("/healthz").await.status(), 200);
}

async fn finding_1_our_own_queries_pass_the_limits(app: TestApp) {
    let admin = app.admin_token().await;
    let created = app
        .create_article(
            &admin,
            json!({
                "title": "Within limits", "body": "Text.", "status": "published"}),
        )
        .await;
    let slug = created.slug.as_str();
    for (name, query, variables) in [
        ("introspection", INTROSPECTION, json!({})),
        ("front page", FRONT_PAGE, json!({})),
        ("Relay", RELAY, json!({"count": 10, "cursor": null})),
        (
            "Apollo",
            APOLLO,
            json!({"slug": slug, "withComments": true}),
        ),
    ] {
        let (status, body, _) = post(&app, query, variables).await;
        assert_eq!(status, 200, "{name}: {body}");
        assert!(body.get("errors").is_none(), "{name}: {body}");
    }
    let (_, body, _) = post(&app, INTROSPECTION, json!({})).await;
    assert!(body["data"]["__schema"]["types"].as_array().unwrap().len() > 20);
    let (_, body, _) = post(&app, RELAY, json!({"count": 10})).await;
    assert_eq!(body["data"]["articles"]["edges"][0]["node"]["slug"], slug);
    let (_, body, _) = post(&app, APOLLO, json!({"slug": slug, "withComments": true})).await;
    assert_eq!(body["data"]["article"]["title"], "Within limits");
    // And over GET, as GraphiQL may send it.
    let resp = app
        .get(&format!("/graphql?query={}", encode(INTROSPECTION)))
        .await;
    assert_eq!(resp.status(), 200);
}

/// One alias and a cost of three at most.
fn lowered(c: &mut broadsheet::config::Config) {
    c.graphql.max_aliases = 1;
    c.graphql.max_cost = 3;
}

both_backends_with!(lowered, finding_1_every_limit_is_a_setting);

/// Each limit is read from the configuration: lowered, it bites sooner.
async fn finding_1_every_limit_is_a_setting(app: TestApp) {
    let (status, body, _) = post(&app, "{ a: __typename b: __typename }", json!({})).await;
    assert_eq!(
        (status, &body["errors"][0]["extensions"]["limit"]),
        (400, &json!("aliases")),
        "{body}"
    );
    let (status, body, _) = post(&app, "{ __typename a: __typename }", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body, _) = post(
        &app,
        "{ __typename __typename __typename __typename }",
        json!({}),
    )
    .await;
    assert_eq!(
        (status, &body["errors"][0]["extensions"]["limit"]),
        (400, &json!("cost")),
        "{body}"
    );
}

// ---- Finding 5: the write decides invalidation; only complete answers are kept.

async fn published(app: &TestApp, admin: &str, title: &str) -> (String, String) {
    let fields = json!({"title": title, "body": "Cached text.", "status": "published"});
    let made = app.create_article(admin, fields).await;
    (made.id, made.slug)
}

both_backends!(
    finding_5_a_deletion_batched_with_an_unparsable_member_empties_the_cache,
    finding_5_multipart_graphql_is_refused_and_changes_nothing,
    finding_5_graphql_answers_with_errors_are_not_cached,
    finding_5_a_tag_slug_ending_in_z_is_cached
);

async fn finding_5_a_deletion_batched_with_an_unparsable_member_empties_the_cache(app: TestApp) {
    let admin = app.admin_token().await;
    let (id, slug) = published(&app, &admin, "Soon deleted").await;
    let path = format!("/api/v1/articles/{slug}");
    let query = format!("{{ article(slug: \"{slug}\") {{ title }} }}");
    // Read twice each, so both answers are in the cache.
    for _ in 0..2 {
        assert_eq!(app.get(&path).await.status(), 200);
        assert_eq!(
            app.gql(&query, json!({})).await["data"]["article"]["title"],
            "Soon deleted"
        );
    }
    let batch = json!([
        {"query": "{ this is not GraphQL"},
        {"query": format!("mutation {{ deleteArticle(id: \"{id}\") }}")},
    ]);
    let resp = app.post_graphql(Some(&admin), &batch).await;
    let resp: Value = resp.json().await.unwrap();
    assert!(resp[0]["errors"].is_array(), "{resp}");
    assert_eq!(resp[1]["data"]["deleteArticle"], true, "{resp}");
    // At once (SQLite's change watcher polls every 200 ms; PostgreSQL
    // kept the old answers for 300 s).
    assert_eq!(app.get(&path).await.status(), 404);
    assert_eq!(
        app.gql(&query, json!({})).await["data"]["article"],
        Value::Null
    );
}

async fn finding_5_multipart_graphql_is_refused_and_changes_nothing(app: TestApp) {
    let admin = app.admin_token().await;
    let (id, slug) = published(&app, &admin, "Kept title").await;
    let path = format!("/api/v1/articles/{slug}");
    assert_eq!(app.get_json(&path, 200).await["title"], "Kept title");
    let update = format!(
        "mutation {{ updateArticle(id: \"{id}\", input: {{title: \"Multipart title\"}}) \
         {{ title }} }}"
    );
    let operations = json!({"query": update});
    let body = format!(
        "--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{operations}\r\n\
         --x\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{{}}\r\n--x--\r\n"
    );
    let resp = app
        .send_raw(
            "POST",
            "/graphql",
            Some(&admin),
            "multipart/form-data; boundary=x",
            body,
        )
        .await;
    assert_eq!(resp.status(), 415);
    let answer: Value = resp.json().await.unwrap();
    assert_gql_error(&answer, "UNSUPPORTED_MEDIA_TYPE");
    assert_eq!(app.get_json(&path, 200).await["title"], "Kept title");
    let staff = app.get_as(&admin, &format!("/api/v1/articles/{id}")).await;
    assert_eq!(staff.json::<Value>().await.unwrap()["title"], "Kept title");
}

async fn finding_5_graphql_answers_with_errors_are_not_cached(app: TestApp) {
    let admin = app.admin_token().await;
    published(&app, &admin, "Listed").await;
    // Articles resolve; the staff-only comment queue is FORBIDDEN.
    let query = "{ articles(first: 1) { totalCount } comments(first: 1) { totalCount } }";
    let first = app.gql(query, json!({})).await;
    assert_eq!(first["data"]["articles"]["totalCount"], 1, "{first}");
    assert!(first["errors"].is_array(), "{first}");
    app.settle().await;
    let (n, again) = app.statements(app.gql(query, json!({}))).await;
    assert!(again["errors"].is_array(), "{again}");
    assert!(n > 0, "an answer with errors was served from the cache");
    // A complete answer is kept.
    let query = "{ articles(first: 1) { totalCount } }";
    app.gql(query, json!({})).await;
    let (n, _) = app.statements(app.gql(query, json!({}))).await;
    assert_eq!(n, 0, "a complete answer is served from the cache");
}

async fn finding_5_a_tag_slug_ending_in_z_is_cached(app: TestApp) {
    let admin = app.admin_token().await;
    let resp = app
        .post(Some(&admin), "/api/v1/tags", json!({"name": "Jazz"}))
        .await;
    assert_eq!(resp.status(), 201);
    let path = "/api/v1/tags/jazz";
    assert_eq!(app.get_json(path, 200).await["slug"], "jazz");
    app.settle().await;
    let (n, again) = app.statements(app.get(path)).await;
    assert_eq!(again.status(), 200);
    assert_eq!(n, 0, "a tag ending in z was not served from the cache");
    // While health checks are never cached.
    assert_eq!(app.get("/readyz").await.status(), 200);
    let (n, health) = app.statements(app.get("/readyz")).await;
    assert_eq!(health.status(), 200);
    assert!(n > 0, "/readyz was answered from the cache");
}
