//! One client connection's deadlines. The socket is wrapped in [`Watched`],
//! which knows where the connection is in its request cycle ([`Tracker`],
//! moved on by the service when a request head is complete and by the
//! response body when it is done) and fails the read or write that waits
//! past the phase's deadline; hyper then closes the connection.
//!
//! - waiting for a request head: `header_read` from the connection's opening
//!   or, on a kept-alive connection, from the head's first byte;
//! - idle between requests: `keep_alive` from the end of the last response;
//! - serving a request: no read deadline here (the body's is
//!   `BROADSHEET_BODY_READ_TIMEOUT`, the handler's `BROADSHEET_REQUEST_TIMEOUT`);
//! - any time: a write that makes no progress for `send` (a client that
//!   stops reading its response).

use std::{
    future::Future,
    io,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll, Waker},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    time::{Instant, Sleep},
};

/// The connection timeouts (from `Config`).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub header_read: Duration,
    pub keep_alive: Duration,
    pub send: Duration,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for (the rest of) a request head since `since`.
    Head { since: Instant },
    /// A request is being served.
    Busy,
    /// The last response ended at `since`; no byte of the next request yet.
    Idle { since: Instant },
}

/// Where one connection is in its request cycle.
#[derive(Debug)]
pub struct Tracker {
    phase: Mutex<Phase>,
    /// The connection's task, when its read found no deadline to wait for:
    /// woken when the response ends so that the idle deadline is armed
    /// (nothing else would poll the read of a silent client again).
    reader: Mutex<Option<Waker>>,
}

impl Tracker {
    pub fn new() -> Arc<Self> {
        Arc::new(Tracker {
            phase: Mutex::new(Phase::Head {
                since: Instant::now(),
            }),
            reader: Mutex::new(None),
        })
    }

    fn set(&self, phase: Phase) {
        *self.phase.lock().unwrap_or_else(|e| e.into_inner()) = phase;
    }

    fn get(&self) -> Phase {
        *self.phase.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A request head is complete and handed to the service.
    pub fn request_started(&self) {
        self.set(Phase::Busy);
    }

    /// The response's body is done (hyper dropped it).
    pub fn response_finished(&self) {
        self.set(Phase::Idle {
            since: Instant::now(),
        });
        let reader = self.reader.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(waker) = reader {
            waker.wake();
        }
    }

    /// Remember who to wake when the response ends.
    fn wake_on_finish(&self, waker: &Waker) {
        let mut reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        if !reader.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *reader = Some(waker.clone());
        }
    }

    /// Bytes arrived: on an idle connection they begin the next head.
    fn bytes_arrived(&self) {
        let mut phase = self.phase.lock().unwrap_or_else(|e| e.into_inner());
        if let Phase::Idle { .. } = *phase {
            *phase = Phase::Head {
                since: Instant::now(),
            };
        }
    }
}

/// A timer that is (re)armed for a deadline and reports whether it passed.
#[derive(Default)]
struct Timer {
    sleep: Option<(Instant, Pin<Box<Sleep>>)>,
}

impl Timer {
    /// Whether `deadline` has passed; if not, wake the task when it does.
    fn expired(&mut self, deadline: Instant, cx: &mut Context<'_>) -> bool {
        match &mut self.sleep {
            Some((at, sleep)) if *at == deadline => sleep.as_mut().poll(cx).is_ready(),
            Some((at, sleep)) => {
                *at = deadline;
                sleep.as_mut().reset(deadline);
                sleep.as_mut().poll(cx).is_ready()
            }
            None => {
                let mut sleep = Box::pin(tokio::time::sleep_until(deadline));
                let done = sleep.as_mut().poll(cx).is_ready();
                self.sleep = Some((deadline, sleep));
                done
            }
        }
    }
}

/// The client socket with the deadlines of its phase.
pub struct Watched {
    stream: TcpStream,
    tracker: Arc<Tracker>,
    timeouts: Timeouts,
    read_timer: Timer,
    write_timer: Timer,
    /// When a write first found the socket full, until one makes progress.
    stalled_since: Option<Instant>,
}

impl Watched {
    pub fn new(stream: TcpStream, tracker: Arc<Tracker>, timeouts: Timeouts) -> Self {
        Watched {
            stream,
            tracker,
            timeouts,
            read_timer: Timer::default(),
            write_timer: Timer::default(),
            stalled_since: None,
        }
    }

    /// Called when a write is pending: fails it once the client has taken
    /// nothing for `send`.
    fn write_stalled(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let since = *self.stalled_since.get_or_insert_with(Instant::now);
        if self.write_timer.expired(since + self.timeouts.send, cx) {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client took no part of the response within BROADSHEET_SEND_TIMEOUT",
            )));
        }
        Poll::Pending
    }

    fn wrote(
        &mut self,
        result: Poll<io::Result<usize>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        match result {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.stalled_since = None;
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending => self.write_stalled(cx),
            other => other,
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.tracker.bytes_arrived();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                let (deadline, why) = match this.tracker.get() {
                    Phase::Head { since } => (
                        since + this.timeouts.header_read,
                        "no complete request head within BROADSHEET_HEADER_READ_TIMEOUT",
                    ),
                    Phase::Idle { since } => (
                        since + this.timeouts.keep_alive,
                        "idle for BROADSHEET_KEEP_ALIVE_TIMEOUT",
                    ),
                    Phase::Busy => {
                        this.tracker.wake_on_finish(cx.waker());
                        return Poll::Pending;
                    }
                };
                if this.read_timer.expired(deadline, cx) {
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, why)));
                }
                Poll::Pending
            }
        }
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.wrote(result, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.wrote(result, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
