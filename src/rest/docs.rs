//! `GET /docs`: a browsable REST reference. The page is static HTML; the
//! Redoc viewer script is loaded by the reader's browser from a public CDN
//! (nothing is downloaded at build time).

use axum::response::Html;

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Broadsheet REST API</title>
  <style>body { margin: 0; }</style>
</head>
<body>
  <noscript>This reference needs JavaScript. The raw contract is at <a href="/openapi.yaml">/openapi.yaml</a>.</noscript>
  <redoc spec-url="/openapi.json"></redoc>
  <script src="https://cdn.redoc.ly/redoc/v2.5.0/bundles/redoc.standalone.js"></script>
</body>
</html>
"#;

pub async fn docs() -> Html<&'static str> {
    Html(PAGE)
}
