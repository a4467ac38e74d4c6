//! Hostile WordPress exports (issue 24, finding 9): the importer reads with
//! bounded nesting and stores through the API's own rules, run as the real
//! `broadsheet import wordpress` against a real server's database.

use std::process::Output;

use serde_json::Value;

use crate::{both_backends, helpers::TestApp};

/// The export's head: the channel and its one author (on one line: the
/// nesting test drops that line to make a file without authors).
const HEAD: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n",
    "<rss version=\"2.0\" xmlns:excerpt=\"http://wordpress.org/export/1.2/excerpt/\" ",
    "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" ",
    "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" ",
    "xmlns:wp=\"http://wordpress.org/export/1.2/\">\n",
    "<channel>\n",
    "<title>Hostile</title>\n",
    "<wp:wxr_version>1.2</wp:wxr_version>\n",
    "<wp:author><wp:author_id>1</wp:author_id>",
    "<wp:author_login><![CDATA[ljones]]></wp:author_login>",
    "<wp:author_display_name><![CDATA[Lin Jones]]></wp:author_display_name></wp:author>\n",
);
const TAIL: &str = "</channel>\n</rss>\n";

/// A published post `id` with slug `slug`, `inner` inside its `<item>`.
fn post(id: u32, slug: &str, inner: &str) -> String {
    format!(
        "<item>\n<title><![CDATA[Post {slug}]]></title>\n\
         <dc:creator><![CDATA[ljones]]></dc:creator>\n\
         <content:encoded><![CDATA[Body of {slug}.]]></content:encoded>\n\
         <wp:post_id>{id}</wp:post_id>\n\
         <wp:post_date_gmt><![CDATA[2024-02-01 10:00:00]]></wp:post_date_gmt>\n\
         <wp:comment_status><![CDATA[open]]></wp:comment_status>\n\
         <wp:post_name><![CDATA[{slug}]]></wp:post_name>\n\
         <wp:status><![CDATA[publish]]></wp:status>\n\
         <wp:post_type><![CDATA[post]]></wp:post_type>\n{inner}</item>\n"
    )
}

/// An approved comment.
fn comment(id: u32, parent: u32, url: &str) -> String {
    format!(
        "<wp:comment><wp:comment_id>{id}</wp:comment_id>\
         <wp:comment_author><![CDATA[Reader {id}]]></wp:comment_author>\
         <wp:comment_author_email><![CDATA[reader{id}@example.org]]></wp:comment_author_email>\
         <wp:comment_author_url>{url}</wp:comment_author_url>\
         <wp:comment_date_gmt><![CDATA[2024-02-02 10:00:00]]></wp:comment_date_gmt>\
         <wp:comment_content><![CDATA[Comment {id}.]]></wp:comment_content>\
         <wp:comment_approved><![CDATA[1]]></wp:comment_approved>\
         <wp:comment_type><![CDATA[comment]]></wp:comment_type>\
         <wp:comment_parent>{parent}</wp:comment_parent></wp:comment>\n"
    )
}

fn import(app: &TestApp, xml: &str) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.xml");
    std::fs::write(&path, xml).unwrap();
    let out = app.cli(&["import", "wordpress", path.to_str().unwrap()]);
    (out, dir)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

async fn comments_of(app: &TestApp, admin: &str, slug: &str) -> Vec<Value> {
    let resp = app
        .get_as(
            admin,
            &format!("/api/v1/comments?status=any&article={slug}&per_page=100"),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["data"].as_array().unwrap().clone()
}

both_backends!(
    finding_9_an_export_of_200000_nested_elements_stops_cleanly_keeping_what_came_before,
    finding_9_imported_comments_obey_the_apis_rules
);

async fn finding_9_an_export_of_200000_nested_elements_stops_cleanly_keeping_what_came_before(
    app: TestApp,
) {
    let deep = 200_000;
    let xml = format!(
        "{HEAD}{}<item><title>Bomb</title>{}{}</item>\n{}{TAIL}",
        post(1, "before-the-bomb", ""),
        "<x>".repeat(deep),
        "</x>".repeat(deep),
        post(3, "after-the-bomb", ""),
    );
    let started = std::time::Instant::now();
    let (out, _dir) = import(&app, &xml);
    let elapsed = started.elapsed();
    // No abort (a stack overflow is a signal, no exit code): exit 3, as
    // for any file that cannot be read to the end, keeping what came before.
    assert_eq!(
        out.status.code(),
        Some(3),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let err = text(&out.stderr);
    assert!(err.contains("nested more than 64 levels"), "{err}");
    assert!(err.contains("BROADSHEET_IMPORT_MAX_DEPTH"), "{err}");
    eprintln!("finding 9: 200,000 nested elements refused in {elapsed:?}");
    assert_eq!(
        app.get("/api/v1/articles/before-the-bomb").await.status(),
        200
    );
    assert_eq!(
        app.get("/api/v1/articles/after-the-bomb").await.status(),
        404
    );
    assert_eq!(app.get("/healthz").await.status(), 200);
    // Nothing at all before it: refused, exit 2, nothing written.
    let head = HEAD
        .lines()
        .filter(|l| !l.contains("<wp:author>"))
        .collect::<Vec<_>>()
        .join("\n");
    let xml = format!(
        "{head}\n<item>{}{}</item>\n{TAIL}",
        "<x>".repeat(deep),
        "</x>".repeat(deep)
    );
    let (out, _dir) = import(&app, &xml);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

async fn finding_9_imported_comments_obey_the_apis_rules(app: TestApp) {
    let admin = app.admin_token().await;
    // A javascript: URL, a fine one, and a thread 40 levels deep.
    let mut inner = comment(10, 0, "javascript:alert(document.cookie)");
    inner.push_str(&comment(11, 0, "https://reader.example/"));
    for id in 100..140 {
        inner.push_str(&comment(id, if id == 100 { 0 } else { id - 1 }, ""));
    }
    let xml = format!("{HEAD}{}{TAIL}", post(1, "hostile-comments", &inner));
    let (out, _dir) = import(&app, &xml);
    let err = text(&out.stderr);
    // Some items failed, the rest imported.
    assert_eq!(out.status.code(), Some(3), "{}\n{err}", text(&out.stdout));
    assert!(
        err.contains("comment 10: author_url must be an absolute http(s) URL"),
        "{err}"
    );
    assert!(
        err.contains("comment 105: parent_id threads are at most 5 levels deep"),
        "{err}"
    );
    let stored = comments_of(&app, &admin, "hostile-comments").await;
    let urls: Vec<&Value> = stored.iter().map(|c| &c["author_url"]).collect();
    assert!(
        !Value::from(stored.clone())
            .to_string()
            .contains("javascript:"),
        "{urls:?}"
    );
    assert!(
        stored
            .iter()
            .any(|c| c["author_url"] == "https://reader.example/"),
        "{urls:?}"
    );
    // The API's depth limit (5: depths 0 to 4) holds for imported threads.
    let depths: Vec<i64> = stored.iter().filter_map(|c| c["depth"].as_i64()).collect();
    assert_eq!(stored.len(), 1 + 5, "{depths:?}");
    assert!(depths.iter().all(|&d| d < 5), "{depths:?}");
    // And the public sees no javascript: link either.
    let public = app
        .get_json(
            "/api/v1/articles/hostile-comments/comments?per_page=100",
            200,
        )
        .await;
    assert!(!public.to_string().contains("javascript:"), "{public}");
}
