//! Hostile cases: network.

#[allow(unused_imports)]
use super::{As, Body, Case};
#[allow(unused_imports)]
use serde_json::json;

pub fn cases() -> Vec<Case> {
    vec![]
}
