//! Article revisions (issue 11, part 2): every update keeps what it replaced;
//! staff list, read, diff and restore, through REST and GraphQL.

use broadsheet::config::Config;
use serde_json::{Value, json};

use crate::helpers::assert_gql_error;
use crate::helpers::{TestApp, assert_problem};
use crate::{both_backends, sqlite_only_with};

async fn patch(app: &TestApp, token: &str, id: &str, body: Value) -> Value {
    let resp = app
        .patch(Some(token), &format!("/api/v1/articles/{id}"), body)
        .await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

both_backends!(
    an_editor_can_restore_yesterdays_text,
    a_failed_update_leaves_no_revision
);

async fn an_editor_can_restore_yesterdays_text(app: TestApp) {
    let admin = app.admin_token().await;
    let author = app
        .post(
            Some(&admin),
            "/api/v1/authors",
            json!({"name": "First Byline"}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    let a: Value = app.post(Some(&admin), "/api/v1/articles", json!({
            "title": "Original title", "body": "First paragraph.\n\nSecond paragraph.", "status": "published",
            "author_ids": [author["id"]]})).await.json().await.unwrap();
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.get_json_as(&admin, &format!("/api/v1/articles/{id}/revisions"), 200)
            .await["data"],
        json!([])
    );
    patch(&app, &admin, &id, json!({"title": "Second title", "body": "First paragraph.\n\nA rewritten second paragraph.", "author_ids": []})).await;
    patch(&app, &admin, &id, json!({"standfirst": "A note"})).await;

    let list: Value = app
        .get_json_as(&admin, &format!("/api/v1/articles/{id}/revisions"), 200)
        .await;
    let revs = list["data"].as_array().unwrap();
    assert_eq!(revs.len(), 2);
    assert_eq!(revs[0]["title"], "Second title", "newest first");
    assert_eq!(revs[1]["title"], "Original title");
    assert_eq!(revs[1]["author_ids"], json!([author["id"]]));
    assert_eq!(revs[1]["version"], 1);
    assert!(revs[1]["created_by"].is_string());
    let first = revs[1]["id"].as_str().unwrap().to_string();

    let one = app
        .get_json_as(
            &admin,
            &format!("/api/v1/articles/{id}/revisions/{first}"),
            200,
        )
        .await;
    assert_eq!(one["body"], "First paragraph.\n\nSecond paragraph.");
    let diff = app
        .get_json_as(
            &admin,
            &format!("/api/v1/articles/{id}/revisions/{first}/diff"),
            200,
        )
        .await;
    let text = diff["diff"].as_str().unwrap();
    assert!(
        text.contains("-Second paragraph.") && text.contains("+A rewritten second paragraph."),
        "{text}"
    );
    assert!(text.starts_with("--- revision"), "{text}");
    assert_eq!(diff["to"], "current");

    // Restore: content and byline come back; the replaced content is a new revision.
    let restored: Value = app
        .send(
            "POST",
            &format!("/api/v1/articles/{id}/revisions/{first}/restore"),
            Some(&admin),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(restored["title"], "Original title");
    assert_eq!(restored["authors"][0]["name"], "First Byline");
    let public = app.get_json(&format!("/api/v1/articles/{id}"), 200).await;
    assert_eq!(public["body_text"], "First paragraph.\n\nSecond paragraph.");
    let list: Value = app
        .get_json_as(&admin, &format!("/api/v1/articles/{id}/revisions"), 200)
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 3);
    assert_eq!(list["data"][0]["standfirst"], "A note");

    // GraphQL reads the same revisions and diffs two of them.
    let q = format!("{{ article(id: \"{id}\") {{ revisions {{ id title }} }} }}");
    let g = app.gql_as(Some(&admin), &q, Value::Null).await;
    assert_eq!(
        g["data"]["article"]["revisions"].as_array().unwrap().len(),
        3,
        "{g}"
    );
    let second = g["data"]["article"]["revisions"][1]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let d = app.gql_as(Some(&admin), &format!("{{ articleRevisionDiff(articleId: \"{id}\", fromRevisionId: \"{first}\", toRevisionId: \"{second}\") }}"), Value::Null).await;
    assert!(
        d["data"]["articleRevisionDiff"]
            .as_str()
            .unwrap()
            .contains("+A rewritten"),
        "{d}"
    );
    let m = app.gql_as(Some(&admin), &format!("mutation {{ restoreArticleRevision(articleId: \"{id}\", revisionId: \"{second}\") {{ title }} }}"), Value::Null).await;
    assert_eq!(
        m["data"]["restoreArticleRevision"]["title"], "Second title",
        "{m}"
    );
    // The public never sees revisions.
    let g = app.gql(&q, Value::Null).await;
    assert!(g["data"]["article"]["revisions"].is_null());
    assert_gql_error(&g, "FORBIDDEN");
    assert_problem(
        app.get(&format!("/api/v1/articles/{id}/revisions")).await,
        401,
        "unauthorized",
    )
    .await;
    assert_problem(
        app.get_as(&admin, &format!("/api/v1/articles/{id}/revisions/nope"))
            .await,
        404,
        "not_found",
    )
    .await;
    let (_, contributor) = app.token_for("contributor").await;
    assert_problem(
        app.get_as(&contributor, &format!("/api/v1/articles/{id}/revisions"))
            .await,
        404,
        "not_found",
    )
    .await;
}

async fn a_failed_update_leaves_no_revision(app: TestApp) {
    let admin = app.admin_token().await;
    let a: Value = app
        .post(Some(&admin), "/api/v1/articles", json!({"title": "Steady"}))
        .await
        .json()
        .await
        .unwrap();
    let id = a["id"].as_str().unwrap();
    let resp = app
        .patch(
            Some(&admin),
            &format!("/api/v1/articles/{id}"),
            json!({"title": ""}),
        )
        .await;
    assert_eq!(resp.status(), 422);
    let resp = app
        .client
        .patch(app.url(&format!("/api/v1/articles/{id}")))
        .bearer_auth(&admin)
        .header("if-match", "\"v99\"")
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 412);
    let list: Value = app
        .get_json_as(&admin, &format!("/api/v1/articles/{id}/revisions"), 200)
        .await;
    assert_eq!(list["data"], json!([]));
}

fn three_revisions_kept(config: &mut Config) {
    config.revisions_keep = 3;
}

sqlite_only_with!(three_revisions_kept, only_the_newest_revisions_are_kept);

/// Only the last BROADSHEET_REVISIONS_KEEP revisions are kept.
async fn only_the_newest_revisions_are_kept(app: TestApp) {
    let admin = app.admin_token().await;
    let a: Value = app
        .post(Some(&admin), "/api/v1/articles", json!({"title": "Rev 0"}))
        .await
        .json()
        .await
        .unwrap();
    let id = a["id"].as_str().unwrap().to_string();
    for n in 1..=6 {
        patch(&app, &admin, &id, json!({"title": format!("Rev {n}")})).await;
    }
    let list: Value = app
        .get_json_as(&admin, &format!("/api/v1/articles/{id}/revisions"), 200)
        .await;
    let titles: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["Rev 5", "Rev 4", "Rev 3"]);
}
