//! The `broadsheet` command line: migrations, users, and start-up failures
//! that must end in one clear line rather than a panic.

use std::process::Output;

use crate::{
    both_backends,
    helpers::{ADMIN_EMAIL, TestApp, run_cli},
};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The process failed with exactly one `error:` line that mentions `needle`.
fn assert_one_line_failure(o: &Output, needle: &str) {
    assert!(
        !o.status.success(),
        "expected failure, got success: {}",
        stdout(o)
    );
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(lines[0].contains(needle), "{needle:?} not in {err}");
    assert!(!err.contains("panicked"), "{err}");
}

both_backends!(
    migrations_list_roll_back_and_reapply,
    users_are_created_from_the_cli_and_emails_are_unique_ignoring_case
);

async fn migrations_list_roll_back_and_reapply(app: TestApp) {
    let status = app.cli(&["migrate", "status"]);
    assert!(status.status.success(), "{}", stderr(&status));
    let text = stdout(&status);
    // One line per migration (counted from the migrator, so adding one
    // does not need this test changed).
    use migrations::MigratorTrait;
    assert_eq!(
        text.lines().count(),
        migrations::Migrator::migrations().len(),
        "{text}"
    );
    assert!(text.lines().all(|l| l.starts_with("applied")), "{text}");

    let down = app.cli(&["migrate", "down"]);
    assert!(down.status.success(), "{}", stderr(&down));
    let text = stdout(&app.cli(&["migrate", "status"]));
    assert!(
        text.lines().last().unwrap().starts_with("pending"),
        "{text}"
    );
    assert_eq!(
        app.get("/readyz").await.status(),
        503,
        "readyz must fail with a pending migration"
    );

    let all_down = app.cli(&["migrate", "down", "--all"]);
    assert!(all_down.status.success(), "{}", stderr(&all_down));
    assert!(
        stdout(&app.cli(&["migrate", "status"]))
            .lines()
            .all(|l| l.starts_with("pending"))
    );

    let up = app.cli(&["migrate", "up"]);
    assert!(up.status.success(), "{}", stderr(&up));
    assert!(
        stdout(&app.cli(&["migrate", "status"]))
            .lines()
            .all(|l| l.starts_with("applied"))
    );
    assert_eq!(app.get("/readyz").await.status(), 200);
}

async fn users_are_created_from_the_cli_and_emails_are_unique_ignoring_case(app: TestApp) {
    let made = run_cli(
        &app.database_url,
        &[
            "users",
            "create",
            "--email",
            "Editor@Example.org",
            "--role",
            "editor",
        ],
        &[],
        Some("a long enough password\n"),
    );
    assert!(made.status.success(), "{}", stderr(&made));
    assert!(stdout(&made).contains("editor"));
    let again = run_cli(
        &app.database_url,
        &[
            "users",
            "create",
            "--email",
            "editor@example.ORG",
            "--role",
            "author",
        ],
        &[("BROADSHEET_PASSWORD", "another password")],
        None,
    );
    assert_one_line_failure(&again, "already exists");
    // The bootstrap admin exists too, so the same holds for it.
    let admin = run_cli(
        &app.database_url,
        &[
            "users",
            "create",
            "--email",
            &ADMIN_EMAIL.to_uppercase(),
            "--role",
            "admin",
        ],
        &[("BROADSHEET_PASSWORD", "another password")],
        None,
    );
    assert_one_line_failure(&admin, "already exists");
    let short = run_cli(
        &app.database_url,
        &[
            "users",
            "create",
            "--email",
            "x@example.org",
            "--role",
            "author",
        ],
        &[("BROADSHEET_PASSWORD", "short")],
        None,
    );
    assert_one_line_failure(&short, "password");
    let role = run_cli(
        &app.database_url,
        &[
            "users",
            "create",
            "--email",
            "x@example.org",
            "--role",
            "overlord",
        ],
        &[("BROADSHEET_PASSWORD", "long enough pw")],
        None,
    );
    assert!(!role.status.success());
    assert!(stderr(&role).contains("overlord"));
}

#[test]
fn a_bad_database_url_is_one_line_naming_it() {
    assert_one_line_failure(
        &run_cli("mysql://localhost/x", &["serve"], &[], None),
        "DATABASE_URL",
    );
}

#[test]
fn an_unwritable_sqlite_path_is_one_line_naming_it() {
    let o = run_cli(
        "sqlite:///proc/broadsheet-cannot-exist/x.db?mode=rwc",
        &["serve"],
        &[],
        None,
    );
    assert_one_line_failure(&o, "DATABASE_URL");
}

#[test]
fn an_unreachable_postgres_is_one_line_naming_it_without_the_password() {
    let o = run_cli(
        "postgres://postgres:sekrit@127.0.0.1:1/broadsheet",
        &["serve"],
        &[],
        None,
    );
    assert_one_line_failure(&o, "DATABASE_URL");
    assert!(!stderr(&o).contains("sekrit"), "{}", stderr(&o));
}

#[test]
fn an_invalid_setting_is_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/x.db?mode=rwc", dir.path().display());
    for (key, value) in [
        ("BROADSHEET_BIND", "nowhere"),
        ("BROADSHEET_JWT_SECRET", "short"),
        ("BROADSHEET_LOG_FORMAT", "yaml"),
    ] {
        assert_one_line_failure(&run_cli(&url, &["serve"], &[(key, value)], None), key);
    }
    let cfg = dir.path().join("broadsheet.toml");
    std::fs::write(&cfg, "bind = 12\n").unwrap();
    assert_one_line_failure(
        &run_cli(
            &url,
            &["--config", cfg.to_str().unwrap(), "serve"],
            &[],
            None,
        ),
        "--config",
    );
}

#[test]
fn a_port_in_use_is_one_line_saying_so() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/x.db?mode=rwc", dir.path().display());
    let o = run_cli(
        &url,
        &["serve"],
        &[
            ("BROADSHEET_BIND", &addr),
            ("BROADSHEET_ADMIN_EMAIL", "a@b.c"),
            ("BROADSHEET_ADMIN_PASSWORD", "long enough pw"),
        ],
        None,
    );
    assert_one_line_failure(&o, "already in use");
}

#[test]
fn schema_export_writes_both_contract_files() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_cli(
        "sqlite://unused.db",
        &["schema", "export", "--dir", dir.path().to_str().unwrap()],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("schema.graphql")).unwrap(),
        broadsheet::graphql::sdl()
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("openapi.yaml")).unwrap(),
        broadsheet::rest::openapi::yaml()
    );
}

both_backends!(a_synthetic_archive_is_seeded_and_seen_by_a_running_server);

async fn a_synthetic_archive_is_seeded_and_seen_by_a_running_server(app: TestApp) {
    // Cached before the CLI writes; the server must notice the other process.
    assert_eq!(
        app.get_json("/api/v1/articles", 200).await["meta"]["total"],
        0
    );
    let dir = tempfile::tempdir().unwrap();
    let slugs = dir.path().join("slugs.txt");
    let out = app.cli(&[
        "seed",
        "--synthetic",
        "--articles",
        "12",
        "--comments-per-article",
        "4",
        "--slugs-file",
        slugs.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("seeded 12 synthetic articles and 48 comments"),
        "{}",
        stdout(&out)
    );
    let slugs: Vec<String> = std::fs::read_to_string(&slugs)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(slugs.len(), 12);
    let mut total = serde_json::Value::Null;
    for _ in 0..20 {
        total = app.get_json("/api/v1/articles?per_page=100", 200).await["meta"]["total"].clone();
        if total == 12 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        total, 12,
        "a running server sees the CLI's writes within 2 s"
    );
    let list = app.get_json("/api/v1/articles?per_page=100", 200).await;
    let items = list["data"].as_array().unwrap();
    assert_eq!(
        items.iter().filter(|a| !a["source"].is_null()).count(),
        4,
        "a third are cross-posts"
    );
    for a in items {
        let authors = a["authors"].as_array().unwrap().len();
        assert!((1..=3).contains(&authors));
        assert!(a["word_count"].as_u64().unwrap() > 600, "~5 KB bodies");
        assert_eq!(a["comment_count"], 4);
        assert!(slugs.contains(&a["slug"].as_str().unwrap().to_string()));
    }
    // A reply is threaded under its parent.
    let comments = app
        .get_json(&format!("/api/v1/articles/{}/comments", slugs[0]), 200)
        .await;
    assert_eq!(comments["meta"]["total"], 4);
    assert!(
        comments["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["depth"] == 1)
    );
    // Bad arguments are one line.
    let out = app.cli(&["seed", "--articles", "5"]);
    assert!(!out.status.success());
}
