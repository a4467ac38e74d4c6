//! The committed contract files are exactly what the code generates.
//! Regenerate with `cargo run -- schema export` (or BROADSHEET_UPDATE_CONTRACT=1 cargo test).

use crate::both_backends;

fn check(file: &str, generated: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    if std::env::var("BROADSHEET_UPDATE_CONTRACT").as_deref() == Ok("1") {
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{file} is out of date with the code: run `cargo run -- schema export` and commit the result"
    );
}

#[test]
fn schema_graphql_matches_the_code() {
    check("schema.graphql", &broadsheet::graphql::sdl());
}

#[test]
fn openapi_yaml_matches_the_code() {
    check("openapi.yaml", &broadsheet::rest::openapi::yaml());
}

both_backends! {
    async fn the_server_serves_the_committed_openapi_document(app) {
        let resp = app.get("/openapi.yaml").await;
        assert_eq!(resp.status(), 200);
        let served = resp.text().await.unwrap();
        assert_eq!(served, broadsheet::rest::openapi::yaml());
        assert!(served.starts_with("openapi: 3.1"), "{}", &served[..40]);
        let json: serde_json::Value = app.get_json("/openapi.json", 200).await;
        assert!(json["paths"]["/api/v1/articles"]["get"].is_object());
    }
}
