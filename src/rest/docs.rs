//! `GET /docs`: a browsable REST reference. The page is static HTML; the
//! Redoc viewer script is loaded by the reader's browser from a public CDN
//! (nothing is downloaded at build time).

use axum::{
    http::{HeaderValue, header},
    response::{Html, IntoResponse},
};

/// The page may load Redoc from its CDN and fetch the spec from here; nothing else.
const DOCS_CSP: &str = "default-src 'none'; script-src https://cdn.redoc.ly; style-src 'unsafe-inline' https://fonts.googleapis.com; font-src https://fonts.gstatic.com; img-src 'self' data: https:; connect-src 'self'; worker-src blob:; frame-ancestors 'none'; base-uri 'none'";

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

pub async fn docs() -> impl IntoResponse {
    (
        [(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_CSP),
        )],
        Html(PAGE),
    )
}
