//! Test harness: every test gets a real server on an ephemeral port with a
//! brand-new database — a temp SQLite file, or a uniquely named PostgreSQL
//! database (when `BROADSHEET_TEST_POSTGRES_URL` is set) that is dropped
//! afterwards, also when the test fails.
//!
//! A test is an ordinary `async fn name(app: TestApp)` (so rustfmt formats
//! it); a macro lists which tests run where:
//!
//! ```ignore
//! async fn a_fresh_database_lists_no_articles(app: TestApp) { ... }
//! both_backends!(a_fresh_database_lists_no_articles);  // name::sqlite, name::postgres
//! both_backends_with!(fast_webhooks, every_event_arrives_once_signed);
//! sqlite_only!(sqlite_weighs_a_rare_word_above_a_common_one);  // name::sqlite
//! ```
//!
//! `both_backends_with!` and `sqlite_only_with!` take a `fn(&mut Config)`
//! in scope that changes the test configuration first. A test that needs
//! the database itself (two servers on it, a restart) takes its URL from
//! [`with_database`] instead.

mod app;
mod process;

use std::{future::Future, io::Write};

use broadsheet::{Application, config::Config, state::AppState};
use sea_orm::{ConnectionTrait, Database};
use tokio::{sync::oneshot, task::JoinError};

pub use app::{
    Created, TestApp, assert_gql_error, assert_problem, gql_ok, problem_fields, send_oversized,
};
pub use process::{ServerProcess, run_cli};

pub const ADMIN_EMAIL: &str = "admin@example.test";
pub const ADMIN_PASSWORD: &str = "test-admin-password";
/// The HS256 secret test servers sign with, so tests can mint tokens by hand.
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Tests run once per backend: `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            $crate::backend_tests!(
                $name, $crate::helpers::no_changes, sqlite: Sqlite, postgres: Postgres
            );
        )+
    };
}

/// [`both_backends!`] with a configuration change: `both_backends_with!(tweak, name, ...)`,
/// where `tweak` is a `fn(&mut Config)` in scope.
#[macro_export]
macro_rules! both_backends_with {
    ($tweak:ident, $($name:ident),+ $(,)?) => {
        $( $crate::backend_tests!($name, super::$tweak, sqlite: Sqlite, postgres: Postgres); )+
    };
}

/// Tests of what only SQLite does (its ranking, its write lock): `name::sqlite`.
#[macro_export]
macro_rules! sqlite_only {
    ($($name:ident),+ $(,)?) => {
        $( $crate::backend_tests!($name, $crate::helpers::no_changes, sqlite: Sqlite); )+
    };
}

/// [`sqlite_only!`] with a configuration change, as [`both_backends_with!`].
#[macro_export]
macro_rules! sqlite_only_with {
    ($tweak:ident, $($name:ident),+ $(,)?) => {
        $( $crate::backend_tests!($name, super::$tweak, sqlite: Sqlite); )+
    };
}

/// One module per test, one `#[tokio::test]` per backend, all through [`run_with`].
#[doc(hidden)]
#[macro_export]
macro_rules! backend_tests {
    ($name:ident, $tweak:path, $($test:ident: $backend:ident),+) => {
        mod $name {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let backend = $crate::helpers::Backend::$backend;
                    $crate::helpers::run_with(backend, $tweak, super::$name).await
                }
            )+
        }
    };
}

/// The configuration change of a test that needs none.
pub fn no_changes(_: &mut Config) {}

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
        "SKIPPED {what} on PostgreSQL: set BROADSHEET_TEST_POSTGRES_URL \
         (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run it"
    );
}

/// A fresh database for one test, removed by [`FreshDb::remove`]. Private:
/// tests get one through [`with_database`], which removes it whatever happens.
struct FreshDb {
    url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>, // (admin url, database name)
}

impl FreshDb {
    async fn create(backend: Backend) -> Option<FreshDb> {
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
                    url: with_database_name(&admin, &name),
                    _dir: None,
                    pg: Some((admin, name)),
                })
            }
        }
    }

    async fn remove(self) {
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
fn with_database_name(url: &str, name: &str) -> String {
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

/// A running server; stop it with [`Server::stop`]. Start one directly only
/// inside [`with_database`] (a second instance, a restart).
pub struct Server {
    pub app: TestApp,
    shutdown: oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The test's name, for [`report_server_errors`].
    test: String,
}

tokio::task_local! {
    /// The name of the test a [`with_database`] body runs for (its task's
    /// thread is a runtime worker, not the test's own thread).
    static TEST_NAME: String;
}

impl Server {
    pub async fn start(config: Config) -> Server {
        let database_url = config.database_url.clone();
        let application = Application::build(config).await.expect("the server starts");
        let base_url = format!("http://{}", application.local_addr());
        let state: AppState = application.state().clone();
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
            test: TEST_NAME
                .try_with(Clone::clone)
                .unwrap_or_else(|_| std::thread::current().name().unwrap_or("a test").to_owned()),
        }
    }

    pub async fn stop(self) {
        report_server_errors(&self.app, &self.test);
        let _ = self.shutdown.send(());
        let _ = self.handle.await;
        let _ = self.app.state.db.clone().close().await;
    }
}

/// Run `body` with the URL of a brand-new database of `backend`, then remove
/// the database even when the body failed, and re-raise its panic. Without a
/// PostgreSQL URL a PostgreSQL run is reported as skipped and returns.
pub async fn with_database<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(String) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(db) = FreshDb::create(backend).await else {
        return;
    };
    // In a task of its own: a panic anywhere in the body (even in start-up)
    // ends the task, not this function, so the clean-up below always runs.
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let outcome = tokio::spawn(TEST_NAME.scope(test, body(db.url.clone()))).await;
    db.remove().await;
    rethrow(outcome);
}

/// Run one test body against one backend, with the test configuration.
pub async fn run<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(TestApp) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    run_with(backend, no_changes, body).await
}

/// [`run`] with changes to the test configuration.
pub async fn run_with<F, Fut>(
    backend: Backend,
    tweak: impl FnOnce(&mut Config) + Send + 'static,
    body: F,
) where
    F: FnOnce(TestApp) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_database(backend, move |url| async move {
        let mut config = test_config(&url);
        tweak(&mut config);
        let server = Server::start(config).await;
        // The body in a task too, so that the server is stopped after a failure.
        let outcome = tokio::spawn(body(server.app.clone())).await;
        server.stop().await;
        rethrow(outcome);
    })
    .await
}

/// Every 5xx the server answered (panics included: they are answered 500),
/// reported where the developer sees it, uncaptured: one line per test that
/// had any, `SERVER-5XX <test> <count> <routes>`. Some tests mean to cause
/// them (a database taken away, a flood of logins answered 503).
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

/// Re-raise a task's panic in the caller (keeping its message for the report).
fn rethrow(outcome: Result<(), JoinError>) {
    if let Err(err) = outcome {
        if err.is_panic() {
            std::panic::resume_unwind(err.into_panic());
        }
        panic!("the test was cancelled: {err}");
    }
}
