//! Test harness: every test gets a real server on an ephemeral port with a
//! brand-new database — a temp SQLite file, or a uniquely named PostgreSQL
//! database (when `BROADSHEET_TEST_POSTGRES_URL` is set) that is dropped after.

use std::{future::Future, io::Write, process::Output};

use broadsheet::{Application, config::Config, state::AppState};
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;
use tokio::sync::oneshot;

pub const ADMIN_EMAIL: &str = "admin@example.test";
pub const ADMIN_PASSWORD: &str = "test-admin-password";
/// The HS256 secret test servers sign with, so tests can mint tokens by hand.
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What a test body talks to. Cheap to clone.
#[derive(Clone)]
pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub database_url: String,
    /// For arranging data the public API cannot yet write; never for asserting.
    pub state: AppState,
}

/// Declare tests that run once per backend:
/// `both_backends! { async fn name(app) { ... } }` makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn body($app: $crate::helpers::TestApp) $body
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $crate::helpers::run($crate::helpers::Backend::Sqlite, body).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $crate::helpers::run($crate::helpers::Backend::Postgres, body).await
                }
            }
        )*
    };
}

/// The PostgreSQL server URL for tests, or `None` to skip (refused when
/// `BROADSHEET_TEST_REQUIRE_POSTGRES=1`).
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("BROADSHEET_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if std::env::var("BROADSHEET_TEST_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!(
                    "BROADSHEET_TEST_REQUIRE_POSTGRES=1 but BROADSHEET_TEST_POSTGRES_URL is not set"
                );
            }
            None
        }
    }
}

/// Report a skipped run where the developer sees it: straight to the process's
/// stderr, which the test harness does not capture.
fn report_skip(what: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {what} on PostgreSQL: set BROADSHEET_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run it"
    );
}

/// A fresh database for one test, removed by [`FreshDb::remove`].
pub struct FreshDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>, // (admin url, database name)
}

impl FreshDb {
    pub async fn create(backend: Backend) -> Option<FreshDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temp dir");
                let path = dir.path().join("broadsheet-test.db");
                Some(FreshDb {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    _dir: Some(dir),
                    pg: None,
                })
            }
            Backend::Postgres => {
                let Some(admin) = postgres_admin_url() else {
                    report_skip(std::thread::current().name().unwrap_or("a test"));
                    return None;
                };
                let name = format!("broadsheet_test_{}", uuid_simple());
                let conn = Database::connect(&admin)
                    .await
                    .expect("connect to BROADSHEET_TEST_POSTGRES_URL");
                conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create a test database");
                let _ = conn.close().await;
                Some(FreshDb {
                    url: with_database(&admin, &name),
                    _dir: None,
                    pg: Some((admin, name)),
                })
            }
        }
    }

    pub async fn remove(self) {
        if let Some((admin, name)) = &self.pg
            && let Ok(conn) = Database::connect(admin).await
        {
            let _ = conn
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
            let _ = conn.close().await;
        }
    }
}

fn uuid_simple() -> String {
    broadsheet::services::new_id().replace('-', "")
}

/// `postgres://u@h:p/db?x` with the database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[after_scheme..]
        .find('/')
        .map(|i| after_scheme + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The configuration tests run with: port 0, a known admin, a small pool.
pub fn test_config(database_url: &str) -> Config {
    let mut config = Config::with_database(database_url);
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.admin_email = Some(ADMIN_EMAIL.into());
    config.admin_password = Some(broadsheet::config::Secret::new(ADMIN_PASSWORD));
    config.site_url = "https://site.example".into();
    config.db_max_connections = 5;
    config.jwt_secret = Some(broadsheet::config::Secret::new(JWT_SECRET));
    // Every test client shares 127.0.0.1; the comment-limit test sets its own.
    config.comment_rate_per_minute = 0;
    config
}

/// A running server; stop it with [`Server::stop`].
pub struct Server {
    pub app: TestApp,
    shutdown: oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The test's name, for [`report_server_errors`].
    pub test: String,
}

impl Server {
    pub async fn start(config: Config) -> Server {
        let database_url = config.database_url.clone();
        let application = Application::build(config).await.expect("the server starts");
        let base_url = format!("http://{}", application.local_addr());
        let state = application.state().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(application.run_until(async {
            let _ = rx.await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Server {
            app: TestApp {
                base_url,
                client,
                database_url,
                state,
            },
            shutdown: tx,
            handle,
            test: std::thread::current().name().unwrap_or("a test").to_owned(),
        }
    }

    pub async fn stop(self) {
        let test = self.test.clone();
        report_server_errors(&self.app, &test);
        let _ = self.shutdown.send(());
        let _ = self.handle.await;
        let _ = self.app.state.db.clone().close().await;
    }
}

/// Every 5xx the server answered (panics included: they are answered 500),
/// reported where the developer sees it, uncaptured: one line per test that
/// had any, `SERVER-5XX <test> <count> <routes>`. Some tests mean to cause
/// them (a database taken away); over the hostile suite the count is 0.
fn report_server_errors(app: &TestApp, test: &str) {
    let Ok(text) = app.state.metrics.encode() else {
        return;
    };
    let mut total = 0u64;
    let mut routes = Vec::new();
    for line in text.lines() {
        let Some(labels) = line.strip_prefix("broadsheet_http_requests_total{") else {
            continue;
        };
        let Some((labels, count)) = labels.rsplit_once(' ') else {
            continue;
        };
        let labels = labels.strip_suffix('}').unwrap_or(labels);
        if !labels.contains("status=\"5") {
            continue;
        }
        let count: f64 = count.parse().unwrap_or(0.0);
        total += count as u64;
        routes.push(format!("{labels}×{count}"));
    }
    if total > 0 {
        let line = format!("SERVER-5XX {test} {total} {}", routes.join(" "));
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}

/// Run one test body against one backend, always cleaning up, then re-raise
/// the body's panic if it had one.
pub async fn run<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(TestApp) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    run_with(backend, |_| {}, body).await
}

/// [`run`] with changes to the test configuration.
pub async fn run_with<F, Fut>(backend: Backend, tweak: impl FnOnce(&mut Config), body: F)
where
    F: FnOnce(TestApp) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(db) = FreshDb::create(backend).await else {
        return;
    };
    let url = db.url.clone();
    let mut config = test_config(&url);
    tweak(&mut config);
    // Start, run and stop inside a task so that a failure anywhere (even in
    // start-up) still reaches the clean-up below.
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let outcome = tokio::spawn(async move {
        let mut server = Server::start(config).await;
        server.test = test;
        let result = tokio::spawn(body(server.app.clone())).await;
        server.stop().await;
        if let Err(err) = result {
            if err.is_panic() {
                std::panic::resume_unwind(err.into_panic());
            }
            panic!("test body was cancelled: {err}");
        }
    })
    .await;
    db.remove().await;
    if let Err(err) = outcome {
        if err.is_panic() {
            std::panic::resume_unwind(err.into_panic());
        }
        panic!("test was cancelled: {err}");
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// GET and parse JSON, asserting the status.
    pub async fn get_json(&self, path: &str, status: u16) -> Value {
        let resp = self.get(path).await;
        assert_eq!(resp.status().as_u16(), status, "GET {path}");
        resp.json().await.expect("a JSON body")
    }

    /// POST a GraphQL operation and return the whole response body.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        let resp = self
            .client
            .post(self.url("/graphql"))
            .json(&serde_json::json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request sent");
        assert_eq!(resp.status().as_u16(), 200, "POST /graphql");
        resp.json().await.expect("a JSON body")
    }

    /// POST a GraphQL operation with an optional bearer token.
    pub async fn gql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = self
            .client
            .post(self.url("/graphql"))
            .json(&serde_json::json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request sent");
        assert_eq!(resp.status().as_u16(), 200, "POST /graphql");
        resp.json().await.expect("a JSON body")
    }

    /// Log in over REST and return the token response.
    pub async fn login(&self, email: &str, password: &str) -> Value {
        let resp = self
            .client
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "login as {email}");
        resp.json().await.unwrap()
    }

    /// An access token for the bootstrap admin.
    pub async fn admin_token(&self) -> String {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Create a user with `role` (as the admin) and return (id, email, password).
    pub async fn create_user(&self, role: &str) -> (String, String, String) {
        let admin = self.admin_token().await;
        let email = format!(
            "{role}-{}@example.test",
            &broadsheet::services::new_id()[24..]
        );
        let password = format!("{role}-password");
        let resp = self
            .client
            .post(self.url("/api/v1/users"))
            .bearer_auth(&admin)
            .json(&serde_json::json!({"email": email, "password": password, "role": role}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "creating a {role}");
        let body: Value = resp.json().await.unwrap();
        (body["id"].as_str().unwrap().to_string(), email, password)
    }

    /// A user of `role` and an access token for them.
    pub async fn token_for(&self, role: &str) -> (String, String) {
        let (id, email, password) = self.create_user(role).await;
        let token = self.login(&email, &password).await["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        (id, token)
    }

    /// Any request with an optional bearer token and JSON body.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request sent")
    }

    /// Run the `broadsheet` binary against this app's database.
    pub fn cli(&self, args: &[&str]) -> Output {
        run_cli(&self.database_url, args, &[], None)
    }
}

/// Run the real `broadsheet` binary with a clean environment plus `DATABASE_URL`.
pub fn run_cli(
    database_url: &str,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> Output {
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_broadsheet"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("BROADSHEET_LOG_LEVEL", "warn")
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the broadsheet binary runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    child
        .wait_with_output()
        .expect("the broadsheet binary finishes")
}

/// Assert a problem+json response and return its body.
pub async fn assert_problem(resp: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status);
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert_eq!(ct, "application/problem+json");
    let body: Value = resp.json().await.expect("a JSON problem");
    assert_eq!(body["status"], status);
    assert_eq!(body["code"], code);
    for key in ["type", "title", "detail"] {
        assert!(body[key].is_string(), "problem lacks {key}: {body}");
    }
    body
}

/// POST a JSON body just over the 1 MiB limit. The server may answer 413 and
/// close before the client has finished sending; such a transport error is
/// retried so the test sees the answer.
pub async fn send_oversized(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let body = format!("{{\"email\": \"{}\"}}", "a".repeat(1024 * 1024 + 1024));
    // Its own client: the server closes this connection after answering, and
    // it must not go back into the pool the other requests share.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    for _ in 0..5 {
        let mut req = client
            .post(app.url(path))
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Ok(resp) = req.send().await {
            return resp;
        }
    }
    panic!("the oversized request never got an answer");
}

/// The real `broadsheet` binary serving on a free port, its stderr collected.
pub struct ServerProcess {
    child: std::process::Child,
    pub base_url: String,
    pub logs: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Start `broadsheet serve` on `database_url` with the test admin and
    /// secret, plus `env`; returns once it listens.
    pub fn spawn(database_url: &str, env: &[(&str, &str)]) -> ServerProcess {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let mut child = Command::new(env!("CARGO_BIN_EXE_broadsheet"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("BROADSHEET_BIND", "127.0.0.1:0")
            .env("BROADSHEET_JWT_SECRET", JWT_SECRET)
            .env("BROADSHEET_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("BROADSHEET_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("BROADSHEET_COMMENT_RATE_PER_MINUTE", "0")
            .env("BROADSHEET_LOGIN_FAILURES_PER_MINUTE", "0")
            .env("BROADSHEET_LOG_LEVEL", "info")
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the broadsheet binary runs");
        let stderr = child.stderr.take().unwrap();
        let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(at) = line.find("serving http://") {
                    let addr: String = line[at + "serving http://".len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                        .collect();
                    let _ = tx.send(addr);
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the server did not start:\n{}",
                    logs.lock().unwrap().join("\n")
                );
            }
        };
        ServerProcess {
            child,
            base_url: format!("http://{addr}"),
            logs,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait for the exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        self.child.wait().expect("the server exits")
    }

    pub fn log_text(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
