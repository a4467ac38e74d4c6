//! Health endpoints, unknown routes and persistence across restarts.

use serde_json::Value;

use crate::{
    articles::arrange_article,
    both_backends,
    helpers::{FreshDb, Server, assert_problem, test_config},
};

both_backends! {
    async fn health_and_readiness_answer_200(app) {
        assert_eq!(app.get_json("/healthz", 200).await["status"], "ok");
        assert_eq!(app.get_json("/readyz", 200).await["status"], "ready");
    }

    async fn unknown_routes_and_methods_answer_problem_json(app) {
        assert_problem(app.get("/api/v1/nothing-here").await, 404, "not_found").await;
        let resp = app.client.delete(app.url("/healthz")).send().await.unwrap();
        assert_problem(resp, 405, "method_not_allowed").await;
    }
}

async fn data_survive_a_restart(backend: crate::helpers::Backend) {
    let Some(db) = FreshDb::create(backend).await else {
        return;
    };
    let first = Server::start(test_config(&db.url)).await;
    arrange_article(&first.app, "Kept across restarts", "published", Some(1)).await;
    first.stop().await;
    let second = Server::start(test_config(&db.url)).await;
    let body: Value = second.app.get_json("/api/v1/articles", 200).await;
    second.stop().await;
    db.remove().await;
    assert_eq!(body["data"][0]["slug"], "kept-across-restarts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survive_a_restart_sqlite() {
    data_survive_a_restart(crate::helpers::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survive_a_restart_postgres() {
    data_survive_a_restart(crate::helpers::Backend::Postgres).await;
}
