use super::*;

fn limits() -> GraphqlLimits {
    GraphqlLimits::default()
}

/// 25 (or `levels`) fragments, each spreading the next twice, the last
/// selecting `__typename` (issue 24, finding 1).
pub fn bomb(levels: usize) -> String {
    let mut q = String::from("query Bomb { ...F0 }\n");
    for i in 0..levels - 1 {
        q.push_str(&format!(
            "fragment F{i} on QueryRoot {{ ...F{n} ...F{n} }}\n",
            n = i + 1
        ));
    }
    q.push_str(&format!(
        "fragment F{} on QueryRoot {{ __typename }}\n",
        levels - 1
    ));
    q
}

fn check(query: &str) -> Result<(), Refused> {
    scan(query, &limits())?;
    let doc = async_graphql::parser::parse_query(query).expect("parses");
    analyse(&doc, &limits())
}

#[test]
fn the_fragment_bomb_is_costed_without_expanding_it() {
    for levels in [25, 40] {
        let started = std::time::Instant::now();
        let refused = check(&bomb(levels)).unwrap_err();
        let limit = if levels == 25 { "cost" } else { "nesting" };
        assert_eq!(refused.limit, limit, "{levels}: {refused:?}");
        assert!(started.elapsed() < std::time::Duration::from_millis(50));
    }
    // With the limit out of the way the count is exact: 2^(levels-1) fields.
    let doc = async_graphql::parser::parse_query(bomb(40)).unwrap();
    let wide = GraphqlLimits {
        max_cost: u32::MAX,
        max_nesting: 128,
        ..limits()
    };
    let mut walker = Walker {
        doc: &doc,
        limits: &wide,
        memo: HashMap::new(),
        chain: 0,
    };
    let (_, op) = doc.operations.iter().next().unwrap();
    let err = walker
        .selection_set(&op.node.selection_set.node)
        .unwrap_err();
    assert_eq!(err.limit, "cost");
    let doc = async_graphql::parser::parse_query(bomb(20)).unwrap();
    let mut walker = Walker {
        doc: &doc,
        limits: &wide,
        memo: HashMap::new(),
        chain: 0,
    };
    let (_, op) = doc.operations.iter().next().unwrap();
    let cost = walker.selection_set(&op.node.selection_set.node).unwrap();
    assert_eq!(cost.fields, 1 << 19);
}

#[test]
fn introspection_passes_every_limit() {
    let query = include_str!("../../tests/fixtures/introspection.graphql");
    check(query).unwrap();
}

#[test]
fn cycles_are_found_and_named() {
    let err =
        check("{ ...A } fragment A on Q { ...B } fragment B on Q { a { ...A } }").unwrap_err();
    assert_eq!(err.limit, "fragment_cycle");
    let err = check("{ ...A } fragment A on Q { ...A }").unwrap_err();
    assert_eq!(err.limit, "fragment_cycle");
}

#[test]
fn tokens_are_counted_as_the_lexer_would() {
    let count = |q: &str| {
        let l = GraphqlLimits {
            max_tokens: 0,
            ..limits()
        };
        let mut n = 0;
        // The smallest limit that passes is the token count.
        while scan(q, &GraphqlLimits { max_tokens: n, ..l }).is_err() {
            n += 1;
        }
        n
    };
    assert_eq!(count("{ a }"), 3);
    assert_eq!(count("# comment { { {\n{ a, b }"), 4);
    assert_eq!(count(r#"{ a(s: "x { y \" }", n: -1.5e3) { ...F } }"#), 15);
    assert_eq!(count("{ a(s: \"\"\"block \\\"\"\" { \"\"\") }"), 8);
    assert_eq!(count("query Q($v: [Int!]!) @d { a }"), 17);
}

#[test]
fn batches_are_counted_while_skimmed() {
    let batch = |n: usize| format!("[{}]", vec![r#"{"query":"{ a }"}"#; n].join(","));
    assert!(check_batch_len(batch(10).as_bytes(), 10).is_ok());
    assert_eq!(
        check_batch_len(batch(11).as_bytes(), 10).unwrap_err().limit,
        "batch"
    );
    assert!(check_batch_len(br#"{"query":"{ a }"}"#, 10).is_ok());
    assert!(check_batch_len(b"[not json", 10).is_ok());
}
