//! Per-request guards of the HTTP stack: the request-body deadline
//! (`BROADSHEET_BODY_READ_TIMEOUT`, a slow upload gets 408 and its
//! connection closed) and the answer to a panic (a logged 500 problem, never
//! a dropped connection).

use std::{
    any::Any,
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::Sleep;

use crate::{
    error::AppError,
    http::problem::{IntoProblem, Problem},
    state::AppState,
};

use super::conn::Tracker;

/// A response body that tells its connection's [`Tracker`] when hyper is
/// done with it (dropped at the end of the response, or with the connection).
pub struct TrackedBody {
    pub inner: Body,
    pub tracker: Arc<Tracker>,
}

impl HttpBody for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for TrackedBody {
    fn drop(&mut self) {
        self.tracker.response_finished();
    }
}

/// A request body that fails once its deadline has passed.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
    expired: Arc<AtomicBool>,
    limit: Duration,
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        // Checked before the data: a client trickling bytes never finishes
        // on time, however often a byte is ready.
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(axum::Error::new(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "the request body did not arrive within {} s",
                    this.limit.as_secs()
                ),
            )))));
        }
        Pin::new(&mut this.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Middleware: a request's body must arrive whole within
/// `BROADSHEET_BODY_READ_TIMEOUT` of its head. Whoever reads it past that
/// gets an error, and the answer becomes 408 `request_timeout` with
/// `Connection: close` (the rest of the body is never read).
pub async fn body_deadline(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let limit = Duration::from_secs(state.config.body_read_timeout_secs.into());
    let expired = Arc::new(AtomicBool::new(false));
    let request = request.map(|inner| {
        Body::new(DeadlineBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(limit)),
            expired: expired.clone(),
            limit,
        })
    });
    let response = next.run(request).await;
    if !expired.load(Ordering::Relaxed) {
        return response;
    }
    let mut response = Problem {
        kind: "about:blank",
        title: "Request Timeout",
        status: 408,
        detail: format!(
            "the request body did not arrive within {} s (BROADSHEET_BODY_READ_TIMEOUT)",
            limit.as_secs()
        ),
        code: "request_timeout",
        errors: None,
    }
    .into_response_with_status();
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The answer to a panic in a handler, a resolver or a layer below
/// `CatchPanicLayer`: 500 `internal` with the generic detail, the panic's
/// message logged (never sent), and the connection kept.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    AppError::internal(anyhow::anyhow!("a request handler panicked: {message}")).into_problem()
}
