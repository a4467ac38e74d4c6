//! sea-orm models, one per table; not API types.

pub mod article;
pub mod article_author;
pub mod article_revision;
pub mod article_slug;
pub mod article_tag;
pub mod author;
pub mod comment;
pub mod import_ref;
pub mod prelude;
pub mod preview_grant;
pub mod refresh_token;
pub mod source;
pub mod tag;
pub mod user;
pub mod webhook;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_event;
