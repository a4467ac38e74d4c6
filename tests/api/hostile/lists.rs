//! Hostile cases: lists, pagination and paths.

#[allow(unused_imports)]
use super::{As, Body, Case};
#[allow(unused_imports)]
use serde_json::json;

pub fn cases() -> Vec<Case> {
    vec![
        Case::get(
            "a page number of zero",
            "/api/v1/articles?page=0",
            422,
            "validation_failed",
        ),
        Case::get(
            "a NUL in a path",
            "/api/v1/articles/abc%00def",
            400,
            "bad_request",
        ),
        Case::send(
            "a truncated JSON body",
            "POST",
            "/api/v1/articles",
            As::Admin,
            Body::Raw("application/json", b"{\"title\": ".to_vec()),
            400,
            "bad_request",
        ),
        Case::send(
            "a comment with no fields",
            "POST",
            "/api/v1/articles/{article}/comments",
            As::Anonymous,
            Body::Json(json!({})),
            422,
            "validation_failed",
        ),
        Case::gql(
            "a field that does not exist",
            "{ nope }",
            json!(null),
            200,
            "BAD_USER_INPUT",
        ),
    ]
}
