//! Accounts, login, tokens and the role matrix. Tokens are also minted by
//! hand (HMAC-SHA256 via the `hmac` crate, not jsonwebtoken) to check that
//! verification accepts and refuses exactly what it should.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use broadsheet::config::Config;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::{
    both_backends, both_backends_with,
    helpers::{
        ADMIN_EMAIL, ADMIN_PASSWORD, Backend, JWT_SECRET, Server, TestApp, assert_gql_error,
        assert_problem, problem_fields, send_oversized, test_config, with_database,
    },
};

/// A JWT built by hand: base64url(header).base64url(claims).HMAC-SHA256.
fn mint(header: Value, claims: Value, secret: &[u8]) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn claims_for(sub: &str, role: &str, offset_secs: i64) -> Value {
    let now = chrono::Utc::now().timestamp() + offset_secs;
    json!({"sub": sub, "role": role, "iat": now, "nbf": now, "exp": now + 600,
           "iss": "broadsheet", "aud": "broadsheet", "jti": "hand-minted"})
}

fn hs256() -> Value {
    json!({"alg": "HS256", "typ": "JWT", "kid": "default"})
}

async fn me_status(app: &TestApp, token: &str) -> (u16, String) {
    let resp = app.get_as(token, "/api/v1/users/me").await;
    let status = resp.status().as_u16();
    let www = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, www)
}

async fn admin_id(app: &TestApp) -> String {
    let token = app.admin_token().await;
    let me: Value = app.get_json_as(&token, "/api/v1/users/me", 200).await;
    me["id"].as_str().unwrap().to_string()
}

async fn user_total(app: &TestApp) -> u64 {
    let token = app.admin_token().await;
    let list: Value = app.get_json_as(&token, "/api/v1/users", 200).await;
    list["meta"]["total"].as_u64().unwrap()
}

both_backends!(
    login_gives_bearer_tokens_that_identify_the_user_on_both_apis,
    unknown_email_and_wrong_password_get_the_identical_answer,
    refresh_rotates_and_reuse_revokes_the_whole_family,
    logout_revokes_the_refresh_token,
    bad_tokens_are_401_invalid_token_and_missing_ones_401_bearer,
    every_staff_operation_is_allowed_or_refused_by_role_on_both_apis,
    demotion_deactivation_and_deletion_take_effect_at_once,
    the_last_admin_cannot_be_removed_or_demoted,
    passwords_change_only_with_the_current_one_and_end_sessions,
    user_writes_validate_every_field_and_write_nothing_when_bad,
    users_written_through_one_api_read_the_same_through_the_other
);

async fn login_gives_bearer_tokens_that_identify_the_user_on_both_apis(app: TestApp) {
    let tokens = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert!(tokens["refresh_token"].as_str().unwrap().len() >= 43);
    let token = tokens["access_token"].as_str().unwrap();
    let resp = app.get_as(token, "/api/v1/users/me").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "private, no-store");
    let me: Value = resp.json().await.unwrap();
    assert_eq!(me["email"], ADMIN_EMAIL);
    assert_eq!(me["role"], "admin");
    assert!(me.get("password_hash").is_none());

    let login = "mutation { login(email: \"ADMIN@example.test\", \
                 password: \"test-admin-password\") { \
                 accessToken tokenType expiresIn refreshToken } }";
    let gql = app.gql(login, Value::Null).await;
    let access = gql["data"]["login"]["accessToken"]
        .as_str()
        .expect("GraphQL login works, email case-insensitive");
    assert_eq!(gql["data"]["login"]["tokenType"], "Bearer");
    let me = app
        .gql_as(Some(access), "{ me { email role } }", Value::Null)
        .await;
    assert_eq!(
        me["data"]["me"],
        json!({"email": ADMIN_EMAIL, "role": "ADMIN"})
    );
}

async fn unknown_email_and_wrong_password_get_the_identical_answer(app: TestApp) {
    let wrong = app.try_login(ADMIN_EMAIL, "nope-nope").await;
    assert_eq!(wrong.headers()["www-authenticate"], "Bearer");
    let wrong = assert_problem(wrong, 401, "unauthorized").await;
    let unknown = app.try_login("ghost@example.test", "nope-nope").await;
    let unknown = assert_problem(unknown, 401, "unauthorized").await;
    assert_eq!(wrong, unknown);
    let login = |email: &str| {
        format!("mutation {{ login(email: \"{email}\", password: \"x\") {{ accessToken }} }}")
    };
    let gql_wrong = app.gql(&login("admin@example.test"), Value::Null).await;
    let gql_unknown = app.gql(&login("ghost@example.test"), Value::Null).await;
    assert_gql_error(&gql_wrong, "UNAUTHENTICATED");
    let message = &gql_wrong["errors"][0]["message"];
    assert_eq!(message, &gql_unknown["errors"][0]["message"]);
}

async fn refresh_rotates_and_reuse_revokes_the_whole_family(app: TestApp) {
    let first = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r1 = &first["refresh_token"];
    let resp = app.refresh(r1).await;
    assert_eq!(resp.status(), 200);
    let second: Value = resp.json().await.unwrap();
    let r2 = &second["refresh_token"];
    assert!(r2.is_string());
    assert_ne!(r1, r2);
    let access = second["access_token"].as_str().unwrap();
    assert_eq!(me_status(&app, access).await.0, 200);

    // Presenting the spent r1 again is refused and revokes r2 as well.
    assert_problem(app.refresh(r1).await, 401, "unauthorized").await;
    assert_problem(app.refresh(r2).await, 401, "unauthorized").await;

    // Over GraphQL too.
    let fresh = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r = &fresh["refresh_token"];
    let q = "mutation($t: String!) { refreshToken(refreshToken: $t) { refreshToken } }";
    let ok = app.gql(q, json!({"t": r})).await;
    assert!(
        ok["data"]["refreshToken"]["refreshToken"].is_string(),
        "{ok}"
    );
    let again = app.gql(q, json!({"t": r})).await;
    assert_gql_error(&again, "UNAUTHENTICATED");
}

async fn logout_revokes_the_refresh_token(app: TestApp) {
    let tokens = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r = &tokens["refresh_token"];
    assert_eq!(app.logout(r).await.status(), 204);
    assert_problem(app.refresh(r).await, 401, "unauthorized").await;
    let gql = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r = &gql["refresh_token"];
    let logout = "mutation($t: String!) { logout(refreshToken: $t) }";
    let out = app.gql(logout, json!({"t": r})).await;
    assert_eq!(out["data"]["logout"], true);
    assert_problem(app.refresh(r).await, 401, "unauthorized").await;
}

async fn bad_tokens_are_401_invalid_token_and_missing_ones_401_bearer(app: TestApp) {
    let none = app.get("/api/v1/users/me").await;
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    assert_problem(none, 401, "unauthorized").await;

    let admin = admin_id(&app).await;
    let secret = JWT_SECRET.as_bytes();
    let signed = |claims: Value| mint(hs256(), claims, secret);
    // The hand-minted control: a correct token is accepted.
    let good = signed(claims_for(&admin, "admin", 0));
    let status = me_status(&app, &good).await.0;
    assert_eq!(status, 200, "a correctly hand-minted token is accepted");
    // Within the 60 s skew allowance, a token from slightly in the future is fine.
    let skewed = signed(claims_for(&admin, "admin", 30));
    assert_eq!(me_status(&app, &skewed).await.0, 200);

    let mut expired = claims_for(&admin, "admin", -3600);
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 120);
    let mut wrong_iss = claims_for(&admin, "admin", 0);
    wrong_iss["iss"] = json!("someone-else");
    let mut wrong_aud = claims_for(&admin, "admin", 0);
    wrong_aud["aud"] = json!("another-api");
    let mut no_exp = claims_for(&admin, "admin", 0);
    no_exp.as_object_mut().unwrap().remove("exp");
    let not_yet = claims_for(&admin, "admin", 600);
    let none_alg = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT"}).to_string()),
        URL_SAFE_NO_PAD.encode(claims_for(&admin, "admin", 0).to_string())
    );
    let other_secret = b"another-secret-another-secret-0123456";
    let other_kid = json!({"alg": "HS256", "kid": "other"});
    let nobody = "0190aaaa-0000-7000-8000-000000000000";
    let cases = vec![
        (
            "bad signature",
            mint(hs256(), claims_for(&admin, "admin", 0), other_secret),
        ),
        ("expired", signed(expired)),
        ("wrong issuer", signed(wrong_iss)),
        ("wrong audience", signed(wrong_aud)),
        ("no exp", signed(no_exp)),
        ("not yet valid", signed(not_yet)),
        ("alg none", none_alg),
        (
            "unknown kid",
            mint(other_kid, claims_for(&admin, "admin", 0), secret),
        ),
        ("unknown user", signed(claims_for(nobody, "admin", 0))),
        ("garbage", "not.a.token".to_string()),
    ];
    for (what, token) in cases {
        let (status, www) = me_status(&app, &token).await;
        assert_eq!(status, 401, "{what}");
        assert_eq!(www, "Bearer error=\"invalid_token\"", "{what}");
        let gql = app.gql_as(Some(&token), "{ me { id } }", Value::Null).await;
        let code = &gql["errors"][0]["extensions"]["code"];
        assert_eq!(code, "UNAUTHENTICATED", "{what}: {gql}");
    }
    // A malformed Authorization header, even on a public route.
    let resp = app
        .get_with("/api/v1/users/me", &[("authorization", "Token abc")])
        .await;
    let www = &resp.headers()["www-authenticate"];
    assert_eq!(www, "Bearer error=\"invalid_token\"");
    assert_problem(resp, 401, "unauthorized").await;
}

async fn every_staff_operation_is_allowed_or_refused_by_role_on_both_apis(app: TestApp) {
    let (target, _, _) = app.create_user("author").await;
    let mut tokens: Vec<(&str, Option<String>)> = vec![("anonymous", None)];
    for role in ["admin", "editor", "author", "contributor"] {
        tokens.push((role, Some(app.token_for(role).await.1)));
    }
    let before = user_total(&app).await;
    // (name, admin only?)
    for (role, token) in &tokens {
        let t = token.as_deref();
        let expect = |admin_only: bool| -> u16 {
            match (*role, admin_only) {
                ("anonymous", _) => 401,
                ("admin", _) => 0,
                (_, true) => 403,
                (_, false) => 0,
            }
        };
        let rest_cases: Vec<(&str, String, Option<Value>, bool)> = vec![
            ("GET", "/api/v1/users".into(), None, true),
            (
                "POST",
                "/api/v1/users".into(),
                Some(json!({
                    "email": format!("new-{role}@example.test"),
                    "password": "long enough",
                    "role": "contributor"
                })),
                true,
            ),
            ("GET", format!("/api/v1/users/{target}"), None, true),
            (
                "PATCH",
                format!("/api/v1/users/{target}"),
                Some(json!({"display_name": format!("renamed by {role}")})),
                true,
            ),
            ("GET", "/api/v1/users/me".into(), None, false),
        ];
        for (method, path, body, admin_only) in rest_cases {
            let resp = app.send(method, &path, t, body).await;
            let status = resp.status().as_u16();
            match expect(admin_only) {
                0 => assert!(
                    (200..300).contains(&status),
                    "{role} {method} {path}: {status}"
                ),
                code => assert_eq!(status, code, "{role} {method} {path}"),
            }
        }
        let gql_cases: Vec<(&str, bool)> = vec![
            ("{ users { totalCount } }", true),
            (
                "mutation { createUser(input: {email: \"g-ROLE@example.test\", \
                 password: \"long enough\", role: CONTRIBUTOR}) { id } }",
                true,
            ),
            ("{ user(id: \"TARGET\") { id } }", true),
            (
                "mutation { updateUser(id: \"TARGET\", \
                 input: {displayName: \"gql ROLE\"}) { id } }",
                true,
            ),
            ("{ me { id } }", false),
        ];
        for (q, admin_only) in gql_cases {
            let q = q.replace("ROLE", role).replace("TARGET", &target);
            let resp = app.gql_as(t, &q, Value::Null).await;
            match expect(admin_only) {
                0 => assert!(resp["errors"].is_null(), "{role} {q}: {resp}"),
                401 => assert_eq!(
                    resp["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
                    "{role} {q}"
                ),
                _ => assert_eq!(
                    resp["errors"][0]["extensions"]["code"], "FORBIDDEN",
                    "{role} {q}"
                ),
            }
        }
    }
    // Only the admin's two creations were written.
    assert_eq!(user_total(&app).await, before + 2);
    // Deletion: refused for everyone but the admin, and nothing deleted.
    for (role, token) in tokens.iter().filter(|(r, _)| *r != "admin") {
        let resp = app
            .delete(token.as_deref(), &format!("/api/v1/users/{target}"))
            .await;
        let gql = app
            .gql_as(
                token.as_deref(),
                &format!("mutation {{ deleteUser(id: \"{target}\") }}"),
                Value::Null,
            )
            .await;
        match *role {
            "anonymous" => {
                assert_eq!(resp.status(), 401);
                assert_gql_error(&gql, "UNAUTHENTICATED");
            }
            _ => {
                assert_eq!(resp.status(), 403);
                assert_gql_error(&gql, "FORBIDDEN");
            }
        }
    }
    assert_eq!(user_total(&app).await, before + 2);
    let admin = app.admin_token().await;
    assert_eq!(
        app.delete(Some(&admin), &format!("/api/v1/users/{target}"))
            .await
            .status(),
        204
    );
    assert_eq!(
        app.get_as(&admin, &format!("/api/v1/users/{target}"))
            .await
            .status(),
        404
    );
}

async fn demotion_deactivation_and_deletion_take_effect_at_once(app: TestApp) {
    let admin = app.admin_token().await;
    let (id, email, password) = app.create_user("admin").await;
    let token = app.token_of(&email, &password).await;
    let user = format!("/api/v1/users/{id}");
    assert_eq!(app.get_as(&token, "/api/v1/users").await.status(), 200);
    let demote = app
        .patch(Some(&admin), &user, json!({"role": "editor"}))
        .await;
    assert_eq!(demote.status(), 200);
    // A role change ends the user's sessions, now at once: the old admin
    // token is refused, and a new login carries the new role.
    let status = app.get_as(&token, "/api/v1/users").await.status();
    assert_eq!(status, 401, "the old admin token lost its rights");
    let token = app.token_of(&email, &password).await;
    let status = app.get_as(&token, "/api/v1/users").await.status();
    assert_eq!(status, 403, "an editor now");
    let off = app
        .patch(Some(&admin), &user, json!({"active": false}))
        .await;
    assert_eq!(off.status(), 200);
    let refused = (401, "Bearer error=\"invalid_token\"".to_string());
    assert_eq!(me_status(&app, &token).await, refused);

    let (id2, token2) = app.token_for("editor").await;
    let deleted = app
        .delete(Some(&admin), &format!("/api/v1/users/{id2}"))
        .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(me_status(&app, &token2).await.0, 401);
}

async fn the_last_admin_cannot_be_removed_or_demoted(app: TestApp) {
    let admin = app.admin_token().await;
    let me = format!("/api/v1/users/{}", admin_id(&app).await);
    let resp = app.delete(Some(&admin), &me).await;
    assert_problem(resp, 409, "conflict").await;
    let resp = app
        .patch(Some(&admin), &me, json!({"role": "editor"}))
        .await;
    assert_problem(resp, 409, "conflict").await;
    assert_eq!(me_status(&app, &admin).await.0, 200);
}

async fn passwords_change_only_with_the_current_one_and_end_sessions(app: TestApp) {
    let (_, email, password) = app.create_user("author").await;
    let tokens = app.login(&email, &password).await;
    let access = Some(tokens["access_token"].as_str().unwrap());
    let change =
        |current: &str| json!({"current_password": current, "new_password": "a brand new one"});
    let path = "/api/v1/users/me/password";
    let wrong = app.post(access, path, change("not it")).await;
    let body = assert_problem(wrong, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "current_password");
    let ok = app.post(access, path, change(&password)).await;
    assert_eq!(ok.status(), 204);
    let refused = app.refresh(&tokens["refresh_token"]).await;
    assert_problem(refused, 401, "unauthorized").await;
    app.login(&email, "a brand new one").await;
    let old = app.try_login(&email, &password).await;
    assert_eq!(old.status(), 401);
}

async fn user_writes_validate_every_field_and_write_nothing_when_bad(app: TestApp) {
    let admin = app.admin_token().await;
    let before = user_total(&app).await;
    let users = "/api/v1/users";
    let missing = app
        .post(Some(&admin), users, json!({"display_name": "x"}))
        .await;
    let body = assert_problem(missing, 422, "validation_failed").await;
    assert_eq!(problem_fields(&body), ["email", "password", "role"]);
    for (user, field) in [
        (
            json!({"email": "a@b.c", "password": "long enough", "role": "author", "is_god": true}),
            "is_god",
        ),
        (
            json!({"email": "a@b.c", "password": "long enough", "role": "overlord"}),
            "role",
        ),
    ] {
        let resp = app.post(Some(&admin), users, user).await;
        let problem = assert_problem(resp, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field);
    }
    let bad_email = json!({"email": "nope", "password": "short", "role": "author"});
    let bad_email = app.post(Some(&admin), users, bad_email).await;
    let body = assert_problem(bad_email, 422, "validation_failed").await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);
    let dup = json!({
        "email": ADMIN_EMAIL.to_uppercase(), "password": "long enough", "role": "author"
    });
    let dup = app.post(Some(&admin), users, dup).await;
    assert_problem(dup, 409, "conflict").await;
    let malformed = app
        .send_raw(
            "POST",
            users,
            Some(&admin),
            "application/json",
            "{\"email\":",
        )
        .await;
    assert_problem(malformed, 400, "bad_request").await;
    let not_json = app
        .send_raw("POST", users, Some(&admin), "text/plain", "email=a")
        .await;
    assert_problem(not_json, 415, "unsupported_media_type").await;
    let huge = send_oversized(&app, users, Some(&admin)).await;
    assert_problem(huge, 413, "payload_too_large").await;
    let create = "mutation { \
                  createUser(input: {email: \"nope\", password: \"short\", role: AUTHOR}) { id } }";
    let gql = app.gql_as(Some(&admin), create, Value::Null).await;
    assert_gql_error(&gql, "BAD_USER_INPUT");
    assert_eq!(problem_fields(&gql), ["email", "password"]);
    assert_eq!(user_total(&app).await, before);
}

async fn users_written_through_one_api_read_the_same_through_the_other(app: TestApp) {
    let admin = app.admin_token().await;
    let create = "mutation { createUser(input: {email: \"gql@example.test\", \
                  password: \"long enough\", displayName: \"Via GraphQL\", role: EDITOR}) { \
                  id email displayName role active } }";
    let made = app.gql_as(Some(&admin), create, Value::Null).await;
    let id = made["data"]["createUser"]["id"]
        .as_str()
        .expect("created")
        .to_string();
    let rest: Value = app
        .get_json_as(&admin, &format!("/api/v1/users/{id}"), 200)
        .await;
    assert_eq!(rest["email"], "gql@example.test");
    assert_eq!(rest["display_name"], "Via GraphQL");
    assert_eq!(rest["role"], "editor");
    assert_eq!(rest["active"], true);

    let user = json!({
        "email": "rest@example.test", "password": "long enough",
        "display_name": "Via REST", "role": "contributor"
    });
    let resp = app.post(Some(&admin), "/api/v1/users", user).await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let created: Value = resp.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/v1/users/{}", created["id"].as_str().unwrap())
    );
    let gql = app
        .gql_as(
            Some(&admin),
            &format!(
                "{{ user(id: \"{}\") {{ email displayName role }} }}",
                created["id"].as_str().unwrap()
            ),
            Value::Null,
        )
        .await;
    assert_eq!(
        gql["data"]["user"],
        json!({"email": "rest@example.test", "displayName": "Via REST", "role": "CONTRIBUTOR"})
    );
}

/// Behind a proxy at 127.0.0.1 (so a test picks its client address), with
/// eight failures an hour per account.
fn behind_a_proxy_eight_failures_an_hour(config: &mut Config) {
    config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    config.login_account_failures_per_hour = 8;
}

both_backends_with!(
    behind_a_proxy_eight_failures_an_hour,
    failed_logins_are_limited_per_address_and_per_account
);

async fn failed_logins_are_limited_per_address_and_per_account(app: TestApp) {
    let attempt = |ip: String, email: &'static str, password: &'static str| {
        let app = app.clone();
        async move {
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("x-forwarded-for", ip)
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    // Per account and address: five failures from one address, then even the
    // right password waits there...
    for _ in 0..5 {
        assert_eq!(
            attempt("203.0.113.1".into(), ADMIN_EMAIL, "wrong password")
                .await
                .status(),
            401
        );
    }
    let limited = attempt("203.0.113.1".into(), ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(limited.status(), 429);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    assert_problem(limited, 429, "rate_limited").await;
    // ...but not from anywhere else: nobody can lock the owner out.
    assert_eq!(
        attempt("203.0.113.99".into(), ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .status(),
        200
    );
    // Per account across addresses: after 8 failures from addresses that
    // never signed in to it, new addresses wait; the owner's does not.
    for i in 2..5 {
        assert_eq!(
            attempt(format!("203.0.113.{i}"), ADMIN_EMAIL, "wrong password")
                .await
                .status(),
            401
        );
    }
    let ceiling = attempt("203.0.113.50".into(), ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_problem(ceiling, 429, "rate_limited").await;
    assert_eq!(
        attempt("203.0.113.99".into(), ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .status(),
        200,
        "an address that signed in before is not held by the ceiling"
    );
    // Per address: five different (unknown) accounts from one address.
    for i in 0..5 {
        let email: &'static str = Box::leak(format!("nobody{i}@example.test").into_boxed_str());
        assert_eq!(
            attempt("198.51.100.7".into(), email, "x").await.status(),
            401
        );
    }
    assert_eq!(
        attempt("198.51.100.7".into(), "someone@example.test", "x")
            .await
            .status(),
        429
    );
    // Other addresses and accounts are unaffected.
    assert_eq!(
        attempt("198.51.100.8".into(), "someone@example.test", "x")
            .await
            .status(),
        401
    );
}

/// EdDSA keys from PEM files with rotation, and the HS/RS confusion attack:
/// a token "signed" with the public key as an HMAC secret must be refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eddsa_keys_rotate_and_refuse_hmac_signed_with_the_public_key() {
    with_database(Backend::Sqlite, eddsa_keys_rotate).await
}

/// Three servers in turn on one database, with the keys of each stage.
async fn eddsa_keys_rotate(url: String) {
    let dir = tempfile::tempdir().unwrap();
    let keygen = |name: &str| {
        let private = dir.path().join(format!("{name}.pem"));
        let public = dir.path().join(format!("{name}.pub.pem"));
        let ok = std::process::Command::new("openssl")
            .args(["genpkey", "-algorithm", "ed25519", "-out"])
            .arg(&private)
            .status()
            .unwrap()
            .success()
            && std::process::Command::new("openssl")
                .args(["pkey", "-pubout", "-in"])
                .arg(&private)
                .arg("-out")
                .arg(&public)
                .status()
                .unwrap()
                .success();
        assert!(ok, "openssl generates an ed25519 key");
        (private, public)
    };
    let (old_private, old_public) = keygen("k1");
    let (new_private, new_public) = keygen("k2");
    let eddsa = |private: &std::path::Path, kid: &str, publics: Vec<(&str, &std::path::Path)>| {
        let mut c = test_config(&url);
        c.jwt_algorithm = broadsheet::config::JwtAlgorithm::EdDsa;
        c.jwt_kid = kid.into();
        c.jwt_private_key_file = Some(private.to_path_buf());
        c.jwt_public_keys = publics
            .into_iter()
            .map(|(k, p)| (k.to_string(), p.to_path_buf()))
            .collect();
        c
    };
    let server = Server::start(eddsa(&old_private, "k1", vec![("k1", &old_public)])).await;
    let old_token = server.app.admin_token().await;
    assert_eq!(me_status(&server.app, &old_token).await.0, 200);
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(old_token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], "k1");
    let admin: Value = server
        .app
        .get_json_as(&old_token, "/api/v1/users/me", 200)
        .await;
    let confused = mint(
        json!({"alg": "HS256", "kid": "k1"}),
        claims_for(admin["id"].as_str().unwrap(), "admin", 0),
        &std::fs::read(&old_public).unwrap(),
    );
    assert_eq!(
        me_status(&server.app, &confused).await,
        (401, "Bearer error=\"invalid_token\"".into())
    );
    server.stop().await;

    // Rotate: sign with k2, still accept k1 tokens.
    let server = Server::start(eddsa(
        &new_private,
        "k2",
        vec![("k2", &new_public), ("k1", &old_public)],
    ))
    .await;
    assert_eq!(
        me_status(&server.app, &old_token).await.0,
        200,
        "a k1 token survives the rotation"
    );
    let new_token = server.app.admin_token().await;
    assert_eq!(me_status(&server.app, &new_token).await.0, 200);
    server.stop().await;
    // Retire k1.
    let server = Server::start(eddsa(&new_private, "k2", vec![("k2", &new_public)])).await;
    assert_eq!(
        me_status(&server.app, &old_token).await.0,
        401,
        "a retired key's tokens are refused"
    );
    assert_eq!(me_status(&server.app, &new_token).await.0, 200);
    server.stop().await;
}
