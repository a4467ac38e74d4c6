//! Hostile cases: bodies, comments and single-line text (issue 24: 3, 7, 9, 10).
//! Nesting and size are refused before anything is rendered or written;
//! control characters never reach a feed; invisible-only comments are empty;
//! trust as a known commenter needs proof, never a typed email.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{As, Body, Case};
use crate::{both_backends, helpers::TestApp};

const ARTICLES: &str = "/api/v1/articles";
const COMMENTS: &str = "/api/v1/articles/{article}/comments";

fn article(name: &'static str, body: Value) -> Case {
    Case::send(
        name,
        "POST",
        ARTICLES,
        As::Admin,
        Body::Json(body),
        422,
        "validation_failed",
    )
}

fn admin(name: &'static str, method: &'static str, path: &str, body: Value) -> Case {
    Case::send(
        name,
        method,
        path,
        As::Admin,
        Body::Json(body),
        422,
        "validation_failed",
    )
}

fn comment(name: &'static str, body: Value) -> Case {
    Case::send(
        name,
        "POST",
        COMMENTS,
        As::Anonymous,
        Body::Json(body),
        422,
        "validation_failed",
    )
}

fn gql_admin(name: &'static str, query: &str, variables: Value) -> Case {
    Case::send(
        name,
        "POST",
        "/graphql",
        As::Admin,
        Body::Graphql(query.into(), variables),
        200,
        "BAD_USER_INPUT",
    )
}

/// A comment from `name` (at r@example.org) saying `body`.
fn said_by(name: &str, body: &str) -> Value {
    json!({"author_name": name, "author_email": "r@example.org", "body": body})
}

/// Submitting a comment over GraphQL: `$a` the article, `$b` the body.
const SUBMIT: &str = "mutation($a: String!, $b: String!) { submitComment(input: \
                      {articleId: $a, authorName: \"R\", authorEmail: \"r@example.org\", \
                      body: $b}) { status } }";

/// What only invisible characters look like: zero-width space, joiners,
/// BOM, bidi marks and isolates, word joiner, NBSP, ideographic space.
const INVISIBLE: &str =
    "\u{200B}\u{200C}\u{200D}\u{FEFF}\u{200E}\u{200F}\u{202E}\u{2066}\u{2060}\u{A0}\u{3000} \n\t";

pub fn cases() -> Vec<Case> {
    let deep_quotes = "> ".repeat(100_000) + "x";
    let deep_lists = "- ".repeat(10_000) + "x";
    let deep_ordered = "1. ".repeat(10_000) + "x";
    let deep_html = "<div>".repeat(50_000) + "x";
    let deep_spans = "<span><em>".repeat(5_000) + "x";
    let over_size = "word ".repeat(110_000);
    let create = "mutation($i: ArticleInput!) { createArticle(input: $i) { id } }";
    let update =
        "mutation($i: ArticleInput!) { updateArticle(id: \"{article}\", input: $i) { id } }";
    vec![
        // Finding 3: nesting and size, refused before rendering.
        article(
            "an article of 100,000 nested quotes on one line",
            json!({"title": "Deep", "body": deep_quotes}),
        ),
        article(
            "an article of 10,000 nested list items",
            json!({"title": "Deep", "body": deep_lists}),
        ),
        article(
            "an article of 10,000 nested ordered lists",
            json!({"title": "Deep", "body": deep_ordered}),
        ),
        article(
            "an HTML article of 50,000 nested divs",
            json!({"title": "Deep", "body": deep_html, "body_format": "html"}),
        ),
        article(
            "an HTML article of 10,000 nested inline elements",
            json!({"title": "Deep", "body": deep_spans, "body_format": "html"}),
        ),
        article(
            "Markdown holding 50,000 nested raw divs",
            json!({"title": "Deep", "body": "<div>".repeat(50_000)}),
        ),
        article(
            "an article body over the size limit",
            json!({"title": "Large", "body": over_size}),
        ),
        article(
            "a body that renders to over four times its size in HTML",
            json!({"title": "Large", "body": ("> ".repeat(60) + "x\n\n").repeat(3_000)}),
        ),
        admin(
            "an update to 100,000 nested quotes",
            "PATCH",
            "/api/v1/articles/{article}",
            json!({"body": "> ".repeat(100_000)}),
        ),
        admin(
            "an update to 50,000 nested divs",
            "PATCH",
            "/api/v1/articles/{article}",
            json!({"body": "<div>".repeat(50_000), "body_format": "html"}),
        ),
        gql_admin(
            "createArticle with 100,000 nested quotes",
            create,
            json!({"i": {"title": "Deep", "body": "> ".repeat(100_000)}}),
        ),
        gql_admin(
            "updateArticle with 50,000 nested divs",
            update,
            json!({"i": {"body": "<div>".repeat(50_000), "bodyFormat": "HTML"}}),
        ),
        // Finding 9: control characters in single-line text (and XML-forbidden ones anywhere).
        article(
            "a title with a control character",
            json!({"title": "Bad\u{1b}[31m title", "body": "x"}),
        ),
        article(
            "a title with a line break",
            json!({"title": "Two\nlines", "body": "x"}),
        ),
        article(
            "a title with a unit separator",
            json!({"title": "us\u{1f}", "body": "x"}),
        ),
        article(
            "an excerpt with a control character",
            json!({"title": "Fine", "excerpt": "bell\u{7}", "body": "x"}),
        ),
        article(
            "a standfirst with a form feed",
            json!({"title": "Fine", "standfirst": "page\u{c}break", "body": "x"}),
        ),
        article(
            "an image alt text with a vertical tab",
            json!({"title": "Fine", "feature_image_alt": "a\u{b}b", "body": "x"}),
        ),
        article(
            "a body with a character XML forbids",
            json!({"title": "Fine", "body": "text \u{1} text"}),
        ),
        admin(
            "a retitle with a control character",
            "PATCH",
            "/api/v1/articles/{article}",
            json!({"title": "Re\u{8}titled"}),
        ),
        admin(
            "a tag name with a control character",
            "POST",
            "/api/v1/tags",
            json!({"name": "tag\u{1f}"}),
        ),
        admin(
            "an author name with a line break",
            "POST",
            "/api/v1/authors",
            json!({"name": "Ann\r\nOther"}),
        ),
        admin(
            "an author title with a control character",
            "POST",
            "/api/v1/authors",
            json!({"name": "Ann", "title": "Editor\u{90}"}),
        ),
        admin(
            "an author bio with a character XML forbids",
            "POST",
            "/api/v1/authors",
            json!({"name": "Ann", "bio": "bio\u{3}"}),
        ),
        admin(
            "a source description with a character XML forbids",
            "POST",
            "/api/v1/sources",
            json!({"name": "Outlet", "description": "d\u{2}"}),
        ),
        admin(
            "a source name with a control character",
            "POST",
            "/api/v1/sources",
            json!({"name": "Out\u{7f}let"}),
        ),
        gql_admin(
            "createArticle with a control character in the title",
            create,
            json!({"i": {"title": "Bad\u{1}", "body": "x"}}),
        ),
        gql_admin(
            "createTag with a control character",
            "mutation { createTag(input: {name: \"t\\u0001\"}) { id } }",
            json!(null),
        ),
        comment(
            "a comment author name with a control character",
            said_by("Rea\u{1b}der", "Hello."),
        ),
        comment(
            "a comment author name with a line break",
            said_by("Rea\nder", "Hello."),
        ),
        comment(
            "a comment body with a character XML forbids",
            said_by("Reader", "Hello \u{1}"),
        ),
        // Finding 10: comments of invisible characters only are empty.
        comment(
            "a comment of zero-width and bidi characters only",
            said_by("Reader", INVISIBLE),
        ),
        comment(
            "a comment of one zero-width space",
            said_by("Reader", "\u{200B}"),
        ),
        comment(
            "a comment of NBSPs",
            said_by("Reader", "\u{A0}\u{A0}\u{A0}"),
        ),
        comment(
            "a comment author name of invisible characters",
            said_by("\u{200B}\u{FEFF}", "Hello."),
        ),
        Case::gql(
            "submitComment of invisible characters only",
            SUBMIT,
            json!({"a": "{article}", "b": INVISIBLE}),
            200,
            "BAD_USER_INPUT",
        ),
    ]
}

/// An article by the admin: (id, slug).
async fn published(app: &TestApp, admin: &str, fields: Value) -> (String, String) {
    let made = app.create_article(admin, fields).await;
    (made.id, made.slug)
}

/// A body near the size limit that nests as deep as allowed and is costly
/// to render (about a second in a debug build): HTML of 60 nested `<div>`s
/// over and over.
fn heavy_body() -> String {
    let unit = "<div>".repeat(60) + "x" + &"</div>".repeat(60);
    unit.repeat(500 * 1024 / unit.len())
}

both_backends!(
    finding_3_a_comment_answers_promptly_while_huge_bodies_render,
    finding_7_an_email_alone_earns_no_trust_and_no_answer_tells_known_from_unknown,
    finding_9_control_characters_never_reach_a_feed,
    finding_9_a_revision_diff_of_reordered_bodies_is_bounded,
    finding_10_comments_of_invisible_characters_only_are_empty_on_both_apis
);

async fn finding_3_a_comment_answers_promptly_while_huge_bodies_render(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, slug) = published(
        &app,
        &admin,
        json!({"title": "Open for comments", "status": "published"}),
    )
    .await;
    let body = heavy_body();
    // As many huge renders as the machine has cores, at once...
    let started = Instant::now();
    let mut big = Vec::new();
    for n in 0..2 {
        let app = app.clone();
        let (admin, body) = (admin.clone(), body.clone());
        big.push(tokio::spawn(async move {
            let resp = app
                .post(
                    Some(&admin),
                    ARTICLES,
                    json!({"title": format!("Huge {n}"), "body": body, "body_format": "html"}),
                )
                .await;
            assert_eq!(resp.status(), 201, "a maximum-size body is accepted");
            started.elapsed()
        }));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    // ...and a comment meanwhile: it waits for none of them.
    let asked = Instant::now();
    let resp = app
        .post(
            None,
            &format!("/api/v1/articles/{slug}/comments"),
            json!({
            "author_name": "Reader", "author_email": "reader@example.org", "body": "Quick one."}),
        )
        .await;
    let answered = started.elapsed();
    let took = asked.elapsed();
    assert_eq!(resp.status(), 202);
    let mut finished = Vec::new();
    for b in big {
        finished.push(b.await.unwrap());
    }
    eprintln!(
        "finding 3: comment answered in {took:?}; \
         the huge writes finished at {finished:?} (comment at {answered:?})"
    );
    let first_big = finished.iter().min().unwrap();
    assert!(
        answered < *first_big,
        "the comment ({answered:?}) waited for a huge render (first done at {first_big:?})"
    );
}

async fn finding_7_an_email_alone_earns_no_trust_and_no_answer_tells_known_from_unknown(
    app: TestApp,
) {
    let admin = app.admin_token().await;
    let (_, slug) = published(
        &app,
        &admin,
        json!({"title": "Trust", "status": "published"}),
    )
    .await;
    let path = format!("/api/v1/articles/{slug}/comments");
    let say = |email: &str, text: &str, token: Option<&Value>| {
        let mut v = json!({"author_name": "Someone", "author_email": email, "body": text});
        if let Some(t) = token {
            v["commenter_token"] = t.clone();
        }
        v
    };
    // The real commenter: held, then approved; they keep their token.
    let first = app
        .post(None, &path, say("known@example.org", "First.", None))
        .await;
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    let token = first["commenter_token"].clone();
    assert!(token.is_string(), "{first}");
    let approved = app
        .patch(
            Some(&admin),
            &format!("/api/v1/comments/{}", first["id"].as_str().unwrap()),
            json!({"status": "approved"}),
        )
        .await;
    assert_eq!(approved.status(), 200);

    // Someone typing the known email, and someone typing a new one: the
    // same answer (status, fields), both held.
    let mut shapes = Vec::new();
    for email in ["known@example.org", "never-seen@example.org"] {
        let resp = app
            .post(None, &path, say(email, "Typed an email.", None))
            .await;
        assert_eq!(resp.status(), 202, "{email} without proof is held");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["status"], "pending");
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        shapes.push(keys);
        // A repeat answers 409 alike for both.
        let dup = app
            .post(None, &path, say(email, "Typed an email.", None))
            .await;
        assert_eq!(dup.status(), 409, "{email}");
    }
    assert_eq!(shapes[0], shapes[1]);

    // A token proves nothing for another address, nor when forged.
    let other = app
        .post(
            None,
            &path,
            say("someone-else@example.org", "Borrowed token.", Some(&token)),
        )
        .await;
    assert_eq!(other.status(), 202);
    let forged = json!(format!("{}x", token.as_str().unwrap()));
    let forged = app
        .post(
            None,
            &path,
            say("known@example.org", "Forged token.", Some(&forged)),
        )
        .await;
    assert_eq!(forged.status(), 202);
    // A token of a comment still pending proves nothing either.
    let pending: Value = app
        .post(None, &path, say("new@example.org", "Waiting.", None))
        .await
        .json()
        .await
        .unwrap();
    let waits = app
        .post(
            None,
            &path,
            say(
                "new@example.org",
                "Still waiting.",
                Some(&pending["commenter_token"]),
            ),
        )
        .await;
    assert_eq!(waits.status(), 202);

    // The holder of the token is trusted, on both APIs.
    let trusted = app
        .post(
            None,
            &path,
            say("known@example.org", "With proof.", Some(&token)),
        )
        .await;
    assert_eq!(trusted.status(), 201);
    let gql = app
        .gql(
            "mutation($a: String!, $t: String) { submitComment(input: {articleId: $a, \
             authorName: \"K\", authorEmail: \"Known@Example.org\", body: \"Via GraphQL.\", \
             commenterToken: $t}) { status commenterToken } }",
            json!({"a": slug, "t": token}),
        )
        .await;
    assert_eq!(gql["data"]["submitComment"]["status"], "APPROVED", "{gql}");
    assert!(gql["data"]["submitComment"]["commenterToken"].is_string());
    let gql = app
        .gql(
            "mutation($a: String!) { submitComment(input: {articleId: $a, authorName: \"K\", \
             authorEmail: \"known@example.org\", body: \"No proof via GraphQL.\"}) { status } }",
            json!({"a": slug}),
        )
        .await;
    assert_eq!(gql["data"]["submitComment"]["status"], "PENDING", "{gql}");
}

async fn finding_9_control_characters_never_reach_a_feed(app: TestApp) {
    let admin = app.admin_token().await;
    let (id, _) = published(
        &app,
        &admin,
        json!({"title": "Clean title", "body": "Body.", "status": "published"}),
    )
    .await;
    // A row written before input refused control characters.
    use sea_orm::ConnectionTrait;
    let db = &app.state.db;
    let sql = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            "UPDATE articles SET title = $1, body_html = $2 WHERE id = $3"
        }
        _ => "UPDATE articles SET title = ?, body_html = ? WHERE id = ?",
    };
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [
            "Old\u{1b}[1m row\u{b}".into(),
            "<p>bad\u{1}\u{c}body</p>".into(),
            id.clone().into(),
        ],
    ))
    .await
    .unwrap();
    app.state.response_cache.invalidate();
    for feed in ["/feeds/rss.xml", "/feeds/atom.xml"] {
        let resp = app.get(feed).await;
        assert_eq!(resp.status(), 200);
        let text = resp.text().await.unwrap();
        roxmltree::Document::parse(&text)
            .unwrap_or_else(|e| panic!("{feed} is not well-formed XML: {e}"));
        assert!(text.contains("Old[1m row"), "{feed}");
    }
}

async fn finding_9_a_revision_diff_of_reordered_bodies_is_bounded(app: TestApp) {
    let admin = app.admin_token().await;
    let lines: Vec<String> = (0..20_000).map(|i| format!("line {i}")).collect();
    let (id, _) = published(
        &app,
        &admin,
        json!({"title": "Long", "body": lines.join("\n")}),
    )
    .await;
    let reordered: Vec<&str> = lines.iter().rev().map(String::as_str).collect();
    let resp = app
        .patch(
            Some(&admin),
            &format!("{ARTICLES}/{id}"),
            json!({"body": reordered.join("\n")}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let revisions = app
        .get_json_as(&admin, &format!("{ARTICLES}/{id}/revisions"), 200)
        .await;
    let rev = revisions["data"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{revisions}"))
        .to_string();
    let diff = app
        .get_as(&admin, &format!("{ARTICLES}/{id}/revisions/{rev}/diff"))
        .await;
    assert_eq!(diff.status(), 200);
    let diff: Value = diff.json().await.unwrap();
    let text = diff["diff"].as_str().unwrap();
    // Over the bound: one replacement, never a line-by-line comparison.
    assert!(
        text.contains("shown as one replacement"),
        "{}",
        &text[..200.min(text.len())]
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with('-') && !l.starts_with("---"))
            .count(),
        20_000
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
            .count(),
        20_000
    );
}

async fn finding_10_comments_of_invisible_characters_only_are_empty_on_both_apis(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, slug) = published(
        &app,
        &admin,
        json!({"title": "Invisible", "status": "published"}),
    )
    .await;
    for body in [
        INVISIBLE,
        "\u{200B}\u{200B}",
        "\u{FEFF}",
        "\u{2060}\u{180E}\u{115F}",
    ] {
        let resp = app
            .post(
                None,
                &format!("/api/v1/articles/{slug}/comments"),
                json!({
                "author_name": "Reader", "author_email": "r@example.org", "body": body}),
            )
            .await;
        assert_eq!(resp.status(), 422, "{body:?}");
        let gql = app.gql(SUBMIT, json!({"a": slug, "b": body})).await;
        assert_eq!(
            gql["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body:?}: {gql}"
        );
    }
    let queue: Value = app
        .get_json_as(&admin, "/api/v1/comments?status=any", 200)
        .await;
    assert_eq!(queue["meta"]["total"], 0);
    // Moderators cannot blank one either.
    let ok: Value = app
        .post(
            None,
            &format!("/api/v1/articles/{slug}/comments"),
            json!({
            "author_name": "Reader", "author_email": "r@example.org", "body": "Visible."}),
        )
        .await
        .json()
        .await
        .unwrap();
    let edit = app
        .patch(
            Some(&admin),
            &format!("/api/v1/comments/{}", ok["id"].as_str().unwrap()),
            json!({"body": "\u{200B}"}),
        )
        .await;
    assert_eq!(edit.status(), 422);
}
