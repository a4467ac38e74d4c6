//! GraphQL `articles` connection: keyset cursors, limits, GraphiQL, batches,
//! and parity with REST.

use serde_json::{Value, json};

use crate::{
    articles::arrange_article,
    both_backends,
    helpers::{TestApp, assert_gql_error, gql_ok},
};

const PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String) {
  articles(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { slug } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

fn edge_slugs(resp: &Value) -> Vec<String> {
    resp["data"]["articles"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no edges in {resp}"))
        .iter()
        .map(|e| e["node"]["slug"].as_str().unwrap().to_string())
        .collect()
}

both_backends!(
    cursors_page_forward_and_stay_correct_when_articles_are_added,
    windows_over_100_and_bad_cursors_are_bad_user_input,
    rest_and_graphql_list_the_same_articles,
    batches_run_up_to_ten_operations_and_refuse_more_whole,
    graphiql_is_served_to_browsers_and_queries_work_over_get,
    the_introspection_query_that_tools_send_is_answered,
    over_deep_queries_are_refused_before_running
);

async fn cursors_page_forward_and_stay_correct_when_articles_are_added(app: TestApp) {
    for i in 0..12 {
        arrange_article(&app, &format!("Piece {i}"), "published", Some(100 - i)).await;
    }
    let first = app.gql(PAGE, json!({"first": 5})).await;
    assert_eq!(
        edge_slugs(&first),
        (7..12)
            .rev()
            .map(|i| format!("piece-{i}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(first["data"]["articles"]["totalCount"], 12);
    assert_eq!(first["data"]["articles"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(
        first["data"]["articles"]["pageInfo"]["hasPreviousPage"],
        false
    );

    // A new article published between page fetches must not shift the next page.
    arrange_article(&app, "Breaking news", "published", Some(0)).await;
    let end = first["data"]["articles"]["pageInfo"]["endCursor"].clone();
    let second = app.gql(PAGE, json!({"first": 5, "after": end})).await;
    assert_eq!(
        edge_slugs(&second),
        (2..7)
            .rev()
            .map(|i| format!("piece-{i}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        second["data"]["articles"]["pageInfo"]["hasPreviousPage"],
        true
    );
    let end = second["data"]["articles"]["pageInfo"]["endCursor"].clone();
    let third = app.gql(PAGE, json!({"first": 5, "after": end})).await;
    assert_eq!(edge_slugs(&third), vec!["piece-1", "piece-0"]);
    assert_eq!(third["data"]["articles"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(third["data"]["articles"]["totalCount"], 13);

    // And backwards from the end.
    let start = third["data"]["articles"]["pageInfo"]["startCursor"].clone();
    let back = app.gql(PAGE, json!({"last": 3, "before": start})).await;
    assert_eq!(edge_slugs(&back), vec!["piece-4", "piece-3", "piece-2"]);
    assert_eq!(
        back["data"]["articles"]["pageInfo"]["hasPreviousPage"],
        true
    );
    assert_eq!(back["data"]["articles"]["pageInfo"]["hasNextPage"], true);
}

async fn windows_over_100_and_bad_cursors_are_bad_user_input(app: TestApp) {
    for vars in [
        json!({"first": 101}),
        json!({"last": 500}),
        json!({"first": -1}),
        json!({"after": "not-a-cursor"}),
    ] {
        let resp = app.gql(PAGE, vars.clone()).await;
        let err = &resp["errors"][0];
        assert_eq!(
            err["extensions"]["code"], "BAD_USER_INPUT",
            "{vars}: {resp}"
        );
        assert!(
            err["extensions"]["fields"][0]["field"].is_string(),
            "{resp}"
        );
        assert!(resp["data"].is_null(), "{resp}");
    }
}

async fn rest_and_graphql_list_the_same_articles(app: TestApp) {
    assert!(app.cli(&["seed", "--demo"]).status.success());
    arrange_article(&app, "Home-grown piece", "published", Some(1)).await;
    let rest = app.get_json("/api/v1/articles", 200).await;
    let q = "{ articles(first: 10) { totalCount edges { node {
        id slug title standfirst excerpt bodyHtml wordCount readingTimeMinutes canonicalUrl
        commentCount commentStatus originalUrl publishedAt updatedAt
        authors { id slug name title } tags { id slug name }
        source { id slug name homepageUrl } } } } }";
    let gql = app.gql(q, Value::Null).await;
    let nodes: Vec<&Value> = gql_ok(&gql)["articles"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .collect();
    let items = rest["data"].as_array().unwrap();
    assert_eq!(nodes.len(), items.len());
    for (n, r) in nodes.iter().zip(items) {
        assert_eq!(n["id"], r["id"]);
        assert_eq!(n["slug"], r["slug"]);
        assert_eq!(n["title"], r["title"]);
        assert_eq!(n["standfirst"], r["standfirst"]);
        assert_eq!(n["excerpt"], r["excerpt"]);
        assert_eq!(n["bodyHtml"], r["body_html"]);
        assert_eq!(n["wordCount"], r["word_count"]);
        assert_eq!(n["readingTimeMinutes"], r["reading_time_minutes"]);
        assert_eq!(n["canonicalUrl"], r["canonical_url"]);
        assert_eq!(n["commentCount"], r["comment_count"]);
        assert_eq!(n["originalUrl"], r["original_url"]);
        assert_eq!(
            n["commentStatus"].as_str().unwrap().to_lowercase(),
            r["comment_status"].as_str().unwrap()
        );
        assert_eq!(
            n["authors"].as_array().unwrap().len(),
            r["authors"].as_array().unwrap().len()
        );
        for (x, y) in n["authors"]
            .as_array()
            .unwrap()
            .iter()
            .zip(r["authors"].as_array().unwrap())
        {
            assert_eq!(x["id"], y["id"]);
            assert_eq!(x["name"], y["name"]);
        }
        assert_eq!(n["source"]["id"], r["source"]["id"]);
        assert_eq!(
            n["tags"].as_array().unwrap().len(),
            r["tags"].as_array().unwrap().len()
        );
        let parse = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
        assert_eq!(parse(&n["publishedAt"]), parse(&r["published_at"]));
    }
}

async fn batches_run_up_to_ten_operations_and_refuse_more_whole(app: TestApp) {
    let op = json!({"query": "{ articles { totalCount } }"});
    let ok = app.post_graphql(None, &json!(vec![op.clone(); 10])).await;
    let ok: Value = ok.json().await.unwrap();
    assert_eq!(ok.as_array().map(Vec::len), Some(10), "{ok}");
    assert_eq!(ok[9]["data"]["articles"]["totalCount"], 0);
    let refused = app.post_graphql(None, &json!(vec![op; 11])).await;
    assert_eq!(refused.status(), 400);
    let refused: Value = refused.json().await.unwrap();
    assert_gql_error(&refused, "QUERY_LIMIT_EXCEEDED");
    assert_eq!(
        refused["errors"][0]["extensions"]["limit"], "batch",
        "{refused}"
    );
    assert!(refused.get("data").is_none_or(Value::is_null));
}

async fn graphiql_is_served_to_browsers_and_queries_work_over_get(app: TestApp) {
    let page = app.get_with("/graphql", &[("accept", "text/html")]).await;
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        page.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );
    let q = app
        .get_json(
            "/graphql?query=%7B%20articles%20%7B%20totalCount%20%7D%20%7D",
            200,
        )
        .await;
    assert_eq!(q["data"]["articles"]["totalCount"], 0);
}

async fn the_introspection_query_that_tools_send_is_answered(app: TestApp) {
    // graphql-js's getIntrospectionQuery nests TypeRef nine levels under
    // `__schema { types { fields { type ... } } }`.
    let type_ref = format!(
        "{}kind name{}",
        "kind name ofType { ".repeat(9),
        " }".repeat(9)
    );
    let q = format!(
        "{{ __schema {{ queryType {{ name }} types {{ name fields(includeDeprecated: true) {{ \
         name args {{ name type {{ {type_ref} }} }} type {{ {type_ref} }} }} }} }} }}"
    );
    let resp = app.gql(&q, Value::Null).await;
    assert!(resp["errors"].is_null(), "{resp}");
    assert_eq!(resp["data"]["__schema"]["queryType"]["name"], "QueryRoot");
}

async fn over_deep_queries_are_refused_before_running(app: TestApp) {
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }} }}",
        "ofType { ".repeat(16),
        " }".repeat(16)
    );
    let resp = app.post_graphql(None, &json!({"query": deep})).await;
    assert_eq!(resp.status(), 400);
    let resp: Value = resp.json().await.unwrap();
    assert_eq!(resp["errors"][0]["extensions"]["limit"], "depth", "{resp}");
    let message = resp["errors"][0]["message"].as_str().unwrap_or("");
    let message = message.to_lowercase();
    let says_why = message.contains("nested") || message.contains("depth");
    assert!(says_why, "{resp}");
    assert!(resp["data"].is_null(), "{resp}");
}
