//! The response cache (issue 8): anonymous reads are served from memory, and
//! never stale — on one instance, across instances on one PostgreSQL, and
//! when a scheduled article comes due.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, Server, TestApp, test_config, with_database},
};

/// A published article with a body long enough for the cache to keep it
/// compressed: (id, slug).
async fn published(app: &TestApp, token: &str, title: &str) -> (String, String) {
    let body = "A “quoted” paragraph on trade, résumé and café.\n\n".repeat(60);
    let fields = json!({"title": title, "status": "published", "body": body});
    let made = app.create_article(token, fields).await;
    (made.id, made.slug)
}

const FRONT: &str = "query Front { articles(first: 10) { \
                     edges { node { title commentCount authors { name } } } } }";

async fn front(app: &TestApp) -> Value {
    app.gql(FRONT, Value::Null).await
}

both_backends!(
    repeated_reads_are_served_without_the_database,
    every_acknowledged_write_is_in_the_next_read,
    a_scheduled_article_appears_when_it_comes_due,
    graphql_mutations_over_get_are_refused
);

async fn repeated_reads_are_served_without_the_database(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, slug) = published(&app, &admin, "Cached piece").await;
    let path = format!("/api/v1/articles/{slug}");
    app.settle().await;
    let first = app.get(&path).await;
    let etag = first.headers()["etag"].clone();
    let body = first.text().await.unwrap();
    let (n, second) = app.statements(app.get(&path)).await;
    assert_eq!(n, 0, "a hit runs no SQL");
    assert_eq!(second.headers()["etag"], etag);
    assert_eq!(second.headers()["cache-control"], "public, max-age=30");
    assert_eq!(second.text().await.unwrap(), body);
    let (n, third) = app.statements(app.get(&path)).await;
    assert_eq!(n, 0, "so does a hit on the expanded copy");
    assert_eq!(third.text().await.unwrap(), body);
    let (n, not_modified) = app
        .statements(
            app.client
                .get(app.url(&path))
                .header("if-none-match", etag.clone())
                .send(),
        )
        .await;
    let not_modified = not_modified.unwrap();
    assert_eq!(not_modified.status(), 304);
    assert_eq!(not_modified.headers()["etag"], etag);
    assert_eq!(n, 0, "a 304 from the cache runs no SQL");
    // GraphQL queries too; the same query with a token always runs.
    front(&app).await;
    let (n, again) = app.statements(front(&app)).await;
    assert_eq!(n, 0);
    assert_eq!(
        again["data"]["articles"]["edges"][0]["node"]["title"],
        "Cached piece"
    );
    let (n, _) = app
        .statements(app.gql_as(Some(&admin), FRONT, Value::Null))
        .await;
    assert!(n > 0, "requests with a token bypass the cache");
    let page = app.metrics().await;
    assert!(
        page.lines()
            .any(|l| l.starts_with("broadsheet_response_cache_hits_total ") && !l.ends_with(" 0")),
        "{page}"
    );
}

async fn every_acknowledged_write_is_in_the_next_read(app: TestApp) {
    let admin = app.admin_token().await;
    let (id, slug) = published(&app, &admin, "Before").await;
    let path = format!("/api/v1/articles/{slug}");
    let list = "/api/v1/articles";
    // Twice each: the second read is a hit, kept expanded in the hot tier.
    for _ in 0..2 {
        app.get_json(&path, 200).await;
        app.get_json(list, 200).await;
    }
    front(&app).await;
    // REST write, REST and GraphQL reads.
    let resp = app
        .update_article(&admin, &id, json!({"standfirst": "After REST"}))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(app.get_json(&path, 200).await["standfirst"], "After REST");
    assert_eq!(
        app.get_json(list, 200).await["data"][0]["standfirst"],
        "After REST"
    );
    // GraphQL write, REST read.
    let update = format!(
        "mutation {{ updateArticle(id: \"{id}\", \
         input: {{title: \"After GraphQL\"}}) {{ title }} }}"
    );
    let m = app.gql_as(Some(&admin), &update, Value::Null).await;
    assert!(m["errors"].is_null(), "{m}");
    assert_eq!(
        app.get_json(list, 200).await["data"][0]["title"],
        "After GraphQL"
    );
    assert_eq!(
        front(&app).await["data"]["articles"]["edges"][0]["node"]["title"],
        "After GraphQL"
    );
    // A public GraphQL mutation is never answered from the cache, and invalidates.
    let comments = format!("/api/v1/articles/{id}/comments");
    assert_eq!(app.get_json(&comments, 200).await["meta"]["total"], 0);
    let submit = format!(
        "mutation {{ submitComment(input: {{articleId: \"{id}\", authorName: \"R\", \
         authorEmail: \"r@example.net\", body: \"Staff-free comment\"}}) {{ status }} }}"
    );
    let first = app.gql(&submit, Value::Null).await;
    assert!(first["errors"].is_null(), "{first}");
    let again = app.gql(&submit, Value::Null).await;
    assert_eq!(
        again["errors"][0]["extensions"]["code"], "CONFLICT",
        "the duplicate ran: {again}"
    );
    let queue = app
        .get_json_as(&admin, "/api/v1/comments?status=pending", 200)
        .await;
    let cid = queue["data"][0]["id"].as_str().unwrap().to_string();
    let resp = app
        .patch(
            Some(&admin),
            &format!("/api/v1/comments/{cid}"),
            json!({"status": "approved"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(app.get_json(&comments, 200).await["meta"]["total"], 1);
    assert_eq!(
        front(&app).await["data"]["articles"]["edges"][0]["node"]["commentCount"],
        1
    );
    // A taxonomy change shows in the embedded article.
    let tag = app
        .create(&admin, "/api/v1/tags", json!({"name": "Old name"}))
        .await;
    let tid = tag.id.as_str();
    app.update_article(&admin, &id, json!({"tag_ids": [tid]}))
        .await;
    assert_eq!(
        app.get_json(&path, 200).await["tags"][0]["name"],
        "Old name"
    );
    app.patch(
        Some(&admin),
        &format!("/api/v1/tags/{tid}"),
        json!({"name": "New name"}),
    )
    .await;
    assert_eq!(
        app.get_json(&path, 200).await["tags"][0]["name"],
        "New name"
    );
    // Bylines too, in the article, the list and search (all attach them
    // from rows read once per generation).
    let author = app
        .create(&admin, "/api/v1/authors", json!({"name": "Byline Before"}))
        .await;
    let aid = author.id.as_str();
    app.update_article(&admin, &id, json!({"author_ids": [aid]}))
        .await;
    let search = "/api/v1/search?q=GraphQL";
    assert_eq!(
        app.get_json(list, 200).await["data"][0]["authors"][0]["name"],
        "Byline Before"
    );
    assert_eq!(
        app.get_json(search, 200).await["data"][0]["article"]["authors"][0]["name"],
        "Byline Before"
    );
    app.patch(
        Some(&admin),
        &format!("/api/v1/authors/{aid}"),
        json!({"name": "Byline After"}),
    )
    .await;
    assert_eq!(
        app.get_json(&path, 200).await["authors"][0]["name"],
        "Byline After"
    );
    assert_eq!(
        app.get_json(list, 200).await["data"][0]["authors"][0]["name"],
        "Byline After"
    );
    assert_eq!(
        app.get_json(search, 200).await["data"][0]["article"]["authors"][0]["name"],
        "Byline After"
    );
    // Deleting: gone at once.
    assert_eq!(
        app.delete(Some(&admin), &format!("/api/v1/articles/{id}"))
            .await
            .status(),
        204
    );
    assert_eq!(app.get(&path).await.status(), 404);
    assert_eq!(app.get_json(list, 200).await["meta"]["total"], 0);
}

async fn a_scheduled_article_appears_when_it_comes_due(app: TestApp) {
    let admin = app.admin_token().await;
    let draft = app
        .post(
            Some(&admin),
            "/api/v1/articles",
            json!({"title": "Due later"}),
        )
        .await;
    assert_eq!(draft.status(), 201);
    let draft_id = draft.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The cache has already looked for the next scheduled article (none)
    // when these are scheduled: one created so, one updated so.
    assert_eq!(
        app.get_json("/api/v1/articles", 200).await["meta"]["total"],
        0
    );
    let due = (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339();
    let resp = app
        .post(
            Some(&admin),
            "/api/v1/articles",
            json!({"title": "Due soon", "status": "published", "published_at": due}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let later = (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339();
    let resp = app
        .update_article(
            &admin,
            &draft_id,
            json!({"status": "published", "published_at": later}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        app.get_json("/api/v1/articles", 200).await["meta"]["total"],
        0
    );
    assert_eq!(
        app.get_json("/api/v1/articles", 200).await["meta"]["total"],
        0
    );
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert_eq!(
        app.get_json("/api/v1/articles", 200).await["meta"]["total"],
        2,
        "no write happened, yet the list changed"
    );
}

async fn graphql_mutations_over_get_are_refused(app: TestApp) {
    let resp = app
        .get("/graphql?query=mutation%20%7B%20deleteTag(id%3A%20%22x%22)%20%7D")
        .await;
    assert_eq!(resp.status(), 405);
}

/// Two instances on one PostgreSQL: a write on one reaches the other's cache
/// through LISTEN/NOTIFY within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidations_reach_every_instance_on_postgres() {
    with_database(Backend::Postgres, |url| async move {
        let a = Server::start(test_config(&url)).await;
        let b = Server::start(test_config(&url)).await;
        let (one, two) = (a.app.clone(), b.app.clone());
        let admin = one.admin_token().await;
        // Wait until B listens (its cache is off until then).
        let (id, slug) = published(&one, &admin, "Shared").await;
        let path = format!("/api/v1/articles/{slug}");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            two.get_json(&path, 200).await;
            let (n, _) = two.statements(two.get(&path)).await;
            if n == 0 {
                break;
            }
            assert!(Instant::now() < deadline, "instance B never cached");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for round in 0..3 {
            let title = format!("Changed on A, round {round}");
            let resp = one
                .update_article(&admin, &id, json!({"title": title}))
                .await;
            assert_eq!(resp.status(), 200);
            let written = Instant::now();
            loop {
                if two.get_json(&path, 200).await["title"] == title.as_str() {
                    break;
                }
                assert!(
                    written.elapsed() < Duration::from_secs(1),
                    "B still served the old title after 1 s"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            // And B's cache works again afterwards.
            two.get_json(&path, 200).await;
            let (n, _) = two.statements(two.get(&path)).await;
            assert_eq!(n, 0);
        }
        a.stop().await;
        b.stop().await;
    })
    .await
}

both_backends!(answers_too_large_to_keep_are_still_served);

async fn answers_too_large_to_keep_are_still_served(app: TestApp) {
    let admin = app.admin_token().await;
    // Six articles of ~500 KB each (under BROADSHEET_BODY_MAX_BYTES):
    // their list, with each article's HTML and plain text, is past the
    // 2 MB one cache entry may take.
    let body = "Long-form text, repeated to make a very long article.\n\n".repeat(9_000);
    for i in 0..6 {
        let resp = app
            .post(
                Some(&admin),
                "/api/v1/articles",
                json!({"title": format!("Long read {i}"), "status": "published", "body": body}),
            )
            .await;
        assert_eq!(resp.status(), 201);
    }
    let path = "/api/v1/articles?per_page=6";
    let first = app.get(path).await;
    assert_eq!(first.status(), 200);
    let first = first.bytes().await.unwrap();
    assert!(first.len() > 2 * 1024 * 1024, "only {} bytes", first.len());
    let list: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 6);
    // Served again, from the database (it was not kept), byte for byte.
    let (n, second) = app.statements(app.get(path)).await;
    assert_eq!(second.status(), 200);
    assert!(n > 0, "an answer too large to keep is computed each time");
    assert_eq!(second.bytes().await.unwrap(), first);
}

/// Every public read the OpenAPI document lists (it is generated from the
/// handlers), with its path parameters filled in from `ids`, plus the pages
/// outside the API reference.
async fn cacheable_reads(app: &TestApp, ids: &[(&str, String)]) -> Vec<String> {
    let doc = app.get_json("/openapi.json", 200).await;
    let mut urls = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        // Staff reads are never cached; operations endpoints change with no write.
        let public = get.get("security").is_none();
        if !public || ["/healthz", "/readyz", "/metrics"].contains(&path.as_str()) {
            continue;
        }
        let collection = path
            .split('/')
            .find(|s| ids.iter().any(|(name, _)| name == s));
        let mut url = path.clone();
        if let Some(name) = collection {
            let id = &ids.iter().find(|(n, _)| *n == name).unwrap().1;
            url = url.replace("{id_or_slug}", id).replace("{id}", id);
        }
        assert!(!url.contains('{'), "no value for the parameters of {path}");
        let required_query = get["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query" && p["required"] == true)
            .map(|p| format!("{}=trade", p["name"].as_str().unwrap()))
            .collect::<Vec<_>>();
        if !required_query.is_empty() {
            url = format!("{url}?{}", required_query.join("&"));
        }
        urls.push(url);
    }
    urls.extend(
        [
            "/docs",
            "/openapi.yaml",
            "/openapi.json",
            "/graphql",
            "/graphql?query=%7Barticles%7BtotalCount%7D%7D",
        ]
        .map(String::from),
    );
    urls
}

/// What a client sees of an answer, less what differs per request.
async fn seen(
    app: &TestApp,
    url: &str,
    encoding: Option<&str>,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut req = app.client.get(app.url(url));
    if let Some(e) = encoding {
        req = req.header("accept-encoding", e);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let mut headers: Vec<(String, String)> = resp
        .headers()
        .iter()
        .filter(|(name, _)| !["date", "x-request-id"].contains(&name.as_str()))
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("(binary)").to_string()))
        .collect();
    headers.sort();
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

both_backends!(a_hit_answers_exactly_what_the_miss_answered);
async fn a_hit_answers_exactly_what_the_miss_answered(app: TestApp) {
    let admin = app.admin_token().await;
    let create = |path: &'static str, body: Value| {
        let (app, admin) = (app.clone(), admin.clone());
        async move {
            let resp = app.send("POST", path, Some(&admin), Some(body)).await;
            assert_eq!(resp.status(), 201, "POST {path}");
            let v: Value = resp.json().await.unwrap();
            v["id"].as_str().unwrap().to_string()
        }
    };
    let author = create("/api/v1/authors", json!({"name": "Liu Wei"})).await;
    let source = create(
        "/api/v1/sources",
        json!({"name": "CGTN", "homepage_url": "https://www.cgtn.com"}),
    )
    .await;
    let tag = create("/api/v1/tags", json!({"name": "Trade"})).await;
    let article = create(
        "/api/v1/articles",
        json!({
            "title": "Trade routes", "status": "published", "body": "On trade and *routes*.",
            "author_ids": [author], "source_id": source, "tag_ids": [tag],
        }),
    )
    .await;
    let comment = app
        .send("POST", &format!("/api/v1/articles/{article}/comments"), None,
            Some(json!({"author_name": "A reader", "author_email": "r@example.org", "body": "Leave a reply"})))
        .await;
    assert_eq!(comment.status(), 202);
    let ids = [
        ("articles", article.clone()),
        ("authors", author),
        ("sources", source),
        ("tags", tag),
    ];
    let urls = cacheable_reads(&app, &ids).await;
    assert!(urls.len() >= 20, "{urls:?}");
    for encoding in [None, Some("gzip"), Some("br")] {
        app.state.response_cache.invalidate();
        for url in &urls {
            let hits = app.state.metrics.cache_hits.get();
            let miss = seen(&app, url, encoding).await;
            assert_eq!(miss.0, 200, "GET {url}");
            let hit = seen(&app, url, encoding).await;
            // (GraphiQL's page is not a GraphQL answer: never stored.)
            let stored = url != "/graphql";
            let expected_hits = hits + u64::from(stored);
            assert_eq!(
                app.state.metrics.cache_hits.get(),
                expected_hits,
                "GET {url}: the second read is a hit"
            );
            assert_eq!(hit.0, miss.0, "GET {url} ({encoding:?}): status");
            assert_eq!(hit.1, miss.1, "GET {url} ({encoding:?}): headers");
            assert!(hit.2 == miss.2, "GET {url} ({encoding:?}): body");
        }
    }
}
