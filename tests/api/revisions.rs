//! Article revisions (issue 11, part 2): every update keeps what it replaced;
//! staff list, read, diff and restore, through REST and GraphQL.

use broadsheet::config::Config;
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{TestApp, assert_gql_error, assert_problem},
    sqlite_only_with,
};

/// Update an article, asserting 200; the updated article.
async fn patch(app: &TestApp, token: &str, id: &str, body: Value) -> Value {
    let resp = app.update_article(token, id, body).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// The revisions of an article, newest first, as staff see them.
async fn revisions(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let path = format!("/api/v1/articles/{id}/revisions");
    let list = app.get_json_as(token, &path, 200).await;
    list["data"].as_array().unwrap().clone()
}

both_backends!(
    an_editor_can_restore_yesterdays_text,
    a_failed_update_leaves_no_revision
);

async fn an_editor_can_restore_yesterdays_text(app: TestApp) {
    let admin = app.admin_token().await;
    let author = json!({"name": "First Byline"});
    let author = app.create(&admin, "/api/v1/authors", author).await;
    let fields = json!({
        "title": "Original title", "body": "First paragraph.\n\nSecond paragraph.",
        "status": "published", "author_ids": [author.id]
    });
    let id = app.create_article(&admin, fields).await.id;
    assert_eq!(revisions(&app, &admin, &id).await, Vec::<Value>::new());
    let rewrite = json!({
        "title": "Second title",
        "body": "First paragraph.\n\nA rewritten second paragraph.",
        "author_ids": []
    });
    patch(&app, &admin, &id, rewrite).await;
    patch(&app, &admin, &id, json!({"standfirst": "A note"})).await;

    let revs = revisions(&app, &admin, &id).await;
    assert_eq!(revs.len(), 2);
    assert_eq!(revs[0]["title"], "Second title", "newest first");
    assert_eq!(revs[1]["title"], "Original title");
    assert_eq!(revs[1]["author_ids"], json!([author.id]));
    assert_eq!(revs[1]["version"], 1);
    assert!(revs[1]["created_by"].is_string());
    let first = revs[1]["id"].as_str().unwrap().to_string();

    let revision = format!("/api/v1/articles/{id}/revisions/{first}");
    let one = app.get_json_as(&admin, &revision, 200).await;
    assert_eq!(one["body"], "First paragraph.\n\nSecond paragraph.");
    let diff = app
        .get_json_as(&admin, &format!("{revision}/diff"), 200)
        .await;
    let text = diff["diff"].as_str().unwrap();
    let changed =
        text.contains("-Second paragraph.") && text.contains("+A rewritten second paragraph.");
    assert!(changed, "{text}");
    assert!(text.starts_with("--- revision"), "{text}");
    assert_eq!(diff["to"], "current");

    // Restore: content and byline come back; the replaced content is a new revision.
    let restore = format!("{revision}/restore");
    let restored = app.send("POST", &restore, Some(&admin), None).await;
    let restored: Value = restored.json().await.unwrap();
    assert_eq!(restored["title"], "Original title");
    assert_eq!(restored["authors"][0]["name"], "First Byline");
    let public = app.get_json(&format!("/api/v1/articles/{id}"), 200).await;
    assert_eq!(public["body_text"], "First paragraph.\n\nSecond paragraph.");
    let revs = revisions(&app, &admin, &id).await;
    assert_eq!(revs.len(), 3);
    assert_eq!(revs[0]["standfirst"], "A note");

    // GraphQL reads the same revisions and diffs two of them.
    let q = format!("{{ article(id: \"{id}\") {{ revisions {{ id title }} }} }}");
    let g = app.gql_as(Some(&admin), &q, Value::Null).await;
    let listed = g["data"]["article"]["revisions"].as_array().unwrap();
    assert_eq!(listed.len(), 3, "{g}");
    let second = listed[1]["id"].as_str().unwrap().to_string();
    let diff = format!(
        "{{ articleRevisionDiff(articleId: \"{id}\", \
         fromRevisionId: \"{first}\", toRevisionId: \"{second}\") }}"
    );
    let d = app.gql_as(Some(&admin), &diff, Value::Null).await;
    let text = d["data"]["articleRevisionDiff"].as_str().unwrap();
    assert!(text.contains("+A rewritten"), "{d}");
    let restore = format!(
        "mutation {{ restoreArticleRevision(articleId: \"{id}\", revisionId: \"{second}\") \
         {{ title }} }}"
    );
    let m = app.gql_as(Some(&admin), &restore, Value::Null).await;
    let title = &m["data"]["restoreArticleRevision"]["title"];
    assert_eq!(title, "Second title", "{m}");
    // The public never sees revisions.
    let g = app.gql(&q, Value::Null).await;
    assert!(g["data"]["article"]["revisions"].is_null());
    assert_gql_error(&g, "FORBIDDEN");
    let list = format!("/api/v1/articles/{id}/revisions");
    assert_problem(app.get(&list).await, 401, "unauthorized").await;
    let missing = format!("/api/v1/articles/{id}/revisions/nope");
    let resp = app.get_as(&admin, &missing).await;
    assert_problem(resp, 404, "not_found").await;
    let (_, contributor) = app.token_for("contributor").await;
    let resp = app.get_as(&contributor, &list).await;
    assert_problem(resp, 404, "not_found").await;
}

async fn a_failed_update_leaves_no_revision(app: TestApp) {
    let admin = app.admin_token().await;
    let id = app
        .create_article(&admin, json!({"title": "Steady"}))
        .await
        .id;
    let resp = app.update_article(&admin, &id, json!({"title": ""})).await;
    assert_eq!(resp.status(), 422);
    let resp = app
        .update_article_if_match(&admin, &id, "\"v99\"", json!({"title": "x"}))
        .await;
    assert_eq!(resp.status(), 412);
    assert_eq!(revisions(&app, &admin, &id).await, Vec::<Value>::new());
}

fn three_revisions_kept(config: &mut Config) {
    config.revisions_keep = 3;
}

sqlite_only_with!(three_revisions_kept, only_the_newest_revisions_are_kept);

/// Only the last BROADSHEET_REVISIONS_KEEP revisions are kept.
async fn only_the_newest_revisions_are_kept(app: TestApp) {
    let admin = app.admin_token().await;
    let id = app
        .create_article(&admin, json!({"title": "Rev 0"}))
        .await
        .id;
    for n in 1..=6 {
        patch(&app, &admin, &id, json!({"title": format!("Rev {n}")})).await;
    }
    let revs = revisions(&app, &admin, &id).await;
    let titles: Vec<&str> = revs.iter().map(|r| r["title"].as_str().unwrap()).collect();
    assert_eq!(titles, vec!["Rev 5", "Rev 4", "Rev 3"]);
}
