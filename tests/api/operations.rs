//! Health endpoints, unknown routes and persistence across restarts.

use broadsheet::config::Config;
use serde_json::Value;

use crate::{
    articles::arrange_article,
    both_backends,
    helpers::{Backend, Server, TestApp, assert_problem, test_config, with_database},
    sqlite_only_with,
};

both_backends!(
    health_and_readiness_answer_200,
    unknown_routes_and_methods_answer_problem_json
);

async fn health_and_readiness_answer_200(app: TestApp) {
    assert_eq!(app.get_json("/healthz", 200).await["status"], "ok");
    assert_eq!(app.get_json("/readyz", 200).await["status"], "ready");
}

async fn unknown_routes_and_methods_answer_problem_json(app: TestApp) {
    assert_problem(app.get("/api/v1/nothing-here").await, 404, "not_found").await;
    let resp = app.client.delete(app.url("/healthz")).send().await.unwrap();
    assert_problem(resp, 405, "method_not_allowed").await;
}

/// Two servers one after the other on one database.
async fn data_survive_a_restart(url: String) {
    let first = Server::start(test_config(&url)).await;
    arrange_article(&first.app, "Kept across restarts", "published", Some(1)).await;
    first.stop().await;
    let second = Server::start(test_config(&url)).await;
    let body: Value = second.app.get_json("/api/v1/articles", 200).await;
    second.stop().await;
    assert_eq!(body["data"][0]["slug"], "kept-across-restarts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survive_a_restart_sqlite() {
    with_database(Backend::Sqlite, data_survive_a_restart).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survive_a_restart_postgres() {
    with_database(Backend::Postgres, data_survive_a_restart).await
}

both_backends!(
    every_response_carries_a_request_id_and_security_headers,
    responses_are_compressed_for_clients_that_ask
);

async fn every_response_carries_a_request_id_and_security_headers(app: TestApp) {
    let resp = app.get("/api/v1/articles").await;
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 36, "a generated UUID: {id}");
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert_eq!(resp.headers()["referrer-policy"], "no-referrer");
    assert_eq!(
        resp.headers()["content-security-policy"],
        broadsheet::API_CSP
    );
    let given = app
        .get_with("/healthz", &[("x-request-id", "trace-me-123")])
        .await;
    assert_eq!(given.headers()["x-request-id"], "trace-me-123");
    // Errors too.
    let missing = app.get("/nope").await;
    assert!(missing.headers().contains_key("x-request-id"));
    assert_eq!(missing.headers()["x-content-type-options"], "nosniff");
    // The HTML pages relax the policy just enough for their viewers.
    let docs = app.get("/docs").await;
    assert!(
        docs.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("https://cdn.redoc.ly")
    );
    let graphiql = app.get("/graphql").await;
    assert!(
        graphiql.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("https://unpkg.com")
    );
    // No CORS unless origins are configured.
    let cross = app
        .get_with(
            "/api/v1/articles",
            &[("origin", "https://elsewhere.example")],
        )
        .await;
    assert!(!cross.headers().contains_key("access-control-allow-origin"));
}

async fn responses_are_compressed_for_clients_that_ask(app: TestApp) {
    for encoding in ["gzip", "br"] {
        let resp = app
            .get_with("/openapi.json", &[("accept-encoding", encoding)])
            .await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-encoding"], encoding);
    }
    let plain = app.get("/openapi.json").await;
    assert!(!plain.headers().contains_key("content-encoding"));
}

fn one_allowed_origin(config: &mut Config) {
    config.cors_origins = vec!["https://www.example.org".into()];
}

sqlite_only_with!(
    one_allowed_origin,
    configured_origins_may_call_the_api_from_a_browser
);

async fn configured_origins_may_call_the_api_from_a_browser(app: TestApp) {
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/articles"))
        .header("origin", "https://www.example.org")
        .header("access-control-request-method", "PATCH")
        .header("access-control-request-headers", "authorization, if-match")
        .send()
        .await
        .unwrap();
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://www.example.org"
    );
    assert!(
        preflight.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("PATCH")
    );
    let get = app
        .get_with("/api/v1/articles", &[("origin", "https://www.example.org")])
        .await;
    assert_eq!(
        get.headers()["access-control-allow-origin"],
        "https://www.example.org"
    );
    assert!(
        get.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_lowercase()
            .contains("x-total-count")
    );
    let other = app
        .get_with("/api/v1/articles", &[("origin", "https://evil.example")])
        .await;
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}
