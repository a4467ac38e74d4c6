//! Who is calling (`Actor`) and what they may do (`policy`).

pub mod principal;

pub use principal::{Actor, Role};
