//! Reader comments: submission, moderation policy, abuse limits, threads,
//! safe rendering and privacy — on both APIs.

use broadsheet::config::Config;
use serde_json::{Value, json};

use crate::{
    both_backends, both_backends_with,
    helpers::{TestApp, assert_gql_error, assert_problem, gql_ok, problem_fields},
};

/// What a reader sends: a name, an email and the text.
fn reader(email: &str, text: &str) -> Value {
    json!({"author_name": "A reader", "author_email": email, "body": text})
}

/// A reply to `parent` from someone new.
fn reply(email: &str, text: &str, parent: &Value) -> Value {
    json!({"author_name": "x", "author_email": email, "body": text, "parent_id": parent})
}

both_backends!(
    the_reference_comment_is_held_moderated_and_shown_without_its_email,
    links_and_blocklisted_words_are_held_and_duplicates_refused,
    closed_unknown_and_bad_submissions_are_refused_and_write_nothing,
    threads_nest_five_deep_and_graphql_follows_replies,
    moderation_moves_comments_between_states_and_counts_follow,
    comments_written_over_one_api_read_the_same_over_the_other,
    concurrent_submissions_are_each_stored_exactly_once
);

async fn the_reference_comment_is_held_moderated_and_shown_without_its_email(app: TestApp) {
    let admin = app.admin_token().await;
    let title = "Danny Haiphong: China-Russia partnership";
    let slug = app.publish(&admin, title).await.slug;
    let email = format!(
        "reader-{}@example.org",
        &broadsheet::services::new_id()[24..]
    );
    let text = "I note with some despair the stories carried in the western press today…\n\n\
                The world has every reason to fear it.";
    let resp = app.submit_comment(&slug, reader(&email, text)).await;
    assert_eq!(resp.status(), 202, "a first-time commenter waits");
    assert_eq!(resp.headers()["cache-control"], "private, no-store");
    let held: Value = resp.json().await.unwrap();
    assert_eq!(held["status"], "pending");
    assert!(held.get("author_email").is_none());
    let id = held["id"].as_str().unwrap().to_string();
    let comments = format!("/api/v1/articles/{slug}/comments");
    let article = format!("/api/v1/articles/{slug}");
    assert_eq!(app.get_json(&comments, 200).await["meta"]["total"], 0);
    assert_eq!(app.get_json(&article, 200).await["comment_count"], 0);

    // Moderation queue shows it, email included.
    let queue = app
        .get_json_as(&admin, "/api/v1/comments?status=pending", 200)
        .await;
    assert_eq!(queue["data"][0]["id"], id.as_str());
    assert_eq!(queue["data"][0]["author_email"], email.as_str());
    assert!(queue["data"][0]["ip"].is_string());
    app.moderate(&admin, &id, "approved").await;

    let list = app.get_json(&comments, 200).await;
    let c = &list["data"][0];
    assert_eq!(c["author_name"], "A reader");
    assert_eq!(c["depth"], 0);
    let html = "<p>I note with some despair the stories carried in the western press today…</p>\n\
                <p>The world has every reason to fear it.</p>";
    assert_eq!(c["body_html"], html);
    for private in ["author_email", "ip", "user_agent", "status", "body"] {
        assert!(c.get(private).is_none(), "public comment exposes {private}");
    }
    assert_eq!(app.get_json(&article, 200).await["comment_count"], 1);

    // The same email with its commenter token (proof it wrote the
    // approved comment): approved at once. The email alone proves nothing.
    let token = held["commenter_token"].as_str().expect("a commenter token");
    let mut second = reader(&email, "A second thought.");
    second["commenter_token"] = json!(token);
    let second = app.submit_comment(&slug, second).await;
    assert_eq!(second.status(), 201);
    assert_eq!(second.json::<Value>().await.unwrap()["status"], "approved");

    // GraphQL: public fields resolve, private ones are FORBIDDEN, never the value.
    let q = format!(
        "{{ article(slug: \"{slug}\") {{ commentCount comments {{ totalCount \
         edges {{ node {{ authorName bodyHtml authorEmail status }} }} }} }} }}"
    );
    let public = app.gql(&q, Value::Null).await;
    assert_eq!(public["data"]["article"]["commentCount"], 2, "{public}");
    let codes: Vec<&str> = public["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["extensions"]["code"].as_str().unwrap())
        .collect();
    let all_forbidden = !codes.is_empty() && codes.iter().all(|c| *c == "FORBIDDEN");
    assert!(all_forbidden, "{public}");
    let staff = app.gql_as(Some(&admin), &q, Value::Null).await;
    let node = &staff["data"]["article"]["comments"]["edges"][0]["node"];
    assert_eq!(node["authorEmail"], email.as_str());

    // No public response anywhere carries the email.
    for path in [
        "/api/v1/articles",
        article.as_str(),
        comments.as_str(),
        "/api/v1/authors",
        "/api/v1/tags",
        "/api/v1/sources",
        "/openapi.yaml",
    ] {
        let body = app.get(path).await.text().await.unwrap();
        assert!(!body.contains(&email), "{path} leaks the email");
    }
    assert!(!public.to_string().contains(&email));
    let mut dup = reader(&email, "A second thought.");
    dup["commenter_token"] = json!(token);
    let dup = app.submit_comment(&slug, dup).await;
    let dup_body = assert_problem(dup, 409, "conflict").await;
    let echoed = dup_body.to_string().contains(&email);
    assert!(!echoed, "errors must not echo the email");
}

async fn links_and_blocklisted_words_are_held_and_duplicates_refused(app: TestApp) {
    let admin = app.admin_token().await;
    let slug = app.publish(&admin, "Links").await.slug;
    // A known commenter...
    let first = app
        .submit_comment(&slug, reader("known@example.org", "Hello."))
        .await;
    let first: Value = first.json().await.unwrap();
    app.moderate(&admin, first["id"].as_str().unwrap(), "approved")
        .await;
    let known = |text: &str| {
        let mut v = reader("known@example.org", text);
        v["commenter_token"] = first["commenter_token"].clone();
        v
    };
    // ...is still held with more than two links.
    let links = known("See http://a.example https://b.example http://c.example");
    assert_eq!(app.submit_comment(&slug, links).await.status(), 202);
    let two = known("See http://a.example and https://b.example.");
    let two = app.submit_comment(&slug, two).await;
    assert_eq!(two.status(), 201);
    let body: Value = two.json().await.unwrap();
    let link = "<a href=\"http://a.example\" rel=\"nofollow ugc noopener\">";
    assert!(body["body_html"].as_str().unwrap().contains(link), "{body}");
    let script = reader("known@example.org", "<script>alert(1)</script>");
    let body: Value = app
        .submit_comment(&slug, script)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["body_html"],
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    );
    // Duplicates: same email, article and body within ten minutes.
    let dup = app
        .submit_comment(&slug, reader("known@example.org", "Hello."))
        .await;
    assert_problem(dup, 409, "conflict").await;
}

async fn closed_unknown_and_bad_submissions_are_refused_and_write_nothing(app: TestApp) {
    let admin = app.admin_token().await;
    let open = app.publish(&admin, "Open").await.slug;
    let other = app.publish(&admin, "Other").await;
    let closed = json!({"title": "Closed", "status": "published", "comment_status": "closed"});
    let closed = app.create_article(&admin, closed).await.slug;
    let hi = reader("a@example.org", "Hi");
    let resp = app.submit_comment(&closed, hi.clone()).await;
    assert_problem(resp, 403, "forbidden").await;
    let resp = app.submit_comment("no-such-article", hi).await;
    assert_problem(resp, 404, "not_found").await;
    let resp = app
        .submit_comment(&open, json!({"author_url": "javascript:alert(1)"}))
        .await;
    let missing = assert_problem(resp, 422, "validation_failed").await;
    let fields = problem_fields(&missing);
    assert_eq!(
        fields,
        ["author_name", "author_email", "author_url", "body"]
    );
    let bad_email = json!({"author_name": "x", "author_email": "nope", "body": "hi"});
    let resp = app.submit_comment(&open, bad_email).await;
    let problem = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "author_email");
    // Replies: the parent must be approved and on the same article.
    let pending = reader("new@example.org", "Pending one");
    let pending: Value = app
        .submit_comment(&open, pending)
        .await
        .json()
        .await
        .unwrap();
    let to_pending = reply("x@example.org", "re", &pending["id"]);
    let resp = app.submit_comment(&open, to_pending).await;
    let problem = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "parent_id");
    app.moderate(&admin, pending["id"].as_str().unwrap(), "approved")
        .await;
    let foreign = reply("x@example.org", "re", &pending["id"]);
    let resp = app.submit_comment(&other.slug, foreign).await;
    assert_problem(resp, 422, "validation_failed").await;
    // GraphQL answers the same.
    let submit =
        "mutation($a: String!) { submitComment(input: {articleId: $a, body: \"hi\"}) { status } }";
    let gql = app.gql(submit, json!({"a": other.id})).await;
    assert_gql_error(&gql, "BAD_USER_INPUT");
    assert_eq!(problem_fields(&gql), ["authorName", "authorEmail"]);
    let counts = app
        .get_json_as(&admin, "/api/v1/comments/counts", 200)
        .await;
    let expected = json!({"pending": 0, "approved": 1, "spam": 0, "trash": 0});
    assert_eq!(counts, expected);
}

async fn threads_nest_five_deep_and_graphql_follows_replies(app: TestApp) {
    let admin = app.admin_token().await;
    let article = app.publish(&admin, "Threads").await;
    let slug = &article.slug;
    let mut parent: Option<String> = None;
    let mut ids = Vec::new();
    for depth in 0..5 {
        let mut body = reader("thread@example.org", &format!("Level {depth}"));
        if let Some(p) = &parent {
            body["parent_id"] = json!(p);
        }
        let c: Value = app.submit_comment(slug, body).await.json().await.unwrap();
        assert_eq!(c["depth"], depth, "{c}");
        let cid = c["id"].as_str().unwrap().to_string();
        if c["status"] == "pending" {
            app.moderate(&admin, &cid, "approved").await;
        }
        parent = Some(cid.clone());
        ids.push(cid);
    }
    let too_deep = reply("thread@example.org", "Level 5", &json!(parent));
    let resp = app.submit_comment(slug, too_deep).await;
    let problem = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "parent_id");
    let list = app
        .get_json(&format!("/api/v1/articles/{slug}/comments"), 200)
        .await;
    let depths: Vec<i64> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["depth"].as_i64().unwrap())
        .collect();
    assert_eq!(depths, vec![0, 1, 2, 3, 4]);
    assert_eq!(list["data"][1]["parent_id"], ids[0].as_str());
    let q = "query($id: ID) { article(id: $id) { comments(first: 5, topLevel: true) { \
             totalCount edges { node { bodyHtml replies(first: 5) { depth parent { id } \
             replies(first: 5) { depth replies(first: 5) { bodyHtml } } } } } } } }";
    let gql = app.gql(q, json!({"id": article.id})).await;
    let top = &gql_ok(&gql)["article"]["comments"];
    assert_eq!(top["totalCount"], 1);
    let first_reply = &top["edges"][0]["node"]["replies"][0];
    assert_eq!(first_reply["depth"], 1);
    assert_eq!(first_reply["parent"]["id"], ids[0].as_str());
    let third = &first_reply["replies"][0]["replies"][0];
    assert_eq!(third["bodyHtml"], "<p>Level 3</p>");
}

async fn moderation_moves_comments_between_states_and_counts_follow(app: TestApp) {
    let admin = app.admin_token().await;
    let slug = app.publish(&admin, "Moderated").await.slug;
    let mut ids = Vec::new();
    for i in 0..3 {
        let c = reader(&format!("m{i}@example.org"), "Comment");
        let c: Value = app.submit_comment(&slug, c).await.json().await.unwrap();
        ids.push(c["id"].as_str().unwrap().to_string());
    }
    let article = format!("/api/v1/articles/{slug}");
    let count = || async { app.get_json(&article, 200).await["comment_count"].clone() };
    let bulk = json!({"ids": ids, "status": "approved"});
    let bulk = app.post(Some(&admin), "/api/v1/comments/bulk", bulk).await;
    assert_eq!(bulk.json::<Value>().await.unwrap()["updated"], 3);
    assert_eq!(count().await, 3);
    let spam = "mutation($id: ID!) { moderateComment(id: $id, status: SPAM) { status } }";
    let gql = app.gql_as(Some(&admin), spam, json!({"id": ids[0]})).await;
    assert_eq!(gql["data"]["moderateComment"]["status"], "SPAM");
    assert_eq!(count().await, 2);
    let comment = |i: usize| format!("/api/v1/comments/{}", ids[i]);
    app.patch(Some(&admin), &comment(1), json!({"status": "trash"}))
        .await;
    assert_eq!(count().await, 1);
    app.patch(Some(&admin), &comment(1), json!({"status": "pending"}))
        .await;
    let edit = json!({"body": "Edited by the editor"});
    let edited = app.patch(Some(&admin), &comment(2), edit).await;
    let edited: Value = edited.json().await.unwrap();
    assert_eq!(edited["body_html"], "<p>Edited by the editor</p>");
    let counts = app
        .get_json_as(&admin, "/api/v1/comments/counts", 200)
        .await;
    let expected = json!({"pending": 1, "approved": 1, "spam": 1, "trash": 0});
    assert_eq!(counts, expected);
    let spam = format!("/api/v1/comments?status=spam&article={slug}");
    let spam = app.get_json_as(&admin, &spam, 200).await;
    assert_eq!(spam["meta"]["total"], 1);
    let deleted = app.delete(Some(&admin), &comment(2)).await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(count().await, 0);
    // Only editors and admins moderate.
    let (_, author) = app.token_for("author").await;
    let resp = app.get_as(&author, "/api/v1/comments").await;
    assert_problem(resp, 403, "forbidden").await;
    let resp = app.get("/api/v1/comments").await;
    assert_problem(resp, 401, "unauthorized").await;
    let approve = json!({"status": "approved"});
    let resp = app.patch(Some(&author), &comment(0), approve).await;
    assert_problem(resp, 403, "forbidden").await;
    let burn = json!({"status": "burn"});
    let resp = app.patch(Some(&admin), &comment(0), burn).await;
    assert_problem(resp, 422, "validation_failed").await;
    let (_, editor) = app.token_for("editor").await;
    let queue = app.get_as(&editor, "/api/v1/comments?status=any").await;
    assert_eq!(queue.status(), 200);
}

async fn comments_written_over_one_api_read_the_same_over_the_other(app: TestApp) {
    let admin = app.admin_token().await;
    let article = app.publish(&admin, "Parity").await;
    let slug = &article.slug;
    // Staff comment as themselves and are approved at once.
    let submit = "mutation($a: String!) { \
                  submitComment(input: {articleId: $a, body: \"From the desk.\"}) { \
                  status comment { id authorName } } }";
    let gql = app
        .gql_as(Some(&admin), submit, json!({"a": article.id}))
        .await;
    assert_eq!(gql["data"]["submitComment"]["status"], "APPROVED", "{gql}");
    let rest = app
        .get_json(&format!("/api/v1/articles/{slug}/comments"), 200)
        .await;
    let id = &gql["data"]["submitComment"]["comment"]["id"];
    assert_eq!(&rest["data"][0]["id"], id);
    assert_eq!(rest["data"][0]["author_name"], "Administrator");
    let c = json!({
        "author_name": "Via REST", "author_email": "rest@example.org",
        "author_url": "https://example.org", "body": "Hello"
    });
    let c: Value = app.submit_comment(slug, c).await.json().await.unwrap();
    app.moderate(&admin, c["id"].as_str().unwrap(), "approved")
        .await;
    let q = "query($s: String) { article(slug: $s) { comments { \
             edges { node { id authorName authorUrl bodyHtml depth } } } } }";
    let back = app.gql(q, json!({"s": slug})).await;
    let node = &back["data"]["article"]["comments"]["edges"][1]["node"];
    assert_eq!(node["id"], c["id"]);
    assert_eq!(node["authorUrl"], "https://example.org");
    assert_eq!(node["bodyHtml"], "<p>Hello</p>");
}

async fn concurrent_submissions_are_each_stored_exactly_once(app: TestApp) {
    let admin = app.admin_token().await;
    let mut slugs = Vec::new();
    for i in 0..10 {
        slugs.push(app.publish(&admin, &format!("Busy {i}")).await.slug);
    }
    let mut tasks = Vec::new();
    for i in 0..200 {
        let app = app.clone();
        let slug = slugs[i % 10].clone();
        tasks.push(tokio::spawn(async move {
            let c = json!({
                "author_name": format!("R{i}"),
                "author_email": format!("r{i}@example.org"),
                "body": format!("Comment number {i}")
            });
            let resp = app.submit_comment(&slug, c).await;
            (resp.status().as_u16(), resp.json::<Value>().await.ok())
        }));
    }
    let mut accepted = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        let ok = status == 201 || status == 202;
        assert!(ok, "submission answered {status}: {body:?}");
        accepted.push(body.unwrap()["id"].as_str().unwrap().to_string());
    }
    accepted.sort();
    accepted.dedup();
    assert_eq!(accepted.len(), 200);
    let counts = app
        .get_json_as(&admin, "/api/v1/comments/counts", 200)
        .await;
    assert_eq!(counts["pending"], 200);
    let queue = app
        .get_json_as(&admin, "/api/v1/comments?per_page=100", 200)
        .await;
    assert_eq!(queue["meta"]["total"], 200);
    for slug in &slugs {
        let path = format!("/api/v1/comments?article={slug}&per_page=100");
        let per = app.get_json_as(&admin, &path, 200).await;
        assert_eq!(per["meta"]["total"], 20, "{slug}");
    }
}

/// Five comments a minute per client address.
fn five_comments_a_minute(config: &mut Config) {
    config.comment_rate_per_minute = 5;
}

both_backends_with!(five_comments_a_minute, submissions_are_limited_per_address);

async fn submissions_are_limited_per_address(app: TestApp) {
    let admin = app.admin_token().await;
    let slug = app.publish(&admin, "Limited").await.slug;
    for i in 0..5 {
        let c = reader(&format!("l{i}@example.org"), "Hi");
        assert_eq!(app.submit_comment(&slug, c).await.status(), 202);
    }
    let limited = app
        .submit_comment(&slug, reader("l9@example.org", "Hi"))
        .await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, 429, "rate_limited").await;
    let submit = "mutation($s: String!) { submitComment(input: {articleId: $s, \
                  authorName: \"x\", authorEmail: \"x@example.org\", body: \"y\"}) { status } }";
    let gql = app.gql(submit, json!({"s": slug})).await;
    assert_gql_error(&gql, "RATE_LIMITED");
}
