//! What one GraphQL request may hold, decided before async-graphql expands,
//! validates or runs it (issue 24, finding 1: a document of 25 fragments,
//! each spreading the next twice, made async-graphql's validation visit 2^25
//! fields and the process died of out-of-memory).
//!
//! In order, each step bounded by the one before:
//! 1. the batch's length, counted while skimming the JSON ([`check_batch_len`]);
//! 2. each document's bytes, then its tokens and bracket nesting, counted by
//!    a cheap scan before anything parses it ([`scan`]);
//! 3. on the parsed document ([`analyse`]): aliases, directives and fragment
//!    spreads as written, then depth and cost (fields selected) with every
//!    fragment flattened and counted once per use. Each fragment definition
//!    is costed once and remembered, and a fragment met again while it is
//!    still being costed is a cycle, so the analysis is linear in the
//!    document, never in its expansion;
//! 4. the variables' JSON nesting ([`check_variables`]).
//!
//! An over-limit request is answered 400 with `extensions.code`
//! `QUERY_LIMIT_EXCEEDED` and `extensions.limit` naming the setting.

use std::collections::HashMap;

use async_graphql::parser::types::{
    Directive, ExecutableDocument, Selection, SelectionSet, VariableDefinition,
};
use async_graphql::{Positioned, Value};

use crate::config::GraphqlLimits;

/// `extensions.code` of an over-limit request (API.md).
pub const LIMIT_CODE: &str = "QUERY_LIMIT_EXCEEDED";

/// Why a request was refused before it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// `extensions.code`.
    pub code: &'static str,
    /// `extensions.limit`: which limit (`batch`, `query_bytes`, `tokens`,
    /// `nesting`, `aliases`, `directives`, `spreads`, `depth`, `cost`), or
    /// `fragment_cycle`.
    pub limit: &'static str,
    /// The limit's value, when there is one.
    pub max: Option<u32>,
    pub message: String,
}

impl Refused {
    fn over(limit: &'static str, max: u32, what: &str) -> Refused {
        Refused {
            code: LIMIT_CODE,
            limit,
            max: Some(max),
            message: format!("the request holds more than {max} {what} (limit `{limit}`)"),
        }
    }
}

/// Step 1: a JSON array of more than `max` operations is refused while it is
/// skimmed, before any member is read into a request.
pub fn check_batch_len(body: &[u8], max: u32) -> Result<(), Refused> {
    use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};
    struct Count(u32);
    impl<'de> Visitor<'de> for Count {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a batch")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut n = 0u32;
            while seq.next_element::<IgnoredAny>()?.is_some() {
                n += 1;
                if n > self.0 {
                    return Err(serde::de::Error::custom("too long"));
                }
            }
            Ok(())
        }
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'[') {
        return Ok(());
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    match de.deserialize_seq(Count(max)) {
        Err(e) if e.to_string().starts_with("too long") => {
            Err(Refused::over("batch", max, "operations"))
        }
        // Malformed JSON is for the request parser to report.
        _ => Ok(()),
    }
}

/// Step 2: bytes, then tokens and nesting, by a scan that allocates nothing.
pub fn scan(query: &str, limits: &GraphqlLimits) -> Result<(), Refused> {
    if query.len() > limits.max_query_bytes as usize {
        return Err(Refused::over(
            "query_bytes",
            limits.max_query_bytes,
            "bytes in one document",
        ));
    }
    let bytes = query.as_bytes();
    let (mut i, mut tokens, mut open) = (0usize, 0u32, 0u32);
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            // Ignored: white space, line ends, commas, the byte order mark.
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            0xEF if bytes[i..].starts_with("\u{FEFF}".as_bytes()) => {
                i += 3;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => i += 3,
            b'{' | b'[' | b'(' => {
                open += 1;
                if open > limits.max_nesting {
                    return Err(Refused::over(
                        "nesting",
                        limits.max_nesting,
                        "brackets open at once",
                    ));
                }
                i += 1;
            }
            b'}' | b']' | b')' => {
                open = open.saturating_sub(1);
                i += 1;
            }
            b'_' | b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' => {
                // A name or a number (the parser judges its form).
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || matches!(bytes[i], b'_' | b'.' | b'+' | b'-'))
                    && !bytes[i..].starts_with(b"...")
                {
                    i += 1;
                }
            }
            // Other punctuators, and anything the parser will refuse.
            _ => i += 1,
        }
        tokens += 1;
        if tokens > limits.max_tokens {
            return Err(Refused::over(
                "tokens",
                limits.max_tokens,
                "tokens in one document",
            ));
        }
    }
    Ok(())
}

/// What a selection set costs once its fragments are flattened.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    /// Fields selected, each fragment counted once per use.
    fields: u64,
    /// Fields nested in one another.
    depth: u32,
}

enum Memo {
    /// Being costed: meeting it again is a cycle.
    Visiting,
    Done(Cost),
}

/// Step 3: the parsed document's aliases, directives, spreads, depth and
/// cost, in time linear in the document.
pub fn analyse(doc: &ExecutableDocument, limits: &GraphqlLimits) -> Result<(), Refused> {
    let mut counts = Counts::default();
    let mut walker = Walker {
        doc,
        limits,
        memo: HashMap::new(),
        chain: 0,
    };
    let mut total = Cost::default();
    for (_, op) in doc.operations.iter() {
        counts.directives(&op.node.directives);
        for var in &op.node.variable_definitions {
            counts.variable(var);
        }
        counts.selection_set(&op.node.selection_set.node);
        let cost = walker.selection_set(&op.node.selection_set.node)?;
        total.fields = total.fields.saturating_add(cost.fields);
        total.depth = total.depth.max(cost.depth);
        walker.check(total)?;
    }
    for fragment in doc.fragments.values() {
        counts.directives(&fragment.node.directives);
        counts.selection_set(&fragment.node.selection_set.node);
    }
    for (limit, max, found, what) in [
        (
            "aliases",
            limits.max_aliases,
            counts.aliases,
            "aliased fields",
        ),
        (
            "directives",
            limits.max_directives,
            counts.directives,
            "directives",
        ),
        (
            "spreads",
            limits.max_spreads,
            counts.spreads,
            "fragment spreads",
        ),
    ] {
        if found > u64::from(max) {
            return Err(Refused::over(limit, max, what));
        }
    }
    Ok(())
}

/// Aliases, directives and spreads as written (not expanded).
#[derive(Default)]
struct Counts {
    aliases: u64,
    directives: u64,
    spreads: u64,
}

impl Counts {
    fn directives(&mut self, directives: &[Positioned<Directive>]) {
        self.directives += directives.len() as u64;
    }

    fn variable(&mut self, var: &Positioned<VariableDefinition>) {
        self.directives(&var.node.directives);
    }

    fn selection_set(&mut self, set: &SelectionSet) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    self.aliases += u64::from(field.node.alias.is_some());
                    self.directives(&field.node.directives);
                    self.selection_set(&field.node.selection_set.node);
                }
                Selection::FragmentSpread(spread) => {
                    self.spreads += 1;
                    self.directives(&spread.node.directives);
                }
                Selection::InlineFragment(inline) => {
                    self.directives(&inline.node.directives);
                    self.selection_set(&inline.node.selection_set.node);
                }
            }
        }
    }
}

struct Walker<'a> {
    doc: &'a ExecutableDocument,
    limits: &'a GraphqlLimits,
    /// Each fragment definition's cost, computed once.
    memo: HashMap<&'a str, Memo>,
    /// Fragments being costed, one inside the other.
    chain: u32,
}

impl<'a> Walker<'a> {
    fn check(&self, cost: Cost) -> Result<(), Refused> {
        if cost.depth > self.limits.max_depth {
            return Err(Refused::over(
                "depth",
                self.limits.max_depth,
                "fields nested in one another",
            ));
        }
        if cost.fields > u64::from(self.limits.max_cost) {
            return Err(Refused::over(
                "cost",
                self.limits.max_cost,
                "fields once its fragments are flattened",
            ));
        }
        Ok(())
    }

    fn selection_set(&mut self, set: &'a SelectionSet) -> Result<Cost, Refused> {
        let mut cost = Cost::default();
        for selection in &set.items {
            let (fields, depth) = match &selection.node {
                Selection::Field(field) => {
                    let inner = self.selection_set(&field.node.selection_set.node)?;
                    (
                        inner.fields.saturating_add(1),
                        inner.depth.saturating_add(1),
                    )
                }
                Selection::FragmentSpread(spread) => {
                    let inner = self.fragment(&spread.node.fragment_name.node)?;
                    (inner.fields, inner.depth)
                }
                Selection::InlineFragment(inline) => {
                    let inner = self.selection_set(&inline.node.selection_set.node)?;
                    (inner.fields, inner.depth)
                }
            };
            cost.fields = cost.fields.saturating_add(fields);
            cost.depth = cost.depth.max(depth);
            // Stop as soon as the answer is known.
            self.check(cost)?;
        }
        Ok(cost)
    }

    fn fragment(&mut self, name: &'a str) -> Result<Cost, Refused> {
        match self.memo.get(name) {
            Some(Memo::Done(cost)) => return Ok(*cost),
            Some(Memo::Visiting) => {
                return Err(Refused {
                    code: "BAD_USER_INPUT",
                    limit: "fragment_cycle",
                    max: None,
                    message: format!("fragment {name:?} spreads itself"),
                });
            }
            None => {}
        }
        // Unknown fragments cost nothing here: validation refuses them.
        let Some((key, definition)) = self.doc.fragments.get_key_value(name) else {
            return Ok(Cost::default());
        };
        self.chain += 1;
        if self.chain > self.limits.max_nesting {
            return Err(Refused::over(
                "nesting",
                self.limits.max_nesting,
                "fragments spread one inside the other",
            ));
        }
        self.memo.insert(key.as_str(), Memo::Visiting);
        let cost = self.selection_set(&definition.node.selection_set.node)?;
        self.memo.insert(key.as_str(), Memo::Done(cost));
        self.chain -= 1;
        Ok(cost)
    }
}

/// Step 4: the variables' JSON nested at most `max` deep.
pub fn check_variables(variables: &async_graphql::Variables, max: u32) -> Result<(), Refused> {
    fn depth(value: &Value) -> u32 {
        match value {
            Value::List(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
            Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }
    // The variables object itself is one level.
    let deepest = variables.values().map(depth).max().unwrap_or(0) + 1;
    if deepest > max {
        return Err(Refused::over(
            "nesting",
            max,
            "levels of nesting in its variables",
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
