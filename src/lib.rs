//! Broadsheet: a headless content API. `Application::build` opens the
//! database, applies migrations, binds the listener and reports its address;
//! `main` and the integration tests both start the server through it.

pub mod cli;
pub mod graphql;
pub mod http;
pub mod rest;
pub mod server;
pub mod telemetry;

// The layers below the transports (`crates/core`), under the paths the
// transports, the CLI and the tests use.
pub use broadsheet_core::{
    auth, cache, config, config::MAX_BODY_BYTES, db, domain, entities, error, fts5, metrics,
    outbound, ratelimit, services, state,
};

use std::{future::Future, net::SocketAddr};

use axum::http::{HeaderName, HeaderValue, Method, Request, header};
use axum::{Router, body::Body};
use tokio::net::TcpListener;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    cors::{AllowOrigin, CorsLayer},
    limit::RequestBodyLimitLayer,
    map_request_body::MapRequestBodyLayer,
    map_response_body::MapResponseBodyLayer,
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

use crate::{config::Config, services::users::Bootstrap, state::AppState};

/// Why the server could not start; each message is one line naming the setting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Database(#[from] db::ConnectError),
    #[error("cannot apply migrations: {0} (set BROADSHEET_MIGRATE_ON_START=false to skip)")]
    Migrate(sea_orm::DbErr),
    #[error("cannot listen on {addr} (BROADSHEET_BIND): {reason}")]
    Bind { addr: SocketAddr, reason: String },
    #[error("cannot create the first admin (BROADSHEET_ADMIN_EMAIL): {0}")]
    Bootstrap(error::AppError),
    #[error(transparent)]
    Keys(#[from] auth::claims::KeyError),
}

/// A bound, ready-to-serve instance.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl Application {
    /// Connect, migrate (unless disabled), bootstrap the first admin, bind.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let (keys, ephemeral) = auth::claims::JwtKeys::from_config(&config)?;
        let db = db::connect(&config).await?;
        if config.migrate_on_start {
            db::migrate_up(&db).await.map_err(StartError::Migrate)?;
        }
        match services::users::bootstrap_admin(
            &db,
            config.admin_email.as_deref(),
            config.admin_password.as_ref().map(|p| p.expose()),
        )
        .await
        {
            Ok(Bootstrap::Generated { email, password }) => {
                // Deliberately not logged: printed once, to the terminal only.
                eprintln!(
                    "No users existed, so an admin was created.\n  email:    {email}\n  password: {password}\nThis password is shown only once."
                );
            }
            Ok(Bootstrap::FromConfig { email }) => {
                tracing::info!(%email, "created the first admin from BROADSHEET_ADMIN_EMAIL");
            }
            Ok(Bootstrap::NotNeeded) => {}
            Err(e) => return Err(StartError::Bootstrap(e)),
        }
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|e| StartError::Bind {
                addr: config.bind,
                reason: match e.kind() {
                    std::io::ErrorKind::AddrInUse => {
                        "the address is already in use (is another instance running?)".into()
                    }
                    _ => e.to_string(),
                },
            })?;
        if ephemeral {
            tracing::warn!(
                "BROADSHEET_JWT_SECRET is not set: using a random secret for this process only; \
                 tokens will not survive a restart or work across instances"
            );
        }
        let state = AppState::new(db, config, keys);
        cache::watch_other_writers(&state);
        let router = router(state.clone());
        Ok(Application {
            listener,
            router,
            state,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serve until `shutdown` resolves, then finish in-flight requests and
    /// close the database pool.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Application {
            listener,
            router,
            state,
        } = self;
        // In-flight requests get BROADSHEET_SHUTDOWN_TIMEOUT to finish once
        // the signal came; after that they are cut off and the pool closed.
        let grace = std::time::Duration::from_secs(state.config.shutdown_timeout_secs.into());
        let (stop_worker, worker_stopped) = tokio::sync::watch::channel(false);
        let worker = state
            .config
            .webhook_worker
            .then(|| services::webhooks::spawn_worker(state.clone(), worker_stopped));
        let (signalled, on_signal) = tokio::sync::oneshot::channel::<()>();
        let server = server::serve(
            listener,
            router,
            server::Limits::from_config(&state.config),
            state.metrics.clone(),
            async move {
                shutdown.await;
                let _ = signalled.send(());
            },
        );
        let deadline = async move {
            match on_signal.await {
                Ok(()) => tokio::time::sleep(grace).await,
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            served = server => served?,
            () = deadline => tracing::warn!(
                "in-flight requests did not finish within BROADSHEET_SHUTDOWN_TIMEOUT; cutting them off"
            ),
        }
        // The worker finishes the deliveries in flight (each bounded by
        // BROADSHEET_WEBHOOK_TIMEOUT) and claims no more.
        let _ = stop_worker.send(true);
        if let Some(worker) = worker {
            let limit =
                std::time::Duration::from_secs(u64::from(state.config.webhook_timeout_secs) + 5);
            if tokio::time::timeout(limit, worker).await.is_err() {
                tracing::warn!("the webhook worker did not stop in time");
            }
        }
        let _ = state.db.clone().close().await;
        Ok(())
    }
}

/// The Content-Security-Policy of API responses: nothing may load or frame
/// them. The HTML pages (`/docs`, GraphiQL) set their own, relaxed one.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Request ids for requests that arrive without `x-request-id`: UUIDv7.
#[derive(Clone, Copy, Default)]
struct MakeRequestIdV7;

impl MakeRequestId for MakeRequestIdV7 {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&services::new_id())
            .ok()
            .map(RequestId::new)
    }
}

/// CORS for the configured origins; none configured means no CORS headers,
/// so browsers keep other origins out.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(allowed))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PATCH,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_MATCH,
                header::IF_NONE_MATCH,
                HeaderName::from_static("x-request-id"),
            ])
            .expose_headers([
                header::ETAG,
                header::LINK,
                header::LOCATION,
                header::RETRY_AFTER,
                HeaderName::from_static("x-total-count"),
                HeaderName::from_static("x-request-id"),
            ])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let cors = cors(&state.config.cors_origins);
    let x_request_id = HeaderName::from_static("x-request-id");
    // Load shedding and the request timeout. The concurrency limit is one
    // semaphore for the whole API (a layer on a router is applied per route,
    // so a plain limit would be per route); a request that finds it full is
    // answered 503 with `Retry-After` at once rather than queued.
    let metrics = state.metrics.clone();
    let protection = tower::ServiceBuilder::new()
        .layer(axum::error_handling::HandleErrorLayer::new(
            move |err: tower::BoxError| {
                let metrics = metrics.clone();
                async move {
                    if err.is::<tower::load_shed::error::Overloaded>() {
                        metrics.shed();
                        http::problem::ApiError(error::AppError::Overloaded)
                    } else if err.is::<tower::timeout::error::Elapsed>() {
                        http::problem::ApiError(error::AppError::TimedOut)
                    } else {
                        http::problem::ApiError(error::AppError::internal(anyhow::anyhow!(
                            "middleware: {err}"
                        )))
                    }
                }
            },
        ))
        .layer(tower::load_shed::LoadShedLayer::new())
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            state.config.max_concurrent_requests as usize,
        ))
        .layer(tower::timeout::TimeoutLayer::new(
            std::time::Duration::from_secs(state.config.request_timeout_secs.into()),
        ));
    let api = Router::new()
        .merge(rest::router())
        .merge(graphql::router(state.clone()))
        .layer(protection);
    // Every cross-cutting layer, outermost first, composed into one layer:
    // applied one by one, each would box the route again and every request
    // would clone and poll each box (a tenth of a cached read's CPU).
    let stack = tower::ServiceBuilder::new()
        .layer(tower::util::option_layer(cors))
        // (Body type changes between layers are mapped back to axum's `Body`.)
        .layer(MapResponseBodyLayer::new(Body::new))
        .layer(tower::util::MapRequestLayer::new(drop_unfit_request_id))
        .layer(SetRequestIdLayer::new(x_request_id.clone(), MakeRequestIdV7))
        .layer(PropagateRequestIdLayer::new(x_request_id))
        // Every log line of a request carries its id.
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            })
            // One access-log line per request at info (status and latency);
            // failures need no second line (internal errors log their cause).
            .on_response(
                tower_http::trace::DefaultOnResponse::new()
                    .level(tracing::Level::INFO)
                    .latency_unit(tower_http::LatencyUnit::Micros),
            )
            .on_failure(()),
        )
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(API_CSP),
        ))
        .layer(CompressionLayer::new())
        // Outside the limit layer, so its bare 413 becomes problem+json too.
        .map_response(http::problem::problem_for_bare_errors)
        .layer(MapResponseBodyLayer::new(Body::new))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(MapRequestBodyLayer::new(Body::new))
        // A panic anywhere below is answered 500 `internal` and logged; the
        // connection stays up. (Its boxed body is mapped back to `Body` with
        // the body-limit layer's, above.)
        .layer(CatchPanicLayer::custom(server::guards::panic_response))
        // Each body must arrive within BROADSHEET_BODY_READ_TIMEOUT (408).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            server::guards::body_deadline,
        ))
        // Per route (`Router::layer`), so it sees the route template (`MatchedPath`).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::metrics::track,
        ))
        .layer(axum::middleware::from_fn(http::refuse_nul))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::response_cache::layer,
        ));
    Router::new()
        .merge(api)
        .merge(rest::ops_router())
        .fallback(http::problem::not_found)
        .method_not_allowed_fallback(http::problem::method_not_allowed)
        .layer(stack)
        .with_state(state)
}

/// A client's `x-request-id` is echoed and written into every log line of
/// its request: one that is not a short plain token (at most 64 letters,
/// digits, `.`, `_`, `-` or `:`) is dropped, and the request gets an id of
/// ours instead.
fn drop_unfit_request_id<B>(mut request: Request<B>) -> Request<B> {
    let fit = |v: &HeaderValue| {
        let b = v.as_bytes();
        !b.is_empty()
            && b.len() <= 64
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b':'))
    };
    let headers = request.headers_mut();
    if headers.get_all("x-request-id").iter().count() > 1
        || headers.get("x-request-id").is_some_and(|v| !fit(v))
    {
        headers.remove("x-request-id");
    }
    request
}
