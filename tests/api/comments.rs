//! Reader comments: submission, moderation policy, abuse limits, threads,
//! safe rendering and privacy — on both APIs.

use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, FreshDb, Server, TestApp, assert_problem, test_config},
};

/// A published article (made by the admin) and its slug.
async fn article(app: &TestApp, admin: &str, title: &str, extra: Value) -> (String, String) {
    let mut body = json!({"title": title, "status": "published"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let resp = app
        .send("POST", "/api/v1/articles", Some(admin), Some(body))
        .await;
    assert_eq!(resp.status(), 201);
    let a: Value = resp.json().await.unwrap();
    (
        a["id"].as_str().unwrap().into(),
        a["slug"].as_str().unwrap().into(),
    )
}

async fn submit(app: &TestApp, slug: &str, body: Value) -> reqwest::Response {
    app.send(
        "POST",
        &format!("/api/v1/articles/{slug}/comments"),
        None,
        Some(body),
    )
    .await
}

fn reader(email: &str, text: &str) -> Value {
    json!({"author_name": "A reader", "author_email": email, "body": text})
}

async fn approve(app: &TestApp, admin: &str, id: &str) {
    let resp = app
        .send(
            "PATCH",
            &format!("/api/v1/comments/{id}"),
            Some(admin),
            Some(json!({"status": "approved"})),
        )
        .await;
    assert_eq!(resp.status(), 200);
}

both_backends! {
    async fn the_reference_comment_is_held_moderated_and_shown_without_its_email(app) {
        let admin = app.admin_token().await;
        let (_, slug) = article(&app, &admin, "Danny Haiphong: China-Russia partnership", json!({})).await;
        let email = format!("reader-{}@example.org", &broadsheet::services::new_id()[24..]);
        let text = "I note with some despair the stories carried in the western press today…\n\nThe world has every reason to fear it.";
        let resp = submit(&app, &slug, reader(&email, text)).await;
        assert_eq!(resp.status(), 202, "a first-time commenter waits");
        assert_eq!(resp.headers()["cache-control"], "private, no-store");
        let held: Value = resp.json().await.unwrap();
        assert_eq!(held["status"], "pending");
        assert!(held.get("author_email").is_none());
        let id = held["id"].as_str().unwrap().to_string();
        assert_eq!(app.get_json(&format!("/api/v1/articles/{slug}/comments"), 200).await["meta"]["total"], 0);
        assert_eq!(app.get_json(&format!("/api/v1/articles/{slug}"), 200).await["comment_count"], 0);

        // Moderation queue shows it, email included.
        let queue: Value = app.send("GET", "/api/v1/comments?status=pending", Some(&admin), None).await.json().await.unwrap();
        assert_eq!(queue["data"][0]["id"], id.as_str());
        assert_eq!(queue["data"][0]["author_email"], email.as_str());
        assert!(queue["data"][0]["ip"].is_string());
        approve(&app, &admin, &id).await;

        let list = app.get_json(&format!("/api/v1/articles/{slug}/comments"), 200).await;
        let c = &list["data"][0];
        assert_eq!(c["author_name"], "A reader");
        assert_eq!(c["depth"], 0);
        assert_eq!(c["body_html"], "<p>I note with some despair the stories carried in the western press today…</p>\n<p>The world has every reason to fear it.</p>");
        for private in ["author_email", "ip", "user_agent", "status", "body"] {
            assert!(c.get(private).is_none(), "public comment exposes {private}");
        }
        assert_eq!(app.get_json(&format!("/api/v1/articles/{slug}"), 200).await["comment_count"], 1);

        // The same email with its commenter token (proof it wrote the
        // approved comment): approved at once. The email alone proves nothing.
        let token = held["commenter_token"].as_str().expect("a commenter token").to_string();
        let mut second = reader(&email, "A second thought.");
        second["commenter_token"] = json!(token);
        let second = submit(&app, &slug, second).await;
        assert_eq!(second.status(), 201);
        assert_eq!(second.json::<Value>().await.unwrap()["status"], "approved");

        // GraphQL: public fields resolve, private ones are FORBIDDEN, never the value.
        let q = format!("{{ article(slug: \"{slug}\") {{ commentCount comments {{ totalCount edges {{ node {{ authorName bodyHtml authorEmail status }} }} }} }} }}");
        let public = app.gql(&q, Value::Null).await;
        assert_eq!(public["data"]["article"]["commentCount"], 2, "{public}");
        let codes: Vec<&str> = public["errors"].as_array().unwrap().iter().map(|e| e["extensions"]["code"].as_str().unwrap()).collect();
        assert!(!codes.is_empty() && codes.iter().all(|c| *c == "FORBIDDEN"), "{public}");
        let staff = app.gql_as(Some(&admin), &q, Value::Null).await;
        assert_eq!(staff["data"]["article"]["comments"]["edges"][0]["node"]["authorEmail"], email.as_str());

        // No public response anywhere carries the email.
        for path in [
            "/api/v1/articles".to_string(), format!("/api/v1/articles/{slug}"), format!("/api/v1/articles/{slug}/comments"),
            "/api/v1/authors".into(), "/api/v1/tags".into(), "/api/v1/sources".into(), "/openapi.yaml".into(),
        ] {
            let body = app.get(&path).await.text().await.unwrap();
            assert!(!body.contains(&email), "{path} leaks the email");
        }
        assert!(!public.to_string().contains(&email));
        let mut dup = reader(&email, "A second thought.");
        dup["commenter_token"] = json!(token);
        let dup = submit(&app, &slug, dup).await;
        let dup_body = assert_problem(dup, 409, "conflict").await;
        assert!(!dup_body.to_string().contains(&email), "errors must not echo the email");
    }

    async fn links_and_blocklisted_words_are_held_and_duplicates_refused(app) {
        let admin = app.admin_token().await;
        let (_, slug) = article(&app, &admin, "Links", json!({})).await;
        // A known commenter...
        let first: Value = submit(&app, &slug, reader("known@example.org", "Hello.")).await.json().await.unwrap();
        approve(&app, &admin, first["id"].as_str().unwrap()).await;
        let known = |text: &str| {
            let mut v = reader("known@example.org", text);
            v["commenter_token"] = first["commenter_token"].clone();
            v
        };
        // ...is still held with more than two links.
        let links = submit(&app, &slug, known("See http://a.example https://b.example http://c.example")).await;
        assert_eq!(links.status(), 202);
        let two = submit(&app, &slug, known("See http://a.example and https://b.example.")).await;
        assert_eq!(two.status(), 201);
        let body: Value = two.json().await.unwrap();
        assert!(body["body_html"].as_str().unwrap().contains("<a href=\"http://a.example\" rel=\"nofollow ugc noopener\">"), "{body}");
        let script = submit(&app, &slug, reader("known@example.org", "<script>alert(1)</script>")).await;
        let body: Value = script.json().await.unwrap();
        assert_eq!(body["body_html"], "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
        // Duplicates: same email, article and body within ten minutes.
        let dup = submit(&app, &slug, reader("known@example.org", "Hello.")).await;
        assert_problem(dup, 409, "conflict").await;
    }

    async fn closed_unknown_and_bad_submissions_are_refused_and_write_nothing(app) {
        let admin = app.admin_token().await;
        let (_, open) = article(&app, &admin, "Open", json!({})).await;
        let (other_id, other) = article(&app, &admin, "Other", json!({})).await;
        let (_, closed) = article(&app, &admin, "Closed", json!({"comment_status": "closed"})).await;
        assert_problem(submit(&app, &closed, reader("a@example.org", "Hi")).await, 403, "forbidden").await;
        assert_problem(submit(&app, "no-such-article", reader("a@example.org", "Hi")).await, 404, "not_found").await;
        let missing = assert_problem(submit(&app, &open, json!({"author_url": "javascript:alert(1)"})).await, 422, "validation_failed").await;
        let fields: Vec<&str> = missing["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, vec!["author_name", "author_email", "author_url", "body"]);
        let bad_email = submit(&app, &open, json!({"author_name": "x", "author_email": "nope", "body": "hi"})).await;
        assert_eq!(assert_problem(bad_email, 422, "validation_failed").await["errors"][0]["field"], "author_email");
        // Replies: the parent must be approved and on the same article.
        let pending: Value = submit(&app, &open, reader("new@example.org", "Pending one")).await.json().await.unwrap();
        let to_pending = submit(&app, &open, json!({"author_name": "x", "author_email": "x@example.org", "body": "re", "parent_id": pending["id"]})).await;
        assert_eq!(assert_problem(to_pending, 422, "validation_failed").await["errors"][0]["field"], "parent_id");
        approve(&app, &admin, pending["id"].as_str().unwrap()).await;
        let foreign = submit(&app, &other, json!({"author_name": "x", "author_email": "x@example.org", "body": "re", "parent_id": pending["id"]})).await;
        assert_problem(foreign, 422, "validation_failed").await;
        // GraphQL answers the same.
        let gql = app.gql("mutation($a: String!) { submitComment(input: {articleId: $a, body: \"hi\"}) { status } }", json!({"a": other_id})).await;
        assert_eq!(gql["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        let names: Vec<&str> = gql["errors"][0]["extensions"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["authorName", "authorEmail"]);
        let counts: Value = app.send("GET", "/api/v1/comments/counts", Some(&admin), None).await.json().await.unwrap();
        assert_eq!(counts, json!({"pending": 0, "approved": 1, "spam": 0, "trash": 0}));
    }

    async fn threads_nest_five_deep_and_graphql_follows_replies(app) {
        let admin = app.admin_token().await;
        let (id, slug) = article(&app, &admin, "Threads", json!({})).await;
        let mut parent: Option<String> = None;
        let mut ids = Vec::new();
        for depth in 0..5 {
            let mut body = reader("thread@example.org", &format!("Level {depth}"));
            if let Some(p) = &parent {
                body["parent_id"] = json!(p);
            }
            let c: Value = submit(&app, &slug, body).await.json().await.unwrap();
            assert_eq!(c["depth"], depth, "{c}");
            let cid = c["id"].as_str().unwrap().to_string();
            if c["status"] == "pending" {
                approve(&app, &admin, &cid).await;
            }
            parent = Some(cid.clone());
            ids.push(cid);
        }
        let too_deep = submit(&app, &slug, json!({"author_name": "x", "author_email": "thread@example.org", "body": "Level 5", "parent_id": parent})).await;
        assert_eq!(assert_problem(too_deep, 422, "validation_failed").await["errors"][0]["field"], "parent_id");
        let list = app.get_json(&format!("/api/v1/articles/{slug}/comments"), 200).await;
        let depths: Vec<i64> = list["data"].as_array().unwrap().iter().map(|c| c["depth"].as_i64().unwrap()).collect();
        assert_eq!(depths, vec![0, 1, 2, 3, 4]);
        assert_eq!(list["data"][1]["parent_id"], ids[0].as_str());
        let gql = app.gql("query($id: ID) { article(id: $id) { comments(first: 5, topLevel: true) { totalCount edges { node { bodyHtml replies(first: 5) { depth parent { id } replies(first: 5) { depth replies(first: 5) { bodyHtml } } } } } } } }", json!({"id": id})).await;
        assert!(gql["errors"].is_null(), "{gql}");
        let top = &gql["data"]["article"]["comments"];
        assert_eq!(top["totalCount"], 1);
        let first_reply = &top["edges"][0]["node"]["replies"][0];
        assert_eq!(first_reply["depth"], 1);
        assert_eq!(first_reply["parent"]["id"], ids[0].as_str());
        assert_eq!(first_reply["replies"][0]["replies"][0]["bodyHtml"], "<p>Level 3</p>");
    }

    async fn moderation_moves_comments_between_states_and_counts_follow(app) {
        let admin = app.admin_token().await;
        let (_, slug) = article(&app, &admin, "Moderated", json!({})).await;
        let mut ids = Vec::new();
        for i in 0..3 {
            let c: Value = submit(&app, &slug, reader(&format!("m{i}@example.org"), "Comment")).await.json().await.unwrap();
            ids.push(c["id"].as_str().unwrap().to_string());
        }
        let count = |app: TestApp, slug: String| async move { app.get_json(&format!("/api/v1/articles/{slug}"), 200).await["comment_count"].as_u64().unwrap() };
        let bulk: Value = app.send("POST", "/api/v1/comments/bulk", Some(&admin), Some(json!({"ids": ids, "status": "approved"}))).await.json().await.unwrap();
        assert_eq!(bulk["updated"], 3);
        assert_eq!(count(app.clone(), slug.clone()).await, 3);
        let gql = app.gql_as(Some(&admin), "mutation($id: ID!) { moderateComment(id: $id, status: SPAM) { status } }", json!({"id": ids[0]})).await;
        assert_eq!(gql["data"]["moderateComment"]["status"], "SPAM");
        assert_eq!(count(app.clone(), slug.clone()).await, 2);
        app.send("PATCH", &format!("/api/v1/comments/{}", ids[1]), Some(&admin), Some(json!({"status": "trash"}))).await;
        assert_eq!(count(app.clone(), slug.clone()).await, 1);
        app.send("PATCH", &format!("/api/v1/comments/{}", ids[1]), Some(&admin), Some(json!({"status": "pending"}))).await;
        let edited: Value = app.send("PATCH", &format!("/api/v1/comments/{}", ids[2]), Some(&admin), Some(json!({"body": "Edited by the editor"}))).await.json().await.unwrap();
        assert_eq!(edited["body_html"], "<p>Edited by the editor</p>");
        let counts: Value = app.send("GET", "/api/v1/comments/counts", Some(&admin), None).await.json().await.unwrap();
        assert_eq!(counts, json!({"pending": 1, "approved": 1, "spam": 1, "trash": 0}));
        let spam: Value = app.send("GET", &format!("/api/v1/comments?status=spam&article={slug}"), Some(&admin), None).await.json().await.unwrap();
        assert_eq!(spam["meta"]["total"], 1);
        assert_eq!(app.send("DELETE", &format!("/api/v1/comments/{}", ids[2]), Some(&admin), None).await.status(), 204);
        assert_eq!(count(app.clone(), slug.clone()).await, 0);
        // Only editors and admins moderate.
        let (_, author) = app.token_for("author").await;
        assert_problem(app.send("GET", "/api/v1/comments", Some(&author), None).await, 403, "forbidden").await;
        assert_problem(app.send("GET", "/api/v1/comments", None, None).await, 401, "unauthorized").await;
        assert_problem(app.send("PATCH", &format!("/api/v1/comments/{}", ids[0]), Some(&author), Some(json!({"status": "approved"}))).await, 403, "forbidden").await;
        assert_problem(app.send("PATCH", &format!("/api/v1/comments/{}", ids[0]), Some(&admin), Some(json!({"status": "burn"}))).await, 422, "validation_failed").await;
        let (_, editor) = app.token_for("editor").await;
        assert_eq!(app.send("GET", "/api/v1/comments?status=any", Some(&editor), None).await.status(), 200);
    }

    async fn comments_written_over_one_api_read_the_same_over_the_other(app) {
        let admin = app.admin_token().await;
        let (id, slug) = article(&app, &admin, "Parity", json!({})).await;
        // Staff comment as themselves and are approved at once.
        let gql = app.gql_as(Some(&admin), "mutation($a: String!) { submitComment(input: {articleId: $a, body: \"From the desk.\"}) { status comment { id authorName } } }", json!({"a": id})).await;
        assert_eq!(gql["data"]["submitComment"]["status"], "APPROVED", "{gql}");
        let rest = app.get_json(&format!("/api/v1/articles/{slug}/comments"), 200).await;
        assert_eq!(rest["data"][0]["id"], gql["data"]["submitComment"]["comment"]["id"]);
        assert_eq!(rest["data"][0]["author_name"], "Administrator");
        let c: Value = submit(&app, &slug, json!({"author_name": "Via REST", "author_email": "rest@example.org", "author_url": "https://example.org", "body": "Hello"})).await.json().await.unwrap();
        approve(&app, &admin, c["id"].as_str().unwrap()).await;
        let back = app.gql("query($s: String) { article(slug: $s) { comments { edges { node { id authorName authorUrl bodyHtml depth } } } } }", json!({"s": slug})).await;
        let node = &back["data"]["article"]["comments"]["edges"][1]["node"];
        assert_eq!(node["id"], c["id"]);
        assert_eq!(node["authorUrl"], "https://example.org");
        assert_eq!(node["bodyHtml"], "<p>Hello</p>");
    }

    async fn concurrent_submissions_are_each_stored_exactly_once(app) {
        let admin = app.admin_token().await;
        let mut slugs = Vec::new();
        for i in 0..10 {
            slugs.push(article(&app, &admin, &format!("Busy {i}"), json!({})).await.1);
        }
        let mut tasks = Vec::new();
        for i in 0..200 {
            let app = app.clone();
            let slug = slugs[i % 10].clone();
            tasks.push(tokio::spawn(async move {
                let resp = submit(&app, &slug, json!({"author_name": format!("R{i}"), "author_email": format!("r{i}@example.org"), "body": format!("Comment number {i}")})).await;
                (resp.status().as_u16(), resp.json::<Value>().await.ok())
            }));
        }
        let mut accepted = Vec::new();
        for t in tasks {
            let (status, body) = t.await.unwrap();
            assert!(status == 201 || status == 202, "submission answered {status}: {body:?}");
            accepted.push(body.unwrap()["id"].as_str().unwrap().to_string());
        }
        accepted.sort();
        accepted.dedup();
        assert_eq!(accepted.len(), 200);
        let counts: Value = app.send("GET", "/api/v1/comments/counts", Some(&admin), None).await.json().await.unwrap();
        assert_eq!(counts["pending"], 200);
        let queue: Value = app.send("GET", "/api/v1/comments?per_page=100", Some(&admin), None).await.json().await.unwrap();
        assert_eq!(queue["meta"]["total"], 200);
        for slug in &slugs {
            let per: Value = app.send("GET", &format!("/api/v1/comments?article={slug}&per_page=100"), Some(&admin), None).await.json().await.unwrap();
            assert_eq!(per["meta"]["total"], 20, "{slug}");
        }
    }
}

async fn submissions_are_limited_per_address(backend: Backend) {
    let Some(db) = FreshDb::create(backend).await else {
        return;
    };
    let mut config = test_config(&db.url);
    config.comment_rate_per_minute = 5;
    let server = Server::start(config).await;
    let app = server.app.clone();
    let admin = app.admin_token().await;
    let (_, slug) = article(&app, &admin, "Limited", json!({})).await;
    for i in 0..5 {
        let resp = submit(&app, &slug, reader(&format!("l{i}@example.org"), "Hi")).await;
        assert_eq!(resp.status(), 202);
    }
    let limited = submit(&app, &slug, reader("l9@example.org", "Hi")).await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, 429, "rate_limited").await;
    let gql = app.gql("mutation($s: String!) { submitComment(input: {articleId: $s, authorName: \"x\", authorEmail: \"x@example.org\", body: \"y\"}) { status } }", json!({"s": slug})).await;
    assert_eq!(gql["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    server.stop().await;
    db.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_are_limited_per_address_sqlite() {
    submissions_are_limited_per_address(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_are_limited_per_address_postgres() {
    submissions_are_limited_per_address(Backend::Postgres).await;
}
