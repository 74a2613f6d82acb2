//! The room as one: in classroom mode the instructor pushes a setup (a run
//! as a link, [`crate::link`]) or a lesson step to every seat, and reads the
//! room's results for it as they come in.
//!
//! - `POST /lab/classroom/push` (the instructor's port only; the room's gate
//!   answers 403 to a seat) puts `{"setup": "#s=1.…"}` and/or
//!   `{"step": "fix-it"}` on the room's [`Board`]. A setup is decoded and
//!   validated like any link before a seat sees it.
//! - `GET /lab/room/events` (a seat's page, behind the gate) is a stream of
//!   server-sent events: `room` with the seat's number and the current push
//!   at once and after every push, then `closed` when the instructor closes
//!   the room, and the stream ends. An `EventSource` reconnects by itself
//!   after a lost connection, so a seat back from lost Wi-Fi catches up.
//! - `GET /lab/room` is the seat's own state (its number, the push, its own
//!   runs of it, its lesson steps); `POST /lab/room/progress` tells the room
//!   which lesson steps the seat's page has checked.
//! - `GET /lab/classroom/results` (the instructor's) aggregates every seat:
//!   how many ran the pushed setup, how many were logged out, refresh calls
//!   as a histogram, who solved which challenge and lesson step. A seat
//!   reads its own state only.
//!
//! A seat's finished run counts for the push when it finished while that
//! push was current and its setup is the pushed one ([`Push::matches`]).

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::Request;
use axum::http::{header, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::{Attendee, Classroom};
use crate::challenge::ChallengeId;
use crate::server::{self, ApiError};
use crate::settings::RunSettings;
use crate::verdict::Verdict;

/// The workshop's steps, in order (the page's lesson panel, ui/lib/lesson.js,
/// checks each from a run's events and verdict).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum LessonStep {
    WatchTheRace,
    QueueTwice,
    FixIt,
    AcrossTabs,
    RealLibrary,
    ByHand,
    OwnInterceptor,
    EveryOrder,
}

impl LessonStep {
    pub const ALL: [LessonStep; 8] = [
        LessonStep::WatchTheRace,
        LessonStep::QueueTwice,
        LessonStep::FixIt,
        LessonStep::AcrossTabs,
        LessonStep::RealLibrary,
        LessonStep::ByHand,
        LessonStep::OwnInterceptor,
        LessonStep::EveryOrder,
    ];
}

/// What the instructor pushed last.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Push {
    /// 1, 2, … per room: a page that saw push `n` ignores it the second time.
    pub id: u64,
    /// The setup as a link fragment (`#s=1.…`), as the page opens it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup: Option<String>,
    /// A lesson step every seat's lesson panel opens at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<LessonStep>,
    /// The setup in a few words ("case3: naive client, strict server").
    pub summary: String,
    #[serde(skip)]
    settings: Option<RunSettings>,
}

impl Push {
    /// Whether a run with `settings` ran this push's setup: the same case,
    /// client (or module), server, runtime, tabs and network driver. The
    /// counts and speeds a seat may change do not matter.
    pub fn matches(&self, settings: &RunSettings) -> bool {
        self.settings.as_ref().is_some_and(|pushed| {
            pushed.case == settings.case
                && pushed.strategy == settings.strategy
                && pushed.policy == settings.policy
                && pushed.runtime == settings.runtime
                && pushed.module == settings.module
                && pushed.tabs == settings.tabs
                && pushed.cross_tab == settings.cross_tab
                && pushed.network == settings.network
        })
    }
}

/// What every seat's page hears.
#[derive(Debug, Clone, Default)]
struct Signal {
    push: Option<Push>,
    closed: bool,
}

/// The room's notice board: the current push, and whether the room closed.
pub struct Board {
    /// Names this room among the rooms the same port may serve in turn, so
    /// a page remembers which pushes it has already opened.
    id: String,
    signal: watch::Sender<Signal>,
    next_id: AtomicU64,
    /// Bumped whenever a result changes, so a reader can tell it is fresh.
    version: AtomicU64,
}

impl Default for Board {
    fn default() -> Self {
        let bytes: [u8; 8] = rand::random();
        Board {
            id: bytes.iter().map(|b| format!("{b:02x}")).collect(),
            signal: watch::Sender::new(Signal::default()),
            next_id: AtomicU64::new(1),
            version: AtomicU64::new(0),
        }
    }
}

impl Board {
    /// The push on the board now.
    pub fn current(&self) -> Option<Push> {
        self.signal.borrow().push.clone()
    }

    /// Puts a new push on the board; every seat hears it.
    fn put(&self, setup: Option<(String, RunSettings)>, step: Option<LessonStep>) -> Push {
        let summary = match (&setup, step) {
            (Some((_, s)), _) => {
                let client = s.module.clone().unwrap_or_else(|| s.strategy.to_string());
                format!("{}: {client} client, {} server", s.case, s.policy)
            }
            (None, Some(step)) => format!("lesson step {}", step_number(step)),
            (None, None) => String::new(),
        };
        let push = Push {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            setup: setup.as_ref().map(|(fragment, _)| fragment.clone()),
            settings: setup.map(|(_, settings)| settings),
            step,
            summary,
        };
        self.signal.send_modify(|s| s.push = Some(push.clone()));
        self.touch();
        push
    }

    /// The room closes: every seat's stream says so and ends.
    pub fn close(&self) {
        self.signal.send_modify(|s| s.closed = true);
    }

    pub fn is_closed(&self) -> bool {
        self.signal.borrow().closed
    }

    fn touch(&self) {
        self.version.fetch_add(1, Ordering::Relaxed);
    }
}

fn step_number(step: LessonStep) -> usize {
    LessonStep::ALL.iter().position(|s| *s == step).unwrap_or(0) + 1
}

/// One seat's part of the results: its runs of the current push and the
/// lesson steps its page checked.
#[derive(Default)]
pub struct SeatRecord {
    inner: Mutex<SeatInner>,
}

#[derive(Default, Clone)]
struct SeatInner {
    /// The push these runs are of.
    push: Option<u64>,
    runs: u64,
    /// The last run of it: logged out, and its refresh calls.
    last: Option<(bool, u32)>,
    steps: BTreeSet<LessonStep>,
}

impl SeatRecord {
    fn lock(&self) -> std::sync::MutexGuard<'_, SeatInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A run of this seat finished with `verdict`: it counts if it ran the
    /// push on `board`.
    pub fn finished(&self, board: &Board, settings: &RunSettings, verdict: &Verdict) {
        let Some(push) = board.current() else { return };
        if !push.matches(settings) {
            return;
        }
        let mut inner = self.lock();
        if inner.push != Some(push.id) {
            inner.push = Some(push.id);
            inner.runs = 0;
        }
        inner.runs += 1;
        inner.last = Some((verdict.logouts > 0, verdict.refresh_calls));
        drop(inner);
        board.touch();
    }

    fn of_push(&self, push: Option<u64>) -> (u64, Option<(bool, u32)>, BTreeSet<LessonStep>) {
        let inner = self.lock();
        if push.is_some() && inner.push == push {
            (inner.runs, inner.last, inner.steps.clone())
        } else {
            (0, None, inner.steps.clone())
        }
    }
}

/// A seat as the results show it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SeatResult {
    pub number: u32,
    /// Runs of the pushed setup.
    pub runs: u64,
    /// Whether its last run of it logged out (none yet: `null`).
    pub logged_out: Option<bool>,
    /// Refresh calls in its last run of it.
    pub refresh_calls: Option<u32>,
    pub solved: Vec<ChallengeId>,
    pub steps: Vec<LessonStep>,
}

/// One bar of the refresh-calls histogram: how many seats' last runs made
/// `calls` refresh calls.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Bucket {
    pub calls: u32,
    pub seats: usize,
}

/// The room's results for the current push.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RoomResults {
    /// Changes whenever a result does.
    pub version: u64,
    /// Seats in the room.
    pub seats: usize,
    pub push: Option<Push>,
    /// Seats that ran the pushed setup.
    pub ran: usize,
    /// Their runs of it, all together.
    pub runs: u64,
    /// Seats whose last run of it logged the user out.
    pub logged_out: usize,
    /// Refresh calls of each seat's last run, by count.
    pub refresh_calls: Vec<Bucket>,
    /// Per challenge, the seats that solved it (every challenge listed).
    pub challenges: BTreeMap<ChallengeId, Vec<u32>>,
    /// Per lesson step, the seats that did it (every step listed).
    pub steps: BTreeMap<LessonStep, Vec<u32>>,
    /// Every seat, in joining order.
    pub rows: Vec<SeatResult>,
}

/// The results of `room` now.
pub fn results(room: &Classroom) -> RoomResults {
    let board = room.board();
    let push = board.current();
    let version = board.version.load(Ordering::Relaxed);
    let push_id = push.as_ref().map(|p| p.id);
    let rows: Vec<SeatResult> = room
        .attendees()
        .iter()
        .map(|a| {
            let (runs, last, steps) = a.record().of_push(push_id);
            SeatResult {
                number: a.number,
                runs,
                logged_out: last.map(|(out, _)| out),
                refresh_calls: last.map(|(_, calls)| calls),
                solved: a.solved_challenges(),
                steps: steps.into_iter().collect(),
            }
        })
        .collect();
    let mut histogram: BTreeMap<u32, usize> = BTreeMap::new();
    for calls in rows.iter().filter_map(|r| r.refresh_calls) {
        *histogram.entry(calls).or_default() += 1;
    }
    let mut challenges: BTreeMap<ChallengeId, Vec<u32>> = ChallengeId::ALL
        .iter()
        .map(|id| (*id, Vec::new()))
        .collect();
    let mut steps: BTreeMap<LessonStep, Vec<u32>> =
        LessonStep::ALL.iter().map(|s| (*s, Vec::new())).collect();
    for row in &rows {
        for id in &row.solved {
            challenges.entry(*id).or_default().push(row.number);
        }
        for step in &row.steps {
            steps.entry(*step).or_default().push(row.number);
        }
    }
    RoomResults {
        version,
        seats: rows.len(),
        ran: rows.iter().filter(|r| r.runs > 0).count(),
        runs: rows.iter().map(|r| r.runs).sum(),
        logged_out: rows.iter().filter(|r| r.logged_out == Some(true)).count(),
        refresh_calls: histogram
            .into_iter()
            .map(|(calls, seats)| Bucket { calls, seats })
            .collect(),
        challenges,
        steps,
        push,
        rows,
    }
}

/// What the instructor pushes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PushRequest {
    /// A link or its fragment (`#s=1.…`).
    #[serde(default)]
    setup: Option<String>,
    #[serde(default)]
    step: Option<LessonStep>,
}

/// `POST /lab/classroom/push` on the instructor's port.
pub fn push(room: &Classroom, body: Result<Bytes, BytesRejection>) -> Result<Push, ApiError> {
    let request: PushRequest = server::json_body(body, "push")?;
    if request.setup.is_none() && request.step.is_none() {
        return Err(ApiError::BadJson(
            "a push names a setup (\"setup\": \"#s=1.…\") or a lesson step (\"step\"), or both"
                .into(),
        ));
    }
    let setup = match request.setup {
        Some(text) => {
            let link =
                crate::link::decode(&text).map_err(|err| ApiError::BadJson(err.to_string()))?;
            if link.source.is_some() {
                // A seat's own module is the learner's: a push never replaces it.
                return Err(ApiError::BadJson(
                    "a pushed setup carries no module: each seat runs it with its own client"
                        .into(),
                ));
            }
            let start = text
                .find(crate::link::FRAGMENT_PREFIX)
                .ok_or_else(|| ApiError::BadJson(crate::link::LinkError::NoSetup.to_string()))?;
            Some((text[start..].to_owned(), link.settings))
        }
        None => None,
    };
    Ok(room.board().put(setup, request.step))
}

/// A seat's own state.
#[derive(Debug, Serialize)]
struct SeatState {
    room: String,
    seat: u32,
    push: Option<Push>,
    runs: u64,
    logged_out: Option<bool>,
    refresh_calls: Option<u32>,
    steps: Vec<LessonStep>,
    closed: bool,
}

fn seat_state(room: &Classroom, attendee: &Attendee) -> SeatState {
    let board = room.board();
    let push = board.current();
    let (runs, last, steps) = attendee.record().of_push(push.as_ref().map(|p| p.id));
    SeatState {
        room: board.id.clone(),
        seat: attendee.number,
        push,
        runs,
        logged_out: last.map(|(out, _)| out),
        refresh_calls: last.map(|(_, calls)| calls),
        steps: steps.into_iter().collect(),
        closed: board.is_closed(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Progress {
    steps: Vec<LessonStep>,
}

/// The seat's routes under `/lab/room`, behind the gate: its own state,
/// the room's events, its lesson progress.
pub async fn seat_answer(
    room: &Arc<Classroom>,
    attendee: &Arc<Attendee>,
    request: Request,
) -> Response {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    match (path.as_str(), method) {
        ("/lab/room", Method::GET) => Json(seat_state(room, attendee)).into_response(),
        ("/lab/room/events", Method::GET) => events(room.clone(), attendee.number),
        ("/lab/room/progress", Method::POST) => {
            let body = axum::body::to_bytes(request.into_body(), server::BODY_LIMIT)
                .await
                .map_err(|_| ApiError::PayloadTooLarge {
                    limit: server::BODY_LIMIT,
                });
            let progress: Result<Progress, ApiError> =
                body.and_then(|bytes| server::json_body(Ok(bytes), "lesson progress"));
            match progress {
                Ok(progress) => {
                    attendee.record().lock().steps.extend(progress.steps);
                    room.board().touch();
                    Json(seat_state(room, attendee)).into_response()
                }
                Err(err) => err.into_response(),
            }
        }
        ("/lab/room" | "/lab/room/events" | "/lab/room/progress", method) => {
            ApiError::MethodNotAllowed {
                method: method.to_string(),
                path,
            }
            .into_response()
        }
        _ => ApiError::NotFound { path }.into_response(),
    }
}

/// One server-sent event.
fn sse(event: &str, data: &serde_json::Value) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

/// `GET /lab/room/events`: the room as a seat hears it.
fn events(room: Arc<Classroom>, seat: u32) -> Response {
    let receiver = room.board().signal.subscribe();
    let id = room.board().id.clone();
    drop(room);
    // `Some(rx)`: still listening; `None`: the room closed, the stream ends.
    let stream = futures::stream::unfold(Some((receiver, true)), move |state| {
        let id = id.clone();
        async move {
            let (mut rx, first) = state?;
            if !first && rx.changed().await.is_err() {
                let line = sse("closed", &serde_json::json!({"seat": seat}));
                return Some((Ok::<_, Infallible>(line), None));
            }
            let signal = rx.borrow_and_update().clone();
            if signal.closed {
                let line = sse("closed", &serde_json::json!({"seat": seat}));
                return Some((Ok(line), None));
            }
            let line = sse(
                "room",
                &serde_json::json!({"room": id, "seat": seat, "push": signal.push}),
            );
            Some((Ok(line), Some((rx, false))))
        }
    });
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}
