//! Live runs on the lab's port: `POST /lab/runs` starts one and streams it
//! as NDJSON (docs/lab-api.md); `POST /lab/runs/{id}/network` pauses,
//! resumes, steps it or delivers its legs while it runs.
//!
//! Each run is registered under an id while it lives, so a network command
//! can find it. Ids are random, so a page of another site cannot name a
//! run. The registry is bounded: the lab's own runs ([`MAX_LIVE_RUNS`]) and
//! a classroom's seats together ([`ROOM_LIVE_RUNS`]) have places of their
//! own, so the room can never take the instructor's. A held run that nobody
//! touches for its `idle_s`, and a browser run whose page goes quiet for as
//! long, is abandoned and freed.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand::Rng;
use schemars::JsonSchema;
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;

use crate::classroom::{Attendee, RunPlace, RunQuota};

/// Who asks, in a classroom: the gate puts the attendee's quota on every
/// request of the room; the instructor's port has none.
type Quota = Extension<RunQuota>;
use crate::narrate::Narrator;
use crate::network::{Action, LegFilter, NetError, Network};
use crate::page::EndedRuns;
use crate::protocol::views::NetworkView;
use crate::protocol::wire::{PageReport, PageStart, StreamMessage};
use crate::protocol::LegId;
use crate::scenario::{self, Side};
use crate::server::{self, ApiError, AuthState};
use crate::settings::{NetworkDriver, RunSettings, Runtime};
use crate::timeline::Recorder;

/// Most of the lab's own runs (the instructor's port) alive at once,
/// streaming or held.
pub const MAX_LIVE_RUNS: usize = 32;

/// Most runs a classroom's seats have alive at once, all seats together:
/// 60 seats with 2 runs each. Counted apart from [`MAX_LIVE_RUNS`].
pub const ROOM_LIVE_RUNS: usize = 120;

/// Run ids are drawn from `[2^32, 2^53)`: unguessable from another origin,
/// and still exact as a JavaScript number.
const RUN_IDS: std::ops::Range<u64> = (1 << 32)..(1 << 53);

/// How long one network command may wait for the run to settle.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// How many ended runs the registry remembers (see [`Runs::ended`]).
const ENDED_KEPT: usize = 256;

/// The runs alive on this server.
pub struct Runs {
    live: Mutex<HashMap<u64, Slot>>,
    /// Runs that ended lately, with their owner: a browser run's page may
    /// still send a report that was on its way when the run ended (its tab
    /// failed and the page says so too). It is taken in and ignored, not
    /// answered as an unknown run, which the browser logs as an error.
    ended: EndedRuns<Option<Arc<Attendee>>>,
}

impl Default for Runs {
    fn default() -> Self {
        Self {
            live: Mutex::default(),
            ended: EndedRuns::new(ENDED_KEPT),
        }
    }
}

/// A run's place: whose share it counts against, and (once started) its
/// controls.
struct Slot {
    room: bool,
    control: Option<Control>,
}

/// What a network command needs of a live run.
#[derive(Clone)]
struct Control {
    network: Arc<Network>,
    client: Side,
    /// Tells the run's stream to send the network's new state.
    changed: Arc<Notify>,
    /// The classroom attendee who started it; `None` on the instructor's port.
    owner: Option<Arc<Attendee>>,
}

impl Control {
    fn view(&self) -> NetworkView {
        self.network.view(self.client.tab_view())
    }
}

/// A run's place in the registry, given back when dropped.
struct Registration {
    runs: Arc<Runs>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.runs.ended.retire(self.id, || {
            let slot = self.runs.lock().remove(&self.id)?;
            Some(slot.control?.owner)
        });
    }
}

impl Runs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Slot>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reserves an id in the lab's share or (`room`) the classroom's, or
    /// refuses when that share is full.
    fn reserve(self: &Arc<Self>, room: bool) -> Result<Registration, ApiError> {
        let mut live = self.lock();
        let taken = live.values().filter(|slot| slot.room == room).count();
        let (max, whose) = if room {
            (ROOM_LIVE_RUNS, "the room's seats have")
        } else {
            (MAX_LIVE_RUNS, "this lab has")
        };
        if taken >= max {
            return Err(ApiError::Busy {
                what: format!("{whose} {max} runs live already; finish or close one first"),
                retry_after_s: 5,
            });
        }
        let mut rng = rand::rng();
        let id = loop {
            let id = rng.random_range(RUN_IDS);
            if !live.contains_key(&id) {
                break id;
            }
        };
        live.insert(
            id,
            Slot {
                room,
                control: None,
            },
        );
        Ok(Registration {
            runs: self.clone(),
            id,
        })
    }

    /// True when run `id` ended lately and `caller` could have reached it.
    fn ended_lately(&self, id: &str, caller: Option<&Quota>) -> bool {
        self.ended
            .lately(id, |owner| reaches(caller, owner.as_ref()))
    }

    /// The run `id` as `caller` may reach it. An attendee reaches only their
    /// own runs; anyone else's answers as if it did not exist, so run ids
    /// cannot be probed. The instructor's port (no caller) reaches all.
    fn control(&self, id: &str, caller: Option<&Quota>) -> Result<Control, ApiError> {
        let unknown = || ApiError::UnknownRun { id: id.to_owned() };
        // Any text names no run: an id past u64 is as unknown as any other.
        let number: u64 = id.parse().map_err(|_| unknown())?;
        let control = self
            .lock()
            .get(&number)
            .and_then(|slot| slot.control.clone())
            .ok_or_else(unknown)?;
        if reaches(caller, control.owner.as_ref()) {
            Ok(control)
        } else {
            Err(unknown())
        }
    }
}

/// Whether `caller` may reach a run started by `owner`: the instructor's
/// port (no caller) reaches every run, an attendee only their own.
fn reaches(caller: Option<&Quota>, owner: Option<&Arc<Attendee>>) -> bool {
    match (caller, owner) {
        (None, _) => true,
        (Some(Extension(quota)), Some(owner)) => Arc::ptr_eq(&quota.attendee, owner),
        (Some(_), None) => false,
    }
}

/// Starts a run and streams it as NDJSON while it happens. Dropping the
/// response (the browser aborted the fetch) cancels the run.
pub async fn start_run(
    State(state): State<Arc<AuthState>>,
    Extension(runs): Extension<Arc<Runs>>,
    quota: Option<Extension<RunQuota>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let settings: RunSettings = server::json_body_or_default(body, "run settings")?;
    settings.validate()?;
    // A classroom attendee's run counts against their own places.
    let place = quota
        .map(|Extension(quota)| quota.take(&settings))
        .transpose()?;
    let registration = runs.reserve(place.is_some())?;

    // A bounded stream: a reader that falls behind costs at most
    // `stream_buffer` lines, and one that stalls gets the run cancelled.
    let limits = &state.limits;
    let (lines, body_lines) = mpsc::channel::<Bytes>(limits.stream_buffer.max(1));
    let (tail, tail_line) = oneshot::channel::<Bytes>();
    tokio::spawn(drive_run(
        settings,
        registration,
        place,
        Lines::new(lines, tail, limits.stream_stall),
    ));
    let last =
        futures::StreamExt::filter_map(futures::stream::once(tail_line), |line| async move {
            line.ok()
        });
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

    /// Ends the stream with `message`. The run's registration leaves
    /// first (the run counts as ended), so a reader that saw the stream
    /// end finds the run ended, never still registered: `finish` drops
    /// the sender, which ends the stream at once.
    fn finish(self, registration: Registration, message: &StreamMessage) {
        drop(registration);
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
/// A reader that leaves cancels the run; one that stalls for the stall
/// limit gets it cancelled and, if it reads again, an error line saying so.
async fn drive_run(
    settings: RunSettings,
    registration: Registration,
    place: Option<RunPlace>,
    lines: Lines,
) {
    // Locals drop in reverse: on an early return the registration leaves
    // (the run counts as ended) before the stream closes; `finish` keeps
    // that order on the other ways out.
    let lines = lines;
    let registration = registration;
    let recorder = Recorder::new();
    let mut live_events = recorder.subscribe();
    // The run's clock starts at wall time; it has not been made yet.
    let lab_now_ms = crate::clock::wall_now_ms();
    let started = match settings.runtime {
        Runtime::Rust => scenario::start(&settings, recorder.clone())
            .await
            .map(|live| (live, None)),
        Runtime::Browser => scenario::start_in_page(&settings, recorder.clone())
            .await
            .map(|(live, token, lab_now_ms)| {
                let id = registration.id;
                let page = PageStart {
                    api: format!("/lab/runs/{id}/api"),
                    report: format!("/lab/runs/{id}/page"),
                    token,
                    first_attempt: 2,
                    lab_now_ms,
                };
                (live, Some(page))
            }),
    };
    let (started, page) = match started {
        Ok((live, page)) => (Ok(live), page),
        Err(err) => (Err(err), None),
    };
    // Registered before the start line goes out, so a command sent as soon
    // as the page reads the run's id finds it.
    let control = started.as_ref().ok().map(|live| Control {
        network: live.network.clone(),
        client: live.client.clone(),
        changed: Arc::new(Notify::new()),
        owner: place.as_ref().map(|place| place.attendee().clone()),
    });
    if let Some(slot) = registration.runs.lock().get_mut(&registration.id) {
        slot.control = control.clone();
    }
    let start = StreamMessage::Start {
        settings: Box::new(settings.clone()),
        run: registration.id,
        lab_now_ms,
        page,
    };
    if lines.send(&start).await.is_err() {
        return;
    }
    let mut narrator = Narrator::new(&settings);
    let mut caption = |event: crate::timeline::Event| {
        let caption = narrator.say(&event);
        StreamMessage::Event { event, caption }
    };
    let (live, control) = match (started, control) {
        (Ok(live), Some(control)) => (live, control),
        (Err(err), _) => {
            while let Ok(event) = live_events.try_recv() {
                if lines.send(&caption(event)).await.is_err() {
                    return;
                }
            }
            lines.finish(
                registration,
                &StreamMessage::Error {
                    message: err.to_string(),
                },
            );
            return;
        }
        (Ok(_), None) => return,
    };
    if settings.runtime == Runtime::Browser {
        // A page's script can only play once the page has the start line
        // and its lanes are out.
        tokio::select! {
            played = live.play_script(&settings) => if let Err(err) = played {
                lines.finish(registration, &StreamMessage::Error { message: err.to_string() });
                return;
            },
            _ = lines.sender.closed() => return,
        }
    }
    let held = settings.network != NetworkDriver::Timer;
    if held {
        control.network.settled().await;
        control.changed.notify_one();
    }

    let finish = live.finish();
    tokio::pin!(finish);
    let result = loop {
        let idle = tokio::time::sleep_until(control.network.idle_deadline().into());
        tokio::select! {
            biased;
            Some(event) = live_events.recv() => match lines.send(&caption(event)).await {
                Ok(()) => {}
                Err(Gone::Left) => return, // dropping `finish` cancels the run
                Err(Gone::Stalled) => break None,
            },
            _ = async {
                tokio::select! {
                    _ = control.changed.notified() => {}
                    _ = control.network.acted() => {}
                }
            } => {
                // Events first: the view describes the state after them.
                while let Ok(event) = live_events.try_recv() {
                    if lines.send(&caption(event)).await.is_err() {
                        return;
                    }
                }
                let view = StreamMessage::Network { network: control.view() };
                if lines.send(&view).await.is_err() {
                    return;
                }
            }
            result = &mut finish => break Some(result),
            _ = lines.sender.closed() => return,
            // A page that stopped reporting (its tab closed, its module
            // hung) is as gone as a held run nobody touches.
            _ = idle, if control.network.is_held() || settings.runtime == Runtime::Browser => {
                if std::time::Instant::now() < control.network.idle_deadline() {
                    continue; // touched since the timer was set
                }
                let message = if control.network.is_held() {
                    format!(
                        "nobody touched this held run for {} s: it was abandoned and its resources freed",
                        settings.idle_s
                    )
                } else {
                    format!(
                        "the page sent nothing for this run for {} s: it was abandoned and its resources freed",
                        settings.idle_s
                    )
                };
                lines.finish(registration, &StreamMessage::Abandoned { message });
                return;
            }
        }
    };
    recorder.unsubscribe();
    let Some(result) = result else {
        let stall = lines.stall.as_secs_f64();
        lines.finish(
            registration,
            &StreamMessage::Error {
                message: format!("run cancelled: the viewer took no line for {stall} s"),
            },
        );
        return;
    };
    while let Ok(event) = live_events.try_recv() {
        if lines.send(&caption(event)).await.is_err() {
            return;
        }
    }
    if let (Some(place), Ok(report)) = (&place, &result) {
        place
            .attendee()
            .finished(&settings, &report.verdict, &report.solved);
    }
    let events = result.as_ref().map_or(0, |report| report.events.len());
    let last = match result {
        Ok(report) => StreamMessage::Done {
            verdict: report.verdict,
            lab_now_ms: report.lab_now_ms,
            delivered: report.delivered,
            dropped: report.dropped,
            solved: report.solved,
        },
        Err(err) => StreamMessage::Error {
            message: err.to_string(),
        },
    };
    lines.finish(registration, &last);
    // The run's events, connections and server are freed by now.
    if events >= TRIM_AFTER_EVENTS {
        tokio::task::spawn_blocking(server::release_freed_memory);
    }
}

/// A run with this many events freed enough memory to hand back: 10,000
/// requests make some 40,000 events and tens of megabytes (BENCHMARKS.md §3).
const TRIM_AFTER_EVENTS: usize = 10_000;

/// A command to a live run's network.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "command", rename_all = "kebab-case", deny_unknown_fields)]
pub enum NetworkCommand {
    /// Stop legs and lab clock.
    Pause,
    /// Let the timer deliver again.
    Resume,
    /// Deliver the next due leg.
    Step,
    /// Deliver one leg, e.g. `secret#1>`.
    Deliver { leg: LegId },
    /// Lose one leg in flight, a refresh's answer, e.g. `secret#1<`: the
    /// server decided, the client gets a network error.
    Drop { leg: LegId },
    /// Deliver every leg in flight that `filter` accepts (`*` by default):
    /// `secret#*>`, `*<`, `public#*`.
    DeliverAll {
        #[serde(default)]
        filter: Option<String>,
    },
    /// The laptop sleeps `seconds` now, then every open tab wakes.
    Sleep { seconds: u64 },
    /// Close tab `tab` now: its requests in flight are abandoned, its
    /// locks released.
    CloseTab { tab: u8 },
    /// Freeze tab `tab` now: it holds what it holds, forever.
    FreezeTab { tab: u8 },
}

/// `POST /lab/runs/{id}/network`: one command; answers the network after it
/// settled.
pub async fn command(
    Extension(runs): Extension<Arc<Runs>>,
    Path(id): Path<String>,
    caller: Option<Quota>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<NetworkView>, ApiError> {
    // The run first: an id that is no run's is 404 whatever the body.
    let control = runs.control(&id, caller.as_ref())?;
    let command: NetworkCommand = server::json_body(body, "network command")?;
    let network = control.network.clone();
    let act = async {
        match command {
            NetworkCommand::Pause => network.pause().await,
            NetworkCommand::Resume => network.resume().await,
            NetworkCommand::Step => {
                network.step().await?;
            }
            NetworkCommand::Deliver { leg } => network.deliver(leg).await?,
            NetworkCommand::Drop { leg } => {
                network.drop_leg(leg).await?;
            }
            NetworkCommand::DeliverAll { filter } => {
                let filter = match filter {
                    Some(text) => text.parse().map_err(ApiError::BadJson)?,
                    None => LegFilter::ALL,
                };
                network.deliver_all(&filter).await?;
            }
            NetworkCommand::Sleep { seconds } => network.act_now(Action::Sleep { seconds }).await?,
            NetworkCommand::CloseTab { tab } => network.act_now(Action::Close(tab)).await?,
            NetworkCommand::FreezeTab { tab } => network.act_now(Action::Freeze(tab)).await?,
        }
        Ok::<(), ApiError>(())
    };
    match tokio::time::timeout(COMMAND_TIMEOUT, act).await {
        Ok(outcome) => outcome?,
        Err(_) => {
            return Err(ApiError::Internal(format!(
                "run {id} did not settle within {} s",
                COMMAND_TIMEOUT.as_secs()
            )))
        }
    }
    control.changed.notify_one();
    Ok(Json(control.view()))
}

/// `ANY /lab/runs/{id}/api/{*rest}`: one exchange of a browser run's tab
/// with the run's own server.
pub async fn page_exchange(
    Extension(runs): Extension<Arc<Runs>>,
    Path((id, rest)): Path<(String, String)>,
    caller: Option<Quota>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let page = runs.page(&id, caller.as_ref())?;
    page.exchange(&rest, request).await
}

/// `POST /lab/runs/{id}/page`: the browser run's tab reports.
pub async fn page_report(
    Extension(runs): Extension<Arc<Runs>>,
    Path(id): Path<String>,
    caller: Option<Quota>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let control = match runs.control(&id, caller.as_ref()) {
        Ok(control) => control,
        Err(_) if runs.ended_lately(&id, caller.as_ref()) => {
            return Ok(Json(serde_json::json!({"ok": false, "gone": true})));
        }
        Err(err) => return Err(err),
    };
    let report: PageReport = server::json_body(body, "page report")?;
    let Side::Page(page) = &control.client else {
        return Err(ApiError::BadJson(format!(
            "run {id} runs its client in the engine (runtime rust): it takes no page reports"
        )));
    };
    page.report(report)?;
    Ok(Json(serde_json::json!({"ok": true})))
}

/// `GET /lab/runs/{id}/page`: the session the setup's login left for the
/// browser run's tabs beyond the start line's access token (OAuth mode: the
/// refresh token; `null` otherwise). Same-origin only, like the run's api.
pub async fn page_session(
    Extension(runs): Extension<Arc<Runs>>,
    Path(id): Path<String>,
    caller: Option<Quota>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let page = runs.page(&id, caller.as_ref())?;
    Ok(Json(page.session()))
}

impl Runs {
    fn page(
        &self,
        id: &str,
        caller: Option<&Quota>,
    ) -> Result<Arc<crate::page::PageClient>, ApiError> {
        match self.control(id, caller)?.client {
            Side::Page(page) => Ok(page),
            Side::Rust(_) => Err(ApiError::NotFound {
                path: format!("/lab/runs/{id}/api (run {id} runs its client in the engine)"),
            }),
        }
    }
}

impl From<NetError> for ApiError {
    fn from(err: NetError) -> Self {
        ApiError::Network(err)
    }
}
