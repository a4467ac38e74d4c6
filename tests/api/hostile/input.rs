//! Hostile cases: the bad input of issue 7 (bodies, paths and query
//! strings, GraphQL documents), each with its one answer. Run by
//! `reliability::hostile_input_gets_documented_4xx_answers_and_changes_nothing`
//! through [`super::run_cases`], apart from the issue 24 table.

use serde_json::{Value, json};

use super::{As, Body, Case};

/// The bad input of issue 7, each with the one answer API.md gives it
/// (REST `code` and status; GraphQL `extensions.code`), run through the
/// hostile suite's runner: after each, the server answers and the public
/// data are as they were.
pub fn cases() -> Vec<Case> {
    const ARTICLES: &str = "/api/v1/articles";
    let json_body = |name, bytes: &[u8], status, code| {
        let body = Body::Raw("application/json", bytes.to_vec());
        Case::send(name, "POST", ARTICLES, As::Admin, body, status, code)
    };
    let nul = br#"{"title": "nul \u0000 inside", "status": "published"}"#;
    let deep = format!(
        "{{\"title\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let deep_query = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }} }}",
        "ofType { ".repeat(40),
        " }".repeat(40)
    );
    let batch: Vec<Value> = (0..1000)
        .map(|_| json!({"query": "{ articles(first: 1) { totalCount } }"}))
        .collect();
    let list = |name, query: &str, status, code| {
        Case::get(name, format!("{ARTICLES}?{query}"), status, code)
    };
    let mut cases = vec![
        // Bodies.
        json_body("a truncated JSON body", b"{\"title\": ", 400, "bad_request"),
        Case::send(
            "JSON sent as text/plain",
            "POST",
            ARTICLES,
            As::Admin,
            Body::Raw("text/plain", b"{\"title\": \"x\"}".to_vec()),
            415,
            "unsupported_media_type",
        ),
        json_body(
            "invalid UTF-8 in a JSON string",
            b"{\"title\": \"\xff\xfe bad\"}",
            400,
            "bad_request",
        ),
        json_body("a NUL in a JSON string", nul, 400, "bad_request"),
        Case::send(
            "a NUL in a JSON string of an update",
            "PATCH",
            "/api/v1/articles/{article}",
            As::Admin,
            Body::Raw("application/json", nul.to_vec()),
            400,
            "bad_request",
        ),
        // Valid JSON of the wrong shape, nested far deeper than any parser stack.
        json_body(
            "a title of arrays nested 100,000 deep",
            deep.as_bytes(),
            422,
            "validation_failed",
        ),
        // Paths and query strings.
        Case::get(
            "a NUL in a path",
            "/api/v1/articles/abc%00def",
            400,
            "bad_request",
        ),
        list("a NUL in a search", "q=a%00b", 400, "bad_request"),
        list(
            "a 10 KB search",
            &format!("q={}", "a".repeat(10 * 1024)),
            422,
            "validation_failed",
        ),
        // Deeper than BROADSHEET_MAX_LIST_OFFSET (issue 24, finding 6).
        list(
            "a 10 KB page number",
            &format!("page={}", "9".repeat(10 * 1024)),
            422,
            "validation_failed",
        ),
        list(
            "page 2^64 - 1",
            "page=18446744073709551615&per_page=100",
            422,
            "validation_failed",
        ),
        // API.md: `per_page` above 100 or below 1, or `page` below 1: 422.
        list("page -1", "page=-1", 422, "validation_failed"),
        list("page 0", "page=0", 422, "validation_failed"),
        list(
            "a page that is no number",
            "page=abc",
            422,
            "validation_failed",
        ),
        list("per_page -5", "per_page=-5", 422, "validation_failed"),
        list(
            "per_page in exponent notation",
            "per_page=1e3",
            422,
            "validation_failed",
        ),
        list("a fractional page", "page=1.5", 422, "validation_failed"),
        // GraphQL: refused before they run (README "GraphQL documents and caching").
        Case::gql(
            "a document nested 40 deep",
            deep_query,
            json!({}),
            400,
            "QUERY_LIMIT_EXCEEDED",
        ),
        Case::send(
            "a batch of 1,000 operations",
            "POST",
            "/graphql",
            As::Anonymous,
            Body::Json(Value::Array(batch)),
            400,
            "QUERY_LIMIT_EXCEEDED",
        ),
        Case::send(
            "a GraphQL body that is not JSON",
            "POST",
            "/graphql",
            As::Anonymous,
            Body::Raw("application/json", b"{\"query\": ".to_vec()),
            400,
            "BAD_USER_INPUT",
        ),
        Case {
            who: As::Admin,
            ..Case::gql(
                "a NUL in a variable",
                "mutation($t: String!) { createTag(input: {name: $t}) { id } }",
                json!({"t": "nul\u{0}tag"}),
                200,
                "BAD_USER_INPUT",
            )
        },
    ];
    for (name, garbage) in [
        ("an unclosed document", "{"),
        (
            "a negative first",
            "query { articles(first: -1) { totalCount } }",
        ),
        ("first over 100", "{ articles(first: 1000) { totalCount } }"),
        ("a field that does not exist", "{ nope }"),
        (
            "a mutation without its arguments",
            "mutation { deleteArticle }",
        ),
    ] {
        cases.push(Case::gql(name, garbage, json!(null), 200, "BAD_USER_INPUT"));
    }
    // SQL- and script-looking slugs are just text: not found.
    for (name, slug) in SQL_AND_SCRIPT {
        cases.push(Case::get(
            name,
            format!("{ARTICLES}/{slug}"),
            404,
            "not_found",
        ));
    }
    cases
}

/// Strings that look like SQL or script, URL-encoded for a path or query.
pub const SQL_AND_SCRIPT: [(&str, &str); 4] = [
    ("a quote and OR 1=1", "1'%20OR%20'1'='1"),
    ("a script tag", "%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
    ("a path up to /etc/passwd", "..%2F..%2Fetc%2Fpasswd"),
    ("DROP TABLE", "x;DROP%20TABLE%20articles;--"),
];
