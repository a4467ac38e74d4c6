//! The harness itself: a failing test still removes its database, and its
//! failure reaches the test runner unchanged.

use std::sync::{Arc, Mutex};

use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};

use crate::helpers::{Backend, postgres_admin_url, run};

/// Fail inside a test body on `backend` and check what is left afterwards.
async fn a_failing_test_still_drops_its_database(backend: Backend) {
    let seen: Arc<Mutex<Option<String>>> = Arc::default();
    let record = seen.clone();
    let outcome = tokio::spawn(run(backend, move |app| async move {
        *record.lock().unwrap() = Some(app.database_url.clone());
        panic!("a deliberate failure");
    }))
    .await;
    let Some(url) = seen.lock().unwrap().take() else {
        return; // PostgreSQL is not configured: skipped, and reported so.
    };
    let panic = outcome
        .expect_err("the failure reaches the test")
        .into_panic();
    assert_eq!(
        panic.downcast_ref::<&str>(),
        Some(&"a deliberate failure"),
        "the test's own panic, not another"
    );
    match backend {
        Backend::Sqlite => {
            let path = url
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .unwrap();
            let dir = std::path::Path::new(path).parent().unwrap();
            assert!(!dir.exists(), "{} was left behind", dir.display());
        }
        Backend::Postgres => {
            let name = url.rsplit('/').next().unwrap().split('?').next().unwrap();
            let admin = Database::connect(postgres_admin_url().unwrap())
                .await
                .unwrap();
            let left = admin
                .query_all_raw(Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    "SELECT datname FROM pg_database WHERE datname = $1",
                    [name.into()],
                ))
                .await
                .unwrap();
            admin.close().await.unwrap();
            assert!(left.is_empty(), "database {name} was left behind");
        }
    }
}

mod a_failing_test_still_drops_its_database {
    use super::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::a_failing_test_still_drops_its_database(Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::a_failing_test_still_drops_its_database(Backend::Postgres).await
    }
}
