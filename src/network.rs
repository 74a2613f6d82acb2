//! The lab's network: every HTTP exchange of a run crosses it twice — the
//! request leg (to the server, before the handler runs) and the response
//! leg (back to the client) — and one scheduler decides when each leg goes.
//!
//! Three drivers (docs/design.md, "The network"):
//! - `timer`: a leg goes when its latency is up (per-route latency plus a
//!   jitter drawn from the seed, the lane and the route);
//! - `step`: the run stands still, legs and lab clock, until the user steps
//!   (the next due leg) or resumes;
//! - `hand`: nothing goes until the user picks a leg.
//!
//! Any timer run can be paused, stepped and resumed. While held, wakes are
//! serial ([`Motion`]): each delivery runs to its consequences before the
//! next, so one order of deliveries always gives the same run.
//!
//! Only request lanes (`secret#1`, …) of a run's own server are scheduled;
//! the setup's login and callers without a lab lane header just wait out
//! their latency.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, Notify};

use crate::clock::LabClock;
use crate::motion::Motion;
use crate::protocol::views::{LegView, NetworkView, TabView};
use crate::protocol::{
    Direction, Exchange, Lane, LaneKind, LegId, LostAnswer, Reason, Route, TabNo,
};
use crate::settings::{NetworkDriver, Point, RunSettings};

/// Mixed into the jitter so that two routes of one lane differ.
fn salt(route: Route) -> u64 {
    match route {
        Route::Public => 1,
        Route::Secret => 2,
        Route::Refresh => 3,
        Route::Login => 4,
    }
}

/// How long the non-atomic store's check and revoke stand apart in a timer
/// run (nominal ms): a stand-in for the database round trip real servers
/// have there. Long enough that refreshes arriving together all read "not
/// yet spent", even on a loaded 2-core machine.
pub const NON_ATOMIC_GAP_MS: u64 = 20;

/// Why a network command was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NetError {
    #[error("no leg {leg} is in flight (in flight now: {in_flight})")]
    UnknownLeg { leg: LegId, in_flight: String },
    #[error("{leg} is not a refresh's answer: only the answer to a refresh call (a leg back to the client, exchange refresh) can be lost")]
    NotARefreshAnswer { leg: LegId },
    #[error("no leg is in flight: the run is finishing")]
    NothingInFlight,
    #[error("{0}")]
    BadAction(String),
}

/// What a leg is, as the middleware knows it when the leg starts.
pub struct LegInfo {
    /// Only request lanes of a run are scheduled; others pass.
    pub lane: Option<Lane>,
    pub exchange: Exchange,
    pub route: Route,
    pub attempt: Option<u64>,
    pub jti: LegJti,
    pub status: Option<u16>,
    pub reason: Option<Reason>,
}

/// The token a leg presents, as the network shows it. Read only when the
/// leg waits in view (queued): naming it decodes the token, which cost a
/// zero-latency stampede more than the leg's whole crossing (BENCHMARKS §1).
#[derive(Debug, Clone, Default)]
pub enum LegJti {
    #[default]
    None,
    /// The request's one Authorization header, named by `name` (the
    /// server's reading of a token) when shown.
    Presented {
        header: axum::http::HeaderValue,
        name: fn(&axum::http::HeaderValue) -> Option<String>,
    },
    /// Already named (a refresh credential's name).
    Named(String),
}

impl LegJti {
    fn read(self) -> Option<String> {
        match self {
            LegJti::None => None,
            LegJti::Presented { header, name } => name(&header),
            LegJti::Named(name) => Some(name),
        }
    }
}

struct Pending {
    view: LegView,
    go: oneshot::Sender<Arrival>,
    /// The refresh call this answers (1 = the run's first), if it is one.
    refresh: Option<u32>,
}

/// How a leg ends: delivered, lost on the way (a refresh's answer), or
/// abandoned (its tab was closed, or the run torn down): nobody waits for
/// it, and the handler does nothing more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    Delivered,
    Lost,
    Abandoned,
}

/// A lifecycle action of a run (sleep, close or freeze a tab), carried out
/// by the run's [`Lifecycle`] at its point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Sleep { seconds: u64 },
    Close(TabNo),
    Freeze(TabNo),
}

/// When an action happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    /// Lab ms after the burst, on the network's time (a sleep).
    AtMs(u64),
    After(Point),
}

/// How far a check for due actions looks: points reached only (`Now`),
/// and sleeps set before a delivery due at some ms after the burst
/// (`Before`), or every sleep (`Quiet`: nothing is left in flight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Horizon {
    Now,
    Before(u64),
    Quiet,
}

impl Horizon {
    fn reaches(self, when: &When, delivered: &[LegId]) -> bool {
        match when {
            When::After(Point::Deliveries(n)) => delivered.len() >= *n as usize,
            When::After(Point::Leg(leg)) => delivered.contains(leg),
            When::AtMs(at) => match self {
                Horizon::Now => false,
                Horizon::Before(due) => due > *at,
                Horizon::Quiet => true,
            },
        }
    }
}

/// Who carries out lifecycle actions: the run, which owns the lanes. It is
/// called while the run is held and settled; what it starts or wakes is in
/// motion when it returns.
pub trait Lifecycle: Send + Sync {
    fn act(&self, action: Action);
}

struct NetState {
    driver: NetworkDriver,
    paused: bool,
    /// Legs in flight by (due lab ms, arrival): the timer's order.
    pending: BTreeMap<(u64, u64), Pending>,
    index: HashMap<LegId, (u64, u64)>,
    delivered: Vec<LegId>,
    arrivals: u64,
    /// While held: the due time of the latest delivered leg. New legs are
    /// due from here, so stepping goes in the order a timer would have
    /// taken, while the lab clock itself stands still.
    virtual_now_ms: u64,
    /// Late lanes whose first request already left (the late lane's
    /// slowness applies to its first request only).
    sent_first: std::collections::HashSet<Lane>,
    /// Refresh calls by attempt, numbered as they reach the server.
    refreshes: HashMap<u64, u32>,
    /// Refresh answers still to lose (the run's `drop`, and hand drops).
    to_lose: std::collections::BTreeSet<LostAnswer>,
    /// Refresh answers lost so far, in order.
    dropped: Vec<LostAnswer>,
    /// Set by [`Network::close`]: the run is being torn down, and a handler
    /// that was parked on a dropped leg must not park again.
    closed: bool,
    /// Lifecycle actions still to come, in the order the settings list them.
    actions: Vec<(When, Action)>,
    /// Legs of frozen tabs: never delivered, their holders never woken.
    frozen: Vec<Pending>,
    frozen_tabs: std::collections::BTreeSet<TabNo>,
    closed_tabs: std::collections::BTreeSet<TabNo>,
    /// Actions taken by hand, each at the number of deliveries made before
    /// it: the run's settings with them replay it.
    by_hand: Vec<(u32, Action)>,
}

/// The network of one server.
pub struct Network {
    settings: RunSettings,
    /// The run's lab clock (token time): a held run pauses it.
    clock: LabClock,
    /// The network's own time, that legs are due in: it runs at the run's
    /// speed and stands still only while the run is held. Not the lab
    /// clock, which also stands still while requests queue for a
    /// connection slot — keyed on that, legs would wait for the very
    /// requests that wait for them.
    timer: LabClock,
    /// False on the long-lived API: nothing is scheduled, latency only.
    scheduled: bool,
    state: Mutex<NetState>,
    /// Wakes the timer loop: a new leg, a pause, a resume.
    changed: Notify,
    motion: Arc<Motion>,
    /// One command at a time, so a step cannot interleave with a delivery.
    control: tokio::sync::Mutex<()>,
    /// Lab ms when the burst began: `due_ms` counts from here.
    origin_ms: AtomicU64,
    /// Legs due together go in attempt order instead of arrival order: a
    /// page's requests travel on separate connections and arrive in any
    /// order, but the page numbers them in its own, repeatable order.
    by_attempt: std::sync::atomic::AtomicBool,
    last_touch: Mutex<Instant>,
    /// Carries out lifecycle actions (set by the run once its lanes exist).
    lifecycle: std::sync::OnceLock<Arc<dyn Lifecycle>>,
    /// The run acted on its own (a sleep once it fell quiet): a viewer
    /// shows the network again.
    acted: Notify,
}

/// The run's lifecycle actions, from its settings.
fn actions(settings: &RunSettings) -> Vec<(When, Action)> {
    let tab = |n: u32| TabNo::try_from(n).unwrap_or(TabNo::MAX);
    let sleep = settings.sleep.iter().map(|sleep| {
        let when = match (sleep.at_ms, sleep.after) {
            (_, Some(point)) => When::After(point),
            (at_ms, None) => When::AtMs(at_ms.unwrap_or(0)),
        };
        (
            when,
            Action::Sleep {
                seconds: sleep.seconds,
            },
        )
    });
    let close = settings
        .close
        .iter()
        .map(|at| (When::After(at.at), Action::Close(tab(at.tab))));
    let freeze = settings
        .freeze
        .iter()
        .map(|at| (When::After(at.at), Action::Freeze(tab(at.tab))));
    sleep.chain(close).chain(freeze).collect()
}

impl Network {
    /// A run's network: held from the start unless the driver is `timer`.
    pub fn for_run(settings: &RunSettings, clock: LabClock) -> Self {
        Self::build(settings, clock, true)
    }

    /// The long-lived API's network: latency only, nothing to control.
    pub fn passthrough(settings: &RunSettings, clock: LabClock) -> Self {
        Self::build(settings, clock, false)
    }

    fn build(settings: &RunSettings, clock: LabClock, scheduled: bool) -> Self {
        let held = scheduled && settings.network != NetworkDriver::Timer;
        let timer = LabClock::with_rate(clock.rate());
        if held {
            // Setup (login, the case's jump in time) still works on a
            // stopped clock: time travel moves it.
            clock.pause();
            timer.pause();
        }
        let now = timer.now_ms();
        Network {
            settings: settings.clone(),
            origin_ms: AtomicU64::new(now),
            by_attempt: std::sync::atomic::AtomicBool::new(false),
            clock,
            timer,
            scheduled,
            state: Mutex::new(NetState {
                driver: settings.network,
                paused: held,
                pending: BTreeMap::new(),
                index: HashMap::new(),
                delivered: Vec::new(),
                arrivals: 0,
                virtual_now_ms: now,
                sent_first: Default::default(),
                refreshes: HashMap::new(),
                to_lose: settings.drop.iter().copied().collect(),
                dropped: Vec::new(),
                closed: false,
                actions: if scheduled {
                    actions(settings)
                } else {
                    Vec::new()
                },
                frozen: Vec::new(),
                frozen_tabs: Default::default(),
                closed_tabs: Default::default(),
                by_hand: Vec::new(),
            }),
            changed: Notify::new(),
            motion: Arc::new(Motion::new(held)),
            control: tokio::sync::Mutex::new(()),
            last_touch: Mutex::new(Instant::now()),
            lifecycle: std::sync::OnceLock::new(),
            acted: Notify::new(),
        }
    }

    /// Resolves when the run next acts on its own (see [`Network::act_when_quiet`]).
    pub async fn acted(&self) {
        self.acted.notified().await
    }

    /// Sets who carries out the run's lifecycle actions.
    pub fn set_lifecycle(&self, lifecycle: Arc<dyn Lifecycle>) {
        let _ = self.lifecycle.set(lifecycle);
    }

    /// The next action the horizon reaches, taken off the list.
    fn take_due(&self, state: &mut NetState, horizon: Horizon) -> Option<Action> {
        let delivered = &state.delivered;
        let position = state
            .actions
            .iter()
            .position(|(when, _)| horizon.reaches(when, delivered))?;
        Some(state.actions.remove(position).1)
    }

    /// Waits for the command under way (a step, an action) to finish, and
    /// keeps others out while the guard lives: the run can be judged whole.
    pub async fn turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.control.lock().await
    }

    /// Whether an action waits for nothing but the run to fall quiet (a
    /// sleep at a time no leg reaches).
    pub fn has_timed_action(&self) -> bool {
        self.lock()
            .actions
            .iter()
            .any(|(when, _)| matches!(when, When::AtMs(_)))
    }

    /// Carries out, one by one, every action the horizon reaches, each to
    /// its consequences. The run must be held and settled. Returns how many.
    async fn act_due(&self, horizon: Horizon) -> usize {
        let mut count = 0;
        loop {
            let action = {
                let mut state = self.lock();
                self.take_due(&mut state, horizon)
            };
            let (Some(action), Some(lifecycle)) = (action, self.lifecycle.get()) else {
                return count;
            };
            lifecycle.act(action);
            count += 1;
            self.motion.settled().await;
        }
    }

    /// The run fell quiet with nothing in flight: carries out what still
    /// waits for a time (a sleep set after the last leg), as if the quiet
    /// time had passed. Returns whether it did anything.
    pub async fn act_when_quiet(&self) -> bool {
        let acted = self.act_held(Horizon::Quiet).await > 0;
        if acted {
            self.acted.notify_one();
        }
        acted
    }

    /// Carries out the actions whose point is reached already (`0`: the
    /// run's start).
    pub async fn act_reached(&self) {
        self.act_held(Horizon::Now).await;
    }

    async fn act_held(&self, horizon: Horizon) -> usize {
        if !self.action_due(horizon) {
            return 0;
        }
        let _turn = self.control.lock().await;
        let was_held = self.is_held();
        self.hold().await;
        let acted = self.act_due(horizon).await;
        if !was_held {
            self.unhold();
        }
        acted
    }

    /// Lets a timer run flow again after the lab held it for an action.
    fn unhold(&self) {
        {
            let mut state = self.lock();
            state.paused = false;
            self.clock.resume();
            self.timer.resume();
        }
        self.motion.set_serial(false);
        self.changed.notify_one();
    }

    /// The network's own time of a leg key, as lab ms after the burst.
    fn since_burst(&self, due: u64) -> u64 {
        due.saturating_sub(self.origin_ms.load(Ordering::SeqCst))
    }

    /// A closed tab's legs in flight are dropped unwoken: their holders
    /// learn they were abandoned, and the handlers do nothing more. A
    /// non-atomic refresh's commit is the server's own: it goes on.
    pub fn abandon_tab(&self, tab: TabNo) {
        let mut state = self.lock();
        state.closed_tabs.insert(tab);
        let keys: Vec<((u64, u64), bool)> = state
            .pending
            .iter()
            .filter(|(_, p)| p.view.lane.tab() == Some(tab))
            .map(|(key, p)| (*key, p.view.direction == Direction::Commit))
            .collect();
        for (key, commit) in keys {
            let Some(pending) = state.pending.remove(&key) else {
                continue;
            };
            if state.index.get(&pending.view.id) == Some(&key) {
                state.index.remove(&pending.view.id);
            }
            if commit {
                // Not one of the run's deliveries: the close did it.
                let go = pending.go;
                self.motion.wake(move || {
                    let _ = go.send(Arrival::Delivered);
                });
            }
        }
        drop(state);
        self.changed.notify_one();
    }

    /// A frozen tab's legs in flight, and any it sends later, are held
    /// apart: never delivered, their holders never woken.
    pub fn freeze_tab(&self, tab: TabNo) {
        let mut state = self.lock();
        state.frozen_tabs.insert(tab);
        let keys: Vec<(u64, u64)> = state
            .pending
            .iter()
            .filter(|(_, p)| p.view.lane.tab() == Some(tab))
            .map(|(key, _)| *key)
            .collect();
        for key in keys {
            if let Some(pending) = state.pending.remove(&key) {
                if state.index.get(&pending.view.id) == Some(&key) {
                    state.index.remove(&pending.view.id);
                }
                state.frozen.push(pending);
            }
        }
        drop(state);
        self.changed.notify_one();
    }

    /// Moves the lab clock forward by `ms` (a sleep, or a hang's horizon);
    /// the network's own time stands still. Returns the new lab time.
    pub fn advance_lab_clock(&self, ms: u64) -> u64 {
        self.clock.advance_ms(ms)
    }

    /// The lab clock's time now.
    pub fn lab_now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Who is running in this run: shared with the run's clients.
    pub fn motion(&self) -> Arc<Motion> {
        self.motion.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, NetState> {
        // Each update is a handful of map operations done together; a panic
        // between them is a bug we would rather see than hide, but the maps
        // stay usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long `route` takes for `lane`, nominal lab ms. The jitter depends
    /// only on the seed, the lane and the route, never on arrival order, so
    /// the same seed gives the same race.
    pub fn latency_ms(&self, route: Route, lane: Option<&str>) -> u64 {
        let latency = &self.settings.latency_ms;
        let base = match route {
            Route::Public => latency.public,
            Route::Secret => latency.secret,
            Route::Refresh => latency.refresh,
            Route::Login => latency.login,
        };
        let jitter = match self.settings.jitter_ms {
            0 => 0,
            max => {
                let mut key = self.settings.seed ^ salt(route).wrapping_mul(0x9E37_79B9);
                for byte in lane.unwrap_or("").bytes() {
                    key = splitmix64(key ^ u64::from(byte));
                }
                splitmix64(key) % (max + 1)
            }
        };
        base + jitter
    }

    /// Real time of `route`'s latency for `lane` at the run's speed.
    pub fn delay(&self, route: Route, lane: Option<&str>) -> Duration {
        self.settings.scaled(self.latency_ms(route, lane))
    }

    /// Orders legs due together by their attempt (a browser run's tab).
    pub fn order_by_attempt(&self) {
        self.by_attempt.store(true, Ordering::SeqCst);
    }

    /// Marks the start of the burst: legs count their `due_ms` from here.
    pub fn mark_burst(&self) {
        let now = self.timer.now_ms();
        self.origin_ms.store(now, Ordering::SeqCst);
        self.lock().virtual_now_ms = now;
    }

    /// True for a network that neither schedules nor delays anything.
    pub fn is_instant(&self) -> bool {
        !self.scheduled
            && self.settings.latency_ms == crate::settings::Latency::ZERO
            && self.settings.jitter_ms == 0
    }

    /// True when requests of `lane` are this network's to schedule: a run's
    /// request lanes. Everything else only waits out its latency.
    pub fn schedules(&self, lane: Option<Lane>) -> bool {
        self.scheduled && lane.is_some_and(|lane| lane.kind().is_some())
    }

    /// The request leg of a scheduled lane: returns when it is delivered
    /// (or abandoned: then the handler must not run).
    pub async fn to_server(&self, info: LegInfo) -> Arrival {
        let Some(lane) = info.lane.filter(|lane| self.schedules(Some(*lane))) else {
            return Arrival::Delivered;
        };
        // The lane's name keys only the jitter: not formatted without it.
        let name = (self.settings.jitter_ms != 0).then(|| lane.to_string());
        let mut delay = self.latency_ms(info.route, name.as_deref());
        if lane.kind() == Some(LaneKind::Late) && self.lock().sent_first.insert(lane) {
            delay += self.settings.late_delay_ms();
        }
        self.cross(lane, info, Direction::ToServer, delay).await
    }

    /// Numbers a refresh call as it enters the network (the run's first
    /// refresh is 1), so `refresh#N<` names its answer.
    pub fn count_refresh(&self, info: &LegInfo) {
        if info.exchange != Exchange::Refresh || !self.schedules(info.lane) {
            return;
        }
        if let Some(attempt) = info.attempt {
            let mut state = self.lock();
            let n = state.refreshes.len() as u32 + 1;
            state.refreshes.entry(attempt).or_insert(n);
        }
    }

    /// The response leg: returns when the answer reaches the client, or
    /// says that it was lost.
    pub async fn to_client(&self, info: LegInfo) -> Arrival {
        match info.lane.filter(|lane| self.schedules(Some(*lane))) {
            Some(lane) => self.cross(lane, info, Direction::ToClient, 0).await,
            None => Arrival::Delivered,
        }
    }

    /// The non-atomic refresh's gap between check and revoke.
    pub async fn commit(&self, info: LegInfo) {
        match info.lane.filter(|lane| self.schedules(Some(*lane))) {
            Some(lane) => {
                self.cross(lane, info, Direction::Commit, NON_ATOMIC_GAP_MS)
                    .await;
            }
            None => tokio::time::sleep(self.settings.scaled(NON_ATOMIC_GAP_MS)).await,
        }
    }

    /// Parks the calling thread on a leg until it is delivered (or lost).
    async fn cross(
        &self,
        lane: Lane,
        info: LegInfo,
        direction: Direction,
        delay_ms: u64,
    ) -> Arrival {
        let (go, arrived) = oneshot::channel();
        {
            let mut state = self.lock();
            if state.closed {
                // Torn down: nobody waits for this leg any more.
                return Arrival::Delivered;
            }
            if state.closed_tabs.contains(&lane.tab().unwrap_or(0)) {
                // The server finishing a closed tab's exchange: nobody waits.
                self.motion.park();
                return Arrival::Abandoned;
            }
            let refresh = match (direction, info.exchange, info.attempt) {
                (Direction::ToClient, Exchange::Refresh, Some(attempt)) => {
                    state.refreshes.get(&attempt).copied()
                }
                _ => None,
            };
            if !state.paused && delay_ms == 0 && state.actions.is_empty() {
                // A running timer delivers a zero-latency leg at once: no
                // need to queue it (and the hot path stays cheap), unless an
                // action waits for a point, which counts deliveries.
                return match refresh {
                    Some(n) if state.to_lose.remove(&LostAnswer { refresh: n }) => {
                        state.dropped.push(LostAnswer { refresh: n });
                        Arrival::Lost
                    }
                    _ => Arrival::Delivered,
                };
            }
            let now = if state.paused {
                state.virtual_now_ms
            } else {
                self.timer.now_ms()
            };
            let due = now + delay_ms;
            let id = LegId { lane, direction };
            let arrival = state.arrivals;
            state.arrivals += 1;
            let order = match info.attempt {
                Some(attempt) if self.by_attempt.load(Ordering::SeqCst) => {
                    // One attempt has at most one leg per direction in flight.
                    let turn = match direction {
                        Direction::ToServer => 0,
                        Direction::Commit => 1,
                        Direction::ToClient => 2,
                    };
                    attempt.saturating_mul(4).saturating_add(turn)
                }
                _ => arrival,
            };
            let key = (due, order);
            let view = LegView {
                id,
                lane,
                exchange: info.exchange,
                direction,
                route: info.route,
                attempt: info.attempt,
                jti: info.jti.read(),
                status: info.status,
                reason: info.reason,
                due_ms: due.saturating_sub(self.origin_ms.load(Ordering::SeqCst)),
            };
            let pending = Pending { view, go, refresh };
            if state.frozen_tabs.contains(&lane.tab().unwrap_or(0)) {
                // A frozen tab sends nothing out.
                state.frozen.push(pending);
            } else {
                state.index.insert(id, key);
                state.pending.insert(key, pending);
            }
            self.motion.park();
        }
        self.changed.notify_one();
        // An error means the leg was dropped unwoken: its tab was closed,
        // or the run is being torn down.
        arrived.await.unwrap_or(Arrival::Abandoned)
    }

    /// Delivers the leg at `key` (the state is locked by the caller); a
    /// refresh answer due to be lost is lost instead.
    fn deliver_key(&self, state: &mut NetState, key: (u64, u64)) -> Option<LegId> {
        let pending = state.pending.remove(&key)?;
        state.virtual_now_ms = state.virtual_now_ms.max(key.0);
        let id = pending.view.id;
        if state.index.get(&id) == Some(&key) {
            state.index.remove(&id);
        }
        state.delivered.push(id);
        let arrival = match pending.refresh.map(|refresh| LostAnswer { refresh }) {
            Some(lost) if state.to_lose.remove(&lost) => {
                state.dropped.push(lost);
                Arrival::Lost
            }
            _ => Arrival::Delivered,
        };
        let go = pending.go;
        self.motion.wake(move || {
            let _ = go.send(arrival);
        });
        Some(id)
    }

    /// Delivers due legs while the timer runs: spawn once per run. Ends
    /// when the network is dropped (the run's task is aborted).
    pub async fn run_timer(self: Arc<Self>) {
        loop {
            let changed = self.changed.notified();
            let next = {
                let state = self.lock();
                if state.paused {
                    None
                } else {
                    state.pending.keys().next().copied()
                }
            };
            let Some(key) = next else {
                changed.await;
                continue;
            };
            let now = self.timer.now_ms();
            if key.0 <= now {
                let before = Horizon::Before(self.since_burst(key.0));
                if self.action_due(before) {
                    self.act_in_timer(before).await;
                    continue;
                }
                {
                    let mut state = self.lock();
                    if !state.paused {
                        self.deliver_key(&mut state, key);
                    }
                }
                if self.action_due(Horizon::Now) {
                    self.act_in_timer(Horizon::Now).await;
                }
                continue;
            }
            let wait_ms = (key.0 - now) as f64 / self.timer.rate();
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs_f64(wait_ms / 1000.0)) => {}
                _ = changed => {}
            }
        }
    }

    /// Whether the horizon reaches an action.
    fn action_due(&self, horizon: Horizon) -> bool {
        let state = self.lock();
        let delivered = &state.delivered;
        state
            .actions
            .iter()
            .any(|(when, _)| horizon.reaches(when, delivered))
    }

    /// A timer run reached an action: held while it is carried out, then
    /// flowing again (unless the user paused meanwhile).
    async fn act_in_timer(&self, horizon: Horizon) {
        let _turn = self.control.lock().await;
        if self.is_held() {
            return;
        }
        self.hold().await;
        self.act_due(horizon).await;
        self.unhold();
    }

    /// Someone acted on the run (a command, its page): its idle timer restarts.
    pub fn touch(&self) {
        *self.last_touch.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    /// Stops legs and lab clock, and waits until everyone in motion parked.
    pub async fn pause(&self) {
        let _turn = self.control.lock().await;
        self.hold().await;
    }

    async fn hold(&self) {
        self.touch();
        {
            let mut state = self.lock();
            if !state.paused {
                state.paused = true;
                self.clock.pause();
                self.timer.pause();
                state.virtual_now_ms = self.timer.now_ms();
            }
        }
        self.motion.set_serial(true);
        self.changed.notify_one();
        self.motion.settled().await;
    }

    /// Lets the timer deliver again (a hand or step run becomes a timer run).
    pub async fn resume(&self) {
        let _turn = self.control.lock().await;
        self.touch();
        {
            let mut state = self.lock();
            state.paused = false;
            state.driver = NetworkDriver::Timer;
            self.clock.resume();
            self.timer.resume();
        }
        self.motion.set_serial(false);
        self.changed.notify_one();
    }

    /// Delivers the next due leg and waits for its consequences (carrying
    /// out first a lifecycle action due before it).
    pub async fn step(&self) -> Result<LegId, NetError> {
        let _turn = self.control.lock().await;
        self.hold().await;
        let next_due = self.lock().pending.keys().next().map(|key| key.0);
        let horizon = match next_due {
            Some(due) => Horizon::Before(self.since_burst(due)),
            // Nothing in flight: a sleep still to come happens now.
            None => Horizon::Quiet,
        };
        self.act_due(horizon).await;
        let delivered = {
            let mut state = self.lock();
            let key = state
                .pending
                .keys()
                .next()
                .copied()
                .ok_or(NetError::NothingInFlight)?;
            self.deliver_key(&mut state, key)
        };
        self.motion.settled().await;
        self.act_due(Horizon::Now).await;
        delivered.ok_or(NetError::NothingInFlight)
    }

    /// Delivers the named leg and waits for its consequences.
    pub async fn deliver(&self, leg: LegId) -> Result<(), NetError> {
        let _turn = self.control.lock().await;
        self.deliver_held(leg).await
    }

    /// Delivers a script of legs in order, as one command: no other command
    /// slips in between (a browser run's script plays while its page can
    /// already send commands). On a bad leg, says which (from 1).
    pub async fn deliver_script(&self, legs: &[LegId]) -> Result<(), (usize, NetError)> {
        let _turn = self.control.lock().await;
        for (position, leg) in legs.iter().enumerate() {
            self.deliver_held(*leg)
                .await
                .map_err(|err| (position + 1, err))?;
        }
        Ok(())
    }

    async fn deliver_held(&self, leg: LegId) -> Result<(), NetError> {
        self.hold().await;
        let due = self.lock().index.get(&leg).map(|key| key.0);
        if let Some(due) = due {
            self.act_due(Horizon::Before(self.since_burst(due))).await;
        }
        {
            let mut state = self.lock();
            let key = state.index.get(&leg).copied();
            match key {
                Some(key) => {
                    self.deliver_key(&mut state, key);
                }
                None => {
                    return Err(NetError::UnknownLeg {
                        leg,
                        in_flight: in_flight_names(&state),
                    })
                }
            }
        }
        self.motion.settled().await;
        self.act_due(Horizon::Now).await;
        Ok(())
    }

    /// A lifecycle action by hand, now: checked, carried out to its
    /// consequences, and remembered with the number of deliveries before
    /// it (see [`Network::by_hand`]).
    pub async fn act_now(&self, action: Action) -> Result<(), NetError> {
        let _turn = self.control.lock().await;
        let Some(lifecycle) = self.lifecycle.get() else {
            return Err(NetError::BadAction(
                "this run's client runs in the page: it has no lifecycle actions".into(),
            ));
        };
        {
            let state = self.lock();
            let tabs = self.settings.tabs;
            let gone =
                |tab: &TabNo| state.closed_tabs.contains(tab) || state.frozen_tabs.contains(tab);
            match action {
                Action::Sleep { seconds } => {
                    let slept = self.settings.sleep.is_some()
                        || state
                            .by_hand
                            .iter()
                            .any(|(_, a)| matches!(a, Action::Sleep { .. }));
                    if slept {
                        return Err(NetError::BadAction(
                            "the laptop sleeps once per run, and this run has its sleep".into(),
                        ));
                    }
                    if !(1..=crate::settings::MAX_SLEEP_S).contains(&seconds) {
                        return Err(NetError::BadAction(format!(
                            "sleep seconds must be between 1 and {} (got {seconds})",
                            crate::settings::MAX_SLEEP_S
                        )));
                    }
                }
                Action::Close(tab) | Action::Freeze(tab) => {
                    if !(1..=tabs).contains(&u32::from(tab)) {
                        return Err(NetError::BadAction(format!(
                            "tab must be between 1 and {tabs} (got {tab})"
                        )));
                    }
                    if gone(&tab) {
                        return Err(NetError::BadAction(format!(
                            "tab {tab} is already closed or frozen"
                        )));
                    }
                }
            }
        }
        let was_held = self.is_held();
        self.hold().await;
        {
            let mut state = self.lock();
            let at = state.delivered.len() as u32;
            state.by_hand.push((at, action));
        }
        lifecycle.act(action);
        self.motion.settled().await;
        if !was_held {
            self.unhold();
        }
        Ok(())
    }

    /// Actions taken by hand so far, each with the number of deliveries
    /// made before it.
    pub fn by_hand(&self) -> Vec<(u32, Action)> {
        self.lock().by_hand.clone()
    }

    /// Loses the named leg, a refresh's answer in flight: the server has
    /// decided, the client gets a network error. Waits for the consequences.
    pub async fn drop_leg(&self, leg: LegId) -> Result<LostAnswer, NetError> {
        let _turn = self.control.lock().await;
        self.hold().await;
        let lost = {
            let mut state = self.lock();
            let Some(key) = state.index.get(&leg).copied() else {
                return Err(NetError::UnknownLeg {
                    leg,
                    in_flight: in_flight_names(&state),
                });
            };
            let refresh = state.pending.get(&key).and_then(|p| p.refresh);
            let Some(refresh) = refresh else {
                return Err(NetError::NotARefreshAnswer { leg });
            };
            let lost = LostAnswer { refresh };
            state.to_lose.insert(lost);
            self.deliver_key(&mut state, key);
            lost
        };
        self.motion.settled().await;
        Ok(lost)
    }

    /// Refresh answers lost so far, in order.
    pub fn dropped(&self) -> Vec<LostAnswer> {
        self.lock().dropped.clone()
    }

    /// Delivers, one after another in due order, every leg in flight now
    /// that `filter` accepts; legs they cause are left for later.
    pub async fn deliver_all(&self, filter: &LegFilter) -> Result<usize, NetError> {
        let _turn = self.control.lock().await;
        self.hold().await;
        let chosen: Vec<(u64, u64)> = {
            let state = self.lock();
            state
                .pending
                .iter()
                .filter(|(_, p)| filter.accepts(&p.view))
                .map(|(key, _)| *key)
                .collect()
        };
        let mut count = 0;
        for key in chosen {
            let delivered = self.deliver_key(&mut self.lock(), key);
            if delivered.is_some() {
                count += 1;
                self.motion.settled().await;
                self.act_due(Horizon::Now).await;
            }
        }
        Ok(count)
    }

    /// Drops every leg in flight: their holders return at once. For a run
    /// that is being torn down.
    pub fn close(&self) {
        self.motion.close();
        let mut state = self.lock();
        state.closed = true;
        state.pending.clear();
        state.index.clear();
        state.frozen.clear();
    }

    /// Legs in flight now, in due order.
    pub fn legs(&self) -> Vec<LegView> {
        self.lock()
            .pending
            .values()
            .map(|p| p.view.clone())
            .collect()
    }

    /// The network as a viewer sees it; `tab` is the client's side.
    pub fn view(&self, tab: TabView) -> NetworkView {
        let state = self.lock();
        NetworkView {
            driver: state.driver,
            paused: state.paused,
            legs: state.pending.values().map(|p| p.view.clone()).collect(),
            delivered: state.delivered.clone(),
            dropped: state.dropped.clone(),
            tab,
        }
    }

    /// Waits until nobody in the run is about to move.
    pub async fn settled(&self) {
        self.motion.settled().await;
    }

    /// Legs delivered so far, in order.
    pub fn delivered(&self) -> Vec<LegId> {
        self.lock().delivered.clone()
    }

    /// True while nothing moves until the user acts.
    pub fn is_held(&self) -> bool {
        self.lock().paused
    }

    /// When a held run that nobody touches is abandoned.
    pub fn idle_deadline(&self) -> Instant {
        *self.last_touch.lock().unwrap_or_else(|p| p.into_inner())
            + Duration::from_secs(self.settings.idle_s)
    }
}

fn in_flight_names(state: &NetState) -> String {
    let names: Vec<String> = state
        .pending
        .values()
        .map(|p| p.view.id.to_string())
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// Which legs "deliver all" takes: `*` for all, or a lane pattern with an
/// optional direction, e.g. `secret#*>` (every secret request leg),
/// `*<` (every answer), `public#*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegFilter {
    kind: Option<LaneKind>,
    direction: Option<Direction>,
}

impl LegFilter {
    pub const ALL: LegFilter = LegFilter {
        kind: None,
        direction: None,
    };

    fn accepts(&self, leg: &LegView) -> bool {
        self.kind.is_none_or(|kind| leg.lane.kind() == Some(kind))
            && self.direction.is_none_or(|d| leg.direction == d)
    }
}

impl std::str::FromStr for LegFilter {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || {
            format!("'{text}' is not a leg filter: write *, secret#*, secret#*> (requests), *< (answers), ...")
        };
        let text = text.trim();
        let (lanes, direction) = match text.chars().last() {
            Some('>') => (&text[..text.len() - 1], Some(Direction::ToServer)),
            Some('<') => (&text[..text.len() - 1], Some(Direction::ToClient)),
            Some('=') => (&text[..text.len() - 1], Some(Direction::Commit)),
            _ => (text, None),
        };
        let kind = match lanes {
            "*" => None,
            "secret#*" => Some(LaneKind::Secret),
            "public#*" => Some(LaneKind::Public),
            "late#*" => Some(LaneKind::Late),
            "timer#*" => Some(LaneKind::Timer),
            _ => return Err(bad()),
        };
        Ok(LegFilter { kind, direction })
    }
}

/// A small, well-mixed hash step (Steele et al.'s SplitMix64).
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_seeded_and_bounded() {
        let settings = RunSettings {
            jitter_ms: 40,
            seed: 7,
            ..RunSettings::default()
        };
        let a = Network::for_run(&settings, LabClock::new());
        let b = Network::for_run(&settings, LabClock::new());
        let mut distinct = std::collections::HashSet::new();
        for lane in ["secret#1", "secret#2", "secret#3", "secret#4"] {
            let delay = a.delay(Route::Refresh, Some(lane));
            assert_eq!(delay, b.delay(Route::Refresh, Some(lane)));
            assert!(delay >= Duration::from_millis(200) && delay <= Duration::from_millis(240));
            distinct.insert(delay);
        }
        assert!(distinct.len() > 1, "jitter should differ between lanes");
    }

    #[test]
    fn leg_filters_parse() {
        assert_eq!("*".parse::<LegFilter>().unwrap(), LegFilter::ALL);
        let f: LegFilter = "secret#*>".parse().unwrap();
        assert_eq!(
            (f.kind, f.direction),
            (Some(LaneKind::Secret), Some(Direction::ToServer))
        );
        assert!("secret#1>".parse::<LegFilter>().is_err());
    }
}
