//! Operations and reliability (issue 7): metrics, limits, hostile input, crash
//! safety with the real binary, and a PostgreSQL outage through a TCP proxy.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use broadsheet::config::Config;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

use crate::{
    both_backends,
    helpers::{
        ADMIN_EMAIL, ADMIN_PASSWORD, Backend, Server, ServerProcess, TestApp, assert_gql_error,
        assert_problem, send_oversized, test_config, with_database,
    },
    hostile::{input, run_cases},
    sqlite_only_with,
};

/// The value of one sample line of a Prometheus text page (0 when absent).
fn sample(page: &str, prefix: &str) -> f64 {
    page.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

both_backends!(
    metrics_count_requests_by_route_template_and_status,
    hostile_input_gets_documented_4xx_answers_and_changes_nothing
);

async fn metrics_count_requests_by_route_template_and_status(app: TestApp) {
    let admin = app.admin_token().await;
    let id = app.publish(&admin, "Counted").await.id;
    for _ in 0..3 {
        assert_eq!(
            app.get(&format!("/api/v1/articles/{id}")).await.status(),
            200
        );
    }
    assert_eq!(
        app.get("/api/v1/articles/no-such-thing").await.status(),
        404
    );
    let operation = json!({
        "query": "query FrontPage { articles(first: 3) { totalCount } }",
        "operationName": "FrontPage"
    });
    let resp = app.post_graphql(None, &operation).await;
    assert_eq!(resp.status(), 200);
    // A held comment for the moderation backlog.
    let comment = json!({
        "author_name": "Reader", "author_email": "metrics-reader@example.net",
        "body": "First time here."
    });
    let resp = app.submit_comment(&id, comment).await;
    assert_eq!(resp.status(), 202);

    let resp = app.get("/metrics").await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let page = resp.text().await.unwrap();
    // One series per route template and status.
    let route =
        |status: u16| format!(r#"method="GET",route="/api/v1/articles/{{id}}",status="{status}""#);
    let ok = format!("broadsheet_http_requests_total{{{}}}", route(200));
    assert_eq!(sample(&page, &ok), 3.0, "{page}");
    let missing = format!("broadsheet_http_requests_total{{{}}}", route(404));
    assert_eq!(sample(&page, &missing), 1.0);
    // Raw paths never become labels.
    assert!(!page.contains(&id) && !page.contains("no-such-thing"));
    let count = format!(
        "broadsheet_http_request_duration_seconds_count{{{}}}",
        route(200)
    );
    assert_eq!(sample(&page, &count), 3.0);
    // The last bucket holds all three, whichever place the `le` label takes.
    let bucket = "broadsheet_http_request_duration_seconds_bucket";
    let le_first = format!(r#"{bucket}{{le="+Inf",{}}} 3"#, route(200));
    let le_last = format!(r#"{bucket}{{{},le="+Inf"}} 3"#, route(200));
    assert!(
        page.contains(&le_first) || page.contains(&le_last),
        "{page}"
    );
    assert_eq!(
        sample(
            &page,
            r#"broadsheet_graphql_operations_total{operation="FrontPage"}"#
        ),
        1.0
    );
    assert_eq!(sample(&page, "broadsheet_comments_pending "), 1.0);
    assert!(sample(&page, "broadsheet_db_pool_connections ") >= 1.0);
    assert_eq!(sample(&page, "broadsheet_db_pool_max_connections "), 5.0);
    assert!(sample(&page, "broadsheet_db_statements_total ") > 0.0);
    // The commenter's email is never a metric.
    assert!(!page.contains("metrics-reader"));
}

async fn hostile_input_gets_documented_4xx_answers_and_changes_nothing(app: TestApp) {
    run_cases(&app, input::cases()).await;
    // What one request and a status cannot say. An oversized body (the
    // server may answer before the client has sent it all):
    let admin = app.admin_token().await;
    let huge = send_oversized(&app, "/api/v1/articles", Some(&admin)).await;
    assert_problem(huge, 413, "payload_too_large").await;
    // SQL- and script-looking searches find nothing:
    for (name, q) in input::SQL_AND_SCRIPT {
        let found = app.get_json(&format!("/api/v1/articles?q={q}"), 200).await;
        assert_eq!(found["data"], json!([]), "{name}");
    }
    // A comment of markup and SQL is stored as written, served as escaped HTML.
    let id = app.publish(&admin, "Standing").await.id;
    let comment = json!({
        "author_name": "<script>alert('n')</script>", "author_email": "x@example.net",
        "body": "<script>alert(1)</script><img src=x onerror=alert(2)> \
                 Robert'); DROP TABLE comments;--"
    });
    let resp = app.submit_comment(&id, comment).await;
    assert_eq!(resp.status(), 202, "a first comment is held");
    let queue = app
        .get_json_as(&admin, "/api/v1/comments?status=pending", 200)
        .await;
    let html = queue["data"][0]["body_html"].as_str().unwrap();
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
    let escaped = html.contains("&lt;script&gt;") && html.contains("DROP TABLE comments");
    assert!(escaped, "{html}");
}

// ------------------------------------------------------------------ limits

fn two_requests_at_a_time(config: &mut Config) {
    config.max_concurrent_requests = 2;
}

sqlite_only_with!(
    two_requests_at_a_time,
    requests_over_the_concurrency_limit_are_shed_with_503
);

async fn requests_over_the_concurrency_limit_are_shed_with_503(app: TestApp) {
    // Logins cost an argon2 hash each: 100 at once against 2 slots.
    let logins = (0..100).map(|_| {
        let app = app.clone();
        tokio::spawn(async move {
            app.post(
                None,
                "/api/v1/auth/login",
                json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
            )
            .await
        })
    });
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200, "health checks are never shed");
    let mut shed = 0;
    for login in logins.collect::<Vec<_>>() {
        let resp = login.await.unwrap();
        match resp.status().as_u16() {
            200 => {}
            503 => {
                shed += 1;
                assert_eq!(resp.headers()["retry-after"], "1");
                assert_problem(resp, 503, "overloaded").await;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(
        shed > 0,
        "with 2 slots some of 100 concurrent logins are shed"
    );
    assert!(shed < 100);
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = app.metrics().await;
    assert_eq!(
        sample(&page, "broadsheet_http_requests_shed_total "),
        f64::from(shed)
    );
}

fn a_one_second_timeout(config: &mut Config) {
    config.request_timeout_secs = 1;
}

// SQLite: another process holds its write lock.
sqlite_only_with!(
    a_one_second_timeout,
    a_request_over_the_timeout_is_answered_503_and_leaves_no_trace
);

async fn a_request_over_the_timeout_is_answered_503_and_leaves_no_trace(app: TestApp) {
    use sea_orm::{
        ConnectionTrait, Database, SqliteTransactionMode, TransactionOptions, TransactionTrait,
    };
    let admin = app.admin_token().await;
    let id = app.publish(&admin, "Locked out").await.id;
    // Another process holds SQLite's write lock longer than the request timeout.
    let other = Database::connect(app.database_url.as_str()).await.unwrap();
    let txn = other
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await
        .unwrap();
    txn.execute_unprepared("UPDATE tags SET name = name WHERE 1 = 0")
        .await
        .unwrap();
    let resp = app
        .update_article(&admin, &id, json!({"title": "Never written"}))
        .await;
    assert_eq!(resp.headers()["retry-after"], "1");
    assert_problem(resp, 503, "timeout").await;
    txn.rollback().await.unwrap();
    other.close().await.unwrap();
    // The lock is gone and the server writes again; the timed-out edit did not land.
    let resp = app
        .update_article(&admin, &id, json!({"standfirst": "Written after"}))
        .await;
    assert_eq!(resp.status(), 200);
    let article: Value = resp.json().await.unwrap();
    assert_eq!(article["title"], "Locked out");
    assert_eq!(article["standfirst"], "Written after");
}

// ------------------------------------------------------------ crash safety

#[derive(Default)]
struct Acked {
    /// comment id -> (article id, submitted text)
    comments: HashMap<String, (String, String)>,
    /// article id -> highest acknowledged revision
    revisions: HashMap<String, u64>,
}

enum Stop {
    Kill,
    Term,
}

async fn admin_token_at(client: &reqwest::Client, base: &str) -> String {
    let resp: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    resp["access_token"].as_str().unwrap().to_string()
}

/// Stream comments and article edits at the real binary, stop it mid-stream,
/// restart it, and check every acknowledged write is there and whole.
async fn writes_survive(stop: Stop) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/crash.db?mode=rwc", dir.path().display());
    let env = [("BROADSHEET_COMMENT_MODERATION", "none")];
    let server = ServerProcess::spawn(&url, &env);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let base = server.base_url.clone();
    let token = admin_token_at(&client, &base).await;
    let mut articles = Vec::new();
    for n in 0..4 {
        let resp: Value = client
            .post(format!("{base}/api/v1/articles"))
            .bearer_auth(&token)
            .json(&json!({
                "title": format!("Crash piece {n}"), "body": "Revision 0.", "status": "published"
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        articles.push(resp["id"].as_str().unwrap().to_string());
    }
    let acked = Arc::new(Mutex::new(Acked::default()));
    let done = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..6 {
        let (client, base, acked, done) =
            (client.clone(), base.clone(), acked.clone(), done.clone());
        let article = articles[w % articles.len()].clone();
        writers.push(tokio::spawn(async move {
            let mut i = 0u64;
            while !done.load(Ordering::Relaxed) {
                i += 1;
                let text = format!("Comment {w}-{i}: “curly” ünïcødé ✓");
                let sent = client
                    .post(format!("{base}/api/v1/articles/{article}/comments"))
                    .json(&json!({
                        "author_name": format!("Reader {w}"),
                        "author_email": format!("r{w}@example.net"),
                        "body": text
                    }))
                    .send()
                    .await;
                let Ok(resp) = sent else { break };
                if resp.status().is_success() {
                    let body: Value = resp.json().await.unwrap();
                    let id = body["id"].as_str().unwrap().to_string();
                    acked
                        .lock()
                        .unwrap()
                        .comments
                        .insert(id, (article.clone(), text));
                }
            }
        }));
    }
    for article in articles.clone() {
        let (client, base, acked, done, token) = (
            client.clone(),
            base.clone(),
            acked.clone(),
            done.clone(),
            token.clone(),
        );
        writers.push(tokio::spawn(async move {
            let mut rev = 0u64;
            while !done.load(Ordering::Relaxed) {
                rev += 1;
                let sent = client
                    .patch(format!("{base}/api/v1/articles/{article}"))
                    .bearer_auth(&token)
                    .json(&json!({
                        "title": format!("Revision {rev} title"),
                        "body": format!("Revision {rev}.")
                    }))
                    .send()
                    .await;
                let Ok(resp) = sent else { break };
                if resp.status().is_success() {
                    acked.lock().unwrap().revisions.insert(article.clone(), rev);
                }
            }
        }));
    }
    // Let the stream run until a good number of writes are acknowledged.
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let a = acked.lock().unwrap();
        if a.comments.len() >= 150 && a.revisions.values().all(|r| *r >= 10) {
            break;
        }
    }
    match stop {
        Stop::Kill => server.kill(),
        Stop::Term => {
            let logs = server.logs.clone();
            let status = server.terminate();
            assert!(status.success(), "SIGTERM exits 0, got {status:?}");
            assert!(logs.lock().unwrap().iter().any(|l| l.contains("stopped")));
        }
    }
    done.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(
        acked.comments.len() >= 20,
        "only {} comments were acknowledged",
        acked.comments.len()
    );
    eprintln!(
        "stopped mid-stream after {} acknowledged comments and {} acknowledged edits",
        acked.comments.len(),
        acked.revisions.values().sum::<u64>()
    );

    let server = ServerProcess::spawn(&url, &env);
    let base = server.base_url.clone();
    let token = admin_token_at(&client, &base).await;
    for article in &articles {
        let a: Value = client
            .get(format!("{base}/api/v1/articles/{article}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // Whole: the title and body come from the same revision, at least the
        // last acknowledged one (a write in flight at the kill may also have landed).
        let title = a["title"].as_str().unwrap();
        let rev: u64 = title
            .strip_prefix("Revision ")
            .and_then(|t| t.strip_suffix(" title"))
            .map(|n| n.parse().unwrap())
            .unwrap_or(0);
        assert!(
            rev >= acked.revisions.get(article).copied().unwrap_or(0),
            "{a}"
        );
        assert_eq!(
            a["body_text"].as_str().unwrap().trim(),
            format!("Revision {rev}."),
            "{a}"
        );
        // Every acknowledged comment is there, with its exact text.
        let mut stored: HashMap<String, String> = HashMap::new();
        for page in 1.. {
            let list: Value = client
                .get(format!(
                    "{base}/api/v1/articles/{article}/comments?per_page=100&page={page}"
                ))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let items = list["data"].as_array().unwrap();
            if items.is_empty() {
                break;
            }
            for c in items {
                stored.insert(
                    c["id"].as_str().unwrap().into(),
                    c["body_html"].as_str().unwrap().into(),
                );
            }
        }
        assert_eq!(
            a["comment_count"].as_u64().unwrap() as usize,
            stored.len(),
            "the count matches the comments"
        );
        for (id, (on, text)) in &acked.comments {
            if on == article {
                let html = stored
                    .get(id)
                    .unwrap_or_else(|| panic!("acknowledged comment {id} is missing"));
                assert_eq!(html, &format!("<p>{text}</p>"), "comment {id} is intact");
            }
        }
    }
    let status = server.terminate();
    assert!(status.success());
    let db = sea_orm::Database::connect(url.as_str()).await.unwrap();
    use sea_orm::ConnectionTrait;
    let check = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(check.try_get_by_index::<String>(0).unwrap(), "ok");
    let orphans = db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Sqlite,
            "PRAGMA foreign_key_check",
        ))
        .await
        .unwrap();
    assert!(orphans.is_empty());
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill_mid_stream() {
    writes_survive(Stop::Kill).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_mid_stream_finishes_in_flight_writes_and_exits_0() {
    writes_survive(Stop::Term).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_id_and_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/logs.db?mode=rwc", dir.path().display());
    let server = ServerProcess::spawn(
        &url,
        &[
            ("BROADSHEET_LOG_FORMAT", "json"),
            ("BROADSHEET_LOG_LEVEL", "debug"),
            ("BROADSHEET_COMMENT_MODERATION", "all"),
        ],
    );
    let client = reqwest::Client::new();
    let token = admin_token_at(&client, &server.base_url).await;
    let resp = client
        .post(server.url("/api/v1/articles"))
        .bearer_auth(&token)
        .header("x-request-id", "trace-me-123")
        .json(&json!({"title": "Logged", "status": "published"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "trace-me-123");
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = client
        .post(server.url(&format!("/api/v1/articles/{id}/comments")))
        .json(&json!({
            "author_name": "Quiet", "author_email": "never-logged@example.net", "body": "Hello."
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let _ = client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": "wrong-password-in-logs"}))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let logs = server.log_text();
    let status = server.terminate();
    assert!(status.success());
    let lines: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l.to_string().contains("trace-me-123")),
        "the request id is on that request's lines"
    );
    for secret in [
        token.as_str(),
        ADMIN_PASSWORD,
        "wrong-password-in-logs",
        "never-logged@example.net",
        crate::helpers::JWT_SECRET,
    ] {
        assert!(!logs.contains(secret), "{secret} appears in the logs");
    }
}

// -------------------------------------------------------- database outage

/// A TCP proxy in front of PostgreSQL that a test can cut (close every
/// connection and refuse new ones) and restore on the same port.
struct Proxy {
    addr: SocketAddr,
    upstream: String,
    tasks: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Proxy {
            addr: listener.local_addr().unwrap(),
            upstream,
            tasks: Default::default(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let upstream = self.upstream.clone();
        let tasks = self.tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(conn.abort_handle());
            }
        });
        self.tasks.lock().unwrap().push(accept.abort_handle());
    }

    /// Drop every connection and stop listening: connections are refused.
    fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    async fn restore(&self) {
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_fails_fast_with_503_and_recovers_by_itself() {
    with_database(Backend::Postgres, |db_url| async move {
        let (head, tail) = db_url.split_once('@').unwrap();
        let (host_port, path) = tail.split_once('/').unwrap();
        let proxy = Proxy::start(host_port.to_string()).await;
        let via_proxy = format!("{head}@{}/{path}", proxy.addr);
        let mut config = test_config(&via_proxy);
        config.db_acquire_timeout_secs = 1;
        let server = Server::start(config).await;
        let app = server.app.clone();
        let admin = app.admin_token().await;
        let id = app.publish(&admin, "Outage survivor").await.id;
        assert_eq!(app.get("/readyz").await.status(), 200);

        proxy.cut();
        // Each answer must come quickly; the client gives up after 10 s.
        let quick = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        for path in [
            "/readyz",
            "/api/v1/articles",
            &format!("/api/v1/articles/{id}"),
        ] {
            let resp = quick
                .get(app.url(path))
                .send()
                .await
                .expect("answered, not hung");
            assert_eq!(resp.headers()["retry-after"], "1");
            assert_problem(resp, 503, "unavailable").await;
        }
        let resp = quick
            .post(app.url(&format!("/api/v1/articles/{id}/comments")))
            .json(&json!({
                "author_name": "Waiting", "author_email": "w@example.net",
                "body": "During the outage."
            }))
            .send()
            .await
            .expect("answered, not hung");
        assert_problem(resp, 503, "unavailable").await;
        let resp = quick
            .patch(app.url(&format!("/api/v1/articles/{id}")))
            .bearer_auth(&admin)
            .json(&json!({"title": "Lost?"}))
            .send()
            .await
            .expect("answered, not hung");
        assert_problem(resp, 503, "unavailable").await;
        let gql: Value = quick
            .post(app.url("/graphql"))
            .json(&json!({"query": "{ articles(first: 5) { totalCount } }"}))
            .send()
            .await
            .expect("answered, not hung")
            .json()
            .await
            .unwrap();
        assert_gql_error(&gql, "UNAVAILABLE");
        assert_eq!(
            quick
                .get(app.url("/healthz"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );

        proxy.restore().await;
        let mut ready = false;
        for _ in 0..60 {
            if quick
                .get(app.url("/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert!(ready, "service resumes by itself when the database returns");
        let article = app.get_json(&format!("/api/v1/articles/{id}"), 200).await;
        assert_eq!(article["title"], "Outage survivor");
        let comment = json!({
            "author_name": "Back", "author_email": "b@example.net", "body": "After the outage."
        });
        let resp = app.submit_comment(&id, comment).await;
        assert!(resp.status().is_success());
        server.stop().await;
        proxy.cut();
    })
    .await
}
