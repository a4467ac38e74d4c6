//! One integration-test binary: every test talks HTTP to a real server
//! instance, on SQLite and (when configured) PostgreSQL.

mod helpers;

mod articles;
mod auth;
mod cache;
mod cli;
mod comments;
mod content;
mod contract;
mod feeds;
mod graphql;
mod harness;
mod hostile;
mod operations;
mod preview;
mod reliability;
mod revisions;
mod search;
mod transfer;
mod webhooks;
