//! What a test body talks to: [`TestApp`], with a typed helper for each
//! request the tests make often, and the assertions on answers.

use std::{future::Future, ops::Index, process::Output, time::Duration};

use broadsheet::state::AppState;
use reqwest::{Method, Response};
use serde_json::{Value, json};

use super::{ADMIN_EMAIL, ADMIN_PASSWORD, process::run_cli};

/// What a test body talks to. Cheap to clone.
#[derive(Clone)]
pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub database_url: String,
    /// For arranging data the public API cannot yet write; never for asserting.
    pub state: AppState,
}

/// A resource the API created (201): its id, its slug (empty for a resource
/// without one) and the whole answer, which `created["field"]` reads.
#[derive(Debug, Clone)]
pub struct Created {
    pub id: String,
    pub slug: String,
    pub body: Value,
}

impl Index<&str> for Created {
    type Output = Value;

    fn index(&self, field: &str) -> &Value {
        &self.body[field]
    }
}

// ------------------------------------------------------------ plain requests

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send("GET", path, None, None).await
    }

    /// GET and parse JSON, asserting the status.
    pub async fn get_json(&self, path: &str, status: u16) -> Value {
        json_of(self.get(path).await, status, "GET", path).await
    }

    /// GET with a bearer token.
    pub async fn get_as(&self, token: &str, path: &str) -> Response {
        self.send("GET", path, Some(token), None).await
    }

    /// GET with a bearer token and parse JSON, asserting the status.
    pub async fn get_json_as(&self, token: &str, path: &str, status: u16) -> Value {
        json_of(self.get_as(token, path).await, status, "GET", path).await
    }

    /// GET with request headers (validators, an origin, a request id).
    pub async fn get_with<V: AsRef<str>>(&self, path: &str, headers: &[(&str, V)]) -> Response {
        let mut req = self.client.get(self.url(path));
        for (name, value) in headers {
            req = req.header(*name, value.as_ref());
        }
        req.send().await.expect("request sent")
    }

    pub async fn post(&self, token: Option<&str>, path: &str, body: Value) -> Response {
        self.send("POST", path, token, Some(body)).await
    }

    pub async fn patch(&self, token: Option<&str>, path: &str, body: Value) -> Response {
        self.send("PATCH", path, token, Some(body)).await
    }

    pub async fn delete(&self, token: Option<&str>, path: &str) -> Response {
        self.send("DELETE", path, token, None).await
    }

    /// Any request with an optional bearer token and JSON body.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request sent")
    }

    /// Any request with a body of bytes that need not be JSON at all.
    pub async fn send_raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let req = req.header("content-type", content_type).body(body);
        req.send().await.expect("request sent")
    }
}

/// The JSON body of `resp`, asserting its status (and naming the request).
async fn json_of(resp: Response, status: u16, method: &str, path: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status, "{method} {path}");
    resp.json().await.expect("a JSON body")
}

// ------------------------------------------------------------------- GraphQL

impl TestApp {
    /// POST a GraphQL operation and return the whole response body.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.gql_as(None, query, variables).await
    }

    /// POST a GraphQL operation with an optional bearer token.
    pub async fn gql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = json!({ "query": query, "variables": variables });
        let resp = self.post_graphql(token, &body).await;
        assert_eq!(resp.status().as_u16(), 200, "POST /graphql");
        resp.json().await.expect("a JSON body")
    }

    /// POST any JSON to `/graphql` (a batch, a request with an operation
    /// name) and return the response, whatever its status.
    pub async fn post_graphql(&self, token: Option<&str>, body: &Value) -> Response {
        let mut req = self.client.post(self.url("/graphql")).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request sent")
    }
}

/// The `data` of a GraphQL answer, asserting it has no errors.
pub fn gql_ok(resp: &Value) -> &Value {
    assert!(resp["errors"].is_null(), "GraphQL errors: {resp}");
    &resp["data"]
}

/// Assert that a GraphQL answer's first error has `extensions.code` `code`.
#[track_caller]
pub fn assert_gql_error(resp: &Value, code: &str) {
    assert_eq!(
        resp["errors"][0]["extensions"]["code"], code,
        "expected a {code} error: {resp}"
    );
}

/// The fields a validation error names, in order: from a problem's `errors`
/// or a GraphQL error's `extensions.fields`.
pub fn problem_fields(body: &Value) -> Vec<&str> {
    let list = if body["errors"][0]["extensions"]["fields"].is_array() {
        &body["errors"][0]["extensions"]["fields"]
    } else {
        &body["errors"]
    };
    list.as_array()
        .unwrap_or_else(|| panic!("no field errors in {body}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect()
}

/// Assert a problem+json response and return its body.
pub async fn assert_problem(resp: Response, status: u16, code: &str) -> Value {
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

// ------------------------------------------------------------------ accounts

impl TestApp {
    /// Log in over REST and return the token response.
    pub async fn login(&self, email: &str, password: &str) -> Value {
        let resp = self.try_login(email, password).await;
        assert_eq!(resp.status(), 200, "login as {email}");
        resp.json().await.unwrap()
    }

    /// A REST login attempt, whatever its answer.
    pub async fn try_login(&self, email: &str, password: &str) -> Response {
        let body = json!({"email": email, "password": password});
        self.post(None, "/api/v1/auth/login", body).await
    }

    /// Trade a refresh token for new tokens over REST, whatever the answer.
    pub async fn refresh(&self, refresh_token: &Value) -> Response {
        let body = json!({"refresh_token": refresh_token});
        self.post(None, "/api/v1/auth/refresh", body).await
    }

    /// End the session of a refresh token over REST, whatever the answer.
    pub async fn logout(&self, refresh_token: &Value) -> Response {
        let body = json!({"refresh_token": refresh_token});
        self.post(None, "/api/v1/auth/logout", body).await
    }

    /// An access token for `email`.
    pub async fn token_of(&self, email: &str, password: &str) -> String {
        let tokens = self.login(email, password).await;
        tokens["access_token"].as_str().unwrap().to_string()
    }

    /// An access token for the bootstrap admin.
    pub async fn admin_token(&self) -> String {
        self.token_of(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Create a user with `role` (as the admin) and return (id, email, password).
    pub async fn create_user(&self, role: &str) -> (String, String, String) {
        let admin = self.admin_token().await;
        let email = format!(
            "{role}-{}@example.test",
            &broadsheet::services::new_id()[24..]
        );
        let password = format!("{role}-password");
        let body = json!({"email": email, "password": password, "role": role});
        let user = self.create(&admin, "/api/v1/users", body).await;
        (user.id, email, password)
    }

    /// A user of `role` and an access token for them.
    pub async fn token_for(&self, role: &str) -> (String, String) {
        let (id, email, password) = self.create_user(role).await;
        (id, self.token_of(&email, &password).await)
    }
}

// ------------------------------------------------------------------- content

impl TestApp {
    /// POST `body` to a collection as `token`, asserting 201.
    pub async fn create(&self, token: &str, path: &str, body: Value) -> Created {
        let resp = self.post(Some(token), path, body.clone()).await;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        assert_eq!(status, 201, "POST {path} {body}: {text}");
        let body: Value = serde_json::from_str(&text).expect("a JSON body");
        Created {
            id: body["id"].as_str().unwrap_or_default().to_string(),
            slug: body["slug"].as_str().unwrap_or_default().to_string(),
            body,
        }
    }

    /// An article with these fields (API.md "Write fields"), as `token`.
    pub async fn create_article(&self, token: &str, fields: Value) -> Created {
        self.create(token, "/api/v1/articles", fields).await
    }

    /// A published article titled `title`, with a one-line body, as `token`.
    pub async fn publish(&self, token: &str, title: &str) -> Created {
        let body = format!("Text of {title}.");
        let fields = json!({"title": title, "body": body, "status": "published"});
        self.create_article(token, fields).await
    }

    /// PATCH an article (by id) as `token` with `If-Match: etag`.
    pub async fn update_article_if_match(
        &self,
        token: &str,
        id: &str,
        etag: &str,
        fields: Value,
    ) -> Response {
        let req = self
            .client
            .patch(self.url(&format!("/api/v1/articles/{id}")));
        let req = req
            .bearer_auth(token)
            .header("if-match", etag)
            .json(&fields);
        req.send().await.expect("request sent")
    }

    /// PATCH an article (by id) as `token`; the answer, whatever its status.
    pub async fn update_article(&self, token: &str, id: &str, fields: Value) -> Response {
        let path = format!("/api/v1/articles/{id}");
        self.patch(Some(token), &path, fields).await
    }

    /// A reader's comment on an article (id or slug), sent anonymously.
    pub async fn submit_comment(&self, article: &str, fields: Value) -> Response {
        let path = format!("/api/v1/articles/{article}/comments");
        self.post(None, &path, fields).await
    }

    /// Set a comment's moderation status as `token`, asserting 200.
    pub async fn moderate(&self, token: &str, comment: &str, status: &str) {
        let path = format!("/api/v1/comments/{comment}");
        let resp = self
            .patch(Some(token), &path, json!({"status": status}))
            .await;
        assert_eq!(resp.status(), 200, "moderating {comment} to {status}");
    }
}

// -------------------------------------------------------- inside the server

impl TestApp {
    /// Run the `broadsheet` binary against this app's database.
    pub fn cli(&self, args: &[&str]) -> Output {
        run_cli(&self.database_url, args, &[], None)
    }

    /// The text of `/metrics`.
    pub async fn metrics(&self) -> String {
        self.get("/metrics").await.text().await.unwrap()
    }

    /// SQL statements the server ran while `f` ran (0: answered from the cache).
    pub async fn statements<T>(&self, f: impl Future<Output = T>) -> (u64, T) {
        let before = self.state.metrics.db_statements.get();
        let out = f.await;
        (self.state.metrics.db_statements.get() - before, out)
    }

    /// Wait until the server runs no SQL of its own for 300 ms: what a write
    /// sets off in the background (telling other instances, SQLite's change
    /// watcher, the webhook worker's wake-up) would otherwise be counted as
    /// the statements of the next request.
    pub async fn settle(&self) {
        for _ in 0..20 {
            let (n, _) = self
                .statements(tokio::time::sleep(Duration::from_millis(300)))
                .await;
            if n == 0 {
                return;
            }
        }
        panic!("the server never stopped running SQL on its own");
    }
}

/// POST a JSON body just over the 1 MiB limit. The server may answer 413 and
/// close before the client has finished sending; such a transport error is
/// retried so the test sees the answer.
pub async fn send_oversized(app: &TestApp, path: &str, token: Option<&str>) -> Response {
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
