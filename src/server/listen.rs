//! The accept loop of every server the lab runs — a run's auth server and
//! the lab's own port — with the limits a slow or greedy peer meets
//! (docs/server-limits.md). `axum::serve` has neither timeouts nor a bound on
//! connections, so this drives hyper's HTTP/1.1 connections itself:
//!
//! - the request head must arrive within [`Limits::header_read`] (hyper's own
//!   timer; it starts whenever the connection waits for a request, so it is
//!   also the keep-alive idle timeout);
//! - the body within [`Limits::body_read`] of the head ([`DeadlineBody`]);
//! - a peer that takes no byte of an answer for [`Limits::write_stall`] is
//!   dropped ([`Guarded`]);
//! - at most [`Limits::max_connections`] are open, and never more than the
//!   process's open-file limit leaves room for ([`connection_cap`]); the
//!   next one gets one 503 and is closed;
//! - every request must pass the locked doors of the listener's address
//!   ([`super::doors`]) before the router sees it;
//! - every answer says `X-Content-Type-Options: nosniff`.
//!
//! HTTP/1.1 only: browsers speak it to a plain `http://` origin, and so do
//! reqwest and wrk.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::future::RouteFuture;
use axum::Router;
use futures::future::{self, Either, Map, Ready};
use futures::FutureExt;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tower::Service;

use super::doors::Doors;
use super::ApiError;

/// What a server grants its peers. [`Limits::DEFAULT`] holds the documented
/// values; tests shorten them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Time for a request's head (request line and headers) to arrive,
    /// counted from when the server starts waiting for it: on a new
    /// connection, or after the previous answer on a kept-alive one. Past
    /// it the connection is closed (a head begun gets a bare 408 from hyper).
    pub header_read: Duration,
    /// Time for a request's whole body to arrive after its head; past it the
    /// request gets 408 JSON and the connection is closed.
    pub body_read: Duration,
    /// Time a peer may take no byte of an answer we are writing; past it the
    /// connection is dropped.
    pub write_stall: Duration,
    /// Bytes of answers the kernel holds for one connection (SO_SNDBUF;
    /// Linux doubles it). Without it the kernel grows the buffer to 4 MB,
    /// which a peer that reads nothing pins for the write-stall limit.
    pub send_buffer: usize,
    /// Connections open at once; past it a new one gets 503 JSON with
    /// `Retry-After` and is closed.
    pub max_connections: usize,
    /// Longest request target (path and query), in bytes: 414 JSON past it.
    pub max_uri_bytes: usize,
    /// Most request header bytes (names and values): 431 JSON past it.
    pub max_header_bytes: usize,
    /// Most request headers: 431 JSON past it.
    pub max_headers: usize,
    /// Entries the revocation store holds at most; past it logins and
    /// refreshes get 503 JSON with `Retry-After`.
    pub max_remembered: usize,
    /// Lines of a streamed run buffered for its reader.
    pub stream_buffer: usize,
    /// Time a streamed run waits for its reader to take a line from a full
    /// buffer; past it the run is cancelled with an error line.
    pub stream_stall: Duration,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        header_read: Duration::from_secs(10),
        body_read: Duration::from_secs(10),
        write_stall: Duration::from_secs(10),
        send_buffer: 64 * 1024,
        max_connections: 4096,
        max_uri_bytes: 8 * 1024,
        max_header_bytes: 16 * 1024,
        max_headers: 64,
        max_remembered: 2_000_000,
        stream_buffer: 1024,
        stream_stall: Duration::from_secs(5),
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Refused connections answered at once; past it a refused connection is
/// closed without an answer (hyper still needs its head to answer it).
const MAX_REFUSALS_IN_FLIGHT: usize = 64;

/// hyper answers a head with more headers than this with a bare 431; ours
/// ([`Limits::max_headers`]) is lower so the lab answers first, in JSON.
/// Hyper's own default, and not more: up to it hyper parses on the stack,
/// past it every request pays two heap arrays of this many headers (16 KiB
/// at 256, a few per cent of `/api/secret`'s time in a profile).
const HYPER_MAX_HEADERS: usize = 100;

/// hyper's read and write buffer per connection (its default is ~400 KB):
/// room for the largest head the limits let through, and what a streamed
/// answer may queue in the process for a peer that stopped reading.
const HYPER_MAX_BUF: usize = 64 * 1024;

/// Files the process keeps back from the lab's two long-lived listeners
/// (the lab's port and a room's): each run's own server and connections,
/// saved files, the UI's files, the runtime's own.
const FILES_KEPT_BACK: u64 = 256;

/// Raises the process's soft open-file limit to its hard limit (once; a
/// common soft limit is 1,024, far below the connection cap) and returns
/// the soft limit in force. `None` where the platform has no such limit.
pub fn raise_open_file_limit() -> Option<u64> {
    static RAISED: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *RAISED.get_or_init(|| {
        #[cfg(target_os = "linux")]
        {
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: getrlimit and setrlimit only read and write `limit`.
            unsafe {
                if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                    return None;
                }
                if limit.rlim_cur < limit.rlim_max {
                    let raised = libc::rlimit {
                        rlim_cur: limit.rlim_max,
                        rlim_max: limit.rlim_max,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                        limit = raised;
                    } else {
                        tracing::warn!("cannot raise the open-file limit to {}", limit.rlim_max);
                    }
                }
            }
            Some(limit.rlim_cur)
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    })
}

/// The connections one server may hold open: `wanted`, but never more than
/// half of what the open-file limit leaves after [`FILES_KEPT_BACK`], so the
/// cap answers (503) before the kernel refuses to accept, and one listener
/// full of idle connections leaves the other its own.
pub fn connection_cap(wanted: usize) -> usize {
    match raise_open_file_limit() {
        Some(files) => {
            let share = files.saturating_sub(FILES_KEPT_BACK) / 2;
            wanted.min(usize::try_from(share).unwrap_or(usize::MAX).max(1))
        }
        None => wanted,
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets open
/// requests finish (idle connections close at once) and returns. Requests
/// meet the doors of the listener's address first.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    mut limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let doors = Arc::new(Doors::for_addr(listener.local_addr()?));
    limits.max_connections = connection_cap(limits.max_connections);
    let limits = Arc::new(limits);
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSALS_IN_FLIGHT));
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(err).await;
                    continue;
                }
            },
        };
        let (stream, peer) = stream;
        if let Err(err) = socket2::SockRef::from(&stream).set_send_buffer_size(limits.send_buffer) {
            tracing::debug!("cannot bound the send buffer: {err}");
        }
        if let Ok(permit) = open.clone().try_acquire_owned() {
            let front = Front {
                router: router.clone(),
                limits: limits.clone(),
                doors: doors.clone(),
                peer,
            };
            let connection = serve_connection(stream, permit, front, stopping.clone());
            tokio::spawn(connection);
        } else if let Ok(permit) = refusing.clone().try_acquire_owned() {
            tokio::spawn(refuse(stream, permit, limits.clone()));
        }
        // else: dropping `stream` closes it unanswered.
    }
    drop(listener);
    let _ = stop.send(true);
    // Every connection holds a permit until it ends: taking them all is
    // waiting for the last one.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = open.acquire_many(all).await;
    Ok(())
}

/// Out of file descriptors (or another resource): accepting again at once
/// would spin, so wait a little for connections to close.
async fn accept_failed(err: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!("accept failed: {err}");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

fn http1_builder(limits: &Limits) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .max_headers(HYPER_MAX_HEADERS)
        .max_buf_size(HYPER_MAX_BUF)
        .keep_alive(true);
    builder
}

async fn serve_connection(
    stream: TcpStream,
    permit: OwnedSemaphorePermit,
    front: Front,
    mut stopping: watch::Receiver<bool>,
) {
    let io = TokioIo::new(Guarded::new(stream, front.limits.write_stall, Some(permit)));
    let builder = http1_builder(&front.limits);
    let connection = builder.serve_connection(io, TowerToHyperService::new(front));
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => return log_end(result),
        _ = stopping.wait_for(|stop| *stop) => connection.as_mut().graceful_shutdown(),
    }
    log_end(connection.await);
}

fn log_end(result: Result<(), hyper::Error>) {
    if let Err(err) = result {
        tracing::debug!("connection ended: {err}");
    }
}

/// One 503 for a connection past the bound, then close.
async fn refuse(stream: TcpStream, _permit: OwnedSemaphorePermit, limits: Arc<Limits>) {
    let io = TokioIo::new(Guarded::new(stream, limits.write_stall, None));
    let max = limits.max_connections;
    let answer = hyper::service::service_fn(move |_: Request<Incoming>| {
        future::ok::<_, Infallible>(ApiError::TooManyConnections { limit: max }.into_response())
    });
    let mut builder = http1_builder(&limits);
    builder.keep_alive(false);
    log_end(builder.serve_connection(io, answer).await);
}

/// The per-connection service: refuses what the limits and the doors forbid
/// before the router sees it, gives every body its deadline and every
/// answer `nosniff`. The doors and the header are here rather than router
/// layers: a layer costs every request a boxed service clone and a boxed
/// future.
#[derive(Clone)]
struct Front {
    router: Router,
    limits: Arc<Limits>,
    doors: Arc<Doors>,
    peer: std::net::SocketAddr,
}

impl Service<Request<Incoming>> for Front {
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, Map<RouteFuture<Infallible>, Finish>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        let checked = check_head(request.uri(), request.headers(), &self.limits).and_then(|()| {
            self.doors
                .check(request.method(), request.uri().path(), request.headers())
        });
        if let Err(refusal) = checked {
            return Either::Left(future::ok(nosniff(refusal.into_response())));
        }
        let limit = self.limits.body_read;
        let mut request = request.map(|body| Body::new(DeadlineBody::new(body, limit)));
        // Only joining a room asks who the peer is (its limits are per
        // address); other requests are spared the extensions' allocation.
        if request.uri().path() == crate::protocol::JOIN_PATH {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(self.peer));
        }
        Either::Right(self.router.call(request).map(finish as Finish))
    }
}

/// What [`Front`] does to every answer of the router.
type Finish = fn(Result<Response, Infallible>) -> Result<Response, Infallible>;

fn finish(answer: Result<Response, Infallible>) -> Result<Response, Infallible> {
    answer.map(nosniff)
}

/// Browsers must take a JSON answer for JSON and a file for what its
/// `Content-Type` says (unless the answer set the header itself).
fn nosniff(mut response: Response) -> Response {
    response
        .headers_mut()
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    response
}

/// The head-size limits, checked below hyper's own so that the answer is
/// the lab's JSON and not hyper's bare status.
fn check_head(uri: &Uri, headers: &HeaderMap, limits: &Limits) -> Result<(), ApiError> {
    let target = uri
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    if target > limits.max_uri_bytes {
        return Err(ApiError::UriTooLong {
            limit: limits.max_uri_bytes,
        });
    }
    if headers.len() > limits.max_headers {
        return Err(ApiError::HeadersTooLarge {
            what: format!("more than {} headers", limits.max_headers),
        });
    }
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if bytes > limits.max_header_bytes {
        return Err(ApiError::HeadersTooLarge {
            what: format!("more than {} bytes of headers", limits.max_header_bytes),
        });
    }
    Ok(())
}

/// The body did not arrive by its deadline.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct BodyTimedOut(pub Duration);

/// A request body that fails once its deadline passes. The timer is made
/// only when a read has to wait, so bodiless requests never pay for it.
pub struct DeadlineBody {
    body: Incoming,
    deadline: Instant,
    timer: Option<Pin<Box<Sleep>>>,
    allowed: Duration,
}

impl DeadlineBody {
    fn new(body: Incoming, allowed: Duration) -> Self {
        DeadlineBody {
            body,
            deadline: Instant::now() + allowed,
            timer: None,
            allowed,
        }
    }
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        ready!(timer.as_mut().poll(cx));
        Poll::Ready(Some(Err(BodyTimedOut(this.allowed).into())))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A TCP stream whose writes fail once the peer has taken nothing for the
/// stall limit, and which holds the connection's slot until it closes.
struct Guarded {
    /// Released before the socket closes (fields drop in order), so a peer
    /// that sees the close can connect again at once.
    permit: Option<OwnedSemaphorePermit>,
    stream: TcpStream,
    stall: Duration,
    /// Armed while a write waits.
    timer: Option<Pin<Box<Sleep>>>,
    waiting: bool,
}

impl Guarded {
    fn new(stream: TcpStream, stall: Duration, permit: Option<OwnedSemaphorePermit>) -> Self {
        Guarded {
            permit,
            stream,
            stall,
            timer: None,
            waiting: false,
        }
    }

    /// Runs one write step; a step that has waited longer than the stall
    /// limit fails instead.
    fn bounded<T>(
        &mut self,
        cx: &mut Context<'_>,
        step: impl FnOnce(Pin<&mut TcpStream>, &mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if let Poll::Ready(result) = step(Pin::new(&mut self.stream), cx) {
            self.waiting = false;
            return Poll::Ready(result);
        }
        if !self.waiting {
            self.waiting = true;
            let deadline = Instant::now() + self.stall;
            match &mut self.timer {
                Some(timer) => timer.as_mut().reset(deadline),
                None => self.timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
        }
        let Some(timer) = self.timer.as_mut() else {
            return Poll::Pending; // armed just above
        };
        ready!(timer.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the peer took no data for the write-stall limit",
        )))
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.bounded(cx, |stream, cx| stream.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.bounded(cx, |stream, cx| stream.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.bounded(cx, |stream, cx| stream.poll_flush(cx))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.permit = None;
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
