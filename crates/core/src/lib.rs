//! Broadsheet's core: the domain, the entities, the service layer that holds
//! every rule, authentication, configuration, the response and row cache
//! store and the metrics registry. It knows nothing of HTTP frameworks or
//! GraphQL: the server crate (the workspace root) translates requests into
//! calls to `services` and their results into answers.
//!
//! Layers, each depending only on those after it:
//! `services` → `auth`, `cache`, `outbound` → `domain`, `entities`, `db`,
//! `config`, `error`, `metrics`.

pub mod auth;
pub mod cache;
pub mod config;
pub mod db;
pub mod domain;
pub mod entities;
pub mod error;
pub mod fts5;
pub mod metrics;
pub mod outbound;
pub mod ratelimit;
pub mod services;
pub mod state;
