//! Hostile cases: auth (issue 24, findings 2 and 10). Password guesses are
//! counted before argon2 runs, on every endpoint that checks a password,
//! per address and per account and address, so an attacker elsewhere cannot
//! lock the owner out; sessions end at once on logout and password changes.
//!
//! The named tests run behind a trusted proxy (127.0.0.1) and pick their
//! client address with `X-Forwarded-For`, so one test can be several clients.

use broadsheet::config::Config;
use serde_json::{Value, json};

use super::{As, Body, Case};
use crate::{
    both_backends_with,
    helpers::{ADMIN_EMAIL, TestApp, assert_gql_error, assert_problem},
};

/// An email longer than any account can have: 900 KB.
fn huge_email() -> String {
    format!("{}@example.test", "a".repeat(900_000))
}

pub fn cases() -> Vec<Case> {
    vec![
        Case::send(
            "a login with a 900 KB email is 422 before anything is counted or hashed",
            "POST",
            "/api/v1/auth/login",
            As::Anonymous,
            Body::Json(json!({"email": huge_email(), "password": "whatever"})),
            422,
            "validation_failed",
        ),
        Case::send(
            "a login with a 255-character email is 422",
            "POST",
            "/api/v1/auth/login",
            As::Anonymous,
            Body::Json(json!({"email": format!("{}@x.test", "b".repeat(248)), "password": "x"})),
            422,
            "validation_failed",
        ),
        Case::gql(
            "a GraphQL login with a 900 KB email is BAD_USER_INPUT",
            "mutation($e: String!) { login(email: $e, password: \"x\") { accessToken } }",
            json!({"e": huge_email()}),
            200,
            "BAD_USER_INPUT",
        ),
        Case::send(
            "a 900 KB refresh token is refused unread",
            "POST",
            "/api/v1/auth/refresh",
            As::Anonymous,
            Body::Json(json!({"refresh_token": "r".repeat(900_000)})),
            401,
            "unauthorized",
        ),
        Case::send(
            "logging out with a 900 KB refresh token is a harmless 204",
            "POST",
            "/api/v1/auth/logout",
            As::Anonymous,
            Body::Json(json!({"refresh_token": "r".repeat(900_000)})),
            204,
            "",
        ),
    ]
}

/// Behind a trusted proxy at 127.0.0.1, so a test picks its client address.
fn behind_a_proxy(config: &mut Config) {
    config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
}

/// A metric's value from `/metrics`, `None` when it is not reported.
async fn metric(app: &TestApp, series: &str) -> Option<u64> {
    let text = app.metrics().await;
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse::<f64>().unwrap() as u64)
}

/// argon2 runs so far (`None` on a build that does not count them).
async fn hashes(app: &TestApp) -> Option<u64> {
    metric(app, "broadsheet_password_hashes_total").await
}

/// argon2 runs since `before`.
async fn hashes_since(app: &TestApp, before: Option<u64>) -> u64 {
    let now = hashes(app).await;
    now.zip(before)
        .map(|(now, before)| now - before)
        .expect("/metrics reports broadsheet_password_hashes_total")
}

/// A REST login from `address`.
async fn login_from(
    app: &TestApp,
    address: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", address)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

/// A GraphQL request from `address`, whatever its HTTP status.
async fn gql_from(
    app: &TestApp,
    address: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut req = app
        .client
        .post(app.url("/graphql"))
        .header("x-forwarded-for", address)
        .json(&json!({"query": query, "variables": variables}));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().json().await.unwrap()
}

const GQL_LOGIN: &str = "mutation($e: String!, $p: String!) { \
                         login(email: $e, password: $p) { accessToken refreshToken } }";

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.get_as(token, "/api/v1/users/me")
        .await
        .status()
        .as_u16()
}

async fn gql_me_code(app: &TestApp, token: &str) -> Value {
    let body = app.gql_as(Some(token), "{ me { id } }", Value::Null).await;
    body["errors"][0]["extensions"]["code"].clone()
}

both_backends_with!(
    behind_a_proxy,
    two_hundred_wrong_passwords_at_once_reach_argon2_five_times_and_the_owner_still_signs_in,
    fifty_aliased_change_password_mutations_get_no_more_guesses_than_the_limit,
    a_900_kb_email_is_refused_before_the_limiter_keeps_a_key,
    an_access_token_is_refused_right_after_logout_on_both_apis,
    an_access_token_is_refused_right_after_a_password_change_on_both_apis
);

async fn two_hundred_wrong_passwords_at_once_reach_argon2_five_times_and_the_owner_still_signs_in(
    app: TestApp,
) {
    let (_, email, password) = app.create_user("editor").await;
    let before = hashes(&app).await;
    // Half over REST, half over GraphQL, all at once, from one address.
    let attempts: Vec<_> = (0..200)
        .map(|i| {
            let (app, email) = (app.clone(), email.clone());
            tokio::spawn(async move {
                if i % 2 == 0 {
                    let resp =
                        login_from(&app, "198.51.100.7", &email, &format!("wrong-{i}")).await;
                    let status = resp.status().as_u16();
                    let retry = resp
                        .headers()
                        .get("retry-after")
                        .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
                    let body: Value = resp.json().await.unwrap();
                    (
                        status,
                        body["code"].as_str().unwrap_or_default().to_string(),
                        retry,
                    )
                } else {
                    let body = gql_from(
                        &app,
                        "198.51.100.7",
                        None,
                        GQL_LOGIN,
                        json!({"e": email, "p": format!("wrong-{i}")}),
                    )
                    .await;
                    let ext = &body["errors"][0]["extensions"];
                    (
                        200,
                        ext["code"].as_str().unwrap_or_default().to_string(),
                        ext["retryAfter"].as_u64(),
                    )
                }
            })
        })
        .collect();
    let mut guessed = 0;
    for attempt in attempts {
        let (status, code, retry) = attempt.await.unwrap();
        match code.as_str() {
            "unauthorized" | "UNAUTHENTICATED" => guessed += 1,
            "rate_limited" | "RATE_LIMITED" => {
                assert!(status == 429 || status == 200, "{status} {code}");
                assert!(
                    retry.is_some_and(|r| (1..=60).contains(&r)),
                    "a retry-after: {retry:?}"
                );
            }
            other => panic!("unexpected answer {status} {other}"),
        }
    }
    assert!(
        guessed <= 5,
        "{guessed} guesses were checked, the limit is 5"
    );
    let ran = hashes_since(&app, before).await;
    assert!(
        ran <= 5,
        "{ran} argon2 hashes ran for 200 attempts, the limit is 5"
    );
    // The owner, from their own address, is not locked out.
    assert_eq!(
        login_from(&app, "203.0.113.5", &email, &password)
            .await
            .status(),
        200
    );
    let gql = gql_from(
        &app,
        "203.0.113.6",
        None,
        GQL_LOGIN,
        json!({"e": email, "p": password}),
    )
    .await;
    assert!(gql["data"]["login"]["accessToken"].is_string(), "{gql}");
    // The attacking address stays limited, for this account and any other.
    assert_problem(
        login_from(&app, "198.51.100.7", &email, &password).await,
        429,
        "rate_limited",
    )
    .await;
    assert_problem(
        login_from(&app, "198.51.100.7", ADMIN_EMAIL, "x").await,
        429,
        "rate_limited",
    )
    .await;
}

async fn fifty_aliased_change_password_mutations_get_no_more_guesses_than_the_limit(app: TestApp) {
    let (_, email, password) = app.create_user("author").await;
    let token = login_from(&app, "203.0.113.5", &email, &password)
        .await
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let fields: String = (0..50)
        .map(|i| {
            format!(
                "a{i}: changePassword(currentPassword: \"guess-{i}\", \
                     newPassword: \"taken over {i}\") "
            )
        })
        .collect();
    let before = hashes(&app).await;
    let body = gql_from(
        &app,
        "198.51.100.9",
        Some(&token),
        &format!("mutation {{ {fields}}}"),
        Value::Null,
    )
    .await;
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    let checked = errors
        .iter()
        .filter(|e| e["extensions"]["code"] == "BAD_USER_INPUT")
        .count();
    let limited = errors
        .iter()
        .filter(|e| e["extensions"]["code"] == "RATE_LIMITED")
        .count();
    assert!(checked <= 5, "{checked} guesses checked, the limit is 5");
    let ran = hashes_since(&app, before).await;
    assert!(
        ran <= 5,
        "{ran} argon2 hashes ran for 50 aliased guesses, the limit is 5"
    );
    if body["data"].is_object() {
        assert_eq!(checked + limited, 50, "{body}");
    }
    // Nothing changed: the token still works and the password is the old one.
    assert_eq!(me_status(&app, &token).await, 200);
    assert_eq!(
        login_from(&app, "203.0.113.5", &email, &password)
            .await
            .status(),
        200
    );
}

async fn a_900_kb_email_is_refused_before_the_limiter_keeps_a_key(app: TestApp) {
    let keys = |app: TestApp| async move {
        metric(&app, "broadsheet_rate_limit_keys{limiter=\"login\"}").await
    };
    let (before_keys, before_hashes) = (keys(app.clone()).await, hashes(&app).await);
    let resp = login_from(&app, "198.51.100.20", &huge_email(), "x").await;
    let body = assert_problem(resp, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "email");
    let gql = gql_from(
        &app,
        "198.51.100.20",
        None,
        GQL_LOGIN,
        json!({"e": huge_email(), "p": "x"}),
    )
    .await;
    assert_gql_error(&gql, "BAD_USER_INPUT");
    let after_keys = keys(app.clone())
        .await
        .expect("/metrics reports the login limiter's keys");
    assert_eq!(Some(after_keys), before_keys, "no limiter key was kept");
    assert_eq!(
        hashes_since(&app, before_hashes).await,
        0,
        "nothing was hashed"
    );
}

async fn an_access_token_is_refused_right_after_logout_on_both_apis(app: TestApp) {
    let (_, email, password) = app.create_user("editor").await;
    // REST: log out, and the access token of that session is refused at once.
    let first = app.login(&email, &password).await;
    let other = app.login(&email, &password).await;
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(me_status(&app, access).await, 200);
    let out = app.logout(&first["refresh_token"]).await;
    assert_eq!(out.status(), 204);
    let refused = app.get_as(access, "/api/v1/users/me").await;
    assert_eq!(
        refused.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    assert_problem(refused, 401, "unauthorized").await;
    assert_eq!(gql_me_code(&app, access).await, "UNAUTHENTICATED");
    // Only that session ended.
    assert_eq!(
        me_status(&app, other["access_token"].as_str().unwrap()).await,
        200
    );

    // GraphQL: the same through the mutations.
    let session = gql_from(
        &app,
        "203.0.113.5",
        None,
        GQL_LOGIN,
        json!({"e": email, "p": password}),
    )
    .await;
    let access = session["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(me_status(&app, &access).await, 200);
    let out = app
        .gql(
            "mutation($t: String!) { logout(refreshToken: $t) }",
            json!({"t": session["data"]["login"]["refreshToken"]}),
        )
        .await;
    assert_eq!(out["data"]["logout"], true);
    assert_eq!(gql_me_code(&app, &access).await, "UNAUTHENTICATED");
    assert_eq!(me_status(&app, &access).await, 401);
    // A refreshed token of an ended session is refused as well.
    let third = app.login(&email, &password).await;
    let refreshed: Value = app
        .refresh(&third["refresh_token"])
        .await
        .json()
        .await
        .unwrap();
    let access = refreshed["access_token"].as_str().unwrap();
    assert_eq!(me_status(&app, access).await, 200);
    app.logout(&refreshed["refresh_token"]).await;
    assert_eq!(me_status(&app, access).await, 401);
}

async fn an_access_token_is_refused_right_after_a_password_change_on_both_apis(app: TestApp) {
    let (id, email, password) = app.create_user("author").await;
    // REST: a change ends every session of the user, this one included.
    let a = app.token_of(&email, &password).await;
    let b = app.token_of(&email, &password).await;
    let changed = app
        .post(
            Some(&a),
            "/api/v1/users/me/password",
            json!({"current_password": password, "new_password": "second password"}),
        )
        .await;
    assert_eq!(changed.status(), 204);
    for token in [&a, &b] {
        assert_eq!(me_status(&app, token).await, 401);
        assert_eq!(gql_me_code(&app, token).await, "UNAUTHENTICATED");
    }
    // GraphQL: the same through changePassword.
    let c = app.token_of(&email, "second password").await;
    let change = "mutation { changePassword(currentPassword: \"second password\", \
                  newPassword: \"third password\") }";
    let changed = app.gql_as(Some(&c), change, Value::Null).await;
    assert_eq!(changed["data"]["changePassword"], true, "{changed}");
    assert_eq!(gql_me_code(&app, &c).await, "UNAUTHENTICATED");
    assert_eq!(me_status(&app, &c).await, 401);
    // An admin setting the password ends the sessions the same way.
    let d = app.token_of(&email, "third password").await;
    let admin = app.admin_token().await;
    let set = app
        .patch(
            Some(&admin),
            &format!("/api/v1/users/{id}"),
            json!({"password": "fourth password"}),
        )
        .await;
    assert_eq!(set.status(), 200);
    assert_eq!(me_status(&app, &d).await, 401);
    // And the new password signs in.
    let e = app.token_of(&email, "fourth password").await;
    assert_eq!(me_status(&app, &e).await, 200);
}
