//! The hostile-input suite (issue 24): what an outside attacker sends, each
//! with the exact answer it must get. One table, assembled from one section
//! per area of the review (the files beside this one); the runner sends every
//! case on both backends and checks, after each, that the server still
//! answers and that the data is as it was. Findings that need more than one
//! request (concurrency, timing, memory) are named tests in the same files.
//!
//! To add a case: append a [`Case`] to the `cases()` of its area.

mod audit;
mod auth;
mod bodies;
mod graphql;
mod graphql_cost;
mod imports;
pub mod input;
mod lists;
mod network;

use serde_json::{Value, json};

use crate::{both_backends, helpers::TestApp};

/// Who sends a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum As {
    Anonymous,
    Admin,
}

/// What a case sends as its body.
#[derive(Debug, Clone)]
pub enum Body {
    None,
    /// `application/json`.
    Json(Value),
    /// Raw bytes with their content type.
    Raw(&'static str, Vec<u8>),
    /// A GraphQL operation posted to `/graphql` (the case's `path` is ignored).
    Graphql(String, Value),
}

/// One hostile request and the answer it must get: the HTTP status and the
/// problem `code` (REST) or the first error's `extensions.code` (GraphQL).
#[derive(Debug, Clone)]
pub struct Case {
    /// A sentence naming what is tried; printed when the case fails.
    pub name: &'static str,
    pub method: &'static str,
    /// `{article}` is replaced by the id of a published article with one
    /// approved comment, `{slug}` by its slug (`{article}` also in a GraphQL
    /// operation and its variables).
    pub path: String,
    pub who: As,
    pub body: Body,
    pub status: u16,
    pub code: &'static str,
}

impl Case {
    pub fn get(
        name: &'static str,
        path: impl Into<String>,
        status: u16,
        code: &'static str,
    ) -> Case {
        Case {
            name,
            method: "GET",
            path: path.into(),
            who: As::Anonymous,
            body: Body::None,
            status,
            code,
        }
    }

    pub fn gql(
        name: &'static str,
        query: impl Into<String>,
        variables: Value,
        status: u16,
        code: &'static str,
    ) -> Case {
        Case {
            name,
            method: "POST",
            path: "/graphql".into(),
            who: As::Anonymous,
            body: Body::Graphql(query.into(), variables),
            status,
            code,
        }
    }

    pub fn send(
        name: &'static str,
        method: &'static str,
        path: impl Into<String>,
        who: As,
        body: Body,
        status: u16,
        code: &'static str,
    ) -> Case {
        Case {
            name,
            method,
            path: path.into(),
            who,
            body,
            status,
            code,
        }
    }
}

/// The whole table.
pub fn cases() -> Vec<Case> {
    [
        audit::cases(),
        auth::cases(),
        bodies::cases(),
        graphql::cases(),
        lists::cases(),
        network::cases(),
    ]
    .concat()
}

/// What the public sees, to compare before and after each case.
async fn snapshot(app: &TestApp, article: &str) -> Value {
    json!({
        "articles": app.get_json("/api/v1/articles", 200).await,
        "article": app.get_json(&format!("/api/v1/articles/{article}"), 200).await,
        "comments": app.get_json(&format!("/api/v1/articles/{article}/comments"), 200).await,
        "tags": app.get_json("/api/v1/tags", 200).await,
        "authors": app.get_json("/api/v1/authors", 200).await,
    })
}

/// What a case got: the status, the error code and the body.
struct Answer {
    status: u16,
    code: String,
    content_type: String,
    body: Value,
    text: String,
}

/// Send one case.
async fn send(app: &TestApp, admin: &str, id: &str, slug: &str, case: &Case) -> Answer {
    let path = case.path.replace("{article}", id).replace("{slug}", slug);
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
    let mut req = app.client.request(method, app.url(&path));
    if case.who == As::Admin {
        req = req.bearer_auth(admin);
    }
    req = match &case.body {
        Body::None => req,
        Body::Json(v) => req.json(v),
        Body::Raw(content_type, bytes) => req
            .header("content-type", *content_type)
            .body(bytes.clone()),
        Body::Graphql(query, variables) => {
            let query = query.replace("{article}", id);
            let variables: Value =
                serde_json::from_str(&variables.to_string().replace("{article}", id)).unwrap();
            req.json(&json!({"query": query, "variables": variables}))
        }
    };
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: no answer: {e}", case.name));
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or("?"));
    let content_type = content_type.unwrap_or_default().to_string();
    let text = resp.text().await.unwrap_or_default();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let code = match &case.body {
        Body::Graphql(..) => body["errors"][0]["extensions"]["code"].as_str(),
        // Other requests to `/graphql` get GraphQL errors too.
        _ => body["code"]
            .as_str()
            .or(body["errors"][0]["extensions"]["code"].as_str()),
    };
    let code = code.unwrap_or_default().to_string();
    Answer {
        status,
        code,
        content_type,
        body,
        text,
    }
}

/// What is wrong with the form of an answer beyond its status and code: a
/// REST error is `application/problem+json` with its `type`, `title` and
/// `detail`; a GraphQL request refused whole carries no `data`.
fn misshapen(case: &Case, answer: &Answer) -> Option<String> {
    let graphql = case.path.starts_with("/graphql");
    if graphql {
        let refused = answer.status != 200 && !answer.body["data"].is_null();
        return refused.then(|| "a refused GraphQL request answered data".into());
    }
    if case.code.is_empty() {
        return None;
    }
    if answer.content_type != "application/problem+json" {
        return Some(format!("content-type {:?}", answer.content_type));
    }
    let missing = ["type", "title", "detail"]
        .into_iter()
        .find(|key| !answer.body[*key].is_string());
    missing.map(|key| format!("a problem without {key}"))
}

/// Send every case, as the table says, to a server holding a published
/// article with one approved comment; after each, the server must still
/// answer and what the public sees must be unchanged. Fails listing every
/// case that got another answer than its own.
pub async fn run_cases(app: &TestApp, cases: Vec<Case>) {
    let admin = app.admin_token().await;
    let fields = json!({
        "title": "Standing firm", "body": "Text that must survive.", "status": "published"
    });
    let article = app.create_article(&admin, fields).await;
    let comment = json!({
        "author_name": "Staff", "author_email": "staff@example.test", "body": "A standing comment."
    });
    let path = format!("/api/v1/articles/{}/comments", article.id);
    app.create(&admin, &path, comment).await;
    let before = snapshot(app, &article.id).await;
    let mut failures = Vec::new();
    for case in cases {
        let answer = send(app, &admin, &article.id, &article.slug, &case).await;
        let (status, code) = (answer.status, &answer.code);
        let text: String = answer.text.chars().take(300).collect();
        if status != case.status || *code != case.code {
            let (want, want_code) = (case.status, case.code);
            failures.push(format!(
                "{}: expected {want} {want_code}, got {status} {code:?}: {text}",
                case.name
            ));
        } else if let Some(wrong) = misshapen(&case, &answer) {
            failures.push(format!("{}: {wrong}: {text}", case.name));
        }
        let health = app.get("/healthz").await.status();
        assert_eq!(health, 200, "{}: the server stopped answering", case.name);
        let after = snapshot(app, &article.id).await;
        assert_eq!(after, before, "{}: changed the data", case.name);
    }
    let report = failures.join("\n");
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{report}",
        failures.len()
    );
}

both_backends!(every_hostile_case_gets_its_documented_answer_and_changes_nothing);

async fn every_hostile_case_gets_its_documented_answer_and_changes_nothing(app: TestApp) {
    run_cases(&app, cases()).await;
}
