//! Webhooks (issue 11, part 3), against a real local HTTP receiver: signed
//! deliveries of every event, retries after 500s and timeouts, redelivery,
//! scheduled publication, exactly one delivery across two instances,
//! nothing for refused or rolled-back writes, and SSRF refusals.

use std::{
    collections::{HashMap, VecDeque},
    future::IntoFuture,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use broadsheet::config::Config;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};

use crate::{
    both_backends, both_backends_with,
    helpers::{Server, TestApp, assert_gql_error, assert_problem, test_config},
};

/// What the receiver answers to the next request.
#[derive(Clone, Copy)]
enum Reply {
    Status(u16),
    /// Answer 200 only after this long (longer than the webhook timeout).
    Hang(Duration),
    /// Answer 200 with a body holding NUL and other control characters.
    Garbage,
}

#[derive(Clone)]
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
            .to_string()
    }
}

#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
}

impl Receiver {
    /// Listen on 127.0.0.1; requests to `/hook` are recorded and answered
    /// by `script` in order, then 200.
    async fn start(script: Vec<Reply>) -> (Receiver, String) {
        let receiver = Receiver {
            received: Arc::default(),
            script: Arc::new(Mutex::new(script.into())),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(receiver.clone());
        tokio::spawn(axum::serve(listener, app).into_future());
        (receiver, url)
    }

    fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Wait until at least `n` requests came (10 s at most).
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let all = self.all();
            if all.len() >= n {
                return all;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let got: Vec<String> = self
            .all()
            .iter()
            .map(|r| r.header("broadsheet-event"))
            .collect();
        panic!("expected {n} deliveries, got {}: {got:?}", got.len());
    }
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    r.received.lock().unwrap().push(Received {
        headers,
        body: body.to_vec(),
    });
    let reply = r.script.lock().unwrap().pop_front();
    match reply {
        Some(Reply::Status(code)) => (
            StatusCode::from_u16(code).unwrap(),
            format!("answered {code}"),
        )
            .into_response(),
        Some(Reply::Hang(d)) => {
            tokio::time::sleep(d).await;
            "too late".into_response()
        }
        Some(Reply::Garbage) => "ok\0\u{1}\u{7}done".into_response(),
        None => "thanks".into_response(),
    }
}

/// Check `Broadsheet-Signature` as README documents it.
fn verify_signature(secret: &str, r: &Received) {
    let header = r.header("broadsheet-signature");
    let (t, v1) = header
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
        .unwrap_or_else(|| panic!("bad signature header {header}"));
    assert_eq!(t, r.header("broadsheet-timestamp"));
    let age = chrono::Utc::now().timestamp() - t.parse::<i64>().unwrap();
    assert!((0..60).contains(&age), "timestamp {t} is {age} s old");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&r.body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(v1, expected, "signature does not verify");
}

/// Deliver fast: private receivers allowed, short polls, retries and timeouts.
fn fast_webhooks(config: &mut Config) {
    config.webhook_allow_private = true;
    config.webhook_poll_ms = 50;
    config.webhook_retry_base_ms = 100;
    config.webhook_timeout_secs = 1;
    config.comment_moderation = broadsheet::config::Moderation::All;
}

async fn register(app: &TestApp, token: &str, url: &str, events: &[&str]) -> Value {
    let resp = app
        .post(
            Some(token),
            "/api/v1/webhooks",
            json!({"url": url, "events": events, "description": "site builder"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["cache-control"], "private, no-store");
    resp.json().await.unwrap()
}

async fn deliveries(app: &TestApp, token: &str, hook: &str) -> Vec<Value> {
    let list: Value = app
        .get_json_as(
            token,
            &format!("/api/v1/webhooks/{hook}/deliveries?per_page=100"),
            200,
        )
        .await;
    list["data"].as_array().unwrap().clone()
}

/// Wait until every delivery of `hook` is finished; return them.
async fn settled(app: &TestApp, token: &str, hook: &str) -> Vec<Value> {
    for _ in 0..200 {
        let list = deliveries(app, token, hook).await;
        if list.iter().all(|d| d["state"] != "pending") {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "deliveries still pending: {:?}",
        deliveries(app, token, hook).await
    );
}

const ALL_EVENTS: [&str; 6] = [
    "article.published",
    "article.updated",
    "article.unpublished",
    "article.deleted",
    "comment.created",
    "comment.approved",
];

both_backends_with!(
    fast_webhooks,
    every_event_arrives_once_signed,
    failures_are_retried_with_backoff_and_can_be_redelivered,
    a_scheduled_article_is_announced_when_its_time_comes,
    two_instances_deliver_each_event_exactly_once,
    refused_writes_deliver_nothing_and_events_survive_a_restart,
    webhook_urls_and_fields_are_checked
);

async fn every_event_arrives_once_signed(app: TestApp) {
    let (receiver, url) = Receiver::start(vec![]).await;
    let admin = app.admin_token().await;
    // Registered over GraphQL, inspected over REST.
    let create = "mutation($url: String!) { createWebhook(input: {url: $url, events: [
        ARTICLE_PUBLISHED, ARTICLE_UPDATED, ARTICLE_UNPUBLISHED, ARTICLE_DELETED,
        COMMENT_CREATED, COMMENT_APPROVED
    ]}) { id secret events active } }";
    let made = app.gql_as(Some(&admin), create, json!({"url": url})).await;
    let hook = made["data"]["createWebhook"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let secret = made["data"]["createWebhook"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    let shown: Value = app
        .get_json_as(&admin, &format!("/api/v1/webhooks/{hook}"), 200)
        .await;
    assert_eq!(shown["url"], url.as_str());
    assert_eq!(shown["events"], json!(ALL_EVENTS));
    assert!(
        shown.get("secret").is_none(),
        "the secret is shown only once: {shown}"
    );

    // A draft is nobody's business.
    let a = app
        .create_article(&admin, json!({"title": "Quiet draft", "body": "Text."}))
        .await;
    let id = a["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.all().len(), 0);

    let publish = app
        .update_article(&admin, &id, json!({"status": "published"}))
        .await;
    assert_eq!(publish.status(), 200);
    let got = receiver.wait_for(1).await;
    let first = &got[0];
    verify_signature(&secret, first);
    assert_eq!(first.header("broadsheet-event"), "article.published");
    assert_eq!(first.header("content-type"), "application/json");
    let body = first.json();
    assert_eq!(body["type"], "article.published");
    assert_eq!(body["id"], first.header("broadsheet-event-id").as_str());
    assert_eq!(body["data"]["article"]["id"], id.as_str());
    assert_eq!(body["data"]["article"]["status"], "published");
    assert_eq!(
        body["data"]["article"]["url"],
        "https://site.example/articles/quiet-draft"
    );

    app.update_article(&admin, &id, json!({"title": "Loud article"}))
        .await;
    receiver.wait_for(2).await;
    // A reader's comment is held (moderation: all), then approved over GraphQL.
    let c = json!({
        "author_name": "A reader", "author_email": "reader@example.org", "body": "Leave a reply"
    });
    let c = app.submit_comment(&id, c).await;
    assert_eq!(c.status(), 202);
    let comment_id = c.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    receiver.wait_for(3).await;
    let approved = app
        .gql_as(
            Some(&admin),
            "mutation($id: ID!) { moderateComment(id: $id, status: APPROVED) { status } }",
            json!({"id": comment_id}),
        )
        .await;
    assert_eq!(
        approved["data"]["moderateComment"]["status"], "APPROVED",
        "{approved}"
    );
    receiver.wait_for(4).await;
    app.update_article(&admin, &id, json!({"status": "draft"}))
        .await;
    receiver.wait_for(5).await;
    assert_eq!(
        app.delete(Some(&admin), &format!("/api/v1/articles/{id}"))
            .await
            .status(),
        204
    );
    let got = receiver.wait_for(6).await;

    let types: Vec<String> = got.iter().map(|r| r.header("broadsheet-event")).collect();
    assert_eq!(
        types,
        [
            "article.published",
            "article.updated",
            "comment.created",
            "comment.approved",
            "article.unpublished",
            "article.deleted"
        ]
    );
    for r in &got {
        verify_signature(&secret, r);
    }
    let created = got[2].json();
    assert_eq!(created["data"]["comment"]["status"], "pending");
    assert!(
        created["data"]["comment"].get("author_email").is_none(),
        "no email in webhooks: {created}"
    );
    assert!(!String::from_utf8_lossy(&got[2].body).contains("reader@example.org"));
    assert_eq!(got[3].json()["data"]["comment"]["status"], "approved");
    assert_eq!(got[1].json()["data"]["article"]["title"], "Loud article");

    // Nothing more, and each delivery succeeded at its first attempt.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.all().len(), 6);
    let list = settled(&app, &admin, &hook).await;
    assert_eq!(list.len(), 6);
    assert!(
        list.iter()
            .all(|d| d["state"] == "succeeded" && d["attempts"] == 1 && d["last_status"] == 200),
        "{list:?}"
    );
    let one: Value = app
        .get_json_as(
            &admin,
            &format!(
                "/api/v1/webhooks/{hook}/deliveries/{}",
                list[0]["id"].as_str().unwrap()
            ),
            200,
        )
        .await;
    assert_eq!(one["event"], "article.deleted", "newest first");
    assert_eq!(one["attempt_log"][0]["status_code"], 200);
    assert_eq!(one["attempt_log"][0]["response_excerpt"], "thanks");
    assert_eq!(one["payload"]["type"], "article.deleted");
}

async fn failures_are_retried_with_backoff_and_can_be_redelivered(app: TestApp) {
    // 500, then a receiver that hangs past the 1 s timeout, then 200.
    let (receiver, url) = Receiver::start(vec![
        Reply::Status(500),
        Reply::Hang(Duration::from_secs(3)),
    ])
    .await;
    let admin = app.admin_token().await;
    let hook = register(&app, &admin, &url, &["article.published"]).await;
    let hook_id = hook["id"].as_str().unwrap().to_string();
    let secret = hook["secret"].as_str().unwrap().to_string();
    app.create_article(
        &admin,
        json!({"title": "Retried", "body": "Text.", "status": "published"}),
    )
    .await;
    let got = receiver.wait_for(3).await;
    let ids: Vec<String> = got
        .iter()
        .map(|r| r.header("broadsheet-event-id"))
        .collect();
    assert!(
        ids.iter().all(|i| i == &ids[0]),
        "the same event each time: {ids:?}"
    );
    let list = settled(&app, &admin, &hook_id).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["state"], "succeeded");
    assert_eq!(list[0]["attempts"], 3);
    let d: Value = app
        .get_json_as(
            &admin,
            &format!(
                "/api/v1/webhooks/{hook_id}/deliveries/{}",
                list[0]["id"].as_str().unwrap()
            ),
            200,
        )
        .await;
    let log = d["attempt_log"].as_array().unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0]["status_code"], 500);
    assert_eq!(log[0]["response_excerpt"], "answered 500");
    assert_eq!(log[1]["status_code"], Value::Null);
    assert!(
        log[1]["error"]
            .as_str()
            .unwrap()
            .contains("no answer within 1 s"),
        "{log:?}"
    );
    assert!(
        log[1]["duration_ms"].as_i64().unwrap() < 2500,
        "the hanging receiver is cut off: {log:?}"
    );
    assert_eq!(log[2]["status_code"], 200);
    // Backoff: the second retry waited about twice as long as the first.
    let at = |i: usize| {
        chrono::DateTime::parse_from_rfc3339(log[i]["started_at"].as_str().unwrap()).unwrap()
    };
    assert!((at(1) - at(0)).num_milliseconds() >= 100);
    assert!((at(2) - at(1)).num_milliseconds() >= 1000 + 200, "{log:?}");

    // Redeliver: a new delivery of the same event, signed afresh.
    let resp = app
        .send(
            "POST",
            &format!(
                "/api/v1/webhooks/{hook_id}/deliveries/{}/redeliver",
                list[0]["id"].as_str().unwrap()
            ),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(resp.status(), 202);
    let again = receiver.wait_for(4).await;
    assert_eq!(again[3].header("broadsheet-event-id"), ids[0]);
    assert_ne!(
        again[3].header("broadsheet-delivery-id"),
        again[2].header("broadsheet-delivery-id")
    );
    verify_signature(&secret, &again[3]);
    let list = settled(&app, &admin, &hook_id).await;
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|d| d["state"] == "succeeded"));
    // Redelivering something unknown is a 404.
    assert_problem(
        app.send(
            "POST",
            &format!("/api/v1/webhooks/{hook_id}/deliveries/nope/redeliver"),
            Some(&admin),
            None,
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

async fn a_scheduled_article_is_announced_when_its_time_comes(app: TestApp) {
    let (receiver, url) = Receiver::start(vec![]).await;
    let admin = app.admin_token().await;
    register(
        &app,
        &admin,
        &url,
        &["article.published", "article.unpublished"],
    )
    .await;
    let when = chrono::Utc::now() + chrono::Duration::seconds(2);
    let a = json!({
        "title": "Tomorrow's news", "body": "Text.", "status": "published", "published_at": when
    });
    let a = app.create_article(&admin, a).await;
    // Another, rescheduled back to draft: its announcement is withdrawn.
    let b = app.create_article(&admin,
        json!({"title": "Withdrawn", "body": "Text.", "status": "published", "published_at": when}),
    )
    .await;
    let resp = app
        .patch(
            Some(&admin),
            &format!("/api/v1/articles/{}", b["id"].as_str().unwrap()),
            json!({"status": "draft"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(receiver.all().len(), 0, "not before its time");
    let got = receiver.wait_for(1).await;
    let arrived = chrono::Utc::now();
    assert!(arrived >= when, "announced early");
    let body = got[0].json();
    assert_eq!(body["type"], "article.published");
    assert_eq!(body["data"]["article"]["id"], a["id"]);
    // The public can read it now.
    assert_eq!(
        app.get(&format!("/api/v1/articles/{}", a["id"].as_str().unwrap()))
            .await
            .status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        receiver.all().len(),
        1,
        "exactly one event: {:?}",
        receiver.all().iter().map(|r| r.json()).collect::<Vec<_>>()
    );
}

async fn two_instances_deliver_each_event_exactly_once(app: TestApp) {
    let (receiver, url) = Receiver::start(vec![]).await;
    let admin = app.admin_token().await;
    register(&app, &admin, &url, &["comment.created"]).await;
    let a = app
        .create_article(
            &admin,
            json!({"title": "Busy thread", "body": "Text.", "status": "published"}),
        )
        .await;
    let slug = a["slug"].as_str().unwrap().to_string();
    // A second stateless instance on the same database, also delivering.
    let mut config = test_config(&app.database_url);
    fast_webhooks(&mut config);
    let second = Server::start(config).await;
    let instances = [app.clone(), second.app.clone()];
    let mut writers = Vec::new();
    for i in 0..40 {
        let app = instances[i % 2].clone();
        let slug = slug.clone();
        writers.push(tokio::spawn(async move {
            let c = json!({
                "author_name": "Reader",
                "author_email": format!("r{i}@example.org"),
                "body": format!("Comment number {i}")
            });
            let resp = app.submit_comment(&slug, c).await;
            assert_eq!(resp.status(), 202);
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    receiver.wait_for(40).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let got = receiver.all();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in &got {
        *seen.entry(r.header("broadsheet-event-id")).or_default() += 1;
    }
    second.stop().await;
    assert_eq!(seen.len(), 40, "every event arrived");
    let dupes: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dupes.is_empty(), "delivered more than once: {dupes:?}");
    assert_eq!(got.len(), 40);
}

async fn refused_writes_deliver_nothing_and_events_survive_a_restart(app: TestApp) {
    let (receiver, url) = Receiver::start(vec![]).await;
    let admin = app.admin_token().await;
    register(
        &app,
        &admin,
        &url,
        &["article.published", "article.updated"],
    )
    .await;
    let a = app
        .create_article(
            &admin,
            json!({"title": "Guarded", "body": "Text.", "status": "published"}),
        )
        .await;
    let id = a["id"].as_str().unwrap().to_string();
    receiver.wait_for(1).await;
    // A stale If-Match and an invalid field: refused, nothing changes, nothing is sent.
    let stale = app
        .update_article_if_match(&admin, &id, "\"v99\"", json!({"title": "Lost update"}))
        .await;
    assert_eq!(stale.status(), 412);
    let invalid = app.update_article(&admin, &id, json!({"title": ""})).await;
    assert_eq!(invalid.status(), 422);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.all().len(), 1);

    // Written while no instance delivers: kept in the outbox, sent by the
    // next instance to start.
    let mut quiet = test_config(&app.database_url);
    fast_webhooks(&mut quiet);
    quiet.webhook_worker = false;
    let writer = Server::start(quiet).await;
    let resp = writer
        .app
        .update_article(&admin, &id, json!({"title": "Written by the quiet one"}))
        .await;
    assert_eq!(resp.status(), 200);
    writer.stop().await;
    let got = receiver.wait_for(2).await;
    assert_eq!(
        got[1].json()["data"]["article"]["title"],
        "Written by the quiet one"
    );
}

async fn webhook_urls_and_fields_are_checked(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, editor) = app.token_for("editor").await;
    let ok = json!({"url": "https://hooks.example.org/x", "events": ["article.published"]});
    assert_problem(
        app.post(None, "/api/v1/webhooks", ok.clone()).await,
        401,
        "unauthorized",
    )
    .await;
    assert_problem(
        app.post(Some(&editor), "/api/v1/webhooks", ok.clone())
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get_as(&editor, "/api/v1/webhooks").await,
        403,
        "forbidden",
    )
    .await;
    for (body, field) in [
        (
            json!({"url": "ftp://example.org/x", "events": ["article.published"]}),
            "url",
        ),
        (
            json!({"url": "not a url", "events": ["article.published"]}),
            "url",
        ),
        (
            json!({"url": "https://user:pw@example.org/x", "events": ["article.published"]}),
            "url",
        ),
        (json!({"events": ["article.published"]}), "url"),
        (
            json!({"url": "https://example.org/x", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://example.org/x", "events": ["article.exploded"]}),
            "events",
        ),
        (json!({"url": "https://example.org/x"}), "events"),
        (
            json!({
                "url": "https://example.org/x", "events": ["article.published"], "secret": "short"
            }),
            "secret",
        ),
    ] {
        let problem = assert_problem(
            app.post(Some(&admin), "/api/v1/webhooks", body.clone())
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    let wrong_field = app
        .post(
            Some(&admin),
            "/api/v1/webhooks",
            json!({"url": "https://example.org/x", "events": ["article.published"], "secrte": "x"}),
        )
        .await;
    assert_eq!(
        wrong_field.status(),
        422,
        "unknown fields are named, as elsewhere"
    );
    // A public unicast address is allowed (registration connects to nothing;
    // documentation networks such as 203.0.113.0/24 are refused since issue 24).
    let made = json!({
        "url": "https://93.184.215.14/hook", "events": ["article.published"],
        "secret": "a-secret-of-our-own"
    });
    let made = app.post(Some(&admin), "/api/v1/webhooks", made).await;
    assert_eq!(made.status(), 201);
    let made: Value = made.json().await.unwrap();
    assert_eq!(made["secret"], "a-secret-of-our-own");
    let id = made["id"].as_str().unwrap();
    let patched = app
        .patch(
            Some(&admin),
            &format!("/api/v1/webhooks/{id}"),
            json!({"active": false, "events": ["article.updated", "article.updated"]}),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["events"], json!(["article.updated"]));
    assert_eq!(patched["active"], false);
    assert!(patched.get("secret").is_none());
    assert_problem(
        app.get_as(&admin, "/api/v1/webhooks/unknown").await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        app.delete(Some(&admin), &format!("/api/v1/webhooks/{id}"))
            .await
            .status(),
        204
    );
    assert_problem(
        app.delete(Some(&admin), &format!("/api/v1/webhooks/{id}"))
            .await,
        404,
        "not_found",
    )
    .await;
    let list: Value = app.get_json_as(&admin, "/api/v1/webhooks", 200).await;
    assert_eq!(
        list["data"],
        json!([]),
        "refused registrations left nothing behind"
    );
}

both_backends!(private_addresses_are_refused);

/// SSRF: with the default settings, private and loopback receivers are
/// refused on registration, over both APIs.
async fn private_addresses_are_refused(app: TestApp) {
    let admin = app.admin_token().await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://api.localhost/hook",
        "http://10.0.0.7/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fd00::1]/hook",
        "http://0.0.0.0/hook",
    ] {
        let problem = assert_problem(
            app.post(
                Some(&admin),
                "/api/v1/webhooks",
                json!({"url": url, "events": ["article.published"]}),
            )
            .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "url");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("BROADSHEET_WEBHOOK_ALLOW_PRIVATE"),
            "{url}: {problem}"
        );
    }
    let create = "mutation { createWebhook(input: \
                  {url: \"http://127.0.0.1/x\", events: [ARTICLE_PUBLISHED]}) { id } }";
    let gql = app.gql_as(Some(&admin), create, json!({})).await;
    assert_gql_error(&gql, "BAD_USER_INPUT");
    let list: Value = app.get_json_as(&admin, "/api/v1/webhooks", 200).await;
    assert_eq!(list["data"], json!([]));
}

both_backends_with!(
    fast_webhooks,
    audit_15_a_reply_with_nul_is_recorded_and_the_delivery_ends
);

async fn audit_15_a_reply_with_nul_is_recorded_and_the_delivery_ends(app: TestApp) {
    // Before, on PostgreSQL: the excerpt kept the NUL, the attempt could
    // not be stored, and the delivery was claimed again after every
    // lease, forever.
    let (receiver, url) = Receiver::start(vec![Reply::Garbage]).await;
    let admin = app.admin_token().await;
    let hook = register(&app, &admin, &url, &["article.published"]).await;
    let hook = hook["id"].as_str().unwrap();
    app.create_article(
        &admin,
        json!({"title": "Garbage in", "body": "x", "status": "published"}),
    )
    .await;
    receiver.wait_for(1).await;
    let list = settled(&app, &admin, hook).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["state"], "succeeded", "{list:?}");
    assert_eq!(receiver.all().len(), 1, "delivered once");
}
