//! Serving HTTP/1.1 on the listener with hyper's connection builder
//! directly, because `axum::serve` offers no timeouts and no connection cap:
//! an idle or half-sent connection would be held forever.
//!
//! - At most `BROADSHEET_MAX_CONNECTIONS` client connections are open at
//!   once. One more is accepted and closed at once, without an answer: a
//!   load balancer sees a connection closed before any response, which it
//!   counts as a failed attempt and retries on another instance at once
//!   (nginx `proxy_next_upstream error`, HAProxy `retry-on
//!   empty-response`, Envoy `reset`), where not accepting would leave its
//!   connection waiting in the kernel's backlog until its own timeout.
//! - Each connection has the deadlines of [`conn`]; each request body
//!   `BROADSHEET_BODY_READ_TIMEOUT` ([`guards::body_deadline`]).
//! - Graceful shutdown as before: stop accepting, close idle connections,
//!   let requests in flight finish.

pub mod conn;
pub mod guards;

use std::{
    convert::Infallible,
    future::Future,
    net::SocketAddr,
    pin::pin,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{Router, extract::ConnectInfo};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{Semaphore, watch},
};
use tower::ServiceExt;

use crate::{config::Config, metrics::Metrics};

pub use conn::Timeouts;

/// The connection limits (from `Config`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeouts: Timeouts,
    /// Whether connections are kept alive between requests.
    pub keep_alive: bool,
    pub max_connections: usize,
}

impl Limits {
    pub fn from_config(config: &Config) -> Self {
        let secs = |s: u32| Duration::from_secs(s.into());
        Limits {
            timeouts: Timeouts {
                header_read: secs(config.header_read_timeout_secs),
                keep_alive: secs(config.keep_alive_timeout_secs),
                send: secs(config.send_timeout_secs),
            },
            keep_alive: config.keep_alive_timeout_secs > 0,
            max_connections: config.max_connections as usize,
        }
    }
}

/// Serve `router` on `listener` until `shutdown` resolves, then stop
/// accepting and return once every connection has finished.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    ensure_file_limit(limits.max_connections);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    // Flipped to true on shutdown; each connection then shuts down gracefully.
    let (stop_tx, stop_rx) = watch::channel(false);
    // Every connection holds a receiver: all dropped means all finished.
    let (done_tx, done_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    let mut last_warning: Option<Instant> = None;
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            metrics.http_connections_refused.inc();
            if last_warning.is_none_or(|at| at.elapsed() >= Duration::from_secs(10)) {
                last_warning = Some(Instant::now());
                tracing::warn!(
                    max = limits.max_connections,
                    "BROADSHEET_MAX_CONNECTIONS connections are open: closing new ones at once"
                );
            }
            drop(stream);
            continue;
        };
        let metrics = metrics.clone();
        let router = router.clone();
        let stop = stop_rx.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            metrics.http_connections.inc();
            serve_connection(stream, peer, router, limits, stop).await;
            metrics.http_connections.dec();
            drop(permit);
            drop(done);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(done_rx);
    done_tx.closed().await;
    Ok(())
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let tracker = conn::Tracker::new();
    let io = TokioIo::new(conn::Watched::new(stream, tracker.clone(), limits.timeouts));
    let service = hyper::service::service_fn(move |mut request: axum::http::Request<Incoming>| {
        tracker.request_started();
        request.extensions_mut().insert(ConnectInfo(peer));
        let router = router.clone();
        let tracker = tracker.clone();
        async move {
            let response = match router.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            Ok::<_, Infallible>(response.map(|inner| guards::TrackedBody { inner, tracker }))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .keep_alive(limits.keep_alive)
        // Our own, in `conn` (hyper's would start at the end of a response,
        // so it could not differ from the keep-alive timeout).
        .header_read_timeout(None);
    let mut connection = pin!(builder.serve_connection(io, service));
    let mut stopping = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection closed");
                }
                break;
            }
            _ = stop.wait_for(|stop| *stop), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Errors of `accept`: a connection the client abandoned is skipped; others
/// (out of file descriptors) are logged and retried after a second, as
/// `axum::serve` does.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept connections; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Raise the soft limit on open files to what `max_connections` needs (many
/// systems start services with 1,024), or warn that the cap cannot be
/// reached: past the limit `accept` fails and no one is served for a second.
// (`rlim_t` is u64 on Linux, not on every Unix.)
#[allow(clippy::unnecessary_cast)]
fn ensure_file_limit(max_connections: usize) {
    #[cfg(unix)]
    {
        // The pool, the listener, logs and SQLite files: room for them too.
        let needed = max_connections as u64 + 256;
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit only read and write `limit`.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                return;
            }
            let current = limit.rlim_cur as u64;
            if current >= needed {
                return;
            }
            let raised = needed.min(limit.rlim_max as u64);
            limit.rlim_cur = raised as libc::rlim_t;
            if raised <= current || libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                tracing::warn!(
                    open_files = current,
                    needed,
                    "the open-file limit is below BROADSHEET_MAX_CONNECTIONS plus 256; \
                     lower the setting or raise the limit (ulimit -n, systemd LimitNOFILE)"
                );
            } else if raised < needed {
                tracing::warn!(
                    open_files = raised,
                    needed,
                    "raised the open-file limit to its hard limit, still below \
                     BROADSHEET_MAX_CONNECTIONS plus 256"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tower_http::catch_panic::CatchPanicLayer;

    use super::*;

    /// No route of the product may panic on purpose (the last reachable
    /// panics, pagination overflows, are fixed under issue 24 finding 6), so
    /// the layer is tried on a router built here, with the panic layer of
    /// `crate::router` and served the same way: a panic is answered 500
    /// `internal`, its message is not sent, and the same connection serves
    /// the next request.
    #[tokio::test]
    async fn a_panic_is_answered_500_and_the_connection_stays() {
        let router = Router::new()
            .route(
                "/boom",
                get(|| async {
                    if true {
                        panic!("secret detail of a bug");
                    }
                    "never"
                }),
            )
            .route("/ok", get(|| async { "fine" }))
            .layer(CatchPanicLayer::custom(guards::panic_response));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limits = Limits::from_config(&Config::with_database("sqlite::memory:"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(
            listener,
            router,
            limits,
            Arc::new(Metrics::new(1)),
            async {
                let _ = stopped.await;
            },
        ));
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /boom HTTP/1.1\r\nHost: t\r\n\r\nGET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        let (first, second) = answer
            .split_once("HTTP/1.1 200")
            .expect("the second request was answered");
        assert!(first.starts_with("HTTP/1.1 500"), "{answer}");
        assert!(first.contains("application/problem+json"), "{answer}");
        assert!(first.contains(r#""code":"internal""#), "{answer}");
        assert!(!answer.contains("secret"), "{answer}");
        assert!(second.ends_with("fine"), "{answer}");
        let _ = stop.send(());
        server.await.unwrap().unwrap();
    }
}
