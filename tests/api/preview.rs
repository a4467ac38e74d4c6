//! Draft preview links (issue 11, part 1): a signed, expiring token reads
//! exactly one article, draft or scheduled, and nothing else.

use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{JWT_SECRET, TestApp, assert_gql_error, assert_problem},
};

async fn draft(app: &TestApp, token: &str, title: &str, extra: Value) -> (String, String) {
    let mut body =
        json!({"title": title, "body": format!("Draft text of {title}."), "status": "draft"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let resp = app.post(Some(token), "/api/v1/articles", body).await;
    assert_eq!(resp.status(), 201);
    let a: Value = resp.json().await.unwrap();
    (
        a["id"].as_str().unwrap().into(),
        a["slug"].as_str().unwrap().into(),
    )
}

async fn mint(app: &TestApp, token: &str, id: &str, body: Option<Value>) -> reqwest::Response {
    app.send(
        "POST",
        &format!("/api/v1/articles/{id}/preview-token"),
        Some(token),
        body,
    )
    .await
}

/// An HS256 token signed with the test secret, from raw claims.
fn forge(claims: Value) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let head = b64(br#"{"alg":"HS256","typ":"JWT","kid":"default"}"#);
    let body = b64(claims.to_string().as_bytes());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(JWT_SECRET.as_bytes()).unwrap();
    mac.update(format!("{head}.{body}").as_bytes());
    format!("{head}.{body}.{}", b64(&mac.finalize().into_bytes()))
}

both_backends!(
    a_preview_token_reads_exactly_its_draft_without_logging_in,
    bad_expired_or_tampered_tokens_are_401,
    a_scheduled_article_previews_too
);

async fn a_preview_token_reads_exactly_its_draft_without_logging_in(app: TestApp) {
    let admin = app.admin_token().await;
    let (id, slug) = draft(&app, &admin, "Unpublished scoop", json!({})).await;
    let (other, _) = draft(&app, &admin, "Another draft", json!({})).await;
    assert_eq!(
        app.get(&format!("/api/v1/articles/{slug}")).await.status(),
        404
    );

    let resp = mint(&app, &admin, &id, None).await;
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["cache-control"], "private, no-store");
    let minted: Value = resp.json().await.unwrap();
    let token = minted["token"].as_str().unwrap().to_string();
    let expires =
        chrono::DateTime::parse_from_rfc3339(minted["expires_at"].as_str().unwrap()).unwrap();
    let ttl = expires.timestamp() - chrono::Utc::now().timestamp();
    assert!((3590..=3600).contains(&ttl), "default one hour, got {ttl}");

    // By id and by slug, anonymously, never cacheable.
    for key in [id.as_str(), slug.as_str()] {
        let resp = app
            .get(&format!("/api/v1/articles/{key}?preview={token}"))
            .await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["cache-control"], "private, no-store");
        let a: Value = resp.json().await.unwrap();
        assert_eq!(a["title"], "Unpublished scoop");
        assert!(a.get("status").is_none() || a["status"] == "draft");
    }
    let path = minted["path"].as_str().unwrap();
    assert_eq!(app.get(path).await.status(), 200);
    // Current content: an edit shows at once.
    let resp = app
        .update_article(&admin, &id, json!({"title": "Scoop, revised"}))
        .await;
    assert_eq!(resp.status(), 200);
    let a = app
        .get_json(&format!("/api/v1/articles/{id}?preview={token}"), 200)
        .await;
    assert_eq!(a["title"], "Scoop, revised");
    // Nothing else: another article, lists, and the article without the token.
    assert_problem(
        app.get(&format!("/api/v1/articles/{other}?preview={token}"))
            .await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(
        app.get(&format!("/api/v1/articles/{id}")).await.status(),
        404
    );
    assert_eq!(
        app.get_json(&format!("/api/v1/articles?preview={token}"), 200)
            .await["meta"]["total"],
        0
    );
    assert_eq!(
        app.get_json(&format!("/api/v1/search?q=scoop&preview={token}"), 200)
            .await["meta"]["total"],
        0
    );
    // The token is no access token.
    let resp = app.get_as(&token, "/api/v1/users/me").await;
    assert_eq!(resp.status(), 401);

    // GraphQL: mint and read.
    let create = format!(
        "mutation {{ createPreviewToken(articleId: \"{other}\", ttl: 120) {{ token expiresAt }} }}"
    );
    let m = app.gql_as(Some(&admin), &create, Value::Null).await;
    let gtoken = m["data"]["createPreviewToken"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{m}"))
        .to_string();
    let q = "query($id: ID, $t: String) { article(id: $id, previewToken: $t) { title status } }";
    let r = app.gql(q, json!({"id": other, "t": gtoken})).await;
    assert_eq!(r["data"]["article"]["title"], "Another draft", "{r}");
    assert!(
        r["data"]["article"]["status"].is_null(),
        "private fields stay private: {r}"
    );
    let r = app.gql(q, json!({"id": id, "t": gtoken})).await;
    assert_gql_error(&r, "UNAUTHENTICATED");
    let resp = app
        .post(
            None,
            "/graphql",
            json!({"query": q, "variables": {"id": other, "t": gtoken}}),
        )
        .await;
    assert_eq!(resp.headers()["cache-control"], "private, no-store");
}

async fn bad_expired_or_tampered_tokens_are_401(app: TestApp) {
    let admin = app.admin_token().await;
    let (id, _) = draft(&app, &admin, "Guarded", json!({})).await;
    let minted: Value = mint(&app, &admin, &id, Some(json!({"ttl_seconds": 60})))
        .await
        .json()
        .await
        .unwrap();
    let token = minted["token"].as_str().unwrap();
    let mut tampered = token.to_string();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    let now = chrono::Utc::now().timestamp();
    let expired = forge(json!({
        "sub": id, "role": "preview", "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600,
        "iss": "broadsheet", "aud": "broadsheet:preview", "jti": "x"
    }));
    let wrong_audience = forge(json!({
        "sub": id, "role": "preview", "iat": now, "nbf": now, "exp": now + 600,
        "iss": "broadsheet", "aud": "broadsheet", "jti": "y"
    }));
    let access = app.admin_token().await;
    for bad in [
        tampered.as_str(),
        expired.as_str(),
        wrong_audience.as_str(),
        access.as_str(),
        "garbage",
        "",
    ] {
        let resp = app
            .get(&format!("/api/v1/articles/{id}?preview={bad}"))
            .await;
        if bad.is_empty() {
            assert_problem(resp, 401, "unauthorized").await;
            continue;
        }
        let body = assert_problem(resp, 401, "unauthorized").await;
        assert!(!body.to_string().contains("Guarded"));
    }
    // Bounds and permissions on minting.
    assert_problem(
        mint(&app, &admin, &id, Some(json!({"ttl_seconds": 5}))).await,
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        mint(&app, &admin, &id, Some(json!({"ttl": 5}))).await,
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.send(
            "POST",
            &format!("/api/v1/articles/{id}/preview-token"),
            None,
            None,
        )
        .await,
        401,
        "unauthorized",
    )
    .await;
    let (_, contributor) = app.token_for("contributor").await;
    assert_problem(mint(&app, &contributor, &id, None).await, 404, "not_found").await;
    assert_problem(
        mint(&app, &admin, "no-such-article", None).await,
        404,
        "not_found",
    )
    .await;
}

async fn a_scheduled_article_previews_too(app: TestApp) {
    let admin = app.admin_token().await;
    let (id, slug) = draft(
        &app,
        &admin,
        "Tomorrow's piece",
        json!({"status": "published", "published_at": "2099-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(
        app.get(&format!("/api/v1/articles/{slug}")).await.status(),
        404
    );
    let minted: Value = mint(&app, &admin, &slug, None).await.json().await.unwrap();
    assert_eq!(minted["article_id"], id.as_str());
    let a = app.get_json(minted["path"].as_str().unwrap(), 200).await;
    assert_eq!(a["title"], "Tomorrow's piece");
}

// ---------------------------------------------------------------- revocation (issue 24, finding 9)

async fn minted(app: &TestApp, token: &str, id: &str) -> String {
    let resp = mint(app, token, id, None).await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

async fn preview_status(app: &TestApp, id: &str, token: &str) -> u16 {
    app.get(&format!("/api/v1/articles/{id}?preview={token}"))
        .await
        .status()
        .as_u16()
}

async fn gql_preview_title(app: &TestApp, id: &str, token: &str) -> Value {
    app.gql(
        "query($id: ID, $t: String) { article(id: $id, previewToken: $t) { title } }",
        json!({"id": id, "t": token}),
    )
    .await
}

both_backends!(
    finding_9_revoking_an_articles_preview_links_refuses_every_earlier_one,
    finding_9_preview_links_die_with_their_makers_account_and_their_article
);

async fn finding_9_revoking_an_articles_preview_links_refuses_every_earlier_one(app: TestApp) {
    let admin = app.admin_token().await;
    let (id, slug) = draft(&app, &admin, "Leaked draft", json!({})).await;
    let (other, _) = draft(&app, &admin, "Untouched draft", json!({})).await;
    let first = minted(&app, &admin, &id).await;
    let second = minted(&app, &admin, &id).await;
    let kept = minted(&app, &admin, &other).await;
    assert_eq!(preview_status(&app, &id, &first).await, 200);

    // Only staff who may mint may revoke.
    assert_problem(
        app.delete(None, &format!("/api/v1/articles/{id}/preview-token"))
            .await,
        401,
        "unauthorized",
    )
    .await;
    let (_, contributor) = app.token_for("contributor").await;
    assert_problem(
        app.delete(
            Some(&contributor),
            &format!("/api/v1/articles/{id}/preview-token"),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(preview_status(&app, &id, &first).await, 200);

    let resp = app
        .delete(
            Some(&admin),
            &format!("/api/v1/articles/{slug}/preview-token"),
        )
        .await;
    assert_eq!(resp.status(), 204);
    for token in [&first, &second] {
        let body = assert_problem(
            app.get(&format!("/api/v1/articles/{id}?preview={token}"))
                .await,
            401,
            "unauthorized",
        )
        .await;
        assert!(!body.to_string().contains("Leaked"), "{body}");
        let body = gql_preview_title(&app, &id, token).await;
        assert_gql_error(&body, "UNAUTHENTICATED");
    }
    // Another article's links stand; a link minted afterwards works.
    assert_eq!(preview_status(&app, &other, &kept).await, 200);
    let third = minted(&app, &admin, &id).await;
    assert_eq!(preview_status(&app, &id, &third).await, 200);

    // The GraphQL mutation does the same.
    let body = app
        .gql_as(
            Some(&admin),
            "mutation($id: ID!) { revokePreviewTokens(articleId: $id) }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(body["data"]["revokePreviewTokens"], true, "{body}");
    assert_eq!(preview_status(&app, &id, &third).await, 401);
    let body = app
        .gql_as(
            Some(&contributor),
            "mutation($id: ID!) { revokePreviewTokens(articleId: $id) }",
            json!({"id": id}),
        )
        .await;
    assert_gql_error(&body, "NOT_FOUND");
    assert_eq!(preview_status(&app, &other, &kept).await, 200);
}

async fn finding_9_preview_links_die_with_their_makers_account_and_their_article(app: TestApp) {
    let admin = app.admin_token().await;
    let (editor_id, editor) = app.token_for("editor").await;
    let (id, _) = draft(&app, &admin, "Editor's draft", json!({})).await;
    let by_editor = minted(&app, &editor, &id).await;
    let by_admin = minted(&app, &admin, &id).await;
    assert_eq!(preview_status(&app, &id, &by_editor).await, 200);

    // The editor is deactivated: their links die, the admin's live.
    let resp = app
        .patch(
            Some(&admin),
            &format!("/api/v1/users/{editor_id}"),
            json!({"active": false}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_problem(
        app.get(&format!("/api/v1/articles/{id}?preview={by_editor}"))
            .await,
        401,
        "unauthorized",
    )
    .await;
    let body = gql_preview_title(&app, &id, &by_editor).await;
    assert_gql_error(&body, "UNAUTHENTICATED");
    // Reactivated, the old links stay dead (the session version moved on).
    let resp = app
        .patch(
            Some(&admin),
            &format!("/api/v1/users/{editor_id}"),
            json!({"active": true}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(preview_status(&app, &id, &by_editor).await, 401);
    assert_eq!(preview_status(&app, &id, &by_admin).await, 200);

    // The article is deleted: every link to it is refused, not served.
    let resp = app
        .delete(Some(&admin), &format!("/api/v1/articles/{id}"))
        .await;
    assert_eq!(resp.status(), 204);
    assert_problem(
        app.get(&format!("/api/v1/articles/{id}?preview={by_admin}"))
            .await,
        401,
        "unauthorized",
    )
    .await;
    let body = gql_preview_title(&app, &id, &by_admin).await;
    assert_gql_error(&body, "UNAUTHENTICATED");
}
