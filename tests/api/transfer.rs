//! Moving content: `import wordpress` (a hand-written WXR export in the
//! shape WordPress writes), bad input and its exit codes, and the lossless
//! JSON export / import, round-tripped from SQLite to PostgreSQL.

use std::{path::Path, process::Output};

use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{ADMIN_EMAIL, Backend, Server, TestApp, run, run_cli, test_config, with_database},
};

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// The line of the `<item>` holding `<wp:post_id>{post_id}`.
fn item_line(file: &str, post_id: u32) -> usize {
    let text = std::fs::read_to_string(fixture(file)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(&format!("<wp:post_id>{post_id}</wp:post_id>")))
        .unwrap();
    (0..=at)
        .rev()
        .find(|&i| lines[i].trim() == "<item>")
        .unwrap()
        + 1
}

fn import_wordpress(app: &TestApp, file: &str, extra: &[&str]) -> Output {
    let path = fixture(file);
    let mut args = vec!["import", "wordpress", path.as_str()];
    args.extend_from_slice(extra);
    app.cli(&args)
}

/// Staff view of every comment on an article, oldest first.
async fn staff_comments(app: &TestApp, admin: &str, slug: &str) -> Vec<Value> {
    let resp = app
        .get_as(
            admin,
            &format!("/api/v1/comments?status=any&article={slug}&per_page=100"),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let mut list = body["data"].as_array().unwrap().clone();
    list.sort_by_key(|c| c["created_at"].as_str().unwrap().to_string());
    list
}

/// `broadsheet export` into `dir/name`, parsed, `exported_at` removed.
fn export(database_url: &str, dir: &Path, name: &str, extra: &[&str]) -> Value {
    let path = dir.join(name);
    let path = path.to_str().unwrap();
    let mut args = vec!["export", path];
    args.extend_from_slice(extra);
    let out = run_cli(database_url, &args, &[], None);
    assert!(out.status.success(), "export: {}", stderr(&out));
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(doc["format"], "broadsheet-export");
    assert_eq!(doc["version"], 1);
    doc.as_object_mut().unwrap().remove("exported_at");
    doc
}

const MAP: [&str; 2] = ["--source-map", "CGTN=CGTN"];

both_backends!(
    a_wordpress_export_imports_exactly_and_a_second_import_changes_nothing,
    a_changed_post_is_updated_in_place_on_reimport,
    bad_items_are_reported_with_their_lines_and_the_good_ones_imported,
    a_json_file_of_another_version_or_into_a_full_database_is_refused
);

async fn a_wordpress_export_imports_exactly_and_a_second_import_changes_nothing(app: TestApp) {
    let out = import_wordpress(&app, "wordpress.xml", &MAP);
    assert_eq!(
        code(&out),
        0,
        "stdout: {}\nstderr: {}",
        stdout(&out),
        stderr(&out)
    );
    let summary = stdout(&out);
    assert_eq!(summary.lines().count(), 1, "{summary}");
    assert!(
        summary.contains("articles 4 created, 0 updated, 0 unchanged"),
        "{summary}"
    );
    assert!(
        summary.contains("comments 5 created, 0 updated, 0 unchanged"),
        "{summary}"
    );
    assert!(summary.contains("authors 2 created"), "{summary}");
    assert!(summary.contains("tags 3 created"), "{summary}");
    assert!(summary.contains("sources 1 created"), "{summary}");
    assert!(summary.contains("1 pages are not imported"), "{summary}");
    assert!(
        summary.contains("1 attachments (media files) are not imported"),
        "{summary}"
    );
    assert!(
        summary.contains("1 pingbacks are not imported"),
        "{summary}"
    );
    assert!(summary.contains("failed 0"), "{summary}");
    let log = stderr(&out);
    assert!(
        log.contains(&format!(
            "skipped: line {}: page 104 \"About us\": pages are not imported",
            item_line("wordpress.xml", 104)
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "skipped: line {}: comment 16: pingbacks are not imported",
            item_line("wordpress.xml", 101)
        )),
        "{log}"
    );

    // The public sees the one published, due post.
    let list = app.get_json("/api/v1/articles", 200).await;
    assert_eq!(list["meta"]["total"], 1, "{list}");
    let a = app
        .get_json("/api/v1/articles/partnership-as-a-model", 200)
        .await;
    assert_eq!(a["title"], "Partnership as a “model” for cooperation");
    assert_eq!(a["published_at"], "2021-12-17T09:00:00Z");
    assert_eq!(
        a["updated_at"], "2021-12-18T00:00:00Z",
        "WordPress's post_modified_gmt"
    );
    assert_eq!(a["excerpt"], "A partnership described as a “model”.");
    assert_eq!(
        a["body_html"],
        "<p>Leaders of two neighbouring countries met by video link and called their \
         relationship a “model” for this century.</p>\n\
         <p>It wasn’t a reaction to pressure, they said.<br>\n\
         Trade has grown every year since 2001.</p>\n\
         <h2>What comes next</h2>\n\
         <p>Cross-border projects — a cable car, a bridge — cut journeys to minutes.</p>"
    );
    assert_eq!(a["authors"].as_array().unwrap().len(), 1);
    assert_eq!(a["authors"][0]["name"], "Lin Jones");
    assert_eq!(
        a["source"]["name"], "CGTN",
        "a CGTN-category post is a cross-post: {a}"
    );
    assert_eq!(
        a["canonical_url"],
        "https://news.cgtn.com/news/partnership-model"
    );
    let tags: Vec<&str> = a["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["multipolarity", "china-russia-relations"]);
    assert_eq!(a["comment_count"], 3);
    assert_eq!(
        app.get("/api/v1/articles/about-us").await.status(),
        404,
        "pages are skipped"
    );
    assert_eq!(
        app.get("/api/v1/articles/cable-car").await.status(),
        404,
        "attachments are skipped"
    );
    assert_eq!(
        app.get("/api/v1/articles/a-scheduled-piece").await.status(),
        404,
        "scheduled is not public yet"
    );

    // Threads: 11 ← 12 ← 13, in order, public fields only.
    let public = app
        .get_json("/api/v1/articles/partnership-as-a-model/comments", 200)
        .await;
    let c = public["data"].as_array().unwrap();
    assert_eq!(c.len(), 3, "{public}");
    let by_name = |n: &str| c.iter().find(|x| x["author_name"] == n).unwrap().clone();
    let (ana, ben, chloe) = (by_name("Ana Reader"), by_name("Ben"), by_name("Chloé"));
    assert_eq!(ana["depth"], 0);
    assert!(ana["parent_id"].is_null());
    assert_eq!(ben["parent_id"], ana["id"]);
    assert_eq!(ben["depth"], 1);
    assert_eq!(chloe["parent_id"], ben["id"]);
    assert_eq!(chloe["depth"], 2);
    assert_eq!(ana["created_at"], "2021-12-17T10:00:00Z");
    assert_eq!(ana["author_url"], "https://ana.example");
    assert!(
        ana["body_html"]
            .as_str()
            .unwrap()
            .contains("Thank you — a “great” piece."),
        "{ana}"
    );
    assert!(!public.to_string().contains("ana@example.org"));

    // Staff see the spam and the held comment, with emails and addresses.
    let admin = app.admin_token().await;
    let all = staff_comments(&app, &admin, "partnership-as-a-model").await;
    let statuses: Vec<(&str, &str)> = all
        .iter()
        .map(|c| {
            (
                c["author_name"].as_str().unwrap(),
                c["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("Ana Reader", "approved"),
            ("Ben", "approved"),
            ("Chloé", "approved"),
            ("Cheap Watches", "spam"),
            ("Dev Held", "pending")
        ]
    );
    assert_eq!(all[4]["author_email"], "held@example.org");
    assert_eq!(all[4]["ip"], "203.0.113.8");
    assert_eq!(all[0]["author_email"], "ana@example.org");

    // Drafts: WordPress's private and draft posts; slug made from the title
    // when WordPress had none.
    let draft = app
        .get_as(&admin, "/api/v1/articles/cafe-culture-in-harbin")
        .await;
    assert_eq!(draft.status(), 200);
    let draft: Value = draft.json().await.unwrap();
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["authors"][0]["name"], "Tomás Park");
    assert_eq!(
        draft["body_html"],
        "<p>A draft about cafés, not yet finished.</p>"
    );
    assert_eq!(draft["tags"][0]["slug"], "analysis");
    let private: Value = app
        .get_json_as(&admin, "/api/v1/articles/notes-for-the-team", 200)
        .await;
    assert_eq!(private["status"], "draft");
    let scheduled: Value = app
        .get_json_as(&admin, "/api/v1/articles/a-scheduled-piece", 200)
        .await;
    assert_eq!(scheduled["status"], "published");
    assert_eq!(scheduled["published_at"], "2031-01-01T08:00:00Z");

    // GraphQL reads the same.
    let q = "{ article(slug: \"partnership-as-a-model\") { \
             title source { name } authors { name } } }";
    let g = app.gql(q, Value::Null).await;
    assert_eq!(
        g["data"]["article"]["title"], "Partnership as a “model” for cooperation",
        "{g}"
    );
    assert_eq!(g["data"]["article"]["source"]["name"], "CGTN");

    // A second import: nothing created, nothing changed.
    let dir = tempfile::tempdir().unwrap();
    let before = export(&app.database_url, dir.path(), "before.json", &[]);
    let again = import_wordpress(&app, "wordpress.xml", &MAP);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    let summary = stdout(&again);
    assert!(
        summary.contains("articles 0 created, 0 updated, 4 unchanged"),
        "{summary}"
    );
    assert!(
        summary.contains("comments 0 created, 0 updated, 5 unchanged"),
        "{summary}"
    );
    assert!(
        summary.contains("authors 0 created, 0 updated, 2 unchanged"),
        "{summary}"
    );
    assert!(summary.contains("tags 0 created"), "{summary}");
    let after = export(&app.database_url, dir.path(), "after.json", &[]);
    assert_eq!(before, after, "a second import must change nothing");
}

async fn a_changed_post_is_updated_in_place_on_reimport(app: TestApp) {
    let out = import_wordpress(&app, "wordpress.xml", &MAP);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("wordpress.xml"))
        .unwrap()
        .replace(
            "Partnership as a “model” for cooperation",
            "Partnership as a model, revised",
        )
        .replace(
            "<wp:comment_approved><![CDATA[0]]></wp:comment_approved>",
            "<wp:comment_approved><![CDATA[1]]></wp:comment_approved>",
        );
    let changed = dir.path().join("changed.xml");
    std::fs::write(&changed, text).unwrap();
    let out = app.cli(&[
        "import",
        "wordpress",
        changed.to_str().unwrap(),
        "--source-map",
        "CGTN=CGTN",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let summary = stdout(&out);
    assert!(
        summary.contains("articles 0 created, 1 updated, 3 unchanged"),
        "{summary}"
    );
    assert!(
        summary.contains("comments 0 created, 1 updated, 4 unchanged"),
        "{summary}"
    );
    let a = app
        .get_json("/api/v1/articles/partnership-as-a-model", 200)
        .await;
    assert_eq!(a["title"], "Partnership as a model, revised");
    assert_eq!(a["comment_count"], 4);
    assert_eq!(
        app.get_json("/api/v1/articles", 200).await["meta"]["total"],
        1,
        "no duplicate"
    );
}

async fn bad_items_are_reported_with_their_lines_and_the_good_ones_imported(app: TestApp) {
    // --all-or-nothing: the same file imports nothing, exit 4.
    let none = import_wordpress(&app, "wordpress-bad.xml", &["--all-or-nothing"]);
    assert_eq!(
        code(&none),
        4,
        "stdout: {}\nstderr: {}",
        stdout(&none),
        stderr(&none)
    );
    assert!(
        stderr(&none).contains("nothing was imported"),
        "{}",
        stderr(&none)
    );
    assert_eq!(app.get("/api/v1/articles/good-post").await.status(), 404);
    assert_eq!(
        app.get_json("/api/v1/authors", 200).await["meta"]["total"],
        0
    );

    let out = import_wordpress(&app, "wordpress-bad.xml", &[]);
    assert_eq!(
        code(&out),
        3,
        "stdout: {}\nstderr: {}",
        stdout(&out),
        stderr(&out)
    );
    let log = stderr(&out);
    let has = |needle: String| assert!(log.contains(&needle), "{needle:?} not in:\n{log}");
    has(format!(
        "failed: line {}: post 202 \"A bad date\": \
         invalid date \"2024-02-30 10:00:00\" in <wp:post_date_gmt>",
        item_line("wordpress-bad.xml", 202)
    ));
    has(format!(
        "failed: line {}: post 203 \"A ghost writer\": the author \"ghost\"",
        item_line("wordpress-bad.xml", 203)
    ));
    has(format!(
        "failed: line {}: post 204 \"The same slug again\": duplicate slug: \"good-post\"",
        item_line("wordpress-bad.xml", 204)
    ));
    has(format!(
        "skipped: line {}: product 205 \"A product\": unknown post type \"product\"",
        item_line("wordpress-bad.xml", 205)
    ));
    has(format!(
        "failed: line {}: post 208 \"Half a post\": \
         comment 82: unknown wp:comment_approved \"maybe\"",
        item_line("wordpress-bad.xml", 208)
    ));
    has(format!(
        "the file ends inside <item> that starts on line {} (truncated?)",
        item_line("wordpress-bad.xml", 206)
    ));
    assert!(log.lines().last().unwrap().starts_with("error: "), "{log}");
    let summary = stdout(&out);
    assert!(summary.contains("articles 2 created"), "{summary}");
    assert!(
        summary.contains("comments 0 created"),
        "the failed post's good comment is gone too: {summary}"
    );
    assert!(
        summary.contains("failed 4 (and the file could not be read to the end)"),
        "{summary}"
    );
    assert_eq!(
        app.get_json("/api/v1/articles/good-post", 200).await["title"],
        "A good post"
    );
    assert_eq!(
        app.get_json("/api/v1/articles/another-good-post", 200)
            .await["title"],
        "Another good post"
    );
    for slug in [
        "bad-date",
        "ghost-writer",
        "a-product",
        "the-same-slug-again",
        "half-a-post",
    ] {
        assert_eq!(
            app.get(&format!("/api/v1/articles/{slug}")).await.status(),
            404,
            "{slug}"
        );
    }
    assert_eq!(
        app.get_json("/api/v1/articles", 200).await["meta"]["total"],
        2
    );
    let dir = tempfile::tempdir().unwrap();
    let doc = export(&app.database_url, dir.path(), "after-bad.json", &[]);
    assert_eq!(
        doc["comments"],
        json!([]),
        "no comment of the failed post is left behind"
    );
    assert!(
        doc["import_refs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["kind"] != "comment"),
        "{doc}"
    );

    // Malformed XML: the message names the line; items before it are imported.
    let out = import_wordpress(&app, "wordpress-malformed.xml", &[]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            ": malformed XML in <item> that starts on line {}",
            item_line("wordpress-malformed.xml", 302)
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        app.get("/api/v1/articles/before-the-break").await.status(),
        200
    );
    assert_eq!(
        app.get("/api/v1/articles/after-the-break").await.status(),
        404
    );

    // Not a WXR file at all, or no file: exit 2, nothing imported.
    let out = import_wordpress(&app, "export-v99.json", &[]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing imported"),
        "{}",
        stderr(&out)
    );
    let out = app.cli(&["import", "wordpress", "/nonexistent/export.xml"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot read /nonexistent/export.xml"),
        "{}",
        stderr(&out)
    );
}

async fn a_json_file_of_another_version_or_into_a_full_database_is_refused(app: TestApp) {
    let out = app.cli(&["import", "json", &fixture("export-v99.json")]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("version 99 is not supported") && err.contains("reads version 1"),
        "{err}"
    );

    let out = app.cli(&["import", "json", &fixture("wordpress.xml")]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a JSON document"),
        "{}",
        stderr(&out)
    );

    // An export into a database that already has content: refused, nothing changes.
    assert_eq!(code(&import_wordpress(&app, "wordpress.xml", &MAP)), 0);
    let dir = tempfile::tempdir().unwrap();
    let before = export(&app.database_url, dir.path(), "a.json", &[]);
    let path = dir.path().join("a.json");
    let out = app.cli(&["import", "json", path.to_str().unwrap()]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "already holds content (2 authors, 1 sources, 3 tags, 4 articles, 5 comments"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(before, export(&app.database_url, dir.path(), "b.json", &[]));

    // A broken row names where it is.
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    doc["articles"][0]["published_at"] = json!("yesterday");
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let out = app.cli(&["import", "json", broken.to_str().unwrap()]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("articles[0].published_at"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("line "), "{}", stderr(&out));
}

/// A reader's comment.
fn said_by(name: &str, email: &str, body: &str) -> Value {
    json!({"author_name": name, "author_email": email, "body": body})
}

/// Content made through the API on `app` (SQLite): a cross-post with a byline,
/// tags, a slug change (slug history) and a title change (a revision),
/// a draft, a user, and comments including a held one; plus a WordPress import.
async fn arrange(app: &TestApp) -> String {
    let admin = app.admin_token().await;
    let author = json!({
        "name": "Danny Haiphong", "title": "Co-editor", "bio": "Writes on “multipolarity”."
    });
    let author = app.create(&admin, "/api/v1/authors", author).await;
    let source = json!({"name": "CGTN Europe", "homepage_url": "https://news.cgtn.com"});
    let source = app.create(&admin, "/api/v1/sources", source).await;
    let tag = json!({"name": "Eurasia"});
    let tag = app.create(&admin, "/api/v1/tags", tag).await;
    let article = json!({
        "title": "A model for cooperation",
        "standfirst": "Editor’s note: first published by CGTN.",
        "body": "First *paragraph* “quoted”.\n\nSecond.", "status": "published",
        "author_ids": [author.id], "tag_ids": [tag.id], "source_id": source.id,
        "original_url": "https://news.cgtn.com/news/x",
        "original_published_at": "2021-12-17T09:00:00.123456Z"
    });
    let id = app.create_article(&admin, article).await.id;
    let slug = "a-model-for-cooperation-renamed";
    let renamed = json!({"slug": slug, "title": "A model for cooperation, renamed"});
    let resp = app.update_article(&admin, &id, renamed).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let draft = json!({"title": "Unfinished", "body": "<p>Draft</p>", "body_format": "html"});
    app.create_article(&admin, draft).await;
    app.create_user("editor").await;
    let first = said_by("Ana", "ana@example.org", "First!");
    let first: Value = app.submit_comment(slug, first).await.json().await.unwrap();
    app.moderate(&admin, first["id"].as_str().unwrap(), "approved")
        .await;
    let mut reply = said_by("Ana", "ana@example.org", "Replying to myself.");
    reply["parent_id"] = first["id"].clone();
    let reply = app.submit_comment(slug, reply).await;
    assert!(reply.status().is_success());
    let held = said_by("Bo", "bo@example.org", "Held for moderation.");
    assert_eq!(app.submit_comment(slug, held).await.status(), 202);
    let out = app.cli(&[
        "import",
        "wordpress",
        &fixture("wordpress.xml"),
        "--source-map",
        "CGTN=CGTN",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    slug.to_string()
}

/// SQLite → JSON → PostgreSQL → JSON: the PostgreSQL database is this
/// test's, the SQLite one its server's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_from_sqlite_imported_into_postgresql_exports_the_same() {
    with_database(Backend::Postgres, |pg_url| {
        run(Backend::Sqlite, move |sqlite| async move {
            let slug = arrange(&sqlite).await;
            let dir = tempfile::tempdir().unwrap();
            let a = export(&sqlite.database_url, dir.path(), "a.json", &[]);
            for table in [
                "authors",
                "sources",
                "tags",
                "users",
                "articles",
                "article_authors",
                "article_tags",
                "article_slugs",
                "article_revisions",
                "comments",
                "import_refs",
            ] {
                assert!(
                    !a[table].as_array().unwrap().is_empty(),
                    "{table} is empty in the export"
                );
            }
            assert!(
                a["users"][0].get("password_hash").is_none(),
                "no hashes without --include-credentials"
            );
            assert!(
                a["comments"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c["status"] == "pending" && c["author_email"] == "bo@example.org")
            );

            // PostgreSQL: a running server (it made its own admin at start-up).
            let server = Server::start(test_config(&pg_url)).await;
            let pg = server.app.clone();
            let out = run_cli(
                &pg_url,
                &[
                    "import",
                    "json",
                    dir.path().join("a.json").to_str().unwrap(),
                ],
                &[],
                None,
            );
            assert_eq!(code(&out), 0, "{}", stderr(&out));
            assert!(stdout(&out).contains("articles"), "{}", stdout(&out));
            let b = export(&pg_url, dir.path(), "b.json", &[]);
            assert_eq!(a, b, "SQLite → JSON → PostgreSQL → JSON must be exact");

            // The PostgreSQL server serves it exactly as the SQLite one does.
            for path in [
                format!("/api/v1/articles/{slug}"),
                format!("/api/v1/articles/{slug}/comments"),
                "/api/v1/articles/partnership-as-a-model".to_string(),
                "/api/v1/articles/partnership-as-a-model/comments".to_string(),
                "/api/v1/articles".to_string(),
                "/api/v1/tags".to_string(),
            ] {
                assert_eq!(
                    sqlite.get_json(&path, 200).await,
                    pg.get_json(&path, 200).await,
                    "{path}"
                );
            }
            // The old slug still leads to the article.
            let old = pg.get("/api/v1/articles/a-model-for-cooperation").await;
            assert!(
                old.status().is_redirection() || old.status() == 200,
                "{}",
                old.status()
            );
            // The admin (same email) kept PostgreSQL's password; staff endpoints work.
            let admin = pg.admin_token().await;
            let held = staff_comments(&pg, &admin, &slug).await;
            assert!(
                held.iter()
                    .any(|c| c["status"] == "pending" && c["author_email"] == "bo@example.org")
            );
            let me: Value = pg.get_json_as(&admin, "/api/v1/users/me", 200).await;
            assert_eq!(me["email"], ADMIN_EMAIL);
            assert_eq!(
                Some(me["id"].as_str().unwrap()),
                a["users"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|u| u["email"] == ADMIN_EMAIL)
                    .and_then(|u| u["id"].as_str())
            );

            // With --include-credentials the hashes travel too.
            let c = export(
                &sqlite.database_url,
                dir.path(),
                "c.json",
                &["--include-credentials"],
            );
            assert!(c["users"].as_array().unwrap().iter().all(|u| {
                u["password_hash"]
                    .as_str()
                    .is_some_and(|h| h.starts_with("$argon2"))
            }));
            server.stop().await;
        })
    })
    .await
}
