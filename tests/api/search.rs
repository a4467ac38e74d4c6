//! Full-text search (issue 9): FTS5 on SQLite, tsvector on PostgreSQL, both
//! reached through REST and GraphQL.

use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{TestApp, assert_gql_error, assert_problem},
    sqlite_only,
};

/// An article with these fields, as `token`; its id.
async fn create(app: &TestApp, token: &str, fields: Value) -> String {
    app.create_article(token, fields).await.id
}

/// A published article of this title and body; its id.
async fn published(app: &TestApp, token: &str, title: &str, body: &str) -> String {
    let fields = json!({"title": title, "body": body, "status": "published"});
    create(app, token, fields).await
}

/// The reference piece, a draft and a scheduled one using the same words,
/// and an unrelated piece.
async fn arrange(app: &TestApp) -> (String, String) {
    let admin = app.admin_token().await;
    let reference = json!({
        "title": "China and Russia’s “no limits” partnership shapes a multipolar world",
        "standfirst": "An opinion piece first published by CGTN.",
        "body": "Trade across the Amur now runs from Blagoveshchensk to Heihe, \
                 where the Heihe cable car will soon cross the river.\n\n\
                 At the Café Zürich, traders talk about sanctions.",
        "status": "published",
    });
    let reference = create(app, &admin, reference).await;
    let draft = json!({
        "title": "Draft on the multipolar order",
        "body": "Blagoveshchensk draft.",
        "status": "draft"
    });
    create(app, &admin, draft).await;
    let scheduled = json!({
        "title": "Scheduled multipolar piece", "body": "Blagoveshchensk later.",
        "status": "published", "published_at": "2099-01-01T00:00:00Z"
    });
    create(app, &admin, scheduled).await;
    let other = "A body that mentions a multipolar aside once.";
    let other = published(app, &admin, "Cable cars of the Alps", other).await;
    (reference, other)
}

async fn search(app: &TestApp, q: &str) -> Value {
    app.get_json(&format!("/api/v1/search?q={}", urlencode(q)), 200)
        .await
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn ids(results: &Value) -> Vec<String> {
    results["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["article"]["id"].as_str().unwrap().to_string())
        .collect()
}

both_backends!(
    the_reference_words_find_the_reference_article,
    drafts_and_scheduled_articles_are_never_found,
    graphql_search_is_ranked_paginated_and_highlighted,
    the_index_follows_every_write_through_either_api,
    hostile_query_syntax_is_plain_text,
    matches_past_the_ranked_thousand_follow_newest_first_without_gaps
);

async fn the_reference_words_find_the_reference_article(app: TestApp) {
    let (reference, other) = arrange(&app).await;
    for q in [
        "Blagoveshchensk",
        "\"Heihe cable car\"",
        "blagovesh*",
        "BLAGOVESHCHENSK",
        "zurich",
        "Zürich",
        "cafe",
        "limits partnership",
    ] {
        let found = search(&app, q).await;
        assert_eq!(ids(&found), vec![reference.clone()], "{q}: {found}");
    }
    // Ranked: a title match outranks a passing mention in the body.
    let found = search(&app, "multipolar").await;
    assert_eq!(
        ids(&found),
        vec![reference.clone(), other.clone()],
        "{found}"
    );
    assert_eq!(found["meta"]["total"], 2);
    assert!(
        found["data"][0]["rank"].as_f64().unwrap() > found["data"][1]["rank"].as_f64().unwrap()
    );
    // Snippets are escaped text with the hits marked.
    let found = search(&app, "Heihe").await;
    let snippet = found["data"][0]["snippet"].as_str().unwrap();
    assert!(snippet.contains("<mark>Heihe</mark>"), "{snippet}");
    assert!(!snippet.contains("<p>"), "{snippet}");
    // A phrase is an exact sequence; all words must match.
    assert_eq!(
        ids(&search(&app, "\"car cable Heihe\"").await),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&search(&app, "Blagoveshchensk Alps").await),
        Vec::<String>::new()
    );
    // The list endpoint filters with the same engine.
    let listed = app
        .get_json("/api/v1/articles?q=Blagoveshchensk", 200)
        .await;
    assert_eq!(listed["meta"]["total"], 1);
    assert_eq!(listed["data"][0]["id"], reference.as_str());
    // `search reindex` rebuilds SQLite's index (a no-op on PostgreSQL) and changes no result.
    let out = app.cli(&["search", "reindex"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("rebuilt: 4 articles") || said.contains("nothing to do"),
        "{said}"
    );
    assert_eq!(
        ids(&search(&app, "Blagoveshchensk").await),
        vec![reference.clone()]
    );
}

async fn drafts_and_scheduled_articles_are_never_found(app: TestApp) {
    arrange(&app).await;
    for q in ["draft", "scheduled", "later"] {
        assert_eq!(search(&app, q).await["meta"]["total"], 0, "{q}");
        assert_eq!(
            app.get_json(&format!("/api/v1/articles?q={q}"), 200).await["meta"]["total"],
            0
        );
    }
    let admin = app.admin_token().await;
    let staff = app.get_as(&admin, "/api/v1/search?q=Blagoveshchensk").await;
    let staff: Value = staff.json().await.unwrap();
    assert_eq!(
        staff["meta"]["total"], 1,
        "search shows what readers can see, to everyone"
    );
    let gql = app
        .gql(
            "{ search(query: \"Blagoveshchensk\") { totalCount } }",
            Value::Null,
        )
        .await;
    assert_eq!(gql["data"]["search"]["totalCount"], 1, "{gql}");
}

async fn graphql_search_is_ranked_paginated_and_highlighted(app: TestApp) {
    let (reference, other) = arrange(&app).await;
    let q = "query($q: String!, $after: String) { \
             search(query: $q, first: 1, after: $after) { \
             totalCount pageInfo { hasNextPage endCursor } \
             edges { cursor node { snippet rank article { id slug title authors { name } } } } } }";
    let first = app.gql(q, json!({"q": "multipolar"})).await;
    assert!(first["errors"].is_null(), "{first}");
    let s = &first["data"]["search"];
    assert_eq!(s["totalCount"], 2);
    assert_eq!(s["edges"][0]["node"]["article"]["id"], reference.as_str());
    assert!(
        s["edges"][0]["node"]["snippet"]
            .as_str()
            .unwrap()
            .contains("<mark>")
    );
    assert_eq!(s["pageInfo"]["hasNextPage"], true);
    let second = app
        .gql(
            q,
            json!({"q": "multipolar", "after": s["pageInfo"]["endCursor"]}),
        )
        .await;
    let s2 = &second["data"]["search"];
    assert_eq!(
        s2["edges"][0]["node"]["article"]["id"],
        other.as_str(),
        "{second}"
    );
    assert_eq!(s2["pageInfo"]["hasNextPage"], false);
}

async fn the_index_follows_every_write_through_either_api(app: TestApp) {
    let admin = app.admin_token().await;
    let create = "mutation { createArticle(input: {title: \"Zeppelin harbour notes\", \
                  body: \"Nothing else.\", status: PUBLISHED}) { id } }";
    let created = app.gql_as(Some(&admin), create, Value::Null).await;
    let id = created["data"]["createArticle"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_string();
    assert_eq!(ids(&search(&app, "zeppelin").await), vec![id.clone()]);
    let resp = app
        .update_article(&admin, &id, json!({"title": "Airship harbour notes"}))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(search(&app, "zeppelin").await["meta"]["total"], 0);
    assert_eq!(ids(&search(&app, "airship").await), vec![id.clone()]);
    let gql = app
        .gql(
            "{ search(query: \"airship\") { edges { node { article { id } } } } }",
            Value::Null,
        )
        .await;
    assert_eq!(
        gql["data"]["search"]["edges"][0]["node"]["article"]["id"],
        id.as_str()
    );
    // Unpublishing and deleting take it out.
    let resp = app
        .update_article(&admin, &id, json!({"status": "draft"}))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(search(&app, "airship").await["meta"]["total"], 0);
    let resp = app
        .delete(Some(&admin), &format!("/api/v1/articles/{id}"))
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(search(&app, "airship").await["meta"]["total"], 0);
}

async fn hostile_query_syntax_is_plain_text(app: TestApp) {
    arrange(&app).await;
    for q in [
        "\"unbalanced",
        "Heihe\"",
        "NEAR(Heihe cable)",
        "title:Heihe",
        "Heihe OR 1=1",
        "Heihe AND NOT x",
        "^Heihe",
        "Heihe:*",
        "!Heihe | x",
        "'Heihe'",
        "(",
        ")",
        "*",
        "\"\"",
        "-Heihe",
        "Heihe\\",
        "a&b",
        "‘Heihe’ “cable”",
        "😀 Heihe",
    ] {
        let resp = app.get(&format!("/api/v1/search?q={}", urlencode(q))).await;
        assert_eq!(resp.status(), 200, "{q}");
        let resp = app
            .get(&format!("/api/v1/articles?q={}", urlencode(q)))
            .await;
        assert_eq!(resp.status(), 200, "{q}");
        let gql = app
            .gql(
                "query($q: String!) { search(query: $q) { totalCount } }",
                json!({"q": q}),
            )
            .await;
        assert!(gql["errors"].is_null(), "{q}: {gql}");
    }
    // Operators are words like any other: NEAR is looked for, and is absent.
    // A word FTS5 tokenizes to nothing (a lone Devanagari vowel sign)
    // beside a real one: an answer, never an error (`search` wants 200).
    let found = search(&app, "Heihe \u{093F}").await;
    assert!(found["meta"]["total"].is_u64(), "{found}");
    assert_eq!(search(&app, "NEAR(Heihe cable)").await["meta"]["total"], 0);
    assert_eq!(search(&app, "Heihe)(cable:*").await["meta"]["total"], 1);
    assert_problem(
        app.get(&format!("/api/v1/search?q={}", "x".repeat(10 * 1024)))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_problem(app.get("/api/v1/search").await, 422, "validation_failed").await;
    let gql = app
        .gql(
            "query($q: String!) { search(query: $q) { totalCount } }",
            json!({"q": "x".repeat(10 * 1024)}),
        )
        .await;
    assert_gql_error(&gql, "BAD_USER_INPUT");
}

async fn matches_past_the_ranked_thousand_follow_newest_first_without_gaps(app: TestApp) {
    // Only the newest 1,000 matches are ordered by relevance; the rest
    // follow, newest first. Paging across that boundary must neither
    // skip nor repeat an article, and hidden articles stay hidden.
    // Matches are counted up to 1,000 or the end of the page asked for:
    // past that the total is a lower bound that always offers one more
    // page while there is one, and it is exact once the pages reach the end.
    let out = app.cli(&[
        "seed",
        "--synthetic",
        "--articles",
        "1010",
        "--comments-per-article",
        "0",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let admin = app.admin_token().await;
    create(
        &app,
        &admin,
        json!({"title": "Trade draft", "body": "Trade, trade, trade.", "status": "draft"}),
    )
    .await;
    let listed = app.get_json("/api/v1/articles?q=trade", 200).await["meta"]["total"]
        .as_u64()
        .unwrap();
    assert!(listed > 1000, "{listed}");
    let first = search(&app, "trade").await;
    assert_eq!(first["meta"]["total"], 1001, "{}", first["meta"]);
    assert_eq!(first["meta"]["total_exact"], false);
    let q = "{ search(query: \"trade\", first: 5) { \
             totalCount totalCountIsExact pageInfo { hasNextPage } } }";
    let gql = app.gql(q, Value::Null).await;
    assert_eq!(
        gql["data"]["search"],
        json!({"totalCount": 1001, "totalCountIsExact": false, "pageInfo": {"hasNextPage": true}}),
        "{gql}"
    );

    let mut seen = std::collections::HashSet::new();
    let mut hits: Vec<Value> = Vec::new();
    let mut page = 1;
    let total = loop {
        let resp = app
            .get(&format!("/api/v1/search?q=trade&per_page=100&page={page}"))
            .await;
        assert_eq!(resp.status(), 200);
        let header_total = resp.headers()["x-total-count"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap();
        let has_next = resp
            .headers()
            .get("link")
            .is_some_and(|l| l.to_str().unwrap().contains("rel=\"next\""));
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["meta"]["total"], header_total);
        for hit in body["data"].as_array().unwrap() {
            assert!(
                seen.insert(hit["article"]["id"].as_str().unwrap().to_string()),
                "twice: {}",
                hit["article"]["slug"]
            );
            hits.push(hit.clone());
        }
        assert!(
            header_total > hits.len() as u64 || !has_next,
            "page {page}: a next page needs a total past this one"
        );
        if !has_next {
            assert_eq!(
                body["meta"]["total_exact"], true,
                "the last page knows the total: {}",
                body["meta"]
            );
            break header_total;
        }
        page += 1;
        assert!(page <= 12, "runaway paging");
    };
    assert_eq!(total, listed, "search and the list's `q` filter agree");
    assert_eq!(hits.len() as u64, total);
    let published = |h: &Value| h["article"]["published_at"].as_str().unwrap().to_string();
    let (ranked, older) = hits.split_at(1000);
    assert!(
        older.iter().all(|h| h["rank"] == 0.0),
        "{:?}",
        older.iter().map(|h| &h["rank"]).collect::<Vec<_>>()
    );
    assert!(
        older
            .windows(2)
            .all(|w| published(&w[0]) > published(&w[1])),
        "older matches newest first"
    );
    let oldest_ranked = ranked.iter().map(published).min().unwrap();
    assert!(
        older.iter().all(|h| published(h) < oldest_ranked),
        "the ranked ones are the newest"
    );
    assert!(
        ranked
            .windows(2)
            .all(|w| w[0]["rank"].as_f64() >= w[1]["rank"].as_f64()),
        "ranked by relevance"
    );
}

sqlite_only!(sqlite_weighs_a_rare_word_above_a_common_one);

/// SQLite ranks with BM25 and each word's document frequency estimated from
/// the newest articles (not counted over the whole archive): a rare word
/// still weighs more than a common one. PostgreSQL's `ts_rank_cd` has no
/// document frequencies, so this is SQLite's alone.
async fn sqlite_weighs_a_rare_word_above_a_common_one(app: TestApp) {
    let admin = app.admin_token().await;
    for n in 0..6 {
        published(&app, &admin, &format!("Filler {n}"), "A harbour.").await;
    }
    // Mirror images: with equal weights they would tie, and a tie goes to
    // the newer one (`common_heavy`).
    let rare_heavy = "zeppelin zeppelin zeppelin harbour";
    let rare_heavy = published(&app, &admin, "Notes", rare_heavy).await;
    let common_heavy = "harbour harbour harbour zeppelin";
    let common_heavy = published(&app, &admin, "Notes", common_heavy).await;
    let found = search(&app, "harbour zeppelin").await;
    assert_eq!(ids(&found), vec![rare_heavy, common_heavy], "{found}");
    assert!(
        found["data"][0]["rank"].as_f64().unwrap() > found["data"][1]["rank"].as_f64().unwrap()
    );
    assert_eq!(found["meta"]["total_exact"], true);
}
