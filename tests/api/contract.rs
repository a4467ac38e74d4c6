//! The committed contract files are exactly what the code generates.
//! Regenerate with `cargo run -- schema export`, or run the tests with
//! `BROADSHEET_UPDATE_CONTRACT=1`: that rewrites the files and still fails,
//! showing the diff, so that an update is always read before it is committed.

use std::path::Path;

use crate::{both_backends, helpers::TestApp};

/// Fail, with the diff, unless the committed `file` is what the code
/// generates; in update mode, rewrite it first (and fail all the same).
fn check(file: &str, generated: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let update = std::env::var("BROADSHEET_UPDATE_CONTRACT").as_deref() == Ok("1");
    if let Err(report) = compare(&path, generated, update) {
        panic!("{report}");
    }
}

/// `Ok` when `path` holds exactly `generated`; otherwise what differs, as a
/// unified diff from the committed file to the generated one, after writing
/// `generated` to `path` when `update` is set.
fn compare(path: &Path, generated: &str, update: bool) -> Result<(), String> {
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed == generated {
        return Ok(());
    }
    let name = path.file_name().unwrap().to_string_lossy();
    let diff = similar::TextDiff::from_lines(committed.as_str(), generated)
        .unified_diff()
        .header(
            &format!("{name} (committed)"),
            &format!("{name} (generated)"),
        )
        .to_string();
    if update {
        std::fs::write(path, generated).unwrap();
        return Err(format!(
            "{name} was out of date and has been rewritten: review this diff and commit it\n{diff}"
        ));
    }
    Err(format!(
        "{name} is out of date with the code: run `cargo run -- schema export` \
         (or the tests with BROADSHEET_UPDATE_CONTRACT=1), review and commit the result\n{diff}"
    ))
}

/// A contract file in a temp dir holding `text`.
fn contract_file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("schema.graphql");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn an_out_of_date_contract_fails_with_the_diff_and_is_left_alone() {
    let (_dir, path) = contract_file("type A {\n  a: Int\n}\n");
    let report = compare(&path, "type A {\n  b: Int\n}\n", false).unwrap_err();
    assert!(
        report.contains("-  a: Int\n") && report.contains("+  b: Int\n"),
        "{report}"
    );
    assert!(report.contains("cargo run -- schema export"), "{report}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "type A {\n  a: Int\n}\n"
    );
}

#[test]
fn the_update_mode_rewrites_the_contract_and_still_fails_with_the_diff() {
    let (_dir, path) = contract_file("type A {\n  a: Int\n}\n");
    let report = compare(&path, "type A {\n  b: Int\n}\n", true).unwrap_err();
    assert!(
        report.contains("-  a: Int\n") && report.contains("+  b: Int\n"),
        "{report}"
    );
    assert!(report.contains("has been rewritten"), "{report}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "type A {\n  b: Int\n}\n"
    );
    // Run again, the rewritten file passes.
    assert_eq!(compare(&path, "type A {\n  b: Int\n}\n", true), Ok(()));
}

#[test]
fn schema_graphql_matches_the_code() {
    check("schema.graphql", &broadsheet::graphql::sdl());
}

#[test]
fn openapi_yaml_matches_the_code() {
    check("openapi.yaml", &broadsheet::rest::openapi::yaml());
}

both_backends!(the_server_serves_the_committed_openapi_document);

async fn the_server_serves_the_committed_openapi_document(app: TestApp) {
    let resp = app.get("/openapi.yaml").await;
    assert_eq!(resp.status(), 200);
    let served = resp.text().await.unwrap();
    assert_eq!(served, broadsheet::rest::openapi::yaml());
    assert!(served.starts_with("openapi: 3.1"), "{}", &served[..40]);
    let json: serde_json::Value = app.get_json("/openapi.json", 200).await;
    assert!(json["paths"]["/api/v1/articles"]["get"].is_object());
}

/// Paths registered in the router source (`.route("...")`).
fn router_paths() -> Vec<String> {
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rest/mod.rs"),
    )
    .unwrap();
    let mut paths: Vec<String> = src
        .split(".route(")
        .skip(1)
        .filter_map(|rest| {
            rest.trim_start()
                .strip_prefix('"')
                .and_then(|r| r.split('"').next())
                .map(str::to_string)
        })
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_api_route_is_in_openapi_yaml() {
    let doc = broadsheet::rest::openapi::json();
    let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let normalize = |p: &str| -> String {
        p.split('/')
            .map(|seg| if seg.starts_with('{') { "{id}" } else { seg })
            .collect::<Vec<_>>()
            .join("/")
    };
    for path in router_paths()
        .iter()
        .filter(|p| p.starts_with("/api/") || p.starts_with("/feeds/") || p.ends_with("z"))
        .map(|p| normalize(p))
    {
        // Parameter names differ (the document is more specific); positions must not.
        let documented = doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| normalize(k) == path);
        assert!(documented, "{path} is routed but missing from openapi.yaml");
    }
}

both_backends!(
    every_documented_operation_is_routed,
    the_docs_and_graphiql_pages_are_served
);

async fn every_documented_operation_is_routed(app: TestApp) {
    let doc: serde_json::Value = app.get_json("/openapi.json", 200).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete: String = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().unwrap().keys() {
            let resp = app
                .send(&method.to_uppercase(), &concrete, None, None)
                .await;
            let status = resp.status().as_u16();
            let body = resp.text().await.unwrap_or_default();
            assert!(
                status != 405,
                "{method} {path} is documented but not routed"
            );
            assert!(
                !(status == 404 && body.contains("route not found")),
                "{method} {path} is documented but not routed"
            );
        }
    }
}

async fn the_docs_and_graphiql_pages_are_served(app: TestApp) {
    let docs = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("/openapi.json"));
}
