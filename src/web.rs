//! The lab's web front: one port that serves the UI files, the auth API and
//! the lab API that starts runs and streams their events (docs/lab-api.md).
//! `refresh-race serve` and the desktop shell both run exactly this.

use std::convert::Infallible;
use std::future::Future;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;
use tower::ServiceExt;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::clock::LabClock;
use crate::protocol::{Lane, StreamMessage};
use crate::scenario;
use crate::server::{self, listen, ApiError, AuthState, Limits};
use crate::settings::{self, Case, Policy, RunSettings, Strategy};
use crate::timeline::{EventKind, Recorder};

/// The page may load only its own files and talk only to this server.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/// Events the long-lived server keeps when nobody reads them.
pub const SERVE_RECORDER_CAPACITY: usize = 10_000;

/// Where `ui/` lives in a source checkout.
pub fn default_ui_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/ui"))
}

/// The whole lab on one router, with the default long-lived API.
pub fn router(ui_dir: PathBuf) -> Router {
    router_with(
        ui_dir,
        &long_lived_api_settings(),
        Recorder::bounded(SERVE_RECORDER_CAPACITY),
    )
}

/// Settings of the `/api/*` routes on the lab's own port: the API a browser
/// or a load generator calls directly, so no simulated latency.
pub fn long_lived_api_settings() -> RunSettings {
    RunSettings {
        latency_ms: settings::Latency::ZERO,
        ..RunSettings::default()
    }
}

/// The whole lab on one router. `api_settings` configure the long-lived
/// `/api/*` server (policy, lifetimes); `api_recorder` receives its events:
/// a bounded one so a minute of load cannot grow the process, or
/// `Recorder::disabled()` to measure what recording costs.
pub fn router_with(ui_dir: PathBuf, api_settings: &RunSettings, api_recorder: Recorder) -> Router {
    router_with_limits(ui_dir, api_settings, api_recorder, Limits::default())
}

/// [`router_with`], with chosen [`Limits`] (the store's size, the run
/// stream's buffer and stall limit). Serve it with the same limits.
pub fn router_with_limits(
    ui_dir: PathBuf,
    api_settings: &RunSettings,
    api_recorder: Recorder,
    limits: Limits,
) -> Router {
    let clock = LabClock::with_rate(api_settings.speed);
    let api_state = AuthState::build(api_settings, api_recorder, limits, clock);
    let ui = UiFiles::new(ui_dir);
    let lab: Router<Arc<AuthState>> = Router::new()
        .route("/lab/options", get(options))
        .route("/lab/runs", post(start_run))
        .route("/lab/clock", get(read_clock).post(travel))
        // The same limit as the auth API, so a 413 names the real limit.
        .layer(DefaultBodyLimit::max(server::BODY_LIMIT));
    lab.merge(server::routes())
        .method_not_allowed_fallback(server::method_not_allowed)
        .fallback(move |request: Request| ui.clone().answer(request))
        .with_state(api_state)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
}

/// Serves the lab on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    ui_dir: PathBuf,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, router(ui_dir), shutdown).await
}

/// Serves any lab router on `listener` until `shutdown` resolves, with the
/// default [`Limits`].
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listen::serve(listener, router, Limits::default(), shutdown).await
}

/// [`serve_router`] with chosen [`Limits`] (timeouts, connections).
pub async fn serve_router_with(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listen::serve(listener, router, limits, shutdown).await
}

/// The UI's files, for GET and HEAD: nothing outside the folder (`..` or a
/// symlink that leads out), no redirect that a browser would read as
/// another host, and every error in JSON like the rest of the lab.
#[derive(Clone)]
struct UiFiles {
    /// The folder with its symlinks resolved.
    root: Arc<PathBuf>,
    files: ServeDir,
}

impl UiFiles {
    fn new(ui_dir: PathBuf) -> Self {
        let root = std::fs::canonicalize(&ui_dir).unwrap_or_else(|_| ui_dir.clone());
        UiFiles {
            root: Arc::new(root),
            files: ServeDir::new(ui_dir),
        }
    }

    async fn answer(self, request: Request) -> Response {
        let path = request.uri().path().to_owned();
        let not_found = || ApiError::NotFound { path: path.clone() }.into_response();
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            // Nothing outside /api and /lab takes anything but GET.
            return not_found();
        }
        if self.leads_out(&path).await {
            return not_found();
        }
        let Ok(response) = self.files.oneshot(request).await;
        let status = response.status();
        if status.is_redirection() {
            // ServeDir sends `/lib` to `/lib/`; for `//lib` that would be
            // `//lib/`, which a browser reads as the host `lib`.
            let location = response.headers().get(header::LOCATION);
            let elsewhere = location.is_none_or(|to| {
                let to = to.as_bytes();
                to.len() < 2 || to[0] != b'/' || matches!(to[1], b'/' | b'\\')
            });
            if elsewhere {
                return not_found();
            }
        }
        match status {
            StatusCode::NOT_FOUND => not_found(),
            status if status.is_client_error() || status.is_server_error() => {
                ApiError::FileService { status }.into_response()
            }
            _ => {
                let mut response = response.map(Body::new);
                // The CSP governs documents, so it rides on the UI files
                // only: JSON answers are not rendered, and the hot API
                // routes stay lean.
                response
                    .headers_mut()
                    .entry(header::CONTENT_SECURITY_POLICY)
                    .or_insert(HeaderValue::from_static(CONTENT_SECURITY_POLICY));
                response
            }
        }
    }

    /// True when `path` names a file or folder whose real place, symlinks
    /// resolved, is outside the UI folder (a folder is served by its
    /// `index.html`, so that is checked too).
    async fn leads_out(&self, path: &str) -> bool {
        let Some(relative) = ui_relative_path(path) else {
            return false; // ServeDir refuses it with a 404 itself
        };
        let candidate = self.root.join(relative);
        for target in [candidate.join("index.html"), candidate] {
            if let Ok(real) = tokio::fs::canonicalize(&target).await {
                if !real.starts_with(self.root.as_path()) {
                    return true;
                }
            }
        }
        false
    }
}

/// The file a request path names inside the UI folder, read as ServeDir
/// reads it (percent-decoded, only plain names); `None` for what it refuses.
fn ui_relative_path(path: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(path.trim_start_matches('/'))
        .decode_utf8()
        .ok()?;
    let mut relative = PathBuf::new();
    for component in Path::new(&*decoded).components() {
        match component {
            Component::Normal(name) => relative.push(name),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(relative)
}

async fn options() -> Json<Value> {
    let policies: Vec<Value> = Policy::ALL
        .iter()
        .map(|p| json!({"name": p.as_str(), "mirrors": p.mirrors()}))
        .collect();
    Json(json!({
        "defaults": RunSettings::default(),
        "cases": Case::ALL,
        "strategies": Strategy::ALL,
        "policies": policies,
        "limits": {
            "max_requests": settings::MAX_REQUESTS,
            "max_latency_ms": settings::MAX_LATENCY_MS,
            "max_jitter_ms": settings::MAX_JITTER_MS,
            "max_grace_s": settings::MAX_GRACE_S,
            "min_speed": 0.05,
            "max_speed": 10.0,
            "max_access_ttl_s": settings::MAX_ACCESS_TTL_S,
            "max_refresh_window_s": settings::MAX_REFRESH_WINDOW_S,
        },
    }))
}

/// The long-lived server's lab clock, for walking one token by hand.
async fn read_clock(State(state): State<Arc<AuthState>>) -> Json<Value> {
    Json(clock_json(&state))
}

fn clock_json(state: &AuthState) -> Value {
    json!({
        "lab_now_ms": state.clock.now_ms(),
        "access_ttl_s": state.access_ttl_s,
        "refresh_window_s": state.refresh_window_s,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Travel {
    advance_s: f64,
}

/// Least time travel in one step: a millisecond (the clock never goes back).
const MIN_TRAVEL_S: f64 = 0.001;
/// Most time travel in one step: a day.
const MAX_TRAVEL_S: f64 = 86_400.0;

/// Time travel: moves the long-lived server's lab clock forward.
async fn travel(
    State(state): State<Arc<AuthState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let travel: Travel = server::json_body(body, "time travel")?;
    if !(travel.advance_s >= MIN_TRAVEL_S && travel.advance_s <= MAX_TRAVEL_S) {
        return Err(settings::SettingsError::OutOfRange {
            field: "advance_s",
            min: MIN_TRAVEL_S.to_string(),
            max: MAX_TRAVEL_S.to_string(),
            got: travel.advance_s.to_string(),
        }
        .into());
    }
    let by_ms = (travel.advance_s * 1000.0).round() as u64;
    let lab_now_ms = state.clock.advance_ms(by_ms);
    state
        .recorder
        .record(Lane::Server, EventKind::ClockAdvanced { by_ms, lab_now_ms });
    Ok(Json(clock_json(&state)))
}

/// Starts a run and streams it as NDJSON while it happens. Dropping the
/// response (the browser aborted the fetch) cancels the run, and so does a
/// reader that takes no line for the stall limit (see [`drive_run`]).
async fn start_run(
    State(state): State<Arc<AuthState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let bytes = server::read_body(body)?;
    let settings: RunSettings = if bytes.iter().all(u8::is_ascii_whitespace) {
        RunSettings::default()
    } else {
        server::parse_json(&bytes, "run settings")?
    };
    settings.validate()?;

    let limits = &state.limits;
    let (lines, body_lines) = mpsc::channel::<Bytes>(limits.stream_buffer.max(1));
    let (tail, tail_line) = oneshot::channel::<Bytes>();
    tokio::spawn(drive_run(
        settings,
        Lines::new(lines, tail, limits.stream_stall),
    ));
    let last = futures::stream::once(tail_line).filter_map(|line| async move { line.ok() });
    let stream = ReceiverStream::new(body_lines)
        .chain(last)
        .map(Ok::<_, Infallible>);
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// The sending end of a run's stream: a bounded buffer, so a reader that
/// falls behind costs at most `stream_buffer` lines, never the whole run;
/// the last line has a slot of its own, so it gets through even when the
/// buffer is full (it follows every buffered line).
struct Lines {
    sender: mpsc::Sender<Bytes>,
    tail: oneshot::Sender<Bytes>,
    stall: Duration,
}

/// Why a line could not be sent.
enum Gone {
    /// The reader closed the stream.
    Left,
    /// The buffer stayed full for the whole stall limit.
    Stalled,
}

impl Lines {
    fn new(sender: mpsc::Sender<Bytes>, tail: oneshot::Sender<Bytes>, stall: Duration) -> Self {
        Lines {
            sender,
            tail,
            stall,
        }
    }

    /// Ends the stream with `message`.
    fn finish(self, message: &StreamMessage) {
        let _ = self.tail.send(Bytes::from(message.to_line()));
    }

    /// Queues one line, waiting at most the stall limit for room.
    async fn send(&self, message: &StreamMessage) -> Result<(), Gone> {
        use mpsc::error::{SendTimeoutError, TrySendError};
        let line = Bytes::from(message.to_line());
        let line = match self.sender.try_send(line) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Closed(_)) => return Err(Gone::Left),
            Err(TrySendError::Full(line)) => line,
        };
        match self.sender.send_timeout(line, self.stall).await {
            Ok(()) => Ok(()),
            Err(SendTimeoutError::Closed(_)) => Err(Gone::Left),
            Err(SendTimeoutError::Timeout(_)) => Err(Gone::Stalled),
        }
    }
}

/// Runs the scenario and forwards each event as a line, as it is recorded.
/// A reader that leaves cancels the run; one that stalls gets it cancelled
/// and, if it reads again, an error line saying so.
async fn drive_run(settings: RunSettings, lines: Lines) {
    let recorder = Recorder::new();
    let mut live = recorder.subscribe();
    // The run's clock starts at wall time; it has not been made yet.
    let now_ms = crate::clock::wall_now_ms();
    let start = StreamMessage::Start {
        settings: settings.clone(),
        lab_now_ms: now_ms,
    };
    if lines.send(&start).await.is_err() {
        return;
    }
    let mut run = Box::pin(scenario::run_recorded(&settings, recorder.clone()));
    let forward = |event| StreamMessage::Event { event };
    let result = loop {
        tokio::select! {
            biased;
            Some(event) = live.recv() => match lines.send(&forward(event)).await {
                Ok(()) => {}
                Err(Gone::Left) => return, // dropping `run` cancels it
                Err(Gone::Stalled) => break None,
            },
            result = &mut run => break Some(result),
            _ = lines.sender.closed() => return,
        }
    };
    drop(run);
    recorder.unsubscribe();
    let Some(result) = result else {
        let stalled = StreamMessage::Error {
            message: format!(
                "run cancelled: the viewer took no line for {} s",
                lines.stall.as_secs_f64()
            ),
        };
        lines.finish(&stalled);
        return;
    };
    while let Ok(event) = live.try_recv() {
        if lines.send(&forward(event)).await.is_err() {
            return;
        }
    }
    let (last, events) = match result {
        Ok(report) => (
            StreamMessage::Done {
                verdict: report.verdict,
                lab_now_ms: report.lab_now_ms,
            },
            report.events.len(),
        ),
        Err(err) => (
            StreamMessage::Error {
                message: err.to_string(),
            },
            0,
        ),
    };
    lines.finish(&last);
    // The run's events, connections and server are freed by now.
    if events >= TRIM_AFTER_EVENTS {
        tokio::task::spawn_blocking(server::release_freed_memory);
    }
}

/// A run with this many events freed enough memory to hand back: 10,000
/// requests make some 40,000 events and tens of megabytes (BENCHMARKS.md §3).
const TRIM_AFTER_EVENTS: usize = 10_000;
