//! Validated inputs and pure rules: slugs, body rendering, pagination.
//! Nothing here touches the database or a transport.

pub mod body;
pub mod comment;
pub mod nesting;
pub mod pagination;
pub mod slug;
pub mod text;
pub mod validate;
