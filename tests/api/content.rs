//! Articles, authors, sources and tags over REST and GraphQL: writes through
//! one API read back through the other, slugs and their history, rendering,
//! visibility, permissions, optimistic concurrency, caching and validation.

use broadsheet::config::Config;
use serde_json::{Value, json};

use crate::{
    articles::{DEMO_SLUG, DEMO_TITLE},
    both_backends, both_backends_with,
    helpers::{TestApp, assert_gql_error, assert_problem, gql_ok, problem_fields, send_oversized},
};

/// An author, CGTN as source and a tag, made by the admin; returns their ids.
async fn taxonomy(app: &TestApp, admin: &str) -> (String, String, String) {
    let author = json!({"name": "Danny Haiphong", "title": "Co-editor"});
    let author = app.create(admin, "/api/v1/authors", author).await;
    let source = json!({
        "name": "CGTN",
        "homepage_url": "https://news.cgtn.com",
        "feed_url": "https://news.cgtn.com/rss"
    });
    let source = app.create(admin, "/api/v1/sources", source).await;
    let tag = json!({"name": "Multipolarity"});
    let tag = app.create(admin, "/api/v1/tags", tag).await;
    (author.id, source.id, tag.id)
}

both_backends!(
    an_article_written_over_graphql_reads_the_same_over_rest_and_back,
    authors_sources_and_tags_round_trip_between_the_apis,
    changing_a_slug_keeps_the_old_one_as_a_redirect,
    drafts_and_scheduled_articles_are_invisible_to_the_public_everywhere,
    roles_decide_who_may_write_publish_and_edit,
    stale_versions_are_refused_and_change_nothing,
    authors_and_sources_in_use_cannot_be_deleted,
    bad_article_input_names_every_field_and_writes_nothing,
    public_reads_carry_validators_and_answer_304,
    lists_filter_by_author_source_and_tag_and_sort,
    staff_only_graphql_fields_are_forbidden_to_the_public
);

async fn an_article_written_over_graphql_reads_the_same_over_rest_and_back(app: TestApp) {
    let admin = app.admin_token().await;
    let (author, source, tag) = taxonomy(&app, &admin).await;
    let input = json!({
        "title": DEMO_TITLE,
        "standfirst": "Editor’s note: first published by CGTN.",
        "body": "First *paragraph* “quoted”.\n\nSecond.",
        "status": "PUBLISHED", "authorIds": [author], "tagIds": [tag], "sourceId": source,
        "originalUrl": "https://news.cgtn.com/news/x",
        "originalPublishedAt": "2021-12-17T09:00:00Z"
    });
    let create =
        "mutation($i: ArticleInput!) { createArticle(input: $i) { id slug version status } }";
    let made = app.gql_as(Some(&admin), create, json!({"i": input})).await;
    let created = &gql_ok(&made)["createArticle"];
    assert_eq!(created["slug"], DEMO_SLUG);
    assert_eq!(created["version"], 1);
    let rest = app
        .get_json(&format!("/api/v1/articles/{DEMO_SLUG}"), 200)
        .await;
    assert_eq!(rest["id"], created["id"]);
    assert_eq!(rest["title"], DEMO_TITLE);
    assert_eq!(
        rest["standfirst"],
        "Editor’s note: first published by CGTN."
    );
    let html = "<p>First <em>paragraph</em> “quoted”.</p>\n<p>Second.</p>\n";
    assert_eq!(rest["body_html"], html);
    assert_eq!(rest["excerpt"], "First paragraph “quoted”.");
    assert_eq!(rest["authors"][0]["id"], author);
    assert_eq!(rest["tags"][0]["id"], tag);
    assert_eq!(rest["source"]["name"], "CGTN");
    assert!(rest["source"].get("feed_url").is_none());
    assert_eq!(rest["canonical_url"], "https://news.cgtn.com/news/x");
    assert!(rest.get("status").is_none() && rest.get("version").is_none());

    let fields = json!({
        "title": "Home grown",
        "body": "<p onclick=\"x()\">Hi<script>alert(1)</script></p>", "body_format": "html",
        "status": "published", "author_ids": [author]
    });
    let resp = app.post(Some(&admin), "/api/v1/articles", fields).await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("/api/v1/articles/"), "{location}");
    assert_eq!(resp.headers()["etag"], "\"v1\"");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "published");
    let q = "query($s: String) { article(slug: $s) { \
             id title bodyHtml canonicalUrl authors { name articleCount } } }";
    let gql = app.gql(q, json!({"s": "home-grown"})).await;
    let a = &gql_ok(&gql)["article"];
    assert_eq!(a["id"], body["id"]);
    assert_eq!(a["bodyHtml"], "<p>Hi</p>");
    assert_eq!(
        a["canonicalUrl"],
        "https://site.example/articles/home-grown"
    );
    assert_eq!(a["authors"][0]["articleCount"], 2);
}

async fn authors_sources_and_tags_round_trip_between_the_apis(app: TestApp) {
    let admin = app.admin_token().await;
    let create = r#"mutation {
        a: createAuthor(input: {name: "Renée Çelik", bio: "Writes."}) { id slug }
        s: createSource(input: {name: "CGTN", homepageUrl: "https://news.cgtn.com"}) { id slug }
        t: createTag(input: {name: "China–Russia relations"}) { id slug }
    }"#;
    let g = app.gql_as(Some(&admin), create, Value::Null).await;
    let d = gql_ok(&g);
    assert_eq!(d["a"]["slug"], "renee-celik");
    assert_eq!(d["t"]["slug"], "china-russia-relations");
    let author = app.get_json("/api/v1/authors/renee-celik", 200).await;
    assert_eq!(author["name"], "Renée Çelik");
    assert_eq!(author["article_count"], 0);
    let source = app.get_json("/api/v1/sources/cgtn", 200).await;
    assert_eq!(source["homepage_url"], "https://news.cgtn.com");
    let tags = app.get_json("/api/v1/tags", 200).await;
    assert_eq!(tags["data"][0]["name"], "China–Russia relations");

    let made = json!({"name": "Renée Çelik"});
    let made = app.create(&admin, "/api/v1/authors", made).await;
    assert_eq!(made.slug, "renee-celik-2", "slugs are de-duplicated");
    let q = "query($s: String) { author(slug: $s) { id name articleCount } }";
    let back = app.gql(q, json!({"s": "renee-celik-2"})).await;
    assert_eq!(gql_ok(&back)["author"]["id"], made.id);
    let path = format!("/api/v1/authors/{}", made.id);
    let patched = app
        .patch(Some(&admin), &path, json!({"title": "Columnist"}))
        .await;
    assert_eq!(patched.status(), 200);
    let q = "query($id: ID) { author(id: $id) { title } }";
    let back = app.gql(q, json!({"id": made.id})).await;
    assert_eq!(gql_ok(&back)["author"]["title"], "Columnist");
    let dup = json!({"name": "x", "slug": "china-russia-relations"});
    let dup = app.post(Some(&admin), "/api/v1/tags", dup).await;
    assert_problem(dup, 409, "conflict").await;
}

async fn changing_a_slug_keeps_the_old_one_as_a_redirect(app: TestApp) {
    let admin = app.admin_token().await;
    let fields = json!({"title": "Original title", "status": "published"});
    let a = app.create_article(&admin, fields.clone()).await;
    let again = app.create_article(&admin, fields).await;
    assert_eq!(again.slug, "original-title-2");
    let id = &a.id;
    let resp = app
        .update_article(&admin, id, json!({"slug": "better-title"}))
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let history = &body["previous_slugs"];
    assert_eq!(history, &json!([]), "history is shown on single reads");
    let moved = app.get("/api/v1/articles/original-title").await;
    assert_eq!(moved.status(), 301);
    assert_eq!(moved.headers()["location"], "/api/v1/articles/better-title");
    let public = app.get_json("/api/v1/articles/better-title", 200).await;
    assert_eq!(public["id"], id.as_str());
    let staff = app
        .get_json_as(&admin, "/api/v1/articles/better-title", 200)
        .await;
    assert_eq!(staff["previous_slugs"], json!(["original-title"]));
    let q = "{ article(slug: \"original-title\") { slug } }";
    let gql = app.gql(q, Value::Null).await;
    assert_eq!(gql_ok(&gql)["article"]["slug"], "better-title");
    // The old slug stays reserved.
    let taken = json!({"title": "x", "slug": "original-title"});
    let taken = app.post(Some(&admin), "/api/v1/articles", taken).await;
    assert_problem(taken, 409, "conflict").await;
    let fresh = json!({"title": "Original title"});
    let fresh = app.create_article(&admin, fresh).await;
    assert_eq!(fresh.slug, "original-title-3");
}

async fn drafts_and_scheduled_articles_are_invisible_to_the_public_everywhere(app: TestApp) {
    let admin = app.admin_token().await;
    let (author, source, tag) = taxonomy(&app, &admin).await;
    let links = json!({"author_ids": [author], "tag_ids": [tag], "source_id": source});
    let mut draft = links.clone();
    draft["title"] = json!("Secret draft");
    let draft = app.create_article(&admin, draft).await;
    let mut sched = links.clone();
    sched["title"] = json!("Tomorrow's piece");
    sched["status"] = json!("published");
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    sched["published_at"] = json!(tomorrow.to_rfc3339());
    let sched = app.create_article(&admin, sched).await;
    for path in [
        "/api/v1/articles",
        "/api/v1/authors/danny-haiphong/articles",
        "/api/v1/sources/cgtn/articles",
        "/api/v1/tags/multipolarity/articles",
    ] {
        assert_eq!(app.get_json(path, 200).await["meta"]["total"], 0, "{path}");
    }
    for path in [
        "/api/v1/authors/danny-haiphong",
        "/api/v1/sources/cgtn",
        "/api/v1/tags/multipolarity",
    ] {
        assert_eq!(app.get_json(path, 200).await["article_count"], 0, "{path}");
    }
    for a in [&draft, &sched] {
        let resp = app.get(&format!("/api/v1/articles/{}", a.slug)).await;
        assert_problem(resp, 404, "not_found").await;
        let q = "query($id: ID) { article(id: $id) { id } }";
        let gql = app.gql(q, json!({"id": a.id})).await;
        assert!(gql_ok(&gql)["article"].is_null());
    }
    let q = "{ articles { totalCount } search(query: \"piece\") { totalCount } \
             author(slug: \"danny-haiphong\") { articleCount articles { totalCount } } }";
    let gql = app.gql(q, Value::Null).await;
    assert_eq!(gql_ok(&gql)["articles"]["totalCount"], 0);
    assert_eq!(gql_ok(&gql)["search"]["totalCount"], 0);
    assert_eq!(gql_ok(&gql)["author"]["articleCount"], 0);
    // Staff see them on request.
    let staff = app
        .get_json_as(&admin, "/api/v1/articles?status=any", 200)
        .await;
    assert_eq!(staff["meta"]["total"], 2);
    let scheduled = app
        .get_json_as(&admin, "/api/v1/articles?status=scheduled", 200)
        .await;
    assert_eq!(scheduled["data"][0]["id"], sched.id);
    let drafts = app.get("/api/v1/articles?status=draft").await;
    assert_problem(drafts, 401, "unauthorized").await;
    // Publishing in the past makes it visible at once, with no job needed.
    let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    let publish =
        "mutation($id: ID!, $at: DateTime) { publishArticle(id: $id, at: $at) { status } }";
    let gql = app
        .gql_as(Some(&admin), publish, json!({"id": sched.id, "at": past}))
        .await;
    assert_eq!(gql_ok(&gql)["publishArticle"]["status"], "PUBLISHED");
    let list = app.get_json("/api/v1/articles", 200).await;
    assert_eq!(list["meta"]["total"], 1);
    let source = app.get_json("/api/v1/sources/cgtn", 200).await;
    assert_eq!(source["article_count"], 1);
}

async fn roles_decide_who_may_write_publish_and_edit(app: TestApp) {
    let admin = app.admin_token().await;
    // A contributor and an author, each linked to their own byline.
    let mut tokens = Vec::new();
    for (role, name) in [
        ("contributor", "Cora Contributor"),
        ("author", "Arthur Author"),
    ] {
        let byline = app
            .create(&admin, "/api/v1/authors", json!({"name": name}))
            .await;
        let (id, email, password) = app.create_user(role).await;
        let path = format!("/api/v1/users/{id}");
        let link = json!({"author_id": byline.id});
        let linked = app.patch(Some(&admin), &path, link).await;
        assert_eq!(linked.status(), 200);
        tokens.push((app.token_of(&email, &password).await, byline.id));
    }
    let (contrib, contrib_byline) = tokens[0].clone();
    let (author, _) = tokens[1].clone();

    // Contributors write drafts under their own byline, and may not publish.
    let draft = app
        .create_article(&contrib, json!({"title": "My draft"}))
        .await;
    assert_eq!(draft["authors"][0]["id"], contrib_byline);
    let publish = json!({"title": "Publish me", "status": "published"});
    let refused = app.post(Some(&contrib), "/api/v1/articles", publish).await;
    assert_problem(refused, 403, "forbidden").await;
    let published = json!({"status": "published"});
    let refused = app.update_article(&contrib, &draft.id, published).await;
    assert_problem(refused, 403, "forbidden").await;
    let publish = "mutation($id: ID!) { publishArticle(id: $id) { id } }";
    let gql = app
        .gql_as(Some(&contrib), publish, json!({"id": draft.id}))
        .await;
    assert_gql_error(&gql, "FORBIDDEN");

    // Someone else's article: the author may not touch it; the editor may.
    let others = json!({"title": "The editor's piece", "status": "published"});
    let others = app.create_article(&admin, others).await;
    let hijack = json!({"title": "Hijacked"});
    let refused = app.update_article(&author, &others.id, hijack).await;
    assert_problem(refused, 403, "forbidden").await;
    let update =
        "mutation($id: ID!) { updateArticle(id: $id, input: {title: \"Hijacked\"}) { id } }";
    let gql = app
        .gql_as(Some(&author), update, json!({"id": others.id}))
        .await;
    assert_gql_error(&gql, "FORBIDDEN");
    let path = format!("/api/v1/articles/{}", others.id);
    let refused = app.delete(Some(&author), &path).await;
    assert_problem(refused, 403, "forbidden").await;
    // Others' drafts are simply not there for them.
    let missing = app
        .update_article(&author, &draft.id, json!({"title": "x"}))
        .await;
    assert_problem(missing, 404, "not_found").await;
    let public = app.get_json(&path, 200).await;
    assert_eq!(public["title"], "The editor's piece");

    // Authors publish their own work.
    let own = json!({"title": "Mine, published", "status": "published"});
    let own = app.create_article(&author, own).await;
    assert_eq!(own["status"], "published");
    let (_, editor) = app.token_for("editor").await;
    let edit = json!({"title": "Edited by the editor"});
    let ok = app.update_article(&editor, &own.id, edit).await;
    assert_eq!(ok.status(), 200);
    // Taxonomy is for admins and editors.
    let tag = json!({"name": "x"});
    let refused = app.post(Some(&author), "/api/v1/tags", tag.clone()).await;
    assert_problem(refused, 403, "forbidden").await;
    let refused = app.post(None, "/api/v1/tags", tag).await;
    assert_problem(refused, 401, "unauthorized").await;
}

async fn stale_versions_are_refused_and_change_nothing(app: TestApp) {
    let admin = app.admin_token().await;
    let a = json!({"title": "Versioned", "body": "one"});
    let a = app.create_article(&admin, a).await;
    let id = &a.id;
    let ok = app
        .update_article_if_match(&admin, id, "\"v1\"", json!({"body": "two"}))
        .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["etag"], "\"v2\"");
    let lost = json!({"body": "lost update"});
    let stale = app
        .update_article_if_match(&admin, id, "\"v1\"", lost)
        .await;
    assert_problem(stale, 412, "precondition_failed").await;
    let lost = json!({"body": "lost update", "version": 1});
    let stale = app.update_article(&admin, id, lost).await;
    assert_problem(stale, 409, "conflict").await;
    let update = "mutation($id: ID!) { \
                  updateArticle(id: $id, input: {body: \"lost\"}, expectedVersion: 1) { id } }";
    let gql = app.gql_as(Some(&admin), update, json!({"id": id})).await;
    assert_gql_error(&gql, "CONFLICT");
    let path = format!("/api/v1/articles/{id}");
    let now = app.get_json_as(&admin, &path, 200).await;
    assert_eq!(now["body"], "two");
    assert_eq!(now["version"], 2);
    let update = "mutation($id: ID!) { updateArticle(id: $id, input: {body: \"three\"}, \
                  expectedVersion: 2) { version body } }";
    let gql = app.gql_as(Some(&admin), update, json!({"id": id})).await;
    let expected = json!({"version": 3, "body": "three"});
    assert_eq!(gql_ok(&gql)["updateArticle"], expected);
}

async fn authors_and_sources_in_use_cannot_be_deleted(app: TestApp) {
    let admin = app.admin_token().await;
    let (author, source, tag) = taxonomy(&app, &admin).await;
    let fields = json!({
        "title": "Uses them", "author_ids": [author], "source_id": source, "tag_ids": [tag]
    });
    app.create_article(&admin, fields).await;
    let path = format!("/api/v1/authors/{author}");
    let refused = app.delete(Some(&admin), &path).await;
    let refused = assert_problem(refused, 409, "conflict").await;
    let detail = refused["detail"].as_str().unwrap();
    assert!(detail.contains("1 article"), "{refused}");
    let source_path = format!("/api/v1/sources/{source}");
    let refused = app.delete(Some(&admin), &source_path).await;
    assert_problem(refused, 409, "conflict").await;
    let delete = "mutation($id: ID!) { deleteSource(id: $id) }";
    let gql = app
        .gql_as(Some(&admin), delete, json!({"id": source}))
        .await;
    assert_gql_error(&gql, "CONFLICT");
    assert_eq!(app.get_json(&path, 200).await["id"], author);
    // A tag simply leaves the article.
    let tag_path = format!("/api/v1/tags/{tag}");
    assert_eq!(app.delete(Some(&admin), &tag_path).await.status(), 204);
    let staff = app
        .get_json_as(&admin, "/api/v1/articles/uses-them", 200)
        .await;
    assert_eq!(staff["tags"], json!([]));
}

async fn bad_article_input_names_every_field_and_writes_nothing(app: TestApp) {
    let admin = app.admin_token().await;
    let bad = json!({
        "title": "x".repeat(301), "slug": "Not A Slug", "original_url": "javascript:alert(1)",
        "feature_image_url": "ftp://x", "author_ids": ["nope"], "body_format": "rtf",
        "status": "live"
    });
    let resp = app.post(Some(&admin), "/api/v1/articles", bad).await;
    let body = assert_problem(resp, 422, "validation_failed").await;
    let mut fields = problem_fields(&body);
    fields.sort();
    let all = [
        "author_ids",
        "body_format",
        "feature_image_url",
        "original_url",
        "slug",
        "status",
        "title",
    ];
    assert_eq!(fields, all);
    for bad in [json!({"body": "no title"}), json!({"title": "   "})] {
        let resp = app.post(Some(&admin), "/api/v1/articles", bad).await;
        assert_problem(resp, 422, "validation_failed").await;
    }
    for (bad, field) in [
        (json!({"title": "ok", "colour": "red"}), "colour"),
        (
            json!({"title": "ok", "published_at": "yesterday"}),
            "published_at",
        ),
    ] {
        let resp = app.post(Some(&admin), "/api/v1/articles", bad).await;
        let problem = assert_problem(resp, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field);
    }
    let create = "mutation { createArticle(input: {title: \"\", originalUrl: \"nope\"}) { id } }";
    let gql = app.gql_as(Some(&admin), create, Value::Null).await;
    assert_gql_error(&gql, "BAD_USER_INPUT");
    assert_eq!(problem_fields(&gql), ["title", "originalUrl"]);
    let huge = send_oversized(&app, "/api/v1/articles", Some(&admin)).await;
    assert_problem(huge, 413, "payload_too_large").await;
    let staff = app
        .get_json_as(&admin, "/api/v1/articles?status=any", 200)
        .await;
    assert_eq!(staff["meta"]["total"], 0, "nothing was written");
    // Updates too: a bad field leaves the article as it was.
    let a = app.create_article(&admin, json!({"title": "Kept"})).await;
    let change = json!({"title": "Changed", "source_id": "missing"});
    let bad = app.update_article(&admin, &a.id, change).await;
    assert_problem(bad, 422, "validation_failed").await;
    let path = format!("/api/v1/articles/{}", a.id);
    let after = app.get_json_as(&admin, &path, 200).await;
    assert_eq!(after["title"], "Kept");
    assert_eq!(after["version"], 1);
}

async fn public_reads_carry_validators_and_answer_304(app: TestApp) {
    let admin = app.admin_token().await;
    let fields = json!({"title": "Cached", "status": "published"});
    let a = app.create_article(&admin, fields).await;
    for path in [
        "/api/v1/articles",
        "/api/v1/articles/cached",
        "/api/v1/tags",
        "/api/v1/authors",
    ] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), 200);
        let etag = resp.headers()["etag"].to_str().unwrap().to_string();
        let cache_control = resp.headers()["cache-control"].to_str().unwrap();
        assert!(cache_control.starts_with("public, max-age="), "{path}");
        let again = app.get_with(path, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
        let private = app.get_as(&admin, path).await;
        let cache_control = &private.headers()["cache-control"];
        assert_eq!(cache_control, "private, no-store", "{path}");
    }
    let resp = app.get("/api/v1/articles/cached").await;
    assert!(resp.headers().contains_key("last-modified"));
    // A change changes the validator.
    let before = resp.headers()["etag"].to_str().unwrap().to_string();
    let note = json!({"standfirst": "New note"});
    app.update_article(&admin, &a.id, note).await;
    let stale = app
        .get_with("/api/v1/articles/cached", &[("if-none-match", &before)])
        .await;
    assert_eq!(stale.status(), 200);
}

async fn lists_filter_by_author_source_and_tag_and_sort(app: TestApp) {
    let admin = app.admin_token().await;
    let (author, source, tag) = taxonomy(&app, &admin).await;
    for fields in [
        json!({"title": "Beta", "author_ids": [author], "source_id": source}),
        json!({"title": "Alpha", "tag_ids": [tag]}),
        json!({"title": "Gamma"}),
    ] {
        let mut fields = fields;
        fields["status"] = json!("published");
        app.create_article(&admin, fields).await;
    }
    let titles = |v: &Value| {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["title"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    for (path, expected) in [
        (
            "/api/v1/articles?sort=title".to_string(),
            vec!["Alpha", "Beta", "Gamma"],
        ),
        (
            "/api/v1/articles?author=danny-haiphong".into(),
            vec!["Beta"],
        ),
        (format!("/api/v1/articles?source={source}"), vec!["Beta"]),
        ("/api/v1/articles?tag=multipolarity".into(), vec!["Alpha"]),
        ("/api/v1/articles?author=nobody".into(), vec![]),
        ("/api/v1/articles?q=gamma".into(), vec!["Gamma"]),
        ("/api/v1/articles?q=gam*".into(), vec!["Gamma"]),
        ("/api/v1/sources/cgtn/articles".into(), vec!["Beta"]),
    ] {
        assert_eq!(titles(&app.get_json(&path, 200).await), expected, "{path}");
    }
    let resp = app.get("/api/v1/articles?sort=random").await;
    assert_problem(resp, 422, "validation_failed").await;
    let resp = app.get("/api/v1/authors/nobody/articles").await;
    assert_problem(resp, 404, "not_found").await;
    let q = "{ articles(orderBy: TITLE_ASC, first: 2) { \
               edges { node { title } } pageInfo { endCursor } } \
             source(slug: \"cgtn\") { articleCount articles { edges { node { title } } } } }";
    let gql = app.gql(q, Value::Null).await;
    let d = gql_ok(&gql);
    assert_eq!(d["articles"]["edges"][1]["node"]["title"], "Beta");
    assert_eq!(d["source"]["articles"]["edges"][0]["node"]["title"], "Beta");
    let q = "query($c: String) { \
             articles(orderBy: TITLE_ASC, first: 2, after: $c) { edges { node { title } } } }";
    let after = &d["articles"]["pageInfo"]["endCursor"];
    let next = app.gql(q, json!({"c": after})).await;
    let edges = &gql_ok(&next)["articles"]["edges"];
    assert_eq!(edges[0]["node"]["title"], "Gamma");
}

async fn staff_only_graphql_fields_are_forbidden_to_the_public(app: TestApp) {
    let admin = app.admin_token().await;
    let fields = json!({"title": "Open piece", "status": "published"});
    app.create_article(&admin, fields).await;
    let source = json!({"name": "CGTN", "feed_url": "https://news.cgtn.com/rss"});
    app.create(&admin, "/api/v1/sources", source).await;
    let q = "{ article(slug: \"open-piece\") { title version body status } \
             source(slug: \"cgtn\") { name feedUrl } }";
    let public = app.gql(q, Value::Null).await;
    let codes: Vec<&str> = public["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["extensions"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["FORBIDDEN"; 4]);
    // Only the refused fields are null; the rest of the object is there.
    assert_eq!(public["data"]["article"]["title"], "Open piece");
    assert!(public["data"]["article"]["version"].is_null());
    assert!(!public.to_string().contains("news.cgtn.com/rss"));
    let staff = app.gql_as(Some(&admin), q, Value::Null).await;
    assert_eq!(gql_ok(&staff)["article"]["version"], 1);
    assert_eq!(
        gql_ok(&staff)["source"]["feedUrl"],
        "https://news.cgtn.com/rss"
    );
}

/// Counting what computing a page costs: the response cache is off, and
/// the webhook worker's polling would be counted too.
fn nothing_cached_and_no_webhook_worker(config: &mut Config) {
    config.response_cache_mb = 0;
    config.webhook_worker = false;
}

both_backends_with!(
    nothing_cached_and_no_webhook_worker,
    the_number_of_sql_statements_does_not_grow_with_the_page
);

async fn the_number_of_sql_statements_does_not_grow_with_the_page(app: TestApp) {
    let admin = app.admin_token().await;
    let (author, source, tag) = taxonomy(&app, &admin).await;
    let second = json!({"name": "Second Author"});
    let second = app.create(&admin, "/api/v1/authors", second).await.id;
    for i in 0..50 {
        let fields = json!({
            "title": format!("Piece {i}"), "status": "published",
            "author_ids": [author, second], "tag_ids": [tag], "source_id": source
        });
        app.create_article(&admin, fields).await;
    }
    let path = |n: usize| format!("/api/v1/articles?per_page={n}");
    let (rest5, five) = app.statements(app.get(&path(5))).await;
    let (rest50, fifty) = app.statements(app.get(&path(50))).await;
    assert_eq!(five.status(), 200);
    assert_eq!(fifty.status(), 200);
    assert_eq!(rest5, rest50, "REST list: {rest5} vs {rest50} statements");
    assert!(rest5 <= 10, "REST list uses {rest5} statements");
    let page = |n: usize| {
        format!(
            "{{ articles(first: {n}) {{ edges {{ node {{ title commentCount \
             source {{ name articleCount }} tags {{ name articleCount }} \
             authors {{ name articleCount }} }} }} }} }}"
        )
    };
    let (g5, five) = app.statements(app.gql(&page(5), Value::Null)).await;
    let (g50, fifty) = app.statements(app.gql(&page(50), Value::Null)).await;
    for (resp, n) in [(five, 5), (fifty, 50)] {
        let edges = &gql_ok(&resp)["articles"]["edges"];
        assert_eq!(edges.as_array().unwrap().len(), n);
    }
    assert_eq!(g5, g50, "GraphQL page: {g5} vs {g50} statements");
    assert!(g5 <= 14, "GraphQL page uses {g5} statements");
}
