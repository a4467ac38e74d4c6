//! Articles, authors, sources and tags over REST and GraphQL: writes through
//! one API read back through the other, slugs and their history, rendering,
//! visibility, permissions, optimistic concurrency, caching and validation.

use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{TestApp, assert_problem},
};

const REFERENCE_TITLE: &str = "Danny Haiphong: China-Russia partnership is a model for global cooperation in the 21st Century";
const REFERENCE_SLUG: &str =
    "danny-haiphong-china-russia-partnership-is-a-model-for-global-cooperation-in-the-21st-century";

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let resp = app
        .send("POST", path, Some(token), Some(body.clone()))
        .await;
    assert_eq!(resp.status(), 201, "POST {path} {body}");
    resp.json().await.unwrap()
}

/// An author, CGTN as source and a tag, made by the admin; returns their ids.
async fn taxonomy(app: &TestApp, admin: &str) -> (String, String, String) {
    let author = post(
        app,
        admin,
        "/api/v1/authors",
        json!({"name": "Danny Haiphong", "title": "Co-editor"}),
    )
    .await;
    let source = post(app, admin, "/api/v1/sources", json!({"name": "CGTN", "homepage_url": "https://news.cgtn.com", "feed_url": "https://news.cgtn.com/rss"})).await;
    let tag = post(app, admin, "/api/v1/tags", json!({"name": "Multipolarity"})).await;
    (
        author["id"].as_str().unwrap().into(),
        source["id"].as_str().unwrap().into(),
        tag["id"].as_str().unwrap().into(),
    )
}

fn gql_ok(resp: &Value) -> &Value {
    assert!(resp["errors"].is_null(), "GraphQL errors: {resp}");
    &resp["data"]
}

both_backends! {
    async fn an_article_written_over_graphql_reads_the_same_over_rest_and_back(app) {
        let admin = app.admin_token().await;
        let (author, source, tag) = taxonomy(&app, &admin).await;
        let made = app.gql_as(Some(&admin), "mutation($i: ArticleInput!) { createArticle(input: $i) { id slug version status } }", json!({"i": {
            "title": REFERENCE_TITLE, "standfirst": "Editor’s note: first published by CGTN.", "body": "First *paragraph* “quoted”.\n\nSecond.",
            "status": "PUBLISHED", "authorIds": [author], "tagIds": [tag], "sourceId": source,
            "originalUrl": "https://news.cgtn.com/news/x", "originalPublishedAt": "2021-12-17T09:00:00Z"
        }})).await;
        let created = &gql_ok(&made)["createArticle"];
        assert_eq!(created["slug"], REFERENCE_SLUG);
        assert_eq!(created["version"], 1);
        let rest = app.get_json(&format!("/api/v1/articles/{REFERENCE_SLUG}"), 200).await;
        assert_eq!(rest["id"], created["id"]);
        assert_eq!(rest["title"], REFERENCE_TITLE);
        assert_eq!(rest["standfirst"], "Editor’s note: first published by CGTN.");
        assert_eq!(rest["body_html"], "<p>First <em>paragraph</em> “quoted”.</p>\n<p>Second.</p>\n");
        assert_eq!(rest["excerpt"], "First paragraph “quoted”.");
        assert_eq!(rest["authors"][0]["id"], author);
        assert_eq!(rest["tags"][0]["id"], tag);
        assert_eq!(rest["source"]["name"], "CGTN");
        assert!(rest["source"].get("feed_url").is_none());
        assert_eq!(rest["canonical_url"], "https://news.cgtn.com/news/x");
        assert!(rest.get("status").is_none() && rest.get("version").is_none());

        let resp = app.send("POST", "/api/v1/articles", Some(&admin), Some(json!({
            "title": "Home grown", "body": "<p onclick=\"x()\">Hi<script>alert(1)</script></p>", "body_format": "html",
            "status": "published", "author_ids": [author]
        }))).await;
        assert_eq!(resp.status(), 201);
        assert!(resp.headers()["location"].to_str().unwrap().starts_with("/api/v1/articles/"));
        assert_eq!(resp.headers()["etag"], "\"v1\"");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["status"], "published");
        let gql = app.gql("query($s: String) { article(slug: $s) { id title bodyHtml canonicalUrl authors { name articleCount } } }", json!({"s": "home-grown"})).await;
        let a = &gql_ok(&gql)["article"];
        assert_eq!(a["id"], body["id"]);
        assert_eq!(a["bodyHtml"], "<p>Hi</p>");
        assert_eq!(a["canonicalUrl"], "https://site.example/articles/home-grown");
        assert_eq!(a["authors"][0]["articleCount"], 2);
    }

    async fn authors_sources_and_tags_round_trip_between_the_apis(app) {
        let admin = app.admin_token().await;
        let g = app.gql_as(Some(&admin), "mutation { a: createAuthor(input: {name: \"Renée Çelik\", bio: \"Writes.\"}) { id slug }
            s: createSource(input: {name: \"CGTN\", homepageUrl: \"https://news.cgtn.com\"}) { id slug }
            t: createTag(input: {name: \"China–Russia relations\"}) { id slug } }", Value::Null).await;
        let d = gql_ok(&g);
        assert_eq!(d["a"]["slug"], "renee-celik");
        assert_eq!(d["t"]["slug"], "china-russia-relations");
        let author = app.get_json("/api/v1/authors/renee-celik", 200).await;
        assert_eq!(author["name"], "Renée Çelik");
        assert_eq!(author["article_count"], 0);
        assert_eq!(app.get_json("/api/v1/sources/cgtn", 200).await["homepage_url"], "https://news.cgtn.com");
        assert_eq!(app.get_json("/api/v1/tags", 200).await["data"][0]["name"], "China–Russia relations");

        let made = post(&app, &admin, "/api/v1/authors", json!({"name": "Renée Çelik"})).await;
        assert_eq!(made["slug"], "renee-celik-2", "slugs are de-duplicated");
        let back = app.gql("query($s: String) { author(slug: $s) { id name articleCount } }", json!({"s": "renee-celik-2"})).await;
        assert_eq!(gql_ok(&back)["author"]["id"], made["id"]);
        let patched = app.send("PATCH", &format!("/api/v1/authors/{}", made["id"].as_str().unwrap()), Some(&admin), Some(json!({"title": "Columnist"}))).await;
        assert_eq!(patched.status(), 200);
        let back = app.gql("query($id: ID) { author(id: $id) { title } }", json!({"id": made["id"]})).await;
        assert_eq!(gql_ok(&back)["author"]["title"], "Columnist");
        let dup = app.send("POST", "/api/v1/tags", Some(&admin), Some(json!({"name": "x", "slug": "china-russia-relations"}))).await;
        assert_problem(dup, 409, "conflict").await;
    }

    async fn changing_a_slug_keeps_the_old_one_as_a_redirect(app) {
        let admin = app.admin_token().await;
        let a = post(&app, &admin, "/api/v1/articles", json!({"title": "Original title", "status": "published"})).await;
        let again = post(&app, &admin, "/api/v1/articles", json!({"title": "Original title", "status": "published"})).await;
        assert_eq!(again["slug"], "original-title-2");
        let id = a["id"].as_str().unwrap();
        let resp = app.send("PATCH", &format!("/api/v1/articles/{id}"), Some(&admin), Some(json!({"slug": "better-title"}))).await;
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["previous_slugs"], json!([]), "history is shown on single reads");
        let moved = app.get("/api/v1/articles/original-title").await;
        assert_eq!(moved.status(), 301);
        assert_eq!(moved.headers()["location"], "/api/v1/articles/better-title");
        assert_eq!(app.get_json("/api/v1/articles/better-title", 200).await["id"], id);
        let staff: Value = app.send("GET", "/api/v1/articles/better-title", Some(&admin), None).await.json().await.unwrap();
        assert_eq!(staff["previous_slugs"], json!(["original-title"]));
        let gql = app.gql("{ article(slug: \"original-title\") { slug } }", Value::Null).await;
        assert_eq!(gql_ok(&gql)["article"]["slug"], "better-title");
        // The old slug stays reserved.
        let taken = app.send("POST", "/api/v1/articles", Some(&admin), Some(json!({"title": "x", "slug": "original-title"}))).await;
        assert_problem(taken, 409, "conflict").await;
        let fresh = post(&app, &admin, "/api/v1/articles", json!({"title": "Original title"})).await;
        assert_eq!(fresh["slug"], "original-title-3");
    }

    async fn drafts_and_scheduled_articles_are_invisible_to_the_public_everywhere(app) {
        let admin = app.admin_token().await;
        let (author, source, tag) = taxonomy(&app, &admin).await;
        let links = json!({"author_ids": [author], "tag_ids": [tag], "source_id": source});
        let mut draft = links.clone();
        draft["title"] = json!("Secret draft");
        let draft = post(&app, &admin, "/api/v1/articles", draft).await;
        let mut sched = links.clone();
        sched["title"] = json!("Tomorrow's piece");
        sched["status"] = json!("published");
        sched["published_at"] = json!((chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339());
        let sched = post(&app, &admin, "/api/v1/articles", sched).await;
        for path in ["/api/v1/articles", "/api/v1/authors/danny-haiphong/articles", "/api/v1/sources/cgtn/articles", "/api/v1/tags/multipolarity/articles"] {
            assert_eq!(app.get_json(path, 200).await["meta"]["total"], 0, "{path}");
        }
        assert_eq!(app.get_json("/api/v1/authors/danny-haiphong", 200).await["article_count"], 0);
        assert_eq!(app.get_json("/api/v1/sources/cgtn", 200).await["article_count"], 0);
        assert_eq!(app.get_json("/api/v1/tags/multipolarity", 200).await["article_count"], 0);
        for a in [&draft, &sched] {
            assert_problem(app.get(&format!("/api/v1/articles/{}", a["slug"].as_str().unwrap())).await, 404, "not_found").await;
            let gql = app.gql("query($id: ID) { article(id: $id) { id } }", json!({"id": a["id"]})).await;
            assert!(gql_ok(&gql)["article"].is_null());
        }
        let gql = app.gql("{ articles { totalCount } search(query: \"piece\") { totalCount } author(slug: \"danny-haiphong\") { articleCount articles { totalCount } } }", Value::Null).await;
        assert_eq!(gql_ok(&gql)["articles"]["totalCount"], 0);
        assert_eq!(gql_ok(&gql)["search"]["totalCount"], 0);
        assert_eq!(gql_ok(&gql)["author"]["articleCount"], 0);
        // Staff see them on request.
        let staff: Value = app.send("GET", "/api/v1/articles?status=any", Some(&admin), None).await.json().await.unwrap();
        assert_eq!(staff["meta"]["total"], 2);
        let scheduled: Value = app.send("GET", "/api/v1/articles?status=scheduled", Some(&admin), None).await.json().await.unwrap();
        assert_eq!(scheduled["data"][0]["id"], sched["id"]);
        assert_problem(app.get("/api/v1/articles?status=draft").await, 401, "unauthorized").await;
        // Publishing in the past makes it visible at once, with no job needed.
        let id = sched["id"].as_str().unwrap();
        let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
        let gql = app.gql_as(Some(&admin), "mutation($id: ID!, $at: DateTime) { publishArticle(id: $id, at: $at) { status } }", json!({"id": id, "at": past})).await;
        assert_eq!(gql_ok(&gql)["publishArticle"]["status"], "PUBLISHED");
        assert_eq!(app.get_json("/api/v1/articles", 200).await["meta"]["total"], 1);
        assert_eq!(app.get_json("/api/v1/sources/cgtn", 200).await["article_count"], 1);
    }

    async fn roles_decide_who_may_write_publish_and_edit(app) {
        let admin = app.admin_token().await;
        // A contributor and an author, each linked to their own byline.
        let mut tokens = Vec::new();
        for (role, name) in [("contributor", "Cora Contributor"), ("author", "Arthur Author")] {
            let byline = post(&app, &admin, "/api/v1/authors", json!({"name": name})).await;
            let (id, _, _) = app.create_user(role).await;
            let linked = app.send("PATCH", &format!("/api/v1/users/{id}"), Some(&admin), Some(json!({"author_id": byline["id"]}))).await;
            assert_eq!(linked.status(), 200);
            let email: Value = app.send("GET", &format!("/api/v1/users/{id}"), Some(&admin), None).await.json().await.unwrap();
            let token = app.login(email["email"].as_str().unwrap(), &format!("{role}-password")).await["access_token"].as_str().unwrap().to_string();
            tokens.push((token, byline["id"].as_str().unwrap().to_string()));
        }
        let (contrib, contrib_byline) = tokens[0].clone();
        let (author, _) = tokens[1].clone();

        // Contributors write drafts under their own byline, and may not publish.
        let draft = post(&app, &contrib, "/api/v1/articles", json!({"title": "My draft"})).await;
        assert_eq!(draft["authors"][0]["id"], contrib_byline);
        let refused = app.send("POST", "/api/v1/articles", Some(&contrib), Some(json!({"title": "Publish me", "status": "published"}))).await;
        assert_problem(refused, 403, "forbidden").await;
        let draft_id = draft["id"].as_str().unwrap();
        let refused = app.send("PATCH", &format!("/api/v1/articles/{draft_id}"), Some(&contrib), Some(json!({"status": "published"}))).await;
        assert_problem(refused, 403, "forbidden").await;
        let gql = app.gql_as(Some(&contrib), "mutation($id: ID!) { publishArticle(id: $id) { id } }", json!({"id": draft_id})).await;
        assert_eq!(gql["errors"][0]["extensions"]["code"], "FORBIDDEN");

        // Someone else's article: the author may not touch it; the editor may.
        let others = post(&app, &admin, "/api/v1/articles", json!({"title": "The editor's piece", "status": "published"})).await;
        let others_id = others["id"].as_str().unwrap();
        let refused = app.send("PATCH", &format!("/api/v1/articles/{others_id}"), Some(&author), Some(json!({"title": "Hijacked"}))).await;
        assert_problem(refused, 403, "forbidden").await;
        let gql = app.gql_as(Some(&author), "mutation($id: ID!) { updateArticle(id: $id, input: {title: \"Hijacked\"}) { id } }", json!({"id": others_id})).await;
        assert_eq!(gql["errors"][0]["extensions"]["code"], "FORBIDDEN");
        assert_problem(app.send("DELETE", &format!("/api/v1/articles/{others_id}"), Some(&author), None).await, 403, "forbidden").await;
        // Others' drafts are simply not there for them.
        assert_problem(app.send("PATCH", &format!("/api/v1/articles/{draft_id}"), Some(&author), Some(json!({"title": "x"}))).await, 404, "not_found").await;
        assert_eq!(app.get_json(&format!("/api/v1/articles/{others_id}"), 200).await["title"], "The editor's piece");

        // Authors publish their own work.
        let own = post(&app, &author, "/api/v1/articles", json!({"title": "Mine, published", "status": "published"})).await;
        assert_eq!(own["status"], "published");
        let (_, editor) = app.token_for("editor").await;
        let ok = app.send("PATCH", &format!("/api/v1/articles/{}", own["id"].as_str().unwrap()), Some(&editor), Some(json!({"title": "Edited by the editor"}))).await;
        assert_eq!(ok.status(), 200);
        // Taxonomy is for admins and editors.
        assert_problem(app.send("POST", "/api/v1/tags", Some(&author), Some(json!({"name": "x"}))).await, 403, "forbidden").await;
        assert_problem(app.send("POST", "/api/v1/tags", None, Some(json!({"name": "x"}))).await, 401, "unauthorized").await;
    }

    async fn stale_versions_are_refused_and_change_nothing(app) {
        let admin = app.admin_token().await;
        let a = post(&app, &admin, "/api/v1/articles", json!({"title": "Versioned", "body": "one"})).await;
        let id = a["id"].as_str().unwrap();
        let ok = app.client.patch(app.url(&format!("/api/v1/articles/{id}"))).bearer_auth(&admin).header("if-match", "\"v1\"").json(&json!({"body": "two"})).send().await.unwrap();
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.headers()["etag"], "\"v2\"");
        let stale = app.client.patch(app.url(&format!("/api/v1/articles/{id}"))).bearer_auth(&admin).header("if-match", "\"v1\"").json(&json!({"body": "lost update"})).send().await.unwrap();
        assert_problem(stale, 412, "precondition_failed").await;
        let stale = app.send("PATCH", &format!("/api/v1/articles/{id}"), Some(&admin), Some(json!({"body": "lost update", "version": 1}))).await;
        assert_problem(stale, 409, "conflict").await;
        let gql = app.gql_as(Some(&admin), "mutation($id: ID!) { updateArticle(id: $id, input: {body: \"lost\"}, expectedVersion: 1) { id } }", json!({"id": id})).await;
        assert_eq!(gql["errors"][0]["extensions"]["code"], "CONFLICT");
        let now: Value = app.send("GET", &format!("/api/v1/articles/{id}"), Some(&admin), None).await.json().await.unwrap();
        assert_eq!(now["body"], "two");
        assert_eq!(now["version"], 2);
        let gql = app.gql_as(Some(&admin), "mutation($id: ID!) { updateArticle(id: $id, input: {body: \"three\"}, expectedVersion: 2) { version body } }", json!({"id": id})).await;
        assert_eq!(gql_ok(&gql)["updateArticle"], json!({"version": 3, "body": "three"}));
    }

    async fn authors_and_sources_in_use_cannot_be_deleted(app) {
        let admin = app.admin_token().await;
        let (author, source, tag) = taxonomy(&app, &admin).await;
        post(&app, &admin, "/api/v1/articles", json!({"title": "Uses them", "author_ids": [author], "source_id": source, "tag_ids": [tag]})).await;
        let refused = assert_problem(app.send("DELETE", &format!("/api/v1/authors/{author}"), Some(&admin), None).await, 409, "conflict").await;
        assert!(refused["detail"].as_str().unwrap().contains("1 article"), "{refused}");
        assert_problem(app.send("DELETE", &format!("/api/v1/sources/{source}"), Some(&admin), None).await, 409, "conflict").await;
        let gql = app.gql_as(Some(&admin), "mutation($id: ID!) { deleteSource(id: $id) }", json!({"id": source})).await;
        assert_eq!(gql["errors"][0]["extensions"]["code"], "CONFLICT");
        assert_eq!(app.get_json(&format!("/api/v1/authors/{author}"), 200).await["id"], author);
        // A tag simply leaves the article.
        assert_eq!(app.send("DELETE", &format!("/api/v1/tags/{tag}"), Some(&admin), None).await.status(), 204);
        let staff: Value = app.send("GET", "/api/v1/articles/uses-them", Some(&admin), None).await.json().await.unwrap();
        assert_eq!(staff["tags"], json!([]));
    }

    async fn bad_article_input_names_every_field_and_writes_nothing(app) {
        let admin = app.admin_token().await;
        let resp = app.send("POST", "/api/v1/articles", Some(&admin), Some(json!({
            "title": "x".repeat(301), "slug": "Not A Slug", "original_url": "javascript:alert(1)",
            "feature_image_url": "ftp://x", "author_ids": ["nope"], "body_format": "rtf", "status": "live"
        }))).await;
        let body = assert_problem(resp, 422, "validation_failed").await;
        let mut fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        fields.sort();
        assert_eq!(fields, vec!["author_ids", "body_format", "feature_image_url", "original_url", "slug", "status", "title"]);
        assert_problem(app.send("POST", "/api/v1/articles", Some(&admin), Some(json!({"body": "no title"}))).await, 422, "validation_failed").await;
        assert_problem(app.send("POST", "/api/v1/articles", Some(&admin), Some(json!({"title": "   "}))).await, 422, "validation_failed").await;
        let unknown = app.send("POST", "/api/v1/articles", Some(&admin), Some(json!({"title": "ok", "colour": "red"}))).await;
        assert_eq!(assert_problem(unknown, 422, "validation_failed").await["errors"][0]["field"], "colour");
        let bad_date = app.send("POST", "/api/v1/articles", Some(&admin), Some(json!({"title": "ok", "published_at": "yesterday"}))).await;
        assert_eq!(assert_problem(bad_date, 422, "validation_failed").await["errors"][0]["field"], "published_at");
        let gql = app.gql_as(Some(&admin), "mutation { createArticle(input: {title: \"\", originalUrl: \"nope\"}) { id } }", Value::Null).await;
        assert_eq!(gql["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        let names: Vec<&str> = gql["errors"][0]["extensions"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["title", "originalUrl"]);
        assert_problem(crate::helpers::send_oversized(&app, "/api/v1/articles", Some(&admin)).await, 413, "payload_too_large").await;
        let staff: Value = app.send("GET", "/api/v1/articles?status=any", Some(&admin), None).await.json().await.unwrap();
        assert_eq!(staff["meta"]["total"], 0, "nothing was written");
        // Updates too: a bad field leaves the article as it was.
        let a = post(&app, &admin, "/api/v1/articles", json!({"title": "Kept"})).await;
        let id = a["id"].as_str().unwrap();
        let bad = app.send("PATCH", &format!("/api/v1/articles/{id}"), Some(&admin), Some(json!({"title": "Changed", "source_id": "missing"}))).await;
        assert_problem(bad, 422, "validation_failed").await;
        let after: Value = app.send("GET", &format!("/api/v1/articles/{id}"), Some(&admin), None).await.json().await.unwrap();
        assert_eq!(after["title"], "Kept");
        assert_eq!(after["version"], 1);
    }

    async fn public_reads_carry_validators_and_answer_304(app) {
        let admin = app.admin_token().await;
        post(&app, &admin, "/api/v1/articles", json!({"title": "Cached", "status": "published"})).await;
        for path in ["/api/v1/articles", "/api/v1/articles/cached", "/api/v1/tags", "/api/v1/authors"] {
            let resp = app.get(path).await;
            assert_eq!(resp.status(), 200);
            let etag = resp.headers()["etag"].to_str().unwrap().to_string();
            assert!(resp.headers()["cache-control"].to_str().unwrap().starts_with("public, max-age="), "{path}");
            let again = app.client.get(app.url(path)).header("if-none-match", &etag).send().await.unwrap();
            assert_eq!(again.status(), 304, "{path}");
            assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
            let private = app.send("GET", path, Some(&admin), None).await;
            assert_eq!(private.headers()["cache-control"], "private, no-store", "{path}");
        }
        assert!(app.get("/api/v1/articles/cached").await.headers().contains_key("last-modified"));
        // A change changes the validator.
        let before = app.get("/api/v1/articles/cached").await.headers()["etag"].clone();
        let id = app.get_json("/api/v1/articles/cached", 200).await["id"].as_str().unwrap().to_string();
        app.send("PATCH", &format!("/api/v1/articles/{id}"), Some(&admin), Some(json!({"standfirst": "New note"}))).await;
        let stale = app.client.get(app.url("/api/v1/articles/cached")).header("if-none-match", before.to_str().unwrap()).send().await.unwrap();
        assert_eq!(stale.status(), 200);
    }

    async fn lists_filter_by_author_source_and_tag_and_sort(app) {
        let admin = app.admin_token().await;
        let (author, source, tag) = taxonomy(&app, &admin).await;
        post(&app, &admin, "/api/v1/articles", json!({"title": "Beta", "status": "published", "author_ids": [author], "source_id": source})).await;
        post(&app, &admin, "/api/v1/articles", json!({"title": "Alpha", "status": "published", "tag_ids": [tag]})).await;
        post(&app, &admin, "/api/v1/articles", json!({"title": "Gamma", "status": "published"})).await;
        let titles = |v: &Value| v["data"].as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap().to_string()).collect::<Vec<_>>();
        assert_eq!(titles(&app.get_json("/api/v1/articles?sort=title", 200).await), vec!["Alpha", "Beta", "Gamma"]);
        assert_eq!(titles(&app.get_json("/api/v1/articles?author=danny-haiphong", 200).await), vec!["Beta"]);
        assert_eq!(titles(&app.get_json(&format!("/api/v1/articles?source={source}"), 200).await), vec!["Beta"]);
        assert_eq!(titles(&app.get_json("/api/v1/articles?tag=multipolarity", 200).await), vec!["Alpha"]);
        assert_eq!(titles(&app.get_json("/api/v1/articles?author=nobody", 200).await), Vec::<String>::new());
        assert_eq!(titles(&app.get_json("/api/v1/articles?q=gamma", 200).await), vec!["Gamma"]);
        assert_eq!(titles(&app.get_json("/api/v1/articles?q=gam*", 200).await), vec!["Gamma"]);
        assert_eq!(titles(&app.get_json("/api/v1/sources/cgtn/articles", 200).await), vec!["Beta"]);
        assert_problem(app.get("/api/v1/articles?sort=random").await, 422, "validation_failed").await;
        assert_problem(app.get("/api/v1/authors/nobody/articles").await, 404, "not_found").await;
        let gql = app.gql("{ articles(orderBy: TITLE_ASC, first: 2) { edges { node { title } } pageInfo { endCursor } } source(slug: \"cgtn\") { articleCount articles { edges { node { title } } } } }", Value::Null).await;
        let d = gql_ok(&gql);
        assert_eq!(d["articles"]["edges"][1]["node"]["title"], "Beta");
        assert_eq!(d["source"]["articles"]["edges"][0]["node"]["title"], "Beta");
        let next = app.gql("query($c: String) { articles(orderBy: TITLE_ASC, first: 2, after: $c) { edges { node { title } } } }", json!({"c": d["articles"]["pageInfo"]["endCursor"]})).await;
        assert_eq!(gql_ok(&next)["articles"]["edges"][0]["node"]["title"], "Gamma");
    }

    async fn staff_only_graphql_fields_are_forbidden_to_the_public(app) {
        let admin = app.admin_token().await;
        post(&app, &admin, "/api/v1/articles", json!({"title": "Open piece", "status": "published"})).await;
        post(&app, &admin, "/api/v1/sources", json!({"name": "CGTN", "feed_url": "https://news.cgtn.com/rss"})).await;
        let q = "{ article(slug: \"open-piece\") { title version body status } source(slug: \"cgtn\") { name feedUrl } }";
        let public = app.gql(q, Value::Null).await;
        let codes: Vec<&str> = public["errors"].as_array().unwrap().iter().map(|e| e["extensions"]["code"].as_str().unwrap()).collect();
        assert_eq!(codes, vec!["FORBIDDEN"; 4]);
        // Only the refused fields are null; the rest of the object is there.
        assert_eq!(public["data"]["article"]["title"], "Open piece");
        assert!(public["data"]["article"]["version"].is_null());
        assert!(!public.to_string().contains("news.cgtn.com/rss"));
        let staff = app.gql_as(Some(&admin), q, Value::Null).await;
        assert_eq!(gql_ok(&staff)["article"]["version"], 1);
        assert_eq!(gql_ok(&staff)["source"]["feedUrl"], "https://news.cgtn.com/rss");
    }
}

/// Counts what computing a page costs, so the response cache is off.
async fn statement_counts(app: TestApp) {
    let admin = app.admin_token().await;
    let (author, source, tag) = taxonomy(&app, &admin).await;
    let second = post(
        &app,
        &admin,
        "/api/v1/authors",
        json!({"name": "Second Author"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for i in 0..50 {
        post(&app, &admin, "/api/v1/articles", json!({"title": format!("Piece {i}"), "status": "published",
            "author_ids": [author.clone(), second.clone()], "tag_ids": [tag.clone()], "source_id": source.clone()})).await;
    }
    let counter = app.state.metrics.db_statements.clone();
    let measure = |path: String| {
        let app = app.clone();
        let counter = counter.clone();
        async move {
            let before = counter.get();
            let resp = app.get(&path).await;
            assert_eq!(resp.status(), 200);
            counter.get() - before
        }
    };
    let rest5 = measure("/api/v1/articles?per_page=5".into()).await;
    let rest50 = measure("/api/v1/articles?per_page=50".into()).await;
    assert_eq!(rest5, rest50, "REST list: {rest5} vs {rest50} statements");
    assert!(rest5 <= 10, "REST list uses {rest5} statements");
    let gql = |n: usize| {
        let app = app.clone();
        let counter = counter.clone();
        async move {
            let before = counter.get();
            let q = format!(
                "{{ articles(first: {n}) {{ edges {{ node {{ title commentCount source {{ name articleCount }} tags {{ name articleCount }} authors {{ name articleCount }} }} }} }} }}"
            );
            let resp = app.gql(&q, Value::Null).await;
            assert!(resp["errors"].is_null(), "{resp}");
            assert_eq!(
                resp["data"]["articles"]["edges"].as_array().unwrap().len(),
                n
            );
            counter.get() - before
        }
    };
    let g5 = gql(5).await;
    let g50 = gql(50).await;
    assert_eq!(g5, g50, "GraphQL page: {g5} vs {g50} statements");
    assert!(g5 <= 14, "GraphQL page uses {g5} statements");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_number_of_sql_statements_does_not_grow_with_the_page_sqlite() {
    crate::helpers::run_with(
        crate::helpers::Backend::Sqlite,
        |c| {
            c.response_cache_mb = 0;
            // The webhook worker's polling would be counted too.
            c.webhook_worker = false;
        },
        statement_counts,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_number_of_sql_statements_does_not_grow_with_the_page_postgres() {
    crate::helpers::run_with(
        crate::helpers::Backend::Postgres,
        |c| {
            c.response_cache_mb = 0;
            // The webhook worker's polling would be counted too.
            c.webhook_worker = false;
        },
        statement_counts,
    )
    .await
}
