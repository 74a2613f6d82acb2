//! The lab's web front: one port that serves the UI files, the auth API and
//! the lab API that starts runs and streams their events (docs/lab-api.md).
//! `refresh-race serve` and the desktop shell both run exactly this.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::classroom::{self, Classroom, RoomLimits};
use crate::protocol::Lane;
use crate::runs;
use crate::scenario::AbortOnDrop;
use crate::server::{self, listen, ApiError, AuthState, Limits};
use crate::settings::{self, Case, CrossTab, Mode, NetworkDriver, Policy, RunSettings, Strategy};
use crate::timeline::{EventKind, Recorder};
use crate::ui_files::{self, UiFiles};

/// The page may load only its own files and talk only to this server.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/// The policy of the browser runtime's tab Worker (`ui/worker/`) served
/// as `host` (the `Host` the doors let in). The Worker may load the UI's
/// own modules and the learner's, which the page hands it as text and it
/// turns into a `blob:` URL — the one thing the page's own policy forbids;
/// and it may talk to live runs only (`/lab/runs/`, where ids cannot be
/// guessed). Paths, not just the origin: `'self'` would let a module import
/// the lab's JSON (`import('/lab/classroom', {with: {type: 'json'}})` is a
/// fetch of the same origin).
pub fn worker_content_security_policy(host: &str) -> String {
    let script: String = WORKER_MODULE_FOLDERS
        .iter()
        .map(|folder| format!("http://{host}/{folder}/ "))
        .collect();
    format!(
        "default-src 'none'; script-src {script}blob:; connect-src http://{host}/lab/runs/; base-uri 'none'"
    )
}

/// The UI's folders a tab Worker loads modules from.
const WORKER_MODULE_FOLDERS: [&str; 4] = ["worker", "lib", "strategies", "vendor"];

/// Events the long-lived server keeps when nobody reads them.
pub const SERVE_RECORDER_CAPACITY: usize = 10_000;

/// Where `ui/` lives in a source checkout (a development override; the
/// binary has its own copy, see [`crate::ui_files`]).
pub fn default_ui_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/ui"))
}

/// The whole lab on one router, with the default long-lived API.
pub fn router(ui: impl Into<UiFiles>) -> Router {
    router_with(
        ui,
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
pub fn router_with(
    ui: impl Into<UiFiles>,
    api_settings: &RunSettings,
    api_recorder: Recorder,
) -> Router {
    router_with_limits(ui, api_settings, api_recorder, Limits::default())
}

/// [`router_with`], with chosen [`Limits`] (the store's size, the run
/// stream's buffer and stall limit). Serve it with the same limits.
pub fn router_with_limits(
    ui: impl Into<UiFiles>,
    api_settings: &RunSettings,
    api_recorder: Recorder,
    limits: Limits,
) -> Router {
    Lab::with_limits(ui.into(), api_settings, api_recorder, limits).instructor_router()
}

/// The CSP of a UI file: the page's, or the tab Worker's own. The CSP
/// governs documents and workers, so it rides on the UI files only: JSON
/// answers are not rendered, and the hot API routes stay lean.
async fn ui_policy(request: Request, next: axum::middleware::Next) -> Response {
    let worker = request.uri().path().starts_with("/worker/");
    let policy = match request.headers().get(header::HOST) {
        Some(host) if worker => host
            .to_str()
            .ok()
            .and_then(|host| HeaderValue::from_str(&worker_content_security_policy(host)).ok()),
        _ => None,
    };
    let mut response = next.run(request).await;
    let policy = match policy {
        Some(policy) => policy,
        // No Host (only in-process calls: the doors refuse it on the wire):
        // a Worker gets nothing at all.
        None if worker => HeaderValue::from_static("default-src 'none'"),
        None => HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    };
    response
        .headers_mut()
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(policy);
    response
}

/// One lab: its UI, its long-lived API, its live runs and, once opened, its
/// classroom. The instructor's router (loopback) and the room's router
/// (behind the classroom gate) share the live runs, so the lab's limit on
/// live runs holds for the whole room.
pub struct Lab {
    ui: UiFiles,
    api_settings: RunSettings,
    api_state: Arc<AuthState>,
    runs: Arc<runs::Runs>,
    /// The export places of every router of this lab.
    exports: Arc<tokio::sync::Semaphore>,
    room: Mutex<Option<OpenRoom>>,
}

/// A classroom that is open: its gate, where attendees join, and the task
/// serving them.
struct OpenRoom {
    classroom: Arc<Classroom>,
    join_url: String,
    task: AbortOnDrop<std::io::Result<()>>,
}

impl Lab {
    pub fn new(ui: UiFiles, api_settings: &RunSettings, api_recorder: Recorder) -> Arc<Self> {
        Self::with_limits(ui, api_settings, api_recorder, Limits::default())
    }

    /// A lab with chosen [`Limits`] (tests shorten them).
    pub fn with_limits(
        ui: UiFiles,
        api_settings: &RunSettings,
        api_recorder: Recorder,
        limits: Limits,
    ) -> Arc<Self> {
        Arc::new(Lab {
            ui,
            api_settings: api_settings.clone(),
            api_state: AuthState::long_lived_with(api_settings, api_recorder, limits),
            runs: Arc::new(runs::Runs::default()),
            exports: Arc::new(tokio::sync::Semaphore::new(
                crate::export::lab::EXPORTS_IN_FLIGHT,
            )),
            room: Mutex::new(None),
        })
    }

    /// Everything, for the lab's own (loopback) address, plus the
    /// classroom's controls.
    pub fn instructor_router(self: &Arc<Self>) -> Router {
        let classroom = Router::new()
            .route("/lab/classroom", get(roster))
            .route("/lab/classroom/status", get(classroom_status))
            .route("/lab/classroom/open", post(open_room))
            .route("/lab/classroom/close", post(close_room))
            .route("/lab/classroom/seats/{number}/remove", post(remove_seat))
            // The room as one (crate::classroom::room): push to every seat, read the results.
            .route("/lab/classroom/push", post(push_to_room))
            .route("/lab/classroom/results", get(room_results))
            .layer(axum::Extension(self.clone()));
        self.router(self.api_state.clone()).merge(classroom)
    }

    /// What attendees reach: the lab behind the classroom gate.
    pub fn room_router(self: &Arc<Self>, room: Arc<Classroom>) -> Router {
        self.router(self.api_state.clone())
            .layer(axum::middleware::from_fn_with_state(room, classroom::gate))
    }

    fn router(&self, api_state: Arc<AuthState>) -> Router {
        let ui: Router = match &self.ui {
            UiFiles::Embedded => Router::new().fallback(ui_files::serve_embedded),
            UiFiles::Dir(dir) => {
                let dir = UiDir::new(dir.clone());
                Router::new().fallback(move |request: Request| dir.clone().answer(request))
            }
        }
        .layer(axum::middleware::from_fn(ui_policy));
        let lab: Router<Arc<AuthState>> = Router::new()
            .route("/lab/options", get(options))
            .route("/lab/runs", post(runs::start_run))
            .route("/lab/runs/{id}/network", post(runs::command))
            .route(
                "/lab/runs/{id}/page",
                post(runs::page_report).get(runs::page_session),
            )
            .route("/lab/runs/{id}/api/{*rest}", any(runs::page_exchange))
            .route("/lab/explore", post(crate::explore::lab::explore_route))
            // explore: the tabs of an explored browser-runtime run (src/explore/page.rs)
            .route(
                "/lab/runs/explored/{id}/page",
                post(crate::explore::page::report_route).get(crate::explore::page::session_route),
            )
            .route(
                "/lab/runs/explored/{id}/api/{*rest}",
                any(crate::explore::page::exchange_route),
            )
            .route("/lab/clock", get(read_clock).post(travel))
            // The same limit as the auth API, so a 413 names the real limit.
            .layer(DefaultBodyLimit::max(server::BODY_LIMIT))
            .layer(axum::Extension(self.runs.clone()));
        lab.merge(server::routes(api_state.clone()))
            // Its own, larger body limit: a report is much bigger than settings.
            .merge(crate::export::lab::routes_sharing(self.exports.clone()))
            .method_not_allowed_fallback(server::method_not_allowed)
            .fallback_service(ui)
            // `X-Content-Type-Options: nosniff` is set by the accept loop
            // (server::listen), on every answer without a layer's cost.
            .with_state(api_state)
    }

    /// Opens the lab to the room on `addr` (port 0 picks one): a new code,
    /// a listener behind the gate. Opening again closes the previous room
    /// first, so the same port can be opened again.
    pub async fn open_room(self: &Arc<Self>, addr: SocketAddr) -> std::io::Result<RoomInfo> {
        self.open_room_with(addr, RoomLimits::default()).await
    }

    /// [`Lab::open_room`] with chosen [`RoomLimits`] (tests shorten them).
    pub async fn open_room_with(
        self: &Arc<Self>,
        addr: SocketAddr,
        limits: RoomLimits,
    ) -> std::io::Result<RoomInfo> {
        self.close_room().await;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        let room = Arc::new(Classroom::new(
            self.api_settings.clone(),
            limits,
            attendee_api,
        ));
        let join_url = format!("http://{bound}/join?code={}", room.code());
        let router = self.room_router(room.clone());
        let task = tokio::spawn(serve_router(listener, router, std::future::pending()));
        let open = OpenRoom {
            classroom: room,
            join_url,
            task: AbortOnDrop(task),
        };
        let info = open.info();
        let previous = self
            .room
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(open);
        if let Some(previous) = previous {
            previous.close().await; // opened by a concurrent call meanwhile
        }
        Ok(info)
    }

    /// Closes the room, if one is open: its port stops listening before
    /// this returns, and its connections end once their requests are done.
    /// Says whether one was open.
    pub async fn close_room(&self) -> bool {
        let open = self.room.lock().unwrap_or_else(|p| p.into_inner()).take();
        match open {
            Some(open) => {
                open.close().await;
                true
            }
            None => false,
        }
    }

    /// The open room as the instructor sees it, if one is open.
    pub fn room_info(&self) -> Option<RoomInfo> {
        let room = self.room.lock().unwrap_or_else(|p| p.into_inner());
        room.as_ref().map(OpenRoom::info)
    }

    /// Whether a classroom is open.
    pub fn room_open(&self) -> bool {
        self.room
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }
}

impl OpenRoom {
    /// Stops its accept loop and waits until the loop is gone, so its
    /// listener (and port) is released; dropping the loop also tells every
    /// connection it served to close.
    async fn close(mut self) {
        // Every seat's page hears it before its connection ends.
        self.classroom.board().close();
        self.task.0.abort();
        let _ = (&mut self.task.0).await;
    }

    fn info(&self) -> RoomInfo {
        RoomInfo {
            code: self.classroom.code().to_owned(),
            join_url: self.join_url.clone(),
            qr_svg: classroom::qr_svg(&self.join_url).unwrap_or_default(),
            limits: self.classroom.limits(),
            seats: self.classroom.roster(),
        }
    }
}

/// An attendee's own long-lived API: the auth routes and the lab clock,
/// over their own state.
fn attendee_api(state: Arc<AuthState>) -> Router {
    Router::new()
        .route("/lab/clock", get(read_clock).post(travel))
        .merge(server::routes(state.clone()))
        .fallback(server::not_found)
        .method_not_allowed_fallback(server::method_not_allowed)
        .with_state(state)
}

/// The instructor's view of the open classroom.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RoomInfo {
    pub code: String,
    pub join_url: String,
    /// The join URL as a QR code (SVG), for the screen.
    pub qr_svg: String,
    pub limits: RoomLimits,
    pub seats: Vec<classroom::Seat>,
}

/// `GET /lab/classroom`: the open room and who sits in it.
async fn roster(
    axum::Extension(lab): axum::Extension<Arc<Lab>>,
) -> Result<Json<RoomInfo>, ApiError> {
    lab.room_info().map(Json).ok_or(ApiError::NotFound {
        path: "/lab/classroom (no classroom is open: POST /lab/classroom/open)".into(),
    })
}

/// `GET /lab/classroom/status`: whose page this is, always 200 (so the
/// page can ask on every load without a failed request in its console).
/// The room's gate answers the same path for an attendee's page.
async fn classroom_status(axum::Extension(lab): axum::Extension<Arc<Lab>>) -> Json<Value> {
    Json(json!({"role": "instructor", "open": lab.room_open()}))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OpenRequest {
    /// The room-facing address; the machine's own when absent.
    host: Option<std::net::IpAddr>,
    #[serde(default)]
    port: u16,
}

/// `POST /lab/classroom/open`: share the lab with the room.
async fn open_room(
    axum::Extension(lab): axum::Extension<Arc<Lab>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<RoomInfo>, ApiError> {
    let request: OpenRequest = server::json_body_or_default(body, "classroom request")?;
    let host = match request.host {
        Some(host) => host,
        None => room_address().map_err(ApiError::Internal)?,
    };
    lab.open_room(SocketAddr::new(host, request.port))
        .await
        .map(Json)
        .map_err(|err| ApiError::Internal(format!("cannot open the classroom on {host}: {err}")))
}

/// `POST /lab/classroom/close`: the room's port closes; seats are gone.
async fn close_room(axum::Extension(lab): axum::Extension<Arc<Lab>>) -> Json<Value> {
    let closed = lab.close_room().await;
    Json(json!({"closed": closed}))
}

impl Lab {
    /// The open classroom, if any.
    pub fn classroom(&self) -> Option<Arc<Classroom>> {
        self.room
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|open| open.classroom.clone())
    }

    fn open_classroom(&self) -> Result<Arc<Classroom>, ApiError> {
        self.classroom().ok_or(ApiError::NotFound {
            path: "/lab/classroom (no classroom is open: POST /lab/classroom/open)".into(),
        })
    }
}

/// `POST /lab/classroom/push`: a setup or a lesson step to every seat.
async fn push_to_room(
    axum::Extension(lab): axum::Extension<Arc<Lab>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<crate::classroom::room::Push>, ApiError> {
    let room = lab.open_classroom()?;
    crate::classroom::room::push(&room, body).map(Json)
}

/// `GET /lab/classroom/results`: the room's results for the current push.
async fn room_results(
    axum::Extension(lab): axum::Extension<Arc<Lab>>,
) -> Result<Json<crate::classroom::room::RoomResults>, ApiError> {
    let room = lab.open_classroom()?;
    Ok(Json(crate::classroom::room::results(&room)))
}

/// `POST /lab/classroom/seats/{number}/remove`: frees one seat.
async fn remove_seat(
    axum::Extension(lab): axum::Extension<Arc<Lab>>,
    axum::extract::Path(number): axum::extract::Path<String>,
) -> Result<Json<Value>, ApiError> {
    let room = lab
        .room
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .map(|open| open.classroom.clone());
    let removed = match (room, number.parse::<u32>()) {
        (Some(room), Ok(number)) => room.remove(number),
        _ => false,
    };
    if !removed {
        return Err(ApiError::NotFound {
            path: format!("/lab/classroom/seats/{number} (no such seat in an open room)"),
        });
    }
    Ok(Json(json!({"removed": number})))
}

/// This machine's address on the room's network (the first non-loopback
/// IPv4 address of its interfaces).
pub fn room_address() -> Result<std::net::IpAddr, String> {
    local_ip_address::local_ip().map_err(|err| {
        format!("cannot find this machine's address on the room's network ({err}); give one with --room-host")
    })
}

/// Serves the lab on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    ui: impl Into<UiFiles>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, router(ui), shutdown).await
}

/// Serves any lab router on `listener` until `shutdown` resolves, with the
/// default [`Limits`], behind the lab's locked doors.
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router_with(listener, router, Limits::default(), shutdown).await
}

/// [`serve_router`] with chosen [`Limits`] (timeouts, connections).
pub async fn serve_router_with(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // listen::serve locks the doors of the listener's address.
    listen::serve(listener, router, limits, shutdown).await
}

async fn options() -> Json<Value> {
    // A preset also names its parameters, with their defaults, so the page
    // shows only the knobs the chosen server has.
    let policies: Vec<Value> = Policy::ALL
        .iter()
        .map(|p| {
            let mut entry = json!({"name": p.as_str(), "mirrors": p.mirrors()});
            if let Some(preset) = crate::settings::presets::preset(*p) {
                entry["knobs"] = json!({
                    "overlap_s": preset.overlap_s,
                    "reuse_count": preset.reuse_count,
                    "rotate": preset.rotate,
                });
            }
            entry
        })
        .collect();
    Json(json!({
        "defaults": RunSettings::default(),
        "cases": Case::ALL,
        "strategies": Strategy::ALL,
        // Those the browser runtime can run (ui/strategies/NAME.js).
        "page_strategies": Strategy::ALL.iter().filter(|s| s.in_page()).collect::<Vec<_>>(),
        "policies": policies,
        "networks": NetworkDriver::ALL,
        "cross_tabs": CrossTab::ALL,
        "modes": Mode::ALL,
        "runtimes": settings::Runtime::ALL,
        "challenges": crate::challenge::all(),
        "version": env!("CARGO_PKG_VERSION"),
        "limits": {
            "max_requests": settings::MAX_REQUESTS,
            "max_page_requests": settings::MAX_PAGE_REQUESTS,
            "max_latency_ms": settings::MAX_LATENCY_MS,
            "max_jitter_ms": settings::MAX_JITTER_MS,
            "max_grace_s": settings::MAX_GRACE_S,
            "min_speed": 0.05,
            "max_speed": 10.0,
            "max_access_ttl_s": settings::MAX_ACCESS_TTL_S,
            "max_refresh_window_s": settings::MAX_REFRESH_WINDOW_S,
            "max_live_runs": runs::MAX_LIVE_RUNS,
            "max_idle_s": settings::MAX_IDLE_S,
            "max_tabs": settings::MAX_TABS,
            "max_reuse_count": settings::MAX_REUSE_COUNT,
            "link_version": crate::link::LINK_VERSION,
            "max_link_chars": crate::link::MAX_LINK_CHARS,
            "max_link_json_bytes": crate::link::MAX_LINK_JSON_BYTES,
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

/// The UI's files, for GET and HEAD: nothing outside the folder (`..` or a
/// symlink that leads out), no redirect that a browser would read as
/// another host, and every error in JSON like the rest of the lab.
#[derive(Clone)]
struct UiDir {
    /// The folder with its symlinks resolved.
    root: Arc<PathBuf>,
    files: ServeDir,
}

impl UiDir {
    fn new(ui_dir: PathBuf) -> Self {
        let root = std::fs::canonicalize(&ui_dir).unwrap_or_else(|_| ui_dir.clone());
        UiDir {
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
        // 304 Not Modified (a reload's conditional GET) is not a redirect.
        if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
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
            // The CSP comes from `ui_policy`, around every UI file.
            _ => response.map(Body::new),
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
