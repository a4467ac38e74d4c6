//! GraphQL work that grows with the data, not the document (audit 24: #1,
//! #3, #4, #6, #11). Each is a named test on both backends.

use std::time::{Duration, Instant};

use broadsheet::config::Config;
use serde_json::{Value, json};

use crate::{
    both_backends, both_backends_with,
    helpers::{TestApp, assert_gql_error},
};

/// A published article "thread" with one top-level comment and `replies`
/// approved replies to it (staff comments are approved at once); returns
/// the admin token and the article's id.
async fn thread(app: &TestApp, replies: usize) -> (String, String) {
    let admin = app.admin_token().await;
    let fields =
        json!({"title": "Thread", "slug": "thread", "body": "Talk.", "status": "published"});
    let id = app.create_article(&admin, fields).await.id;
    let path = format!("/api/v1/articles/{id}/comments");
    let by_r =
        |body: String| json!({"body": body, "author_name": "R", "author_email": "r@example.org"});
    let top = app.create(&admin, &path, by_r("Top".into())).await;
    assert_eq!(top["status"], "approved", "{}", top.body);
    for i in 0..replies {
        let mut reply = by_r(format!("Reply {i}"));
        reply["parent_id"] = json!(top.id);
        let resp = app.post(Some(&admin), &path, reply).await;
        assert_eq!(resp.status(), 201);
    }
    (admin, id)
}

/// The audit's document: five `replies{parent{…}}` round trips, N^5 nodes.
const EXPLOSION: &str = "{article(slug:\"thread\"){comments(first:1,topLevel:true){\
                         edges{node{replies{parent{replies{parent{replies{parent{\
                         replies{parent{replies{parent{id}}}}}}}}}}}}}}}";

async fn post(app: &TestApp, body: &Value) -> (u16, Value, Duration) {
    let started = Instant::now();
    let resp = app
        .client
        .post(app.url("/graphql"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        started.elapsed(),
    )
}

/// Every error of an answer (or of each member of a batch) and whether any data came back.
fn errors_of(body: &Value) -> Vec<Value> {
    match body {
        Value::Array(items) => items.iter().flat_map(errors_of).collect(),
        _ => body["errors"].as_array().cloned().unwrap_or_default(),
    }
}

/// `/healthz` timed while `work` runs.
async fn healthz_during<F: std::future::Future>(app: &TestApp, work: F) -> (F::Output, Duration) {
    let probe = {
        let app = app.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let started = Instant::now();
            assert_eq!(app.get("/healthz").await.status(), 200);
            started.elapsed()
        })
    };
    let out = work.await;
    (out, probe.await.unwrap())
}

both_backends!(
    audit_1_reply_explosion_is_refused_at_once_and_healthz_answers,
    audit_3_tag_count_amplification_is_priced_out_and_counts_are_batched,
    audit_6_commenter_email_is_for_moderators_only
);

async fn audit_1_reply_explosion_is_refused_at_once_and_healthz_answers(app: TestApp) {
    thread(&app, 12).await;
    // One document, then the audit's 710-byte batch of four.
    let single = json!({"query": EXPLOSION});
    let batch = json!([single, single, single, single]);
    let ((first, second), healthz) = healthz_during(&app, async {
        tokio::join!(post(&app, &single), post(&app, &batch))
    })
    .await;
    for (status, body, took) in [first, second] {
        let errors = errors_of(&body);
        assert!(!errors.is_empty(), "{status}: {body}");
        assert!(
            body.to_string().len() < 10_000,
            "no result came back: {status}"
        );
        assert!(took < Duration::from_secs(2), "took {took:?}");
    }
    assert!(
        healthz < Duration::from_secs(1),
        "/healthz took {healthz:?}"
    );
}

fn a_small_resolved_field_budget(c: &mut Config) {
    c.graphql_cost.max_resolved = 500;
}

both_backends_with!(
    a_small_resolved_field_budget,
    audit_1_fields_past_the_budget_answer_result_too_large
);

async fn audit_1_fields_past_the_budget_answer_result_too_large(app: TestApp) {
    thread(&app, 12).await;
    // Priced under the complexity limit (first: 10 at each level), but
    // 10 x 10 x 10 replies resolve more fields than the budget allows.
    let q = "{article(slug:\"thread\"){comments(first:1,topLevel:true){edges{node{\
             replies(first:10){parent{replies(first:10){parent{replies(first:10){id}}}}}}}}}}";
    let (status, body, took) = post(&app, &json!({"query": q})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"].is_null(), "{body}");
    let errors = errors_of(&body);
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(
        errors[0]["extensions"]["code"], "RESULT_TOO_LARGE",
        "{body}"
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
    // Within the budget the same thread answers, `first` honoured.
    let q = "{article(slug:\"thread\"){comments(first:1,topLevel:true){edges{node{\
             replies(first:3){parent{replies(first:2){id}}}}}}}}";
    let ok = app.gql(q, Value::Null).await;
    assert!(ok["errors"].is_null(), "{ok}");
    let replies = &ok["data"]["article"]["comments"]["edges"][0]["node"]["replies"];
    assert_eq!(replies.as_array().unwrap().len(), 3, "{ok}");
    assert_eq!(
        replies[0]["parent"]["replies"].as_array().unwrap().len(),
        2,
        "{ok}"
    );
    // Without `first`, the default (10); beyond the maximum, refused.
    let all = app
        .gql(
            "{article(slug:\"thread\"){comments(first:1,topLevel:true){edges{node{replies{id}}}}}}",
            Value::Null,
        )
        .await;
    assert_eq!(
        all["data"]["article"]["comments"]["edges"][0]["node"]["replies"]
            .as_array()
            .unwrap()
            .len(),
        10,
        "{all}"
    );
    let q = "{article(slug:\"thread\"){comments(first:1,topLevel:true){edges{node{\
             replies(first:101){id}}}}}}";
    let over = app.gql(q, Value::Null).await;
    assert_gql_error(&over, "BAD_USER_INPUT");
}

async fn audit_3_tag_count_amplification_is_priced_out_and_counts_are_batched(app: TestApp) {
    let admin = app.admin_token().await;
    let tag = app
        .create(&admin, "/api/v1/tags", json!({"name": "Alpha"}))
        .await;
    let tag_id = tag.id.as_str();
    for i in 0..3 {
        let fields = json!({
            "title": format!("Tagged {i}"), "body": "x", "status": "published", "tag_ids": [tag_id]
        });
        app.create_article(&admin, fields).await;
    }
    // The audit's shape: a COUNT per tag per article, once priced at ~1.
    let q = "{articles(first:100){edges{node{tags{articles(first:0){totalCount}}}}}}";
    let refused = app.gql(q, Value::Null).await;
    assert!(refused["data"].is_null(), "{refused}");
    assert_gql_error(&refused, "BAD_USER_INPUT");
    // A small page still answers, each count right.
    let q = "{articles(first:3){edges{node{tags{\
             articles(first:0){totalCount edges{cursor}} a:articles(first:1){totalCount}}}}}}";
    let ok = app.gql(q, Value::Null).await;
    assert!(ok["errors"].is_null(), "{ok}");
    for edge in ok["data"]["articles"]["edges"].as_array().unwrap() {
        assert_eq!(edge["node"]["tags"][0]["articles"]["totalCount"], 3, "{ok}");
        assert_eq!(edge["node"]["tags"][0]["a"]["totalCount"], 3, "{ok}");
    }
    let only = app
        .gql(
            "{tag(slug:\"alpha\"){articles(first:1000){totalCount}}}",
            Value::Null,
        )
        .await;
    assert_gql_error(&only, "BAD_USER_INPUT");
}

fn underpriced_replies_and_a_short_timeout(c: &mut Config) {
    // Replies left underpriced on purpose (priced at 10, served 100) and
    // no budget: only the timeout can stop this request.
    c.graphql_cost.replies_default = 100;
    c.graphql_cost.max_resolved = 100_000_000;
    c.request_timeout_secs = 1;
}

both_backends_with!(
    underpriced_replies_and_a_short_timeout,
    audit_4_resolution_yields_so_the_request_timeout_fires
);

async fn audit_4_resolution_yields_so_the_request_timeout_fires(app: TestApp) {
    thread(&app, 100).await;
    let q = "{article(slug:\"thread\"){comments(first:1,topLevel:true){edges{node{\
             replies{parent{replies{parent{replies{id}}}}}}}}}}";
    let ((status, body, took), healthz) =
        healthz_during(&app, post(&app, &json!({"query": q}))).await;
    let head: String = body.to_string().chars().take(300).collect();
    assert_eq!(status, 503, "{head}");
    assert_eq!(body["code"], "timeout", "{head}");
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert!(
        healthz < Duration::from_secs(1),
        "/healthz took {healthz:?}"
    );
}

async fn audit_6_commenter_email_is_for_moderators_only(app: TestApp) {
    let (admin, _) = thread(&app, 1).await;
    let q = "{article(slug:\"thread\"){comments(first:1){edges{node{\
             authorName authorEmail status body}}}}}";
    for role in ["contributor", "author"] {
        let (_, token) = app.token_for(role).await;
        let answer = app.gql_as(Some(&token), q, Value::Null).await;
        let node = &answer["data"]["article"]["comments"]["edges"][0]["node"];
        assert!(node["authorName"].is_string(), "{answer}");
        assert!(
            node["authorEmail"].is_null() && node["status"].is_null() && node["body"].is_null(),
            "{role}: {answer}"
        );
        let codes: Vec<&str> = answer["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["extensions"]["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["FORBIDDEN"; 3], "{role}: {answer}");
    }
    let (_, editor) = app.token_for("editor").await;
    for token in [admin, editor] {
        let answer = app.gql_as(Some(&token), q, Value::Null).await;
        assert!(answer["errors"].is_null(), "{answer}");
        assert!(
            answer["data"]["article"]["comments"]["edges"][0]["node"]["authorEmail"]
                .as_str()
                .unwrap()
                .contains('@'),
            "{answer}"
        );
    }
}

fn three_revisions_at_most(c: &mut Config) {
    c.graphql_cost.revisions_max = 3;
}

both_backends_with!(three_revisions_at_most, audit_11_revisions_are_capped);

async fn audit_11_revisions_are_capped(app: TestApp) {
    let admin = app.admin_token().await;
    let fields = json!({"title": "Drafted", "body": "v1"});
    let id = app.create_article(&admin, fields).await.id;
    for v in 1..=5 {
        let resp = app
            .update_article(&admin, &id, json!({"body": format!("v{}", v + 1)}))
            .await;
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    }
    let q =
        "query($id: ID!, $n: Int) { article(id: $id) { revisions(first: $n) { version body } } }";
    let all = app.gql_as(Some(&admin), q, json!({"id": id})).await;
    assert_eq!(
        all["data"]["article"]["revisions"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "{all}"
    );
    assert_eq!(
        all["data"]["article"]["revisions"][0]["version"], 5,
        "{all}"
    );
    let two = app.gql_as(Some(&admin), q, json!({"id": id, "n": 2})).await;
    assert_eq!(
        two["data"]["article"]["revisions"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{two}"
    );
    let over = app.gql_as(Some(&admin), q, json!({"id": id, "n": 4})).await;
    assert_gql_error(&over, "BAD_USER_INPUT");
    // Priced by `first`: 100 articles' revisions with bodies are refused before running.
    let q = "{ articles(first: 100, filter: {status: \"any\"}) { \
             edges { node { revisions { body title standfirst } } } } }";
    let wide = app.gql_as(Some(&admin), q, Value::Null).await;
    assert!(wide["data"].is_null(), "{wide}");
}
